// DeepFilterNet3 as the noise suppressor's model, through the BUILT worklet
// (pkg/noise-suppressor.worklet.js + pkg/visio_media_effects_bg.wasm) in the Node stand-in of
// the AudioWorkletGlobalScope: the weights arrive as an ArrayBuffer (processorOptions.weights
// or a 'model' message), as js/noise-suppression.js posts them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dbfs, mixAtSnr, pinkNoise, readWav, whiteNoise } from '../helpers/audio.mjs';
import { WEIGHTS_PATH, rawWasm } from '../helpers/deepfilter-network.mjs';
import { HOP, createDeepFilter } from '../helpers/deepfilter-wasm.mjs';
import { createScope, runWorklet } from '../helpers/worklet-host.mjs';

const file = readFileSync(WEIGHTS_PATH);
const weights = () => file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
const clean = readWav(fileURLToPath(new URL('../fixtures/speech.wav', import.meta.url))).channels[0];
const noisy = mixAtSnr(clean, pinkNoise(clean.length, 7), 5).mix.map((s) => 0.9 * s);
const ready = (messages) => messages.find((m) => m.type === 'ready');
const dfn = (extra = {}) => ({ model: 'deepfilternet3', weights: weights(), ...extra });

function maxJump(x, from = 1, to = x.length) {
  let m = 0;
  for (let i = Math.max(1, from); i < Math.min(to, x.length); i++) m = Math.max(m, Math.abs(x[i] - x[i - 1]));
  return m;
}

