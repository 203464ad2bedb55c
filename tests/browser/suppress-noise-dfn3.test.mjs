// DeepFilterNet3 through suppressNoise() on the live path in Chromium (the set-up of
// suppress-noise.test.mjs: fake microphone with speech + pink noise at 0 dB SNR, raw and
// denoised tracks recorded side by side), plus its start-up time, wasm memory, a bad
// modelUrl at creation (rejects) and in a live switch (error event + pass-through).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fromBase64, makeNoisyMic, measureSuppression, withBrowser } from './harness.mjs';

let mic;
before(() => { mic = makeNoisyMic({ snrDb: 0 }); });
after(() => mic?.cleanup());

test('DeepFilterNet3 denoises a live microphone track at 48 kHz; start-up and memory reported', { timeout: 120_000 }, async () => {
  const seconds = mic.mix.length / mic.sampleRate + 0.7;
  const run = await withBrowser({ fakeAudio: mic.path }, async ({ page, errors }) => {
    const result = await page.evaluate(async ({ seconds }) => {
      const { suppressNoise, createNoiseSuppressorNode } = await import('/pkg/index.js');
      const { startRecorder, toBase64, rawMicrophone, sleep } = await import('/__tests__/page-helpers.js');
      // Start-up with the weights already fetched (cached per page by the first node) and the
      // worklet module added: createNoiseSuppressorNode -> status 'running', five times.
      const ctx = new AudioContext({ sampleRate: 48000 });
      const first = await createNoiseSuppressorNode(ctx, { model: 'deepfilternet3' });
      await first.destroy();
      const startups = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const node = await createNoiseSuppressorNode(ctx, { model: 'deepfilternet3' });
        startups.push(node.status === 'running' ? performance.now() - t0 : NaN);
        await node.destroy();
      }
      await ctx.close();
      const track = await rawMicrophone();
      const ns = await suppressNoise(track, { sampleRate: 48000, model: 'deepfilternet3' });
      const vad = [];
      ns.node.addEventListener('vad', (e) => vad.push({ t: performance.now(), p: e.probability, cpu: e.cpuMsPer10ms }));
      const rec = new AudioContext({ sampleRate: 48000 });
      const recorder = await startRecorder(rec, [
        rec.createMediaStreamSource(new MediaStream([track])),
        rec.createMediaStreamSource(new MediaStream([ns.track])),
      ]);
      await sleep(seconds * 1000);
      const [raw, processed] = await recorder.stop();
      const info = { active: ns.node.active, model: ns.node.model, latency: ns.node.latency, memoryBytes: ns.node.memoryBytes };
      await ns.destroy();
      await rec.close();
      track.stop();
      return { ...info, startups, startTime: recorder.startTime, vad, raw: toBase64(raw), processed: toBase64(processed) };
    }, { seconds });
    assert.deepEqual(errors, [], 'no uncaught page errors');
    return { ...result, raw: fromBase64(result.raw), processed: fromBase64(result.processed) };
  });
  assert.equal(run.active, true);
  assert.equal(run.model, 'deepfilternet3');
  assert.equal(Math.round(run.latency * 48000), 1888);
  const m = measureSuppression(mic, run.raw, run.processed);
  const cpu = run.vad.map((v) => v.cpu).filter((c) => c !== undefined);
  const figures = {
    startupMs: run.startups.map((t) => +t.toFixed(1)),
    memoryMiB: +(run.memoryBytes / 2 ** 20).toFixed(1),
    noiseReductionDb: +m.noiseReductionDb.toFixed(1),
    speechChangeDb: +m.speechChangeDb.toFixed(2),
    siSdrRaw: +m.siSdrRaw.toFixed(1),
    siSdrProcessed: +m.siSdrProcessed.toFixed(1),
    cpuMsPer10ms: cpu.length ? +(cpu.reduce((a, b) => a + b, 0) / cpu.length).toFixed(3) : null,
  };
  console.log('DeepFilterNet3 live', JSON.stringify(figures));
  assert.ok(run.startups.every((t) => t > 0), `every node reached running (${run.startups})`);
  // Measured 49-81 ms on the loaded 2-core machine: the median of five is held to the
  // issue's 300 ms, single runs are only reported.
  const median = [...run.startups].sort((a, b) => a - b)[2];
  assert.ok(median <= 300, `start-up median ${median.toFixed(1)} ms (<= 300)`);
  assert.ok(m.pauseFrames >= 100 && m.speechFrames >= 200, `frames measured (${m.pauseFrames}, ${m.speechFrames})`);
  assert.ok(m.noiseReductionDb >= 20, `noise floor in pauses lowered by ${m.noiseReductionDb.toFixed(1)} dB (>= 20)`);
  assert.ok(Math.abs(m.speechChangeDb) <= 4, `speech kept within 4 dB (${m.speechChangeDb.toFixed(2)} dB)`);
  assert.ok(run.vad.some((v) => v.p > 0.5), 'a vad event above 0.5');
});

test('a bad modelUrl rejects creation, and fails a live switch into pass-through with an error', { timeout: 60_000 }, async () => {
  await withBrowser({}, async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { createNoiseSuppressorNode } = await import('/pkg/index.js');
      const ctx = new AudioContext({ sampleRate: 48000 });
      let rejected = null;
      try {
        await createNoiseSuppressorNode(ctx, { model: 'deepfilternet3', modelUrl: '/no/such/weights.dfw' });
      } catch (error) {
        rejected = error.message;
      }
      let typeError = null;
      try {
        await createNoiseSuppressorNode(ctx, { model: 'deepfilter' });
      } catch (error) {
        typeError = `${error.name}: ${error.message}`;
      }
      const node = await createNoiseSuppressorNode(ctx);
      const failed = new Promise((resolve) => node.addEventListener('error', (e) => resolve(e.message)));
      await node.setOptions({ model: 'deepfilternet3', modelUrl: '/no/such/weights.dfw' });
      const message = await failed;
      const out = { rejected, typeError, message, status: node.status, active: node.active };
      await node.destroy();
      await ctx.close();
      return out;
    });
    assert.match(result.rejected, /could not load the deepfilternet3 weights from .*\/no\/such\/weights\.dfw: status 404/);
    assert.match(result.typeError, /^TypeError: .*model must be one of 'rnnoise', 'deepfilternet3', got "deepfilter"/);
    assert.match(result.message, /could not load the deepfilternet3 weights .*status 404/);
    assert.equal(result.status, 'failed');
    assert.equal(result.active, false);
  });
});
