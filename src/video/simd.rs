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

/// `out[x] = sum_i k[i] * p[x + i]`, `p` holding `out.len() + k.len() - 1` samples.
pub fn convolve_row(p: &[f32], k: &[f32], out: &mut [f32]) {
    let w = out.len();
    assert!(p.len() + 1 >= w + k.len());
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: every load reads p[x + i .. x + i + 4] with x + 4 <= w and i < k.len(),
    // inside p by the assertion; stores stay inside out.
    unsafe {
        while x + 4 <= w {
            let mut acc = f32x4_splat(0.0);
            for (i, &ki) in k.iter().enumerate() {
                let v = v128_load(p.as_ptr().add(x + i) as *const v128);
                acc = f32x4_add(acc, f32x4_mul(f32x4_splat(ki), v));
            }
            v128_store(out.as_mut_ptr().add(x) as *mut v128, acc);
            x += 4;
        }
    }
    for (j, o) in out.iter_mut().enumerate().skip(x) {
        let mut acc = 0.0;
        for (i, &ki) in k.iter().enumerate() {
            acc += ki * p[j + i];
        }
        *o = acc;
    }
}

/// `y += a * x`.
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    #[allow(unused_mut)]
    let mut i = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: i + 4 <= n, within both slices.
    unsafe {
        let va = f32x4_splat(a);
        while i + 4 <= n {
            let px = x.as_ptr().add(i) as *const v128;
            let py = y.as_mut_ptr().add(i) as *mut v128;
            v128_store(py, f32x4_add(v128_load(py), f32x4_mul(va, v128_load(px))));
            i += 4;
        }
    }
    for j in i..n {
        y[j] += a * x[j];
    }
}

/// Adds one RGBA row (`4 * sums[0].len()` bytes) into per-column R, G, B sums.
pub fn add_columns(row: &[u8], sums: [&mut [u32]; 3]) {
    let [r, g, b] = sums;
    let n = r.len().min(g.len()).min(b.len()).min(row.len() / 4);
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: x + 4 <= n: 16 bytes of row and 4 u32 of each sum row.
    unsafe {
        let m = u32x4_splat(0xff);
        while x + 4 <= n {
            let v = v128_load(row.as_ptr().add(4 * x) as *const v128);
            for (s, sh) in [(r.as_mut_ptr(), 0), (g.as_mut_ptr(), 8), (b.as_mut_ptr(), 16)] {
                let p = s.add(x) as *mut v128;
                v128_store(p, u32x4_add(v128_load(p), v128_and(u32x4_shr(v, sh), m)));
            }
            x += 4;
        }
    }
    for i in x..n {
        r[i] += row[4 * i] as u32;
        g[i] += row[4 * i + 1] as u32;
        b[i] += row[4 * i + 2] as u32;
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

/// Blur mode, one full-resolution row: alpha from the guided-filter coefficients `k`
/// applied to the pixel's colour, then `bg + alpha * (frame - bg)`.
pub fn composite_blur(frame: &[u8], k: [Lerp; 4], bg: [Lerp; 3], out: &mut [u8]) {
    let w = out.len() / 4;
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: x + 4 <= w; frame and out hold 4 * w bytes, the planes w samples
    // (checked by the caller's slicing).
    unsafe {
        assert!(frame.len() >= 4 * w);
        assert!(k.iter().chain(&bg).all(|l| l.r0.len() >= w && l.r1.len() >= w));
        while x + 4 <= w {
            let v = v128_load(frame.as_ptr().add(4 * x) as *const v128);
            let c = unpack(v);
            let alpha = alpha4(c, &k, x);
            let mut o = [f32x4_splat(0.0); 3];
            for k in 0..3 {
                let g = lerp4(&bg[k], x);
                o[k] = f32x4_add(g, f32x4_mul(alpha, f32x4_sub(c[k], g)));
            }
            v128_store(out.as_mut_ptr().add(4 * x) as *mut v128, pack(o));
            x += 4;
        }
    }
    for i in x..w {
        let (alpha, c) = alpha_at(&frame[4 * i..4 * i + 4], &k, i);
        let mut o = [0.0; 3];
        for k in 0..3 {
            let g = bg[k].at(i);
            o[k] = g + alpha * (c[k] - g);
        }
        store(&mut out[4 * i..4 * i + 4], o);
    }
}

/// Image mode, one full-resolution row: the person, lit at the edge by the blurred image
/// (`wrap` = local background fraction), over the cover-fitted image.
pub fn composite_image(frame: &[u8], k: [Lerp; 4], wrap: Lerp, img: &[u8], img_blur: &[u8], out: &mut [u8]) {
    let w = out.len() / 4;
    #[allow(unused_mut)]
    let mut x = 0;
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    // SAFETY: as in composite_blur; img and img_blur hold 4 * w bytes.
    unsafe {
        assert!(frame.len() >= 4 * w && img.len() >= 4 * w && img_blur.len() >= 4 * w);
        assert!(k.iter().chain([&wrap]).all(|l| l.r0.len() >= w && l.r1.len() >= w));
        let strength = f32x4_splat(LIGHT_WRAP);
        while x + 4 <= w {
            let c = unpack(v128_load(frame.as_ptr().add(4 * x) as *const v128));
            let i = unpack(v128_load(img.as_ptr().add(4 * x) as *const v128));
            let ib = unpack(v128_load(img_blur.as_ptr().add(4 * x) as *const v128));
            let alpha = alpha4(c, &k, x);
            let lw = f32x4_mul(f32x4_mul(strength, alpha), lerp4(&wrap, x));
            let mut o = [f32x4_splat(0.0); 3];
            for k in 0..3 {
                let person = f32x4_add(c[k], f32x4_mul(lw, f32x4_sub(ib[k], c[k])));
                o[k] = f32x4_add(i[k], f32x4_mul(alpha, f32x4_sub(person, i[k])));
            }
            v128_store(out.as_mut_ptr().add(4 * x) as *mut v128, pack(o));
            x += 4;
        }
    }
    for p in x..w {
        let (alpha, c) = alpha_at(&frame[4 * p..4 * p + 4], &k, p);
        let lw = LIGHT_WRAP * alpha * wrap.at(p);
        let mut o = [0.0; 3];
        for k in 0..3 {
            let i = img[4 * p + k] as f32;
            let person = c[k] + lw * (img_blur[4 * p + k] as f32 - c[k]);
            o[k] = i + alpha * (person - i);
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
    let half = f32x4_splat(0.5);
    let (zero, max) = (i32x4_splat(0), i32x4_splat(255));
    let q = |v: v128| i32x4_min(i32x4_max(i32x4_trunc_sat_f32x4(f32x4_add(v, half)), zero), max);
    let rgb = v128_or(v128_or(q(o[0]), i32x4_shl(q(o[1]), 8)), i32x4_shl(q(o[2]), 16));
    v128_or(rgb, u32x4_splat(0xff00_0000))
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
            f32x4_add(f32x4_mul(lerp4(&k[0], x), c[0]), f32x4_mul(lerp4(&k[1], x), c[1])),
            f32x4_mul(lerp4(&k[2], x), c[2]),
        ),
        lerp4(&k[3], x),
    );
    f32x4_min(f32x4_max(q, f32x4_splat(0.0)), f32x4_splat(1.0))
}
