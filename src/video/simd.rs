//! The inner loops that dominate the frame time, in wasm `simd128` with a portable twin.
//!
//! Each wasm kernel works on 4 lanes and performs, lane by lane, exactly the operations of
//! its scalar twin in the same order (wasm has no fused multiply-add), so native tests
//! exercise the same arithmetic the browser runs; the scalar code also handles the tails.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::*;

/// Share of the blurred background light that wraps onto the person's edge (image mode),
/// multiplied by alpha and by the local background fraction (about 0.5 on the edge).
pub const LIGHT_WRAP: f32 = 0.2;

/// One row of a low-resolution plane, interpolated to full width and then between two
/// such rows: `r0 + f * (r1 - r0)`.
#[derive(Clone, Copy)]
pub struct Lerp<'a> {
    pub r0: &'a [f32],
    pub r1: &'a [f32],
    pub f: f32,
}

impl Lerp<'_> {
    #[inline(always)]
    fn at(&self, x: usize) -> f32 {
        self.r0[x] + self.f * (self.r1[x] - self.r0[x])
    }
}

/// `out[x] = sum_i k[i] * p[x + i]` for a symmetric kernel `k` of odd length (folded:
/// `k[r] p[x + r] + sum_{i<r} k[i] (p[x + i] + p[x + 2r - i])`), `p` holding
/// `out.len() + k.len() - 1` samples.
#[allow(clippy::needless_range_loop)] // taps i and 2r - i go in pairs
pub fn convolve_row(p: &[f32], k: &[f32], out: &mut [f32]) {
    let w = out.len();
    let r = k.len() / 2;
    assert!(k.len() % 2 == 1 && p.len() + 1 >= w + k.len());
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: every load reads p[x + i .. x + i + 4] with x + 4 <= w and i <= 2r,
    // inside p by the assertion; stores stay inside out.
    unsafe {
        let ld = |i: usize| v128_load(p.as_ptr().add(i) as *const v128);
        while x + 4 <= w {
            let mut acc = f32x4_mul(f32x4_splat(k[r]), ld(x + r));
            for i in 0..r {
                acc = f32x4_add(
                    acc,
                    f32x4_mul(f32x4_splat(k[i]), f32x4_add(ld(x + i), ld(x + 2 * r - i))),
                );
            }
            v128_store(out.as_mut_ptr().add(x) as *mut v128, acc);
            x += 4;
        }
    }
    for (j, o) in out.iter_mut().enumerate().skip(x) {
        let mut acc = k[r] * p[j + r];
        for i in 0..r {
            acc += k[i] * (p[j + i] + p[j + 2 * r - i]);
        }
        *o = acc;
    }
}

/// One output row of a vertical convolution with a symmetric kernel of odd length:
/// `out[x] = sum_i k[i] * src[rows[i] * w + x]` (`w = out.len()`), folded as in
/// `convolve_row` and accumulated in registers.
#[allow(clippy::needless_range_loop)] // taps i and 2r - i go in pairs
pub fn convolve_column(src: &[f32], rows: &[usize], k: &[f32], out: &mut [f32]) {
    let w = out.len();
    let r = k.len() / 2;
    assert!(
        k.len() % 2 == 1 && rows.len() == k.len() && rows.iter().all(|&i| (i + 1) * w <= src.len())
    );
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: rows[i] * w + x + 4 <= (rows[i] + 1) * w <= src.len() (asserted).
    unsafe {
        // Row starts and tap pairs resolved once per row, not per vector.
        let mut starts = [src.as_ptr(); 64];
        let starts = &mut starts[..k.len().min(64)];
        assert!(starts.len() == k.len());
        for (s, &i) in starts.iter_mut().zip(rows) {
            *s = src.as_ptr().add(i * w);
        }
        let ld = |i: usize, x: usize| v128_load(starts[i].add(x) as *const v128);
        while x + 4 <= w {
            let mut acc = f32x4_mul(f32x4_splat(k[r]), ld(r, x));
            for i in 0..r {
                acc = f32x4_add(
                    acc,
                    f32x4_mul(
                        f32x4_splat(*k.get_unchecked(i)),
                        f32x4_add(ld(i, x), ld(2 * r - i, x)),
                    ),
                );
            }
            v128_store(out.as_mut_ptr().add(x) as *mut v128, acc);
            x += 4;
        }
    }
    for (j, o) in out.iter_mut().enumerate().skip(x) {
        let at = |i: usize| src[rows[i] * w + j];
        let mut acc = k[r] * at(r);
        for i in 0..r {
            acc += k[i] * (at(i) + at(2 * r - i));
        }
        *o = acc;
    }
}

