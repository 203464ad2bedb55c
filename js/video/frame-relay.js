// The page side of the worker-streams path (Chromium: MediaStreamTrackProcessor and
// MediaStreamTrackGenerator exist on the main thread only). The page reads a camera frame when
// the worker asks for one (`read`), transfers it (`input`), and writes each processed frame the
// worker sends back (`output`) to the generator. The frames are transferred, never copied; the
// page only moves them.
//
// Why the page reads, rather than transferring the processor's stream to the worker as before:
// Chromium answers a pending read in two tasks (one makes the VideoFrame, the next enqueues
// it), and a stream closed in between drops that frame unclosed ("garbage collected without
// being closed"); the camera's frame pool counts such a frame until it is collected, and a new
// processor of that camera then gets no frame at all, for seconds. A transferred stream is read
// on the page by the browser's own pipe, which keeps a read pending that no one can wait for:
// 1,000 setProcessor/stopProcessor cycles left 5-23 such frames and up to 9 cycles without a
// frame for 10 s (README "Soak"). Read here, the stream is ended only once its pending read was
// answered: none is in transit.

import { MSG, within } from './protocol.js';

/** How long end() waits for the pending read (the camera's next frame) before cancelling. */
const END_WAIT_MS = 1000;

/**
 * Serves `worker`'s reads from `input` (a track the relay owns: end() stops it) and writes its
 * output frames to `generator`. A read answered null tells the worker the input ended (the
 * camera's stream ended, or end() was called). Returns { end }: end() ends the input with no
 * read pending.
 */
export function relayFrames(worker, input, generator) {
  const reader = new MediaStreamTrackProcessor({ track: input }).readable.getReader();
  const writer = generator.writable.getWriter();
  let pending = null; // the read in progress
  let ending = false;

  const send = (frame) => worker.postMessage({ type: MSG.INPUT, frame }, frame ? [frame] : []);
  async function read() {
    if (pending) return; // the worker asks for one frame at a time
    if (ending) { send(null); return; }
    pending = reader.read().catch(() => ({ done: true }));
    const { done, value } = await pending;
    pending = null;
    if (done || ending) {
      value?.close();
      send(null);
      return;
    }
    try {
      send(value);
    } catch {
      value.close(); // not transferable: the worker is told the input ended
      send(null);
    }
  }

  worker.addEventListener('message', ({ data }) => {
    if (data?.type === MSG.READ) read();
    if (data?.type === MSG.OUTPUT) {
      const frame = data.frame;
      // The generator closes a frame it was given; one it refuses (stopped) is closed here.
      if (ending) frame.close();
      else writer.write(frame).catch(() => frame.close());
    }
  });

  return {
    async end() {
      if (ending) return;
      ending = true;
      await within(pending, END_WAIT_MS);
      await reader.cancel().catch(() => {});
      input.stop();
    },
  };
}
