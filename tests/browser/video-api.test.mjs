// The background API's contract without a camera (a canvas track stands in): option errors
// name the option, bad tracks and unloadable models reject before any track is made,
// BackgroundProcessor refuses audio, isSupported() tells the truth. Then a lost WebGL context:
// the pipeline carries on with the CPU renderer and goes back to WebGL2 once it can.
// In every engine (both checks in one browser); the output ending with the input on every frame
// path the engine has.
import assert from 'node:assert/strict';
import { engineTest, forEachEngine } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { FRAME_PATHS } from './video-run.mjs';
import { createScene } from '../helpers/video-scene.mjs';
import { highFrequencyEnergy, regions } from '../helpers/video-metrics.mjs';

const NO_OFFSCREEN_GL = 'WebKitGTK has no WebGL on OffscreenCanvas (nor in workers), which the renderer draws into: its paths never render with WebGL2, so there is no context to lose';

forEachEngine((engine) => engineTest(engine, 'the background API: bad input rejected clearly, a lost WebGL context survived', { timeout: 180_000 },
  (t) => withBrowser({ engine }, async ({ page, errors, serveFile }) => {
  await t.test('blurBackground and BackgroundProcessor reject bad input clearly', async () => {
    const r = await page.evaluate(async (paths) => {
      const { blurBackground, BackgroundProcessor } = await import('/pkg/index.js');
      const { hideTrackProcessor } = await import('/__tests__/video-page.js');
      const SavedWorker = globalThis.Worker;
      // What the package reports on the console (an error where nothing went wrong misleads).
      const consoleErrors = [];
      const consoleError = console.error;
      console.error = (...args) => { consoleErrors.push(args.join(' ')); consoleError.apply(console, args); };
      const canvas = Object.assign(document.createElement('canvas'), { width: 64, height: 36 });
      canvas.getContext('2d').fillRect(0, 0, 64, 36);
      const track = canvas.captureStream().getVideoTracks()[0];
      const outcome = async (fn) => {
        try {
          const value = await fn();
          return { ok: true, value: typeof value };
        } catch (error) {
          return { name: error.name, message: error.message };
        }
      };
      const audio = new AudioContext().createMediaStreamDestination().stream.getAudioTracks()[0];
      const ended = track.clone();
      ended.stop();
      const results = {
        radiusType: await outcome(() => blurBackground(track, { blurRadius: '10' })),
        radiusRange: await outcome(() => blurBackground(track, { blurRadius: 0 })),
        radiusHigh: await outcome(() => blurBackground(track, { blurRadius: 101 })),
        mode: await outcome(() => blurBackground(track, { mode: 'sepia' })),
        imageMissing: await outcome(() => blurBackground(track, { mode: 'image' })),
        imageType: await outcome(() => blurBackground(track, { image: 42 })),
        visioType: await outcome(() => blurBackground(track, { type: 'virtual-ish' })),
        renderer: await outcome(() => blurBackground(track, { renderer: 'vulkan' })),
        options: await outcome(() => blurBackground(track, 'blur')),
        notTrack: await outcome(() => blurBackground({}, {})),
        audioTrack: await outcome(() => blurBackground(audio, {})),
        endedTrack: await outcome(() => blurBackground(ended, {})),
        model404: await outcome(() => blurBackground(track, { modelUrl: '/nowhere/model.tflite' })),
        notAModel: await outcome(() => blurBackground(track, { modelUrl: '/pkg/index.js' })),
        image404: await outcome(() => blurBackground(track, { image: '/nowhere.jpg' })),
        processorAudio: await outcome(() => new BackgroundProcessor().init({ kind: 'audio', track: audio })),
        processorBadOptions: await outcome(() => new BackgroundProcessor({ blurRadius: -1 })),
        supported: BackgroundProcessor.isSupported(),
      };
      // @livekit/track-processors' option shape and method names, for a drop-in switch.
      const lk = new BackgroundProcessor({ mode: 'background-blur', blurRadius: 15 });
      await lk.switchTo({ mode: 'virtual-background', imagePath: '/backgrounds/waves.jpg' });
      const copy = lk.clone();
      await lk.switchTo({ mode: 'disabled' });
      results.livekitShape = { switched: lk.options.mode, copy: copy.options.mode, copyImage: copy.options.image, radius: copy.options.blurRadius };
      // update() rejects bad options and keeps the effect running.
      const fx = await blurBackground(track, { blurRadius: 20 });
      results.updateThrows = await fx.update({ blurRadius: 1000 }).then(() => false, (error) => error.name);
      await fx.update({ type: 'blur', blurRadius: 10 });
      results.afterUpdate = { live: fx.track.readyState, errors: fx.stats().errors };
      await fx.destroy();
      results.trackLive = track.readyState;
      // When the input ends, the output ends too, on every path.
      results.endsWithInput = {};
      for (const [path, hide] of paths) {
        globalThis.Worker = SavedWorker;
        if (hide) hideTrackProcessor({ worker: hide === 'worker' });
        const input = track.clone();
        const effect = await blurBackground(input, { blurRadius: 20 });
        input.stop();
        const start = performance.now();
        while (effect.track.readyState !== 'ended' && performance.now() - start < 5000) await new Promise((resolve) => setTimeout(resolve, 100));
        results.endsWithInput[path] = { path: effect.stats().path, output: effect.track.readyState };
        await effect.destroy();
      }
      track.stop();
      results.consoleErrors = consoleErrors;
      return results;
    }, FRAME_PATHS[engine.name]);
    const rejects = (key, name, pattern) => {
      assert.equal(r[key].name, name, `${key}: ${JSON.stringify(r[key])}`);
      assert.match(r[key].message, pattern, key);
      assert.match(r[key].message, /^visio-media-effects: /, `${key} says where it comes from`);
    };
    rejects('radiusType', 'TypeError', /blurRadius must be a number/);
    rejects('radiusRange', 'RangeError', /blurRadius must be > 0 and <= 100.*got 0/);
    rejects('radiusHigh', 'RangeError', /got 101/);
    rejects('mode', 'TypeError', /mode must be 'blur', 'image' or 'none', got "sepia"/);
    rejects('imageMissing', 'TypeError', /needs an image/);
    rejects('imageType', 'TypeError', /image must be/);
    rejects('visioType', 'TypeError', /unknown effect type "virtual-ish": background effects are 'blur', 'virtual'/);
    rejects('renderer', 'TypeError', /renderer must be 'auto', 'webgl2' or 'cpu'/);
    rejects('options', 'TypeError', /options must be an object/);
    rejects('notTrack', 'TypeError', /needs a video MediaStreamTrack/);
    rejects('audioTrack', 'TypeError', /got a audio track|got an audio track/);
    rejects('endedTrack', 'Error', /has ended/);
    rejects('model404', 'Error', /could not load the segmentation model from .*\/nowhere\/model\.tflite: status 404/);
    rejects('notAModel', 'Error', /segmentation model is not usable/);
    rejects('image404', 'Error', /could not load the background image: status 404/);
    rejects('processorAudio', 'TypeError', /video processor, it was set on a audio track/);
    rejects('processorBadOptions', 'RangeError', /blurRadius/);
    assert.equal(r.supported, true);
    assert.deepEqual(r.livekitShape, { switched: 'none', copy: 'image', copyImage: '/backgrounds/waves.jpg', radius: 15 });
    assert.equal(r.updateThrows, 'RangeError');
    assert.deepEqual(r.afterUpdate, { live: 'live', errors: 0 });
    assert.equal(r.trackLive, 'live', 'the input track is never stopped');
    assert.deepEqual(r.endsWithInput, Object.fromEntries(FRAME_PATHS[engine.name].map(([path]) => [path, { path, output: 'ended' }])),
      'the output track ends when the input does');
    assert.deepEqual(r.consoleErrors, [], 'nothing reported on the console: bad input rejects, destroy() before the first frame is no error');
    assert.deepEqual(errors, []);
  });

  await t.test('a lost WebGL context: the CPU renderer takes over, then WebGL2 comes back', {
    skip: engine.driver === 'webkit' ? NO_OFFSCREEN_GL : undefined,
  }, async () => {
    const WIDTH = 640;
    const HEIGHT = 360;
    const scene = createScene({ width: WIDTH, height: HEIGHT, person: 'astronaut', background: 'brick' });
    const region = regions(scene.alpha, WIDTH, HEIGHT, 8);
    const frame = scene.frame(0);
    const url = serveFile('frame.rgba', Buffer.from(frame.buffer));
    const r = await page.evaluate(async ({ url, width, height }) => {
      const { loadWasmModule } = await import('/pkg/index.js');
      const { Pipeline } = await import('/pkg/video/pipeline.js');
      const { defaultModelUrl } = await import('/pkg/video/segmenter.js');
      const { toBase64, sleep } = await import('/__tests__/page-helpers.js');
      const rgba = new Uint8ClampedArray(await (await fetch(url)).arrayBuffer());
      const source = await createImageBitmap(new ImageData(rgba, width, height));
      const pipeline = await Pipeline.create({
        module: await loadWasmModule(), modelUrl: defaultModelUrl().href, renderer: 'webgl2',
        background: { mode: 'blur', radius: 20 }, path: 'test',
      });
      let t = 0;
      const grab = () => {
        const c = new OffscreenCanvas(width, height).getContext('2d');
        c.drawImage(pipeline.canvas, 0, 0);
        return toBase64(c.getImageData(0, 0, width, height).data);
      };
      const run = async (n) => {
        let drawn = 0;
        for (let i = 0; i < n; i++) {
          if (await pipeline.process(source, width, height, (t += 33))) drawn++;
          await sleep(5); // let the loss event and the renderer swap happen, as between camera frames
        }
        return drawn;
      };
      await run(3);
      const before = { renderer: pipeline.stats().renderer, image: grab() };
      const lose = pipeline.canvas.getContext('webgl2').getExtension('WEBGL_lose_context');
      lose.loseContext();
      const drawnDuringLoss = await run(10);
      const during = { renderer: pipeline.stats().renderer, losses: pipeline.stats().contextLosses, drawn: drawnDuringLoss, image: grab() };
      await sleep(2200); // the pipeline tries WebGL2 again 2 s after a loss
      await run(5);
      const afterwards = { renderer: pipeline.stats().renderer, image: grab(), errors: pipeline.stats().errors };
      pipeline.destroy();
      return { before, during, afterwards };
    }, { url, width: WIDTH, height: HEIGHT });

    const hfIn = highFrequencyEnergy(frame, WIDTH, HEIGHT, region.background);
    const drop = (b64) => 1 - highFrequencyEnergy(new Uint8Array(Buffer.from(b64, 'base64')), WIDTH, HEIGHT, region.background) / hfIn;
    const figures = { before: drop(r.before.image), during: drop(r.during.image), after: drop(r.afterwards.image), drawnDuringLoss: r.during.drawn };
    console.log(`# ${JSON.stringify(figures)}`);
    assert.equal(r.before.renderer, 'webgl2');
    assert.equal(r.during.renderer, 'cpu', 'the CPU renderer took over');
    assert.equal(r.during.losses, 1);
    assert.equal(r.during.drawn, 10, 'no frame passed through unprocessed around the loss');
    assert.equal(r.afterwards.renderer, 'webgl2', 'WebGL2 is back');
    for (const [when, value] of Object.entries(figures).filter(([k]) => k !== 'drawnDuringLoss')) {
      assert.ok(value >= 0.8, `${when}: background blurred (detail drop ${(value * 100).toFixed(1)}%)`);
    }
    assert.equal(r.afterwards.errors, 0);
    assert.deepEqual(errors, []);
  });
})));
