// DeepFilterNet3 against RNNoise on the project's synthetic fixtures: the committed espeak-ng
// speech (tests/fixtures/speech.wav) with six generated noises (white, pink, mains hum + hiss,
// low rumble below 40 Hz, keyboard-like clicks, babble of the reversed fixture) at 0 and 10 dB
// SNR, plus the clean speech, through our built RNNoise worklet and our DeepFilterNet3 in the
// built wasm (shipped float16 weights). Scored like the real recordings
// (tests/helpers/audio-quality.mjs); nothing fetched. The C RNNoise build is left out: it equals
// ours (tests/node/real-quality.test.mjs, parity.test.mjs).
//
// Measured when this was written (README "Quality on real recordings" has the whole table; the
// native libdeepfilter scores the same as ours to the printed precision on every cell):
// - mean over the 12 noisy inputs: PESQ-wb noisy 1.30, RNNoise 1.62, DFN3 2.10 (+0.48: the
//   issue's +0.3 target holds); STOI 0.913 / 0.919; SI-SDR gain 6.7 / 10.1 dB; noise removed in
//   pauses 14.1 / 22.6 dB.
// - clean speech: PESQ-wb RNNoise 4.50, DFN3 4.22 (the issue's >= 4.2 holds, by 0.02), SI-SDR
//   20.2 / 27.5 dB.
// - where DFN3 loses to RNNoise (the target "better on every class" does NOT hold):
//   hum + hiss: noise removed in pauses 9.8 vs 23.9 dB (0 dB SNR) and 7.4 vs 18.2 (10 dB),
//     SI-SDR gain 8.2 vs 9.7 and 5.2 vs 6.4 dB (DFN3 leaves the 50/150/250 Hz hum in place);
//   babble (the same voice reversed): STOI 0.594 vs 0.719 (0 dB) and 0.856 vs 0.921 (10 dB),
//     SI-SDR gain -0.1 vs +0.1 and -0.7 vs +0.4 dB (it removes speech-like noise and some of
//     the speech with it; RNNoise removes nothing there);
//   pink 10 dB: noise removed in pauses 20.4 vs 21.4 dB.
//   Everywhere else DFN3 is ahead on every measure (clicks: PESQ 1.86 vs 1.14, 31 vs 5 dB in
//   pauses; low rumble 0 dB: SI-SDR gain 20.4 vs 13.6 dB).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { MODELS, buildSyntheticCases, evaluate, formatTable, summarise } from '../helpers/audio-quality.mjs';

const IDS = ['noisy', 'ours', 'dfn3'];
let groups;

before(() => {
  groups = summarise(evaluate(IDS.map((id) => MODELS[id]), buildSyntheticCases()));
  console.log(formatTable(groups, IDS));
});

const noisyClasses = () => [...groups.values()].filter((g) => g.noise);
const fmt = (x) => x.toFixed(3);

test('DeepFilterNet3: mean PESQ-wb at least RNNoise + 0.3, and ahead on SI-SDR, STOI and pauses', () => {
  const { ours, dfn3 } = groups.get('all noisy').models;
  assert.ok(dfn3.pesq >= ours.pesq + 0.3, `mean PESQ-wb DFN3 ${fmt(dfn3.pesq)} vs RNNoise ${fmt(ours.pesq)}`);
  assert.ok(dfn3.siSdrGain >= ours.siSdrGain + 2, `mean SI-SDR gain DFN3 ${fmt(dfn3.siSdrGain)} vs RNNoise ${fmt(ours.siSdrGain)} dB`);
  assert.ok(dfn3.stoi >= ours.stoi, `mean STOI DFN3 ${fmt(dfn3.stoi)} vs RNNoise ${fmt(ours.stoi)}`);
  assert.ok(dfn3.pauseDb >= ours.pauseDb + 5, `mean noise removed in pauses DFN3 ${fmt(dfn3.pauseDb)} vs RNNoise ${fmt(ours.pauseDb)} dB`);
});

test('DeepFilterNet3 keeps clean speech: PESQ-wb >= 4.2', () => {
  const { noisy, dfn3 } = groups.get('clean').models;
  assert.ok(noisy.pesq > 4.5, `the unprocessed reference scores ${fmt(noisy.pesq)} against itself`);
  assert.ok(dfn3.pesq >= 4.2, `clean PESQ-wb ${fmt(dfn3.pesq)}`);
  // A few dB only if the output were misaligned with the stated 1440-sample latency.
  assert.ok(dfn3.siSdr >= 25, `clean SI-SDR ${fmt(dfn3.siSdr)} dB`);
});

test('DeepFilterNet3 is no worse than RNNoise on PESQ-wb in any class', () => {
  for (const g of noisyClasses()) {
    const { ours, dfn3 } = g.models;
    assert.ok(dfn3.pesq >= ours.pesq - 0.03, `${g.key}: PESQ-wb DFN3 ${fmt(dfn3.pesq)} vs RNNoise ${fmt(ours.pesq)}`);
  }
});

// The classes where DFN3 does not beat RNNoise (see the figures above) are checked against
// their measured floor, so that they cannot get worse unnoticed; every other class must be at
// least RNNoise's.
const KNOWN_MISSES = {
  'hum-hiss@0': { pauseDb: -16, siSdrGain: -2.5 },
  'hum-hiss@10': { pauseDb: -13, siSdrGain: -2 },
  'babble@0': { stoi: -0.15, siSdrGain: -1 },
  'babble@10': { stoi: -0.09, siSdrGain: -1.5 },
  'pink@10': { pauseDb: -2 },
};

test('DeepFilterNet3 against RNNoise class by class: STOI, SI-SDR gain, noise in pauses', () => {
  const slack = { stoi: 0.005, siSdrGain: 0.3, pauseDb: 0.5 };
  for (const g of noisyClasses()) {
    const { ours, dfn3 } = g.models;
    for (const [k, d] of Object.entries(slack)) {
      const allowed = KNOWN_MISSES[g.key]?.[k] ?? -d;
      assert.ok(dfn3[k] >= ours[k] + allowed, `${g.key}: ${k} DFN3 ${fmt(dfn3[k])} vs RNNoise ${fmt(ours[k])} (allowed ${allowed})`);
    }
  }
});
