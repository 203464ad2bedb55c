//! The crate's one SIMD abstraction: `F4` (four f32 lanes), `I4` (four i32 lanes, for i16 dot
//! products), `I16x8` (eight i16 lanes, for byte-valued pixels) and `Rgba4` (four RGBA
//! pixels, unpacked to and packed from `F4` channels). On wasm32 with `simd128`
//! each is a `v128`; elsewhere an array whose lane-wise loops the compiler vectorises. Every
//! kernel (nn, audio, video) is written once against these types, so native tests exercise
//! exactly the arithmetic the browser runs: each operation is the same IEEE operation lane by
//! lane (multiply then add, no FMA; `min`/`max` are wasm's `pmin`/`pmax`; conversions
//! saturate as wasm's do). The kernels' only `unsafe` code lives here, apart from the nn
//! depthwise kernel's calls to `F4::load_unchecked` (under their SAFETY notes).
//!
//! Speed: a load from a slice is bounds-checked unless the compiler can see it is in range,
//! and in wasm a check in an inner loop costs about as much as the arithmetic. So kernels
//! iterate over zipped `as_chunks` groups (`video::plane`'s convolution runs tap by tap over
//! whole rows for that reason) rather than indexing with computed offsets.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct F4(v128);

    impl F4 {
        #[inline(always)]
        pub fn splat(x: f32) -> F4 {
            F4(f32x4_splat(x))
        }
        #[inline(always)]
        pub fn new(a: [f32; 4]) -> F4 {
            F4(f32x4(a[0], a[1], a[2], a[3]))
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            let v = self.0;
            [
                f32x4_extract_lane::<0>(v),
                f32x4_extract_lane::<1>(v),
                f32x4_extract_lane::<2>(v),
                f32x4_extract_lane::<3>(v),
            ]
        }
        /// One vector load (what `new(*a)` may not compile to).
        #[inline(always)]
        pub fn from_ref(a: &[f32; 4]) -> F4 {
            // SAFETY: `a` is 16 readable bytes; v128_load has no alignment requirement.
            F4(unsafe { v128_load(a.as_ptr() as *const v128) })
        }
        #[inline(always)]
        pub fn write_to(self, o: &mut [f32; 4]) {
            // SAFETY: `o` is 16 writable bytes; v128_store has no alignment requirement.
            unsafe { v128_store(o.as_mut_ptr() as *mut v128, self.0) }
        }
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F4 {
            debug_assert!(i + 4 <= s.len());
            F4(v128_load(s.as_ptr().add(i) as *const v128))
        }
        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            F4(f32x4_add(self.0, o.0))
        }
        #[inline(always)]
        pub fn sub(self, o: F4) -> F4 {
            F4(f32x4_sub(self.0, o.0))
        }
        #[inline(always)]
        pub fn mul(self, o: F4) -> F4 {
            F4(f32x4_mul(self.0, o.0))
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
        /// `self < o ? o : self` (wasm `pmax`).
        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            F4(f32x4_pmax(self.0, o.0))
        }
        /// `o < self ? o : self` (wasm `pmin`).
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            F4(f32x4_pmin(self.0, o.0))
        }
        /// 4x4 transpose: four vectors of one channel for 4 pixels <-> 4 pixels of four
        /// channels.
        #[inline(always)]
        pub fn transpose(v: [F4; 4]) -> [F4; 4] {
            let t0 = i32x4_shuffle::<0, 4, 1, 5>(v[0].0, v[1].0);
            let t1 = i32x4_shuffle::<2, 6, 3, 7>(v[0].0, v[1].0);
            let t2 = i32x4_shuffle::<0, 4, 1, 5>(v[2].0, v[3].0);
            let t3 = i32x4_shuffle::<2, 6, 3, 7>(v[2].0, v[3].0);
            [
                F4(i32x4_shuffle::<0, 1, 4, 5>(t0, t2)),
                F4(i32x4_shuffle::<2, 3, 6, 7>(t0, t2)),
                F4(i32x4_shuffle::<0, 1, 4, 5>(t1, t3)),
                F4(i32x4_shuffle::<2, 3, 6, 7>(t1, t3)),
            ]
        }
    }

    /// Four RGBA pixels (16 bytes).
    #[derive(Clone, Copy)]
    #[repr(transparent)]
    pub struct Rgba4(v128);

    impl Rgba4 {
        #[inline(always)]
        pub fn from_ref(a: &[u8; 16]) -> Rgba4 {
            // SAFETY: `a` is 16 readable bytes; v128_load has no alignment requirement.
            Rgba4(unsafe { v128_load(a.as_ptr() as *const v128) })
        }
        #[inline(always)]
        pub fn write_to(self, o: &mut [u8; 16]) {
            // SAFETY: `o` is 16 writable bytes; v128_store has no alignment requirement.
            unsafe { v128_store(o.as_mut_ptr() as *mut v128, self.0) }
        }
        /// From the pixels as little-endian u32 (R in the low byte).
        #[inline(always)]
        pub fn from_pixels(p: [u32; 4]) -> Rgba4 {
            Rgba4(u32x4(p[0], p[1], p[2], p[3]))
        }
        #[inline(always)]
        pub fn pixels(self) -> [u32; 4] {
            let v = self.0;
            [
                u32x4_extract_lane::<0>(v),
                u32x4_extract_lane::<1>(v),
                u32x4_extract_lane::<2>(v),
                u32x4_extract_lane::<3>(v),
            ]
        }
        /// The same pixels with alpha 255.
        #[inline(always)]
        pub fn opaque(self) -> Rgba4 {
            Rgba4(v128_or(self.0, u32x4_splat(0xff00_0000)))
        }
        /// The R, G and B lanes (0..255).
        #[inline(always)]
        pub fn unpack(self) -> [F4; 3] {
            let (v, m) = (self.0, u32x4_splat(0xff));
            [
                F4(f32x4_convert_i32x4(v128_and(v, m))),
                F4(f32x4_convert_i32x4(v128_and(u32x4_shr(v, 8), m))),
                F4(f32x4_convert_i32x4(v128_and(u32x4_shr(v, 16), m))),
            ]
        }
        /// From R, G and B lanes: `v + 0.5` truncated (to nearest), saturated to 0..255
        /// (NaN to 0, as `as u8`); alpha 255.
        #[inline(always)]
        pub fn pack(c: [F4; 3]) -> Rgba4 {
            let half = f32x4_splat(0.5);
            let q = |v: F4| i32x4_trunc_sat_f32x4(f32x4_add(v.0, half));
            // [r0..r3 g0..g3 b0..b3 255 x4] as bytes (saturating narrowings), then
            // interleaved to RGBA.
            let rg = i16x8_narrow_i32x4(q(c[0]), q(c[1]));
            let ba = i16x8_narrow_i32x4(q(c[2]), i32x4_splat(255));
            let planar = u8x16_narrow_i16x8(rg, ba);
            Rgba4(i8x16_shuffle::<
                0,
                4,
                8,
                12,
                1,
                5,
                9,
                13,
                2,
                6,
                10,
                14,
                3,
                7,
                11,
                15,
            >(planar, planar))
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

    /// Eight i16 lanes (wrapping arithmetic, so u16 data rides in them too).
    #[derive(Clone, Copy)]
    pub struct I16x8(v128);

    impl I16x8 {
        #[inline(always)]
        pub fn splat(x: i16) -> I16x8 {
            I16x8(i16x8_splat(x))
        }
        /// Eight u16 values (as their bits: add and sub wrap alike).
        #[inline(always)]
        pub fn from_u16(a: &[u16; 8]) -> I16x8 {
            // SAFETY: `a` is 16 readable bytes; v128_load has no alignment requirement.
            I16x8(unsafe { v128_load(a.as_ptr() as *const v128) })
        }
        #[inline(always)]
        pub fn write_u16(self, o: &mut [u16; 8]) {
            // SAFETY: `o` is 16 writable bytes; v128_store has no alignment requirement.
            unsafe { v128_store(o.as_mut_ptr() as *mut v128, self.0) }
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
            #[rustfmt::skip]
            let d = i8x16_shuffle::<0, 16, 0, 16, 1, 16, 1, 16, 2, 16, 2, 16, 3, 16, 3, 16>(v, z);
            I16x8(d)
        }
        /// Bytes `s[i..i + 8]` as 4 interleaved pairs (NV12's U V U V...): (first of each
        /// pair, second of each pair), each repeated twice.
        #[inline(always)]
        pub fn load_u8_pairs_doubled(s: &[u8], i: usize) -> (I16x8, I16x8) {
            let a: &[u8; 8] = s[i..i + 8].try_into().unwrap();
            let v = u64x2_splat(u64::from_le_bytes(*a));
            let z = u32x4_splat(0);
            #[rustfmt::skip]
            let first = i8x16_shuffle::<0, 16, 0, 16, 2, 16, 2, 16, 4, 16, 4, 16, 6, 16, 6, 16>(v, z);
            #[rustfmt::skip]
            let second = i8x16_shuffle::<1, 16, 1, 16, 3, 16, 3, 16, 5, 16, 5, 16, 7, 16, 7, 16>(v, z);
            (I16x8(first), I16x8(second))
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
        /// Lanes 4..8 then 0..4.
        #[inline(always)]
        pub fn swap_halves(self) -> I16x8 {
            I16x8(i16x8_shuffle::<4, 5, 6, 7, 0, 1, 2, 3>(self.0, self.0))
        }
        /// Q15 product, rounded and saturated: `(a * b + 2^14) >> 15`.
        #[inline(always)]
        pub fn mul_q15(self, o: I16x8) -> I16x8 {
            I16x8(i16x8_q15mulr_sat(self.0, o.0))
        }
        /// Lanes 0..4 and 4..8 as unsigned 16-bit values, converted to f32.
        #[inline(always)]
        pub fn to_f4_u16(self) -> (F4, F4) {
            let lo = f32x4_convert_i32x4(u32x4_extend_low_u16x8(self.0));
            let hi = f32x4_convert_i32x4(u32x4_extend_high_u16x8(self.0));
            (F4(lo), F4(hi))
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
mod imp {
    use core::array::from_fn;

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
        pub fn new(a: [f32; 4]) -> F4 {
            F4(a)
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            self.0
        }
        #[inline(always)]
        pub fn from_ref(a: &[f32; 4]) -> F4 {
            F4(*a)
        }
        #[inline(always)]
        pub fn write_to(self, o: &mut [f32; 4]) {
            *o = self.0;
        }
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F4 {
            debug_assert!(i + 4 <= s.len());
            F4(*(s.as_ptr().add(i) as *const [f32; 4]))
        }
        #[inline(always)]
        pub fn add(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| a + b)
        }
        #[inline(always)]
        pub fn sub(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| a - b)
        }
        #[inline(always)]
        pub fn mul(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| a * b)
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
        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| if a < b { b } else { a })
        }
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| if b < a { b } else { a })
        }
        #[inline(always)]
        pub fn transpose(v: [F4; 4]) -> [F4; 4] {
            from_fn(|i| F4(from_fn(|j| v[j].0[i])))
        }
    }

    #[derive(Clone, Copy)]
    pub struct Rgba4([u8; 16]);

    impl Rgba4 {
        #[inline(always)]
        pub fn from_ref(a: &[u8; 16]) -> Rgba4 {
            Rgba4(*a)
        }
        #[inline(always)]
        pub fn write_to(self, o: &mut [u8; 16]) {
            *o = self.0;
        }
        #[inline(always)]
        pub fn from_pixels(p: [u32; 4]) -> Rgba4 {
            Rgba4(from_fn(|i| p[i / 4].to_le_bytes()[i % 4]))
        }
        #[inline(always)]
        pub fn pixels(self) -> [u32; 4] {
            from_fn(|k| u32::from_le_bytes(from_fn(|c| self.0[4 * k + c])))
        }
        #[inline(always)]
        pub fn opaque(self) -> Rgba4 {
            Rgba4(from_fn(|i| if i % 4 == 3 { 255 } else { self.0[i] }))
        }
        #[inline(always)]
        pub fn unpack(self) -> [F4; 3] {
            from_fn(|c| F4(from_fn(|p| self.0[4 * p + c] as f32)))
        }
        #[inline(always)]
        pub fn pack(c: [F4; 3]) -> Rgba4 {
            // `as i32` saturates and maps NaN to 0, like `i32x4.trunc_sat_f32x4`.
            Rgba4(from_fn(|i| match i % 4 {
                3 => 255,
                ch => ((c[ch].0[i / 4] + 0.5) as i32).clamp(0, 255) as u8,
            }))
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

    #[derive(Clone, Copy)]
    pub struct I16x8([i16; 8]);

    #[inline(always)]
    fn map2_16(a: [i16; 8], b: [i16; 8], f: impl Fn(i16, i16) -> i16) -> I16x8 {
        I16x8(from_fn(|k| f(a[k], b[k])))
    }

    impl I16x8 {
        #[inline(always)]
        pub fn splat(x: i16) -> I16x8 {
            I16x8([x; 8])
        }
        #[inline(always)]
        pub fn from_u16(a: &[u16; 8]) -> I16x8 {
            I16x8(a.map(|v| v as i16))
        }
        #[inline(always)]
        pub fn write_u16(self, o: &mut [u16; 8]) {
            *o = self.0.map(|v| v as u16);
        }
        #[inline(always)]
        pub fn load_u8(s: &[u8], i: usize) -> I16x8 {
            let a = &s[i..i + 8];
            I16x8(from_fn(|k| a[k] as i16))
        }
        #[inline(always)]
        pub fn load_u8_doubled(s: &[u8], i: usize) -> I16x8 {
            let a = &s[i..i + 4];
            I16x8(from_fn(|k| a[k / 2] as i16))
        }
        #[inline(always)]
        pub fn load_u8_pairs_doubled(s: &[u8], i: usize) -> (I16x8, I16x8) {
            let a = &s[i..i + 8];
            (
                I16x8(from_fn(|k| a[k / 2 * 2] as i16)),
                I16x8(from_fn(|k| a[k / 2 * 2 + 1] as i16)),
            )
        }
        #[inline(always)]
        pub fn add(self, o: I16x8) -> I16x8 {
            map2_16(self.0, o.0, i16::wrapping_add)
        }
        #[inline(always)]
        pub fn sub(self, o: I16x8) -> I16x8 {
            map2_16(self.0, o.0, i16::wrapping_sub)
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
        pub fn swap_halves(self) -> I16x8 {
            I16x8(from_fn(|k| self.0[(k + 4) % 8]))
        }
        #[inline(always)]
        pub fn mul_q15(self, o: I16x8) -> I16x8 {
            map2_16(self.0, o.0, |a, b| {
                ((a as i32 * b as i32 + 0x4000) >> 15).clamp(i16::MIN as i32, i16::MAX as i32)
                    as i16
            })
        }
        #[inline(always)]
        pub fn to_f4_u16(self) -> (F4, F4) {
            let f = |k: usize| self.0[k] as u16 as f32;
            (F4(from_fn(f)), F4(from_fn(|k| f(k + 4))))
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

pub use imp::{I16x8, Rgba4, F4, I4};

// Loads and stores from slices, for every target. A kernel runs over a row in groups of 4
// lanes; the `_part` forms serve its last, partial group (lanes past the end of the slice
// read as 0 and are not written), so no kernel needs a scalar tail.
impl F4 {
    /// Lanes `s[i..i + 4]` (panics, not UB, if out of range).
    #[inline(always)]
    pub fn load(s: &[f32], i: usize) -> F4 {
        F4::from_ref(s[i..i + 4].try_into().unwrap())
    }
    #[inline(always)]
    pub fn store(self, s: &mut [f32], i: usize) {
        self.write_to((&mut s[i..i + 4]).try_into().unwrap())
    }
    #[inline(always)]
    pub fn load_part(s: &[f32], i: usize) -> F4 {
        match s.get(i..i + 4) {
            Some(a) => F4::from_ref(a.try_into().unwrap()),
            None => F4::new(core::array::from_fn(|k| {
                s.get(i + k).copied().unwrap_or(0.0)
            })),
        }
    }
    #[inline(always)]
    pub fn store_part(self, s: &mut [f32], i: usize) {
        match s.get_mut(i..i + 4) {
            Some(o) => self.write_to(o.try_into().unwrap()),
            None => {
                for (o, v) in s.iter_mut().skip(i).zip(self.to_array()) {
                    *o = v;
                }
            }
        }
    }
    /// `load` for the whole groups of a row (`PART = false`: a plain vector load, whose
    /// bounds check only panics), `load_part` for its last group.
    #[inline(always)]
    pub fn load_group<const PART: bool>(s: &[f32], i: usize) -> F4 {
        if PART {
            F4::load_part(s, i)
        } else {
            F4::load(s, i)
        }
    }
    #[inline(always)]
    pub fn store_group<const PART: bool>(self, s: &mut [f32], i: usize) {
        if PART {
            self.store_part(s, i)
        } else {
            self.store(s, i)
        }
    }
    /// `self * b + c`.
    #[inline(always)]
    pub fn mul_add(self, b: F4, c: F4) -> F4 {
        self.mul(b).add(c)
    }
    /// The pixels `p[i..i + 4]` of four channels each as four vectors of one channel
    /// (`PART`: of a row's last group, pixels past the end of `p` 0).
    #[inline(always)]
    pub fn load_pixels<const PART: bool>(p: &[[f32; 4]], i: usize) -> [F4; 4] {
        if PART {
            let px = |k: usize| p.get(i + k).map_or(F4::splat(0.0), F4::from_ref);
            F4::transpose([px(0), px(1), px(2), px(3)])
        } else {
            let q: &[[f32; 4]; 4] = p[i..i + 4].try_into().unwrap();
            F4::transpose([0, 1, 2, 3].map(|k| F4::from_ref(&q[k])))
        }
    }
    /// Writes four vectors of one channel as the pixels `p[i..i + 4]` of four channels
    /// (`PART`: those inside `p`).
    #[inline(always)]
    pub fn store_pixels<const PART: bool>(v: [F4; 4], p: &mut [[f32; 4]], i: usize) {
        if PART {
            for (o, v) in p.iter_mut().skip(i).zip(F4::transpose(v)) {
                v.write_to(o);
            }
        } else {
            let q: &mut [[f32; 4]; 4] = (&mut p[i..i + 4]).try_into().unwrap();
            for (o, v) in q.iter_mut().zip(F4::transpose(v)) {
                v.write_to(o);
            }
        }
    }
}

impl Rgba4 {
    /// The pixels `s[i..i + 16]` (RGBA bytes) of a whole group, or (`PART`) of a row's last
    /// group, those past the end of `s` 0 (as `F4::load_group`).
    #[inline(always)]
    pub fn load_group<const PART: bool>(s: &[u8], i: usize) -> Rgba4 {
        if PART {
            Rgba4::load_part(s, i)
        } else {
            Rgba4::from_ref(s[i..i + 16].try_into().unwrap())
        }
    }
    #[inline(always)]
    pub fn store_group<const PART: bool>(self, s: &mut [u8], i: usize) {
        if PART {
            self.store_part(s, i)
        } else {
            self.write_to((&mut s[i..i + 16]).try_into().unwrap())
        }
    }
    /// The pixels `s[i..i + 16]` (RGBA bytes), those past the end of `s` 0.
    #[inline(always)]
    pub fn load_part(s: &[u8], i: usize) -> Rgba4 {
        match s.get(i..i + 16) {
            Some(a) => Rgba4::from_ref(a.try_into().unwrap()),
            None => Rgba4::from_pixels(core::array::from_fn(|k| {
                s.get(i + 4 * k..i + 4 * k + 4)
                    .map_or(0, |p| u32::from_le_bytes(p.try_into().unwrap()))
            })),
        }
    }
    #[inline(always)]
    pub fn store_part(self, s: &mut [u8], i: usize) {
        match s.get_mut(i..i + 16) {
            Some(o) => self.write_to(o.try_into().unwrap()),
            None => {
                let rest = s.get_mut(i..).unwrap_or_default();
                for (o, p) in rest.chunks_exact_mut(4).zip(self.pixels()) {
                    o.copy_from_slice(&p.to_le_bytes());
                }
            }
        }
    }
}

impl I16x8 {
    /// `s[i..i + 8]`, those past the end of `s` 0.
    #[inline(always)]
    pub fn load_u16_part(s: &[u16], i: usize) -> I16x8 {
        match s.get(i..i + 8) {
            Some(a) => I16x8::from_u16(a.try_into().unwrap()),
            None => I16x8::from_u16(&core::array::from_fn(|k| {
                s.get(i + k).copied().unwrap_or(0)
            })),
        }
    }
}

/// Runs `group` with `PART = false` on every whole group of 4 of a `w`-lane row (plain vector
/// loads and stores, whose bounds checks the compiler drops when the row slices were cut to
/// `w`), then with `PART = true` on the last, partial one: one kernel for both.
macro_rules! groups {
    ($w:expr, |$x:ident, $part:ident| $group:expr) => {{
        let w = $w;
        let mut $x = 0;
        while $x + 4 <= w {
            const $part: bool = false;
            $group;
            $x += 4;
        }
        if $x < w {
            const $part: bool = true;
            $group;
        }
    }};
}
pub(crate) use groups;

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte conversions round to nearest and saturate as the wasm instructions do.
    #[test]
    fn rgba_round_trip_rounds_and_saturates() {
        let px: [u8; 16] = core::array::from_fn(|i| (i * 17) as u8);
        let [r, g, b] = Rgba4::from_ref(&px).unpack();
        assert_eq!(r.to_array(), [0.0, 68.0, 136.0, 204.0]);
        let mut out = [0u8; 16];
        Rgba4::pack([r, g, b]).write_to(&mut out);
        assert_eq!(
            out,
            core::array::from_fn(|i| if i % 4 == 3 { 255 } else { px[i] })
        );
        let odd = F4::new([-3.0, 254.5, 300.0, f32::NAN]);
        let half = F4::new([0.49, 0.5, 1.5, -0.6]);
        Rgba4::pack([odd, half, F4::splat(1e10)]).write_to(&mut out);
        assert_eq!(
            out,
            [0, 0, 255, 255, 255, 1, 255, 255, 255, 2, 255, 255, 0, 0, 255, 255]
        );
        let mut part = [9u8; 10];
        Rgba4::from_ref(&px).opaque().store_part(&mut part, 2);
        assert_eq!(part, [9, 9, 0, 17, 34, 255, 68, 85, 102, 255]);
        assert_eq!(
            Rgba4::load_part(&px, 8).pixels(),
            [
                u32::from_le_bytes([136, 153, 170, 187]),
                u32::from_le_bytes([204, 221, 238, 255]),
                0,
                0
            ]
        );
    }

    #[test]
    fn transpose_partial_groups_and_u16() {
        let v: [F4; 4] =
            core::array::from_fn(|i| F4::new(core::array::from_fn(|j| (4 * i + j) as f32)));
        let t = F4::transpose(v);
        assert_eq!(t[1].to_array(), [1.0, 5.0, 9.0, 13.0]);
        assert_eq!(F4::transpose(t)[2].to_array(), v[2].to_array());
        let (lo, hi) = I16x8::load_u16_part(&[1, 2, 3, 4, 65535, 6], 0).to_f4_u16();
        assert_eq!(
            (lo.to_array(), hi.to_array()),
            ([1.0, 2.0, 3.0, 4.0], [65535.0, 6.0, 0.0, 0.0])
        );
        let mut s = [65535u16; 8];
        I16x8::from_u16(&s)
            .add(I16x8::load_u8(&[1, 2, 3, 4, 5, 6, 7, 8], 0))
            .write_u16(&mut s);
        assert_eq!(s, [0, 1, 2, 3, 4, 5, 6, 7]);
        let row = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(F4::load_part(&row, 4).to_array(), [5.0, 6.0, 0.0, 0.0]);
        let mut out = [0.0; 6];
        F4::splat(7.0).store_part(&mut out, 4);
        assert_eq!(out, [0.0, 0.0, 0.0, 0.0, 7.0, 7.0]);
    }
}
