// The demo page: one function per panel, each using only the package's public API.
import { BackgroundProcessor, blurBackground, createNoiseSuppressorNode, suppressNoise } from '/pkg/index.js';

const $ = (id) => document.getElementById(id);
const RECORD_SECONDS = 5;

/** Level of an analyser's current block, in dBFS. */
function levelDb(analyser, scratch) {
  analyser.getFloatTimeDomainData(scratch);
  let sum = 0;
  for (const x of scratch) sum += x * x;
  return 10 * Math.log10(sum / scratch.length || 1e-12);
}

/** Maps -70..0 dBFS onto a bar. */
function showLevel(bar, label, db) {
  const fraction = Math.min(1, Math.max(0, (db + 70) / 70));
  bar.style.width = `${(fraction * 100).toFixed(1)}%`;
  label.textContent = db > -90 ? `${db.toFixed(0)} dB` : '–';
}

// ---------------------------------------------------------------------------------------------
// A/B recording: the raw microphone, then the same samples through each model offline.

const AB_MODELS = [['rnnoise', 'RNNoise'], ['deepfilternet3', 'DeepFilterNet3']];
const AB_CLIPS = [['original', 'Original (raw microphone)'], ...AB_MODELS];
const captureModules = new WeakMap(); // context -> Promise of its addModule()

/** Records `seconds` of `source`'s raw signal (downmixed to mono) in its own context. */
async function captureRaw(source, seconds) {
  const { context } = source;
  if (!captureModules.has(context)) captureModules.set(context, context.audioWorklet.addModule(new URL('capture.worklet.js', import.meta.url)));
  await captureModules.get(context);
  const length = Math.round(seconds * context.sampleRate);
  const node = new AudioWorkletNode(context, 'demo-capture', {
    numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit', processorOptions: { length },
  });
  const done = new Promise((resolve) => { node.port.onmessage = (e) => resolve(e.data); });
  // A context that stops (microphone stopped, tab closed) would leave the promise pending.
  const stalled = new Promise((_, reject) => setTimeout(() => reject(new Error('the microphone stopped while recording')), (seconds + 3) * 1000));
  source.connect(node);
  try {
    return await Promise.race([done, stalled]);
  } finally {
    source.disconnect(node);
    node.port.close();
  }
}

/**
 * `samples` through a fresh suppressor made with `options` in an OfflineAudioContext, as an
 * integrator would: the output shifted back by the node's own latency, so that every clip
 * lines up with the original sample for sample. Also the rendering time per 10 ms of audio.
 */
async function renderThrough(samples, sampleRate, options) {
  const tail = Math.ceil(sampleRate / 10); // room for any model's latency (at most ~40 ms)
  const context = new OfflineAudioContext(1, samples.length + tail, sampleRate);
  const buffer = new AudioBuffer({ length: samples.length, sampleRate });
  buffer.copyToChannel(samples, 0);
  const source = new AudioBufferSourceNode(context, { buffer });
  const node = await createNoiseSuppressorNode(context, options);
  source.connect(node).connect(context.destination);
  source.start();
  const started = performance.now();
  const rendered = await context.startRendering();
  const ms = performance.now() - started;
  const { active, error, latencySamples } = node;
  await node.destroy(); // frees the suppressor's wasm memory now rather than at GC
  if (!active) throw error ?? new Error('the suppressor did not run');
  return {
    samples: rendered.getChannelData(0).slice(latencySamples, latencySamples + samples.length),
    msPer10ms: ms / (samples.length / sampleRate * 100),
  };
}

/** Level in dBFS of each 10 ms frame. */
function frameLevels(samples, sampleRate) {
  const size = Math.round(sampleRate / 100);
  const levels = [];
  for (let start = 0; start + size <= samples.length; start += size) {
    let sum = 0;
    for (let i = start; i < start + size; i++) sum += samples[i] * samples[i];
    levels.push(10 * Math.log10(sum / size || 1e-12));
  }
  return levels;
}

/** Frame indices of the quietest and loudest fifth of `levels` (pauses and speech). */
function pausesAndSpeech(levels) {
  const order = levels.map((_, i) => i).sort((a, b) => levels[a] - levels[b]);
  const fifth = Math.max(1, Math.floor(levels.length / 5));
  return { pauses: order.slice(0, fifth), speech: order.slice(-fifth) };
}

