// The WebGL2 background renderer (js/video/renderer-webgl.js) in every engine (no GPU here:
// Chromium's WebGL2 runs on SwiftShader, Firefox's and WebKitGTK's on llvmpipe under Xvfb).
// WebKitGTK has WebGL2 on <canvas> only, not on OffscreenCanvas (so the package never picks it
// there, but Safari has it on both): the renderer draws on a <canvas> there, to check its
// shaders and picture on WebKit's WebGL all the same. Frames are the synthetic camera scenes of tests/helpers/
// video-scene.mjs, made in Node and handed to the page as ImageBitmaps; the mask is the scene's
// exact person alpha area-averaged to 256x144, so these tests judge the renderer alone, not
// the segmentation.
import assert from 'node:assert/strict';
import { engineTest, forEachEngine } from './engines/index.mjs';
import { createScene } from '../helpers/video-scene.mjs';
import { colourDistances, gaussianBlur, highFrequencyEnergy, quantile, regions, ssim } from '../helpers/video-metrics.mjs';
import { withBrowser } from './harness.mjs';

const MASK_W = 256;
const MASK_H = 144;

/** Area average of a w x h plane into mw x mh (each output pixel: the source pixels whose centres fall in it). */
function downscale(plane, w, h, mw, mh) {
  const sum = new Float64Array(mw * mh);
  const count = new Uint32Array(mw * mh);
  for (let y = 0; y < h; y++) {
    const my = Math.min(mh - 1, Math.floor(((y + 0.5) * mh) / h));
    for (let x = 0; x < w; x++) {
      const mx = Math.min(mw - 1, Math.floor(((x + 0.5) * mw) / w));
      sum[my * mw + mx] += plane[y * w + x];
      count[my * mw + mx]++;
    }
  }
  return Float32Array.from(sum, (s, i) => s / count[i]);
}

/** Page-side helpers, installed once per page as globalThis.__vme. */
function installPageHelpers() {
  const base64 = (bytes) => {
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  };
  // Where OffscreenCanvas has no WebGL2 (WebKitGTK), the renderer gets a <canvas>.
  const offscreen = !!new OffscreenCanvas(1, 1).getContext('webgl2');
  globalThis.__vme = {
    offscreen,
    /** createWebGLRenderer's options: `extra` plus the canvas to draw on where needed. */
    options: (extra = {}) => (offscreen ? extra : { canvas: document.createElement('canvas'), ...extra }),
    async bitmap(url, w, h) {
      const bytes = new Uint8ClampedArray(await (await fetch(url)).arrayBuffer());
      return createImageBitmap(new ImageData(bytes, w, h), { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
    },
    async bytes(url) {
      return new Uint8Array(await (await fetch(url)).arrayBuffer());
    },
    async mask(url) {
      return new Float32Array(await (await fetch(url)).arrayBuffer());
    },
    /** The renderer's canvas as top-down RGBA, base64. */
    read(renderer) {
      const gl = renderer.canvas.getContext('webgl2');
      const { width: w, height: h } = renderer.canvas;
      const px = new Uint8Array(w * h * 4);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
      const flipped = new Uint8Array(w * h * 4);
      for (let y = 0; y < h; y++) flipped.set(px.subarray((h - 1 - y) * w * 4, (h - y) * w * 4), y * w * 4);
      return base64(flipped);
    },
    base64,
  };
}

const decode = (b64) => new Uint8Array(Buffer.from(b64, 'base64'));

/** A scene, frame `n` and its mask, served to the page; returns their URLs. */
function serveScene(serveFile, scene, n, name) {
  const frame = scene.frame(n);
  const mask = downscale(scene.alpha, scene.width, scene.height, MASK_W, MASK_H);
  return {
    frame,
    mask,
    frameUrl: serveFile(`${name}-${n}.rgba`, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength)),
    maskUrl: serveFile(`${name}-mask.f32`, Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength)),
  };
}

