// Audio utilities for the Node tests and the benchmark: WAV I/O, deterministic noise, mixing,
// level and quality measures. No dependencies; every signal is a Float32Array in [-1, 1].
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Reads a RIFF/WAVE file: PCM 16-bit or IEEE float 32-bit (plain or WAVE_FORMAT_EXTENSIBLE).
 * @returns {{ sampleRate: number, channels: Float32Array[] }} one array per channel
 */
export function readWav(path) {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const tag = (o) => buf.toString('latin1', o, o + 4);
  if (tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error(`${path}: not a RIFF/WAVE file`);
  let fmt = null;
  let data = null;
  for (let o = 12; o + 8 <= buf.length; ) {
    const id = tag(o);
    const size = view.getUint32(o + 4, true);
    if (id === 'fmt ') {
      let format = view.getUint16(o + 8, true);
      if (format === 0xfffe) format = view.getUint16(o + 8 + 24, true); // SubFormat GUID's first 2 bytes
      fmt = {
        format,
        channels: view.getUint16(o + 10, true),
        sampleRate: view.getUint32(o + 12, true),
        bits: view.getUint16(o + 22, true),
      };
    } else if (id === 'data') {
      data = { offset: o + 8, size: Math.min(size, buf.length - o - 8) };
    }
    o += 8 + size + (size & 1); // chunks are word-aligned
  }
  if (!fmt || !data) throw new Error(`${path}: missing fmt or data chunk`);
  const { format, channels: n, sampleRate, bits } = fmt;
  const pcm16 = format === 1 && bits === 16;
  const float32 = format === 3 && bits === 32;
  if (!pcm16 && !float32) throw new Error(`${path}: unsupported WAV format ${format}/${bits} bits`);
  const frames = Math.floor(data.size / (n * bits / 8));
  const channels = Array.from({ length: n }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++) {
      const o = data.offset + (i * n + c) * (bits / 8);
      channels[c][i] = pcm16 ? view.getInt16(o, true) / 32768 : view.getFloat32(o, true);
    }
  }
  return { sampleRate, channels };
}

/** Writes channels (Float32Array[] of equal length) as 16-bit PCM, clipping at full scale. */
export function writeWav(path, channels, sampleRate) {
  const n = channels.length;
  const frames = channels[0].length;
  const buf = Buffer.alloc(44 + frames * n * 2);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + frames * n * 2, 4);
  buf.write('WAVEfmt ', 8, 'latin1');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(n, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * n * 2, 28);
  buf.writeUInt16LE(n * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(frames * n * 2, 40);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < n; c++) {
      // The inverse of readWav's /32768, so 16-bit data round-trips exactly.
      const v = Math.round(channels[c][i] * 32768);
      buf.writeInt16LE(Math.max(-32768, Math.min(32767, v)), 44 + (i * n + c) * 2);
    }
  }
  writeFileSync(path, buf);
}

