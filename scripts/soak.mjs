// `npm run soak` (issue #10, item 8): a long run in headless Chromium, not part of `npm test`.
// 1. 720p background blur on the fake camera plus noise suppression on the fake microphone
//    (speech + pink noise, looped) for --minutes (default 30), sampled every --sample seconds:
//    JS heaps of the page and the video worker after a full GC
//    (performance.measureUserAgentSpecificMemory, eager), the video wasm memory (stats()), the
//    VideoFrames held (the worker's ledger), errors, per-frame times (stats(), read every second
//    and averaged per sample), the worklet's cost per 10 ms of audio and its voice detection.
// 2. --cycles (default 1000) setProcessor/stopProcessor cycles on livekit-client's own local
//    tracks, for BackgroundProcessor (each cycle waits for a processed frame, read through a
//    <video>, and reports its slowest steps: setProcessor, first frame, stop) and for
//    NoiseSuppressionProcessor (each cycle waits until the worklet runs), with the same checks.
// Prints a summary table and exits 1 when a check fails. The numbers in README's "Soak"
// paragraph come from one run of this script.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeNoisyMic, withBrowser } from '../tests/browser/harness.mjs';
import { createScene, writeY4m } from '../tests/helpers/video-scene.mjs';

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    sample: { type: 'string', default: '30' }, // seconds between samples
    cycles: { type: 'string', default: '1000' },
    'cycle-sample': { type: 'string', default: '100' }, // cycles between memory samples
  },
});
const MINUTES = Number(opts.minutes);
const SAMPLE_S = Number(opts.sample);
const CYCLES = Number(opts.cycles);
const CYCLE_SAMPLE = Number(opts['cycle-sample']);
for (const [name, v] of [['--minutes', MINUTES], ['--sample', SAMPLE_S], ['--cycles', CYCLES], ['--cycle-sample', CYCLE_SAMPLE]]) {
  if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`${name} must be a number >= 0, got ${v}`);
}

const WIDTH = 1280;
const HEIGHT = 720;
const FPS = 30;
const BLUR_RADIUS = 10;
/** Allowed growth of the JS heaps (page + worker, after GC) from the first to the last window. */
const MAX_HEAP_GROWTH = 2 << 20;
/** Allowed growth of the per-frame time from the first to the last window (load on a shared machine moves it too). */
const MAX_FRAME_TIME_RATIO = 1.25;
/** How long a video cycle waits for its first processed frame after setProcessor resolved. */
const FIRST_FRAME_MS = 10_000;
/** Allowed growth of the page's heap over the cycles after the first sample (~1 KiB a cycle). */
const MAX_CYCLE_HEAP_GROWTH = 1 << 20;

const MiB = (b) => (b / 2 ** 20).toFixed(2);
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ------------------------------------------------------------------------------------------
// Page-side code (serialised by playwright: no closure over Node values).

/** Heap bytes after a full GC, by scope (Window, DedicatedWorkerGlobalScope), and the worker count. */
async function pageMemory() {
  const m = await performance.measureUserAgentSpecificMemory();
  const by = { Window: 0, DedicatedWorkerGlobalScope: 0, other: 0 };
  const workers = new Set();
  for (const b of m.breakdown) {
    const scope = b.attribution[0]?.scope;
    by[scope in by ? scope : 'other'] += b.bytes;
    for (const a of b.attribution) if (a.scope === 'DedicatedWorkerGlobalScope') workers.add(a.url);
  }
  return { total: m.bytes, window: by.Window, worker: by.DedicatedWorkerGlobalScope, other: by.other, workers: workers.size };
}

