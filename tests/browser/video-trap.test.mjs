// Recovery from a trap in the video wasm (issue #10 item 1), on each frame path of Chromium,
// Firefox ESR and WebKitGTK.
// A test build of the package (scripts/debug-trap-package.mjs, never pkg/) has an export that
// makes the next segmentation panic inside Segmenter.segment, with the segmenter mutably
// borrowed: exactly what a bug in the Rust would do. First, what wasm-bindgen does on its own
// (why the pipeline must restart the instance): the panic's message reaches JS, and the
// object stays borrowed. Then, mid-stream on each path (CPU renderer, so the compositor has to
// be made again too): the blur is back within one second, the frames in between went out
// unprocessed (never black), the error is counted and logged once with its message and
// location, and no VideoFrame is left open (nor, in Chromium, to the garbage collector).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { MSTP_VIDEO_OPT_IN, chromiumTest as test, engine, engineTest } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { makeCamera, rgbaOf } from './video-run.mjs';
import { highFrequencyEnergy, meanAbsDiff, regions } from '../helpers/video-metrics.mjs';
import { buildDebugTrapPackage } from '../../scripts/debug-trap-package.mjs';

const WIDTH = 640;
const HEIGHT = 360;
const THUMB = [128, 72];
const PANIC = 'debug-trap: panic requested by the test';
const GC_WARNING = /garbage collected without being closed/i;
const MOUNT = '/debug-pkg/';

let camera;
let mounts;
let thumbRegions;
before(() => {
  mounts = { [MOUNT]: buildDebugTrapPackage() };
  camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'astronaut', background: 'brick' }, { frames: 90 });
  // The person's alpha at the thumbnails' size (box average), and its regions there.
  const [tw, th] = THUMB;
  const sx = WIDTH / tw;
  const sy = HEIGHT / th;
  const alpha = new Float32Array(tw * th);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      let sum = 0;
      for (let v = 0; v < sy; v++) for (let u = 0; u < sx; u++) sum += camera.scene.alpha[(y * sy + v) * WIDTH + x * sx + u];
      alpha[y * tw + x] = sum / (sx * sy);
    }
  }
  thumbRegions = regions(alpha, tw, th, 3);
});
after(() => camera?.cleanup());

test('without a restart, a panicked wasm object stays borrowed (wasm-bindgen glue, debug build)', { timeout: 300_000 }, async () => {
  await withBrowser({ mounts }, async ({ page }) => {
    const r = await page.evaluate(async () => {
      const glue = await import('/debug-pkg/visio_media_effects.js');
      const { loadWasmModule } = await import('/debug-pkg/wasm.js');
      const { fetchModel, defaultModelUrl } = await import('/debug-pkg/video/segmenter.js');
      await glue.default({ module_or_path: await loadWasmModule() });
      const segmenter = new glue.Segmenter(await fetchModel(defaultModelUrl()));
      const input = new glue.FrameInput();
      const [w, h] = [64, 36];
      input.reserve(w * h * 4);
      new Uint8Array(glue.initSync().memory.buffer, input.framePtr(), w * h * 4).fill(128);
      input.describe('RGBA', w, h, Uint32Array.of(0, 4 * w), 'rgb', true);
      const attempt = () => { try { segmenter.segment(input); return 'ok'; } catch (error) { return `${error.constructor.name}: ${error.message}`; } };
      const first = attempt();
      glue.debugPanicOnNextFrame();
      const panicked = attempt();
      const afterwards = [attempt(), attempt()];
      return { first, panicked, afterwards };
    });
    console.log(`# ${JSON.stringify(r)}`);
    assert.equal(r.first, 'ok');
    assert.match(r.panicked, /^Error: visio-media-effects: the video wasm panicked: panicked at src\/wasm\/debug_trap\.rs:\d+:\d+:\ndebug-trap: panic requested by the test/);
    for (const later of r.afterwards) assert.match(later, /recursive use of an object detected/, 'the object that panicked stays borrowed');
  });
});

/**
 * In the page: the camera through the debug build's blurBackground (CPU renderer) on the path
 * `hide` leaves (as in video-run.mjs runBlur), read through a <video> (no VideoFrame of ours:
 * any one collected unclosed is the package's); `panics` panics asked for mid-stream (in the
 * package's worker when it has one, else on this thread). Returns thumbnails of the camera and
 * of the output with their times, the statistics before the panic, after it and after
 * destroy(), and every console.error of the page and of the package's worker (the test build's
 * worker forwards its own: engines without a console API in their driver).
 */
