//! The networks' inputs, computed from each frame's spectrum as libDF computes them:
//!
//! - ERB features: mean power of the bins in each of 32 ERB-spaced bands, in dB
//!   (10·log10(p + 1e-10)), minus a running mean per band (initialised -60 dB at the lowest
//!   band to -90 dB at the highest), divided by 40.
//! - Complex features: the lowest 96 bins divided by the square root of a running mean of
//!   their magnitude (initialised 0.001 at DC to 0.0001 at bin 95).
//!
//! Both running means are exponential with `alpha` = exp(-hop / (rate · norm_tau)) rounded
//! to 3 decimals (config.ini's norm_tau = 1 s gives 0.99).

use super::fft::Complex;
use super::{FFT_SIZE, FREQS, HOP, NB_DF, NB_ERB, SAMPLE_RATE};

/// config.ini `[df]`: each ERB band holds at least this many FFT bins.
pub const MIN_NB_ERB_FREQS: usize = 2;
/// config.ini `[df]` norm_tau, in seconds.
pub const NORM_TAU: f32 = 1.0;

fn hz_to_erb(hz: f32) -> f32 {
    9.265 * (hz / (24.7 * 9.265)).ln_1p()
}
fn erb_to_hz(erb: f32) -> f32 {
    24.7 * 9.265 * ((erb / 9.265).exp() - 1.0)
}

/// Number of FFT bins in each ERB band: band edges equally spaced on the ERB scale from 0 Hz
/// to Nyquist, rounded to the nearest bin; a band narrower than `min_bins` is widened to it
/// and the next band's edge is pushed up by as much. The last band also takes the Nyquist
/// bin, and gives back bins so that the widths sum to fft_size/2 + 1. (f32 arithmetic, like
/// libDF, so that the rounding of every edge agrees.)
pub fn erb_widths(
    sample_rate: usize,
    fft_size: usize,
    bands: usize,
    min_bins: usize,
) -> Vec<usize> {
    let bin_hz = sample_rate as f32 / fft_size as f32;
    let top = hz_to_erb((sample_rate / 2) as f32);
    let step = top / bands as f32;
    let mut widths = Vec::with_capacity(bands);
    let (mut prev_edge, mut borrowed) = (0i64, 0i64);
    for band in 1..=bands {
        let edge = (erb_to_hz(band as f32 * step) / bin_hz).round() as i64;
        let natural = edge - prev_edge - borrowed;
        let width = natural.max(min_bins as i64);
        borrowed = width - natural;
        widths.push(width as usize);
        prev_edge = edge;
    }
    *widths.last_mut().unwrap() += 1;
    let excess = widths.iter().sum::<usize>() - (fft_size / 2 + 1);
    *widths.last_mut().unwrap() -= excess;
    widths
}

/// The running-normalisation coefficient libDF derives from norm_tau.
pub fn norm_alpha(sample_rate: usize, hop: usize, tau: f32) -> f32 {
    let alpha = (-(hop as f32 / sample_rate as f32) / tau).exp();
    // Round to 3 decimals, or more if that would round up to 1.
    let mut digits = 3;
    loop {
        let scale = 10i32.pow(digits) as f32;
        let a = (alpha * scale).round() / scale;
        if a < 1.0 {
            return a;
        }
        digits += 1;
    }
}

fn linspace<const N: usize>(first: f32, last: f32) -> [f32; N] {
    let step = (last - first) / (N - 1) as f32;
    std::array::from_fn(|i| first + i as f32 * step)
}

pub struct Features {
    widths: [usize; NB_ERB],
    alpha: f32,
    erb_mean: [f32; NB_ERB],
    unit_mean: [f32; NB_DF],
}

impl Features {
    pub fn new() -> Self {
        let widths = erb_widths(SAMPLE_RATE, FFT_SIZE, NB_ERB, MIN_NB_ERB_FREQS);
        let mut f = Features {
            widths: widths.try_into().unwrap(),
            alpha: norm_alpha(SAMPLE_RATE, HOP, NORM_TAU),
            erb_mean: [0.0; NB_ERB],
            unit_mean: [0.0; NB_DF],
        };
        f.reset();
        f
    }

    pub fn reset(&mut self) {
        self.erb_mean = linspace(-60.0, -90.0);
        self.unit_mean = linspace(0.001, 0.0001);
    }

    pub fn widths(&self) -> &[usize; NB_ERB] {
        &self.widths
    }

    /// Updates the running means with `spec` and writes both normalised features.
    pub fn compute(
        &mut self,
        spec: &[Complex; FREQS],
        erb: &mut [f32; NB_ERB],
        cplx: &mut [[f32; 2]; NB_DF],
    ) {
        let a = self.alpha;
        band_power_db(spec, &self.widths, erb);
        for (x, mean) in erb.iter_mut().zip(self.erb_mean.iter_mut()) {
            *mean = *x * (1.0 - a) + *mean * a;
            *x = (*x - *mean) / 40.0;
        }
        for ((out, z), mean) in cplx.iter_mut().zip(spec).zip(self.unit_mean.iter_mut()) {
            *mean = z.norm() * (1.0 - a) + *mean * a;
            let d = mean.sqrt();
            *out = [z.re / d, z.im / d];
        }
    }
}

impl Default for Features {
    fn default() -> Self {
        Self::new()
    }
}

/// Mean power of each band's bins in dB, before normalisation.
pub fn band_power_db(spec: &[Complex; FREQS], widths: &[usize; NB_ERB], out: &mut [f32; NB_ERB]) {
    let mut start = 0;
    for (o, &w) in out.iter_mut().zip(widths) {
        let k = 1.0 / w as f32;
        let p: f32 = spec[start..start + w]
            .iter()
            .fold(0.0, |acc, z| acc + (z.re * z.re + z.im * z.im) * k);
        *o = (p + 1e-10).log10() * 10.0;
        start += w;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_every_bin_and_alpha_is_0_99() {
        let w = erb_widths(SAMPLE_RATE, FFT_SIZE, NB_ERB, MIN_NB_ERB_FREQS);
        assert_eq!(w.iter().sum::<usize>(), FREQS);
        assert!(w.iter().all(|&b| b >= MIN_NB_ERB_FREQS));
        assert!(w.windows(2).all(|p| p[0] <= p[1]), "{w:?}");
        assert_eq!(norm_alpha(SAMPLE_RATE, HOP, NORM_TAU), 0.99);
    }
}
