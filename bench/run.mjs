// `npm run bench`: builds, then runs each benchmark section in turn. Sections are modules
// exporting one `run…Bench()` function each; add segmentation and video ones beside audio.
import { runAudioBench } from './audio.mjs';

const sections = [['audio', runAudioBench]];
const only = process.argv.slice(2);

for (const [name, run] of sections) {
  if (only.length && !only.includes(name)) continue;
  await run();
}
