// Browser test harness: one browser engine (tests/browser/engines/: Chromium through
// playwright-core, Firefox ESR through puppeteer-core, WebKitGTK through WebKitWebDriver), the
// package served by scripts/serve.mjs in-process on a free port with the tests' own routes, a
// fresh profile per launch, everything closed on the way out (even when the test fails).
import assert from 'node:assert/strict';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { alignByXcorr, dbfs, framesDb, pinkNoise, readWav, rms, shift, siSdr, speechMask, writeWav } from '../helpers/audio.mjs';
import { engine as engineNamed } from './engines/index.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '../..');
export const SPEECH_WAV = join(ROOT, 'tests/fixtures/speech.wav');

const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const WORKER = '/pkg/video/video-worker.js';

/**
 * The empty test page on the server's origin (a secure context: 127.0.0.1). It records
 * uncaught errors (read back by drivers without error events) and tells the page helpers which
 * files stand in for camera and microphone in engines without file-backed fake devices.
 */
function testPage(fake) {
  return `<!doctype html><title>test</title><script>
window.__vmeErrors = [];
addEventListener('error', (e) => __vmeErrors.push(String(e.message)));
addEventListener('unhandledrejection', (e) => __vmeErrors.push('unhandled rejection: ' + (e.reason?.message ?? e.reason)));
window.__vmeFake = ${JSON.stringify(fake)};
</script>`;
}

/**
 * Runs `fn({ page, url, errors, pid, serveFile, engine })` against a fresh browser of `engine`
 * (a name from engines/index.mjs, default 'chromium') and a fresh server, then closes both.
 * `page.evaluate(fn, arg)` runs in the page in every engine; `errors` collects its uncaught
 * errors; `pid`: the browser's main process where the driver knows it (Firefox). `fakeAudio`: WAV file for the microphone (played once, no loop). `fakeVideo`: Y4M
 * file for the camera (looped: a camera never runs out of frames). Chromium plays them as its
 * fake devices; elsewhere the page builds the tracks from the same files. `args`: extra
 * Chromium switches. `isolated`: serve the test page (and the video worker) cross-origin
 * isolated, so that performance.measureUserAgentSpecificMemory() works. `headers`: added to
 * every response, the test page's included (e.g. a Content-Security-Policy). `mounts`: more
 * directories to serve, { '/prefix/': absolute directory } (a test build of the package).
 * `workerPrelude`: code served before the package's video worker (instrumentation a test
 * needs inside the worker; served by the harness, so it works in every engine). Run once more
 * when the engine's web process is lost (ENGINE_LOST).
 */
export async function withBrowser(options, fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runInBrowser(options, fn);
    } catch (error) {
      if (!ENGINE_LOST.test(error?.message ?? '') || attempt === 2) throw error;
      console.log(`!!! the browser's web process was lost (${error.message}): trying once more`);
    }
  }
}

/**
 * WebKitGTK's web process can die mid-run (its driver then answers "Could not parse script
 * result" for the pending script). The main cause, captured frames of an accelerated canvas
 * read in a worker, is avoided by the fake camera (video-page.js); what remains, WebKitGTK's
 * own crash in GStreamer on a worker thread (2 sessions in 48, README; 1 test in a whole run
 * on 2026-11-30), is tried once more with a new browser, loudly, and a second loss fails the
 * test naming the engine.
 */
const ENGINE_LOST = /Could not parse script result/;

async function runInBrowser({ engine = 'chromium', fakeAudio, fakeVideo, args = [], isolated = false, headers: extra = {}, mounts = {}, workerPrelude = null } = {}, fn) {
  const e = typeof engine === 'string' ? engineNamed(engine) : engine;
  const files = new Map();
  /** Makes `bytes` fetchable by the page at /__files__/name. */
  const serveFile = (name, bytes) => { files.set(name, bytes); return `/__files__/${name}`; };
  const fileDevices = e.driver !== 'chromium';
  const fake = fileDevices ? {
    audio: fakeAudio ? serveFile('fake-microphone.wav', readFileSync(fakeAudio)) : null,
    video: fakeVideo ? serveFile('fake-camera.y4m', readFileSync(fakeVideo)) : null,
  } : null;
  const handle = (req, res, pathname) => {
    const reply = (type, body, headers = {}) => {
      res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    };
    if (pathname === '/__test__.html') return reply('text/html; charset=utf-8', Buffer.from(testPage(fake)), { ...extra, ...(isolated ? ISOLATION : {}) });
    // Test-only page code (page-helpers.js, video-page.js), kept out of www/.
    if (pathname.startsWith('/__tests__/')) {
      return reply('text/javascript; charset=utf-8', readFileSync(join(HERE, pathname.split('/').pop())));
    }
    if (workerPrelude && pathname === WORKER) {
      const code = `${workerPrelude}\n${readFileSync(join(ROOT, 'pkg/video/video-worker.js'), 'utf8')}`;
      return reply('text/javascript; charset=utf-8', Buffer.from(code), headers(pathname));
    }
    if (pathname.startsWith('/__files__/')) {
      const body = files.get(pathname.split('/').pop());
      if (!body) return false; // the server's 404
      return reply('application/octet-stream', body);
    }
    return false;
  };
  // A worker's isolation comes from its own response headers.
  const headers = (pathname) => ({ ...extra, ...(isolated && pathname === WORKER ? ISOLATION : {}) });
  const server = await startServer({ port: 0, handle, headers, extraMounts: Object.entries(mounts) });
  let browser;
  try {
    const { launch } = await import(`./engines/${e.driver}.mjs`);
    browser = await launch({ url: `${server.url}__test__.html`, fakeAudio, fakeVideo, args, features: e.features });
    return await fn({ page: browser.page, url: server.url, errors: browser.errors, pid: browser.pid, serveFile, engine: e });
  } catch (error) {
    if (e.name !== 'chromium' && error instanceof Error && !error.message.startsWith(`[${e.name}]`)) error.message = `[${e.name}] ${error.message}`;
    throw error;
  } finally {
    await browser?.close();
    await server.close();
  }
}

