//! `F4`: four f32 lanes (and `I4`, four i32 lanes for i16 dot products). On wasm32 with `simd128` it is a `v128`; elsewhere a `[f32; 4]` whose
//! lane-wise loops the compiler vectorises. Kernels are written once against this type, so
//! native tests exercise exactly the arithmetic the browser runs (multiply then add, no FMA).

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub fn splat(x: f32) -> F4 {
            F4(f32x4_splat(x))
        }
        /// Loads lanes `s[i..i + 4]` (panics, not UB, if out of range).
        #[inline(always)]
        pub fn load(s: &[f32], i: usize) -> F4 {
            let a: &[f32; 4] = s[i..i + 4].try_into().unwrap();
            // SAFETY: `a` is 16 readable bytes; v128_load has no alignment requirement.
            F4(unsafe { v128_load(a.as_ptr() as *const v128) })
        }
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F4 {
            debug_assert!(i + 4 <= s.len());
            F4(v128_load(s.as_ptr().add(i) as *const v128))
        }
        #[inline(always)]
        pub fn store(self, s: &mut [f32], i: usize) {
            let a: &mut [f32; 4] = (&mut s[i..i + 4]).try_into().unwrap();
            // SAFETY: `a` is 16 writable bytes; v128_store has no alignment requirement.
            unsafe { v128_store(a.as_mut_ptr() as *mut v128, self.0) }
        }
        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            F4(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn mul(self, o: F4) -> F4 {
            F4(f32x4_mul(self.0, o.0))
        }
        /// `self * b + c`.
        #[inline(always)]
        pub fn mul_add(self, b: F4, c: F4) -> F4 {
            F4(f32x4_add(f32x4_mul(self.0, b.0), c.0))
        }
        #[inline(always)]
        pub fn div(self, o: F4) -> F4 {
            F4(f32x4_div(self.0, o.0))
        }
        /// Lane `L` in all four lanes.
        #[inline(always)]
        pub fn lane<const L: usize>(self) -> F4 {
            F4(match L {
                0 => i32x4_shuffle::<0, 0, 0, 0>(self.0, self.0),
                1 => i32x4_shuffle::<1, 1, 1, 1>(self.0, self.0),
                2 => i32x4_shuffle::<2, 2, 2, 2>(self.0, self.0),
                _ => i32x4_shuffle::<3, 3, 3, 3>(self.0, self.0),
            })
        }
        /// Rounds to the nearest integer (ties to even).
        #[inline(always)]
        pub fn round(self) -> F4 {
            F4(f32x4_nearest(self.0))
        }
        /// 2^n for lanes holding whole numbers n in [-126, 127].
        #[inline(always)]
        pub fn pow2i(self) -> F4 {
            F4(i32x4_shl(
                i32x4_add(i32x4_trunc_sat_f32x4(self.0), i32x4_splat(127)),
                23,
            ))
        }
        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            F4(f32x4_pmax(self.0, o.0))
        }
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            F4(f32x4_pmin(self.0, o.0))
        }
    }

    /// Four i32 lanes, for integer dot products (`i32x4.dot_i16x8_s`).
    #[derive(Clone, Copy)]
    pub struct I4(v128);

    impl I4 {
        #[inline(always)]
        pub fn zero() -> I4 {
            I4(i32x4_splat(0))
        }
        /// Two i16 values (`lo`, `hi`) in every lane, the operand of `dot`.
        #[inline(always)]
        pub fn splat_pair(lo: i16, hi: i16) -> I4 {
            I4(i32x4_splat(
                (lo as u16 as u32 | ((hi as u16 as u32) << 16)) as i32,
            ))
        }
        /// `self + [a0 b0 + a1 b1, a2 b2 + a3 b3, ...]` for `a` = `s[i..i + 8]` and `b` = `pair`.
        #[inline(always)]
        pub fn dot_add(self, s: &[i16], i: usize, pair: I4) -> I4 {
            let a: &[i16; 8] = s[i..i + 8].try_into().unwrap();
            // SAFETY: `a` is 16 readable bytes; v128_load has no alignment requirement.
            let w = unsafe { v128_load(a.as_ptr() as *const v128) };
            I4(i32x4_add(self.0, i32x4_dot_i16x8(w, pair.0)))
        }
        #[inline(always)]
        pub fn to_f4(self) -> F4 {
            F4(f32x4_convert_i32x4(self.0))
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    #[derive(Clone, Copy)]
    pub struct F4([f32; 4]);

    #[inline(always)]
    fn map2(a: [f32; 4], b: [f32; 4], f: impl Fn(f32, f32) -> f32) -> F4 {
        F4([f(a[0], b[0]), f(a[1], b[1]), f(a[2], b[2]), f(a[3], b[3])])
    }

    impl F4 {
        #[inline(always)]
        pub fn splat(x: f32) -> F4 {
            F4([x; 4])
        }
        #[inline(always)]
        pub fn load(s: &[f32], i: usize) -> F4 {
            F4(s[i..i + 4].try_into().unwrap())
        }
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F4 {
            debug_assert!(i + 4 <= s.len());
            F4(*(s.as_ptr().add(i) as *const [f32; 4]))
        }
        #[inline(always)]
        pub fn store(self, s: &mut [f32], i: usize) {
            s[i..i + 4].copy_from_slice(&self.0);
        }
        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| a + b)
        }
        #[inline(always)]
        pub fn mul(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| a * b)
        }
        #[inline(always)]
        pub fn mul_add(self, b: F4, c: F4) -> F4 {
            self.mul(b).add(c)
        }
        #[inline(always)]
        pub fn div(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| a / b)
        }
        #[inline(always)]
        pub fn lane<const L: usize>(self) -> F4 {
            F4([self.0[L]; 4])
        }
        #[inline(always)]
        pub fn round(self) -> F4 {
            F4(self.0.map(f32::round_ties_even))
        }
        #[inline(always)]
        pub fn pow2i(self) -> F4 {
            F4(self
                .0
                .map(|n| f32::from_bits(((n as i32 + 127) as u32) << 23)))
        }
        /// Like wasm's `pmax`: `a < b ? b : a`.
        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| if a < b { b } else { a })
        }
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| if b < a { b } else { a })
        }
    }

    /// Four i32 lanes, for integer dot products (wasm's `i32x4.dot_i16x8_s`).
    #[derive(Clone, Copy)]
    pub struct I4([i32; 4]);

    impl I4 {
        #[inline(always)]
        pub fn zero() -> I4 {
            I4([0; 4])
        }
        #[inline(always)]
        pub fn splat_pair(lo: i16, hi: i16) -> I4 {
            I4([(lo as u16 as u32 | ((hi as u16 as u32) << 16)) as i32; 4])
        }
        #[inline(always)]
        pub fn dot_add(self, s: &[i16], i: usize, pair: I4) -> I4 {
            let a: &[i16; 8] = s[i..i + 8].try_into().unwrap();
            let (lo, hi) = (pair.0[0] as i16 as i32, (pair.0[0] >> 16) as i16 as i32);
            let mut r = self.0;
            for (l, r) in r.iter_mut().enumerate() {
                *r = r.wrapping_add(a[2 * l] as i32 * lo + a[2 * l + 1] as i32 * hi);
            }
            I4(r)
        }
        #[inline(always)]
        pub fn to_f4(self) -> F4 {
            F4(self.0.map(|v| v as f32))
        }
    }
}

