// Camera background effects for the page: blurBackground() on a MediaStreamTrack, and
// BackgroundProcessor, a livekit-client video TrackProcessor. Validates options, picks the
// frame I/O path and talks to it; the per-frame work is in pipeline.js.
//
// Frame I/O, best first (feature-detected, never by browser name):
// 1. worker: the worker has MediaStreamTrackProcessor + VideoTrackGenerator and tracks can be
//    transferred (Safari 18+, where these exist in workers only; Firefox with
//    mediacapture-transform). A clone of the track is transferred, so the caller's stays usable.
// 2. worker-streams: Chromium has MediaStreamTrackProcessor and MediaStreamTrackGenerator on the
//    main thread only and cannot transfer tracks; the page creates both and transfers their
//    streams to the worker.
// 3. worker-frames: a hidden <video> + canvas.captureStream() on the page (fallback.js), each
//    frame processed in the worker as an ImageBitmap (Firefox without mediacapture-transform).
// 4. main-thread: the same without a worker (no module workers or OffscreenCanvas).

import { loadWasmModule } from '../wasm.js';
import { defaultModelUrl } from './segmenter.js';
import { PREFIX, describe, checkObject } from '../checks.js';

const MAX_RADIUS = 100; // src/video MAX_RADIUS
const DEFAULT_RADIUS = 10;
const MAX_IMAGE_SIDE = 1920; // larger backgrounds are scaled down once, on load
const START_TIMEOUT_MS = 15000;
const DESTROY_TIMEOUT_MS = 2000;
const MODES = ['blur', 'image', 'none'];
/** @livekit/track-processors' mode names, accepted for a drop-in switch. */
const LIVEKIT_MODES = { 'background-blur': 'blur', 'virtual-background': 'image', disabled: 'none' };
const RENDERERS = ['auto', 'webgl2', 'cpu'];

// ---------------------------------------------------------------------------------------------
// Options: one clear TypeError/RangeError per mistake.

