// Benchmark of the CPU background renderer in wasm (the browser's code path): 1280x720
// RGBA frames with a 256x144 mask, written straight into wasm memory as the video worker
// will. `runCompositorBench()` prints and returns ms per frame per mode (median and best
// render, mean with the copies). `--against DIR` (or VME_BENCH_AGAINST=DIR) also runs another
// build's package (of the same wasm API), frame by frame alternately, and prints the ratio per
// mode.
// Needs a build (`node scripts/build.mjs`).
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { rgbaInput } from '../tests/helpers/wasm-frame.mjs';

const pkg = new URL('../pkg/', import.meta.url);
const W = 1280, H = 720, MW = 256, MH = 144;

// A textured frame with an elliptical "person", and its mask (as
// examples/compositor_bench.rs builds them: the wasm/native parity test compares both).
export const SIZE = { W, H, MW, MH };
export function scene() {
  const inside = (x, y) => ((x - 0.5) / 0.2) ** 2 + ((y - 0.8) / 0.55) ** 2 <= 1;
  const frame = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = inside(x / W, y / H) ? [200, 60, 140]
        : ((x >> 2) + (y >> 2)) % 2 ? [190, 210, 110] : [40, 120, 70];
      frame.set([...v, 255], (y * W + x) * 4);
    }
  }
  const mask = new Float32Array(MW * MH);
  for (let i = 0; i < mask.length; i++) mask[i] = inside((i % MW) / MW, Math.floor(i / MW) / MH) ? 1 : 0;
  return { frame, mask };
}

// The modes benchmarked, each a setter on a CpuCompositor.
export function benchModes() {
  const image = new Uint8Array(1920 * 1080 * 4).map((_, i) => i % 251);
  return {
    'blur radius 10': (c) => c.setBlur(10),
    'blur radius 20': (c) => c.setBlur(20),
    'image 1920x1080': (c) => c.setImage(image, 1920, 1080),
  };
}

async function load(dir) {
  const glue = await import(new URL('visio_media_effects.js', dir));
  const wasm = glue.initSync({ module: new WebAssembly.Module(readFileSync(new URL('visio_media_effects_bg.wasm', dir))) });
  return { glue, wasm, input: new glue.FrameInput() };
}

// `against`: another build's package directory (e.g. main's, built by `node scripts/build.mjs`
// in a checkout of it; also `VME_BENCH_AGAINST=dir`). Both builds then render alternately,
// frame by frame, in this one process, so a busy machine slows both alike, and the ratio is
// printed per mode.
export async function runCompositorBench({ frames = 100, log = console.log, against = process.env.VME_BENCH_AGAINST } = {}) {
  const libs = [await load(pkg)];
  if (against) libs.push(await load(pathToFileURL(`${against.replace(/\/$/, '')}/`)));
  const { frame, mask } = scene();
  const modes = benchModes();
  const results = {};
  for (const [name, set] of Object.entries(modes)) {
    const runs = libs.map(({ glue, wasm, input }) => {
      const c = new glue.CpuCompositor(W, H, MW, MH);
      set(c);
      const times = [];
      let total = 0;
      const once = () => {
        // As the worker does per frame: copy the frame and mask in, render, view the output.
        const t0 = performance.now();
        rgbaInput(glue, wasm.memory, frame, W, H, 4 * W, input);
        new Float32Array(wasm.memory.buffer, c.maskPtr(), MW * MH).set(mask);
        const t = performance.now();
        c.render(input, MW, MH);
        times.push(performance.now() - t);
        new Uint8Array(wasm.memory.buffer, c.outputPtr(), W * H * 4);
        total += performance.now() - t0;
      };
      return { c, times, once, total: () => total };
    });
    for (let i = 0; i < 10; i++) runs.forEach((r) => r.once());
    const warm = runs.map((r) => { r.times.length = 0; return r.total(); });
    for (let i = 0; i < frames; i++) runs.forEach((r) => r.once());
    // The median and the best frame: the machine may be shared, and the best frame is the
    // closest to the uncontended cost.
    const stats = runs.map((r, k) => {
      r.times.sort((a, b) => a - b);
      r.c.free();
      return { median: r.times[r.times.length >> 1], best: r.times[0], withCopyIn: (r.total() - warm[k]) / frames };
    });
    results[name] = stats[0];
    if (against) results[name].against = stats[1];
  }
  libs.forEach((l) => l.input.free());
  log(`\nCPU background renderer alone (wasm in Node, ${W}x${H} frame, ${MW}x${MH} mask), ms per frame`);
  const fmt = (ms) => `render ${ms.median.toFixed(2)} median, ${ms.best.toFixed(2)} best; `
    + `${ms.withCopyIn.toFixed(2)} mean with the frame and mask copied in`;
  for (const [name, ms] of Object.entries(results)) {
    log(`  ${name}: ${fmt(ms)}`);
    if (ms.against) {
      log(`    against ${against}: ${fmt(ms.against)}`);
      log(`    this / against: ${(ms.median / ms.against.median).toFixed(2)}x median, `
        + `${(ms.best / ms.against.best).toFixed(2)}x best`);
    }
  }
  return { size: `${W}x${H}`, mask: `${MW}x${MH}`, msPerFrame: results };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--against');
  await runCompositorBench(i > 0 ? { against: process.argv[i + 1] } : {});
}