/// Linear interpolation of a row of a grid of `f`-pixel blocks to full resolution (GL
/// `LINEAR` + `CLAMP_TO_EDGE`, centres aligned): between samples k and k+1 lie the `f`
/// outputs from `f k + f / 2` on, at fractions `weights[j] = (j + f/2 + 0.5) / f - 0.5`.
#[inline(never)] // one call per frame (or row): keeps profiles readable
pub fn upsample_row(src: &[f32], f: usize, weights: &[f32], out: &mut [f32]) {
    let (n, w, h) = (src.len(), out.len(), f / 2);
    assert!(n >= 1 && weights.len() >= f);
    out[..h.min(w)].fill(src[0]);
    let mut x = h;
    #[allow(unused_mut)]
    let mut k = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if f.is_multiple_of(4) {
        // SAFETY: k + 1 < n, x + f <= w, j + 4 <= f <= weights.len().
        unsafe {
            let t0 = v128_load(weights.as_ptr() as *const v128);
            if f == 4 {
                // Four segments per step: a = src[k..k+4], d = src[k+1..k+5] - a, each
                // lane splatted in turn.
                while k + 5 <= n && x + 16 <= w {
                    let a = v128_load(src.as_ptr().add(k) as *const v128);
                    let d = f32x4_sub(v128_load(src.as_ptr().add(k + 1) as *const v128), a);
                    let po = out.as_mut_ptr().add(x) as *mut v128;
                    let seg = |va: v128, vd: v128| f32x4_add(va, f32x4_mul(t0, vd));
                    v128_store(
                        po,
                        seg(
                            i32x4_shuffle::<0, 0, 0, 0>(a, a),
                            i32x4_shuffle::<0, 0, 0, 0>(d, d),
                        ),
                    );
                    v128_store(
                        po.add(1),
                        seg(
                            i32x4_shuffle::<1, 1, 1, 1>(a, a),
                            i32x4_shuffle::<1, 1, 1, 1>(d, d),
                        ),
                    );
                    v128_store(
                        po.add(2),
                        seg(
                            i32x4_shuffle::<2, 2, 2, 2>(a, a),
                            i32x4_shuffle::<2, 2, 2, 2>(d, d),
                        ),
                    );
                    v128_store(
                        po.add(3),
                        seg(
                            i32x4_shuffle::<3, 3, 3, 3>(a, a),
                            i32x4_shuffle::<3, 3, 3, 3>(d, d),
                        ),
                    );
                    x += 16;
                    k += 4;
                }
            }
            while k + 1 < n && x + f <= w {
                let a = *src.get_unchecked(k);
                let (va, vd) = (f32x4_splat(a), f32x4_splat(*src.get_unchecked(k + 1) - a));
                let po = out.as_mut_ptr().add(x);
                v128_store(po as *mut v128, f32x4_add(va, f32x4_mul(t0, vd)));
                let mut j = 4;
                while j < f {
                    let t = v128_load(weights.as_ptr().add(j) as *const v128);
                    v128_store(po.add(j) as *mut v128, f32x4_add(va, f32x4_mul(t, vd)));
                    j += 4;
                }
                x += f;
                k += 1;
            }
        }
    }
    while k + 1 < n && x < w {
        let (a, d) = (src[k], src[k + 1] - src[k]);
        let end = (x + f).min(w);
        for (o, &t) in out[x..end].iter_mut().zip(weights) {
            *o = a + t * d;
        }
        x = end;
        k += 1;
    }
    if x < w {
        out[x..].fill(src[n - 1]);
    }
}

