// createNoiseSuppressorNode in an OfflineAudioContext, in every engine: the reported latency,
// exact bypass and the channel layout (mono stays mono, stereo channels are denoised
// separately) at 48 kHz, and the same denoising at 44.1 and 16 kHz.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { audioTest, forEachEngine } from './engines/index.mjs';
import { dbfs, pinkNoise, rms, writeWav } from '../helpers/audio.mjs';
import { fromBase64, makeNoisyMic, measureSuppression, withBrowser } from './harness.mjs';

const RATE = 48000;

function wavBytes(channels) {
  const dir = mkdtempSync(join(tmpdir(), 'vme-signal-'));
  try {
    writeWav(join(dir, 'signal.wav'), channels, RATE);
    return readFileSync(join(dir, 'signal.wav'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

forEachEngine((engine) => {
audioTest(engine, 'latency is 928/48000 s and a bypassed impulse comes out exactly 928 samples late', { timeout: 60_000 }, async () => {
  await withBrowser({ engine }, async ({ page, errors }) => {
    const r = await page.evaluate(async () => {
      const { createNoiseSuppressorNode } = await import('/pkg/index.js');
      const { toBase64 } = await import('/__tests__/page-helpers.js');
      const ctx = new OfflineAudioContext(1, 48000, 48000);
      const input = new Float32Array(48000);
      // Impulses, one of each sign, on and off quantum/frame boundaries, then a noise burst.
      input[1000] = 0.5; input[4800] = -0.25; input[20011] = 1;
      let seed = 1;
      for (let i = 30000; i < 40000; i++) { seed = (seed * 16807) % 2147483647; input[i] = (seed / 2147483647 - 0.5) * 0.4; }
      const buffer = new AudioBuffer({ length: input.length, numberOfChannels: 1, sampleRate: 48000 });
      buffer.copyToChannel(input, 0);
      const source = new AudioBufferSourceNode(ctx, { buffer });
      const node = await createNoiseSuppressorNode(ctx, { enabled: false });
      source.connect(node).connect(ctx.destination);
      source.start();
      const out = (await ctx.startRendering()).getChannelData(0);
      return {
        latency: node.latency, latencySamples: node.latencySamples, active: node.active, enabled: node.enabled,
        input: toBase64(input), output: toBase64(out),
      };
    });
    assert.equal(r.active, true);
    assert.equal(r.enabled, false);
    assert.equal(r.latencySamples, 928);
    assert.equal(r.latency, 928 / 48000);
    const input = fromBase64(r.input);
    const output = fromBase64(r.output);
    for (let i = 0; i < 928; i++) assert.equal(output[i], 0, `nothing before the latency (sample ${i})`);
    let maxDiff = 0;
    for (let i = 0; i + 928 < output.length; i++) maxDiff = Math.max(maxDiff, Math.abs(output[i + 928] - input[i]));
    assert.equal(output[1928], 0.5);
    assert.equal(output[4800 + 928], -0.25);
    assert.equal(output[20011 + 928], 1);
    assert.equal(maxDiff, 0, 'bypass output is the input delayed by 928 samples, bit for bit');
    assert.deepEqual(errors, []);
  });
});

audioTest(engine, 'mono in gives mono out, stereo in gives stereo out with each channel denoised', { timeout: 60_000 }, async () => {
  // Left: the noisy speech; right: the same speech 1 s later with other noise, so that each
  // channel's pauses are the other's speech: a mixed-up channel could not pass.
  const mic = makeNoisyMic({ speechDbfs: -26 });
  mic.cleanup();
  const shiftBy = RATE;
  const clean = [mic.clean, new Float32Array(mic.clean.length)];
  clean[1].set(mic.clean.subarray(0, mic.clean.length - shiftBy), shiftBy);
  const noiseR = pinkNoise(mic.clean.length, 99, rms(mic.noise));
  const mixes = [mic.mix, clean[1].map((x, i) => x + noiseR[i])];
  const monoUrl = 'mono.wav';
  const stereoUrl = 'stereo.wav';
  await withBrowser({ engine }, async ({ page, errors, serveFile }) => {
    serveFile(monoUrl, wavBytes([mixes[0]]));
    serveFile(stereoUrl, wavBytes(mixes));
    const r = await page.evaluate(async ({ monoUrl, stereoUrl }) => {
      const { createNoiseSuppressorNode } = await import('/pkg/index.js');
      const { toBase64 } = await import('/__tests__/page-helpers.js');
      const render = async (url) => {
        const bytes = await (await fetch(`/__files__/${url}`)).arrayBuffer();
        const probe = new OfflineAudioContext(1, 1, 48000);
        const buffer = await probe.decodeAudioData(bytes);
        // A two-channel destination that does not upmix: a mono node output leaves channel 1 silent.
        const ctx = new OfflineAudioContext(2, buffer.length, 48000);
        ctx.destination.channelInterpretation = 'discrete';
        const source = new AudioBufferSourceNode(ctx, { buffer });
        const node = await createNoiseSuppressorNode(ctx);
        source.connect(node).connect(ctx.destination);
        source.start();
        const out = await ctx.startRendering();
        return { channels: buffer.numberOfChannels, active: node.active, out: [0, 1].map((c) => toBase64(out.getChannelData(c))) };
      };
      return { mono: await render(monoUrl), stereo: await render(stereoUrl) };
    }, { monoUrl, stereoUrl });
    assert.deepEqual(errors, []);
    assert.equal(r.mono.channels, 1);
    assert.equal(r.stereo.channels, 2);
    assert.ok(r.mono.active && r.stereo.active);

    const mono = r.mono.out.map(fromBase64);
    assert.equal(dbfs(mono[1]), -Infinity, 'mono input: the output has one channel (channel 1 of a discrete destination stays silent)');
    const monoFigures = measureSuppression({ sampleRate: RATE, clean: clean[0], mix: mixes[0] }, mixes[0], mono[0]);
    const stereo = r.stereo.out.map(fromBase64);
    const perChannel = [0, 1].map((c) => measureSuppression({ sampleRate: RATE, clean: clean[c], mix: mixes[c] }, mixes[c], stereo[c]));
    const show = (m) => ({ delay: m.procDelay, noiseReductionDb: +m.noiseReductionDb.toFixed(1), speechChangeDb: +m.speechChangeDb.toFixed(2), pauseFrames: m.pauseFrames });
    console.log(`[${engine.name}] offline`, JSON.stringify({ mono: show(monoFigures), left: show(perChannel[0]), right: show(perChannel[1]) }));
    for (const [name, m] of [['mono', monoFigures], ['left', perChannel[0]], ['right', perChannel[1]]]) {
      assert.equal(m.procDelay, 928, `${name}: the denoised speech is 928 samples late`);
      assert.ok(m.pauseFrames >= 100, `${name}: enough pause frames (${m.pauseFrames})`);
      assert.ok(m.noiseReductionDb >= 15, `${name}: noise in pauses lowered by ${m.noiseReductionDb.toFixed(1)} dB (>= 15)`);
      assert.ok(Math.abs(m.speechChangeDb) <= 4, `${name}: speech energy within 4 dB (${m.speechChangeDb.toFixed(2)})`);
    }
  });
});

for (const rate of [44100, 16000]) {
  audioTest(engine, `denoises at ${rate / 1000} kHz: the reported latency, noise in pauses lowered, speech kept`, { timeout: 60_000 }, async () => {
    const mic = makeNoisyMic({ speechDbfs: -26 });
    mic.cleanup();
    await withBrowser({ engine }, async ({ page, errors, serveFile }) => {
      // The browser resamples the 48 kHz clean speech and mix alike when decoding at `rate`.
      const urls = { clean: serveFile('clean.wav', wavBytes([mic.clean])), mix: serveFile('mix.wav', wavBytes([mic.mix])) };
      const r = await page.evaluate(async ({ urls, rate }) => {
        const { createNoiseSuppressorNode } = await import('/pkg/index.js');
        const { toBase64 } = await import('/__tests__/page-helpers.js');
        const decode = async (url) => (await new OfflineAudioContext(1, 1, rate).decodeAudioData(await (await fetch(url)).arrayBuffer()));
        const [clean, mix] = [await decode(urls.clean), await decode(urls.mix)];
        const ctx = new OfflineAudioContext(1, mix.length, rate);
        const source = new AudioBufferSourceNode(ctx, { buffer: mix });
        const node = await createNoiseSuppressorNode(ctx);
        source.connect(node).connect(ctx.destination);
        source.start();
        const out = (await ctx.startRendering()).getChannelData(0);
        return {
          active: node.active, latencySamples: node.latencySamples, latency: node.latency,
          clean: toBase64(clean.getChannelData(0)), mix: toBase64(mix.getChannelData(0)), out: toBase64(out),
        };
      }, { urls, rate });
      assert.deepEqual(errors, []);
      assert.equal(r.active, true);
      const [clean, mix, out] = [r.clean, r.mix, r.out].map(fromBase64);
      const m = measureSuppression({ sampleRate: rate, clean, mix }, mix, out);
      console.log(`[${engine.name}] offline ${rate} Hz`, JSON.stringify({ delay: m.procDelay, latencySamples: r.latencySamples, noiseReductionDb: +m.noiseReductionDb.toFixed(1), speechChangeDb: +m.speechChangeDb.toFixed(2), pauseFrames: m.pauseFrames }));
      assert.ok(Math.abs(r.latency * rate - r.latencySamples) <= 0.5, 'latencySamples is the latency rounded');
      assert.ok(Math.abs(m.procDelay - r.latencySamples) <= 1, `the denoised speech is ${m.procDelay} samples late (latencySamples ${r.latencySamples})`);
      assert.ok(m.pauseFrames >= 100, `enough pause frames (${m.pauseFrames})`);
      assert.ok(m.noiseReductionDb >= 15, `noise in pauses lowered by ${m.noiseReductionDb.toFixed(1)} dB (>= 15)`);
      assert.ok(Math.abs(m.speechChangeDb) <= 4, `speech energy within 4 dB (${m.speechChangeDb.toFixed(2)})`);
    });
  });
}
});
