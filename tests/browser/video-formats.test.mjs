// Every pixel format a browser hands over (js/video/frame-input.js, src/video/pixels.rs): the
// same photograph (a person photographed, over a texture photograph; tests/helpers/
// video-scene.mjs) as VideoFrames in I420, I420A, NV12 (BT.601 and BT.709, limited and full
// range, converted from RGB here), BGRA, BGRX, RGBX and RGBA, through the one frame copy, the
// segmenter and both renderers: each output must match the RGBA frame's output within 2/255
// on average, and the masks must match. In every engine: a format the engine's VideoFrame
// constructor rejects is skipped with the engine's own message printed; a format it constructs
// but cannot copyTo() (WebKitGTK: BGRX, RGBX) must go through the package's canvas fallback
// and still match. Then Safari 18's path ([webkit-mstp]): the same frames from a
// VideoTrackGenerator through the effect's worker (MediaStreamTrackProcessor +
// VideoTrackGenerator). Then WebKit's worker path simulated in Chromium: BGRA camera frames
// and a copyTo that ignores the `format` option (as WebKit's does).
import assert from 'node:assert/strict';
import { chromiumTest as test, engine as engineNamed, engineTest, forEachEngine } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { createScene } from '../helpers/video-scene.mjs';
import { highFrequencyEnergy, meanAbsDiff, regions, ssim } from '../helpers/video-metrics.mjs';
import { rgbaOf } from './video-run.mjs';

const W = 640;
const H = 360;

const KR_KB = { bt470bg: [0.299, 0.114], bt709: [0.2126, 0.0722] };

/** RGBA -> planes of `format` (I420, I420A, NV12) with `matrix` and range: 2x2 chroma means. */
function toYuv(rgba, w, h, format, matrix, fullRange) {
  const [kr, kb] = KR_KB[matrix];
  const [yScale, yOff, cScale] = fullRange ? [255, 0, 255] : [219, 16, 224];
  const yuv = (i) => {
    const r = rgba[i] / 255, g = rgba[i + 1] / 255, b = rgba[i + 2] / 255;
    const y = kr * r + (1 - kr - kb) * g + kb * b;
    return [yOff + yScale * y, 128 + (cScale * (b - y)) / (2 * (1 - kb)), 128 + (cScale * (r - y)) / (2 * (1 - kr))];
  };
  const cw = w / 2, ch = h / 2;
  const planes = new Uint8Array(w * h * (format === 'I420A' ? 2.5 : 1.5));
  for (let i = 0; i < w * h; i++) planes[i] = Math.round(yuv(4 * i)[0]);
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let u = 0, v = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const [, a, b] = yuv(4 * ((2 * y + dy) * w + 2 * x + dx));
        u += a / 4; v += b / 4;
      }
      if (format === 'NV12') {
        planes[w * h + y * w + 2 * x] = Math.round(u);
        planes[w * h + y * w + 2 * x + 1] = Math.round(v);
      } else {
        planes[w * h + y * cw + x] = Math.round(u);
        planes[w * h + cw * ch + y * cw + x] = Math.round(v);
      }
    }
  }
  if (format === 'I420A') planes.fill(255, w * h * 1.5);
  return planes;
}

/** RGBA -> packed `format` bytes (BGRA, BGRX, RGBX: X bytes set to garbage on purpose, or to `x`). */
function toPacked(rgba, format, x = 17) {
  const out = new Uint8Array(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const bgr = format.startsWith('BGR');
    out[i] = rgba[i + (bgr ? 2 : 0)];
    out[i + 1] = rgba[i + 1];
    out[i + 2] = rgba[i + (bgr ? 0 : 2)];
    out[i + 3] = format.endsWith('X') ? x : 255;
  }
  return out;
}

