//! The GEMM behind every dense convolution: weights repacked into panels of 8 (or 4) output
//! channels, a 4-pixel x 8-channel register tile, and `pointwise`, the 1x1 convolution that
//! `conv`'s im2col rows and transposed-convolution GEMM also go through.

use super::{act4, Act};
use crate::simd::F4;

/// Output-channel blocks: (first channel, width 8 or 4).
fn oc_blocks(cout: usize) -> impl Iterator<Item = (usize, usize)> {
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
