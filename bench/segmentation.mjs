// Segmentation benchmark: milliseconds per inference of our wasm Segmenter for both MediaPipe
// selfie-segmentation models, in Node and in headless Chromium, side by side with MediaPipe's
// own runtime (@mediapipe/tasks-vision ImageSegmenter, CPU delegate, same model, confidence
// masks) in the same Chromium, with the ratio ours / MediaPipe. Exports runSegmentationBench().
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rgbaInput } from '../tests/helpers/wasm-frame.mjs';

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
  const glue = await import(join(root, 'pkg/visio_media_effects.js'));
  const { default: init, Segmenter } = glue;
  const { memory } = await init({ module_or_path: readFileSync(join(root, 'pkg/visio_media_effects_bg.wasm')) });
  const out = {};
  const input = new glue.FrameInput();
  for (const m of MODELS) {
    const seg = new Segmenter(readFileSync(join(root, 'node_modules/@mediapipe/selfie_segmentation', m.file)));
    const { width, height } = seg;
    // A synthetic frame at model resolution (content does not change the work done).
    const frame = new Uint8Array(width * height * 4).map((_, i) => (i * 2654435761) >>> 24);
    // Each run copies the frame in, as the pipeline does per frame.
    out[m.name] = time(() => seg.segment(rgbaInput(glue, memory, frame, width, height, 4 * width, input))).median;
    seg.free();
  }
  input.free();
  return out;
}

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

/** A static file server for the repository on 127.0.0.1 (the page's only origin). */
async function serve() {
  const { createServer } = await import('node:http');
  const { extname, normalize } = await import('node:path');
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = path === '/' ? '<!doctype html><title>bench</title>' : readFileSync(join(root, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? (path === '/' ? 'text/html' : 'application/octet-stream') });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

/** Runs in the page: both engines on the same frame, alternating, for one model. */
async function pageBench({ model, metadataModel, frame, minMs }) {
  const [glue, { FilesetResolver, ImageSegmenter }] = await Promise.all([
    import('/pkg/visio_media_effects.js'), import('/node_modules/@mediapipe/tasks-vision/vision_bundle.mjs')]);
  const { default: init, Segmenter } = glue;
  const { rgbaInput } = await import('/tests/helpers/wasm-frame.mjs');
  const wasm = await init({ module_or_path: '/pkg/visio_media_effects_bg.wasm' });
  const bytes = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
  const bitmap = await createImageBitmap(await (await fetch(frame)).blob());
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const image = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  const { width, height } = image;

  const ours = new Segmenter(await bytes(model));
  const input = new glue.FrameInput();
  let oursMask;
  const runOurs = () => {
    ours.segment(rgbaInput(glue, wasm.memory, image.data, width, height, 4 * width, input));
    oursMask = new Float32Array(wasm.memory.buffer, ours.maskPtr(), width * height);
  };
  const fileset = await FilesetResolver.forVisionTasks('/node_modules/@mediapipe/tasks-vision/wasm');
  const theirs = await ImageSegmenter.createFromOptions(fileset, {
    baseOptions: { modelAssetBuffer: await bytes(metadataModel), delegate: 'CPU' },
    runningMode: 'IMAGE', outputConfidenceMasks: true, outputCategoryMask: false,
  });
  let theirMask;
  const runTheirs = () => theirs.segment(image, (result) => { theirMask = result.confidenceMasks[0].getAsFloat32Array(); });

  const time = (fn, n) => { const t = performance.now(); for (let i = 0; i < n; i++) fn(); return (performance.now() - t) / n; };
  for (let i = 0; i < 5; i++) { runOurs(); runTheirs(); }
  // Alternate short batches so both see the same machine load; medians of batch means.
  const a = [], b = [];
  const start = performance.now();
  while (a.length < 10 || performance.now() - start < minMs) { a.push(time(runOurs, 5)); b.push(time(runTheirs, 5)); }
  const median = (v) => v.sort((x, y) => x - y)[Math.floor(v.length / 2)];
  let mad = 0;
  for (let i = 0; i < oursMask.length; i++) mad += Math.abs(oursMask[i] - theirMask[i]);
  theirs.close();
  ours.free();
  return { ours: median(a), theirs: median(b), mad: mad / oursMask.length, width, height };
}

export async function benchChromium({ minMs = 3000 } = {}) {
  const { chromium } = await import('playwright-core');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const server = await serve();
  const profile = mkdtempSync(join(tmpdir(), 'vme-bench-'));
  const args = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  let browser;
  try {
    browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args, headless: true });
    const page = browser.pages()[0] ?? await browser.newPage();
    // tasks-vision posts usage logs to a Google host: nothing leaves this machine.
    await page.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    page.on('pageerror', (e) => console.error('[page]', e.message));
    await page.goto(server.url);
    const version = browser.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent)).match(/Chrome\/([\d.]+)/)?.[1];
    const out = { version };
    for (const m of MODELS) {
      out[m.name] = await page.evaluate(pageBench, {
        model: `/node_modules/@mediapipe/selfie_segmentation/${m.file}`,
        metadataModel: `/tests/fixtures/segmentation/with_metadata/${m.file}`,
        frame: `/tests/fixtures/segmentation/${m.frame}`,
        minMs,
      });
    }
    return out;
  } finally {
    await browser?.close().catch(() => {});
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** `npm run bench` section: prints one table and returns its rows. */
export async function runSegmentationBench() {
  console.log('\nSegmentation: ms per inference (median), ours = visio-media-effects wasm, MediaPipe = @mediapipe/tasks-vision ImageSegmenter (CPU delegate)');
  const node = await benchNode();
  const chrome = await benchChromium();
  const rows = MODELS.map((m) => {
    const c = chrome[m.name];
    return {
      model: m.name,
      'ours Node': node[m.name].toFixed(2),
      'ours Chromium': c.ours.toFixed(2),
      'MediaPipe Chromium': c.theirs.toFixed(2),
      'ratio ours/MediaPipe': (c.ours / c.theirs).toFixed(2),
      'mask MAD vs MediaPipe': c.mad.toExponential(1),
    };
  });
  console.log(`Node ${process.version}, Chromium ${chrome.version}`);
  console.table(rows);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await runSegmentationBench();
