//! Person segmentation of camera frames with a MediaPipe selfie-segmentation model: resizes an
//! RGBA frame to the model's input, runs the network and exposes the person-probability mask.

use crate::nn::simd::F4;
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
        if need.is_none_or(|n| rgba.len() < n) {
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
        // The input has 3 channels padded to 4 (checked in `new`): one RGBA pixel per F4. The
        // scale zeroes the alpha lane, which is the channel padding (the arena reuses this
        // memory, so it must be cleared).
        let input = self.net.input_mut();
        let scale = F4::load(&[1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0, 0.0], 0);
        let pixel = |r: &[u8], x: usize| {
            let b = &r[x * 4..x * 4 + 4];
            F4::load(&[b[0] as f32, b[1] as f32, b[2] as f32, b[3] as f32], 0)
        };
        for (y, row) in input.chunks_exact_mut(mw * 4).take(mh).enumerate() {
            let (y0, y1, fy) = source_position(y, height, mh);
            let (r0, r1) = (&rgba[y0 * stride..], &rgba[y1 * stride..]);
            if width == mw && height == mh {
                for (x, px) in row.chunks_exact_mut(4).enumerate() {
                    pixel(r0, x).mul(scale).store(px, 0);
                }
                continue;
            }
            let (wy0, wy1) = (F4::splat(1.0 - fy), F4::splat(fy));
            for (px, &(x0, x1, fx)) in row.chunks_exact_mut(4).zip(&self.columns) {
                let (wx0, wx1) = (F4::splat(1.0 - fx), F4::splat(fx));
                let top = pixel(r0, x0).mul(wx0).add(pixel(r0, x1).mul(wx1));
                let bottom = pixel(r1, x0).mul(wx0).add(pixel(r1, x1).mul(wx1));
                top.mul(wy0).add(bottom.mul(wy1)).mul(scale).store(px, 0);
            }
        }
    }
}
