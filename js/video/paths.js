// Which frame I/O path carries the camera's frames (protocol.js PATH, best first; feature
// detection, never the browser's name), and starting the engine on it: the worker's, the
// <video> one driving the worker frame by frame, or the <video> one on this thread.

import { loadWasmModule } from '../wasm.js';
import { PREFIX } from '../checks.js';
import { defaultModelUrl } from './segmenter.js';
import { baseUrl, toSetting } from './options.js';
import { DESTROY_TIMEOUT_MS, MSG, PATH, ask, workerEffectControls } from './protocol.js';
import { relayFrames } from './frame-relay.js';

/**
 * The <video> path's module, loaded only when taken: on the worker paths the page never loads
 * the pipeline (renderers, wasm glue) it imports.
 */
function videoElementPath() {
  return import('./video-element-path.js');
}

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

/** True when background effects can run in this browser (see index.d.ts). */
export function isSupported() {
  if (typeof WebAssembly !== 'object' || !hasWasmSimd()) return false;
  if (typeof createImageBitmap !== 'function') return false;
  const worker = typeof Worker === 'function' && typeof OffscreenCanvas === 'function';
  return (worker && mainThreadStreams()) || canCaptureCanvas() || (worker && supportsTrackTransfer());
}

/**
 * Starts the frames of `track` through the worker, on the first of worker, worker-streams,
 * worker-frames this browser has; resolves to an engine, or null when it has none of them
 * (then the main thread takes over).
 * @returns {Promise<import('./protocol.js').Engine | null>}
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
    probe = await ask(worker, { type: MSG.PROBE }, [], MSG.PROBE);
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
      start = await ask(worker, { type: MSG.START, path: PATH.WORKER, ...base, track: clone }, [clone, ...transfer], MSG.READY);
      start.path = PATH.WORKER;
    } catch (error) {
      clone.stop();
      if (error?.name !== 'DataCloneError') { worker.terminate(); throw error; }
      // Tracks are not transferable in this browser: try the streams below.
    }
  }
  if (!start && mainThreadStreams()) {
    // A clone feeds the relay, so that it can be stopped (frame-relay.js end()) while the
    // caller's track runs on.
    const input = track.clone();
    // eslint-disable-next-line no-undef
    const generator = new MediaStreamTrackGenerator({ kind: 'video' });
    const relay = relayFrames(worker, input, generator); // reads once the worker asks
    try {
      start = await ask(worker, { type: MSG.START, path: PATH.STREAMS, ...base }, transfer, MSG.READY);
      start.track = generator;
      start.relay = relay;
      start.path = PATH.STREAMS;
    } catch (error) {
      relay.end();
      generator.stop();
      worker.terminate();
      throw error;
    }
  }
  if (!start && canCaptureCanvas() && typeof createImageBitmap === 'function') {
    // No mediacapture-transform: the page plays the camera and sends frames over.
    let ready;
    try {
      ready = await ask(worker, { type: MSG.START, path: PATH.FRAMES, ...base }, transfer, MSG.READY);
    } catch (error) {
      worker.terminate();
      throw error;
    }
    return (await videoElementPath()).startVideoElementPath(track, base, remotePipeline(worker, ready.stats));
  }
  if (!start) { worker.terminate(); return null; }
  // The caller stopping their track does not end the clone feeding the worker ('ended' fires
  // only when the source ends it; a stop() is seen by polling): the clone is stopped (by the
  // relay, or by the worker that holds it), the worker ends the output, so that the camera is
  // released.
  start.watch = setInterval(() => {
    if (track.readyState !== 'ended') return;
    clearInterval(start.watch);
    if (start.relay) start.relay.end();
    else worker.postMessage({ type: MSG.INPUT_ENDED });
  }, 500);

  let last = { ...start.stats, path: start.path };
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === MSG.STATS) last = { ...data.stats, path: start.path };
    if (data?.type === MSG.ENDED) { // the input ended: so does the output
      clearInterval(start.watch);
      start.track.stop();
      start.relay?.end();
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
        const ended = start.relay?.end();
        const final = await ask(worker, { type: MSG.DESTROY }, [], MSG.DESTROYED, DESTROY_TIMEOUT_MS).catch(() => null);
        await ended;
        worker.terminate();
        if (final) last = { ...final.stats, path: start.path };
        return last;
      })();
      return destroyed;
    },
  };
}

/**
 * @param {object} stats the worker's first statistics (its ready message), so that stats()
 *   has every field from the start, as on the other paths
 * @returns {import('./protocol.js').RemotePipeline} the worker's pipeline, for worker-frames
 */
function remotePipeline(worker, stats) {
  let last = { ...stats, path: PATH.FRAMES };
  // Resolvers of the frames in flight, oldest first: the worker answers every frame, in order.
  const pending = [];
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === MSG.STATS) last = { ...data.stats, path: PATH.FRAMES };
    if (data?.type === MSG.FRAME) {
      const resolve = pending.shift();
      if (resolve) resolve(data.bitmap);
      else data.bitmap?.close();
    }
  });
  let destroyed = null;
  return {
    process(bitmap, width, height, timestampMs) {
      if (destroyed) { bitmap.close(); return Promise.resolve(null); }
      return new Promise((resolve) => {
        pending.push(resolve);
        worker.postMessage({ type: MSG.FRAME, bitmap, width, height, timestampMs }, [bitmap]);
      });
    },
    ...workerEffectControls(worker),
    stats: () => ({ ...last }),
    destroy() {
      destroyed ??= (async () => {
        const answer = await ask(worker, { type: MSG.DESTROY }, [], MSG.DESTROYED, DESTROY_TIMEOUT_MS).catch(() => null);
        worker.terminate();
        for (const resolve of pending.splice(0)) resolve(null);
        if (answer) last = { ...answer.stats, path: PATH.FRAMES };
        return last;
      })();
      return destroyed;
    },
  };
}

/**
 * Starts the effect `options` (checked by options.js checkOptions) on `track`, on the best
 * path this browser has.
 * @returns {Promise<import('./protocol.js').Engine>}
 */
export async function startEngine(track, options) {
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
    return await (await videoElementPath()).startVideoElementPath(track, base);
  } catch (error) {
    if (background.mode === 'image') background.image.close();
    throw error;
  }
}
