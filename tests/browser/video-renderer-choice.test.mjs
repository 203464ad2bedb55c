// renderer: 'auto' decides by behaviour, not by the GPU's name (js/video/pipeline.js
// RendererTrial): WebKit reports "Apple GPU" over llvmpipe. In the video worker (the engine's own
// path) the GPU's name is masked as "Apple GPU": 'auto' must then time both renderers on the
// first frames and keep the one it measured faster, which over a software rasteriser
// (Chromium's SwiftShader, Firefox's llvmpipe) is the CPU; with the CPU renderer made slow on
// purpose, the same trial must keep WebGL2 (so the choice is measured, not fixed). Unmasked, a
// name that says software skips the trial. WebKitGTK has no WebGL in workers nor on
// OffscreenCanvas, so there 'auto' can only take the CPU: checked, the trial skipped with why.
// One browser per engine: the page tells each new video worker what to mask (watchWorkers
// below) before the package's first message reaches it.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { engineTest, forEachEngine } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { makeCamera } from './video-run.mjs';

const WIDTH = 320;
const HEIGHT = 180;

let camera;
before(() => { camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'grace-hopper', background: 'brick' }, { frames: 30 }); });
after(() => camera?.cleanup());

/**
 * Runs in the video worker before the package's code: on the test's first message, the GPU
 * named "Apple GPU" (`mask`) and the CPU renderer slowed by `slowCpuMs` a frame.
 */
const WORKER_PRELUDE = `{
  let mask = false;
  let slow = 0;
  addEventListener('message', (event) => {
    if (event.data?.type !== '__vmeRendererTest') return;
    ({ mask, slowCpuMs: slow } = event.data);
    event.stopImmediatePropagation();
  });
  if (typeof WebGL2RenderingContext === 'function') {
    const get = WebGL2RenderingContext.prototype.getParameter;
    WebGL2RenderingContext.prototype.getParameter = function (p) {
      return mask && (p === 0x9246 || p === this.RENDERER) ? 'Apple GPU' : get.call(this, p); // UNMASKED_RENDERER_WEBGL
    };
  }
  const put = OffscreenCanvasRenderingContext2D.prototype.putImageData;
  OffscreenCanvasRenderingContext2D.prototype.putImageData = function (...args) {
    const end = performance.now() + slow;
    while (performance.now() < end);
    return put.apply(this, args);
  };
}`;

/** In the page: blurBackground with 'auto' until its trial is over (or 1.5 s without one); the stats. */
async function runAuto(page, { mask, slowCpuMs = 0 }) {
  return page.evaluate(async ({ width, height, mask, slowCpuMs }) => {
    const { openCamera, sleep } = await import('/__tests__/video-page.js');
    const { blurBackground } = await import('/pkg/index.js');
    // Each video worker is told first what to mask (the prelude reads it before the package).
    const Saved = globalThis.__vmeWorker ??= globalThis.Worker;
    globalThis.Worker = new Proxy(Saved, {
      construct(target, args, newTarget) {
        const worker = Reflect.construct(target, args, newTarget);
        worker.postMessage({ type: '__vmeRendererTest', mask, slowCpuMs });
        return worker;
      },
    });
    const cam = await openCamera({ width, height, frameRate: 30 });
    const fx = await blurBackground(cam, { blurRadius: 10, renderer: 'auto' });
    const start = performance.now();
    let stats = fx.stats();
    // Until the trial is over, or, with no trial, until frames have been rendered for a while.
    while (!stats.rendererTrial && !(stats.rendered > 10) && performance.now() - start < 60_000) {
      await sleep(250);
      stats = fx.stats();
    }
    await sleep(1000);
    stats = fx.stats();
    await fx.destroy();
    cam.stop();
    return stats;
  }, { width: WIDTH, height: HEIGHT, mask, slowCpuMs });
}

