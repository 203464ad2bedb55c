//! `F4`: four f32 lanes. On wasm32 with `simd128` it is a `v128`; elsewhere a `[f32; 4]` whose
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
        #[inline(always)]
        pub fn from_array(a: [f32; 4]) -> F4 {
            F4(f32x4(a[0], a[1], a[2], a[3]))
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
        pub fn max(self, o: F4) -> F4 {
            F4(f32x4_pmax(self.0, o.0))
        }
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            F4(f32x4_pmin(self.0, o.0))
        }
        #[inline(always)]
        pub fn lanes(self) -> [f32; 4] {
            [
                f32x4_extract_lane::<0>(self.0),
                f32x4_extract_lane::<1>(self.0),
                f32x4_extract_lane::<2>(self.0),
                f32x4_extract_lane::<3>(self.0),
            ]
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
        pub fn from_array(a: [f32; 4]) -> F4 {
            F4(a)
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
        /// Like wasm's `pmax`: `a < b ? b : a`.
        #[inline(always)]
        pub fn max(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| if a < b { b } else { a })
        }
        #[inline(always)]
        pub fn min(self, o: F4) -> F4 {
            map2(self.0, o.0, |a, b| if b < a { b } else { a })
        }
        #[inline(always)]
        pub fn lanes(self) -> [f32; 4] {
            self.0
        }
    }
}

pub use imp::F4;
