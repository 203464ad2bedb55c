//! Reads a TFLite model (a FlatBuffer with identifier "TFL3") into plain Rust values: tensors
//! with their constant data, and the operators of subgraph 0 with their options decoded.
//! Field indices follow TensorFlow Lite's `schema.fbs` (a union takes two slots: type, value).
//! Only the operators the selfie-segmentation models use are accepted; anything else is an
//! `Error::Unsupported` naming the operator and the node.

use super::flatbuf::Table;
use super::Error;

pub const TYPE_FLOAT32: i8 = 0;
pub const TYPE_FLOAT16: i8 = 1;
pub const TYPE_INT32: i8 = 2;

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

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    Conv2d {
        padding: Padding,
        stride: [usize; 2],
        dilation: [usize; 2],
        act: Activation,
    },
    DepthwiseConv2d {
        padding: Padding,
        stride: [usize; 2],
        dilation: [usize; 2],
        multiplier: usize,
        act: Activation,
    },
    Add {
        act: Activation,
    },
    Mul {
        act: Activation,
    },
    HardSwish,
    Relu,
    Logistic,
    AveragePool2d {
        padding: Padding,
        stride: [usize; 2],
        filter: [usize; 2],
        act: Activation,
    },
    Mean {
        keep_dims: bool,
    },
    ResizeBilinear {
        align_corners: bool,
        half_pixel_centers: bool,
    },
    Dequantize,
    /// MediaPipe's custom `Convolution2DTransposeBias`: transposed convolution plus bias.
    TransposeConvBias {
        padding: Padding,
        stride: [usize; 2],
    },
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
        117 => "HARD_SWISH".into(),
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
        0 => Activation::None,
        1 => Activation::Relu,
        2 => Activation::ReluN1To1,
        3 => Activation::Relu6,
        c => return Err(Error::unsupported(node, format!("fused activation {c}"))),
    })
}

