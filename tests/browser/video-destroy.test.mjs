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
