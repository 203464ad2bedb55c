// Benchmark of the CPU background renderer in wasm (the browser's code path): 1280x720
// RGBA frames with a 256x144 mask, written straight into wasm memory as the video worker
// will. `runCompositorBench()` prints and returns ms per frame per mode (median and best
// render, mean with the copies).
// Needs a build (`node scripts/build.mjs`).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

export async function runCompositorBench({ frames = 100, log = console.log } = {}) {
  const glue = await import(new URL('visio_media_effects.js', pkg));
  const { initSync, CpuCompositor } = glue;
  const wasm = initSync({ module: new WebAssembly.Module(readFileSync(new URL('visio_media_effects_bg.wasm', pkg))) });
  const { frame, mask } = scene();
  const modes = benchModes();
  const results = {};
  const input = new glue.FrameInput();
  for (const [name, set] of Object.entries(modes)) {
    const c = new CpuCompositor(W, H, MW, MH);
    set(c);
    const times = [];
    const once = () => {
      // As the worker does per frame: copy the frame and mask in, render, view the output.
      rgbaInput(glue, wasm.memory, frame, W, H, 4 * W, input);
      new Float32Array(wasm.memory.buffer, c.maskPtr(), MW * MH).set(mask);
      const t = performance.now();
      c.render(input, MW, MH);
      times.push(performance.now() - t);
      return new Uint8Array(wasm.memory.buffer, c.outputPtr(), W * H * 4);
    };
    for (let i = 0; i < 10; i++) once();
    times.length = 0;
    const t0 = performance.now();
    for (let i = 0; i < frames; i++) once();
    const withCopyIn = (performance.now() - t0) / frames;
    // The median and the best frame: the machine may be shared, and the best frame is the
    // closest to the uncontended cost.
    times.sort((a, b) => a - b);
    results[name] = { median: times[times.length >> 1], best: times[0], withCopyIn };
    c.free();
  }
  input.free();
  log(`\nCPU background renderer alone (wasm in Node, ${W}x${H} frame, ${MW}x${MH} mask), ms per frame`);
  for (const [name, ms] of Object.entries(results)) {
    log(`  ${name}: render ${ms.median.toFixed(2)} median, ${ms.best.toFixed(2)} best; `
      + `${ms.withCopyIn.toFixed(2)} mean with the frame and mask copied in`);
  }
  return { size: `${W}x${H}`, mask: `${MW}x${MH}`, msPerFrame: results };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runCompositorBench();