async function pageStart({ width, height, fps, blurRadius }) {
  const { FrameTap, openCamera } = await import('/__tests__/video-page.js');
  const { rawMicrophone } = await import('/__tests__/page-helpers.js');
  const { blurBackground, suppressNoise } = await import('/pkg/index.js');
  if (!crossOriginIsolated) throw new Error('the page is not cross-origin isolated: no memory measurement');
  const camera = await openCamera({ width, height, frameRate: fps });
  const fx = await blurBackground(camera, { blurRadius });
  const output = new FrameTap(fx.track); // the consumer (WebRTC in a call): reads and closes every frame
  output.timestamps = null; // keeps the count only: a list of every timestamp would grow the heap we measure
  const mic = await rawMicrophone();
  const ns = await suppressNoise(mic);
  const s = { camera, fx, output, mic, ns, ticks: [], vad: [], audioErrors: [] };
  ns.node.addEventListener('vad', (e) => s.vad.push([e.probability, e.cpuMsPer10ms]));
  ns.node.addEventListener('error', (e) => s.audioErrors.push(e.message));
  // stats() times are moving averages: read every second, averaged per sample.
  s.timer = setInterval(() => {
    const st = fx.stats();
    s.ticks.push([st.frameMs, st.copyMs, st.segmentMs, st.renderMs, st.outputMs, st.segmentEvery, st.fps]);
  }, 1000);
  globalThis.__soak = s;
  await ns.node.ready;
  return { path: fx.stats().path, audioStatus: ns.node.status, audioRate: ns.context.sampleRate, audioWasmBytes: ns.node.memoryBytes };
}

async function pageSample() {
  const s = globalThis.__soak;
  const st = s.fx.stats();
  const ticks = s.ticks.splice(0).filter((t) => t[0] > 0);
  const vad = s.vad.splice(0);
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const col = (i) => mean(ticks.map((t) => t[i]));
  return {
    wasmBytes: st.wasmMemoryBytes,
    framesAlive: st.framesAlive,
    framesAlivePeak: st.framesAlivePeak,
    frames: st.frames, rendered: st.rendered, passthrough: st.passthrough, errors: st.errors, lastError: st.lastError,
    renderer: st.renderer, outFrames: s.output.count,
    frameMs: col(0), copyMs: col(1), segmentMs: col(2), renderMs: col(3), outputMs: col(4), segmentEvery: col(5), fps: col(6),
    audio: {
      status: s.ns.node.status, errors: s.audioErrors.length, events: vad.length,
      vadMax: Math.max(0, ...vad.map((v) => v[0])),
      cpuMsPer10ms: mean(vad.map((v) => v[1]).filter((x) => x !== undefined)),
      contextState: s.ns.context.state,
    },
  };
}

async function pageStop() {
  const s = globalThis.__soak;
  clearInterval(s.timer);
  await s.output.stop();
  await s.fx.destroy();
  const video = s.fx.stats();
  const audio = await s.ns.destroy(); // { live, memoryBytes } confirmed by the worklet, or null
  s.camera.stop();
  s.mic.stop();
  globalThis.__soak = null;
  return {
    video: { framesAlive: video.framesAlive, opened: video.framesOpened, closed: video.framesClosed, handedOver: video.framesHandedOver, errors: video.errors, frames: video.frames },
    audio, outputEnded: s.fx.track.readyState,
  };
}

/** Creates a livekit-client local track of `kind` and the matching processor of ours. */
async function pageCyclesSetup({ kind, width, height, fps, blurRadius }) {
  const { BackgroundProcessor, NoiseSuppressionProcessor } = await import('/pkg/index.js');
  const { createLocalAudioTrack, createLocalVideoTrack, setLogLevel } = await import('/vendor/livekit-client/livekit-client.esm.mjs');
  setLogLevel('warn');
  const c = { kind, errors: [] };
  if (kind === 'video') {
    c.track = await createLocalVideoTrack({ resolution: { width, height, frameRate: fps } });
    c.processor = new BackgroundProcessor({ type: 'blur', blurRadius });
  } else {
    c.track = await createLocalAudioTrack({ echoCancellation: false, noiseSuppression: false, autoGainControl: false });
    // Outside a Room nothing gives the track a context: the application does (see index.d.ts).
    c.context = new AudioContext();
    await c.track.setAudioContext(c.context);
    c.processor = new NoiseSuppressionProcessor();
    c.processor.addEventListener('error', (e) => c.errors.push(e.message));
  }
  c.raw = c.track.mediaStreamTrack;
  globalThis.__cycles = c;
}

