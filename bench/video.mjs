// Video benchmark, headless Chromium (no GPU here: WebGL2 runs on SwiftShader), 1280x720:
// 1. renderers alone: ms per render() + the pipeline's `new VideoFrame(canvas)`, fixed 256x144
//    mask, for our WebGL2 and CPU (wasm SIMD) renderers;
// 2. the whole pipeline on a fake camera (a synthetic scene with a panning brick wall, written
//    as Y4M for --use-file-for-fake-video-capture): our blurBackground() per renderer, next
//    to @livekit/track-processors' BackgroundProcessor (Visio's anchor: 0.7.2 with
//    @mediapipe/tasks-vision 0.10.14) on the same camera, one after the other in the same
//    browser. Everything is served from 127.0.0.1; any other request is aborted and counted
//    (tasks-vision would fetch its wasm from a CDN and post usage logs to Google).
// Exports runVideoBench().
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';
import { createScene, writeY4m } from '../tests/helpers/video-scene.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WIDTH = 1280;
const HEIGHT = 720;
const BLUR_RADIUS = 10; // both APIs' default; Visio's "light" blur
const ANCHOR_VERSION = '0.7.2';
// tasks-vision refuses the shipped selfie-segmentation files (no NormalizationOptions
// metadata); this copy has it added (mean 0, std 255). The anchor's default model lives on a
// Google bucket this bench must not reach; the landscape model is what Visio-class setups use.
export const ANCHOR_MODEL = 'tests/fixtures/segmentation/with_metadata/selfie_segmentation_landscape.tflite';
const RENDER_FRAMES = 60;
const PIPELINE_WARMUP_MS = 3000;
const PIPELINE_MEASURE_MS = 8000;

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.tflite': 'application/octet-stream' };

/** A node_modules or fixture file, confined to its directory. */
function localFile(base, rel) {
  const dir = join(root, base);
  const file = normalize(join(dir, rel));
  return file.startsWith(dir + sep) && existsSync(file) ? file : null;
}

