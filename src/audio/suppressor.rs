//! The noise suppressor: one denoiser state per channel (RNNoise or DeepFilterNet3) behind a
//! fixed-latency pipeline.
//!
//! Latency is fixed and minimal: the output FIFO is prefilled with exactly the number of
//! silent 48 kHz samples that keeps it from ever running dry, found by replaying the
//! (periodic) schedule of sample counts at construction. At 48 kHz that is 448 samples
//! (480 - gcd(128, 480)), so output = denoised input delayed by 448 + the model's own delay:
//! 480 for RNNoise, 1440 for DeepFilterNet3 (its 480 hop plus two frames of look-ahead). Both
//! models take and give 480-sample frames at 48 kHz, so the framing, and hence the prefill,
//! is the same for both; only the whole frames of model delay differ.
//! The dry signal is delayed the same way, so bypass and the attenuation limit are plain
//! sample-aligned crossfades between the two.
//!
//! **DeepFilterNet3's controls.** Its attenuation limit (libDF's `atten_lim_db`) mixes the
//! noisy spectrum back into the enhanced one at 10^(-limit/20); the STFT is linear and
//! reconstructs perfectly, so mixing the time-aligned dry signal in the time domain, as the
//! RNNoise path does, is the same thing: `attenuationLimitDb` means the same for both models.
//! Its voice probability is a logistic of the model's local SNR estimate (-15..35 dB), see
//! [`vad_from_lsnr`].
//!
//! **Switching model live** (`set_model`): the new model's states start next to the old
//! ones and are fed the same frames; the old path keeps sounding until the new one has
//! produced real output for a few frames (its delay plus `SWITCH_WARMUP_FRAMES`), then one
//! 10 ms crossfade hands over and the old states are dropped. The output never has a gap; the
//! latency (`latency_samples`) is the new model's from the frame after the crossfade.
//!
//! The voice chain (`super::voice`) works on each frame between the denoiser's dry/wet mix
//! and the bypass crossfade; its limiter comes last, after resampling back, and its
//! look-ahead (if reserved at creation) is the only latency the chain adds.

use super::deepfilter::{DeepFilter, NetworkWeights, WeightsBuilder, LATENCY as DFN_LATENCY};
use super::fifo::Fifo;
use super::resampler::Resampler;
use super::voice::{intensity_attenuation_limit_db, Params, Stage, VoiceChain};
use super::{FRAME, MAX_CHANNELS, MAX_RATE, MIN_RATE, QUANTUM, RNNOISE_RATE};
use crate::nn::dfn_weights::{DfnModel, Error as WeightsError};
use nnnoiseless::DenoiseState;
use std::fmt;
use std::sync::Arc;

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
/// Frames the new model runs after its delay before a live switch crossfades to it: its
/// running normalisation and recurrent states start from scratch.
const SWITCH_WARMUP_FRAMES: u64 = 5;
/// Model delays in whole 48 kHz frames, and the dry history that covers the longest.
const RNNOISE_DELAY_FRAMES: usize = 1;
const DFN_DELAY_FRAMES: usize = DFN_LATENCY / FRAME;
const _: () = assert!(DFN_LATENCY.is_multiple_of(FRAME));
const DRY_FRAMES: usize = DFN_DELAY_FRAMES + 1;

/// Which network denoises; DeepFilterNet3 comes with its weight file.
/// The file is owned (or `'static`): a live switch lays it out over several `process` calls.
pub enum Model {
    RNNoise,
    DeepFilterNet3(DfnModel<'static>),
}

/// A live switch to DeepFilterNet3 whose weights are being laid out, one
/// [`WeightsBuilder`] step per `process` call, while the current model keeps playing.
struct Pending {
    model: DfnModel<'static>,
    builder: WeightsBuilder,
}

/// The model a suppressor runs (`Suppressor::model`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    RNNoise,
    DeepFilterNet3,
}

/// DeepFilterNet3's local SNR estimate (dB, -15..35) as a voice probability: a logistic
/// centred on `VAD_LSNR_MID_DB` with slope 1/`VAD_LSNR_SCALE_DB`. Noise-only frames sit near the
/// -15 dB floor (probability < 0.01), voiced frames well above 10 dB (> 0.95).
pub fn vad_from_lsnr(lsnr_db: f32) -> f32 {
    1.0 / (1.0 + (-(lsnr_db - VAD_LSNR_MID_DB) / VAD_LSNR_SCALE_DB).exp())
}
pub const VAD_LSNR_MID_DB: f32 = 2.0;
pub const VAD_LSNR_SCALE_DB: f32 = 3.0;

/// One channel's denoiser state.
enum Denoiser {
    RNNoise {
        state: Box<DenoiseState<'static>>,
        started: bool,
    },
    DeepFilterNet3(Box<DeepFilter>),
}

