//! A small float32 inference engine for the models we ship: MediaPipe selfie segmentation
//! (TFLite, run as a planned graph) and DeepFilterNet3's weights (`dfn_weights`; its networks
//! are written out in `audio::deepfilter::network` on the `kernels` and `recurrent` kernels).
//! Free of browser APIs so it runs and tests natively; kernels are written on `crate::simd`
//! (wasm `simd128` when compiled for it, portable code otherwise).

pub mod dfn_weights;
mod flatbuf;
mod float16;
pub(crate) mod kernels;
mod network;
mod plan;
pub(crate) mod recurrent;
pub mod tflite;

pub use kernels::Dims;
pub use network::Network;

use std::fmt;

/// Why a model could not be loaded or run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The bytes are not a well-formed TFLite FlatBuffer (truncated, offsets out of range, ...).
    Malformed(String),
    /// The model uses something this engine does not implement.
    Unsupported { node: usize, what: String },
    /// A node's tensors or options make no sense (bad shape, missing weights, ...).
    Node { node: usize, what: String },
    /// A bad argument from the caller (e.g. an image buffer too short).
    Input(String),
}

impl Error {
    pub(crate) fn malformed(what: String) -> Self {
        Error::Malformed(what)
    }
    pub(crate) fn unsupported(node: usize, what: String) -> Self {
        Error::Unsupported { node, what }
    }
    pub(crate) fn node(node: usize, what: String) -> Self {
        Error::Node { node, what }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Malformed(w) => write!(f, "malformed TFLite model: {w}"),
            Error::Unsupported { node, what } => write!(f, "unsupported {what} at node {node}"),
            Error::Node { node, what } => write!(f, "bad node {node}: {what}"),
            Error::Input(w) => write!(f, "bad input: {w}"),
        }
    }
}

impl std::error::Error for Error {}
