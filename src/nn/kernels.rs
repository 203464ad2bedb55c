//! The compute kernels, on NHWC float32 tensors (batch 1) whose channel count is padded to a
//! multiple of 4 so every pixel is a whole number of `F4`s. Padding lanes hold finite values
//! that no later kernel reads into a real channel (the packed weights are zero there).
//! Output channels are processed in blocks of 8 (two `F4`s) with a last block of 4 if needed.

use super::simd::{self, F4};

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

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        // 1 / (1 + e^-x); beyond |x| = 87 the result is 0 or 1 to float precision.
        Act::Sigmoid => {
            let e = simd::exp(
                x.max(F4::splat(-87.0))
                    .min(F4::splat(87.0))
                    .mul(F4::splat(-1.0)),
            );
            F4::splat(1.0).div(F4::splat(1.0).add(e))
        }
    }
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

/// The GEMM micro-kernel: 4 output pixels x 8 channels, starting from the bias (b0, b1). For
/// each tap t, `rows(t)` gives the 4 pixels' input rows (k values each, k a multiple of 4) and
/// the panel holds k x 8 packed weights. Inputs are read 4 at a time and broadcast lane by lane.
/// Returns [pixel 0 lo, pixel 0 hi, pixel 1 lo, ...].
#[inline(always)]
fn tile8<'a>(
    rows: impl Fn(usize) -> [&'a [f32]; 4],
    k: usize,
    panel: &[f32],
    b0: F4,
    b1: F4,
) -> [F4; 8] {
    let (mut a00, mut a01, mut a10, mut a11) = (b0, b1, b0, b1);
    let (mut a20, mut a21, mut a30, mut a31) = (b0, b1, b0, b1);
    for (t, tw) in panel.chunks_exact(k * 8).enumerate() {
        let r = rows(t);
        let rows = r[0]
            .chunks_exact(4)
            .zip(r[1].chunks_exact(4))
            .zip(r[2].chunks_exact(4).zip(r[3].chunks_exact(4)));
        for (wv, ((x0, x1), (x2, x3))) in tw.chunks_exact(32).zip(rows) {
            let (x0, x1, x2, x3) = (
                F4::load(x0, 0),
                F4::load(x1, 0),
                F4::load(x2, 0),
                F4::load(x3, 0),
            );
            macro_rules! step {
                ($l:literal) => {
                    let (w0, w1) = (F4::load(wv, 8 * $l), F4::load(wv, 8 * $l + 4));
                    let s = x0.lane::<$l>();
                    a00 = s.mul_add(w0, a00);
                    a01 = s.mul_add(w1, a01);
                    let s = x1.lane::<$l>();
                    a10 = s.mul_add(w0, a10);
                    a11 = s.mul_add(w1, a11);
                    let s = x2.lane::<$l>();
                    a20 = s.mul_add(w0, a20);
                    a21 = s.mul_add(w1, a21);
                    let s = x3.lane::<$l>();
                    a30 = s.mul_add(w0, a30);
                    a31 = s.mul_add(w1, a31);
                };
            }
            step!(0);
            step!(1);
            step!(2);
            step!(3);
        }
    }
    [a00, a01, a10, a11, a20, a21, a30, a31]
}

/// `tile8` for a last block of 4 channels: returns one accumulator per pixel.
#[inline(always)]
fn tile4<'a>(rows: impl Fn(usize) -> [&'a [f32]; 4], k: usize, panel: &[f32], b0: F4) -> [F4; 4] {
    let (mut a0, mut a1, mut a2, mut a3) = (b0, b0, b0, b0);
    for (t, tw) in panel.chunks_exact(k * 4).enumerate() {
        let r = rows(t);
        let rows = r[0]
            .chunks_exact(4)
            .zip(r[1].chunks_exact(4))
            .zip(r[2].chunks_exact(4).zip(r[3].chunks_exact(4)));
        for (wv, ((x0, x1), (x2, x3))) in tw.chunks_exact(16).zip(rows) {
            let (x0, x1, x2, x3) = (
                F4::load(x0, 0),
                F4::load(x1, 0),
                F4::load(x2, 0),
                F4::load(x3, 0),
            );
            macro_rules! step {
                ($l:literal) => {
                    let w0 = F4::load(wv, 4 * $l);
                    a0 = x0.lane::<$l>().mul_add(w0, a0);
                    a1 = x1.lane::<$l>().mul_add(w0, a1);
                    a2 = x2.lane::<$l>().mul_add(w0, a2);
                    a3 = x3.lane::<$l>().mul_add(w0, a3);
                };
            }
            step!(0);
            step!(1);
            step!(2);
            step!(3);
        }
    }
    [a0, a1, a2, a3]
}