function checkRadius(value) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${PREFIX}: blurRadius must be a number of pixels, got ${describe(value)}`);
  }
  if (!(value > 0 && value <= MAX_RADIUS)) {
    throw new RangeError(`${PREFIX}: blurRadius must be > 0 and <= ${MAX_RADIUS} (pixels at 720p; 10 light, 20 normal), got ${value}`);
  }
  return value;
}

function isImageSource(value) {
  return typeof value === 'string' || value instanceof URL
    || (typeof Blob === 'function' && value instanceof Blob)
    || (typeof ImageBitmap === 'function' && value instanceof ImageBitmap)
    || (typeof ImageData === 'function' && value instanceof ImageData)
    || (typeof HTMLImageElement === 'function' && value instanceof HTMLImageElement)
    || (typeof HTMLCanvasElement === 'function' && value instanceof HTMLCanvasElement)
    || (typeof OffscreenCanvas === 'function' && value instanceof OffscreenCanvas)
    || (typeof VideoFrame === 'function' && value instanceof VideoFrame);
}

function checkImage(value, name) {
  if (!isImageSource(value)) {
    throw new TypeError(`${PREFIX}: ${name} must be an image URL, a Blob, an ImageBitmap, an <img>, a canvas or ImageData, got ${describe(value)}`);
  }
  return value;
}

/**
 * The effect settings in `options` (ours, or Visio's `{ type: 'blur', blurRadius }` /
 * `{ type: 'virtual', imagePath }` / `{ type: 'none' }`), checked; absent keys left out.
 */
function checkEffect(options) {
  const effect = {};
  if (options.type !== undefined) {
    const mode = { blur: 'blur', virtual: 'image', image: 'image', none: 'none' }[options.type];
    // An app's config union may hold effects of its own (Visio's 'faceLandmarks').
    if (!mode) throw new TypeError(`${PREFIX}: unknown effect type ${describe(options.type)}: background effects are 'blur', 'virtual' (an image) or 'none'`);
    effect.mode = mode;
  }
  if (options.mode !== undefined) {
    const mode = LIVEKIT_MODES[options.mode] ?? options.mode;
    if (!MODES.includes(mode)) throw new TypeError(`${PREFIX}: mode must be 'blur', 'image' or 'none', got ${describe(options.mode)}`);
    if (effect.mode && effect.mode !== mode) throw new TypeError(`${PREFIX}: type ${describe(options.type)} contradicts mode ${describe(options.mode)}`);
    effect.mode = mode;
  }
  if (options.blurRadius !== undefined) effect.blurRadius = checkRadius(options.blurRadius);
  if (options.image !== undefined) effect.image = checkImage(options.image, 'image');
  else if (options.imagePath !== undefined) effect.image = checkImage(options.imagePath, 'imagePath');
  if (effect.image !== undefined && effect.mode === undefined) effect.mode = 'image';
  return effect;
}

/** Everything blurBackground / BackgroundProcessor accept, checked, with defaults. */
function checkOptions(options, what) {
  const o = checkObject(options, what);
  const effect = { mode: 'blur', blurRadius: DEFAULT_RADIUS, image: undefined, ...checkEffect(o) };
  if (effect.mode === 'image' && effect.image === undefined) {
    throw new TypeError(`${PREFIX}: mode 'image' needs an image (or imagePath)`);
  }
  const renderer = o.renderer ?? 'auto';
  if (!RENDERERS.includes(renderer)) throw new TypeError(`${PREFIX}: renderer must be 'auto', 'webgl2' or 'cpu', got ${describe(renderer)}`);
  for (const name of ['modelUrl']) {
    if (o[name] !== undefined && typeof o[name] !== 'string' && !(o[name] instanceof URL)) {
      throw new TypeError(`${PREFIX}: ${name} must be a URL or a string, got ${describe(o[name])}`);
    }
  }
  if (o.wasm !== undefined && !(o.wasm instanceof WebAssembly.Module) && typeof o.wasm !== 'string' && !(o.wasm instanceof URL)) {
    throw new TypeError(`${PREFIX}: wasm must be a URL, a string or a WebAssembly.Module, got ${describe(o.wasm)}`);
  }
  return { effect, renderer, modelUrl: o.modelUrl, wasm: o.wasm };
}

function checkVideoTrack(track, who) {
  if (!track || typeof track.kind !== 'string' || typeof track.getSettings !== 'function') {
    throw new TypeError(`${PREFIX}: ${who} needs a video MediaStreamTrack, got ${describe(track)}`);
  }
  if (track.kind !== 'video') throw new TypeError(`${PREFIX}: ${who} needs a video MediaStreamTrack, got a ${track.kind} track`);
  if (track.readyState === 'ended') throw new Error(`${PREFIX}: ${who} was given a track that has ended`);
}

function baseUrl() {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

/**
 * blob: and data: URLs (Visio's uploaded backgrounds are blob: URLs) load through an <img>,
 * which CSP's img-src governs; fetch() would need connect-src to allow blob: / data: too.
 */
function isLocalImageUrl(source) {
  return typeof HTMLImageElement === 'function' && /^(blob|data):/i.test(String(source));
}

function imageElement(source) {
  const image = new Image();
  image.src = String(source);
  return image.decode().then(() => image, () => {
    throw new Error(`${String(source).slice(0, 64)} is not an image this browser can decode (or the page's img-src does not allow it)`);
  });
}

/** The image as an ImageBitmap of our own (at most MAX_IMAGE_SIDE on a side). */
async function loadImage(source) {
  let bitmapSource = source;
  try {
    if ((typeof source === 'string' || source instanceof URL) && isLocalImageUrl(source)) {
      bitmapSource = await imageElement(source);
    } else if (typeof source === 'string' || source instanceof URL) {
      const url = new URL(source, baseUrl());
      const response = await fetch(url);
      if (!response.ok) throw new Error(`status ${response.status} for ${url}`);
      bitmapSource = await response.blob();
    } else if (typeof HTMLImageElement === 'function' && source instanceof HTMLImageElement) {
      await source.decode();
    }
    const bitmap = await createImageBitmap(bitmapSource);
    const scale = MAX_IMAGE_SIDE / Math.max(bitmap.width, bitmap.height);
    if (scale >= 1) return bitmap;
    const resized = await createImageBitmap(bitmap, {
      resizeWidth: Math.round(bitmap.width * scale),
      resizeHeight: Math.round(bitmap.height * scale),
      resizeQuality: 'high',
    });
    bitmap.close();
    return resized;
  } catch (error) {
    throw new Error(`${PREFIX}: could not load the background image: ${error?.message ?? error}`, { cause: error });
  }
}

/** The renderer setting for an effect; loads the image for image mode. */
async function toSetting(effect) {
  if (effect.mode === 'none') return { mode: 'none' };
  if (effect.mode === 'blur') return { mode: 'blur', radius: effect.blurRadius };
  return { mode: 'image', image: await loadImage(effect.image) };
}