/**
 * `n` cycles: setProcessor, wait until it really runs (video: a frame out of the processed
 * track; audio: the worklet reports ready), stopProcessor; each checked after the stop.
 */
async function pageCycles({ n, offset, firstFrameMs: FIRST_FRAME_MS }) {
  const { FrameTap } = await import('/__tests__/video-page.js');
  const c = globalThis.__cycles;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const bad = [];
  let frames = 0;
  let waitMs = 0;
  let wasmBytes = 0;
  // The slowest cycle's steps (ms): setProcessor, then its first processed frame, then the stop.
  const slowest = { setMs: [0], firstFrameMs: [0], stopMs: [0] };
  const note = (key, ms, cycle) => { if (ms > slowest[key][0]) slowest[key] = [Math.round(ms), cycle]; };
  for (let i = 0; i < n; i++) {
    const cycle = offset + i + 1;
    const t = performance.now();
    await c.track.setProcessor(c.processor);
    const tSet = performance.now();
    note('setMs', tSet - t, cycle);
    if (c.kind === 'video') {
      // Read through a <video>, not a MediaStreamTrackProcessor of the soak's: one stopped under
      // a pending read can leave a frame to the garbage collector (js/video/frame-relay.js),
      // and the frames checked here are the package's.
      const tap = new FrameTap(c.processor.processedTrack, { video: true });
      while (tap.count < 1 && performance.now() - tSet < FIRST_FRAME_MS) await sleep(5);
      const got = tap.count;
      const tFirst = performance.now();
      note('firstFrameMs', tFirst - tSet, cycle);
      waitMs += tFirst - t;
      const running = got < 1 ? c.processor.stats() : null; // where the frames stopped
      const output = c.processor.processedTrack;
      const outputState = output && { readyState: output.readyState, muted: output.muted };
      await tap.stop(); // the consumer goes first, as when livekit unpublishes
      await c.track.stopProcessor();
      note('stopMs', performance.now() - tFirst, cycle);
      const st = c.processor.stats();
      frames += st.frames;
      wasmBytes = Math.max(wasmBytes, st.wasmMemoryBytes ?? 0);
      const problems = [];
      if (got < 1) {
        const r = running;
        problems.push(`no processed frame within ${FIRST_FRAME_MS / 1000} s of setProcessor (which took ${Math.round(tSet - t)} ms): `
          + `the worker had read ${r?.frames} camera frames (${r?.rendered} processed, ${r?.passthrough} passed through, opened ${r?.framesOpened}, `
          + `handed over ${r?.framesHandedOver}, input stalls ${r?.inputStalls}), renderer ${r?.renderer}, output ${JSON.stringify(outputState)}, camera ${c.raw.readyState}${c.raw.muted ? ' muted' : ''}`);
      }
      if (st.framesAlive !== 0) problems.push(`${st.framesAlive} frames left open`);
      if (st.framesOpened !== st.framesClosed + st.framesHandedOver) problems.push(`frames opened ${st.framesOpened} != closed ${st.framesClosed} + handed over ${st.framesHandedOver}`);
      if (st.errors) problems.push(`${st.errors} errors (${st.lastError})`);
      if (problems.length) bad.push({ cycle, problems });
    } else {
      const node = c.processor.node;
      const ready = await node.ready;
      waitMs += performance.now() - t;
      await c.track.stopProcessor();
      const report = await node.destroy(); // the promise stopProcessor started
      wasmBytes = Math.max(wasmBytes, report?.memoryBytes ?? 0);
      const problems = [];
      if (!ready) problems.push(`the worklet did not start (${node.error?.message})`);
      if (!report) problems.push('destroy not confirmed by the worklet');
      else if (report.live !== 0) problems.push(`${report.live} suppressors left alive`);
      if (problems.length) bad.push({ cycle, problems });
    }
    if (c.processor.processedTrack !== undefined) bad.push({ cycle: offset + i + 1, problems: ['processedTrack still set after stopProcessor'] });
  }
  return { bad: bad.slice(0, 10), badCount: bad.length, frames, waitMs: waitMs / n, wasmBytes, errors: c.errors.splice(0), rawLive: c.raw.readyState, slowest };
}

