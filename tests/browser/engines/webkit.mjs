// WebKitGTK (Debian's MiniBrowser, the engine closest to Safari here) driven by
// WebKitWebDriver over WebDriver classic (plain HTTP from Node), in its own Xvfb, with the
// PulseAudio null sink for audio. `features` e.g. ['+MediaStreamTrackProcessing'] turns on
// Safari 18's worker track path. The page builds its camera and microphone from the test's
// files, as in Firefox.
import { spawn } from 'node:child_process';
import { MINIBROWSER } from './index.mjs';
import { ensurePulseAudio, freePort, startXvfb } from './services.mjs';

/** Characters of a page result read back per WebDriver call (see evaluate). */
const REPLY_SLICE = 256 * 1024;

const SCRIPT_TIMEOUT_MS = 600_000;

export async function launch({ url, features = [] }) {
  const pulse = ensurePulseAudio();
  const x = await startXvfb();
  const port = await freePort();
  const driver = spawn('WebKitWebDriver', [`--port=${port}`], {
    stdio: ['ignore', 'ignore', process.env.VME_DEBUG ? 'inherit' : 'ignore'],
    env: { ...process.env, DISPLAY: x.display, XDG_RUNTIME_DIR: pulse },
  });
  const base = `http://127.0.0.1:${port}`;
  let session = null;
  const call = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`WebKitWebDriver ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  };
  const cleanup = async () => {
    if (session) await call('DELETE', `/session/${session}`).catch(() => {});
    driver.kill();
    await x.stop();
  };
  try {
    // The driver takes a moment to listen.
    for (let i = 0; ; i++) {
      try {
        await call('GET', '/status');
        break;
      } catch (error) {
        if (i >= 50) throw new Error(`WebKitWebDriver did not start: ${error.message}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const args = ['--automation', '--enable-media-stream=true', '--autoplay-policy=allow', '--enable-webgl=true',
      '--enable-write-console-messages-to-stdout=true', ...features.map((f) => `--features=${f}`)];
    ({ sessionId: session } = await call('POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args } } },
    }));
    await call('POST', `/session/${session}/timeouts`, { script: SCRIPT_TIMEOUT_MS });
    await call('POST', `/session/${session}/url`, { url });
    const errors = [];
    const page = {
      /**
       * Like playwright's page.evaluate(fn, arg): fn runs in the page, its result comes back as
       * JSON. The page serialises it and keeps the string; it is read back in slices, since
       * WebKitWebDriver fails on large script results ("Could not parse script result": the
       * video tests return frames as base64, some MB).
       */
      async evaluate(fn, arg) {
        const script = `const done = arguments[arguments.length - 1];
          const errors = () => (window.__vmeErrors ?? []).splice(0);
          const keep = (r) => { window.__vmeReply = JSON.stringify(r); done(window.__vmeReply.length); };
          Promise.resolve().then(() => (${fn.toString()})(arguments[0])).then(
            (value) => keep({ value: value === undefined ? null : value, errors: errors() }),
            (error) => keep({ error: String(error?.stack ?? error), message: String(error?.message ?? error), errors: errors() }));`;
        const length = await call('POST', `/session/${session}/execute/async`, { script, args: [arg ?? null] });
        let text = '';
        for (let at = 0; at < length; at += REPLY_SLICE) {
          text += await call('POST', `/session/${session}/execute/sync`, {
            script: 'return window.__vmeReply.slice(arguments[0], arguments[0] + arguments[1]);', args: [at, REPLY_SLICE],
          });
        }
        await call('POST', `/session/${session}/execute/sync`, { script: 'delete window.__vmeReply;', args: [] });
        const r = JSON.parse(text);
        errors.push(...r.errors.map((message) => new Error(message)));
        if (r.error) throw new Error(`[webkit page] ${r.message}\n${r.error}`);
        return r.value;
      },
    };
    return { page, errors, close: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
