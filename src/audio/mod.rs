//! Microphone noise suppression: RNNoise (`nnnoiseless`) behind the plumbing that lets it
//! run on Web Audio's 128-sample render quanta at any context rate.
//!
//! Per channel: sanitise -> resample to 48 kHz -> 480-sample frames -> RNNoise, mixed with
//! the time-aligned dry signal (attenuation limit) -> voice chain (high-pass, leveler,
//! compressor) -> bypass crossfade -> resample back -> limiter.

pub mod deepfilter;
mod fifo;
mod resampler;
mod suppressor;
pub mod voice;

pub use resampler::Resampler;
pub use suppressor::{vad_from_lsnr, AudioError, Model, ModelKind, Suppressor};

/// Web Audio's render quantum: the block size `Suppressor::process` works on.
pub const QUANTUM: usize = 128;
/// RNNoise's frame: 10 ms at its fixed 48 kHz rate.
pub const FRAME: usize = nnnoiseless::DenoiseState::FRAME_SIZE;
pub const RNNOISE_RATE: u32 = 48_000;
/// Context rates the suppressor accepts.
pub const MIN_RATE: u32 = 8_000;
pub const MAX_RATE: u32 = 96_000;
pub const MAX_CHANNELS: usize = 2;
