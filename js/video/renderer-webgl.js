// The WebGL2 background renderer: the passes of the CPU renderer (src/video/mod.rs, refine.rs,
// blur.rs, compositor.rs) in GLSL ES 3.00 (shaders.js), behind the Renderer interface of
// renderer.js. Grids, as on the CPU:
//   F  the frame, W x H;
//   L  the working grid, pixels of f x f frame pixels, f = max(1, round(min(W, H) / 180))
//      (1280x720: f = 4, L = 320x180), last block partial;
//   B  the blur grid, pixels of g x g L pixels, g in 1, 2, 4, 8 (Gaussian of 2-4 B pixels).
// Per frame (blur mode; image mode differs in 4 and 5):
//   0  upload: a frame the pipeline copied into wasm memory in its own pixel format
//      (FrameInput) goes up as its planes (R8 Y, U, V; RG8 UV for NV12; RGBA8 bytes) and a
//      conversion pass writes the RGBA8 frame texture with the CPU's YUV matrices (an RGBA
//      copy is uploaded as is); any other source is texSubImage2D'd (no CPU readback); the
//      mask goes into an R32F texture;
//   1  temporal (mask grid, ping-pong state): k = 0.25 + 0.75 smoothstep(0.1, 0.5, |new -
//      prev|), m = prev + k (new - prev); the first mask after resetTemporal, a mask-size
//      change or leaving 'none' is taken as is;
//   2  downsample F -> L: block average (rgbL, 0..1) + the smoothed mask bilinear (p);
//   3  colour guided filter on L, radius 2, EPS 1e-3: box means of the 13 products
//      (horizontal pass, 4 render targets; vertical pass + 3x3 solve -> a, b), box of (a, b)
//      twice, folded stretch (q - 0.25) / 0.5 -> coefficients A, B; alphaL = clamp(A.rgbL + B);
//   4  blur: w = 1 - max3x3(alphaL) + 0.001 on L, block average of (rgbL w, w) into B,
//      separable Gaussian sB (taps exp(-i^2 / 2 sB^2), |i| <= max(1, ceil(3 sB)),
//      normalised, clamped), bg = acc.rgb / acc.w;
//      image: wrap = Gaussian of the block average of 1 - alphaL on B (sigma 6 at 720p);
//   5  composite on F (the only full-resolution pass): alpha = clamp(A'.rgb + B') with A', B'
//      bilinear from L, the pixel's own colour; blur: bg' + alpha (frame - bg'); image:
//      lw = 0.2 alpha wrap', person = frame + lw (imgBlur' - frame), img + alpha (person - img).
// Radius r: a Gaussian of r * min(W, H) / 720 frame pixels (r pixels at 720p), sL = that / f,
// g = largest of 1, 2, 4, 8 with sL / g >= 2, sB = sL / g. Image mode cover-fits the image to
// F once (uN x uN supersampled bilinear, n = ceil(1 / scale)) and blurs it once at B
// (block means to L then to B, Gaussian of the wrap's sigma).
//
// Every GL object is created when the context is (and again after a restore); a size change
// only re-specifies texture storage. Resampling is explicit (texelFetch), so float textures
// need only be renderable: RGBA32F/R32F with EXT_color_buffer_float, else RGBA16F/R16F with
// EXT_color_buffer_half_float; only the full-resolution composite lets the texture unit
// interpolate when the format is filterable (OES_texture_float_linear for 32-bit floats).
// Measured against the CPU renderer (tests/browser/renderer-webgl.test.mjs): at most 1/255 apart.
import * as glsl from './shaders.js';
import { PREFIX } from '../checks.js';
import { FrameInput } from './frame-input.js';

/** Working-grid rows along the short side; the short side the blur radius refers to. */
const WORKING_ROWS = 180;
const REFERENCE_SIDE = 720;
const MAX_RADIUS = 100;
/** Guided filter (refine.rs): window radius (L pixels), regulariser, contrast stretch. */
const GUIDED_RADIUS = 2;
const GUIDED_EPS = 1e-3;
const STRETCH_LOW = 0.25;
const STRETCH_HIGH = 0.75;
/** blur.rs: weight floor; compositor.rs: light wrap reach (720p pixels) and strength. */
const WEIGHT_FLOOR = 1e-3;
const WRAP_SIGMA = 6;
const WRAP_STRENGTH = 0.2;

