// Audio benchmark: cost of denoising 10 ms (480 samples at 48 kHz) of noisy speech, for our
// wasm (raw C-ABI in 128-sample quanta, and through the worklet's process() to show the
// JavaScript overhead) next to the C RNNoise wasm builds of @sapphi-red/web-noise-suppressor
// (SIMD and scalar) and @jitsi/rnnoise-wasm, on the same input in the same process; and our
// DeepFilterNet3 (the shipped float16 weights), whole and its networks alone, against the C
// RNNoise SIMD build.
import { fileURLToPath } from 'node:url';
import { mixAtSnr, pinkNoise, readWav } from '../tests/helpers/audio.mjs';
import { FRAME, createCRnnoise } from '../tests/helpers/c-rnnoise.mjs';
import { createDeepFilter } from '../tests/helpers/deepfilter-wasm.mjs';
import { QUANTUM, createScope } from '../tests/helpers/worklet-host.mjs';
import { WEIGHTS_PATH, createWasmNetwork, rawWasm } from '../tests/helpers/deepfilter-network.mjs';
import { readFileSync } from 'node:fs';

const RATE = 48000;
const RUNS = 7;

function input() {
  const clean = readWav(fileURLToPath(new URL('../tests/fixtures/speech.wav', import.meta.url))).channels[0];
  const { mix } = mixAtSnr(clean, pinkNoise(clean.length, 7), 0);
  // Whole quanta and whole frames: 15 frames = 56.25 quanta, so cut to a multiple of 1920.
  return mix.subarray(0, mix.length - (mix.length % (4 * FRAME)));
}

/** Our wasm through its raw ABI, as the worklet drives it but without the worklet. */
function oursRaw(signal) {
  const e = rawWasm();
  const out = new Float32Array(signal.length);
  return () => {
    const h = e.vme_ns_create(RATE, 1);
    let view = new Float32Array(e.memory.buffer, e.vme_ns_buffer(h, 0), QUANTUM);
    for (let i = 0; i < signal.length; i += QUANTUM) {
      if (view.buffer !== e.memory.buffer) view = new Float32Array(e.memory.buffer, e.vme_ns_buffer(h, 0), QUANTUM);
      view.set(signal.subarray(i, i + QUANTUM));
      e.vme_ns_process(h, 1);
      out.set(view, i);
    }
    e.vme_ns_destroy(h);
  };
}

/** Our DeepFilterNet3 through its raw ABI, one 480-sample hop per call; created once (the
 * weights are parsed outside the timing), then streaming on. */
function oursDeepFilter(signal) {
  const dfn = createDeepFilter();
  const out = new Float32Array(signal.length);
  return () => {
    for (let i = 0; i < signal.length; i += FRAME) dfn.process(signal.subarray(i, i + FRAME), out.subarray(i, i + FRAME));
  };
}

/** A processor of the worklet in the Node stand-in of the AudioWorkletGlobalScope. */
function workletNode(scope, module, options = {}) {
  const node = scope.createNode({ module, enabled: true, attenuationLimitDb: null, vadIntervalMs: 50, ...options });
  if (node.messages[0]?.type !== 'ready') throw new Error(JSON.stringify(node.messages[0]));
  return node;
}

/** Streams `signal` through the node's process(), quantum by quantum. */
function streamThrough(node, signal) {
  const quantum = [new Float32Array(QUANTUM)];
  const outputs = [[new Float32Array(QUANTUM)]];
  for (let i = 0; i < signal.length; i += QUANTUM) {
    quantum[0].set(signal.subarray(i, i + QUANTUM));
    node.processor.process([quantum], outputs, {});
  }
}

/** Our worklet's process() (RNNoise, a node created per run). */
function oursWorklet(signal) {
  const scope = createScope({ sampleRate: RATE });
  const module = scope.packageModule();
  return () => {
    const node = workletNode(scope, module);
    streamThrough(node, signal);
    node.post({ type: 'destroy' });
  };
}

/** DeepFilterNet3 through the worklet's process(): one node, created (networks built) once
 * outside the timing, then streaming on, like `oursDeepFilter`. */
function oursWorkletDeepFilter(signal) {
  const scope = createScope({ sampleRate: RATE });
  const file = readFileSync(WEIGHTS_PATH);
  const weights = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
  const node = workletNode(scope, scope.packageModule(), { model: 'deepfilternet3', weights });
  return () => streamThrough(node, signal);
}

