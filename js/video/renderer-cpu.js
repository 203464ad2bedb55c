// The CPU renderer: the wasm SIMD `CpuCompositor` (src/video) behind the Renderer interface of
// renderer.js. Used where WebGL2 is missing, blocklisted or lost.
//
// Per frame: the source's RGBA goes into wasm memory (VideoFrame.copyTo with format 'RGBA'
// where the browser converts, else drawImage on a 2D canvas + getImageData), the compositor
// runs, and its output is put on `canvas`.

import { PREFIX } from '../checks.js';
import { HAS_COPY_TO, copyable } from './rgba.js';

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
  #size = [0, 0, 0, 0];
  #input; // 2D canvas the source is drawn on to read its pixels
  #inputContext;
  #output;
  #background = { mode: 'none' };
  #busy = false; // a copyTo is writing into wasm memory
  #stale = false; // a background change waits for it
  #copyTo = HAS_COPY_TO;

  constructor(canvas, wasm) {
    this.#wasm = wasm;
    this.canvas = canvas ?? makeCanvas(1, 1);
    this.#output = this.canvas.getContext('2d', { alpha: false });
    if (!this.#output) throw new Error(`${PREFIX}: the CPU renderer could not get a 2D context on its canvas`);
    this.#input = makeCanvas(1, 1);
    this.#inputContext = this.#input.getContext('2d', { willReadFrequently: true, alpha: false });
  }

  setBackground(setting) {
    this.#background = setting;
    // Not while a frame copy is in flight: set_image allocates, and wasm memory growth would
    // detach the buffer the copy writes to.
    if (this.#compositor && !this.#busy) this.#apply();
    else this.#stale = true;
  }

  #apply() {
    this.#stale = false;
    const c = this.#compositor;
    const b = this.#background;
    if (b.mode === 'blur') c.set_blur(b.radius);
    else if (b.mode === 'image') c.set_image(imagePixels(b.image), b.image.width, b.image.height);
    else c.set_none();
  }

  /**
   * Renders; returns a Promise when the frame's pixels are copied asynchronously
   * (VideoFrame.copyTo straight into wasm memory, 4x cheaper than drawImage + getImageData at
   * 720p), undefined when it is done already.
   */
  render(source, mask, maskWidth, maskHeight, width, height) {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    if (!mask) {
      this.#output.drawImage(source, 0, 0, width, height);
      return undefined;
    }
    // The compositor takes masks up to the frame's size; a frame smaller than the model's
    // input (a thumbnail-sized camera) gets the mask scaled down to it first.
    if (maskWidth > width || maskHeight > height) {
      const w = Math.min(maskWidth, width);
      const h = Math.min(maskHeight, height);
      mask = scaleMask(mask, maskWidth, maskHeight, w, h);
      maskWidth = w;
      maskHeight = h;
    }
    const size = [width, height, maskWidth, maskHeight];
    if (!this.#compositor) {
      this.#compositor = new this.#wasm.CpuCompositor(...size);
      this.#apply();
    } else if (size.some((v, i) => v !== this.#size[i])) {
      this.#compositor.resize(...size);
    }
    this.#size = size;
    const c = this.#compositor;
    const frameBytes = () => new Uint8Array(this.#wasm.memory.buffer, c.frame_ptr(), width * height * 4);
    const finish = () => {
      if (this.#compositor !== c) return; // destroyed meanwhile
      // Views after every call that may allocate: memory growth detaches older ones.
      new Float32Array(this.#wasm.memory.buffer, c.mask_ptr(), maskWidth * maskHeight).set(mask.subarray(0, maskWidth * maskHeight));
      c.render(...size);
      const out = new Uint8ClampedArray(this.#wasm.memory.buffer, c.output_ptr(), width * height * 4);
      this.#output.putImageData(new ImageData(out, width, height), 0, 0);
    };
    if (this.#copyTo && copyable(source, width, height)) {
      this.#busy = true;
      return source.copyTo(frameBytes(), { format: 'RGBA' }).then(
        () => {},
        () => {
          // This browser cannot convert to RGBA in copyTo: draw from now on.
          this.#copyTo = false;
          if (this.#compositor === c) this.#drawInput(source, width, height, frameBytes());
        },
      ).then(() => {
        this.#busy = false;
        if (this.#stale && this.#compositor === c) this.#apply();
        finish();
      });
    }
    this.#drawInput(source, width, height, frameBytes());
    finish();
    return undefined;
  }

  /** The source's pixels through a 2D canvas (any FrameSource, any size or rotation). */
  #drawInput(source, width, height, target) {
    if (this.#input.width !== width || this.#input.height !== height) {
      this.#input.width = width;
      this.#input.height = height;
    }
    this.#inputContext.drawImage(source, 0, 0, width, height);
    target.set(this.#inputContext.getImageData(0, 0, width, height).data);
  }

  resetTemporal() {
    this.#compositor?.reset_temporal();
  }

  destroy() {
    this.#compositor?.free();
    this.#compositor = null;
    this.#input.width = this.#input.height = 1;
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
