//! Person segmentation of camera frames with a MediaPipe selfie-segmentation model: fits a
//! picture (any pixel format of `pixels`) into the model's input, runs the network and exposes
//! the person-probability mask of the picture.
//!
//! Aspect ratio: by default the picture is stretched to the model's input (as MediaPipe does)
//! and the mask covers the picture. `set_letterbox(true)` fits it inside with its proportions
//! kept and black bars instead (the mask is then the part of the output under the picture);
//! measured on 4:3, 1:1 and 9:16 crops of the 16:9 fixtures (`tests/segmentation.rs`
//! `other_aspect_ratios`), black bars did worse than stretching for 4:3 and 1:1, so it is off.

use super::pixels::Picture;
use super::Mask;
use crate::nn::simd::F4;
use crate::nn::{Error, Network};

pub struct Segmenter {
    net: Network,
    mask: Mask,
    /// Per content column: (left source x, right source x, right weight); rebuilt on a size change.
    columns: Vec<(usize, usize, f32)>,
    columns_for: (usize, usize),
    letterbox: bool,
}

/// Where a `width x height` picture goes in a `mw x mh` input: (x, y, w, h), proportions
/// kept (to the nearest pixel), centred.
pub fn letterbox(
    width: usize,
    height: usize,
    mw: usize,
    mh: usize,
) -> (usize, usize, usize, usize) {
    let s = (mw as f64 / width as f64).min(mh as f64 / height as f64);
    let w = ((width as f64 * s).round() as usize).clamp(1, mw);
    let h = ((height as f64 * s).round() as usize).clamp(1, mh);
    ((mw - w) / 2, (mh - h) / 2, w, h)
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
            columns_for: (0, 0),
            letterbox: false,
        })
    }

    /// The model's input size (width, height): frames are resized to it, and masks have it.
    pub fn input_size(&self) -> (usize, usize) {
        let i = self.net.input_dims();
        (i.w, i.h)
    }

    /// Segments one RGBA frame (`stride` bytes per row; alpha is ignored); see
    /// `segment_picture`.
    pub fn segment(
        &mut self,
        rgba: &[u8],
        width: usize,
        height: usize,
        stride: usize,
    ) -> Result<&Mask, Error> {
        let picture = Picture::rgba(rgba, width, height, stride).map_err(|e| {
            Error::Input(format!("frame {width}x{height} with stride {stride}: {e}"))
        })?;
        self.segment_picture(&picture)
    }

    /// Segments one picture: letterboxed into the model's input with bilinear filtering; the
    /// mask covers the picture (see the module docs for its size).
    pub fn segment_picture(&mut self, picture: &Picture) -> Result<&Mask, Error> {
        let (mw, mh) = self.input_size();
        let (ox, oy, cw, ch) = if self.letterbox {
            letterbox(picture.width, picture.height, mw, mh)
        } else {
            (0, 0, mw, mh)
        };
        self.fill_input(picture, (ox, oy, cw, ch));
        self.net.run();
        let out = self.net.output();
        let c = self.net.output_dims().c;
        let mask = &mut self.mask;
        if (mask.width, mask.height) != (cw, ch) {
            *mask = Mask {
                width: cw,
                height: ch,
                data: vec![0.0; cw * ch],
            };
        }
        for (y, row) in mask.data.chunks_exact_mut(cw).enumerate() {
            let src = &out[((oy + y) * mw + ox) * c..];
            for (m, px) in row.iter_mut().zip(src.chunks_exact(c)) {
                *m = px[0];
            }
        }
        Ok(&self.mask)
    }

    /// Letterbox frames of another aspect ratio instead of stretching them (see the module docs).
    pub fn set_letterbox(&mut self, on: bool) {
        self.letterbox = on;
    }

    pub fn mask(&self) -> &Mask {
        &self.mask
    }

    fn fill_input(&mut self, picture: &Picture, (ox, oy, cw, ch): (usize, usize, usize, usize)) {
        let (mw, mh) = (self.net.input_dims().w, self.net.input_dims().h);
        let (width, height) = (picture.width, picture.height);
        if self.columns_for != (width, cw) {
            self.columns.clear();
            self.columns
                .extend((0..cw).map(|x| source_position(x, width, cw)));
            self.columns_for = (width, cw);
        }
        // The input has 3 channels padded to 4 (checked in `new`): one pixel per F4. The
        // scale zeroes the padding lane (the arena reuses this memory, so it must be cleared),
        // and the letterbox bars are black.
        let input = self.net.input_mut();
        let columns = &self.columns;
        picture.with_rgb(|rgb| {
            let scale = F4::load(&[1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0, 0.0], 0);
            let pixel = |x: usize, y: usize| {
                let [r, g, b] = rgb(x, y);
                F4::load(&[r, g, b, 0.0], 0)
            };
            let clamp = |v: F4| v.max(F4::splat(0.0)).min(F4::splat(255.0));
            for (y, row) in input.chunks_exact_mut(mw * 4).take(mh).enumerate() {
                if y < oy || y >= oy + ch {
                    row.fill(0.0);
                    continue;
                }
                row[..ox * 4].fill(0.0);
                row[(ox + cw) * 4..].fill(0.0);
                let content = &mut row[ox * 4..(ox + cw) * 4];
                let (y0, y1, fy) = source_position(y - oy, height, ch);
                if width == cw && height == ch {
                    for (x, px) in content.chunks_exact_mut(4).enumerate() {
                        clamp(pixel(x, y0)).mul(scale).store(px, 0);
                    }
                    continue;
                }
                let (wy0, wy1) = (F4::splat(1.0 - fy), F4::splat(fy));
                for (px, &(x0, x1, fx)) in content.chunks_exact_mut(4).zip(columns) {
                    let (wx0, wx1) = (F4::splat(1.0 - fx), F4::splat(fx));
                    let top = pixel(x0, y0).mul(wx0).add(pixel(x1, y0).mul(wx1));
                    let bottom = pixel(x0, y1).mul(wx0).add(pixel(x1, y1).mul(wx1));
                    clamp(top.mul(wy0).add(bottom.mul(wy1)))
                        .mul(scale)
                        .store(px, 0);
                }
            }
        });
    }
}
