// suppressNoise() on the live path, in every engine: the microphone plays speech + pink noise
// (0 dB SNR, speech at -32 dBFS) from a WAV (Chromium's fake microphone; elsewhere a track the
// page plays the same WAV into, see page-helpers.js); the page records the raw microphone and the denoised track side by
// side as raw PCM in a second AudioContext, and Node compares them on the file's timeline.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { audioTest, forEachEngine } from './engines/index.mjs';
import { makeNoisyMic, measureSuppression, recordSuppressedLive } from './harness.mjs';

let mic;
before(() => { mic = makeNoisyMic({ snrDb: 0 }); });
after(() => mic?.cleanup());

/** Runs the live recording in a fresh browser; `sampleRate` forces suppressNoise's context rate. */
function recordLive(engine, sampleRate) {
  // The page-made microphone runs at `sampleRate` too (Chromium's fake one at 44.1 kHz).
  return recordSuppressedLive({ engine, mic, micRate: sampleRate, options: sampleRate ? { sampleRate } : {} });
}

function checkSuppression(engine, run, expectedRate) {
  assert.equal(run.contextRate, expectedRate);
  assert.equal(run.active, true, 'suppression reported running');
  assert.equal(run.ended, 'ended', 'destroy() stops the output track');
  assert.equal(run.contextState, 'closed', 'destroy() closes the context suppressNoise created');
  const m = measureSuppression(mic, run.raw, run.processed);
  // Where the vad events fall on the file's timeline: recording frame minus the mic's delay.
  const frameOf = (t) => Math.round((t - run.startTime) / 10) - Math.round(m.rawDelay / (mic.sampleRate / 100));
  const inSpeech = run.vad.filter(({ t }) => m.speechMask[frameOf(t)]);
  const inPause = run.vad.filter(({ t }) => { const f = frameOf(t); return f >= 0 && f < m.speechMask.length && !m.speechMask.slice(Math.max(0, f - 10), f + 5).some(Boolean); });
  const mean = (xs) => xs.reduce((s, x) => s + x.p, 0) / Math.max(1, xs.length);
  const figures = {
    rate: run.contextRate,
    latencyMs: +(run.latency * 1000).toFixed(2),
    noiseReductionDb: +m.noiseReductionDb.toFixed(1),
    leadNoiseReductionDb: +m.leadNoiseReductionDb.toFixed(1),
    leadFrames: m.leadFrames,
    speechChangeDb: +m.speechChangeDb.toFixed(2),
    rawSpeechVsCleanDb: +m.rawSpeechVsCleanDb.toFixed(2),
    siSdrRaw: +m.siSdrRaw.toFixed(1),
    siSdrProcessed: +m.siSdrProcessed.toFixed(1),
    pauseFrames: m.pauseFrames,
    speechFrames: m.speechFrames,
    vadEvents: run.vad.length,
    vadMaxInSpeech: +Math.max(0, ...inSpeech.map((v) => v.p)).toFixed(3),
    vadMeanInSpeech: +mean(inSpeech).toFixed(3),
    vadMeanInPauses: +mean(inPause).toFixed(3),
  };
  console.log(`[${engine.name}] suppressNoise live`, JSON.stringify(figures));
  assert.ok(m.pauseFrames >= 100, `enough pause frames measured (${m.pauseFrames})`);
  assert.ok(m.speechFrames >= 200, `enough speech frames measured (${m.speechFrames})`);
  assert.ok(m.noiseReductionDb >= 15, `noise floor in pauses lowered by ${m.noiseReductionDb.toFixed(1)} dB (>= 15)`);
  assert.ok(Math.abs(m.speechChangeDb) <= 4, `speech energy kept within 4 dB of the clean speech (${m.speechChangeDb.toFixed(2)} dB)`);
  assert.ok(inSpeech.some((v) => v.p > 0.5), `a vad event above 0.5 during speech (max ${figures.vadMaxInSpeech})`);
}

forEachEngine((engine) => {
  audioTest(engine, 'suppressNoise denoises a live microphone track in a 48 kHz context', { timeout: 120_000 }, async () => {
    checkSuppression(engine, await recordLive(engine, 48000), 48000);
  });

  audioTest(engine, 'suppressNoise denoises a live microphone track at its own rate (44.1 kHz)', { timeout: 120_000 }, async () => {
    // Chromium's fake microphone runs at 44.1 kHz (whatever the file's rate) and says so:
    // without the option the context follows the track. The page-made microphone of the other
    // engines also runs at 44.1 kHz but its getSettings() has no sampleRate, so the rate is
    // asked for there.
    const reportsRate = engine.name === 'chromium';
    const run = await recordLive(engine, reportsRate ? undefined : 44100);
    if (reportsRate) assert.equal(run.trackRate, 44100, 'the microphone reports 44.1 kHz; if that changed, pass sampleRate: 44100 here');
    checkSuppression(engine, run, 44100);
  });
});
