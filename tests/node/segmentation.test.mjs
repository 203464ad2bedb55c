// The built package's wasm Segmenter (simd128 kernels) against MediaPipe's reference masks, and
// its JavaScript API. Needs `node scripts/build.mjs` (npm test builds first).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPng } from '../helpers/png.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(root, 'tests/fixtures/segmentation');
const MODELS = { landscape: 'selfie_segmentation_landscape.tflite', square: 'selfie_segmentation.tflite' };
const IMAGES = ['astronaut', 'camera', 'grace_hopper', 'chelsea'];

const { default: init, Segmenter } = await import(join(root, 'pkg/visio_media_effects.js'));
const wasm = await init({ module_or_path: readFileSync(join(root, 'pkg/visio_media_effects_bg.wasm')) });
const model = (file) => readFileSync(join(root, 'node_modules/@mediapipe/selfie_segmentation', file));

function rgba(png) {
  const out = new Uint8Array(png.width * png.height * 4).fill(255);
  for (let i = 0; i < png.width * png.height; i++) out.set(png.data.subarray(3 * i, 3 * i + 3), 4 * i);
  return out;
}

test('wasm masks match MediaPipe on photographs (MAD <= 0.01, IoU >= 0.99)', () => {
  for (const [tag, file] of Object.entries(MODELS)) {
    const seg = new Segmenter(model(file));
    for (const image of IMAGES) {
      const png = readPng(join(fixtures, `${image}_${tag}.png`));
      const ref = readPng(join(fixtures, `${image}_${tag}_mask.png`));
      assert.deepEqual([seg.width, seg.height], [png.width, png.height]);
      seg.segment(rgba(png), png.width, png.height, png.width * 4);
      const mask = seg.mask();
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
});

test('frameBuffer/segmentFrame (no copy) gives the same mask as segment(), readable at maskPtr', () => {
  const seg = new Segmenter(model(MODELS.landscape));
  const png = readPng(join(fixtures, 'grace_hopper_landscape.png'));
  const frame = rgba(png);
  seg.segment(frame, png.width, png.height, png.width * 4);
  const copied = seg.mask();
  const ptr = seg.frameBuffer(frame.length);
  new Uint8Array(wasm.memory.buffer, ptr, frame.length).set(frame);
  seg.segmentFrame(png.width, png.height, png.width * 4);
  const view = new Float32Array(wasm.memory.buffer, seg.maskPtr(), png.width * png.height);
  assert.deepEqual(Array.from(view), Array.from(copied));
  seg.free();
});

test('bad models and frames throw errors that say what is wrong', () => {
  assert.throws(() => new Segmenter(new Uint8Array(100)), /malformed TFLite model/);
  const bytes = new Uint8Array(model(MODELS.landscape));
  assert.throws(() => new Segmenter(bytes.subarray(0, bytes.length / 2)), /malformed TFLite model|bad node/);
  const seg = new Segmenter(bytes);
  assert.throws(() => seg.segment(new Uint8Array(10), 64, 48, 256), /bad input: frame 64x48/);
  seg.free();
});
