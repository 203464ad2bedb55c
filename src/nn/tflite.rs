//! Reads a TFLite model (a FlatBuffer with identifier "TFL3") into plain Rust values: tensors
//! with their constant data, and the operators of subgraph 0 with their options decoded.
//! Field indices, enum values and operator codes are TensorFlow Lite's `schema.fbs`, named in
//! the modules below. Only the operators the selfie-segmentation models use are accepted;
//! anything else is an `Error::Unsupported` naming the operator and the node.

use super::flatbuf::Table;
use super::Error;

/// `TensorType` values.
pub const TYPE_FLOAT32: i8 = 0;
pub const TYPE_FLOAT16: i8 = 1;
pub const TYPE_INT32: i8 = 2;

/// Field slots of the schema's tables: a field's declaration order (0-based), where a union
/// field takes two slots, its type tag then its value. Deprecated fields keep their slot.
mod field {
    pub mod model {
        pub const OPERATOR_CODES: usize = 1;
        pub const SUBGRAPHS: usize = 2;
        pub const BUFFERS: usize = 4;
    }
    pub mod operator_code {
        /// The original int8 field, which holds 127 (a placeholder) for codes >= 127.
        pub const DEPRECATED_BUILTIN_CODE: usize = 0;
        pub const CUSTOM_CODE: usize = 1;
        pub const BUILTIN_CODE: usize = 3;
    }
    pub mod subgraph {
        pub const TENSORS: usize = 0;
        pub const INPUTS: usize = 1;
        pub const OUTPUTS: usize = 2;
        pub const OPERATORS: usize = 3;
    }
    pub mod tensor {
        pub const SHAPE: usize = 0;
        pub const TYPE: usize = 1;
        pub const BUFFER: usize = 2;
        pub const NAME: usize = 3;
    }
    pub mod buffer {
        pub const DATA: usize = 0;
        /// Models over 2 GB keep buffers after the FlatBuffer: offset and size.
        pub const OFFSET: usize = 1;
        pub const SIZE: usize = 2;
    }
    pub mod operator {
        pub const OPCODE_INDEX: usize = 0;
        pub const INPUTS: usize = 1;
        pub const OUTPUTS: usize = 2;
        pub const BUILTIN_OPTIONS_TYPE: usize = 3;
        pub const BUILTIN_OPTIONS: usize = 4;
        pub const CUSTOM_OPTIONS: usize = 5;
    }
    /// `Conv2DOptions`.
    pub mod conv {
        pub const PADDING: usize = 0;
        pub const STRIDE_W: usize = 1;
        pub const STRIDE_H: usize = 2;
        pub const ACTIVATION: usize = 3;
        pub const DILATION_W: usize = 4;
        pub const DILATION_H: usize = 5;
    }
    /// `DepthwiseConv2DOptions`.
    pub mod depthwise {
        pub const PADDING: usize = 0;
        pub const STRIDE_W: usize = 1;
        pub const STRIDE_H: usize = 2;
        pub const DEPTH_MULTIPLIER: usize = 3;
        pub const ACTIVATION: usize = 4;
        pub const DILATION_W: usize = 5;
        pub const DILATION_H: usize = 6;
    }
    /// `Pool2DOptions`.
    pub mod pool {
        pub const PADDING: usize = 0;
        pub const STRIDE_W: usize = 1;
        pub const STRIDE_H: usize = 2;
        pub const FILTER_WIDTH: usize = 3;
        pub const FILTER_HEIGHT: usize = 4;
        pub const ACTIVATION: usize = 5;
    }
    /// `AddOptions` and `MulOptions`.
    pub const FUSED_ACTIVATION: usize = 0;
    /// `ReducerOptions`.
    pub const KEEP_DIMS: usize = 0;
    /// `ResizeBilinearOptions` (slots 0 and 1 are the deprecated new_height, new_width).
    pub mod resize {
        pub const ALIGN_CORNERS: usize = 2;
        pub const HALF_PIXEL_CENTERS: usize = 3;
    }
}

/// `BuiltinOperator` codes of the operators we read.
mod builtin {
    pub const ADD: i32 = 0;
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const LOGISTIC: i32 = 14;
    pub const MUL: i32 = 18;
    pub const RELU: i32 = 19;
    pub const RESIZE_BILINEAR: i32 = 23;
    /// A custom operator, named by the operator code's `custom_code`.
    pub const CUSTOM: i32 = 32;
    pub const MEAN: i32 = 40;
    pub const HARD_SWISH: i32 = 117;
}

/// `BuiltinOptions` union type tags of the options tables we read (0 is NONE).
mod options_type {
    pub const NONE: u8 = 0;
    pub const CONV_2D: u8 = 1;
    pub const DEPTHWISE_CONV_2D: u8 = 2;
    pub const POOL_2D: u8 = 5;
    pub const ADD: u8 = 11;
    pub const RESIZE_BILINEAR: u8 = 15;
    pub const MUL: u8 = 21;
    pub const REDUCER: u8 = 27;
}