// ---------------------------------------------------------------------------------------------
// The engine: one running effect on one track, whichever path carries its frames.

/** WebAssembly SIMD (the wasm is built with simd128): a module using i8x16.splat validates. */
function hasWasmSimd() {
  try {
    return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123,
      3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]));
  } catch {
    return false;
  }
}

function mainThreadStreams() {
  return typeof globalThis.MediaStreamTrackProcessor === 'function'
    && typeof globalThis.MediaStreamTrackGenerator === 'function'
    && typeof OffscreenCanvas === 'function';
}

function canCaptureCanvas() {
  return typeof HTMLCanvasElement === 'function' && typeof HTMLCanvasElement.prototype.captureStream === 'function';
}

function ask(worker, message, transfer, answer, timeoutMs = START_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error('the video worker did not answer')); }, timeoutMs);
    const onMessage = ({ data }) => {
      if (data?.type === answer || data?.type === 'error') {
        cleanup();
        if (data.type === 'error') reject(new Error(data.message));
        else resolve(data);
      }
    };
    const onError = (event) => {
      cleanup();
      reject(new Error(`the video worker failed to load: ${event?.message ?? 'error'}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
    try {
      worker.postMessage(message, transfer);
    } catch (error) {
      cleanup();
      reject(error); // DataCloneError: this browser cannot transfer what we asked
    }
  });
}

/**
 * Starts the frames of `track` through the worker; resolves to an engine, or null when this
 * browser has no worker path (then the main thread takes over).
 */
async function startWorker(track, base) {
  if (typeof Worker !== 'function' || typeof OffscreenCanvas !== 'function') return null;
  let worker;
  try {
    worker = new Worker(new URL('./video-worker.js', import.meta.url), { type: 'module' });
  } catch {
    return null;
  }
  let probe;
  try {
    probe = await ask(worker, { type: 'probe' }, [], 'probe');
  } catch {
    worker.terminate();
    return null;
  }
  const background = base.background;
  const transfer = background.mode === 'image' ? [background.image] : [];
  let start = null;
  if (probe.mstp && probe.vtg) {
    const clone = track.clone();
    try {
      start = await ask(worker, { type: 'start', ...base, track: clone }, [clone, ...transfer], 'ready');
      start.path = 'worker';
    } catch (error) {
      clone.stop();
      if (error?.name !== 'DataCloneError') { worker.terminate(); throw error; }
      // Tracks are not transferable in this browser: try the streams below.
    }
  }
  if (!start && mainThreadStreams()) {
    // A clone feeds the processor: destroy() stops it, so that its stream ends after the
    // frames it holds, which the worker reads and closes (a cancelled stream would drop them
    // unclosed), while the caller's track keeps running.
    const input = track.clone();
    const processor = new MediaStreamTrackProcessor({ track: input });
    // eslint-disable-next-line no-undef
    const generator = new MediaStreamTrackGenerator({ kind: 'video' });
    try {
      start = await ask(worker, { type: 'start', ...base, readable: processor.readable, writable: generator.writable },
        [processor.readable, generator.writable, ...transfer], 'ready');
      start.track = generator;
      start.input = input;
      start.path = 'worker-streams';
      // The caller stopping their track ends the clone too ('ended' fires only when the
      // source ends it; a stop() is seen by polling), so the output ends with the input.
      start.watch = setInterval(() => { if (track.readyState === 'ended') input.stop(); }, 500);
    } catch (error) {
      input.stop();
      generator.stop();
      worker.terminate();
      throw error;
    }
  }
  if (!start && canCaptureCanvas() && typeof createImageBitmap === 'function') {
    // No mediacapture-transform: the page plays the camera and sends frames over (fallback.js).
    try {
      await ask(worker, { type: 'start', ...base, frames: 'bitmaps' }, transfer, 'ready');
    } catch (error) {
      worker.terminate();
      throw error;
    }
    const { startFallback } = await import('./fallback.js');
    return startFallback(track, base, remotePipeline(worker));
  }
  if (!start) { worker.terminate(); return null; }

  let last = { ...start.stats, path: start.path };
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === 'stats') last = { ...data.stats, path: start.path };
    if (data?.type === 'ended') { // the input ended: so does the output
      clearInterval(start.watch);
      start.track.stop();
    }
  });
  let destroyed = null;
  return {
    track: start.track,
    ...workerEffectControls(worker),
    stats: () => ({ ...last }),
    destroy() {
      destroyed ??= (async () => {
        clearInterval(start.watch);
        start.track.stop();
        const answer = ask(worker, { type: 'destroy' }, [], 'destroyed', DESTROY_TIMEOUT_MS).catch(() => null);
        start.input?.stop(); // after the worker was told: it then reads the stream to its end
        const final = await answer;
        worker.terminate();
        if (final) last = { ...final.stats, path: start.path };
        return last;
      })();
      return destroyed;
    },
  };
}

/** The effect controls both worker-backed pipelines forward to the worker's pipeline. */
function workerEffectControls(worker) {
  return {
    setBackground(setting) {
      worker.postMessage({ type: 'background', setting }, setting.mode === 'image' ? [setting.image] : []);
    },
    resetTemporal() { worker.postMessage({ type: 'reset' }); },
  };
}

/** The worker's pipeline driven frame by frame from the page (fallback.js RemotePipeline). */
function remotePipeline(worker) {
  let last = { path: 'worker-frames' };
  let pending = null; // resolves the frame in flight
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === 'stats') last = { ...data.stats, path: 'worker-frames' };
    if (data?.type === 'frame') {
      const resolve = pending;
      pending = null;
      if (resolve) resolve(data.bitmap);
      else data.bitmap.close();
    }
  });
  let destroyed = null;
  return {
    process(bitmap, width, height, timestampMs) {
      if (destroyed) { bitmap.close(); return Promise.resolve(null); }
      return new Promise((resolve) => {
        pending = resolve;
        worker.postMessage({ type: 'frame', bitmap, width, height, timestampMs }, [bitmap]);
      });
    },
    ...workerEffectControls(worker),
    stats: () => ({ ...last }),
    destroy() {
      destroyed ??= (async () => {
        const answer = await ask(worker, { type: 'destroy' }, [], 'destroyed', DESTROY_TIMEOUT_MS).catch(() => null);
        worker.terminate();
        pending?.(null);
        if (answer) last = { ...answer.stats, path: 'worker-frames' };
        return last;
      })();
      return destroyed;
    },
  };
}

async function startEngine(track, options) {
  if (!hasWasmSimd()) throw new Error(`${PREFIX}: this browser lacks WebAssembly SIMD, which background effects need`);
  const [module, background] = await Promise.all([loadWasmModule(options.wasm), toSetting(options.effect)]);
  const base = {
    module,
    modelUrl: new URL(options.modelUrl ?? defaultModelUrl(), baseUrl()).href,
    renderer: options.renderer,
    background,
  };
  try {
    const engine = await startWorker(track, base);
    if (engine) return engine;
    if (!canCaptureCanvas()) throw new Error(`${PREFIX}: this browser can neither process camera frames in a worker nor capture a canvas`);
    const { startFallback } = await import('./fallback.js');
    return await startFallback(track, base);
  } catch (error) {
    if (background.mode === 'image') background.image.close();
    throw error;
  }
}

/**
 * The live effect of an engine: serialises updates (an image may take a while to load; the
 * latest update wins) and remembers the effect for restarts.
 */
class EffectState {
  effect;
  #engine = null;
  #generation = 0;

  constructor(effect) {
    this.effect = effect;
  }

  attach(engine) {
    this.#engine = engine;
  }

  /**
   * Validates, then applies; resolves once the effect is in place. Bad options reject
   * before anything changes, so the running effect goes on as it was.
   */
  update(options, what) {
    let effect;
    try {
      effect = { ...this.effect, ...checkEffect(checkObject(options, what)) };
      // Visio's blur config carries no image: switching back to blur keeps the last one.
      if (effect.mode === 'image' && effect.image === undefined) {
        throw new TypeError(`${PREFIX}: mode 'image' needs an image (or imagePath)`);
      }
    } catch (error) {
      error.message += '; the current effect is unchanged';
      return Promise.reject(error);
    }
    this.effect = effect;
    const generation = ++this.#generation;
    const engine = this.#engine;
    if (!engine) return Promise.resolve();
    return toSetting(effect).then((setting) => {
      if (generation !== this.#generation || engine !== this.#engine) {
        if (setting.mode === 'image') setting.image.close(); // overtaken by a later update
        return;
      }
      engine.setBackground(setting);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Public API.

/**
 * Blurs (or replaces) the background of a camera track; see index.d.ts for the contract.
 */
export async function blurBackground(track, options) {
  checkVideoTrack(track, 'blurBackground');
  const opts = checkOptions(options, 'blurBackground');
  const state = new EffectState(opts.effect);
  const engine = await startEngine(track, opts);
  state.attach(engine);
  let destroyed = null;
  return {
    track: engine.track,
    update: (settings) => state.update(settings, 'update'),
    stats: () => engine.stats(),
    destroy() {
      destroyed ??= engine.destroy().then(() => { state.attach(null); });
      return destroyed;
    },
  };
}

/** True when background effects can run in this browser (see index.d.ts). */
function isSupported() {
  if (typeof WebAssembly !== 'object' || !hasWasmSimd()) return false;
  if (typeof createImageBitmap !== 'function') return false;
  const worker = typeof Worker === 'function' && typeof OffscreenCanvas === 'function';
  return (worker && mainThreadStreams()) || canCaptureCanvas() || (worker && supportsTrackTransfer());
}

/**
 * Whether MediaStreamTracks can be transferred (needed by the worker path of browsers that
 * have mediacapture-transform in workers only); detected without a camera on a canvas track.
 */
function supportsTrackTransfer() {
  if (!canCaptureCanvas()) return false;
  const canvas = document.createElement('canvas');
  const track = canvas.captureStream().getVideoTracks()[0];
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(track, [track]);
    return true;
  } catch {
    return false;
  } finally {
    track.stop();
    port1.close();
    port2.close();
  }
}

/**
 * Background effects as a livekit-client 2.x video `TrackProcessor`; see index.d.ts.
 */
export class BackgroundProcessor {
  name = 'visio-background';
  /** The processed track livekit publishes; undefined until init() and after destroy(). */
  processedTrack = undefined;
  #options;
  /** The configuration last given, in the app's own shape (returned by `options`). */
  #config;
  #state;
  #engine = null;
  #final = null;
  #generation = 0;

  constructor(options) {
    this.#options = checkOptions(options, 'BackgroundProcessor');
    this.#config = { ...options };
    this.#state = new EffectState(this.#options.effect);
  }

  static isSupported() {
    return isSupported();
  }

  async init({ kind, track } = {}) {
    if (kind !== undefined && kind !== 'video') {
      throw new TypeError(`${PREFIX}: BackgroundProcessor is a video processor, it was set on a ${kind} track`);
    }
    checkVideoTrack(track, 'BackgroundProcessor');
    if (this.#engine) await this.destroy();
    const generation = ++this.#generation;
    const engine = await startEngine(track, { ...this.#options, effect: this.#state.effect });
    if (generation !== this.#generation) {
      await engine.destroy(); // destroy() or another init() ran meanwhile
      return;
    }
    this.#engine = engine;
    this.#state.attach(engine);
    this.processedTrack = engine.track;
  }

  async restart(options) {
    await this.destroy();
    await this.init(options);
  }

  async destroy() {
    this.#generation++;
    const engine = this.#engine;
    this.#engine = null;
    this.#state.attach(null);
    this.processedTrack = undefined;
    if (engine) this.#final = await engine.destroy();
  }

  /**
   * Changes the effect live (ours or Visio's config shape); kept for later inits. Throws
   * TypeError/RangeError on bad options; resolves once the new effect is in place.
   */
  update(options) {
    const before = this.#state.effect;
    const done = this.#state.update(options, 'update');
    if (this.#state.effect !== before) {
      // Accepted. A config naming its effect (Visio's `type`, our `mode`, an image) replaces
      // the last one, as Visio's own processors did; a partial change merges into it.
      const replaces = ['type', 'mode', 'image', 'imagePath'].some((key) => options[key] !== undefined);
      this.#config = replaces ? { ...options } : { ...this.#config, ...options };
    }
    return done;
  }

  /** Same as update(), under @livekit/track-processors' name. */
  switchTo(options) {
    return this.update(options);
  }

  /** A new, uninitialised processor with the same options and current effect. */
  clone() {
    const { renderer, modelUrl, wasm } = this.#options;
    return new BackgroundProcessor({ ...this.#config, ...this.#state.effect, renderer, modelUrl, wasm });
  }

  /** The running engine's statistics; after destroy(), the last engine's final ones. */
  stats() {
    return this.#engine?.stats() ?? this.#final;
  }

  /**
   * The configuration last given and the current effect in both vocabularies: Visio's `type`
   * (the app's own when its config has one) and our `mode`, `blurRadius`, `image`.
   */
  get options() {
    const { mode, blurRadius, image } = this.#state.effect;
    return { type: mode === 'image' ? 'virtual' : 'blur', ...this.#config, mode, blurRadius, image };
  }
}
