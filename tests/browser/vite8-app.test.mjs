// The package as Visio would consume it: the tarball `npm pack` made (target/npm/, by
// scripts/build.mjs) installed with npm into a fresh Vite 8 app (Rolldown; Visio is on Vite
// 8.0), `import ... from 'visio-media-effects'`, then
// - built for a sub-path and served from that sub-path only, under the minimal
//   Content-Security-Policy README states: the audio worklet, the video worker, the model and
//   the wasm come out of the bundle as hashed assets found through `new URL(..., import.meta.url)`,
//   the page contacts no other origin and violates nothing;
// - served by the Vite dev server, with no setting at all (its dependency pre-bundling on).
// Both run the suppressor (bypassed, in an OfflineAudioContext: the result is exact) and a
// background blur on Chromium's synthetic fake camera, in the worker.
// The app lives in target/vite8-app (gitignored); vite is installed from the registry once and
// kept, the package is reinstalled from the fresh tarball on every run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before } from 'node:test';
import { chromiumTest as test } from './engines/index.mjs';
import { chromium } from 'playwright-core';
import { ROOT } from './harness.mjs';
import { MINIMAL_CSP } from '../helpers/csp.mjs';

const VITE = '8.0.14'; // Visio's src/frontend/package.json
const APP = join(ROOT, 'target/vite8-app');
const BASE = '/apps/visio/';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };

const MAIN = `
import { blurBackground, createNoiseSuppressorNode } from 'visio-media-effects';
const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(e.effectiveDirective + ' ' + e.blockedURI));
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
window.result = { audio, video, violations };
`;

let vite; // the app's own Vite 8

before(async () => {
  const tarball = join(ROOT, 'target/npm', readdirSync(join(ROOT, 'target/npm')).find((f) => f.endsWith('.tgz')));
  mkdirSync(APP, { recursive: true });
  writeFileSync(join(APP, 'package.json'), JSON.stringify({ name: 'vite8-app', private: true, type: 'module',
    dependencies: { 'visio-media-effects': `file:${tarball}`, vite: VITE } }, null, 2));
  // A file: tarball of an unchanged version number is not re-extracted: remove it first.
  rmSync(join(APP, 'node_modules/visio-media-effects'), { recursive: true, force: true });
  rmSync(join(APP, 'package-lock.json'), { force: true });
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: APP, stdio: 'inherit' });
  writeFileSync(join(APP, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
  writeFileSync(join(APP, 'main.js'), MAIN);
  vite = await import(pathToFileURL(join(APP, 'node_modules/vite/dist/node/index.js')).href);
  assert.equal(vite.version, VITE);
});

/** Serves `dir` under BASE and nothing else, with `headers`, logging the paths asked for in `served`. */
function serve(dir, served, headers) {
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
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...headers });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Opens `url` in a fresh Chromium with a fake camera; returns the app's result and its requests. */
async function runApp(url) {
  const profile = mkdtempSync(join(tmpdir(), 'vme-chromium-'));
  let browser;
  try {
    browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
    const page = browser.pages()[0] ?? await browser.newPage();
    const requests = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(url);
    await page.waitForFunction(() => window.result, null, { timeout: 90_000 });
    return { ...(await page.evaluate(() => window.result)), requests, errors };
  } finally {
    await browser?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

function assertRan({ audio, video, errors }) {
  assert.deepEqual(errors, []);
  assert.equal(audio.status, 'running');
  assert.equal(audio.latencySamples, 928);
  assert.equal(audio.peakAt, 1000 + 928, 'the impulse comes out exactly 928 samples late');
  assert.equal(audio.peak, 0.5);
  assert.equal(video.renderer, 'cpu');
  assert.match(video.path, /^worker/, 'the video runs in the bundled worker');
  assert.ok(video.segmented >= 5 && video.rendered > 0 && video.errors === 0, JSON.stringify(video));
}

test('Vite 8 build of an app that installed the tarball, served from a sub-path under the minimal CSP', { timeout: 240_000 }, async () => {
  const outDir = join(APP, 'dist');
  await vite.build({ root: APP, base: BASE, logLevel: 'silent', configFile: false,
    build: { outDir, target: 'es2022', emptyOutDir: true } });
  const served = []; // seen by the server: worklet fetches do not show up as page requests
  const server = await serve(outDir, served, { 'content-security-policy': MINIMAL_CSP });
  try {
    const origin = `http://127.0.0.1:${server.address().port}`;
    const r = await runApp(`${origin}${BASE}`);
    assertRan(r);
    assert.deepEqual(r.violations, [], 'no CSP violation');
    const foreign = r.requests.filter((url) => !url.startsWith(`${origin}${BASE}`));
    assert.deepEqual(foreign, [], 'every request stays under the app path on its own origin');
    for (const asset of [/\.wasm$/, /worklet.*\.js$/, /video-worker.*\.js$/, /selfie_segmentation_landscape.*\.tflite$/]) {
      assert.ok(served.some((path) => path.startsWith(`${BASE}assets/`) && asset.test(path)), `${asset} from the bundle: ${served}`);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('the Vite 8 dev server runs both effects from the installed package', { timeout: 240_000 }, async () => {
  const server = await vite.createServer({ root: APP, logLevel: 'silent', configFile: false,
    server: { host: '127.0.0.1', port: 0, strictPort: false } });
  try {
    await server.listen();
    const url = server.resolvedUrls.local[0];
    const r = await runApp(url);
    assertRan(r);
    const origin = new URL(url).origin;
    assert.deepEqual(r.requests.filter((u) => !u.startsWith(origin)), [], 'no other origin');
  } finally {
    await server.close();
  }
});

after(() => rmSync(join(APP, 'dist'), { recursive: true, force: true }));
