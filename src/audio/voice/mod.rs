//! The voice chain behind the denoiser: high-pass -> leveler -> compressor on 48 kHz frames,
//! and the limiter last of all, at the context rate (see `limiter.rs` for why).
//!
//! Every stage is optional and switched without clicks: its state keeps running while off,
//! and on/off is a ramp of its weight (one 10 ms frame; the leveler 200 ms, since its gain
//! can be 30 dB). Parameters come from `intensity` (0-100, one knob for the denoiser's
//! strength and the chain's amounts) unless given explicitly.
//!
//! Added latency: high-pass, leveler, compressor none; limiter 1.5 ms of look-ahead when the
//! pipeline is created with it (see `Suppressor::with_lookahead`).

mod compressor;
mod high_pass;
mod leveler;
mod limiter;

pub use high_pass::HighPass;
pub use limiter::{Limiter, LOOKAHEAD_SECONDS};

use super::{FRAME, MAX_CHANNELS, QUANTUM, RNNOISE_RATE};
use compressor::Compressor;
use leveler::Leveler;

const RATE: u32 = RNNOISE_RATE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    HighPass = 0,
    Leveler = 1,
    Compressor = 2,
    Limiter = 3,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::HighPass,
        Stage::Leveler,
        Stage::Compressor,
        Stage::Limiter,
    ];

    pub fn from_index(i: u32) -> Option<Stage> {
        Stage::ALL.get(i as usize).copied()
    }
}

/// A stage's parameters in a fixed order; NaN means "derived from intensity".
/// - high-pass: [frequency Hz]
/// - leveler: [target dBFS, max gain dB, max cut dB]
/// - compressor: [threshold dBFS, ratio, attack ms, release ms]
/// - limiter: [ceiling dBFS, release ms]
pub type Params = [f32; 4];
pub const DERIVED: Params = [f32::NAN; 4];

/// Accepted ranges, per stage and parameter (js/noise-suppression.js rejects values outside
/// them with an error; here they are clamped so that nothing can panic).
pub const RANGES: [[(f32, f32); 4]; 4] = [
    [(20.0, 300.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)],
    [(-40.0, -6.0), (0.0, 40.0), (0.0, 40.0), (0.0, 0.0)],
    [(-60.0, 0.0), (1.0, 20.0), (0.1, 200.0), (10.0, 2000.0)],
    [(-20.0, -1.0), (10.0, 1000.0), (0.0, 0.0), (0.0, 0.0)],
];

/// The parameters `intensity` (0..=100) gives a stage. Visio's la-call setting is 90.
pub fn derived(stage: Stage, intensity: f32) -> Params {
    let a = intensity.clamp(0.0, 100.0) / 100.0;
    match stage {
        Stage::HighPass => [80.0, 0.0, 0.0, 0.0],
        Stage::Leveler => [-20.0, 30.0 * a, 20.0 * a, 0.0],
        Stage::Compressor => [-12.0, 1.0 + 3.0 * a, 5.0, 120.0],
        Stage::Limiter => [-1.0, 60.0, 0.0, 0.0],
    }
}

/// The denoiser's attenuation limit `intensity` gives: 0.6 dB per step, none at 100.
pub fn intensity_attenuation_limit_db(intensity: f32) -> f32 {
    if intensity >= 100.0 {
        f32::INFINITY
    } else {
        0.6 * intensity.max(0.0)
    }
}

/// A stage's on/off weight, ramped per frame.
struct Fade {
    on: bool,
    value: f32,
    step: f32,
}

impl Fade {
    fn new(frames: u32) -> Self {
        Fade {
            on: false,
            value: 0.0,
            step: 1.0 / frames as f32,
        }
    }

    /// The weight at the start and at the end of the next frame.
    fn next(&mut self) -> (f32, f32) {
        let from = self.value;
        self.value = if self.on {
            (from + self.step).min(1.0)
        } else {
            (from - self.step).max(0.0)
        };
        (from, self.value)
    }
}

/// Linear ramp from `a` to `b` across a frame, at sample `i`.
#[inline]
fn ramp(a: f32, b: f32, i: usize) -> f32 {
    a + (b - a) * (i + 1) as f32 / FRAME as f32
}

/// A fade weight from `a` to `b` at sample `i`, shaped by smoothstep: no corner where a fade
/// starts or ends (a linear fade's corners are faint clicks on low-frequency content).
#[inline]
fn fade_weight(a: f32, b: f32, i: usize) -> f32 {
    let w = ramp(a, b, i);
    w * w * (3.0 - 2.0 * w)
}

pub struct VoiceChain {
    intensity: f32,
    explicit: [Params; 4],
    on: [bool; 4],
    high_pass: [HighPass; MAX_CHANNELS],
    leveler: Leveler,
    compressor: Compressor,
    limiter: Limiter,
    fades: [Fade; 3],
    /// The leveler's linear gain at the end of the previous frame.
    level_gain: f32,
    context_rate: u32,
    /// Until the first frame, settings take effect at once (no fade from "off").
    started: bool,
}

