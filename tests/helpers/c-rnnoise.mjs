// The reference: the C RNNoise library as compiled to wasm by Emscripten and shipped in two npm
// packages (devDependencies), instantiated directly so Node can run it frame by frame next to
// ours. Only the raw exports are used; the packages' JavaScript loaders are not.
//
// ABI learnt from the packages' loaders:
// - @sapphi-red/web-noise-suppressor dist/rnnoise.wasm and rnnoise_simd.wasm: named exports
//   (memory, __wasm_call_ctors, emscripten_stack_init, malloc, free, rnnoise_create(model),
//   rnnoise_process_frame(state, out, in) -> vad, rnnoise_destroy); imports env.emscripten_memcpy_big,
//   env.emscripten_resize_heap, env.__assert_fail.
// - @jitsi/rnnoise-wasm dist/rnnoise.wasm: minified exports c = memory, d = __wasm_call_ctors,
//   e = rnnoise_init, f = rnnoise_create, g = malloc, h = rnnoise_destroy, i = free,
//   j = rnnoise_process_frame; imports a.a = emscripten_resize_heap, a.b = emscripten_memcpy_big.
// rnnoise_process_frame takes 480 floats at 48 kHz scaled to the int16 range (+-32768) and
// returns the voice probability of that frame; its output lags its input by one frame (480).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const sapphiDist = dirname(require.resolve('@sapphi-red/web-noise-suppressor'));
const jitsiDist = join(dirname(require.resolve('@jitsi/rnnoise-wasm/package.json')), 'dist');

export const VARIANTS = {
  'sapphi-simd': join(sapphiDist, 'rnnoise_simd.wasm'),
  'sapphi-scalar': join(sapphiDist, 'rnnoise.wasm'),
  jitsi: join(jitsiDist, 'rnnoise.wasm'),
};

export const FRAME = 480;

const modules = new Map();

function instantiate(variant) {
  const path = VARIANTS[variant];
  if (!path) throw new Error(`unknown C RNNoise variant ${variant} (${Object.keys(VARIANTS).join(', ')})`);
  if (!modules.has(variant)) modules.set(variant, new WebAssembly.Module(readFileSync(path)));
  const module = modules.get(variant);
  let memory = null; // exported by the module, known once instantiated
  // Emscripten's memcpy for large copies; it must return dest.
  const memcpyBig = (dest, src, n) => {
    new Uint8Array(memory.buffer).copyWithin(dest, src, src + n);
    return dest;
  };
  // Grows the exported memory to at least `requested` bytes; returns 1 on success.
  const resizeHeap = (requested) => {
    const need = Math.ceil((requested - memory.buffer.byteLength) / 65536);
    try { if (need > 0) memory.grow(need); return 1; } catch { return 0; }
  };
  const assertFail = () => { throw new Error(`${variant}: C assertion failed`); };
  if (variant === 'jitsi') {
    const e = new WebAssembly.Instance(module, { a: { a: resizeHeap, b: memcpyBig } }).exports;
    memory = e.c;
    e.d(); // constructors
    return { memory, malloc: e.g, free: e.i, create: () => e.f(0), destroy: e.h, process: e.j };
  }
  const e = new WebAssembly.Instance(module, {
    env: { emscripten_memcpy_big: memcpyBig, emscripten_resize_heap: resizeHeap, __assert_fail: assertFail },
  }).exports;
  memory = e.memory;
  e.emscripten_stack_init?.();
  e.__wasm_call_ctors();
  return { memory, malloc: e.malloc, free: e.free, create: () => e.rnnoise_create(0), destroy: e.rnnoise_destroy, process: e.rnnoise_process_frame };
}

/**
 * One C RNNoise denoiser in its own wasm instance.
 * processFrame(frame) denoises 480 samples in place (48 kHz, int16 range) and returns the VAD.
 * @param {'sapphi-simd' | 'sapphi-scalar' | 'jitsi'} variant
 */
export function createCRnnoise(variant = 'sapphi-simd') {
  const c = instantiate(variant);
  const state = c.create();
  const inPtr = c.malloc(FRAME * 4);
  const outPtr = c.malloc(FRAME * 4);
  if (!state || !inPtr || !outPtr) throw new Error(`${variant}: rnnoise_create or malloc failed`);
  return {
    processFrame(frame) {
      if (frame.length !== FRAME) throw new Error(`expected ${FRAME} samples, got ${frame.length}`);
      new Float32Array(c.memory.buffer, inPtr, FRAME).set(frame);
      const vad = c.process(state, outPtr, inPtr);
      frame.set(new Float32Array(c.memory.buffer, outPtr, FRAME));
      return vad;
    },
    destroy() {
      c.destroy(state);
      c.free(inPtr);
      c.free(outPtr);
    },
  };
}

/**
 * Runs a whole 48 kHz signal in [-1, 1] through C RNNoise (the tail that does not fill a frame is
 * dropped). Returns the output in [-1, 1] (lagging the input by one frame) and the VAD per frame.
 */
export function runCRnnoise(input, variant = 'sapphi-simd') {
  const d = createCRnnoise(variant);
  const frames = Math.floor(input.length / FRAME);
  const output = new Float32Array(frames * FRAME);
  const vad = new Float32Array(frames);
  const frame = new Float32Array(FRAME);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < FRAME; i++) frame[i] = input[f * FRAME + i] * 32768;
    vad[f] = d.processFrame(frame);
    for (let i = 0; i < FRAME; i++) output[f * FRAME + i] = frame[i] / 32768;
  }
  d.destroy();
  return { output, vad };
}
