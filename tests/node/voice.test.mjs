// The voice chain through the BUILT worklet and wasm (pkg/), in the Node stand-in of the
// AudioWorkletGlobalScope, with options normalised by the package's own pkg/voice-options.js:
// speech levels, pauses, rumble, the -1 dBFS ceiling, click-free toggles, latency, and the
// option errors of the public API.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { humAndHiss, mixAtSnr } from '../helpers/audio.mjs';
import { CEILING, SPEECH, TARGET_DB, clickDb, hardSwitch, levelDb, peak, scene, toneAmplitude } from '../helpers/voice.mjs';
import { QUANTUM, runWorklet } from '../helpers/worklet-host.mjs';
import { checkVoice } from '../../pkg/voice-options.js';
import { NoiseSuppressionProcessor } from '../../pkg/index.js';

const VISIO = { intensity: 90 };
const ready = (r) => r.messages.find((m) => m.type === 'ready');
const run = (input, { voice, sampleRate, events, ...rest } = {}) => {
  const r = runWorklet([input], {
    sampleRate,
    events,
    processorOptions: { ...VISIO, ...rest, ...(voice === undefined ? {} : { voice: checkVoice(voice) }) },
  });
  assert.deepEqual(r.node.errors, []);
  return { y: r.output[0], lag: ready(r).latencySamples, messages: r.messages };
};

