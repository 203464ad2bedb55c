// The per-frame engine, shared by the worker (video-worker.js) and the main-thread path
// (video-element-path.js): segment with an adaptive cadence, render with the current renderer, keep the
// statistics. It knows nothing of tracks or streams: the caller hands it frames and sends
// what it drew (or, on pass-through, the frame itself) on.

import { createRenderer } from './renderer.js';
import { createCpuRenderer } from './renderer-cpu.js';
import { FrameSegmenter, fetchModel, loadVideoWasm } from './segmenter.js';
import { FrameInput } from './frame-input.js';
import { isPanic, isTrap } from './wasm-trap.js';

/** How often the segmenter may skip frames: 1 = every frame, 2 = every other frame. */
const MAX_CADENCE = 2;
/** Re-decide the cadence every this many frames (decisions on averages, not single frames). */
const CADENCE_WINDOW = 15;
/** After a WebGL context loss, try WebGL2 again this long after (the CPU renders meanwhile). */
const WEBGL_RETRY_MS = 2000;
/** Weight of the newest sample in the moving averages of the stage timings. */
const EMA = 0.1;
/** 'auto' renderer trial: frames per renderer not timed (shader compilation...), then timed. */
const TRIAL_WARMUP = 1;
const TRIAL_FRAMES = 3;
/**
 * After a trap the wasm is restarted at once and the effect made again on the next frame. A
 * trap again within RESTART_BACKOFF_MAX_MS of the last one waits RESTART_BACKOFF_MS before the
 * effect is made again, doubled each time up to RESTART_BACKOFF_MAX_MS (frames pass through
 * meanwhile), so input that traps every time does not cost a model load per frame.
 */
const RESTART_BACKOFF_MS = 1000;
const RESTART_BACKOFF_MAX_MS = 30000;

const now = () => globalThis.performance?.now() ?? Date.now();

/**
 * Counts the VideoFrames this thread holds, so that tests (and curious users) can check every
 * frame is closed exactly once: `opened` when a frame is read or created, `closed` when we
 * close it, `handedOver` when it is written to a track generator (whose sink closes it).
 */
export class FrameLedger {
  opened = 0;
  closed = 0;
  handedOver = 0;
  /** Most frames held at once. */
  peak = 0;
  #alive = new Set();