/** DeepFilterNet3's three networks alone (no DSP), one step per frame, feature-like inputs. */
function dfnNetworks(frames) {
  const net = createWasmNetwork();
  return () => {
    net.reset();
    for (let i = 0; i < frames; i++) {
      for (let k = 0; k < net.features.length; k++) net.features[k] = ((i * 7 + k * 13) % 29) / 29 - 0.6;
      net.step();
    }
  };
}

/** C RNNoise frame by frame, with the int16 scaling its JavaScript wrappers do. */
function cRnnoise(variant, signal) {
  const frame = new Float32Array(FRAME);
  const out = new Float32Array(signal.length);
  return () => {
    const d = createCRnnoise(variant);
    for (let i = 0; i < signal.length; i += FRAME) {
      for (let k = 0; k < FRAME; k++) frame[k] = signal[i + k] * 32768;
      d.processFrame(frame);
      for (let k = 0; k < FRAME; k++) out[i + k] = frame[k] / 32768;
    }
    d.destroy();
  };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs each contender once to warm up, then RUNS times interleaved; returns the table rows. */
export function runAudioBench({ log = console.log } = {}) {
  const signal = input();
  const frames = signal.length / FRAME;
  const contenders = [
    ['visio-media-effects (raw ABI)', oursRaw(signal)],
    ['visio-media-effects (worklet process())', oursWorklet(signal)],
    ['C RNNoise SIMD (@sapphi-red)', cRnnoise('sapphi-simd', signal)],
    ['C RNNoise scalar (@sapphi-red)', cRnnoise('sapphi-scalar', signal)],
    ['C RNNoise (@jitsi/rnnoise-wasm)', cRnnoise('jitsi', signal)],
    ['DeepFilterNet3 (ours, wasm raw ABI: STFT, features, networks, filters)', oursDeepFilter(signal)],
    ["DeepFilterNet3 through the worklet's process() (ours)", oursWorkletDeepFilter(signal)],
    ['DeepFilterNet3 networks only (ours, wasm)', dfnNetworks(frames)],
  ];
  const times = contenders.map(() => []);
  for (const [, run] of contenders) run();
  for (let r = 0; r < RUNS; r++) {
    contenders.forEach(([, run], i) => {
      const t = process.hrtime.bigint();
      run();
      times[i].push(Number(process.hrtime.bigint() - t) / 1000 / frames);
    });
  }
  const rows = contenders.map(([name], i) => ({ name, usPerFrame: median(times[i]) }));
  const ours = rows[0].usPerFrame;
  log(`\n## Audio: noise suppression, µs per 10 ms frame (480 samples at 48 kHz)`);
  log(`input: ${(signal.length / RATE).toFixed(2)} s of speech + pink noise at 0 dB SNR, ${frames} frames; ` +
    `median of ${RUNS} runs after a warm-up; Node ${process.versions.node}`);
  log('| implementation | µs / frame | % of real time | ours (raw) is N× faster |');
  log('|---|---:|---:|---:|');
  for (const r of rows) {
    log(`| ${r.name} | ${r.usPerFrame.toFixed(1)} | ${(r.usPerFrame / 100).toFixed(2)} % | ${(r.usPerFrame / ours).toFixed(2)}× |`);
  }
  const dfn = rows.find((r) => r.name.startsWith('DeepFilterNet3 (')).usPerFrame;
  const nets = rows.find((r) => r.name.startsWith('DeepFilterNet3 networks')).usPerFrame;
  const cSimd = rows.find((r) => r.name.startsWith('C RNNoise SIMD')).usPerFrame;
  const dfnWorklet = rows.find((r) => r.name.startsWith('DeepFilterNet3 through')).usPerFrame;
  log(`DeepFilterNet3 through the worklet's process() / C RNNoise SIMD: ${(dfnWorklet / cSimd).toFixed(2)}×`);
  log(`DeepFilterNet3 / C RNNoise SIMD: ${(dfn / cSimd).toFixed(2)}× whole, ${(nets / cSimd).toFixed(2)}× networks ` +
    'only (target <= 4×, stretch 2.5×; the tract-based libDF wasm build measured ~1,420 µs per frame on this ' +
    'machine, issue #7)');
  return rows;
}
