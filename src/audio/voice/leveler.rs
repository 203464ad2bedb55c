//! Leveler: a slow gain that brings the talker's speech level to a target.
//!
//! Per 10 ms frame it measures the frame's power (the loudest channel: one gain for all, so
//! the stereo image stays put) and, only when RNNoise's VAD says voice, folds it into a
//! running power average of the speech: a plain mean over the first `WINDOW` voiced frames
//! (a fast, unbiased first estimate), then an exponential average over `WINDOW` frames
//! (2 s of voice). The gain heads for `target - level`, clamped to [-max_cut, +max_gain],
//! at a bounded slew: fast while the estimate is young (the first second of voice), slow
//! afterwards so syllables and sentences are not pumped. Outside voice nothing moves: the
//! gain is frozen, so pauses are not pulled up towards the target.
//!
//! Latency: none (the gain of a frame comes from that frame and earlier ones). The gain is
//! interpolated linearly across each frame, so it has no steps.

use super::FRAME;

/// Frames (10 ms each) of voice the level estimate averages over.
const WINDOW: u32 = 200;
/// VAD probability above which a frame counts as speech.
const VAD_VOICE: f32 = 0.5;
/// Frames quieter than this (-70 dBFS) are never speech, whatever the VAD says.
const FLOOR_POWER: f64 = 1e-7;
/// Gain slew in dB per voiced frame: 30 dB/s while the first estimate forms, then 6 dB/s.
const SLEW_FAST_DB: f32 = 0.3;
const SLEW_SLOW_DB: f32 = 0.06;
const FAST_FRAMES: u32 = 100;

pub struct Leveler {
    pub target_db: f32,
    pub max_gain_db: f32,
    pub max_cut_db: f32,
    level: f64,
    voiced: u32,
    gain_db: f32,
}

impl Leveler {
    pub fn new() -> Self {
        Leveler {
            target_db: -20.0,
            max_gain_db: 30.0,
            max_cut_db: 20.0,
            level: 0.0,
            voiced: 0,
            gain_db: 0.0,
        }
    }

    /// Updates the estimate with one frame of every channel; returns the linear gain the
    /// frame should end on (the caller ramps to it across the frame).
    pub fn update(&mut self, frames: &[[f32; FRAME]], vad: f32) -> f32 {
        let power = frames
            .iter()
            .map(|f| f.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>() / FRAME as f64)
            .fold(0.0, f64::max);
        if vad >= VAD_VOICE && power > FLOOR_POWER {
            self.voiced = self.voiced.saturating_add(1);
            self.level += (power - self.level) / self.voiced.min(WINDOW) as f64;
            let want = (self.target_db - 10.0 * self.level.log10() as f32)
                .clamp(-self.max_cut_db, self.max_gain_db);
            let slew = if self.voiced <= FAST_FRAMES {
                SLEW_FAST_DB
            } else {
                SLEW_SLOW_DB
            };
            self.gain_db += (want - self.gain_db).clamp(-slew, slew);
        }
        // A lowered limit applies at once (still ramped by the caller over the frame).
        self.gain_db = self.gain_db.clamp(-self.max_cut_db, self.max_gain_db);
        10f32.powf(self.gain_db / 20.0)
    }

    /// The gain in dB the leveler currently applies when fully on.
    pub fn gain_db(&self) -> f32 {
        self.gain_db
    }
}
