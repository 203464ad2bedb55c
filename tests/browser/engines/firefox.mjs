// Debian's Firefox ESR driven by puppeteer-core over WebDriver BiDi, in its own Xvfb (headless
// Firefox has no WebGL2; under X it gets llvmpipe) with the PulseAudio null sink as its audio
// device. Firefox cannot play files as fake devices: the page builds its camera and microphone
// from the same files (page-helpers.js, video-page.js).
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { ensurePulseAudio, startXvfb } from './services.mjs';

const PREFS = {
  'media.autoplay.default': 0, // allowed: AudioContexts and <video> start without a gesture
  'media.autoplay.blocking_policy': 0,
  // getUserMedia without a prompt, from PulseAudio's real sources (a null sink's monitor plays
  // a test's file into the microphone in real time: see engines/services.mjs playIntoMicrophone).
  'media.navigator.permission.disabled': true,
  'media.navigator.streams.fake': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
};

const FIREFOX = '/usr/bin/firefox-esr';

/**
 * A profile Firefox has started in once, with nothing opened, kept in the temp dir for this
 * binary: Firefox spends about 2 of its 4 s of start-up making a new profile (measured), so each
 * launch starts from a fresh copy of this one instead (the copy takes 0.1 s).
 */
const { size, mtimeMs } = statSync(FIREFOX);
const TEMPLATE = join(tmpdir(), `vme-firefox-profile-${size}-${Math.round(mtimeMs)}`);

const start = (profile, env) => puppeteer.launch({
  browser: 'firefox', executablePath: FIREFOX, headless: false, userDataDir: profile,
  extraPrefsFirefox: PREFS, protocolTimeout: 600_000, env: { ...process.env, MOZ_CRASHREPORTER_DISABLE: '1', ...env },
});

async function newProfile(env) {
  if (!existsSync(TEMPLATE)) {
    const first = mkdtempSync(join(tmpdir(), 'vme-firefox-'));
    try {
      await (await start(first, env)).close();
      try {
        renameSync(first, TEMPLATE);
      } catch {
        // another test process made it first
      }
    } finally {
      rmSync(first, { recursive: true, force: true });
    }
  }
  const profile = mkdtempSync(join(tmpdir(), 'vme-firefox-'));
  cpSync(TEMPLATE, profile, { recursive: true });
  return profile;
}

export async function launch({ url }) {
  const pulse = ensurePulseAudio();
  const x = await startXvfb();
  const env = { DISPLAY: x.display, XDG_RUNTIME_DIR: pulse };
  let profile;
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    await x.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  };
  try {
    profile = await newProfile(env);
    browser = await start(profile, env);
    const page = (await browser.pages())[0] ?? await browser.newPage();
    page.setDefaultTimeout(600_000);
    const errors = [];
    page.on('pageerror', (error) => errors.push(error));
    page.on('console', (msg) => {
      if (process.env.VME_DEBUG || msg.type() === 'error') console.log(`[firefox ${msg.type()}] ${msg.text()}`);
    });
    await page.goto(url);
    return { page, errors, pid: browser.process()?.pid, close: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
