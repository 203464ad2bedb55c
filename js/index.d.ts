// Type declarations of visio-media-effects' public API.
//
// livekit-client is not a dependency: the few livekit shapes used here are declared
// structurally below. NoiseSuppressionProcessor is assignable to livekit-client 2.x's
// `TrackProcessor<Track.Kind.Audio>` (with or without `AudioProcessorOptions`),
// BackgroundProcessor to `TrackProcessor<Track.Kind>` and `<Track.Kind.Video>`; checked with
// tsc --strict against livekit-client 2.21 and 2.23 by tests/types/visio.ts.

// ---------------------------------------------------------------------------------------------
// Noise suppression
//
// RNNoise (the `nnnoiseless` crate) compiled to WebAssembly, run in an AudioWorklet on the
// page's own origin: no network request beyond the package's own two files (the .wasm and
// the worklet script), no telemetry.
//
// Failure semantics:
// - Anything that can be known before audio flows throws or rejects and creates nothing:
//   invalid options (TypeError / RangeError naming the option), a sample rate outside
//   8000..96000 Hz (RangeError naming the rate), a non-audio or ended track, a context
//   without AudioWorklet (insecure page), a wasm URL or worklet URL that cannot be fetched or
//   compiled (Error: "visio-media-effects: could not load wasm from <url>: status 404").
// - Anything that goes wrong inside the audio worklet (a module that is not this package's
//   wasm, instantiation failure, a trap while processing) never silences the microphone: the
//   node passes its input through unchanged (and without delay), `active` becomes false,
//   `error` holds the reason and an `error` event (NoiseSuppressionErrorEvent) is dispatched.
//   When this happens during creation, the promise still resolves (check `node.active`) and
//   the event is dispatched in a later task, so a listener added right after `await` sees it.

/** Options of a suppressor that can change while it runs (`setOptions` / `update`). */
export interface NoiseSuppressionSettings {
  /** false bypasses suppression (10 ms crossfade; the latency stays the same). Default true. */
  enabled?: boolean;
  /**
   * Caps the noise reduction, in dB: 0 lets everything through, 20 removes at most 20 dB of
   * noise (a gentler effect), null (default) or Infinity: no cap.
   */
  attenuationLimitDb?: number | null;
  /**
   * One knob, 0-100, for the denoiser's strength and the voice chain's amounts, like la-call's
   * `intensity` (Visio sets 90). Sets the attenuation limit to 0.6 dB per step (none at 100)
   * unless `attenuationLimitDb` is given too, the leveler's max gain to 0.3 dB and max cut to
   * 0.2 dB per step, the compressor's ratio to 1 + 0.03 per step. Default 100. It does not
   * turn stages on: that is `voice`.
   */
  intensity?: number;
  /**
   * The voice chain after the denoiser: `true` (every stage on), `false` (all off, the
   * default) or the stages to change, each `true`, `false` or its parameters (which turn it
   * on; absent parameters come from `intensity`). Stages not named keep their state.
   */
  voice?: boolean | VoiceChainOptions;
  /**
   * The denoiser: 'rnnoise' (default, built into the wasm) or 'deepfilternet3' (stronger,
   * 1888 instead of 928 samples of latency at 48 kHz, ~4.3 MB of weights fetched once per page
   * from `modelUrl` only when chosen). Changed live, the old model keeps sounding until the
   * new one has warmed up, then a 10 ms crossfade; `latency` and `model` change then
   * ('modelchange' event). A weight file that cannot be fetched or read: pass-through + error.
   */
  model?: NoiseSuppressionModel;
  /** Where DeepFilterNet3's weights are served; default the package's own
   * `models/deepfilternet3.dfw` (`new URL('./models/deepfilternet3.dfw', import.meta.url)`). */
  modelUrl?: URL | string;
}

export type NoiseSuppressionModel = 'rnnoise' | 'deepfilternet3';

