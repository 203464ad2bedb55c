//! Any bytes given to the DeepFilterNet weight reader must parse or return an error, never
//! panic; weights that parse must build the networks or name what is missing, and networks
//! that build must run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use visio_media_effects::audio::deepfilter::network::{Network, NetworkOutput, NB_DF, NB_ERB};
use visio_media_effects::nn::dfn_weights::DfnModel;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = DfnModel::parse(data) {
        if let Ok(mut net) = Network::new(&model) {
            let mut out = NetworkOutput::default();
            net.step(&[0.5; NB_ERB], &[[0.5, -0.5]; NB_DF], &mut out);
        }
    }
});
