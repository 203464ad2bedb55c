// The video side of the wasm (wasm-bindgen glue: Segmenter, CpuCompositor) and the person
// segmentation model, loaded once per thread (the worker and, for the fallback path, the page).

import initGlue, * as glue from '../visio_media_effects.js';
import { PREFIX } from '../checks.js';
import { freeIfCurrent } from './wasm-trap.js';

/** The model shipped in the package (copied there by scripts/build.mjs). */
export function defaultModelUrl() {
  return new URL('../models/selfie_segmentation_landscape.tflite', import.meta.url);
}

let ready = null;

/**
 * Instantiates the glue with an already compiled module (from wasm.js `loadWasmModule`, which
 * the page compiles and posts to the worker) and resolves to `{ Segmenter, CpuCompositor,
 * FrameInput, memory, generation, restart() }`. Asynchronous instantiation: Chromium refuses
 * large synchronous ones on the main thread. One instance per thread; later calls return it.
 * `restart()` replaces a trapped instance with a fresh one (wasm-trap.js): `memory` is then
 * the new one's and `generation` counts up, and objects of the old one must be made again.
 * @param {WebAssembly.Module} module
 */
export function loadVideoWasm(module) {
  ready ??= initGlue({ module_or_path: module }).then((exports) => {
    let current = exports;
    return {
      Segmenter: glue.Segmenter,
      CpuCompositor: glue.CpuCompositor,
      FrameInput: glue.FrameInput,
      get memory() { return current.memory; },
      generation: 0,
      restart() {
        glue.__wbg_reset_state();
        current = glue.initSync(); // the glue's current exports (it returns them once set)
        this.generation++;
      },
    };
  });
  ready.catch(() => { ready = null; });
  return ready;
}

/** Fetches the model bytes; errors name the URL. */
export async function fetchModel(url) {
  let response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (error) {
    throw new Error(`${PREFIX}: could not load the segmentation model from ${url}: ${error?.message ?? error}`, { cause: error });
  }
  if (!response.ok) {
    throw new Error(`${PREFIX}: could not load the segmentation model from ${url}: status ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Person segmentation of frames: runs the model on the frame in a `FrameInput` (frame-input.js;
 * read in its own pixel format, scaled to the model's input) and returns the mask, which
 * covers the whole frame: a Float32Array view into wasm memory valid until the next call.
 */
export class FrameSegmenter {
  #wasm;
  #inner;
  #generation; // of the wasm instance `#inner` belongs to

  /** @param {{ Segmenter: Function, memory: WebAssembly.Memory }} wasm  @param {Uint8Array} model */
  constructor(wasm, model) {
    this.#wasm = wasm;
    this.#generation = wasm.generation;
    try {
      this.#inner = new wasm.Segmenter(model);
    } catch (error) {
      throw new Error(`${PREFIX}: the segmentation model is not usable: ${error?.message ?? error}`, { cause: error });
    }
    /** The model's input size. */
    this.size = [this.#inner.width, this.#inner.height];
  }

  /**
   * Segments the frame held by `input`.
   * @param {import('./frame-input.js').FrameInput} input
   * @returns {{ mask: Float32Array, width: number, height: number }} the mask (values in [0, 1])
   *   and its size: the frame's proportions at the model's height or width (256x144 for 16:9,
   *   192x144 for 4:3, 81x144 for 9:16; segmenter.rs `Fit`), covering the whole frame
   */
  segment(input) {
    const inner = this.#inner;
    inner.segment(input.inner);
    const width = inner.maskWidth;
    const height = inner.maskHeight;
    return { mask: new Float32Array(this.#wasm.memory.buffer, inner.maskPtr(), width * height), width, height };
  }

  destroy() {
    freeIfCurrent(this.#wasm, this.#inner, this.#generation);
    this.#inner = null;
  }
}
