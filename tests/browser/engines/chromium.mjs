// Debian's Chromium driven by playwright-core. Its fake devices play the test's files
// (--use-file-for-fake-*-capture): the page's getUserMedia gets them as camera and microphone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required'];

/** `fakeAudio`: WAV played once; `fakeVideo`: Y4M looped; `args`: extra switches. */
export async function launch({ url, fakeAudio, fakeVideo, args: extraArgs = [] }) {
  const profile = mkdtempSync(join(tmpdir(), 'vme-chromium-'));
  const args = [...BASE_ARGS]; // the fresh --user-data-dir is given by launchPersistentContext
  if (fakeAudio || fakeVideo) args.push('--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream');
  if (fakeAudio) args.push(`--use-file-for-fake-audio-capture=${fakeAudio}%noloop`);
  if (fakeVideo) args.push(`--use-file-for-fake-video-capture=${fakeVideo}`);
  args.push(...extraArgs);
  let browser;
  try {
    browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args, headless: true });
    const page = browser.pages()[0] ?? await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error));
    page.on('console', (msg) => {
      if (process.env.VME_DEBUG || msg.type() === 'error') console.log(`[chromium ${msg.type()}] ${msg.text()}`);
    });
    await page.goto(url);
    return {
      page, errors,
      close: async () => {
        await browser.close().catch(() => {});
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
