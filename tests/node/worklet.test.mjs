// The worklet contract (see the header of js/noise-suppressor.worklet.js), checked on the BUILT
// pkg/noise-suppressor.worklet.js and pkg/visio_media_effects_bg.wasm in a Node stand-in of the
// AudioWorkletGlobalScope (tests/helpers/worklet-host.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dbfs, humAndHiss, mixAtSnr, pinkNoise, readWav, siSdr, whiteNoise } from '../helpers/audio.mjs';
import { PROCESSOR_NAME, QUANTUM, createScope, runWorklet } from '../helpers/worklet-host.mjs';

const RATE = 48000;
const LATENCY_48K = 928;
const clean = readWav(fileURLToPath(new URL('../fixtures/speech.wav', import.meta.url))).channels[0];
// Scaled to stay within [-1, 1]: the engine clamps its input there (bypass included).
const noisy = mixAtSnr(clean, pinkNoise(clean.length, 7), 0).mix.map((s) => 0.9 * s);

const ready = (messages) => messages.find((m) => m.type === 'ready');

/** Largest |x[i] - x[i-1]| for i in [from, to). */
function maxJump(x, from = 1, to = x.length) {
  let m = 0;
  for (let i = Math.max(1, from); i < Math.min(to, x.length); i++) m = Math.max(m, Math.abs(x[i] - x[i - 1]));
  return m;
}

/** Asserts out[i] === input[i - delay] (zeros before the input starts), bit for bit. */
function assertDelayedCopy(out, input, delay, label) {
  for (let i = 0; i < out.length; i++) {
    const expected = i >= delay ? input[i - delay] : 0;
    if (out[i] !== expected) assert.fail(`${label}: sample ${i} is ${out[i]}, expected ${expected}`);
  }
}

describe('ready and bypass', () => {
  test('posts ready with latencySamples 928 at 48 kHz and registers visio-noise-suppressor', () => {
    const scope = createScope({ sampleRate: RATE });
    assert.deepEqual([...scope.registered.keys()], [PROCESSOR_NAME]);
    const node = scope.createNode({ module: scope.packageModule(), enabled: true, attenuationLimitDb: null, vadIntervalMs: 50 });
    assert.deepEqual(node.errors, []);
    const msg = ready(node.messages);
    assert.ok(msg, JSON.stringify(node.messages));
    assert.equal(msg.latencySamples, LATENCY_48K);
    assert.equal(msg.latencySeconds, LATENCY_48K / RATE);
    assert.ok(msg.memoryBytes > 0 && msg.memoryBytes % 65536 === 0, `memoryBytes ${msg.memoryBytes}`);
  });

  test('enabled: false passes the input delayed by exactly latencySamples', () => {
    const { output, messages } = runWorklet([noisy], { processorOptions: { enabled: false } });
    assertDelayedCopy(output[0], noisy, ready(messages).latencySamples, 'bypass');
  });

  test('attenuationLimitDb 0 is bypass', () => {
    const { output, messages } = runWorklet([noisy], { processorOptions: { attenuationLimitDb: 0 } });
    assertDelayedCopy(output[0], noisy, ready(messages).latencySamples, 'limit 0');
  });

  test('with no input connected it outputs silence and keeps running', () => {
    const scope = createScope({ sampleRate: RATE });
    const node = scope.createNode({ module: scope.packageModule(), enabled: true, attenuationLimitDb: null, vadIntervalMs: 50 });
    for (let q = 0; q < 40; q++) {
      const out = node.processQuantum([]);
      assert.equal(out.length, 1);
      assert.ok(out[0].every((s) => s === 0));
    }
    assert.equal(node.active, true);
    assert.deepEqual(node.errors, []);
  });
});

