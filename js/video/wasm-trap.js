// Traps in the video wasm, and what survives them. A Rust panic (src/wasm/mod.rs: its message
// and location logged by console_error_panic_hook, then thrown as an Error starting with
// PANIC_PREFIX) or any other trap (a WebAssembly.RuntimeError) leaves the instance mid-call:
// the object that trapped stays borrowed (every later call would throw "recursive use of an
// object detected") and the shadow stack is not restored. The instance is then replaced
// (segmenter.js loadVideoWasm `restart()`: the glue, built with
// --experimental-reset-state-function, instantiates the compiled module afresh) and every
// wasm object is made again; pipeline.js does that.

/** src/wasm/mod.rs PANIC_PREFIX. */
export const PANIC_PREFIX = 'visio-media-effects: the video wasm panicked: ';

/** Whether `error` came from a trapped instance (or from an object of a replaced one). */
export function isTrap(error) {
  if (typeof WebAssembly === 'object' && error instanceof WebAssembly.RuntimeError) return true;
  const message = String(error?.message ?? '');
  // The glue's words for an object of a replaced instance, and for one left borrowed.
  return message.startsWith(PANIC_PREFIX) || /stale object from previous Wasm instance|recursive use of an object detected/.test(message);
}

/** Whether `error` is a panic, already on the console with its message and location. */
export function isPanic(error) {
  return String(error?.message ?? '').startsWith(PANIC_PREFIX);
}

/**
 * Frees a wasm object made in instance `generation`, only if that instance is still the
 * current one: the glue's free() of an object of a replaced instance would free its address
 * in the new instance's heap.
 */
export function freeIfCurrent(wasm, object, generation) {
  if (object && wasm.generation === generation) object.free();
}
