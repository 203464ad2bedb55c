// Blur strength of @livekit/track-processors 0.7.2 (what Visio's blurRadius 10 "light" and 20
// "normal" were tuned on) against ours, measured side by side on the same camera frames:
// `node bench/blur-match.mjs` (needs the built package and the bench's anchor files; a few
// minutes on 2 cores). Not part of `npm run bench`: it prints a mapping, not a speed.
//
// The anchor blurs a 4x downscaled frame with a Gaussian of sigma floor(r / 4) cut at
// +-ceil(sigma) taps (+-1 sigma), then upscales it bilinearly: a boxy kernel, much narrower
// than a Gaussian of sigma r. Ours is a Gaussian of sigma r px at 720p. For each anchor radius
// this finds the Gaussian sigma whose blur of the camera frame is closest (least squares on
// luma, background far from the person and the edges) to the anchor's output, does the same
// for our output at the same radius as a check of the method (it must find ~r), and prints
// the blurRadius that gives ours the anchor's look.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScene, writeY4m } from '../tests/helpers/video-scene.mjs';
import { ANCHOR_MODEL, anchorStatus, openBenchPage } from './video.mjs';

const WIDTH = 1280;
const HEIGHT = 720;
const RADII = [5, 10, 15, 20, 30, 40];
const MARGIN = 72; // px kept from the person and the frame's edges (beyond any blur's reach)

/** In the page: one frame of each output (after `settleMs`), as RGBA base64. */
async function pageRender({ radii, width, height, modelUrl, settleMs }) {
  const { blurBackground } = await import('/pkg/index.js');
  const { BackgroundProcessor } = await import('@livekit/track-processors');
  const camera = (await navigator.mediaDevices.getUserMedia({ video: { width, height, frameRate: 30 } })).getVideoTracks()[0];
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d', { willReadFrequently: true });
  const grab = async (track) => {
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    let frame;
    for (let i = 0; i < 3; i++) { frame?.close(); frame = (await reader.read()).value; }
    g.drawImage(frame, 0, 0, width, height);
    frame.close();
    reader.cancel().catch(() => {});
    const bytes = g.getImageData(0, 0, width, height).data;
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const out = { input: await grab(camera.clone()), anchor: {}, ours: {} };
  const element = document.createElement('video');
  element.muted = true;
  element.srcObject = new MediaStream([camera]);
  document.body.append(element);
  await element.play();
  for (const radius of radii) {
    const processor = BackgroundProcessor({
      mode: 'background-blur', blurRadius: radius,
      assetPaths: { tasksVisionFileSet: '/__nm__/@mediapipe/tasks-vision/wasm', modelAssetPath: modelUrl },
      segmenterOptions: { delegate: 'CPU' },
    });
    await processor.init({ kind: 'video', track: camera, element });
    await sleep(settleMs);
    out.anchor[radius] = await grab(processor.processedTrack);
    await processor.destroy();
    const fx = await blurBackground(camera, { blurRadius: radius, renderer: 'cpu' });
    await sleep(settleMs);
    out.ours[radius] = await grab(fx.track);
    await fx.destroy();
  }
  camera.stop();
  element.remove();
  return out;
}

function lumaOf(base64) {
  const rgba = Buffer.from(base64, 'base64');
  const y = new Float32Array(WIDTH * HEIGHT);
  for (let i = 0; i < y.length; i++) y[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
  return y;
}

/** Separable Gaussian blur of a luma plane (clamped edges). */
function gaussian(src, sigma) {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const taps = Float32Array.from(k, (v) => v / sum);
  const tmp = new Float32Array(src.length);
  const dst = new Float32Array(src.length);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) acc += taps[t + r] * src[y * WIDTH + Math.min(WIDTH - 1, Math.max(0, x + t))];
      tmp[y * WIDTH + x] = acc;
    }
  }
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) acc += taps[t + r] * tmp[Math.min(HEIGHT - 1, Math.max(0, y + t)) * WIDTH + x];
      dst[y * WIDTH + x] = acc;
    }
  }
  return dst;
}

