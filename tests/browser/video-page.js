// Page-side helpers of the video tests, served at /__tests__/video-page.js by the harness.

// Saved at import, before a test hides them to force the package's fallback path.
const Processor = globalThis.MediaStreamTrackProcessor;

export { toBase64, sleep } from './page-helpers.js';

/**
 * The fake camera (a Y4M file given to Chromium), at its own size and rate. In engines without
 * file-backed fake devices (the harness sets __vmeFake), the same Y4M drawn into a canvas at
 * its frame rate and captured.
 */
export async function openCamera(constraints = {}) {
  if (globalThis.__vmeFake?.video) return fileCamera(globalThis.__vmeFake.video);
  const stream = await navigator.mediaDevices.getUserMedia({ video: constraints });
  return stream.getVideoTracks()[0];
}

/** Frames of a 4:2:0 Y4M (BT.601 limited range, as tests/helpers/video-scene.mjs writes it) as ImageBitmaps. */
async function readY4m(url) {
  const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
  const eol = bytes.indexOf(10);
  const header = new TextDecoder().decode(bytes.subarray(0, eol));
  const w = +header.match(/ W(\d+)/)[1];
  const h = +header.match(/ H(\d+)/)[1];
  const [num, den] = header.match(/ F(\d+):(\d+)/).slice(1).map(Number);
  const cw = w >> 1;
  const size = w * h + 2 * cw * (h >> 1);
  const frames = [];
  for (let at = eol + 1; at < bytes.length;) {
    at = bytes.indexOf(10, at) + 1; // "FRAME" line
    const y = bytes.subarray(at, at + w * h);
    const u = bytes.subarray(at + w * h, at + w * h + cw * (h >> 1));
    const v = bytes.subarray(at + w * h + cw * (h >> 1), at + size);
    const rgba = new Uint8ClampedArray(w * h * 4);
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const c = (row >> 1) * cw + (col >> 1);
        const Y = 1.164 * (y[row * w + col] - 16);
        const U = u[c] - 128;
        const V = v[c] - 128;
        const o = 4 * (row * w + col);
        rgba[o] = Y + 1.596 * V;
        rgba[o + 1] = Y - 0.392 * U - 0.813 * V;
        rgba[o + 2] = Y + 2.017 * U;
        rgba[o + 3] = 255;
      }
    }
    frames.push(await createImageBitmap(new ImageData(rgba, w, h)));
    at += size;
  }
  return { width: w, height: h, fps: num / den, frames };
}

async function fileCamera(url) {
  const { width, height, fps, frames } = await readY4m(url);
  const canvas = Object.assign(document.createElement('canvas'), { width, height });
  document.body.append(canvas); // some engines capture only canvases that render
  // A CPU-backed canvas (willReadFrequently), as a real camera's frames are in memory. With an
  // accelerated canvas WebKitGTK 2.50's captured frames keep a GPU texture of the page's Skia
  // context; read and closed in a worker (MediaStreamTrackProcessor there, the webkit-mstp
  // path) they corrupt that context's resource cache and the web process dies on a failed
  // bounds check (SIGILL in Skia's GrResourceCache on the main or compositor thread; README,
  // "Browser engines").
  const context = canvas.getContext('2d', { willReadFrequently: true });
  let n = 0;
  const draw = () => context.drawImage(frames[n++ % frames.length], 0, 0);
  draw();
  const track = canvas.captureStream().getVideoTracks()[0];
  const timer = setInterval(draw, 1000 / fps);
  const stop = track.stop.bind(track);
  track.stop = () => { clearInterval(timer); stop(); canvas.remove(); frames.forEach((f) => f.close()); };
  return track;
}

/**
 * Draws `source` at `w x h` on a cleared `context` and reads it back; null when nothing at all
 * was drawn (every pixel still transparent). WebKitGTK 2.50's drawImage() of a camera
 * VideoFrame in a worker now and then draws nothing although the frame holds its picture
 * (copyTo() of the same frame gives it), while another thread uses that same frame: none in
 * 1,807 frames read alone, 1-11 in ~100 on the effect's output in 'none' mode, where the
 * camera's frames pass through (README, "Browser engines"). That was the "blank frame" on
 * Safari 18's path. A frame the effect made transparent or black is opaque when re-read
 * through copyTo below, so it is still caught as a black frame.
 */
function drawAndRead(context, source, w, h) {
  context.clearRect(0, 0, w, h);
  context.drawImage(source, 0, 0, w, h);
  const data = context.getImageData(0, 0, w, h).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return data;
  return null;
}

