// The trap test's own build of the package (tests/browser/video-trap.test.mjs): pkg/ with its
// wasm built with the `debug-trap` feature (an export, debugPanicOnNextFrame(), that makes the
// next segmentation panic), in target/debug-trap/pkg/. It never goes into pkg/: a user cannot
// reach the panic, and the shipped wasm has no such export.
//
// The video worker of this build is wrapped so that the test can arm the panic inside it: a
// `{ type: 'debug-panic' }` message (the shipped worker ignores unknown messages); it also
// forwards its console.error calls to the page as `{ type: 'debug-console-error', text }`
// (the test counts the panic's report in engines whose driver has no console API).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bindgenArgs } from './bindgen.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const crate = 'visio_media_effects';

/** Builds it (pkg/ must be built) and returns its directory. */
export function buildDebugTrapPackage() {
  const pkg = join(root, 'pkg');
  if (!existsSync(join(pkg, `${crate}.js`))) throw new Error('build pkg/ first (node scripts/build.mjs)');
  const targetDir = join(root, 'target/debug-trap');
  // Its own target directory: the shipped build's artefacts are never replaced by this one.
  execFileSync('cargo', ['build', '--release', '--lib', '--target', 'wasm32-unknown-unknown', '--features', 'debug-trap',
    '--target-dir', targetDir], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  const out = join(targetDir, 'pkg');
  rmSync(out, { recursive: true, force: true });
  cpSync(pkg, out, { recursive: true });
  execFileSync('wasm-bindgen', bindgenArgs(join(targetDir, 'wasm32-unknown-unknown/release', `${crate}.wasm`), out, crate),
    { cwd: root, stdio: 'inherit' });
  renameSync(join(out, 'video/video-worker.js'), join(out, 'video/video-worker-shipped.js'));
  writeFileSync(join(out, 'video/video-worker.js'), `// Test build only (scripts/debug-trap-package.mjs).
import './video-worker-shipped.js';
import { debugPanicOnNextFrame } from '../${crate}.js';

self.addEventListener('message', ({ data }) => {
  if (data?.type === 'debug-panic') debugPanicOnNextFrame();
});

const consoleError = console.error;
console.error = (...args) => {
  self.postMessage({ type: 'debug-console-error', text: args.map(String).join(' ') });
  consoleError.apply(console, args);
};
`);
  return out;
}
