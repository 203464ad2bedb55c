// BackgroundProcessor on a real livekit-client LocalVideoTrack (livekit's own ESM build, served
// at /vendor/livekit-client/), driven the way Visio drives it: setProcessor once, then
// processor.update(config) with Visio's config shapes to switch between blur strengths, a
// virtual background and no effect, without stopProcessor() in between. Every frame the track
// sends during all that is checked for a black or grey flash. In every engine: outside Chromium
// the camera is the page's own track from the same file, handed to livekit as a user track.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { MSTP_VIDEO_OPT_IN, engineTest, forEachEngine } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { makeCamera, rgbaOf } from './video-run.mjs';
import { highFrequencyEnergy, meanAbsDiff, personBlocks, regions, ssim } from '../helpers/video-metrics.mjs';

const WIDTH = 640;
const HEIGHT = 360;
const FPS = 30;
const THUMB = [64, 36]; // 10 x 10 pixel blocks
const CYCLES = 5;

let camera;
let region;
before(() => {
  camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'astronaut', background: 'brick' }, { fps: FPS });
  region = regions(camera.scene.alpha, WIDTH, HEIGHT, 8);
});
after(() => camera?.cleanup());

forEachEngine((engine) => engineTest(engine, 'BackgroundProcessor on a livekit LocalVideoTrack: Visio configs switch live, no flash, no frame left open', {
  timeout: 300_000, skip: engine.name === 'webkit-mstp' && MSTP_VIDEO_OPT_IN,
}, async () => {
  // JavaScriptCore and SpiderMonkey tier the wasm up later than V8.
  const warmupMs = engine.name === 'chromium' ? 1500 : 3000;
  // WebKitGTK's default path delivers about half the camera's frames (below): twice as long on
  // each setting, so that as many frames are checked for a flash.
  const switchMs = engine.name === 'webkit' ? 1400 : 700;
  await withBrowser({ engine, fakeVideo: camera.path }, async ({ page, errors }) => {
    const r = await page.evaluate(async ({ width, height, fps, thumb, cycles, warmupMs, switchMs }) => {
      const { openCamera, openTap, sleep, toBase64 } = await import('/__tests__/video-page.js');
      const { BackgroundProcessor } = await import('/pkg/index.js');
      const { LocalVideoTrack, createLocalVideoTrack, setLogLevel } = await import('/vendor/livekit-client/livekit-client.esm.mjs');
      setLogLevel('warn');
      let track;
      if (globalThis.__vmeFake?.video) {
        const camera = await openCamera({ width, height, frameRate: fps });
        // stopProcessor() re-applies the track's constraints; Firefox rejects any on a canvas
        // track (OverconstrainedError), where a camera takes them: the fake camera has none.
        camera.applyConstraints = async () => {};
        track = new LocalVideoTrack(camera, undefined, true);
      } else {
        track = await createLocalVideoTrack({ resolution: { width, height, frameRate: fps } });
      }
      const raw = track.mediaStreamTrack;
      const input = await openTap(raw.clone(), { thumb, thumbEvery: 8 }); // one camera thumbnail is compared
      const processor = new BackgroundProcessor({ type: 'blur', blurRadius: 20 });
      const supported = BackgroundProcessor.isSupported();
      await track.setProcessor(processor);
      const processed = processor.processedTrack;
      const output = await openTap(processed, { thumb });
      const shot = async () => toBase64((await output.grab(1))[0].rgba);
      const first = {
        name: processor.name,
        sendsProcessed: track.mediaStreamTrack === processed,
        getProcessor: track.getProcessor() === processor,
      };
      await sleep(warmupMs);
      const inputFrame = toBase64((await input.grab(1))[0].rgba);
      const blur20 = await shot();

      await processor.update({ type: 'virtual', imagePath: '/backgrounds/mountains.jpg' });
      await sleep(switchMs);
      const virtual = await shot();
      // The image cover-fitted to the frame, as the renderers do it.
      const bitmap = await createImageBitmap(await (await fetch('/backgrounds/mountains.jpg')).blob());
      const scale = Math.max(width / bitmap.width, height / bitmap.height);
      const fit = new OffscreenCanvas(width, height).getContext('2d');
      fit.drawImage(bitmap, (width - bitmap.width * scale) / 2, (height - bitmap.height * scale) / 2, bitmap.width * scale, bitmap.height * scale);
      const fitted = toBase64(fit.getImageData(0, 0, width, height).data);

      await processor.update({ type: 'blur', blurRadius: 10 });
      await sleep(switchMs);
      const blur10 = await shot();
      await processor.update({ mode: 'none' });
      await sleep(switchMs);
      const none = await shot();
      await processor.update({ mode: 'blur', blurRadius: 20 });
      await sleep(switchMs);
      const sameTrack = processor.processedTrack === processed && processed.readyState === 'live';
      const running = processor.stats();

      await track.stopProcessor();
      const stopped = { processedTrack: String(processor.processedTrack), ended: processed.readyState, stats: processor.stats() };
      await output.stop();
      // Toggle: each cycle starts a worker and frees it again.
      const cycleStats = [];
      for (let i = 0; i < cycles; i++) {
        await track.setProcessor(processor);
        await sleep(300);
        await track.stopProcessor();
        cycleStats.push(processor.stats());
      }
      await input.stop();
      const rawLive = raw.readyState;
      track.stop();
      return {
        supported, first, sameTrack, running, stopped, rawLive,
        cycles: cycleStats.map((s) => ({ framesAlive: s.framesAlive, opened: s.framesOpened, closed: s.framesClosed, handedOver: s.framesHandedOver, errors: s.errors })),
        inputFrame, blur20, virtual, fitted, blur10, none,
        inputThumb: toBase64(input.thumbs[input.thumbs.length >> 1]),
        thumbs: output.thumbs.map((t) => toBase64(t)),
      };
    }, { width: WIDTH, height: HEIGHT, fps: FPS, thumb: THUMB, cycles: CYCLES, warmupMs, switchMs });

    assert.deepEqual(errors, [], 'no uncaught page errors');
    assert.equal(r.supported, true, 'isSupported()');
    assert.deepEqual(r.first, { name: 'visio-background', sendsProcessed: true, getProcessor: true });
    assert.equal(r.sameTrack, true, 'switching effects kept the same live processed track');
    assert.equal(r.running.errors, 0, `no frame failed (${r.running.lastError})`);

    const input = rgbaOf(r.inputFrame);
    const hfIn = highFrequencyEnergy(input, WIDTH, HEIGHT, region.background);
    const figures = {};
    for (const name of ['blur20', 'blur10', 'none', 'virtual']) {
      const out = rgbaOf(r[name]);
      figures[name] = {
        hfDrop: 1 - highFrequencyEnergy(out, WIDTH, HEIGHT, region.background) / hfIn,
        personSsim: ssim(input, out, WIDTH, HEIGHT, region.person),
      };
    }
    figures.virtual.backgroundVsImage = meanAbsDiff(rgbaOf(r.virtual), rgbaOf(r.fitted), region.background);

    // A flash: a frame whose person differs grossly from the camera's (black, grey, blank).
    const blocks = personBlocks(camera.scene.alpha, WIDTH, HEIGHT, ...THUMB);
    const inputThumb = rgbaOf(r.inputThumb);
    const thumbDiffs = r.thumbs.map((t) => meanAbsDiff(rgbaOf(t), inputThumb, blocks));
    figures.frames = r.thumbs.length;
    figures.worstPersonDiff = Math.max(...thumbDiffs);
    figures.cycles = r.cycles;
    console.log(`# ${JSON.stringify(figures)}`);

    for (const name of ['blur20', 'blur10', 'virtual', 'none']) {
      assert.ok(figures[name].personSsim >= 0.9, `${name}: person SSIM ${figures[name].personSsim.toFixed(3)} (>= 0.9)`);
    }
    assert.ok(figures.blur20.hfDrop >= 0.8, `blur 20: background detail drops by ${(figures.blur20.hfDrop * 100).toFixed(1)}% (>= 80%)`);
    assert.ok(figures.blur10.hfDrop >= 0.5, `blur 10: background detail drops by ${(figures.blur10.hfDrop * 100).toFixed(1)}% (>= 50%)`);
    assert.ok(figures.none.hfDrop < 0.2, `none: the background keeps its detail (drop ${(figures.none.hfDrop * 100).toFixed(1)}%)`);
    assert.ok(figures.virtual.backgroundVsImage < 12, `virtual background: the image shows behind the person (mean difference ${figures.virtual.backgroundVsImage.toFixed(1)} / 255)`);
    // WebKitGTK's default path reads each frame from a <video>, which costs it 21-35 ms here:
    // about half the camera's frames (engines/video.test.mjs holds it to 25 frames too).
    const minFrames = engine.name === 'webkit' ? 25 : 60;
    assert.ok(figures.frames > minFrames, `the processed track delivered ${figures.frames} frames (> ${minFrames})`);
    assert.ok(figures.worstPersonDiff < 25, `no flash: every frame's person within ${figures.worstPersonDiff.toFixed(1)} / 255 of the camera's`);

    assert.equal(r.stopped.processedTrack, 'undefined');
    assert.equal(r.stopped.ended, 'ended', 'stopProcessor() ends the processed track');
    assert.equal(r.stopped.stats.framesAlive, 0, 'no VideoFrame left open after stopProcessor()');
    for (const c of r.cycles) {
      assert.equal(c.framesAlive, 0, 'no VideoFrame left open after each cycle');
      assert.equal(c.opened, c.closed + c.handedOver, 'every frame closed exactly once');
      assert.equal(c.errors, 0);
    }
    assert.equal(r.rawLive, 'live', "the processor never stops livekit's camera track");
  });
}));
