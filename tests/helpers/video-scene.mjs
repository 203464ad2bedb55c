// Camera feeds for the video tests: real photographs of people (cut out with MediaPipe's own
// mask by scripts/make-video-fixtures.py) composited over a real texture photograph that pans
// every frame, written as Y4M for Chromium's --use-file-for-fake-video-capture. The person
// stands still while the background moves, so one alpha map (returned with the file) is the
// exact person/background truth for every frame the fake camera delivers.
import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'video');

/** Reads a binary PAM (P7) or PGM (P5) file: { width, height, depth, data: Uint8Array }. */
export function readPnm(path) {
  const bytes = readFileSync(path);
  const magic = bytes.subarray(0, 2).toString();
  if (magic === 'P7') {
    const end = bytes.indexOf('ENDHDR\n') + 'ENDHDR\n'.length;
    const header = bytes.subarray(0, end).toString();
    const field = (name) => Number(header.match(new RegExp(`${name} (\\d+)`))[1]);
    return { width: field('WIDTH'), height: field('HEIGHT'), depth: field('DEPTH'), data: bytes.subarray(end) };
  }
  if (magic === 'P5') {
    const m = bytes.toString('latin1', 0, 64).match(/^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/);
    if (!m) throw new Error(`${path}: malformed PGM header`);
    return { width: Number(m[1]), height: Number(m[2]), depth: 1, data: bytes.subarray(m[0].length) };
  }
  throw new Error(`${path}: not a binary PAM/PGM file`);
}

/** Bilinear sample of channel c of an image at (x, y) in pixel units, clamped at the edges. */
function sample(img, x, y, c) {
  const { width: w, height: h, depth: d, data } = img;
  const fx = Math.min(Math.max(x, 0), w - 1);
  const fy = Math.min(Math.max(y, 0), h - 1);
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const x1 = Math.min(x0 + 1, w - 1);
  const y1 = Math.min(y0 + 1, h - 1);
  const ax = fx - x0;
  const ay = fy - y0;
  const at = (xx, yy) => data[(yy * w + xx) * d + c];
  return (at(x0, y0) * (1 - ax) + at(x1, y0) * ax) * (1 - ay) + (at(x0, y1) * (1 - ax) + at(x1, y1) * ax) * ay;
}

/**
 * Describes a scene. `background` is a texture name ('brick', 'grass', 'gravel'), tinted by
 * `tint` and panned `panPerFrame` pixels a frame, or `{ color: [r, g, b] }` for a uniform one.
 */
export function createScene({
  width = 1280,
  height = 720,
  person = 'astronaut',
  background = 'brick',
  tint = [1.0, 0.75, 0.55],
  panPerFrame = 6,
  personHeight = 0.9,
} = {}) {
  const subject = readPnm(join(FIXTURES, `person-${person}.pam`));
  const texture = typeof background === 'string' ? readPnm(join(FIXTURES, `texture-${background}.pgm`)) : null;
  // The person stands centred on the bottom edge, personHeight of the frame tall.
  const scale = (personHeight * height) / subject.height;
  const left = (width - subject.width * scale) / 2;
  const top = height - subject.height * scale;
  // Person alpha and colour per output pixel: fixed for the whole feed.
  const alpha = new Float32Array(width * height);
  const fg = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = (x + 0.5 - left) / scale - 0.5;
      const sy = (y + 0.5 - top) / scale - 0.5;
      if (sx < -0.5 || sy < -0.5 || sx > subject.width - 0.5 || sy > subject.height - 0.5) continue;
      const i = y * width + x;
      alpha[i] = sample(subject, sx, sy, 3) / 255;
      for (let c = 0; c < 3; c++) fg[i * 3 + c] = sample(subject, sx, sy, c);
    }
  }

  /** RGBA of frame `n`. */
  function frame(n) {
    const rgba = new Uint8ClampedArray(width * height * 4);
    // Texture photographs are 512 px: show them at 2x so the pattern stays legible at 720p.
    const tscale = 0.5;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        let bg;
        if (texture) {
          const tx = (((x + n * panPerFrame) * tscale) % texture.width + texture.width) % texture.width;
          const ty = (y * tscale) % texture.height;
          const v = texture.data[Math.floor(ty) * texture.width + Math.floor(tx)];
          bg = [v * tint[0], v * tint[1], v * tint[2]];
        } else {
          bg = background.color;
        }
        const a = alpha[i];
        for (let c = 0; c < 3; c++) rgba[i * 4 + c] = fg[i * 3 + c] * a + bg[c] * (1 - a);
        rgba[i * 4 + 3] = 255;
      }
    }
    return rgba;
  }

  return { width, height, alpha, frame };
}

/** Writes `frames` frames of `scene` as a 4:2:0 Y4M file (BT.601 limited range, like cameras). */
export function writeY4m(path, scene, { frames = 60, fps = 30 } = {}) {
  const { width: w, height: h } = scene;
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, `YUV4MPEG2 W${w} H${h} F${fps}:1 Ip A1:1 C420jpeg\n`);
    const cw = w >> 1;
    const ch = h >> 1;
    const planes = new Uint8Array(w * h + 2 * cw * ch);
    for (let n = 0; n < frames; n++) {
      const rgba = scene.frame(n);
      for (let i = 0; i < w * h; i++) {
        const r = rgba[i * 4], g = rgba[i * 4 + 1], b = rgba[i * 4 + 2];
        planes[i] = 16 + (65.738 * r + 129.057 * g + 25.064 * b) / 256;
      }
      for (let y = 0; y < ch; y++) {
        for (let x = 0; x < cw; x++) {
          let r = 0, g = 0, b = 0;
          for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
            const i = ((2 * y + dy) * w + 2 * x + dx) * 4;
            r += rgba[i] / 4; g += rgba[i + 1] / 4; b += rgba[i + 2] / 4;
          }
          planes[w * h + y * cw + x] = 128 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256;
          planes[w * h + cw * ch + y * cw + x] = 128 + (112.439 * r - 94.154 * g - 18.285 * b) / 256;
        }
      }
      writeSync(fd, 'FRAME\n');
      writeSync(fd, planes);
    }
  } finally {
    closeSync(fd);
  }
}
