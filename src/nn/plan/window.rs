//! The geometry of a windowed operator (convolution, pooling): output size and padding under
//! TFLite's SAME and VALID rules.

use crate::nn::kernels::{Dims, Window};
use crate::nn::tflite::Padding;
use crate::nn::Error;

/// Output size and padding before the first element along one axis.
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

/// Output height and width, or an error if the window does not fit the input.
pub(super) fn out_size(
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

/// The window of a convolution or pooling, with its padding.
pub(super) fn window(
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
