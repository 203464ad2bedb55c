// Renders the demo's bundled virtual backgrounds (www/backgrounds/*.jpg): procedural scenes
// drawn on a 2D canvas in headless Chromium and encoded as JPEG, so no image comes from
// elsewhere. Deterministic (seeded); run again only to change them.
//   node scripts/make-backgrounds.mjs
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'www', 'backgrounds');
const WIDTH = 1280;
const HEIGHT = 720;

// Runs in the page: one function per background, each given (ctx, w, h, random).
const PAINTERS = {
  // A calm room: warm wall gradient, a window of soft light, out-of-focus bokeh discs.
  bokeh: `(ctx, w, h, random) => {
    const wall = ctx.createLinearGradient(0, 0, w, h);
    wall.addColorStop(0, '#e9dccb'); wall.addColorStop(0.55, '#cdb89f'); wall.addColorStop(1, '#8f7a66');
    ctx.fillStyle = wall; ctx.fillRect(0, 0, w, h);
    const light = ctx.createRadialGradient(w * 0.78, h * 0.25, 10, w * 0.78, h * 0.25, w * 0.5);
    light.addColorStop(0, 'rgba(255, 248, 225, 0.85)'); light.addColorStop(1, 'rgba(255, 248, 225, 0)');
    ctx.fillStyle = light; ctx.fillRect(0, 0, w, h);
    for (let i = 0; i < 70; i++) {
      const x = random() * w, y = random() * h * 0.8, r = 12 + random() * 55;
      const hue = 25 + random() * 30, alpha = 0.08 + random() * 0.22;
      const g = ctx.createRadialGradient(x, y, r * 0.2, x, y, r);
      g.addColorStop(0, 'hsla(' + hue + ', 80%, 85%, ' + alpha + ')');
      g.addColorStop(0.85, 'hsla(' + hue + ', 80%, 80%, ' + alpha * 0.8 + ')');
      g.addColorStop(1, 'hsla(' + hue + ', 80%, 80%, 0)');
      ctx.fillStyle = g; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill();
    }
  }`,
  // Mountains at dusk: a sky gradient and layered ridges fading into the haze.
  mountains: `(ctx, w, h, random) => {
    const sky = ctx.createLinearGradient(0, 0, 0, h);
    sky.addColorStop(0, '#27415f'); sky.addColorStop(0.5, '#c98a6b'); sky.addColorStop(0.75, '#f1c27d');
    ctx.fillStyle = sky; ctx.fillRect(0, 0, w, h);
    const sun = ctx.createRadialGradient(w * 0.3, h * 0.58, 5, w * 0.3, h * 0.58, h * 0.35);
    sun.addColorStop(0, 'rgba(255, 236, 190, 0.95)'); sun.addColorStop(1, 'rgba(255, 236, 190, 0)');
    ctx.fillStyle = sun; ctx.fillRect(0, 0, w, h);
    const layers = ['#8d6f7a', '#6a5569', '#4a3f55', '#2f2a3d', '#1c1a27'];
    layers.forEach((colour, k) => {
      const base = h * (0.5 + k * 0.1);
      const amp = h * (0.06 + k * 0.025);
      const phase = random() * 10;
      ctx.fillStyle = colour; ctx.beginPath(); ctx.moveTo(0, h);
      for (let x = 0; x <= w; x += 4) {
        const t = x / w * (3 + k);
        const y = base - amp * (Math.sin(t + phase) * 0.6 + Math.sin(2.7 * t + phase * 1.3) * 0.3 + Math.sin(7.1 * t + phase) * 0.1);
        ctx.lineTo(x, y);
      }
      ctx.lineTo(w, h); ctx.closePath(); ctx.fill();
    });
  }`,
  // Abstract waves in the French state's blue, for a neutral professional backdrop.
  waves: `(ctx, w, h, random) => {
    const bg = ctx.createLinearGradient(0, 0, w, h);
    bg.addColorStop(0, '#f5f5fe'); bg.addColorStop(1, '#cacafb');
    ctx.fillStyle = bg; ctx.fillRect(0, 0, w, h);
    for (let k = 0; k < 9; k++) {
      const y0 = h * (0.35 + k * 0.07), amp = 30 + random() * 40, freq = 1.5 + random() * 1.5, phase = random() * 6;
      ctx.beginPath(); ctx.moveTo(0, h);
      for (let x = 0; x <= w; x += 4) ctx.lineTo(x, y0 + amp * Math.sin(x / w * freq * Math.PI * 2 + phase));
      ctx.lineTo(w, h); ctx.closePath();
      ctx.fillStyle = 'rgba(0, 0, 145, ' + (0.05 + k * 0.012) + ')'; ctx.fill();
    }
  }`,
};

const profile = mkdtempSync(join(tmpdir(), 'vme-bg-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--headless', '--disable-gpu'],
});
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  mkdirSync(OUT, { recursive: true });
  for (const [name, painter] of Object.entries(PAINTERS)) {
    const base64 = await page.evaluate(async ({ painter, w, h }) => {
      let seed = 12345;
      const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
      const canvas = new OffscreenCanvas(w, h);
      // eslint-disable-next-line no-eval
      (0, eval)(painter)(canvas.getContext('2d'), w, h, random);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.82 });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let text = '';
      for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return btoa(text);
    }, { painter, w: WIDTH, h: HEIGHT });
    const bytes = Buffer.from(base64, 'base64');
    writeFileSync(join(OUT, `${name}.jpg`), bytes);
    console.log(`${name}.jpg: ${bytes.length} bytes`);
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
