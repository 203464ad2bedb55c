// The video side of the wasm (wasm-bindgen glue: Segmenter, CpuCompositor) and the person
// segmentation model, loaded once per thread (the worker and, for the fallback path, the page).

import initGlue, * as glue from '../visio_media_effects.js';
import { PREFIX } from '../checks.js';
import { HAS_COPY_TO, copyable } from './rgba.js';

/** The model shipped in the package (copied there by scripts/build.mjs). */
export function defaultModelUrl() {
  return new URL('../models/selfie_segmentation_landscape.tflite', import.meta.url);
}

let ready = null;

/**
 * Instantiates the glue with an already compiled module (from wasm.js `loadWasmModule`, which
 * the page compiles and posts to the worker) and resolves to `{ Segmenter, CpuCompositor,
 * memory }`. Asynchronous instantiation: Chromium refuses large synchronous ones on the main
 * thread. One instance per thread; later calls return it.
 * @param {WebAssembly.Module} module
 */
export function loadVideoWasm(module) {
  ready ??= initGlue({ module_or_path: module }).then((exports) => ({
    Segmenter: glue.Segmenter,
    CpuCompositor: glue.CpuCompositor,
    memory: exports.memory,
  }));
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
 * Person segmentation of frames: runs the model and returns the mask, a Float32Array view into
 * wasm memory valid until the next call. A VideoFrame is copied whole into wasm memory as RGBA
 * (VideoFrame.copyTo) and scaled to the model's input there, which at 720p costs a third of
 * scaling it on a 2D canvas and reading that back; other sources go through the canvas.
 */
export class FrameSegmenter {
  #wasm;
  #inner;
  #canvas;
  #context;
  #copyTo = HAS_COPY_TO;
  #copyFailures = 0;

  /** @param {{ Segmenter: Function, memory: WebAssembly.Memory }} wasm  @param {Uint8Array} model */
  constructor(wasm, model) {
    this.#wasm = wasm;
    try {
      this.#inner = new wasm.Segmenter(model);
    } catch (error) {
      throw new Error(`${PREFIX}: the segmentation model is not usable: ${error?.message ?? error}`, { cause: error });
    }
    this.width = this.#inner.width;
    this.height = this.#inner.height;
    this.#canvas = typeof OffscreenCanvas === 'function'
      ? new OffscreenCanvas(this.width, this.height)
      : Object.assign(document.createElement('canvas'), { width: this.width, height: this.height });
    this.#context = this.#canvas.getContext('2d', { willReadFrequently: true, alpha: false });
  }

  /**
   * Segments `source`, a `width x height` picture (whole frame, stretched to the model's
   * aspect like MediaPipe does).
   * @returns {Promise<Float32Array>} the mask, `this.width * this.height` values in [0, 1]
   */
  async segment(source, width, height) {
    if (this.#copyTo && copyable(source, width, height)) {
      const bytes = width * height * 4;
      const ptr = this.#inner.frameBuffer(bytes); // may grow memory: views come after
      try {
        await source.copyTo(new Uint8Array(this.#wasm.memory.buffer, ptr, bytes), { format: 'RGBA' });
        this.#copyFailures = 0;
        this.#inner.segmentFrame(width, height, width * 4);
        return this.#mask();
      } catch (error) {
        // No RGBA conversion in this browser, or the buffer was detached by a memory growth
        // during the copy (a background image set meanwhile): the canvas does this frame, and
        // all frames once the copy has failed twice in a row.
        if (++this.#copyFailures >= 2) this.#copyTo = false;
      }
    }
    const { width: w, height: h } = this;
    this.#context.drawImage(source, 0, 0, w, h);
    const rgba = this.#context.getImageData(0, 0, w, h).data;
    const ptr = this.#inner.frameBuffer(rgba.length);
    new Uint8Array(this.#wasm.memory.buffer, ptr, rgba.length).set(rgba);
    this.#inner.segmentFrame(w, h, w * 4);
    return this.#mask();
  }

  #mask() {
    return new Float32Array(this.#wasm.memory.buffer, this.#inner.maskPtr(), this.width * this.height);
  }

  destroy() {
    this.#inner?.free();
    this.#inner = null;
  }
}
