// The tarball `node scripts/build.mjs` packs (target/npm/): the files an app gets, the
// metadata npm and bundlers read, the licences, and the size budget (<= 1 MB packed, and
// <= 1 MB for what a page downloads on first use of both effects, gzip as served).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ROOT } from '../browser/harness.mjs';

const DIR = join(ROOT, 'target/npm');
const tarball = () => join(DIR, readdirSync(DIR).find((f) => /^visio-media-effects-.*\.tgz$/.test(f)));
const MB = 1024 * 1024;

test('the tarball ships the modules, the wasm, the model, README, licences and NOTICE, nothing else', () => {
  const files = execFileSync('tar', ['tzf', tarball()], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
  for (const f of ['README.md', 'LICENSE-MIT', 'LICENSE-APACHE', 'NOTICE', 'package.json', 'index.js', 'index.d.ts',
    'visio_media_effects_bg.wasm', 'noise-suppressor.worklet.js', 'video/video-worker.js',
    'models/selfie_segmentation_landscape.tflite']) {
    assert.ok(files.includes(f), `${f} in the tarball (${files.join(', ')})`);
  }
  assert.deepEqual(files.filter((f) => !/\.(js|d\.ts|wasm|md|json)$|^models\/|^(LICENSE-MIT|LICENSE-APACHE|NOTICE)$/.test(f)), [], 'no stray files');
  const meta = JSON.parse(readFileSync(join(ROOT, 'pkg/package.json'), 'utf8'));
  assert.equal(meta.name, 'visio-media-effects');
  assert.equal(meta.license, 'MIT OR Apache-2.0');
  assert.match(meta.repository?.url ?? '', /^git\+https:\/\//);
  assert.ok(Array.isArray(meta.files) && meta.engines?.node, 'files and engines set');
  assert.equal(meta.exports['.'].types, './index.d.ts');
});

test('NOTICE names every crate compiled into the wasm, the model and RNNoise, with licences', () => {
  const notice = readFileSync(join(ROOT, 'pkg/NOTICE'), 'utf8');
  const tree = execFileSync('cargo', ['tree', '--target', 'wasm32-unknown-unknown', '-e', 'normal,no-proc-macro', '--prefix', 'none', '-f', '{p}'],
    { cwd: ROOT, encoding: 'utf8' });
  const crates = new Set(tree.split('\n').map((l) => l.split(' ').slice(0, 2).join(' ')).filter((p) => /^\S+ v\d/.test(p) && !p.startsWith('visio-media-effects ')));
  assert.ok(crates.size > 5);
  for (const crate of crates) {
    const [name, version] = crate.split(' ');
    assert.ok(notice.includes(`* ${name} ${version.slice(1)}: `), `${crate} in NOTICE`);
  }
  for (const model of readdirSync(join(ROOT, 'pkg/models'))) {
    assert.match(notice, new RegExp(`Files: models/${model.replace('.', '\\.')}\n\\s+Licence: \\S`), `models/${model} and its licence in NOTICE`);
  }
  assert.match(notice, /MediaPipe Selfie Segmentation.*\n.*selfie_segmentation_landscape\.tflite\n\s+Licence: Apache-2\.0/);
  assert.match(notice, /RNNoise[^\n]*\n[^\n]*\n\s+Licence: BSD-3-Clause/);
  // BSD-3-Clause and MIT-only crates: their copyright lines and conditions are reproduced.
  assert.match(notice, /== nnnoiseless [\d.]+: BSD-3-Clause ==\n\nCopyright \(c\) 2020, Joe Neeman[\s\S]*Jean-Marc Valin[\s\S]*Redistributions in binary form/);
  assert.match(notice, /== realfft [\d.]+: MIT ==\n\nMIT License\n\nCopyright/);
});

test('the shipped wasm has no test-only export; its glue can replace a trapped instance', async () => {
  const module = await WebAssembly.compile(readFileSync(join(ROOT, 'pkg/visio_media_effects_bg.wasm')));
  const exports = WebAssembly.Module.exports(module).map((e) => e.name);
  assert.ok(exports.includes('segmenter_segment'), 'the real exports are there');
  assert.ok(!exports.some((name) => /debug/i.test(name)), `no debug export (${exports.filter((n) => /debug/i.test(n))})`);
  assert.match(readFileSync(join(ROOT, 'pkg/visio_media_effects.js'), 'utf8'), /export function __wbg_reset_state\b/);
});

// Optional models (DeepFilterNet3) load only when chosen: they count in the tarball, which is
// reported, not in what every user downloads, which is held to 1 MB.
test('size: what a page downloads on first use of both effects stays under 1 MB', () => {
  const packed = statSync(tarball()).size;
  const served = ['visio_media_effects_bg.wasm', 'models/selfie_segmentation_landscape.tflite', 'noise-suppressor.worklet.js',
    'index.js', 'noise-suppression.js', 'wasm.js', 'checks.js', 'visio_media_effects.js', ...readdirSync(join(ROOT, 'pkg/video')).map((f) => `video/${f}`)]
    .reduce((sum, f) => sum + gzipSync(readFileSync(join(ROOT, 'pkg', f)), { level: 9 }).length, 0);
  console.log(`# packed ${packed} bytes; first use of both effects downloads ${served} bytes gzip`);
  assert.ok(served <= MB, `first download ${served} bytes <= 1 MB`);
});
