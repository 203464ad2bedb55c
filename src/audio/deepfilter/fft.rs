//! The real FFT of DeepFilterNet's 960-sample window (and its inverse), our own code.
//!
//! A 960-point real transform is one 480-point complex transform of the even/odd samples
//! packed as (re, im) plus an O(N) split. 480 = 4 · 4 · 2 · 3 · 5, done as a mixed-radix
//! Stockham FFT (self-sorting, no bit reversal) with the textbook radix-2/3/4/5 butterflies.
//! Analysis plus synthesis cost ~22 µs per frame natively, ~5 % of the frame's CPU time next
//! to the networks, so we keep the code short rather than reach for `rustfft`/`realfft`
//! (their planners and SIMD paths would add more to the wasm than this whole module).
//! Twiddles are computed once in f64; nothing allocates after construction.

use std::f64::consts::PI;
use std::ops::{Add, Mul, Sub};

/// A complex number in the layout libDF's spectra use: (re, im) interleaved.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Complex {
    pub re: f32,
    pub im: f32,
}

impl Complex {
    pub const ZERO: Complex = Complex { re: 0.0, im: 0.0 };
    pub const fn new(re: f32, im: f32) -> Self {
        Complex { re, im }
    }
    #[inline]
    pub fn conj(self) -> Complex {
        Complex::new(self.re, -self.im)
    }
    #[inline]
    pub fn scale(self, k: f32) -> Complex {
        Complex::new(self.re * k, self.im * k)
    }
    /// |z|, computed like `num_complex`'s `norm` (hypot), as libDF does.
    #[inline]
    pub fn norm(self) -> f32 {
        self.re.hypot(self.im)
    }
}

