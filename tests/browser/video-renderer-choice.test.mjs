// renderer: 'auto' decides by behaviour, not by the GPU's name (js/video/pipeline.js
// RendererTrial): WebKit reports "Apple GPU" over llvmpipe. Headless Chromium's WebGL2 is
// SwiftShader (software); with its name masked as "Apple GPU" in the worker, 'auto' must time
// both renderers on the first frames and end on the CPU. With the CPU renderer made slow on
// purpose, the same trial must keep WebGL2 (so the choice is measured, not fixed).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromiumTest as test } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { makeCamera } from './video-run.mjs';

const WIDTH = 320;
const HEIGHT = 180;

let camera;
before(() => { camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'grace-hopper', background: 'brick' }, { frames: 30 }); });
after(() => camera?.cleanup());

/** Code run in the video worker before the package's: the GPU named "Apple GPU"; optionally a slow CPU renderer. */
function workerPatch({ slowCpuMs = 0 } = {}) {
  return `{
    const get = WebGL2RenderingContext.prototype.getParameter;
    WebGL2RenderingContext.prototype.getParameter = function (p) {
      return p === 0x9246 || p === this.RENDERER ? 'Apple GPU' : get.call(this, p); // UNMASKED_RENDERER_WEBGL
    };
    const slow = ${slowCpuMs};
    if (slow) {
      const put = OffscreenCanvasRenderingContext2D.prototype.putImageData;
      OffscreenCanvasRenderingContext2D.prototype.putImageData = function (...args) {
        const end = performance.now() + slow;
        while (performance.now() < end);
        return put.apply(this, args);
      };
    }
  }\n`;
}

async function runAuto(page, url, patch) {
  await page.route(`${url}pkg/video/video-worker.js`, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: patch + await response.text() });
  });
  return page.evaluate(async ({ width, height }) => {
    const { openCamera, sleep } = await import('/__tests__/video-page.js');
    const { blurBackground } = await import('/pkg/index.js');
    const probe = (await import('/pkg/video/renderer.js')).probeWebGL2();
    const cam = await openCamera({ width, height, frameRate: 30 });
    const fx = await blurBackground(cam, { blurRadius: 10, renderer: 'auto' });
    const start = performance.now();
    let stats = fx.stats();
    while (!stats.rendererTrial && performance.now() - start < 60_000) {
      await sleep(250);
      stats = fx.stats();
    }
    await sleep(1000);
    stats = fx.stats();
    await fx.destroy();
    cam.stop();
    return { stats, pageName: probe.name };
  }, { width: WIDTH, height: HEIGHT });
}

test("'auto' ends on the CPU renderer over a software rasteriser named \"Apple GPU\"", { timeout: 120_000 }, async () => {
  await withBrowser({ fakeVideo: camera.path }, async ({ page, url, errors }) => {
    const r = await runAuto(page, url, workerPatch());
    console.log(`masked SwiftShader (${r.pageName} on the page): trial ${JSON.stringify(r.stats.rendererTrial)}, kept ${r.stats.renderer}`);
    assert.match(r.pageName, /swiftshader/i, 'the test machine renders WebGL in software');
    assert.ok(r.stats.rendererTrial, "the name did not say software: 'auto' timed both renderers");
    assert.ok(r.stats.rendererTrial.webgl2Ms > r.stats.rendererTrial.cpuMs, JSON.stringify(r.stats.rendererTrial));
    assert.equal(r.stats.renderer, 'cpu');
    assert.equal(r.stats.errors, 0, r.stats.lastError);
    assert.equal(r.stats.framesAlive, 0);
    assert.deepEqual(errors, []);
  });
});

test("'auto' keeps WebGL2 when it measures faster (CPU renderer slowed down on purpose)", { timeout: 180_000 }, async () => {
  await withBrowser({ fakeVideo: camera.path }, async ({ page, url, errors }) => {
    const r = await runAuto(page, url, workerPatch({ slowCpuMs: 1500 }));
    console.log(`masked SwiftShader, CPU slowed by 1.5 s a frame: trial ${JSON.stringify(r.stats.rendererTrial)}, kept ${r.stats.renderer}`);
    assert.ok(r.stats.rendererTrial.cpuMs >= 1500, JSON.stringify(r.stats.rendererTrial));
    assert.ok(r.stats.rendererTrial.webgl2Ms < r.stats.rendererTrial.cpuMs, JSON.stringify(r.stats.rendererTrial));
    assert.equal(r.stats.renderer, 'webgl2');
    assert.equal(r.stats.errors, 0, r.stats.lastError);
    assert.deepEqual(errors, []);
  });
});

test("'auto' with the name saying software skips the trial: CPU at once", { timeout: 120_000 }, async () => {
  await withBrowser({ fakeVideo: camera.path }, async ({ page, errors }) => {
    const r = await page.evaluate(async ({ width, height }) => {
      const { openCamera, sleep } = await import('/__tests__/video-page.js');
      const { blurBackground } = await import('/pkg/index.js');
      const cam = await openCamera({ width, height, frameRate: 30 });
      const fx = await blurBackground(cam, { blurRadius: 10, renderer: 'auto' });
      await sleep(1500);
      const stats = fx.stats();
      await fx.destroy();
      cam.stop();
      return stats;
    }, { width: WIDTH, height: HEIGHT });
    assert.equal(r.renderer, 'cpu');
    assert.equal(r.rendererTrial, null);
    assert.deepEqual(errors, []);
  });
});