describe('options mid-stream', () => {
  // Off at 1.33 s and on again at 2.67 s (quantum boundaries), in the middle of speech.
  const offAt = 500 * QUANTUM;
  const onAt = 1000 * QUANTUM;
  const events = [
    { at: offAt, message: { type: 'options', enabled: false } },
    { at: onAt, message: { type: 'options', enabled: true } },
  ];

  test('toggling enabled has no click and reaches bypass / denoising', () => {
    const { output, messages } = runWorklet([noisy], { events });
    const out = output[0];
    const latency = ready(messages).latencySamples;
    // Measured: 0.139 and 0.116 around the switches; the input's own largest step is 0.265.
    for (const at of [offAt, onAt]) {
      const t = at + latency;
      const jump = maxJump(out, t - 960, t + 1920);
      assert.ok(jump <= maxJump(noisy), `step of ${jump} around the switch at ${at}`);
    }
    // Once the 10 ms crossfade is over (at most two frames later), bypass is exact.
    const settled = offAt + latency + 2 * 480;
    for (let i = settled; i < onAt; i++) {
      if (out[i] !== noisy[i - latency]) assert.fail(`not bypassed at ${i}`);
    }
  });

  test('toggling a 100 Hz tone moves no more than the tone itself does', () => {
    // The most click-sensitive input: a low tone's own steps are tiny (0.0065), so a switch
    // without crossfade (a step of up to 0.5) would show. Measured: 0.0065 and 0.0068.
    const tone = Float32Array.from({ length: 4 * RATE }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 100 * i) / RATE));
    const { output, messages } = runWorklet([tone], { events });
    const latency = ready(messages).latencySamples;
    for (const at of [offAt, onAt]) {
      const jump = maxJump(output[0], at + latency - 960, at + latency + 1920);
      assert.ok(jump < 1.25 * maxJump(tone), `step of ${jump} around the switch at ${at}`);
    }
  });

  test('attenuationLimitDb caps the reduction on pure noise', () => {
    // Hum + hiss at -30 dBFS, which RNNoise alone reduces by 34 dB (measured); with a limit of
    // L dB, the output is (1 - 10^(-L/20)) wet + 10^(-L/20) dry. Measured: 5.89 and 11.66 dB.
    const noise = humAndHiss(3 * RATE, RATE, 5, 0.03);
    const reduction = (attenuationLimitDb) => {
      const { output, messages } = runWorklet([noise], { processorOptions: { attenuationLimitDb } });
      const latency = ready(messages).latencySamples;
      // From 1 s on: RNNoise has settled.
      return dbfs(noise, RATE - latency, noise.length - latency) - dbfs(output[0], RATE, noise.length);
    };
    const full = reduction(null);
    assert.ok(full > 25, `RNNoise reduces this noise by ${full} dB only`);
    for (const limit of [6, 12]) {
      const r = reduction(limit);
      console.log(`attenuationLimitDb ${limit}: noise reduced by ${r.toFixed(2)} dB (no limit: ${full.toFixed(1)} dB)`);
      assert.ok(r > limit - 1 && r <= limit + 0.1, `limit ${limit} dB gave ${r} dB`);
    }
  });

  test('an options message changes the limit mid-stream', () => {
    const noise = humAndHiss(4 * RATE, RATE, 5, 0.03);
    const at = 2 * RATE - (2 * RATE) % QUANTUM;
    const { output, messages } = runWorklet([noise], { events: [{ at, message: { type: 'options', attenuationLimitDb: 6 } }] });
    const latency = ready(messages).latencySamples;
    const before = dbfs(noise, RATE - latency, at - latency) - dbfs(output[0], RATE, at);
    const after = dbfs(noise, at + 4800, noise.length - latency) - dbfs(output[0], at + latency + 4800, noise.length);
    assert.ok(before > 25, `before: ${before} dB`);
    assert.ok(after > 5 && after <= 6.1, `after: ${after} dB`);
  });
});