/** The voice chain's stages; see README "Voice chain". */
export interface VoiceChainOptions {
  /** 6th-order high-pass against rumble and hum: 40 dB down below frequency / 1.42. */
  highPass?: boolean | HighPassOptions;
  /** Slow gain towards a target speech level, moved only while RNNoise hears voice. */
  leveler?: boolean | LevelerOptions;
  /** Soft-knee compressor on the loudest channel. */
  compressor?: boolean | CompressorOptions;
  /**
   * Keeps every output sample at or below `ceilingDb`, after everything else. On at creation,
   * it adds 1.5 ms of look-ahead to the latency; turned on later, it limits without
   * look-ahead (the latency never changes while a node runs).
   */
  limiter?: boolean | LimiterOptions;
}

export interface HighPassOptions {
  /** -3 dB corner in Hz, 20-300. Default 80. */
  frequency?: number;
}

export interface LevelerOptions {
  /** Speech level to reach, dBFS (power average over voiced 10 ms frames), -40 to -6. Default -20. */
  targetDb?: number;
  /** Largest gain, dB, 0-40. Default 0.3 x intensity (27 at 90). */
  maxGainDb?: number;
  /** Largest cut, dB, 0-40. Default 0.2 x intensity (18 at 90). */
  maxCutDb?: number;
}

export interface CompressorOptions {
  /** dBFS, -60 to 0. Default -12. */
  thresholdDb?: number;
  /** 1-20. Default 1 + 0.03 x intensity (3.7 at 90). */
  ratio?: number;
  /** ms, 0.1-200. Default 5. */
  attackMs?: number;
  /** ms, 10-2000. Default 120. */
  releaseMs?: number;
}

export interface LimiterOptions {
  /** dBFS, -20 to -1. Default -1. */
  ceilingDb?: number;
  /** ms, 10-1000. Default 60. */
  releaseMs?: number;
}

/** The voice chain as it runs: each stage false, true, or the parameters given explicitly. */
export interface VoiceChainState {
  highPass: boolean | HighPassOptions;
  leveler: boolean | LevelerOptions;
  compressor: boolean | CompressorOptions;
  limiter: boolean | LimiterOptions;
}

/** Options of createNoiseSuppressorNode(). */
export interface NoiseSuppressorOptions extends NoiseSuppressionSettings {
  /** How often `vad` events are dispatched, in ms (rounded to render quanta). Default 50. */
  vadIntervalMs?: number;
  /**
   * The wasm to use: a URL (string resolved against the document like fetch() does), or an
   * already compiled WebAssembly.Module. Default: `visio_media_effects_bg.wasm` next to this
   * module (`new URL(..., import.meta.url)`, which bundlers such as Vite and webpack follow).
   */
  wasm?: URL | string | WebAssembly.Module;
  /** URL of `noise-suppressor.worklet.js`, if the bundler moved it. Default: next to this module. */
  workletUrl?: URL | string;
}

/** Dispatched every `vadIntervalMs` while audio is processed. */
export declare class VadEvent extends Event {
  readonly type: 'vad';
  /** Highest voice probability (0..1) among the 10 ms frames since the previous event. */
  readonly probability: number;
  /** The audio context's currentTime when the worklet reported, in seconds. */
  readonly time: number;
  /**
   * Average time the worklet spent processing 10 ms of audio, in ms, over the last whole
   * second (undefined during the first second). Timed with `performance.now()` where the
   * worklet scope has it (Firefox), else with `Temporal.Now` (Chromium: 0.1 ms steps), else
   * averaged from `Date.now()` ticks.
   */
  readonly cpuMsPer10ms: number | undefined;
  /**
   * The longest single `process()` call since the previous event, in ms (same clock as
   * `cpuMsPer10ms`, so in 0.1 ms steps in Chromium and 1 ms steps with `Date.now()`). A render
   * quantum lasts 128 / sampleRate (2.67 ms at 48 kHz): the whole audio graph must fit in it.
   */
  readonly maxProcessMs: number;
}

/** Dispatched when noise suppression stops working and the audio passes through unchanged. */
export declare class NoiseSuppressionErrorEvent extends Event {
  readonly type: 'error';
  readonly error: Error;
  readonly message: string;
}

