// The background renderer contract shared by the WebGL2 renderer (renderer-webgl.js) and the
// CPU one (renderer-cpu.js, wasm SIMD), and the chooser between them. Both implement the same
// passes (documented in src/video/mod.rs) so they give the same picture; the pipeline only
// talks to this interface and swaps renderers when a WebGL context is lost.
//
// Both renderers are imported statically: a dynamic import() would split the worker bundle
// into chunks, which bundlers' default classic-worker output (Vite: worker.format 'iife')
// refuses to build (tests/browser/bundler.test.mjs).
import { createCpuRenderer } from './renderer-cpu.js';
import { SOFTWARE_NAMES, createWebGLRenderer } from './renderer-webgl.js';

/**
 * What goes behind the person.
 * @typedef {{ mode: 'none' }
 *   | { mode: 'blur', radius: number }
 *   | { mode: 'image', image: ImageBitmap }} BackgroundSetting
 * `radius`: Gaussian standard deviation in pixels of a 720p frame (scaled with the frame's
 * short side), 0 < radius <= 100; Visio uses 10 ("light") and 20 ("normal").
 * `image`: cover-fitted to the frame (scaled to cover, centre-cropped). The renderer may keep
 * a reference; the caller must not close it while it is set.
 */

/**
 * A source frame: anything `drawImage` / `texImage2D` accept that the pipeline hands over.
 * @typedef {VideoFrame | HTMLVideoElement | ImageBitmap | HTMLCanvasElement | OffscreenCanvas} FrameSource
 */

/**
 * @typedef {object} Renderer
 * @property {'webgl2' | 'cpu'} kind
 * @property {HTMLCanvasElement | OffscreenCanvas} canvas Where render() draws; resized by
 *   render() to `width x height` (the output frame has the input's size).
 * @property {(setting: BackgroundSetting) => void} setBackground Changes the effect; cheap,
 *   never recreates the canvas. Throws RangeError/TypeError on a bad setting.
 * @property {(source: FrameSource, mask: Float32Array | null, maskWidth: number,
 *   maskHeight: number, width: number, height: number) => void | Promise<void>} render Draws the processed
 *   frame on `canvas`. `mask`: person probability (0..1), row-major `maskWidth x maskHeight`,
 *   the segmenter's latest (the same array may come again on frames where the segmenter did
 *   not run: the renderer's temporal smoothing treats it as a new observation). `mask === null`
 *   draws `source` unchanged (used until the first mask exists, so turning the effect on never
 *   flashes black). The source is not closed by the renderer. May return a Promise (the CPU
 *   renderer copying a VideoFrame asynchronously): the frame is on `canvas` once it resolves,
 *   and the source must stay open until then.
 * @property {() => void} resetTemporal Forgets the temporal mask state (next mask is taken
 *   as is), e.g. after the camera changed.
 * @property {boolean} lost True once the WebGL context is lost (always false for 'cpu'); a
 *   lost renderer draws nothing and the pipeline replaces it.
 * @property {() => void} destroy Frees GPU/wasm resources; the renderer is unusable after.
 */

/**
 * Options of createRenderer().
 * @typedef {object} RendererOptions
 * @property {HTMLCanvasElement | OffscreenCanvas} [canvas] Draw on this canvas (the
 *   main-thread path passes the canvas it captures); default a new OffscreenCanvas.
 * @property {object} [wasm] For 'cpu': the initialised wasm-bindgen glue module
 *   (`{ CpuCompositor, memory }`, see segmenter.js `loadVideoWasm`).
 */

// renderer-webgl.js exports `createWebGLRenderer(options: RendererOptions): Renderer |
// Promise<Renderer>` (throws when no WebGL2 context can be had); renderer-cpu.js exports
// `createCpuRenderer(options)`.

/**
 * Whether this thread can create a WebGL2 context on an OffscreenCanvas (or a canvas), and
 * whether its renderer's name is a known software rasteriser (SwiftShader, llvmpipe...). The
 * name is only a shortcut: WebKit reports "Apple GPU" over llvmpipe, and browsers may hide it,
 * so 'auto' decides by measuring (pipeline.js RendererTrial) whenever the name does not
 * already say "software".
 */
export function probeWebGL2() {
  try {
    const canvas = typeof OffscreenCanvas === 'function'
      ? new OffscreenCanvas(1, 1)
      : globalThis.document?.createElement('canvas');
    const gl = canvas?.getContext('webgl2');
    if (!gl) return { available: false, software: false };
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    gl.getExtension('WEBGL_lose_context')?.loseContext(); // free the probe context now
    return { available: true, software: SOFTWARE_NAMES.test(name), name };
  } catch {
    return { available: false, software: false };
  }
}

/**
 * Creates a renderer. `kind`: 'webgl2', 'cpu' or 'auto'. A forced 'webgl2' that cannot start
 * throws (a software context is accepted then). 'auto' returns a WebGL2 renderer when this
 * thread can get a context the browser does not flag as slow (failIfMajorPerformanceCaveat)
 * and whose name is not a known software rasteriser, else the CPU one; the pipeline then
 * times both on the first frames and keeps the faster (pipeline.js), so a software
 * rasteriser behind a masked name still ends on the CPU.
 * @param {'auto' | 'webgl2' | 'cpu'} kind
 * @param {RendererOptions} options
 * @returns {Promise<Renderer>}
 */
export async function createRenderer(kind, options = {}) {
  const probe = kind === 'auto' ? probeWebGL2() : null;
  if (kind === 'webgl2' || (probe?.available && !probe.software)) {
    try {
      return await createWebGLRenderer({ ...options, requireHardware: kind === 'auto' });
    } catch (error) {
      if (kind === 'webgl2') throw error;
      // 'auto': a blocklisted GPU, a context creation failure or a missing shader feature
      // all end up on the CPU path, which gives the same picture.
    }
  }
  return createCpuRenderer(options);
}
