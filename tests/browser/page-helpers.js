// Page-side helpers for the browser tests, served at /__tests__/page-helpers.js by the harness.

const RECORDER = `
registerProcessor('test-recorder', class extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.inputs = options.numberOfInputs;
    this.passThrough = options.processorOptions?.passThrough === true;
    this.chunk = 4096;
    this.fill = 0;
    this.buffers = Array.from({ length: this.inputs }, () => new Float32Array(this.chunk));
    this.stopped = false;
    this.started = false;
    this.port.onmessage = () => { this.flush(); this.stopped = true; this.port.postMessage({ done: true }); };
    this.port.postMessage({ ready: true });
  }
  flush() {
    if (this.fill === 0) return;
    const data = this.buffers.map((b) => b.slice(0, this.fill));
    this.port.postMessage({ data }, data.map((d) => d.buffer));
    this.fill = 0;
  }
  process(inputs, outputs) {
    if (this.stopped) return false;
    if (!this.started) {
      this.started = true;
      this.port.postMessage({ startFrame: currentFrame, flushesDenormals: flushesDenormals() });
    }
    const n = inputs[0]?.[0]?.length ?? 128;
    for (let i = 0; i < this.inputs; i++) {
      const channel = inputs[i]?.[0];
      if (channel) this.buffers[i].set(channel, this.fill);
      else this.buffers[i].fill(0, this.fill, this.fill + n);
    }
    if (this.passThrough) outputs[0].forEach((out, c) => { const from = inputs[0]?.[c]; if (from) out.set(from); });
    this.fill += n;
    if (this.fill + 128 > this.chunk) this.flush();
    return true;
  }
});
// Whether wasm on this thread flushes subnormal floats to zero: f32.mul(1e-38, 0.25) is 2.5e-39
// by the wasm spec; 0 where the thread runs with the CPU's flush-to-zero/denormals-are-zero
// modes on (Firefox's audio threads).
const MUL = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 7, 1, 96, 2, 125,
  125, 1, 125, 3, 2, 1, 0, 7, 7, 1, 3, 109, 117, 108, 0, 0, 10, 9, 1, 7, 0, 32, 0, 32, 1, 148, 11]))).exports.mul;
function flushesDenormals() {
  return MUL(1e-38, 0.25) === 0;
}`;

const recorderAdded = new WeakMap();

/** Adds the recorder's worklet module to `context` (once): startRecorder then starts at once. */
export function addRecorder(context) {
  if (!recorderAdded.has(context)) {
    const url = URL.createObjectURL(new Blob([RECORDER], { type: 'text/javascript' }));
    recorderAdded.set(context, context.audioWorklet.addModule(url));
  }
  return recorderAdded.get(context);
}

/**
 * Records each of `sources` (AudioNodes of `context`, downmixed to mono) as raw PCM, sample
 * aligned with each other. Returns { stop(): Promise<Float32Array[]>, startTime, node, started }
 * once the recorder's processor exists (so it records from the context's next quantum on, even
 * if the context is suspended now). `started`: a promise of { startFrame, flushesDenormals }
 * from its first process() call. `passThrough`: the node outputs its first source (mono) for
 * the caller to connect, instead of playing silence into context.destination.
 */
export async function startRecorder(context, sources, { passThrough = false } = {}) {
  await addRecorder(context);
  const node = new AudioWorkletNode(context, 'test-recorder', {
    numberOfInputs: sources.length,
    numberOfOutputs: 1,
    outputChannelCount: [1],
    channelCount: 1,
    channelCountMode: 'explicit',
    processorOptions: { passThrough },
  });
  const chunks = sources.map(() => []);
  let finished;
  let ready;
  let started;
  const done = new Promise((resolve) => { finished = resolve; });
  const constructed = new Promise((resolve) => { ready = resolve; });
  const first = new Promise((resolve) => { started = resolve; });
  node.port.onmessage = ({ data }) => {
    if (data.done) finished();
    else if (data.ready) ready();
    else if (data.startFrame !== undefined) started(data);
    else data.data.forEach((d, i) => chunks[i].push(d));
  };
  sources.forEach((source, i) => source.connect(node, 0, i));
  // Connected so the engine pulls it; it writes nothing, so this plays silence.
  if (!passThrough) node.connect(context.destination);
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the test recorder\'s processor was not constructed within 10 s')), 10_000);
  });
  await Promise.race([constructed, late]).finally(() => clearTimeout(timer));
  const startTime = performance.now();
  return {
    startTime,
    node,
    started: first,
    async stop() {
      node.port.postMessage('stop');
      await done;
      node.disconnect();
      sources.forEach((source) => source.disconnect(node));
      return chunks.map((list) => {
        const out = new Float32Array(list.reduce((n, c) => n + c.length, 0));
        let o = 0;
        for (const c of list) { out.set(c, o); o += c.length; }
        return out;
      });
    },
  };
}

