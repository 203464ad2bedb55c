// The contract between the page and the video worker, written once: the frame paths' names,
// the messages each side sends, the page's request/answer helper, and the shape of an engine
// (what every path gives background.js). background.js and paths.js (page), video-worker.js
// (worker) and video-element-path.js (the <video> path) import it.

/**
 * The frame I/O paths, best first (paths.js picks one by feature detection; `stats().path`).
 * - worker: the worker has MediaStreamTrackProcessor + VideoTrackGenerator and tracks can be
 *   transferred (Safari 18+); a clone of the track is transferred.
 * - worker-streams: MediaStreamTrackProcessor / MediaStreamTrackGenerator on the page only
 *   (Chromium): the page reads the camera's VideoFrames and writes the processed ones
 *   (frame-relay.js), the worker processes them, each frame transferred, never copied.
 * - worker-frames: a <video> + canvas.captureStream() on the page, each frame processed in
 *   the worker as an ImageBitmap (Firefox, Safari before 18).
 * - main-thread: the same without a worker.
 */
export const PATH = Object.freeze({
  WORKER: 'worker',
  STREAMS: 'worker-streams',
  FRAMES: 'worker-frames',
  MAIN: 'main-thread',
});

/**
 * Message types (`data.type`).
 * Page -> worker:
 *   probe                                       what the worker has
 *   start { path, module, modelUrl, renderer, background, track? }
 *   frame { bitmap, width, height, timestampMs }  worker-frames only
 *   input { frame }   worker-streams: the camera frame asked for; null: the input ended
 *   background { setting } | reset | destroy
 *   input-ended                                 worker path: the caller stopped their track
 * Worker -> page:
 *   probe { mstp, vtg } | ready { stats, track? } | error { message }
 *   frame { bitmap }  the processed picture, or the frame itself when it passed through
 *   read | output { frame }   worker-streams: the next camera frame, please | a frame to send
 *   stats { stats } (every STATS_INTERVAL_MS) | ended (the input ended) | destroyed { stats }
 */
export const MSG = Object.freeze({
  PROBE: 'probe',
  START: 'start',
  READY: 'ready',
  ERROR: 'error',
  FRAME: 'frame',
  READ: 'read',
  INPUT: 'input',
  OUTPUT: 'output',
  BACKGROUND: 'background',
  RESET: 'reset',
  STATS: 'stats',
  ENDED: 'ended',
  INPUT_ENDED: 'input-ended',
  DESTROY: 'destroy',
  DESTROYED: 'destroyed',
});

export const STATS_INTERVAL_MS = 500;
export const START_TIMEOUT_MS = 15000;
export const DESTROY_TIMEOUT_MS = 2000;

/**
 * One running effect on one track, whichever path carries its frames (what paths.js
 * `startEngine` resolves to).
 * @typedef {object} Engine
 * @property {MediaStreamTrack} track the processed track
 * @property {(setting: import('./renderer.js').BackgroundSetting) => void} setBackground
 * @property {() => void} resetTemporal
 * @property {() => object} stats the pipeline's statistics and `path`
 * @property {() => Promise<object>} destroy resolves to the final statistics
 */

/**
 * The worker's pipeline driven frame by frame from the page (worker-frames; paths.js builds
 * it, video-element-path.js drives it).
 * @typedef {object} RemotePipeline
 * @property {(bitmap: ImageBitmap, width: number, height: number, timeMs: number) => Promise<ImageBitmap | null>} process
 *   transfers the frame; resolves with the processed picture (or the frame itself when it
 *   passed through), null once destroyed
 * @property {(setting: object) => void} setBackground
 * @property {() => void} resetTemporal
 * @property {() => object} stats
 * @property {() => Promise<object>} destroy
 */

/**
 * Posts `message` to the worker and resolves with its `answer` message (rejects on an
 * `error` message, a worker that fails to load, a transfer the browser refuses, or no answer
 * within `timeoutMs`).
 */
export function ask(worker, message, transfer, answer, timeoutMs = START_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error('the video worker did not answer')); }, timeoutMs);
    const onMessage = ({ data }) => {
      if (data?.type === answer || data?.type === MSG.ERROR) {
        cleanup();
        if (data.type === MSG.ERROR) reject(new Error(data.message));
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
 * Resolves when `promise` settles (either way) or after `ms`, whichever comes first: the
 * teardown steps on both sides of a path wait for the other side, never longer than that.
 */
export function within(promise, ms) {
  let timer;
  return Promise.race([promise?.catch(() => {}), new Promise((resolve) => { timer = setTimeout(resolve, ms); })])
    .finally(() => clearTimeout(timer));
}

/** The effect controls of the worker-backed paths: forwarded to the worker's pipeline. */
export function workerEffectControls(worker) {
  return {
    setBackground(setting) {
      worker.postMessage({ type: MSG.BACKGROUND, setting }, setting.mode === 'image' ? [setting.image] : []);
    },
    resetTemporal() { worker.postMessage({ type: MSG.RESET }); },
  };
}
