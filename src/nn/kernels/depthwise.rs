//! Depthwise convolution (multiplier 1), with per-pixel tap lists and two pixels per pass away
//! from the borders.

use super::{act4, Act, Dims, Window};
use crate::simd::F4;

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
}