const f32 = Math.fround;

/**
 * @param {{ canvas?: HTMLCanvasElement | OffscreenCanvas, requireHardware?: boolean }} [options]
 *   `requireHardware`: refuse a software rasteriser (failIfMajorPerformanceCaveat, and the
 *   renderer's name: SwiftShader, llvmpipe...), where the CPU renderer is several times faster
 *   (1280x720 here: CPU ~12 ms, WebGL2 on SwiftShader ~75-185 ms per frame).
 * @returns {import('./renderer.js').Renderer}
 */
export function createWebGLRenderer({ canvas, requireHardware = false } = {}) {
  return new WebGLRenderer(canvas, requireHardware);
}

/** The blur grid for a Gaussian of `sigmaL` working-grid pixels (blur.rs grid_for). */
function gridFor(sigmaL) {
  let g = 1;
  while (g < 8 && f32(sigmaL / (2 * g)) >= 2) g *= 2;
  return [g, f32(sigmaL / g)];
}

/** Half of a normalised Gaussian kernel (taps 0..r), r = max(1, ceil(3 sigma)). */
function gaussianKernel(sigma) {
  const r = Math.max(1, Math.ceil(f32(3 * sigma)));
  if (r > glsl.MAX_KERNEL_RADIUS) throw new RangeError(`${PREFIX}: Gaussian of ${sigma} pixels is too wide`);
  const k = new Float32Array(glsl.MAX_KERNEL_RADIUS + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i <= r; i++) k[i] = Math.exp(-(i * i) / (2 * sigma * sigma)) / sum;
  return { radius: r, taps: k };
}

function sourceSize(source) {
  if (typeof VideoFrame === 'function' && source instanceof VideoFrame) return [source.displayWidth, source.displayHeight];
  if (typeof HTMLVideoElement === 'function' && source instanceof HTMLVideoElement) return [source.videoWidth, source.videoHeight];
  return [source.width, source.height];
}

class WebGLRenderer {
  kind = 'webgl2';
  lost = false;
  #gl;
  #ownsCanvas;
  #destroyed = false;
  #formats; // { rgba, r, linear }: the renderable float formats, filterable or not
  #o = null; // every GL object of the current context (see #createObjects)
  #background = { mode: 'none' };
  #image = null; // the ImageBitmap of image mode, kept to re-fit after a size change or restore
  #imageReady = false;
  #primed = false;
  #stateIndex = 0;
  #frameSize = [0, 0];
  #maskSize = [0, 0];
  #grid = null; // { f, lw, lh, g, bw, bh, kernel } for the current frame size and background
  #onLost;
  #onRestored;
  #pixel = new Uint8Array(4);

