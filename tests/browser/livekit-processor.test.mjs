// NoiseSuppressionProcessor on a real livekit-client LocalAudioTrack (the package's own ESM
// build, served at /vendor/livekit-client/): the processed track is denoised like
// suppressNoise's, then 100 stopProcessor/setProcessor cycles leave no suppressor behind. In
// every engine: outside Chromium the microphone is the page's own track playing the same file
// (page-helpers.js rawMicrophone), handed to livekit as a user track.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { audioTest, forEachEngine } from './engines/index.mjs';
import { fromBase64, makeNoisyMic, measureSuppression, withBrowser } from './harness.mjs';

let mic;
before(() => { mic = makeNoisyMic({ snrDb: 0 }); });
after(() => mic?.cleanup());

const CYCLES = 100;

forEachEngine((engine) => audioTest(engine, 'NoiseSuppressionProcessor denoises a LocalAudioTrack and toggles 100 times without a leak', {
  timeout: 180_000,
}, async () => {
  const seconds = mic.mix.length / mic.sampleRate + 0.7;
  await withBrowser({ engine, fakeAudio: mic.path }, async ({ page, errors }) => {
    const r = await page.evaluate(async ({ seconds, cycles }) => {
      const { NoiseSuppressionProcessor } = await import('/pkg/index.js');
      const { LocalAudioTrack, createLocalAudioTrack, setLogLevel } = await import('/vendor/livekit-client/livekit-client.esm.mjs');
      const { rawMicrophone, recordTracks, toBase64 } = await import('/__tests__/page-helpers.js');
      setLogLevel('warn');
      const constraints = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
      let track;
      if (globalThis.__vmeFake?.audio) {
        const microphone = await rawMicrophone(48000); // the rate of livekit's context here: no resampling drift
        // stopProcessor() re-applies the track's constraints; Firefox rejects any on a
        // MediaStreamAudioDestinationNode's track (OverconstrainedError), where a microphone
        // takes them: the page's microphone has none.
        microphone.applyConstraints = async () => {};
        track = new LocalAudioTrack(microphone, constraints, true);
      } else {
        track = await createLocalAudioTrack(constraints);
      }
      // Outside a Room nothing gives the track a context: the application does (see index.d.ts).
      const context = new AudioContext();
      await track.setAudioContext(context);
      const vad = [];
      const processor = new NoiseSuppressionProcessor({ onVad: (e) => vad.push({ t: performance.now(), p: e.probability }) });
      let eventCount = 0;
      processor.addEventListener('vad', () => { eventCount++; });
      const rawTrack = track.mediaStreamTrack; // after setProcessor this getter returns the processed one
      await track.setProcessor(processor);
      const processed = processor.processedTrack;
      const recording = await recordTracks([rawTrack, processed], seconds);
      const [raw, out] = recording.samples;
      const first = {
        active: processor.active, latency: processor.latency, name: processor.name,
        usesTrackContext: processor.node.context === context, getProcessor: track.getProcessor() === processor,
        sendsProcessed: track.mediaStreamTrack === processed,
      };

      // Toggle: every stop must free the suppressor (the worklet reports `live` 0 after it),
      // and the wasm memory must not grow from one cycle to the next.
      const reports = [];
      const statuses = [];
      let node = processor.node;
      await track.stopProcessor();
      reports.push(await node.destroy()); // same promise as the one stopProcessor started
      const endedAfterStop = processed.readyState;
      for (let i = 0; i < cycles; i++) {
        await track.setProcessor(processor);
        node = processor.node;
        statuses.push(node.status);
        await track.stopProcessor();
        reports.push(await node.destroy());
      }
      const afterAll = { processedTrack: processor.processedTrack, node: processor.node, getProcessor: track.getProcessor() };
      track.stop();
      await context.close();
      return {
        first, vad, eventCount, reports, statuses, endedAfterStop,
        afterAll: { processedTrack: String(afterAll.processedTrack), node: String(afterAll.node), getProcessor: String(afterAll.getProcessor) },
        startTime: recording.startTime, raw: toBase64(raw), processed: toBase64(out),
      };
    }, { seconds, cycles: CYCLES });

    assert.deepEqual(errors, [], 'no uncaught page errors');
    assert.equal(r.first.name, 'visio-noise-suppression');
    assert.equal(r.first.active, true);
    assert.equal(r.first.usesTrackContext, true, "the processor runs in livekit's context, it makes none");
    assert.equal(r.first.getProcessor, true);
    assert.equal(r.first.sendsProcessed, true, 'livekit now hands out the processed track');

    const m = measureSuppression(mic, fromBase64(r.raw), fromBase64(r.processed));
    const frameOf = (t) => Math.round((t - r.startTime) / 10) - Math.round(m.rawDelay / (mic.sampleRate / 100));
    const inSpeech = r.vad.filter(({ t }) => m.speechMask[frameOf(t)]);
    const memory = r.reports.map((x) => x?.memoryBytes);
    const figures = {
      noiseReductionDb: +m.noiseReductionDb.toFixed(1),
      leadNoiseReductionDb: +m.leadNoiseReductionDb.toFixed(1),
      speechChangeDb: +m.speechChangeDb.toFixed(2),
      siSdrRaw: +m.siSdrRaw.toFixed(1),
      siSdrProcessed: +m.siSdrProcessed.toFixed(1),
      vadMaxInSpeech: Math.max(0, ...inSpeech.map((v) => v.p)),
      memoryBytes: [memory[0], memory[1], memory.at(-1)],
    };
    console.log('livekit processor', JSON.stringify(figures));
    assert.ok(m.noiseReductionDb >= 15, `noise floor in pauses lowered by ${m.noiseReductionDb.toFixed(1)} dB (>= 15)`);
    assert.ok(Math.abs(m.speechChangeDb) <= 4, `speech energy within 4 dB of the clean speech (${m.speechChangeDb.toFixed(2)} dB)`);
    assert.ok(inSpeech.some((v) => v.p > 0.5), 'a vad event above 0.5 during speech');
    assert.equal(r.eventCount, r.vad.length, 'onVad and the vad event see the same reports');

    assert.equal(r.endedAfterStop, 'ended', 'stopProcessor ends the processed track');
    assert.equal(r.reports.length, CYCLES + 1);
    assert.ok(r.reports.every((x) => x !== null), 'every destroy was confirmed by the worklet');
    assert.deepEqual(r.reports.map((x) => x.live), new Array(CYCLES + 1).fill(0), 'no suppressor left alive after any stop');
    assert.deepEqual(r.statuses, new Array(CYCLES).fill('running'), 'every setProcessor ran the suppressor');
    // Flat: the first cycles may grow the heap once; after that it must not move.
    assert.ok(memory.slice(2).every((b) => b === memory[1]), `wasm memory flat over ${CYCLES} cycles (${memory[1]} -> ${memory.at(-1)} bytes)`);
    assert.deepEqual(r.afterAll, { processedTrack: 'undefined', node: 'undefined', getProcessor: 'undefined' });
  });
}));
