// DeepFilterNet3 through suppressNoise() on the live path, in every engine (the set-up of
// suppress-noise.test.mjs: a microphone playing speech + pink noise at 0 dB SNR, raw and
// denoised tracks recorded side by side), plus its start-up time, wasm memory, a live switch
// both ways, a bad modelUrl at creation (rejects) and in a live switch (error event +
// pass-through).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { audioTest, forEachEngine } from './engines/index.mjs';
import { makeNoisyMic, measureSuppression, recordSuppressedLive, withBrowser } from './harness.mjs';

let mic;
before(() => { mic = makeNoisyMic({ snrDb: 0 }); });
after(() => mic?.cleanup());

forEachEngine((engine) => {
  audioTest(engine, 'DeepFilterNet3 denoises a live microphone track at 48 kHz', { timeout: 120_000 }, async () => {
    // The page-made microphone of Firefox and WebKit runs at 48 kHz too (Firefox cannot connect
    // a track to a context of another rate); Chromium's fake one at 44.1 kHz.
    const run = await recordSuppressedLive({ engine, mic, micRate: 48000, options: { sampleRate: 48000, model: 'deepfilternet3' } });
    assert.equal(run.active, true);
    assert.equal(run.model, 'deepfilternet3');
    assert.equal(Math.round(run.latency * 48000), 1888);
    const m = measureSuppression(mic, run.raw, run.processed);
    const cpu = run.vad.map((v) => v.cpu).filter((c) => c !== undefined);
    const figures = {
      memoryMiB: +(run.memoryBytes / 2 ** 20).toFixed(1),
      noiseReductionDb: +m.noiseReductionDb.toFixed(1),
      speechChangeDb: +m.speechChangeDb.toFixed(2),
      siSdrRaw: +m.siSdrRaw.toFixed(1),
      siSdrProcessed: +m.siSdrProcessed.toFixed(1),
      cpuMsPer10ms: cpu.length ? +(cpu.reduce((a, b) => a + b, 0) / cpu.length).toFixed(3) : null,
      maxProcessMs: +run.maxProcessMs.toFixed(2),
    };
    console.log(`[${engine.name}] DeepFilterNet3 live`, JSON.stringify(figures));
    assert.equal(run.ended, 'ended', 'destroy() stops the output track');
    assert.ok(m.pauseFrames >= 100 && m.speechFrames >= 200, `frames measured (${m.pauseFrames}, ${m.speechFrames})`);
    assert.ok(m.noiseReductionDb >= 20, `noise floor in pauses lowered by ${m.noiseReductionDb.toFixed(1)} dB (>= 20)`);
    assert.ok(Math.abs(m.speechChangeDb) <= 4, `speech kept within 4 dB (${m.speechChangeDb.toFixed(2)} dB)`);
    assert.ok(run.vad.some((v) => v.p > 0.5), 'a vad event above 0.5');
  });

  audioTest(engine, 'DeepFilterNet3 start-up, memory, and a live switch both ways on a running context', { timeout: 120_000 }, async () => {
    await withBrowser({ engine }, async ({ page, errors }) => {
      const r = await page.evaluate(async () => {
        const { createNoiseSuppressorNode } = await import('/pkg/index.js');
        // Start-up with the weights already fetched (cached per page by the first node) and the
        // worklet module added: createNoiseSuppressorNode -> status 'running', five times.
        const ctx = new AudioContext({ sampleRate: 48000 });
        const first = await createNoiseSuppressorNode(ctx, { model: 'deepfilternet3' });
        const memoryBytes = first.memoryBytes;
        await first.destroy();
        const startups = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          const node = await createNoiseSuppressorNode(ctx, { model: 'deepfilternet3' });
          startups.push(node.status === 'running' ? performance.now() - t0 : NaN);
          await node.destroy();
        }
        // A live switch RNNoise -> DeepFilterNet3 -> RNNoise on an oscillator.
        const osc = new OscillatorNode(ctx, { frequency: 300 });
        const node = await createNoiseSuppressorNode(ctx);
        osc.connect(node).connect(ctx.destination);
        osc.start();
        const worst = [];
        node.addEventListener('vad', (e) => worst.push(e.maxProcessMs));
        const changed = () => new Promise((resolve) => node.addEventListener('modelchange', () => resolve({ model: node.model, latencySamples: node.latencySamples, memoryBytes: node.memoryBytes }), { once: true }));
        await new Promise((resolve) => setTimeout(resolve, 300));
        const toDfn = changed();
        const t0 = performance.now();
        await node.setOptions({ model: 'deepfilternet3' });
        const a = await toDfn;
        const switchMs = performance.now() - t0;
        const toRnnoise = changed();
        await node.setOptions({ model: 'rnnoise' });
        const b = await toRnnoise;
        const out = { memoryBytes, startups, a, b, switchMs, status: node.status, worstDuringSwitches: Math.max(...worst) };
        osc.stop();
        await node.destroy();
        await ctx.close();
        return out;
      });
      assert.deepEqual(errors, [], 'no uncaught page errors');
      console.log(`[${engine.name}] DeepFilterNet3 start-up and switch`, JSON.stringify({
        startupMs: r.startups.map((t) => +t.toFixed(1)), memoryMiB: +(r.memoryBytes / 2 ** 20).toFixed(1),
        switchMs: +r.switchMs.toFixed(0), worstProcessMsDuringSwitches: r.worstDuringSwitches,
      }));
      assert.ok(r.startups.every((t) => t > 0), `every node reached running (${r.startups})`);
      // Measured 49-81 ms in Chromium on the loaded 2-core machine: the median of five is held
      // to the 300 ms, single runs are only reported.
      const median = [...r.startups].sort((x, y) => x - y)[2];
      assert.ok(median <= 300, `start-up median ${median.toFixed(1)} ms (<= 300)`);
      assert.ok(r.memoryBytes <= 16e6, `wasm memory ${r.memoryBytes} (<= 16 MB)`);
      assert.deepEqual([r.a.model, r.a.latencySamples], ['deepfilternet3', 1888]);
      assert.deepEqual([r.b.model, r.b.latencySamples], ['rnnoise', 928]);
      assert.ok(r.a.memoryBytes <= 16e6, `wasm memory after the live switch ${r.a.memoryBytes} (<= 16 MB)`);
      assert.equal(r.status, 'running');
    });
  });

  audioTest(engine, 'a bad modelUrl rejects creation, and fails a live switch into pass-through with an error', { timeout: 60_000 }, async () => {
    await withBrowser({ engine }, async ({ page }) => {
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
});