  constructor(canvas, requireHardware) {
    this.#ownsCanvas = !canvas;
    this.canvas = canvas ?? (typeof OffscreenCanvas === 'function'
      ? new OffscreenCanvas(1, 1)
      : Object.assign(document.createElement('canvas'), { width: 1, height: 1 }));
    const gl = this.canvas.getContext('webgl2', {
      alpha: false,
      antialias: false,
      depth: false,
      stencil: false,
      premultipliedAlpha: false,
      // The pipeline wraps the canvas in a VideoFrame right after render(); keeping the
      // buffer also lets anything else read it later in the frame.
      preserveDrawingBuffer: true,
      failIfMajorPerformanceCaveat: requireHardware,
    });
    if (!gl) throw new Error(`${PREFIX}: WebGL2 is unavailable${requireHardware ? ' (or only in software)' : ''}`);
    if (requireHardware) {
      // failIfMajorPerformanceCaveat does not refuse every software rasteriser (headless
      // Chromium hands out SwiftShader regardless): check the renderer's name too.
      const name = softwareRenderer(gl);
      if (name) {
        if (!canvas) gl.getExtension('WEBGL_lose_context')?.loseContext();
        throw new Error(`${PREFIX}: WebGL2 runs in software here (${name}); the CPU renderer is faster`);
      }
    }
    this.#gl = gl;
    try {
      this.#formats = pickFormats(gl);
      this.#createObjects();
    } catch (error) {
      if (!canvas) gl.getExtension('WEBGL_lose_context')?.loseContext(); // free it now
      throw error;
    }
    this.#onLost = (event) => {
      event.preventDefault(); // allows the browser to restore the context
      this.lost = true;
      this.#o = null; // the objects died with the context
    };
    this.#onRestored = () => {
      if (this.#destroyed) return;
      try {
        this.#formats = pickFormats(gl);
        this.#createObjects();
        this.lost = false;
      } catch {
        this.lost = true; // stays on the CPU renderer
      }
    };
    this.canvas.addEventListener('webglcontextlost', this.#onLost);
    this.canvas.addEventListener('webglcontextrestored', this.#onRestored);
  }

  setBackground(setting) {
    const mode = setting?.mode;
    if (mode === 'blur') {
      const r = setting.radius;
      if (!(typeof r === 'number' && r > 0 && r <= MAX_RADIUS)) {
        throw new RangeError(`${PREFIX}: blur radius ${r} is outside (0, ${MAX_RADIUS}]`);
      }
    } else if (mode === 'image') {
      const { image } = setting;
      if (!image || !(image.width >= 1 && image.height >= 1)) {
        throw new TypeError(`${PREFIX}: background image must be an ImageBitmap with a size`);
      }
    } else if (mode !== 'none') {
      throw new TypeError(`${PREFIX}: background mode must be 'none', 'blur' or 'image'`);
    }
    // As the CPU compositor: a mask history is not carried over from 'none'.
    if (this.#background.mode === 'none') this.#primed = false;
    this.#background = mode === 'blur' ? { mode, radius: setting.radius } : { mode };
    this.#image = mode === 'image' ? setting.image : null;
    this.#imageReady = false;
    this.#grid = null;
  }

  resetTemporal() {
    this.#primed = false;
  }

  render(source, mask, maskWidth, maskHeight, width, height) {
    if (this.#destroyed) throw new Error(`${PREFIX}: render() after destroy()`);
    const gl = this.#gl;
    if (this.lost || !this.#o || gl.isContextLost()) {
      this.lost = true; // the event may not have been dispatched yet
      return;
    }
    if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1)) {
      throw new RangeError(`${PREFIX}: frame size ${width}x${height} is invalid`);
    }
    const input = source instanceof FrameInput ? source : null;
    const [sw, sh] = input ? [input.width, input.height] : sourceSize(source);
    if (sw !== width || sh !== height) {
      throw new RangeError(`${PREFIX}: the source is ${sw}x${sh}, render() was told ${width}x${height}`);
    }
    const effect = mask ? this.#background.mode : 'none';
    if (mask) validateMask(mask, maskWidth, maskHeight, width, height);

    this.#sizeFrame(width, height);
    const o = this.#o;
    gl.bindVertexArray(o.vao);
    if (input && (input.kind === 'planes' || input.kind === 'rgba')) {
      this.#uploadPlanes(input);
    } else {
      gl.bindTexture(gl.TEXTURE_2D, o.tex.frame);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, gl.RGBA, gl.UNSIGNED_BYTE, input ? input.source : source);
    }

    if (effect === 'none') {
      this.#composite(0);
      return;
    }
    this.#sizeMask(maskWidth, maskHeight);
    this.#sizeEffect();
    const grid = this.#grid;
    gl.bindTexture(gl.TEXTURE_2D, o.tex.mask);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, maskWidth, maskHeight, gl.RED, gl.FLOAT,
      mask.length === maskWidth * maskHeight ? mask : mask.subarray(0, maskWidth * maskHeight));

