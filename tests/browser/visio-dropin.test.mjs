// The runtime half of the drop-in for Visio (tests/types/visio.ts is the type half):
// - BackgroundProcessor.update() given an effect of Visio's union that this package does not
//   draw ('faceLandmarks') rejects with a clear error and the blur goes on unchanged, on the
//   same track; `options` carries Visio's `type` (and the app's own keys) with our `mode`.
// - NoiseSuppressionProcessor initialised without livekit's audioContext, the way Visio's
//   RnnNoiseProcessor is, makes a context of its own at the track's rate, denoises, and
//   closes that context in destroy().
import assert from 'node:assert/strict';
import { chromiumTest as test } from './engines/index.mjs';
import { fromBase64, makeNoisyMic, measureSuppression, withBrowser } from './harness.mjs';
import { makeCamera, rgbaOf } from './video-run.mjs';
import { highFrequencyEnergy, regions } from '../helpers/video-metrics.mjs';

const WIDTH = 640;
const HEIGHT = 360;

test("an effect type the package does not draw rejects and leaves the running blur alone; options carry Visio's type", { timeout: 120_000 }, async (t) => {
  const camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'astronaut', background: 'brick' });
  t.after(() => camera.cleanup());
  await withBrowser({ fakeVideo: camera.path }, async ({ page, errors }) => {
    const r = await page.evaluate(async ({ width, height }) => {
      const { FrameTap, openCamera, sleep, toBase64 } = await import('/__tests__/video-page.js');
      const { BackgroundProcessor } = await import('/pkg/index.js');
      const track = await openCamera({ width, height, frameRate: 30 });
      const processor = new BackgroundProcessor({ type: 'blur', blurRadius: 20, renderer: 'cpu' });
      await processor.init({ kind: 'video', track });
      const processed = processor.processedTrack;
      const tap = new FrameTap(processed, {});
      const shot = async () => toBase64((await tap.grab(1))[0].rgba);
      await sleep(1500);
      const before = await shot();
      const optionsBefore = { ...processor.options };
      const rejected = await processor.update({ type: 'faceLandmarks', showGlasses: true, showFrench: false })
        .then(() => null, (error) => `${error.name}: ${error.message}`);
      await sleep(700);
      const afterReject = await shot();
      const state = { ...processor.options, sameTrack: processor.processedTrack === processed, live: processed.readyState };
      await processor.update({ type: 'virtual', imagePath: '/backgrounds/mountains.jpg', fileId: 'f-1' });
      const virtual = { ...processor.options };
      await processor.update({ blurRadius: 12 });
      const merged = { ...processor.options };
      await processor.update({ type: 'blur', blurRadius: 10 });
      const blur = { ...processor.options };
      const stats = processor.stats();
      await processor.destroy();
      await tap.stop();
      const [input] = await (async () => { const t = new FrameTap(track, {}); const f = await t.grab(1); await t.stop(); return f; })();
      track.stop();
      return { before, afterReject, input: toBase64(input.rgba), optionsBefore, rejected, state, virtual, merged, blur, errors: stats.errors };
    }, { width: WIDTH, height: HEIGHT });

    assert.deepEqual(errors, []);
    assert.equal(r.rejected, "TypeError: visio-media-effects: unknown effect type \"faceLandmarks\": background effects are 'blur', 'virtual' (an image) or 'none'; the current effect is unchanged");
    assert.deepEqual(r.optionsBefore, { type: 'blur', mode: 'blur', blurRadius: 20, renderer: 'cpu', image: undefined });
    assert.equal(r.state.type, 'blur');
    assert.equal(r.state.blurRadius, 20);
    assert.equal(r.state.sameTrack, true);
    assert.equal(r.state.live, 'live');
    const region = regions(camera.scene.alpha, WIDTH, HEIGHT, 8);
    const hfIn = highFrequencyEnergy(rgbaOf(r.input), WIDTH, HEIGHT, region.background);
    const drop = (shot) => 1 - highFrequencyEnergy(rgbaOf(shot), WIDTH, HEIGHT, region.background) / hfIn;
    const figures = { before: drop(r.before), afterReject: drop(r.afterReject) };
    console.log(`# background detail removed ${JSON.stringify(figures)}`);
    assert.ok(figures.before >= 0.8, `blur 20 running before (${figures.before.toFixed(3)})`);
    assert.ok(figures.afterReject >= 0.8, `still blurred after the rejected update (${figures.afterReject.toFixed(3)})`);
    // Visio's config comes back as given (fileId too), with the effect in both vocabularies.
    assert.equal(r.virtual.type, 'virtual');
    assert.equal(r.virtual.mode, 'image');
    assert.equal(r.virtual.imagePath, '/backgrounds/mountains.jpg');
    assert.equal(r.virtual.fileId, 'f-1');
    assert.deepEqual([r.merged.type, r.merged.fileId, r.merged.blurRadius], ['virtual', 'f-1', 12], 'a partial change merges');
    assert.deepEqual([r.blur.type, r.blur.mode, r.blur.blurRadius, r.blur.fileId, r.blur.imagePath], ['blur', 'blur', 10, undefined, undefined],
      'a config with a type replaces the last one');
    assert.equal(r.errors, 0);
  });
});

