//! The CPU background renderer's browser boundary (`CpuCompositor`).
//!
//! Frames, masks and output never cross the boundary as copies: the frame is a `FrameInput`
//! (frame.rs, shared with the segmenter), JS sizes the mask and output buffers with `resize`,
//! writes the mask into wasm memory at `maskPtr()`, calls `render`, and reads the result from
//! a view at `outputPtr()`. The addresses are byte offsets into `memory.buffer`, valid until
//! the next `resize`; views must be re-created whenever `memory.buffer` changes (memory growth
//! detaches them).
//!
//! ```js
//! const c = new CpuCompositor(1280, 720, 256, 144);
//! c.setBlur(20);
//! new Float32Array(memory.buffer, c.maskPtr(), 256 * 144).set(mask);
//! c.render(input, 256, 144);   // a described 1280x720 FrameInput
//! const out = new Uint8ClampedArray(memory.buffer, c.outputPtr(), 1280 * 720 * 4);
//! ```

use super::frame::FrameInput;
use crate::video::{Background, Compositor, Frame, Mask};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct CpuCompositor {
    inner: Compositor,
    output: Vec<u8>,
    mask: Vec<f32>,
    size: (usize, usize, usize, usize),
}

#[wasm_bindgen]
impl CpuCompositor {
    /// A renderer for `width x height` frames with a `maskWidth x maskHeight` mask,
    /// background none. Buffers are allocated here.
    #[wasm_bindgen(constructor)]
    pub fn new(
        width: u32,
        height: u32,
        #[wasm_bindgen(js_name = maskWidth)] mask_width: u32,
        #[wasm_bindgen(js_name = maskHeight)] mask_height: u32,
    ) -> Result<CpuCompositor, JsError> {
        let mut c = CpuCompositor {
            inner: Compositor::new(width as usize, height as usize),
            output: Vec::new(),
            mask: Vec::new(),
            size: (0, 0, 0, 0),
        };
        c.resize(width, height, mask_width, mask_height)?;
        Ok(c)
    }

    /// Sizes the mask and output buffers (f32 mask, tightly packed RGBA output) for
    /// `width x height` frames; a no-op when nothing changed. Addresses and views must be
    /// refreshed afterwards.
    pub fn resize(
        &mut self,
        width: u32,
        height: u32,
        #[wasm_bindgen(js_name = maskWidth)] mask_width: u32,
        #[wasm_bindgen(js_name = maskHeight)] mask_height: u32,
    ) -> Result<(), JsError> {
        let (w, h, mw, mh) = (
            width as usize,
            height as usize,
            mask_width as usize,
            mask_height as usize,
        );
        let max = crate::video::MAX_DIMENSION;
        if !(1..=max).contains(&w) || !(1..=max).contains(&h) {
            return Err(JsError::new(&format!(
                "frame {w}x{h} must be 1..={max} pixels per side"
            )));
        }
        if !(1..=w).contains(&mw) || !(1..=h).contains(&mh) {
            return Err(JsError::new(&format!(
                "mask {mw}x{mh} must be 1x1 up to the frame size {w}x{h}"
            )));
        }
        if self.size != (w, h, mw, mh) {
            self.output.resize(w * h * 4, 0);
            self.mask.resize(mw * mh, 0.0);
            self.size = (w, h, mw, mh);
        }
        Ok(())
    }

    /// Address of the mask buffer (`maskWidth * maskHeight` f32s), which JS fills before
    /// `render`.
    #[wasm_bindgen(js_name = maskPtr)]
    pub fn mask_ptr(&mut self) -> usize {
        self.mask.as_mut_ptr() as usize
    }

    /// Address of the output (`width * height * 4` RGBA bytes), written by `render`.
    #[wasm_bindgen(js_name = outputPtr)]
    pub fn output_ptr(&self) -> usize {
        self.output.as_ptr() as usize
    }

    #[wasm_bindgen(js_name = setNone)]
    pub fn set_none(&mut self) {
        // Background::None is always accepted.
        let _ = self.inner.set_background(Background::None);
    }

    /// Blur radius in pixels of a 720p frame (Visio: 10 light, 20 normal).
    #[wasm_bindgen(js_name = setBlur)]
    pub fn set_blur(&mut self, radius: f32) -> Result<(), JsError> {
        Ok(self.inner.set_background(Background::Blur { radius })?)
    }

    /// A virtual background: `rgba` (width * height * 4 bytes) is copied and cover-fitted
    /// (set-up data: a typed-array argument, not a buffer in wasm memory).
    #[wasm_bindgen(js_name = setImage)]
    pub fn set_image(&mut self, rgba: &[u8], width: u32, height: u32) -> Result<(), JsError> {
        let bg = Background::Image {
            rgba: rgba.to_vec(),
            width: width as usize,
            height: height as usize,
        };
        Ok(self.inner.set_background(bg)?)
    }

    /// Forgets the previous frames' masks (the temporal smoothing starts again).
    #[wasm_bindgen(js_name = resetTemporal)]
    pub fn reset_temporal(&mut self) {
        self.inner.reset_temporal();
    }

    /// Renders the frame held by `input` (converted to RGBA once, in wasm SIMD, unless it is
    /// RGBA already) with the mask in the mask buffer into the output buffer; the sizes must
    /// be those of the last `resize`.
    pub fn render(
        &mut self,
        input: &mut FrameInput,
        #[wasm_bindgen(js_name = maskWidth)] mask_width: u32,
        #[wasm_bindgen(js_name = maskHeight)] mask_height: u32,
    ) -> Result<(), JsError> {
        let (rgba, stride, w, h) = input.rgba()?;
        let (mw, mh) = (mask_width as usize, mask_height as usize);
        if self.size != (w, h, mw, mh) {
            let (a, b, c, d) = self.size;
            return Err(JsError::new(&format!(
                "render: frame {w}x{h} with mask {mw}x{mh} does not match the buffers sized by resize({a}, {b}, {c}, {d})"
            )));
        }
        let frame = Frame {
            rgba,
            width: w,
            height: h,
            stride,
        };
        let mask = Mask {
            data: &self.mask,
            width: mw,
            height: mh,
        };
        Ok(self.inner.render(frame, mask, &mut self.output)?)
    }
}
