// The main-thread path, for browsers without MediaStreamTrackProcessor (Firefox before
// mediacapture-transform, older Safari): the camera plays in a hidden <video>, every new
// frame (requestVideoFrameCallback, or a timer where that is missing too, e.g. Firefox ESR
// 128) runs the pipeline, and the result is drawn on a canvas whose captureStream() is the
// output track. No VideoFrame is involved, so there is nothing to close.
//
// Like every main-thread video effect, it slows down when the page is busy and stops in a
// background tab (the browser throttles the callbacks there).

import { Pipeline } from './pipeline.js';

const PREFIX = 'visio-media-effects';
const PLAY_TIMEOUT_MS = 5000;
const STATS_PATH = 'main-thread';

/**
 * @param {MediaStreamTrack} track
 * @param {{ module: WebAssembly.Module, modelUrl: string, renderer: string, background: object }} options
 * @returns {Promise<{ track: MediaStreamTrack, setBackground(setting): void, resetTemporal(): void,
 *   stats(): object, destroy(): Promise<object> }>}
 */
export async function startFallback(track, options) {
  const pipeline = await Pipeline.create({ ...options, path: STATS_PATH });
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  try {
    await withTimeout(video.play(), PLAY_TIMEOUT_MS, 'the camera track did not start playing');
  } catch (error) {
    video.srcObject = null;
    pipeline.destroy();
    throw new Error(`${PREFIX}: ${error?.message ?? error}`, { cause: error });
  }

  const settings = track.getSettings();
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth || settings.width || 640;
  canvas.height = video.videoHeight || settings.height || 480;
  const context = canvas.getContext('2d', { alpha: false });
  context.drawImage(video, 0, 0, canvas.width, canvas.height); // never a blank first frame
  const output = canvas.captureStream().getVideoTracks()[0];

  let stopped = false;
  let handle = null;
  let lastTime = -1;
  const useCallback = typeof video.requestVideoFrameCallback === 'function';
  const frameMs = 1000 / (settings.frameRate || 30);

  const draw = async (width, height, timeMs) => {
    if (!width || !height) return;
    const drawn = await pipeline.process(video, width, height, timeMs);
    if (stopped) return;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const t0 = performance.now();
    context.drawImage(drawn ? pipeline.canvas : video, 0, 0, width, height);
    if (drawn) pipeline.outputDone(performance.now() - t0);
  };
  const onFrame = async (now, metadata) => {
    if (stopped) return;
    await draw(metadata.width, metadata.height, metadata.mediaTime * 1000);
    if (!stopped) handle = video.requestVideoFrameCallback(onFrame);
  };
  const onTimer = async () => {
    if (stopped) return;
    // Only frames the video has not shown us yet.
    if (video.readyState >= 2 && video.currentTime !== lastTime) {
      lastTime = video.currentTime;
      await draw(video.videoWidth, video.videoHeight, lastTime * 1000);
    }
    if (!stopped) handle = setTimeout(onTimer, frameMs / 2);
  };
  if (useCallback) handle = video.requestVideoFrameCallback(onFrame);
  else onTimer();
  // The camera track ended (unplugged, stopped by its owner): end the output track too.
  // 'ended' fires only when the source ends it; a stop() by the owner is seen by polling.
  const onEnded = () => { stopped = true; clearInterval(watch); output.stop(); };
  const watch = setInterval(() => { if (track.readyState === 'ended') onEnded(); }, 1000);
  track.addEventListener('ended', onEnded);

  return {
    track: output,
    setBackground: (setting) => pipeline.setBackground(setting),
    resetTemporal: () => pipeline.resetTemporal(),
    stats: () => ({ ...pipeline.stats(), framesAlive: 0 }),
    async destroy() {
      stopped = true;
      track.removeEventListener('ended', onEnded);
      clearInterval(watch);
      if (useCallback) video.cancelVideoFrameCallback(handle);
      else clearTimeout(handle);
      video.pause();
      video.srcObject = null;
      output.stop();
      const final = { ...pipeline.stats(), framesAlive: 0 };
      pipeline.destroy();
      return final;
    },
  };
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); })])
    .finally(() => clearTimeout(timer));
}
