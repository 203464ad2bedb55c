// `npm run test:style` (part of `npm test`): the Rust code is formatted as `cargo fmt` leaves it
// and has no clippy finding, for the native build (tests included) and for the wasm32 build
// that ships (its cfg(target_arch = "wasm32") code is only seen there). Installs the two
// rustup components on a fresh machine. The package's declarations are type-checked by
// tests/node/types.test.mjs.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function run(cmd, args) {
  console.log(`> ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

function has(args) {
  try {
    execFileSync('cargo', args, { cwd: root, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = [['fmt', 'rustfmt'], ['clippy', 'clippy']].filter(([sub]) => !has([sub, '--version'])).map(([, c]) => c);
if (missing.length) run('rustup', ['component', 'add', ...missing]);

try {
  run('cargo', ['fmt', '--check']);
  run('cargo', ['clippy', '--release', '--all-targets', '--', '-D', 'warnings']);
  run('cargo', ['clippy', '--release', '--lib', '--target', 'wasm32-unknown-unknown', '--', '-D', 'warnings']);
} catch {
  console.error('style check failed: run `cargo fmt` and fix the clippy findings above');
  process.exit(1);
}