async function pageCyclesTeardown() {
  const c = globalThis.__cycles;
  c.track.stop();
  await c.context?.close();
  globalThis.__cycles = null;
}

// ------------------------------------------------------------------------------------------

const checks = [];
let measure; // () => pageMemory() after a GC, set once the page is open
let phase = 'start';
function check(name, ok, detail) {
  checks.push({ name, ok: !!ok, detail });
  if (!ok) log(`CHECK FAILED: ${name}: ${detail}`);
}

const median = (xs) => { const s = xs.filter(Number.isFinite).sort((a, b) => a - b); return s.length ? s[s.length >> 1] : NaN; };
const avg = (xs) => { const s = xs.filter(Number.isFinite); return s.reduce((a, b) => a + b, 0) / s.length; };

async function soak(page) {
  log(`soak: ${MINUTES} min of ${WIDTH}x${HEIGHT} blur (radius ${BLUR_RADIUS}) + noise suppression, a sample every ${SAMPLE_S} s; load ${load()}`);
  const started = await page.evaluate(pageStart, { width: WIDTH, height: HEIGHT, fps: FPS, blurRadius: BLUR_RADIUS });
  log(`running: video path ${started.path}, audio ${started.audioStatus} at ${started.audioRate} Hz, worklet wasm ${MiB(started.audioWasmBytes)} MiB`);
  const samples = [];
  const t0 = Date.now();
  const end = t0 + MINUTES * 60_000;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(SAMPLE_S * 1000, Math.max(0, end - Date.now()))));
    const s = await page.evaluate(pageSample);
    s.heap = await measure();
    s.minute = (Date.now() - t0) / 60_000;
    s.load = loadavg()[0];
    samples.push(s);
    log(`${s.minute.toFixed(1).padStart(5)} min: heap page ${MiB(s.heap.window)} + worker ${MiB(s.heap.worker)} MiB, wasm ${MiB(s.wasmBytes)} MiB, frames ${s.outFrames} out (${s.rendered} processed, ${s.passthrough} passed through), open ${s.framesAlive}, errors ${s.errors}, frame ${s.frameMs.toFixed(2)} ms (copy ${s.copyMs.toFixed(2)} segment ${s.segmentMs.toFixed(2)} render ${s.renderMs.toFixed(2)} output ${s.outputMs.toFixed(2)}, every ${s.segmentEvery.toFixed(2)}), ${s.fps.toFixed(1)} fps; audio ${s.audio.status} ${s.audio.events} vad events (max ${s.audio.vadMax.toFixed(2)}), ${s.audio.cpuMsPer10ms.toFixed(3)} ms/10 ms; load ${load()}`);
  }
  const stopped = await page.evaluate(pageStop);
  log(`stopped: ${JSON.stringify(stopped)}`);
  if (samples.length < 2) throw new Error('the soak needs at least two samples: raise --minutes or lower --sample');

  // Windows compared: the first and last 5 minutes (a third of a shorter run); the first
  // sample is the warm-up (instances, model, first allocations) and stays out of the heap figures.
  const span = Math.min(5, MINUTES / 3);
  const inFirst = samples.filter((s) => s.minute <= span + 0.1).length;
  const first = samples.slice(0, Math.max(2, inFirst));
  const last = samples.slice(-Math.max(1, samples.filter((s) => s.minute >= MINUTES - span - 0.1).length));
  const heapOf = (s) => s.heap.window + s.heap.worker;
  const firstHeap = median(first.slice(first.length > 1 ? 1 : 0).map(heapOf));
  const lastHeap = median(last.map(heapOf));
  const wasmFirst = samples[0].wasmBytes;
  const wasmLast = samples.at(-1).wasmBytes;
  const frameFirst = avg(first.map((s) => s.frameMs));
  const frameLast = avg(last.map((s) => s.frameMs));
  const fig = {
    minutes: +samples.at(-1).minute.toFixed(1), samples: samples.length, path: started.path, renderer: samples.at(-1).renderer,
    heapFirstMiB: +MiB(firstHeap), heapLastMiB: +MiB(lastHeap), heapGrowthKiB: Math.round((lastHeap - firstHeap) / 1024),
    pageHeapMiB: [+MiB(samples[0].heap.window), +MiB(samples.at(-1).heap.window)],
    workerHeapMiB: [+MiB(samples[0].heap.worker), +MiB(samples.at(-1).heap.worker)],
    videoWasmMiB: [+MiB(wasmFirst), +MiB(wasmLast)],
    audioWasmMiB: [+MiB(started.audioWasmBytes), stopped.audio ? +MiB(stopped.audio.memoryBytes) : null],
    framesOut: samples.at(-1).outFrames, framesProcessed: samples.at(-1).rendered, passthrough: samples.at(-1).passthrough,
    framesAlivePeak: samples.at(-1).framesAlivePeak, framesOpenAtEnd: stopped.video.framesAlive,
    videoErrors: stopped.video.errors, audioErrors: samples.reduce((n, s) => n + s.audio.errors, 0),
    frameMsFirst: +frameFirst.toFixed(2), frameMsLast: +frameLast.toFixed(2),
    stagesFirst: ['copyMs', 'segmentMs', 'renderMs', 'outputMs'].map((k) => +avg(first.map((s) => s[k])).toFixed(2)),
    stagesLast: ['copyMs', 'segmentMs', 'renderMs', 'outputMs'].map((k) => +avg(last.map((s) => s[k])).toFixed(2)),
    segmentEvery: [+avg(first.map((s) => s.segmentEvery)).toFixed(2), +avg(last.map((s) => s.segmentEvery)).toFixed(2)],
    fps: [+avg(first.map((s) => s.fps)).toFixed(1), +avg(last.map((s) => s.fps)).toFixed(1)],
    audioMsPer10ms: [+avg(first.map((s) => s.audio.cpuMsPer10ms)).toFixed(3), +avg(last.map((s) => s.audio.cpuMsPer10ms)).toFixed(3)],
    load: [+avg(first.map((s) => s.load)).toFixed(2), +avg(last.map((s) => s.load)).toFixed(2)],
  };
  check('soak: JS heaps flat', lastHeap - firstHeap < MAX_HEAP_GROWTH, `page + worker ${MiB(firstHeap)} -> ${MiB(lastHeap)} MiB (< ${MiB(MAX_HEAP_GROWTH)} MiB growth)`);
  check('soak: video wasm memory flat', wasmLast === wasmFirst, `${wasmFirst} -> ${wasmLast} bytes`);
  check('soak: worklet wasm memory flat', stopped.audio && stopped.audio.memoryBytes === started.audioWasmBytes, `${started.audioWasmBytes} -> ${stopped.audio?.memoryBytes} bytes`);
  check('soak: no suppressor left alive', stopped.audio?.live === 0, `live ${stopped.audio?.live}`);
  check('soak: at most 2 frames held at a time', fig.framesAlivePeak <= 2, `peak ${fig.framesAlivePeak}`);
  check('soak: 0 frames open at the end', stopped.video.framesAlive === 0 && stopped.video.opened === stopped.video.closed + stopped.video.handedOver,
    `open ${stopped.video.framesAlive}; opened ${stopped.video.opened}, closed ${stopped.video.closed}, handed over ${stopped.video.handedOver}`);
  check('soak: 0 video errors', samples.every((s) => s.errors === 0) && stopped.video.errors === 0, `${stopped.video.errors} (${samples.at(-1).lastError})`);
  check('soak: 0 audio errors, suppression running throughout', samples.every((s) => s.audio.errors === 0 && s.audio.status === 'running' && s.audio.events > 0), `${fig.audioErrors} errors`);
  check('soak: voice detected in every sample (the mic loop is processed)', samples.every((s) => s.audio.vadMax > 0.5), `min vad max ${Math.min(...samples.map((s) => s.audio.vadMax)).toFixed(2)}`);
  check('soak: frames keep being processed', samples.every((s, i) => s.rendered > (samples[i - 1]?.rendered ?? 0)), `${fig.framesProcessed} processed`);
  check('soak: per-frame time does not grow', frameLast <= frameFirst * MAX_FRAME_TIME_RATIO, `${frameFirst.toFixed(2)} -> ${frameLast.toFixed(2)} ms (<= x${MAX_FRAME_TIME_RATIO})`);
  check('soak: output track ended by destroy()', stopped.outputEnded === 'ended', stopped.outputEnded);
  return fig;
}

