// DeepFilterNet3, whole, in our wasm through its C-ABI (src/wasm/deepfilter.rs, `vme_dfn_*`), for
// the Node tests and the benchmark.
import { readFileSync } from 'node:fs';
import { WEIGHTS_PATH, createWithWeights, rawWasm } from './deepfilter-network.mjs';

export const HOP = 480;

/**
 * A DeepFilterNet3 state on `weights` (the bytes of a .dfw file; default: the shipped one).
 * Throws with the wasm's own message when the weights are refused.
 * @returns {{ process(hop: Float32Array, out?: Float32Array): number, latency: number, destroy(): void }}
 */
export function createDeepFilter(e = rawWasm(), weights = readFileSync(WEIGHTS_PATH)) {
  const h = createWithWeights(e, 'vme_dfn_create', weights);
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