/** Background pixels at least MARGIN px from the person (alpha > 0.01) and from the edges. */
function backgroundRegion(alpha) {
  const person = [];
  for (let i = 0; i < alpha.length; i++) if (alpha[i] > 0.01) person.push(i);
  // Column extent of the person per row band is enough: it stands centred on the bottom edge.
  let minX = WIDTH;
  let maxX = 0;
  let minY = HEIGHT;
  for (const i of person) { const x = i % WIDTH; const y = (i / WIDTH) | 0; minX = Math.min(minX, x); maxX = Math.max(maxX, x); minY = Math.min(minY, y); }
  const region = [];
  for (let y = MARGIN; y < HEIGHT - MARGIN; y++) {
    for (let x = MARGIN; x < WIDTH - MARGIN; x++) {
      if ((x > minX - MARGIN && x < maxX + MARGIN) && y > minY - MARGIN) continue;
      region.push(y * WIDTH + x);
    }
  }
  return region;
}

const rmse = (a, b, region) => Math.sqrt(region.reduce((s, i) => s + (a[i] - b[i]) ** 2, 0) / region.length);

/** The Gaussian sigma (px) whose blur of `input` is closest to `target` over `region`. */
function fitSigma(input, target, region, cache) {
  const at = (sigma) => {
    const key = sigma.toFixed(3);
    if (!cache.has(key)) cache.set(key, gaussian(input, sigma));
    return rmse(cache.get(key), target, region);
  };
  // Coarse grid, then golden-section search around the best point.
  let best = 0.5;
  for (let s = 0.5; s <= 48; s *= 1.25) if (at(s) < at(best)) best = s;
  let lo = best / 1.25;
  let hi = best * 1.25;
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 14; i++) {
    const a = hi - phi * (hi - lo);
    const b = lo + phi * (hi - lo);
    if (at(a) < at(b)) hi = b; else lo = a;
  }
  const sigma = (lo + hi) / 2;
  return { sigma, rmse: at(sigma) };
}

export async function runBlurMatch({ log = console.log } = {}) {
  const skip = anchorStatus();
  if (skip) { log(`blur match: ${skip}`); return null; }
  const dir = mkdtempSync(join(tmpdir(), 'vme-blur-match-'));
  // A still camera (no pan), so every output shows the same input frame.
  const scene = createScene({ width: WIDTH, height: HEIGHT, person: 'grace-hopper', background: 'brick', panPerFrame: 0 });
  const y4m = join(dir, 'camera.y4m');
  writeY4m(y4m, scene, { frames: 2 });
  let bench;
  try {
    bench = await openBenchPage({ y4m, log });
    const modelUrl = `/__fixtures__/${ANCHOR_MODEL.replace('tests/fixtures/', '')}`;
    const out = await bench.page.evaluate(pageRender, { radii: RADII, width: WIDTH, height: HEIGHT, modelUrl, settleMs: 2500 });
    const input = lumaOf(out.input);
    const region = backgroundRegion(scene.alpha);
    const cache = new Map();
    log(`Blur strength at ${WIDTH}x${HEIGHT}: the Gaussian sigma (px) that best reproduces each output's background (${region.length} px, luma RMSE /255 at the fit)`);
    log('  blurRadius | track-processors 0.7.2 -> sigma (rmse) | ours -> sigma (rmse) | ours vs anchor at the same radius');
    const rows = [];
    for (const radius of RADII) {
      const anchor = lumaOf(out.anchor[radius]);
      const ours = lumaOf(out.ours[radius]);
      const a = fitSigma(input, anchor, region, cache);
      const o = fitSigma(input, ours, region, cache);
      rows.push({ radius, anchorSigma: a.sigma, anchorRmse: a.rmse, oursSigma: o.sigma, oursRmse: o.rmse, sameRadiusRmse: rmse(anchor, ours, region) });
      log(`  ${String(radius).padStart(10)} | ${a.sigma.toFixed(2).padStart(6)} (${a.rmse.toFixed(2)})${' '.repeat(24)}| ${o.sigma.toFixed(2).padStart(6)} (${o.rmse.toFixed(2)}) | ${rmse(anchor, ours, region).toFixed(2)}`);
    }
    // Ours is sigma = blurRadius at 720p: the anchor's look is blurRadius = its fitted sigma,
    // corrected by how far our own fit lands from our radius.
    log('  blurRadius for ours that matches the anchor: ' + rows.map((r) => `${r.radius} -> ${(r.anchorSigma * r.radius / r.oursSigma).toFixed(1)}`).join(', '));
    return rows;
  } finally {
    await bench?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runBlurMatch();