async function runTrap(page, { width, height, hide, thumb, panics, warmupMs, beforeMs, afterMs }) {
  return page.evaluate(async ({ width, height, hide, thumb, panics, warmupMs, beforeMs, afterMs }) => {
    const { openCamera, hideTrackProcessor, sleep, toBase64 } = await import('/__tests__/video-page.js');
    if (hide) hideTrackProcessor({ worker: hide === 'worker' });
    const logs = [];
    const workers = []; // the package's video worker, to arm the panic inside it
    const Base = globalThis.Worker;
    if (typeof Base === 'function') {
      globalThis.Worker = class extends Base {
        constructor(...args) {
          super(...args);
          workers.push(this);
          this.addEventListener('message', ({ data }) => { if (data?.type === 'debug-console-error') logs.push(data.text); });
        }
      };
    }
    const consoleError = console.error;
    console.error = (...args) => { logs.push(args.map(String).join(' ')); consoleError.apply(console, args); };
    try {
      const glue = await import('/debug-pkg/visio_media_effects.js');
      const { blurBackground } = await import('/debug-pkg/index.js');
      const context = new OffscreenCanvas(thumb[0], thumb[1]).getContext('2d', { willReadFrequently: true });
      const take = (frame) => {
        context.drawImage(frame, 0, 0, thumb[0], thumb[1]);
        return context.getImageData(0, 0, thumb[0], thumb[1]).data;
      };
      /** Thumbnails of the frames of `track` that `keep(time)` wants; `stop()` returns them. */
      const tap = (track, keep) => {
        const frames = [];
        const video = Object.assign(document.createElement('video'), { muted: true, playsInline: true, width: 160 });
        video.srcObject = new MediaStream([track]);
        document.body.append(video); // frame callbacks come from rendering
        let stopped = false;
        const onFrame = () => {
          if (stopped) return;
          const t = performance.now();
          if (keep(t)) frames.push({ t, rgba: toBase64(take(video)) });
          video.requestVideoFrameCallback(onFrame);
        };
        video.requestVideoFrameCallback(onFrame);
        video.play();
        return { stop() { stopped = true; video.pause(); video.srcObject = null; video.remove(); return frames; } };
      };
      const cam = await openCamera({ width, height, frameRate: 30 });
      // The camera as it is (the reference for "unprocessed" and "not black"): a few
      // frames of a clone, read to the end of the clone.
      let seen = 0;
      const reference = tap(cam, () => seen++ % 10 === 0);
      const fx = await blurBackground(cam, { blurRadius: 20, renderer: 'cpu' });
      let keepFrom = Infinity;
      const output = tap(fx.track, (t) => t >= keepFrom);
      await sleep(1000);
      const referenceFrames = reference.stop();
      await sleep(warmupMs);
      keepFrom = performance.now(); // the effect running for `beforeMs`, then the panic
      await sleep(beforeMs);
      const before = fx.stats();
      const triggers = [];
      for (let i = 0; i < panics; i++) {
        if (i) await sleep(300);
        triggers.push(performance.now());
        if (workers.length) workers.at(-1).postMessage({ type: 'debug-panic' });
        else glue.debugPanicOnNextFrame();
      }
      await sleep(afterMs);
      const running = fx.stats();
      const frames = output.stop(); // before destroy(): an ended track may show black
      await fx.destroy();
      const final = fx.stats();
      cam.stop();
      return { before, running, final, trigger: triggers[0], lastTrigger: triggers.at(-1), frames, reference: referenceFrames, logs };
    } finally {
      console.error = consoleError;
      if (Base) globalThis.Worker = Base;
    }
  }, { width, height, hide, thumb, panics, warmupMs, beforeMs, afterMs });
}

