//! `DeepFilter`: 480 samples in, 480 out, a fixed delay of `LATENCY` samples.
//!
//! Hop t: analyse the window ending with the new hop into spectrum X[t], compute the
//! features of X[t], run the networks (all three, every hop), then enhance frame t - 2
//! (the networks' look-ahead): X[t-2] times the ERB gains, its lowest 96 bins replaced by
//! the deep filter over X[t-4..=t], mixed with X[t-2] under the attenuation limit, and
//! synthesised. The output of hop t is thus input hop t - 3: 1440 samples (30 ms).
//!
//! libdeepfilter's C API has thresholds that skip the decoders when the estimated SNR is
//! below -15 dB or above 35 dB, and a skip on quiet input that only arms when a frame was
//! skipped; the encoder's SNR head is bounded to exactly [-15, 35] dB, so with those
//! defaults it runs and applies both stages on every frame, as this does unconditionally.

use super::features::Features;
use super::fft::Complex;
use super::filter::{apply_erb_gains, deep_filter};
use super::network::{Network, NetworkOutput, NetworkWeights, DF_ORDER, NB_DF, NB_ERB};
use super::stft::Stft;
use super::{CONV_LOOKAHEAD, DF_LOOKAHEAD, FREQS, HOP};
use crate::nn::dfn_weights::{DfnModel, Error};
use std::ops::Add;
use std::sync::Arc;

/// Input-to-output delay in samples at 48 kHz: the STFT's hop plus the look-ahead.
pub const LATENCY: usize = HOP * (1 + CONV_LOOKAHEAD);

// The deep filter's window (DF_ORDER frames ending DF_LOOKAHEAD after the enhanced frame)
// must end at the newest frame, as it does in DeepFilterNet3: then one history of DF_ORDER
// noisy spectra serves both stages.
const _: () = assert!(DF_LOOKAHEAD == CONV_LOOKAHEAD && DF_ORDER > CONV_LOOKAHEAD);

/// What runs the networks on one frame's features (the real `Network`, or a stand-in in
/// tests of the signal path).
pub trait Estimator {
    fn reset(&mut self);
    fn step(&mut self, erb: &[f32; NB_ERB], spec: &[[f32; 2]; NB_DF], out: &mut NetworkOutput);
}

impl Estimator for Network {
    fn reset(&mut self) {
        Network::reset(self);
    }
    fn step(&mut self, erb: &[f32; NB_ERB], spec: &[[f32; 2]; NB_DF], out: &mut NetworkOutput) {
        Network::step(self, erb, spec, out);
    }
}

pub struct DeepFilter<E: Estimator = Network> {
    estimator: E,
    stft: Stft,
    features: Features,
    /// Noisy spectra X[t-4..=t] in a ring; `newest` indexes X[t].
    history: [[Complex; FREQS]; DF_ORDER],
    newest: usize,
    erb: [f32; NB_ERB],
    cplx: [[f32; 2]; NB_DF],
    net: NetworkOutput,
    enhanced: [Complex; FREQS],
    /// Share of the noisy signal mixed back in (libDF's attenuation limit), 0 = no limit.
    floor: f32,
}

impl DeepFilter<Network> {
    /// DeepFilterNet3 on the weights of `model` (see `nn::dfn_weights`).
    pub fn new(model: &DfnModel) -> Result<Self, Error> {
        Ok(Self::with_estimator(Network::new(model)?))
    }

    /// DeepFilterNet3 on weights already laid out, shared with other streams.
    pub fn with_weights(weights: Arc<NetworkWeights>) -> Self {
        Self::with_estimator(Network::with_weights(weights))
    }
}

impl<E: Estimator> DeepFilter<E> {
    pub fn with_estimator(estimator: E) -> Self {
        DeepFilter {
            estimator,
            stft: Stft::new(),
            features: Features::new(),
            history: [[Complex::ZERO; FREQS]; DF_ORDER],
            newest: DF_ORDER - 1,
            erb: [0.0; NB_ERB],
            cplx: [[0.0; 2]; NB_DF],
            net: NetworkOutput::default(),
            enhanced: [Complex::ZERO; FREQS],
            floor: 0.0,
        }
    }

    /// Back to the state of a new instance (attenuation limit kept).
    pub fn reset(&mut self) {
        self.estimator.reset();
        self.stft.reset();
        self.features.reset();
        self.history = [[Complex::ZERO; FREQS]; DF_ORDER];
    }

    /// At most `db` dB of attenuation (libDF's `atten_lim_db`): the noisy spectrum is mixed
    /// back at 10^(-db/20). `None`, or 100 dB and more, means no limit; 0 dB gives back the
    /// input, delayed like the output.
    pub fn set_attenuation_limit(&mut self, db: Option<f32>) {
        self.floor = match db.map(f32::abs) {
            Some(db) if db < 100.0 => 10f32.powf(-db / 20.0),
            _ => 0.0,
        };
    }

    /// Enhances one hop; returns the networks' local SNR estimate (dB) for the newest frame.
    /// A hop whose output is not finite comes out silent and resets the state.
    pub fn process(&mut self, input: &[f32; HOP], output: &mut [f32; HOP]) -> f32 {
        self.newest = (self.newest + 1) % DF_ORDER;
        self.stft.analyse(input, &mut self.history[self.newest]);
        self.features
            .compute(&self.history[self.newest], &mut self.erb, &mut self.cplx);
        self.estimator.step(&self.erb, &self.cplx, &mut self.net);

        // Oldest first: X[t-4], ..., X[t]; the enhanced frame X[t-2] is at CONV_LOOKAHEAD
        // from the end.
        let frames: [&[Complex; FREQS]; DF_ORDER] =
            std::array::from_fn(|i| &self.history[(self.newest + 1 + i) % DF_ORDER]);
        let noisy = frames[DF_ORDER - 1 - CONV_LOOKAHEAD];
        self.enhanced = *noisy;
        apply_erb_gains(
            &mut self.enhanced,
            &self.net.erb_mask,
            self.features.widths(),
        );
        deep_filter(frames, &self.net.df_coefs, &mut self.enhanced);
        if self.floor > 0.0 {
            for (e, x) in self.enhanced.iter_mut().zip(noisy) {
                *e = e.scale(1.0 - self.floor).add(x.scale(self.floor));
            }
        }
        self.stft.synthesise(&self.enhanced, output);
        if !(self.net.lsnr.is_finite() && output.iter().all(|v| v.is_finite())) {
            // Non-finite input (or overflow) would stay in the running means, the recurrent
            // states and the overlap-add for good: start again from silence instead.
            self.reset();
            output.fill(0.0);
            return 0.0;
        }
        self.net.lsnr
    }

    pub fn estimator(&self) -> &E {
        &self.estimator
    }
}
