// Microphone noise suppression for the page: an AudioWorkletNode around the RNNoise worklet,
// a one-call wrapper for a MediaStreamTrack, and a livekit-client TrackProcessor.
//
// Failure semantics (also in index.d.ts): what can be known before audio flows (bad options,
// unsupported sample rate, wasm or worklet file that cannot be loaded) rejects the promise
// and creates nothing. What goes wrong inside the worklet (module without our exports,
// instantiation, a trap while processing) never silences the audio: the node passes its input
// through unchanged, `active` is false and an `error` event is dispatched.

import { loadWasmModule } from './wasm.js';
import { PREFIX, describe, checkObject } from './checks.js';
import { checkIntensity, checkVoice, describeVoice, mergeVoice } from './voice-options.js';

const PROCESSOR_NAME = 'visio-noise-suppressor';
const MIN_RATE = 8000;
const MAX_RATE = 96000;
/** How long creation waits for the worklet to report; a suspended context in some engines
 * constructs processors late, so this is a ceiling, not an expected delay. */
const READY_TIMEOUT_MS = 3000;
/** How long `destroy()` waits for the worklet to confirm it freed the suppressor. */
const DESTROY_TIMEOUT_MS = 2000;

const worklets = new WeakMap(); // BaseAudioContext -> Promise<void> of its addModule
const MODELS = ['rnnoise', 'deepfilternet3'];
const weightFiles = new Map(); // URL href -> Promise<ArrayBuffer>

/** DeepFilterNet3's weight file, shipped in the package (pkg/models/). */
function defaultModelUrl() {
  return new URL('./models/deepfilternet3.dfw', import.meta.url);
}

/**
 * The weight file of `model` (null for RNNoise, built into the wasm), fetched once per page
 * and URL; a failure is not cached, so a later call retries. The worklet scope cannot fetch:
 * the bytes are posted to it.
 */
function loadModelWeights(model, modelUrl) {
  if (model === 'rnnoise') return Promise.resolve(null);
  const base = globalThis.document?.baseURI ?? globalThis.location?.href ?? import.meta.url;
  const url = modelUrl === undefined ? defaultModelUrl() : new URL(modelUrl, base);
  let pending = weightFiles.get(url.href);
  if (!pending) {
    pending = (async () => {
      let response;
      try {
        response = await fetch(url, { credentials: 'same-origin' });
      } catch (error) {
        throw new Error(`${PREFIX}: could not load the ${model} weights from ${url}: ${error?.message ?? error}`, { cause: error });
      }
      if (!response.ok) throw new Error(`${PREFIX}: could not load the ${model} weights from ${url}: status ${response.status}`);
      return response.arrayBuffer();
    })();
    weightFiles.set(url.href, pending);
    pending.catch(() => weightFiles.delete(url.href));
  }
  return pending;
}

/** Dispatched on the node (and the processor) every `vadIntervalMs`. */
export class VadEvent extends Event {
  constructor(probability, time, cpuMsPer10ms, maxProcessMs) {
    super('vad');
    /** Highest voice probability (0..1) of the 10 ms frames since the previous event. */
    this.probability = probability;
    /** `AudioContext.currentTime` of the report, in seconds. */
    this.time = time;
    /** Average processing time per 10 ms of audio (ms), when the engine lets the worklet measure it. */
    this.cpuMsPer10ms = cpuMsPer10ms;
    /** The longest single process() call (ms) since the previous event. */
    this.maxProcessMs = maxProcessMs;
  }
}

/** Dispatched when suppression fails and the audio falls back to pass-through. */
export class NoiseSuppressionErrorEvent extends Event {
  constructor(error) {
    super('error');
    this.error = error;
    this.message = error.message;
  }
}

// ---------------------------------------------------------------------------------------------
// Option checks: one clear TypeError/RangeError per mistake.