/// Output pixels p..p+4 of every channel block, into `outs` (4 pixels): bias, the taps through
/// the micro-kernel (rows from `rows(pixel, tap)`), the activation, then `res` (the same 4
/// pixels of a residual tensor) added if given.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gemm_tile<'a>(
    rows: impl Fn(usize, usize) -> &'a [f32],
    p: usize,
    taps: usize,
    k: usize,
    outs: &mut [f32],
    cout: usize,
    w: &[f32],
    bias: &[f32],
    act: Act,
    res: Option<&[f32]>,
) {
    let store = |outs: &mut [f32], v: F4, i: usize| match res {
        Some(r) => act4(v, act).add(F4::load(r, i)).store(outs, i),
        None => act4(v, act).store(outs, i),
    };
    let mut wb = 0;
    let four = |t: usize| [rows(p, t), rows(p + 1, t), rows(p + 2, t), rows(p + 3, t)];
    for (o0, bw) in oc_blocks(cout) {
        let panel = &w[wb..wb + taps * k * bw];
        wb += taps * k * bw;
        if bw == 8 {
            let acc = tile8(four, k, panel, F4::load(bias, o0), F4::load(bias, o0 + 4));
            for (r, a) in acc.chunks_exact(2).enumerate() {
                store(outs, a[0], r * cout + o0);
                store(outs, a[1], r * cout + o0 + 4);
            }
        } else {
            let acc = tile4(four, k, panel, F4::load(bias, o0));
            for (r, a) in acc.into_iter().enumerate() {
                store(outs, a, r * cout + o0);
            }
        }
    }
}

/// One output pixel of every channel block (the pixels left over after the 4-pixel tiles).
#[allow(clippy::too_many_arguments)]
fn gemm_pixel<'a>(
    rows: impl Fn(usize) -> &'a [f32],
    taps: usize,
    k: usize,
    out: &mut [f32],
    cout: usize,
    w: &[f32],
    bias: &[f32],
    act: Act,
    res: Option<&[f32]>,
) {
    let mut wb = 0;
    for (o0, bw) in oc_blocks(cout) {
        let panel = &w[wb..wb + taps * k * bw];
        wb += taps * k * bw;
        for half in 0..bw / 4 {
            let mut acc = F4::load(bias, o0 + 4 * half);
            for (t, tw) in panel.chunks_exact(k * bw).enumerate() {
                for (wv, &x) in tw.chunks_exact(bw).zip(rows(t)) {
                    acc = F4::splat(x).mul_add(F4::load(wv, 4 * half), acc);
                }
            }
            let v = act4(acc, act);
            match res {
                Some(r) => v.add(F4::load(r, o0 + 4 * half)).store(out, o0 + 4 * half),
                None => v.store(out, o0 + 4 * half),
            }
        }
    }
}