/** Seeded uniform PRNG in [0, 1) (mulberry32): the same seed gives the same noise everywhere. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic white noise, uniform in [-1, 1), scaled to the given RMS (default -20 dBFS). */
export function whiteNoise(length, seed, targetRms = 0.1) {
  const rand = prng(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = 2 * rand() - 1;
  return scaleTo(out, targetRms);
}

/**
 * Deterministic pink noise (-3 dB/octave): white noise through Paul Kellett's published
 * 7-pole pink filter (accurate to ~0.05 dB above 9 Hz at 44.1 kHz), scaled to targetRms.
 */
export function pinkNoise(length, seed, targetRms = 0.1) {
  const rand = prng(seed);
  const out = new Float32Array(length);
  let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  for (let i = 0; i < length; i++) {
    const w = 2 * rand() - 1;
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return scaleTo(out, targetRms);
}

/** Multiplies x in place so that rms(x) === target; returns x. */
export function scaleTo(x, target) {
  const g = target / (rms(x) || 1);
  for (let i = 0; i < x.length; i++) x[i] *= g;
  return x;
}

/**
 * Mixes speech with noise scaled so that rms(speech) / rms(scaled noise) is snrDb (both measured
 * over the whole of speech's length, pauses included). Noise must be at least as long as speech.
 * @returns {{ mix: Float32Array, noise: Float32Array }} the mixture and the noise as mixed in
 */
export function mixAtSnr(speech, noise, snrDb) {
  if (noise.length < speech.length) throw new Error('noise shorter than speech');
  const n = noise.subarray(0, speech.length);
  const g = rms(speech) / (rms(n) || 1) / 10 ** (snrDb / 20);
  const mix = new Float32Array(speech.length);
  const scaled = new Float32Array(speech.length);
  for (let i = 0; i < speech.length; i++) {
    scaled[i] = n[i] * g;
    mix[i] = speech[i] + scaled[i];
  }
  return { mix, noise: scaled };
}

/** Root mean square of x (or of x[start, end)). */
export function rms(x, start = 0, end = x.length) {
  let s = 0;
  for (let i = start; i < end; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, end - start));
}

/** Level in dB relative to full scale (a full-scale square wave is 0 dBFS); -Infinity for 0. */
export function dbfs(x, start, end) {
  return 20 * Math.log10(rms(x, start, end));
}

/**
 * Scale-invariant signal-to-distortion ratio in dB (Le Roux et al. 2019): both signals made
 * zero-mean, the estimate projected on the reference; the two must already be time-aligned.
 */
export function siSdr(estimate, reference) {
  const n = Math.min(estimate.length, reference.length);
  let me = 0, mr = 0;
  for (let i = 0; i < n; i++) { me += estimate[i]; mr += reference[i]; }
  me /= n; mr /= n;
  let dot = 0, rr = 0;
  for (let i = 0; i < n; i++) {
    const r = reference[i] - mr;
    dot += (estimate[i] - me) * r;
    rr += r * r;
  }
  const alpha = dot / rr;
  let target = 0, err = 0;
  for (let i = 0; i < n; i++) {
    const t = alpha * (reference[i] - mr);
    const e = estimate[i] - me - t;
    target += t * t;
    err += e * e;
  }
  return 10 * Math.log10(target / err);
}

/** SNR in dB of `estimate` against `reference` (the error is their difference), over reference's length. */
export function snrDb(estimate, reference) {
  let signal = 0;
  let error = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i] ** 2;
    error += (estimate[i] - reference[i]) ** 2;
  }
  return 10 * Math.log10(signal / error);
}

/**
 * Lag (in samples, within [-maxLag, maxLag]) that maximises sum a[n + lag] * b[n]: a positive
 * lag means a is b delayed by lag. Brute force, so keep maxLag * length modest (a few 1e8).
 */
export function alignByXcorr(a, b, maxLag) {
  let best = 0;
  let bestValue = -Infinity;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const start = Math.max(0, -lag);
    const end = Math.min(b.length, a.length - lag);
    let s = 0;
    for (let n = start; n < end; n++) s += a[n + lag] * b[n];
    if (s > bestValue) { bestValue = s; best = lag; }
  }
  return best;
}

/** Returns x delayed by lag samples (lag > 0 drops the first lag samples of x), zero-padded. */
export function shift(x, lag, length = x.length) {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const j = i + lag;
    if (j >= 0 && j < x.length) out[i] = x[j];
  }
  return out;
}

/** Energy per frame in dBFS (frames of frameMs, the last partial frame dropped). */
export function framesDb(x, sampleRate, frameMs = 10) {
  const size = Math.round(sampleRate * frameMs / 1000);
  const count = Math.floor(x.length / size);
  const out = new Float64Array(count);
  for (let f = 0; f < count; f++) out[f] = dbfs(x, f * size, (f + 1) * size);
  return out;
}

/**
 * Per-frame speech activity of a clean recording: a frame is speech when its energy is within
 * thresholdDb of the loudest frame (the fixture's pauses are digital silence, so this is exact
 * at the pauses and only blurs the quietest consonants).
 */
export function speechMask(clean, sampleRate, frameMs = 10, thresholdDb = 40) {
  const db = framesDb(clean, sampleRate, frameMs);
  const max = Math.max(...db);
  return Array.from(db, (d) => d > max - thresholdDb);
}

/**
 * Band-limited resampling by a Kaiser-windowed sinc (for tests: plain, not fast). Cutoff at 0.9 of
 * the lower rate's Nyquist, 32 zero crossings each side; the kernel is tabulated and interpolated.
 */
