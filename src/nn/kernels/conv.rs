//! Convolutions other than 1x1 and depthwise: im2col rows for the GEMM, and the decoder's
//! transposed convolutions (as a GEMM plus scatter when patches do not overlap, else direct).

use super::{pointwise, unary, Act, Dims, Window};
use crate::simd::F4;

/// Gathers the receptive field of each pixel of output rows `oys` into a row of `cols` (for
/// every tap, the `cin` real input channels, zeros where the tap falls in the padding; the row
/// is zero-padded to `k`, a multiple of 4), so a general convolution becomes a `pointwise` GEMM
/// over those rows. Dropping the channel padding matters for the RGB stem: 27 values per pixel
/// instead of 36. Called one output row at a time so `cols` stays in cache for the GEMM.
#[allow(clippy::too_many_arguments)]
pub fn im2col(
    inp: &[f32],
    id: Dims,
    cin: usize,
    cols: &mut [f32],
    k: usize,
    oys: std::ops::Range<usize>,
    ow: usize,
    win: &Window,
) {
    let mut rows = cols.chunks_exact_mut(k);
    let inner = |a: usize, o: usize, kk: usize, size: usize| {
        let start = o * win.stride[a];
        start >= win.pad[a] && start - win.pad[a] + (kk - 1) * win.dilation[a] < size
    };
    for oy in oys {
        let row_inner = inner(0, oy, win.kh, id.h);
        for ox in 0..ow {
            let Some(row) = rows.next() else { return };
            let interior = row_inner && inner(1, ox, win.kw, id.w);
            let corner = if interior {
                (oy * win.stride[0] - win.pad[0]) * id.w + ox * win.stride[1] - win.pad[1]
            } else {
                0
            };
            if interior && id.c == 4 && (win.kh * win.kw - 1) * cin + 4 <= k {
                // Pixels of 4 floats (the RGB stem): one vector copy per tap, each store
                // overlapping the next tap's place, then the padding up to k cleared.
                let mut j = 0;
                for ky in 0..win.kh {
                    for kx in 0..win.kw {
                        let px = corner + ky * win.dilation[0] * id.w + kx * win.dilation[1];
                        F4::load(inp, px * 4).store(row, j);
                        j += cin;
                    }
                }
                for v in &mut row[j..] {
                    *v = 0.0;
                }
                continue;
            }
            let mut dst = row.iter_mut();
            if interior {
                // Away from the borders: no padding to check.
                for ky in 0..win.kh {
                    for kx in 0..win.kw {
                        let px = corner + ky * win.dilation[0] * id.w + kx * win.dilation[1];
                        for (&s, d) in inp[px * id.c..][..cin].iter().zip(dst.by_ref()) {
                            *d = s;
                        }
                    }
                }
                dst.for_each(|d| *d = 0.0);
                continue;
            }
            for ky in 0..win.kh {
                let iy = win.tap(0, oy, ky, id.h);
                for kx in 0..win.kw {
                    match (iy, win.tap(1, ox, kx, id.w)) {
                        (Some(iy), Some(ix)) => {
                            // Source first: zip stops on it without taking from `dst`.
                            for (&s, d) in inp[(iy * id.w + ix) * id.c..][..cin]
                                .iter()
                                .zip(dst.by_ref())
                            {
                                *d = s;
                            }
                        }
                        _ => dst.by_ref().take(cin).for_each(|d| *d = 0.0),
                    }
                }
            }
            // The padding up to k.
            dst.for_each(|d| *d = 0.0);
        }
    }
}

/// Transposed convolution whose patches do not overlap (stride = kernel, no padding): a GEMM
/// into `cols` ([pixels x taps * cout], weights packed with `pack_conv` as cout' = taps * cout,
/// bias repeated per tap, activation applied there), then each tap's values copied into place.
#[allow(clippy::too_many_arguments)]
pub fn transpose_conv_gemm(
    inp: &[f32],
    id: Dims,
    out: &mut [f32],
    od: Dims,
    cout: usize,
    w: &[f32],
    wide_bias: &[f32],
    cols: &mut [f32],
    win: &Window,
    act: Act,
) {
    let n = wide_bias.len();
    pointwise(inp, id.c, cols, n, id.h * id.w, w, wide_bias, act, None);
    // Nested loops, not divisions: integer division per element is costly in this hot loop.
    for (iy, rows) in cols.chunks_exact(n * id.w).take(id.h).enumerate() {
        for (ix, row) in rows.chunks_exact(n).enumerate() {
            let mut taps = row.chunks_exact(cout);
            for ky in 0..win.kh {
                let line = (iy * win.kh + ky) * od.w;
                for kx in 0..win.kw {
                    let dst = &mut out[(line + ix * win.kw + kx) * od.c..][..cout];
                    // Element by element: cout is tiny (1 for the mask), and a copy_from_slice
                    // of a few floats becomes a memcpy call in wasm.
                    for (d, &v) in dst.iter_mut().zip(taps.next().unwrap_or(&[])) {
                        *d = v;
                    }
                }
            }
        }
    }
}

/// Transposed convolution plus bias: every input pixel scatters a kh x kw patch
/// (output (iy * stride + ky - pad, ...)). Weights [tap][cin][cout]. Fills `out` itself.
#[allow(clippy::too_many_arguments)]
pub fn transpose_conv(
    inp: &[f32],
    id: Dims,
    out: &mut [f32],
    od: Dims,
    w: &[f32],
    bias: &[f32],
    win: &Window,
    act: Act,
) {
    for px in out.chunks_exact_mut(od.c) {
        px.copy_from_slice(bias);
    }
    for iy in 0..id.h {
        for ix in 0..id.w {
            let x = &inp[(iy * id.w + ix) * id.c..][..id.c];
            for ky in 0..win.kh {
                let Some(oy) = (iy * win.stride[0] + ky)
                    .checked_sub(win.pad[0])
                    .filter(|&y| y < od.h)
                else {
                    continue;
                };
                for kx in 0..win.kw {
                    let Some(ox) = (ix * win.stride[1] + kx)
                        .checked_sub(win.pad[1])
                        .filter(|&v| v < od.w)
                    else {
                        continue;
                    };
                    let tw = &w[(ky * win.kw + kx) * id.c * od.c..];
                    let o = (oy * od.w + ox) * od.c;
                    for c0 in (0..od.c).step_by(4) {
                        let mut acc = F4::load(out, o + c0);
                        for (i, &v) in x.iter().enumerate() {
                            acc = F4::splat(v).mul_add(F4::load(tw, i * od.c + c0), acc);
                        }
                        acc.store(out, o + c0);
                    }
                }
            }
        }
    }
    if act != Act::None {
        unary(out, act);
    }
}