export function anchorStatus() {
  const pkg = join(root, 'node_modules/@livekit/track-processors/package.json');
  if (!existsSync(pkg)) return `skipped: needs @livekit/track-processors@${ANCHOR_VERSION} in node_modules`;
  const version = JSON.parse(readFileSync(pkg, 'utf8')).version;
  if (version !== ANCHOR_VERSION) return `skipped: needs @livekit/track-processors@${ANCHOR_VERSION}, found ${version}`;
  const vision = JSON.parse(readFileSync(join(root, 'node_modules/@mediapipe/tasks-vision/package.json'), 'utf8')).version;
  if (vision !== '0.10.14') return `skipped: needs @mediapipe/tasks-vision@0.10.14, found ${vision}`;
  if (!existsSync(join(root, ANCHOR_MODEL))) return `skipped: needs ${ANCHOR_MODEL}`;
  return null;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>video bench</title>
<script type="importmap">{ "imports": {
  "livekit-client": "/vendor/livekit-client/livekit-client.esm.mjs",
  "@mediapipe/tasks-vision": "/__nm__/@mediapipe/tasks-vision/vision_bundle.mjs",
  "@livekit/track-processors": "/__nm__/@livekit/track-processors/dist/index.mjs"
} }</script><body></body>`;

// ------------------------------------------------------------------------------------------
// Page-side code (serialised by playwright: no closure over Node values).

/** Renderer alone: ms per frame (render + VideoFrame from the canvas), throughput over N frames. */
async function pageRenderers({ frameUrl, mask, width, height, radius, frames }) {
  const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
  const { createCpuRenderer } = await import('/pkg/video/renderer-cpu.js');
  const { loadVideoWasm } = await import('/pkg/video/segmenter.js');
  const { loadWasmModule } = await import('/pkg/wasm.js');
  const bytes = new Uint8ClampedArray(await (await fetch(frameUrl)).arrayBuffer());
  const bitmap = await createImageBitmap(new ImageData(bytes, width, height));
  const maskArray = Float32Array.from(mask);
  const wasm = await loadVideoWasm(await loadWasmModule());
  const out = {};
  for (const [name, make] of [['webgl2', () => createWebGLRenderer()], ['cpu', () => createCpuRenderer({ wasm })]]) {
    const renderer = make();
    renderer.setBackground({ mode: 'blur', radius });
    const gl = renderer.kind === 'webgl2' ? renderer.canvas.getContext('webgl2') : null;
    const pixel = new Uint8Array(4);
    const one = (i) => {
      renderer.render(bitmap, maskArray, 256, 144, width, height);
      new VideoFrame(renderer.canvas, { timestamp: i * 33333 }).close();
    };
    const sync = () => gl?.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    for (let i = 0; i < 5; i++) one(i);
    sync();
    // Per frame, waiting for the GPU each time (latency), then back to back (throughput).
    const each = [];
    for (let i = 0; i < frames; i++) {
      const t = performance.now();
      one(i);
      sync();
      each.push(performance.now() - t);
    }
    const t = performance.now();
    for (let i = 0; i < frames; i++) one(i);
    sync();
    const throughput = (performance.now() - t) / frames;
    each.sort((a, b) => a - b);
    out[name] = { median: each[each.length >> 1], throughput };
    renderer.destroy();
  }
  bitmap.close();
  return out;
}

/** Consumes `track` (closing its frames), counting them; returns stop() -> frames. */
function pageConsume() {
  globalThis.__consume = (track) => {
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    let frames = 0;
    let counting = false;
    let stopped = false;
    (async () => {
      while (!stopped) {
        const { value, done } = await reader.read();
        if (done) break;
        if (counting) frames++;
        value.close();
      }
    })();
    return {
      start() { counting = true; frames = 0; },
      stop() { stopped = true; reader.cancel().catch(() => {}); return frames; },
    };
  };
}

/** Our blurBackground on the fake camera with `renderer`; stats after the measuring window. */
async function pageOurs({ renderer, radius, width, height, warmupMs, measureMs }) {
  const { blurBackground } = await import('/pkg/index.js');
  const track = (await navigator.mediaDevices.getUserMedia({ video: { width, height, frameRate: 30 } })).getVideoTracks()[0];
  const effect = await blurBackground(track, { mode: 'blur', blurRadius: radius, renderer });
  const consumer = __consume(effect.track);
  await new Promise((r) => setTimeout(r, warmupMs));
  consumer.start();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, measureMs));
  const frames = consumer.stop();
  const fps = (frames * 1000) / (performance.now() - t);
  const stats = effect.stats();
  const settings = effect.track.getSettings();
  await effect.destroy();
  track.stop();
  return { fps, stats, size: [settings.width, settings.height] };
}

/** @livekit/track-processors' BackgroundProcessor (blur) on the fake camera. */
async function pageAnchor({ radius, width, height, warmupMs, measureMs, modelUrl, delegate }) {
  const { BackgroundProcessor } = await import('@livekit/track-processors');
  const track = (await navigator.mediaDevices.getUserMedia({ video: { width, height, frameRate: 30 } })).getVideoTracks()[0];
  const times = [];
  const segments = [];
  let measuring = false;
  const processor = BackgroundProcessor({
    mode: 'background-blur',
    blurRadius: radius,
    assetPaths: { tasksVisionFileSet: '/__nm__/@mediapipe/tasks-vision/wasm', modelAssetPath: modelUrl },
    segmenterOptions: { delegate },
    // filterTimeMs spans segmentForVideo (synchronous) and the WebGL draw + VideoFrame; its
    // processingTimeMs adds the segmentation time a second time.
    onFrameProcessed: (s) => { if (measuring) { times.push(s.filterTimeMs); segments.push(s.segmentationTimeMs); } },
  });
  const element = document.createElement('video');
  element.muted = true;
  element.srcObject = new MediaStream([track]);
  document.body.append(element);
  await element.play();
  await processor.init({ kind: 'video', track, element });
  const consumer = __consume(processor.processedTrack);
  await new Promise((r) => setTimeout(r, warmupMs));
  measuring = true;
  consumer.start();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, measureMs));
  measuring = false;
  const frames = consumer.stop();
  const fps = (frames * 1000) / (performance.now() - t);
  await processor.destroy();
  track.stop();
  element.remove();
  times.sort((a, b) => a - b);
  segments.sort((a, b) => a - b);
  const mean = times.reduce((s, x) => s + x, 0) / times.length;
  return { fps, frames: times.length, median: times[times.length >> 1], mean, segmentMedian: segments[segments.length >> 1] };
}

// ------------------------------------------------------------------------------------------

function downscaleMask(alpha, w, h, mw, mh) {
  const out = new Array(mw * mh).fill(0);
  const n = new Array(mw * mh).fill(0);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = Math.min(mh - 1, Math.floor(((y + 0.5) * mh) / h)) * mw + Math.min(mw - 1, Math.floor(((x + 0.5) * mw) / w));
      out[i] += alpha[y * w + x];
      n[i]++;
    }
  }
  return out.map((s, i) => s / n[i]);
}

/**
 * Headless Chromium with `y4m` as its fake camera, on a page that can import our package and
 * the anchor (import map above); every request off 127.0.0.1 is aborted and counted in
 * `blocked`. `frame`: RGBA served at /__frame__.rgba. Returns { page, context, blocked, close }.
 */
export async function openBenchPage({ y4m, frame, log = console.log }) {
  const server = await startServer({ port: 0 });
  const origin = new URL(server.url).origin;
  const blocked = new Set();
  const profile = mkdtempSync(join(tmpdir(), 'vme-bench-profile-'));
  const close = async () => {
    await context?.close().catch(() => {});
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  };
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--autoplay-policy=no-user-gesture-required', '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${y4m}`],
    });
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.origin !== origin) {
        blocked.add(url.host || url.protocol);
        return route.abort('blockedbyclient');
      }
      if (url.pathname === '/__bench__.html') return route.fulfill({ contentType: 'text/html', body: PAGE });
      if (url.pathname === '/__frame__.rgba' && frame) return route.fulfill({ contentType: 'application/octet-stream', body: Buffer.from(frame.buffer) });
      for (const [prefix, base] of [['/__nm__/', 'node_modules'], ['/__fixtures__/', 'tests/fixtures']]) {
        if (!url.pathname.startsWith(prefix)) continue;
        const file = localFile(base, decodeURIComponent(url.pathname.slice(prefix.length)));
        if (!file) return route.fulfill({ status: 404, body: 'not found' });
        return route.fulfill({ contentType: TYPES[extname(file)] ?? 'application/octet-stream', body: readFileSync(file) });
      }
      return route.continue();
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (e) => log(`  [page error] ${e.message}`));
    await page.goto(`${server.url}__bench__.html`);
    await page.evaluate(pageConsume);
    return { page, context, blocked, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function runVideoBench({ log = console.log } = {}) {
  log(`\nVideo: ${WIDTH}x${HEIGHT}, background blur radius ${BLUR_RADIUS}, headless Chromium (WebGL2 = SwiftShader, no GPU)`);
  if (!existsSync(join(root, 'pkg/video/renderer-webgl.js'))) {
    log('  skipped: needs the built package (node scripts/build.mjs)');
    return null;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vme-video-bench-'));
  const scene = createScene({ width: WIDTH, height: HEIGHT, person: 'grace-hopper', background: 'brick' });
  const y4m = join(dir, 'camera.y4m');
  writeY4m(y4m, scene, { frames: 30 });
  const frame = scene.frame(0);
  const mask = downscaleMask(scene.alpha, WIDTH, HEIGHT, 256, 144);

  let bench;
  const results = {};
  try {
    bench = await openBenchPage({ y4m, frame, log });
    const { page, context } = bench;

    results.renderers = await page.evaluate(pageRenderers, {
      frameUrl: '/__frame__.rgba', mask, width: WIDTH, height: HEIGHT, radius: BLUR_RADIUS, frames: RENDER_FRAMES,
    });
    log('  renderer alone (render + VideoFrame from the canvas, fixed mask): ms per frame');
    for (const [name, r] of Object.entries(results.renderers)) {
      log(`    ${name.padEnd(7)} ${r.median.toFixed(2).padStart(7)} median (GPU waited each frame), ${r.throughput.toFixed(2).padStart(7)} back to back`);
    }

    log('  whole pipeline on the fake camera (segmentation + rendering + output), ms per frame:');
    const common = { radius: BLUR_RADIUS, width: WIDTH, height: HEIGHT, warmupMs: PIPELINE_WARMUP_MS, measureMs: PIPELINE_MEASURE_MS };
    for (const renderer of ['cpu', 'webgl2']) {
      try {
        const r = await page.evaluate(pageOurs, { renderer, ...common });
        results[`ours-${renderer}`] = r;
        const s = r.stats;
        // The stages of one frame: the one copy into wasm memory (shared by segmenter and CPU
        // renderer), segmentation (every segmentEvery frames), rendering, the output VideoFrame.
        const stages = s.copyMs + s.segmentMs + s.renderMs + s.outputMs;
        log(`    ours ${renderer.padEnd(7)} ${s.frameMs.toFixed(2).padStart(6)} per frame (copy ${s.copyMs.toFixed(2)} = ${(100 * s.copyMs / stages).toFixed(1)}% of the stages, segment ${s.segmentMs.toFixed(2)} every ${s.segmentEvery} frame(s), render ${s.renderMs.toFixed(2)}, output ${s.outputMs.toFixed(2)}), ${r.fps.toFixed(1)} fps out, path ${s.path}, renderer ${s.renderer}, ${r.size.join('x')}`);
      } catch (error) {
        log(`    ours ${renderer}: failed: ${error.message.split('\n')[0]}`);
      }
    }
    const skip = anchorStatus();
    if (skip) {
      log(`    track-processors: ${skip}`);
    } else {
      // GPU is its default (what Visio runs); with no GPU it lands on SwiftShader, so the CPU
      // (XNNPACK) delegate is measured too. Its blur and compositing are WebGL either way.
      for (const delegate of ['GPU', 'CPU']) {
        try {
          const modelUrl = `/__fixtures__/${ANCHOR_MODEL.replace('tests/fixtures/', '')}`;
          const r = await page.evaluate(pageAnchor, { ...common, modelUrl, delegate });
          results[`anchor-${delegate}`] = r;
          log(`    track-processors ${ANCHOR_VERSION} ${delegate} delegate ${r.median.toFixed(2).padStart(7)} median, ${r.mean.toFixed(2)} mean per frame (filterTimeMs over ${r.frames} frames, of which segmentation ${r.segmentMedian.toFixed(2)} median; landscape model), ${r.fps.toFixed(1)} fps out`);
        } catch (error) {
          log(`    track-processors ${delegate} delegate: failed: ${error.message.split('\n')[0]}`);
        }
      }
    }
    const chrome = context.browser()?.version() ?? '';
    log(`  Node ${process.version}${chrome ? `, Chromium ${chrome}` : ''}; requests blocked (not 127.0.0.1): ${bench.blocked.size ? [...bench.blocked].join(', ') : 'none'}`);
  } finally {
    await bench?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
