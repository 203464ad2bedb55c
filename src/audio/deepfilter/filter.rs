//! The two enhancement stages DeepFilterNet3 applies to a frame's spectrum.
//!
//! Stage 1, ERB gains: one real gain per ERB band, applied to every bin of the band (the
//! whole band from 0 Hz to Nyquist). Stage 2, deep filtering: each of the lowest `NB_DF`
//! bins is replaced by a complex FIR over time, Σ_i X[t - 2 + i]·c_i for i < `DF_ORDER`, on
//! the *noisy* spectra (two past frames, the frame itself and two future ones:
//! df_lookahead = 2), which overrides stage 1 on those bins.

use std::ops::{Add, Mul};

use super::fft::Complex;
use super::{DF_ORDER, FREQS, NB_DF, NB_ERB};

/// Multiplies each band's bins by its gain.
pub fn apply_erb_gains(
    spec: &mut [Complex; FREQS],
    gains: &[f32; NB_ERB],
    widths: &[usize; NB_ERB],
) {
    let mut start = 0;
    for (&g, &w) in gains.iter().zip(widths) {
        for z in &mut spec[start..start + w] {
            *z = z.scale(g);
        }
        start += w;
    }
}

/// Writes bins 0..NB_DF of `out`: Σ_tap frames[tap][bin] · coefs[bin][tap], with `frames`
/// oldest first (tap `DF_ORDER - 1 - df_lookahead` is the frame being enhanced).
pub fn deep_filter(
    frames: [&[Complex; FREQS]; DF_ORDER],
    coefs: &[[[f32; 2]; DF_ORDER]; NB_DF],
    out: &mut [Complex; FREQS],
) {
    for (bin, (o, c)) in out[..NB_DF].iter_mut().zip(coefs).enumerate() {
        let mut sum = Complex::ZERO;
        for (frame, &[re, im]) in frames.iter().zip(c) {
            sum = sum.add(frame[bin].mul(Complex::new(re, im)));
        }
        *o = sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_follow_the_band_edges() {
        let widths: [usize; NB_ERB] = std::array::from_fn(|b| {
            if b < NB_ERB - 1 {
                15
            } else {
                FREQS - 15 * (NB_ERB - 1)
            }
        });
        let gains: [f32; NB_ERB] = std::array::from_fn(|b| b as f32);
        let mut spec = [Complex::new(1.0, -2.0); FREQS];
        apply_erb_gains(&mut spec, &gains, &widths);
        for (k, z) in spec.iter().enumerate() {
            let g = (k / 15).min(NB_ERB - 1) as f32;
            assert_eq!(*z, Complex::new(g, -2.0 * g));
        }
    }

    #[test]
    fn a_unit_tap_selects_one_frame_and_leaves_upper_bins_alone() {
        let frames: [[Complex; FREQS]; DF_ORDER] =
            std::array::from_fn(|t| std::array::from_fn(|k| Complex::new(t as f32, k as f32)));
        let mut coefs = [[[0.0; 2]; DF_ORDER]; NB_DF];
        for c in coefs.iter_mut() {
            c[2] = [0.0, 1.0]; // multiply frame 2 by i
        }
        let mut out = [Complex::new(7.0, 7.0); FREQS];
        deep_filter(std::array::from_fn(|t| &frames[t]), &coefs, &mut out);
        for (k, got) in out.iter().enumerate() {
            let want = if k < NB_DF {
                Complex::new(-(k as f32), 2.0)
            } else {
                Complex::new(7.0, 7.0)
            };
            assert_eq!(*got, want);
        }
    }
}