/** Renders `frames` (URLs) with `background` in one page call; returns the last output. */
async function renderInPage(page, { frameUrls, maskUrl, width, height, background, imageUrl, imageSize }) {
  const b64 = await page.evaluate(async ({ frameUrls, maskUrl, width, height, background, imageUrl, imageSize }) => {
    const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
    const renderer = createWebGLRenderer(__vme.options());
    try {
      if (imageUrl) background = { mode: 'image', image: await __vme.bitmap(imageUrl, ...imageSize) };
      renderer.setBackground(background);
      const mask = await __vme.mask(maskUrl);
      for (const url of frameUrls) {
        const bitmap = await __vme.bitmap(url, width, height);
        renderer.render(bitmap, mask, 256, 144, width, height);
        bitmap.close();
      }
      return __vme.read(renderer);
    } finally {
      renderer.destroy();
    }
  }, { frameUrls, maskUrl, width, height, background, imageUrl, imageSize });
  return decode(b64);
}

// The MediaStreamTrackProcessing feature changes nothing for a renderer given frames directly.
const SAME_AS_WEBKIT = 'the MediaStreamTrackProcessing feature changes nothing for the renderer alone: [webkit] runs it';

forEachEngine((engine) => engineTest(engine, 'WebGL2 renderer: blur, halo, pass-through, virtual background, GL objects, context loss, CPU parity', {
  timeout: 300_000, skip: engine.name === 'webkit-mstp' && SAME_AS_WEBKIT,
}, async (t) => {
  await withBrowser({ engine }, async ({ page, serveFile }) => {
    await page.evaluate(installPageHelpers);

    await t.test('strong blur removes the background detail and keeps the person (1280x720, radius 20)', async () => {
      const scene = createScene({ width: 1280, height: 720, person: 'grace-hopper', background: 'brick' });
      const { width: w, height: h } = scene;
      const frames = [0, 1, 2].map((n) => serveScene(serveFile, scene, n, 'blur'));
      const out = await renderInPage(page, {
        frameUrls: frames.map((f) => f.frameUrl), maskUrl: frames[0].maskUrl, width: w, height: h,
        background: { mode: 'blur', radius: 20 },
      });
      const input = frames[2].frame;
      // Background far from the person (48 px clear of any person pixel).
      const { background } = regions(scene.alpha, w, h, 48);
      const hfIn = highFrequencyEnergy(input, w, h, background);
      const hfOut = highFrequencyEnergy(out, w, h, background);
      const drop = 1 - hfOut / hfIn;
      // The person, away from the soft outline (4 px inside where alpha is 1).
      const { person } = regions(scene.alpha, w, h, 4);
      const s = ssim(input, out, w, h, person);
      console.log(`blur r=20 720p: background HF energy drop ${(100 * drop).toFixed(1)}%, person SSIM ${s.toFixed(4)}`);
      assert.ok(drop >= 0.8, `background high-frequency energy dropped by ${(100 * drop).toFixed(1)}%`);
      assert.ok(s >= 0.9, `person SSIM ${s}`);
    });

    await t.test('no halo: the weighted blur keeps the person colour out of the background (naive blur does not)', async () => {
      const colour = [40, 200, 70];
      const scene = createScene({ width: 1280, height: 720, person: 'astronaut', background: { color: colour } });
      const { width: w, height: h } = scene;
      const f = serveScene(serveFile, scene, 0, 'halo');
      const out = await renderInPage(page, {
        frameUrls: [f.frameUrl], maskUrl: f.maskUrl, width: w, height: h, background: { mode: 'blur', radius: 20 },
      });
      // The band just outside the silhouette: no person in the input pixel, within 16 px of it.
      const band = regions(scene.alpha, w, h).ring(1, 16);
      // The naive blur composited with the exact alpha (0 here): the blurred frame itself.
      const naive = gaussianBlur(f.frame, w, h, 20);
      const stats = (d) => ({ mean: d.reduce((p, q) => p + q, 0) / d.length, p99: quantile(d, 0.99), n: d.length });
      const a = stats(colourDistances(out, band, colour));
      const b = stats(colourDistances(naive, band, colour));
      console.log(`halo band (${a.n} px): ours mean ${a.mean.toFixed(2)} p99 ${a.p99.toFixed(2)}; naive blur mean ${b.mean.toFixed(2)} p99 ${b.p99.toFixed(2)} (RGB distance to the background colour)`);
      assert.ok(a.p99 <= 6, `99th percentile colour distance ${a.p99} in the band outside the person`);
      assert.ok(b.p99 > 3 * 6, `the naive blur should show a halo (p99 ${b.p99})`);
    });

    await t.test("'none' passes the frame through, and so does a null mask", async () => {
      const scene = createScene({ width: 640, height: 360, person: 'astronaut', background: 'gravel' });
      const f = serveScene(serveFile, scene, 0, 'none');
      const run = (background, withMask) => page.evaluate(async ({ frameUrl, maskUrl, background, withMask }) => {
        const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
        const renderer = createWebGLRenderer(__vme.options());
        renderer.setBackground(background);
        const bitmap = await __vme.bitmap(frameUrl, 640, 360);
        renderer.render(bitmap, withMask ? await __vme.mask(maskUrl) : null, 256, 144, 640, 360);
        const out = __vme.read(renderer);
        renderer.destroy();
        return out;
      }, { frameUrl: f.frameUrl, maskUrl: f.maskUrl, background, withMask });
      for (const [background, withMask] of [[{ mode: 'none' }, true], [{ mode: 'blur', radius: 10 }, false]]) {
        const out = decode(await run(background, withMask));
        let worst = 0;
        for (let i = 0; i < out.length; i++) if (i % 4 !== 3) worst = Math.max(worst, Math.abs(out[i] - f.frame[i]));
        assert.ok(worst <= 1, `${background.mode}${withMask ? '' : ' without mask'}: pixel off by ${worst}`);
      }
    });

    await t.test('virtual background: the cover-fitted image behind the person', async () => {
      const scene = createScene({ width: 640, height: 360, person: 'grace-hopper', background: 'brick' });
      const { width: w, height: h } = scene;
      const f = serveScene(serveFile, scene, 0, 'image');
      // A smooth square image (cover-fit crops its top and bottom), colour varying in x and y.
      const iw = 300;
      const ih = 300;
      const img = new Uint8ClampedArray(iw * ih * 4);
      for (let y = 0; y < ih; y++) {
        for (let x = 0; x < iw; x++) {
          const i = (y * iw + x) * 4;
          img[i] = 128 + 100 * Math.sin(x / 23);
          img[i + 1] = 60 + 0.6 * y;
          img[i + 2] = 128 + 90 * Math.cos((x + y) / 31);
          img[i + 3] = 255;
        }
      }
      const imageUrl = serveFile('background.rgba', Buffer.from(img.buffer));
      const out = await renderInPage(page, {
        frameUrls: [f.frameUrl], maskUrl: f.maskUrl, width: w, height: h, imageUrl, imageSize: [iw, ih],
      });
      // Expected: scale = max(640 / 300, 360 / 300), centred; bilinear (the image is smooth).
      const scale = Math.max(w / iw, h / ih);
      const expected = (x, y, c) => {
        const u = Math.min(iw - 1, Math.max(0, (x + 0.5 - w / 2) / scale + iw / 2 - 0.5));
        const v = Math.min(ih - 1, Math.max(0, (y + 0.5 - h / 2) / scale + ih / 2 - 0.5));
        const x0 = Math.floor(u), y0 = Math.floor(v), x1 = Math.min(iw - 1, x0 + 1), y1 = Math.min(ih - 1, y0 + 1);
        const p = (xx, yy) => img[(yy * iw + xx) * 4 + c];
        const top = p(x0, y0) + (u - x0) * (p(x1, y0) - p(x0, y0));
        const bottom = p(x0, y1) + (u - x0) * (p(x1, y1) - p(x0, y1));
        return top + (v - y0) * (bottom - top);
      };
      const { background } = regions(scene.alpha, w, h, 24);
      let diff = 0, frameDiff = 0, n = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          if (!background[i]) continue;
          for (let c = 0; c < 3; c++) {
            diff += Math.abs(out[4 * i + c] - expected(x, y, c));
            frameDiff += Math.abs(out[4 * i + c] - f.frame[4 * i + c]);
          }
          n += 3;
        }
      }
      const { person } = regions(scene.alpha, w, h, 4);
      const s = ssim(f.frame, out, w, h, person);
      console.log(`image mode: background mean abs diff to the cover-fitted image ${(diff / n).toFixed(2)} (to the camera background ${(frameDiff / n).toFixed(1)}), person SSIM ${s.toFixed(4)}`);
      assert.ok(diff / n < 1.5, `background differs from the cover-fitted image by ${diff / n} on average`);
      assert.ok(frameDiff / n > 20, 'the camera background should be gone');
      assert.ok(s >= 0.9, `person SSIM ${s}`);
    });

    await t.test('every GL object is created once and deleted by destroy()', async () => {
      const scene = createScene({ width: 640, height: 360, person: 'astronaut', background: 'grass' });
      const a = serveScene(serveFile, scene, 0, 'count');
      const b = serveScene(serveFile, createScene({ width: 480, height: 270, background: 'grass' }), 0, 'count-small');
      const counts = await page.evaluate(async ({ a, b }) => {
        const proto = WebGL2RenderingContext.prototype;
        const kinds = ['Texture', 'Framebuffer', 'Buffer', 'Program', 'Shader', 'VertexArray', 'Renderbuffer', 'Query', 'Sampler'];
        const live = {};
        const created = {};
        const saved = [];
        for (const k of kinds) {
          live[k] = 0;
          created[k] = 0;
          const create = proto[`create${k}`];
          const del = proto[`delete${k}`];
          saved.push([`create${k}`, create], [`delete${k}`, del]);
          proto[`create${k}`] = function (...args) { const r = create.apply(this, args); if (r) { live[k]++; created[k]++; } return r; };
          proto[`delete${k}`] = function (obj) { if (obj) live[k]--; return del.call(this, obj); };
        }
        try {
          const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
          const renderer = createWebGLRenderer(__vme.options());
          const afterCreate = { ...created };
          const frameA = await __vme.bitmap(a.frameUrl, 640, 360);
          const frameB = await __vme.bitmap(b.frameUrl, 480, 270);
          const maskA = await __vme.mask(a.maskUrl);
          const maskB = await __vme.mask(b.maskUrl);
          const image = await __vme.bitmap(a.frameUrl, 640, 360);
          renderer.setBackground({ mode: 'blur', radius: 20 });
          for (let i = 0; i < 3; i++) renderer.render(frameA, maskA, 256, 144, 640, 360);
          renderer.setBackground({ mode: 'image', image });
          renderer.render(frameA, maskA, 256, 144, 640, 360);
          renderer.render(frameB, maskB, 256, 144, 480, 270); // size change
          renderer.setBackground({ mode: 'blur', radius: 10 });
          renderer.render(frameB, maskB, 256, 144, 480, 270);
          renderer.setBackground({ mode: 'none' });
          renderer.render(frameB, maskB, 256, 144, 480, 270);
          const afterFrames = { ...created };
          const gl = renderer.canvas.getContext('webgl2');
          const glError = gl.getError();
          renderer.destroy();
          return { afterCreate, afterFrames, live: { ...live }, contextLost: gl.isContextLost(), ownCanvas: __vme.offscreen, glError };
        } finally {
          for (const [name, fn] of saved) proto[name] = fn;
        }
      }, { a: { frameUrl: a.frameUrl, maskUrl: a.maskUrl }, b: { frameUrl: b.frameUrl, maskUrl: b.maskUrl } });
      console.log(`GL objects created by the constructor: ${JSON.stringify(counts.afterCreate)}; live after destroy: ${JSON.stringify(counts.live)}`);
      assert.equal(counts.glError, 0, 'no GL error through blur, image, none and a size change');
      assert.deepEqual(counts.afterFrames, counts.afterCreate, 'rendering, size and background changes create no GL object');
      assert.ok(counts.afterCreate.Texture > 0 && counts.afterCreate.Program > 0 && counts.afterCreate.Framebuffer > 0);
      for (const [kind, n] of Object.entries(counts.live)) assert.equal(n, 0, `${kind}: ${n} not deleted`);
      // A canvas handed in stays the caller's (its context is not lost by destroy()).
      assert.equal(counts.contextLost, counts.ownCanvas, 'the renderer lost the context of the canvas it created, only that one');
    });

    await t.test('context loss then restore: lost is reported, then the same picture again', async () => {
      const scene = createScene({ width: 640, height: 360, person: 'grace-hopper', background: 'brick' });
      const f = serveScene(serveFile, scene, 0, 'loss');
      const result = await page.evaluate(async ({ frameUrl, maskUrl }) => {
        const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
        const renderer = createWebGLRenderer(__vme.options());
        const gl = renderer.canvas.getContext('webgl2');
        const ext = gl.getExtension('WEBGL_lose_context');
        const bitmap = await __vme.bitmap(frameUrl, 640, 360);
        const mask = await __vme.mask(maskUrl);
        renderer.setBackground({ mode: 'blur', radius: 20 });
        renderer.render(bitmap, mask, 256, 144, 640, 360);
        const before = __vme.read(renderer);
        // Each event, then a task later: Chromium allows restoreContext() only once the
        // dispatch of the lost event (whose default the renderer prevents) has finished.
        const event = (name) => Promise.race([
          new Promise((resolve) => renderer.canvas.addEventListener(name, () => setTimeout(resolve, 0), { once: true })),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${name} event within 10 s`)), 10000)),
        ]);
        const lostEvent = event('webglcontextlost');
        ext.loseContext();
        renderer.render(bitmap, mask, 256, 144, 640, 360); // draws nothing, does not throw
        const lostRightAway = renderer.lost;
        await lostEvent;
        const restored = event('webglcontextrestored');
        ext.restoreContext();
        await restored;
        const lostAfterRestore = renderer.lost;
        renderer.render(bitmap, mask, 256, 144, 640, 360);
        const after = __vme.read(renderer);
        renderer.destroy();
        return { before, after, lostRightAway, lostAfterRestore };
      }, { frameUrl: f.frameUrl, maskUrl: f.maskUrl });
      assert.equal(result.lostRightAway, true);
      assert.equal(result.lostAfterRestore, false);
      const before = decode(result.before);
      const after = decode(result.after);
      let worst = 0;
      let frameDiff = 0;
      for (let i = 0; i < before.length; i++) {
        worst = Math.max(worst, Math.abs(before[i] - after[i]));
        frameDiff += Math.abs(after[i] - f.frame[i]);
      }
      console.log(`context restored: max difference to the picture before the loss ${worst}`);
      assert.ok(worst <= 1, `after restore the picture differs by up to ${worst}`);
      assert.ok(frameDiff / before.length > 2, 'the restored renderer blurs (not a pass-through)');
    });

    await t.test('bad settings and inputs get clear errors', async () => {
      const errors = await page.evaluate(async () => {
        const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
        const renderer = createWebGLRenderer(__vme.options());
        const bitmap = await createImageBitmap(new ImageData(64, 36));
        const attempt = (fn) => { try { fn(); return null; } catch (e) { return `${e.name}: ${e.message}`; } };
        const out = {
          radius0: attempt(() => renderer.setBackground({ mode: 'blur', radius: 0 })),
          radiusNaN: attempt(() => renderer.setBackground({ mode: 'blur', radius: NaN })),
          mode: attempt(() => renderer.setBackground({ mode: 'sepia' })),
          noImage: attempt(() => renderer.setBackground({ mode: 'image' })),
        };
        renderer.setBackground({ mode: 'blur', radius: 10 });
        out.maskTooLarge = attempt(() => renderer.render(bitmap, new Float32Array(128 * 72), 128, 72, 64, 36));
        out.maskShort = attempt(() => renderer.render(bitmap, new Float32Array(10), 32, 18, 64, 36));
        out.maskType = attempt(() => renderer.render(bitmap, [0.5], 1, 1, 64, 36));
        out.sizeMismatch = attempt(() => renderer.render(bitmap, new Float32Array(32 * 18), 32, 18, 640, 360));
        out.fine = attempt(() => renderer.render(bitmap, new Float32Array(32 * 18), 32, 18, 64, 36));
        renderer.destroy();
        out.afterDestroy = attempt(() => renderer.render(bitmap, new Float32Array(32 * 18), 32, 18, 64, 36));
        // No WebGL2 at all; WebGL2 without float render targets.
        const canvases = [OffscreenCanvas.prototype, HTMLCanvasElement.prototype];
        const getContexts = canvases.map((p) => p.getContext);
        canvases.forEach((p, i) => { p.getContext = function (kind, ...rest) { return kind === 'webgl2' ? null : getContexts[i].call(this, kind, ...rest); }; });
        out.noWebGL2 = attempt(() => createWebGLRenderer(__vme.options()));
        canvases.forEach((p, i) => { p.getContext = getContexts[i]; });
        const proto = WebGL2RenderingContext.prototype;
        const getExtension = proto.getExtension;
        proto.getExtension = function (name) { return /^EXT_color_buffer_(half_)?float$/.test(name) ? null : getExtension.call(this, name); };
        out.noFloatTargets = attempt(() => createWebGLRenderer(__vme.options()));
        proto.getExtension = getExtension;
        return out;
      });
      assert.match(errors.radius0, /RangeError: .*radius 0/);
      assert.match(errors.radiusNaN, /RangeError: .*radius NaN/);
      assert.match(errors.mode, /TypeError: .*mode/);
      assert.match(errors.noImage, /TypeError: .*image/);
      assert.match(errors.maskTooLarge, /RangeError: .*mask 128x72 is larger than the frame 64x36/);
      assert.match(errors.maskShort, /RangeError: .*10 values, 576 needed/);
      assert.match(errors.maskType, /TypeError: .*Float32Array/);
      assert.match(errors.sizeMismatch, /RangeError: .*64x36.*640x360/);
      assert.equal(errors.fine, null);
      assert.match(errors.afterDestroy, /after destroy/);
      assert.match(errors.noWebGL2, /Error: .*WebGL2 is unavailable/);
      assert.match(errors.noFloatTargets, /Error: .*EXT_color_buffer_float or EXT_color_buffer_half_float/);
    });

    const masked = engine.driver === 'webkit'
      && "WebKit names every GPU \"Apple GPU\" (llvmpipe here): requireHardware cannot tell by name; 'auto' times the renderers instead (video-renderer-choice)";
    await t.test('requireHardware refuses a software rasteriser', { skip: masked }, async () => {
      const r = await page.evaluate(async () => {
        const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
        const probe = new OffscreenCanvas(1, 1).getContext('webgl2');
        const info = probe.getExtension('WEBGL_debug_renderer_info');
        const name = probe.getParameter(info.UNMASKED_RENDERER_WEBGL);
        probe.getExtension('WEBGL_lose_context').loseContext();
        try {
          createWebGLRenderer({ requireHardware: true }).destroy();
          return { name, error: null };
        } catch (error) {
          return { name, error: error.message };
        }
      });
      if (/swiftshader|llvmpipe/i.test(r.name)) assert.match(r.error ?? '', /software/, `renderer ${r.name}`);
      else assert.equal(r.error, null, `renderer ${r.name}`);
    });

    await t.test('same picture as the CPU renderer (CpuCompositor) on the same inputs', async (t2) => {
      const { existsSync } = await import('node:fs');
      if (!existsSync(new URL('../../pkg/visio_media_effects.js', import.meta.url))) {
        t2.skip('pkg/ not built');
        return;
      }
      const iw = 400, ih = 500;
      const img = new Uint8ClampedArray(iw * ih * 4);
      for (let i = 0; i < iw * ih; i++) {
        const x = i % iw, y = Math.floor(i / iw);
        img.set([120 + 90 * Math.sin(x / 17), 40 + 0.4 * y, 128 + 80 * Math.cos((x - y) / 29), 255], 4 * i);
      }
      const imageUrl = serveFile('parity-image.rgba', Buffer.from(img.buffer));
      // Two frames per case; the second mask differs (a segmenter's flicker) so that the
      // temporal smoothing is compared too. 854x480: f = 3 with partial blocks, and radius 40
      // takes a blur grid of g = 2 (also with partial blocks).
      const inputs = {};
      for (const [w, h] of [[1280, 720], [854, 480]]) {
        const scene = createScene({ width: w, height: h, person: 'astronaut', background: 'brick' });
        const frames = [0, 1].map((n) => serveScene(serveFile, scene, n, `parity-${w}`));
        const flicker = Float32Array.from(frames[0].mask, (m, i) => Math.min(1, Math.max(0, m + 0.15 * Math.sin(i * 0.7))));
        inputs[w] = {
          w, h, frameUrls: frames.map((f) => f.frameUrl),
          maskUrls: [frames[0].maskUrl, serveFile(`parity-${w}-flicker.f32`, Buffer.from(flicker.buffer))],
        };
      }
      const cases = [
        { name: 'blur 10', ...inputs[1280], radius: 10 },
        { name: 'blur 20', ...inputs[1280], radius: 20 },
        { name: 'image', ...inputs[1280], image: true },
        { name: 'blur 20, 16-bit float targets', ...inputs[1280], radius: 20, halfFloat: true },
        { name: 'blur 40', ...inputs[854], radius: 40 },
        { name: 'image', ...inputs[854], image: true },
      ];
      const result = await page.evaluate(async ({ cases, imageUrl, iw, ih }) => {
        const glue = await import('/pkg/visio_media_effects.js');
        const { memory } = await glue.default();
        const { createWebGLRenderer } = await import('/pkg/video/renderer-webgl.js');
        const input = new glue.FrameInput();
        const out = [];
        const image = await __vme.bitmap(imageUrl, iw, ih);
        const imageBytes = await __vme.bytes(imageUrl);
        const proto = WebGL2RenderingContext.prototype;
        const getExtension = proto.getExtension;
        for (const c of cases) {
          const { w, h } = c;
          // The weak-GPU path: no 32-bit float render targets, 16-bit ones instead (where the
          // engine has them in WebGL2: Firefox does not).
          if (c.halfFloat) {
            const probe = document.createElement('canvas').getContext('webgl2');
            const has = probe.getSupportedExtensions().includes('EXT_color_buffer_half_float');
            probe.getExtension('WEBGL_lose_context')?.loseContext();
            if (!has) { out.push({ skipped: 'this WebGL2 has no EXT_color_buffer_half_float' }); continue; }
            proto.getExtension = function (name) { return name === 'EXT_color_buffer_float' ? null : getExtension.call(this, name); };
          }
          let gl;
          try {
            gl = createWebGLRenderer(__vme.options());
          } finally {
            proto.getExtension = getExtension;
          }
          const cpu = new glue.CpuCompositor(w, h, 256, 144);
          if (c.image) {
            gl.setBackground({ mode: 'image', image });
            cpu.setImage(imageBytes, iw, ih);
          } else {
            gl.setBackground({ mode: 'blur', radius: c.radius });
            cpu.setBlur(c.radius);
          }
          for (let i = 0; i < c.frameUrls.length; i++) {
            const bytes = await __vme.bytes(c.frameUrls[i]);
            const mask = await __vme.mask(c.maskUrls[i]);
            const bitmap = await __vme.bitmap(c.frameUrls[i], w, h);
            gl.render(bitmap, mask, 256, 144, w, h);
            bitmap.close();
            input.reserve(bytes.length); // the one way a frame enters the wasm (frame.rs)
            new Uint8Array(memory.buffer, input.framePtr(), bytes.length).set(bytes);
            input.describe('RGBA', w, h, Uint32Array.of(0, 4 * w), '', true);
            new Float32Array(memory.buffer, cpu.maskPtr(), mask.length).set(mask);
            cpu.render(input, 256, 144);
          }
          out.push({ gl: __vme.read(gl), cpu: __vme.base64(new Uint8Array(memory.buffer, cpu.outputPtr(), w * h * 4)) });
          gl.destroy();
          cpu.free();
        }
        input.free();
        return out;
      }, { cases, imageUrl, iw, ih });
      cases.forEach((c, k) => {
        if (result[k].skipped) {
          console.log(`WebGL vs CPU, ${c.name}: not run (${result[k].skipped})`);
          assert.notEqual(engine.name, 'chromium', 'Chromium has 16-bit float render targets');
          return;
        }
        const a = decode(result[k].gl);
        const b = decode(result[k].cpu);
        let sum = 0, n = 0, worst = 0;
        const hist = new Uint32Array(256);
        for (let i = 0; i < a.length; i++) {
          if (i % 4 === 3) continue;
          const d = Math.abs(a[i] - b[i]);
          sum += d; n++; worst = Math.max(worst, d); hist[d]++;
        }
        let acc = 0, p999 = 0;
        for (let d = 0; d < 256; d++) { acc += hist[d]; if (acc >= 0.999 * n) { p999 = d; break; } }
        const label = `${c.name}, ${c.w}x${c.h}`;
        console.log(`WebGL vs CPU, ${label}: mean abs difference ${(sum / n).toFixed(4)}/255, 99.9th percentile ${p999}, max ${worst}`);
        assert.ok(sum / n < (c.halfFloat ? 1 : 0.1), `${label}: mean abs difference ${sum / n}/255`);
        assert.ok(p999 <= (c.halfFloat ? 8 : 1), `${label}: 99.9th percentile difference ${p999}/255`);
      });
    });
  });
}));
