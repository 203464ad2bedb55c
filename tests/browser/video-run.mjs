// Shared by the video tests: a fake-camera feed written from a scene, and one run of
// blurBackground in the page that returns frames and counts for Node to measure.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createScene, writeY4m } from '../helpers/video-scene.mjs';

/** Writes the scene's Y4M to a temp dir; returns { path, scene, cleanup }. */
export function makeCamera(sceneOptions, { frames = 90, fps = 30 } = {}) {
  const scene = createScene(sceneOptions);
  const path = join(mkdtempSync(join(tmpdir(), 'vme-cam-')), 'camera.y4m');
  writeY4m(path, scene, { frames, fps });
  return { path, scene, fps, cleanup: () => rmSync(dirname(path), { recursive: true, force: true }) };
}

/** RGBA bytes from the page's base64. */
export function rgbaOf(text) {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * In the page: camera -> blurBackground(options) for `warmupMs`, then counts input and output
 * frames for `countMs`, grabs `grab` output frames and one input frame, destroys the effect.
 * `hide`: hide MediaStreamTrackProcessor & co first (the main-thread fallback).
 */
export async function runBlur(page, { options, width, height, fps, hide = false, warmupMs = 1000, countMs = 3000, grab = 2 }) {
  return page.evaluate(async ({ options, width, height, fps, hide, warmupMs, countMs, grab }) => {
    const { FrameTap, openCamera, hideTrackProcessor, sleep, toBase64 } = await import('/__tests__/video-page.js');
    const { blurBackground } = await import('/pkg/index.js');
    if (hide) hideTrackProcessor();
    const camera = await openCamera({ width, height, frameRate: fps });
    const fx = await blurBackground(camera, options);
    const input = new FrameTap(camera.clone());
    const output = new FrameTap(fx.track);
    await sleep(warmupMs);
    const [inCount, outCount] = await Promise.all([input.countFor(countMs), output.countFor(countMs)]);
    const outFrames = await output.grab(grab);
    const [inFrame] = await input.grab(1);
    const running = fx.stats();
    const sameTrack = fx.track;
    await fx.destroy();
    const final = fx.stats();
    await Promise.all([input.stop(), output.stop()]);
    // Each sink of a track derives its frames' timestamps itself, +-0.1 ms apart: a camera
    // frame's timestamp is matched within 1 ms (frames are 33 ms apart).
    const sorted = Float64Array.from(input.timestamps).sort();
    const matches = (t) => {
      let lo = 0, hi = sorted.length - 1;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < t) lo = mid + 1; else hi = mid; }
      return [sorted[lo], sorted[lo - 1]].some((s) => s !== undefined && Math.abs(s - t) <= 1000);
    };
    // Output frames from before the input tap started cannot be matched: judge the rest.
    const judged = output.timestamps.filter((t) => t >= sorted[0] && t <= sorted.at(-1));
    const result = {
      inCount, outCount, running, final,
      outputEnded: sameTrack.readyState,
      cameraLive: camera.readyState,
      timestampsPreserved: judged.filter(matches).length / judged.length,
      input: { width: inFrame.width, height: inFrame.height, rgba: toBase64(inFrame.rgba) },
      outputs: outFrames.map((f) => ({ width: f.width, height: f.height, rgba: toBase64(f.rgba) })),
    };
    camera.stop();
    return result;
  }, { options, width, height, fps, hide, warmupMs, countMs, grab });
}
