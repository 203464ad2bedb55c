//! The noise suppressor: one RNNoise state per channel behind a fixed-latency pipeline.
//!
//! Latency is fixed and minimal: the output FIFO is prefilled with exactly the number of
//! silent 48 kHz samples that keeps it from ever running dry, found by replaying the
//! (periodic) schedule of sample counts at construction. At 48 kHz that is 448 samples
//! (480 - gcd(128, 480)), so output = denoised input delayed by 448 + RNNoise's own 480.
//! The dry signal is delayed the same way, so bypass and the attenuation limit are plain
//! sample-aligned crossfades between the two.
//!
//! The voice chain (`super::voice`) works on each frame between the denoiser's dry/wet mix
//! and the bypass crossfade; its limiter comes last, after resampling back, and its
//! look-ahead (if reserved at creation) is the only latency the chain adds.

use super::fifo::Fifo;
use super::resampler::Resampler;
use super::voice::{intensity_attenuation_limit_db, Params, Stage, VoiceChain};
use super::{FRAME, MAX_CHANNELS, MAX_RATE, MIN_RATE, QUANTUM, RNNOISE_RATE};
use nnnoiseless::DenoiseState;
use std::fmt;

/// Web Audio's [-1, 1] to the level nnnoiseless expects. C RNNoise takes 16-bit-range floats
/// (x 32768), but nnnoiseless's forward FFT comes out twice as large as C's (it undoes that
/// with a /2 at synthesis), so its network sees every input 6.02 dB louder than C's does and
/// removes noise differently (its VAD and gains are level-dependent). Feeding it half the
/// 16-bit range gives C RNNoise's features, gains and output to ~77 dB SNR; the output comes
/// back at the same scale, so the same constant converts it back.
const PCM_SCALE: f32 = 16384.0;
/// Bypass and strength changes fade over one frame (10 ms): no click.
const MIX_STEP: f32 = 1.0 / FRAME as f32;
const SCRATCH: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioError {
    UnsupportedSampleRate(u32),
    UnsupportedChannelCount(usize),
}

impl fmt::Display for AudioError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            AudioError::UnsupportedSampleRate(r) => {
                write!(f, "sample rate {r} Hz is outside {MIN_RATE}..={MAX_RATE} Hz")
            }
            AudioError::UnsupportedChannelCount(c) => {
                write!(f, "{c} channels requested, 1..={MAX_CHANNELS} supported")
            }
        }
    }
}

impl std::error::Error for AudioError {}

struct Channel {
    /// Context rate -> 48 kHz and back; `None` at 48 kHz.
    up: Option<Resampler>,
    down: Option<Resampler>,
    /// 48 kHz input waiting for a whole frame.
    pending: Fifo,
    /// 48 kHz output waiting to be played, prefilled with the pipeline's delay.
    ready: Fifo,
    rnn: Box<DenoiseState<'static>>,
    /// The previous input frame: RNNoise's output for frame k is frame k-1 denoised.
    dry: [f32; FRAME],
    /// The dry frame that the frame being output belongs to.
    dry_out: [f32; FRAME],
    frame: [f32; FRAME],
    wet: [f32; FRAME],
    scratch: Vec<f32>,
    frames_done: u64,
}

impl Channel {
    fn new(rate: u32, prefill: usize) -> Self {
        let resampled = rate != RNNOISE_RATE;
        let mut ready = Fifo::new(prefill + 4 * FRAME + SCRATCH);
        ready.reset_to_zeros(prefill);
        Channel {
            up: resampled.then(|| Resampler::new(rate, RNNOISE_RATE, QUANTUM)),
            down: resampled.then(|| Resampler::new(RNNOISE_RATE, rate, SCRATCH)),
            pending: Fifo::new(FRAME + SCRATCH),
            ready,
            rnn: DenoiseState::new(),
            dry: [0.0; FRAME],
            dry_out: [0.0; FRAME],
            frame: [0.0; FRAME],
            wet: [0.0; FRAME],
            scratch: vec![0.0; SCRATCH],
            frames_done: 0,
        }
    }

