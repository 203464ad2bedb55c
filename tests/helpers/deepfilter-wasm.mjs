// Our wasm on a raw instance (the wasm-bindgen glue's imports stubbed, as the worklet does)
// and DeepFilterNet3 driven through its C-ABI (src/wasm/audio.rs, `vme_dfn_*`), for the Node
// tests and the benchmark.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PKG, WASM_PATH } from './worklet-host.mjs';

export const HOP = 480;
export const WEIGHTS_PATH = join(PKG, 'models/deepfilternet3.dfw');

/** The exports of a fresh instance of pkg/'s wasm. */
export function rawExports() {
  const module = new WebAssembly.Module(readFileSync(WASM_PATH));
  const imports = {};
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    imports[from] ??= {};
    imports[from][name] = () => { throw new Error(`${from}.${name} called`); };
  }
  return new WebAssembly.Instance(module, imports).exports;
}

/**
 * A DeepFilterNet3 state on `weights` (the bytes of a .dfw file; default: the shipped one).
 * Throws with the wasm's own message when the weights are refused.
 * @returns {{ process(hop: Float32Array, out?: Float32Array): number, latency: number, destroy(): void }}
 */
export function createDeepFilter(e = rawExports(), weights = readFileSync(WEIGHTS_PATH)) {
  const p = e.vme_dfn_alloc(weights.length);
  if (!p) throw new Error('vme_dfn_alloc failed');
  new Uint8Array(e.memory.buffer, p, weights.length).set(weights);
  const h = e.vme_dfn_create(p, weights.length);
  if (!h) {
    const message = new Uint8Array(e.memory.buffer, e.vme_dfn_error_ptr(), e.vme_dfn_error_len());
    throw new Error(Buffer.from(message).toString('utf8'));
  }
  let view = null;
  return {
    latency: e.vme_dfn_latency(),
    /** Enhances one 480-sample hop into `out` (default: a view that the next call reuses). */
    process(hop, out) {
      if (view?.buffer !== e.memory.buffer) view = new Float32Array(e.memory.buffer, e.vme_dfn_buffer(h), HOP);
      view.set(hop);
      const lsnr = e.vme_dfn_process(h);
      if (out) out.set(view);
      return lsnr;
    },
    destroy() { e.vme_dfn_destroy(h); },
  };
}
