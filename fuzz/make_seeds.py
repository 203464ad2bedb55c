"""Writes small TFLite models that use every operator the engine supports, as fuzzing seeds
(fuzz/corpus/tflite_loader/) and as a test fixture (tests/fixtures/segmentation/tiny.tflite):
input 1x8x12x3 -> DEQUANTIZE'd float16 weights -> CONV_2D 3x3/2 + HARD_SWISH -> DEPTHWISE 3x3
+ RELU -> squeeze-excitation (MEAN, CONV_2D 1x1, LOGISTIC, MUL) -> AVERAGE_POOL_2D 2x2/2 ->
RESIZE_BILINEAR x2 -> ADD -> Convolution2DTransposeBias 2x2/2 -> LOGISTIC -> 1x8x12x1.
Weights are random (seeded). Needs the `flatbuffers` package and TFLite's generated schema
module (shipped in the mediapipe wheel). Usage: python make_seeds.py OUT_DIR"""
import os
import struct
import sys

import flatbuffers
import numpy as np
from mediapipe.tasks.metadata import schema_py_generated as s

rng = np.random.default_rng(7)
m = s.ModelT()
m.version = 3
m.buffers = [s.BufferT()]
g = s.SubGraphT()
g.tensors, g.operators = [], []
codes = {}


def code(builtin, custom=None):
    key = (builtin, custom)
    if key not in codes:
        c = s.OperatorCodeT()
        c.builtinCode = builtin
        c.deprecatedBuiltinCode = min(builtin, 127)
        c.customCode = custom
        c.version = 1
        codes[key] = len(codes)
        m.operatorCodes = (m.operatorCodes or []) + [c]
    return codes[key]


def tensor(shape, dtype=s.TensorType.FLOAT32, data=None):
    t = s.TensorT()
    t.shape, t.type, t.name = list(shape), dtype, f"t{len(g.tensors)}"
    t.buffer = 0
    if data is not None:
        b = s.BufferT()
        b.data = list(data.tobytes())
        m.buffers.append(b)
        t.buffer = len(m.buffers) - 1
    g.tensors.append(t)
    return len(g.tensors) - 1


def weights(shape):
    """A float16 constant and the DEQUANTIZE node that turns it into float32."""
    h = tensor(shape, s.TensorType.FLOAT16, (rng.standard_normal(shape) * 0.5).astype(np.float16))
    f = tensor(shape)
    op(s.BuiltinOperator.DEQUANTIZE, [h], [f])
    return f


def op(builtin, ins, outs, opt_type=0, opt=None, custom=None, custom_options=None):
    o = s.OperatorT()
    o.opcodeIndex = code(builtin, custom)
    o.inputs, o.outputs = ins, outs
    o.builtinOptionsType, o.builtinOptions = opt_type, opt
    if custom_options is not None:
        o.customOptions = list(custom_options)
    g.operators.append(o)


def conv(x, shape_out, cin, cout, k, stride, padding=s.Padding.SAME):
    w, b = weights([cout, k, k, cin]), weights([cout])
    y = tensor(shape_out)
    opt = s.Conv2DOptionsT()
    opt.padding, opt.strideW, opt.strideH = padding, stride, stride
    opt.dilationWFactor = opt.dilationHFactor = 1
    op(s.BuiltinOperator.CONV_2D, [x, w, b], [y], s.BuiltinOptions.Conv2DOptions, opt)
    return y


def unary(builtin, x, shape):
    y = tensor(shape)
    op(builtin, [x], [y])
    return y


x = tensor([1, 8, 12, 3])
a = unary(s.BuiltinOperator.HARD_SWISH, conv(x, [1, 4, 6, 8], 3, 8, 3, 2), [1, 4, 6, 8])
w, b = weights([1, 3, 3, 8]), weights([8])
d = tensor([1, 4, 6, 8])
opt = s.DepthwiseConv2DOptionsT()
opt.padding, opt.strideW, opt.strideH, opt.depthMultiplier = s.Padding.SAME, 1, 1, 1
opt.dilationWFactor = opt.dilationHFactor = 1
op(s.BuiltinOperator.DEPTHWISE_CONV_2D, [a, w, b], [d], s.BuiltinOptions.DepthwiseConv2DOptions, opt)
d = unary(s.BuiltinOperator.RELU, d, [1, 4, 6, 8])
axes = tensor([2], s.TensorType.INT32, np.array([1, 2], np.int32))
mean = tensor([1, 1, 1, 8])
opt = s.ReducerOptionsT()
opt.keepDims = True
op(s.BuiltinOperator.MEAN, [d, axes], [mean], s.BuiltinOptions.ReducerOptions, opt)
gate = unary(s.BuiltinOperator.LOGISTIC, conv(mean, [1, 1, 1, 8], 8, 8, 1, 1, s.Padding.VALID), [1, 1, 1, 8])
se = tensor([1, 4, 6, 8])
op(s.BuiltinOperator.MUL, [d, gate], [se], s.BuiltinOptions.MulOptions, s.MulOptionsT())
pooled = tensor([1, 2, 3, 8])
opt = s.Pool2DOptionsT()
opt.padding, opt.strideW, opt.strideH, opt.filterWidth, opt.filterHeight = s.Padding.VALID, 2, 2, 2, 2
op(s.BuiltinOperator.AVERAGE_POOL_2D, [se, ], [pooled], s.BuiltinOptions.Pool2DOptions, opt)
size = tensor([2], s.TensorType.INT32, np.array([4, 6], np.int32))
up = tensor([1, 4, 6, 8])
opt = s.ResizeBilinearOptionsT()
opt.halfPixelCenters = True
op(s.BuiltinOperator.RESIZE_BILINEAR, [pooled, size], [up], s.BuiltinOptions.ResizeBilinearOptions, opt)
added = tensor([1, 4, 6, 8])
op(s.BuiltinOperator.ADD, [up, a], [added], s.BuiltinOptions.AddOptions, s.AddOptionsT())
w, b = weights([1, 2, 2, 8]), weights([1])
t = tensor([1, 8, 12, 1])
# MediaPipe's custom options: a raw TfLiteTransposeConvParams {padding SAME = 1, stride_w, stride_h}.
op(s.BuiltinOperator.CUSTOM, [added, w, b], [t], custom="Convolution2DTransposeBias",
   custom_options=struct.pack("<3i", 1, 2, 2))
out = unary(s.BuiltinOperator.LOGISTIC, t, [1, 8, 12, 1])
g.inputs, g.outputs = [x], [out]
m.subgraphs = [g]

builder = flatbuffers.Builder(4096)
builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
data = bytes(builder.Output())
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "tiny.tflite"), "wb") as f:
    f.write(data)
print(f"wrote {len(data)} bytes")
