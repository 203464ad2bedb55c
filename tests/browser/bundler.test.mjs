// The package as an app developer consumes it: `import ... from 'visio-media-effects'` in a
// Vite app built for a sub-path, served from that sub-path only. The audio worklet, the video
// worker, the model and the wasm must come out of the bundle as assets found through
// `new URL(..., import.meta.url)`, and the page must not contact any other origin.
import assert from 'node:assert/strict';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { chromiumTest as test } from './engines/index.mjs';
import { chromium } from 'playwright-core';
import { build } from 'vite';
import { ROOT } from './harness.mjs';

const BASE = '/apps/visio/';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

// The app: a bypassed suppressor in an OfflineAudioContext, so the result is exact; then a
// background blur on Chromium's synthetic fake camera, in the worker.
const MAIN = `
import { blurBackground, createNoiseSuppressorNode } from 'visio-media-effects';
const context = new OfflineAudioContext({ numberOfChannels: 1, length: 4800, sampleRate: 48000 });
const input = context.createBuffer(1, 4800, 48000);
input.getChannelData(0)[1000] = 0.5;
const source = new AudioBufferSourceNode(context, { buffer: input });
const node = await createNoiseSuppressorNode(context, { enabled: false });
source.connect(node).connect(context.destination);
source.start();
const out = (await context.startRendering()).getChannelData(0);
const audio = { status: node.status, latencySamples: node.latencySamples,
  peakAt: out.findIndex((v) => v !== 0), peak: out.find((v) => v !== 0) };
const camera = (await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 180 } })).getVideoTracks()[0];
const fx = await blurBackground(camera, { blurRadius: 10, renderer: 'cpu' });
while (fx.stats().segmented < 5) await new Promise((resolve) => setTimeout(resolve, 100));
const video = fx.stats();
await fx.destroy();
camera.stop();
window.result = { audio, video };
`;

/** Serves `dir` under BASE and nothing else, logging the paths asked for in `served`. */
function serve(dir, served) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    served.push(path);
    if (!path.startsWith(BASE)) return res.writeHead(404).end();
    let file = normalize(join(dir, path.slice(BASE.length) || 'index.html'));
    if (!file.startsWith(dir)) return res.writeHead(403).end();
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      statSync(file);
    } catch {
      return res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('a Vite app served from a sub-path runs the suppressor from its own assets', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vme-vite-'));
  const profile = mkdtempSync(join(tmpdir(), 'vme-chromium-'));
  let server;
  let browser;
  try {
    const app = join(dir, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(join(ROOT, 'pkg'), join(app, 'node_modules', 'visio-media-effects'), 'dir');
    writeFileSync(join(app, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
    writeFileSync(join(app, 'main.js'), MAIN);
    const outDir = join(dir, 'dist');
    await build({ root: app, base: BASE, logLevel: 'silent', configFile: false,
      build: { outDir, target: 'es2022', emptyOutDir: true } });

    const served = []; // seen by the server: worklet fetches do not show up as page requests
    server = await serve(outDir, served);
    const origin = `http://127.0.0.1:${server.address().port}`;
    browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
    const page = browser.pages()[0] ?? await browser.newPage();
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(`${origin}${BASE}`);
    await page.waitForFunction(() => window.result, null, { timeout: 60_000 });
    const { audio, video } = await page.evaluate(() => window.result);

    assert.deepEqual(errors, []);
    assert.equal(audio.status, 'running');
    assert.equal(audio.latencySamples, 928);
    assert.equal(audio.peakAt, 1000 + 928, 'the impulse comes out exactly 928 samples late');
    assert.equal(audio.peak, 0.5);
    assert.equal(video.renderer, 'cpu');
    assert.match(video.path, /^worker/, 'the video runs in the bundled worker');
    assert.ok(video.segmented >= 5 && video.rendered > 0 && video.errors === 0, JSON.stringify(video));
    const foreign = requests.filter((url) => !url.startsWith(`${origin}${BASE}`));
    assert.deepEqual(foreign, [], 'every request stays under the app path on its own origin');
    assert.ok(served.some((path) => path.startsWith(`${BASE}assets/`) && path.endsWith('.wasm')), `wasm from the bundle: ${served}`);
    for (const asset of [/worklet.*\.js$/, /video-worker.*\.js$/, /selfie_segmentation_landscape.*\.tflite$/]) {
      assert.ok(served.some((path) => path.startsWith(`${BASE}assets/`) && asset.test(path)), `${asset} from the bundle: ${served}`);
    }
  } finally {
    await browser?.close().catch(() => {});
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
});