/// `ActivationFunctionType` values.
mod activation_type {
    pub const NONE: i8 = 0;
    pub const RELU: i8 = 1;
    pub const RELU_N1_TO_1: i8 = 2;
    pub const RELU6: i8 = 3;
}

/// `Padding` values (MediaPipe's custom options use TfLitePadding instead: see
/// `parse_custom`).
mod padding_type {
    pub const SAME: i8 = 0;
    pub const VALID: i8 = 1;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    None,
    Relu,
    ReluN1To1,
    Relu6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Same,
    Valid,
}

/// CONV_2D's options. Strides and dilations are [height, width].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvOptions {
    pub padding: Padding,
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub act: Activation,
}

/// DEPTHWISE_CONV_2D's options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseOptions {
    pub padding: Padding,
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub multiplier: usize,
    pub act: Activation,
}

/// AVERAGE_POOL_2D's options; `filter` is [height, width].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolOptions {
    pub padding: Padding,
    pub stride: [usize; 2],
    pub filter: [usize; 2],
    pub act: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResizeOptions {
    pub align_corners: bool,
    pub half_pixel_centers: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransposeConvOptions {
    pub padding: Padding,
    pub stride: [usize; 2],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Conv2d(ConvOptions),
    DepthwiseConv2d(DepthwiseOptions),
    Add {
        act: Activation,
    },
    Mul {
        act: Activation,
    },
    HardSwish,
    Relu,
    Logistic,
    AveragePool2d(PoolOptions),
    Mean {
        keep_dims: bool,
    },
    ResizeBilinear(ResizeOptions),
    Dequantize,
    /// MediaPipe's custom `Convolution2DTransposeBias`: transposed convolution plus bias.
    TransposeConvBias(TransposeConvOptions),
}

pub struct Tensor<'a> {
    pub name: String,
    pub shape: Vec<i32>,
    pub dtype: i8,
    /// Constant contents; empty for activations.
    pub data: &'a [u8],
}

pub struct Node {
    pub op: Op,
    /// Tensor indices; -1 marks an omitted optional input.
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
}

pub struct Model<'a> {
    pub tensors: Vec<Tensor<'a>>,
    pub nodes: Vec<Node>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
}

/// Names of builtin operators, for error messages (index = BuiltinOperator code).
const BUILTIN_NAMES: &[&str] = &[
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
];

fn builtin_name(code: i32) -> String {
    match code {
        builtin::HARD_SWISH => "HARD_SWISH".into(),
        c if c >= 0 && (c as usize) < BUILTIN_NAMES.len() => BUILTIN_NAMES[c as usize].into(),
        c => format!("builtin operator {c}"),
    }
}

enum OpCode {
    Builtin(i32),
    Custom(String),
}

fn activation(code: i8, node: usize) -> Result<Activation, Error> {
    Ok(match code {
        activation_type::NONE => Activation::None,
        activation_type::RELU => Activation::Relu,
        activation_type::RELU_N1_TO_1 => Activation::ReluN1To1,
        activation_type::RELU6 => Activation::Relu6,
        c => return Err(Error::unsupported(node, format!("fused activation {c}"))),
    })
}

fn padding(code: i8, node: usize) -> Result<Padding, Error> {
    Ok(match code {
        padding_type::SAME => Padding::Same,
        padding_type::VALID => Padding::Valid,
        c => return Err(Error::unsupported(node, format!("padding {c}"))),
    })
}

/// A stride, dilation or filter size: must be at least 1 (and small enough to be sane).
fn positive(v: i32, what: &str, node: usize) -> Result<usize, Error> {
    if (1..=4096).contains(&v) {
        Ok(v as usize)
    } else {
        Err(Error::node(node, format!("{what} is {v}")))
    }
}

/// The options table of a builtin op, after checking the union type tag.
fn options<'a>(
    op: &Table<'a>,
    node: usize,
    want_type: u8,
    name: &str,
) -> Result<Option<Table<'a>>, Error> {
    let kind = op.u8(
        field::operator::BUILTIN_OPTIONS_TYPE,
        0,
        "operator options type",
    )?;
    if kind == options_type::NONE {
        return Ok(None);
    }
    if kind != want_type {
        return Err(Error::node(
            node,
            format!("{name} has options of union type {kind}, expected {want_type}"),
        ));
    }
    op.table(field::operator::BUILTIN_OPTIONS, "operator options")
}

