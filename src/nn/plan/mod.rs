//! Turns a parsed TFLite model into a `Network`: constants decoded (float16 weights dequantised
//! once), weights repacked for the kernels, shapes checked node by node, activation functions
//! and residual additions folded into the kernel that produces their input, and every
//! activation tensor given a fixed place in the arena.
//!
//! `Planner::node` dispatches each operator to the planning function of its family, one file
//! each: `conv` (CONV_2D, DEPTHWISE_CONV_2D, the transposed convolution), `elementwise` (RELU,
//! HARD_SWISH, LOGISTIC, ADD, MUL, and the folding of each into its producer), `pool` (MEAN,
//! AVERAGE_POOL_2D) and `resize` (RESIZE_BILINEAR); DEQUANTIZE is here, with the constants.
//! `window` holds the padding arithmetic they share, `arena` the placement of activations.

mod arena;
mod conv;
mod elementwise;
mod pool;
mod resize;
mod window;

use super::float16::f16_to_f32;
use super::kernels::{Act, BinOp, Dims};
use super::network::{Kernel, Network, Step};
use super::tflite::{self, Activation, Op, TYPE_FLOAT16, TYPE_FLOAT32, TYPE_INT32};
use super::Error;

impl Network {
    /// Loads a TFLite model: parsed, checked and planned once; see the module documentation.
    pub fn from_tflite(bytes: &[u8]) -> Result<Network, Error> {
        let model = tflite::parse(bytes)?;
        Planner::new(&model)?.plan()
    }
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

/// The node's first input, an activation already computed: its slot, dims and real channels.
#[derive(Clone, Copy)]
struct Input {
    slot: usize,
    dims: Dims,
    channels: usize,
}

/// What the planning function of most operators returns: a new step reading the node's first
/// input, with its kernel, fused activation, and the output dims (padded, real channel count)
/// it produces, which the node's output tensor must have.
struct NewStep {
    kernel: Kernel,
    act: Act,
    out: (Dims, usize),
}

struct Planner<'m> {
    model: &'m tflite::Model<'m>,
    values: Vec<Value>,
    /// Dims and real channel count of each activation slot.
    slots: Vec<(Dims, usize)>,
    /// How many nodes read each tensor (to know when an activation can be folded).
    readers: Vec<usize>,
    steps: Vec<Step>,
    /// Tensor id -> the step that produced it, for folding activations.
    producer: Vec<Option<usize>>,
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

fn act_of(a: Activation) -> Act {
    match a {
        Activation::None => Act::None,
        Activation::Relu => Act::Relu,
        Activation::Relu6 => Act::Relu6,
        Activation::ReluN1To1 => Act::ReluN1To1,
    }
}

/// Checks that node `n` has at least `ins` inputs and exactly one output.
fn arity(node: &tflite::Node, n: usize, ins: usize) -> Result<(), Error> {
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
}

impl<'m> Planner<'m> {
    fn new(model: &'m tflite::Model<'m>) -> Result<Planner<'m>, Error> {
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
            model,
            values,
            slots: Vec::new(),
            readers,
            steps: Vec::new(),
            producer: vec![None; n],
        })
    }

    fn tensor(&self, idx: i32, node: usize) -> Result<usize, Error> {
        if idx < 0 || idx as usize >= self.model.tensors.len() {
            return Err(Error::node(
                node,
                format!("refers to tensor {idx} of {}", self.model.tensors.len()),
            ));
        }
        Ok(idx as usize)
    }

    fn constant(&self, idx: i32, node: usize, what: &str) -> Result<&[f32], Error> {
        match &self.values[self.tensor(idx, node)?] {
            Value::Const(v) => Ok(v),
            _ => Err(Error::node(
                node,
                format!("{what} (tensor {idx}) is not a float constant"),
            )),
        }
    }

    /// The int32 constant tensor `idx`, if it is one.
    fn constant_i32(&self, idx: i32, node: usize) -> Result<Option<&[i32]>, Error> {
        Ok(match &self.values[self.tensor(idx, node)?] {
            Value::ConstI32(v) => Some(v),
            _ => None,
        })
    }

    /// The slot of tensor `idx`, which must be an activation already computed.
    fn activation(&self, idx: i32, node: usize, what: &str) -> Result<usize, Error> {
        match self.values[self.tensor(idx, node)?] {
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

    fn new_slot(&mut self, idx: i32, node: usize) -> Result<usize, Error> {
        let t = self.tensor(idx, node)?;
        let tensor = &self.model.tensors[t];
        if !matches!(self.values[t], Value::Unset) || !tensor.data.is_empty() {
            return Err(Error::node(
                node,
                format!("output tensor {idx} is written twice or is a constant"),
            ));
        }
        if tensor.dtype != TYPE_FLOAT32 {
            return Err(Error::unsupported(
                node,
                format!("output tensor {idx} of type {}", tensor.dtype),
            ));
        }
        let d = dims_of(&tensor.shape, &format!("tensor {idx}"), node)?;
        self.slots.push(d);
        self.values[t] = Value::Act(self.slots.len() - 1);
        Ok(self.slots.len() - 1)
    }

    /// Records that step `step` writes node `n`'s output tensor.
    fn produced(&mut self, node: &tflite::Node, n: usize, step: usize) -> Result<(), Error> {
        let t = self.tensor(node.outputs[0], n)?;
        self.producer[t] = Some(step);
        Ok(())
    }

    fn plan(mut self) -> Result<Network, Error> {
        let model = self.model;
        if model.inputs.len() != 1 || model.outputs.len() != 1 {
            return Err(Error::malformed(format!(
                "model has {} inputs and {} outputs, expected 1 and 1",
                model.inputs.len(),
                model.outputs.len()
            )));
        }
        let input = self.new_slot(model.inputs[0], 0)?;
        for (n, node) in model.nodes.iter().enumerate() {
            self.node(node, n)?;
        }
        let output = match self.values[self.tensor(model.outputs[0], usize::MAX)?] {
            Value::Act(s) => s,
            _ => {
                return Err(Error::malformed(
                    "the model output is never computed".into(),
                ))
            }
        };
        let (slots, arena_len) = arena::allocate(&self.slots, &self.steps, input, output);
        let channels = (self.slots[input].1, self.slots[output].1);
        Network::new(self.steps, slots, arena_len, input, output, channels)
    }

    /// Plans node `n`: the registry of operators, each sent to its family's planning function.
    fn node(&mut self, node: &tflite::Node, n: usize) -> Result<(), Error> {
        // Operators that add no step of their own, or fold into an earlier one.
        match node.op {
            Op::Dequantize => return self.dequantize(node, n),
            Op::Relu => return self.unary(node, n, Act::Relu),
            Op::HardSwish => return self.unary(node, n, Act::HardSwish),
            Op::Logistic => return self.unary(node, n, Act::Sigmoid),
            _ => {}
        }
        let slot = self.activation(*node.inputs.first().unwrap_or(&-1), n, "input")?;
        let (dims, channels) = self.slots[slot];
        let src = Input {
            slot,
            dims,
            channels,
        };
        let new = match node.op {
            Op::Conv2d(o) => self.conv2d(node, n, src, o)?,
            Op::DepthwiseConv2d(o) => self.depthwise_conv2d(node, n, src, o)?,
            Op::TransposeConvBias(o) => self.transpose_conv_bias(node, n, src, o)?,
            Op::Add { act } => return self.binary(node, n, src, BinOp::Add, act),
            Op::Mul { act } => return self.binary(node, n, src, BinOp::Mul, act),
            Op::Mean { keep_dims: _ } => self.mean(node, n, src)?,
            Op::AveragePool2d(o) => self.average_pool(node, n, src, o)?,
            Op::ResizeBilinear(o) => self.resize_bilinear(node, n, src, o)?,
            Op::Dequantize | Op::Relu | Op::HardSwish | Op::Logistic => {
                unreachable!("handled above")
            }
        };
        self.push(node, n, src, new)
    }

    /// Adds the step `new` reading `src` and writing node `n`'s output, whose shape must be
    /// the one `new` produces.
    fn push(
        &mut self,
        node: &tflite::Node,
        n: usize,
        src: Input,
        new: NewStep,
    ) -> Result<(), Error> {
        let out = self.new_slot(node.outputs[0], n)?;
        if self.slots[out] != new.out {
            return Err(Error::node(
                n,
                format!(
                    "output tensor shape {:?} should be {:?}",
                    self.model.tensors[self.tensor(node.outputs[0], n)?].shape,
                    new.out
                ),
            ));
        }
        self.steps.push(Step {
            kernel: new.kernel,
            act: new.act,
            input: src.slot,
            output: out,
            residual: None,
        });
        self.produced(node, n, self.steps.len() - 1)
    }

    /// DEQUANTIZE of a float16 constant: converted once, here; no step.
    fn dequantize(&mut self, node: &tflite::Node, n: usize) -> Result<(), Error> {
        arity(node, n, 1)?;
        let src = self.tensor(node.inputs[0], n)?;
        let t = &self.model.tensors[src];
        if t.dtype != TYPE_FLOAT16 || t.data.is_empty() {
            return Err(Error::unsupported(
                n,
                format!("DEQUANTIZE of tensor {src}, which is not a float16 constant"),
            ));
        }
        let dst = self.tensor(node.outputs[0], n)?;
        if self.model.tensors[dst].shape != t.shape || !matches!(self.values[dst], Value::Unset) {
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
        Ok(())
    }
}