export function resample(x, fromRate, toRate) {
  if (fromRate === toRate) return Float32Array.from(x);
  const ratio = toRate / fromRate;
  const cutoff = 0.9 * Math.min(1, ratio); // fraction of the input's Nyquist
  const half = Math.ceil(32 / cutoff); // kernel half-width in input samples
  const steps = 256; // table points per input sample
  const i0 = (v) => { let s = 1, t = 1; for (let k = 1; k < 40; k++) { t *= (v / (2 * k)) ** 2; s += t; } return s; };
  const beta = 8.6;
  const table = new Float64Array(half * steps + 2);
  for (let i = 0; i < table.length; i++) {
    const d = i / steps;
    const arg = Math.PI * cutoff * d;
    const w = d >= half ? 0 : i0(beta * Math.sqrt(1 - (d / half) ** 2)) / i0(beta);
    table[i] = w * cutoff * (arg === 0 ? 1 : Math.sin(arg) / arg);
  }
  const kernel = (d) => {
    const p = Math.abs(d) * steps;
    const i = Math.floor(p);
    return table[i] + (p - i) * (table[i + 1] - table[i]);
  };
  const out = new Float32Array(Math.floor(x.length * ratio));
  for (let j = 0; j < out.length; j++) {
    const pos = j / ratio;
    const centre = Math.floor(pos);
    let s = 0;
    for (let k = Math.max(0, centre - half + 1); k <= Math.min(x.length - 1, centre + half); k++) {
      s += x[k] * kernel(pos - k);
    }
    out[j] = s;
  }
  return out;
}

/**
 * Mains hum (50 Hz and its odd harmonics 150, 250 Hz at -6 and -12 dB) plus white hiss 6 dB
 * below it: a stationary noise very unlike pink noise. Deterministic; scaled to targetRms.
 */
export function humAndHiss(length, sampleRate, seed, targetRms = 0.1) {
  const hiss = whiteNoise(length, seed, 0.5);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const t = (2 * Math.PI * 50 * i) / sampleRate;
    out[i] = Math.sin(t) + 0.5 * Math.sin(3 * t) + 0.25 * Math.sin(5 * t) + hiss[i];
  }
  return scaleTo(out, targetRms);
}

/**
 * Deterministic low-frequency rumble: white noise through two one-pole low-passes at 40 Hz
 * (traffic, a building's ventilation, a desk knocked), the band DeepFilterNet3 is said to
 * handle worst. Scaled to targetRms.
 */
export function rumble(length, sampleRate, seed, targetRms = 0.1) {
  const w = whiteNoise(length, seed, 1);
  const a = Math.exp((-2 * Math.PI * 40) / sampleRate);
  const out = new Float32Array(length);
  let y1 = 0, y2 = 0;
  for (let i = 0; i < length; i++) {
    y1 = a * y1 + (1 - a) * w[i];
    y2 = a * y2 + (1 - a) * y1;
    out[i] = y2;
  }
  return scaleTo(out, targetRms);
}

/**
 * Keyboard-like clicks: 3 ms bursts of white noise with a 1.5 ms exponential decay, at random
 * intervals of 60-250 ms (typing speed), each at a random level within 10 dB. Impulsive and
 * non-stationary, unlike every other generator here. Scaled to targetRms.
 */
export function clicks(length, sampleRate, seed, targetRms = 0.1) {
  const rand = prng(seed);
  const out = new Float32Array(length);
  const burst = Math.round(0.003 * sampleRate);
  const decay = 0.0015 * sampleRate;
  for (let at = 0; at < length; at += Math.round((0.06 + 0.19 * rand()) * sampleRate)) {
    const level = 10 ** (-rand() / 2);
    for (let i = 0; i < burst && at + i < length; i++) out[at + i] = level * (2 * rand() - 1) * Math.exp(-i / decay);
  }
  return scaleTo(out, targetRms);
}

/**
 * Babble from one recording: `talkers` copies of `speech`, time-reversed (so no word is
 * intelligible, as in a crowd) and each started at a different offset, looped to `length`.
 * Scaled to targetRms.
 */
export function babble(speech, length, talkers = 4, targetRms = 0.1) {
  const out = new Float32Array(length);
  const n = speech.length;
  for (let k = 0; k < talkers; k++) {
    const offset = Math.floor((k * n) / talkers);
    for (let i = 0; i < length; i++) out[i] += speech[n - 1 - ((i + offset) % n)];
  }
  return scaleTo(out, targetRms);
}