pub use imp::{F4, I4};

/// e^x for x in [-87, 88] (callers clamp): x = n ln2 + r with |r| <= ln2 / 2, e^r by its
/// degree-6 Taylor polynomial (relative error < 2e-7), times 2^n built from the exponent bits.
#[inline(always)]
pub fn exp(x: F4) -> F4 {
    let n = x.mul(F4::splat(std::f32::consts::LOG2_E)).round();
    // ln 2 split in two so r stays exact to float precision (Cody and Waite).
    let r = n.mul(F4::splat(-0.693_359_4)).add(x);
    let r = n.mul(F4::splat(2.121_944_4e-4)).add(r);
    let mut p = F4::splat(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = p.mul_add(r, F4::splat(c));
    }
    p.mul(n.pow2i())
}

/// `I16x8`: eight i16 lanes, the integer cousin of `F4` for byte-valued pixels (8 pixels per
/// vector where `F4` does 4). Same rule: a kernel is written once against it; on wasm32 with
/// `simd128` it is a `v128`, elsewhere an array whose lane loops do the same arithmetic.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp16 {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    pub struct I16x8(v128);

    impl I16x8 {
        #[inline(always)]
        pub fn splat(x: i16) -> I16x8 {
            I16x8(i16x8_splat(x))
        }
        /// Bytes `s[i..i + 8]`, zero-extended.
        #[inline(always)]
        pub fn load_u8(s: &[u8], i: usize) -> I16x8 {
            let a: &[u8; 8] = s[i..i + 8].try_into().unwrap();
            // SAFETY: `a` is 8 readable bytes; no alignment requirement.
            I16x8(unsafe { u16x8_load_extend_u8x8(a.as_ptr()) })
        }
        /// Bytes `s[i..i + 4]` each repeated twice (a 2x-subsampled chroma row, nearest).
        #[inline(always)]
        pub fn load_u8_doubled(s: &[u8], i: usize) -> I16x8 {
            let a: &[u8; 4] = s[i..i + 4].try_into().unwrap();
            let v = u32x4_splat(u32::from_le_bytes(*a));
            let z = u32x4_splat(0);
            I16x8(i8x16_shuffle::<
                0,
                16,
                0,
                16,
                1,
                16,
                1,
                16,
                2,
                16,
                2,
                16,
                3,
                16,
                3,
                16,
            >(v, z))
        }
        /// Bytes `s[i..i + 8]` as 4 interleaved pairs (NV12's U V U V...): (first of each
        /// pair, second of each pair), each repeated twice.
        #[inline(always)]
        pub fn load_u8_pairs_doubled(s: &[u8], i: usize) -> (I16x8, I16x8) {
            let a: &[u8; 8] = s[i..i + 8].try_into().unwrap();
            let v = u64x2_splat(u64::from_le_bytes(*a));
            let z = u32x4_splat(0);
            (
                I16x8(i8x16_shuffle::<
                    0,
                    16,
                    0,
                    16,
                    2,
                    16,
                    2,
                    16,
                    4,
                    16,
                    4,
                    16,
                    6,
                    16,
                    6,
                    16,
                >(v, z)),
                I16x8(i8x16_shuffle::<
                    1,
                    16,
                    1,
                    16,
                    3,
                    16,
                    3,
                    16,
                    5,
                    16,
                    5,
                    16,
                    7,
                    16,
                    7,
                    16,
                >(v, z)),
            )
        }
        #[inline(always)]
        pub fn add(self, o: I16x8) -> I16x8 {
            I16x8(i16x8_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: I16x8) -> I16x8 {
            I16x8(i16x8_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn shl<const N: u32>(self) -> I16x8 {
            I16x8(i16x8_shl(self.0, N))
        }
        /// Arithmetic shift right.
        #[inline(always)]
        pub fn shr<const N: u32>(self) -> I16x8 {
            I16x8(i16x8_shr(self.0, N))
        }
        /// Q15 product, rounded and saturated: `(a * b + 2^14) >> 15`.
        #[inline(always)]
        pub fn mul_q15(self, o: I16x8) -> I16x8 {
            I16x8(i16x8_q15mulr_sat(self.0, o.0))
        }
        /// Stores 8 RGBA pixels (32 bytes at `out[i..]`), each channel saturated to 0..255,
        /// alpha 255.
        #[inline(always)]
        pub fn store_rgba(r: I16x8, g: I16x8, b: I16x8, out: &mut [u8], i: usize) {
            let o: &mut [u8; 32] = (&mut out[i..i + 32]).try_into().unwrap();
            let rg = u8x16_narrow_i16x8(r.0, g.0);
            let ba = u8x16_narrow_i16x8(b.0, i16x8_splat(255));
            let lo =
                i8x16_shuffle::<0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27>(rg, ba);
            let hi =
                i8x16_shuffle::<4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31>(rg, ba);
            // SAFETY: `o` is 32 writable bytes; no alignment requirement.
            unsafe {
                v128_store(o.as_mut_ptr() as *mut v128, lo);
                v128_store(o.as_mut_ptr().add(16) as *mut v128, hi);
            }
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp16 {
    #[derive(Clone, Copy)]
    pub struct I16x8([i16; 8]);

    #[inline(always)]
    fn map2(a: [i16; 8], b: [i16; 8], f: impl Fn(i16, i16) -> i16) -> I16x8 {
        I16x8(core::array::from_fn(|k| f(a[k], b[k])))
    }

    impl I16x8 {
        #[inline(always)]
        pub fn splat(x: i16) -> I16x8 {
            I16x8([x; 8])
        }
        #[inline(always)]
        pub fn load_u8(s: &[u8], i: usize) -> I16x8 {
            let a = &s[i..i + 8];
            I16x8(core::array::from_fn(|k| a[k] as i16))
        }
        #[inline(always)]
        pub fn load_u8_doubled(s: &[u8], i: usize) -> I16x8 {
            let a = &s[i..i + 4];
            I16x8(core::array::from_fn(|k| a[k / 2] as i16))
        }
        #[inline(always)]
        pub fn load_u8_pairs_doubled(s: &[u8], i: usize) -> (I16x8, I16x8) {
            let a = &s[i..i + 8];
            (
                I16x8(core::array::from_fn(|k| a[k / 2 * 2] as i16)),
                I16x8(core::array::from_fn(|k| a[k / 2 * 2 + 1] as i16)),
            )
        }
        #[inline(always)]
        pub fn add(self, o: I16x8) -> I16x8 {
            map2(self.0, o.0, i16::wrapping_add)
        }
        #[inline(always)]
        pub fn sub(self, o: I16x8) -> I16x8 {
            map2(self.0, o.0, i16::wrapping_sub)
        }
        #[inline(always)]
        pub fn shl<const N: u32>(self) -> I16x8 {
            I16x8(self.0.map(|a| a.wrapping_shl(N)))
        }
        #[inline(always)]
        pub fn shr<const N: u32>(self) -> I16x8 {
            I16x8(self.0.map(|a| a >> N))
        }
        #[inline(always)]
        pub fn mul_q15(self, o: I16x8) -> I16x8 {
            map2(self.0, o.0, |a, b| {
                ((a as i32 * b as i32 + 0x4000) >> 15).clamp(i16::MIN as i32, i16::MAX as i32)
                    as i16
            })
        }
        #[inline(always)]
        pub fn store_rgba(r: I16x8, g: I16x8, b: I16x8, out: &mut [u8], i: usize) {
            let o = &mut out[i..i + 32];
            for k in 0..8 {
                let px = &mut o[4 * k..4 * k + 4];
                px[0] = r.0[k].clamp(0, 255) as u8;
                px[1] = g.0[k].clamp(0, 255) as u8;
                px[2] = b.0[k].clamp(0, 255) as u8;
                px[3] = 255;
            }
        }
    }
}

pub use imp16::I16x8;