    /// Feeds one sanitised quantum in; returns how many whole frames are now pending.
    fn take_input(&mut self, quantum: &[f32]) -> usize {
        match &mut self.up {
            Some(up) => {
                up.push(quantum);
                let n = up.pull(&mut self.scratch);
                self.pending.push(&self.scratch[..n]);
            }
            None => {
                self.pending.push(quantum);
            }
        }
        self.pending.len() / FRAME
    }

    /// Denoises one pending frame into `out` = dry + mix * (wet - dry) and keeps the dry
    /// frame it belongs to in `dry_out`; returns the VAD.
    fn run_frame(&mut self, mix_from: f32, mix_to: f32, out: &mut [f32; FRAME]) -> f32 {
        self.pending.pop(&mut self.frame);
        let mut scaled = [0.0f32; FRAME];
        for (s, x) in scaled.iter_mut().zip(&self.frame) {
            *s = x * PCM_SCALE;
        }
        let vad = self.rnn.process_frame(&mut self.wet, &scaled);
        let healthy = vad.is_finite() && self.wet.iter().all(|w| w.is_finite());
        if self.frames_done == 0 || !healthy {
            // The first output covers the time before the stream (silence). A state that
            // produced non-finite output is replaced so the next frame starts clean.
            self.wet.fill(0.0);
            if !healthy {
                self.rnn = DenoiseState::new();
            }
        }
        self.frames_done += 1;
        for (i, o) in out.iter_mut().enumerate() {
            let t = (i + 1) as f32 / FRAME as f32;
            let mix = mix_from + (mix_to - mix_from) * t;
            let wet = self.wet[i] / PCM_SCALE;
            *o = self.dry[i] + mix * (wet - self.dry[i]);
        }
        self.dry_out = self.dry;
        self.dry = self.frame;
        if healthy { vad } else { 0.0 }
    }

    /// Queues dry + on * (processed - dry): the bypass crossfade, exact at 0 and 1.
    fn finish_frame(&mut self, on_from: f32, on_to: f32, processed: &mut [f32; FRAME]) {
        if on_from != 1.0 || on_to != 1.0 {
            for (i, o) in processed.iter_mut().enumerate() {
                let on = on_from + (on_to - on_from) * (i + 1) as f32 / FRAME as f32;
                let dry = self.dry_out[i];
                *o = if on == 0.0 { dry } else { dry + on * (*o - dry) };
            }
        }
        self.ready.push(processed);
    }

    /// Writes one quantum of output; returns false if the pipeline ran dry (a bug).
    fn give_output(&mut self, quantum: &mut [f32]) -> bool {
        match &mut self.down {
            Some(down) => {
                let need = down.inputs_needed_for(quantum.len());
                let got = self.ready.pop(&mut self.scratch[..need]);
                self.scratch[got..need].fill(0.0);
                down.push(&self.scratch[..need]);
                let n = down.pull(quantum);
                quantum[n..].fill(0.0);
                got == need && n == quantum.len()
            }
            None => {
                let got = self.ready.pop(quantum);
                quantum[got..].fill(0.0);
                got == quantum.len()
            }
        }
    }

    /// Joins a running stream at the same position as `other`, with silent history.
    fn reset_like(&mut self, other: &Channel) {
        if let (Some(a), Some(b)) = (&mut self.up, &other.up) {
            a.reset_like(b);
        }
        if let (Some(a), Some(b)) = (&mut self.down, &other.down) {
            a.reset_like(b);
        }
        self.pending.reset_to_zeros(other.pending.len());
        self.ready.reset_to_zeros(other.ready.len());
        self.dry.fill(0.0);
        self.frames_done = other.frames_done;
    }
}

pub struct Suppressor {
    rate: u32,
    channels: Vec<Channel>,
    active: usize,
    prefill: usize,
    enabled: bool,
    /// Fraction of the noise RNNoise removes that we actually remove (from the limit).
    strength: f32,
    /// Current dry/wet mix, ramping towards `strength`.
    mix: f32,
    /// Current weight of the processed signal against the dry one, ramping towards `enabled`.
    on: f32,
    voice: VoiceChain,
    /// One frame per channel between the denoiser and the bypass crossfade.
    frames: [[f32; FRAME]; MAX_CHANNELS],
    vad: f32,
    underruns: u64,
}

