//! `FrameInput`: one camera frame in wasm memory, in the pixel format it came in, shared by
//! the segmenter and the CPU renderer (one copy per frame).
//!
//! It is the one way a frame enters wasm memory: JS sizes its buffer (`reserve`), writes the
//! frame through a view at `framePtr()`, then says what it wrote (`describe`).
//!
//! ```js
//! const input = new FrameInput();
//! input.reserve(frame.allocationSize());          // may grow memory: views after
//! const layout = await frame.copyTo(new Uint8Array(memory.buffer, input.framePtr(), size)); // no options
//! input.describe(frame.format, w, h, layout.flatMap((p) => [p.offset, p.stride]),
//!   frame.colorSpace.matrix ?? '', frame.colorSpace.fullRange ?? undefined);
//! segmenter.segment(input);
//! compositor.render(input, 256, 144);   // converts to RGBA once, in wasm SIMD
//! ```

use crate::video::pixels::{Matrix, Picture, PixelFormat, PlaneLayout, YuvToRgb};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct FrameInput {
    buffer: Vec<u8>,
    format: PixelFormat,
    width: usize,
    height: usize,
    layout: Vec<PlaneLayout>,
    colour: YuvToRgb,
    /// The RGBA conversion of the current frame (YUV and BGR formats), made on first use.
    rgba: Vec<u8>,
    converted: bool,
    described: bool,
}

impl Default for FrameInput {
    fn default() -> Self {
        FrameInput::new()
    }
}

#[wasm_bindgen]
impl FrameInput {
    #[wasm_bindgen(constructor)]
    pub fn new() -> FrameInput {
        FrameInput {
            buffer: Vec::new(),
            format: PixelFormat::Rgba,
            width: 0,
            height: 0,
            layout: Vec::new(),
            colour: YuvToRgb::new(Matrix::Bt601, false),
            rgba: Vec::new(),
            converted: false,
            described: false,
        }
    }

    /// Makes the buffer at least `bytes` bytes long for the next frame's planes (and forgets
    /// the frame described). It moves only when a larger buffer is asked for (wasm memory may
    /// grow: re-create JS views after).
    pub fn reserve(&mut self, bytes: u32) {
        if self.buffer.len() < bytes as usize {
            self.buffer = vec![0; bytes as usize];
        }
        self.described = false;
    }

    /// Address of the frame buffer in wasm memory, valid until the next `reserve`.
    #[wasm_bindgen(js_name = framePtr)]
    pub fn frame_ptr(&self) -> usize {
        self.buffer.as_ptr() as usize
    }

    /// What the buffer now holds: `format` (a WebCodecs pixel format name), the visible size,
    /// `layout` as `[offset, stride]` per plane (what `copyTo` resolved to), and the colour
    /// space's `matrix` (`bt709`, `bt470bg`, `smpte170m`, `bt2020-ncl`; anything else, e.g.
    /// absent: BT.709 from 720 lines up, BT.601 below) and `fullRange` (absent: limited).
    /// Throws an Error naming the problem for an unsupported format or a layout outside the
    /// buffer.
    pub fn describe(
        &mut self,
        format: &str,
        width: u32,
        height: u32,
        layout: &[u32],
        matrix: &str,
        #[wasm_bindgen(js_name = fullRange)] full_range: Option<bool>,
    ) -> Result<(), JsError> {
        self.described = false;
        let f = PixelFormat::parse(format).ok_or_else(|| {
            JsError::new(&format!(
                "pixel format {format:?} is not supported (I420, I420A, NV12, RGBA, RGBX, BGRA and BGRX are)"
            ))
        })?;
        let (w, h) = (width as usize, height as usize);
        let m = Matrix::parse(matrix).unwrap_or_else(|| Matrix::default_for(h));
        let planes: Vec<PlaneLayout> = layout
            .chunks_exact(2)
            .map(|p| PlaneLayout {
                offset: p[0] as usize,
                stride: p[1] as usize,
            })
            .collect();
        let colour = YuvToRgb::new(m, full_range.unwrap_or(false));
        Picture::new(f, w, h, &self.buffer, &planes, colour)
            .map_err(|e| JsError::new(&format!("frame {format} {w}x{h}: {e}")))?;
        (
            self.format,
            self.width,
            self.height,
            self.layout,
            self.colour,
        ) = (f, w, h, planes, colour);
        self.converted = false;
        self.described = true;
        Ok(())
    }

    /// The YUV -> RGB coefficients in use `[ys, yo, rv, gu, gv, bu]` (for the WebGL2 shader).
    pub fn coefficients(&self) -> Vec<f32> {
        self.colour.coefficients().to_vec()
    }
}

impl FrameInput {
    /// The described picture.
    pub(crate) fn picture(&self) -> Result<Picture<'_>, JsError> {
        if !self.described {
            return Err(JsError::new(
                "no frame described in the FrameInput (reserve() then describe())",
            ));
        }
        Ok(Picture::new(
            self.format,
            self.width,
            self.height,
            &self.buffer,
            &self.layout,
            self.colour,
        )?)
    }

    /// The picture as RGBA rows: (bytes, stride, width, height); converted once per frame.
    pub(crate) fn rgba(&mut self) -> Result<(&[u8], usize, usize, usize), JsError> {
        let picture = self.picture()?;
        let (w, h) = (picture.width, picture.height);
        let direct = picture
            .as_rgba()
            .map(|(_, stride)| (self.layout[0].offset, stride));
        if let Some((offset, stride)) = direct {
            return Ok((&self.buffer[offset..], stride, w, h));
        }
        if !self.converted {
            self.rgba.resize(w * h * 4, 0);
            let picture = Picture::new(self.format, w, h, &self.buffer, &self.layout, self.colour)?;
            picture.to_rgba(&mut self.rgba);
            self.converted = true;
        }
        Ok((&self.rgba[..w * h * 4], 4 * w, w, h))
    }
}