/// Horizontal box mean of four-channel pixels: `p` is the row with `r` replicated pixels
/// each side; `out[x] = sum(p[x..=x + 2r]) * norm`. Direct taps, not a running sum: the
/// windows are small and a running sum is one long chain of dependent additions.
pub fn box_row4(p: &[[f32; 4]], r: usize, norm: f32, out: &mut [[f32; 4]]) {
    let w = out.len();
    assert!(p.len() >= w + 2 * r);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: indices stay below w + 2r <= p.len(), and below w for out; [f32; 4] is
    // 16 contiguous bytes.
    unsafe {
        let (pp, po) = (p.as_ptr() as *const v128, out.as_mut_ptr() as *mut v128);
        let vn = f32x4_splat(norm);
        for x in 0..w {
            let mut sum = v128_load(pp.add(x));
            for i in 1..=2 * r {
                sum = f32x4_add(sum, v128_load(pp.add(x + i)));
            }
            v128_store(po.add(x), f32x4_mul(sum, vn));
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for x in 0..w {
        let mut sum = p[x];
        for v in &p[x + 1..=x + 2 * r] {
            (0..4).for_each(|c| sum[c] += v[c]);
        }
        out[x] = sum.map(|v| v * norm);
    }
}

/// One row of the guided filter's products, four channels per pixel, colour scaled by `k`:
/// `[r g b p] [rp gp bp rr] [rg rb gg gb] [bb 0 0 0]`.
pub fn products_row(rgb: [&[f32]; 3], p: &[f32], k: f32, out: [&mut [[f32; 4]]; 4]) {
    let w = p.len();
    let [o0, o1, o2, o3] = out;
    assert!(
        rgb.iter().all(|c| c.len() >= w)
            && o0.len() >= w
            && o1.len() >= w
            && o2.len() >= w
            && o3.len() >= w
    );
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: x + 4 <= w, within every slice (asserted); [f32; 4] is one v128.
    unsafe {
        let (vk, zero) = (f32x4_splat(k), f32x4_splat(0.0));
        let ld = |s: &[f32], x: usize| v128_load(s.as_ptr().add(x) as *const v128);
        let st = |o: &mut [[f32; 4]], x: usize, v: [v128; 4]| {
            let po = o.as_mut_ptr().add(x) as *mut v128;
            (0..4).for_each(|i| v128_store(po.add(i), v[i]));
        };
        while x + 4 <= w {
            let (r, g, b, m) = (
                f32x4_mul(ld(rgb[0], x), vk),
                f32x4_mul(ld(rgb[1], x), vk),
                f32x4_mul(ld(rgb[2], x), vk),
                ld(p, x),
            );
            st(o0, x, transpose([r, g, b, m]));
            st(
                o1,
                x,
                transpose([
                    f32x4_mul(r, m),
                    f32x4_mul(g, m),
                    f32x4_mul(b, m),
                    f32x4_mul(r, r),
                ]),
            );
            st(
                o2,
                x,
                transpose([
                    f32x4_mul(r, g),
                    f32x4_mul(r, b),
                    f32x4_mul(g, g),
                    f32x4_mul(g, b),
                ]),
            );
            st(o3, x, transpose([f32x4_mul(b, b), zero, zero, zero]));
            x += 4;
        }
    }
    for i in x..w {
        let (r, g, b, m) = (rgb[0][i] * k, rgb[1][i] * k, rgb[2][i] * k, p[i]);
        o0[i] = [r, g, b, m];
        o1[i] = [r * m, g * m, b * m, r * r];
        o2[i] = [r * g, r * b, g * g, g * b];
        o3[i] = [b * b, 0.0, 0.0, 0.0];
    }
}

/// 4x4 transpose: four vectors of one channel for 4 pixels <-> four pixels of 4 channels.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn transpose(v: [v128; 4]) -> [v128; 4] {
    let t0 = i32x4_shuffle::<0, 4, 1, 5>(v[0], v[1]);
    let t1 = i32x4_shuffle::<2, 6, 3, 7>(v[0], v[1]);
    let t2 = i32x4_shuffle::<0, 4, 1, 5>(v[2], v[3]);
    let t3 = i32x4_shuffle::<2, 6, 3, 7>(v[2], v[3]);
    [
        i32x4_shuffle::<0, 1, 4, 5>(t0, t2),
        i32x4_shuffle::<2, 3, 6, 7>(t0, t2),
        i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
        i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
    ]
}

/// The guided filter's local affine fit for a row, from the window means of the products
/// (`means` as written by `products_row`, box-filtered): `[a_r, a_g, a_b, b]` per pixel,
/// `a = (cov(I, I) + eps Id)^-1 cov(I, p)`, `b = mean(p) - a . mean(I)`.
pub fn fit_row(means: [&[[f32; 4]]; 4], eps: f32, out: &mut [[f32; 4]]) {
    let w = out.len();
    assert!(means.iter().all(|m| m.len() >= w));
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: x + 4 <= w, within every slice (asserted).
    unsafe {
        let ld = |m: &[[f32; 4]], x: usize| {
            let p = m.as_ptr().add(x) as *const v128;
            transpose([
                v128_load(p),
                v128_load(p.add(1)),
                v128_load(p.add(2)),
                v128_load(p.add(3)),
            ])
        };
        let (add, sub, mul) = (f32x4_add, f32x4_sub, f32x4_mul);
        let e = f32x4_splat(eps);
        while x + 4 <= w {
            let [mr, mg, mb, mp] = ld(means[0], x);
            let [rp, gp, bp, rr] = ld(means[1], x);
            let [rg, rb, gg, gb] = ld(means[2], x);
            let bb = ld(means[3], x)[0];
            let (s00, s01, s02) = (
                add(sub(rr, mul(mr, mr)), e),
                sub(rg, mul(mr, mg)),
                sub(rb, mul(mr, mb)),
            );
            let (s11, s12, s22) = (
                add(sub(gg, mul(mg, mg)), e),
                sub(gb, mul(mg, mb)),
                add(sub(bb, mul(mb, mb)), e),
            );
            let c = [
                sub(rp, mul(mr, mp)),
                sub(gp, mul(mg, mp)),
                sub(bp, mul(mb, mp)),
            ];
            let i00 = sub(mul(s11, s22), mul(s12, s12));
            let i01 = sub(mul(s02, s12), mul(s01, s22));
            let i02 = sub(mul(s01, s12), mul(s02, s11));
            let i11 = sub(mul(s00, s22), mul(s02, s02));
            let i12 = sub(mul(s01, s02), mul(s00, s12));
            let i22 = sub(mul(s00, s11), mul(s01, s01));
            let det = add(add(mul(s00, i00), mul(s01, i01)), mul(s02, i02));
            let inv_det = f32x4_div(f32x4_splat(1.0), det);
            let a0 = mul(
                add(add(mul(i00, c[0]), mul(i01, c[1])), mul(i02, c[2])),
                inv_det,
            );
            let a1 = mul(
                add(add(mul(i01, c[0]), mul(i11, c[1])), mul(i12, c[2])),
                inv_det,
            );
            let a2 = mul(
                add(add(mul(i02, c[0]), mul(i12, c[1])), mul(i22, c[2])),
                inv_det,
            );
            let b = sub(sub(sub(mp, mul(a0, mr)), mul(a1, mg)), mul(a2, mb));
            let o = transpose([a0, a1, a2, b]);
            let po = out.as_mut_ptr().add(x) as *mut v128;
            (0..4).for_each(|i| v128_store(po.add(i), o[i]));
            x += 4;
        }
    }
    for i in x..w {
        out[i] = fit(means[0][i], means[1][i], means[2][i], means[3][i][0], eps);
    }
}

#[inline(always)]
fn fit(m0: [f32; 4], m1: [f32; 4], m2: [f32; 4], bb: f32, eps: f32) -> [f32; 4] {
    let [mr, mg, mb, mp] = m0;
    let [rp, gp, bp, rr] = m1;
    let [rg, rb, gg, gb] = m2;
    // Covariance of the colour (+ eps on the diagonal) and with the mask.
    let (s00, s01, s02) = (rr - mr * mr + eps, rg - mr * mg, rb - mr * mb);
    let (s11, s12, s22) = (gg - mg * mg + eps, gb - mg * mb, bb - mb * mb + eps);
    let c = [rp - mr * mp, gp - mg * mp, bp - mb * mp];
    // S^-1 c by the adjugate; S is symmetric positive definite (eps > 0).
    let i00 = s11 * s22 - s12 * s12;
    let i01 = s02 * s12 - s01 * s22;
    let i02 = s01 * s12 - s02 * s11;
    let i11 = s00 * s22 - s02 * s02;
    let i12 = s01 * s02 - s00 * s12;
    let i22 = s00 * s11 - s01 * s01;
    let inv_det = 1.0 / (s00 * i00 + s01 * i01 + s02 * i02);
    let a0 = (i00 * c[0] + i01 * c[1] + i02 * c[2]) * inv_det;
    let a1 = (i01 * c[0] + i11 * c[1] + i12 * c[2]) * inv_det;
    let a2 = (i02 * c[0] + i12 * c[1] + i22 * c[2]) * inv_det;
    [a0, a1, a2, mp - a0 * mr - a1 * mg - a2 * mb]
}

/// The guided filter's final coefficients for a row: `coeffs = (a * scale, (b - low) *
/// stretch)` with `scale = stretch / 255` (colour in 0..255), the working-grid matte
/// `alpha = clamp(coeffs . (r, g, b, 1), 0, 1)` and each pixel's matte class.
pub fn coefficients_row(
    ab: &[[f32; 4]],
    rgb: [&[f32]; 3],
    low: f32,
    stretch: f32,
    coeffs: [&mut [f32]; 4],
    alpha: &mut [f32],
    class: &mut [u8],
) {
    let w = ab.len();
    let [c0, c1, c2, c3] = coeffs;
    assert!(rgb.iter().all(|c| c.len() >= w) && alpha.len() >= w && class.len() >= w);
    assert!(c0.len() >= w && c1.len() >= w && c2.len() >= w && c3.len() >= w);
    let scale = stretch / 255.0;
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: x + 4 <= w, within every slice (asserted).
    unsafe {
        let (vs, vst, vl) = (f32x4_splat(scale), f32x4_splat(stretch), f32x4_splat(low));
        let (zero, one, full) = (f32x4_splat(0.0), f32x4_splat(1.0), f32x4_splat(255.0));
        let ld = |s: &[f32], x: usize| v128_load(s.as_ptr().add(x) as *const v128);
        while x + 4 <= w {
            let p = ab.as_ptr().add(x) as *const v128;
            let [a0, a1, a2, b] = transpose([
                v128_load(p),
                v128_load(p.add(1)),
                v128_load(p.add(2)),
                v128_load(p.add(3)),
            ]);
            let (a0, a1, a2) = (f32x4_mul(a0, vs), f32x4_mul(a1, vs), f32x4_mul(a2, vs));
            let b = f32x4_mul(f32x4_sub(b, vl), vst);
            for (o, v) in [
                (&mut *c0, a0),
                (&mut *c1, a1),
                (&mut *c2, a2),
                (&mut *c3, b),
            ] {
                v128_store(o.as_mut_ptr().add(x) as *mut v128, v);
            }
            let q = f32x4_add(
                f32x4_add(
                    f32x4_add(f32x4_mul(a0, ld(rgb[0], x)), f32x4_mul(a1, ld(rgb[1], x))),
                    f32x4_mul(a2, ld(rgb[2], x)),
                ),
                b,
            );
            v128_store(
                alpha.as_mut_ptr().add(x) as *mut v128,
                f32x4_min(f32x4_max(q, zero), one),
            );
            let (mut lo, mut hi) = (b, b);
            for a in [a0, a1, a2] {
                lo = f32x4_add(lo, f32x4_mul(full, f32x4_min(a, zero)));
                hi = f32x4_add(hi, f32x4_mul(full, f32x4_max(a, zero)));
            }
            let person = f32x4_ge(lo, one);
            let background = f32x4_le(hi, zero);
            let cls = v128_bitselect(
                i32x4_splat(PERSON as i32),
                v128_bitselect(
                    i32x4_splat(BACKGROUND as i32),
                    i32x4_splat(EDGE as i32),
                    background,
                ),
                person,
            );
            class[x] = i32x4_extract_lane::<0>(cls) as u8;
            class[x + 1] = i32x4_extract_lane::<1>(cls) as u8;
            class[x + 2] = i32x4_extract_lane::<2>(cls) as u8;
            class[x + 3] = i32x4_extract_lane::<3>(cls) as u8;
            x += 4;
        }
    }
    for i in x..w {
        let [a0, a1, a2, b] = ab[i];
        let (a0, a1, a2, b) = (a0 * scale, a1 * scale, a2 * scale, (b - low) * stretch);
        c0[i] = a0;
        c1[i] = a1;
        c2[i] = a2;
        c3[i] = b;
        alpha[i] = (a0 * rgb[0][i] + a1 * rgb[1][i] + a2 * rgb[2][i] + b).clamp(0.0, 1.0);
        // The extremes of the affine function over the colour cube (0..255 per channel).
        let (mut lo, mut hi) = (b, b);
        for a in [a0, a1, a2] {
            lo += 255.0 * if a < 0.0 { a } else { 0.0 };
            hi += 255.0 * if a > 0.0 { a } else { 0.0 };
        }
        class[i] = if lo >= 1.0 {
            PERSON
        } else if hi <= 0.0 {
            BACKGROUND
        } else {
            EDGE
        };
    }
}

/// One row of a vertical running box mean: `out = sum * norm; sum += add - sub`.
pub fn box_column_step(
    sum: &mut [[f32; 4]],
    add: &[[f32; 4]],
    sub: &[[f32; 4]],
    norm: f32,
    out: &mut [[f32; 4]],
) {
    let w = out.len();
    assert!(sum.len() >= w && add.len() >= w && sub.len() >= w);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: x < w, within every slice.
    unsafe {
        let vn = f32x4_splat(norm);
        let ps = sum.as_mut_ptr() as *mut v128;
        for x in 0..w {
            let s = v128_load(ps.add(x));
            v128_store((out.as_mut_ptr() as *mut v128).add(x), f32x4_mul(s, vn));
            let d = f32x4_sub(
                v128_load((add.as_ptr() as *const v128).add(x)),
                v128_load((sub.as_ptr() as *const v128).add(x)),
            );
            v128_store(ps.add(x), f32x4_add(s, d));
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for x in 0..w {
        for c in 0..4 {
            out[x][c] = sum[x][c] * norm;
            sum[x][c] += add[x][c] - sub[x][c];
        }
    }
}

/// Adds one RGBA row (`sums.len()` bytes) into per-byte 16-bit column sums.
pub fn add_columns(row: &[u8], sums: &mut [u16]) {
    let n = sums.len();
    assert!(row.len() >= n);
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: i + 16 <= n: 16 bytes of row, 16 u16 of sums.
    unsafe {
        while i + 16 <= n {
            let v = v128_load(row.as_ptr().add(i) as *const v128);
            let p = sums.as_mut_ptr().add(i) as *mut v128;
            v128_store(p, i16x8_add(v128_load(p), u16x8_extend_low_u8x16(v)));
            v128_store(
                p.add(1),
                i16x8_add(v128_load(p.add(1)), u16x8_extend_high_u8x16(v)),
            );
            i += 16;
        }
    }
    for j in i..n {
        sums[j] += row[j] as u16;
    }
}

/// Averages blocks of `f` columns of RGBA column sums (of `rows` rows) into R, G, B rows.
pub fn block_means(sums: &[u16], f: usize, rows: usize, out: [&mut [f32]; 3]) {
    let width = sums.len() / 4;
    let [r, g, b] = out;
    let lw = r.len().min(g.len()).min(b.len());
    #[allow(unused_mut)]
    let mut lx = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if f == 4 {
        // SAFETY: 4 * lx + 4 <= width: 16 u16 of sums per block.
        unsafe {
            let norm = f32x4_splat(1.0 / (4 * rows) as f32);
            while lx < lw && 4 * lx + 4 <= width {
                let p = sums.as_ptr().add(16 * lx) as *const v128;
                let v = i16x8_add(v128_load(p), v128_load(p.add(1)));
                let v = i16x8_add(v, i16x8_shuffle::<4, 5, 6, 7, 0, 1, 2, 3>(v, v));
                let m = f32x4_mul(f32x4_convert_i32x4(u32x4_extend_low_u16x8(v)), norm);
                r[lx] = f32x4_extract_lane::<0>(m);
                g[lx] = f32x4_extract_lane::<1>(m);
                b[lx] = f32x4_extract_lane::<2>(m);
                lx += 1;
            }
        }
    }
    for x in lx..lw {
        let cols = x * f..((x + 1) * f).min(width);
        let norm = 1.0 / (rows * cols.len()) as f32;
        let mut s = [0u32; 3];
        for c in cols {
            for (k, v) in s.iter_mut().enumerate() {
                *v += sums[4 * c + k] as u32;
            }
        }
        r[x] = s[0] as f32 * norm;
        g[x] = s[1] as f32 * norm;
        b[x] = s[2] as f32 * norm;
    }
}

/// The matte: the guided filter's affine function of the pixel's colour.
#[inline(always)]
fn alpha_at(px: &[u8], k: &[Lerp; 4], x: usize) -> (f32, [f32; 3]) {
    let c = [px[0] as f32, px[1] as f32, px[2] as f32];
    let q = k[0].at(x) * c[0] + k[1].at(x) * c[1] + k[2].at(x) * c[2] + k[3].at(x);
    (q.clamp(0.0, 1.0), c)
}

/// The matte of one full-resolution row (diagnostics and tests; scalar only).
pub fn matte_row(frame: &[u8], k: [Lerp; 4], out: &mut [f32]) {
    for (x, o) in out.iter_mut().enumerate() {
        *o = alpha_at(&frame[4 * x..4 * x + 4], &k, x).0;
    }
}

#[inline(always)]
fn store(o: &mut [u8], c: [f32; 3]) {
    // `as u8` saturates, like the wasm kernels' saturating narrowing.
    o[0] = (c[0] + 0.5) as u8;
    o[1] = (c[1] + 0.5) as u8;
    o[2] = (c[2] + 0.5) as u8;
    o[3] = 255;
}

/// What the matte is over a group of 4 output pixels, known from the guided filter's
/// coefficients of every working-grid pixel the group interpolates from (see
/// `refine::GuidedRefiner::class`): background (alpha 0 whatever the colour), person
/// (alpha 1 whatever the colour), or edge (evaluate). Most groups are not edge, and their
/// pixels skip the matte: the full-resolution pass then costs a fraction.
pub const BACKGROUND: u8 = 0;
pub const PERSON: u8 = 1;
pub const EDGE: u8 = 2;

/// Blur mode, one full-resolution row: alpha from the guided-filter coefficients `k`
/// applied to the pixel's colour, then `bg + alpha * (frame - bg)`. `classes` holds one
/// class per group of 4 pixels.
pub fn composite_blur(frame: &[u8], k: [Lerp; 4], bg: [Lerp; 3], classes: &[u8], out: &mut [u8]) {
    let w = out.len() / 4;
    assert!(frame.len() >= 4 * w && classes.len() >= w.div_ceil(4));
    assert!(k
        .iter()
        .chain(&bg)
        .all(|l| l.r0.len() >= w && l.r1.len() >= w));
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: x + 4 <= w; frame and out hold 4 * w bytes, the planes w samples (asserted).
    unsafe {
        while x + 4 <= w {
            // The background groups (most of the frame) do not even read the frame.
            let px = || v128_load(frame.as_ptr().add(4 * x) as *const v128);
            let o = match *classes.get_unchecked(x / 4) {
                PERSON => v128_or(px(), u32x4_splat(0xff00_0000)),
                BACKGROUND => pack([lerp4(&bg[0], x), lerp4(&bg[1], x), lerp4(&bg[2], x)]),
                _ => {
                    let c = unpack(px());
                    let alpha = alpha4(c, &k, x);
                    let mut o = [f32x4_splat(0.0); 3];
                    for i in 0..3 {
                        let g = lerp4(&bg[i], x);
                        o[i] = f32x4_add(g, f32x4_mul(alpha, f32x4_sub(c[i], g)));
                    }
                    pack(o)
                }
            };
            v128_store(out.as_mut_ptr().add(4 * x) as *mut v128, o);
            x += 4;
        }
    }
    for i in x..w {
        let px = &frame[4 * i..4 * i + 4];
        let o = match classes[i / 4] {
            PERSON => [px[0] as f32, px[1] as f32, px[2] as f32],
            BACKGROUND => [bg[0].at(i), bg[1].at(i), bg[2].at(i)],
            _ => {
                let (alpha, c) = alpha_at(px, &k, i);
                let mut o = [0.0; 3];
                for j in 0..3 {
                    let g = bg[j].at(i);
                    o[j] = g + alpha * (c[j] - g);
                }
                o
            }
        };
        store(&mut out[4 * i..4 * i + 4], o);
    }
}

/// Image mode, one full-resolution row: the person, lit at the edge by the blurred image
/// (`wrap` = local background fraction), over the cover-fitted image.
pub fn composite_image(
    frame: &[u8],
    k: [Lerp; 4],
    wrap: Lerp,
    img: [&[u8]; 2],
    classes: &[u8],
    out: &mut [u8],
) {
    let w = out.len() / 4;
    let [img, img_blur] = img;
    assert!(frame.len() >= 4 * w && img.len() >= 4 * w && img_blur.len() >= 4 * w);
    assert!(classes.len() >= w.div_ceil(4));
    assert!(k
        .iter()
        .chain([&wrap])
        .all(|l| l.r0.len() >= w && l.r1.len() >= w));
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: as in composite_blur; img and img_blur hold 4 * w bytes (asserted).
    unsafe {
        let strength = f32x4_splat(LIGHT_WRAP);
        while x + 4 <= w {
            let class = *classes.get_unchecked(x / 4);
            let o = if class == BACKGROUND {
                v128_load(img.as_ptr().add(4 * x) as *const v128)
            } else {
                let c = unpack(v128_load(frame.as_ptr().add(4 * x) as *const v128));
                let ib = unpack(v128_load(img_blur.as_ptr().add(4 * x) as *const v128));
                let alpha = if class == PERSON {
                    f32x4_splat(1.0)
                } else {
                    alpha4(c, &k, x)
                };
                let lw = f32x4_mul(f32x4_mul(strength, alpha), lerp4(&wrap, x));
                let mut o = [f32x4_splat(0.0); 3];
                for j in 0..3 {
                    let person = f32x4_add(c[j], f32x4_mul(lw, f32x4_sub(ib[j], c[j])));
                    o[j] = if class == PERSON {
                        person
                    } else {
                        let i = unpack(v128_load(img.as_ptr().add(4 * x) as *const v128))[j];
                        f32x4_add(i, f32x4_mul(alpha, f32x4_sub(person, i)))
                    };
                }
                pack(o)
            };
            v128_store(out.as_mut_ptr().add(4 * x) as *mut v128, o);
            x += 4;
        }
    }
    for p in x..w {
        let class = classes[p / 4];
        if class == BACKGROUND {
            out[4 * p..4 * p + 3].copy_from_slice(&img[4 * p..4 * p + 3]);
            out[4 * p + 3] = 255;
            continue;
        }
        let (alpha, c) = if class == PERSON {
            let px = &frame[4 * p..4 * p + 4];
            (1.0, [px[0] as f32, px[1] as f32, px[2] as f32])
        } else {
            alpha_at(&frame[4 * p..4 * p + 4], &k, p)
        };
        let lw = LIGHT_WRAP * alpha * wrap.at(p);
        let mut o = [0.0; 3];
        for j in 0..3 {
            let person = c[j] + lw * (img_blur[4 * p + j] as f32 - c[j]);
            o[j] = if class == PERSON {
                person
            } else {
                let i = img[4 * p + j] as f32;
                i + alpha * (person - i)
            };
        }
        store(&mut out[4 * p..4 * p + 4], o);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn unpack(v: v128) -> [v128; 3] {
    let m = u32x4_splat(0xff);
    [
        f32x4_convert_i32x4(v128_and(v, m)),
        f32x4_convert_i32x4(v128_and(u32x4_shr(v, 8), m)),
        f32x4_convert_i32x4(v128_and(u32x4_shr(v, 16), m)),
    ]
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn pack(o: [v128; 3]) -> v128 {
    // Round, then saturating narrowing (as the scalar `as u8`): [r0..r3 g0..g3 b0..b3
    // 255 x4] as bytes, then interleaved to RGBA.
    let half = f32x4_splat(0.5);
    let q = |v: v128| i32x4_trunc_sat_f32x4(f32x4_add(v, half));
    let rg = i16x8_narrow_i32x4(q(o[0]), q(o[1]));
    let ba = i16x8_narrow_i32x4(q(o[2]), i32x4_splat(255));
    let planar = u8x16_narrow_i16x8(rg, ba);
    i8x16_shuffle::<0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15>(planar, planar)
}

/// Lanes x..x+4 of a `Lerp`.
///
/// # Safety
/// `x + 4 <= r0.len()` and `<= r1.len()`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn lerp4(l: &Lerp, x: usize) -> v128 {
    let a = v128_load(l.r0.as_ptr().add(x) as *const v128);
    let b = v128_load(l.r1.as_ptr().add(x) as *const v128);
    f32x4_add(a, f32x4_mul(f32x4_splat(l.f), f32x4_sub(b, a)))
}

/// # Safety
/// As `lerp4`, for each of `k`.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn alpha4(c: [v128; 3], k: &[Lerp; 4], x: usize) -> v128 {
    let q = f32x4_add(
        f32x4_add(
            f32x4_add(
                f32x4_mul(lerp4(&k[0], x), c[0]),
                f32x4_mul(lerp4(&k[1], x), c[1]),
            ),
            f32x4_mul(lerp4(&k[2], x), c[2]),
        ),
        lerp4(&k[3], x),
    );
    f32x4_min(f32x4_max(q, f32x4_splat(0.0)), f32x4_splat(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The class shortcuts give the pixels the full evaluation gives.
    #[test]
    fn class_shortcuts_match_the_full_matte() {
        let w = 67;
        let mut seed = 1u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32
        };
        let frame: Vec<u8> = (0..4 * w).map(|_| (rnd() * 255.0) as u8).collect();
        let img: Vec<u8> = (0..4 * w)
            .map(|i| {
                if i % 4 == 3 {
                    255
                } else {
                    (rnd() * 255.0) as u8
                }
            })
            .collect();
        let img_blur: Vec<u8> = (0..4 * w).map(|_| (rnd() * 255.0) as u8).collect();
        // Coefficient rows: stretches of person (offset >= 1 + any colour term), background
        // and edge, per group of 4.
        let kind = |x: usize| (x / 4) % 3;
        let mut rows = vec![vec![0.0f32; w]; 8];
        #[allow(clippy::needless_range_loop)]
        for x in 0..w {
            for r in 0..2 {
                let a = [
                    (rnd() - 0.5) * 0.002,
                    (rnd() - 0.5) * 0.002,
                    (rnd() - 0.5) * 0.002,
                ];
                let b = match kind(x) {
                    0 => -1.0 - rnd(),
                    1 => 2.0 + rnd(),
                    _ => 0.5 + (rnd() - 0.5) * 0.2,
                };
                for c in 0..3 {
                    rows[2 * c + r][x] = a[c];
                }
                rows[6 + r][x] = b;
            }
        }
        let lerp = |c: usize| Lerp {
            r0: &rows[2 * c],
            r1: &rows[2 * c + 1],
            f: 0.3,
        };
        let k = [lerp(0), lerp(1), lerp(2), lerp(3)];
        let bg_rows: Vec<Vec<f32>> = (0..6)
            .map(|_| (0..w).map(|_| rnd() * 255.0).collect())
            .collect();
        let bg = [0, 1, 2].map(|c| Lerp {
            r0: &bg_rows[2 * c],
            r1: &bg_rows[2 * c + 1],
            f: 0.6,
        });
        let classes: Vec<u8> = (0..w.div_ceil(4))
            .map(|g| [BACKGROUND, PERSON, EDGE][g % 3])
            .collect();
        let all_edge = vec![EDGE; w.div_ceil(4)];
        let (mut a, mut b) = (vec![0u8; 4 * w], vec![0u8; 4 * w]);
        composite_blur(&frame, k, bg, &classes, &mut a);
        composite_blur(&frame, k, bg, &all_edge, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1));
        let wrap = Lerp {
            r0: &bg_rows[0],
            r1: &bg_rows[1],
            f: 0.5,
        };
        let wrap_rows: Vec<f32> = wrap.r0.iter().map(|v| v / 255.0).collect();
        let wrap = Lerp {
            r0: &wrap_rows,
            r1: &wrap_rows,
            f: 0.0,
        };
        composite_image(&frame, k, wrap, [&img, &img_blur], &classes, &mut a);
        composite_image(&frame, k, wrap, [&img, &img_blur], &all_edge, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1));
    }
}