function checkEnabled(value) {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${PREFIX}: enabled must be a boolean, got ${describe(value)}`);
  }
  return value;
}

function checkLimit(value) {
  if (value === null) return null;
  if (typeof value !== 'number') {
    throw new TypeError(`${PREFIX}: attenuationLimitDb must be a number of dB or null, got ${describe(value)}`);
  }
  if (!(value >= 0)) {
    throw new RangeError(`${PREFIX}: attenuationLimitDb must be >= 0 (0 = no suppression) or null (no limit), got ${value}`);
  }
  return value;
}

function checkInterval(value) {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${PREFIX}: vadIntervalMs must be a positive number of milliseconds, got ${describe(value)}`);
  }
  return value;
}

function checkRate(rate) {
  if (!(rate >= MIN_RATE && rate <= MAX_RATE)) {
    throw new RangeError(`${PREFIX}: sample rate ${rate} Hz is not supported by noise suppression (${MIN_RATE}..${MAX_RATE} Hz)`);
  }
  return rate;
}

function checkUrl(value, name) {
  if (value !== undefined && typeof value !== 'string' && !(value instanceof URL)) {
    throw new TypeError(`${PREFIX}: ${name} must be a URL or a string, got ${describe(value)}`);
  }
  return value;
}

function checkModel(value) {
  if (!MODELS.includes(value)) {
    throw new TypeError(`${PREFIX}: model must be one of ${MODELS.map((m) => `'${m}'`).join(', ')}, got ${describe(value)}`);
  }
  return value;
}

/** The live settings (`setOptions`), checked; absent keys are left out. */
function checkSettings(options) {
  const settings = {};
  if (options.enabled !== undefined) settings.enabled = checkEnabled(options.enabled);
  if (options.attenuationLimitDb !== undefined) settings.attenuationLimitDb = checkLimit(options.attenuationLimitDb);
  if (options.intensity !== undefined) settings.intensity = checkIntensity(options.intensity);
  if (options.voice !== undefined) settings.voice = checkVoice(options.voice);
  if (options.model !== undefined) settings.model = checkModel(options.model);
  if (options.modelUrl !== undefined) settings.modelUrl = checkUrl(options.modelUrl, 'modelUrl');
  return settings;
}

/** `settings` applied over `current` (both checked): later keys win, voice stages merge, and
 * an intensity without an explicit limit drops the earlier limit (it sets its own). */
function mergeSettings(current, settings) {
  const merged = { ...current, ...settings };
  if (settings.voice) merged.voice = mergeVoice(current.voice, settings.voice);
  if (settings.intensity !== undefined && settings.attenuationLimitDb === undefined) delete merged.attenuationLimitDb;
  return merged;
}

/** The node options, checked, with defaults. */
function nodeOptions(options) {
  const o = checkObject(options, 'noise suppression');
  const wasm = o.wasm;
  if (wasm !== undefined && !(wasm instanceof WebAssembly.Module)) checkUrl(wasm, 'wasm');
  const settings = checkSettings(o);
  return {
    enabled: true,
    // Without intensity the default is no limit; with it, intensity sets the limit.
    ...(settings.intensity === undefined ? { attenuationLimitDb: null } : {}),
    voice: {},
    model: 'rnnoise',
    ...settings,
    vadIntervalMs: o.vadIntervalMs === undefined ? 50 : checkInterval(o.vadIntervalMs),
    wasm,
    workletUrl: checkUrl(o.workletUrl, 'workletUrl'),
  };
}

function checkContext(context) {
  if (!context || typeof context.sampleRate !== 'number' || typeof context.createGain !== 'function') {
    throw new TypeError(`${PREFIX}: expected an AudioContext or OfflineAudioContext, got ${describe(context)}`);
  }
  if (!context.audioWorklet) {
    // AudioWorklet exists only in secure contexts (https:, localhost).
    throw new TypeError(`${PREFIX}: this audio context has no audioWorklet (the page must be served over https or from localhost)`);
  }
  if (context.state === 'closed') throw new Error(`${PREFIX}: the audio context is closed`);
}

// ---------------------------------------------------------------------------------------------
// The node.