/** The cases: the RGBA frame first (the reference), then every other format of the same picture. */
function formatCases(rgba) {
  const cases = [{ name: 'RGBA', format: 'RGBA', bytes: rgba }];
  for (const format of ['I420', 'NV12', 'I420A']) {
    for (const matrix of ['bt470bg', 'bt709']) {
      for (const fullRange of [false, true]) {
        if (format === 'I420A' && (matrix !== 'bt709' || fullRange)) continue;
        cases.push({ name: `${format} ${matrix === 'bt709' ? 'BT.709' : 'BT.601'} ${fullRange ? 'full' : 'limited'}`,
          format, bytes: toYuv(rgba, W, H, format, matrix, fullRange), colorSpace: { matrix, fullRange, primaries: 'bt709', transfer: 'bt709' } });
      }
    }
  }
  for (const format of ['BGRA', 'BGRX', 'RGBX']) {
    cases.push({ name: format, format, bytes: toPacked(rgba, format), ...(format.endsWith('X') ? { opaque: toPacked(rgba, format, 255) } : {}) });
  }
  return cases;
}

const serveCases = (cases, serveFile) => cases.map((c, i) => ({
  bytes: serveFile(`case-${i}.bin`, Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength)),
  ...(c.opaque ? { opaque: serveFile(`case-${i}-opaque.bin`, Buffer.from(c.opaque.buffer)) } : {}),
}));
const pageCases = (cases) => cases.map(({ name, format, colorSpace }) => ({ name, format, colorSpace }));

/** Prints what the engine could not construct (skipped), with its own message. */
function reportUnconstructed(engine, cases, unconstructed) {
  for (const [i, message] of Object.entries(unconstructed)) {
    console.log(`# [${engine.name}] ${cases[i].name}: SKIPPED, ${engine.name}'s VideoFrame constructor rejects it (${message})`);
  }
}

const WORKER_PATH_SKIP = "on the page [webkit-mstp] is [webkit] (the feature adds worker APIs only); its worker path is checked by the test 'every pixel format through Safari 18's worker path'";

