// The demo page: one function per panel, each using only the package's public API.
import { suppressNoise } from '/pkg/index.js';

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

function setupMicrophonePanel() {
  const ui = {
    status: $('ns-status'), device: $('ns-device'), start: $('ns-start'), enabled: $('ns-enabled'),
    monitor: $('ns-monitor'), strength: $('ns-strength'), strengthValue: $('ns-strength-value'),
    levelIn: $('ns-level-in'), levelInValue: $('ns-level-in-value'), levelOut: $('ns-level-out'),
    levelOutValue: $('ns-level-out-value'), vad: $('ns-vad'), vadValue: $('ns-vad-value'),
    latency: $('ns-latency'), cpu: $('ns-cpu'), rate: $('ns-rate'), record: $('ns-record'),
    recordState: $('ns-record-state'), compare: $('ns-compare'), before: $('ns-before'), after: $('ns-after'),
  };
  let session = null; // { mic, ns, analysers, monitor, frame }

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
      const ns = await suppressNoise(mic, { enabled: ui.enabled.checked, attenuationLimitDb: strengthSetting() });
      const { context, node } = ns;
      const analyser = () => new AnalyserNode(context, { fftSize: 1024 });
      const analysers = { in: analyser(), out: analyser() };
      context.createMediaStreamSource(new MediaStream([mic])).connect(analysers.in);
      node.connect(analysers.out);
      const monitor = new Audio();
      monitor.srcObject = new MediaStream([ns.track]);
      const current = { mic, ns, analysers, monitor, frame: 0 };
      session = current;

      node.addEventListener('vad', (e) => {
        ui.vad.style.width = `${(e.probability * 100).toFixed(0)}%`;
        ui.vadValue.textContent = `${(e.probability * 100).toFixed(0)} %`;
        // The worklet averages its CPU time over each second of audio.
        if (e.cpuMsPer10ms !== undefined) ui.cpu.textContent = `${e.cpuMsPer10ms.toFixed(3)} ms`;
      });
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

  /** Records the microphone and the suppressed track at the same time. */
  async function record() {
    if (!session) return;
    const { mic, ns } = session;
    ui.record.disabled = true;
    const takes = [mic, ns.track].map((track) => {
      const recorder = new MediaRecorder(new MediaStream([track]));
      const chunks = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      const done = new Promise((resolve) => { recorder.onstop = () => resolve(new Blob(chunks, { type: recorder.mimeType })); });
      recorder.start();
      return { recorder, done };
    });
    for (let left = RECORD_SECONDS; left > 0; left--) {
      ui.recordState.textContent = `Recording… ${left} s`;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    takes.forEach((t) => t.recorder.state !== 'inactive' && t.recorder.stop());
    const [before, after] = await Promise.all(takes.map((t) => t.done));
    for (const [audio, blob] of [[ui.before, before], [ui.after, after]]) {
      if (audio.src) URL.revokeObjectURL(audio.src);
      audio.src = URL.createObjectURL(blob);
    }
    ui.compare.hidden = false;
    ui.recordState.textContent = 'Play both to compare.';
    ui.record.disabled = !session;
  }

  ui.start.addEventListener('click', () => (session ? stop() : start()));
  ui.device.addEventListener('change', () => { if (session) start(); });
  ui.enabled.addEventListener('change', () => { session?.ns.update({ enabled: ui.enabled.checked }); showState(); });
  ui.strength.addEventListener('input', () => { showStrength(); session?.ns.update({ attenuationLimitDb: strengthSetting() }); });
  ui.monitor.addEventListener('change', () => {
    if (!session) return;
    if (ui.monitor.checked) session.monitor.play().catch(console.error);
    else session.monitor.pause();
  });
  ui.record.addEventListener('click', record);
  showStrength();
  showState();
}

function showSupport() {
  const missing = [];
  if (!window.isSecureContext) missing.push('a secure page (https or localhost)');
  if (typeof AudioWorkletNode === 'undefined') missing.push('AudioWorklet');
  if (typeof WebAssembly === 'undefined') missing.push('WebAssembly');
  if (!navigator.mediaDevices?.getUserMedia) missing.push('getUserMedia');
  $('support').textContent = missing.length
    ? `This browser lacks ${missing.join(', ')}: the demo cannot run.`
    : 'Noise suppression: RNNoise (nnnoiseless) in an AudioWorklet. All processing stays on this device.';
}

showSupport();
setupMicrophonePanel();
