// DeepFilterNet3's networks in the wasm build (simd128 kernels) with the shipped float16
// weights, frame by frame, against onnxruntime on the official ONNX graphs
// (target/dfn3/reference.bin from scripts/dfn3-onnx-reference.py, which tests/deepfilter_network.rs
// also uses and creates when missing).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DF_ORDER, NB_DF, NB_ERB, createWasmNetwork } from '../helpers/deepfilter-network.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

function reference() {
  const path = `${root}/target/dfn3/reference.bin`;
  if (!existsSync(path)) execFileSync('python3', [`${root}/scripts/dfn3-onnx-reference.py`], { stdio: 'inherit' });
  const b = readFileSync(path);
  const T = b.readUInt32LE(0);
  const all = new Float32Array(b.buffer.slice(b.byteOffset + 4, b.byteOffset + b.length));
  let p = 0;
  const take = (n) => all.subarray(p, (p += n));
  return {
    T,
    featErb: take(T * NB_ERB), featSpec: take(T * NB_DF * 2),
    lsnr: take(T), mask: take(T * NB_ERB), coefs: take(T * NB_DF * DF_ORDER * 2),
  };
}

/** Largest absolute difference relative to the reference's largest magnitude. */
function relErr(ours, ref) {
  let scale = 0;
  let err = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]));
    err = Math.max(err, Math.abs(ours[i] - ref[i]));
  }
  assert.ok(Number.isFinite(err));
  return err / scale;
}

test('wasm networks with the shipped float16 weights follow onnxruntime frame by frame', () => {
  const r = reference();
  const net = createWasmNetwork();
  const lsnr = new Float32Array(r.T);
  const mask = new Float32Array(r.T * NB_ERB);
  const coefs = new Float32Array(r.T * NB_DF * DF_ORDER * 2);
  for (let t = 0; t < r.T; t++) {
    net.features.set(r.featErb.subarray(t * NB_ERB, (t + 1) * NB_ERB), 0);
    net.features.set(r.featSpec.subarray(t * NB_DF * 2, (t + 1) * NB_DF * 2), NB_ERB);
    lsnr[t] = net.step();
    mask.set(net.output.subarray(0, NB_ERB), t * NB_ERB);
    coefs.set(net.output.subarray(NB_ERB), t * NB_DF * DF_ORDER * 2);
  }
  net.destroy();
  const errors = { lsnr: relErr(lsnr, r.lsnr), mask: relErr(mask, r.mask), coefs: relErr(coefs, r.coefs) };
  console.log(`wasm, float16 weights, ${r.T} frames, max error / max |reference|:`, errors);
  for (const [k, e] of Object.entries(errors)) assert.ok(e < 1e-2, `${k}: ${e}`);
});

test('a damaged weight file is refused with a message naming the problem, not a crash', () => {
  const weights = readFileSync(`${root}/pkg/models/deepfilternet3.dfw`);
  assert.throws(() => createWasmNetwork(undefined, weights.subarray(0, 1000)), /^Error: vme_dfn_net_create: DeepFilterNet weights truncated: /);
  const renamed = Buffer.from(weights);
  renamed[17] = 'X'.charCodeAt(0);
  assert.throws(() => createWasmNetwork(undefined, renamed), /^Error: vme_dfn_net_create: DeepFilterNet weights: missing tensor "/);
});
