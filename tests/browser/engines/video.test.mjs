// blurBackground in Firefox ESR and WebKitGTK: the checks video-blur.test.mjs makes in Chromium
// (background detail gone, person intact, no black or grey frame from the first on, no frame
// failed, none left open after destroy(), output ended, camera left running), on every frame
// path each engine has and with both renderers where that path has WebGL2; then the other
// effect modes ('none', 'image') on the engine's own path. The camera is the same Y4M scene,
// drawn into a canvas and captured by the page (these engines cannot play a file as a camera).
import assert from 'node:assert/strict';
import { withBrowser } from '../harness.mjs';
import { STRICT, blurCamera, checkBlur, checkFrameRate, measureBlur, rgbaOf, runBlur } from '../video-run.mjs';
import { highFrequencyEnergy, meanAbsDiff, ssim } from '../../helpers/video-metrics.mjs';
import { ENGINES, engineTest } from './index.mjs';

const WIDTH = 640;
const HEIGHT = 360;
const FPS = 30;
/** Longer than Chromium's 1 s: JavaScriptCore and SpiderMonkey tier the wasm up later. */
const WARMUP_MS = 3000;

const NO_WORKER_GL = 'WebKitGTK has no WebGL in workers (OffscreenCanvas.getContext("webgl2") is null there): this path always renders on the CPU';
const NO_OFFSCREEN_GL = 'WebKitGTK has no WebGL on OffscreenCanvas, which the renderer draws into: a forced webgl2 rejects ("WebGL2 is unavailable") and auto takes the CPU';
const NO_STREAMS = 'worker-streams needs MediaStreamTrackProcessor and MediaStreamTrackGenerator on the page: Chromium only';
const SAME_AS_WEBKIT = 'with Worker hidden the MediaStreamTrackProcessing feature changes nothing: [webkit] runs this path';

/**
 * Per engine, the paths it takes and the renderers each can use; `skip` says why a
 * combination does not apply. `hide` as in runBlur: true hides MediaStreamTrackProcessor
 * (not needed where the page has none), 'worker' hides Worker too. `slowVideoRead`: the path
 * reads each frame from a <video>, which costs WebKitGTK 21-35 ms per 640x360 frame on this
 * software-rendered VM (drawImage / createImageBitmap, measured), so it delivers about half the
 * camera's rate: held to 40 % of the frames (checkFrameRate: 20 % on a busy host) and judged on at least 25 of them, with the
 * figure printed (README's support table). `hostBound`: Safari 18's own path, [webkit-mstp]
 * worker, in WebKitGTK on this software-rendered VM: segment + render take 35 ms a frame on a
 * quiet machine and up to ~190 ms at a load average of 20 (measured), so how many of the
 * camera's frames it keeps up with is the host's figure, not the package's: counted for 8 s,
 * printed, and held to Chromium's 90 % only with VME_VIDEO_STRICT=1 (a quiet machine);
 * always judged on at least 30 delivered frames, every one checked for a flash, output
 * flowing all along (at least one frame a second), every frame closed, timestamps kept.
 */
const PLAN = {
  firefox: [
    // Firefox has no MediaStreamTrackProcessor anywhere and cannot transfer tracks.
    { path: 'worker', renderers: { cpu: 'Firefox has no MediaStreamTrackProcessor in workers and cannot transfer tracks' } },
    { path: 'worker-streams', renderers: { cpu: NO_STREAMS } },
    { path: 'worker-frames', renderers: { cpu: null, webgl2: null } },
    { path: 'main-thread', hide: 'worker', renderers: { cpu: null, webgl2: null } },
  ],
  webkit: [
    { path: 'worker', renderers: { cpu: 'needs --features=+MediaStreamTrackProcessing: [webkit-mstp] runs it' } },
    { path: 'worker-streams', renderers: { cpu: NO_STREAMS } },
    { path: 'worker-frames', renderers: { cpu: null, webgl2: NO_WORKER_GL }, slowVideoRead: true },
    { path: 'main-thread', hide: 'worker', renderers: { cpu: null, webgl2: NO_OFFSCREEN_GL }, slowVideoRead: true },
  ],
  'webkit-mstp': [
    // Safari 18's path: the track transferred to a Worker with MediaStreamTrackProcessor +
    // VideoTrackGenerator.
    { path: 'worker', renderers: { cpu: null, webgl2: NO_WORKER_GL }, hostBound: true },
    { path: 'worker-streams', renderers: { cpu: NO_STREAMS } },
    { path: 'main-thread', hide: 'worker', renderers: { cpu: SAME_AS_WEBKIT, webgl2: SAME_AS_WEBKIT } },
  ],
};

