// DeepFilterNet3 in the built wasm (SIMD, the shipped float16 weights) through its C-ABI:
// the same output as DeepFilterNet's native libdeepfilter, the stated latency, clear errors
// on bad weights. The reference outputs come from scripts/dfn3-reference.mjs (cached under
// target/dfn3-reference/, also used by tests/deepfilter.rs).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { snrDb } from '../helpers/audio.mjs';
import { WEIGHTS_PATH, rawWasm } from '../helpers/deepfilter-network.mjs';
import { HOP, createDeepFilter } from '../helpers/deepfilter-wasm.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
execFileSync('node', [`${root}scripts/dfn3-reference.mjs`], { stdio: 'inherit' });
const f32 = (name) => {
  const b = readFileSync(`${root}target/dfn3-reference/e2e/${name}.f32`);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};

// Measured: 64-74 dB natively with the float16 weights (tests/deepfilter.rs); the bar leaves
// room for wasm's float differences only.
for (const name of ['clean', 'pink-0db']) {
  test(`wasm DeepFilterNet3 matches libdeepfilter on ${name}`, () => {
    const input = f32(`${name}.in`);
    const want = f32(`${name}.out`);
    const wantLsnr = f32(`${name}.lsnr`);
    const e = rawWasm();
    const dfn = createDeepFilter(e);
    assert.equal(dfn.latency, 1440);
    const got = new Float32Array(want.length);
    let lsnrErr = 0;
    for (let i = 0, t = 0; i < want.length; i += HOP, t++) {
      const lsnr = dfn.process(input.subarray(i, i + HOP), got.subarray(i, i + HOP));
      lsnrErr = Math.max(lsnrErr, Math.abs(lsnr - wantLsnr[t]));
    }
    dfn.destroy();
    const snr = snrDb(got, want);
    console.log(`# ${name}: wasm vs libdeepfilter ${snr.toFixed(1)} dB SNR, SNR estimate within ${lsnrErr.toFixed(3)} dB`);
    assert.ok(snr >= 55, `${snr.toFixed(1)} dB`);
    assert.ok(lsnrErr < 0.5, `SNR estimate off by ${lsnrErr} dB`);
  });
}

test('bad weight files are refused with a message naming the problem', () => {
  const good = readFileSync(WEIGHTS_PATH);
  const e = rawWasm();
  assert.throws(() => createDeepFilter(e, good.subarray(0, good.length - 100)), /DeepFilterNet weight/);
  const wrongMagic = Buffer.from(good.subarray(0, 64));
  wrongMagic.write('XXXX', 0, 'latin1');
  assert.throws(() => createDeepFilter(e, wrongMagic), /DeepFilterNet weight/);
  assert.throws(() => createDeepFilter(e, Buffer.alloc(0)), /DeepFilterNet weight/);
});
