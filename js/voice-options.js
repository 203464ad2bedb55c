// The voice chain's options (`voice`, `intensity`): checking, normalising and merging.
//
// `voice` is `true` / `false` (every stage on / off) or an object naming stages, each `true`,
// `false` or an object of parameters; an absent stage keeps its current state (off at
// creation). The normalised form the worklet receives is, per stage named,
// `{ index, on, params: [4 numbers] }` (index: the stage in the wasm ABI) with NaN for "derived from intensity", in the order of
// src/audio/voice/mod.rs's `Params`. The ranges below are the ones src/audio/voice/mod.rs's
// RANGES clamps to: keep the two in step.

import { PREFIX, describe } from './checks.js';

/** Stage name -> its index in the wasm ABI and its parameters: [name, min, max, unit]. */
export const VOICE_STAGES = {
  highPass: { index: 0, params: [['frequency', 20, 300, 'Hz']] },
  leveler: { index: 1, params: [['targetDb', -40, -6, 'dBFS'], ['maxGainDb', 0, 40, 'dB'], ['maxCutDb', 0, 40, 'dB']] },
  compressor: {
    index: 2,
    params: [['thresholdDb', -60, 0, 'dBFS'], ['ratio', 1, 20, ''], ['attackMs', 0.1, 200, 'ms'], ['releaseMs', 10, 2000, 'ms']],
  },
  limiter: { index: 3, params: [['ceilingDb', -20, -1, 'dBFS'], ['releaseMs', 10, 1000, 'ms']] },
};
const STAGE_NAMES = Object.keys(VOICE_STAGES);
// Marks a normalised setting, so that options checked once (suppressNoise, the livekit
// processor) pass through createNoiseSuppressorNode's check unchanged. Symbol keys are not
// enumerated and not posted to the worklet.
const NORMALISED = Symbol('normalised voice');
const normalised = (stages) => Object.defineProperty(stages, NORMALISED, { value: true });

export function checkIntensity(value) {
  if (typeof value !== 'number' || !(value >= 0 && value <= 100)) {
    throw new RangeError(`${PREFIX}: intensity must be a number from 0 to 100 (Visio uses 90), got ${describe(value)}`);
  }
  return value;
}

function checkStage(name, value) {
  const where = `voice.${name}`;
  const { index, params } = VOICE_STAGES[name];
  if (typeof value === 'boolean') return { index, on: value, params: [NaN, NaN, NaN, NaN] };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${PREFIX}: ${where} must be true, false or an object of parameters, got ${describe(value)}`);
  }
  const known = params.map(([p]) => p);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(`${PREFIX}: ${where} has no parameter "${key}" (it takes ${known.join(', ')})`);
    }
  }
  const out = [NaN, NaN, NaN, NaN];
  params.forEach(([p, min, max, unit], i) => {
    const v = value[p];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new TypeError(`${PREFIX}: ${where}.${p} must be a number${unit ? ` (${unit})` : ''}, got ${describe(v)}`);
    }
    if (v < min || v > max) {
      throw new RangeError(`${PREFIX}: ${where}.${p} must be within ${min}..${max}${unit ? ` ${unit}` : ''}, got ${v}`);
    }
    out[i] = v;
  });
  return { index, on: true, params: out };
}

/** `voice` checked and normalised: { [stage]: { on, params } } for the stages it names. */
export function checkVoice(value) {
  if (value?.[NORMALISED]) return value;
  if (typeof value === 'boolean') {
    return normalised(Object.fromEntries(STAGE_NAMES.map((name) => [name, checkStage(name, value)])));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${PREFIX}: voice must be true, false or an object { highPass, leveler, compressor, limiter }, got ${describe(value)}`);
  }
  const out = {};
  for (const [name, stage] of Object.entries(value)) {
    if (!STAGE_NAMES.includes(name)) {
      throw new TypeError(`${PREFIX}: voice has no stage "${name}" (stages: ${STAGE_NAMES.join(', ')})`);
    }
    if (stage !== undefined) out[name] = checkStage(name, stage);
  }
  return normalised(out);
}

/** The stages of `update` applied over `current` (both normalised). */
export function mergeVoice(current, update) {
  return normalised({ ...current, ...update });
}

/** A normalised voice setting as the user-facing shape: false, true or the parameters given. */
export function describeVoice(voice) {
  return Object.fromEntries(STAGE_NAMES.map((name) => {
    const stage = voice?.[name];
    if (!stage?.on) return [name, false];
    const given = VOICE_STAGES[name].params
      .map(([p], i) => [p, stage.params[i]])
      .filter(([, v]) => !Number.isNaN(v));
    return [name, given.length ? Object.fromEntries(given) : true];
  }));
}