fn parse_builtin(code: i32, opt: &Table, node: usize) -> Result<Op, Error> {
    let name = builtin_name(code);
    let o = |t: u8| options(opt, node, t, &name);
    let required =
        |t: u8| o(t)?.ok_or_else(|| Error::node(node, format!("{name} without options")));
    // Stride, dilation and filter fields named as the schema does, for error messages.
    let dim = |t: &Table, f: usize, default: i32, what: &str| {
        positive(t.i32(f, default, what)?, what, node)
    };
    Ok(match code {
        builtin::CONV_2D => {
            use field::conv::*;
            let t = required(options_type::CONV_2D)?;
            Op::Conv2d(ConvOptions {
                padding: padding(t.i8(PADDING, 0, "padding")?, node)?,
                stride: [
                    dim(&t, STRIDE_H, 0, "stride_h")?,
                    dim(&t, STRIDE_W, 0, "stride_w")?,
                ],
                act: activation(t.i8(ACTIVATION, 0, "activation")?, node)?,
                dilation: [
                    dim(&t, DILATION_H, 1, "dilation_h")?,
                    dim(&t, DILATION_W, 1, "dilation_w")?,
                ],
            })
        }
        builtin::DEPTHWISE_CONV_2D => {
            use field::depthwise::*;
            let t = required(options_type::DEPTHWISE_CONV_2D)?;
            Op::DepthwiseConv2d(DepthwiseOptions {
                padding: padding(t.i8(PADDING, 0, "padding")?, node)?,
                stride: [
                    dim(&t, STRIDE_H, 0, "stride_h")?,
                    dim(&t, STRIDE_W, 0, "stride_w")?,
                ],
                // 0 is what some converters write for "as many as the shapes say".
                multiplier: t.i32(DEPTH_MULTIPLIER, 0, "depth_multiplier")?.max(0) as usize,
                act: activation(t.i8(ACTIVATION, 0, "activation")?, node)?,
                dilation: [
                    dim(&t, DILATION_H, 1, "dilation_h")?,
                    dim(&t, DILATION_W, 1, "dilation_w")?,
                ],
            })
        }
        builtin::AVERAGE_POOL_2D => {
            use field::pool::*;
            let t = required(options_type::POOL_2D)?;
            Op::AveragePool2d(PoolOptions {
                padding: padding(t.i8(PADDING, 0, "padding")?, node)?,
                stride: [
                    dim(&t, STRIDE_H, 0, "stride_h")?,
                    dim(&t, STRIDE_W, 0, "stride_w")?,
                ],
                filter: [
                    dim(&t, FILTER_HEIGHT, 0, "filter_height")?,
                    dim(&t, FILTER_WIDTH, 0, "filter_width")?,
                ],
                act: activation(t.i8(ACTIVATION, 0, "activation")?, node)?,
            })
        }
        builtin::ADD => Op::Add {
            act: fused_activation(o(options_type::ADD)?, node)?,
        },
        builtin::MUL => Op::Mul {
            act: fused_activation(o(options_type::MUL)?, node)?,
        },
        builtin::MEAN => Op::Mean {
            keep_dims: match o(options_type::REDUCER)? {
                Some(t) => t.bool(field::KEEP_DIMS, "keep_dims")?,
                None => false,
            },
        },
        builtin::RESIZE_BILINEAR => Op::ResizeBilinear(match o(options_type::RESIZE_BILINEAR)? {
            Some(t) => ResizeOptions {
                align_corners: t.bool(field::resize::ALIGN_CORNERS, "align_corners")?,
                half_pixel_centers: t
                    .bool(field::resize::HALF_PIXEL_CENTERS, "half_pixel_centers")?,
            },
            None => ResizeOptions {
                align_corners: false,
                half_pixel_centers: false,
            },
        }),
        builtin::HARD_SWISH => Op::HardSwish,
        builtin::RELU => Op::Relu,
        builtin::LOGISTIC => Op::Logistic,
        builtin::DEQUANTIZE => Op::Dequantize,
        _ => return Err(Error::unsupported(node, name)),
    })
}

/// The fused activation of ADD / MUL options (none when the options are absent).
fn fused_activation(options: Option<Table>, node: usize) -> Result<Activation, Error> {
    match options {
        Some(t) => activation(t.i8(field::FUSED_ACTIVATION, 0, "activation")?, node),
        None => Ok(Activation::None),
    }
}