  open(frame) {
    this.opened++;
    this.#alive.add(frame);
    this.peak = Math.max(this.peak, this.#alive.size);
    return frame;
  }

  close(frame) {
    if (!this.#alive.delete(frame)) return; // never twice
    this.closed++;
    frame.close();
  }

  /** The frame now belongs to someone else (the generator closes it). */
  handOver(frame) {
    if (this.#alive.delete(frame)) this.handedOver++;
  }

  /** Closes whatever is still held (on destroy). */
  closeAll() {
    for (const frame of [...this.#alive]) this.close(frame);
  }

  get alive() { return this.#alive.size; }
}

/**
 * The choice of 'auto' between a WebGL2 renderer and the CPU one, by behaviour rather than by
 * the GPU's name (WebKit reports "Apple GPU" over llvmpipe): the first frames go alternately
 * to each (both draw the same picture), each timed until its picture is done (the GPU waited
 * for), and the one with the lower median time is kept.
 */
class RendererTrial {
  frames = 0;
  times = [[], []];

  constructor(webgl, cpu) {
    this.renderers = [webgl, cpu];
  }

  /** The renderer that draws the next frame. */
  next() {
    return this.renderers[this.frames % 2];
  }

  /** Records the time of the frame next() gave; true once the trial is over. */
  record(ms) {
    if (this.frames >= 2 * TRIAL_WARMUP) this.times[this.frames % 2].push(ms);
    this.frames++;
    return this.frames >= 2 * (TRIAL_WARMUP + TRIAL_FRAMES);
  }

  /** { webgl2Ms, cpuMs }: the medians. */
  result() {
    const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
    const round = (x) => Math.round(x * 100) / 100;
    return { webgl2Ms: round(median(this.times[0])), cpuMs: round(median(this.times[1])) };
  }
}

/**
 * @typedef {object} PipelineOptions
 * @property {WebAssembly.Module} module the package's compiled wasm
 * @property {string} modelUrl absolute URL of the .tflite model
 * @property {'auto' | 'webgl2' | 'cpu'} renderer
 * @property {import('./renderer.js').BackgroundSetting} background
 * @property {string} path which frame I/O runs this pipeline (reported in stats)
 */

export class Pipeline {
  #wasm;
  #model; // the model's bytes, to make the segmenter again after a trap
  #generation; // of the wasm instance the segmenter and the input belong to
  #restart = { at: -Infinity, backoff: 0, count: 0 }; // wasm restarts after traps
  #segmenter;
  #input; // the frame in wasm memory, one copy shared by the segmenter and the CPU renderer
  #renderer = null;
  #trial = null; // RendererTrial while 'auto' times both renderers
  #trialResult = null;
  #rendererKind;
  #pendingRenderer = null;
  #retryAt = Infinity;
  #background;
  #mask = null; // our copy of the latest mask (wasm memory views detach when it grows)
  #maskSize = [0, 0];
  #sinceMask = 0;
  #cadence = 1;
  #window = { frames: 0, copy: 0, segment: 0, render: 0, output: 0, segments: 0 };
  #lastTimestamp = null;
  #interval = 1000 / 30;
  #times = { copyMs: 0, segmentMs: 0, renderMs: 0, outputMs: 0, frameMs: 0 };
  #outTimes = [];
  #counts = { frames: 0, rendered: 0, passthrough: 0, segmented: 0, errors: 0, contextLosses: 0 };
  #lastError = null;
  #path;
  destroyed = false;

  /** Loads the wasm, the model and the renderer; rejects (and frees everything) on failure. */
  static async create(options) {
    const [wasm, model] = await Promise.all([loadVideoWasm(options.module), fetchModel(options.modelUrl)]);
    const pipeline = new Pipeline(wasm, model, options);
    try {
      await pipeline.#startRenderer(options.renderer);
    } catch (error) {
      pipeline.destroy();
      throw error;
    }
    return pipeline;
  }

  constructor(wasm, model, { renderer, background, path }) {
    this.#wasm = wasm;
    this.#model = model;
    this.#generation = wasm.generation;
    this.#segmenter = new FrameSegmenter(wasm, model);
    this.#input = new FrameInput(wasm);
    this.#rendererKind = renderer;
    this.#background = background;
    this.#path = path;
  }

  async #startRenderer(kind) {
    const renderer = await createRenderer(kind, { wasm: this.#wasm });
    if (this.destroyed) { renderer.destroy(); return; }
    renderer.setBackground(this.#background);
    this.#renderer?.destroy();
    this.#renderer = renderer;
    if (kind === 'auto' && renderer.kind === 'webgl2') {
      const cpu = createCpuRenderer({ wasm: this.#wasm });
      cpu.setBackground(this.#background);
      this.#trial = new RendererTrial(renderer, cpu);
    }
  }

  /** Ends the trial keeping `keep` (the other renderer is freed). */
  #endTrial(keep) {
    for (const r of this.#trial.renderers) if (r !== keep) r.destroy();
    this.#trial = null;
    this.#renderer = keep;
  }

  /**
   * The canvas the current renderer draws on: what the caller turns into an output frame
   * right after process() returned true. Each renderer owns its canvas (a WebGL canvas cannot
   * become a 2D one when the CPU takes over after a context loss).
   */
  get canvas() { return this.#renderer?.canvas ?? null; }

  /** Changes the effect (already validated by options.js); never recreates anything. */
  setBackground(setting) {
    const previous = this.#background;
    this.#background = setting;
    if (setting.mode === 'none') this.#mask = null; // a stale mask must not be reused later
    for (const r of this.#trial?.renderers ?? [this.#renderer]) r?.setBackground(setting);
    // Ours (options.js toSetting made it); the renderer no longer uses it.
    if (previous.mode === 'image' && previous.image !== setting.image) previous.image.close?.();
  }

  /**
   * Processes one frame of `width x height`. Resolves to true when the processed frame is on
   * `canvas`, false when the caller should send the source itself unchanged (mode none, no
   * renderer at the moment, or an error in this frame).
   * @param {import('./renderer.js').FrameSource} source
   * @param {number} timestampMs the frame's capture time, for the cadence budget
   */
  async process(source, width, height, timestampMs) {
    const start = now();
    this.#counts.frames++;
    if (this.#lastTimestamp !== null) {
      const dt = timestampMs - this.#lastTimestamp;
      if (dt > 0 && dt < 1000) this.#interval += EMA * (dt - this.#interval);
    }
    this.#lastTimestamp = timestampMs;
    this.#checkRenderer();
    let drawn = false;
    if (this.#background.mode !== 'none' && this.#renderer) {
      try {
        if (this.#checkWasm()) drawn = await this.#effect(source, width, height);
      } catch (error) {
        this.#counts.errors++;
        this.#lastError = String(error?.message ?? error);
        if (isTrap(error)) this.#trapped(error);
        else if (this.#counts.errors === 1) console.error(`visio-media-effects: background effect failed, frames pass through: ${this.#lastError}`);
      }
    }
    if (drawn) this.#counts.rendered++;
    else this.#counts.passthrough++;
    const t = now();
    this.#times.frameMs += EMA * (t - start - this.#times.frameMs);
    this.#outTimes.push(t);
    while (this.#outTimes.length && this.#outTimes[0] < t - 1000) this.#outTimes.shift();
    return drawn;
  }

  /**
   * A call into the wasm trapped (wasm-trap.js): its instance is unusable and is replaced now
   * (nothing calls into it again, not even destroy()); this frame passes through and the
   * segmenter and renderer are made again in the new one (#checkWasm). A panic is already on
   * the console with its message and location (src/wasm/mod.rs); any other trap is told here.
   * An error from an object of an instance another pipeline of this thread has replaced only
   * needs our objects made again.
   */
  #trapped(error) {
    if (this.#generation !== this.#wasm.generation) return;
    if (!isPanic(error)) console.error(`visio-media-effects: the video wasm trapped (${this.#lastError}); restarting it, frames pass through meanwhile`);
    const r = this.#restart;
    const t = now();
    try {
      this.#wasm.restart();
    } catch (failure) { // cannot happen unless the engine refuses a new instance: effect off
      console.error(`visio-media-effects: the video wasm could not be restarted, frames pass through: ${failure?.message ?? failure}`);
      r.at = Infinity;
      this.#generation = -1; // #checkWasm: never again
      return;
    }
    r.count++;
    // The first trap in a while is recovered from at once, repeated ones after a backoff.
    r.backoff = t - r.at > RESTART_BACKOFF_MAX_MS ? 0 : Math.min(RESTART_BACKOFF_MAX_MS, Math.max(RESTART_BACKOFF_MS, 2 * r.backoff));
    r.at = t + r.backoff;
  }

  /**
   * Makes this pipeline's wasm objects again when the instance is not the one they belong to
   * (after a trap, once its backoff allows); false while the effect must wait (frames pass
   * through).
   */
  #checkWasm() {
    if (this.#generation === this.#wasm.generation) return true;
    if (now() < this.#restart.at) return false;
    // The old objects are dropped, not freed (their addresses mean nothing in the new heap);
    // the CPU renderer makes its compositor again by itself.
    this.#generation = this.#wasm.generation;
    this.#segmenter = new FrameSegmenter(this.#wasm, this.#model);
    this.#input = new FrameInput(this.#wasm);
    this.#mask = null;
    this.#sinceMask = 0;
    return true;
  }

  async #effect(source, width, height) {
    const seg = this.#segmenter;
    const input = this.#input;
    const t0 = now();
    // The one copy of the frame (the CPU renderer reads it at full size; WebGL2 uploads its
    // planes, or draws the source itself when the copy is only the segmenter's read-back).
    const trial = this.#trial;
    if (trial) this.#renderer = trial.next(); // its canvas is the one the caller sends
    await input.load(source, width, height, { full: !!trial || this.#renderer.kind === 'cpu', fit: seg.size });
    if (this.destroyed) return false;
    const tc = now();
    this.#times.copyMs += EMA * (tc - t0 - this.#times.copyMs);
    this.#window.copy += tc - t0;
    let segmentMs = 0;
    if (!this.#mask || this.#sinceMask + 1 >= this.#cadence) {
      const { mask, width: mw, height: mh } = seg.segment(input);
      if (this.#mask?.length !== mask.length) this.#mask = new Float32Array(mask.length);
      this.#mask.set(mask);
      this.#maskSize = [mw, mh];
      segmentMs = now() - tc;
      this.#times.segmentMs += EMA * (segmentMs - this.#times.segmentMs);
      this.#counts.segmented++;
      this.#sinceMask = 0;
      this.#window.segment += segmentMs;
      this.#window.segments++;
    } else {
      this.#sinceMask++;
    }
    const t1 = now();
    const [mw, mh] = this.#maskSize;
    this.#renderer.render(input, this.#mask, mw, mh, width, height);
    if (trial && this.#trial === trial) {
      this.#renderer.finish?.(); // the GPU's share of the frame, for a fair comparison
      if (this.#renderer.lost) { // the CPU one is kept, and draws this frame
        this.#counts.contextLosses++;
        this.#endTrial(trial.renderers[1]);
        this.#renderer.render(input, this.#mask, mw, mh, width, height);
      } else if (trial.record(now() - t1)) {
        this.#trialResult = trial.result();
        const { webgl2Ms, cpuMs } = this.#trialResult;
        this.#endTrial(trial.renderers[webgl2Ms < cpuMs ? 0 : 1]);
      }
    }
    if (this.#renderer.lost) { // lost during this frame: nothing was drawn, the CPU draws it
      this.#replaceLost();
      this.#renderer.render(input, this.#mask, mw, mh, width, height);
    }
    const renderMs = now() - t1;
    this.#times.renderMs += EMA * (renderMs - this.#times.renderMs);
    this.#window.render += renderMs;
    if (++this.#window.frames >= CADENCE_WINDOW) this.#adaptCadence();
    return true;
  }

  /**
   * Segments every frame while segmentation plus rendering fit in the frame interval, else
   * every other frame (the temporal smoothing carries the mask between). Hysteresis keeps it
   * from flapping: back to every frame only with a clear margin.
   */
  #adaptCadence() {
    const w = this.#window;
    const segment = w.segments ? w.segment / w.segments : 0;
    // Rendering includes the caller's output step, where a GPU renderer's work is waited for.
    const render = (w.copy + w.render + w.output) / w.frames; // the copy is paid every frame
    const budget = this.#interval;
    if (this.#cadence === 1 && segment + render > 0.85 * budget) this.#cadence = Math.min(MAX_CADENCE, 2);
    else if (this.#cadence > 1 && segment + render < 0.6 * budget) this.#cadence = 1;
    this.#window = { frames: 0, copy: 0, segment: 0, render: 0, output: 0, segments: 0 };
  }

  /**
   * Replaces a lost WebGL renderer with the CPU one, synchronously (the frame at hand is
   * rendered by it, so a context loss never lets an unprocessed frame through), and schedules
   * a WebGL2 attempt.
   */
  #replaceLost() {
    this.#counts.contextLosses++;
    this.#renderer.destroy();
    const cpu = createCpuRenderer({ wasm: this.#wasm });
    cpu.setBackground(this.#background);
    this.#renderer = cpu;
    this.#retryAt = now() + WEBGL_RETRY_MS;
  }

  /** Replaces a lost renderer; back to WebGL2 a while after a loss, in the background. */
  #checkRenderer() {
    const r = this.#renderer;
    if (r?.lost) this.#replaceLost();
    else if (r?.kind === 'cpu' && this.#rendererKind !== 'cpu' && now() >= this.#retryAt && !this.#pendingRenderer) {
      this.#retryAt = Infinity;
      this.#pendingRenderer = createRenderer(this.#rendererKind, { wasm: this.#wasm })
        .then((renderer) => {
          if (this.destroyed || renderer.kind === 'cpu') { renderer.destroy(); return; }
          renderer.setBackground(this.#background);
          this.#renderer?.destroy();
          this.#renderer = renderer; // its temporal state starts afresh, like after a reset
        })
        .catch(() => { this.#retryAt = now() + WEBGL_RETRY_MS; }) // still no WebGL2: later
        .finally(() => { this.#pendingRenderer = null; });
    }
  }

  /**
   * Records how long the caller took to turn `canvas` into its output (a VideoFrame, or a
   * drawImage on the captured canvas): with a GPU renderer that is where the GPU work is
   * waited for, so it belongs in the per-stage timings.
   */
  outputDone(ms) {
    this.#times.outputMs += EMA * (ms - this.#times.outputMs);
    this.#window.output += ms;
    this.#times.frameMs += EMA * ms;
  }

  /** Forgets the temporal state (a new camera, a new scene). */
  resetTemporal() {
    this.#mask = null;
    for (const r of this.#trial?.renderers ?? [this.#renderer]) r?.resetTemporal();
  }

  stats() {
    const round = (x) => Math.round(x * 100) / 100;
    return {
      path: this.#path,
      renderer: this.#trial ? 'trial' : this.#renderer?.kind ?? null,
      rendererTrial: this.#trialResult,
      fps: this.#outTimes.length > 1 ? round((this.#outTimes.length - 1) * 1000 / (this.#outTimes.at(-1) - this.#outTimes[0])) : 0,
      segmentEvery: this.#cadence,
      copyMs: round(this.#times.copyMs),
      segmentMs: round(this.#times.segmentMs),
      renderMs: round(this.#times.renderMs),
      outputMs: round(this.#times.outputMs),
      frameMs: round(this.#times.frameMs),
      frames: this.#counts.frames,
      rendered: this.#counts.rendered,
      passthrough: this.#counts.passthrough,
      segmented: this.#counts.segmented,
      contextLosses: this.#counts.contextLosses,
      wasmRestarts: this.#restart.count,
      errors: this.#counts.errors,
      lastError: this.#lastError,
      wasmMemoryBytes: this.#wasm.memory.buffer.byteLength,
    };
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.#trial) this.#endTrial(this.#renderer);
    this.#renderer?.destroy();
    this.#renderer = null;
    this.#segmenter.destroy();
    this.#input.destroy();
    if (this.#background.mode === 'image') this.#background.image.close?.();
  }
}
