//! Compressor: tames the loud syllables the leveler lets through.
//!
//! Feed-forward, linked across channels (one gain from the loudest channel), an RMS-like
//! detector (a power envelope with separate attack and release), and a 6 dB soft knee so
//! the ratio sets in gradually around the threshold. No make-up gain: with the leveler in
//! front the level is already where it should be, and alone it should only reduce peaks.
//!
//! Latency: none (no look-ahead; the limiter behind it catches what its attack lets by).

use super::RATE;

const KNEE_DB: f32 = 6.0;

pub struct Compressor {
    pub threshold_db: f32,
    pub ratio: f32,
    attack: f32,
    release: f32,
    envelope: f32,
}

/// One-pole smoothing coefficient for a time constant in milliseconds at 48 kHz.
pub fn coefficient(ms: f32) -> f32 {
    1.0 - (-1000.0 / (ms.max(0.01) * RATE as f32)).exp()
}

impl Compressor {
    pub fn new() -> Self {
        Compressor {
            threshold_db: -16.0,
            ratio: 4.0,
            attack: coefficient(5.0),
            release: coefficient(120.0),
            envelope: 0.0,
        }
    }

    pub fn set_times(&mut self, attack_ms: f32, release_ms: f32) {
        self.attack = coefficient(attack_ms);
        self.release = coefficient(release_ms);
    }

    /// Follows the detector with the power of one sample (max over channels). Runs while the
    /// stage is off too, so that turning it on starts from the right level.
    #[inline]
    pub fn follow(&mut self, power: f32) {
        let k = if power > self.envelope {
            self.attack
        } else {
            self.release
        };
        self.envelope += k * (power - self.envelope);
    }

    /// The gain for the detector's current level (linear, <= 1).
    #[inline]
    pub fn gain(&self) -> f32 {
        let level_db = 10.0 * (self.envelope + 1e-12).log10();
        let over = level_db - self.threshold_db;
        let slope = 1.0 / self.ratio - 1.0;
        let gain_db = if 2.0 * over <= -KNEE_DB {
            return 1.0;
        } else if 2.0 * over < KNEE_DB {
            slope * (over + KNEE_DB / 2.0).powi(2) / (2.0 * KNEE_DB)
        } else {
            slope * over
        };
        10f32.powf(gain_db / 20.0)
    }
}