    // 1. Temporal smoothing into the other state texture.
    const prev = this.#stateIndex;
    const next = 1 - prev;
    this.#pass(o.prog.temporal, o.fbo.state[next], maskWidth, maskHeight,
      { uMask: o.tex.mask, uPrev: o.tex.state[prev] }, { uPrimed: ['1i', this.#primed ? 1 : 0] });
    this.#stateIndex = next;
    this.#primed = true;

    // 2-3. Working grid, guided filter.
    const { lw, lh, f } = grid;
    this.#pass(o.prog.downsample, o.fbo.guide, lw, lh, { uImage: o.tex.frame, uState: o.tex.state[next] }, {
      uFactor: ['1i', f], uWithMask: ['1i', 1], uMaskScale: ['2f', maskWidth / lw, maskHeight / lh],
    });
    this.#pass(o.prog.boxProducts, o.fbo.products, lw, lh, { uGuide: o.tex.guide }, { uRadius: ['1i', GUIDED_RADIUS] });
    this.#pass(o.prog.boxSolve, o.fbo.ab, lw, lh,
      { uM0: o.tex.products[0], uM1: o.tex.products[1], uM2: o.tex.products[2], uM3: o.tex.products[3] },
      { uRadius: ['1i', GUIDED_RADIUS], uEps: ['1f', GUIDED_EPS] });
    this.#pass(o.prog.box, o.fbo.abTmp, lw, lh, { uSource: o.tex.ab },
      { uDir: ['2i', 1, 0], uRadius: ['1i', GUIDED_RADIUS], uStretch: ['1i', 0], uLowHigh: ['2f', STRETCH_LOW, STRETCH_HIGH] });
    this.#pass(o.prog.box, o.fbo.coeffs, lw, lh, { uSource: o.tex.abTmp },
      { uDir: ['2i', 0, 1], uRadius: ['1i', GUIDED_RADIUS], uStretch: ['1i', 1], uLowHigh: ['2f', STRETCH_LOW, STRETCH_HIGH] });
    this.#pass(o.prog.alpha, o.fbo.alpha, lw, lh, { uCoeffs: o.tex.coeffs, uGuide: o.tex.guide }, {});

    // 4. The blurred background (blur) or the light wrap's background share (image), on B.
    const wrap = effect === 'image';
    if (wrap && !this.#imageReady) this.#fitImage();
    const { g, bw, bh, kernel } = grid;
    this.#pass(o.prog.blurDown, o.fbo.bAcc, bw, bh, { uAlpha: o.tex.alpha, uGuide: o.tex.guide },
      { uG: ['1i', g], uWrap: ['1i', wrap ? 1 : 0], uFloor: ['1f', WEIGHT_FLOOR] });
    this.#gauss(o.tex.bAcc, o.fbo.bTmp, o.tex.bTmp, o.fbo.bOut, bw, bh, kernel, !wrap);

    // 5. Composite on the canvas.
    this.#composite(wrap ? 2 : 1);
  }

  /** Waits until the GPU has drawn everything issued (a 1-pixel read): for timing. */
  finish() {
    const gl = this.#gl;
    if (this.lost || gl.isContextLost()) return;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, this.#pixel);
  }

  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.canvas.removeEventListener('webglcontextlost', this.#onLost);
    this.canvas.removeEventListener('webglcontextrestored', this.#onRestored);
    const gl = this.#gl;
    if (this.#o && !gl.isContextLost()) deleteObjects(gl, this.#o);
    this.#o = null;
    this.#image = null;
    if (this.#ownsCanvas && !gl.isContextLost()) gl.getExtension('WEBGL_lose_context')?.loseContext();
  }

  /**
   * The frame in wasm memory into the frame texture: RGBA/RGBX bytes directly, other formats
   * as planes and the conversion pass (shaders.js CONVERT).
   */
  #uploadPlanes(input) {
    const gl = this.#gl;
    const o = this.#o;
    const { width: w, height: h, format, layout } = input;
    const views = input.planes();
    const cw = Math.ceil(w / 2);
    const ch = Math.ceil(h / 2);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    const upload = (texture, internal, fmt, bytes, pw, ph, p) => {
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.pixelStorei(gl.UNPACK_ROW_LENGTH, layout[p].stride / bytes);
      const key = `${internal}:${pw}x${ph}`;
      if (o.sized.planes.get(texture) === key) {
        gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, pw, ph, fmt, gl.UNSIGNED_BYTE, views[p]);
      } else {
        gl.texImage2D(gl.TEXTURE_2D, 0, internal, pw, ph, 0, fmt, gl.UNSIGNED_BYTE, views[p]);
        o.sized.planes.set(texture, key);
      }
    };
    let mode;
    if (format === 'RGBA' || format === 'RGBX') {
      gl.bindTexture(gl.TEXTURE_2D, o.tex.frame);
      gl.pixelStorei(gl.UNPACK_ROW_LENGTH, layout[0].stride / 4);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, views[0]);
    } else if (format === 'BGRA' || format === 'BGRX') {
      upload(o.tex.planeY, gl.RGBA8, gl.RGBA, 4, w, h, 0);
      mode = 2;
    } else {
      upload(o.tex.planeY, gl.R8, gl.RED, 1, w, h, 0);
      if (format === 'NV12') {
        upload(o.tex.planeU, gl.RG8, gl.RG, 2, cw, ch, 1);
        mode = 1;
      } else {
        upload(o.tex.planeU, gl.R8, gl.RED, 1, cw, ch, 1);
        upload(o.tex.planeV, gl.R8, gl.RED, 1, cw, ch, 2);
        mode = 0;
      }
    }
    gl.pixelStorei(gl.UNPACK_ROW_LENGTH, 0);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 4);
    if (mode === undefined) return;
    this.#pass(o.prog.convert, o.fbo.frame, w, h, { uY: o.tex.planeY, uU: o.tex.planeU, uV: o.tex.planeV },
      { uLayout: ['1i', mode], uK: ['1fv', input.inner.coefficients()] });
  }

  /** Separable Gaussian: source -> (H) tmp -> (V) out, optionally normalised by alpha. */
  #gauss(sourceTex, tmpFbo, tmpTex, outFbo, w, h, kernel, normalise) {
    const o = this.#o;
    const common = { uRadius: ['1i', kernel.radius], uKernel: ['1fv', kernel.taps] };
    this.#pass(o.prog.gauss, tmpFbo, w, h, { uSource: sourceTex }, { ...common, uDir: ['2i', 1, 0], uNormalise: ['1i', 0] });
    this.#pass(o.prog.gauss, outFbo, w, h, { uSource: tmpTex }, { ...common, uDir: ['2i', 0, 1], uNormalise: ['1i', normalise ? 1 : 0] });
  }

  #composite(mode) {
    const o = this.#o;
    const [w, h] = this.#frameSize;
    const grid = this.#grid;
    this.#pass(o.prog.composite, null, w, h, {
      uFrame: o.tex.frame, uCoeffs: o.tex.coeffs, uBackground: o.tex.bOut, uImage: o.tex.fitted, uImageBlur: o.tex.imageBlur,
    }, {
      uMode: ['1i', mode],
      uHeight: ['1f', h],
      uInvF: ['1f', grid ? 1 / grid.f : 1],
      uInvFG: ['1f', grid ? 1 / (grid.f * grid.g) : 1],
      uWrapStrength: ['1f', WRAP_STRENGTH],
    });
  }

  /** Cover-fits the image to the frame and blurs it at the blur grid, once. */
  #fitImage() {
    const gl = this.#gl;
    const o = this.#o;
    const [w, h] = this.#frameSize;
    const image = this.#image;
    gl.bindTexture(gl.TEXTURE_2D, o.tex.image);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, image);
    const scale = Math.max(w / image.width, h / image.height);
    const n = Math.min(8, Math.max(1, Math.ceil(1 / scale)));
    this.#pass(o.prog.coverFit, o.fbo.fitted, w, h, { uSource: o.tex.image },
      { uScale: ['1f', scale], uN: ['1i', n], uFrameSize: ['2f', w, h] });
    // Frame -> working grid -> blur grid, block means as for the frame itself (abTmp is
    // free once the coefficients are made).
    const { f, lw, lh, g, bw, bh, kernel } = this.#grid;
    const noMask = { uWithMask: ['1i', 0], uMaskScale: ['2f', 1, 1] };
    this.#pass(o.prog.downsample, o.fbo.abTmp, lw, lh, { uImage: o.tex.fitted, uState: o.tex.state[0] }, { uFactor: ['1i', f], ...noMask });
    this.#pass(o.prog.downsample, o.fbo.bAcc, bw, bh, { uImage: o.tex.abTmp, uState: o.tex.state[0] }, { uFactor: ['1i', g], ...noMask });
    this.#gauss(o.tex.bAcc, o.fbo.bTmp, o.tex.bTmp, o.fbo.imageBlur, bw, bh, kernel, false);
    // The source pixels are no longer needed on the GPU.
    gl.bindTexture(gl.TEXTURE_2D, o.tex.image);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 1, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    this.#imageReady = true;
  }

  /** Draws one pass: binds the program, textures (units in order) and uniforms. */
  #pass(program, fbo, w, h, textures, uniforms) {
    const gl = this.#gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
    gl.viewport(0, 0, w, h);
    gl.useProgram(program.program);
    let unit = 0;
    for (const [name, tex] of Object.entries(textures)) {
      const loc = program.uniforms.get(name);
      if (loc === undefined) continue; // optimised out of this shader
      gl.activeTexture(gl.TEXTURE0 + unit);
      gl.bindTexture(gl.TEXTURE_2D, tex);
      gl.uniform1i(loc, unit);
      unit++;
    }
    for (const [name, [kind, ...values]] of Object.entries(uniforms)) {
      const loc = program.uniforms.get(name);
      if (loc === undefined) continue;
      if (kind === '1fv') gl.uniform1fv(loc, values[0]);
      else gl[`uniform${kind}`](loc, ...values);
    }
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }

  #sizeFrame(width, height) {
    if (this.#frameSize[0] === width && this.#frameSize[1] === height && this.#o.sized.frame) return;
    const gl = this.#gl;
    const o = this.#o;
    const max = gl.getParameter(gl.MAX_TEXTURE_SIZE);
    if (width > max || height > max) throw new RangeError(`${PREFIX}: frame ${width}x${height} exceeds this GPU's ${max}-pixel textures`);
    this.#frameSize = [width, height];
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    storage(gl, o.tex.frame, gl.RGBA8, width, height);
    const f = Math.max(1, Math.round(Math.min(width, height) / WORKING_ROWS));
    const lw = Math.ceil(width / f);
    const lh = Math.ceil(height / f);
    const { rgba, r } = this.#formats;
    for (const t of [o.tex.guide, ...o.tex.products, o.tex.ab, o.tex.abTmp, o.tex.coeffs]) storage(gl, t, rgba, lw, lh);
    storage(gl, o.tex.alpha, r, lw, lh);
    o.sized.frame = { f, lw, lh };
    o.sized.fittedSize = null;
    this.#grid = null;
    this.#imageReady = false;
  }

  #sizeMask(mw, mh) {
    const o = this.#o;
    if (this.#maskSize[0] === mw && this.#maskSize[1] === mh && o.sized.mask) return;
    const gl = this.#gl;
    this.#maskSize = [mw, mh];
    storage(gl, o.tex.mask, gl.R32F, mw, mh);
    for (const t of o.tex.state) storage(gl, t, this.#formats.r, mw, mh);
    o.sized.mask = true;
    this.#primed = false;
  }

  /** The blur grid and kernel for the background and frame size; sizes the B textures. */
  #sizeEffect() {
    if (this.#grid) return;
    const gl = this.#gl;
    const o = this.#o;
    const { f, lw, lh } = o.sized.frame;
    const [w, h] = this.#frameSize;
    // L pixels per 720p pixel.
    const toL = f32(f32(Math.min(w, h) / REFERENCE_SIDE) / f);
    const image = this.#background.mode === 'image';
    const [g, sigmaB] = gridFor(f32((image ? WRAP_SIGMA : this.#background.radius) * toL));
    const bw = Math.ceil(lw / g);
    const bh = Math.ceil(lh / g);
    const b = o.sized.b;
    if (!b || b[0] !== bw || b[1] !== bh) {
      for (const t of [o.tex.bAcc, o.tex.bTmp, o.tex.bOut, o.tex.imageBlur]) storage(gl, t, this.#formats.rgba, bw, bh);
      o.sized.b = [bw, bh];
    }
    // The fitted image takes frame-size storage only in image mode.
    if (image && (o.sized.fittedSize?.[0] !== w || o.sized.fittedSize?.[1] !== h)) {
      storage(gl, o.tex.fitted, gl.RGBA8, w, h);
      o.sized.fittedSize = [w, h];
    }
    this.#grid = { f, lw, lh, g, bw, bh, kernel: gaussianKernel(sigmaB) };
  }

  /** Programs, the VAO, every texture and framebuffer (storage comes with the sizes). */
  #createObjects() {
    const gl = this.#gl;
    const o = { programs: [], textures: [], framebuffers: [], shaders: [], vao: null, sized: { planes: new Map() } };
    const vertex = compile(gl, gl.VERTEX_SHADER, glsl.VERTEX, o);
    const program = (source) => link(gl, vertex, compile(gl, gl.FRAGMENT_SHADER, source, o), o);
    o.prog = {
      temporal: program(glsl.TEMPORAL),
      downsample: program(glsl.DOWNSAMPLE),
      boxProducts: program(glsl.BOX_PRODUCTS),
      boxSolve: program(glsl.BOX_SOLVE),
      box: program(glsl.BOX),
      alpha: program(glsl.ALPHA),
      blurDown: program(glsl.BLUR_DOWN),
      gauss: program(glsl.GAUSS),
      composite: program(glsl.composite(this.#formats.linear)),
      coverFit: program(glsl.COVER_FIT),
      convert: program(glsl.CONVERT),
    };
    // Shaders are not needed once linked.
    for (const s of o.shaders) gl.deleteShader(s);
    o.shaders = [];
    o.vao = gl.createVertexArray();
    const tex = () => {
      const t = gl.createTexture();
      o.textures.push(t);
      gl.bindTexture(gl.TEXTURE_2D, t);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      // 1x1 placeholder storage until the first frame sizes it.
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 1, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
      return t;
    };
    o.tex = {
      frame: tex(), mask: tex(), state: [tex(), tex()], guide: tex(), products: [tex(), tex(), tex(), tex()],
      ab: tex(), abTmp: tex(), coeffs: tex(), alpha: tex(), bAcc: tex(), bTmp: tex(), bOut: tex(),
      image: tex(), fitted: tex(), imageBlur: tex(), planeY: tex(), planeU: tex(), planeV: tex(),
    };
    const fbo = (...textures) => {
      const fb = gl.createFramebuffer();
      o.framebuffers.push(fb);
      gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
      textures.forEach((t, i) => gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + i, gl.TEXTURE_2D, t, 0));
      if (textures.length > 1) gl.drawBuffers(textures.map((_, i) => gl.COLOR_ATTACHMENT0 + i));
      return fb;
    };
    const t = o.tex;
    o.fbo = {
      state: [fbo(t.state[0]), fbo(t.state[1])], guide: fbo(t.guide), products: fbo(...t.products), ab: fbo(t.ab),
      abTmp: fbo(t.abTmp), coeffs: fbo(t.coeffs), alpha: fbo(t.alpha), bAcc: fbo(t.bAcc), bTmp: fbo(t.bTmp),
      bOut: fbo(t.bOut), fitted: fbo(t.fitted), imageBlur: fbo(t.imageBlur), frame: fbo(t.frame),
    };
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    if (this.#formats.linear) {
      for (const texture of [t.coeffs, t.bOut, t.imageBlur]) {
        gl.bindTexture(gl.TEXTURE_2D, texture);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
        gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      }
    }
    // Sampling RGBA8 sources from ImageBitmap / video: no premultiplication, no flip.
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.disable(gl.BLEND);
    gl.disable(gl.DEPTH_TEST);
    this.#o = o;
    this.#frameSize = [0, 0];
    this.#maskSize = [0, 0];
    this.#grid = null;
    this.#primed = false;
    this.#imageReady = false;
    // Check once, with real float storage, that every render target is complete.
    const probe = [t.state[0], ...t.products, t.alpha];
    for (const p of probe) storage(gl, p, p === t.state[0] || p === t.alpha ? this.#formats.r : this.#formats.rgba, 1, 1);
    for (const fb of [o.fbo.state[0], o.fbo.products, o.fbo.alpha]) {
      gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
      const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
      if (status !== gl.FRAMEBUFFER_COMPLETE) {
        gl.bindFramebuffer(gl.FRAMEBUFFER, null);
        deleteObjects(gl, o);
        this.#o = null;
        throw new Error(`${PREFIX}: float render targets are incomplete on this GPU (status 0x${status.toString(16)})`);
      }
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  }
}

/** Renderer names of software rasterisers (a shortcut only: names can be masked). */
export const SOFTWARE_NAMES = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** The renderer's name when it is a known software rasteriser, else null. */
function softwareRenderer(gl) {
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  return SOFTWARE_NAMES.test(name) ? name : null;
}

/** Renderable float formats: 32-bit if possible (guided-filter variances), else 16-bit. */
function pickFormats(gl) {
  // `linear`: the composite may let the texture unit interpolate (16-bit floats are always
  // filterable, 32-bit ones with OES_texture_float_linear).
  if (gl.getExtension('EXT_color_buffer_float')) {
    return { rgba: gl.RGBA32F, r: gl.R32F, linear: !!gl.getExtension('OES_texture_float_linear') };
  }
  if (gl.getExtension('EXT_color_buffer_half_float')) return { rgba: gl.RGBA16F, r: gl.R16F, linear: true };
  throw new Error(`${PREFIX}: WebGL2 here cannot render to float textures (needs EXT_color_buffer_float or EXT_color_buffer_half_float)`);
}

/** (Re)specifies a texture's storage; no data. */
function storage(gl, texture, internalFormat, w, h) {
  const [format, type] = {
    [gl.RGBA8]: [gl.RGBA, gl.UNSIGNED_BYTE],
    [gl.RGBA32F]: [gl.RGBA, gl.FLOAT],
    [gl.R32F]: [gl.RED, gl.FLOAT],
    [gl.RGBA16F]: [gl.RGBA, gl.HALF_FLOAT],
    [gl.R16F]: [gl.RED, gl.HALF_FLOAT],
  }[internalFormat];
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.texImage2D(gl.TEXTURE_2D, 0, internalFormat, w, h, 0, format, type, null);
}

function compile(gl, type, source, o) {
  const shader = gl.createShader(type);
  o.shaders.push(shader);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS) && !gl.isContextLost()) {
    const log = gl.getShaderInfoLog(shader);
    deleteObjects(gl, o);
    throw new Error(`${PREFIX}: WebGL2 shader did not compile: ${log}`);
  }
  return shader;
}

function link(gl, vertex, fragment, o) {
  const program = gl.createProgram();
  o.programs.push(program);
  gl.attachShader(program, vertex);
  gl.attachShader(program, fragment);
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS) && !gl.isContextLost()) {
    const log = gl.getProgramInfoLog(program);
    deleteObjects(gl, o);
    throw new Error(`${PREFIX}: WebGL2 program did not link: ${log}`);
  }
  const uniforms = new Map();
  const count = gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS) ?? 0;
  for (let i = 0; i < count; i++) {
    const name = gl.getActiveUniform(program, i).name.replace(/\[0\]$/, '');
    uniforms.set(name, gl.getUniformLocation(program, name));
  }
  return { program, uniforms };
}

function deleteObjects(gl, o) {
  for (const p of o.programs) gl.deleteProgram(p);
  for (const s of o.shaders) gl.deleteShader(s);
  for (const t of o.textures) gl.deleteTexture(t);
  for (const f of o.framebuffers) gl.deleteFramebuffer(f);
  if (o.vao) gl.deleteVertexArray(o.vao);
  o.programs = o.shaders = o.textures = o.framebuffers = [];
  o.vao = null;
}

function validateMask(mask, mw, mh, width, height) {
  if (!(mask instanceof Float32Array)) throw new TypeError(`${PREFIX}: the mask must be a Float32Array`);
  if (!(Number.isInteger(mw) && Number.isInteger(mh) && mw >= 1 && mh >= 1)) {
    throw new RangeError(`${PREFIX}: mask size ${mw}x${mh} is invalid`);
  }
  if (mw > width || mh > height) throw new RangeError(`${PREFIX}: mask ${mw}x${mh} is larger than the frame ${width}x${height}`);
  if (mask.length < mw * mh) throw new RangeError(`${PREFIX}: mask holds ${mask.length} values, ${mw * mh} needed`);
}
