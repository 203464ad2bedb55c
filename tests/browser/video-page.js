// Page-side helpers of the video tests, served at /__tests__/video-page.js by the harness.

// Saved at import, before a test hides them to force the package's fallback path.
const Processor = globalThis.MediaStreamTrackProcessor;

export { toBase64, sleep } from './page-helpers.js';

/** The fake camera (a Y4M file given to Chromium), at its own size and rate. */
export async function openCamera(constraints = {}) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: constraints });
  return stream.getVideoTracks()[0];
}

/**
 * Reads every frame of `track` (on the main thread, with the saved MediaStreamTrackProcessor):
 * counts them, keeps their timestamps, and copies the RGBA of the next `n` when asked
 * (drawImage, the conversion the package uses too). Closes every frame it reads. With
 * `thumb: [w, h]`, also keeps a w x h RGBA thumbnail of every frame (to catch a flash).
 */
export class FrameTap {
  count = 0;
  timestamps = [];
  #wanted = [];
  #reader;
  #done;
  #canvas = new OffscreenCanvas(1, 1);
  #context = this.#canvas.getContext('2d', { willReadFrequently: true });

  thumbs = [];
  #thumb = null;

  constructor(track, { thumb } = {}) {
    if (thumb) {
      const canvas = new OffscreenCanvas(thumb[0], thumb[1]);
      this.#thumb = { w: thumb[0], h: thumb[1], context: canvas.getContext('2d', { willReadFrequently: true }) };
    }
    this.#reader = new Processor({ track }).readable.getReader();
    this.#done = this.#pump();
  }

  async #pump() {
    for (;;) {
      let result;
      try {
        result = await this.#reader.read();
      } catch {
        return;
      }
      if (result.done) return;
      const frame = result.value;
      this.count++;
      this.timestamps.push(frame.timestamp);
      if (this.#thumb) {
        const { w, h, context } = this.#thumb;
        context.drawImage(frame, 0, 0, w, h);
        this.thumbs.push(context.getImageData(0, 0, w, h).data);
      }
      const want = this.#wanted[0];
      if (want) {
        const { displayWidth: w, displayHeight: h } = frame;
        if (this.#canvas.width !== w || this.#canvas.height !== h) { this.#canvas.width = w; this.#canvas.height = h; }
        this.#context.drawImage(frame, 0, 0);
        want.frames.push({ width: w, height: h, timestamp: frame.timestamp, rgba: this.#context.getImageData(0, 0, w, h).data });
        if (want.frames.length === want.n) { this.#wanted.shift(); want.resolve(want.frames); }
      }
      frame.close();
    }
  }

  /** Resolves with the next `n` frames: [{ width, height, timestamp, rgba }]. */
  grab(n) {
    return new Promise((resolve) => this.#wanted.push({ n, frames: [], resolve }));
  }

  /** Frames counted during `ms` milliseconds from now. */
  async countFor(ms) {
    const start = this.count;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.count - start;
  }

  async stop() {
    await this.#reader.cancel().catch(() => {});
    await this.#done;
  }
}

/**
 * Hides mediacapture-transform from the package, as in browsers without it; `worker`: hides
 * Worker too (no worker at all: everything on the main thread).
 */
export function hideTrackProcessor({ worker = false } = {}) {
  delete globalThis.MediaStreamTrackProcessor;
  delete globalThis.MediaStreamTrackGenerator;
  delete globalThis.VideoTrackGenerator;
  if (worker) delete globalThis.Worker;
}
