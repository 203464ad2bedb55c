//! Turns a parsed TFLite model into a `Network`: constants decoded (float16 weights dequantised
//! once), weights repacked for the kernels, shapes checked node by node, activation functions
//! and residual additions folded into the kernel that produces their input, and every
//! activation tensor given a fixed place in the arena.

use super::graph::{Kernel, Network, Slot, Step};
use super::kernels::{self, Act, BinOp, Dims, Window};
use super::tflite::{self, Activation, Op, Padding, TYPE_FLOAT16, TYPE_FLOAT32, TYPE_INT32};
use super::Error;

pub(super) fn build(model: &tflite::Model) -> Result<Network, Error> {
    Planner::new(model)?.plan(model)
}
/// A tensor of the model as the planner sees it.
enum Value {
    /// Not yet produced by any node.
    Unset,
    Const(Vec<f32>),
    ConstI32(Vec<i32>),
    /// An activation: index into the slot list.
    Act(usize),
}

fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: value = m * 2^-24.
            return f32::from_bits(sign)
                + if sign != 0 { -(m as f32) } else { m as f32 } * (1.0 / 16_777_216.0);
        }
        (31, 0) => sign | 0x7f80_0000,
        (31, m) => sign | 0x7fc0_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

fn shape_len(shape: &[i32]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| {
        if d < 0 {
            None
        } else {
            acc.checked_mul(d as usize)
        }
    })
}

/// NHWC dims of a tensor of rank <= 4 with batch 1 (lower ranks are padded with leading 1s);
/// channels are rounded up to a multiple of 4.
fn dims_of(shape: &[i32], what: &str, node: usize) -> Result<(Dims, usize), Error> {
    if shape.len() > 4 || shape.iter().any(|&d| d <= 0 || d > 1 << 16) {
        return Err(Error::node(
            node,
            format!("{what} has unsupported shape {shape:?}"),
        ));
    }
    let mut s = [1usize; 4];
    for (i, &d) in shape.iter().enumerate() {
        s[4 - shape.len() + i] = d as usize;
    }
    if s[0] != 1 {
        return Err(Error::node(
            node,
            format!("{what} has batch {} (only 1 is supported)", s[0]),
        ));
    }
    let d = Dims {
        h: s[1],
        w: s[2],
        c: s[3],
    };
    if d.h * d.w * d.c > 1 << 26 {
        return Err(Error::node(
            node,
            format!("{what} shape {shape:?} is too large"),
        ));
    }
    Ok((
        Dims {
            c: s[3].div_ceil(4) * 4,
            ..d
        },
        s[3],
    ))
}

fn same_or_valid(
    padding: Padding,
    input: usize,
    k: usize,
    stride: usize,
    dilation: usize,
) -> Option<(usize, usize)> {
    let eff = (k - 1) * dilation + 1;
    let out = match padding {
        Padding::Same => input.div_ceil(stride),
        Padding::Valid => (input.checked_sub(eff)?) / stride + 1,
    };
    let total = ((out - 1) * stride + eff).saturating_sub(input);
    Some((out, total / 2))
}

fn act_of(a: Activation) -> Act {
    match a {
        Activation::None => Act::None,
        Activation::Relu => Act::Relu,
        Activation::Relu6 => Act::Relu6,
        Activation::ReluN1To1 => Act::ReluN1To1,
    }
}

struct Planner {
    values: Vec<Value>,
    /// Dims and real channel count of each activation slot.
    slots: Vec<(Dims, usize)>,
    /// How many nodes read each tensor (to know when an activation can be folded).
    readers: Vec<usize>,
}

