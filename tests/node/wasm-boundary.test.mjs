// The wasm boundary's conventions (README, "The wasm boundary"; src/wasm/mod.rs), checked on
// what the build produced: the wasm-bindgen declarations (pkg/visio_media_effects.d.ts, read
// with the TypeScript compiler) and the raw C-ABI exports of the wasm module.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DTS = join(ROOT, 'pkg/visio_media_effects.d.ts');

/** What the glue exports: functions, and classes with their members' names and signatures. */
function declarations() {
  const source = ts.createSourceFile(DTS, readFileSync(DTS, 'utf8'), ts.ScriptTarget.Latest, true);
  const exported = (node) => node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  const functions = [];
  const members = [];
  for (const node of source.statements) {
    if (!exported(node)) continue;
    if (ts.isFunctionDeclaration(node)) functions.push({ name: node.name.text, node });
    if (ts.isClassDeclaration(node)) {
      for (const m of node.members) {
        if (!m.name || ts.isComputedPropertyName(m.name)) continue; // [Symbol.dispose]
        members.push({ name: `${node.name.text}.${m.name.text}`, node: m });
      }
      members.push({ name: node.name.text, node, isClass: true });
    }
  }
  return { functions, members };
}

// The glue's own names (wasm-bindgen writes them, not us).
const GLUE = new Set(['__wbg_init', '__wbg_reset_state', 'initSync']);

test('every wasm-bindgen export and member has a camelCase JavaScript name', () => {
  const { functions, members } = declarations();
  assert.ok(members.some((m) => m.name === 'Segmenter.segment'), 'the declarations were read');
  const ours = [...functions, ...members].filter((d) => !GLUE.has(d.name));
  const names = ours.map((d) => d.name.split('.').pop());
  const wrong = names.filter((n) => !/^[A-Za-z][A-Za-z0-9]*$/.test(n));
  assert.deepEqual(wrong, [], 'snake_case names: give them `js_name = camelCase` in src/wasm/');
  // Parameters too (they are the declarations' documentation).
  const params = ours.flatMap((d) => (d.node.parameters ?? []).map((p) => `${d.name}(${p.name.text})`));
  assert.deepEqual(params.filter((p) => p.includes('_')), []);
});

// Set-up data passed as typed-array arguments (once per model, image or frame layout); per-frame
// data (frames, masks, output) must go through buffers in wasm memory instead.
const SETUP_ARRAYS = new Set(['Segmenter.constructor(model)', 'CpuCompositor.setImage(rgba)',
  'FrameInput.describe(layout)', 'profileSegmentation(model)']);
const SMALL_RESULTS = new Set(['FrameInput.coefficients']); // six floats

test('per-frame data crosses the boundary only through buffers in wasm memory', () => {
  const { functions, members } = declarations();
  const typed = (type) => type && /(Uint8|Uint8Clamped|Float32|Float64|Int16|Uint32)Array|ArrayBuffer/.test(type.getText());
  const arrayParams = [];
  const arrayResults = [];
  for (const d of [...functions, ...members]) {
    const node = d.node;
    const name = ts.isConstructorDeclaration(node) ? `${d.name.replace(/\.constructor$/, '')}.constructor` : d.name;
    for (const p of node.parameters ?? []) if (typed(p.type)) arrayParams.push(`${name}(${p.name.text})`);
    if (typed(node.type)) arrayResults.push(name);
  }
  assert.deepEqual(arrayParams.filter((p) => !SETUP_ARRAYS.has(p)), [], 'typed-array arguments other than set-up data');
  assert.deepEqual(arrayResults.filter((r) => !SMALL_RESULTS.has(r)), [], 'typed arrays copied out');
  // Every buffer is reached the same way: a `...Ptr()` method giving an address.
  const pointers = members.filter((m) => /Ptr$/.test(m.name)).map((m) => m.name).sort();
  assert.deepEqual(pointers, ['CpuCompositor.maskPtr', 'CpuCompositor.outputPtr', 'FrameInput.framePtr', 'Segmenter.maskPtr']);
  for (const m of members.filter((m) => /Ptr$/.test(m.name))) assert.ok(ts.isMethodDeclaration(m.node), `${m.name} is a method`);
});

test('the raw C ABI: vme_<family>_<verb>, create/destroy per family, one weight buffer and error', async () => {
  const module = await WebAssembly.compile(readFileSync(join(ROOT, 'pkg/visio_media_effects_bg.wasm')));
  const raw = WebAssembly.Module.exports(module).map((e) => e.name).filter((n) => n.startsWith('vme_'));
  const shared = ['vme_error_len', 'vme_error_ptr', 'vme_weights_alloc', 'vme_weights_free'];
  assert.deepEqual(raw.filter((n) => !/^vme_(ns|dfn|dfn_net)_[a-z_]+$/.test(n)).sort(), shared);
  for (const family of ['ns', 'dfn', 'dfn_net']) {
    const verbs = raw.filter((n) => n.startsWith(`vme_${family}_`) && !(family === 'dfn' && n.startsWith('vme_dfn_net_')));
    for (const verb of ['create', 'destroy']) assert.ok(verbs.includes(`vme_${family}_${verb}`), `vme_${family}_${verb}`);
    // Their own error strings and weight allocators are gone: the shared ones serve all.
    assert.deepEqual(verbs.filter((n) => /_(error_ptr|error_len|alloc|weights)$/.test(n)), [], family);
  }
});