/// 1x1 convolution, stride 1: act(a GEMM [pixels x cin] * [cin x cout] + bias) + residual (cin
/// a multiple of 4), weights packed by `pack_conv` with taps = 1.
#[allow(clippy::too_many_arguments)]
pub fn pointwise(
    inp: &[f32],
    cin: usize,
    out: &mut [f32],
    cout: usize,
    pixels: usize,
    w: &[f32],
    bias: &[f32],
    act: Act,
    residual: Option<&[f32]>,
) {
    let row = |p: usize, _t: usize| &inp[p * cin..(p + 1) * cin];
    let tiles = pixels / 4;
    for (tile, outs) in out.chunks_exact_mut(4 * cout).take(tiles).enumerate() {
        let res = residual.map(|r| &r[4 * tile * cout..4 * (tile + 1) * cout]);
        gemm_tile(row, 4 * tile, 1, cin, outs, cout, w, bias, act, res);
    }
    for p in tiles * 4..pixels {
        let res = residual.map(|r| &r[p * cout..(p + 1) * cout]);
        gemm_pixel(
            |t| row(p, t),
            1,
            cin,
            &mut out[p * cout..(p + 1) * cout],
            cout,
            w,
            bias,
            act,
            res,
        );
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

/// Depthwise convolution (multiplier 1): weights [kh][kw][c]. Per output pixel, the valid taps
/// are listed once, then channels go 16 at a time (4 accumulators), then 4 at a time.
#[allow(clippy::too_many_arguments)]
pub fn depthwise(
    inp: &[f32],
    id: Dims,
    out: &mut [f32],
    od: Dims,
    w: &[f32],
    bias: &[f32],
    win: &Window,
    act: Act,
    residual: Option<&[f32]>,
) {
    let c = id.c;
    assert!(inp.len() >= id.len() && out.len() >= od.len() && od.c == c && c.is_multiple_of(4));
    assert!(residual.is_none_or(|r| r.len() >= od.len()));
    // act(acc), plus the residual when a following ADD was folded in.
    let store = |out: &mut [f32], v: F4, i: usize| match residual {
        Some(r) => act4(v, act).add(F4::load(r, i)).store(out, i),
        None => act4(v, act).store(out, i),
    };
    assert!(w.len() >= win.kh * win.kw * c && bias.len() >= c && win.kh * win.kw <= MAX_TAPS);
    // (input offset, weight offset) of each valid tap of the current output pixel.
    let mut taps = [(0usize, 0usize); MAX_TAPS];
    // Away from the borders every tap is valid, at a fixed distance from the window's corner.
    let mut rel = [(0usize, 0usize); MAX_TAPS];
    let all = win.kh * win.kw;
    for (t, r) in rel.iter_mut().take(all).enumerate() {
        let (ky, kx) = (t / win.kw, t % win.kw);
        *r = (
            (ky * win.dilation[0] * id.w + kx * win.dilation[1]) * c,
            t * c,
        );
    }
    let inner = |a: usize, o: usize, k: usize, size: usize| {
        let start = o * win.stride[a];
        start >= win.pad[a] && start - win.pad[a] + (k - 1) * win.dilation[a] < size
    };
    for oy in 0..od.h {
        let row_inner = inner(0, oy, win.kh, id.h);
        let mut ox = 0;
        while ox < od.w {
            if row_inner
                && ox + 1 < od.w
                && inner(1, ox, win.kw, id.w)
                && inner(1, ox + 1, win.kw, id.w)
            {
                // Two neighbouring pixels away from the borders share each weight load.
                let corner = ((oy * win.stride[0] - win.pad[0]) * id.w + ox * win.stride[1]
                    - win.pad[1])
                    * c;
                let next = win.stride[1] * c;
                let o = (oy * od.w + ox) * c;
                let mut c0 = 0;
                while c0 < c {
                    let b = F4::load(bias, c0);
                    let (mut a, mut b2) = (b, b);
                    let wide = c0 + 8 <= c;
                    let bh = if wide { F4::load(bias, c0 + 4) } else { b };
                    let (mut ah, mut bh2) = (bh, bh);
                    for &(i, k) in &rel[..all] {
                        let (i, k) = (corner + i + c0, k + c0);
                        // SAFETY: both pixels are interior, so every tap of either lies inside
                        // the input: i + next + 8 <= id.len() when `wide` (else + 4), and
                        // k + 8 <= w.len() likewise (asserted sizes above).
                        unsafe {
                            let w0 = F4::load_unchecked(w, k);
                            a = F4::load_unchecked(inp, i).mul_add(w0, a);
                            b2 = F4::load_unchecked(inp, i + next).mul_add(w0, b2);
                            if wide {
                                let w1 = F4::load_unchecked(w, k + 4);
                                ah = F4::load_unchecked(inp, i + 4).mul_add(w1, ah);
                                bh2 = F4::load_unchecked(inp, i + next + 4).mul_add(w1, bh2);
                            }
                        }
                    }
                    store(out, a, o + c0);
                    store(out, b2, o + c + c0);
                    if wide {
                        store(out, ah, o + c0 + 4);
                        store(out, bh2, o + c + c0 + 4);
                        c0 += 8;
                    } else {
                        c0 += 4;
                    }
                }
                ox += 2;
                continue;
            }
            let n = if row_inner && inner(1, ox, win.kw, id.w) {
                let corner = ((oy * win.stride[0] - win.pad[0]) * id.w + ox * win.stride[1]
                    - win.pad[1])
                    * c;
                for (t, &(i, k)) in taps.iter_mut().zip(&rel[..all]) {
                    *t = (corner + i, k);
                }
                all
            } else {
                let mut n = 0;
                for ky in 0..win.kh {
                    let Some(iy) = win.tap(0, oy, ky, id.h) else {
                        continue;
                    };
                    for kx in 0..win.kw {
                        let Some(ix) = win.tap(1, ox, kx, id.w) else {
                            continue;
                        };
                        taps[n] = ((iy * id.w + ix) * c, (ky * win.kw + kx) * c);
                        n += 1;
                    }
                }
                n
            };
            let taps = &taps[..n];
            let o = (oy * od.w + ox) * c;
            // SAFETY (all loads below): a tap has iy < id.h, ix < id.w, ky < kh, kx < kw, and
            // c0 + 4 <= c, so i + c0 + 4 <= id.len() <= inp.len() and k + c0 + 4 <= w.len().
            let mut c0 = 0;
            while c0 + 16 <= c {
                let (mut a0, mut a1) = (F4::load(bias, c0), F4::load(bias, c0 + 4));
                let (mut a2, mut a3) = (F4::load(bias, c0 + 8), F4::load(bias, c0 + 12));
                for &(i, k) in taps {
                    let (i, k) = (i + c0, k + c0);
                    unsafe {
                        a0 = F4::load_unchecked(inp, i).mul_add(F4::load_unchecked(w, k), a0);
                        a1 = F4::load_unchecked(inp, i + 4)
                            .mul_add(F4::load_unchecked(w, k + 4), a1);
                        a2 = F4::load_unchecked(inp, i + 8)
                            .mul_add(F4::load_unchecked(w, k + 8), a2);
                        a3 = F4::load_unchecked(inp, i + 12)
                            .mul_add(F4::load_unchecked(w, k + 12), a3);
                    }
                }
                store(out, a0, o + c0);
                store(out, a1, o + c0 + 4);
                store(out, a2, o + c0 + 8);
                store(out, a3, o + c0 + 12);
                c0 += 16;
            }
            while c0 < c {
                let mut acc = F4::load(bias, c0);
                for &(i, k) in taps {
                    acc = unsafe {
                        F4::load_unchecked(inp, i + c0).mul_add(F4::load_unchecked(w, k + c0), acc)
                    };
                }
                store(out, acc, o + c0);
                c0 += 4;
            }
            ox += 1;
        }
    }
}

/// Largest depthwise window (kh * kw) the kernel takes; the planner rejects larger ones.
pub const MAX_TAPS: usize = 64;

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

/// RESIZE_BILINEAR with precomputed row and column tables, in two passes per output row: the
/// two source rows blended into `tmp` (one input row long), then columns blended from `tmp`.
/// For the decoder's 2x upsampling that is ~9 vector operations per output vector, not 14.
pub fn resize_bilinear(
    inp: &[f32],
    id: Dims,
    out: &mut [f32],
    od: Dims,
    ys: &[(usize, usize, f32)],
    xs: &[(usize, usize, f32)],
    tmp: &mut [f32],
) {
    let c = id.c;
    let row = id.w * c;
    let tmp = &mut tmp[..row];
    for (&(y0, y1, fy), out_row) in ys.iter().zip(out.chunks_exact_mut(od.w * c)) {
        let (wy0, wy1) = (F4::splat(1.0 - fy), F4::splat(fy));
        let (r0, r1) = (
            &inp[y0 * row..(y0 + 1) * row],
            &inp[y1 * row..(y1 + 1) * row],
        );
        for ((t, a), b) in tmp
            .chunks_exact_mut(4)
            .zip(r0.chunks_exact(4))
            .zip(r1.chunks_exact(4))
        {
            F4::load(a, 0)
                .mul(wy0)
                .add(F4::load(b, 0).mul(wy1))
                .store(t, 0);
        }
        for (&(x0, x1, fx), px) in xs.iter().zip(out_row.chunks_exact_mut(c)) {
            let (wx0, wx1) = (F4::splat(1.0 - fx), F4::splat(fx));
            let (left, right) = (&tmp[x0 * c..(x0 + 1) * c], &tmp[x1 * c..(x1 + 1) * c]);
            for ((o, l), r) in px
                .chunks_exact_mut(4)
                .zip(left.chunks_exact(4))
                .zip(right.chunks_exact(4))
            {
                F4::load(l, 0)
                    .mul(wx0)
                    .add(F4::load(r, 0).mul(wx1))
                    .store(o, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Straightforward depthwise convolution, for checking the optimised kernel.
    fn depthwise_reference(
        inp: &[f32],
        id: Dims,
        od: Dims,
        w: &[f32],
        bias: &[f32],
        win: &Window,
    ) -> Vec<f32> {
        let mut out = vec![0.0; od.len()];
        for oy in 0..od.h {
            for ox in 0..od.w {
                for ch in 0..id.c {
                    let mut acc = bias[ch] as f64;
                    for ky in 0..win.kh {
                        for kx in 0..win.kw {
                            let iy = (oy * win.stride[0] + ky * win.dilation[0]) as isize
                                - win.pad[0] as isize;
                            let ix = (ox * win.stride[1] + kx * win.dilation[1]) as isize
                                - win.pad[1] as isize;
                            if iy >= 0 && ix >= 0 && (iy as usize) < id.h && (ix as usize) < id.w {
                                let x = inp[(iy as usize * id.w + ix as usize) * id.c + ch] as f64;
                                acc += x * w[(ky * win.kw + kx) * id.c + ch] as f64;
                            }
                        }
                    }
                    out[(oy * od.w + ox) * od.c + ch] = acc as f32;
                }
            }
        }
        out
    }

    #[test]
    fn depthwise_matches_a_direct_implementation() {
        let mut seed = 1u32;
        let mut rnd = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        // (h, w, c, k, stride, dilation, pad): odd and even sizes, borders, channel blocks of 4/8/16.
        for &(h, w, c, k, s, d, p) in &[
            (7, 9, 4, 3, 1, 1, 1),
            (8, 8, 8, 3, 2, 1, 0),
            (5, 11, 12, 5, 1, 1, 2),
            (9, 6, 16, 5, 2, 1, 1),
            (6, 7, 20, 3, 1, 2, 2),
            (1, 1, 8, 3, 1, 1, 1),
            (4, 13, 24, 3, 1, 1, 0),
        ] {
            let id = Dims { h, w, c };
            let oh = (h + 2 * p - (d * (k - 1) + 1)) / s + 1;
            let ow = (w + 2 * p - (d * (k - 1) + 1)) / s + 1;
            let od = Dims { h: oh, w: ow, c };
            let win = Window {
                kh: k,
                kw: k,
                stride: [s, s],
                dilation: [d, d],
                pad: [p, p],
            };
            let inp: Vec<f32> = (0..id.len()).map(|_| rnd()).collect();
            let wts: Vec<f32> = (0..k * k * c).map(|_| rnd()).collect();
            let bias: Vec<f32> = (0..c).map(|_| rnd()).collect();
            let res: Vec<f32> = (0..od.len()).map(|_| rnd()).collect();
            let want = depthwise_reference(&inp, id, od, &wts, &bias, &win);
            let mut got = vec![0.0; od.len()];
            depthwise(&inp, id, &mut got, od, &wts, &bias, &win, Act::None, None);
            let mut with_res = vec![0.0; od.len()];
            depthwise(
                &inp,
                id,
                &mut with_res,
                od,
                &wts,
                &bias,
                &win,
                Act::Relu,
                Some(&res),
            );
            for i in 0..od.len() {
                assert!(
                    (got[i] - want[i]).abs() < 1e-5,
                    "{h}x{w}x{c} k{k} s{s} d{d} p{p} at {i}: {} vs {}",
                    got[i],
                    want[i]
                );
                let r = want[i].max(0.0) + res[i];
                assert!(
                    (with_res[i] - r).abs() < 1e-5,
                    "residual {h}x{w}x{c} at {i}"
                );
            }
        }
    }

    #[test]
    fn activations_match_their_definitions() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.05;
            let mut out = [0.0f32; 4];
            for (act, want) in [
                (Act::Sigmoid, 1.0 / (1.0 + (-x as f64).exp())),
                (
                    Act::HardSwish,
                    x as f64 * (x as f64 + 3.0).clamp(0.0, 6.0) / 6.0,
                ),
                (Act::Relu, (x as f64).max(0.0)),
                (Act::Relu6, (x as f64).clamp(0.0, 6.0)),
                (Act::ReluN1To1, (x as f64).clamp(-1.0, 1.0)),
            ] {
                act4(F4::splat(x), act).store(&mut out, 0);
                let err = (out[0] as f64 - want).abs();
                assert!(
                    err <= 1e-6 * want.abs().max(1.0),
                    "{act:?}({x}) = {} not {want}",
                    out[0]
                );
            }
        }
    }
}