impl Planner {
    fn new(model: &tflite::Model) -> Result<Planner, Error> {
        let n = model.tensors.len();
        let mut values: Vec<Value> = (0..n).map(|_| Value::Unset).collect();
        for (i, t) in model.tensors.iter().enumerate() {
            if t.data.is_empty() {
                continue;
            }
            let count = shape_len(&t.shape).ok_or_else(|| {
                Error::malformed(format!("tensor {i} ({}) has shape {:?}", t.name, t.shape))
            })?;
            let size = match t.dtype {
                TYPE_FLOAT32 | TYPE_INT32 => 4,
                TYPE_FLOAT16 => 2,
                d => {
                    return Err(Error::malformed(format!(
                        "constant tensor {i} ({}) has unsupported type {d}",
                        t.name
                    )))
                }
            };
            if count.checked_mul(size) != Some(t.data.len()) {
                return Err(Error::malformed(format!(
                    "tensor {i} ({}) of shape {:?} has {} bytes of data, expected {}",
                    t.name,
                    t.shape,
                    t.data.len(),
                    count.saturating_mul(size)
                )));
            }
            values[i] = match t.dtype {
                TYPE_FLOAT32 => Value::Const(
                    t.data
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                ),
                TYPE_INT32 => Value::ConstI32(
                    t.data
                        .chunks_exact(4)
                        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                ),
                // Float16 constants stay raw until a DEQUANTIZE node converts them.
                _ => Value::Unset,
            };
        }
        let mut readers = vec![0usize; n];
        for node in &model.nodes {
            for &i in &node.inputs {
                if i >= 0 && (i as usize) < n {
                    readers[i as usize] += 1;
                }
            }
        }
        for &o in &model.outputs {
            if o >= 0 && (o as usize) < n {
                readers[o as usize] += 1; // a graph output is never folded away
            }
        }
        Ok(Planner {
            values,
            slots: Vec::new(),
            readers,
        })
    }

    fn tensor(&self, model: &tflite::Model, idx: i32, node: usize) -> Result<usize, Error> {
        if idx < 0 || idx as usize >= model.tensors.len() {
            return Err(Error::node(
                node,
                format!("refers to tensor {idx} of {}", model.tensors.len()),
            ));
        }
        Ok(idx as usize)
    }

