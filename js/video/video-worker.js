// The dedicated worker of the background effect: reads camera VideoFrames, runs the pipeline,
// writes the processed frames to a track generator. Three ways in, chosen by the page
// (paths.js) and named in the start message (protocol.js PATH and MSG, the messages):
// - worker (a transferred `track`): this worker has MediaStreamTrackProcessor and
//   VideoTrackGenerator (the standard, worker-only API: Safari 18+, Firefox with
//   mediacapture-transform); the generator's track is transferred back to the page.
// - worker-streams: Chromium exposes MediaStreamTrackProcessor and MediaStreamTrackGenerator on
//   the main thread only and cannot transfer tracks, so the page reads the camera's frames and
//   writes the processed ones (frame-relay.js); each frame is transferred here on request
//   (`read` -> `input`) and back (`output`): pageInput and pageOutput below.
// - worker-frames: no mediacapture-transform at all (video-element-path.js): the page sends
//   each camera frame as an ImageBitmap (a `frame` message) and gets the processed one back.

import { FrameLedger, Pipeline } from './pipeline.js';
import { MSG, PATH, STATS_INTERVAL_MS, within } from './protocol.js';

/** On destroy or the input's end, how long the pump's pending read or write is waited for (drain()). */
const DRAIN_MS = 1000;
/**
 * A read of the camera's stream that waits this long is counted (stats().inputStalls) and the
 * first one logged: the wait is the browser's (Chromium's MediaStreamTrackProcessor was seen
 * delivering no frame for 10 s to a new processor while VideoFrames of that camera awaited
 * garbage collection: README "Soak"), and frames pass again when it delivers them.
 */
const INPUT_STALL_MS = 5000;

let pipeline = null;
let ledger = new FrameLedger();
let reader = null;
let writer = null;
let inputTrack = null;
let stopping = false;
let inputEnded = false; // the caller stopped their track: the pump reads no more
let statsTimer = null;
let running = null;
let statsAt = 0;
let readSince = null; // when the pending read of the input began
let stalls = 0;

function postStats() {
  statsAt = performance.now();
  if (readSince !== null && statsAt - readSince >= INPUT_STALL_MS) {
    readSince = null; // counted once per read
    if (++stalls === 1) {
      console.warn(`visio-media-effects: no camera frame for ${INPUT_STALL_MS / 1000} s: the browser delivers none `
        + '(a muted camera, or frames withheld while VideoFrames of it await garbage collection); the effect resumes with them');
    }
  }
  postMessage({ type: MSG.STATS, stats: stats() });
}

function stats() {
  return {
    ...(pipeline?.stats() ?? {}),
    framesAlive: ledger.alive,
    framesAlivePeak: ledger.peak,
    framesOpened: ledger.opened,
    framesClosed: ledger.closed,
    framesHandedOver: ledger.handedOver,
    ...(reader ? { inputStalls: stalls } : {}),
  };
}

async function start(data) {
  try {
    pipeline = await Pipeline.create({
      module: data.module,
      modelUrl: data.modelUrl,
      renderer: data.renderer,
      background: data.background,
      path: data.path,
    });
  } catch (error) {
    data.track?.stop();
    postMessage({ type: MSG.ERROR, message: String(error?.message ?? error) });
    return;
  }
  if (data.path === PATH.FRAMES) {
    postMessage({ type: MSG.READY, stats: stats() });
    statsTimer = setInterval(postStats, STATS_INTERVAL_MS);
    return;
  }
  if (data.path === PATH.WORKER) {
    inputTrack = data.track;
    reader = new MediaStreamTrackProcessor({ track: inputTrack }).readable.getReader();
    // eslint-disable-next-line no-undef
    const generator = new VideoTrackGenerator();
    writer = generator.writable.getWriter();
    postMessage({ type: MSG.READY, track: generator.track, stats: stats() }, [generator.track]);
  } else {
    reader = pageInput;
    writer = pageOutput;
    postMessage({ type: MSG.READY, stats: stats() });
  }
  statsTimer = setInterval(postStats, STATS_INTERVAL_MS);
  running = pump();
}

/**
 * worker-streams: the camera frames the page reads for us (frame-relay.js), with a stream
 * reader's read() and cancel(). One read at a time; a frame that comes after a cancel is closed.
 */
const pageInput = {
  waiting: null,
  done: false,
  read() {
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.waiting = resolve;
      postMessage({ type: MSG.READ });
    });
  },
  /** The page's `input` message: a frame, or null when the input ended. */
  receive(frame) {
    const resolve = this.waiting;
    this.waiting = null;
    if (frame && resolve && !this.done) { resolve({ done: false, value: frame }); return; }
    frame?.close();
    if (!frame) this.done = true;
    resolve?.({ done: true, value: undefined });
  },
  cancel() {
    this.receive(null); // ends the pending read, and any later one
    return Promise.resolve();
  },
};

/** worker-streams: the processed frames, transferred to the page for its generator. */
const pageOutput = {
  write(frame) {
    postMessage({ type: MSG.OUTPUT, frame }, [frame]);
    return Promise.resolve();
  },
  close() { return Promise.resolve(); },
};

/**
 * Resolves once the tasks already queued for this worker have run: a message to ourselves
 * through a MessageChannel is a task, queued behind them (a timer would not do: WebKit fires a
 * worker's timers only when no task is queued, and clamps them to 4 ms).
 */
let nextTask = () => {
  const { port1, port2 } = new MessageChannel();
  let wake = null;
  port1.onmessage = () => wake();
  nextTask = () => new Promise((resolve) => { wake = resolve; port2.postMessage(null); });
  return nextTask();
};

