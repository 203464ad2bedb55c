//! Person segmentation of camera frames with a MediaPipe selfie-segmentation model: resizes an
//! RGBA frame to the model's input, runs the network and exposes the person-probability mask.

use crate::nn::{Error, Network};

/// Person probability per pixel, in [0, 1], at the model's resolution, row-major.
pub struct Mask {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

pub struct Segmenter {
    net: Network,
    mask: Mask,
    /// Per model column: (left source x, right source x, right weight); rebuilt on a size change.
    columns: Vec<(usize, usize, f32)>,
    columns_for: usize,
}

/// Bilinear source positions (half-pixel centres, clamped at the edges) for one axis.
fn source_position(o: usize, in_size: usize, out_size: usize) -> (usize, usize, f32) {
    let v = ((o as f32 + 0.5) * in_size as f32 / out_size as f32 - 0.5).max(0.0);
    let lo = (v as usize).min(in_size - 1);
    let hi = (lo + 1).min(in_size - 1);
    (lo, hi, v - lo as f32)
}

impl Segmenter {
    /// Loads a `.tflite` selfie-segmentation model (input [1, H, W, 3], output [1, H, W, 1]).
    pub fn new(model: &[u8]) -> Result<Segmenter, Error> {
        let net = Network::from_tflite(model)?;
        let (i, o) = (net.input_dims(), net.output_dims());
        if net.input_channels() != 3 || net.output_channels() != 1 || (i.h, i.w) != (o.h, o.w) {
            return Err(Error::Input(format!(
                "not a segmentation model: input {}x{}x{}, output {}x{}x{} (expected HxWx3 -> HxWx1)",
                i.h, i.w, net.input_channels(), o.h, o.w, net.output_channels()
            )));
        }
        let mask = Mask {
            width: o.w,
            height: o.h,
            data: vec![0.0; o.w * o.h],
        };
        Ok(Segmenter {
            net,
            mask,
            columns: Vec::with_capacity(i.w),
            columns_for: 0,
        })
    }

    /// The model's input size (width, height): frames are resized to it, and masks have it.
    pub fn input_size(&self) -> (usize, usize) {
        (self.mask.width, self.mask.height)
    }

    /// Segments one RGBA frame (`stride` bytes per row; alpha is ignored). The frame is resized
    /// to the model's input with bilinear filtering; the returned mask is at model resolution.
    pub fn segment(
        &mut self,
        rgba: &[u8],
        width: usize,
        height: usize,
        stride: usize,
    ) -> Result<&Mask, Error> {
        if width == 0 || height == 0 || stride < width.saturating_mul(4) {
            return Err(Error::Input(format!(
                "frame {width}x{height} with stride {stride} bytes (needs >= 4 x width)"
            )));
        }
        let need = (height - 1)
            .checked_mul(stride)
            .and_then(|n| n.checked_add(width * 4));
        if need.map_or(true, |n| rgba.len() < n) {
            return Err(Error::Input(format!(
                "frame {width}x{height} stride {stride} needs {need:?} bytes, got {}",
                rgba.len()
            )));
        }
        self.fill_input(rgba, width, height, stride);
        self.net.run();
        let out = self.net.output();
        let c = self.net.output_dims().c;
        for (m, px) in self.mask.data.iter_mut().zip(out.chunks_exact(c)) {
            *m = px[0];
        }
        Ok(&self.mask)
    }

    pub fn mask(&self) -> &Mask {
        &self.mask
    }

    fn fill_input(&mut self, rgba: &[u8], width: usize, height: usize, stride: usize) {
        let (mw, mh) = (self.mask.width, self.mask.height);
        if self.columns_for != width || self.columns.len() != mw {
            self.columns.clear();
            self.columns
                .extend((0..mw).map(|x| source_position(x, width, mw)));
            self.columns_for = width;
        }
        let input = self.net.input_mut();
        let c = input.len() / (mw * mh);
        const SCALE: f32 = 1.0 / 255.0;
        for y in 0..mh {
            let (y0, y1, fy) = source_position(y, height, mh);
            let (r0, r1) = (&rgba[y0 * stride..], &rgba[y1 * stride..]);
            let row = &mut input[y * mw * c..(y + 1) * mw * c];
            for (px, &(x0, x1, fx)) in row.chunks_exact_mut(c).zip(&self.columns) {
                for ch in 0..3 {
                    let p = |r: &[u8], x: usize| r[x * 4 + ch] as f32;
                    let top = p(r0, x0) + (p(r0, x1) - p(r0, x0)) * fx;
                    let bottom = p(r1, x0) + (p(r1, x1) - p(r1, x0)) * fx;
                    px[ch] = (top + (bottom - top) * fy) * SCALE;
                }
                // The channel padding: the arena reuses this memory, so clear what is left.
                for v in &mut px[3..] {
                    *v = 0.0;
                }
            }
        }
    }
}