describe('channels and robustness', () => {
  test('stereo: each channel is denoised on its own', () => {
    const noise = humAndHiss(clean.length, RATE, 3, 0.03);
    const stereo = runWorklet([noise, clean]);
    assert.equal(stereo.output.length, 2);
    const left = runWorklet([noise]).output[0];
    const right = runWorklet([clean]).output[0];
    // Independent states: each channel is exactly what it would be alone.
    assert.deepEqual(stereo.output[0], left);
    assert.deepEqual(stereo.output[1], right);
    const latency = ready(stereo.messages).latencySamples;
    const n = clean.length - latency;
    const noiseCut = dbfs(noise, RATE - latency, n) - dbfs(stereo.output[0], RATE, clean.length);
    const speechKept = siSdr(stereo.output[1].subarray(latency), clean.subarray(0, n));
    assert.ok(noiseCut > 25, `noise-only left channel reduced by ${noiseCut} dB`);
    assert.ok(speechKept > 17, `clean right channel SI-SDR ${speechKept} dB`);
  });

  test('NaN, Infinity and 1e30 in the input: finite output, denoising goes on as before', () => {
    const bad = noisy.slice();
    const start = 2 * RATE;
    const end = start + 2400; // 50 ms of garbage
    const garbage = [NaN, Infinity, -Infinity, 1e30, -1e30];
    for (let i = start; i < end; i++) bad[i] = garbage[i % garbage.length];
    const withBurst = runWorklet([bad]);
    const without = runWorklet([noisy]);
    assert.deepEqual(withBurst.node.errors, []);
    assert.deepEqual(withBurst.messages.filter((m) => m.type === 'error'), []);
    const out = withBurst.output[0];
    const i = out.findIndex((s) => !Number.isFinite(s) || Math.abs(s) > 1);
    assert.equal(i, -1, `sample ${i} is ${out[i]}`);
    // From 0.5 s after the burst: same quality as without it (measured 7.53 vs 7.57 dB).
    const latency = ready(withBurst.messages).latencySamples;
    const from = end + RATE / 2;
    const n = clean.length - latency;
    const quality = (o) => siSdr(o.subarray(from + latency), clean.subarray(from, n));
    const before = siSdr(noisy.subarray(from, n), clean.subarray(from, n));
    assert.ok(quality(out) - before > 6, `after the burst: ${quality(out)} dB from ${before} dB`);
    assert.ok(Math.abs(quality(out) - quality(without.output[0])) < 1, `${quality(out)} vs ${quality(without.output[0])}`);
  });

  test('VAD reports every vadIntervalMs, high in speech and low in silence', () => {
    const scope = createScope({ sampleRate: RATE, performance: true });
    const node = scope.createNode({ module: scope.packageModule(), enabled: true, attenuationLimitDb: null, vadIntervalMs: 50 });
    node.run([clean]);
    const vads = node.messagesOfType('vad');
    const every = Math.round((0.05 * RATE) / QUANTUM) * QUANTUM / RATE;
    assert.equal(vads.length, Math.floor(clean.length / QUANTUM / Math.round((0.05 * RATE) / QUANTUM)));
    for (let k = 1; k < vads.length; k++) assert.ok(Math.abs(vads[k].time - vads[k - 1].time - every) < 1e-9);
    for (const v of vads) {
      assert.ok(v.probability >= 0 && v.probability <= 1);
      // The CPU figure is an average over the first whole second of audio, then every second.
      if (v.time < 1) assert.ok(!('cpuMsPer10ms' in v), `cpuMsPer10ms before a whole second, at ${v.time}`);
      else assert.ok(Number.isFinite(v.cpuMsPer10ms) && v.cpuMsPer10ms > 0, `cpuMsPer10ms at ${v.time}`);
      // The worst process() call since the previous event, on the same clock.
      assert.ok(Number.isFinite(v.maxProcessMs) && v.maxProcessMs > 0, `maxProcessMs at ${v.time}`);
    }
    // The worst quantum costs at least the average one (a 10 ms average spans 3.75 quanta).
    const worst = Math.max(...vads.map((v) => v.maxProcessMs));
    const average = vads.filter((v) => v.cpuMsPer10ms !== undefined).map((v) => v.cpuMsPer10ms);
    assert.ok(worst >= Math.min(...average) * QUANTUM / (0.01 * RATE), `worst quantum ${worst} ms, average ${Math.min(...average)} ms per 10 ms`);
    // The fixture opens on 0.4 s of digital silence and speaks from then on.
    const at = (t) => vads.find((v) => v.time >= t).probability;
    assert.ok(at(0.1) < 0.2, `VAD in the leading silence ${at(0.1)}`);
    assert.ok(Math.max(...vads.slice(10, 40).map((v) => v.probability)) > 0.9, 'VAD in the first sentence');
    // Without performance.now in the scope (Chromium) the figure comes from Date.now().
    const plain = runWorklet([clean]).messages.filter((m) => m.type === 'vad' && m.time >= 1);
    assert.ok(plain.length > 0 && plain.every((v) => Number.isFinite(v.cpuMsPer10ms) && v.cpuMsPer10ms >= 0));
  });
});

