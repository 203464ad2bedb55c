// One copy of each camera frame into wasm memory, shared by the segmenter and the renderers.
//
// A VideoFrame is copied with `copyTo(buffer)` and no options: its planes as they are, in the
// frame's own pixel format and layout (every engine supports that; WebKit ignores the `format`
// option, so asking for RGBA got BGRA there). I420, I420A, NV12, RGBA, RGBX, BGRA and BGRX are
// read in wasm (src/video/pixels.rs) with the YUV matrix and range of `frame.colorSpace`
// (absent: BT.709 from 720 lines up, BT.601 below; limited range). Any other pixel format is an
// error naming it (the frame passes through unprocessed and `stats().errors` counts it).
// Everything else (a frame without readable pixels, `format === null`; an ImageBitmap or
// <video> of the <video> paths; a copy that failed) is drawn on a 2D canvas and read back as
// RGBA: at full size when the CPU renderer needs the pixels, else only at the size the
// segmenter uses. One fallback rule: after two copyTo failures in a row, the canvas for good.

import { PREFIX } from '../checks.js';
import { freeIfCurrent } from './wasm-trap.js';

/** Pixel formats read in wasm (src/video/pixels.rs PixelFormat::parse). */
export const PIXEL_FORMATS = ['I420', 'I420A', 'NV12', 'RGBA', 'RGBX', 'BGRA', 'BGRX'];

const HAS_COPY_TO = typeof VideoFrame === 'function' && typeof VideoFrame.prototype.copyTo === 'function';

/**
 * Whether `source` is a VideoFrame whose visible pixels are exactly the `width x height`
 * picture (no scaling to a display size, no rotation or flip, which copyTo would not apply).
 */
function copyable(source, width, height) {
  return HAS_COPY_TO && source instanceof VideoFrame
    && source.visibleRect?.width === width && source.visibleRect?.height === height
    && !source.rotation && !source.flip;
}

/** The size of a `width x height` picture fitted inside `w x h`, proportions kept (segmenter.rs letterbox). */
export function fitInside(width, height, [w, h]) {
  const s = Math.min(w / width, h / height);
  return [Math.min(w, Math.max(1, Math.round(width * s))), Math.min(h, Math.max(1, Math.round(height * s)))];
}

function makeCanvas(width, height) {
  return typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
}

/**
 * The current frame in wasm memory (a wasm `FrameInput`), with what the renderers need to
 * know about it: `source` (the frame itself), `width x height`, and `kind`:
 * - 'planes': the frame's own planes (`format`, `layout`), full size;
 * - 'rgba': RGBA read back through a canvas, full size;
 * - 'scaled': RGBA read back at the segmenter's size only (the renderer draws `source`).
 */
export class FrameInput {
  source = null;
  width = 0;
  height = 0;
  kind = null;
  format = null;
  layout = null;
  #wasm;
  #canvas = null;
  #context = null;
  #copyTo = HAS_COPY_TO;
  #copyFailures = 0;
  #generation; // of the wasm instance `inner` belongs to

  /** @param {{ FrameInput: Function, memory: WebAssembly.Memory }} wasm */
  constructor(wasm) {
    this.#wasm = wasm;
    this.#generation = wasm.generation;
    this.inner = new wasm.FrameInput();
  }

  /**
   * Copies `source` (`width x height`) into wasm memory. `full`: the renderer reads the
   * pixels (CPU), so a canvas read-back is made at full size; else at `fit` (the segmenter's
   * input size, proportions kept). Rejects with a clear error for an unsupported pixel format.
   */
  async load(source, width, height, { full = true, fit = [256, 144] } = {}) {
    this.source = source;
    this.width = width;
    this.height = height;
    this.kind = null;
    if (this.#copyTo && copyable(source, width, height) && source.format !== null) {
      const format = source.format;
      if (!PIXEL_FORMATS.includes(format)) {
        throw new Error(`${PREFIX}: camera frames in pixel format ${format} are not supported (${PIXEL_FORMATS.join(', ')} are)`);
      }
      // Only the browser's part counts as a copy failure; an error of the wasm (a layout it
      // rejects, a trap) is the frame's error and propagates.
      const layout = await this.#copy(source);
      if (layout) {
        const space = source.colorSpace ?? {};
        this.inner.describe(format, width, height, Uint32Array.from(layout.flatMap((p) => [p.offset, p.stride])),
          space.matrix ?? '', space.fullRange ?? undefined);
        this.kind = 'planes';
        this.format = format;
        this.layout = layout;
        return;
      }
    }
    const [w, h] = full ? [width, height] : fitInside(width, height, fit);
    this.#readBack(source, w, h);
    this.kind = full ? 'rgba' : 'scaled';
  }

  /**
   * Copies drawable `source` (any size or kind) into wasm memory as `width x height` RGBA,
   * through a 2D canvas, synchronously: the CPU renderer's way for a source that is not a
   * loaded frame (tests, the benchmark).
   */
  draw(source, width, height) {
    this.source = source;
    this.width = width;
    this.height = height;
    this.#readBack(source, width, height);
    this.kind = 'rgba';
  }

  #readBack(source, w, h) {
    this.#canvas ??= makeCanvas(w, h);
    this.#context ??= this.#canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    if (this.#canvas.width !== w || this.#canvas.height !== h) {
      this.#canvas.width = w;
      this.#canvas.height = h;
    }
    this.#context.drawImage(source, 0, 0, w, h);
    const rgba = this.#context.getImageData(0, 0, w, h).data;
    this.inner.reserve(rgba.length); // may grow memory: the view comes after
    new Uint8Array(this.#wasm.memory.buffer, this.inner.framePtr(), rgba.length).set(rgba);
    this.inner.describe('RGBA', w, h, Uint32Array.of(0, 4 * w), 'rgb', true);
    this.format = 'RGBA';
    this.layout = [{ offset: 0, stride: 4 * w }];
  }

  /**
   * The frame's planes copied into the wasm buffer: their layout, or null when the browser
   * could not copy this frame (or the buffer was detached meanwhile): the canvas does this
   * frame, and all frames once copyTo has failed twice in a row.
   */
  async #copy(frame) {
    let size;
    try {
      size = frame.allocationSize();
    } catch {
      return this.#copyFailed();
    }
    this.inner.reserve(size); // may grow memory: the view comes after
    try {
      const layout = await frame.copyTo(new Uint8Array(this.#wasm.memory.buffer, this.inner.framePtr(), size));
      this.#copyFailures = 0;
      return layout;
    } catch {
      return this.#copyFailed();
    }
  }

  #copyFailed() {
    if (++this.#copyFailures >= 2) this.#copyTo = false;
    return null;
  }

  /** Views of the planes in wasm memory (re-made on each call: memory growth detaches them). */
  planes() {
    const buffer = this.#wasm.memory.buffer;
    const base = this.inner.framePtr();
    const rows = (p, h) => this.layout[p].stride * (h - 1) + this.layout[p].stride;
    const heights = this.format === 'NV12' ? [this.height, Math.ceil(this.height / 2)]
      : this.format.startsWith('I420') ? [this.height, Math.ceil(this.height / 2), Math.ceil(this.height / 2), this.height]
        : [this.height];
    return this.layout.map((p, i) => new Uint8Array(buffer, base + p.offset, Math.min(rows(i, heights[i]), buffer.byteLength - base - p.offset)));
  }

  destroy() {
    freeIfCurrent(this.#wasm, this.inner, this.#generation);
    this.inner = null;
    this.source = null;
    if (this.#canvas) this.#canvas.width = this.#canvas.height = 1;
  }
}
