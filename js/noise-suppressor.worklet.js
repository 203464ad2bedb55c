// AudioWorkletProcessor 'visio-noise-suppressor': noise suppression (RNNoise or DeepFilterNet3)
// on the audio thread. DeepFilterNet3's weight file arrives as an ArrayBuffer (the main thread
// fetches it: this scope cannot) in `processorOptions.weights` or a 'model' message. The message
// handler only keeps it: every quantum of audio must fit in its 2.7 ms, so a live switch copies
// the file into wasm memory WEIGHT_SLICE bytes per process() call, then the suppressor lays the
// networks out in steps of its own (see README, "DeepFilterNet3 in the suppressor").
//
// Self-contained on purpose (no `import`): bundlers can ship it as a plain asset, and the
// AudioWorkletGlobalScope has no fetch, TextDecoder or importScripts, so the wasm arrives
// already compiled in `processorOptions.module` and is instantiated here with stub imports
// (the audio path calls none of them). Message protocol: see js/noise-suppression.js.

const NAME = 'visio-noise-suppressor';
const QUANTUM = 128;
const MAX_CHANNELS = 2;
const REQUIRED_EXPORTS = ['memory', 'vme_ns_create', 'vme_ns_buffer', 'vme_ns_process', 'vme_ns_vad',
  'vme_ns_set_enabled', 'vme_ns_set_attenuation_limit', 'vme_ns_set_intensity', 'vme_ns_set_stage',
  'vme_ns_latency', 'vme_ns_destroy', 'vme_ns_live', 'vme_weights_alloc', 'vme_weights_free', 'vme_ns_set_model',
  'vme_ns_model', 'vme_error_ptr', 'vme_error_len'];
const MODELS = { rnnoise: 0, deepfilternet3: 1 };
const MODEL_NAMES = ['rnnoise', 'deepfilternet3'];
// Bytes of a weight file copied into wasm memory per quantum in a live switch: 9 quanta for
// DeepFilterNet3's 4.3 MB, each a memcpy of well under a millisecond.
const WEIGHT_SLICE = 512 * 1024;

// One instance per AudioWorkletGlobalScope (= per audio context), shared by all its nodes.
// It is keyed by nothing: every postMessage of a Module yields a new Module object here, so
// identity cannot tell modules apart; the first valid module the scope receives wins.
let shared = null;

// The clock of the CPU figures. `performance` is exposed in the worklet scope by some engines
// only (Firefox has it, Chromium 156 has not). Chromium 156 has Temporal, whose clock steps by
// 0.1 ms there (fine enough for the worst quantum; each reading allocates an Instant and a
// BigInt, the only allocation on this path, a few KB a second). Elsewhere Date.now(): its 1 ms
// ticks are far coarser than one quantum's work, but their average over CPU_WINDOW_S of quanta
// is unbiased.
const now = typeof globalThis.performance?.now === 'function'
  ? () => globalThis.performance.now()
  : typeof globalThis.Temporal?.Now?.instant === 'function'
    ? () => Number(globalThis.Temporal.Now.instant().epochNanoseconds) / 1e6
    : () => Date.now();
const CPU_WINDOW_S = 1;
// Shared stand-in for a missing input, so process() allocates nothing per quantum.
const NO_INPUT = Object.freeze([]);

function message(error) {
  return error instanceof Error ? error.message : String(error);
}

function instantiate(module) {
  if (shared && !shared.poisoned) return shared.exports;
  if (!(module instanceof WebAssembly.Module)) {
    throw new Error('processorOptions.module is not a WebAssembly.Module');
  }
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = REQUIRED_EXPORTS.filter((name) => !names.has(name));
  if (missing.length > 0) {
    throw new Error(`the wasm module lacks ${missing.join(', ')} (not visio-media-effects' wasm?)`);
  }
  const imports = {};
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    if (kind !== 'function') throw new Error(`the wasm module imports a ${kind} (${from}.${name})`);
    imports[from] ??= {};
    imports[from][name] = () => {
      throw new Error(`${from}.${name} is not available in the audio worklet`);
    };
  }
  const { exports } = new WebAssembly.Instance(module, imports);
  shared = { exports, poisoned: false };
  return exports;
}

class NoiseSuppressorProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = options?.processorOptions ?? {};
    this.wasm = null;
    this.handle = 0;
    this.failed = false;
    this.destroyed = false;
    this.views = [];
    this.viewsOf = null; // the memory.buffer the views were made on
    this.vadQuanta = Math.max(1, Math.round(((Number(opts.vadIntervalMs) || 50) / 1000) * sampleRate / QUANTUM));
    this.quanta = 0;
    this.vadMax = 0;
    this.cpuMs = 0;
    this.cpuQuanta = 0;
    this.cpuMsPer10ms = undefined;
    this.worstMs = 0; // the longest process() call since the last report
    this.incoming = null; // a live switch's weight file on its way into wasm memory
    this.port.onmessage = (event) => this.onMessage(event.data);
    try {
      const wasm = instantiate(opts.module);
      this.wasm = wasm;
      // The limiter's look-ahead is part of the latency, which is fixed for the node's life:
      // reserved when the limiter is on at creation.
      const lookahead = opts.voice?.limiter?.on ? 1 : 0;
      this.handle = wasm.vme_ns_create(sampleRate, MAX_CHANNELS, lookahead);
      if (!this.handle) throw new Error(`the suppressor rejected the context: ${this.lastError()}`);
      // Before any audio the model is set at once (no crossfade).
      if (opts.model && opts.model !== 'rnnoise') this.setModel(opts.model, opts.weights);
      this.apply(opts);
      this.latencySamples = wasm.vme_ns_latency(this.handle);
      this.model = MODEL_NAMES[wasm.vme_ns_model(this.handle)];
      this.port.postMessage({
        type: 'ready',
        latencySamples: this.latencySamples,
        latencySeconds: this.latencySamples / sampleRate,
        model: this.model,
        memoryBytes: wasm.memory.buffer.byteLength,
      });
    } catch (error) {
      this.fail(error);
    }
  }

  fail(error) {
    this.failed = true;
    this.port.postMessage({ type: 'error', message: `visio-media-effects: noise suppression failed: ${message(error)}` });
  }

  // The model's id, and its weight file as bytes (null for RNNoise, built into the wasm).
  modelFile(model, weights) {
    const id = MODELS[model];
    if (id === undefined) throw new Error(`unknown model ${JSON.stringify(model)}`);
    if (id === 0) return { id, bytes: null };
    // (Checked by tag, not instanceof: the buffer may come from another realm.)
    if (Object.prototype.toString.call(weights) !== '[object ArrayBuffer]') throw new Error(`the ${model} weights did not reach the worklet`);
    return { id, bytes: new Uint8Array(weights) };
  }

  weightsBuffer(model, len) {
    const ptr = this.wasm.vme_weights_alloc(len);
    if (!ptr) throw new Error(`no wasm memory for the ${model} weights (${len} bytes)`);
    return ptr;
  }

  // Hands the weights at ptr to the suppressor, which frees them whatever happens.
  install(model, id, ptr, len) {
    if (this.wasm.vme_ns_set_model(this.handle, id, ptr, len) !== 0) throw new Error(`${model}: ${this.lastError()}`);
    this.switchingTo = model;
  }

  // Before any audio (the constructor): the whole file at once.
  setModel(model, weights) {
    const { id, bytes } = this.modelFile(model, weights);
    const len = bytes?.byteLength ?? 0;
    const ptr = bytes ? this.weightsBuffer(model, len) : 0;
    if (bytes) new Uint8Array(this.wasm.memory.buffer, ptr, len).set(bytes);
    this.install(model, id, ptr, len);
  }

  // A live switch (message handler): RNNoise at once (nothing to copy); a weight file is only
  // kept, and process() brings it in (copyStep). A newer switch replaces one still copying.
  switchModel(model, weights) {
    this.dropIncoming();
    const { id, bytes } = this.modelFile(model, weights);
    if (bytes) this.incoming = { model, id, bytes, ptr: 0, copied: 0 };
    else this.install(model, id, 0, 0);
  }

  // One bounded step of a live switch's file: reserve its buffer, then copy WEIGHT_SLICE bytes
  // per call; after the last slice the suppressor takes it (checking only its structure: the
  // values are checked as its own steps convert them).
  copyStep() {
    const job = this.incoming;
    const len = job.bytes.byteLength;
    if (!job.ptr) {
      job.ptr = this.weightsBuffer(job.model, len);
      return;
    }
    if (job.copied < len) {
      const n = Math.min(WEIGHT_SLICE, len - job.copied);
      new Uint8Array(this.wasm.memory.buffer, job.ptr + job.copied, n).set(job.bytes.subarray(job.copied, job.copied + n));
      job.copied += n;
      return;
    }
    // In a quantum of its own: the suppressor's first conversion step follows in this one.
    this.incoming = null;
    this.install(job.model, job.id, job.ptr, len);
  }

  dropIncoming() {
    const job = this.incoming;
    this.incoming = null;
    if (job?.ptr) this.wasm.vme_weights_free(job.ptr, job.bytes.byteLength);
  }

  lastError() {
    const at = this.wasm.vme_error_ptr();
    const bytes = new Uint8Array(this.wasm.memory.buffer, at, this.wasm.vme_error_len());
    // No TextDecoder in this scope: the messages are ASCII.
    return String.fromCharCode(...bytes);
  }

  setEnabled(enabled) {
    if (typeof enabled === 'boolean') this.wasm.vme_ns_set_enabled(this.handle, enabled ? 1 : 0);
  }

  setLimit(db) {
    if (db === null) this.wasm.vme_ns_set_attenuation_limit(this.handle, Infinity);
    else if (typeof db === 'number' && db >= 0) this.wasm.vme_ns_set_attenuation_limit(this.handle, db);
  }

  // intensity before the limit: an explicit limit overrides the one intensity sets.
  apply(settings) {
    this.setEnabled(settings.enabled);
    if (typeof settings.intensity === 'number') this.wasm.vme_ns_set_intensity(this.handle, settings.intensity);
    this.setLimit(settings.attenuationLimitDb);
    // Stages as js/voice-options.js normalised them: { index, on, params }.
    for (const stage of Object.values(settings.voice ?? {})) {
      const [a, b, c, d] = stage.params;
      this.wasm.vme_ns_set_stage(this.handle, stage.index, stage.on ? 1 : 0, a, b, c, d);
    }
  }

  onMessage(data) {
    if (this.destroyed || !data) return;
    if (data.type === 'destroy') {
      this.destroyed = true;
      let live = 0;
      let memoryBytes = 0;
      if (this.handle) {
        try {
          this.dropIncoming();
          this.wasm.vme_ns_destroy(this.handle);
        } catch {
          // A trapped instance: nothing left to free that the next instance will not replace.
        }
      }
      if (this.wasm) {
        try {
          live = this.wasm.vme_ns_live();
          memoryBytes = this.wasm.memory.buffer.byteLength;
        } catch {
          // Same as above: report zeros rather than throw from the message handler.
        }
      }
      this.handle = 0;
      this.port.postMessage({ type: 'destroyed', live, memoryBytes });
      this.port.onmessage = null;
      return;
    }
    if (data.type === 'model' && this.handle && !this.failed) {
      try {
        this.switchModel(data.model, data.weights);
      } catch (error) {
        this.fail(error);
      }
      return;
    }
    if (data.type === 'fail' && !this.failed) {
      this.fail(data.message);
      return;
    }
    if (data.type === 'options' && this.handle && !this.failed) {
      try {
        this.apply(data);
      } catch (error) {
        this.trap(error);
      }
    }
  }

  trap(error) {
    // A trap can leave the instance half-updated: later nodes get a fresh one.
    if (shared && shared.exports === this.wasm) shared.poisoned = true;
    this.fail(error);
  }

  // Float32Array views on the wasm buffers, remade when memory growth replaced the buffer.
  buffers() {
    const buffer = this.wasm.memory.buffer;
    if (buffer !== this.viewsOf) {
      this.views = [];
      for (let ch = 0; ch < MAX_CHANNELS; ch++) {
        this.views.push(new Float32Array(buffer, this.wasm.vme_ns_buffer(this.handle, ch), QUANTUM));
      }
      this.viewsOf = buffer;
    }
    return this.views;
  }

  process(inputs, outputs) {
    if (this.destroyed) return false;
    const input = inputs[0] ?? NO_INPUT;
    const output = outputs[0];
    if (!output || output.length === 0) return true;
    if (this.failed) {
      passThrough(input, output);
      return true;
    }
    const started = now();
    const channels = Math.min(output.length, MAX_CHANNELS);
    const length = output[0].length;
    let switchError = null;
    if (this.incoming) {
      try {
        this.copyStep();
      } catch (error) {
        this.dropIncoming();
        switchError = message(error);
      }
    }
    try {
      // Render quanta are 128 frames today; a future render size that is a multiple of it
      // is cut into quanta, any other cannot be handled and falls back to pass-through.
      if (length % QUANTUM !== 0) throw new Error(`render quantum of ${length} frames is not supported`);
      for (let offset = 0; offset < length; offset += QUANTUM) {
        const views = this.buffers();
        for (let ch = 0; ch < channels; ch++) {
          // No input connected (or fewer input channels): process silence.
          const source = input[ch];
          // (subarray only for render sizes above 128: it allocates a view object.)
          if (source) views[ch].set(length === QUANTUM ? source : source.subarray(offset, offset + QUANTUM));
          else views[ch].fill(0);
        }
        // A live switch lays its weights out over the quanta after set_model (a step each):
        // 1 when that failed (bad tensors); the old model has played on.
        if (this.wasm.vme_ns_process(this.handle, channels) !== 0) switchError = `${this.switchingTo}: ${this.lastError()}`;
        const after = this.buffers(); // processing may have grown memory
        for (let ch = 0; ch < channels; ch++) output[ch].set(after[ch], offset);
        this.vadMax = Math.max(this.vadMax, this.wasm.vme_ns_vad(this.handle));
      }
    } catch (error) {
      this.trap(error);
      passThrough(input, output);
      return true;
    }
    for (let ch = channels; ch < output.length; ch++) output[ch].fill(0);
    if (switchError) this.fail(switchError);
    // A model switch completes inside process(): tell the node its new latency.
    const latency = this.wasm.vme_ns_latency(this.handle);
    if (latency !== this.latencySamples) {
      this.latencySamples = latency;
      this.model = MODEL_NAMES[this.wasm.vme_ns_model(this.handle)];
      this.port.postMessage({ type: 'model', model: this.model, latencySamples: latency, memoryBytes: this.wasm.memory.buffer.byteLength });
    }
    const spent = now() - started;
    this.cpuMs += spent;
    if (spent > this.worstMs) this.worstMs = spent;
    this.cpuQuanta += length / QUANTUM;
    const seconds = (this.cpuQuanta * QUANTUM) / sampleRate;
    if (seconds >= CPU_WINDOW_S) {
      // Average cost per 10 ms of audio, comparable across sample rates.
      this.cpuMsPer10ms = this.cpuMs / (seconds * 100);
      this.cpuMs = 0;
      this.cpuQuanta = 0;
    }
    this.quanta += length / QUANTUM;
    if (this.quanta >= this.vadQuanta) this.report();
    return true;
  }

  report() {
    const report = { type: 'vad', probability: this.vadMax, time: currentTime, maxProcessMs: this.worstMs };
    if (this.cpuMsPer10ms !== undefined) report.cpuMsPer10ms = this.cpuMsPer10ms;
    this.port.postMessage(report);
    this.quanta = 0;
    this.vadMax = 0;
    this.worstMs = 0;
  }
}

function passThrough(input, output) {
  for (let ch = 0; ch < output.length; ch++) {
    const source = input[ch];
    if (source) output[ch].set(source);
    else output[ch].fill(0);
  }
}

registerProcessor(NAME, NoiseSuppressorProcessor);