describe('DeepFilterNet3 in the worklet', () => {
  test('48 kHz: output equals DeepFilter run offline, delayed by latencySamples - 1440', () => {
    const { output, messages, node } = runWorklet([noisy], { processorOptions: dfn() });
    assert.deepEqual(node.errors, []);
    const r = ready(messages);
    assert.equal(r.model, 'deepfilternet3');
    assert.equal(r.latencySamples, 448 + 1440);
    console.log(`# DFN3 worklet at 48 kHz: latency ${r.latencySamples} samples (${(r.latencySeconds * 1e3).toFixed(2)} ms), wasm memory ${(r.memoryBytes / 2 ** 20).toFixed(1)} MiB`);
    // The budget: 16 MB per context (one copy of the weights, shared by both channels).
    assert.ok(r.memoryBytes <= 16e6, `memory ${r.memoryBytes}`);
    const df = createDeepFilter(rawWasm());
    const offline = new Float32Array(noisy.length);
    const hop = new Float32Array(HOP);
    for (let i = 0; i + HOP <= noisy.length; i += HOP) {
      df.process(noisy.subarray(i, i + HOP), hop);
      offline.set(hop, i);
    }
    const shift = r.latencySamples - df.latency;
    let worst = 0;
    let peak = 0;
    for (let i = 0; i + shift < output[0].length && i + HOP <= noisy.length; i++) {
      worst = Math.max(worst, Math.abs(output[0][i + shift] - offline[i]));
      peak = Math.max(peak, Math.abs(offline[i]));
    }
    console.log(`# worst difference to offline ${worst.toExponential(2)} (peak ${peak.toFixed(3)})`);
    assert.ok(peak > 0.1);
    assert.ok(worst < 1e-6, `worst difference ${worst}`);
  });

  for (const [rate, latency] of [[44100, 1797], [16000, 656]]) {
    test(`${rate} Hz: stated latency, noise removed, bypass delayed by exactly that`, () => {
      const noise = whiteNoise(rate * 3, 3, 0.05);
      const { output, messages } = runWorklet([noise], { sampleRate: rate, processorOptions: dfn() });
      assert.equal(ready(messages).latencySamples, latency);
      const removed = dbfs(noise, rate, noise.length - latency) - dbfs(output[0], rate + latency);
      console.log(`# ${rate} Hz: latency ${latency} samples, white noise removed ${removed.toFixed(1)} dB`);
      assert.ok(removed > 15, `${removed} dB`);
      // Bypassed, a 440 Hz tone comes back delayed by exactly the stated latency (resampled
      // there and back: within the resampler's error).
      const tone = noise.map((_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));
      const bypass = runWorklet([tone], { sampleRate: rate, processorOptions: dfn({ enabled: false }) }).output[0];
      let err = 0;
      for (let i = rate; i < tone.length; i++) err = Math.max(err, Math.abs(bypass[i] - tone[i - latency]));
      // Allowed: the rounding of latencySamples (half a sample of the tone's slope) + 0.01.
      const allowed = 0.01 + (0.5 * 0.5 * 2 * Math.PI * 440) / rate;
      assert.ok(err < allowed, `bypass differs from the delayed input by ${err} (allowed ${allowed})`);
    });
  }

  test('a live switch RNNoise -> DeepFilterNet3 -> RNNoise: no gap, no click, latency reported', () => {
    const at1 = 128 * 750; // 2 s
    const at2 = 128 * 1875; // 5 s
    const { output, messages, node } = runWorklet([clean], {
      processorOptions: {},
      events: [
        { at: at1, message: { type: 'model', model: 'deepfilternet3', weights: weights() } },
        { at: at2, message: { type: 'model', model: 'rnnoise' } },
      ],
    });
    assert.deepEqual(node.errors, []);
    assert.equal(messages.filter((m) => m.type === 'error').length, 0, JSON.stringify(messages.filter((m) => m.type === 'error')));
    const changes = messages.filter((m) => m.type === 'model').map((m) => [m.model, m.latencySamples]);
    assert.deepEqual(changes, [['deepfilternet3', 1888], ['rnnoise', 928]]);
    // A live switch keeps the file during its conversion steps, and the old model: still within 16 MB.
    const memory = messages.find((m) => m.type === 'model').memoryBytes;
    console.log(`# wasm memory after the live switch to DeepFilterNet3: ${(memory / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(memory <= 16e6, `memory ${memory}`);
    const y = output[0];
    for (const at of [at1, at2]) {
      const jump = maxJump(y, at - 4800, at + 9600);
      assert.ok(jump <= maxJump(clean), `step ${jump} at the switch near ${at}`);
      // No gap: where the input (at either model's delay) has speech, the output does too.
      for (let s = at - 4800; s < at + 9600; s += 480) {
        const input = Math.min(dbfs(clean, s - 928, s - 928 + 480), dbfs(clean, s - 1888, s - 1888 + 480));
        if (input > -40) assert.ok(dbfs(y, s, s + 480) > input - 20, `10 ms at ${s}: ${dbfs(y, s, s + 480)} dB, input ${input} dB`);
      }
    }
  });

  test('corrupt or missing weights: an error naming the problem, and pass-through', () => {
    const corrupt = weights();
    new Uint8Array(corrupt).fill(7, 0, 4); // magic gone
    const truncated = weights().slice(0, 100_000);
    for (const [opts, expected] of [
      [dfn({ weights: corrupt }), /deepfilternet3: DeepFilterNet3 weights: .*(magic|DeepFilterNet)/i],
      [dfn({ weights: truncated }), /deepfilternet3: DeepFilterNet3 weights: .*(ends|truncated)/i],
      [{ model: 'deepfilternet3' }, /deepfilternet3 weights did not reach the worklet/],
      [{ model: 'nonsense' }, /unknown model "nonsense"/],
    ]) {
      const { output, messages, node } = runWorklet([noisy], { processorOptions: opts });
      const error = messages.find((m) => m.type === 'error');
      assert.ok(error, JSON.stringify(messages));
      assert.match(error.message, expected);
      assert.equal(ready(messages), undefined);
      assert.deepEqual(node.errors, []);
      assert.deepEqual(output[0], noisy, 'not passed through');
    }
    // A corrupt file in a live switch: the message handler only keeps it; process() copies it
    // into wasm memory 512 KiB a quantum (9 quanta, after one to reserve the buffer), then the
    // suppressor rejects it: RNNoise played until then, pass-through after, with an error.
    const scope = createScope();
    const node = scope.createNode({ module: scope.packageModule(), enabled: true, attenuationLimitDb: null, vadIntervalMs: 50 });
    const errorAt = [];
    const { output } = node.run([noisy], {
      events: [{ at: 128 * 100, message: { type: 'model', model: 'deepfilternet3', weights: corrupt } }],
      onQuantum: (q) => { if (!errorAt.length && node.messages.some((m) => m.type === 'error')) errorAt.push(q); },
    });
    assert.match(node.messages.find((m) => m.type === 'error').message, /deepfilternet3: DeepFilterNet3 weights: .*magic/);
    assert.deepEqual(errorAt, [100 + 1 + 9], 'rejected in the quantum after the last slice');
    assert.notDeepEqual(output[0].subarray(128 * 100, 128 * 110), noisy.subarray(128 * 100, 128 * 110), 'RNNoise was not running');
    assert.deepEqual(output[0].subarray(128 * 111), noisy.subarray(128 * 111));
    // A well-formed file without DeepFilterNet3's tensors: a live switch copies the file and
    // lays the weights out over the quanta after the message (reserve, copy, then the
    // suppressor's first step: quantum 102), so the error comes from process(), naming the
    // tensor; RNNoise played until then, pass-through after.
    const empty = new Uint8Array([...'DFNW'].map((c) => c.charCodeAt(0)).concat([1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])).buffer;
    const scope2 = createScope();
    const node2 = scope2.createNode({ module: scope2.packageModule(), enabled: true, attenuationLimitDb: null, vadIntervalMs: 50 });
    const run2 = node2.run([noisy], { events: [{ at: 128 * 100, message: { type: 'model', model: 'deepfilternet3', weights: empty } }] });
    assert.deepEqual(node2.errors, []);
    assert.match(node2.messages.find((m) => m.type === 'error').message, /deepfilternet3: DeepFilterNet3 weights: .*missing tensor "enc\.gru0\.w"/);
    assert.notDeepEqual(run2.output[0].subarray(128 * 90, 128 * 102), noisy.subarray(128 * 90, 128 * 102), 'RNNoise was not running');
    assert.deepEqual(run2.output[0].subarray(128 * 103), noisy.subarray(128 * 103));
  });
});