const scene = blurCamera({ width: WIDTH, height: HEIGHT, fps: FPS });

for (const engine of ENGINES.filter((e) => PLAN[e.name])) {
  for (const { path, hide = false, renderers, slowVideoRead = false, hostBound = false } of PLAN[engine.name]) {
    for (const [renderer, skip] of Object.entries(renderers)) {
      engineTest(engine, `blurBackground: ${renderer} renderer, ${path} path`, { timeout: 300_000, skip: skip ?? false }, async () => {
        await withBrowser({ engine, fakeVideo: scene.camera.path }, async ({ page, errors }) => {
          const gl = await page.evaluate(async () => (await import('/pkg/video/renderer.js')).probeWebGL2());
          // Slow readers (software GL, WebKit's <video> readback) are counted for 8 s instead of
          // 3 so that the frames judged below do not depend on the machine's speed.
          const countMs = slowVideoRead || hostBound || (renderer === 'webgl2' && gl.software) ? 8000 : 3000;
          const r = await runBlur(page, { options: { blurRadius: 20, renderer }, width: WIDTH, height: HEIGHT, fps: FPS, hide, warmupMs: WARMUP_MS, countMs });
          const m = measureBlur(`[${engine.name}] ${renderer}${renderer === 'webgl2' ? ` (${gl.name})` : ''}/${path}`, r, { width: WIDTH, height: HEIGHT, region: scene.region, blocks: scene.blocks });
          // Software GL (llvmpipe) delivers fewer frames on a loaded 2-core machine: judge the
          // ones it delivers, at least 30, as the Chromium test does for SwiftShader.
          const minFrames = slowVideoRead ? 25 : hostBound || (renderer === 'webgl2' && gl.software) ? 30 : 60;
          checkBlur(r, m, { width: WIDTH, height: HEIGHT, path, renderer, minFrames });
          // Timestamps where the tap sees them (MediaStreamTrackProcessor in a worker: the
          // worker path); a tap through <video> does not.
          if (path === 'worker') {
            assert.ok(r.timestampsJudged >= 20, `${r.timestampsJudged} output timestamps could be checked`);
            assert.equal(m.timestampsPreserved, 1, 'every output frame carries a camera frame timestamp');
          }
          // Paths that read VideoFrames count them (as worker-streams does in Chromium).
          if (path === 'worker') assert.equal(r.final.framesOpened, r.final.framesClosed + r.final.framesHandedOver, 'every frame closed exactly once');
          const minRatio = slowVideoRead ? 0.4 : 0.9;
          if (hostBound) {
            console.log(`# [${engine.name}] ${path}: ${r.outCount} frames out for ${r.inCount} in over ${r.countMs / 1000} s (${(100 * m.fpsRatio).toFixed(0)} %, `
              + `${(r.outCount / (r.countMs / 1000)).toFixed(1)} fps), segment / render ${r.running.segmentMs} / ${r.running.renderMs} ms: the host's speed${STRICT ? '' : ' (90 % required with VME_VIDEO_STRICT=1)'}`);
            assert.ok(r.outCount >= r.countMs / 1000, `the output flows: ${r.outCount} frames in ${r.countMs / 1000} s`);
          }
          if (renderer === 'cpu' && (!hostBound || STRICT)) checkFrameRate(r, m, minRatio);
          assert.deepEqual(errors, []);
        });
      });
    }
  }

  // video-memory.test.mjs measures the heaps with performance.measureUserAgentSpecificMemory().
  engineTest(engine, 'memory is flat over 1000 frames', { skip: 'performance.measureUserAgentSpecificMemory() exists in Chromium only; frames left open are checked above' }, () => {});

  // The engine's own path: the first one that applies.
  const own = PLAN[engine.name].find((p) => !Object.values(p.renderers).every(Boolean)).path;
  engineTest(engine, `effect modes 'none' and 'image' on the ${own} path`, { timeout: 300_000 }, async () => {
    await withBrowser({ engine, fakeVideo: scene.camera.path }, async ({ page, errors }) => {
      const figures = {};
      for (const options of [{ mode: 'none' }, { mode: 'image', image: '/backgrounds/mountains.jpg' }]) {
        const r = await runBlur(page, { options: { ...options, renderer: 'cpu' }, width: WIDTH, height: HEIGHT, fps: FPS, warmupMs: WARMUP_MS, countMs: 2000 });
        const input = rgbaOf(r.input.rgba);
        const outs = r.outputs.map((o) => rgbaOf(o.rgba));
        const hfIn = highFrequencyEnergy(input, WIDTH, HEIGHT, scene.region.background);
        const f = {
          path: r.running.path,
          personSsim: Math.min(...outs.map((o) => ssim(input, o, WIDTH, HEIGHT, scene.region.person))),
          personDiffs: outs.map((o) => +meanAbsDiff(o, input, scene.region.person).toFixed(1)),
          framesIn: r.inCount, framesOut: r.outCount, countMs: r.countMs, rendered: r.running.rendered, passthrough: r.running.passthrough,
          segmentMs: r.running.segmentMs, renderMs: r.running.renderMs, drawMisses: r.drawMisses,
          backgroundDetailKept: Math.min(...outs.map((o) => highFrequencyEnergy(o, WIDTH, HEIGHT, scene.region.background) / hfIn)),
          backgroundDiff: Math.min(...outs.map((o) => meanAbsDiff(o, input, scene.region.background))),
          worstPersonDiff: Math.max(...r.outputThumbs.map((t) => meanAbsDiff(rgbaOf(t), rgbaOf(r.inputThumb), scene.blocks))),
          errors: r.running.errors, framesAlive: r.final.framesAlive, outputEnded: r.outputEnded,
        };
        figures[options.mode] = f;
        console.log(`# [${engine.name}] mode ${options.mode} ${JSON.stringify(f)}`);
        assert.equal(f.path, own);
        assert.ok(f.personSsim >= 0.9, `${options.mode}: person SSIM ${f.personSsim.toFixed(3)} (>= 0.9)`);
        assert.ok(f.worstPersonDiff < 25, `${options.mode}: no black or grey frame (worst ${f.worstPersonDiff.toFixed(1)} / 255 on the person)`);
        assert.equal(f.errors, 0, `${options.mode}: no frame failed (${r.running.lastError})`);
        assert.equal(f.framesAlive, 0, `${options.mode}: no VideoFrame left open after destroy()`);
        assert.equal(f.outputEnded, 'ended');
      }
      // 'none': the camera's picture (its moving texture stays sharp); 'image': another background.
      assert.ok(figures.none.backgroundDetailKept >= 0.7, `none: background detail kept (${(figures.none.backgroundDetailKept * 100).toFixed(0)}%)`);
      assert.ok(figures.image.backgroundDiff >= 30, `image: the background is replaced (mean difference to the camera ${figures.image.backgroundDiff.toFixed(1)} / 255)`);
      assert.deepEqual(errors, []);
    });
  });
}
