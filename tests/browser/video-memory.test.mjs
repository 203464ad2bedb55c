// Memory stays flat over 1,000 processed frames: a small, fast fake camera (320x180 at 60 fps)
// through blurBackground; the page and its video worker measured with
// performance.measureUserAgentSpecificMemory() (cross-origin isolated page), the wasm memory
// from stats(), and the VideoFrames held by the worker counted all along.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromiumTest as test } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { makeCamera } from './video-run.mjs';

const WIDTH = 320;
const HEIGHT = 180;
const FPS = 60;
const FRAMES = 1000;
/** Allowed growth of the JS heaps (page + worker) from the first to the last samples. */
const MAX_GROWTH_BYTES = 1 << 20; // 1 KiB a frame: any per-frame buffer leak is far larger

let camera;
before(() => { camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'grace-hopper', background: 'gravel' }, { frames: 60, fps: FPS }); });
after(() => camera?.cleanup());

test(`memory is flat over ${FRAMES} frames and nothing is left open`, { timeout: 180_000 }, async () => {
  const args = ['--enable-blink-features=ForceEagerMeasureMemory']; // measure now, not at the next GC
  await withBrowser({ fakeVideo: camera.path, isolated: true, args }, async ({ page, errors }) => {
    const r = await page.evaluate(async ({ width, height, fps, frames }) => {
      const { FrameTap, openCamera, sleep } = await import('/__tests__/video-page.js');
      const { blurBackground } = await import('/pkg/index.js');
      if (!crossOriginIsolated) throw new Error('the test page is not cross-origin isolated');
      const camera = await openCamera({ width, height, frameRate: fps });
      const fx = await blurBackground(camera, { blurRadius: 20 });
      const output = new FrameTap(fx.track);
      const samples = [];
      const start = performance.now();
      while (output.count < frames && performance.now() - start < 120_000) {
        await sleep(1000);
        const m = await performance.measureUserAgentSpecificMemory();
        const s = fx.stats();
        samples.push({ frames: output.count, heapBytes: m.bytes, wasmBytes: s.wasmMemoryBytes, framesAlive: s.framesAlive, fps: s.fps, segmentEvery: s.segmentEvery, workerMeasured: m.breakdown.some((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')) });
      }
      await output.stop();
      await fx.destroy();
      const final = fx.stats();
      camera.stop();
      return { samples, final };
    }, { width: WIDTH, height: HEIGHT, fps: FPS, frames: FRAMES });

    const s = r.samples;
    const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
    // Warm-up (first 2 s: wasm instance, model, first allocations) excluded.
    const early = median(s.slice(2, 5).map((x) => x.heapBytes));
    const late = median(s.slice(-3).map((x) => x.heapBytes));
    const figures = {
      frames: s.at(-1).frames,
      seconds: s.length,
      heapEarly: early,
      heapLate: late,
      heapGrowth: late - early,
      wasmEarly: s[2].wasmBytes,
      wasmLate: s.at(-1).wasmBytes,
      maxFramesAlive: r.final.framesAlivePeak,
      framesAliveAfterDestroy: r.final.framesAlive,
      fps: s.map((x) => x.fps),
      segmentEvery: s.map((x) => x.segmentEvery),
    };
    console.log(`# ${JSON.stringify(figures)}`);
    assert.deepEqual(errors, []);
    assert.ok(figures.frames >= FRAMES, `${figures.frames} frames processed`);
    assert.ok(s.every((x) => x.workerMeasured), "the worker's heap is part of the measurement");
    assert.ok(figures.heapGrowth < MAX_GROWTH_BYTES, `JS heaps grew by ${figures.heapGrowth} bytes (< ${MAX_GROWTH_BYTES})`);
    assert.equal(figures.wasmLate, figures.wasmEarly, 'wasm memory does not grow after warm-up');
    // The camera's frame and the processed one, while the latter is written.
    assert.ok(figures.maxFramesAlive <= 2, `at most ${figures.maxFramesAlive} VideoFrames held at a time`);
    assert.equal(figures.framesAliveAfterDestroy, 0, 'no VideoFrame left open after destroy()');
    assert.equal(r.final.framesOpened, r.final.framesClosed + r.final.framesHandedOver, 'every frame closed exactly once');
  });
});