forEachEngine((engine) => engineTest(engine, 'every pixel format gives the RGBA frame\'s mask and picture, on both renderers', {
  timeout: 300_000, skip: engine.name === 'webkit-mstp' && WORKER_PATH_SKIP,
}, async () => {
  const scene = createScene({ width: W, height: H, person: 'grace-hopper', background: 'brick' });
  const cases = formatCases(scene.frame(0));

  await withBrowser({ engine }, async ({ page, serveFile, errors }) => {
    const urls = serveCases(cases, serveFile);
    const result = await page.evaluate(async ({ cases, urls, W, H }) => {
      const { loadWasmModule } = await import('/pkg/wasm.js');
      const { loadVideoWasm, fetchModel, defaultModelUrl, FrameSegmenter } = await import('/pkg/video/segmenter.js');
      const { FrameInput } = await import('/pkg/video/frame-input.js');
      const { createCpuRenderer } = await import('/pkg/video/renderer-cpu.js');
      const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
      const wasm = await loadVideoWasm(await loadWasmModule());
      const seg = new FrameSegmenter(wasm, await fetchModel(defaultModelUrl()));
      const cpu = createCpuRenderer({ wasm });
      // WebGL2 on OffscreenCanvas where the engine has it (the renderer's own canvas), else on a
      // <canvas> (WebKitGTK), else none (then the WebGL2 half is skipped, with the reason).
      const offscreenGl = !!new OffscreenCanvas(1, 1).getContext('webgl2');
      const pageGl = offscreenGl || !!document.createElement('canvas').getContext('webgl2');
      const gl = pageGl ? createWebGLRenderer(offscreenGl ? {} : { canvas: document.createElement('canvas') }) : null;
      const renderers = [['cpu', cpu], ...(gl ? [['gl', gl]] : [])];
      for (const [, r] of renderers) r.setBackground({ mode: 'blur', radius: 10 });
      const read = {
        cpu: () => cpu.canvas.getContext('2d').getImageData(0, 0, W, H).data,
        gl: () => {
          const ctx = gl.canvas.getContext('webgl2');
          const px = new Uint8Array(W * H * 4);
          ctx.readPixels(0, 0, W, H, ctx.RGBA, ctx.UNSIGNED_BYTE, px);
          const out = new Uint8Array(W * H * 4); // bottom-up -> top-down
          for (let y = 0; y < H; y++) out.set(px.subarray((H - 1 - y) * W * 4, (H - y) * W * 4), y * W * 4);
          return out;
        },
      };
      const outputs = [];
      const unconstructed = {};
      /**
       * Whether this engine can copyTo() a frame of `format` at all (WebKitGTK cannot for BGRX
       * and RGBX: the package then reads it through its canvas fallback), and whether its
       * drawImage() honours the X of an X format (WebKitGTK's takes X as alpha: colours
       * premultiplied by it, so garbage X bytes cannot come out right through that fallback).
       */
      const probe = async (format) => {
        const f = new VideoFrame(new Uint8Array(4 * 4 * 4).fill(17), { format, codedWidth: 4, codedHeight: 4, timestamp: 0 });
        let copyError = null;
        try {
          await f.copyTo(new Uint8Array(f.allocationSize()));
        } catch (error) {
          copyError = String(error?.message ?? error);
        }
        const context = new OffscreenCanvas(4, 4).getContext('2d');
        context.drawImage(f, 0, 0);
        const xAsAlpha = format.endsWith('X') && context.getImageData(0, 0, 1, 1).data[3] !== 255;
        f.close();
        return { copyError, xAsAlpha };
      };
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        let probed = { copyError: null, xAsAlpha: false };
        try {
          probed = await probe(c.format);
        } catch {
          // not constructed: said below
        }
        // X bytes the engine's own fallback cannot ignore: the case is run with X = 255 (as a
        // camera's would be), and says so.
        const opaqueX = probed.copyError !== null && probed.xAsAlpha;
        const bytes = new Uint8Array(await (await fetch(opaqueX ? urls[i].opaque : urls[i].bytes)).arrayBuffer());
        let frame;
        try {
          frame = new VideoFrame(bytes, { format: c.format, codedWidth: W, codedHeight: H, timestamp: i, ...(c.colorSpace ? { colorSpace: c.colorSpace } : {}) });
        } catch (error) {
          unconstructed[i] = String(error?.message ?? error);
          outputs.push(null);
          continue;
        }
        const seen = { format: frame.format, matrix: frame.colorSpace.matrix, fullRange: frame.colorSpace.fullRange };
        // A fresh input per frame: one format's copy failures do not decide the next one's.
        const input = new FrameInput(wasm);
        await input.load(frame, W, H, { full: true, fit: seg.size });
        const { mask, width: mw, height: mh } = seg.segment(input);
        const maskCopy = mask.slice();
        const out = {};
        for (const [name, r] of renderers) {
          r.resetTemporal();
          r.render(input, maskCopy, mw, mh, W, H);
          out[name] = read[name]();
        }
        // The converted frame itself (mode none draws the frame as the renderer sees it).
        cpu.setBackground({ mode: 'none' });
        cpu.render(input, maskCopy, mw, mh, W, H);
        out.frame = read.cpu();
        cpu.setBackground({ mode: 'blur', radius: 10 });
        frame.close();
        outputs.push({ seen, copyError: probed.copyError, opaqueX, kind: input.kind, mask: maskCopy, mw, mh, ...out });
        input.destroy();
      }
      const ref = outputs[0];
      const diff = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) if (i % 4 !== 3) s += Math.abs(a[i] - b[i]); return s / (a.length * 0.75); };
      const summary = outputs.map((o) => {
        if (!o) return null;
        let mad = 0, inter = 0, union = 0;
        for (let i = 0; i < o.mask.length; i++) {
          mad += Math.abs(o.mask[i] - ref.mask[i]);
          const a = o.mask[i] > 0.5, b = ref.mask[i] > 0.5;
          inter += a && b; union += a || b;
        }
        return {
          seen: o.seen, copyError: o.copyError, opaqueX: o.opaqueX, kind: o.kind, maskSize: [o.mw, o.mh],
          maskMad: mad / o.mask.length, maskIou: inter / union, frame: diff(o.frame, ref.frame),
          cpu: diff(o.cpu, ref.cpu), gl: gl ? diff(o.gl, ref.gl) : null, cpuVsGl: gl ? diff(o.cpu, o.gl) : null,
        };
      });
      // The reference output is a blurred picture, not the input.
      const refBlur = diff(ref.cpu, ref.frame);
      seg.destroy(); cpu.destroy(); gl?.destroy();
      return { summary, refBlur, unconstructed, gl: !!gl };
    }, { cases: pageCases(cases), urls, W, H });

    reportUnconstructed(engine, cases, result.unconstructed);
    assert.ok(result.summary[0], `${engine.name} constructs RGBA VideoFrames`);
    if (!result.gl) console.log(`# [${engine.name}] WebGL2 renderer: SKIPPED, no WebGL2 context on this page`);
    assert.ok(result.refBlur > 2, `the RGBA frame is blurred (differs from the input by ${result.refBlur}/255)`);
    result.summary.forEach((s, i) => {
      const c = cases[i];
      if (!s) return;
      const why = [s.copyError && `${engine.name}'s copyTo fails: ${s.copyError}`,
        s.opaqueX && `X bytes 255, not garbage: ${engine.name}'s drawImage takes X as alpha`].filter(Boolean).join('; ');
      console.log(`# [${engine.name}] ${c.name.padEnd(22)} copy ${s.kind}${why ? ` (${why})` : ''}, mask ${s.maskSize.join('x')} MAD ${s.maskMad.toFixed(4)} IoU ${s.maskIou.toFixed(4)}; `
        + `vs RGBA: frame ${s.frame.toFixed(3)}, CPU ${s.cpu.toFixed(3)}${result.gl ? `, WebGL2 ${s.gl.toFixed(3)}; CPU vs WebGL2 ${s.cpuVsGl.toFixed(3)}` : ''} (mean abs /255)`);
      assert.equal(s.seen.format, c.format, `${c.name}: the browser kept the format`);
      if (c.colorSpace) assert.equal(s.seen.matrix, c.colorSpace.matrix);
      // Copied in its own format wherever the engine can copy it; else through the canvas.
      assert.equal(s.kind, s.copyError ? 'rgba' : 'planes', `${c.name}: ${s.copyError ? 'read through the canvas' : 'copied in its own format'}`);
      assert.deepEqual(s.maskSize, [256, 144]);
      assert.ok(s.maskIou >= 0.98 && s.maskMad < 0.01, `${c.name}: mask IoU ${s.maskIou}, MAD ${s.maskMad}`);
      for (const r of result.gl ? ['cpu', 'gl'] : ['cpu']) assert.ok(s[r] <= 2, `${c.name}: ${r} output ${s[r]}/255 from the RGBA frame's`);
      if (result.gl) assert.ok(s.cpuVsGl <= 0.5, `${c.name}: CPU and WebGL2 renderers ${s.cpuVsGl}/255 apart`);
    });
    assert.deepEqual(errors, []);
  });
}));