/** The worker's WebGL2 as the package's probe sees it, unmasked. */
function probeInWorker(page) {
  return page.evaluate(async () => new Promise((resolve) => {
    const worker = new Worker(URL.createObjectURL(new Blob([
      `import('${location.origin}/pkg/video/renderer.js').then((m) => postMessage(m.probeWebGL2()), (e) => postMessage({ error: String(e) }));`,
    ], { type: 'text/javascript' })), { type: 'module' });
    worker.onmessage = ({ data }) => { worker.terminate(); resolve(data); };
  }));
}

const NO_WORKER_GL = 'WebKitGTK has no WebGL in workers nor on OffscreenCanvas (the renderer draws into one): its paths have no WebGL2 renderer to try, checked below';

forEachEngine((engine) => {
  const webkit = engine.driver === 'webkit';
  engineTest(engine, "renderer 'auto' chooses by timing, not by the GPU's name", {
    timeout: 300_000, skip: engine.name === 'webkit-mstp' ? 'the worker path has no WebGL in WebKitGTK either: [webkit] checks that auto takes the CPU there' : undefined,
  }, (t) => withBrowser({ engine, fakeVideo: camera.path, workerPrelude: WORKER_PRELUDE }, async ({ page, errors }) => {
    const probe = await probeInWorker(page);
    console.log(`# [${engine.name}] WebGL2 in the video worker: ${JSON.stringify(probe)}`);

    await t.test('over a software rasteriser named "Apple GPU", the trial keeps the faster (the CPU here)', { skip: webkit && NO_WORKER_GL }, async () => {
      assert.equal(probe.software, true, `the test machine renders WebGL in software (${probe.name})`);
      const r = await runAuto(page, { mask: true });
      console.log(`# [${engine.name}] masked ${probe.name}: trial ${JSON.stringify(r.rendererTrial)}, kept ${r.renderer}`);
      assert.ok(r.rendererTrial, "the name did not say software: 'auto' timed both renderers");
      const faster = r.rendererTrial.webgl2Ms < r.rendererTrial.cpuMs ? 'webgl2' : 'cpu';
      assert.equal(r.renderer, faster, `'auto' kept the renderer it measured faster: ${JSON.stringify(r.rendererTrial)}`);
      // Which one is faster depends on the host: SwiftShader is 10-80x slower than our CPU
      // renderer here, asserted; llvmpipe (multi-threaded) 2-5x slower on these 2 cores, reported.
      if (engine.name === 'chromium') assert.equal(faster, 'cpu', `SwiftShader measured slower than the CPU: ${JSON.stringify(r.rendererTrial)}`);
      else if (faster !== 'cpu') console.log(`!!! [${engine.name}] ${probe.name} measured faster than the CPU renderer on this host: ${JSON.stringify(r.rendererTrial)}`);
      assert.equal(r.errors, 0, r.lastError);
      assert.equal(r.framesAlive, 0);
    });

    await t.test('with the CPU renderer slowed down on purpose, the same trial keeps WebGL2', { skip: webkit && NO_WORKER_GL }, async () => {
      const r = await runAuto(page, { mask: true, slowCpuMs: 1500 });
      console.log(`# [${engine.name}] masked, CPU slowed by 1.5 s a frame: trial ${JSON.stringify(r.rendererTrial)}, kept ${r.renderer}`);
      assert.ok(r.rendererTrial.cpuMs >= 1500, JSON.stringify(r.rendererTrial));
      assert.ok(r.rendererTrial.webgl2Ms < r.rendererTrial.cpuMs, JSON.stringify(r.rendererTrial));
      assert.equal(r.renderer, 'webgl2');
      assert.equal(r.errors, 0, r.lastError);
    });

    await t.test(webkit ? 'no WebGL2 on the path: the CPU at once, no trial' : 'a name that says software skips the trial: the CPU at once', async () => {
      if (webkit) assert.equal(probe.available, false, 'WebKitGTK got WebGL2 in a worker: this test should now time it (see the skips)');
      const r = await runAuto(page, { mask: false });
      assert.equal(r.renderer, 'cpu');
      assert.equal(r.rendererTrial, null);
      assert.ok(r.rendered > 0, `frames rendered (${r.lastError})`);
      assert.equal(r.errors, 0, r.lastError);
    });
    assert.deepEqual(errors, []);
  }));
});
