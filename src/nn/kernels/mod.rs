//! The compute kernels, on NHWC float32 tensors (batch 1) whose channel count is padded to a
//! multiple of 4 so every pixel is a whole number of `F4`s. Padding lanes hold finite values
//! that no later kernel reads into a real channel (the packed weights are zero there).
//! Output channels are processed in blocks of 8 (two `F4`s) with a last block of 4 if needed.
//!
//! One file per kernel family: `gemm` (1x1 convolutions and the GEMM every dense convolution
//! ends in), `conv` (im2col and transposed convolutions), `depthwise`, `elementwise`
//! (activations, ADD / MUL), `pool` (spatial mean, average pooling) and `resize` (bilinear).
//! The geometry types they share live here.

mod conv;
mod depthwise;
mod elementwise;
mod gemm;
mod pool;
mod resize;

pub use conv::{im2col, transpose_conv, transpose_conv_gemm};
pub use depthwise::{depthwise, MAX_TAPS};
pub use elementwise::{act4, binary, unary, unary_to, Act, BinOp};
pub use gemm::{pack_conv, pointwise};
pub use pool::{average_pool, mean_spatial};
pub use resize::{bilinear_table, resize_bilinear};

/// Height, width and (padded) channel count of an activation tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl Dims {
    pub fn len(&self) -> usize {
        self.h * self.w * self.c
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Geometry of a windowed op (convolution, depthwise convolution, pooling).
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub kh: usize,
    pub kw: usize,
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    /// Padding before the first row / column.
    pub pad: [usize; 2],
}

impl Window {
    /// Input coordinate of tap `k` for output coordinate `o` on axis `a`, if inside `0..size`.
    #[inline(always)]
    fn tap(&self, a: usize, o: usize, k: usize, size: usize) -> Option<usize> {
        let i = (o * self.stride[a] + k * self.dilation[a]).checked_sub(self.pad[a])?;
        (i < size).then_some(i)
    }
}