/** One frame at a time: read, process, write (the write's backpressure paces the reads). */
async function pump() {
  while (!stopping && !inputEnded) {
    // Lets the page's messages in between two frames. In WebKit (Safari 18's worker path) a
    // read of the MediaStreamTrackProcessor's stream is fulfilled within read() when the
    // processor already holds a camera frame, and the VideoTrackGenerator's write resolves at
    // once: when a frame takes longer to process than the camera's interval (any loaded
    // machine), the loop runs as one unbroken chain of microtasks and no task of the worker
    // runs. The page's destroy message then waited more than DESTROY_TIMEOUT_MS (the worker
    // terminated unconfirmed, its frames unaccounted for: about one destroy() in 30 at a load
    // average of 15), and update()'s background waited as long. Reproduced on a quiet machine
    // by 8 ms more per frame (destroy message received 60-650 ms late, or never within 2 s),
    // 20 or 50 ms more: never received.
    await nextTask();
    if (stopping || inputEnded) break;
    let result;
    readSince = performance.now();
    try {
      result = await reader.read();
    } catch {
      break;
    } finally {
      readSince = null;
    }
    if (result.done) break;
    const frame = ledger.open(result.value);
    if (stopping || inputEnded) { ledger.close(frame); break; }
    let out = frame;
    const width = frame.displayWidth;
    const height = frame.displayHeight;
    if (await pipeline.process(frame, width, height, frame.timestamp / 1000)) {
      try {
        const t0 = performance.now();
        // Same timestamp (and duration) as the camera's frame; same size as the input.
        out = ledger.open(new VideoFrame(pipeline.canvas, {
          timestamp: frame.timestamp,
          ...(frame.duration != null ? { duration: frame.duration } : {}),
        }));
        pipeline.outputDone(performance.now() - t0);
        ledger.close(frame);
      } catch {
        out = frame; // the canvas could not become a frame: send the camera's frame instead
      }
    }
    try {
      await writer.write(out);
      // Generators close written frames; should one not, closing it here keeps the count right.
      if (out.codedWidth === 0) ledger.handOver(out);
      else ledger.close(out);
    } catch {
      ledger.close(out);
      break; // the output track was stopped
    }
    // The timer above stays silent in WebKit while tasks keep coming (ours, nextTask(), one a
    // frame; stats() seen frozen for seconds with frames flowing): post from here too.
    if (performance.now() - statsAt >= STATS_INTERVAL_MS) postStats();
  }
  if (!stopping) {
    // The camera track ended (unplugged, stopped by its owner): end the output track too.
    await endInput();
    await writer.close().catch(() => {});
    postMessage({ type: MSG.ENDED });
  }
}

/**
 * A frame from the page (worker-frames): processed, sent back (itself when it passes through;
 * null when dropped: the page pairs answers with frames in order). Frames are taken one after
 * the other (`frames`), since the page may send the next one before this one's answer.
 */
let frames = Promise.resolve();
function onFrame(data) {
  frames = frames.then(() => processFrame(data)).catch(() => postMessage({ type: MSG.FRAME, bitmap: null }));
}

async function processFrame({ bitmap, width, height, timestampMs }) {
  if (!pipeline || stopping) {
    bitmap.close();
    postMessage({ type: MSG.FRAME, bitmap: null });
    return;
  }
  let out = bitmap;
  try {
    if (await pipeline.process(bitmap, width, height, timestampMs)) {
      const t0 = performance.now();
      out = await createImageBitmap(pipeline.canvas);
      pipeline.outputDone(performance.now() - t0);
      bitmap.close();
    }
  } catch {
    out = bitmap;
  }
  postMessage({ type: MSG.FRAME, bitmap: out }, [out]);
}

/**
 * Ends the input without dropping a frame: the pump first finishes its pending read (the next
 * camera frame, which it closes) and reads no more, then the input is cancelled with no read
 * pending. A MediaStreamTrackProcessor's stream closed under a pending read can drop the frame
 * that answers it unclosed (Chromium does: frame-relay.js, where its page side does the same).
 * A pump that does not finish within DRAIN_MS (no camera frame comes, or the generator never
 * takes a write) is not waited for: the read it holds ends with the cancel.
 */
async function drain() {
  if (!reader) return;
  await within(running, DRAIN_MS);
  await endInput();
}

/** Cancels the input stream, then stops the transferred track (the worker path's). */
async function endInput() {
  await reader?.cancel().catch(() => {});
  inputTrack?.stop();
}

async function destroy() {
  stopping = true;
  clearInterval(statsTimer);
  await drain();
  await within(writer?.close(), DRAIN_MS); // a write the generator never takes must not hold destroy()
  ledger.closeAll();
  pipeline?.destroy();
  postMessage({ type: MSG.DESTROYED, stats: stats() });
}

self.onmessage = ({ data }) => {
  switch (data?.type) {
    case MSG.PROBE:
      postMessage({
        type: MSG.PROBE,
        mstp: typeof self.MediaStreamTrackProcessor === 'function',
        vtg: typeof self.VideoTrackGenerator === 'function',
      });
      break;
    case MSG.START:
      start(data);
      break;
    case MSG.FRAME:
      onFrame(data);
      break;
    case MSG.INPUT:
      pageInput.receive(data.frame);
      break;
    case MSG.BACKGROUND:
      pipeline?.setBackground(data.setting);
      break;
    case MSG.RESET:
      pipeline?.resetTemporal();
      break;
    case MSG.INPUT_ENDED:
      // The caller stopped their track, which does not stop the clone feeding us: pump() reads no
      // more once its pending read is answered, ends the input (see drain()) and the output, as
      // for a camera unplugged; a read still unanswered after DRAIN_MS ends with the cancel.
      inputEnded = true;
      within(running, DRAIN_MS).then(endInput);
      break;
    case MSG.DESTROY:
      destroy();
      break;
    default:
      break;
  }
};
