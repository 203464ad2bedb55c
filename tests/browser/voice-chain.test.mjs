// The voice chain live in Chromium: the fake microphone plays quiet noisy speech (the fixture
// twice at -40 dBFS, pink noise 20 dB below); suppressNoise runs with Visio's settings
// (intensity 90, every stage on) and the page records the processed track. Once with the
// browser's own processing off, once with Visio's constraints (autoGainControl,
// noiseSuppression, echoCancellation on), to see how the two chains stack.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromiumTest as test } from './engines/index.mjs';
import { writeWav } from '../helpers/audio.mjs';
import { CEILING, TARGET_DB, levelDb, peak, scene } from '../helpers/voice.mjs';
import { findDelay, fromBase64, withBrowser } from './harness.mjs';

const RATE = 48000;
const LEAD = RATE; // 1 s of noise before the speech
let mic;
before(() => {
  const { mix, clean, mask } = scene(-40, 2, 20);
  const pad = (x) => { const out = new Float32Array(LEAD + x.length + RATE / 2); out.set(x, LEAD); return out; };
  const dir = mkdtempSync(join(tmpdir(), 'vme-voice-'));
  const path = join(dir, 'quiet-speech.wav');
  writeWav(path, [pad(mix)], RATE);
  mic = { path, clean: pad(clean), mask, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});
after(() => mic?.cleanup());

async function recordLive(browserProcessing) {
  const seconds = mic.clean.length / RATE + 0.7;
  return withBrowser({ fakeAudio: mic.path }, async ({ page, errors }) => {
    const result = await page.evaluate(async ({ seconds, browserProcessing }) => {
      const { suppressNoise } = await import('/pkg/index.js');
      const { startRecorder, toBase64, sleep } = await import('/__tests__/page-helpers.js');
      const on = browserProcessing;
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: on, noiseSuppression: on, autoGainControl: on },
      });
      const track = stream.getAudioTracks()[0];
      const ns = await suppressNoise(track, { sampleRate: 48000, intensity: 90, voice: true });
      const rec = new AudioContext({ sampleRate: 48000 });
      const recorder = await startRecorder(rec, [
        rec.createMediaStreamSource(new MediaStream([track])),
        rec.createMediaStreamSource(new MediaStream([ns.track])),
      ]);
      // A live change half-way: the compressor off and on again (no restart, no error).
      await sleep(seconds * 500);
      ns.update({ voice: { compressor: false } });
      await sleep(300);
      ns.update({ voice: { compressor: true } });
      await sleep(seconds * 500 - 300);
      const [mic, processed] = await recorder.stop();
      const info = { active: ns.node.active, latency: ns.node.latency, voice: ns.node.voice, settings: track.getSettings() };
      await ns.destroy();
      await rec.close();
      track.stop();
      return { ...info, mic: toBase64(mic), processed: toBase64(processed) };
    }, { seconds, browserProcessing });
    assert.deepEqual(errors, [], 'no uncaught page errors');
    return { ...result, mic: fromBase64(result.mic), processed: fromBase64(result.processed) };
  });
}

function measure(run, label) {
  assert.equal(run.active, true, 'suppression reported running');
  assert.deepEqual(run.voice, { highPass: true, leveler: true, compressor: true, limiter: true });
  assert.equal(Math.round(run.latency * RATE), 1000, 'latency with the limiter on at creation');
  const delay = findDelay(run.processed, mic.clean, RATE);
  const micDelay = findDelay(run.mic, mic.clean, RATE);
  // The speech frames of the second pass, on the recording's timeline.
  const half = Math.floor(mic.mask.length / 2);
  const mask = new Array(LEAD / 480).fill(false).concat(mic.mask.map((m, f) => m && f >= half));
  const out = levelDb(run.processed, delay, mask);
  const input = levelDb(run.mic, micDelay, mask);
  // Pauses inside the second pass (10 frames away from any speech).
  const all = new Array(LEAD / 480).fill(false).concat(mic.mask);
  const last = all.lastIndexOf(true);
  const pauses = all.map((_, f) => f >= LEAD / 480 + half && f < last && !all.slice(f - 10, f + 10).some(Boolean));
  const p = peak(run.processed);
  const figures = {
    label,
    micSpeechDbfs: +input.toFixed(2),
    micPauseDbfs: +levelDb(run.mic, micDelay, pauses).toFixed(2),
    outputSpeechDbfs: +out.toFixed(2),
    outputPauseDbfs: +levelDb(run.processed, delay, pauses).toFixed(2),
    peakDbfs: +(20 * Math.log10(p)).toFixed(3),
  };
  console.log('voice chain live', JSON.stringify(figures));
  return { out, p, input };
}

test('live: quiet speech is levelled to the target and never exceeds -1 dBFS', { timeout: 120_000 }, async () => {
  const run = await recordLive(false);
  const { out, p, input } = measure(run, 'browser processing off');
  assert.ok(Math.abs(input - -40) < 3, `the raw microphone plays the file's level (${input.toFixed(1)} dBFS)`);
  assert.ok(Math.abs(out - TARGET_DB) <= 3, `speech came out at ${out.toFixed(2)} dBFS (target ${TARGET_DB})`);
  assert.ok(p <= CEILING, `peak ${p} above -1 dBFS`);
});

test("live: with Chromium's autoGainControl + noiseSuppression on (Visio's constraints)", { timeout: 120_000 }, async () => {
  const run = await recordLive(true);
  const { out, p } = measure(run, 'browser AGC + NS + AEC on');
  assert.ok(Math.abs(out - TARGET_DB) <= 3, `speech came out at ${out.toFixed(2)} dBFS (target ${TARGET_DB})`);
  assert.ok(p <= CEILING, `peak ${p} above -1 dBFS`);
});
