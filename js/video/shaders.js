// GLSL ES 3.00 sources of the WebGL2 background renderer (renderer-webgl.js), one fragment
// shader per pass of src/video/mod.rs. Every pass draws one triangle covering its target and
// addresses pixels with texelFetch: texel (x, y) of every texture is pixel (x, y) of its grid
// counted from the TOP-left (row 0 of a texture uploaded from a DOM source is the image's top
// row), so only the final pass, which draws on the canvas, flips rows. Resampling is done by
// hand (`bilinear`) rather than by LINEAR filtering: float textures need no filtering
// extension, and the interpolation weights are full floats, as on the CPU.

const HEADER = `#version 300 es
precision highp float;
precision highp int;
precision highp sampler2D;
`;

/** One triangle covering the viewport; no vertex buffer (gl_VertexID 0, 1, 2). */
export const VERTEX = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
`;

// GL LINEAR + CLAMP_TO_EDGE at source coordinate `s` in texels (texel i has its centre at
// i): a destination pixel d of a grid `scale` source texels per pixel reads
// s = (d + 0.5) * scale - 0.5. Horizontal then vertical, like LinearTaps on the CPU.
const BILINEAR = `
vec4 bilinear(sampler2D t, vec2 s) {
  ivec2 size = textureSize(t, 0);
  s = clamp(s, vec2(0.0), vec2(size - 1));
  vec2 f0 = floor(s);
  ivec2 i0 = ivec2(f0);
  ivec2 i1 = min(i0 + 1, size - 1);
  vec2 f = s - f0;
  vec4 a = texelFetch(t, i0, 0);
  vec4 b = texelFetch(t, ivec2(i1.x, i0.y), 0);
  vec4 c = texelFetch(t, ivec2(i0.x, i1.y), 0);
  vec4 d = texelFetch(t, i1, 0);
  vec4 top = a + f.x * (b - a);
  vec4 bottom = c + f.x * (d - c);
  return top + f.y * (bottom - top);
}
`;

/** Pass 1, mask grid: change-adaptive exponential smoothing (src/video/temporal.rs). */
export const TEMPORAL = `${HEADER}
uniform sampler2D uMask;   // the new mask (R32F)
uniform sampler2D uPrev;   // the previous state
uniform bool uPrimed;      // false: take the new mask as is
out vec4 outColor;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  float m = texelFetch(uMask, p, 0).r;
  float n = m >= 0.0 ? min(m, 1.0) : 0.0; // NaN fails the comparison: 0, as on the CPU
  if (!uPrimed) { outColor = vec4(n); return; }
  float prev = texelFetch(uPrev, p, 0).r;
  float k = 0.25 + 0.75 * smoothstep(0.1, 0.5, abs(n - prev));
  outColor = vec4(prev + k * (n - prev));
}
`;

/**
 * Pass 2: area average of uFactor x uFactor blocks of an image (the last block of a row
 * or column averages the pixels it has). With uWithMask, alpha is the smoothed mask sampled
 * bilinearly at this grid (the guided filter's input p); else 1.
 */
export const DOWNSAMPLE = `${HEADER}
uniform sampler2D uImage;
uniform sampler2D uState;
uniform int uFactor;
uniform bool uWithMask;
uniform vec2 uMaskScale; // mask texels per destination pixel
out vec4 outColor;
${BILINEAR}
void main() {
  ivec2 d = ivec2(gl_FragCoord.xy);
  ivec2 size = textureSize(uImage, 0);
  ivec2 from = d * uFactor;
  ivec2 to = min(from + uFactor, size);
  vec3 sum = vec3(0.0);
  for (int y = from.y; y < to.y; y++) {
    for (int x = from.x; x < to.x; x++) sum += texelFetch(uImage, ivec2(x, y), 0).rgb;
  }
  vec2 n = vec2(to - from);
  float p = uWithMask ? bilinear(uState, gl_FragCoord.xy * uMaskScale - 0.5).r : 1.0;
  outColor = vec4(sum / (n.x * n.y), p);
}
`;

/**
 * Pass 3a, working grid: horizontal box mean (radius uRadius, clamped edges) of the guided
 * filter's 13 products of I = (r, g, b) and p, packed as refine.rs does:
 * [r g b p] [rp gp bp rr] [rg rb gg gb] [bb - - -].
 */
export const BOX_PRODUCTS = `${HEADER}
uniform sampler2D uGuide; // rgb + p
uniform int uRadius;
layout(location = 0) out vec4 out0;
layout(location = 1) out vec4 out1;
layout(location = 2) out vec4 out2;
layout(location = 3) out vec4 out3;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  int last = textureSize(uGuide, 0).x - 1;
  vec4 s0 = vec4(0.0), s1 = vec4(0.0), s2 = vec4(0.0);
  float s3 = 0.0;
  for (int i = -uRadius; i <= uRadius; i++) {
    vec4 g = texelFetch(uGuide, ivec2(clamp(p.x + i, 0, last), p.y), 0);
    vec3 c = g.rgb;
    s0 += g;
    s1 += vec4(c * g.a, c.r * c.r);
    s2 += vec4(c.r * c.g, c.r * c.b, c.g * c.g, c.g * c.b);
    s3 += c.b * c.b;
  }
  float n = 1.0 / float(2 * uRadius + 1);
  out0 = s0 * n;
  out1 = s1 * n;
  out2 = s2 * n;
  out3 = vec4(s3 * n, 0.0, 0.0, 0.0);
}
`;

/**
 * Pass 3b, working grid: vertical box mean of the products, then the per-window affine fit
 * a = (cov(I, I) + EPS Id)^-1 cov(I, p), b = mean(p) - a . mean(I) -> (a, b).
 */
export const BOX_SOLVE = `${HEADER}
uniform sampler2D uM0;
uniform sampler2D uM1;
uniform sampler2D uM2;
uniform sampler2D uM3;
uniform int uRadius;
uniform float uEps;
out vec4 outColor;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  int last = textureSize(uM0, 0).y - 1;
  vec4 m0 = vec4(0.0), m1 = vec4(0.0), m2 = vec4(0.0);
  float m3 = 0.0;
  for (int i = -uRadius; i <= uRadius; i++) {
    ivec2 q = ivec2(p.x, clamp(p.y + i, 0, last));
    m0 += texelFetch(uM0, q, 0);
    m1 += texelFetch(uM1, q, 0);
    m2 += texelFetch(uM2, q, 0);
    m3 += texelFetch(uM3, q, 0).r;
  }
  float n = 1.0 / float(2 * uRadius + 1);
  m0 *= n; m1 *= n; m2 *= n; m3 *= n;
  vec3 mi = m0.rgb;
  float mp = m0.a;
  float s00 = m1.a - mi.r * mi.r + uEps, s01 = m2.r - mi.r * mi.g, s02 = m2.g - mi.r * mi.b;
  float s11 = m2.b - mi.g * mi.g + uEps, s12 = m2.a - mi.g * mi.b, s22 = m3 - mi.b * mi.b + uEps;
  vec3 c = m1.rgb - mi * mp;
  // S^-1 c by the adjugate (S symmetric positive definite).
  float i00 = s11 * s22 - s12 * s12;
  float i01 = s02 * s12 - s01 * s22;
  float i02 = s01 * s12 - s02 * s11;
  float i11 = s00 * s22 - s02 * s02;
  float i12 = s01 * s02 - s00 * s12;
  float i22 = s00 * s11 - s01 * s01;
  float invDet = 1.0 / (s00 * i00 + s01 * i01 + s02 * i02);
  vec3 a = vec3(i00 * c.x + i01 * c.y + i02 * c.z,
                i01 * c.x + i11 * c.y + i12 * c.z,
                i02 * c.x + i12 * c.y + i22 * c.z) * invDet;
  outColor = vec4(a, mp - dot(a, mi));
}
`;

/**
 * Pass 3c/3d, working grid: box mean of (a, b) along uDir; the vertical one (uStretch) also
 * folds in the contrast stretch alpha = (q - LOW) / (HIGH - LOW), giving the coefficients
 * (A, B) of alpha = clamp(A . rgb + B, 0, 1) with rgb in 0..1.
 */
export const BOX = `${HEADER}
uniform sampler2D uSource;
uniform ivec2 uDir;
uniform int uRadius;
uniform bool uStretch;
uniform vec2 uLowHigh;
out vec4 outColor;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  ivec2 last = textureSize(uSource, 0) - 1;
  vec4 s = vec4(0.0);
  for (int i = -uRadius; i <= uRadius; i++) s += texelFetch(uSource, clamp(p + i * uDir, ivec2(0), last), 0);
  s /= float(2 * uRadius + 1);
  if (uStretch) {
    float k = 1.0 / (uLowHigh.y - uLowHigh.x);
    s = vec4(s.rgb * k, (s.a - uLowHigh.x) * k);
  }
  outColor = s;
}
`;

/** Pass 3e, working grid: the refined mask alphaL = clamp(A . rgbL + B, 0, 1). */
export const ALPHA = `${HEADER}
uniform sampler2D uCoeffs;
uniform sampler2D uGuide;
out vec4 outColor;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  vec4 k = texelFetch(uCoeffs, p, 0);
  outColor = vec4(clamp(dot(k.rgb, texelFetch(uGuide, p, 0).rgb) + k.a, 0.0, 1.0));
}
`;

/**
 * Pass 4a, working grid -> blur grid (uG x uG blocks, last partial), area average of
 *   blur mode (uWrap false): (rgbL w, w) with w = 1 - max3x3(alphaL) + uFloor;
 *   image mode (uWrap true): (0, 0, 0, 1 - alphaL), the light wrap's background share.
 */
export const BLUR_DOWN = `${HEADER}
uniform sampler2D uAlpha;
uniform sampler2D uGuide;
uniform int uG;
uniform bool uWrap;
uniform float uFloor;
out vec4 outColor;
void main() {
  ivec2 d = ivec2(gl_FragCoord.xy);
  ivec2 size = textureSize(uAlpha, 0);
  ivec2 last = size - 1;
  ivec2 from = d * uG;
  ivec2 to = min(from + uG, size);
  vec4 sum = vec4(0.0);
  for (int y = from.y; y < to.y; y++) {
    for (int x = from.x; x < to.x; x++) {
      ivec2 q = ivec2(x, y);
      if (uWrap) {
        sum.a += 1.0 - texelFetch(uAlpha, q, 0).r;
      } else {
        float m = 0.0;
        for (int j = -1; j <= 1; j++) {
          for (int i = -1; i <= 1; i++) m = max(m, texelFetch(uAlpha, clamp(q + ivec2(i, j), ivec2(0), last), 0).r);
        }
        float w = 1.0 - m + uFloor;
        sum += vec4(texelFetch(uGuide, q, 0).rgb * w, w);
      }
    }
  }
  vec2 n = vec2(to - from);
  outColor = sum / (n.x * n.y);
}
`;

/** Largest Gaussian half-width (taps each side) the blur shader takes. */
export const MAX_KERNEL_RADIUS = 31;

/**
 * Pass 4b, blur grid: separable Gaussian along uDir (normalised taps uKernel[|i|], clamped
 * edges) on four channels; with uNormalise, the result is (acc.rgb / acc.a, acc.a): the
 * mask-weighted background.
 */
export const GAUSS = `${HEADER}
uniform sampler2D uSource;
uniform ivec2 uDir;
uniform int uRadius;
uniform float uKernel[${MAX_KERNEL_RADIUS + 1}];
uniform bool uNormalise;
out vec4 outColor;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  ivec2 last = textureSize(uSource, 0) - 1;
  vec4 s = vec4(0.0);
  for (int i = -uRadius; i <= uRadius; i++) {
    s += uKernel[abs(i)] * texelFetch(uSource, clamp(p + i * uDir, ivec2(0), last), 0);
  }
  outColor = uNormalise ? vec4(s.rgb / s.a, s.a) : s;
}
`;

/**
 * Pass 5, frame grid, onto the canvas (rows flipped): the matte from the coefficients
 * (bilinear from the working grid) applied to the pixel's own colour, then
 *   uMode 1 (blur): out = bg + alpha (frame - bg), bg bilinear from the blur grid;
 *   uMode 2 (image): lw = uWrapStrength alpha wrap, person = frame + lw (imgBlur - frame),
 *                    out = img + alpha (person - img);
 *   uMode 0 (none): out = frame.
 */
export const composite = (hardwareLinear) => `${HEADER}${hardwareLinear ? '#define HARDWARE_LINEAR 1\n' : ''}
uniform sampler2D uFrame;
uniform sampler2D uCoeffs;
uniform sampler2D uBackground; // blur: (bg.rgb, w); image: wrap share in .a
uniform sampler2D uImage;      // image: the cover-fitted image (frame grid)
uniform sampler2D uImageBlur;  // image: the fitted image blurred (blur grid)
uniform int uMode;
uniform float uHeight;
uniform float uInvF;   // working-grid pixels per frame pixel
uniform float uInvFG;  // blur-grid pixels per frame pixel
uniform float uWrapStrength;
out vec4 outColor;
${BILINEAR}
// Upsampling of the low-resolution planes: the texture unit's LINEAR filter where float
// textures are filterable (one fetch instead of four: this pass is the only one at full
// resolution), else by hand. Same coordinates, same clamping.
vec4 upsample(sampler2D t, vec2 s) {
#ifdef HARDWARE_LINEAR
  return texture(t, (s + 0.5) / vec2(textureSize(t, 0)));
#else
  return bilinear(t, s);
#endif
}
void main() {
  vec2 fc = vec2(gl_FragCoord.x, uHeight - gl_FragCoord.y); // frame pixel centre, top-down
  ivec2 p = ivec2(fc);
  vec3 c = texelFetch(uFrame, p, 0).rgb;
  if (uMode == 0) { outColor = vec4(c, 1.0); return; }
  vec4 k = upsample(uCoeffs, fc * uInvF - 0.5);
  float alpha = clamp(dot(k.rgb, c) + k.a, 0.0, 1.0);
  vec2 sb = fc * uInvFG - 0.5;
  if (uMode == 1) {
    vec3 bg = upsample(uBackground, sb).rgb;
    outColor = vec4(bg + alpha * (c - bg), 1.0);
  } else {
    float lw = uWrapStrength * alpha * upsample(uBackground, sb).a;
    vec3 person = c + lw * (upsample(uImageBlur, sb).rgb - c);
    vec3 img = texelFetch(uImage, p, 0).rgb;
    outColor = vec4(img + alpha * (person - img), 1.0);
  }
}
`;

/**
 * Once per image and frame size, frame grid: the image cover-fitted (scale uScale =
 * max(W / iw, H / ih), centred), each pixel the mean of uN x uN bilinear samples so that a
 * large photo does not alias when minified.
 */
export const COVER_FIT = `${HEADER}
uniform sampler2D uSource;
uniform float uScale;
uniform int uN;
uniform vec2 uFrameSize;
out vec4 outColor;
${BILINEAR}
void main() {
  vec2 d = floor(gl_FragCoord.xy);
  vec2 src = vec2(textureSize(uSource, 0));
  vec3 sum = vec3(0.0);
  float n = float(uN);
  for (int j = 0; j < uN; j++) {
    for (int i = 0; i < uN; i++) {
      vec2 px = d + (vec2(i, j) + 0.5) / n;
      sum += bilinear(uSource, (px - uFrameSize / 2.0) / uScale + src / 2.0 - 0.5).rgb;
    }
  }
  outColor = vec4(sum / (n * n), 1.0);
}
`;

/**
 * Pass 0 for frames copied into wasm memory in their own pixel format (src/video/pixels.rs),
 * frame grid, into the frame texture: uLayout 0 I420 (uY, uU, uV: R8 planes, chroma at half
 * size), 1 NV12 (uU: RG8 interleaved chroma), 2 BGRA/BGRX (uY: RGBA8 holding the bytes).
 * YUV: R = l + rv V', G = l + gu U' + gv V', B = l + bu U' with l = ys Y + yo, U' = U - 128
 * (uK = [ys, yo, rv, gu, gv, bu], 0..255 units); each 2x2 block takes its chroma sample, as
 * on the CPU. Rounded to bytes as the CPU does.
 */
export const CONVERT = `${HEADER}
uniform sampler2D uY;
uniform sampler2D uU;
uniform sampler2D uV;
uniform int uLayout;
uniform float uK[6];
out vec4 outColor;
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy); // texture rows are the frame's rows, top first
  if (uLayout == 2) { outColor = vec4(texelFetch(uY, p, 0).bgr, 1.0); return; }
  float y = texelFetch(uY, p, 0).r * 255.0;
  vec2 uv = uLayout == 1
    ? texelFetch(uU, p / 2, 0).rg * 255.0
    : vec2(texelFetch(uU, p / 2, 0).r, texelFetch(uV, p / 2, 0).r) * 255.0;
  uv -= 128.0;
  float l = uK[0] * y + uK[1];
  vec3 rgb = vec3(l + uK[2] * uv.y, l + uK[3] * uv.x + uK[4] * uv.y, l + uK[5] * uv.x);
  outColor = vec4(clamp(floor(rgb + 0.5), 0.0, 255.0) / 255.0, 1.0);
}
`;
