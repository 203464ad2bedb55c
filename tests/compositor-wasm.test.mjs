// The CPU renderer's wasm build (simd128 kernels, wasm-bindgen boundary) against the
// native build (portable kernels, exercised by tests/compositor.rs): the same scene must
// give the very same bytes in every mode. Also checks the boundary's errors.
// Needs `node scripts/build.mjs` (pkg/) and cargo (the native example).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scene, benchModes, SIZE } from '../bench/compositor.mjs';
import { rgbaInput } from './helpers/wasm-frame.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const pkg = new URL('../pkg/', import.meta.url);

async function load() {
  const glue = await import(new URL('visio_media_effects.js', pkg));
  const wasm = glue.initSync({ module: new WebAssembly.Module(readFileSync(new URL('visio_media_effects_bg.wasm', pkg))) });
  return { ...glue, wasm };
}

test('wasm SIMD output equals the native output byte for byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vme-compositor-'));
  try {
    execFileSync('cargo', ['run', '--quiet', '--release', '--example', 'compositor_bench', '--', '--dump', dir], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    const glue = await load();
    const { CpuCompositor, wasm } = glue;
    const { W, H, MW, MH } = SIZE;
    const { frame, mask } = scene();
    const input = rgbaInput(glue, wasm.memory, frame, W, H);
    const keys = { 'blur radius 10': 'blur10', 'blur radius 20': 'blur20', 'image 1920x1080': 'image' };
    for (const [name, set] of Object.entries(benchModes())) {
      const c = new CpuCompositor(W, H, MW, MH);
      set(c);
      new Float32Array(wasm.memory.buffer, c.maskPtr(), MW * MH).set(mask);
      c.render(input, MW, MH);
      const out = new Uint8Array(wasm.memory.buffer, c.outputPtr(), W * H * 4);
      const native = readFileSync(join(dir, `${keys[name]}.rgba`));
      assert.equal(native.length, out.length);
      let differing = 0;
      for (let i = 0; i < out.length; i++) differing += out[i] !== native[i];
      assert.equal(differing, 0, `${name}: ${differing} bytes differ`);
      // Not a trivial output: the background did change.
      let changed = 0;
      for (let i = 0; i < out.length; i++) changed += out[i] !== frame[i];
      assert.ok(changed > out.length / 4, `${name}: only ${changed} bytes changed`);
      c.free();
    }
    input.free();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the wasm boundary rejects bad sizes and passes frames through in none mode', async () => {
  const glue = await load();
  const { CpuCompositor, wasm } = glue;
  assert.throws(() => new CpuCompositor(0, 720, 256, 144), /frame 0x720/);
  assert.throws(() => new CpuCompositor(320, 180, 640, 360), /mask 640x360/);
  const c = new CpuCompositor(64, 36, 16, 9);
  const frame = new Uint8Array(64 * 36 * 4).map((_, i) => (i * 7) & 255);
  const input = rgbaInput(glue, wasm.memory, frame, 64, 36);
  assert.throws(() => c.render(input, 32, 9), /frame 64x36 with mask 32x9 does not match the buffers sized by resize\(64, 36, 16, 9\)/);
  assert.throws(() => c.render(new glue.FrameInput(), 16, 9), /no frame described/);
  assert.throws(() => c.setBlur(-1), /radius/);
  assert.throws(() => c.setImage(new Uint8Array(10), 2, 2), /background image/);
  c.setNone();
  c.render(input, 16, 9);
  assert.deepEqual(new Uint8Array(wasm.memory.buffer, c.outputPtr(), frame.length), frame);
  c.free();
  input.free();
});
