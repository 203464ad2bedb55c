// The <video> + captureStream path, for browsers without MediaStreamTrackProcessor on the
// page (Firefox before mediacapture-transform, Safari before 18): the camera plays in a hidden
// <video>; every new frame (requestVideoFrameCallback, or a timer where that is missing too,
// e.g. Firefox ESR 128) is processed and drawn on a canvas whose captureStream() is the output
// track. Two paths (protocol.js PATH): worker-frames, processing in the video worker (`remote`:
// the frame goes there as an ImageBitmap and comes back processed, so the page's main thread
// only copies pictures), and main-thread, processing here. No VideoFrame is involved, so there
// is nothing to close.
//
// Either way the frame clock is the page's: callbacks slow down when the page is busy and stop
// in a background tab (browsers throttle them there).

import { Pipeline } from './pipeline.js';
import { PREFIX } from '../checks.js';
import { PATH } from './protocol.js';

/**
 * @param {MediaStreamTrack} track
 * @param {{ module: WebAssembly.Module, modelUrl: string, renderer: string, background: object }} options
 * @param {import('./protocol.js').RemotePipeline | null} remote process in the worker
 *   (worker-frames), or null: on this thread (main-thread)
 * @returns {Promise<import('./protocol.js').Engine>}
 */
export async function startVideoElementPath(track, options, remote = null) {
  let reported = false;
  const reportOnce = (error) => {
    if (!reported) console.error(`${PREFIX}: the camera could not be processed: ${error?.message ?? error}`);
    reported = true;
  };
  const pipeline = remote ? null : await Pipeline.create({ ...options, path: PATH.MAIN });
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  // Not awaited: a muted camera (no frames yet) would hold play() pending; frames are drawn
  // as they come, like on the worker paths. A muted <video> is always allowed to autoplay.
  // destroy() before the first frame interrupts play(): that is no error.
  video.play().catch((error) => { if (!stopped) reportOnce(error); });

  const settings = track.getSettings();
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth || settings.width || 640;
  canvas.height = video.videoHeight || settings.height || 480;
  const context = canvas.getContext('2d', { alpha: false });
  // Nothing is drawn before the first camera frame: an untouched canvas sends no frame, so
  // the output never starts black.
  const output = canvas.captureStream().getVideoTracks()[0];

  let stopped = false;
  // Frames being processed. In the worker, two: the page reads and draws one while the worker
  // computes the next, so a frame whose round trip (read, transfer, process, draw) exceeds the
  // camera's period still does not make the next one be skipped. On this thread, one.
  let inFlight = 0;
  const maxInFlight = remote ? 2 : 1;
  let handle = null;
  let lastTime = -1;
  const useCallback = typeof video.requestVideoFrameCallback === 'function';
  const frameMs = 1000 / (settings.frameRate || 30);

  /** The picture to show for the video's current frame. */
  const process = remote
    ? async (width, height, timeMs) => remote.process(await createImageBitmap(video), width, height, timeMs)
    : async (width, height, timeMs) => ((await pipeline.process(video, width, height, timeMs)) ? pipeline.canvas : video);

  const draw = async (width, height, timeMs) => {
    // A frame that arrives with maxInFlight in flight is skipped: latency stays bounded.
    if (!width || !height || inFlight >= maxInFlight) return;
    inFlight++;
    try {
      const image = await process(width, height, timeMs);
      if (!image) return;
      if (stopped) {
        if (image instanceof ImageBitmap) image.close();
        return;
      }
      if (canvas.width !== width || canvas.height !== height) {
        canvas.width = width;
        canvas.height = height;
      }
      const t0 = performance.now();
      context.drawImage(image, 0, 0, width, height);
      if (image === pipeline?.canvas) pipeline.outputDone(performance.now() - t0);
      if (image instanceof ImageBitmap) image.close();
    } finally {
      inFlight--;
    }
  };
  const onFrame = (now, metadata) => {
    if (stopped) return;
    handle = video.requestVideoFrameCallback(onFrame);
    draw(metadata.width, metadata.height, metadata.mediaTime * 1000).catch(reportOnce);
  };
  const onTimer = () => {
    if (stopped) return;
    handle = setTimeout(onTimer, frameMs / 2);
    // Only frames the video has not shown us yet.
    if (video.readyState >= 2 && video.currentTime !== lastTime && inFlight < maxInFlight) {
      lastTime = video.currentTime;
      draw(video.videoWidth, video.videoHeight, lastTime * 1000).catch(reportOnce);
    }
  };
  if (useCallback) handle = video.requestVideoFrameCallback(onFrame);
  else onTimer();
  // The camera track ended (unplugged, stopped by its owner): end the output track too.
  // 'ended' fires only when the source ends it; a stop() by the owner is seen by polling.
  const onEnded = () => { stopped = true; clearInterval(watch); output.stop(); };
  const watch = setInterval(() => { if (track.readyState === 'ended') onEnded(); }, 1000);
  track.addEventListener('ended', onEnded);

  const stats = () => ({ ...(remote ? remote.stats() : pipeline.stats()), framesAlive: 0 });
  let destroyed = null;
  return {
    track: output,
    setBackground: (setting) => (remote ?? pipeline).setBackground(setting),
    resetTemporal: () => (remote ?? pipeline).resetTemporal(),
    stats,
    destroy() {
      destroyed ??= (async () => {
        stopped = true;
        track.removeEventListener('ended', onEnded);
        clearInterval(watch);
        if (useCallback) video.cancelVideoFrameCallback(handle);
        else clearTimeout(handle);
        video.pause();
        video.srcObject = null;
        output.stop();
        if (remote) return { ...(await remote.destroy()), framesAlive: 0 };
        const final = stats();
        pipeline.destroy();
        return final;
      })();
      return destroyed;
    },
  };
}
