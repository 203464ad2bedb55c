// A FrameTap (video-page.js) inside a worker, driven by WorkerTap on the page: for engines whose
// MediaStreamTrackProcessor exists in workers only. Served at /__tests__/ by the harness.
import { FrameTap } from './video-page.js';

let tap;
self.onmessage = async ({ data: { id, op, track, thumb, thumbEvery, formats, n } }) => {
  try {
    let value = null;
    if (op === 'start') {
      if (typeof MediaStreamTrackProcessor !== 'function') throw new Error('no MediaStreamTrackProcessor in this worker');
      tap = new FrameTap(track, { thumb, thumbEvery, formats });
    } else if (op === 'count') {
      value = tap.count;
    } else if (op === 'grab') {
      value = await tap.grab(n);
    } else if (op === 'stop') {
      await tap.stop();
      value = { count: tap.count, timestamps: tap.timestamps, thumbs: tap.thumbs, drawMisses: tap.drawMisses, formats: tap.formats };
    }
    self.postMessage({ id, value });
  } catch (error) {
    self.postMessage({ id, error: String(error?.message ?? error) });
  }
};
