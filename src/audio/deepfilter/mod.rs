//! DeepFilterNet3 (Schröter et al., 2023) on our own code: the signal processing around
//! the three networks, streaming one 10 ms hop in and one out at 48 kHz.
//!
//! Per hop: STFT (`stft`) -> ERB and complex features with running normalisation
//! (`features`) -> encoder, ERB decoder and deep-filter decoder (`network`) -> ERB gains and
//! deep filtering (`filter`) of the frame two hops back -> inverse STFT (`stream` ties them
//! together). Behaviour follows DeepFilterNet's own libDF (`tract.rs`, `lib.rs`), which the
//! tests compare against stage by stage and end to end.

mod features;
mod fft;
mod filter;
pub mod network;
mod stft;
mod stream;

pub use features::{band_power_db, erb_widths, norm_alpha, Features, MIN_NB_ERB_FREQS, NORM_TAU};
pub use fft::{Complex, RealFft};
pub use filter::{apply_erb_gains, deep_filter};
pub use network::{
    Network, NetworkOutput, NetworkWeights, WeightsBuilder, DF_ORDER, NB_DF, NB_ERB,
};
pub use stft::{vorbis_window, Stft};
pub use stream::{DeepFilter, Estimator, LATENCY};

/// DeepFilterNet3 runs at 48 kHz only (config.ini `[df]` sr).
pub const SAMPLE_RATE: usize = 48_000;
/// Analysis window and FFT length (20 ms).
pub const FFT_SIZE: usize = 960;
/// Hop: one 10 ms frame in, one out.
pub const HOP: usize = 480;
/// Spectrum bins, 0 Hz to Nyquist.
pub const FREQS: usize = FFT_SIZE / 2 + 1;
/// Frames the networks look ahead (config.ini `conv_lookahead`): the gains and filter
/// computed at hop t apply to frame t - 2.
pub const CONV_LOOKAHEAD: usize = 2;
/// Future frames in the deep filter's window (config.ini `df_lookahead`).
pub const DF_LOOKAHEAD: usize = 2;