/**
 * Writes the fake microphone's input to a temp WAV: the speech fixture at `speechDbfs` (RMS
 * over the fixture) plus pink noise at `snrDb`, with `leadSeconds` of noise alone first (the
 * mic starts before the page records) and `tailSeconds` of noise after. Returns the path and
 * the clean and noise parts as mixed.
 *
 * -32 dBFS is a plausible speech level for a laptop microphone without AGC. (The level matters
 * for the noise-only lead: RNNoise, C or ours, removes only ~8 dB there at -22 dBFS; in the
 * pauses between speech both remove ~29 dB at any level from -22 to -36 dBFS.)
 */
export function makeNoisyMic({ snrDb = 0, speechDbfs = -32, leadSeconds = 1.5, tailSeconds = 0.5, seed = 7 } = {}) {
  const { sampleRate, channels } = readWav(SPEECH_WAV);
  const gain = 10 ** ((speechDbfs - dbfs(channels[0])) / 20);
  const lead = Math.round(leadSeconds * sampleRate);
  const clean = new Float32Array(lead + channels[0].length + Math.round(tailSeconds * sampleRate));
  for (let i = 0; i < channels[0].length; i++) clean[lead + i] = channels[0][i] * gain;
  // SNR over the fixture's own span (its pauses included), as mixAtSnr would measure it.
  const speechPart = clean.subarray(lead, lead + channels[0].length);
  const noise = pinkNoise(clean.length, seed);
  const noiseGain = rms(speechPart) / rms(noise.subarray(lead, lead + speechPart.length)) / 10 ** (snrDb / 20);
  const mix = new Float32Array(clean.length);
  for (let i = 0; i < mix.length; i++) { noise[i] *= noiseGain; mix[i] = clean[i] + noise[i]; }
  const peak = mix.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  if (peak >= 1) throw new Error(`the noisy speech clips (peak ${peak.toFixed(2)}): lower speechDbfs`);
  const path = join(mkdtempSync(join(tmpdir(), 'vme-mic-')), 'noisy-speech.wav');
  writeWav(path, [mix], sampleRate);
  return { path, sampleRate, clean, noise, mix, cleanup: () => rmSync(dirname(path), { recursive: true, force: true }) };
}

/**
 * The live suppression tests: `mic` (makeNoisyMic) as the microphone of a fresh `engine`, through
 * suppressNoise(`options`) and recorded with the raw microphone (page-helpers.js
 * recordSuppressedMicrophone, the microphone's context at `micRate`) for the file's length + 0.7 s.
 * Returns the page's figures with `raw` and `processed` as Float32Arrays.
 */
export function recordSuppressedLive({ engine, mic, micRate, options }) {
  const seconds = mic.mix.length / mic.sampleRate + 0.7;
  return withBrowser({ engine, fakeAudio: mic.path }, async ({ page, errors }) => {
    const result = await page.evaluate(async (args) => {
      const { recordSuppressedMicrophone } = await import('/__tests__/page-helpers.js');
      return recordSuppressedMicrophone(args);
    }, { micRate, options, seconds });
    assert.deepEqual(errors, [], 'no uncaught page errors');
    return { ...result, raw: fromBase64(result.raw), processed: fromBase64(result.processed) };
  });
}