fn padding(code: i8, node: usize) -> Result<Padding, Error> {
    Ok(match code {
        0 => Padding::Same,
        1 => Padding::Valid,
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
    let kind = op.u8(3, 0, "operator options type")?;
    if kind == 0 {
        return Ok(None);
    }
    if kind != want_type {
        return Err(Error::node(
            node,
            format!("{name} has options of union type {kind}, expected {want_type}"),
        ));
    }
    op.table(4, "operator options")
}

fn parse_builtin(code: i32, opt: &Table, node: usize) -> Result<Op, Error> {
    let name = builtin_name(code);
    let o = |t: u8| options(opt, node, t, &name);
    Ok(match code {
        3 => {
            let t = o(1)?.ok_or_else(|| Error::node(node, "CONV_2D without options".into()))?;
            Op::Conv2d {
                padding: padding(t.i8(0, 0, "padding")?, node)?,
                stride: [
                    positive(t.i32(2, 0, "stride_h")?, "stride_h", node)?,
                    positive(t.i32(1, 0, "stride_w")?, "stride_w", node)?,
                ],
                act: activation(t.i8(3, 0, "activation")?, node)?,
                dilation: [
                    positive(t.i32(5, 1, "dilation_h")?, "dilation_h", node)?,
                    positive(t.i32(4, 1, "dilation_w")?, "dilation_w", node)?,
                ],
            }
        }
        4 => {
            let t = o(2)?
                .ok_or_else(|| Error::node(node, "DEPTHWISE_CONV_2D without options".into()))?;
            Op::DepthwiseConv2d {
                padding: padding(t.i8(0, 0, "padding")?, node)?,
                stride: [
                    positive(t.i32(2, 0, "stride_h")?, "stride_h", node)?,
                    positive(t.i32(1, 0, "stride_w")?, "stride_w", node)?,
                ],
                // 0 is what some converters write for "as many as the shapes say".
                multiplier: t.i32(3, 0, "depth_multiplier")?.max(0) as usize,
                act: activation(t.i8(4, 0, "activation")?, node)?,
                dilation: [
                    positive(t.i32(6, 1, "dilation_h")?, "dilation_h", node)?,
                    positive(t.i32(5, 1, "dilation_w")?, "dilation_w", node)?,
                ],
            }
        }
        1 => {
            let t =
                o(5)?.ok_or_else(|| Error::node(node, "AVERAGE_POOL_2D without options".into()))?;
            Op::AveragePool2d {
                padding: padding(t.i8(0, 0, "padding")?, node)?,
                stride: [
                    positive(t.i32(2, 0, "stride_h")?, "stride_h", node)?,
                    positive(t.i32(1, 0, "stride_w")?, "stride_w", node)?,
                ],
                filter: [
                    positive(t.i32(4, 0, "filter_height")?, "filter_height", node)?,
                    positive(t.i32(3, 0, "filter_width")?, "filter_width", node)?,
                ],
                act: activation(t.i8(5, 0, "activation")?, node)?,
            }
        }
        0 => Op::Add {
            act: match o(11)? {
                Some(t) => activation(t.i8(0, 0, "activation")?, node)?,
                None => Activation::None,
            },
        },
        18 => Op::Mul {
            act: match o(21)? {
                Some(t) => activation(t.i8(0, 0, "activation")?, node)?,
                None => Activation::None,
            },
        },
        40 => Op::Mean {
            keep_dims: match o(27)? {
                Some(t) => t.bool(0, "keep_dims")?,
                None => false,
            },
        },
        23 => match o(15)? {
            Some(t) => Op::ResizeBilinear {
                align_corners: t.bool(2, "align_corners")?,
                half_pixel_centers: t.bool(3, "half_pixel_centers")?,
            },
            None => Op::ResizeBilinear {
                align_corners: false,
                half_pixel_centers: false,
            },
        },
        117 => Op::HardSwish,
        19 => Op::Relu,
        14 => Op::Logistic,
        6 => Op::Dequantize,
        _ => return Err(Error::unsupported(node, name)),
    })
}

fn parse_custom(name: &str, opt: &Table, node: usize) -> Result<Op, Error> {
    if name != "Convolution2DTransposeBias" {
        return Err(Error::unsupported(node, format!("custom op {name:?}")));
    }
    // MediaPipe stores a raw TfLiteTransposeConvParams: {padding (1 same, 2 valid), stride_w, stride_h} as i32s.
    let raw = opt.bytes(5, "custom options")?;
    if raw.len() < 12 {
        return Err(Error::node(
            node,
            format!("{name} custom options are {} bytes, expected 12", raw.len()),
        ));
    }
    let word =
        |i: usize| i32::from_le_bytes([raw[4 * i], raw[4 * i + 1], raw[4 * i + 2], raw[4 * i + 3]]);
    let padding = match word(0) {
        1 => Padding::Same,
        2 => Padding::Valid,
        p => return Err(Error::node(node, format!("{name} has unknown padding {p}"))),
    };
    Ok(Op::TransposeConvBias {
        padding,
        stride: [
            positive(word(2), "stride_h", node)?,
            positive(word(1), "stride_w", node)?,
        ],
    })
}

pub fn parse(buf: &[u8]) -> Result<Model<'_>, Error> {
    let model = Table::root(buf, b"TFL3")?;

    let codes_v = model.tables(1, "operator_codes")?;
    let mut codes = Vec::with_capacity(codes_v.len());
    for i in 0..codes_v.len() {
        let c = codes_v.table(i, "operator code")?;
        // Newer files put codes >= 127 in field 3 and a placeholder (127) in the old byte field.
        let code = (c.i8(0, 0, "builtin_code")? as i32).max(c.i32(3, 0, "builtin_code")?);
        codes.push(if code == 32 {
            OpCode::Custom(c.string(1, "custom_code")?)
        } else {
            OpCode::Builtin(code)
        });
    }

    let subgraphs = model.tables(2, "subgraphs")?;
    if subgraphs.len() != 1 {
        return Err(Error::malformed(format!(
            "model has {} subgraphs, expected exactly 1",
            subgraphs.len()
        )));
    }
    let sg = subgraphs.table(0, "subgraph")?;

    let buffers = model.tables(4, "buffers")?;
    let tensors_v = sg.tables(0, "tensors")?;
    let mut tensors = Vec::with_capacity(tensors_v.len());
    for i in 0..tensors_v.len() {
        let t = tensors_v.table(i, "tensor")?;
        let buffer = t.u32(2, 0, "tensor buffer")? as usize;
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
            let inline = b.bytes(0, "buffer data")?;
            // Models over 2 GB keep buffers after the FlatBuffer: offset and size fields.
            let (offset, size) = (b.u64(1, 0, "buffer offset")?, b.u64(2, 0, "buffer size")?);
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
            name: t.string(3, "tensor name")?,
            shape: t.i32s(0, "tensor shape")?,
            dtype: t.i8(1, 0, "tensor type")?,
            data,
        });
    }

    let ops = sg.tables(3, "operators")?;
    let mut nodes = Vec::with_capacity(ops.len());
    for n in 0..ops.len() {
        let t = ops.table(n, "operator")?;
        let idx = t.u32(0, 0, "opcode_index")? as usize;
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
            inputs: t.i32s(1, "operator inputs")?,
            outputs: t.i32s(2, "operator outputs")?,
        });
    }

    Ok(Model {
        tensors,
        nodes,
        inputs: sg.i32s(1, "subgraph inputs")?,
        outputs: sg.i32s(2, "subgraph outputs")?,
    })
}
