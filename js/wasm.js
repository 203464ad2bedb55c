// Compiles the package's WebAssembly once per page and hands out the compiled module.
//
// The module (not an instance) is what the audio worklet needs: its global scope cannot
// fetch, so the main thread compiles and posts the `WebAssembly.Module` to it.

import { PREFIX } from './checks.js';

const compiled = new Map(); // URL href -> Promise<WebAssembly.Module>

/** The wasm file shipped next to this module in the package. */
export function defaultWasmUrl() {
  return new URL('./visio_media_effects_bg.wasm', import.meta.url);
}

/**
 * Resolves to the compiled module. `source` is a URL (or string, resolved like `fetch` does,
 * against the document), an already compiled `WebAssembly.Module`, or nothing for the
 * package's own file. Each URL is fetched and compiled once; a failure is not cached, so a
 * later call retries.
 */
export function loadWasmModule(source) {
  if (source instanceof WebAssembly.Module) return Promise.resolve(source);
  let url;
  if (source === undefined || source === null) url = defaultWasmUrl();
  else if (typeof source === 'string' || source instanceof URL) url = new URL(source, baseUrl());
  else throw new TypeError(`${PREFIX}: the wasm option must be a URL, a string or a WebAssembly.Module`);
  const key = url.href;
  let pending = compiled.get(key);
  if (!pending) {
    pending = compile(url);
    compiled.set(key, pending);
    pending.catch(() => compiled.delete(key));
  }
  return pending;
}

function baseUrl() {
  return globalThis.document?.baseURI ?? globalThis.location?.href ?? import.meta.url;
}

async function compile(url) {
  let response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (error) {
    throw new Error(`${PREFIX}: could not load wasm from ${url}: ${error?.message ?? error}`, { cause: error });
  }
  if (!response.ok) {
    throw new Error(`${PREFIX}: could not load wasm from ${url}: status ${response.status}`);
  }
  try {
    // compileStreaming insists on the application/wasm MIME type; many static servers send
    // something else for .wasm, so check first and compile the bytes in that case (the
    // body can be read only once, so there is no retry after a failed streaming compile).
    const type = response.headers.get('content-type') ?? '';
    if (typeof WebAssembly.compileStreaming === 'function' && type.split(';')[0].trim() === 'application/wasm') {
      return await WebAssembly.compileStreaming(response);
    }
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (error) {
    if (blockedByCsp(error)) {
      throw new Error(`${PREFIX}: the page's Content-Security-Policy does not allow WebAssembly: its script-src `
        + `(or default-src) directive needs 'wasm-unsafe-eval', e.g. script-src 'self' 'wasm-unsafe-eval' `
        + `(the browser said: ${error.message})`, { cause: error });
    }
    throw new Error(`${PREFIX}: could not compile wasm from ${url}: ${error?.message ?? error}`, { cause: error });
  }
}

/**
 * A CompileError raised by the page's policy rather than by the bytes. The engines word it
 * differently (Chromium and Safari name 'unsafe-eval' / 'wasm-unsafe-eval', Firefox says
 * "blocked by CSP"), and none gives it a type of its own.
 */
function blockedByCsp(error) {
  return error instanceof WebAssembly.CompileError
    && /unsafe-eval|Content.Security.Policy|\bCSP\b/i.test(error.message);
}
