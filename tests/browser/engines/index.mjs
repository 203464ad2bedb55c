// The browser engines the tests run in, which of them this run selects, and test() wrappers
// that put the engine in every test name ("[firefox] ...") and skip, with the reason, an
// engine whose binaries are missing.
//
// Selection: ENGINES=chromium,firefox,webkit (default: all). "webkit" selects both WebKit
// variants, "webkit-mstp" only the one with MediaStreamTrackProcessing. With
// VME_REQUIRE_ENGINES=1 (CI) a missing engine fails instead of being skipped.
import { existsSync } from 'node:fs';
import { test } from 'node:test';

export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/**
 * `driver`: which module launches it (chromium.mjs, firefox.mjs, webkit.mjs). `needs`: binaries
 * and the Debian packages that bring them (what .ci/run installs).
 */
export const ENGINES = [
  { name: 'chromium', driver: 'chromium', needs: [['/usr/bin/chromium', 'chromium']] },
  {
    name: 'firefox', driver: 'firefox',
    needs: [['/usr/bin/firefox-esr', 'firefox-esr'], ['/usr/bin/Xvfb', 'xvfb'], ['/usr/bin/pulseaudio', 'pulseaudio'], ['/usr/bin/pactl', 'pulseaudio-utils']],
  },
  ...[['webkit', []], ['webkit-mstp', ['+MediaStreamTrackProcessing']]].map(([name, features]) => ({
    name, driver: 'webkit', features,
    needs: [[MINIBROWSER, 'libwebkit2gtk-4.1-0'], ['/usr/bin/WebKitWebDriver', 'webkit2gtk-driver'], ['/usr/bin/Xvfb', 'xvfb'],
      ['/usr/bin/pulseaudio', 'pulseaudio'], ['/usr/bin/pactl', 'pulseaudio-utils']],
  })),
];

export const engine = (name) => ENGINES.find((e) => e.name === name);

function selected() {
  const wanted = (process.env.ENGINES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) return ENGINES;
  for (const w of wanted) {
    if (!ENGINES.some((e) => e.name === w || e.name.startsWith(`${w}-`))) {
      throw new Error(`ENGINES: unknown engine "${w}" (known: ${ENGINES.map((e) => e.name).join(', ')})`);
    }
  }
  return ENGINES.filter((e) => wanted.some((w) => e.name === w || e.name.startsWith(`${w}-`)));
}

/** The engines this run tests. */
export const SELECTED = selected();

const warned = new Set();

/** Why `e` cannot run here (missing binaries), or null. */
export function unavailable(e) {
  const missing = e.needs.filter(([path]) => !existsSync(path));
  if (missing.length === 0) return null;
  const reason = `${e.name} needs ${missing.map(([path]) => path).join(', ')}: `
    + `apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(' ')} (bash .ci/run does it)`;
  if (!warned.has(e.name)) {
    warned.add(e.name);
    console.warn(`\n!!! ENGINE NOT TESTED: ${reason}\n`);
  }
  return reason;
}

/**
 * test() for one engine: "[name] title", skipped with its reason when the engine's binaries
 * are missing (failing instead under VME_REQUIRE_ENGINES), or when `options.skip` says why the
 * test does not apply to this engine. Not registered when the run does not select the engine.
 */
export function engineTest(e, title, options, fn) {
  if (typeof options === 'function') [options, fn] = [{}, options];
  if (!SELECTED.includes(e)) return;
  const missing = unavailable(e);
  if (missing && process.env.VME_REQUIRE_ENGINES) {
    test(`[${e.name}] ${title}`, options, () => { throw new Error(missing); });
    return;
  }
  test(`[${e.name}] ${title}`, { ...options, skip: missing ?? options.skip ?? false }, fn);
}

/** test() for the Chromium-only files (fake devices from files, Chromium-only APIs). */
export function chromiumTest(title, options, fn) {
  engineTest(engine('chromium'), title, options, fn);
}

/** Registers `define(engine)` once per selected engine. */
export function forEachEngine(define) {
  for (const e of SELECTED) define(e);
}

const AUDIO_SAME_AS_WEBKIT = 'the MediaStreamTrackProcessing feature concerns video tracks only: [webkit] runs this test';

/**
 * engineTest() for an audio-only test: skipped in webkit-mstp, whose one difference from
 * [webkit] is a video feature (the audio code uses no MediaStreamTrackProcessor), so the test
 * would only run twice in the same engine.
 */
export function audioTest(e, title, options, fn) {
  if (typeof options === 'function') [options, fn] = [{}, options];
  engineTest(e, title, { ...options, skip: options.skip ?? (e.name === 'webkit-mstp' ? AUDIO_SAME_AS_WEBKIT : undefined) }, fn);
}
