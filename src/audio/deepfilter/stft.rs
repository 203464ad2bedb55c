//! Short-time Fourier transform as libDF frames it: a 960-sample Vorbis window every 480
//! samples (50 % overlap), analysis scaled by 1/960 (libDF's `wnorm` = 2·hop / fft²), the
//! synthesis window applied again after an unnormalised inverse FFT, then overlap-add.
//!
//! The Vorbis window w[n] = sin(π/2 · sin²(π(n + ½)/480)) satisfies w[n]² + w[n + 480]² = 1,
//! so analysis followed by synthesis reconstructs the input exactly, one hop (480 samples)
//! late: the output of hop t is the input of hop t - 1.

use super::fft::{Complex, RealFft};
use super::{FFT_SIZE, FREQS, HOP};

pub struct Stft {
    window: [f32; FFT_SIZE],
    fft: RealFft,
    /// The previous input hop (the first half of the next analysis window).
    analysis_mem: [f32; HOP],
    /// The second half of the previous synthesis frame, waiting for overlap-add.
    synthesis_mem: [f32; HOP],
    frame: [f32; FFT_SIZE],
    spectrum: [Complex; FREQS],
}

/// The window libDF uses for both analysis and synthesis.
pub fn vorbis_window() -> [f32; FFT_SIZE] {
    let half = (FFT_SIZE / 2) as f64;
    std::array::from_fn(|n| {
        let s = (0.5 * std::f64::consts::PI * (n as f64 + 0.5) / half).sin();
        (0.5 * std::f64::consts::PI * s * s).sin() as f32
    })
}

impl Stft {
    pub fn new() -> Self {
        Stft {
            window: vorbis_window(),
            fft: RealFft::new(FFT_SIZE),
            analysis_mem: [0.0; HOP],
            synthesis_mem: [0.0; HOP],
            frame: [0.0; FFT_SIZE],
            spectrum: [Complex::ZERO; FREQS],
        }
    }

    pub fn reset(&mut self) {
        self.analysis_mem = [0.0; HOP];
        self.synthesis_mem = [0.0; HOP];
    }

    /// The spectrum of the window ending with `input` (the previous hop, then this one).
    pub fn analyse(&mut self, input: &[f32; HOP], spectrum: &mut [Complex; FREQS]) {
        let (old, new) = self.frame.split_at_mut(HOP);
        let (w_old, w_new) = self.window.split_at(HOP);
        for ((f, &x), &w) in old.iter_mut().zip(&self.analysis_mem).zip(w_old) {
            *f = x * w;
        }
        for ((f, &x), &w) in new.iter_mut().zip(input).zip(w_new) {
            *f = x * w;
        }
        self.analysis_mem = *input;
        self.fft.forward(&self.frame, spectrum);
        let norm = 1.0 / FFT_SIZE as f32;
        for z in spectrum.iter_mut() {
            *z = z.scale(norm);
        }
    }

    /// One hop of output: the first half of this frame's windowed inverse plus the second
    /// half of the previous one.
    pub fn synthesise(&mut self, spectrum: &[Complex; FREQS], output: &mut [f32; HOP]) {
        self.spectrum = *spectrum;
        self.fft.inverse(&self.spectrum, &mut self.frame);
        for (f, &w) in self.frame.iter_mut().zip(&self.window) {
            *f *= w;
        }
        let (first, second) = self.frame.split_at(HOP);
        for ((o, &x), &m) in output.iter_mut().zip(first).zip(&self.synthesis_mem) {
            *o = x + m;
        }
        self.synthesis_mem.copy_from_slice(second);
    }
}

impl Default for Stft {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_power_complementary() {
        let w = vorbis_window();
        for n in 0..HOP {
            assert!((w[n] * w[n] + w[n + HOP] * w[n + HOP] - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn analysis_then_synthesis_is_a_one_hop_delay() {
        let mut stft = Stft::new();
        let mut seed = 1u32;
        let input: Vec<f32> = (0..HOP * 20)
            .map(|_| {
                seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
                (seed >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect();
        let mut spec = [Complex::ZERO; FREQS];
        let mut out = vec![0.0f32; input.len()];
        for (i, o) in input.chunks_exact(HOP).zip(out.chunks_exact_mut(HOP)) {
            stft.analyse(i.try_into().unwrap(), &mut spec);
            stft.synthesise(&spec, o.try_into().unwrap());
        }
        assert!(out[..HOP].iter().all(|&v| v.abs() < 1e-6));
        for (o, i) in out[HOP..].iter().zip(&input) {
            assert!((o - i).abs() < 2e-6, "{o} vs {i}");
        }
    }
}
