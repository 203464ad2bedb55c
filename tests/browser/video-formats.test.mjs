// Every pixel format a browser hands over (js/video/frame-input.js, src/video/pixels.rs): the
// same photograph (a person photographed, over a texture photograph; tests/helpers/
// video-scene.mjs) as VideoFrames in I420, I420A, NV12 (BT.601 and BT.709, limited and full
// range, converted from RGB here), BGRA, BGRX, RGBX and RGBA, through the one frame copy, the
// segmenter and both renderers: each output must match the RGBA frame's output within 2/255
// on average, and the masks must match. Then WebKit's worker path, simulated: BGRA camera
// frames and a copyTo that ignores the `format` option (as WebKit's does).
import assert from 'node:assert/strict';
import { chromiumTest as test } from './engines/index.mjs';
import { withBrowser } from './harness.mjs';
import { createScene } from '../helpers/video-scene.mjs';
import { highFrequencyEnergy, regions, ssim } from '../helpers/video-metrics.mjs';

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

/** RGBA -> packed `format` bytes (BGRA, BGRX, RGBX: X bytes set to garbage on purpose). */
function toPacked(rgba, format) {
  const out = new Uint8Array(rgba.length);
  for (let i = 0; i < rgba.length; i += 4) {
    const bgr = format.startsWith('BGR');
    out[i] = rgba[i + (bgr ? 2 : 0)];
    out[i + 1] = rgba[i + 1];
    out[i + 2] = rgba[i + (bgr ? 0 : 2)];
    out[i + 3] = format.endsWith('X') ? 17 : 255;
  }
  return out;
}

