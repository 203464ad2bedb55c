// `npm run bench`: builds, then runs each benchmark section in turn (or only those named on
// the command line: `node bench/run.mjs audio video`). Sections are modules exporting one
// `run…Bench()` function each.
import { runAudioBench } from './audio.mjs';
import { runCompositorBench } from './compositor.mjs';
import { runSegmentationBench } from './segmentation.mjs';
import { runVideoBench } from './video.mjs';

const sections = [
  ['audio', runAudioBench],
  ['segmentation', runSegmentationBench],
  ['compositor', runCompositorBench],
  ['video', runVideoBench],
];
const only = process.argv.slice(2);

for (const [name, run] of sections) {
  if (only.length && !only.includes(name)) continue;
  await run();
}