// The operators as traits (called as methods here: `a.add(b)` reads like the formulas).
impl Add for Complex {
    type Output = Complex;
    #[inline]
    fn add(self, o: Complex) -> Complex {
        Complex::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for Complex {
    type Output = Complex;
    #[inline]
    fn sub(self, o: Complex) -> Complex {
        Complex::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for Complex {
    type Output = Complex;
    #[inline]
    fn mul(self, o: Complex) -> Complex {
        Complex::new(
            self.re * o.re - self.im * o.im,
            self.re * o.im + self.im * o.re,
        )
    }
}

fn unit(turns: f64) -> Complex {
    let a = -2.0 * PI * turns;
    Complex::new(a.cos() as f32, a.sin() as f32)
}

/// One radix-`radix` pass of a Stockham FFT over sub-transforms of length `len`.
struct Pass {
    radix: usize,
    len: usize,
    /// `len / radix * radix` twiddles: w_len^(p·j) for p < len/radix, j < radix.
    twiddles: Vec<Complex>,
}

/// Forward complex FFT of a fixed size (the factors of `n` must be 2, 3, 4 or 5).
pub struct ComplexFft {
    n: usize,
    passes: Vec<Pass>,
}

impl ComplexFft {
    pub fn new(n: usize) -> Self {
        let mut factors = Vec::new();
        let mut rest = n;
        for radix in [4, 2, 3, 5] {
            while rest.is_multiple_of(radix) {
                factors.push(radix);
                rest /= radix;
            }
        }
        assert!(rest == 1 && n > 0, "FFT size {n} must factor into 2, 3, 5");
        let mut len = n;
        let passes = factors
            .into_iter()
            .map(|radix| {
                let m = len / radix;
                let twiddles = (0..m)
                    .flat_map(|p| (0..radix).map(move |j| unit((p * j) as f64 / len as f64)))
                    .collect();
                let pass = Pass {
                    radix,
                    len,
                    twiddles,
                };
                len = m;
                pass
            })
            .collect();
        ComplexFft { n, passes }
    }

    /// Unnormalised forward transform (e^{-i}) of `data`, in place; `scratch` is as long.
    pub fn forward(&self, data: &mut [Complex], scratch: &mut [Complex]) {
        assert!(data.len() == self.n && scratch.len() == self.n);
        // Each pass reads one buffer and writes the other; `stride` interleaved transforms.
        let mut stride = 1;
        let mut in_data = true;
        for pass in &self.passes {
            let (src, dst): (&[Complex], &mut [Complex]) = if in_data {
                (data, scratch)
            } else {
                (scratch, data)
            };
            stockham_pass(pass, stride, src, dst);
            stride *= pass.radix;
            in_data = !in_data;
        }
        if !in_data {
            data.copy_from_slice(scratch);
        }
    }
}

/// Decimation in frequency: y[q + s(r·p + j)] = w_len^(p·j) · Σ_k x[q + s(p + k·m)] w_r^(j·k).
/// For fixed p the s values of q are contiguous on both sides, so the loop over q runs on
/// slices cut once per p (no per-element bounds checks).
fn stockham_pass(pass: &Pass, s: usize, x: &[Complex], y: &mut [Complex]) {
    let r = pass.radix;
    let m = pass.len / r;
    let mut a = [Complex::ZERO; 5];
    for (p, tw) in pass.twiddles.chunks_exact(r).enumerate() {
        let src: [&[Complex]; 5] = std::array::from_fn(|k| {
            let k = k.min(r - 1);
            &x[s * (p + k * m)..][..s]
        });
        let dst = &mut y[s * r * p..][..s * r];
        for q in 0..s {
            for (k, ak) in a[..r].iter_mut().enumerate() {
                *ak = src[k][q];
            }
            butterfly(r, &mut a);
            for (j, (aj, w)) in a[..r].iter().zip(tw).enumerate() {
                dst[j * s + q] = aj.mul(*w);
            }
        }
    }
}

/// -i·z
#[inline]
fn minus_i(z: Complex) -> Complex {
    Complex::new(z.im, -z.re)
}

/// The r-point DFT (w = e^{-2πi/r}) of a[..r], in place.
#[inline]
fn butterfly(r: usize, a: &mut [Complex; 5]) {
    match r {
        2 => {
            let (a0, a1) = (a[0], a[1]);
            a[0] = a0.add(a1);
            a[1] = a0.sub(a1);
        }
        3 => {
            const S: f32 = 0.866_025_4; // sin(2π/3)
            let t = a[1].add(a[2]);
            let mid = a[0].sub(t.scale(0.5));
            let d = minus_i(a[1].sub(a[2])).scale(S);
            a[0] = a[0].add(t);
            a[1] = mid.add(d);
            a[2] = mid.sub(d);
        }
        4 => {
            let (t0, t1) = (a[0].add(a[2]), a[0].sub(a[2]));
            let (t2, t3) = (a[1].add(a[3]), minus_i(a[1].sub(a[3])));
            a[0] = t0.add(t2);
            a[1] = t1.add(t3);
            a[2] = t0.sub(t2);
            a[3] = t1.sub(t3);
        }
        5 => {
            // cos and sin of 2π/5 and 4π/5.
            const C1: f32 = 0.309_017;
            const C2: f32 = -0.809_017;
            const S1: f32 = 0.951_056_5;
            const S2: f32 = 0.587_785_24;
            let (b1, b2) = (a[1].add(a[4]), a[2].add(a[3]));
            let (d1, d2) = (a[1].sub(a[4]), a[2].sub(a[3]));
            let m1 = a[0].add(b1.scale(C1)).add(b2.scale(C2));
            let m2 = a[0].add(b1.scale(C2)).add(b2.scale(C1));
            let n1 = minus_i(d1.scale(S1).add(d2.scale(S2)));
            let n2 = minus_i(d1.scale(S2).sub(d2.scale(S1)));
            a[0] = a[0].add(b1).add(b2);
            a[1] = m1.add(n1);
            a[4] = m1.sub(n1);
            a[2] = m2.add(n2);
            a[3] = m2.sub(n2);
        }
        _ => unreachable!("radix {r}"),
    }
}

/// Real FFT of `N` samples (N even, N/2 factoring into 2, 3, 5) to N/2 + 1 bins, and back.
pub struct RealFft {
    half: ComplexFft,
    /// w_N^k for k <= N/2: the split between the even and odd halves.
    split: Vec<Complex>,
    packed: Vec<Complex>,
    scratch: Vec<Complex>,
}

impl RealFft {
    pub fn new(n: usize) -> Self {
        assert!(n.is_multiple_of(2));
        let m = n / 2;
        RealFft {
            half: ComplexFft::new(m),
            split: (0..=m).map(|k| unit(k as f64 / n as f64)).collect(),
            packed: vec![Complex::ZERO; m],
            scratch: vec![Complex::ZERO; m],
        }
    }

    /// X[k] = Σ x[n] e^{-2πikn/N}, k = 0..=N/2 (unnormalised, like realfft).
    pub fn forward(&mut self, input: &[f32], output: &mut [Complex]) {
        let m = self.packed.len();
        assert!(input.len() == 2 * m && output.len() == m + 1);
        for (z, pair) in self.packed.iter_mut().zip(input.chunks_exact(2)) {
            *z = Complex::new(pair[0], pair[1]);
        }
        self.half.forward(&mut self.packed, &mut self.scratch);
        // Even part E = (Z[k] + conj Z[m-k]) / 2, odd part O = (Z[k] - conj Z[m-k]) / 2i.
        for (k, (out, split)) in output.iter_mut().zip(&self.split).enumerate() {
            let zk = self.packed[k % m];
            let zc = self.packed[(m - k) % m].conj();
            let even = zk.add(zc).scale(0.5);
            let d = zk.sub(zc);
            let odd = Complex::new(0.5 * d.im, -0.5 * d.re);
            *out = even.add(split.mul(odd));
        }
    }

    /// x[n] = Σ_k X[k] e^{+2πikn/N} over the Hermitian spectrum (unnormalised, like realfft:
    /// a round trip scales by N). The imaginary parts of the DC and Nyquist bins are ignored.
    pub fn inverse(&mut self, input: &[Complex], output: &mut [f32]) {
        let m = self.packed.len();
        assert!(input.len() == m + 1 && output.len() == 2 * m);
        let bin = |k: usize| {
            if k == 0 || k == m {
                Complex::new(input[k].re, 0.0)
            } else {
                input[k]
            }
        };
        // Z[k] = (X[k] + conj X[m-k]) + i w^-k (X[k] - conj X[m-k]); z = IDFT_m(Z) holds the
        // even samples in re and the odd ones in im. The inverse is the conjugated forward.
        for k in 0..m {
            let xk = bin(k);
            let xc = bin(m - k).conj();
            let even = xk.add(xc);
            let odd = xk.sub(xc).mul(self.split[k].conj());
            self.packed[k] = Complex::new(even.re - odd.im, even.im + odd.re).conj();
        }
        self.half.forward(&mut self.packed, &mut self.scratch);
        for (z, pair) in self.packed.iter().zip(output.chunks_exact_mut(2)) {
            pair[0] = z.re;
            pair[1] = -z.im;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_dft(x: &[f32]) -> Vec<(f64, f64)> {
        let n = x.len();
        (0..=n / 2)
            .map(|k| {
                x.iter().enumerate().fold((0.0, 0.0), |(re, im), (t, &v)| {
                    let a = -2.0 * PI * (k * t % n) as f64 / n as f64;
                    (re + v as f64 * a.cos(), im + v as f64 * a.sin())
                })
            })
            .collect()
    }

    fn signal(n: usize) -> Vec<f32> {
        let mut s = 12345u32;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn real_fft_matches_the_naive_dft_for_every_size_it_supports() {
        for n in [960, 480, 120, 30, 16, 10, 6] {
            let x = signal(n);
            let mut fft = RealFft::new(n);
            let mut out = vec![Complex::ZERO; n / 2 + 1];
            fft.forward(&x, &mut out);
            let want = naive_dft(&x);
            let peak = want.iter().map(|w| w.0.hypot(w.1)).fold(0.0, f64::max);
            for (k, (o, w)) in out.iter().zip(&want).enumerate() {
                let err = (o.re as f64 - w.0).hypot(o.im as f64 - w.1);
                assert!(
                    err < 2e-6 * peak * (n as f64).log2(),
                    "n {n} bin {k}: {o:?} vs {w:?}"
                );
            }
        }
    }

    #[test]
    fn inverse_undoes_forward_times_n() {
        let n = 960;
        let x = signal(n);
        let mut fft = RealFft::new(n);
        let mut spec = vec![Complex::ZERO; n / 2 + 1];
        let mut back = vec![0.0; n];
        fft.forward(&x, &mut spec);
        // Garbage in the imaginary parts of DC and Nyquist must be ignored.
        spec[0].im = 3.0;
        spec[n / 2].im = -2.0;
        fft.inverse(&spec, &mut back);
        for (a, b) in x.iter().zip(&back) {
            assert!((a - b / n as f32).abs() < 1e-6, "{a} vs {}", b / n as f32);
        }
    }
}
