// DeepFilterNet3's networks in our wasm, through the raw C ABI of src/wasm/deepfilter.rs (the
// way an AudioWorklet would call them), for the wasm parity test and bench/audio.mjs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PKG, WASM_PATH } from './worklet-host.mjs';

export const NB_ERB = 32;
export const NB_DF = 96;
export const DF_ORDER = 5;
export const WEIGHTS_PATH = join(PKG, 'models/deepfilternet3.dfw');

/** Instantiates pkg/'s wasm without its JS glue (stubbed imports the ABI never calls). */
export function rawWasm() {
  const module = new WebAssembly.Module(readFileSync(WASM_PATH));
  const imports = {};
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    imports[from] ??= {};
    imports[from][name] = () => { throw new Error(`${from}.${name} called`); };
  }
  return new WebAssembly.Instance(module, imports).exports;
}

/** The raw ABI's last error message (src/wasm/raw.rs `vme_error_*`). */
export function lastError(e) {
  return Buffer.from(new Uint8Array(e.memory.buffer, e.vme_error_ptr(), e.vme_error_len())).toString('utf8');
}

/**
 * Calls `create(ptr, len)` of a raw-ABI family on a copy of `weights` in a buffer from
 * `vme_weights_alloc` (which `create` takes); returns the handle, or throws the wasm's message.
 */
export function createWithWeights(e, create, weights) {
  const ptr = e.vme_weights_alloc(weights.length);
  if (!ptr) throw new Error(`vme_weights_alloc(${weights.length}) failed`);
  new Uint8Array(e.memory.buffer, ptr, weights.length).set(weights);
  const h = e[create](ptr, weights.length);
  if (!h) throw new Error(`${create}: ${lastError(e)}`);
  return h;
}

/**
 * The networks with the shipped weights: `features` (32 ERB then 96 (re, im) values) is
 * written before each `step()`, which returns the local SNR; `output` then holds the 32 ERB
 * gains and the 96 x 5 x 2 deep-filter coefficients.
 */
export function createWasmNetwork(e = rawWasm(), weights = readFileSync(WEIGHTS_PATH)) {
  const h = createWithWeights(e, 'vme_dfn_net_create', weights);
  // Views made after loading: memory no longer grows once the networks are built.
  const features = new Float32Array(e.memory.buffer, e.vme_dfn_net_features(h), NB_ERB + 2 * NB_DF);
  const output = new Float32Array(e.memory.buffer, e.vme_dfn_net_output(h), NB_ERB + 2 * DF_ORDER * NB_DF);
  return {
    features,
    output,
    step: () => e.vme_dfn_net_step(h),
    reset: () => e.vme_dfn_net_reset(h),
    destroy: () => e.vme_dfn_net_destroy(h),
  };
}