    fn constant<'v>(
        &'v self,
        model: &tflite::Model,
        idx: i32,
        node: usize,
        what: &str,
    ) -> Result<&'v [f32], Error> {
        match &self.values[self.tensor(model, idx, node)?] {
            Value::Const(v) => Ok(v),
            _ => Err(Error::node(
                node,
                format!("{what} (tensor {idx}) is not a float constant"),
            )),
        }
    }

    fn activation(
        &self,
        model: &tflite::Model,
        idx: i32,
        node: usize,
        what: &str,
    ) -> Result<usize, Error> {
        match self.values[self.tensor(model, idx, node)?] {
            Value::Act(s) => Ok(s),
            Value::Unset => Err(Error::node(
                node,
                format!("{what} (tensor {idx}) is read before it is computed"),
            )),
            _ => Err(Error::unsupported(
                node,
                format!("constant {what} (tensor {idx})"),
            )),
        }
    }

    fn new_slot(&mut self, model: &tflite::Model, idx: i32, node: usize) -> Result<usize, Error> {
        let t = self.tensor(model, idx, node)?;
        if !matches!(self.values[t], Value::Unset) || !model.tensors[t].data.is_empty() {
            return Err(Error::node(
                node,
                format!("output tensor {idx} is written twice or is a constant"),
            ));
        }
        if model.tensors[t].dtype != TYPE_FLOAT32 {
            return Err(Error::unsupported(
                node,
                format!("output tensor {idx} of type {}", model.tensors[t].dtype),
            ));
        }
        let d = dims_of(&model.tensors[t].shape, &format!("tensor {idx}"), node)?;
        self.slots.push(d);
        self.values[t] = Value::Act(self.slots.len() - 1);
        Ok(self.slots.len() - 1)
    }

    fn plan(mut self, model: &tflite::Model) -> Result<Network, Error> {
        if model.inputs.len() != 1 || model.outputs.len() != 1 {
            return Err(Error::malformed(format!(
                "model has {} inputs and {} outputs, expected 1 and 1",
                model.inputs.len(),
                model.outputs.len()
            )));
        }
        let input = self.new_slot(model, model.inputs[0], 0)?;
        let mut steps: Vec<Step> = Vec::new();
        // Tensor id -> the step that produced it, for folding activations.
        let mut producer: Vec<Option<usize>> = vec![None; model.tensors.len()];

        for (n, node) in model.nodes.iter().enumerate() {
            let arity = |ins: usize| -> Result<(), Error> {
                if node.inputs.len() < ins || node.outputs.len() != 1 {
                    Err(Error::node(
                        n,
                        format!(
                            "{:?} has {} inputs and {} outputs",
                            node.op,
                            node.inputs.len(),
                            node.outputs.len()
                        ),
                    ))
                } else {
                    Ok(())
                }
            };
            if let Op::Dequantize = node.op {
                arity(1)?;
                let src = self.tensor(model, node.inputs[0], n)?;
                let t = &model.tensors[src];
                if t.dtype != TYPE_FLOAT16 || t.data.is_empty() {
                    return Err(Error::unsupported(
                        n,
                        format!("DEQUANTIZE of tensor {src}, which is not a float16 constant"),
                    ));
                }
                let dst = self.tensor(model, node.outputs[0], n)?;
                if model.tensors[dst].shape != t.shape || !matches!(self.values[dst], Value::Unset)
                {
                    return Err(Error::node(
                        n,
                        format!("DEQUANTIZE output tensor {dst} does not match its input's shape"),
                    ));
                }
                self.values[dst] = Value::Const(
                    t.data
                        .chunks_exact(2)
                        .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                        .collect(),
                );
                continue;
            }

            // Unary activations: fold into the producing step when nothing else reads its output.
            let unary = match node.op {
                Op::Relu => Some(Act::Relu),
                Op::HardSwish => Some(Act::HardSwish),
                Op::Logistic => Some(Act::Sigmoid),
                _ => None,
            };
            if let Some(act) = unary {
                arity(1)?;
                let src = self.activation(model, node.inputs[0], n, "input")?;
                let t = self.tensor(model, node.inputs[0], n)?;
                let out = self.new_slot(model, node.outputs[0], n)?;
                if self.slots[out] != self.slots[src] {
                    return Err(Error::node(
                        n,
                        "output shape differs from input shape".into(),
                    ));
                }
                let foldable = |p: &usize| {
                    self.readers[t] == 1
                        && steps[*p].act == Act::None
                        && steps[*p].output == src
                        && steps[*p].residual.is_none()
                        && !matches!(steps[*p].kernel, Kernel::Resize { .. })
                };
                if let Some(p) = producer[t].filter(foldable) {
                    // The folded step now writes this node's output directly.
                    steps[p].act = act;
                    steps[p].output = out;
                    producer[self.tensor(model, node.outputs[0], n)?] = Some(p);
                } else {
                    steps.push(Step {
                        kernel: Kernel::Unary,
                        act,
                        input: src,
                        output: out,
                        residual: None,
                    });
                    producer[self.tensor(model, node.outputs[0], n)?] = Some(steps.len() - 1);
                }
                continue;
            }

            let src = self.activation(model, *node.inputs.first().unwrap_or(&-1), n, "input")?;
            let (id, in_c) = self.slots[src];
            // Each arm: the kernel, its fused activation, and the output dims it produces.
            let (kernel, act, expect): (Kernel, Act, (Dims, usize)) = match node.op {
                Op::Conv2d {
                    padding,
                    stride,
                    dilation,
                    act,
                } => {
                    arity(2)?;
                    let (cout, kh, kw) = self.filter(model, node, n, in_c, false, "CONV_2D")?;
                    let w = self.constant(model, node.inputs[1], n, "filter")?;
                    let win = window(n, id, kh, kw, padding, stride, dilation)?;
                    let (oh, ow) = out_size(n, id, kh, kw, padding, stride, dilation)?;
                    let taps = kh * kw;
                    let cout_p = cout.div_ceil(4) * 4;
                    let packed = kernels::pack_conv(
                        |o, t, i| w[(o * taps + t) * in_c + i],
                        cout,
                        taps,
                        in_c,
                        cout_p,
                        id.c,
                    );
                    let bias = self.bias(model, node, n, cout)?;
                    let k = if taps == 1 && stride == [1, 1] {
                        Kernel::Pointwise { w: packed, bias }
                    } else {
                        let k = (taps * in_c).div_ceil(4) * 4;
                        let w = kernels::pack_conv(
                            |o, _, j| w[o * taps * in_c + j],
                            cout,
                            1,
                            taps * in_c,
                            cout_p,
                            k,
                        );
                        Kernel::Conv {
                            w,
                            bias,
                            win,
                            cin: in_c,
                            k,
                        }
                    };
                    (
                        k,
                        act_of(act),
                        (
                            Dims {
                                h: oh,
                                w: ow,
                                c: cout_p,
                            },
                            cout,
                        ),
                    )
                }
                Op::DepthwiseConv2d {
                    padding,
                    stride,
                    dilation,
                    multiplier,
                    act,
                } => {
                    arity(2)?;
                    if multiplier > 1 {
                        return Err(Error::unsupported(
                            n,
                            format!("depth multiplier {multiplier}"),
                        ));
                    }
                    let fs = &model.tensors[self.tensor(model, node.inputs[1], n)?].shape;
                    if fs.len() == 4 && fs[1] as i64 * fs[2] as i64 > kernels::MAX_TAPS as i64 {
                        let what = format!("depthwise window {}x{}", fs[1], fs[2]);
                        return Err(Error::unsupported(n, what));
                    }
                    let (_, kh, kw) =
                        self.filter(model, node, n, in_c, true, "DEPTHWISE_CONV_2D")?;
                    let w = self.constant(model, node.inputs[1], n, "filter")?;
                    let win = window(n, id, kh, kw, padding, stride, dilation)?;
                    let (oh, ow) = out_size(n, id, kh, kw, padding, stride, dilation)?;
                    let mut packed = vec![0.0; kh * kw * id.c];
                    for t in 0..kh * kw {
                        packed[t * id.c..t * id.c + in_c]
                            .copy_from_slice(&w[t * in_c..(t + 1) * in_c]);
                    }
                    let bias = self.bias(model, node, n, in_c)?;
                    (
                        Kernel::Depthwise {
                            w: packed,
                            bias,
                            win,
                        },
                        act_of(act),
                        (
                            Dims {
                                h: oh,
                                w: ow,
                                c: id.c,
                            },
                            in_c,
                        ),
                    )
                }
                Op::TransposeConvBias { padding, stride } => {
                    arity(3)?;
                    let (cout, kh, kw) =
                        self.filter(model, node, n, in_c, false, "Convolution2DTransposeBias")?;
                    let w = self.constant(model, node.inputs[1], n, "filter")?;
                    let (oh, ow) = match padding {
                        Padding::Same => (id.h * stride[0], id.w * stride[1]),
                        Padding::Valid => {
                            ((id.h - 1) * stride[0] + kh, (id.w - 1) * stride[1] + kw)
                        }
                    };
                    let pad = |o: usize, i: usize, k: usize, s: usize| {
                        ((i - 1) * s + k).saturating_sub(o) / 2
                    };
                    let win = Window {
                        kh,
                        kw,
                        stride,
                        dilation: [1, 1],
                        pad: [pad(oh, id.h, kh, stride[0]), pad(ow, id.w, kw, stride[1])],
                    };
                    let cout_p = cout.div_ceil(4) * 4;
                    let taps = kh * kw;
                    let bias = self.bias(model, node, n, cout)?;
                    if stride == [kh, kw] && win.pad == [0, 0] && taps * cout <= 64 {
                        // Patches tile the output: one GEMM with taps * cout output columns.
                        let wide = (taps * cout).div_ceil(4) * 4;
                        let packed = kernels::pack_conv(
                            |j, _, i| w[((j % cout) * taps + j / cout) * in_c + i],
                            taps * cout,
                            1,
                            in_c,
                            wide,
                            id.c,
                        );
                        // The bias repeated for every tap's columns.
                        let wide_bias = (0..wide)
                            .map(|j| if j < taps * cout { bias[j % cout] } else { 0.0 })
                            .collect();
                        let k = Kernel::TransposeConvGemm {
                            w: packed,
                            bias: wide_bias,
                            win,
                            cout,
                        };
                        (
                            k,
                            Act::None,
                            (
                                Dims {
                                    h: oh,
                                    w: ow,
                                    c: cout_p,
                                },
                                cout,
                            ),
                        )
                    } else {
                        // Filter [cout][kh][kw][cin] -> [tap][cin_p][cout_p].
                        let mut packed = vec![0.0; kh * kw * id.c * cout_p];
                        for o in 0..cout {
                            for t in 0..kh * kw {
                                for i in 0..in_c {
                                    packed[(t * id.c + i) * cout_p + o] =
                                        w[(o * kh * kw + t) * in_c + i];
                                }
                            }
                        }
                        (
                            Kernel::TransposeConv {
                                w: packed,
                                bias,
                                win,
                            },
                            Act::None,
                            (
                                Dims {
                                    h: oh,
                                    w: ow,
                                    c: cout_p,
                                },
                                cout,
                            ),
                        )
                    }
                }
                Op::Add { act } | Op::Mul { act } => {
                    arity(2)?;
                    let op = if matches!(node.op, Op::Add { .. }) {
                        BinOp::Add
                    } else {
                        BinOp::Mul
                    };
                    let other = self.activation(model, node.inputs[1], n, "second input")?;
                    let (od, oc) = self.slots[other];
                    // Full-size operand first; the other is the same size or one pixel broadcast.
                    let (a, b, ad) = if id.h * id.w >= od.h * od.w {
                        (src, other, id)
                    } else {
                        (other, src, od)
                    };
                    let bd = self.slots[b].0;
                    if in_c != oc || !(bd == ad || (bd.h == 1 && bd.w == 1 && bd.c == ad.c)) {
                        return Err(Error::unsupported(
                            n,
                            format!(
                                "broadcast of {:?} with {:?}",
                                self.slots[src], self.slots[other]
                            ),
                        ));
                    }
                    if op == BinOp::Add && bd == ad && act == Activation::None {
                        // out = x + y where x comes from a 1x1 convolution read by nothing else,
                        // and y is already computed when that convolution runs: add y in the
                        // convolution's epilogue instead.
                        let tx = self.tensor(model, node.inputs[0], n)?;
                        let ty = self.tensor(model, node.inputs[1], n)?;
                        let fusable = |t: usize, slot: usize, other_t: usize| {
                            let p = producer[t]?;
                            let ready = producer[other_t].is_none_or(|q| q < p);
                            let ok = self.readers[t] == 1
                                && steps[p].output == slot
                                && steps[p].residual.is_none()
                                && matches!(
                                    steps[p].kernel,
                                    Kernel::Pointwise { .. } | Kernel::Depthwise { .. }
                                )
                                && ready;
                            ok.then_some(p)
                        };
                        let fused = fusable(tx, src, ty)
                            .map(|p| (p, other))
                            .or_else(|| fusable(ty, other, tx).map(|p| (p, src)));
                        if let Some((p, residual)) = fused {
                            let out = self.new_slot(model, node.outputs[0], n)?;
                            if self.slots[out].0 != ad {
                                let what = format!(
                                    "output shape {:?} should be {:?}",
                                    self.slots[out].0, ad
                                );
                                return Err(Error::node(n, what));
                            }
                            steps[p].residual = Some(residual);
                            steps[p].output = out;
                            producer[self.tensor(model, node.outputs[0], n)?] = Some(p);
                            continue;
                        }
                    }
                    let k = Kernel::Binary { op, b };
                    steps.push(Step {
                        kernel: k,
                        act: act_of(act),
                        input: a,
                        output: usize::MAX,
                        residual: None,
                    });
                    let out = self.new_slot(model, node.outputs[0], n)?;
                    if self.slots[out].0 != ad {
                        return Err(Error::node(
                            n,
                            format!("output shape {:?} should be {:?}", self.slots[out].0, ad),
                        ));
                    }
                    let last = steps.len() - 1;
                    steps[last].output = out;
                    producer[self.tensor(model, node.outputs[0], n)?] = Some(last);
                    continue;
                }
                Op::Mean { keep_dims: _ } => {
                    arity(2)?;
                    let axes = match &self.values[self.tensor(model, node.inputs[1], n)?] {
                        Value::ConstI32(a) => a
                            .iter()
                            .map(|&x| if x < 0 { x + 4 } else { x })
                            .collect::<Vec<_>>(),
                        _ => {
                            return Err(Error::node(
                                n,
                                "MEAN axes are not an int32 constant".into(),
                            ))
                        }
                    };
                    if !(axes == [1, 2] || axes == [2, 1]) {
                        return Err(Error::unsupported(
                            n,
                            format!("MEAN over axes {axes:?} (only 1, 2)"),
                        ));
                    }
                    (
                        Kernel::Mean,
                        Act::None,
                        (
                            Dims {
                                h: 1,
                                w: 1,
                                c: id.c,
                            },
                            in_c,
                        ),
                    )
                }
                Op::AveragePool2d {
                    padding,
                    stride,
                    filter,
                    act,
                } => {
                    arity(1)?;
                    let win = window(n, id, filter[0], filter[1], padding, stride, [1, 1])?;
                    let (oh, ow) = out_size(n, id, filter[0], filter[1], padding, stride, [1, 1])?;
                    // A window covering the whole input (squeeze-excitation's global pooling)
                    // is the spatial mean, which has a much faster kernel.
                    let global = (oh, ow) == (1, 1) && filter == [id.h, id.w] && win.pad == [0, 0];
                    (
                        if global {
                            Kernel::Mean
                        } else {
                            Kernel::AveragePool { win }
                        },
                        act_of(act),
                        (
                            Dims {
                                h: oh,
                                w: ow,
                                c: id.c,
                            },
                            in_c,
                        ),
                    )
                }
                Op::ResizeBilinear {
                    align_corners,
                    half_pixel_centers,
                } => {
                    arity(2)?;
                    let size = match &self.values[self.tensor(model, node.inputs[1], n)?] {
                        Value::ConstI32(s)
                            if s.len() == 2 && s.iter().all(|&v| v > 0 && v <= 1 << 14) =>
                        {
                            [s[0] as usize, s[1] as usize]
                        }
                        _ => {
                            return Err(Error::node(
                                n,
                                "RESIZE_BILINEAR size is not a constant pair of positive int32"
                                    .into(),
                            ))
                        }
                    };
                    let ys =
                        kernels::bilinear_table(id.h, size[0], align_corners, half_pixel_centers);
                    let xs =
                        kernels::bilinear_table(id.w, size[1], align_corners, half_pixel_centers);
                    (
                        Kernel::Resize { ys, xs },
                        Act::None,
                        (
                            Dims {
                                h: size[0],
                                w: size[1],
                                c: id.c,
                            },
                            in_c,
                        ),
                    )
                }
                Op::Dequantize | Op::Relu | Op::HardSwish | Op::Logistic => {
                    unreachable!("handled above")
                }
            };
            let out = self.new_slot(model, node.outputs[0], n)?;
            if self.slots[out] != expect {
                return Err(Error::node(
                    n,
                    format!(
                        "output tensor shape {:?} should be {:?}",
                        model.tensors[self.tensor(model, node.outputs[0], n)?].shape,
                        expect
                    ),
                ));
            }
            steps.push(Step {
                kernel,
                act,
                input: src,
                output: out,
                residual: None,
            });
            producer[self.tensor(model, node.outputs[0], n)?] = Some(steps.len() - 1);
        }

        let output = match self.values[self.tensor(model, model.outputs[0], usize::MAX)?] {
            Value::Act(s) => s,
            _ => {
                return Err(Error::malformed(
                    "the model output is never computed".into(),
                ))
            }
        };
        let (slots, arena_len) = allocate(&self.slots, &steps, input, output);
        if arena_len > 1 << 26 {
            return Err(Error::malformed(format!(
                "activations need {arena_len} floats, more than this engine allows"
            )));
        }
        let channels = (self.slots[input].1, self.slots[output].1);
        let scratch_len = steps
            .iter()
            .map(|s| {
                let id = slots[s.input].dims;
                match &s.kernel {
                    Kernel::TransposeConvGemm { win, cout, .. } => {
                        id.h * id.w * (win.kh * win.kw * cout).div_ceil(4) * 4
                    }
                    Kernel::Conv { k, .. } => slots[s.output].dims.w * k,
                    Kernel::Resize { .. } => id.w * id.c,
                    _ => 0,
                }
            })
            .max()
            .unwrap_or(0);
        if scratch_len > 1 << 26 {
            return Err(Error::malformed(format!("convolutions need {scratch_len} floats of work space, more than this engine allows")));
        }
        Ok(Network {
            steps,
            slots,
            arena: vec![0.0; arena_len],
            input,
            output,
            channels,
            scratch: vec![0.0; scratch_len],
        })
    }

    /// Checks a filter [cout, kh, kw, cin] (depthwise: [1, kh, kw, cin]) against the input channels.
    fn filter(
        &self,
        model: &tflite::Model,
        node: &tflite::Node,
        n: usize,
        in_c: usize,
        depthwise: bool,
        name: &str,
    ) -> Result<(usize, usize, usize), Error> {
        let t = self.tensor(model, node.inputs[1], n)?;
        let fs = &model.tensors[t].shape;
        let ok = fs.len() == 4
            && fs.iter().all(|&d| d > 0 && d <= 4096)
            && fs[3] as usize == in_c
            && (!depthwise || fs[0] == 1);
        if !ok {
            return Err(Error::node(
                n,
                format!("{name} filter shape {fs:?} does not fit {in_c} input channels"),
            ));
        }
        let w = self.constant(model, node.inputs[1], n, "filter")?;
        if w.len() != fs.iter().map(|&d| d as usize).product::<usize>() {
            return Err(Error::node(
                n,
                format!("{name} filter has {} values for shape {fs:?}", w.len()),
            ));
        }
        Ok((fs[0] as usize, fs[1] as usize, fs[2] as usize))
    }

    /// The bias (third input) padded to a multiple of 4; zeros when omitted.
    fn bias(
        &self,
        model: &tflite::Model,
        node: &tflite::Node,
        n: usize,
        c: usize,
    ) -> Result<Vec<f32>, Error> {
        let mut out = vec![0.0; c.div_ceil(4) * 4];
        match node.inputs.get(2) {
            None | Some(-1) => {}
            Some(&b) => {
                let v = self.constant(model, b, n, "bias")?;
                if v.len() != c {
                    return Err(Error::node(
                        n,
                        format!("bias has {} values for {c} output channels", v.len()),
                    ));
                }
                out[..c].copy_from_slice(v);
            }
        }
        Ok(out)
    }
}

