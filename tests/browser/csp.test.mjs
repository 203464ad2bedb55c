// The package under a strict Content-Security-Policy, on every response (page and worker):
// - the minimal policy README states runs both effects through livekit-client (Visio's way),
//   a virtual background from a blob: URL (Visio's uploads) included, with no violation;
// - the same policy without 'wasm-unsafe-eval' makes setProcessor() reject with an error that
//   names what the policy lacks, and livekit keeps sending the microphone and camera
//   unprocessed: sound, not silence; the camera's picture, not a black frame.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromiumTest as test } from './engines/index.mjs';
import { makeNoisyMic, withBrowser } from './harness.mjs';
import { makeCamera, rgbaOf } from './video-run.mjs';
import { highFrequencyEnergy, meanAbsDiff, regions } from '../helpers/video-metrics.mjs';
import { MINIMAL_CSP } from '../helpers/csp.mjs';

const NO_WASM_CSP = MINIMAL_CSP.replace(" 'wasm-unsafe-eval'", '');

const WIDTH = 640;
const HEIGHT = 360;

let camera;
let mic;
before(() => {
  camera = makeCamera({ width: WIDTH, height: HEIGHT, person: 'astronaut', background: 'brick' });
  mic = makeNoisyMic({ snrDb: 10, leadSeconds: 0.5 });
});
after(() => { camera?.cleanup(); mic?.cleanup(); });

/**
 * In the page: livekit tracks for the fake microphone and camera, our processors set on them,
 * then what the tracks livekit sends carry: audio level (an AnalyserNode: no worklet, which a
 * blob: URL would need), VAD, a frame of video.
 */
function runInPage(page) {
  return page.evaluate(async () => {
    const violations = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.effectiveDirective} ${e.blockedURI}`));
    const { BackgroundProcessor, NoiseSuppressionProcessor } = await import('/pkg/index.js');
    const { createLocalAudioTrack, createLocalVideoTrack, setLogLevel } = await import('/vendor/livekit-client/livekit-client.esm.mjs');
    const { FrameTap, sleep, toBase64 } = await import('/__tests__/video-page.js');
    setLogLevel('silent');
    const outcome = (promise) => promise.then(() => 'ok', (error) => `${error.name}: ${error.message}`);

    const audio = await createLocalAudioTrack({ echoCancellation: false, noiseSuppression: false, autoGainControl: false });
    const context = new AudioContext();
    await audio.setAudioContext(context);
    const rawAudio = audio.mediaStreamTrack;
    const noise = new NoiseSuppressionProcessor();
    const vad = [];
    noise.addEventListener('vad', (e) => vad.push(e.probability));
    const audioResult = await outcome(audio.setProcessor(noise));

    const video = await createLocalVideoTrack({ resolution: { width: 640, height: 360, frameRate: 30 } });
    const rawVideo = video.mediaStreamTrack;
    const background = new BackgroundProcessor({ type: 'blur', blurRadius: 20, renderer: 'cpu' });
    const videoResult = await outcome(video.setProcessor(background));

    // What livekit sends now.
    const sentAudio = audio.mediaStreamTrack;
    const sentVideo = video.mediaStreamTrack;
    const meter = new AnalyserNode(context, { fftSize: 2048 });
    context.createMediaStreamSource(new MediaStream([sentAudio])).connect(meter);
    const samples = new Float32Array(meter.fftSize);
    let peakRms = 0;
    for (let i = 0; i < 40; i++) {
      await sleep(50);
      meter.getFloatTimeDomainData(samples);
      peakRms = Math.max(peakRms, Math.sqrt(samples.reduce((s, x) => s + x * x, 0) / samples.length));
    }
    const grab = async (track) => {
      const tap = new FrameTap(track, {});
      const [frame] = await tap.grab(1);
      await tap.stop();
      return toBase64(frame.rgba);
    };
    await sleep(1000);
    const sentFrame = await grab(sentVideo);
    const cameraFrame = await grab(rawVideo);
    // Visio's uploaded backgrounds are blob: URLs.
    let blobBackground = 'not run';
    if (videoResult === 'ok') {
      const image = new OffscreenCanvas(320, 180);
      const g = image.getContext('2d');
      g.fillStyle = '#2060c0';
      g.fillRect(0, 0, 320, 180);
      const url = URL.createObjectURL(await image.convertToBlob({ type: 'image/png' }));
      blobBackground = await outcome(background.update({ type: 'virtual', imagePath: url }));
    }
    const stats = background.stats();
    const result = {
      audioResult, videoResult, blobBackground, violations,
      audio: { sentIsRaw: sentAudio === rawAudio, live: sentAudio.readyState, peakRms, active: noise.active, vadMax: Math.max(0, ...vad) },
      video: { sentIsRaw: sentVideo === rawVideo, live: sentVideo.readyState, segmented: stats?.segmented ?? 0, errors: stats?.errors ?? 0 },
      sentFrame, cameraFrame,
    };
    await audio.stopProcessor().catch(() => {});
    await video.stopProcessor().catch(() => {});
    audio.stop();
    video.stop();
    await context.close();
    return result;
  });
}

test('the minimal policy runs noise suppression and background blur through livekit, no violation', { timeout: 120_000 }, async () => {
  await withBrowser({ fakeAudio: mic.path, fakeVideo: camera.path, headers: { 'content-security-policy': MINIMAL_CSP } }, async ({ page, errors }) => {
    const r = await runInPage(page);
    const region = regions(camera.scene.alpha, WIDTH, HEIGHT, 8);
    const detailDrop = 1 - highFrequencyEnergy(rgbaOf(r.sentFrame), WIDTH, HEIGHT, region.background)
      / highFrequencyEnergy(rgbaOf(r.cameraFrame), WIDTH, HEIGHT, region.background);
    console.log(`# minimal CSP: ${JSON.stringify({ ...r.audio, ...r.video, detailDrop, blob: r.blobBackground })}`);
    assert.deepEqual(errors, []);
    assert.deepEqual(r.violations, [], 'no CSP violation');
    assert.equal(r.audioResult, 'ok');
    assert.equal(r.videoResult, 'ok');
    assert.equal(r.audio.sentIsRaw, false, 'livekit sends the denoised track');
    assert.equal(r.audio.active, true);
    assert.ok(r.audio.vadMax > 0.5, `VAD saw the speech (${r.audio.vadMax})`);
    assert.ok(r.audio.peakRms > 0.005, `the denoised track carries sound (RMS ${r.audio.peakRms})`);
    assert.equal(r.video.sentIsRaw, false, 'livekit sends the processed video');
    assert.ok(r.video.segmented >= 5 && r.video.errors === 0, JSON.stringify(r.video));
    assert.ok(detailDrop >= 0.8, `the background is blurred (${(detailDrop * 100).toFixed(1)}% of its detail removed)`);
    assert.equal(r.blobBackground, 'ok', 'a blob: background image loads under img-src blob:');
  });
});