forEachEngine((engine) => engineTest(engine, 'an unsupported pixel format is a clear error, counted, and the frame passes through', {
  timeout: 60_000, skip: engine.name === 'webkit-mstp' && WORKER_PATH_SKIP,
}, async (t) => {
  await withBrowser({ engine }, async ({ page }) => {
    const r = await page.evaluate(async () => {
      const { loadWasmModule } = await import('/pkg/wasm.js');
      const { Pipeline } = await import('/pkg/video/pipeline.js');
      const { defaultModelUrl } = await import('/pkg/video/segmenter.js');
      const { PIXEL_FORMATS } = await import('/pkg/video/frame-input.js');
      // The first format outside ours that this engine constructs.
      const w = 64, h = 36;
      const rejected = {};
      let frame = null;
      for (const [format, bytesPerPixel] of [['I444', 3], ['I422', 2], ['I444A', 4], ['I422A', 3], ['I420AP10', 5], ['I420P10', 3]]) {
        try {
          frame = new VideoFrame(new Uint8Array(w * h * bytesPerPixel).fill(128), { format, codedWidth: w, codedHeight: h, timestamp: 0 });
          if (PIXEL_FORMATS.includes(frame.format)) { frame.close(); frame = null; throw new Error(`kept as ${frame.format}`); }
          break;
        } catch (error) {
          rejected[format] = String(error?.message ?? error);
        }
      }
      if (!frame) return { rejected };
      const pipeline = await Pipeline.create({ module: await loadWasmModule(), modelUrl: defaultModelUrl().href, renderer: 'cpu', background: { mode: 'blur', radius: 10 }, path: 'test' });
      const format = frame.format;
      const drawn = await pipeline.process(frame, w, h, 0);
      frame.close();
      const stats = pipeline.stats();
      pipeline.destroy();
      return { format, drawn, errors: stats.errors, lastError: stats.lastError, passthrough: stats.passthrough };
    });
    if (r.rejected && !r.format) {
      const reason = `${engine.name} constructs no VideoFrame outside our formats: ${Object.entries(r.rejected).map(([f, m]) => `${f} (${m})`).join(', ')}`;
      console.log(`# [${engine.name}] SKIPPED: ${reason}`);
      t.skip(reason);
      return;
    }
    assert.equal(r.drawn, false, 'the frame passes through');
    assert.equal(r.errors, 1);
    assert.equal(r.passthrough, 1);
    assert.match(r.lastError, new RegExp(`pixel format ${r.format} are not supported \\(I420, I420A, NV12, RGBA, RGBX, BGRA, BGRX are\\)`));
  });
}));