fn out_size(
    n: usize,
    id: Dims,
    kh: usize,
    kw: usize,
    padding: Padding,
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Result<(usize, usize), Error> {
    let h = same_or_valid(padding, id.h, kh, stride[0], dilation[0]);
    let w = same_or_valid(padding, id.w, kw, stride[1], dilation[1]);
    match (h, w) {
        (Some((h, _)), Some((w, _))) => Ok((h, w)),
        _ => Err(Error::node(
            n,
            format!("{kh}x{kw} window does not fit a {}x{} input", id.h, id.w),
        )),
    }
}

fn window(
    n: usize,
    id: Dims,
    kh: usize,
    kw: usize,
    padding: Padding,
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Result<Window, Error> {
    out_size(n, id, kh, kw, padding, stride, dilation)?;
    let pad = |size, k, s, d| same_or_valid(padding, size, k, s, d).map_or(0, |(_, p)| p);
    Ok(Window {
        kh,
        kw,
        stride,
        dilation,
        pad: [
            pad(id.h, kh, stride[0], dilation[0]),
            pad(id.w, kw, stride[1], dilation[1]),
        ],
    })
}

/// Places every activation slot in one arena: a slot lives from the step that writes it to the
/// last step that reads it; each new slot takes the lowest offset free of every live slot.
fn allocate(
    dims: &[(Dims, usize)],
    steps: &[Step],
    input: usize,
    output: usize,
) -> (Vec<Slot>, usize) {
    let n = dims.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    first[input] = 0;
    for (i, s) in steps.iter().enumerate() {
        first[s.output] = first[s.output].min(i);
        for r in [
            Some(s.input),
            if let Kernel::Binary { b, .. } = s.kernel {
                Some(b)
            } else {
                None
            },
            s.residual,
        ]
        .into_iter()
        .flatten()
        {
            last[r] = last[r].max(i);
        }
    }
    last[output] = steps.len();
    let mut slots: Vec<Slot> = dims
        .iter()
        .map(|&(d, _)| Slot { dims: d, offset: 0 })
        .collect();
    let mut order: Vec<usize> = (0..n).filter(|&s| first[s] != usize::MAX).collect();
    order.sort_by_key(|&s| first[s]);
    let mut placed: Vec<usize> = Vec::new();
    let mut end = 0;
    for s in order {
        let len = dims[s].0.len();
        // Live intervals overlapping [first, last] of this slot, sorted by offset.
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&p| first[p] <= last[s].max(first[s]) && first[s] <= last[p].max(first[p]))
            .map(|&p| (slots[p].offset, slots[p].offset + slots[p].dims.len()))
            .collect();
        busy.sort();
        let mut off = 0;
        for (b0, b1) in busy {
            if off + len <= b0 {
                break;
            }
            off = off.max(b1);
        }
        slots[s].offset = off;
        end = end.max(off + len);
        placed.push(s);
    }
    (slots, end)
}
