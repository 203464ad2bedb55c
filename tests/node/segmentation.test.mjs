// The built package's wasm Segmenter (simd128 kernels) against MediaPipe's reference masks, and
// its JavaScript API. Needs `node scripts/build.mjs` (npm test builds first).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPng } from '../helpers/png.mjs';
import { rgbaInput } from '../helpers/wasm-frame.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(root, 'tests/fixtures/segmentation');
const MODELS = { landscape: 'selfie_segmentation_landscape.tflite', square: 'selfie_segmentation.tflite' };
const IMAGES = ['astronaut', 'camera', 'grace_hopper', 'chelsea'];

const glue = await import(join(root, 'pkg/visio_media_effects.js'));
const { default: init, Segmenter } = glue;
const wasm = await init({ module_or_path: readFileSync(join(root, 'pkg/visio_media_effects_bg.wasm')) });
const model = (file) => readFileSync(join(root, 'node_modules/@mediapipe/selfie_segmentation', file));

function rgba(png) {
  const out = new Uint8Array(png.width * png.height * 4).fill(255);
  for (let i = 0; i < png.width * png.height; i++) out.set(png.data.subarray(3 * i, 3 * i + 3), 4 * i);
  return out;
}

/** The latest mask, copied out of its view in wasm memory. */
const maskOf = (seg) => new Float32Array(wasm.memory.buffer, seg.maskPtr(), seg.maskWidth * seg.maskHeight).slice();

test('wasm masks match MediaPipe on photographs (MAD <= 0.01, IoU >= 0.99)', () => {
  const input = new glue.FrameInput();
  for (const [tag, file] of Object.entries(MODELS)) {
    const seg = new Segmenter(model(file));
    for (const image of IMAGES) {
      const png = readPng(join(fixtures, `${image}_${tag}.png`));
      const ref = readPng(join(fixtures, `${image}_${tag}_mask.png`));
      assert.deepEqual([seg.width, seg.height], [png.width, png.height]);
      seg.segment(rgbaInput(glue, wasm.memory, rgba(png), png.width, png.height, png.width * 4, input));
      const mask = maskOf(seg);
      assert.equal(mask.length, png.width * png.height);
      let mad = 0, inter = 0, union = 0;
      for (let i = 0; i < mask.length; i++) {
        const r = ref.data[i] / 65535;
        mad += Math.abs(mask[i] - r);
        inter += mask[i] > 0.5 && r > 0.5;
        union += mask[i] > 0.5 || r > 0.5;
      }
      mad /= mask.length;
      const iou = union ? inter / union : 1;
      assert.ok(mad <= 0.01 && iou >= 0.99, `${image} ${tag}: MAD ${mad}, IoU ${iou}`);
    }
    seg.free();
  }
  input.free();
});

test('a padded row stride gives the mask of the tightly packed frame', () => {
  const seg = new Segmenter(model(MODELS.landscape));
  const png = readPng(join(fixtures, 'grace_hopper_landscape.png'));
  const frame = rgba(png);
  seg.segment(rgbaInput(glue, wasm.memory, frame, png.width, png.height));
  const tight = maskOf(seg);
  const stride = png.width * 4 + 64;
  const padded = new Uint8Array(stride * png.height).fill(7);
  for (let y = 0; y < png.height; y++) padded.set(frame.subarray(y * png.width * 4, (y + 1) * png.width * 4), y * stride);
  seg.segment(rgbaInput(glue, wasm.memory, padded, png.width, png.height, stride));
  assert.deepEqual(maskOf(seg), tight);
  assert.ok(tight.some((v) => v > 0.5) && tight.some((v) => v < 0.5), 'a person and a background');
  seg.free();
});

test('bad models and frames throw errors that say what is wrong', () => {
  assert.throws(() => new Segmenter(new Uint8Array(100)), /malformed TFLite model/);
  const bytes = new Uint8Array(model(MODELS.landscape));
  assert.throws(() => new Segmenter(bytes.subarray(0, bytes.length / 2)), /malformed TFLite model|bad node/);
  const seg = new Segmenter(bytes);
  assert.throws(() => rgbaInput(glue, wasm.memory, new Uint8Array(10), 64, 48, 256), /frame RGBA 64x48/);
  const input = new glue.FrameInput();
  assert.throws(() => seg.segment(input), /no frame described in the FrameInput/);
  assert.throws(() => input.describe('YUY2', 64, 48, Uint32Array.of(0, 128), '', undefined), /pixel format "YUY2" is not supported/);
  seg.free();
  input.free();
});