async function cycles(page, kind) {
  if (CYCLES === 0) return null;
  log(`${kind}: ${CYCLES} setProcessor/stopProcessor cycles on a livekit-client Local${kind === 'video' ? 'Video' : 'Audio'}Track; load ${load()}`);
  await page.evaluate(pageCyclesSetup, { kind, width: WIDTH, height: HEIGHT, fps: FPS, blurRadius: BLUR_RADIUS });
  const memory = [await measure()];
  let bad = 0;
  const badList = [];
  let errors = [];
  let frames = 0;
  let wasm = [];
  let waitMs = 0;
  let rawLive = 'live';
  const slowest = { setMs: [0], firstFrameMs: [0], stopMs: [0] }; // [ms, cycle]
  for (let done = 0; done < CYCLES;) {
    const n = Math.min(CYCLE_SAMPLE || CYCLES, CYCLES - done);
    const r = await page.evaluate(pageCycles, { n, offset: done, firstFrameMs: FIRST_FRAME_MS });
    for (const [key, [ms, cycle]] of Object.entries(r.slowest)) if (ms > slowest[key][0]) slowest[key] = [ms, cycle];
    done += n;
    bad += r.badCount;
    badList.push(...r.bad);
    errors = errors.concat(r.errors);
    frames += r.frames;
    wasm.push(r.wasmBytes);
    waitMs += r.waitMs * n;
    rawLive = r.rawLive;
    const m = await measure();
    memory.push(m);
    log(`  ${String(done).padStart(5)} cycles: heap page ${MiB(m.window)} MiB, workers alive ${m.workers} (${MiB(m.worker)} MiB), wasm ${MiB(r.wasmBytes)} MiB, bad cycles ${bad}, ${r.waitMs.toFixed(0)} ms to running; load ${load()}`);
  }
  await page.evaluate(pageCyclesTeardown);
  const after = await measure();
  // The first sample after cycling is the baseline (first instances, compiled code, caches).
  const base = memory[1].window;
  const fig = {
    cycles: CYCLES, badCycles: bad, errors: errors.length,
    heapBeforeMiB: +MiB(memory[0].window), heapFirstSampleMiB: +MiB(base), heapLastMiB: +MiB(memory.at(-1).window),
    heapGrowthKiB: Math.round((memory.at(-1).window - base) / 1024),
    workersAliveAtEnd: after.workers, wasmMiB: [+MiB(wasm[0]), +MiB(wasm.at(-1))],
    msToRunning: +(waitMs / CYCLES).toFixed(1), framesPerCycle: kind === 'video' ? +(frames / CYCLES).toFixed(1) : undefined,
    slowest: Object.fromEntries(Object.entries(slowest).filter(([key]) => kind === 'video' || key === 'setMs').map(([key, [ms, cycle]]) => [key, `${ms} ms (cycle ${cycle})`])),
  };
  if (badList.length) log(`  first bad cycles: ${JSON.stringify(badList.slice(0, 5))}`);
  check(`${kind} cycles: every cycle ran and stopped clean`, bad === 0, `${bad} bad cycles`);
  check(`${kind} cycles: no errors`, errors.length === 0, errors.slice(0, 3).join('; '));
  check(`${kind} cycles: page heap flat`, fig.heapGrowthKiB * 1024 < MAX_CYCLE_HEAP_GROWTH, `${fig.heapFirstSampleMiB} -> ${fig.heapLastMiB} MiB`);
  check(`${kind} cycles: wasm memory flat`, wasm.every((b) => b === wasm[0]), wasm.map(MiB).join(', '));
  check(`${kind} cycles: no worker left`, after.workers === 0, `${after.workers} workers`);
  check(`${kind} cycles: livekit's own track left running`, rawLive === 'live', rawLive);
  return fig;
}