export interface NoiseSuppressorEventMap extends AudioWorkletNodeEventMap {
  vad: VadEvent;
  error: NoiseSuppressionErrorEvent;
  /** A live model switch has crossfaded: `model` and `latency` hold the new values. */
  modelchange: Event;
}

/** What the worklet reports once it freed the suppressor (see destroy()). */
export interface DestroyReport {
  /** Suppressors still alive in this audio context's wasm instance. */
  live: number;
  /** Size of that instance's wasm memory, in bytes. */
  memoryBytes: number;
}

/**
 * An AudioWorkletNode that denoises up to 2 channels (more are downmixed to stereo; a mono
 * input gives a mono output). Its output is its input denoised and delayed by `latency`.
 */
export interface NoiseSuppressorNode extends AudioWorkletNode {
  /** 'starting' until the worklet reports, then 'running', 'failed' or 'destroyed'. */
  readonly status: 'starting' | 'running' | 'failed' | 'destroyed';
  /** True while the audio really is being denoised. */
  readonly active: boolean;
  /** Why suppression is not running (status 'failed'), else null. */
  readonly error: Error | null;
  /** Resolves true once the worklet runs, false if it failed or was destroyed first. */
  readonly ready: Promise<boolean>;
  /** Added delay in seconds (928 / 48000 at 48 kHz, 1000 / 48000 with the limiter on at creation); 0 when failed. */
  readonly latency: number;
  /** Added delay in samples at the context's rate. */
  readonly latencySamples: number;
  /** Voice probability of the last `vad` event (0 before the first). */
  readonly vad: number;
  /** cpuMsPer10ms of the last `vad` event (undefined during the first second). */
  readonly cpuMsPer10ms: number | undefined;
  /** The longest single `process()` call since the node started, in ms (see VadEvent). */
  readonly maxProcessMs: number;
  readonly enabled: boolean;
  /** The limit set explicitly (undefined when `intensity` sets it). */
  readonly attenuationLimitDb: number | null | undefined;
  readonly intensity: number;
  readonly voice: VoiceChainState;
  /** The model producing the output (the previous one until a live switch has crossfaded). */
  readonly model: NoiseSuppressionModel;
  /** The worklet's wasm memory in bytes (at start-up and after each model switch). */
  readonly memoryBytes: number;
  /**
   * Changes the settings live (validated; throws TypeError/RangeError on bad values). The
   * promise resolves once a new model's weights are fetched and posted to the worklet.
   */
  setOptions(settings: NoiseSuppressionSettings): Promise<void>;
  /**
   * Frees the suppressor in the worklet and disconnects the node's outputs (the caller owns,
   * and disconnects, what feeds it). Idempotent. Resolves with the worklet's report, or null
   * if it did not answer within 2 s (e.g. the context was closed, which frees everything).
   * Call it: a node that is only dropped keeps its suppressor until the context closes.
   */
  destroy(): Promise<DestroyReport | null>;
  addEventListener<K extends keyof NoiseSuppressorEventMap>(type: K, listener: (this: NoiseSuppressorNode, ev: NoiseSuppressorEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof NoiseSuppressorEventMap>(type: K, listener: (this: NoiseSuppressorNode, ev: NoiseSuppressorEventMap[K]) => any, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

/**
 * Creates a noise suppressor node in `context` (AudioContext or OfflineAudioContext at
 * 8000..96000 Hz). Loads the worklet module once per context and compiles the wasm once per
 * page. Resolves once the worklet reported (or after 3 s at most, with status 'starting', for
 * engines that construct processors only when a suspended context starts).
 *
 * @example
 * const node = await createNoiseSuppressorNode(ctx);
 * source.connect(node).connect(ctx.destination);
 * node.addEventListener('vad', (e) => meter.value = e.probability);
 * if (!node.active) console.warn(node.error);
 */
export function createNoiseSuppressorNode(context: BaseAudioContext, options?: NoiseSuppressorOptions): Promise<NoiseSuppressorNode>;

/** Options of suppressNoise(). */
export interface SuppressNoiseOptions extends NoiseSuppressorOptions {
  /**
   * Rate of the AudioContext suppressNoise creates. Default: the track's
   * `getSettings().sampleRate` when present, else the engine's default rate. (Firefox cannot
   * connect a track to a context of another rate; if the guessed rate is refused the default
   * rate is used instead. An explicit rate is never overridden.)
   */
  sampleRate?: number;
  /** Use this (realtime) AudioContext instead of creating one; destroy() leaves it open. */
  audioContext?: AudioContext;
}

/** The result of suppressNoise(). */
export interface NoiseSuppression {
  /** The denoised track (mono for a mono microphone). Send or play this one. */
  readonly track: MediaStreamTrack;
  readonly node: NoiseSuppressorNode;
  readonly context: AudioContext;
  /** Voice probability of the last report (0..1). */
  readonly vad: number;
  /** Changes the settings live (see NoiseSuppressorNode.setOptions). */
  update(settings: NoiseSuppressionSettings): Promise<void>;
  /**
   * Stops the denoised track, disconnects the graph, frees the suppressor and closes the
   * context if suppressNoise created it. Idempotent. Does not stop the input track.
   */
  destroy(): Promise<DestroyReport | null>;
}

/**
 * Denoises an audio MediaStreamTrack (typically a getUserMedia microphone; ask for
 * `noiseSuppression: false` to avoid double processing): source -> suppressor -> a new track.
 * Throws TypeError for a non-audio track and Error for an ended one. Call it after a user
 * gesture (or getUserMedia), or resume `context` later: a context created without one may
 * start suspended, and then the output is silent until it runs.
 *
 * @example
 * const mic = (await navigator.mediaDevices.getUserMedia({ audio: { noiseSuppression: false } })).getAudioTracks()[0];
 * const ns = await suppressNoise(mic);
 * peerConnection.addTrack(ns.track);
 * ns.update({ attenuationLimitDb: 30 });
 * await ns.destroy();
 */
export function suppressNoise(track: MediaStreamTrack, options?: SuppressNoiseOptions): Promise<NoiseSuppression>;

// ---------------------------------------------------------------------------------------------
// livekit-client integration

/**
 * What livekit-client 2.x passes to a processor's init()/restart() (its
 * `ProcessorOptions<Track.Kind>`), declared structurally so that livekit-client is not a
 * dependency: a `TrackProcessor<Track.Kind>`, `<Track.Kind.Audio>` or `<Track.Kind.Video>`
 * can be given our processors. `kind` holds livekit's `Track.Kind` values.
 */
export interface LivekitProcessorOptions {
  kind: 'audio' | 'video' | 'unknown';
  track: MediaStreamTrack;
  element?: HTMLMediaElement;
  /** livekit's context (its `AudioProcessorOptions` always has one; `ProcessorOptions` may not). */
  audioContext?: AudioContext;
  localTrack?: unknown;
}

/**
 * The options of NoiseSuppressionProcessor.init(): livekit's `ProcessorOptions<Track.Kind.Audio>`
 * (so the types refuse it on a video track).
 */
export interface LivekitAudioProcessorOptions extends LivekitProcessorOptions {
  kind: 'audio';
}

/** Options of NoiseSuppressionProcessor. */
export interface NoiseSuppressionProcessorOptions extends NoiseSuppressorOptions {
  /** Called with every VadEvent (also dispatched on the processor as 'vad'). */
  onVad?: (event: VadEvent) => void;
  /** Called when suppression fails and the audio passes through (also an 'error' event). */
  onError?: (error: Error) => void;
}

export interface NoiseSuppressionProcessorEventMap {
  vad: VadEvent;
  error: NoiseSuppressionErrorEvent;
}

/**
 * Noise suppression as a livekit-client 2.x audio `TrackProcessor` (assignable to
 * `TrackProcessor<Track.Kind.Audio>`, with or without livekit's `AudioProcessorOptions`).
 *
 * The processor builds its graph in the `audioContext` livekit passes: MediaStreamSource ->
 * suppressor -> MediaStreamDestination, whose track livekit publishes instead of the
 * microphone's. When livekit moves the track to another context it calls restart(), which
 * rebuilds the graph there. (livekit itself only runs audio processors on a track that has a
 * context: a Room gives its context to the tracks it publishes; outside a Room, call
 * `localAudioTrack.setAudioContext(new AudioContext())` before `setProcessor()`.) Called
 * without a context, init() creates its own at the track's sample rate and destroy() closes it.
 *
 * Settings (`update`) are kept across restarts and re-inits. One instance can be set again
 * after stopProcessor().
 *
 * @example
 * const processor = new NoiseSuppressionProcessor({ onVad: (e) => speaking(e.probability > 0.6) });
 * await localAudioTrack.setProcessor(processor);
 * processor.update({ enabled: false });   // bypass without tearing down
 * await localAudioTrack.stopProcessor();
 */
export declare class NoiseSuppressionProcessor extends EventTarget {
  constructor(options?: NoiseSuppressionProcessorOptions);
  readonly name: 'visio-noise-suppression';
  /** The denoised track; undefined before init() and after destroy(). */
  processedTrack: MediaStreamTrack | undefined;
  /**
   * Builds the graph in `audioContext`, or in a context of its own at the track's rate when
   * none is given (closed by destroy()). Throws TypeError for a non-audio track.
   */
  init(options: LivekitAudioProcessorOptions): Promise<void>;
  /** destroy() then init(). */
  restart(options: LivekitAudioProcessorOptions): Promise<void>;
  /**
   * Stops processedTrack, disconnects every node it created, frees the suppressor and closes
   * the context init() created (never livekit's).
   */
  destroy(): Promise<void>;
  /** Changes `enabled`, `attenuationLimitDb`, `intensity`, `voice`, `model` live; kept for later inits. */
  update(settings: NoiseSuppressionSettings): Promise<void>;
  /** Same as update(). */
  setOptions(settings: NoiseSuppressionSettings): Promise<void>;
  /** The current suppressor node (undefined when not initialised). */
  readonly node: NoiseSuppressorNode | undefined;
  /** Voice probability of the last report (0 when not running). */
  readonly vad: number;
  /** True while the audio is really being denoised. */
  readonly active: boolean;
  /** Added delay in seconds (0 when not running). */
  readonly latency: number;
  readonly enabled: boolean;
  readonly attenuationLimitDb: number | null | undefined;
  readonly intensity: number;
  readonly voice: VoiceChainState;
  readonly model: NoiseSuppressionModel;
  addEventListener<K extends keyof NoiseSuppressionProcessorEventMap>(type: K, listener: (this: NoiseSuppressionProcessor, ev: NoiseSuppressionProcessorEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof NoiseSuppressionProcessorEventMap>(type: K, listener: (this: NoiseSuppressionProcessor, ev: NoiseSuppressionProcessorEventMap[K]) => any, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

// ---------------------------------------------------------------------------------------------
// WebAssembly loading

/**
 * Fetches and compiles the package's wasm (or `source`) once per page; a failed load is not
 * cached. Useful to start the download early, or to share one module between contexts:
 * `createNoiseSuppressorNode(ctx, { wasm: await loadWasmModule() })`. Uses
 * compileStreaming when the server sends application/wasm, compile() otherwise.
 */
export function loadWasmModule(source?: URL | string | WebAssembly.Module): Promise<WebAssembly.Module>;

// ---------------------------------------------------------------------------------------------
// Camera background effects
//
// Person segmentation (MediaPipe's selfie-segmentation landscape model, shipped in this package
// under models/ and run by our own wasm SIMD inference) followed by a renderer: WebGL2 where
// the GPU is hardware-accelerated, else the wasm SIMD CPU renderer (same passes, same picture).
// Per frame: the frame is scaled to the model's 256x144 input and segmented (every frame while
// that fits the frame interval, else every other frame), the mask is smoothed over time,
// upsampled along the frame's own edges (guided filter), the background is blurred with
// weights (1 - mask) so the person never bleeds into it (no halo), and the two are composited
// with a soft edge; in image mode the image is cover-fitted and a little of it wraps onto the
// person's edge (light wrap).
//
// Frame path, chosen by feature detection: a dedicated worker reading the camera with
// MediaStreamTrackProcessor and writing a track generator (Chromium: the processor and the
// generator live on the page, which hands each VideoFrame to the worker and back, transferred,
// never copied; Safari 18+ / Firefox with
// VideoTrackGenerator in workers: a clone of the track is transferred); else a hidden <video>
// + requestVideoFrameCallback + canvas.captureStream() on the page, with each frame processed
// in the worker as an ImageBitmap (or on the main thread where there is no worker). Every
// VideoFrame is closed exactly once, timestamps are kept (worker path), the output has the
// input's size. The model and the wasm load from this package's own files (same origin); no
// other request is made.
//
// Failure semantics: bad options throw TypeError / RangeError naming the option (update()
// rejects with them, and the running effect goes on unchanged); a non-video or ended track, a model or wasm that cannot be
// loaded, a browser without WebAssembly SIMD, reject before any track is created. A frame that
// fails to process is sent unprocessed (stats().errors counts them), never black. A lost WebGL
// context switches to the CPU renderer until WebGL can be had again. A trap in the wasm (a
// Rust panic: its message and location are logged and kept in stats().lastError) restarts the
// wasm instance and the effect resumes on the next frames; the frame that trapped is sent
// unprocessed.

/** Anything a background image can be given as (a string is a URL, resolved against the document). */
export type BackgroundImageSource = string | URL | Blob | ImageBitmap | ImageData | HTMLImageElement
  | HTMLCanvasElement | OffscreenCanvas | VideoFrame;

/** The effect. Every key is optional in update(); the others keep their value. */
export interface BackgroundEffectSettings {
  /**
   * Default 'blur' ('image' when an image is given). @livekit/track-processors' names are
   * accepted too: 'background-blur', 'virtual-background', 'disabled'.
   */
  mode?: 'blur' | 'image' | 'none' | 'background-blur' | 'virtual-background' | 'disabled';
  /**
   * Blur strength: the standard deviation in pixels of a 720p frame (scaled with the frame's
   * short side), in (0, 100]. Default 10. (Visio's 10 "light" and 20 "normal", tuned on
   * @livekit/track-processors, look like 5.9 and 13.1 here: docs/visio.md.)
   */
  blurRadius?: number;
  /** The virtual background (mode 'image'); scaled down to 1920 px on its long side if larger. */
  image?: BackgroundImageSource;
}

/**
 * Visio's configuration shape (`type` / `imagePath`), accepted wherever
 * BackgroundEffectSettings are. `type: 'none'` passes frames through.
 */
export type VisioBackgroundConfig =
  | { type: 'blur'; blurRadius?: number }
  | { type: 'virtual'; imagePath: string | URL }
  | { type: 'none' };

/** A change of effect: ours, Visio's `type` / `imagePath` instead of `mode` / `image`, or both. */
export interface BackgroundEffectChange extends BackgroundEffectSettings {
  type?: 'blur' | 'virtual' | 'none';
  imagePath?: string | URL;
}

/**
 * Another application's effect (Visio's `{ type: 'faceLandmarks', ... }`): accepted by the
 * types of update() so that an app's whole config union can be passed, and rejected at run
 * time with a TypeError naming the type, the current effect running on unchanged.
 */
export interface OtherEffectConfig {
  type: string;
  mode?: never;
  blurRadius?: never;
  image?: never;
  imagePath?: never;
}

/** Options of blurBackground() and BackgroundProcessor. */
export interface BackgroundOptions extends BackgroundEffectChange {
  /**
   * 'auto' (default): the faster of WebGL2 and CPU (wasm SIMD), measured on the first frames
   * (a GPU named as a software rasteriser goes to the CPU without a trial). 'webgl2' forces
   * WebGL2 (also a software rasteriser; rejects when there is no WebGL2); 'cpu' forces the CPU.
   */
  renderer?: 'auto' | 'webgl2' | 'cpu';
  /** The segmentation model; default `models/selfie_segmentation_landscape.tflite` next to this module. */
  modelUrl?: string | URL;
  /** The package's wasm, as for loadWasmModule(). */
  wasm?: URL | string | WebAssembly.Module;
}

/** A snapshot of the running effect (refreshed twice a second on the worker path). */
export interface BackgroundStats {
  /**
   * How frames travel: 'worker' (a transferred track, mediacapture-transform in the worker),
   * 'worker-streams' (Chromium: processor and generator on the page, each VideoFrame transferred
   * to the worker and back),
   * 'worker-frames' (no mediacapture-transform: <video> + captureStream on the page, each frame
   * processed in the worker as an ImageBitmap), 'main-thread' (no usable worker either).
   */
  path: 'worker' | 'worker-streams' | 'worker-frames' | 'main-thread';
  /**
   * The renderer in use (null while being replaced after a context loss, or after destroy;
   * 'trial' while 'auto' times both on the first frames).
   */
  renderer: 'webgl2' | 'cpu' | 'trial' | null;
  /** 'auto': the median ms per frame each renderer took in the trial, once it is over (else null). */
  rendererTrial: { webgl2Ms: number; cpuMs: number } | null;
  /** Frames output per second over the last second. */
  fps: number;
  /** 1: the segmenter runs on every frame; 2: on every other frame (it did not fit). */
  segmentEvery: number;
  /**
   * Moving averages, in ms: the frame's copy into wasm memory (its own pixel format; a canvas
   * read-back where it has none), segmentation (fit to the model + model), rendering, turning
   * the result into a frame, the whole frame.
   */
  copyMs: number;
  segmentMs: number;
  renderMs: number;
  outputMs: number;
  frameMs: number;
  frames: number;
  rendered: number;
  /** Frames sent unprocessed (mode 'none', renderer being replaced, or a failed frame). */
  passthrough: number;
  segmented: number;
  contextLosses: number;
  /** Times the wasm instance was replaced after a trap (each also counted in `errors`). */
  wasmRestarts: number;
  errors: number;
  lastError: string | null;
  /** Size of the wasm memory of the processing thread. */
  wasmMemoryBytes: number;
  /** VideoFrames the pipeline holds now (0 after destroy()); the main-thread path holds none. */
  framesAlive: number;
  /** Worker path: most VideoFrames held at once; frames read or created, closed by us, handed to the generator. */
  framesAlivePeak?: number;
  framesOpened?: number;
  framesClosed?: number;
  framesHandedOver?: number;
  /**
   * Stream paths: times a read of the camera's stream waited 5 s or more while the effect ran
   * (a muted camera, or the browser withholding its frames; the first is logged once).
   */
  inputStalls?: number;
}

/** The result of blurBackground(). */
export interface BackgroundEffect {
  /** The processed track (same size as the input). Send or show this one. */
  readonly track: MediaStreamTrack;
  /**
   * Changes the effect live, without a new track (ours or Visio's shape). Rejects on bad
   * options or an unknown effect type, leaving the effect as it was; resolves once the change
   * is in place (an image must load first; the latest update wins).
   */
  update(settings: BackgroundEffectChange | VisioBackgroundConfig | OtherEffectConfig): Promise<void>;
  stats(): BackgroundStats;
  /** Stops the processed track and frees everything; idempotent. Never stops the input track. */
  destroy(): Promise<void>;
}

/**
 * Blurs or replaces the background of a camera track.
 *
 * @example
 * const camera = (await navigator.mediaDevices.getUserMedia({ video: true })).getVideoTracks()[0];
 * const fx = await blurBackground(camera, { blurRadius: 20 });
 * video.srcObject = new MediaStream([fx.track]);
 * await fx.update({ mode: 'image', image: '/backgrounds/office.jpg' });
 * console.log(fx.stats().fps);
 * await fx.destroy();
 */
export function blurBackground(track: MediaStreamTrack, options?: BackgroundOptions): Promise<BackgroundEffect>;

/** The options of BackgroundProcessor.init() (livekit's video `ProcessorOptions`). */
export type LivekitVideoProcessorOptions = LivekitProcessorOptions;

/** The current effect, in our vocabulary. */
export interface BackgroundEffectFields {
  mode: 'blur' | 'image' | 'none';
  blurRadius: number;
  image: BackgroundImageSource | undefined;
}

/**
 * BackgroundProcessor's `options`: the configuration last given (of the app's own type
 * `Config`) and the current effect in both vocabularies. `type` is Visio's name of the effect:
 * 'virtual' for an image, else 'blur' (also in mode 'none', which Visio does not have).
 * (The app's `type` is kept as the app typed it, e.g. a TypeScript enum member.)
 */
export type BackgroundProcessorOptions<Config> = Config & BackgroundEffectFields
  & (Config extends { type: unknown } ? unknown : { type: 'blur' | 'virtual' });

/**
 * Background effects as a livekit-client 2.x video `TrackProcessor` (assignable to
 * `TrackProcessor<Track.Kind>` and `TrackProcessor<Track.Kind.Video>`), a replacement for
 * `@livekit/track-processors`' BackgroundProcessor.
 *
 * `Config` is the type of the configuration given to the constructor (inferred): `options`
 * returns that configuration, updated by update(), with the effect in both vocabularies
 * (`type` and `mode`, `blurRadius`, `image`). So an app whose own interface declares
 * `options: ProcessorConfig` and `update(config: ProcessorConfig)` (Visio's
 * BackgroundProcessorInterface) can type `new BackgroundProcessor(config)` as such, without an
 * adapter.
 *
 * @example
 * const processor = new BackgroundProcessor({ type: 'blur', blurRadius: 10 });
 * await localVideoTrack.setProcessor(processor);
 * await processor.update({ type: 'virtual', imagePath: '/backgrounds/office.jpg' }); // no stopProcessor() needed
 * await processor.update({ type: 'blur', blurRadius: 20 });
 * processor.options.type; // 'blur'
 */
export declare class BackgroundProcessor<Config extends BackgroundOptions = BackgroundOptions> {
  constructor(options?: Config);
  /**
   * True when background effects can run in this browser: WebAssembly SIMD, createImageBitmap,
   * and either the worker path (mediacapture-transform) or canvas.captureStream(). The CPU
   * renderer needs no GPU, so WebGL2 is not required. Detects features, never the browser's name.
   */
  static isSupported(): boolean;
  readonly name: 'visio-background';
  /** The processed track; undefined before init() and after destroy(). */
  processedTrack: MediaStreamTrack | undefined;
  /** Starts the effect on `track` (livekit's camera track; never stopped by the processor). */
  init(options: LivekitVideoProcessorOptions): Promise<void>;
  /** destroy() then init() (livekit calls it with the new track after a camera restart). */
  restart(options: LivekitVideoProcessorOptions): Promise<void>;
  /** Stops processedTrack and frees the worker, the wasm and GPU resources. */
  destroy(): Promise<void>;
  /**
   * Changes the effect live (kept for later inits); see BackgroundEffect.update. A config
   * with `type` replaces the previous one in `options`; one without merges into it. Rejects
   * (TypeError / RangeError) on bad options or an effect type this package does not draw
   * (OtherEffectConfig), and then the current effect keeps running unchanged.
   */
  update(settings: Config | BackgroundEffectChange | VisioBackgroundConfig | OtherEffectConfig): Promise<void>;
  /** Same as update(), under @livekit/track-processors' name. */
  switchTo(settings: Config | BackgroundEffectChange | VisioBackgroundConfig | OtherEffectConfig): Promise<void>;
  /** A new, uninitialised processor with the same options and the current effect. */
  clone(): BackgroundProcessor<Config>;
  /** The running effect's stats; after destroy(), the last run's final ones; null before any. */
  stats(): BackgroundStats | null;
  /** The configuration last given (constructor or update) and the current effect. */
  readonly options: BackgroundProcessorOptions<Config>;
}
