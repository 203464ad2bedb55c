//! Any bytes given to the model loader must load or return an error, never panic or read out
//! of bounds; a model that loads must also run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use visio_media_effects::video::segmenter::Segmenter;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut segmenter) = Segmenter::new(data) {
        let frame = [127u8; 8 * 6 * 4];
        let _ = segmenter.segment(&frame, 8, 6, 8 * 4);
    }
});