describe('voice chain through the worklet', () => {
  test('speech at -45 and -15 dBFS comes out within 3 dB of the -20 dBFS target', () => {
    for (const level of [-45, -15]) {
      const { mix, mask } = scene(level, 3, 20);
      const { y, lag } = run(mix, { voice: true });
      const out = levelDb(y, lag, mask, Math.floor((mask.length * 2) / 3));
      console.log(`speech at ${level} dBFS -> ${out.toFixed(2)} dBFS`);
      assert.ok(Math.abs(out - TARGET_DB) <= 3, `${level} dBFS speech came out at ${out.toFixed(2)} dBFS`);
    }
  });

  test('the leveler raises quiet speech but not the pauses between it', () => {
    const { mix, mask } = scene(-45, 2, 15);
    const off = run(mix, { voice: { highPass: true } });
    const on = run(mix, { voice: { highPass: true, leveler: true } });
    const half = Math.floor(mask.length / 2);
    const last = mask.lastIndexOf(true);
    const pauses = mask.map((_, f) => f >= half && f < last && !mask.slice(Math.max(0, f - 8), f + 8).some(Boolean));
    const speech = mask.map((m, f) => m && f >= half);
    const speechGain = levelDb(on.y, on.lag, speech) - levelDb(off.y, off.lag, speech);
    const pauseGain = levelDb(on.y, on.lag, pauses) - levelDb(off.y, off.lag, pauses);
    console.log(`leveler gain: speech ${speechGain.toFixed(2)} dB, pauses ${pauseGain.toFixed(2)} dB`);
    assert.ok(speechGain > 15, `quiet speech raised by only ${speechGain.toFixed(1)} dB`);
    assert.ok(pauseGain - speechGain <= 1, `pauses raised ${pauseGain.toFixed(2)} dB against ${speechGain.toFixed(2)} dB`);
  });

  test('a 50 Hz rumble drops by 30 dB or more; speech keeps its level', () => {
    // The project's hum + hiss mixture (50 Hz and odd harmonics) under the speech.
    const { mix: speech, mask } = scene(-25, 1, 40);
    const { mix } = mixAtSnr(speech, humAndHiss(speech.length, 48000, 3), 5);
    const off = run(mix, { voice: false });
    const on = run(mix, { voice: { highPass: true } });
    const from = 48000 + on.lag;
    const a = (y) => toneAmplitude(y.subarray(from), 50);
    const drop = 20 * Math.log10(a(off.y) / a(on.y));
    const speechChange = levelDb(on.y, on.lag, mask, 100) - levelDb(off.y, off.lag, mask, 100);
    console.log(`50 Hz: -${drop.toFixed(1)} dB by the high-pass; speech level ${speechChange.toFixed(2)} dB`);
    assert.ok(drop >= 30, `50 Hz lowered by ${drop.toFixed(1)} dB`);
    assert.ok(Math.abs(speechChange) < 1.5, `speech level changed ${speechChange.toFixed(2)} dB`);
  });

  for (const sampleRate of [48000, 44100]) {
    test(`${sampleRate} Hz: input overdriven by 6 dB never exceeds -1 dBFS, through bypass toggles`, () => {
      const x = SPEECH.map((v) => 2 * v);
      const input = sampleRate === 48000 ? x : x.filter((_, i) => i % 480 < 441); // crude decimation: a test signal only
      const events = [];
      for (let q = 100; q < input.length / QUANTUM; q += 150) {
        events.push({ at: q * QUANTUM, message: { type: 'options', enabled: q % 300 !== 100 } });
      }
      for (const voice of [{ limiter: true }, true]) {
        const { y } = run(input, { sampleRate, voice, events });
        const p = peak(y);
        console.log(`${sampleRate} Hz, voice ${JSON.stringify(voice)}: peak ${(20 * Math.log10(p)).toFixed(3)} dBFS`);
        assert.ok(p <= CEILING, `peak ${p} above -1 dBFS`);
      }
      const { y: unlimited } = run(input, { sampleRate, voice: false, enabled: false });
      assert.ok(peak(unlimited) > CEILING, 'the input must drive the limiter');
    });
  }

  test('toggling any stage through options messages makes no click', () => {
    const rumble = (n) => 0.05 * Math.sin((2 * Math.PI * 50 * n) / 48000);
    const cases = [['highPass', -30], ['leveler', -40], ['compressor', -8], ['limiter', -4]];
    for (const [stage, level] of cases) {
      const { mix } = scene(level, 1, 30);
      if (stage === 'highPass') mix.forEach((v, n) => { mix[n] = v + rumble(n); });
      // Every run is created with the stage on (so the limiter's look-ahead is reserved in
      // all three) and the stage turned off before the first quantum where needed.
      const start = (on) => ({ at: 0, message: { type: 'options', voice: checkVoice({ [stage]: on }) } });
      const on = run(mix, { voice: { [stage]: true } });
      const off = run(mix, { voice: { [stage]: true }, events: [start(false)] });
      const lag = on.lag;
      // Toggle where the stage changes the output most, in each half.
      const quanta = Math.floor(mix.length / QUANTUM) - 20;
      const best = (from, to) => {
        let k = from;
        for (let q = from; q < to; q++) if (Math.abs(on.y[q * QUANTUM + lag] - off.y[q * QUANTUM + lag]) > Math.abs(on.y[k * QUANTUM + lag] - off.y[k * QUANTUM + lag])) k = q;
        return k;
      };
      const onAt = best(Math.floor(quanta / 5), Math.floor(quanta / 2));
      const offAt = best(Math.floor(quanta / 2) + 40, quanta);
      const toggled = run(mix, {
        voice: { [stage]: true },
        events: [
          start(false),
          { at: onAt * QUANTUM, message: { type: 'options', voice: checkVoice({ [stage]: true }) } },
          { at: offAt * QUANTUM, message: { type: 'options', voice: checkVoice({ [stage]: false }) } },
        ],
      });
      assert.equal(toggled.lag, lag);
      assert.equal(off.lag, lag);
      for (const [what, k] of [['on', onAt], ['off', offAt]]) {
        const t = k * QUANTUM + lag;
        const measured = clickDb(toggled.y, on.y, off.y, t);
        const hard = clickDb(hardSwitch(on.y, off.y, t, what === 'on'), on.y, off.y, t);
        console.log(`${stage} ${what}: click ${measured.toFixed(1)} dB (hard switch: ${hard.toFixed(1)} dB)`);
        assert.ok(measured <= 3, `${stage} toggled ${what}: ${measured.toFixed(1)} dB`);
        assert.ok(hard > 10, `the measure must catch a hard switch (${stage} ${what}: ${hard.toFixed(1)} dB)`);
      }
    }
  });

  test('latency: 928 samples, 1000 with the limiter on at creation; exact in an impulse test', () => {
    const x = new Float32Array(24000);
    x[12000] = 0.5;
    for (const [voice, expected] of [[false, 928], [{ highPass: true }, 928], [true, 1000], [{ limiter: true }, 1000]]) {
      const { y, lag } = run(x, { voice, enabled: false });
      assert.equal(lag, expected, JSON.stringify(voice));
      let p = 0;
      for (let i = 1; i < y.length; i++) if (Math.abs(y[i]) > Math.abs(y[p])) p = i;
      assert.equal(p - 12000, lag, `impulse delay with voice ${JSON.stringify(voice)}`);
    }
  });
});

