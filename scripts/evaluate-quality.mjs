// Prints the noise-suppression quality table (see tests/helpers/audio-quality.mjs): real speech
// (English, French) + real noise at 0 and 10 dB SNR, and clean speech, through each model;
// PESQ-wb, STOI, SI-SDR gain and noise removed in speech pauses, averaged over the voices.
// --synthetic: the project's fixtures instead (espeak-ng speech + six generated noises).
// Usage: node scripts/evaluate-quality.mjs [--synthetic] [--json rows.json] [model ids...]
//   (default models: noisy ours c dfn3; needs pkg/ built; dfn3-ref: native libdeepfilter)
import { writeFileSync } from 'node:fs';
import { MODELS, buildCases, buildSyntheticCases, evaluate, formatTable, summarise } from '../tests/helpers/audio-quality.mjs';

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonPath = jsonAt >= 0 ? args.splice(jsonAt, 2)[1] : null;
const syntheticAt = args.indexOf('--synthetic');
if (syntheticAt >= 0) args.splice(syntheticAt, 1);
const ids = args.length ? args : ['noisy', 'ours', 'c', 'dfn3'];
const models = ids.map((id) => MODELS[id] ?? (() => { throw new Error(`unknown model ${id} (${Object.keys(MODELS).join(', ')})`); })());
const started = performance.now();
const cases = syntheticAt >= 0 ? buildSyntheticCases() : buildCases();
const rows = evaluate(models, cases);
if (jsonPath) writeFileSync(jsonPath, JSON.stringify(rows, null, 1));
console.log(formatTable(summarise(rows), ids));
console.log(`\n${cases.length} inputs x ${models.length} models in ${((performance.now() - started) / 1000).toFixed(1)} s`);
