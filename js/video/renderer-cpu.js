// The CPU renderer: the wasm SIMD `CpuCompositor` (src/video) behind the Renderer interface of
// renderer.js. Used where WebGL2 is missing, blocklisted or lost.
//
// Per frame: the compositor reads the frame the pipeline copied into wasm memory once (a
// FrameInput, frame-input.js: converted to RGBA in wasm SIMD when it is YUV or BGRA), runs, and
// its output is put on `canvas`. Any other source (tests, the benchmark) is drawn on a 2D
// canvas and read back into a FrameInput of the renderer's own.

import { PREFIX } from '../checks.js';
import { FrameInput } from './frame-input.js';
import { freeIfCurrent } from './wasm-trap.js';

/**
 * @param {import('./renderer.js').RendererOptions} options
 * @returns {import('./renderer.js').Renderer}
 */
export function createCpuRenderer({ canvas, wasm } = {}) {
  if (!wasm?.CpuCompositor) throw new TypeError(`${PREFIX}: the CPU renderer needs the video wasm (loadVideoWasm)`);
  return new CpuRenderer(canvas, wasm);
}

function makeCanvas(width, height) {
  return typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
}

class CpuRenderer {
  kind = 'cpu';
  lost = false;
  #wasm;
  #compositor = null;
  #generation = -1; // of the wasm instance the compositor belongs to
  #size = [0, 0, 0, 0];
  #drawn = null; // FrameInput for sources that are not a loaded full-size frame
  #output;
  #background = { mode: 'none' };
  #stale = false; // a background change waits for the next render()

  constructor(canvas, wasm) {
    this.#wasm = wasm;
    this.canvas = canvas ?? makeCanvas(1, 1);
    // CPU-backed (willReadFrequently): the pixels come from wasm memory, so an accelerated
    // canvas would only add an upload, then a readback when the frame is encoded or read. In
    // WebKitGTK the VideoFrame made from it costs 1 ms instead of 5 (640x360, measured in a
    // worker), and no GPU texture of the worker's context leaves with the frame.
    this.#output = this.canvas.getContext('2d', { alpha: false, willReadFrequently: true });
    if (!this.#output) throw new Error(`${PREFIX}: the CPU renderer could not get a 2D context on its canvas`);
  }

  setBackground(setting) {
    this.#background = setting;
    // Applied by the next render(), never now: a frame copy into wasm memory may be in flight
    // (FrameInput.load), and setImage allocates; wasm memory growth would detach its target.
    this.#stale = true;
  }

  #apply() {
    this.#stale = false;
    const c = this.#compositor;
    const b = this.#background;
    if (b.mode === 'blur') c.setBlur(b.radius);
    else if (b.mode === 'image') c.setImage(imagePixels(b.image), b.image.width, b.image.height);
    else c.setNone();
  }

  /**
   * Renders `source` (a FrameInput holding the frame at full size, or any drawable) with
   * `mask` onto `canvas`, synchronously.
   */
  render(source, mask, maskWidth, maskHeight, width, height) {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const input = source instanceof FrameInput ? source : null;
    if (!mask) {
      this.#output.drawImage(input ? input.source : source, 0, 0, width, height);
      return;
    }
    // The compositor takes masks up to the frame's size; a frame smaller than the mask (a
    // thumbnail-sized camera) gets the mask scaled down to it first.
    if (maskWidth > width || maskHeight > height) {
      const w = Math.min(maskWidth, width);
      const h = Math.min(maskHeight, height);
      mask = scaleMask(mask, maskWidth, maskHeight, w, h);
      maskWidth = w;
      maskHeight = h;
    }
    const size = [width, height, maskWidth, maskHeight];
    // After a trap the wasm instance was replaced (wasm-trap.js): a new compositor in the new
    // one, with the current background.
    if (!this.#compositor || this.#generation !== this.#wasm.generation) {
      this.#compositor = new this.#wasm.CpuCompositor(...size);
      this.#drawn?.destroy(); // frees it only in the instance it belongs to
      this.#drawn = null;
      this.#generation = this.#wasm.generation;
      this.#stale = true;
    } else if (size.some((v, i) => v !== this.#size[i])) {
      this.#compositor.resize(...size);
    }
    this.#size = size;
    if (this.#stale) this.#apply();
    const c = this.#compositor;
    const full = input && (input.kind === 'planes' || input.kind === 'rgba') && input.width === width && input.height === height;
    let frame = input;
    if (!full) { // any FrameSource, any size or rotation: through a 2D canvas
      this.#drawn ??= new FrameInput(this.#wasm);
      this.#drawn.draw(input ? input.source : source, width, height);
      frame = this.#drawn;
    }
    // Views after every call that may allocate: memory growth detaches older ones.
    new Float32Array(this.#wasm.memory.buffer, c.maskPtr(), maskWidth * maskHeight).set(mask.subarray(0, maskWidth * maskHeight));
    c.render(frame.inner, maskWidth, maskHeight);
    const out = new Uint8ClampedArray(this.#wasm.memory.buffer, c.outputPtr(), width * height * 4);
    this.#output.putImageData(new ImageData(out, width, height), 0, 0);
  }

  resetTemporal() {
    if (this.#generation === this.#wasm.generation) this.#compositor?.resetTemporal();
  }

  destroy() {
    freeIfCurrent(this.#wasm, this.#compositor, this.#generation);
    this.#compositor = null;
    this.#drawn?.destroy();
    this.#drawn = null;
  }
}

/** RGBA bytes of an ImageBitmap (or any drawable with width/height). */
function imagePixels(image) {
  const canvas = makeCanvas(image.width, image.height);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.drawImage(image, 0, 0);
  return context.getImageData(0, 0, image.width, image.height).data;
}

/** Box-filters a mask down to `w x h` (each output pixel averages the source pixels it covers). */
function scaleMask(mask, mw, mh, w, h) {
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * mh) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * mh) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * mw) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * mw) / w));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += mask[yy * mw + xx];
      out[y * w + x] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return out;
}