const dir = mkdtempSync(join(tmpdir(), 'vme-soak-'));
const camera = join(dir, 'camera.y4m');
writeY4m(camera, createScene({ width: WIDTH, height: HEIGHT, person: 'grace-hopper', background: 'brick' }), { frames: 60, fps: FPS });
const mic = makeNoisyMic({ snrDb: 0 });
const results = {};
try {
  // The fake microphone loops (the harness plays a test's file once: it adds %noloop).
  const args = ['--enable-blink-features=ForceEagerMeasureMemory', `--use-file-for-fake-audio-capture=${mic.path}`];
  await withBrowser({ fakeVideo: camera, isolated: true, args }, async ({ page, errors }) => {
    const consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) consoleErrors.push(`[${phase}] ${m.text()}`);
    });
    const cdp = await page.context().newCDPSession(page);
    // The page's heap after a forced full GC (measureUserAgentSpecificMemory's eager mode collects too).
    measure = async () => { await cdp.send('HeapProfiler.collectGarbage'); return page.evaluate(pageMemory); };
    phase = 'soak';
    if (MINUTES > 0) results.soak = await soak(page);
    phase = 'video cycles';
    results.videoCycles = await cycles(page, 'video');
    phase = 'audio cycles';
    results.audioCycles = await cycles(page, 'audio');
    check('no uncaught page errors', errors.length === 0, errors.map(String).slice(0, 3).join('; '));
    // Counted by phase and message: Chromium's "A VideoFrame was garbage collected without
    // being closed" is a leaked frame.
    const counts = {};
    for (const e of consoleErrors) counts[e] = (counts[e] ?? 0) + 1;
    check('no console errors', consoleErrors.length === 0, Object.entries(counts).map(([e, n]) => `${n}x ${e}`).join('; '));
  });
} catch (error) {
  check('the run completed', false, error.stack ?? String(error));
} finally {
  mic.cleanup();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nSoak summary (Node ${process.version}, load average now ${load()}; 2-core machine shared with other work)`);
for (const [name, fig] of Object.entries(results)) if (fig) console.log(`${name}: ${JSON.stringify(fig)}`);
console.log('\n| check | result | detail |\n| --- | --- | --- |');
for (const c of checks) console.log(`| ${c.name} | ${c.ok ? 'ok' : 'FAILED'} | ${c.detail} |`);
const failed = checks.filter((c) => !c.ok).length;
console.log(failed ? `\n${failed} check(s) failed` : '\nall checks passed');
process.exitCode = failed ? 1 : 0;
