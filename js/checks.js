// What every module of the package shares for its error messages: the prefix that says where
// an error comes from, and the checks that turn a caller's mistake into a clear TypeError.

export const PREFIX = 'visio-media-effects';

/** A value as an error message shows it. */
export function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return String(value);
}

/** `options` itself when it is an object, `{}` when absent; a TypeError otherwise. */
export function checkObject(options, what) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${PREFIX}: ${what} options must be an object, got ${describe(options)}`);
  }
  return options;
}
