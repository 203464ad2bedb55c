// What Firefox and WebKitGTK need from the machine beyond their binaries: an X display (Xvfb:
// headless Firefox has no WebGL2, WebKitGTK has no headless mode) and an audio server (no
// sound card here: an AudioContext cannot run without one, Firefox's content process even
// dies). Started by the harness itself, so `npm test` needs nothing running beforehand.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private X server on a free display; `stop()` ends it. */
export async function startXvfb() {
  const xvfb = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x720x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const display = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not report its display within 10 s')), 10_000);
    xvfb.stdout.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) { clearTimeout(timer); resolve(`:${text.trim()}`); }
    });
    xvfb.once('error', (error) => { clearTimeout(timer); reject(new Error(`cannot start Xvfb: ${error.message}`)); });
    xvfb.once('exit', (code) => { clearTimeout(timer); reject(new Error(`Xvfb exited (${code}) before reporting its display`)); });
  });
  return {
    display,
    stop: () => new Promise((resolve) => {
      if (xvfb.exitCode !== null) return resolve();
      xvfb.once('exit', () => resolve());
      xvfb.kill();
    }),
  };
}

/**
 * A PulseAudio daemon whose only sink is a 48 kHz null sink, shared by every test process of
 * this user; returns the XDG_RUNTIME_DIR a browser needs to find its socket. The daemon exits
 * by itself 60 s after its last client, so nothing outlives the test run.
 */
export function ensurePulseAudio() {
  const dir = join(tmpdir(), `vme-pulse-${process.getuid?.() ?? 0}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const env = { ...process.env, XDG_RUNTIME_DIR: dir, HOME: dir };
  const running = () => {
    try {
      execFileSync('pactl', ['info'], { env, stdio: 'ignore', timeout: 5000 });
      return true;
    } catch {
      return false;
    }
  };
  if (running()) return dir;
  try {
    // -n: no default.pa (no hardware probing); --daemonize returns once the socket listens.
    execFileSync('pulseaudio', ['-n', '--daemonize=yes', '--exit-idle-time=60', '--log-target=stderr', '--log-level=error',
      '-L', 'module-null-sink sink_name=vme rate=48000', '-L', 'module-native-protocol-unix', '-L', 'module-always-sink'],
    { env, stdio: 'ignore', timeout: 20_000 });
  } catch (error) {
    // Another test process may have started it at the same moment.
    if (!running()) throw new Error(`cannot start PulseAudio (needed for audio without a sound card): ${error.message}`);
  }
  if (!existsSync(join(dir, 'pulse/native')) && !running()) throw new Error('PulseAudio started but its socket is missing');
  return dir;
}

/** A free TCP port on 127.0.0.1 (for WebKitWebDriver). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A microphone fed in real time from a WAV, for engines without file-backed fake devices: a
 * PulseAudio null sink of its own (mono, `rate`), whose monitor the page opens with
 * getUserMedia (its label contains `name`; Firefox lists monitors as microphones), and
 * `play()` plays the file into it with paplay at the wall clock's pace. `close()` stops the
 * player and unloads the sink.
 */
export function playIntoMicrophone(wavPath, rate = 48000) {
  const dir = ensurePulseAudio();
  const env = { ...process.env, XDG_RUNTIME_DIR: dir, HOME: dir };
  const name = `vme_mic_${process.pid}_${Date.now() % 1e6}`;
  const module = execFileSync('pactl', ['load-module', 'module-null-sink', `sink_name=${name}`, `rate=${rate}`, 'channels=1',
    `sink_properties=device.description=${name}`], { env, encoding: 'utf8', timeout: 10_000 }).trim();
  let player = null;
  return {
    name,
    play() {
      player = spawn('paplay', [`--device=${name}`, wavPath], { env, stdio: 'ignore' });
    },
    close() {
      player?.kill();
      try {
        execFileSync('pactl', ['unload-module', module], { env, stdio: 'ignore', timeout: 10_000 });
      } catch {
        // The daemon exits by itself once idle, taking the sink with it.
      }
    },
  };
}

/**
 * What rtkit gives a browser's audio threads on a desktop, for a process tree on this machine,
 * which has no rtkit (no D-Bus): the threads of `pid` and its descendants named in `names`
 * (their 15-character /proc names) are put in SCHED_RR at `priority` with chrt. Chromium does
 * this itself here (its "Realtime AudioWorklet" thread runs SCHED_RR 8); Firefox asks rtkit
 * (GraphRunner.cpp: audio_thread_priority) and, without it, renders audio at normal priority,
 * behind every other process of a loaded machine. Returns [{ tid, name, ok }].
 */
export function promoteAudioThreads(pid, names, priority = 8) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  const promoted = [];
  for (const p of tree) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      let name;
      try {
        name = readFileSync(`/proc/${p}/task/${tid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (!names.includes(name)) continue;
      let ok = true;
      try {
        execFileSync('chrt', ['-r', '-p', String(priority), tid], { stdio: 'ignore', timeout: 5000 });
      } catch {
        ok = false; // no CAP_SYS_NICE / RLIMIT_RTPRIO: the caller reports it
      }
      promoted.push({ tid: Number(tid), name, ok });
    }
  }
  return promoted;
}