/** A canvas holding `frame`'s visible pixels, read with copyTo (RGB formats only; else null). */
async function canvasOfFrame(frame) {
  const order = { BGRA: [2, 1, 0], BGRX: [2, 1, 0], RGBA: [0, 1, 2], RGBX: [0, 1, 2] }[frame.format];
  if (!order) return null;
  const { width: w, height: h } = frame.visibleRect;
  const bytes = new Uint8Array(frame.allocationSize());
  const [{ offset, stride }] = await frame.copyTo(bytes);
  const rgba = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = offset + y * stride + 4 * x;
      const o = 4 * (y * w + x);
      rgba[o] = bytes[i + order[0]];
      rgba[o + 1] = bytes[i + order[1]];
      rgba[o + 2] = bytes[i + order[2]];
      rgba[o + 3] = 255;
    }
  }
  const canvas = new OffscreenCanvas(w, h);
  canvas.getContext('2d').putImageData(new ImageData(rgba, w, h), 0, 0);
  return canvas;
}

/**
 * Reads every frame of `track` on the main thread: with the saved MediaStreamTrackProcessor
 * where the page has one (Chromium), else through a <video> and requestVideoFrameCallback
 * (Firefox, WebKit; there frames carry no timestamp, so `timestamps` stays null). Counts them,
 * keeps their timestamps, and copies the RGBA of the next `n` when asked (drawImage, the
 * conversion the package uses too). Closes every frame it reads. With `thumb: [w, h]`, also
 * keeps a w x h RGBA thumbnail of every frame (to catch a flash), or of every `thumbEvery`th
 * (where one is enough: reading a <video> costs WebKitGTK ~35 ms a frame). `video: true`
 * takes the <video> everywhere: no VideoFrame in the page, for the tests that count frames
 * left to the garbage collector (Chromium's MediaStreamTrackProcessor can drop a frame
 * unclosed when its stream is stopped under a pending read, as this tap's is: frame-relay.js).
 */
export class FrameTap {
  count = 0;
  timestamps = Processor ? [] : null;
  #wanted = [];
  #stop;
  #done;
  #canvas = new OffscreenCanvas(1, 1);
  #context = this.#canvas.getContext('2d', { willReadFrequently: true });

  thumbs = [];
  #thumb = null;
  /** Frames the engine drew nothing of (WebKit, see drawAndRead), read through copyTo instead. */
  drawMisses = 0;
  /** With `formats: true`, how many frames came in each pixel format (VideoFrames only). */
  formats = {};
  #formats;

  constructor(track, { thumb, thumbEvery = 1, video = false, formats = false } = {}) {
    this.#formats = formats;
    if (thumb) {
      const canvas = new OffscreenCanvas(thumb[0], thumb[1]);
      this.#thumb = { w: thumb[0], h: thumb[1], every: thumbEvery, context: canvas.getContext('2d', { willReadFrequently: true }) };
    }
    if (video) this.timestamps = null;
    this.#done = Processor && !video ? this.#pump(track) : this.#watch(track);
  }