describe('voice options in the public API', () => {
  test('normalised from booleans and parameter objects', () => {
    assert.deepEqual(Object.keys(checkVoice(true)), ['highPass', 'leveler', 'compressor', 'limiter']);
    assert.ok(Object.values(checkVoice(false)).every((s) => s.on === false));
    const v = checkVoice({ leveler: { targetDb: -18 }, limiter: false });
    assert.deepEqual(Object.keys(v), ['leveler', 'limiter']);
    assert.equal(v.leveler.on, true);
    assert.equal(v.leveler.params[0], -18);
    assert.ok(Number.isNaN(v.leveler.params[1]));
  });

  const bad = [
    [{ voice: 'on' }, TypeError, /voice must be true, false or an object/],
    [{ voice: { gate: true } }, TypeError, /voice has no stage "gate" \(stages: highPass, leveler, compressor, limiter\)/],
    [{ voice: { leveler: 1 } }, TypeError, /voice\.leveler must be true, false or an object of parameters, got 1/],
    [{ voice: { leveler: { target: -20 } } }, TypeError, /voice\.leveler has no parameter "target" \(it takes targetDb, maxGainDb, maxCutDb\)/],
    [{ voice: { highPass: { frequency: '80' } } }, TypeError, /voice\.highPass\.frequency must be a number \(Hz\), got "80"/],
    [{ voice: { highPass: { frequency: 10 } } }, RangeError, /voice\.highPass\.frequency must be within 20\.\.300 Hz, got 10/],
    [{ voice: { limiter: { ceilingDb: 0 } } }, RangeError, /voice\.limiter\.ceilingDb must be within -20\.\.-1 dBFS, got 0/],
    [{ intensity: 101 }, RangeError, /intensity must be a number from 0 to 100/],
    [{ intensity: NaN }, RangeError, /intensity must be a number from 0 to 100/],
  ];
  for (const [options, type, message] of bad) {
    test(`rejects ${JSON.stringify(options)}`, () => {
      assert.throws(() => new NoiseSuppressionProcessor(options), (e) => e instanceof type && message.test(e.message));
      const p = new NoiseSuppressionProcessor(VISIO);
      assert.throws(() => p.update(options), (e) => e instanceof type && message.test(e.message));
    });
  }

  test('update() merges stages and intensity replaces an earlier limit', () => {
    const p = new NoiseSuppressionProcessor({ intensity: 90, voice: true, attenuationLimitDb: 12 });
    assert.equal(p.attenuationLimitDb, 12);
    p.update({ voice: { compressor: false, leveler: { targetDb: -18 } } });
    assert.deepEqual(p.voice, { highPass: true, leveler: { targetDb: -18 }, compressor: false, limiter: true });
    p.update({ intensity: 50 });
    assert.equal(p.intensity, 50);
    assert.equal(p.attenuationLimitDb, undefined);
  });
});