// Safari 18's path: VideoFrames of each format written to a VideoTrackGenerator in a worker,
// its track handed to blurBackground, which takes its worker path (the track transferred to
// the effect's worker, read there with MediaStreamTrackProcessor, written to a
// VideoTrackGenerator). Each output, read back the same way for every format once the
// temporal smoothing has settled on the repeated picture, must match the RGBA frames' within
// 2/255 on average, keep the person (SSIM >= 0.9) and blur the background (high-frequency
// energy -80 % or more), colours in place.
engineTest(engineNamed('webkit-mstp'), "every pixel format through Safari 18's worker path", { timeout: 300_000 }, async () => {
  const scene = createScene({ width: W, height: H, person: 'grace-hopper', background: 'brick' });
  const rgba = scene.frame(0);
  const cases = formatCases(rgba);
  await withBrowser({ engine: engineNamed('webkit-mstp') }, async ({ page, serveFile, errors }) => {
    const urls = serveCases(cases, serveFile);
    const r = await page.evaluate(async ({ cases, urls, W, H }) => {
      const { openTap, sleep, toBase64 } = await import('/__tests__/video-page.js');
      const { blurBackground } = await import('/pkg/index.js');
      // A camera of constructed frames: the same frame 30 times a second from a worker's
      // VideoTrackGenerator (a Worker's API: Safari's and WebKit's).
      const cameraWorker = URL.createObjectURL(new Blob([`
        let timer = null;
        onmessage = ({ data }) => {
          if (data === 'stop') { clearInterval(timer); return; }
          const { bytes, init } = data;
          let frame;
          try { frame = new VideoFrame(bytes, { ...init, timestamp: 0 }); } catch (error) { postMessage({ error: String(error?.message ?? error) }); return; }
          frame.close();
          const generator = new VideoTrackGenerator();
          const writer = generator.writable.getWriter();
          let n = 0;
          timer = setInterval(() => {
            const f = new VideoFrame(bytes, { ...init, timestamp: n++ * 33333 });
            writer.write(f).catch(() => f.close());
          }, 33);
          postMessage({ track: generator.track }, [generator.track]);
        };`], { type: 'text/javascript' }));
      const results = [];
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        // X formats with X = 255: WebKitGTK can only draw them, taking X as alpha (first test).
        const bytes = new Uint8Array(await (await fetch(urls[i].opaque ?? urls[i].bytes)).arrayBuffer());
        const worker = new Worker(cameraWorker);
        const reply = await new Promise((resolve) => {
          worker.onmessage = ({ data }) => resolve(data);
          worker.postMessage({ bytes, init: { format: c.format, codedWidth: W, codedHeight: H, ...(c.colorSpace ? { colorSpace: c.colorSpace } : {}) } });
        });
        if (reply.error) { worker.terminate(); results.push({ unconstructed: reply.error }); continue; }
        const camera = reply.track;
        const formats = await openTap(camera.clone(), { formats: true });
        const fx = await blurBackground(camera, { blurRadius: 20, renderer: 'cpu' });
        const output = await openTap(fx.track);
        // Settled: 30 frames rendered (up to 30 s on a slow machine).
        for (let t = 0; t < 300 && (fx.stats().rendered ?? 0) < 30; t++) await sleep(100);
        const [out] = await output.grab(1);
        const stats = fx.stats();
        await fx.destroy();
        await Promise.all([output.stop(), formats.stop()]);
        worker.postMessage('stop');
        camera.stop();
        worker.terminate();
        results.push({ path: stats.path, rendered: stats.rendered, errors: stats.errors, lastError: stats.lastError, framesAlive: fx.stats().framesAlive,
          formatsSeen: formats.formats, rgba: toBase64(out.rgba), size: [out.width, out.height] });
      }
      return results;
    }, { cases: pageCases(cases), urls, W, H });

    reportUnconstructed(engineNamed('webkit-mstp'), cases, Object.fromEntries(r.flatMap((x, i) => (x.unconstructed ? [[i, x.unconstructed]] : []))));
    assert.ok(!r[0].unconstructed, 'RGBA frames are constructed');
    const region = regions(scene.alpha, W, H, 8);
    const ref = rgbaOf(r[0].rgba);
    const everywhere = new Uint8Array(W * H).fill(1);
    const hfIn = highFrequencyEnergy(rgba, W, H, region.background);
    r.forEach((x, i) => {
      if (x.unconstructed) return;
      const c = cases[i];
      const out = rgbaOf(x.rgba);
      const vsRgba = meanAbsDiff(out, ref, everywhere);
      const personSsim = ssim(rgba, out, W, H, region.person);
      const hfDrop = 1 - highFrequencyEnergy(out, W, H, region.background) / hfIn;
      const [rbOut, rbIn] = [out, rgba].map((p) => {
        let s = 0, n = 0;
        for (let j = 0; j < W * H; j++) if (region.person[j]) { s += p[4 * j] - p[4 * j + 2]; n++; }
        return s / n;
      });
      console.log(`# [webkit-mstp] worker path ${c.name.padEnd(22)}${c.opaque ? ' (X = 255)' : ''} frames arriving as ${JSON.stringify(x.formatsSeen)}, ${x.rendered} rendered; vs RGBA ${vsRgba.toFixed(3)}/255, `
        + `person SSIM ${personSsim.toFixed(3)}, background HF ${(-100 * hfDrop).toFixed(1)}%, person R-B ${rbOut.toFixed(1)} (input ${rbIn.toFixed(1)})`);
      assert.equal(x.path, 'worker', `${c.name}: Safari 18's path`);
      assert.equal(x.errors, 0, `${c.name}: no frame failed (${x.lastError})`);
      assert.ok(x.rendered >= 30, `${c.name}: ${x.rendered} frames rendered`);
      assert.equal(x.framesAlive, 0, `${c.name}: no VideoFrame left open after destroy()`);
      assert.deepEqual(x.size, [W, H]);
      assert.ok(vsRgba <= 2, `${c.name}: output ${vsRgba.toFixed(3)}/255 from the RGBA frames' output`);
      assert.ok(personSsim >= 0.9, `${c.name}: person SSIM ${personSsim}`);
      assert.ok(hfDrop >= 0.8, `${c.name}: background HF drop ${hfDrop}`);
      assert.ok(Math.abs(rbOut - rbIn) < 3, `${c.name}: person R-B ${rbOut} vs ${rbIn}: red and blue in place`);
    });
    assert.deepEqual(errors, []);
  });
});