impl VoiceChain {
    /// All stages off, intensity 100; the limiter at `context_rate`, with its look-ahead if
    /// `lookahead` (which fixes the pipeline's latency).
    pub fn new(context_rate: u32, lookahead: bool) -> Self {
        let mut chain = VoiceChain {
            intensity: 100.0,
            explicit: [DERIVED; 4],
            on: [false; 4],
            high_pass: std::array::from_fn(|_| HighPass::new(80.0)),
            leveler: Leveler::new(),
            compressor: Compressor::new(),
            limiter: Limiter::new(context_rate, lookahead),
            fades: [Fade::new(1), Fade::new(20), Fade::new(1)],
            level_gain: 1.0,
            context_rate,
            started: false,
        };
        chain.apply_params();
        chain
    }

    pub fn set_intensity(&mut self, intensity: f32) {
        self.intensity = if intensity.is_nan() {
            100.0
        } else {
            intensity.clamp(0.0, 100.0)
        };
        self.apply_params();
    }

    /// Turns a stage on or off and sets its explicit parameters (NaN: from intensity).
    pub fn set_stage(&mut self, stage: Stage, on: bool, params: Params) {
        self.on[stage as usize] = on;
        self.explicit[stage as usize] = params;
        if stage == Stage::Limiter {
            self.limiter.set_on(on, !self.started);
        } else {
            let fade = &mut self.fades[stage as usize];
            fade.on = on;
            if !self.started {
                fade.value = on as u8 as f32;
            }
        }
        self.apply_params();
    }

    /// The parameters a stage runs with now.
    pub fn params(&self, stage: Stage) -> Params {
        let d = derived(stage, self.intensity);
        let e = &self.explicit[stage as usize];
        let r = &RANGES[stage as usize];
        std::array::from_fn(|i| {
            if e[i].is_nan() {
                d[i]
            } else {
                e[i].clamp(r[i].0, r[i].1)
            }
        })
    }

    fn apply_params(&mut self) {
        let [f, ..] = self.params(Stage::HighPass);
        for hp in &mut self.high_pass {
            hp.set_frequency(f);
        }
        let [target, gain, cut, _] = self.params(Stage::Leveler);
        (
            self.leveler.target_db,
            self.leveler.max_gain_db,
            self.leveler.max_cut_db,
        ) = (target, gain, cut);
        let [threshold, ratio, attack, release] = self.params(Stage::Compressor);
        (self.compressor.threshold_db, self.compressor.ratio) = (threshold, ratio);
        self.compressor.set_times(attack, release);
        let [ceiling, release, ..] = self.params(Stage::Limiter);
        self.limiter.configure(self.context_rate, ceiling, release);
    }

    /// Samples of look-ahead the limiter adds, at the context rate.
    pub fn lookahead(&self) -> usize {
        self.limiter.lookahead()
    }

    /// The leveler's current gain in dB (as applied when fully on).
    pub fn leveler_gain_db(&self) -> f32 {
        self.leveler.gain_db()
    }

    /// High-pass, leveler and compressor on one 48 kHz frame of each channel, in place.
    /// `vad` is RNNoise's voice probability for this audio.
    pub fn process_frames(&mut self, frames: &mut [[f32; FRAME]], vad: f32) {
        self.started = true;
        let (a, b) = self.fades[0].next();
        for (frame, hp) in frames.iter_mut().zip(&mut self.high_pass) {
            for (i, s) in frame.iter_mut().enumerate() {
                let y = hp.run(*s);
                if a != 0.0 || b != 0.0 {
                    *s += fade_weight(a, b, i) * (y - *s);
                }
            }
        }

        let target = self.leveler.update(frames, vad);
        let (_, w) = self.fades[1].next();
        let end = 1.0 + w * w * (3.0 - 2.0 * w) * (target - 1.0);
        let start = self.level_gain;
        if start != 1.0 || end != 1.0 {
            for frame in frames.iter_mut() {
                for (i, s) in frame.iter_mut().enumerate() {
                    *s *= ramp(start, end, i);
                }
            }
        }
        self.level_gain = end;

        let (a, b) = self.fades[2].next();
        for i in 0..FRAME {
            let power = frames.iter().map(|f| f[i] * f[i]).fold(0.0, f32::max);
            self.compressor.follow(power);
            if a == 0.0 && b == 0.0 {
                continue; // off: the detector is all that needs to run
            }
            let g = self.compressor.gain();
            if g != 1.0 {
                let g = 1.0 + fade_weight(a, b, i) * (g - 1.0);
                for f in frames.iter_mut() {
                    f[i] *= g;
                }
            }
        }
    }

    /// The limiter on one context-rate quantum of each channel, in place.
    pub fn limit(&mut self, quanta: &mut [[f32; QUANTUM]]) {
        self.limiter.process(quanta);
    }

    /// A channel joining mid-stream starts from silence.
    pub fn reset_channel(&mut self, ch: usize) {
        self.high_pass[ch].reset();
        self.limiter.clear_channel(ch);
    }
}