test('every pixel format gives the RGBA frame\'s mask and picture, on both renderers', { timeout: 180_000 }, async () => {
  const scene = createScene({ width: W, height: H, person: 'grace-hopper', background: 'brick' });
  const rgba = scene.frame(0);
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
  for (const format of ['BGRA', 'BGRX', 'RGBX']) cases.push({ name: format, format, bytes: toPacked(rgba, format) });

  await withBrowser({}, async ({ page, serveFile, errors }) => {
    const urls = cases.map((c, i) => serveFile(`case-${i}.bin`, Buffer.from(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength)));
    const result = await page.evaluate(async ({ cases, urls, W, H }) => {
      const { loadWasmModule } = await import('/pkg/wasm.js');
      const { loadVideoWasm, fetchModel, defaultModelUrl, FrameSegmenter } = await import('/pkg/video/segmenter.js');
      const { FrameInput } = await import('/pkg/video/frame-input.js');
      const { createCpuRenderer } = await import('/pkg/video/renderer-cpu.js');
      const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
      const wasm = await loadVideoWasm(await loadWasmModule());
      const seg = new FrameSegmenter(wasm, await fetchModel(defaultModelUrl()));
      const input = new FrameInput(wasm);
      const cpu = createCpuRenderer({ wasm });
      const gl = createWebGLRenderer();
      for (const r of [cpu, gl]) r.setBackground({ mode: 'blur', radius: 10 });
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
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i];
        const bytes = new Uint8Array(await (await fetch(urls[i])).arrayBuffer());
        const frame = new VideoFrame(bytes, { format: c.format, codedWidth: W, codedHeight: H, timestamp: i, ...(c.colorSpace ? { colorSpace: c.colorSpace } : {}) });
        const seen = { format: frame.format, matrix: frame.colorSpace.matrix, fullRange: frame.colorSpace.fullRange };
        await input.load(frame, W, H, { full: true, fit: seg.size });
        const { mask, width: mw, height: mh } = seg.segment(input);
        const maskCopy = mask.slice();
        const out = {};
        for (const [name, r] of [['cpu', cpu], ['gl', gl]]) {
          r.resetTemporal();
          r.render(input, maskCopy, mw, mh, W, H);
          out[name] = read[name]();
        }
        // The converted frame itself (mode none draws the frame as the renderer sees it).
        gl.setBackground({ mode: 'none' });
        gl.render(input, maskCopy, mw, mh, W, H);
        out.glFrame = read.gl();
        gl.setBackground({ mode: 'blur', radius: 10 });
        frame.close();
        outputs.push({ seen, kind: input.kind, mask: maskCopy, mw, mh, ...out });
      }
      const ref = outputs[0];
      const diff = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) if (i % 4 !== 3) s += Math.abs(a[i] - b[i]); return s / (a.length * 0.75); };
      const summary = outputs.map((o) => {
        let mad = 0, inter = 0, union = 0;
        for (let i = 0; i < o.mask.length; i++) {
          mad += Math.abs(o.mask[i] - ref.mask[i]);
          const a = o.mask[i] > 0.5, b = ref.mask[i] > 0.5;
          inter += a && b; union += a || b;
        }
        return {
          seen: o.seen, kind: o.kind, maskSize: [o.mw, o.mh],
          maskMad: mad / o.mask.length, maskIou: inter / union,
          cpu: diff(o.cpu, ref.cpu), gl: diff(o.gl, ref.gl), cpuVsGl: diff(o.cpu, o.gl), frame: diff(o.glFrame, ref.glFrame),
        };
      });
      // The reference output is a blurred picture, not the input.
      const refBlur = diff(ref.cpu, ref.glFrame);
      seg.destroy(); input.destroy(); cpu.destroy(); gl.destroy();
      return { summary, refBlur };
    }, { cases: cases.map(({ name, format, colorSpace }) => ({ name, format, colorSpace })), urls, W, H });

    assert.ok(result.refBlur > 2, `the RGBA frame is blurred (differs from the input by ${result.refBlur}/255)`);
    result.summary.forEach((s, i) => {
      const c = cases[i];
      console.log(`${c.name.padEnd(22)} copy ${s.kind}, mask ${s.maskSize.join('x')} MAD ${s.maskMad.toFixed(4)} IoU ${s.maskIou.toFixed(4)}; `
        + `vs RGBA: frame ${s.frame.toFixed(3)}, CPU ${s.cpu.toFixed(3)}, WebGL2 ${s.gl.toFixed(3)}; CPU vs WebGL2 ${s.cpuVsGl.toFixed(3)} (mean abs /255)`);
      assert.equal(s.seen.format, c.format, `${c.name}: the browser kept the format`);
      if (c.colorSpace) assert.equal(s.seen.matrix, c.colorSpace.matrix);
      assert.equal(s.kind, 'planes', `${c.name}: copied in its own format`);
      assert.deepEqual(s.maskSize, [256, 144]);
      assert.ok(s.maskIou >= 0.98 && s.maskMad < 0.01, `${c.name}: mask IoU ${s.maskIou}, MAD ${s.maskMad}`);
      for (const r of ['cpu', 'gl']) assert.ok(s[r] <= 2, `${c.name}: ${r} output ${s[r]}/255 from the RGBA frame's`);
      assert.ok(s.cpuVsGl <= 0.5, `${c.name}: CPU and WebGL2 renderers ${s.cpuVsGl}/255 apart`);
    });
    assert.deepEqual(errors, []);
  });
});

test('an unsupported pixel format is a clear error, counted, and the frame passes through', { timeout: 60_000 }, async () => {
  await withBrowser({}, async ({ page }) => {
    const r = await page.evaluate(async () => {
      const { loadWasmModule } = await import('/pkg/wasm.js');
      const { Pipeline } = await import('/pkg/video/pipeline.js');
      const { defaultModelUrl } = await import('/pkg/video/segmenter.js');
      const pipeline = await Pipeline.create({ module: await loadWasmModule(), modelUrl: defaultModelUrl().href, renderer: 'cpu', background: { mode: 'blur', radius: 10 }, path: 'test' });
      const w = 64, h = 36;
      const frame = new VideoFrame(new Uint8Array(w * h * 3).fill(128), { format: 'I444', codedWidth: w, codedHeight: h, timestamp: 0 });
      const drawn = await pipeline.process(frame, w, h, 0);
      frame.close();
      const stats = pipeline.stats();
      pipeline.destroy();
      return { drawn, errors: stats.errors, lastError: stats.lastError, passthrough: stats.passthrough };
    });
    assert.equal(r.drawn, false, 'the frame passes through');
    assert.equal(r.errors, 1);
    assert.equal(r.passthrough, 1);
    assert.match(r.lastError, /pixel format I444 are not supported \(I420, I420A, NV12, RGBA, RGBX, BGRA, BGRX are\)/);
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