impl Suppressor {
    /// A suppressor whose voice chain has no limiter look-ahead: latency stays the
    /// denoiser's own (a limiter turned on later has an instant attack).
    pub fn new(sample_rate: u32, max_channels: usize) -> Result<Self, AudioError> {
        Self::build(sample_rate, max_channels, false)
    }

    /// A suppressor with the limiter's look-ahead in its pipeline: 1.5 ms more latency, for
    /// a limiter with a smooth attack whenever it is on.
    pub fn with_lookahead(sample_rate: u32, max_channels: usize) -> Result<Self, AudioError> {
        Self::build(sample_rate, max_channels, true)
    }

    fn build(sample_rate: u32, max_channels: usize, lookahead: bool) -> Result<Self, AudioError> {
        if !(MIN_RATE..=MAX_RATE).contains(&sample_rate) {
            return Err(AudioError::UnsupportedSampleRate(sample_rate));
        }
        if !(1..=MAX_CHANNELS).contains(&max_channels) {
            return Err(AudioError::UnsupportedChannelCount(max_channels));
        }
        let prefill = min_prefill(sample_rate);
        Ok(Suppressor {
            rate: sample_rate,
            channels: (0..max_channels).map(|_| Channel::new(sample_rate, prefill)).collect(),
            active: 1,
            prefill,
            enabled: true,
            strength: 1.0,
            mix: 1.0,
            on: 1.0,
            voice: VoiceChain::new(sample_rate, lookahead),
            frames: [[0.0; FRAME]; MAX_CHANNELS],
            vad: 0.0,
            underruns: 0,
        })
    }

    /// Processes one render quantum per channel, in place. The number of slices is the
    /// active channel count (clamped to the maximum given at construction).
    pub fn process(&mut self, quanta: &mut [[f32; QUANTUM]]) {
        let n = quanta.len().min(self.channels.len());
        if n == 0 {
            return;
        }
        if n > self.active {
            let (first, rest) = self.channels.split_at_mut(1);
            for ch in &mut rest[self.active - 1..n - 1] {
                ch.reset_like(&first[0]);
            }
            for ch in self.active..n {
                self.voice.reset_channel(ch);
            }
        }
        self.active = n;
        let mut frames = 0;
        for (ch, q) in self.channels.iter_mut().zip(quanta.iter_mut()) {
            for s in q.iter_mut() {
                *s = if s.is_finite() { s.clamp(-1.0, 1.0) } else { 0.0 };
            }
            frames = ch.take_input(q);
        }
        for _ in 0..frames {
            let (from, to) = (self.mix, step_towards(self.mix, self.strength));
            let (on_from, on_to) = (self.on, step_towards(self.on, self.enabled as u8 as f32));
            let mut vad = 0.0f32;
            for (ch, frame) in self.channels[..n].iter_mut().zip(&mut self.frames) {
                vad = vad.max(ch.run_frame(from, to, frame));
            }
            self.voice.process_frames(&mut self.frames[..n], vad);
            for (ch, frame) in self.channels[..n].iter_mut().zip(&mut self.frames) {
                ch.finish_frame(on_from, on_to, frame);
            }
            self.mix = to;
            self.on = on_to;
            self.vad = vad;
        }
        for (ch, q) in self.channels.iter_mut().zip(quanta.iter_mut()) {
            if !ch.give_output(q) {
                self.underruns += 1;
            }
        }
        self.voice.limit(&mut quanta[..n]);
    }

    /// Bypass (false) or suppress (true), with a 10 ms crossfade.
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    /// Caps the noise reduction at `db` decibels: 0 bypasses, +inf (or NaN) removes the cap.
    pub fn set_attenuation_limit_db(&mut self, db: f32) {
        self.strength = if db.is_nan() || db == f32::INFINITY {
            1.0
        } else {
            1.0 - 10f32.powf(-db.max(0.0) / 20.0)
        };
    }

    /// Sets the denoiser's strength and the voice chain's amounts from one 0..=100 knob
    /// (see `voice::derived`); an attenuation limit set afterwards overrides its strength.
    pub fn set_intensity(&mut self, intensity: f32) {
        self.voice.set_intensity(intensity);
        self.set_attenuation_limit_db(intensity_attenuation_limit_db(intensity));
    }

