// No VideoFrame is left to the garbage collector after destroy(), on each frame path Chromium
// has: Chromium warns "A VideoFrame was garbage collected without being closed" when one is
// (frames still queued in a stream that was cancelled, or in transit between threads), as a
// console error some seconds later. The page runs with --expose-gc; after destroy() the page
// and, while it lives, the worker collect garbage for 12 s, and the console (page and worker)
// must stay free of that warning.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromiumTest as test } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { makeCamera } from './video-run.mjs';

const WIDTH = 640;
const HEIGHT = 360;
const WARNING = /garbage collected without being closed/i;

let camera;
before(() => { camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'astronaut', background: 'grass' }, { frames: 30 }); });
after(() => camera?.cleanup());

for (const [label, hide] of [['worker-streams', false], ['main-thread', 'worker'], ['worker-frames', true]]) {
  test(`destroy() leaves no VideoFrame to the garbage collector (${label})`, { timeout: 120_000 }, async () => {
    await withBrowser({ fakeVideo: camera.path, args: ['--js-flags=--expose-gc'] }, async ({ page, errors }) => {
      const warnings = [];
      const listen = (msg) => { if (WARNING.test(msg.text())) warnings.push(msg.text()); };
      page.on('console', listen);
      page.on('worker', (worker) => worker.on?.('console', listen));
      const gcInWorkers = () => Promise.all(page.workers().map((w) => w.evaluate(() => globalThis.gc?.()).catch(() => {})));
      // Three start/destroy cycles: frames are in flight at a different moment each time.
      for (let cycle = 0; cycle < 3; cycle++) {
        const stats = await page.evaluate(async ({ width, height, hide, cycle }) => {
          const { openCamera, hideTrackProcessor, sleep } = await import('/__tests__/video-page.js');
          const { blurBackground } = await import('/pkg/index.js');
          if (hide) hideTrackProcessor({ worker: hide === 'worker' });
          const cam = await openCamera({ width, height, frameRate: 30 });
          const fx = await blurBackground(cam, { blurRadius: 10, renderer: 'cpu' });
          // The output is not read here: a reader of ours cancelled later could itself leave
          // frames to the collector.
          await sleep(1200 + 170 * cycle);
          await fx.destroy();
          cam.stop();
          return fx.stats();
        }, { width: WIDTH, height: HEIGHT, hide, cycle });
        assert.equal(stats.path, label);
        assert.equal(stats.framesAlive, 0);
        await gcInWorkers();
      }
      // Chromium reports on a timer, up to ~10 s after the collection: collect every second
      // for 12 s.
      for (let i = 0; i < 12; i++) {
        await page.evaluate(() => { globalThis.gc(); return new Promise((r) => setTimeout(r, 1000)); });
        await gcInWorkers();
      }
      console.log(`${label}: ${warnings.length} "garbage collected without being closed" warnings after 3 destroy() cycles`);
      assert.deepEqual(warnings, [], 'no VideoFrame garbage collected unclosed');
      assert.deepEqual(errors, []);
    });
  });
}

// The soak's (scripts/soak.mjs) setProcessor/stopProcessor cycles of BackgroundProcessor on
// livekit-client's own track, 40 of them, fast, the processed track read through a <video>
// (FrameTap `video`: no VideoFrame of the test's in the page), the reader stopped first in even
// cycles and last (the output ending under it) in odd ones: every cycle delivers a processed
// frame within 10 s, leaves no frame open (the worker's ledger: each closed or handed over
// exactly once), no error. Chromium's own "garbage collected without being closed" warnings
// are counted and printed, not asserted: about one cycle in 100 leaves one in the page realm
// with no code of ours involved (README "Soak": the MediaStreamTrackProcessor whose stream
// is transferred to the worker leaves them, with our output unwritten too, and so does a bare
// one with no package code at all).
const CYCLES = 40;
test(`${CYCLES} setProcessor/stopProcessor cycles with the processed track read: a frame every cycle, none left open`, { timeout: 180_000 }, async () => {
  await withBrowser({ fakeVideo: camera.path, args: ['--js-flags=--expose-gc'] }, async ({ page, errors }) => {
    const warnings = [];
    page.on('console', (msg) => { if (WARNING.test(msg.text())) warnings.push(msg.text()); });
    const r = await page.evaluate(async ({ width, height, cycles }) => {
      const { FrameTap, sleep } = await import('/__tests__/video-page.js');
      const { BackgroundProcessor } = await import('/pkg/index.js');
      const { createLocalVideoTrack, setLogLevel } = await import('/vendor/livekit-client/livekit-client.esm.mjs');
      setLogLevel('warn');
      const track = await createLocalVideoTrack({ resolution: { width, height, frameRate: 30 } });
      const processor = new BackgroundProcessor({ type: 'blur', blurRadius: 10, renderer: 'cpu' });
      const out = { noFrame: [], open: 0, unbalanced: 0, errors: 0, slowestFirstFrameMs: 0, slowestStopMs: 0, started: performance.now() };
      for (let i = 0; i < cycles; i++) {
        await track.setProcessor(processor);
        const tap = new FrameTap(processor.processedTrack, { video: true });
        const t = performance.now();
        while (tap.count < 1 && performance.now() - t < 10_000) await sleep(5);
        out.slowestFirstFrameMs = Math.max(out.slowestFirstFrameMs, Math.round(performance.now() - t));
        if (tap.count < 1) out.noFrame.push({ cycle: i + 1, stats: processor.stats() });
        await sleep(i % 7 * 10); // stop with frames in flight at varying moments
        const t1 = performance.now();
        if (i % 2 === 0) await tap.stop();
        await track.stopProcessor();
        if (i % 2 === 1) await tap.stop();
        out.slowestStopMs = Math.max(out.slowestStopMs, Math.round(performance.now() - t1));
        const st = processor.stats();
        out.open += st.framesAlive;
        out.unbalanced += st.framesOpened !== st.framesClosed + st.framesHandedOver;
        out.errors += st.errors;
        out.path = st.path;
      }
      out.ms = Math.round(performance.now() - out.started);
      delete out.started;
      out.cameraLive = track.mediaStreamTrack.readyState;
      track.stop();
      return out;
    }, { width: WIDTH, height: HEIGHT, cycles: CYCLES });
    // Chromium reports frames collected unclosed up to ~10 s later.
    for (let i = 0; i < 11; i++) await page.evaluate(() => { globalThis.gc(); return new Promise((resolve) => setTimeout(resolve, 1000)); });
    console.log(`# ${JSON.stringify({ ...r, noFrame: r.noFrame.length, chromiumGcWarnings: warnings.length })}`);
    assert.equal(r.path, 'worker-streams');
    assert.deepEqual(r.noFrame, [], 'every cycle delivered a processed frame within 10 s');
    assert.equal(r.open, 0, 'no frame held after a stop');
    assert.equal(r.unbalanced, 0, 'every frame closed or handed over exactly once');
    assert.equal(r.errors, 0);
    assert.equal(r.cameraLive, 'live', "livekit's own track keeps running");
    assert.deepEqual(errors, []);
  });
});