test("WebKit's worker path, simulated: BGRA camera frames, copyTo without `format`: right colours, blurred background", { timeout: 120_000 }, async () => {
  const scene = createScene({ width: W, height: H, person: 'astronaut', background: 'brick' });
  const frames = [0, 1, 2, 3].map((n) => toPacked(scene.frame(n), 'BGRA'));
  await withBrowser({}, async ({ page, serveFile, url, errors }) => {
    // WebKit's VideoFrameCopyToOptions has only rect and layout: the worker gets a copyTo that
    // drops `format` (and colorSpace), so asking for RGBA would hand over BGRA bytes.
    await page.route(`${url}pkg/video/video-worker.js`, async (route) => {
      const response = await route.fetch();
      const patch = `{ const copyTo = VideoFrame.prototype.copyTo;
        VideoFrame.prototype.copyTo = function (destination, options = {}) { const { format, colorSpace, ...rest } = options; return copyTo.call(this, destination, rest); }; }\n`;
      await route.fulfill({ response, body: patch + await response.text() });
    });
    const urls = frames.map((f, i) => serveFile(`bgra-${i}.bin`, Buffer.from(f.buffer)));
    const r = await page.evaluate(async ({ urls, W, H }) => {
      const { FrameTap, sleep, toBase64 } = await import('/__tests__/video-page.js');
      const { blurBackground } = await import('/pkg/index.js');
      const data = await Promise.all(urls.map(async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer())));
      // A camera delivering BGRA VideoFrames (what WebKit's capture hands over).
      const camera = new MediaStreamTrackGenerator({ kind: 'video' });
      const writer = camera.writable.getWriter();
      let n = 0;
      let formatSeen = null;
      const timer = setInterval(() => {
        const frame = new VideoFrame(data[n % data.length], { format: 'BGRA', codedWidth: W, codedHeight: H, timestamp: n * 33333 });
        formatSeen ??= frame.format;
        n++;
        writer.write(frame).catch(() => frame.close());
      }, 33);
      const fx = await blurBackground(camera, { blurRadius: 20, renderer: 'cpu' });
      const output = new FrameTap(fx.track);
      await sleep(2500);
      const grabbed = await output.grab(2);
      const stats = fx.stats();
      await fx.destroy();
      await output.stop();
      clearInterval(timer);
      await writer.close().catch(() => {});
      return { stats, formatSeen, outputs: grabbed.map((f) => ({ timestamp: f.timestamp, rgba: toBase64(f.rgba) })) };
    }, { urls, W, H });
    assert.equal(r.formatSeen, 'BGRA');
    assert.equal(r.stats.path, 'worker-streams');
    assert.equal(r.stats.errors, 0, r.stats.lastError);
    const region = regions(scene.alpha, W, H, 8);
    for (const o of r.outputs) {
      const out = new Uint8Array(Buffer.from(o.rgba, 'base64'));
      const input = scene.frame(Math.round(o.timestamp / 33333) % 4);
      const personSsim = ssim(input, out, W, H, region.person);
      const hfDrop = 1 - highFrequencyEnergy(out, W, H, region.background) / highFrequencyEnergy(input, W, H, region.background);
      // Red and blue: a swap would move the person's mean red-minus-blue far off.
      let rb = [0, 0], count = 0;
      for (let i = 0; i < W * H; i++) {
        if (!region.person[i]) continue;
        rb[0] += out[4 * i] - out[4 * i + 2];
        rb[1] += input[4 * i] - input[4 * i + 2];
        count++;
      }
      const [rbOut, rbIn] = rb.map((v) => v / count);
      console.log(`WebKit-like BGRA worker path: person SSIM ${personSsim.toFixed(3)}, background HF drop ${(100 * hfDrop).toFixed(1)}%, person mean R-B ${rbOut.toFixed(1)} (input ${rbIn.toFixed(1)})`);
      assert.ok(personSsim >= 0.9, `person SSIM ${personSsim}`);
      assert.ok(hfDrop >= 0.8, `background HF drop ${hfDrop}`);
      assert.ok(Math.abs(rbOut - rbIn) < 3, `person R-B ${rbOut} vs ${rbIn}: red and blue in place`);
    }
    assert.deepEqual(errors, []);
  });
});
