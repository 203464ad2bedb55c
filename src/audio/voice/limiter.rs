//! Limiter: no output sample ever above the ceiling (-1 dBFS by default).
//!
//! It is the pipeline's very last stage, at the context rate after resampling back, so the
//! guarantee covers everything in front of it: the dry/wet mix, the bypass crossfade and the
//! resampler's own overshoot (a band-limited resampler rings above a clipped input's peaks).
//!
//! Look-ahead of `D` samples, linked across channels. For output sample k the gain is the
//! average over h[k-D..=k] of h[j] = min(m[j], release(h[j-1])), where m[j] is the smallest
//! gain ceiling/|x| needed over x[j..=j+D]. Each of those windows contains sample k, so every
//! h[j] averaged is <= ceiling/|x[k]|: the average is too, which is the guarantee, while the
//! gain falls over D samples (a smooth attack, no clipping shape) and recovers with a one-pole
//! release. A final clamp only absorbs floating-point rounding.
//!
//! On/off is a 10 ms fade of the needed gain (1 - w (1 - ceiling/|x|)), like every stage's
//! toggle: a limiter switched on in the middle of loud audio would otherwise have to cut
//! the samples already waiting in its delay line at once, which is a click. The guarantee
//! holds from the end of that fade on.
//!
//! Latency: exactly `D` samples (1.5 ms) when created with look-ahead. A limiter turned on
//! in a pipeline created without it runs with D = 0: the same guarantee with an instant
//! attack (harder on transients), and no change of latency mid-stream.

use crate::audio::{MAX_CHANNELS, QUANTUM};

/// Look-ahead when reserved at creation.
pub const LOOKAHEAD_SECONDS: f64 = 0.0015;

pub struct Limiter {
    ceiling: f32,
    on: bool,
    release: f64,
    lookahead: usize,
    /// Delay line of the input, `lookahead` samples per channel.
    delay: Vec<[f32; MAX_CHANNELS]>,
    /// Needed gains r and held gains h of the last `lookahead + 1` samples.
    needed: Vec<f64>,
    held: Vec<f64>,
    pos: usize,
    last_held: f64,
    /// Smallest value in `needed` and how many samples ago it came in; sum of `held`. Both
    /// kept incrementally (the window scan costs O(D) only when the minimum leaves the
    /// window, and the sum is recomputed exactly once per window against drift).
    min: f64,
    min_age: usize,
    held_sum: f64,
    /// On/off weight and its per-sample step; samples since it reached 1.
    fade: f64,
    fade_step: f64,
    settled: usize,
}

/// The largest f32 at or below `db` dBFS: the ceiling is never rounded up.
fn ceiling_from_db(db: f32) -> f32 {
    let exact = 10f64.powf(db as f64 / 20.0);
    let c = exact as f32;
    if c as f64 > exact {
        f32::from_bits(c.to_bits() - 1)
    } else {
        c
    }
}

impl Limiter {
    /// A limiter at the context `rate`, with or without look-ahead (fixed for its life).
    pub fn new(rate: u32, with_lookahead: bool) -> Self {
        let lookahead = if with_lookahead {
            Self::lookahead_at(rate)
        } else {
            0
        };
        let mut l = Limiter {
            ceiling: 1.0,
            on: false,
            release: 0.0,
            lookahead,
            delay: vec![[0.0; MAX_CHANNELS]; lookahead.max(1)],
            needed: vec![1.0; lookahead + 1],
            held: vec![1.0; lookahead + 1],
            pos: 0,
            last_held: 1.0,
            min: 1.0,
            min_age: 0,
            held_sum: (lookahead + 1) as f64,
            fade: 0.0,
            fade_step: 1.0 / (0.01 * rate as f64),
            settled: 0,
        };
        l.configure(rate, -1.0, 60.0);
        l
    }

    /// Look-ahead in samples at `rate`.
    pub fn lookahead_at(rate: u32) -> usize {
        (LOOKAHEAD_SECONDS * rate as f64).round() as usize
    }

    pub fn lookahead(&self) -> usize {
        self.lookahead
    }

    pub fn configure(&mut self, rate: u32, ceiling_db: f32, release_ms: f32) {
        self.ceiling = ceiling_from_db(ceiling_db);
        self.release = 1.0 - (-1000.0 / (release_ms.max(1.0) as f64 * rate as f64)).exp();
    }

    /// Switches on or off with a 10 ms fade, or at once (`immediate`: before any audio).
    pub fn set_on(&mut self, on: bool, immediate: bool) {
        self.on = on;
        if immediate {
            self.fade = on as u8 as f64;
        }
    }

    /// Clears one channel's delay line (a channel joining mid-stream starts silent).
    pub fn clear_channel(&mut self, ch: usize) {
        for d in &mut self.delay {
            d[ch] = 0.0;
        }
    }

    /// Limits the first `n` channels of one quantum in place (delayed by the look-ahead).
    pub fn process(&mut self, quanta: &mut [[f32; QUANTUM]]) {
        let n = quanta.len().min(MAX_CHANNELS);
        let window = self.lookahead + 1;
        for i in 0..QUANTUM {
            let mut peak = 0.0f32;
            for q in quanta.iter() {
                peak = peak.max(q[i].abs());
            }
            self.fade = if self.on {
                (self.fade + self.fade_step).min(1.0)
            } else {
                (self.fade - self.fade_step).max(0.0)
            };
            self.settled = if self.fade == 1.0 {
                self.settled.saturating_add(1)
            } else {
                0
            };
            let slot = self.pos % window;
            let needed = if peak > self.ceiling {
                (self.ceiling / peak) as f64
            } else {
                1.0
            };
            let needed = 1.0 - self.fade * (1.0 - needed);
            self.needed[slot] = needed;
            self.min_age += 1;
            if needed <= self.min {
                (self.min, self.min_age) = (needed, 0);
            } else if self.min_age >= window {
                // The minimum left the window: find the new one and its age.
                (self.min, self.min_age) = (f64::INFINITY, 0);
                for age in 0..window {
                    let v = self.needed[(slot + window - age) % window];
                    if v < self.min {
                        (self.min, self.min_age) = (v, age);
                    }
                }
            }
            let m = self.min;
            let mut h = (self.last_held + self.release * (1.0 - self.last_held)).min(m);
            if h > 1.0 - 1e-9 {
                h = 1.0; // settle exactly: a limiter at rest passes samples bit for bit
            }
            self.last_held = h;
            self.held_sum += h - std::mem::replace(&mut self.held[slot], h);
            if slot == 0 {
                self.held_sum = self.held.iter().sum();
            }
            let gain = if self.lookahead == 0 {
                h
            } else {
                self.held_sum / window as f64
            };
            let d = self.pos % self.delay.len();
            for (ch, q) in quanta[..n].iter_mut().enumerate() {
                let x = if self.lookahead == 0 {
                    q[i]
                } else {
                    std::mem::replace(&mut self.delay[d][ch], q[i])
                };
                let y = if gain == 1.0 {
                    x
                } else {
                    (x as f64 * gain) as f32
                };
                // Once every gain in the window was computed fully on, the clamp can only
                // ever remove rounding.
                q[i] = if self.settled > 2 * window {
                    y.clamp(-self.ceiling, self.ceiling)
                } else {
                    y
                };
            }
            self.pos = (self.pos + 1) % (window * self.delay.len());
        }
    }
}
