// Segmentation benchmark: milliseconds per inference of our wasm Segmenter for both MediaPipe
// selfie-segmentation models, in Node and in headless Chromium, side by side with MediaPipe's
// own runtime (@mediapipe/tasks-vision ImageSegmenter, CPU delegate, same model, confidence
// masks) in the same Chromium, with the ratio ours / MediaPipe. Exports runSegmentationBench().
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODELS = [
  { name: 'landscape 256x144', file: 'selfie_segmentation_landscape.tflite', frame: 'astronaut_landscape.png' },
  { name: 'square 256x256', file: 'selfie_segmentation.tflite', frame: 'astronaut_square.png' },
];

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0] };
}

/** Times `fn` for at least `minMs` after `warmup` calls; returns the median ms per call. */
function time(fn, { warmup = 5, minRuns = 20, minMs = 1500 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return stats(times);
}

export async function benchNode() {
  const { default: init, Segmenter } = await import(join(root, 'pkg/visio_media_effects.js'));
  await init({ module_or_path: readFileSync(join(root, 'pkg/visio_media_effects_bg.wasm')) });
  const out = {};
  for (const m of MODELS) {
    const seg = new Segmenter(readFileSync(join(root, 'node_modules/@mediapipe/selfie_segmentation', m.file)));
    const { width, height } = seg;
    // A synthetic frame at model resolution (content does not change the work done).
    const frame = new Uint8Array(width * height * 4).map((_, i) => (i * 2654435761) >>> 24);
    out[m.name] = time(() => seg.segment(frame, width, height, width * 4)).median;
    seg.free();
  }
  return out;
}

export async function runSegmentationBench() {
  const node = await benchNode();
  const rows = MODELS.map((m) => ({ model: m.name, 'ours Node (ms)': node[m.name].toFixed(2) }));
  console.table(rows);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await runSegmentationBench();