  /** One frame (a VideoFrame or the <video> showing it) seen. */
  async #take(source, w, h, timestamp) {
    this.count++;
    this.timestamps?.push(timestamp);
    if (this.#formats && source.format !== undefined) this.formats[source.format] = (this.formats[source.format] ?? 0) + 1;
    const want = this.#wanted[0];
    const thumbDue = this.#thumb && (this.count - 1) % this.#thumb.every === 0;
    if (want?.frames.length === want?.n - 1) this.#wanted.shift(); // taken by this frame, in order
    let missed = false;
    /** Draws the frame (re-read through copyTo once the engine drew nothing of it) and reads it back. */
    const read = async (context, cw, ch) => {
      // A <video> (Firefox, default WebKit) is drawn over what the canvas showed last, as it
      // always was: a frame it failed to draw cannot be read any other way.
      if (typeof source.copyTo !== 'function') {
        context.drawImage(source, 0, 0, cw, ch);
        return context.getImageData(0, 0, cw, ch).data;
      }
      let data = drawAndRead(context, source, cw, ch);
      if (!data && !missed) {
        missed = true;
        this.drawMisses++;
        source = (await canvasOfFrame(source)) ?? source;
        data = drawAndRead(context, source, cw, ch);
      }
      return data ?? context.getImageData(0, 0, cw, ch).data;
    };
    if (thumbDue) {
      const { w: tw, h: th, context } = this.#thumb;
      this.thumbs.push(await read(context, tw, th));
    }
    if (want) {
      if (this.#canvas.width !== w || this.#canvas.height !== h) { this.#canvas.width = w; this.#canvas.height = h; }
      want.frames.push({ width: w, height: h, timestamp, rgba: await read(this.#context, w, h) });
      if (want.frames.length === want.n) want.resolve(want.frames);
    }
  }

  async #pump(track) {
    const reader = new Processor({ track }).readable.getReader();
    this.#stop = () => reader.cancel().catch(() => {});
    for (;;) {
      let result;
      try {
        result = await reader.read();
      } catch {
        return;
      }
      if (result.done) return;
      const frame = result.value;
      try {
        await this.#take(frame, frame.displayWidth, frame.displayHeight, frame.timestamp);
      } finally {
        frame.close();
      }
    }
  }

  async #watch(track) {
    const video = Object.assign(document.createElement('video'), { muted: true, playsInline: true, width: 160 });
    video.srcObject = new MediaStream([track]);
    document.body.append(video); // frame callbacks come from rendering
    let stopped = false;
    let finish;
    const finished = new Promise((resolve) => { finish = resolve; });
    let first = null;
    const onFrame = (now, meta) => {
      if (stopped) return;
      // presentedFrames also counts frames presented between two callbacks.
      first ??= meta.presentedFrames - 1;
      const seen = meta.presentedFrames - first;
      const missed = seen - this.count - 1;
      if (missed > 0) this.count += missed;
      this.#take(video, video.videoWidth, video.videoHeight, null);
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    this.#stop = () => {
      stopped = true;
      video.pause();
      video.srcObject = null;
      video.remove();
      finish();
    };
    // A first frame callback can come before play() resolves: stopped then, it rejects (AbortError).
    await video.play().catch((error) => { if (!stopped || error?.name !== 'AbortError') throw error; });
    await finished;
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
    await this.#stop?.();
    await this.#done;
  }
}

/**
 * A FrameTap for `track`: on the main thread where the page has MediaStreamTrackProcessor;
 * else, where workers have it and tracks transfer (Safari 18, WebKit with
 * MediaStreamTrackProcessing), a FrameTap inside a worker on a clone of `track`, which sees
 * frame timestamps and costs the page nothing; else the <video> one.
 */
export async function openTap(track, options = {}) {
  if (!Processor && typeof Worker === 'function') {
    const worker = new Worker('/__tests__/frame-tap-worker.js', { type: 'module' });
    const remote = new WorkerTap(worker);
    const clone = track.clone();
    try {
      await remote.call('start', { track: clone, thumb: options.thumb, thumbEvery: options.thumbEvery, formats: options.formats }, [clone]);
      return remote;
    } catch {
      clone.stop();
      worker.terminate(); // no processor in workers, or tracks not transferable
    }
  }
  return new FrameTap(track, options);
}

/** The page's side of a FrameTap running in frame-tap-worker.js: the same interface. */
class WorkerTap {
  count = 0;
  timestamps = null;
  thumbs = [];
  drawMisses = 0;
  formats = {};
  #worker;
  #next = 0;
  #pending = new Map();

  constructor(worker) {
    this.#worker = worker;
    worker.onmessage = ({ data }) => {
      const { resolve, reject } = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      if (data.error) reject(new Error(data.error));
      else resolve(data.value);
    };
  }

  call(op, args = {}, transfer = []) {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, ...args }, transfer);
    });
  }

  grab(n) {
    return this.call('grab', { n });
  }

  async countFor(ms) {
    const start = await this.call('count');
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.count = await this.call('count');
    return this.count - start;
  }

  async stop() {
    Object.assign(this, await this.call('stop'));
    this.#worker.terminate();
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

/**
 * Watches what the page does for the package (installed before the package makes its worker):
 * workers made and terminated, messages posted to them, <video> frame callbacks requested,
 * ImageBitmaps made; and the frame reports of destroyWatchPrelude (`reports`). A test reads the
 * counts after destroy() to see that nothing keeps running.
 */
export function watchActivity() {
  const log = { workers: 0, terminated: 0, posts: 0, frameRequests: 0, bitmaps: 0, reports: [] };
  const SavedWorker = globalThis.Worker;
  if (SavedWorker) {
    log.worker = new Proxy(SavedWorker, {
      construct(target, args, newTarget) {
        const worker = Reflect.construct(target, args, newTarget);
        log.workers++;
        worker.addEventListener('message', ({ data }) => { if (data?.type === '__vmeFrames') log.reports.push(data); });
        return worker;
      },
    });
    globalThis.Worker = log.worker;
    const { terminate, postMessage } = SavedWorker.prototype;
    SavedWorker.prototype.terminate = function () { log.terminated++; return terminate.call(this); };
    SavedWorker.prototype.postMessage = function (...args) { log.posts++; return postMessage.apply(this, args); };
  }
  const request = HTMLVideoElement.prototype.requestVideoFrameCallback;
  if (request) HTMLVideoElement.prototype.requestVideoFrameCallback = function (callback) { log.frameRequests++; return request.call(this, callback); };
  const bitmap = globalThis.createImageBitmap;
  globalThis.createImageBitmap = (...args) => { log.bitmaps++; return bitmap(...args); };
  return log;
}