/** Checks one runTrap() result on `path`; prints and returns its figures. */
function checkTrap(r, { label, path, panics }) {
  const [tw, th] = THUMB;
  const hf = (rgba) => highFrequencyEnergy(rgba, tw, th, thumbRegions.background);
  const camRgba = r.reference.map((f) => rgbaOf(f.rgba));
  const hfCamera = Math.min(...camRgba.map(hf));
  const beforeFrames = r.frames.filter((f) => f.t < r.trigger);
  const afterFrames = r.frames.filter((f) => f.t >= r.trigger);
  const hfBlurred = Math.max(...beforeFrames.map((f) => hf(rgbaOf(f.rgba))));
  // Blurred or not, per frame: the background's detail against the midpoint between the
  // camera's and the blurred output's (both measured in this run).
  const mid = (hfCamera + hfBlurred) / 2;
  const series = afterFrames.map((f) => ({ ms: f.t - r.trigger, blurred: hf(rgbaOf(f.rgba)) < mid }));
  const firstPlain = series.findIndex((s) => !s.blurred);
  const lastPlain = series.findLastIndex((s) => !s.blurred);
  const recoveredMs = lastPlain + 1 < series.length ? series[lastPlain + 1].ms : Infinity;
  const sinceLast = recoveredMs - (r.lastTrigger - r.trigger); // after the last panic asked for
  const worstPerson = Math.max(...r.frames.map((f) => Math.min(...camRgba.map((c) => meanAbsDiff(rgbaOf(f.rgba), c, thumbRegions.person)))));
  const panicLogs = r.logs.filter((text) => text.includes(PANIC));
  const passedThrough = r.running.passthrough - r.before.passthrough;
  const figures = {
    label, path: r.running.path, hfCamera: +hfCamera.toFixed(1), hfBlurred: +hfBlurred.toFixed(1), framesBefore: beforeFrames.length,
    framesAfterTrigger: series.length, unprocessed: series.filter((s) => !s.blurred).length,
    firstUnprocessedMs: firstPlain < 0 ? null : Math.round(series[firstPlain].ms),
    panics, recoveredMs: Math.round(recoveredMs), recoveredAfterLastMs: Math.round(sinceLast), worstPersonDiff: +worstPerson.toFixed(1),
    passedThrough, errors: r.running.errors, wasmRestarts: r.running.wasmRestarts, panicLogs: panicLogs.length,
    framesAlive: r.final.framesAlive,
  };
  console.log(`# ${JSON.stringify(figures)}`);
  console.log(`# ${series.map((s) => `${Math.round(s.ms)}${s.blurred ? '' : '!'}`).join(' ')}`);

  assert.equal(r.running.path, path);
  assert.equal(r.before.errors, 0, 'no error before the panic');
  assert.ok(beforeFrames.length >= 3, `output frames seen before the panic (${beforeFrames.length})`);
  assert.ok(hfBlurred < hfCamera / 3, `the blur is on before the panic (background detail ${hfBlurred.toFixed(1)} vs the camera's ${hfCamera.toFixed(1)})`);
  // The <video> may skip a frame: the pipeline's count says whether frames went out as they came.
  assert.ok(passedThrough >= 1, `the panic made frames go out unprocessed (${passedThrough}): it did hit the effect`);
  if (panics === 1) assert.ok(recoveredMs <= 1000, `the blur is back ${Math.round(recoveredMs)} ms after the panic was asked for (<= 1000 ms)`);
  else {
    assert.ok(sinceLast >= 1000 && sinceLast <= 2000, `after the second panic the blur is back after the backoff: ${Math.round(sinceLast)} ms (1000-2000)`);
    assert.ok(passedThrough >= 10, `frames passed through during the backoff (${passedThrough})`);
  }
  const onFor = series.at(-1).ms - recoveredMs;
  assert.ok(onFor >= 1500 && series.length - lastPlain - 1 >= 10,
    `it stays on: every frame blurred for the ${Math.round(onFor)} ms (>= 1500) since (${series.length - lastPlain - 1} frames)`);
  assert.ok(worstPerson < 25, `no black or grey frame: every frame within ${worstPerson.toFixed(1)}/255 of the camera on the person`);
  assert.equal(r.running.errors, panics, 'one error counted per panic');
  assert.equal(r.running.wasmRestarts, panics, 'one restart of the wasm per panic');
  assert.match(r.running.lastError, /panicked at src\/wasm\/debug_trap\.rs:\d+:\d+:\ndebug-trap: panic requested by the test/,
    'stats().lastError has the message and location');
  assert.equal(panicLogs.length, panics, `each panic is logged once (${panicLogs.length}): ${panicLogs.join(' | ')}`);
  assert.ok(!r.logs.some((text) => /recursive use|stale object/.test(text)), 'no later frame failed on the old instance');
  assert.equal(r.final.framesAlive ?? 0, 0, 'no VideoFrame left open after destroy()');
  if (r.final.framesOpened !== undefined) assert.equal(r.final.framesOpened, r.final.framesClosed + r.final.framesHandedOver, 'every VideoFrame closed exactly once');
  return figures;
}

