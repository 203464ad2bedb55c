// Measures for the voice chain tests (Node and browser): speech level over speech frames,
// a tone's amplitude, and the click measure. The same definitions as tests/voice.rs.
import { fileURLToPath } from 'node:url';
import { pinkNoise, readWav, speechMask } from './audio.mjs';

export const TARGET_DB = -20;
export const CEILING = 10 ** (-1 / 20);
export const FRAME = 480; // 10 ms at 48 kHz

export const SPEECH = readWav(fileURLToPath(new URL('../fixtures/speech.wav', import.meta.url))).channels[0];

/** Mean power in dBFS of y (delayed by lag) over the 10 ms frames set in mask, from frame `from`. */
export function levelDb(y, lag, mask, from = 0, to = mask.length) {
  let sum = 0, count = 0;
  for (let f = from; f < to; f++) {
    const s = f * FRAME + lag;
    if (!mask[f] || s + FRAME > y.length) continue;
    for (let i = s; i < s + FRAME; i++) sum += y[i] * y[i];
    count += FRAME;
  }
  return 10 * Math.log10(sum / count);
}

/**
 * The speech fixture `times` times over at an active speech level of `level` dBFS, plus pink
 * noise `snr` dB below it. Returns { mix, clean, mask } (mask: speech frames of clean).
 */
export function scene(level, times = 1, snr = 20) {
  const one = speechMask(SPEECH, 48000);
  const g = 10 ** ((level - levelDb(SPEECH, 0, one)) / 20);
  const clean = new Float32Array(SPEECH.length * times);
  for (let k = 0; k < times; k++) for (let i = 0; i < SPEECH.length; i++) clean[k * SPEECH.length + i] = SPEECH[i] * g;
  const noise = pinkNoise(clean.length, 7, 10 ** ((level - snr) / 20));
  const mix = clean.map((v, i) => v + noise[i]);
  return { mix, clean, mask: speechMask(clean, 48000) };
}

/** Amplitude of the `freq` Hz component of x. */
export function toneAmplitude(x, freq, sampleRate = 48000) {
  let c = 0, s = 0;
  for (let n = 0; n < x.length; n++) {
    const p = (2 * Math.PI * freq * n) / sampleRate;
    c += x[n] * Math.cos(p);
    s += x[n] * Math.sin(p);
  }
  return (2 * Math.hypot(c, s)) / x.length;
}

export function peak(x) {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  return m;
}

/** High-frequency energy (of the fourth difference, +24 dB/octave) of d in 128-sample windows over [a, b). */
function hfWindows(d, a, b) {
  const out = [];
  for (let w = Math.max(4, a); w < Math.min(b, d.length); w += 128) {
    let e = 0;
    for (let n = w; n < Math.min(w + 128, b, d.length); n++) {
      e += (d[n] - 4 * d[n - 1] + 6 * d[n - 2] - 4 * d[n - 3] + d[n - 4]) ** 2;
    }
    out.push(e);
  }
  return out;
}

/**
 * Click measure in dB around output sample t: window by window, the high-frequency energy of
 * what the toggle changed (toggled - off) against that of the stage's whole effect (on - off);
 * the worst window counts (a floor of a tenth of the effect's mean keeps silent windows from
 * dividing by zero). A crossfade scales the effect smoothly: <= ~0 dB. A hard switch cuts it,
 * a broadband step: tens of dB.
 */
export function clickDb(toggled, on, off, t) {
  const diff = (y) => Float64Array.from(y, (v, i) => v - off[i]);
  const [a, b] = [Math.max(0, t - 1024), t + 1536];
  const dt = hfWindows(diff(toggled), a, b);
  const dOn = hfWindows(diff(on), a, b);
  const floor = (0.1 * dOn.reduce((s, x) => s + x, 0)) / dOn.length + 1e-30;
  return Math.max(...dt.map((x, i) => 10 * Math.log10((x + floor) / (dOn[i] + floor))));
}

/** The signal a hard switch between `off` and `on` at sample t would give. */
export function hardSwitch(on, off, t, turningOn) {
  return Float32Array.from(on, (v, n) => ((n >= t) === turningOn ? v : off[n]));
}
