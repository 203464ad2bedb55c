//! Person segmentation of camera frames with a MediaPipe selfie-segmentation model: fits a
//! picture (any pixel format of `pixels`) into the model's input, runs the network and exposes
//! the person-probability mask of the picture.
//!
//! Aspect ratio (`Fit`): a picture keeps its proportions in the model's input (centred, the
//! largest size that fits) and the mask is the part of the output under it, so it covers the
//! picture exactly. The bars around it hold the picture reflected across its edges, fading
//! into its border colours smoothed along the edge (`Fit::Reflect`): the network sees the
//! scene continue rather than an edge. Measured against the 16:9 frame's mask on 4:3, 1:1 and
//! 9:16 crops (`tests/segmentation.rs` `other_aspect_ratios`, README "Aspect ratio"), this beat
//! stretching (MediaPipe's way), black or grey bars, edge replication and 16:9 tiles (which
//! zoom in, and the network's answer changes with the scale) at one inference per frame.

use super::pixels::Picture;
use super::Mask;
use crate::nn::{Error, Network};
use crate::simd::F4;

/// How a picture whose aspect ratio differs from the model's input goes into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Resized to the whole input, proportions lost; the mask has the input's size.
    Stretch,
    /// Proportions kept, black bars around (measured worst: black reads as a scene edge).
    BlackBars,
    /// Proportions kept, the bars filled with the picture reflected across its edges and
    /// faded into its smoothed border colours (the default; see the module docs).
    Reflect,
}

pub struct Segmenter {
    net: Network,
    mask: Mask,
    /// Per content column: (left source x, right source x, right weight); rebuilt on a size change.
    columns: Vec<(usize, usize, f32)>,
    columns_for: (usize, usize),
    fit: Fit,
    /// Running sums of the border colour along a bar's edge (scratch for `fill_bars`).
    border: Vec<[f32; 4]>,
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
            fit: Fit::Reflect,
            border: Vec::with_capacity(i.w.max(i.h) + 1),
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

    /// Segments one picture: fitted into the model's input (`Fit`) with bilinear filtering;
    /// the mask covers the picture, at the size it has in the input (the model's size for a
    /// 16:9 picture, e.g. 192x144 for 4:3, 81x144 for 9:16).
    pub fn segment_picture(&mut self, picture: &Picture) -> Result<&Mask, Error> {
        let (mw, mh) = self.input_size();
        let content = if self.fit == Fit::Stretch {
            (0, 0, mw, mh)
        } else {
            letterbox(picture.width, picture.height, mw, mh)
        };
        self.fill_input(picture, content);
        if self.fit == Fit::Reflect {
            self.fill_bars(content);
        }
        let (ox, oy, cw, ch) = content;
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

    /// How pictures of another aspect ratio are fitted (`Fit::Reflect` unless changed).
    pub fn set_fit(&mut self, fit: Fit) {
        self.fit = fit;
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
        // and the bars are black (`fill_bars` then fills them for `Fit::Reflect`).
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

    /// Fills the bars around the picture at `content` in the input: the picture reflected
    /// across its edge (the column next to the edge repeats it: half-sample symmetric), faded
    /// linearly, over 0.6 x the picture's short side, into the border colour (the mean of a
    /// strip 1/16 of the short side deep along the edge, box-blurred along the edge over 1/8 of
    /// the long side each way). Parameters chosen by measurement (`other_aspect_ratios`).
    fn fill_bars(&mut self, (ox, oy, cw, ch): (usize, usize, usize, usize)) {
        let (mw, mh) = self.input_size();
        if (cw, ch) == (mw, mh) {
            return;
        }
        // Bars left and right (a picture narrower than the input) or above and below: the
        // same code on a transposed view. `at(i, j)`: input offset of pixel i along the edge,
        // j across it (j counts from the input's first column, or row).
        let side = (cw < mw) as usize; // 1: bars across columns
        let (along, across, start, len) = if side == 1 {
            (ch, mw, ox, cw)
        } else {
            (cw, mh, oy, ch)
        };
        let at = |i: usize, j: usize| -> usize {
            if side == 1 {
                ((oy + i) * mw + j) * 4
            } else {
                (j * mw + ox + i) * 4
            }
        };
        let short = cw.min(ch) as f32;
        let strip = (cw.min(ch) / 16).max(1);
        let radius = (cw.max(ch) / 8) as isize;
        let fade = 0.6 * short;
        let input = self.net.input_mut();
        let border = &mut self.border;
        for (edge, outward) in [(start, -1isize), (start + len - 1, 1)] {
            // Mean of the strip along the edge, as running sums (for the box blur along it).
            border.clear();
            border.push([0.0; 4]);
            for i in 0..along {
                let mut sum = border[i];
                for d in 0..strip {
                    let j = (edge as isize - outward * d as isize) as usize;
                    for (s, v) in sum.iter_mut().zip(&input[at(i, j)..at(i, j) + 4]) {
                        *s += v / strip as f32;
                    }
                }
                border.push(sum);
            }
            // The bar: distance d = 1.. from the edge, reflected source inside the picture.
            let bar = if outward < 0 {
                start
            } else {
                across - start - len
            };
            for d in 1..=bar {
                let t = (d as f32 / fade).min(1.0);
                let k = (d - 1) % (2 * len);
                let k = if k < len { k } else { 2 * len - 1 - k };
                let src = (edge as isize - outward * k as isize) as usize;
                let dst = (edge as isize + outward * d as isize) as usize;
                for i in 0..along {
                    let lo = (i as isize - radius).max(0) as usize;
                    let hi = (i + radius as usize + 1).min(along);
                    let (s, o) = (at(i, src), at(i, dst));
                    for c in 0..4 {
                        let b = (border[hi][c] - border[lo][c]) / (hi - lo) as f32;
                        input[o + c] = input[s + c] * (1.0 - t) + b * t;
                    }
                }
            }
        }
    }
}