// Chromium, one browser per path: its console (playwright) also shows the frames the garbage
// collector finds unclosed. `panics`: 2 = a second panic 300 ms after the first, soon after the
// recovery: the effect is made again only after the backoff (1 s), frames passing through meanwhile.
for (const [label, hide, panics] of [['worker-streams', false, 1], ['worker-frames', true, 1], ['main-thread', 'worker', 1], ['main-thread', 'worker', 2]]) {
  const title = panics === 1 ? 'a panic mid-stream: the effect comes back within 1 s, once reported, nothing black or leaked'
    : 'a second panic soon after: the effect comes back after the 1 s backoff, each reported once';
  test(`${title} (${label})`, { timeout: 300_000 }, async () => {
    await withBrowser({ fakeVideo: camera.path, args: ['--js-flags=--expose-gc'], mounts }, async ({ page, errors }) => {
      const gcWarnings = [];
      const listen = (msg) => { if (GC_WARNING.test(msg.text())) gcWarnings.push(msg.text()); };
      page.on('console', listen);
      page.on('worker', (worker) => worker.on?.('console', listen));
      const gcInWorkers = () => Promise.all(page.workers().map((w) => w.evaluate(() => globalThis.gc?.()).catch(() => {})));
      const r = await runTrap(page, { width: WIDTH, height: HEIGHT, hide, thumb: THUMB, panics, warmupMs: 1000, beforeMs: 500, afterMs: 3000 });
      // Chromium reports frames collected unclosed up to ~10 s later: collect for 12 s.
      for (let i = 0; i < 12; i++) {
        await page.evaluate(() => { globalThis.gc(); return new Promise((resolve) => setTimeout(resolve, 1000)); });
        await gcInWorkers();
      }
      checkTrap(r, { label, path: label, panics });
      assert.deepEqual(gcWarnings, [], 'no VideoFrame garbage collected unclosed');
      assert.deepEqual(errors, []);
    });
  });
}

/**
 * Firefox ESR and WebKitGTK: each path the engine takes, one after the other in one browser
 * (a worker path first: 'worker' hides Worker for good). Their tiers compile the wasm later
 * than V8 (3 s of warm-up, as engines/video.test.mjs), and WebKitGTK reads a <video> frame in
 * 21-35 ms: a second before the panic and 4 s after it, so that enough frames are judged on
 * a loaded machine.
 */
const OTHER_ENGINES = {
  firefox: [['worker-frames', false], ['main-thread', 'worker']],
  webkit: [['worker-frames', false]],
  'webkit-mstp': [['worker', false]],
};
for (const [name, paths] of Object.entries(OTHER_ENGINES)) {
  const e = engine(name);
  // Safari 18's path stays opt-in as its other video tests (engines/index.mjs MSTP_VIDEO_OPT_IN):
  // in 'none' mode, whose frames pass through as they do after a panic, one run in ten shows a
  // blank frame there (cause not found). Passed when run (VME_WEBKIT_MSTP=1): back in 582 ms.
  const skip = name === 'webkit-mstp' ? MSTP_VIDEO_OPT_IN : undefined;
  engineTest(e, `a panic mid-stream on ${paths.map(([p]) => p).join(' and ')}: the effect comes back within 1 s, once reported, nothing black or left open`, { timeout: 300_000, skip }, async () => {
    await withBrowser({ engine: e, fakeVideo: camera.path, mounts }, async ({ page, errors }) => {
      for (const [path, hide] of paths) {
        const r = await runTrap(page, { width: WIDTH, height: HEIGHT, hide, thumb: THUMB, panics: 1, warmupMs: 3000, beforeMs: 1000, afterMs: 4000 });
        checkTrap(r, { label: `${name} ${path}`, path, panics: 1 });
      }
      assert.deepEqual(errors, []);
    });
  });
}