/**
 * Median level, in dBFS, of the frames `indices` of `levels`: a few frames of quiet speech
 * among the pauses do not move it, as they would a mean of power.
 */
function medianLevel(levels, indices) {
  const sorted = indices.map((i) => levels[i]).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** 16-bit PCM mono WAV (plays in every browser; downloads as a normal audio file). */
function wavBlob(samples, sampleRate) {
  const view = new DataView(new ArrayBuffer(44 + 2 * samples.length));
  const tag = (at, text) => { for (let i = 0; i < 4; i++) view.setUint8(at + i, text.charCodeAt(i)); };
  tag(0, 'RIFF'); view.setUint32(4, 36 + 2 * samples.length, true); tag(8, 'WAVE');
  tag(12, 'fmt '); view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, sampleRate, true); view.setUint32(28, 2 * sampleRate, true);
  view.setUint16(32, 2, true); view.setUint16(34, 16, true);
  tag(36, 'data'); view.setUint32(40, 2 * samples.length, true);
  samples.forEach((x, i) => view.setInt16(44 + 2 * i, Math.round(32767 * Math.max(-1, Math.min(1, x))), true));
  return new Blob([view], { type: 'audio/wav' });
}

function setupMicrophonePanel() {
  const ui = {
    status: $('ns-status'), device: $('ns-device'), start: $('ns-start'), enabled: $('ns-enabled'),
    monitor: $('ns-monitor'), strength: $('ns-strength'), strengthValue: $('ns-strength-value'),
    levelIn: $('ns-level-in'), levelInValue: $('ns-level-in-value'), levelOut: $('ns-level-out'),
    levelOutValue: $('ns-level-out-value'), vad: $('ns-vad'), vadValue: $('ns-vad-value'),
    latency: $('ns-latency'), cpu: $('ns-cpu'), rate: $('ns-rate'), record: $('ns-record'),
    recordState: $('ns-record-state'), compare: $('ns-compare'), compareHint: $('ns-compare-hint'), clip: $('ns-clip'),
    voice: $('ns-voice'), intensity: $('ns-intensity'), intensityValue: $('ns-intensity-value'),
    model: $('ns-model'), cpuModel: $('ns-cpu-model'),
  };
  let session = null; // { mic, source, ns, analysers, monitor, frame }

  const controls = [ui.enabled, ui.monitor, ui.strength, ui.record];
  const setStatus = (state, text) => { ui.status.dataset.state = state; ui.status.textContent = text; };

  // The slider's last step means "no limit".
  const strengthSetting = () => (Number(ui.strength.value) > 100 ? null : Number(ui.strength.value));
  const showStrength = () => {
    const db = strengthSetting();
    ui.strengthValue.textContent = db === null ? 'max' : `${db} dB`;
  };

  function showState() {
    if (!session) return setStatus('idle', 'stopped');
    const { node } = session.ns;
    if (!node.active) return setStatus('failed', 'not suppressing: audio passes through');
    if (!ui.enabled.checked) return setStatus('bypass', 'bypassed');
    return setStatus('running', 'suppressing');
  }

  async function listDevices(selected) {
    const inputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audioinput');
    ui.device.replaceChildren(...inputs.map((d, i) => new Option(d.label || `Microphone ${i + 1}`, d.deviceId, false, d.deviceId === selected)));
    ui.device.disabled = inputs.length === 0;
  }

  async function stop() {
    if (!session) return;
    const s = session;
    session = null;
    cancelAnimationFrame(s.frame);
    s.monitor.pause();
    s.monitor.srcObject = null;
    await s.ns.destroy();
    s.mic.stop();
    controls.forEach((c) => { c.disabled = true; });
    ui.start.textContent = 'Start microphone';
    showState();
  }

  async function start() {
    await stop();
    ui.start.disabled = true;
    try {
      const deviceId = ui.device.disabled ? undefined : ui.device.value || undefined;
      const stream = await navigator.mediaDevices.getUserMedia({
        // The browser's own suppression would hide the difference (and double-process).
        audio: { deviceId: deviceId ? { exact: deviceId } : undefined, noiseSuppression: false, echoCancellation: true, autoGainControl: false },
      });
      const mic = stream.getAudioTracks()[0];
      // Labels are only available once permission was given.
      await listDevices(mic.getSettings().deviceId);
      const ns = await suppressNoise(mic, {
        enabled: ui.enabled.checked,
        intensity: Number(ui.intensity.value),
        attenuationLimitDb: strengthSetting(),
        voice: ui.voice.checked,
        model: ui.model.value,
      });
      const { context, node } = ns;
      const analyser = () => new AnalyserNode(context, { fftSize: 1024 });
      const analysers = { in: analyser(), out: analyser() };
      const source = context.createMediaStreamSource(new MediaStream([mic]));
      source.connect(analysers.in);
      node.connect(analysers.out);
      const monitor = new Audio();
      monitor.srcObject = new MediaStream([ns.track]);
      const current = { mic, source, ns, analysers, monitor, frame: 0 };
      session = current;

      node.addEventListener('vad', (e) => {
        ui.vad.style.width = `${(e.probability * 100).toFixed(0)}%`;
        ui.vadValue.textContent = `${(e.probability * 100).toFixed(0)} %`;
        // The worklet averages its CPU time over each second of audio.
        if (e.cpuMsPer10ms !== undefined) ui.cpu.textContent = `${e.cpuMsPer10ms.toFixed(3)} ms`;
      });
      const showModel = () => {
        ui.cpuModel.textContent = `(${node.model === 'deepfilternet3' ? 'DeepFilterNet3' : 'RNNoise'})`;
        ui.latency.textContent = `${(node.latency * 1000).toFixed(1)} ms`;
      };
      node.addEventListener('modelchange', showModel);
      showModel();
      node.addEventListener('error', showState);
      ui.latency.textContent = `${(node.latency * 1000).toFixed(1)} ms`;
      ui.rate.textContent = `${(context.sampleRate / 1000).toFixed(1)} kHz`;
      if (!node.active) console.warn(node.error);

      const scratch = new Float32Array(1024);
      const draw = () => {
        showLevel(ui.levelIn, ui.levelInValue, levelDb(analysers.in, scratch));
        showLevel(ui.levelOut, ui.levelOutValue, levelDb(analysers.out, scratch));
        current.frame = requestAnimationFrame(draw);
      };
      draw();
      controls.forEach((c) => { c.disabled = false; });
      ui.monitor.checked = false;
      ui.start.textContent = 'Stop microphone';
      mic.addEventListener('ended', stop);
    } catch (error) {
      setStatus('failed', error.name === 'NotAllowedError' ? 'microphone not allowed' : 'could not start');
      console.error(error);
    } finally {
      ui.start.disabled = false;
      showState();
    }
  }

  /**
   * Shows one clip: player, download link, and its levels on the original's pause and speech
   * frames. The voice chain changes the overall level, so the figure to compare is how far
   * the pauses sit below the speech.
   */
  function showClip(id, samples, rate, frames, msPer10ms) {
    const figure = ui.compare.querySelector(`[data-clip="${id}"]`);
    const link = figure.querySelector('a');
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(wavBlob(samples, rate));
    figure.querySelector('audio').src = link.href;
    const levels = frameLevels(samples, rate);
    const speech = medianLevel(levels, frames.speech);
    const pauses = medianLevel(levels, frames.pauses);
    figure.dataset.pausesBelowSpeechDb = (speech - pauses).toFixed(2);
    figure.querySelector('.clip-figures').textContent = `Speech ${speech.toFixed(0)} dBFS · pauses ${pauses.toFixed(0)} dBFS`
      + ` (${(speech - pauses).toFixed(0)} dB below)${msPer10ms === undefined ? '' : ` · ${msPer10ms.toFixed(2)} ms per 10 ms`}`;
  }

  /**
   * A/B recording: RECORD_SECONDS of the raw microphone, then the same samples through each
   * model with the panel's settings (suppression on), so both are heard on the same words.
   */
  async function record() {
    if (!session) return;
    const { source, ns } = session;
    const rate = ns.context.sampleRate;
    ui.record.disabled = true;
    ui.compare.hidden = true;
    ui.compareHint.hidden = true;
    const options = { intensity: Number(ui.intensity.value), attenuationLimitDb: strengthSetting(), voice: ui.voice.checked };
    try {
      let left = RECORD_SECONDS;
      const tick = () => { ui.recordState.textContent = `Recording… ${left--} s`; };
      tick();
      const ticking = setInterval(tick, 1000);
      let original;
      try {
        original = await captureRaw(source, RECORD_SECONDS);
      } finally {
        clearInterval(ticking);
      }
      const frames = pausesAndSpeech(frameLevels(original, rate));
      showClip('original', original, rate, frames);
      for (const [model, label] of AB_MODELS) {
        ui.recordState.textContent = `Rendering through ${label}…`;
        const clip = await renderThrough(original, rate, { ...options, model });
        showClip(model, clip.samples, rate, frames, clip.msPer10ms);
      }
      ui.compare.hidden = false;
      ui.compareHint.hidden = false;
      ui.recordState.textContent = 'Play the three clips to compare.';
    } catch (error) {
      ui.recordState.textContent = `Recording failed: ${error.message}`;
      console.error(error);
    } finally {
      ui.record.disabled = !session;
    }
  }

  ui.start.addEventListener('click', () => (session ? stop() : start()));
  ui.device.addEventListener('change', () => { if (session) start(); });
  ui.enabled.addEventListener('change', () => { session?.ns.update({ enabled: ui.enabled.checked }); showState(); });
  ui.strength.addEventListener('input', () => { showStrength(); session?.ns.update({ attenuationLimitDb: strengthSetting() }); });
  ui.voice.addEventListener('change', () => session?.ns.update({ voice: ui.voice.checked }));
  // Live switch: the node crossfades once the new model runs ('modelchange' updates the figures).
  ui.model.addEventListener('change', () => session?.ns.update({ model: ui.model.value }));
  const showIntensity = () => {
    const intensity = Number(ui.intensity.value);
    ui.intensityValue.textContent = String(intensity);
    // intensity sets the attenuation limit to 0.6 dB per step (none at 100): show it.
    ui.strength.value = String(intensity >= 100 ? 101 : Math.round(0.6 * intensity));
    showStrength();
    return intensity;
  };
  ui.intensity.addEventListener('input', () => session?.ns.update({ intensity: showIntensity() }));
  ui.monitor.addEventListener('change', () => {
    if (!session) return;
    if (ui.monitor.checked) session.monitor.play().catch(console.error);
    else session.monitor.pause();
  });
  ui.record.addEventListener('click', record);
  ui.compare.replaceChildren(...AB_CLIPS.map(([id, label]) => {
    const figure = ui.clip.content.firstElementChild.cloneNode(true);
    figure.dataset.clip = id;
    figure.querySelector('figcaption').textContent = label;
    figure.querySelector('a').download = `${id}.wav`;
    return figure;
  }));
  showIntensity();
  showState();
}

