//! Person segmentation for JavaScript (the video pipeline and tests), through wasm-bindgen.
//!
//! The frame comes in a `FrameInput` (frame.rs: the one way a frame enters wasm memory);
//! the mask stays in wasm memory at `maskPtr()` (`maskWidth * maskHeight` f32s, valid until
//! the next `segment`), read through a view.
//!
//! ```js
//! const seg = new Segmenter(modelBytes);   // throws Error('malformed TFLite model: ...')
//! seg.segment(input);                      // a described FrameInput
//! const mask = new Float32Array(memory.buffer, seg.maskPtr(), seg.maskWidth * seg.maskHeight);
//! ```

use super::frame::FrameInput;
use crate::video::segmenter;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Segmenter {
    inner: segmenter::Segmenter,
}

#[wasm_bindgen]
impl Segmenter {
    /// Loads a selfie-segmentation `.tflite` model; throws an Error naming the problem.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8]) -> Result<Segmenter, JsError> {
        Ok(Segmenter {
            inner: segmenter::Segmenter::new(model)?,
        })
    }

    /// Width of the model input.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.inner.input_size().0 as u32
    }

    /// Height of the model input.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.inner.input_size().1 as u32
    }

    /// Segments the frame held by `input` (any of its pixel formats, read where needed: no
    /// conversion of the whole frame). The mask covers the frame: `maskWidth x maskHeight`.
    pub fn segment(&mut self, input: &FrameInput) -> Result<(), JsError> {
        #[cfg(feature = "debug-trap")]
        super::debug_trap::check();
        self.inner.segment_picture(&input.picture()?)?;
        Ok(())
    }

    /// Width of the latest mask (the model's width for a frame of its aspect ratio).
    #[wasm_bindgen(getter, js_name = maskWidth)]
    pub fn mask_width(&self) -> u32 {
        self.inner.mask().width as u32
    }

    /// Height of the latest mask.
    #[wasm_bindgen(getter, js_name = maskHeight)]
    pub fn mask_height(&self) -> u32 {
        self.inner.mask().height as u32
    }

    /// Address in wasm memory of the latest mask (`maskWidth * maskHeight` f32s in [0, 1]).
    #[wasm_bindgen(js_name = maskPtr)]
    pub fn mask_ptr(&self) -> usize {
        self.inner.mask().data.as_ptr() as usize
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance)]
    fn now() -> f64;
}

/// Development aid: milliseconds per step of one inference of `model`, one line per step
/// (what `examples/segmentation_profile.rs` prints natively, but for the wasm build).
#[doc(hidden)]
#[wasm_bindgen(js_name = profileSegmentation)]
pub fn profile_segmentation(model: &[u8], reps: u32) -> Result<String, JsError> {
    let mut net = crate::nn::Network::from_tflite(model)?;
    // Warm up: V8 first runs wasm through its baseline compiler and swaps in optimised code
    // later, so early timings would be of the wrong code.
    for _ in 0..reps.max(1) {
        net.run();
    }
    let steps = net.profile_steps(reps.max(1) as usize, now);
    Ok(steps
        .iter()
        .map(|(what, ms)| format!("{ms:.4} {what}\n"))
        .collect())
}