impl Denoiser {
    fn rnnoise() -> Self {
        Denoiser::RNNoise {
            state: DenoiseState::new(),
            started: false,
        }
    }

    /// A DeepFilterNet3 stream on weights shared by every channel.
    fn deepfilter(weights: &Arc<NetworkWeights>) -> Self {
        Denoiser::DeepFilterNet3(Box::new(DeepFilter::with_weights(weights.clone())))
    }

    fn kind(&self) -> ModelKind {
        match self {
            Denoiser::RNNoise { .. } => ModelKind::RNNoise,
            Denoiser::DeepFilterNet3(_) => ModelKind::DeepFilterNet3,
        }
    }

    /// Input-to-output delay in frames: output frame k belongs to input frame k - delay.
    fn delay_frames(&self) -> usize {
        match self {
            Denoiser::RNNoise { .. } => RNNOISE_DELAY_FRAMES,
            Denoiser::DeepFilterNet3(_) => DFN_DELAY_FRAMES,
        }
    }

    /// Denoises one 48 kHz frame in [-1, 1] into `out`; returns the voice probability. A state
    /// that produced non-finite output gives silence and starts again clean.
    fn run(&mut self, input: &[f32; FRAME], out: &mut [f32; FRAME]) -> f32 {
        match self {
            Denoiser::RNNoise { state, started } => {
                let mut scaled = [0.0f32; FRAME];
                for (s, x) in scaled.iter_mut().zip(input) {
                    *s = x * PCM_SCALE;
                }
                let vad = state.process_frame(out, &scaled);
                let healthy = vad.is_finite() && out.iter().all(|w| w.is_finite());
                if !healthy {
                    *state = DenoiseState::new();
                }
                if !*started || !healthy {
                    // The first output covers the time before the stream (silence).
                    out.fill(0.0);
                    *started = true;
                    return 0.0;
                }
                for o in out.iter_mut() {
                    *o /= PCM_SCALE;
                }
                vad
            }
            // DeepFilter resets itself (and gives silence) on non-finite output.
            Denoiser::DeepFilterNet3(df) => vad_from_lsnr(df.process(input, out)),
        }
    }