fn parse_custom(name: &str, opt: &Table, node: usize) -> Result<Op, Error> {
    if name != "Convolution2DTransposeBias" {
        return Err(Error::unsupported(node, format!("custom op {name:?}")));
    }
    // MediaPipe stores a raw TfLiteTransposeConvParams: {padding (a TfLitePadding), stride_w,
    // stride_h} as i32s.
    let raw = opt.bytes(field::operator::CUSTOM_OPTIONS, "custom options")?;
    if raw.len() < 12 {
        return Err(Error::node(
            node,
            format!("{name} custom options are {} bytes, expected 12", raw.len()),
        ));
    }
    let word =
        |i: usize| i32::from_le_bytes([raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3]]);
    // TfLitePadding: 0 unknown, 1 same, 2 valid.
    let padding = match word(0) {
        1 => Padding::Same,
        2 => Padding::Valid,
        p => return Err(Error::node(node, format!("{name} has unknown padding {p}"))),
    };
    Ok(Op::TransposeConvBias(TransposeConvOptions {
        padding,
        stride: [
            positive(word(2), "stride_h", node)?,
            positive(word(1), "stride_w", node)?,
        ],
    }))
}

pub fn parse(buf: &[u8]) -> Result<Model<'_>, Error> {
    let model = Table::root(buf, b"TFL3")?;

    let codes_v = model.tables(field::model::OPERATOR_CODES, "operator_codes")?;
    let mut codes = Vec::with_capacity(codes_v.len());
    for i in 0..codes_v.len() {
        use field::operator_code::*;
        let c = codes_v.table(i, "operator code")?;
        // Newer files put codes >= 127 in field 3 and a placeholder (127) in the old byte field.
        let code = (c.i8(DEPRECATED_BUILTIN_CODE, 0, "builtin_code")? as i32).max(c.i32(
            BUILTIN_CODE,
            0,
            "builtin_code",
        )?);
        codes.push(if code == builtin::CUSTOM {
            OpCode::Custom(c.string(CUSTOM_CODE, "custom_code")?)
        } else {
            OpCode::Builtin(code)
        });
    }

    let subgraphs = model.tables(field::model::SUBGRAPHS, "subgraphs")?;
    if subgraphs.len() != 1 {
        return Err(Error::malformed(format!(
            "model has {} subgraphs, expected exactly 1",
            subgraphs.len()
        )));
    }
    let sg = subgraphs.table(0, "subgraph")?;

    let buffers = model.tables(field::model::BUFFERS, "buffers")?;
    let tensors_v = sg.tables(field::subgraph::TENSORS, "tensors")?;
    let mut tensors = Vec::with_capacity(tensors_v.len());
    for i in 0..tensors_v.len() {
        let t = tensors_v.table(i, "tensor")?;
        let buffer = t.u32(field::tensor::BUFFER, 0, "tensor buffer")? as usize;
        let data = if buffer == 0 {
            &[][..]
        } else {
            if buffer >= buffers.len() {
                return Err(Error::malformed(format!(
                    "tensor {i} refers to buffer {buffer} of {}",
                    buffers.len()
                )));
            }
            let b = buffers.table(buffer, "buffer")?;
            let inline = b.bytes(field::buffer::DATA, "buffer data")?;
            // Models over 2 GB keep buffers after the FlatBuffer: offset and size fields.
            let offset = b.u64(field::buffer::OFFSET, 0, "buffer offset")?;
            let size = b.u64(field::buffer::SIZE, 0, "buffer size")?;
            if inline.is_empty() && offset > 1 {
                let end = offset
                    .checked_add(size)
                    .filter(|&e| e <= buf.len() as u64)
                    .ok_or_else(|| {
                        Error::malformed(format!(
                            "buffer {buffer} ({size} bytes at {offset}) lies outside the file"
                        ))
                    })?;
                &buf[offset as usize..end as usize]
            } else {
                inline
            }
        };
        tensors.push(Tensor {
            name: t.string(field::tensor::NAME, "tensor name")?,
            shape: t.i32s(field::tensor::SHAPE, "tensor shape")?,
            dtype: t.i8(field::tensor::TYPE, 0, "tensor type")?,
            data,
        });
    }

    let ops = sg.tables(field::subgraph::OPERATORS, "operators")?;
    let mut nodes = Vec::with_capacity(ops.len());
    for n in 0..ops.len() {
        let t = ops.table(n, "operator")?;
        let idx = t.u32(field::operator::OPCODE_INDEX, 0, "opcode_index")? as usize;
        let op = match codes.get(idx) {
            Some(OpCode::Builtin(c)) => parse_builtin(*c, &t, n)?,
            Some(OpCode::Custom(name)) => parse_custom(name, &t, n)?,
            None => {
                return Err(Error::node(
                    n,
                    format!("opcode index {idx} out of {} operator codes", codes.len()),
                ))
            }
        };
        nodes.push(Node {
            op,
            inputs: t.i32s(field::operator::INPUTS, "operator inputs")?,
            outputs: t.i32s(field::operator::OUTPUTS, "operator outputs")?,
        });
    }

    Ok(Model {
        tensors,
        nodes,
        inputs: sg.i32s(field::subgraph::INPUTS, "subgraph inputs")?,
        outputs: sg.i32s(field::subgraph::OUTPUTS, "subgraph outputs")?,
    })
}
