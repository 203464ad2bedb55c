//! Temporal smoothing of the segmentation mask, at the segmenter's resolution.
//!
//! A segmenter's mask flickers on a still person by small amounts (edge pixels and hair
//! wander by 0.1-0.3 from frame to frame), whereas a moving person changes it by large
//! amounts (a pixel goes from background to person: a change near 1). So the smoothing is
//! an exponential moving average whose weight on the new mask grows with the per-pixel
//! change:
//!
//! ```text
//! d = |new - prev|
//! k = K_MIN + (1 - K_MIN) * smoothstep(D_LOW, D_HIGH, d)
//! m = prev + k * (new - prev)
//! ```
//!
//! Small fluctuations (d <= D_LOW) are averaged over about 1/K_MIN frames (4), which
//! divides their amplitude by about 2.6 (sqrt((2 - K_MIN) / K_MIN)) for uncorrelated noise;
//! real motion (d >= D_HIGH) is taken as is, without lag. Plain averaging (Jitsi uses a
//! fixed 0.75 weight on the previous mask) would trail a moving arm by several frames.

/// Weight on the new mask for a negligible change.
pub const K_MIN: f32 = 0.25;
/// Changes up to this are treated as noise.
pub const D_LOW: f32 = 0.1;
/// Changes from this on are treated as motion and taken whole.
pub const D_HIGH: f32 = 0.5;

#[derive(Default)]
pub struct TemporalSmoother {
    state: Vec<f32>,
    width: usize,
    height: usize,
    primed: bool,
}

impl TemporalSmoother {
    /// Forget the past: the next mask is taken as is.
    pub fn reset(&mut self) {
        self.primed = false;
    }

    /// Smooths `mask` (values sanitised to 0..=1, NaN -> 0) into the state and returns it.
    /// A change of mask size resets. Allocates only when the mask size changes.
    #[inline(never)] // one call per frame (or row): keeps profiles readable
    pub fn update(&mut self, mask: &[f32], width: usize, height: usize) -> &[f32] {
        if width != self.width || height != self.height || self.state.len() != mask.len() {
            self.state.clear();
            self.state.resize(mask.len(), 0.0);
            self.width = width;
            self.height = height;
            self.primed = false;
        }
        if !self.primed {
            for (s, &m) in self.state.iter_mut().zip(mask) {
                *s = sanitise(m);
            }
            self.primed = true;
            return &self.state;
        }
        for (s, &m) in self.state.iter_mut().zip(mask) {
            *s = smooth(*s, sanitise(m));
        }
        &self.state
    }
}

/// NaN -> 0, clamped to 0..=1 (comparisons, not `f32::max`, which wasm makes a call).
#[inline(always)]
fn sanitise(m: f32) -> f32 {
    if m > 0.0 {
        if m < 1.0 {
            m
        } else {
            1.0
        }
    } else {
        0.0
    }
}

#[inline(always)]
pub fn smooth(prev: f32, new: f32) -> f32 {
    let d = (new - prev).abs();
    let t = ((d - D_LOW) / (D_HIGH - D_LOW)).clamp(0.0, 1.0);
    let k = K_MIN + (1.0 - K_MIN) * (t * t * (3.0 - 2.0 * t));
    prev + k * (new - prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_changes_are_damped_and_large_ones_taken_whole() {
        assert!((smooth(0.5, 0.55) - 0.5125).abs() < 1e-6);
        assert_eq!(smooth(0.0, 1.0), 1.0);
        assert_eq!(smooth(1.0, 0.0), 0.0);
        let mut t = TemporalSmoother::default();
        assert_eq!(t.update(&[f32::NAN, 2.0], 2, 1), &[0.0, 1.0]);
    }
}
