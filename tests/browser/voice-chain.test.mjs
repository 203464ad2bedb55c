// The voice chain live, in every engine: the microphone plays quiet noisy speech (the fixture
// twice at -40 dBFS, pink noise 20 dB below); suppressNoise runs with Visio's settings
// (intensity 90, every stage on) and the page records the processed track. Once with the
// browser's own processing off, once with Visio's constraints (autoGainControl,
// noiseSuppression, echoCancellation on), to see how the two chains stack.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { audioTest, forEachEngine } from './engines/index.mjs';
import { playIntoMicrophone } from './engines/services.mjs';
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

/**
 * Records the microphone and suppressNoise's output side by side for the file's length. In
 * Chromium the fake microphone plays the file through getUserMedia with the browser's own
 * processing as asked. Elsewhere: with the browser's processing off, the page plays the file into
 * a track itself (page-helpers.js rawMicrophone: no processing to turn off); on, the file plays
 * into a PulseAudio null sink whose monitor the page opens with getUserMedia, so that the
 * browser's own AGC, noise suppression and echo cancellation act on it as on a real microphone.
 */
async function recordLive(engine, browserProcessing) {
  const chromium = engine.name === 'chromium';
  const feed = !chromium && browserProcessing ? playIntoMicrophone(mic.path, RATE) : null;
  // paplay starts after getUserMedia, a moment later than Chromium's fake microphone.
  const seconds = mic.clean.length / RATE + (feed ? 2 : 0.7);
  try {
    return await withBrowser({ engine, fakeAudio: mic.path }, async ({ page, errors }) => {
      await page.evaluate(async ({ browserProcessing, micLabel, pageMic }) => {
        const { suppressNoise } = await import('/pkg/index.js');
        const { openMicrophone, rawMicrophone, startRecorder } = await import('/__tests__/page-helpers.js');
        let track;
        if (pageMic) {
          track = await rawMicrophone(48000);
        } else {
          const on = browserProcessing;
          const stream = await openMicrophone({ echoCancellation: on, noiseSuppression: on, autoGainControl: on }, micLabel);
          track = stream.getAudioTracks()[0];
        }
        const ns = await suppressNoise(track, { sampleRate: 48000, intensity: 90, voice: true });
        const rec = new AudioContext({ sampleRate: 48000 });
        const recorder = await startRecorder(rec, [
          rec.createMediaStreamSource(new MediaStream([track])),
          rec.createMediaStreamSource(new MediaStream([ns.track])),
        ]);
        globalThis.__voice = { track, ns, rec, recorder };
      }, { browserProcessing, micLabel: feed?.name, pageMic: !chromium && !browserProcessing });
      feed?.play();
      const result = await page.evaluate(async ({ seconds }) => {
        const { toBase64, sleep } = await import('/__tests__/page-helpers.js');
        const { track, ns, rec, recorder } = globalThis.__voice;
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
      }, { seconds });
      assert.deepEqual(errors, [], 'no uncaught page errors');
      return { ...result, mic: fromBase64(result.mic), processed: fromBase64(result.processed) };
    });
  } finally {
    feed?.close();
  }
}

function measure(run, label) {
  assert.equal(run.active, true, 'suppression reported running');
  assert.deepEqual(run.voice, { highPass: true, leveler: true, compressor: true, limiter: true });
  assert.equal(Math.round(run.latency * RATE), 1000, 'latency with the limiter on at creation');
  // The speech frames of the second pass, on the recording's timeline.
  const half = Math.floor(mic.mask.length / 2);
  // Aligned on the second pass, the one measured: a microphone fed through PulseAudio (Firefox)
  // drops and repeats samples to follow its clock, so one delay for the whole file can miss it.
  const from = LEAD + half * 480;
  const secondPass = mic.clean.subarray(from);
  const delay = findDelay(run.processed, secondPass, RATE, from / RATE + 4) - from;
  const micDelay = findDelay(run.mic, secondPass, RATE, from / RATE + 4) - from;
  const mask = new Array(LEAD / 480).fill(false).concat(mic.mask.map((m, f) => m && f >= half));
  const out = levelDb(run.processed, delay, mask);
  const input = levelDb(run.mic, micDelay, mask);
  // Pauses inside the second pass (10 frames away from any speech).
  const all = new Array(LEAD / 480).fill(false).concat(mic.mask);
  const last = all.lastIndexOf(true);
  const pauses = all.map((_, f) => f >= LEAD / 480 + half && f < last && !all.slice(f - 10, f + 10).some(Boolean));
  const p = peak(run.processed);
  const figures = {
    label, delay, micDelay,
    micSpeechDbfs: +input.toFixed(2),
    micPauseDbfs: +levelDb(run.mic, micDelay, pauses).toFixed(2),
    outputSpeechDbfs: +out.toFixed(2),
    outputPauseDbfs: +levelDb(run.processed, delay, pauses).toFixed(2),
    peakDbfs: +(20 * Math.log10(p)).toFixed(3),
  };
  console.log('voice chain live', JSON.stringify(figures));
  return { out, p, input };
}

/** Why the browser-processing run is skipped outside Chromium. */
const BROWSER_PROCESSING = {
  firefox: process.env.VME_FIREFOX_MIC ? undefined
    : "Firefox's own AGC/NS/AEC act only on a getUserMedia device, here a PulseAudio monitor fed by paplay, and Firefox's capture from it drops and repeats samples to follow its clock (suppress-noise-realtime.test.mjs measured 903 lag steps in 48 s) and loses the file's start: the recording cannot be aligned with the file reliably enough to find its speech frames (8 runs at a load of ~20: in 5 the pauses measured within 2-6 dB of the speech, i.e. misaligned, and in 2 of those the speech 3.0-4.7 dB under the target; -21.2 to -22.2 dBFS, target -20, in the others). VME_FIREFOX_MIC=1 runs it",
  webkit: 'WebKitGTK has no autoGainControl or noiseSuppression constraint (getSupportedConstraints lists echoCancellation only), and under WebKitWebDriver it lists no microphone at all (getUserMedia({ audio: true }) rejects with OverconstrainedError): no browser processing to stack with ours',
};

forEachEngine((engine) => {
  audioTest(engine, 'live: quiet speech is levelled to the target and never exceeds -1 dBFS', { timeout: 120_000 }, async () => {
    const run = await recordLive(engine, false);
    const { out, p, input } = measure(run, `[${engine.name}] browser processing off`);
    assert.ok(Math.abs(input - -40) < 3, `the raw microphone plays the file's level (${input.toFixed(1)} dBFS)`);
    assert.ok(Math.abs(out - TARGET_DB) <= 3, `speech came out at ${out.toFixed(2)} dBFS (target ${TARGET_DB})`);
    assert.ok(p <= CEILING, `peak ${p} above -1 dBFS`);
  });

  audioTest(engine, "live: with the browser's autoGainControl + noiseSuppression + echoCancellation on (Visio's constraints)", { timeout: 120_000, skip: BROWSER_PROCESSING[engine.name] }, async () => {
    const run = await recordLive(engine, true);
    const { out, p } = measure(run, `[${engine.name}] browser AGC + NS + AEC on`);
    assert.ok(Math.abs(out - TARGET_DB) <= 3, `speech came out at ${out.toFixed(2)} dBFS (target ${TARGET_DB})`);
    assert.ok(p <= CEILING, `peak ${p} above -1 dBFS`);
  });
});
