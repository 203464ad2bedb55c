//! Person segmentation for JavaScript (the video pipeline and tests), through wasm-bindgen.
//!
//! Two ways in: `segment(rgba, width, height, stride)` copies the frame from a JS array; or, with
//! no copy, `frameBuffer(bytes)` returns the address of a buffer inside wasm memory that JS fills
//! (e.g. from `VideoFrame.copyTo` or `getImageData`) before `segmentFrame(width, height, stride)`.
//! The mask stays in wasm memory at `maskPtr()` (`width * height` f32s, valid until the next
//! call); `mask()` returns a copy.

use super::frame::FrameInput;
use crate::video::segmenter;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Segmenter {
    inner: segmenter::Segmenter,
    frame: Vec<u8>,
}

#[wasm_bindgen]
impl Segmenter {
    /// Loads a selfie-segmentation `.tflite` model; throws an Error naming the problem.
    #[wasm_bindgen(constructor)]
    pub fn new(model: &[u8]) -> Result<Segmenter, JsError> {
        let inner = segmenter::Segmenter::new(model).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(Segmenter {
            inner,
            frame: Vec::new(),
        })
    }

    /// Width of the model input, and of the mask.
    #[wasm_bindgen(getter)]
    pub fn width(&self) -> u32 {
        self.inner.input_size().0 as u32
    }

    /// Height of the model input, and of the mask.
    #[wasm_bindgen(getter)]
    pub fn height(&self) -> u32 {
        self.inner.input_size().1 as u32
    }

    /// Segments an RGBA frame given as a JS array (copied into wasm memory).
    pub fn segment(
        &mut self,
        rgba: &[u8],
        width: u32,
        height: u32,
        stride: u32,
    ) -> Result<(), JsError> {
        self.inner
            .segment(rgba, width as usize, height as usize, stride as usize)
            .map(|_| ())
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Address in wasm memory of a frame buffer of `bytes` bytes for `segmentFrame`. It moves
    /// only when a larger buffer is asked for (and wasm memory may grow: re-create JS views).
    #[wasm_bindgen(js_name = frameBuffer)]
    pub fn frame_buffer(&mut self, bytes: u32) -> u32 {
        if self.frame.len() < bytes as usize {
            self.frame = vec![0; bytes as usize];
        }
        self.frame.as_ptr() as u32
    }

    /// Segments the frame written at `frameBuffer()`.
    #[wasm_bindgen(js_name = segmentFrame)]
    pub fn segment_frame(&mut self, width: u32, height: u32, stride: u32) -> Result<(), JsError> {
        self.inner
            .segment(
                &self.frame,
                width as usize,
                height as usize,
                stride as usize,
            )
            .map(|_| ())
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Segments the frame held by `input` (any of its pixel formats, read where needed: no
    /// conversion of the whole frame). The mask covers the frame: `maskWidth x maskHeight`.
    #[wasm_bindgen(js_name = segmentInput)]
    pub fn segment_input(&mut self, input: &FrameInput) -> Result<(), JsError> {
        #[cfg(feature = "debug-trap")]
        super::debug_trap::check();
        let picture = input.picture()?;
        self.inner
            .segment_picture(&picture)
            .map(|_| ())
            .map_err(|e| JsError::new(&e.to_string()))
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
    pub fn mask_ptr(&self) -> u32 {
        self.inner.mask().data.as_ptr() as u32
    }

    /// A copy of the latest mask.
    pub fn mask(&self) -> Vec<f32> {
        self.inner.mask().data.clone()
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
    let mut net =
        crate::nn::Network::from_tflite(model).map_err(|e| JsError::new(&e.to_string()))?;
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