/** base64 of Float32 bytes (from the page's toBase64) -> Float32Array. */
export function fromBase64(text) {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

const FRAME_MS = 10;

/**
 * Delay of `a` relative to `b` in samples (a[n + d] ~ b[n]), searched within +-maxSeconds:
 * coarse on 10 ms log-energy envelopes (cheap over seconds of lag), then sample-exact by
 * cross-correlation around it.
 */
export function findDelay(a, b, sampleRate, maxSeconds = 4) {
  const frame = Math.round(sampleRate * FRAME_MS / 1000);
  const env = (x) => {
    const db = framesDb(x, sampleRate, FRAME_MS).map((d) => Math.max(d, -100));
    const mean = db.reduce((s, d) => s + d, 0) / db.length;
    return db.map((d) => d - mean);
  };
  const ea = env(a);
  const eb = env(b);
  const maxFrames = Math.round(maxSeconds * 1000 / FRAME_MS);
  let coarse = 0;
  let best = -Infinity;
  for (let lag = -maxFrames; lag <= maxFrames; lag++) {
    let s = 0;
    let n = 0;
    for (let i = Math.max(0, -lag); i < eb.length && i + lag < ea.length; i++) { s += ea[i + lag] * eb[i]; n++; }
    if (n > ea.length / 4 && s / n > best) { best = s / n; coarse = lag; }
  }
  // Refine on the loudest 2 s of b (speech), within two frames of the coarse lag.
  const span = Math.min(b.length, 2 * sampleRate);
  let start = 0;
  let loudest = -Infinity;
  for (let s = 0; s + span <= b.length; s += frame * 10) {
    const level = dbfs(b, s, s + span);
    if (level > loudest) { loudest = level; start = s; }
  }
  const bPart = b.subarray(start, start + span);
  const aPart = shift(a, start + coarse * frame, span);
  return coarse * frame + alignByXcorr(aPart, bPart, 2 * frame);
}

/**
 * Compares recordings of the fake microphone (raw) and of the denoised track against the
 * file the microphone played (`mic` from makeNoisyMic). Frames are 10 ms on the file's
 * timeline; speech and pauses come from the clean speech, each shrunk by `margin` frames so
 * that alignment and the suppressor's own smoothing do not blur them. Pauses count from the
 * first speech on (pauses *in* speech); the noise-only lead before it is reported apart.
 */
export function measureSuppression(mic, raw, processed, { margin = 5 } = {}) {
  const { sampleRate, clean, mix } = mic;
  const frame = Math.round(sampleRate * FRAME_MS / 1000);
  const rawDelay = findDelay(raw, mix, sampleRate);
  const procDelay = findDelay(processed, clean, sampleRate);
  const speech = speechMask(clean, sampleRate, FRAME_MS);
  const firstSpeech = speech.indexOf(true);
  const within = (f, value) => {
    for (let g = f - margin; g <= f + margin; g++) if ((speech[g] ?? false) !== value) return false;
    return true;
  };
  const power = (x, delay, f) => {
    const start = f * frame + delay;
    return start >= 0 && start + frame <= x.length ? rms(x, start, start + frame) ** 2 : NaN;
  };
  const sum = () => ({ raw: 0, processed: 0, clean: 0, frames: 0 });
  const acc = { lead: sum(), pause: sum(), speech: sum() };
  let covered = [Infinity, -Infinity];
  for (let f = 0; f < speech.length; f++) {
    const r = power(raw, rawDelay, f);
    const p = power(processed, procDelay, f);
    if (!Number.isFinite(r) || !Number.isFinite(p)) continue;
    covered = [Math.min(covered[0], f), Math.max(covered[1], f + 1)];
    const kind = f < firstSpeech - margin ? 'lead'
      : f > firstSpeech && within(f, false) ? 'pause'
        : within(f, true) ? 'speech' : null;
    if (!kind) continue;
    const a = acc[kind];
    a.raw += r; a.processed += p; a.clean += rms(clean, f * frame, (f + 1) * frame) ** 2; a.frames++;
  }
  const db = (x) => 10 * Math.log10(x);
  // Quality over the span both recordings cover, against the clean speech.
  const [from, to] = [covered[0] * frame, covered[1] * frame];
  const part = (x, delay) => shift(x, delay + from, to - from);
  return {
    rawDelay,
    procDelay,
    leadFrames: acc.lead.frames,
    pauseFrames: acc.pause.frames,
    speechFrames: acc.speech.frames,
    leadNoiseReductionDb: db(acc.lead.raw / acc.lead.processed),
    noiseReductionDb: db(acc.pause.raw / acc.pause.processed),
    speechChangeDb: db(acc.speech.processed / acc.speech.clean),
    rawSpeechVsCleanDb: db(acc.speech.raw / acc.speech.clean),
    siSdrRaw: siSdr(part(raw, rawDelay), clean.subarray(from, to)),
    siSdrProcessed: siSdr(part(processed, procDelay), clean.subarray(from, to)),
    speechMask: speech,
  };
}