describe('failure path: error message and pass-through, never silence', () => {
  const emptyModule = (scope) => scope.compile(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  const cases = [
    ['no module', () => ({ module: undefined })],
    ['null module', () => ({ module: null })],
    ['not a module', () => ({ module: { not: 'a module' } })],
    ['a module without the exports', (scope) => ({ module: emptyModule(scope) })],
  ];
  for (const [name, options] of cases) {
    test(name, () => {
      const scope = createScope({ sampleRate: RATE });
      const { output, messages, node } = runWorklet([noisy], { scope, processorOptions: options(scope) });
      assert.deepEqual(node.errors, []);
      assert.equal(messages[0].type, 'error');
      assert.match(messages[0].message, /\S/);
      assert.equal(ready(messages), undefined);
      assertDelayedCopy(output[0], noisy, 0, name);
    });
  }

  for (const sampleRate of [7000, 192000]) {
    test(`an unsupported context rate (${sampleRate} Hz)`, () => {
      const input = whiteNoise(sampleRate / 10, 1, 0.1);
      const { output, messages } = runWorklet([input], { sampleRate });
      assert.equal(messages[0].type, 'error');
      assert.match(messages[0].message, new RegExp(String(sampleRate)));
      assertDelayedCopy(output[0], input, 0, `${sampleRate} Hz`);
    });
  }

  test('a failed scope does not prevent a later valid module', () => {
    const scope = createScope({ sampleRate: RATE });
    const bad = scope.createNode({ module: emptyModule(scope), enabled: true, attenuationLimitDb: null, vadIntervalMs: 50 });
    assert.equal(bad.messages[0].type, 'error');
    const good = scope.createNode({ module: scope.packageModule(), enabled: true, attenuationLimitDb: null, vadIntervalMs: 50 });
    assert.equal(good.messages[0].type, 'ready');
  });
});

describe('destroy and leaks', () => {
  const options = (scope) => ({ module: scope.packageModule(), enabled: true, attenuationLimitDb: null, vadIntervalMs: 50 });

  test('destroy frees the handle, reports the live count and stops process()', () => {
    const scope = createScope({ sampleRate: RATE });
    const module = scope.packageModule();
    const a = scope.createNode({ ...options(scope), module });
    const b = scope.createNode({ ...options(scope), module });
    const chunk = [noisy.subarray(0, 4 * QUANTUM)];
    a.run(chunk);
    b.run(chunk);
    b.post({ type: 'destroy' });
    const destroyed = b.messagesOfType('destroyed');
    assert.equal(destroyed.length, 1);
    assert.equal(destroyed[0].live, 1, 'the other node is still alive');
    assert.ok(destroyed[0].memoryBytes > 0);
    const out = b.processQuantum([noisy.subarray(0, QUANTUM)]);
    assert.equal(b.active, false, 'process() returned false after destroy');
    assert.ok(out[0].every((s) => s === 0));
    assert.deepEqual(b.errors, []);
    a.post({ type: 'destroy' });
    assert.equal(a.messagesOfType('destroyed')[0].live, 0);
  });

  for (const sampleRate of [48000, 44100]) {
    test(`200 create/process/destroy cycles at ${sampleRate} Hz leave live 0 and memory flat`, () => {
      const scope = createScope({ sampleRate });
      const module = scope.packageModule();
      const memory = [];
      for (let i = 0; i < 200; i++) {
        const node = scope.createNode({ ...options(scope), module });
        assert.equal(node.messages[0].type, 'ready');
        node.run([whiteNoise(10 * QUANTUM, i, 0.05), whiteNoise(10 * QUANTUM, i + 1000, 0.05)]);
        node.post({ type: 'destroy' });
        const d = node.messagesOfType('destroyed')[0];
        assert.equal(d.live, 0, `cycle ${i}`);
        memory.push(d.memoryBytes);
      }
      assert.equal(memory[199], memory[9], `memory grew from ${memory[9]} to ${memory[199]} bytes`);
    });
  }
});

describe('latency at every supported context rate', () => {
  const rates = [8000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000];
  const rows = [];

  for (const sampleRate of rates) {
    test(`${sampleRate} Hz: an impulse in bypass comes out latencySamples later`, () => {
      const impulseAt = 1000;
      const input = new Float32Array(impulseAt + 2 * sampleRate / 10);
      input[impulseAt] = 0.5;
      const { output, messages } = runWorklet([input], { sampleRate, processorOptions: { enabled: false } });
      const latency = ready(messages)?.latencySamples;
      assert.ok(Number.isInteger(latency), JSON.stringify(messages[0]));
      let peak = 0;
      for (let i = 1; i < output[0].length; i++) if (Math.abs(output[0][i]) > Math.abs(output[0][peak])) peak = i;
      const measured = peak - impulseAt;
      assert.ok(Math.abs(measured - latency) <= 1, `impulse delayed ${measured}, reported ${latency}`);
      // The impulse's energy passes, except what lies above 0.9 x the Nyquist frequency of
      // the lower of the context rate and RNNoise's 48 kHz. Measured: 85-90 %, 100 % at 48 kHz,
      // 49 % and 45 % at 88.2 and 96 kHz (no content above 24 kHz).
      let energy = 0;
      for (const s of output[0]) energy += s * s;
      const band = Math.min(1, 48000 / sampleRate);
      assert.ok(energy / 0.25 > 0.8 * band, `${(100 * energy / 0.25).toFixed(1)} % of the impulse's energy`);
      const ms = (1000 * latency) / sampleRate;
      const extra = ms - (1000 * LATENCY_48K) / RATE;
      rows.push({ sampleRate, latency, measured, ms, extra });
      assert.ok(extra < 3, `${extra} ms more than at 48 kHz`);
    });
  }

  test('latency table', () => {
    assert.equal(rows.length, rates.length);
    const lines = ['| context rate (Hz) | latencySamples | impulse delay | latency (ms) | extra vs 48 kHz (ms) |', '|---:|---:|---:|---:|---:|'];
    for (const r of rows) {
      lines.push(`| ${r.sampleRate} | ${r.latency} | ${r.measured} | ${r.ms.toFixed(2)} | ${r.extra.toFixed(2)} |`);
    }
    console.log(lines.join('\n'));
  });
});