test("without 'wasm-unsafe-eval': a clear rejection, and livekit sends the unprocessed microphone and camera", { timeout: 120_000 }, async () => {
  await withBrowser({ fakeAudio: mic.path, fakeVideo: camera.path, headers: { 'content-security-policy': NO_WASM_CSP } }, async ({ page, errors }) => {
    const r = await runInPage(page);
    const region = regions(camera.scene.alpha, WIDTH, HEIGHT, 8);
    const vsCamera = meanAbsDiff(rgbaOf(r.sentFrame), rgbaOf(r.cameraFrame), new Uint8Array(WIDTH * HEIGHT).fill(1));
    console.log(`# no wasm-unsafe-eval: ${JSON.stringify({ ...r.audio, ...r.video, vsCamera })}\n# ${r.audioResult}`);
    assert.deepEqual(errors, []);
    const lacks = /^Error: visio-media-effects: the page's Content-Security-Policy does not allow WebAssembly: its script-src \(or default-src\) directive needs 'wasm-unsafe-eval'/;
    assert.match(r.audioResult, lacks);
    assert.match(r.videoResult, lacks);
    assert.equal(r.audio.sentIsRaw, true, 'livekit kept the microphone track');
    assert.equal(r.audio.live, 'live');
    assert.ok(r.audio.peakRms > 0.005, `the microphone is heard, not silenced (RMS ${r.audio.peakRms})`);
    assert.equal(r.video.sentIsRaw, true, 'livekit kept the camera track');
    assert.equal(r.video.live, 'live');
    assert.ok(vsCamera < 20, `the camera's picture is sent, not a black frame (mean difference ${vsCamera.toFixed(1)} / 255)`);
  });
});