test("NoiseSuppressionProcessor without livekit's audioContext: its own context at the track's rate, closed by destroy()", { timeout: 120_000 }, async (t) => {
  const mic = makeNoisyMic({ snrDb: 0 });
  t.after(() => mic.cleanup());
  const seconds = mic.mix.length / mic.sampleRate + 0.7;
  await withBrowser({ fakeAudio: mic.path }, async ({ page, errors }) => {
    const r = await page.evaluate(async ({ seconds }) => {
      const { NoiseSuppressionProcessor } = await import('/pkg/index.js');
      const { rawMicrophone, recordTracks, toBase64 } = await import('/__tests__/page-helpers.js');
      const track = await rawMicrophone();
      const processor = new NoiseSuppressionProcessor();
      // What livekit's ProcessorOptions<Track.Kind.Audio> may be: no audioContext.
      await processor.init({ kind: 'audio', track });
      const processed = processor.processedTrack;
      const context = processor.node.context;
      const recording = await recordTracks([track, processed], seconds);
      const [raw, out] = recording.samples;
      const running = { active: processor.active, rate: context.sampleRate, trackRate: track.getSettings().sampleRate, state: context.state };
      await processor.destroy();
      const destroyed = { state: context.state, processed: processed.readyState, processedTrack: String(processor.processedTrack), mic: track.readyState };
      track.stop();
      return { running, destroyed, startTime: recording.startTime, raw: toBase64(raw), processed: toBase64(out) };
    }, { seconds });

    assert.deepEqual(errors, []);
    assert.equal(r.running.active, true);
    assert.equal(r.running.state, 'running');
    assert.ok(r.running.trackRate > 0, `the track reports its rate (${r.running.trackRate})`);
    assert.equal(r.running.rate, r.running.trackRate, "the context runs at the track's rate");
    const m = measureSuppression(mic, fromBase64(r.raw), fromBase64(r.processed));
    console.log(`# own context: noise in pauses -${m.noiseReductionDb.toFixed(1)} dB, speech ${m.speechChangeDb.toFixed(2)} dB`);
    assert.ok(m.noiseReductionDb >= 15, `noise floor in pauses lowered by ${m.noiseReductionDb.toFixed(1)} dB (>= 15)`);
    assert.ok(Math.abs(m.speechChangeDb) <= 4, `speech energy within 4 dB of the clean speech (${m.speechChangeDb.toFixed(2)} dB)`);
    assert.deepEqual(r.destroyed, { state: 'closed', processed: 'ended', processedTrack: 'undefined', mic: 'live' },
      'destroy() closes the context it made and never stops the microphone');
  });
});