    /// Silent history, for a channel joining mid-stream.
    fn reset(&mut self) {
        if let Denoiser::DeepFilterNet3(df) = self {
            df.reset();
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioError {
    UnsupportedSampleRate(u32),
    UnsupportedChannelCount(usize),
}

impl fmt::Display for AudioError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            AudioError::UnsupportedSampleRate(r) => {
                write!(
                    f,
                    "sample rate {r} Hz is outside {MIN_RATE}..={MAX_RATE} Hz"
                )
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
    denoiser: Denoiser,
    /// The model being switched to, fed the same frames until it takes over.
    next: Option<Denoiser>,
    /// The latest input frames, newest at `newest`: the dry signal of output frame k is
    /// input frame k - delay.
    dry: [[f32; FRAME]; DRY_FRAMES],
    newest: usize,
    /// The dry frame that the frame being output belongs to.
    dry_out: [f32; FRAME],
    frame: [f32; FRAME],
    wet: [f32; FRAME],
    scratch: Vec<f32>,
}

impl Channel {
    fn new(rate: u32, prefill: usize, denoiser: Denoiser) -> Self {
        let resampled = rate != RNNOISE_RATE;
        let mut ready = Fifo::new(prefill + 4 * FRAME + SCRATCH);
        ready.reset_to_zeros(prefill);
        Channel {
            up: resampled.then(|| Resampler::new(rate, RNNOISE_RATE, QUANTUM)),
            down: resampled.then(|| Resampler::new(RNNOISE_RATE, rate, SCRATCH)),
            pending: Fifo::new(FRAME + SCRATCH),
            ready,
            denoiser,
            next: None,
            dry: [[0.0; FRAME]; DRY_FRAMES],
            newest: 0,
            dry_out: [0.0; FRAME],
            frame: [0.0; FRAME],
            wet: [0.0; FRAME],
            scratch: vec![0.0; SCRATCH],
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
    /// frame it belongs to in `dry_out`; returns the VAD. During a model switch the next
    /// model runs too, and `fade` (from, to) crossfades towards its output.
    fn run_frame(
        &mut self,
        mix: (f32, f32),
        fade: Option<(f32, f32)>,
        out: &mut [f32; FRAME],
    ) -> f32 {
        self.pending.pop(&mut self.frame);
        self.newest = (self.newest + 1) % DRY_FRAMES;
        self.dry[self.newest] = self.frame;
        let mut vad = self.denoiser.run(&self.frame, &mut self.wet);
        let dry = &self.dry[(self.newest + DRY_FRAMES - self.denoiser.delay_frames()) % DRY_FRAMES];
        for (i, o) in out.iter_mut().enumerate() {
            let m = ramp(mix, i);
            *o = dry[i] + m * (self.wet[i] - dry[i]);
        }
        self.dry_out = *dry;
        if let Some(next) = &mut self.next {
            let next_vad = next.run(&self.frame, &mut self.wet);
            let dry = &self.dry[(self.newest + DRY_FRAMES - next.delay_frames()) % DRY_FRAMES];
            if let Some(fade) = fade {
                for (i, o) in out.iter_mut().enumerate() {
                    let (m, x) = (ramp(mix, i), ramp(fade, i));
                    let new = dry[i] + m * (self.wet[i] - dry[i]);
                    *o += x * (new - *o);
                    self.dry_out[i] += x * (dry[i] - self.dry_out[i]);
                }
                vad = next_vad;
            }
        }
        vad
    }

    /// The switch is over: the next model's states replace the current ones.
    fn promote(&mut self) {
        if let Some(next) = self.next.take() {
            self.denoiser = next;
        }
    }

    /// Queues dry + on * (processed - dry): the bypass crossfade, exact at 0 and 1.
    fn finish_frame(&mut self, on_from: f32, on_to: f32, processed: &mut [f32; FRAME]) {
        if on_from != 1.0 || on_to != 1.0 {
            for (i, o) in processed.iter_mut().enumerate() {
                let on = on_from + (on_to - on_from) * (i + 1) as f32 / FRAME as f32;
                let dry = self.dry_out[i];
                *o = if on == 0.0 {
                    dry
                } else {
                    dry + on * (*o - dry)
                };
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
        self.dry = [[0.0; FRAME]; DRY_FRAMES];
        self.denoiser.reset();
        if let Some(next) = &mut self.next {
            next.reset();
        }
    }
}

/// A live model switch in progress (see the module documentation).
struct Switch {
    frames: u64,
    /// Weight of the next model's output, ramping 0 -> 1 once it has warmed up.
    fade: f32,
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
    /// Frames processed so far, and those the next model has run during a switch.
    frames_run: u64,
    switch: Option<Switch>,
    /// A live switch to DeepFilterNet3 still laying its weights out.
    pending: Option<Pending>,
    switch_error: Option<WeightsError>,
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
            channels: (0..max_channels)
                .map(|_| Channel::new(sample_rate, prefill, Denoiser::rnnoise()))
                .collect(),
            active: 1,
            prefill,
            enabled: true,
            strength: 1.0,
            mix: 1.0,
            on: 1.0,
            voice: VoiceChain::new(sample_rate, lookahead),
            frames_run: 0,
            switch: None,
            pending: None,
            switch_error: None,
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
        self.convert_step();
        let mut frames = 0;
        for (ch, q) in self.channels.iter_mut().zip(quanta.iter_mut()) {
            for s in q.iter_mut() {
                *s = if s.is_finite() {
                    s.clamp(-1.0, 1.0)
                } else {
                    0.0
                };
            }
            frames = ch.take_input(q);
        }
        for _ in 0..frames {
            let (from, to) = (self.mix, step_towards(self.mix, self.strength));
            let (on_from, on_to) = (self.on, step_towards(self.on, self.enabled as u8 as f32));
            let next_delay = self.channels[0]
                .next
                .as_ref()
                .map_or(0, Denoiser::delay_frames);
            let fade = self.switch.as_mut().and_then(|sw| {
                sw.frames += 1;
                let ready = sw.frames > next_delay as u64 + SWITCH_WARMUP_FRAMES;
                ready.then(|| (sw.fade, step_towards(sw.fade, 1.0)))
            });
            let mut vad = 0.0f32;
            for (ch, frame) in self.channels[..n].iter_mut().zip(&mut self.frames) {
                vad = vad.max(ch.run_frame((from, to), fade, frame));
            }
            if let (Some((_, to)), Some(sw)) = (fade, &mut self.switch) {
                sw.fade = to;
                if to >= 1.0 {
                    self.switch = None;
                    self.channels.iter_mut().for_each(Channel::promote);
                }
            }
            self.frames_run += 1;
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

    /// Switches the denoiser, live (see the module documentation) or at once before any
    /// audio. Before any audio the weights are laid out here. A live switch to DeepFilterNet3
    /// only takes the file: the next [`WeightsBuilder::STEPS`] `process` calls lay the weights
    /// out a step each (allocating what they lay out) while the current model plays, then
    /// the switch starts; a tensor missing or misshapen then cancels it, and
    /// [`Suppressor::take_switch_error`] tells. Switching to the model already running
    /// cancels a pending switch; on an error here nothing changes.
    pub fn set_model(&mut self, model: Model) -> Result<(), WeightsError> {
        let current = self.channels[0].denoiser.kind();
        let live = self.frames_run > 0;
        let weights = match model {
            Model::RNNoise if current == ModelKind::RNNoise => {
                self.cancel_switch();
                return Ok(());
            }
            Model::RNNoise => None,
            Model::DeepFilterNet3(model) if live => {
                self.cancel_switch();
                self.pending = Some(Pending {
                    model,
                    builder: WeightsBuilder::default(),
                });
                return Ok(());
            }
            Model::DeepFilterNet3(m) => Some(Arc::new(NetworkWeights::new(&m)?)),
        };
        self.cancel_switch();
        self.install(weights, live);
        Ok(())
    }

    fn cancel_switch(&mut self) {
        self.pending = None;
        self.switch = None;
        self.channels.iter_mut().for_each(|ch| ch.next = None);
    }

    /// Gives every channel a denoiser of the new model (`weights`: DeepFilterNet3's, shared;
    /// `None`: RNNoise), next to the current one when `live`, in its place otherwise.
    fn install(&mut self, weights: Option<Arc<NetworkWeights>>, live: bool) {
        for ch in &mut self.channels {
            let d = weights
                .as_ref()
                .map_or_else(Denoiser::rnnoise, Denoiser::deepfilter);
            if live {
                ch.next = Some(d);
            } else {
                ch.denoiser = d;
            }
        }
        self.switch = live.then_some(Switch {
            frames: 0,
            fade: 0.0,
        });
    }

    /// One step of a pending live switch's weight conversion; the switch starts after the last.
    fn convert_step(&mut self) {
        let Some(p) = &mut self.pending else {
            return;
        };
        match p.builder.step(&p.model) {
            Ok(None) => {}
            Ok(Some(weights)) => {
                self.pending = None;
                self.install(Some(Arc::new(weights)), true);
            }
            Err(e) => {
                self.pending = None;
                self.switch_error = Some(e);
            }
        }
    }

    /// True while a live switch's weights are being laid out (before its crossfade starts).
    pub fn converting(&self) -> bool {
        self.pending.is_some()
    }

    /// Why the last live switch to DeepFilterNet3 was given up (once), if it was.
    pub fn take_switch_error(&mut self) -> Option<WeightsError> {
        self.switch_error.take()
    }

    /// The model producing the output (the old one until a switch has crossfaded).
    pub fn model(&self) -> ModelKind {
        self.channels[0].denoiser.kind()
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

    /// Added delay in seconds: the model's delay (RNNoise 480, DeepFilterNet3 1440) plus the
    /// prefill, both at 48 kHz, plus the limiter's look-ahead at the context rate.
    pub fn latency_seconds(&self) -> f64 {
        let model = self.channels[0].denoiser.delay_frames() * FRAME;
        (self.prefill + model) as f64 / RNNOISE_RATE as f64
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

/// The value at sample `i` of a linear ramp (from, to) over one frame.
fn ramp((from, to): (f32, f32), i: usize) -> f32 {
    from + (to - from) * (i + 1) as f32 / FRAME as f32
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
        let produced = up
            .as_ref()
            .map_or(quanta * q, |u| u.outputs_available(quanta * q));
        let framed = produced / FRAME as u64 * FRAME as u64;
        let needed = down
            .as_ref()
            .map_or(quanta * q, |d| d.inputs_required(quanta * q));
        worst = worst.max(needed.saturating_sub(framed));
    }
    worst as usize
}

/// Quanta after which the schedule repeats: a whole number of context samples maps to a
/// whole number of 48 kHz samples that is a whole number of frames.
fn schedule_period(rate: u32) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = gcd(rate as u64, RNNOISE_RATE as u64);
    let (r, s) = (rate as u64 / g, RNNOISE_RATE as u64 / g);
    let q = QUANTUM as u64;
    let base = r / gcd(r, q);
    (1..=FRAME as u64)
        .map(|m| base * m)
        .find(|&quanta| (quanta * q / r * s).is_multiple_of(FRAME as u64))
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
        assert_eq!(
            Suppressor::new(7_999, 1).err(),
            Some(AudioError::UnsupportedSampleRate(7_999))
        );
        assert_eq!(
            Suppressor::new(96_001, 1).err(),
            Some(AudioError::UnsupportedSampleRate(96_001))
        );
        assert_eq!(
            Suppressor::new(48_000, 0).err(),
            Some(AudioError::UnsupportedChannelCount(0))
        );
        assert_eq!(
            Suppressor::new(48_000, 3).err(),
            Some(AudioError::UnsupportedChannelCount(3))
        );
    }
}
