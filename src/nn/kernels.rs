//! The compute kernels, on NHWC float32 tensors (batch 1) whose channel count is padded to a
//! multiple of 4 so every pixel is a whole number of `F4`s. Padding lanes hold finite values
//! that no later kernel reads into a real channel (the packed weights are zero there).
//! Output channels are processed in blocks of 8 (two `F4`s) with a last block of 4 if needed.

use super::simd::F4;

/// Activation applied as a kernel's epilogue (TFLite's fused activations, plus the separate
/// HARD_SWISH / LOGISTIC / RELU ops folded into the producing kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    None,
    Relu,
    Relu6,
    ReluN1To1,
    HardSwish,
    Sigmoid,
}

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
}

#[inline(always)]
pub fn act4(x: F4, act: Act) -> F4 {
    match act {
        Act::None => x,
        Act::Relu => x.max(F4::splat(0.0)),
        Act::Relu6 => x.max(F4::splat(0.0)).min(F4::splat(6.0)),
        Act::ReluN1To1 => x.max(F4::splat(-1.0)).min(F4::splat(1.0)),
        // x * relu6(x + 3) / 6
        Act::HardSwish => x
            .mul(
                x.add(F4::splat(3.0))
                    .max(F4::splat(0.0))
                    .min(F4::splat(6.0)),
            )
            .mul(F4::splat(1.0 / 6.0)),
        Act::Sigmoid => {
            let l = x.lanes();
            F4::from_array([sigmoid(l[0]), sigmoid(l[1]), sigmoid(l[2]), sigmoid(l[3])])
        }
    }
}

/// `act4` on one value.
#[inline(always)]
pub fn act1(x: f32, act: Act) -> f32 {
    act4(F4::splat(x), act).lanes()[0]
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Output-channel blocks: (first channel, width 8 or 4).
pub fn oc_blocks(cout: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..cout).step_by(8).map(move |o| (o, (cout - o).min(8)))
}

/// Repacks weights given as w(oc, tap, ic) (tap = ky * kw + kx) into per-block panels
/// [block][tap][ic][8 or 4], zero-filling padded input/output channels.
pub fn pack_conv(
    w: impl Fn(usize, usize, usize) -> f32,
    cout: usize,
    taps: usize,
    cin: usize,
    cout_p: usize,
    cin_p: usize,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(cout_p * taps * cin_p);
    for (o0, bw) in oc_blocks(cout_p) {
        for t in 0..taps {
            for i in 0..cin_p {
                for o in o0..o0 + bw {
                    out.push(if o < cout && i < cin { w(o, t, i) } else { 0.0 });
                }
            }
        }
    }
    out
}

