// What goes wrong is said clearly and never turns the microphone into silence:
// - a wasm module without our exports: the node resolves inactive, passes audio through
//   unchanged (no delay) and dispatches an `error` event;
// - a wasm URL that cannot load: the promise rejects, naming the URL and the status;
// - a wasm served with the wrong MIME type still works (compile() fallback);
// - bad options, rates and tracks: TypeError/RangeError naming the culprit;
// - a camera that stops delivering frames: counted in stats().inputStalls, said once
//   (Chromium's worker-streams path, where a stream read can wait).
// The first three in every engine (they share one browser; WebKit's MediaStreamTrackProcessing
// feature changes nothing here, so [webkit] stands for both).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { audioTest, chromiumTest, forEachEngine } from './engines/index.mjs';
import { ROOT, fromBase64, withBrowser } from './harness.mjs';

forEachEngine((engine) => audioTest(engine, 'what goes wrong is said clearly and never turns the microphone into silence', {
  timeout: 120_000,
}, (t) => withBrowser({ engine }, async ({ page, errors, serveFile }) => {
  await t.test('a wasm module without the exports: pass-through, error event, inactive node', async () => {
    const r = await page.evaluate(async () => {
      const { createNoiseSuppressorNode } = await import('/pkg/index.js');
      const { toBase64 } = await import('/__tests__/page-helpers.js');
      // The smallest valid module: magic and version, nothing else.
      const bogus = new WebAssembly.Module(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
      const ctx = new OfflineAudioContext(1, 24000, 48000);
      const node = await createNoiseSuppressorNode(ctx, { wasm: bogus });
      const events = [];
      node.addEventListener('error', (e) => events.push(e.message));
      const input = new Float32Array(24000);
      let seed = 3;
      for (let i = 0; i < input.length; i++) { seed = (seed * 16807) % 2147483647; input[i] = (seed / 2147483647 - 0.5) * 0.5; }
      const buffer = new AudioBuffer({ length: input.length, numberOfChannels: 1, sampleRate: 48000 });
      buffer.copyToChannel(input, 0);
      const source = new AudioBufferSourceNode(ctx, { buffer });
      source.connect(node).connect(ctx.destination);
      source.start();
      const out = (await ctx.startRendering()).getChannelData(0);
      return {
        status: node.status, active: node.active, latency: node.latency, error: node.error?.message,
        events, input: toBase64(input), output: toBase64(out),
      };
    });
    console.log('bogus module:', r.error);
    assert.equal(r.status, 'failed');
    assert.equal(r.active, false);
    assert.equal(r.latency, 0, 'pass-through adds no delay');
    assert.match(r.error, /^visio-media-effects: noise suppression failed: the wasm module lacks .*vme_ns_create/);
    assert.deepEqual(r.events, [r.error], 'one error event, dispatched after the promise resolved');
    const input = fromBase64(r.input);
    const output = fromBase64(r.output);
    assert.ok(output.some((x) => x !== 0), 'not silence');
    assert.deepEqual(output, input, 'the audio passes through unchanged');
    assert.deepEqual(errors, []);
  });

  await t.test('a wasm URL that cannot load rejects clearly; a wrong MIME type is tolerated', async () => {
    serveFile('renamed.wasm', readFileSync(join(ROOT, 'pkg/visio_media_effects_bg.wasm'))); // application/octet-stream
    const r = await page.evaluate(async () => {
      const { createNoiseSuppressorNode } = await import('/pkg/index.js');
      const ctx = new OfflineAudioContext(1, 128, 48000);
      const missing = await createNoiseSuppressorNode(ctx, { wasm: '/pkg/missing.wasm' }).then(() => 'resolved', (e) => e.message);
      const notWasm = await createNoiseSuppressorNode(ctx, { wasm: '/pkg/index.js' }).then(() => 'resolved', (e) => e.message);
      const badWorklet = await createNoiseSuppressorNode(new OfflineAudioContext(1, 128, 48000), { workletUrl: '/pkg/nope.js' })
        .then(() => 'resolved', (e) => e.message);
      const renamed = await createNoiseSuppressorNode(ctx, { wasm: '/__files__/renamed.wasm' });
      return { missing, notWasm, badWorklet, renamedActive: renamed.active, origin: location.origin };
    });
    assert.equal(r.missing, `visio-media-effects: could not load wasm from ${r.origin}/pkg/missing.wasm: status 404`);
    assert.match(r.notWasm, /^visio-media-effects: could not compile wasm from .*\/pkg\/index\.js: /);
    assert.match(r.badWorklet, /^visio-media-effects: could not load the audio worklet from .*\/pkg\/nope\.js/);
    assert.equal(r.renamedActive, true, 'wasm served as application/octet-stream still compiles');
    assert.deepEqual(errors, []);
  });

  await t.test('bad options, rates and tracks get a TypeError or RangeError that names them', async () => {
    const r = await page.evaluate(async () => {
      const { createNoiseSuppressorNode, suppressNoise, NoiseSuppressionProcessor } = await import('/pkg/index.js');
      const ctx = new OfflineAudioContext(1, 128, 48000);
      const caught = async (fn) => { try { await fn(); return 'no error'; } catch (e) { return `${e.name}: ${e.message}`; } };
      const node = await createNoiseSuppressorNode(ctx);
      const canvas = document.createElement('canvas');
      const video = canvas.captureStream().getVideoTracks()[0];
      const live = new MediaStreamAudioDestinationNode(new AudioContext()).stream.getAudioTracks()[0];
      const audio = new MediaStreamAudioDestinationNode(new AudioContext()).stream.getAudioTracks()[0];
      audio.stop();
      return {
        negative: await caught(() => createNoiseSuppressorNode(ctx, { attenuationLimitDb: -3 })),
        nan: await caught(() => createNoiseSuppressorNode(ctx, { attenuationLimitDb: NaN })),
        enabled: await caught(() => createNoiseSuppressorNode(ctx, { enabled: 'yes' })),
        interval: await caught(() => createNoiseSuppressorNode(ctx, { vadIntervalMs: 0 })),
        wasm: await caught(() => createNoiseSuppressorNode(ctx, { wasm: 42 })),
        rate: await caught(() => createNoiseSuppressorNode(new OfflineAudioContext(1, 128, 192000))),
        context: await caught(() => createNoiseSuppressorNode({})),
        setOptions: await caught(() => node.setOptions({ attenuationLimitDb: -1 })),
        setOptionsOk: await caught(() => node.setOptions({ attenuationLimitDb: 12, enabled: false })),
        video: await caught(() => suppressNoise(video)),
        ended: await caught(() => suppressNoise(audio)),
        rateOption: await caught(() => suppressNoise(live, { sampleRate: 4000 })),
        offline: await caught(() => suppressNoise(live, { audioContext: ctx })),
        processor: await caught(() => new NoiseSuppressionProcessor({ onVad: 'x' })),
        processorVideo: await caught(() => new NoiseSuppressionProcessor().init({ kind: 'video', track: video })),
        limitAfter: node.attenuationLimitDb,
      };
    });
    console.log(JSON.stringify(r, null, 1));
    assert.equal(r.negative, 'RangeError: visio-media-effects: attenuationLimitDb must be >= 0 (0 = no suppression) or null (no limit), got -3');
    assert.match(r.nan, /^RangeError: .*attenuationLimitDb.*got NaN/);
    assert.equal(r.enabled, 'TypeError: visio-media-effects: enabled must be a boolean, got "yes"');
    assert.match(r.interval, /^RangeError: .*vadIntervalMs/);
    assert.match(r.wasm, /^TypeError: .*wasm must be a URL/);
    assert.equal(r.rate, 'RangeError: visio-media-effects: sample rate 192000 Hz is not supported by noise suppression (8000..96000 Hz)');
    assert.match(r.context, /^TypeError: .*expected an AudioContext/);
    assert.match(r.setOptions, /^RangeError: .*attenuationLimitDb/);
    assert.equal(r.setOptionsOk, 'no error');
    assert.equal(r.limitAfter, 12, 'the valid setOptions was applied, the invalid one was not');
    assert.equal(r.video, 'TypeError: visio-media-effects: suppressNoise needs an audio MediaStreamTrack, got a video track');
    assert.equal(r.ended, 'Error: visio-media-effects: suppressNoise was given a track that has ended');
    assert.equal(r.rateOption, 'RangeError: visio-media-effects: sample rate 4000 Hz is not supported by noise suppression (8000..96000 Hz)');
    assert.match(r.offline, /^TypeError: .*realtime AudioContext/);
    assert.match(r.processor, /^TypeError: .*onVad must be a function/);
    assert.match(r.processorVideo, /^TypeError: .*audio processor, it was set on a video track/);
    assert.deepEqual(errors, []);
  });
})));

chromiumTest('a camera stream that delivers no frame for 5 s is counted and said once (worker-streams)', { timeout: 60_000 }, async () => {
  await withBrowser({}, async ({ page, errors }) => {
    const warnings = [];
    page.on('console', (msg) => { if (msg.type() === 'warning' && msg.text().includes('no camera frame')) warnings.push(msg.text()); });
    const r = await page.evaluate(async () => {
      const { blurBackground } = await import('/pkg/index.js');
      const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
      // A captured canvas sends a frame only when it is drawn: one frame, then nothing.
      const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 180 });
      document.body.append(canvas);
      const context = canvas.getContext('2d');
      context.fillStyle = '#468';
      context.fillRect(0, 0, 320, 180);
      const track = canvas.captureStream().getVideoTracks()[0];
      const fx = await blurBackground(track, { renderer: 'cpu' });
      await sleep(3000);
      const early = fx.stats();
      await sleep(4500);
      const late = fx.stats();
      await fx.destroy();
      track.stop();
      return { path: late.path, early: early.inputStalls, late: late.inputStalls, frames: late.frames, trackLive: track.readyState };
    });
    console.log(`# ${JSON.stringify({ ...r, warnings: warnings.length })}`);
    assert.equal(r.path, 'worker-streams');
    assert.equal(r.early, 0, 'no stall counted before 5 s');
    assert.equal(r.late, 1, 'the read waiting since the last frame is counted once');
    assert.equal(warnings.length, 1, "said once (the worker's console reaches the page's)");
    assert.deepEqual(errors, []);
  });
});