/**
 * Records `tracks` for `seconds` at 48 kHz, sample aligned (startRecorder in a context of its
 * own, closed after). Returns { startTime, samples: Float32Array per track }.
 */
export async function recordTracks(tracks, seconds) {
  const rec = new AudioContext({ sampleRate: 48000 });
  const recorder = await startRecorder(rec, tracks.map((track) => rec.createMediaStreamSource(new MediaStream([track]))));
  await sleep(seconds * 1000);
  const samples = await recorder.stop();
  await rec.close();
  return { startTime: recorder.startTime, samples };
}

/**
 * The live tests' set-up: the raw microphone (see rawMicrophone; its context at `micRate`)
 * through suppressNoise(`options`), both tracks recorded side by side for `seconds` (recordTracks),
 * then torn down. Returns what Node measures: the node's state while running, the vad events,
 * what destroy() left, and both recordings as base64.
 */
export async function recordSuppressedMicrophone({ micRate, options = {}, seconds }) {
  const { suppressNoise } = await import('/pkg/index.js');
  const track = await rawMicrophone(micRate);
  const ns = await suppressNoise(track, options);
  const vad = [];
  ns.node.addEventListener('vad', (e) => vad.push({ t: performance.now(), p: e.probability, cpu: e.cpuMsPer10ms, maxProcessMs: e.maxProcessMs }));
  const { startTime, samples: [raw, processed] } = await recordTracks([track, ns.track], seconds);
  const info = {
    contextRate: ns.context.sampleRate,
    trackRate: track.getSettings().sampleRate,
    active: ns.node.active,
    model: ns.node.model,
    latency: ns.node.latency,
    memoryBytes: ns.node.memoryBytes,
    maxProcessMs: ns.node.maxProcessMs,
    outputSettings: ns.track.getSettings(),
  };
  await ns.destroy();
  const ended = ns.track.readyState;
  const contextState = ns.context.state;
  track.stop();
  return { ...info, ended, contextState, startTime, vad, raw: toBase64(raw), processed: toBase64(processed) };
}

/** Float32Array -> base64 of its bytes (page.evaluate results travel as JSON). */
export function toBase64(samples) {
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/**
 * Microphone without the browser's own processing, which would hide ours. In engines without
 * file-backed fake devices (the harness sets __vmeFake), a track playing the same WAV once from
 * a context at `sampleRate` (default 44.1 kHz, the rate of Chromium's fake microphone).
 */
export async function rawMicrophone(sampleRate = 44100) {
  if (globalThis.__vmeFake?.audio) return fileMicrophone(globalThis.__vmeFake.audio, sampleRate);
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  return stream.getAudioTracks()[0];
}

/**
 * The WAV at `url` played once into a MediaStreamAudioDestinationNode of a context at
 * `sampleRate`. Its context closes when the track is stopped.
 */
async function fileMicrophone(url, sampleRate) {
  const bytes = await (await fetch(url)).arrayBuffer();
  const context = new AudioContext({ sampleRate });
  const buffer = await context.decodeAudioData(bytes);
  const source = new AudioBufferSourceNode(context, { buffer });
  const destination = new MediaStreamAudioDestinationNode(context, { channelCount: 1, channelCountMode: 'explicit' });
  source.connect(destination);
  source.start();
  const track = destination.stream.getAudioTracks()[0];
  const stop = track.stop.bind(track);
  track.stop = () => { stop(); context.close(); };
  return track;
}

/**
 * getUserMedia's audio `constraints`, on the microphone whose label contains `label` when given
 * (a PulseAudio null sink's monitor fed by engines/services.mjs playIntoMicrophone: labels show
 * once access was granted). Returns the stream.
 */
export async function openMicrophone(constraints, label) {
  const audio = { ...constraints };
  if (label) {
    (await navigator.mediaDevices.getUserMedia({ audio: true })).getTracks().forEach((t) => t.stop());
    const device = (await navigator.mediaDevices.enumerateDevices()).find((d) => d.kind === 'audioinput' && d.label.includes(label));
    if (!device) throw new Error(`no microphone labelled ${label}`);
    audio.deviceId = { exact: device.deviceId };
  }
  return navigator.mediaDevices.getUserMedia({ audio });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