function addWorklet(context, workletUrl) {
  let added = worklets.get(context);
  if (!added) {
    const url = workletUrl ?? new URL('./noise-suppressor.worklet.js', import.meta.url);
    added = context.audioWorklet.addModule(url).catch((error) => {
      worklets.delete(context);
      throw new Error(`${PREFIX}: could not load the audio worklet from ${url}: ${error?.message ?? error}`, { cause: error });
    });
    worklets.set(context, added);
  }
  return added;
}

function withTimeout(promise, ms, fallback) {
  let timer;
  return Promise.race([promise, new Promise((resolve) => { timer = setTimeout(() => resolve(fallback), ms); })])
    .finally(() => clearTimeout(timer));
}

// Defined on first use: AudioWorkletNode exists only in browsers, and importing the package
// must not throw elsewhere (server-side rendering, tests of other parts in Node).
let NodeClass = null;

function nodeClass() {
  if (NodeClass) return NodeClass;
  NodeClass = class NoiseSuppressorNode extends AudioWorkletNode {
    #status = 'starting';
    #error = null;
    #latencySamples = 0;
    #vad = 0;
    #cpu = undefined;
    #maxProcessMs = 0;
    #model = 'rnnoise';
    #memoryBytes = 0;
    #switching = Promise.resolve();
    #settings;
    #ready;
    #settle;
    #destroyed = null;
    #confirm = null;

    constructor(context, module, opts, weights) {
      super(context, PROCESSOR_NAME, {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        // Up to stereo; without outputChannelCount the output follows the input's channels.
        channelCount: 2,
        channelCountMode: 'clamped-max',
        channelInterpretation: 'speakers',
        processorOptions: {
          module,
          enabled: opts.enabled,
          attenuationLimitDb: opts.attenuationLimitDb,
          intensity: opts.intensity,
          voice: opts.voice,
          vadIntervalMs: opts.vadIntervalMs,
          model: opts.model,
          weights,
        },
      });
      this.#settings = {
        enabled: opts.enabled,
        attenuationLimitDb: opts.attenuationLimitDb,
        intensity: opts.intensity,
        voice: opts.voice,
        model: opts.model,
        modelUrl: opts.modelUrl,
      };
      this.#ready = new Promise((resolve) => { this.#settle = resolve; });
      this.port.onmessage = (event) => this.#onMessage(event.data);
      // Only thrown exceptions in the processor end up here (ours catches its own); the
      // engine then outputs silence, so say so loudly.
      this.addEventListener('processorerror', () => this.#fail(`${PREFIX}: the noise suppression processor crashed`));
    }

    #onMessage(data) {
      switch (data?.type) {
        case 'ready':
          if (this.#status === 'starting') this.#status = 'running';
          this.#latencySamples = data.latencySamples;
          this.#model = data.model;
          this.#memoryBytes = data.memoryBytes;
          this.#settle(true);
          break;
        case 'model':
          // A live switch has crossfaded: the new model's latency holds from now on.
          if (this.#status !== 'running') break;
          this.#latencySamples = data.latencySamples;
          this.#model = data.model;
          this.#memoryBytes = data.memoryBytes;
          this.dispatchEvent(new Event('modelchange'));
          break;
        case 'error':
          this.#fail(data.message);
          break;
        case 'vad':
          this.#vad = data.probability;
          this.#cpu = data.cpuMsPer10ms;
          this.#maxProcessMs = Math.max(this.#maxProcessMs, data.maxProcessMs);
          this.dispatchEvent(new VadEvent(data.probability, data.time, data.cpuMsPer10ms, data.maxProcessMs));
          break;
        case 'destroyed':
          this.#confirm?.({ live: data.live, memoryBytes: data.memoryBytes });
          this.port.onmessage = null;
          this.port.close();
          break;
        default:
          break;
      }
    }

    #fail(message) {
      if (this.#status === 'failed' || this.#status === 'destroyed') return;
      this.#status = 'failed';
      this.#latencySamples = 0; // the worklet passes audio straight through now
      this.#error = new Error(message);
      this.#settle(false);
      // Dispatched in a later task: when this settles creation, the caller awaiting
      // createNoiseSuppressorNode() can still add its listener first.
      const event = new NoiseSuppressionErrorEvent(this.#error);
      setTimeout(() => this.dispatchEvent(event), 0);
    }

    /** 'starting' | 'running' | 'failed' | 'destroyed' */
    get status() { return this.#status; }
    /** True while the audio really is being denoised. */
    get active() { return this.#status === 'running'; }
    /** Why suppression is not running, once it failed. */
    get error() { return this.#error; }
    /** Resolves true once the worklet runs, false if it failed. */
    get ready() { return this.#ready; }
    get latencySamples() { return this.#latencySamples; }
    get latency() { return this.#latencySamples / this.context.sampleRate; }
    get vad() { return this.#vad; }
    get cpuMsPer10ms() { return this.#cpu; }
    /** The longest single process() call (ms) since the node started. */
    get maxProcessMs() { return this.#maxProcessMs; }
    /** The model producing the output (the previous one until a live switch has crossfaded). */
    get model() { return this.#model; }
    /** The worklet's wasm memory in bytes (at start-up and after each model switch). */
    get memoryBytes() { return this.#memoryBytes; }
    get enabled() { return this.#settings.enabled; }
    /** The limit set explicitly; undefined when intensity sets it. */
    get attenuationLimitDb() { return this.#settings.attenuationLimitDb; }
    get intensity() { return this.#settings.intensity ?? 100; }
    get voice() { return describeVoice(this.#settings.voice); }

    setOptions(options) {
      const settings = checkSettings(checkObject(options, 'setOptions'));
      if (this.#status === 'destroyed') return this.#switching;
      const previous = this.#settings;
      this.#settings = mergeSettings(this.#settings, settings);
      const { model, modelUrl, ...live } = settings;
      this.port.postMessage({ type: 'options', ...live });
      if (model !== undefined && (model !== previous.model || (modelUrl ?? previous.modelUrl) !== previous.modelUrl)) {
        // Weights are fetched here (cached per page), then posted; switches keep their order.
        const { model: next, modelUrl: url } = this.#settings;
        this.#switching = this.#switching.then(() => loadModelWeights(next, url)).then(
          (weights) => {
            if (this.#status !== 'running') return;
            // A copy of the cached file is transferred: a cloned message would be copied again
            // on the audio thread, as it is received.
            const file = weights?.slice(0);
            this.port.postMessage({ type: 'model', model: next, weights: file }, file ? [file] : []);
          },
          (error) => {
            // Same contract as any failure: pass-through plus an error event.
            this.port.postMessage({ type: 'fail', message: error.message });
            this.#fail(error.message);
          },
        );
      }
      return this.#switching;
    }

    destroy() {
      if (this.#destroyed) return this.#destroyed;
      this.#status = 'destroyed';
      this.#settle(false);
      const confirmed = new Promise((resolve) => { this.#confirm = resolve; });
      this.port.postMessage({ type: 'destroy' });
      this.disconnect();
      // A closed context never answers; do not hang the caller on it.
      this.#destroyed = withTimeout(confirmed, DESTROY_TIMEOUT_MS, null);
      return this.#destroyed;
    }
  };
  return NodeClass;
}

/**
 * Creates the noise suppressor node in `context`; see index.d.ts for the contract.
 */
export async function createNoiseSuppressorNode(context, options) {
  const opts = nodeOptions(options);
  checkContext(context);
  checkRate(context.sampleRate);
  const [module, , weights] = await Promise.all([
    loadWasmModule(opts.wasm), addWorklet(context, opts.workletUrl), loadModelWeights(opts.model, opts.modelUrl),
  ]);
  const Node = nodeClass();
  const node = new Node(context, module, opts, weights);
  await withTimeout(node.ready, READY_TIMEOUT_MS, null);
  return node;
}

// ---------------------------------------------------------------------------------------------
// A MediaStreamTrack in, a denoised MediaStreamTrack out.

function checkTrack(track, who) {
  if (!track || typeof track.kind !== 'string' || typeof track.getSettings !== 'function') {
    throw new TypeError(`${PREFIX}: ${who} needs an audio MediaStreamTrack, got ${describe(track)}`);
  }
  if (track.kind !== 'audio') {
    throw new TypeError(`${PREFIX}: ${who} needs an audio MediaStreamTrack, got a ${track.kind} track`);
  }
  if (track.readyState === 'ended') {
    throw new Error(`${PREFIX}: ${who} was given a track that has ended`);
  }
}

/** Source -> suppressor -> destination in `context`; everything torn down on failure. */
async function buildGraph(context, track, options) {
  const settings = track.getSettings();
  // Chromium refuses nothing here, but Firefox throws NotSupportedError when the context's
  // rate differs from the microphone's graph rate; the caller handles that.
  const source = context.createMediaStreamSource(new MediaStream([track]));
  let node;
  try {
    node = await createNoiseSuppressorNode(context, options);
  } catch (error) {
    source.disconnect();
    throw error;
  }
  const destination = context.createMediaStreamDestination();
  // Keep the microphone's layout: a mono mic gives a mono track (the destination would
  // otherwise upmix to stereo and WebRTC would encode two identical channels).
  destination.channelCount = settings.channelCount === 2 ? 2 : 1;
  source.connect(node).connect(destination);
  const output = destination.stream.getAudioTracks()[0];
  const teardown = async () => {
    output.stop();
    source.disconnect();
    const report = await node.destroy();
    destination.disconnect();
    return report;
  };
  return { source, node, destination, output, teardown };
}

/**
 * buildGraph() in a new AudioContext at `sampleRate`, else at the track's rate (so nothing
 * is resampled twice), else at the engine's default; the context is closed on failure.
 */
async function buildGraphInOwnContext(track, nodeOpts, sampleRate) {
  const trackRate = track.getSettings().sampleRate;
  const rate = sampleRate ?? (trackRate >= MIN_RATE && trackRate <= MAX_RATE ? trackRate : undefined);
  let context = new AudioContext({ latencyHint: 'interactive', ...(rate ? { sampleRate: rate } : {}) });
  let graph;
  try {
    graph = await buildGraph(context, track, nodeOpts);
  } catch (error) {
    await context.close().catch(() => {});
    // Firefox cannot connect a track to a context of another rate; when the rate was our
    // guess (not the caller's), retry at the engine's default, which is the graph rate.
    if (error?.name !== 'NotSupportedError' || sampleRate !== undefined || !rate) throw error;
    context = new AudioContext({ latencyHint: 'interactive' });
    try {
      graph = await buildGraph(context, track, nodeOpts);
    } catch (again) {
      await context.close().catch(() => {});
      throw again;
    }
  }
  // A context made outside a user gesture may start suspended; resuming is all we can do
  // (not awaited: without a gesture it may stay pending until the user interacts).
  if (context.state === 'suspended') context.resume().catch(() => {});
  return { context, graph };
}

/**
 * Denoises a microphone track; see index.d.ts for the contract.
 */
export async function suppressNoise(track, options) {
  checkTrack(track, 'suppressNoise');
  const o = checkObject(options, 'suppressNoise');
  const nodeOpts = nodeOptions(o); // checked before anything is created
  if (o.sampleRate !== undefined) checkRate(o.sampleRate);
  const given = o.audioContext;
  if (given !== undefined) {
    checkContext(given);
    if (typeof given.createMediaStreamSource !== 'function') {
      throw new TypeError(`${PREFIX}: suppressNoise needs a realtime AudioContext (an OfflineAudioContext cannot play a track)`);
    }
  }

  const { context, graph } = given
    ? { context: given, graph: await buildGraph(given, track, nodeOpts) }
    : await buildGraphInOwnContext(track, nodeOpts, o.sampleRate);
  const owned = context !== given;
  let destroyed = null;
  return {
    track: graph.output,
    node: graph.node,
    context,
    get vad() { return graph.node.vad; },
    update(settings) { return graph.node.setOptions(settings); },
    destroy() {
      destroyed ??= (async () => {
        const report = await graph.teardown();
        if (owned && context.state !== 'closed') await context.close().catch(() => {});
        return report;
      })();
      return destroyed;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// livekit-client TrackProcessor (structurally typed: livekit-client is not a dependency).

export class NoiseSuppressionProcessor extends EventTarget {
  name = 'visio-noise-suppression';
  /** The denoised track livekit publishes; undefined until init() and after destroy(). */
  processedTrack = undefined;
  #options;
  #onVad;
  #onError;
  #graph = null;
  #generation = 0;

  constructor(options) {
    super();
    const o = checkObject(options, 'NoiseSuppressionProcessor');
    for (const name of ['onVad', 'onError']) {
      if (o[name] !== undefined && typeof o[name] !== 'function') {
        throw new TypeError(`${PREFIX}: ${name} must be a function, got ${describe(o[name])}`);
      }
    }
    this.#options = nodeOptions(o);
    this.#onVad = o.onVad;
    this.#onError = o.onError;
  }

  async init({ kind, track, audioContext } = {}) {
    if (kind !== undefined && kind !== 'audio') {
      throw new TypeError(`${PREFIX}: NoiseSuppressionProcessor is an audio processor, it was set on a ${kind} track`);
    }
    checkTrack(track, 'NoiseSuppressionProcessor');
    if (audioContext !== undefined) checkContext(audioContext);
    if (this.#graph) await this.destroy();
    const generation = ++this.#generation;
    // livekit passes its context; without one (a processor used on its own, or a framework
    // that passes none) the graph gets a context of its own, which destroy() closes.
    const { context, graph } = audioContext
      ? { context: audioContext, graph: await buildGraph(audioContext, track, this.#options) }
      : await buildGraphInOwnContext(track, this.#options);
    const owned = context !== audioContext;
    if (generation !== this.#generation) {
      // destroy() ran while we were building: this graph is already obsolete.
      await graph.teardown();
      if (owned) await context.close().catch(() => {});
      return;
    }
    graph.node.addEventListener('vad', (event) => {
      this.#onVad?.(event);
      this.dispatchEvent(new VadEvent(event.probability, event.time, event.cpuMsPer10ms, event.maxProcessMs));
    });
    graph.node.addEventListener('error', (event) => {
      this.#onError?.(event.error);
      this.dispatchEvent(new NoiseSuppressionErrorEvent(event.error));
    });
    this.#graph = { ...graph, context, owned };
    this.processedTrack = graph.output;
  }

  async restart(opts) {
    await this.destroy();
    await this.init(opts);
  }

  async destroy() {
    this.#generation++;
    const graph = this.#graph;
    this.#graph = null;
    this.processedTrack = undefined;
    // Not awaiting the worklet's confirmation: the handle is freed on the audio thread
    // either way, and livekit holds its track lock while this runs.
    if (graph) {
      const done = graph.teardown().catch(() => {});
      if (graph.owned) await done.then(() => graph.context.close()).catch(() => {});
    }
  }

  /** Changes `enabled`, `attenuationLimitDb`, `intensity`, `voice`, `model` live; kept across restarts. */
  update(options) {
    const settings = checkSettings(checkObject(options, 'update'));
    this.#options = mergeSettings(this.#options, settings);
    return this.#graph?.node.setOptions(settings) ?? Promise.resolve();
  }

  setOptions(options) {
    return this.update(options);
  }

  get node() { return this.#graph?.node; }
  get vad() { return this.#graph?.node.vad ?? 0; }
  get active() { return this.#graph?.node.active ?? false; }
  get latency() { return this.#graph?.node.latency ?? 0; }
  get enabled() { return this.#options.enabled; }
  get attenuationLimitDb() { return this.#options.attenuationLimitDb; }
  get intensity() { return this.#options.intensity ?? 100; }
  get voice() { return describeVoice(this.#options.voice); }
  get model() { return this.#graph?.node.model ?? this.#options.model; }
}