/// 1x1 convolution, stride 1: a GEMM [pixels x cin] * [cin x cout] + bias, 4 pixels x 8 output
/// channels at a time (8 accumulators). Weights packed by `pack_conv` (taps = 1, or the im2col
/// width for `conv`). Iterators rather than indices keep bounds checks out of the inner loop.
pub fn pointwise(
    inp: &[f32],
    cin: usize,
    out: &mut [f32],
    cout: usize,
    pixels: usize,
    w: &[f32],
    bias: &[f32],
    act: Act,
) {
    let tiles = pixels / 4;
    for (t, (rows, outs)) in inp
        .chunks_exact(4 * cin)
        .zip(out.chunks_exact_mut(4 * cout))
        .take(tiles)
        .enumerate()
    {
        let _ = t;
        let (r0, rest) = rows.split_at(cin);
        let (r1, rest) = rest.split_at(cin);
        let (r2, r3) = rest.split_at(cin);
        let mut wb = 0;
        for (o0, bw) in oc_blocks(cout) {
            let panel = &w[wb..wb + cin * bw];
            wb += cin * bw;
            let xs = r0.iter().zip(r1).zip(r2.iter().zip(r3));
            if bw == 8 {
                let (b0, b1) = (F4::load(bias, o0), F4::load(bias, o0 + 4));
                let (mut a00, mut a01, mut a10, mut a11) = (b0, b1, b0, b1);
                let (mut a20, mut a21, mut a30, mut a31) = (b0, b1, b0, b1);
                for (wv, ((&x0, &x1), (&x2, &x3))) in panel.chunks_exact(8).zip(xs) {
                    let (w0, w1) = (F4::load(wv, 0), F4::load(wv, 4));
                    let x0 = F4::splat(x0);
                    a00 = x0.mul_add(w0, a00);
                    a01 = x0.mul_add(w1, a01);
                    let x1 = F4::splat(x1);
                    a10 = x1.mul_add(w0, a10);
                    a11 = x1.mul_add(w1, a11);
                    let x2 = F4::splat(x2);
                    a20 = x2.mul_add(w0, a20);
                    a21 = x2.mul_add(w1, a21);
                    let x3 = F4::splat(x3);
                    a30 = x3.mul_add(w0, a30);
                    a31 = x3.mul_add(w1, a31);
                }
                for (r, (lo, hi)) in [(a00, a01), (a10, a11), (a20, a21), (a30, a31)]
                    .into_iter()
                    .enumerate()
                {
                    act4(lo, act).store(outs, r * cout + o0);
                    act4(hi, act).store(outs, r * cout + o0 + 4);
                }
            } else {
                let b0 = F4::load(bias, o0);
                let (mut a0, mut a1, mut a2, mut a3) = (b0, b0, b0, b0);
                for (wv, ((&x0, &x1), (&x2, &x3))) in panel.chunks_exact(4).zip(xs) {
                    let w0 = F4::load(wv, 0);
                    a0 = F4::splat(x0).mul_add(w0, a0);
                    a1 = F4::splat(x1).mul_add(w0, a1);
                    a2 = F4::splat(x2).mul_add(w0, a2);
                    a3 = F4::splat(x3).mul_add(w0, a3);
                }
                for (r, acc) in [a0, a1, a2, a3].into_iter().enumerate() {
                    act4(acc, act).store(outs, r * cout + o0);
                }
            }
        }
    }
    // Remaining pixels (and the 1x1 tensors of squeeze-excitation blocks) one at a time.
    for p in tiles * 4..pixels {
        let row = &inp[p * cin..(p + 1) * cin];
        let mut wb = 0;
        for (o0, bw) in oc_blocks(cout) {
            let panel = &w[wb..wb + cin * bw];
            wb += cin * bw;
            for half in 0..bw / 4 {
                let mut acc = F4::load(bias, o0 + 4 * half);
                for (wv, &x) in panel.chunks_exact(bw).zip(row) {
                    acc = F4::splat(x).mul_add(F4::load(wv, 4 * half), acc);
                }
                act4(acc, act).store(out, p * cout + o0 + 4 * half);
            }
        }
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

/// Gathers each output pixel's receptive field (taps x c values, zeros outside the input) into
/// a row of `cols`, so a general convolution becomes a `pointwise` GEMM over those rows.
pub fn im2col(inp: &[f32], id: Dims, cols: &mut [f32], oh: usize, ow: usize, win: &Window) {
    let k = win.kh * win.kw * id.c;
    for (p, row) in cols.chunks_exact_mut(k).take(oh * ow).enumerate() {
        let (oy, ox) = (p / ow, p % ow);
        for (t, dst) in row.chunks_exact_mut(id.c).enumerate() {
            match (
                win.tap(0, oy, t / win.kw, id.h),
                win.tap(1, ox, t % win.kw, id.w),
            ) {
                (Some(iy), Some(ix)) => {
                    dst.copy_from_slice(&inp[(iy * id.w + ix) * id.c..][..id.c])
                }
                _ => dst.fill(0.0),
            }
        }
    }
}

/// Depthwise convolution (multiplier 1): weights [kh][kw][c], 4 channels at a time.
pub fn depthwise(
    inp: &[f32],
    id: Dims,
    out: &mut [f32],
    od: Dims,
    w: &[f32],
    bias: &[f32],
    win: &Window,
    act: Act,
) {
    let c = id.c;
    assert!(
        inp.len() >= id.len()
            && out.len() >= od.len()
            && od.c == c
            && w.len() >= win.kh * win.kw * c
            && bias.len() >= c
            && c % 4 == 0
    );
    // Valid taps of the current output pixel: (input offset, weight offset).
    let mut taps = [(0usize, 0usize); 64];
    let max_taps = taps.len();
    for oy in 0..od.h {
        for ox in 0..od.w {
            let mut n = 0;
            for ky in 0..win.kh {
                let Some(iy) = win.tap(0, oy, ky, id.h) else {
                    continue;
                };
                for kx in 0..win.kw {
                    let Some(ix) = win.tap(1, ox, kx, id.w) else {
                        continue;
                    };
                    if n < max_taps {
                        taps[n] = ((iy * id.w + ix) * c, (ky * win.kw + kx) * c);
                        n += 1;
                    }
                }
            }
            let taps = &taps[..n];
            let o = (oy * od.w + ox) * c;
            for c0 in (0..c).step_by(4) {
                let mut acc = F4::load(bias, c0);
                for &(i, k) in taps {
                    // SAFETY: iy < id.h, ix < id.w and c0 + 4 <= c, so i + c0 + 4 <= id.len() <=
                    // inp.len(); ky < kh, kx < kw, so k + c0 + 4 <= w.len() (asserted above).
                    acc = unsafe {
                        F4::load_unchecked(inp, i + c0).mul_add(F4::load_unchecked(w, k + c0), acc)
                    };
                }
                act4(acc, act).store(out, o + c0);
            }
        }
    }
}

/// Transposed convolution whose patches do not overlap (stride = kernel, no padding), as a GEMM
/// into `cols` ([pixels x taps * cout], weights packed with `pack_conv` as cout' = taps * cout
/// and bias 0) followed by a scatter that adds the bias and applies `act`.
pub fn transpose_conv_gemm(
    inp: &[f32],
    id: Dims,
    out: &mut [f32],
    od: Dims,
    cout: usize,
    w: &[f32],
    bias: &[f32],
    cols: &mut [f32],
    win: &Window,
    act: Act,
) {
    let n = (win.kh * win.kw * cout).div_ceil(4) * 4;
    // The GEMM's own bias is zero (the planner keeps n <= 64); the real bias is added below.
    let zero = [0.0f32; 64];
    pointwise(inp, id.c, cols, n, id.h * id.w, w, &zero[..n], Act::None);
    for (p, row) in cols.chunks_exact(n).take(id.h * id.w).enumerate() {
        let (iy, ix) = (p / id.w, p % id.w);
        for t in 0..win.kh * win.kw {
            let (oy, ox) = (iy * win.kh + t / win.kw, ix * win.kw + t % win.kw);
            let o = &mut out[(oy * od.w + ox) * od.c..][..cout];
            for ((dst, &v), &b) in o.iter_mut().zip(&row[t * cout..]).zip(bias) {
                *dst = act1(v + b, act);
            }
        }
    }
}

/// Transposed convolution plus bias: every input pixel scatters a kh x kw patch
/// (output (iy * stride + ky - pad, ...)). Weights [tap][cin][cout]. Fills `out` itself.
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

/// Applies `act` in place.
pub fn unary(data: &mut [f32], act: Act) {
    for i in (0..data.len()).step_by(4) {
        act4(F4::load(data, i), act).store(data, i);
    }
}

/// `out = act(inp)`.
pub fn unary_to(inp: &[f32], out: &mut [f32], act: Act) {
    for i in (0..out.len()).step_by(4) {
        act4(F4::load(inp, i), act).store(out, i);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Mul,
}

/// `out = act(a op b)`, where `b` is either as long as `a` or one pixel (`c` values) broadcast
/// over every pixel of `a`.
pub fn binary(a: &[f32], b: &[f32], out: &mut [f32], op: BinOp, act: Act) {
    for (o, x) in out.chunks_exact_mut(b.len()).zip(a.chunks_exact(b.len())) {
        for ((o, x), y) in o
            .chunks_exact_mut(4)
            .zip(x.chunks_exact(4))
            .zip(b.chunks_exact(4))
        {
            let (x, y) = (F4::load(x, 0), F4::load(y, 0));
            let r = match op {
                BinOp::Add => x.add(y),
                BinOp::Mul => x.mul(y),
            };
            act4(r, act).store(o, 0);
        }
    }
}

/// Mean over all pixels of each channel (MEAN over axes 1, 2).
pub fn mean_spatial(inp: &[f32], id: Dims, out: &mut [f32]) {
    let scale = F4::splat(1.0 / (id.h * id.w) as f32);
    for c0 in (0..id.c).step_by(4) {
        let mut acc = F4::splat(0.0);
        for p in 0..id.h * id.w {
            acc = acc.add(F4::load(inp, p * id.c + c0));
        }
        acc.mul(scale).store(out, c0);
    }
}

/// Average pooling; like TFLite, padded positions are left out of the count.
pub fn average_pool(inp: &[f32], id: Dims, out: &mut [f32], od: Dims, win: &Window, act: Act) {
    for oy in 0..od.h {
        for ox in 0..od.w {
            for c0 in (0..id.c).step_by(4) {
                let mut acc = F4::splat(0.0);
                let mut n = 0usize;
                for ky in 0..win.kh {
                    let Some(iy) = win.tap(0, oy, ky, id.h) else {
                        continue;
                    };
                    for kx in 0..win.kw {
                        let Some(ix) = win.tap(1, ox, kx, id.w) else {
                            continue;
                        };
                        acc = acc.add(F4::load(inp, (iy * id.w + ix) * id.c + c0));
                        n += 1;
                    }
                }
                let r = acc.mul(F4::splat(1.0 / n.max(1) as f32));
                act4(r, act).store(out, (oy * od.w + ox) * od.c + c0);
            }
        }
    }
}

/// Bilinear sampling positions along one axis: (lower index, upper index, upper weight).
pub fn bilinear_table(
    in_size: usize,
    out_size: usize,
    align_corners: bool,
    half_pixel: bool,
) -> Vec<(usize, usize, f32)> {
    let scale = if align_corners && out_size > 1 {
        (in_size - 1) as f32 / (out_size - 1) as f32
    } else {
        in_size as f32 / out_size as f32
    };
    (0..out_size)
        .map(|o| {
            let v = if half_pixel {
                (o as f32 + 0.5) * scale - 0.5
            } else {
                o as f32 * scale
            };
            let lo = v.floor().max(0.0);
            let hi = (v.ceil() as usize).min(in_size - 1);
            (lo as usize, hi, v - lo)
        })
        .collect()
}

/// RESIZE_BILINEAR with precomputed row and column tables.
pub fn resize_bilinear(
    inp: &[f32],
    id: Dims,
    out: &mut [f32],
    od: Dims,
    ys: &[(usize, usize, f32)],
    xs: &[(usize, usize, f32)],
) {
    let c = id.c;
    for (oy, &(y0, y1, fy)) in ys.iter().enumerate() {
        let (wy0, wy1) = (F4::splat(1.0 - fy), F4::splat(fy));
        for (ox, &(x0, x1, fx)) in xs.iter().enumerate() {
            let (wx0, wx1) = (F4::splat(1.0 - fx), F4::splat(fx));
            let (p00, p01) = ((y0 * id.w + x0) * c, (y0 * id.w + x1) * c);
            let (p10, p11) = ((y1 * id.w + x0) * c, (y1 * id.w + x1) * c);
            let o = (oy * od.w + ox) * c;
            for c0 in (0..c).step_by(4) {
                let top = F4::load(inp, p00 + c0)
                    .mul(wx0)
                    .add(F4::load(inp, p01 + c0).mul(wx1));
                let bot = F4::load(inp, p10 + c0)
                    .mul(wx0)
                    .add(F4::load(inp, p11 + c0).mul(wx1));
                top.mul(wy0).add(bot.mul(wy1)).store(out, o + c0);
            }
        }
    }
}