    /// Turns a voice-chain stage on or off, with explicit parameters (NaN: from intensity).
    pub fn set_stage(&mut self, stage: Stage, on: bool, params: Params) {
        self.voice.set_stage(stage, on, params);
    }

    pub fn voice(&self) -> &VoiceChain {
        &self.voice
    }

    /// Voice probability (0..1) of the latest frame, the maximum over channels.
    pub fn vad(&self) -> f32 {
        self.vad
    }

    /// Added delay in seconds: RNNoise's frame plus the prefill, both at 48 kHz, plus the
    /// limiter's look-ahead at the context rate.
    pub fn latency_seconds(&self) -> f64 {
        (self.prefill + FRAME) as f64 / RNNOISE_RATE as f64
            + self.voice.lookahead() as f64 / self.rate as f64
    }

    /// Added delay in samples at the context rate (exact at 48 kHz).
    pub fn latency_samples(&self) -> usize {
        (self.latency_seconds() * self.rate as f64).round() as usize
    }

    /// Silent samples at 48 kHz placed ahead of the output to absorb block mismatch.
    pub fn prefill(&self) -> usize {
        self.prefill
    }

    /// Quanta for which the pipeline ran dry; stays 0 unless the prefill is wrong.
    pub fn underruns(&self) -> u64 {
        self.underruns
    }
}

/// One crossfade step (a frame's worth) from `from` towards `target`.
fn step_towards(from: f32, target: f32) -> f32 {
    if target > from {
        (from + MIX_STEP * FRAME as f32).min(target)
    } else {
        (from - MIX_STEP * FRAME as f32).max(target)
    }
}

/// Smallest output prefill (at 48 kHz) for which no quantum ever finds the output FIFO
/// short, found by replaying the sample counts of one full period of the schedule.
fn min_prefill(rate: u32) -> usize {
    let resampled = rate != RNNOISE_RATE;
    let up = resampled.then(|| Resampler::new(rate, RNNOISE_RATE, QUANTUM));
    let down = resampled.then(|| Resampler::new(RNNOISE_RATE, rate, SCRATCH));
    let q = QUANTUM as u64;
    let mut worst = 0u64;
    for quanta in 1..=2 * schedule_period(rate) {
        let produced = up.as_ref().map_or(quanta * q, |u| u.outputs_available(quanta * q));
        let framed = produced / FRAME as u64 * FRAME as u64;
        let needed = down.as_ref().map_or(quanta * q, |d| d.inputs_required(quanta * q));
        worst = worst.max(needed.saturating_sub(framed));
    }
    worst as usize
}

/// Quanta after which the schedule repeats: a whole number of context samples maps to a
/// whole number of 48 kHz samples that is a whole number of frames.
fn schedule_period(rate: u32) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let g = gcd(rate as u64, RNNOISE_RATE as u64);
    let (r, s) = (rate as u64 / g, RNNOISE_RATE as u64 / g);
    let q = QUANTUM as u64;
    let base = r / gcd(r, q);
    (1..=FRAME as u64)
        .map(|m| base * m)
        .find(|&quanta| (quanta * q / r * s) % FRAME as u64 == 0)
        .unwrap_or(base * FRAME as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefill_at_48k_is_the_arithmetic_minimum() {
        assert_eq!(min_prefill(48_000), 448);
        let s = Suppressor::new(48_000, 1).unwrap();
        assert_eq!(s.latency_samples(), 928);
    }

    #[test]
    fn rejects_bad_configuration() {
        assert_eq!(Suppressor::new(7_999, 1).err(), Some(AudioError::UnsupportedSampleRate(7_999)));
        assert_eq!(Suppressor::new(96_001, 1).err(), Some(AudioError::UnsupportedSampleRate(96_001)));
        assert_eq!(Suppressor::new(48_000, 0).err(), Some(AudioError::UnsupportedChannelCount(0)));
        assert_eq!(Suppressor::new(48_000, 3).err(), Some(AudioError::UnsupportedChannelCount(3)));
    }
}
