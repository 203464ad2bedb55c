// No halo: a person in front of a uniform green background. A blur that ignored the mask would
// smear the person's dark clothes and hair into the green around them; ours weights the blur by
// (1 - mask), so the background next to the person stays green. Both renderers, in every
// engine on its own frame path (WebGL2 where that path has it).
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { engineTest, forEachEngine } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { makeCamera, rgbaOf, runBlur } from './video-run.mjs';
import { colourDistances, gaussianBlur, quantile, regions } from '../helpers/video-metrics.mjs';

const WIDTH = 640;
const HEIGHT = 360;
const FPS = 30;
const GREEN = [70, 180, 90];
const RADIUS = 20; // "normal" in Visio: sigma 20 px at 720p, 10 px here
/** The ring of background checked: 3 to 15 px from the person's outline. */
const RING = [3, 15];
/** 95th percentile of the colour distance to the background colour (RGB, 0..441). */
const MAX_P95 = 20;

let camera;
let ring;
let far;
before(() => {
  camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'grace-hopper', background: { color: GREEN } }, { frames: 30, fps: FPS });
  const r = regions(camera.scene.alpha, WIDTH, HEIGHT, 40);
  ring = r.ring(...RING);
  far = r.background;
});
after(() => camera?.cleanup());

/** The background colour as the camera delivers it (after its YUV 4:2:0 round trip). */
function backgroundColour(rgba) {
  const channels = [0, 1, 2].map((c) => {
    const values = [];
    for (let i = 0; i < far.length; i++) if (far[i]) values.push(rgba[4 * i + c]);
    return quantile(values.sort((a, b) => a - b), 0.5);
  });
  return channels;
}

/**
 * The renderers each engine's own path can use; WebKitGTK has no WebGL2 in workers nor on
 * OffscreenCanvas, so the package renders there on the CPU (the renderer's own WebGL2 picture
 * is checked on a <canvas> in renderer-webgl.test.mjs).
 */
const NO_WEBGL2 = 'WebKitGTK has no WebGL2 in workers nor on OffscreenCanvas: its paths render on the CPU (renderer-webgl.test.mjs checks the WebGL2 halo on a <canvas>)';

forEachEngine((engine) => {
  const renderers = engine.driver === 'webkit' ? ['cpu'] : ['cpu', 'webgl2'];
  // JavaScriptCore and SpiderMonkey tier the wasm up later than V8.
  const warmupMs = engine.name === 'chromium' ? 1000 : 3000;
  if (engine.driver === 'webkit') engineTest(engine, 'no halo around the person, WebGL2 renderer', { skip: NO_WEBGL2 }, () => {});
  engineTest(engine, `no halo around the person, ${renderers.map((r) => (r === 'cpu' ? 'CPU' : 'WebGL2')).join(' and ')} renderer${renderers.length > 1 ? 's' : ''}`, { timeout: 300_000 }, async () => {
    await withBrowser({ engine, fakeVideo: camera.path }, async ({ page, errors }) => {
      for (const renderer of renderers) {
        const r = await runBlur(page, { options: { blurRadius: RADIUS, renderer }, width: WIDTH, height: HEIGHT, fps: FPS, warmupMs, countMs: 500 });
        assert.equal(r.running.renderer, renderer);
        assert.ok(r.running.rendered > 0 && r.running.passthrough === 0, `every frame went through the effect (${r.running.rendered} rendered, ${r.running.passthrough} passed through; ${r.running.lastError})`);
        const input = rgbaOf(r.input.rgba);
        const colour = backgroundColour(input);
        // What a mask-blind blur gives there: proves the ring sees a halo when there is one.
        const naive = colourDistances(gaussianBlur(input, WIDTH, HEIGHT, RADIUS * HEIGHT / 720), ring, colour);
        for (const o of r.outputs) {
          const d = colourDistances(rgbaOf(o.rgba), ring, colour);
          const p95 = quantile(d, 0.95);
          console.log(`# ${JSON.stringify({ renderer, colour, ringP95: p95, ringMean: d.reduce((a, b) => a + b, 0) / d.length, naiveBlurP95: quantile(naive, 0.95) })}`);
          assert.ok(p95 <= MAX_P95, `${renderer}: 95% of the ring within ${p95.toFixed(1)} of the background colour (<= ${MAX_P95})`);
        }
        assert.ok(quantile(naive, 0.95) > 2 * MAX_P95, 'a plain blur would show a halo in the same ring');
      }
      assert.deepEqual(errors, []);
    });
  });
});
