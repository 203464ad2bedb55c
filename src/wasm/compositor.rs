//! The CPU background renderer's browser boundary (`CpuCompositor`).
//!
//! Frames, masks and output never cross the boundary as copies: JS sizes the buffers with
//! `resize`, then writes the frame (`VideoFrame.copyTo`, `getImageData` data `.set`) and
//! the mask straight into wasm memory at `frame_ptr()` / `mask_ptr()`, calls `render`, and
//! reads the result from a view at `output_ptr()`. The pointers are byte offsets into
//! `memory.buffer`, valid until the next `resize`; views must be re-created whenever
//! `memory.buffer` changes (memory growth detaches them).
//!
//! ```js
//! const c = new CpuCompositor(1280, 720);
//! c.set_blur(20);
//! c.resize(1280, 720, 256, 144);
//! await frame.copyTo(new Uint8Array(memory.buffer, c.frame_ptr(), 1280 * 720 * 4), { format: 'RGBA' });
//! new Float32Array(memory.buffer, c.mask_ptr(), 256 * 144).set(mask);
//! c.render(1280, 720, 256, 144);
//! const out = new Uint8ClampedArray(memory.buffer, c.output_ptr(), 1280 * 720 * 4);
//! ```

use super::frame::FrameInput;
use crate::video::{Background, Compositor, Frame, Mask};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct CpuCompositor {
    inner: Compositor,
    frame: Vec<u8>,
    output: Vec<u8>,
    mask: Vec<f32>,
    size: (usize, usize, usize, usize),
}

#[wasm_bindgen]
impl CpuCompositor {
    /// A renderer for `width x height` frames with a `mask_width x mask_height` mask,
    /// background none. Buffers are allocated here.
    #[wasm_bindgen(constructor)]
    pub fn new(
        width: u32,
        height: u32,
        mask_width: u32,
        mask_height: u32,
    ) -> Result<CpuCompositor, JsError> {
        let mut c = CpuCompositor {
            inner: Compositor::new(width as usize, height as usize),
            frame: Vec::new(),
            output: Vec::new(),
            mask: Vec::new(),
            size: (0, 0, 0, 0),
        };
        c.resize(width, height, mask_width, mask_height)?;
        Ok(c)
    }

    /// Sizes the frame, mask and output buffers (tightly packed RGBA frame, f32 mask);
    /// a no-op when nothing changed. Pointers and views must be refreshed afterwards.
    pub fn resize(
        &mut self,
        width: u32,
        height: u32,
        mask_width: u32,
        mask_height: u32,
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
            self.frame.resize(w * h * 4, 0);
            self.output.resize(w * h * 4, 0);
            self.mask.resize(mw * mh, 0.0);
            self.size = (w, h, mw, mh);
        }
        Ok(())
    }

    /// Address of the RGBA frame buffer (`width * height * 4` bytes) for `render`
    /// (`renderInput` reads a FrameInput instead).
    pub fn frame_ptr(&mut self) -> usize {
        self.frame.as_mut_ptr() as usize
    }

    pub fn mask_ptr(&mut self) -> usize {
        self.mask.as_mut_ptr() as usize
    }

    pub fn output_ptr(&self) -> usize {
        self.output.as_ptr() as usize
    }

    pub fn set_none(&mut self) {
        // Background::None is always accepted.
        let _ = self.inner.set_background(Background::None);
    }

    /// Blur radius in pixels of a 720p frame (Visio: 10 light, 20 normal).
    pub fn set_blur(&mut self, radius: f32) -> Result<(), JsError> {
        self.inner
            .set_background(Background::Blur { radius })
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// A virtual background: `rgba` (width * height * 4 bytes) is copied and cover-fitted.
    pub fn set_image(&mut self, rgba: &[u8], width: u32, height: u32) -> Result<(), JsError> {
        let bg = Background::Image {
            rgba: rgba.to_vec(),
            width: width as usize,
            height: height as usize,
        };
        self.inner
            .set_background(bg)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    pub fn reset_temporal(&mut self) {
        self.inner.reset_temporal();
    }

    /// Renders the frame held by `input` (converted to RGBA once, in wasm SIMD, unless it is
    /// RGBA already) with the mask in the mask buffer; the sizes must be those of the last
    /// `resize`, and the input's.
    #[wasm_bindgen(js_name = renderInput)]
    pub fn render_input(
        &mut self,
        input: &mut FrameInput,
        mask_width: u32,
        mask_height: u32,
    ) -> Result<(), JsError> {
        let (rgba, stride, w, h) = input.rgba()?;
        let (mw, mh) = (mask_width as usize, mask_height as usize);
        if self.size != (w, h, mw, mh) {
            let (a, b, c, d) = self.size;
            return Err(JsError::new(&format!(
                "renderInput: frame {w}x{h} with mask {mw}x{mh} does not match the buffers sized by resize({a}, {b}, {c}, {d})"
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
        self.inner
            .render(frame, mask, &mut self.output)
            .map_err(|e| JsError::new(&e.to_string()))
    }

    /// Renders the frame and mask in the buffers into the output buffer; the sizes must be
    /// those of the last `resize`.
    pub fn render(
        &mut self,
        width: u32,
        height: u32,
        mask_width: u32,
        mask_height: u32,
    ) -> Result<(), JsError> {
        let (w, h, mw, mh) = (
            width as usize,
            height as usize,
            mask_width as usize,
            mask_height as usize,
        );
        if self.size != (w, h, mw, mh) {
            let (a, b, c, d) = self.size;
            return Err(JsError::new(&format!(
                "render({w}, {h}, {mw}, {mh}) does not match the buffers sized by resize({a}, {b}, {c}, {d})"
            )));
        }
        let frame = Frame {
            rgba: &self.frame,
            width: w,
            height: h,
            stride: 4 * w,
        };
        let mask = Mask {
            data: &self.mask,
            width: mw,
            height: mh,
        };
        self.inner
            .render(frame, mask, &mut self.output)
            .map_err(|e| JsError::new(&e.to_string()))
    }
}