function setupCameraPanel() {
  const ui = {
    status: $('bg-status'), device: $('bg-device'), start: $('bg-start'), renderer: $('bg-renderer'),
    preview: $('bg-preview'), placeholder: $('bg-placeholder'), radius: $('bg-radius'),
    radiusValue: $('bg-radius-value'), blurRow: $('bg-blur-row'), images: $('bg-images'),
    upload: $('bg-upload'), fps: $('bg-fps'), segment: $('bg-segment'), render: $('bg-render'),
    output: $('bg-output'), kind: $('bg-kind'), path: $('bg-path'),
  };
  const thumbs = [...ui.images.querySelectorAll('button.thumb')];
  let session = null; // { camera, fx, timer }
  let image = thumbs[0].dataset.src; // URL, or the uploaded File

  const setStatus = (state, text) => { ui.status.dataset.state = state; ui.status.textContent = text; };
  const mode = () => document.querySelector('input[name="bg-mode"]:checked').value;
  const effect = () => ({ mode: mode(), blurRadius: Number(ui.radius.value), ...(mode() === 'image' ? { image } : {}) });

  function showControls() {
    ui.blurRow.hidden = mode() !== 'blur';
    ui.blurRow.nextElementSibling.hidden = mode() !== 'blur';
    ui.images.hidden = mode() !== 'image';
    ui.radiusValue.textContent = ui.radius.value;
    for (const t of thumbs) t.setAttribute('aria-checked', String(t.dataset.src === image));
  }

  const ms = (x) => (x ? `${x.toFixed(1)} ms` : '–');
  function showStats() {
    const s = session?.fx.stats();
    if (!s) return;
    ui.fps.textContent = s.fps ? s.fps.toFixed(1) : '–';
    ui.segment.textContent = s.segmentEvery > 1 ? `${ms(s.segmentMs)} (every ${s.segmentEvery} frames)` : ms(s.segmentMs);
    ui.render.textContent = ms(s.renderMs);
    ui.output.textContent = ms(s.outputMs);
    ui.kind.textContent = s.renderer === 'webgl2' ? 'WebGL2' : s.renderer === 'cpu' ? 'CPU (wasm)' : '–';
    ui.path.textContent = { worker: 'worker', 'worker-streams': 'worker (streams)', 'worker-frames': 'worker (frames from <video>)', 'main-thread': 'main thread' }[s.path] ?? '–';
    if (s.errors) setStatus('failed', `${s.errors} frame(s) failed: ${s.lastError}`);
  }

  async function listDevices(selected) {
    const inputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput');
    ui.device.replaceChildren(...inputs.map((d, i) => new Option(d.label || `Camera ${i + 1}`, d.deviceId, false, d.deviceId === selected)));
    ui.device.disabled = inputs.length === 0;
  }

  async function stop() {
    if (!session) return;
    const s = session;
    session = null;
    clearInterval(s.timer);
    ui.preview.srcObject = null;
    ui.placeholder.hidden = false;
    await s.fx.destroy();
    s.camera.stop();
    ui.start.textContent = 'Start camera';
    setStatus('idle', 'stopped');
  }

  async function start() {
    await stop();
    ui.start.disabled = true;
    setStatus('idle', 'starting…');
    try {
      const deviceId = ui.device.disabled ? undefined : ui.device.value || undefined;
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { deviceId: deviceId ? { exact: deviceId } : undefined, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
      const camera = stream.getVideoTracks()[0];
      await listDevices(camera.getSettings().deviceId);
      const fx = await blurBackground(camera, { ...effect(), renderer: ui.renderer.value });
      session = { camera, fx, timer: setInterval(showStats, 500) };
      ui.preview.srcObject = new MediaStream([fx.track]);
      ui.placeholder.hidden = true;
      ui.start.textContent = 'Stop camera';
      setStatus('running', 'running');
      camera.addEventListener('ended', stop);
    } catch (error) {
      setStatus('failed', error.name === 'NotAllowedError' ? 'camera not allowed' : `could not start: ${error.message}`);
      console.error(error);
    } finally {
      ui.start.disabled = false;
    }
  }

  /** Applies the controls to the running effect: no new track, no restart. */
  function apply() {
    showControls();
    session?.fx.update(effect()).catch((error) => { setStatus('failed', error.message); console.error(error); });
  }

  ui.start.addEventListener('click', () => (session ? stop() : start()));
  ui.device.addEventListener('change', () => { if (session) start(); });
  ui.renderer.addEventListener('change', () => { if (session) start(); });
  document.querySelectorAll('input[name="bg-mode"]').forEach((r) => r.addEventListener('change', apply));
  ui.radius.addEventListener('input', apply);
  for (const t of thumbs) t.addEventListener('click', () => { image = t.dataset.src; apply(); });
  ui.upload.addEventListener('change', () => {
    const file = ui.upload.files[0];
    if (!file) return;
    image = file; // a Blob is a valid image source
    apply();
  });
  showControls();
  if (!BackgroundProcessor.isSupported()) {
    setStatus('failed', 'not supported in this browser');
    ui.start.disabled = true;
  }
}

function showSupport() {
  const missing = [];
  if (!window.isSecureContext) missing.push('a secure page (https or localhost)');
  if (typeof AudioWorkletNode === 'undefined') missing.push('AudioWorklet');
  if (typeof WebAssembly === 'undefined') missing.push('WebAssembly');
  if (!navigator.mediaDevices?.getUserMedia) missing.push('getUserMedia');
  $('support').textContent = missing.length
    ? `This browser lacks ${missing.join(', ')}: the demo cannot run.`
    : 'Noise suppression: RNNoise (nnnoiseless) in an AudioWorklet. Background: MediaPipe selfie segmentation run by our own WebAssembly, rendered with WebGL2 or WebAssembly SIMD. All processing stays on this device.';
}

showSupport();
setupMicrophonePanel();
setupCameraPanel();
