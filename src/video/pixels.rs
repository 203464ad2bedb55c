//! Camera pictures in the pixel formats browsers hand over (WebCodecs `VideoPixelFormat`):
//! planar/semi-planar 4:2:0 YUV (`I420`, `I420A`, `NV12`) and packed 8-bit RGB (`RGBA`, `RGBX`,
//! `BGRA`, `BGRX`), laid out as `VideoFrame.copyTo` writes them (each plane at an offset, rows
//! `stride` bytes apart). A `Picture` borrows those bytes; the renderer gets them as RGBA
//! (`to_rgba`, wasm SIMD), the segmenter samples them where it needs them (`rgb_at`).
//!
//! YUV to RGB: `R = Y' + 2 (1 - Kr) V'`, `G = Y' - (2 Kb (1 - Kb) U' + 2 Kr (1 - Kr) V') / Kg`,
//! `B = Y' + 2 (1 - Kb) U'` with `Kg = 1 - Kr - Kb` and, for limited ("video") range,
//! `Y' = (Y - 16) 255/219`, `U' = (U - 128) 255/224` (full range: `Y' = Y`, `U' = U - 128`).
//! Chroma is upsampled by repetition (each 2x2 block of pixels takes its chroma sample), as
//! libyuv (Chromium's and WebKit's converter) does; the WebGL2 renderer fetches the same texel.

use crate::simd::I16x8;
use std::fmt;

/// The pixel formats accepted (WebCodecs names in `parse`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    /// Y, U, V planes; U and V at half width and height.
    I420,
    /// I420 plus a full-size alpha plane (ignored: camera pictures are opaque).
    I420A,
    /// Y plane, then one plane of interleaved U V at half width and height.
    Nv12,
    Rgba,
    Rgbx,
    Bgra,
    Bgrx,
}

impl PixelFormat {
    /// The WebCodecs name (`VideoFrame.format`), or `None` for a format not handled here.
    pub fn parse(name: &str) -> Option<PixelFormat> {
        Some(match name {
            "I420" => PixelFormat::I420,
            "I420A" => PixelFormat::I420A,
            "NV12" => PixelFormat::Nv12,
            "RGBA" => PixelFormat::Rgba,
            "RGBX" => PixelFormat::Rgbx,
            "BGRA" => PixelFormat::Bgra,
            "BGRX" => PixelFormat::Bgrx,
            _ => return None,
        })
    }

    /// Number of planes `copyTo` writes.
    pub fn planes(self) -> usize {
        match self {
            PixelFormat::I420 => 3,
            PixelFormat::I420A => 4,
            PixelFormat::Nv12 => 2,
            _ => 1,
        }
    }

    pub fn is_yuv(self) -> bool {
        matches!(
            self,
            PixelFormat::I420 | PixelFormat::I420A | PixelFormat::Nv12
        )
    }

    /// (bytes per sample, width divisor, height divisor) of plane `p`.
    fn plane_geometry(self, p: usize) -> (usize, usize, usize) {
        match (self, p) {
            (PixelFormat::Nv12, 1) => (2, 2, 2),
            (PixelFormat::I420 | PixelFormat::I420A, 1 | 2) => (1, 2, 2),
            (f, _) if f.is_yuv() => (1, 1, 1),
            _ => (4, 1, 1),
        }
    }
}

/// The YUV matrix (`VideoColorSpace.matrix`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matrix {
    /// BT.601 (`bt470bg`, `smpte170m`): Kr 0.299, Kb 0.114.
    Bt601,
    /// BT.709 (`bt709`): Kr 0.2126, Kb 0.0722.
    Bt709,
    /// BT.2020 non-constant luminance (`bt2020-ncl`): Kr 0.2627, Kb 0.0593.
    Bt2020,
}

impl Matrix {
    /// The WebCodecs name; `None` for `rgb` or an unknown name (the caller's default applies).
    pub fn parse(name: &str) -> Option<Matrix> {
        Some(match name {
            "bt470bg" | "smpte170m" => Matrix::Bt601,
            "bt709" => Matrix::Bt709,
            "bt2020-ncl" => Matrix::Bt2020,
            _ => return None,
        })
    }

    fn kr_kb(self) -> (f32, f32) {
        match self {
            Matrix::Bt601 => (0.299, 0.114),
            Matrix::Bt709 => (0.2126, 0.0722),
            Matrix::Bt2020 => (0.2627, 0.0593),
        }
    }

    /// When a frame does not say: BT.709 from 720 lines up (HD), BT.601 below (SD), the rule
    /// of thumb of players and of Chromium's own software decoders.
    pub fn default_for(height: usize) -> Matrix {
        if height >= 720 {
            Matrix::Bt709
        } else {
            Matrix::Bt601
        }
    }
}

/// A YUV -> RGB conversion: matrix and range, as float coefficients (for sampling) and as
/// the fixed-point ones of the SIMD kernel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YuvToRgb {
    pub matrix: Matrix,
    pub full_range: bool,
    /// `[y scale, y offset, r from v, g from u, g from v, b from u]`: `R = ys Y + yo + rv V'`...
    /// with `V' = V - 128`.
    k: [f32; 6],
}

/// Fractional bits of the fixed-point kernel's sums (i16 lanes: 255 * 2.2 * 32 fits).
const FRAC: u32 = 5;

impl YuvToRgb {
    pub fn new(matrix: Matrix, full_range: bool) -> YuvToRgb {
        let (kr, kb) = matrix.kr_kb();
        let kg = 1.0 - kr - kb;
        let (ys, yo, cs) = if full_range {
            (1.0, 0.0, 1.0)
        } else {
            (255.0 / 219.0, -16.0 * 255.0 / 219.0, 255.0 / 224.0)
        };
        let k = [
            ys,
            yo,
            2.0 * (1.0 - kr) * cs,
            -2.0 * kb * (1.0 - kb) / kg * cs,
            -2.0 * kr * (1.0 - kr) / kg * cs,
            2.0 * (1.0 - kb) * cs,
        ];
        YuvToRgb {
            matrix,
            full_range,
            k,
        }
    }

    /// The float coefficients `[ys, yo, rv, gu, gv, bu]` (the WebGL2 shader takes these).
    pub fn coefficients(&self) -> [f32; 6] {
        self.k
    }

    /// RGB (0..255, not clamped) of one Y U V sample.
    #[inline(always)]
    pub fn rgb(&self, y: f32, u: f32, v: f32) -> [f32; 3] {
        let [ys, yo, rv, gu, gv, bu] = self.k;
        let (l, u, v) = (ys * y + yo, u - 128.0, v - 128.0);
        [l + rv * v, l + gu * u + gv * v, l + bu * u]
    }

    /// The kernel's constants: Q15 multipliers `coef * 2^(FRAC + 8)` (the operands are
    /// `value << 7`) and the offset `yo * 2^FRAC` plus the rounding half.
    fn fixed(&self) -> ([I16x8; 5], I16x8) {
        let q = |c: f32| I16x8::splat((c * (1 << (FRAC + 8)) as f32).round() as i16);
        let [ys, yo, rv, gu, gv, bu] = self.k;
        let offset = (yo * (1 << FRAC) as f32).round() as i16 + (1 << (FRAC - 1));
        ([q(ys), q(rv), q(gu), q(gv), q(bu)], I16x8::splat(offset))
    }
}

/// Where a plane starts in the buffer and how many bytes its rows are apart
/// (WebCodecs `PlaneLayout`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlaneLayout {
    pub offset: usize,
    pub stride: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PictureError {
    Size {
        width: usize,
        height: usize,
    },
    Planes {
        format: PixelFormat,
        got: usize,
    },
    Stride {
        plane: usize,
        stride: usize,
        needed: usize,
    },
    Bounds {
        plane: usize,
        end: usize,
        len: usize,
    },
}

impl fmt::Display for PictureError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            PictureError::Size { width, height } => {
                write!(f, "picture {width}x{height} must be at least 1x1")
            }
            PictureError::Planes { format, got } => {
                write!(
                    f,
                    "{format:?} has {} planes, got a layout for {got}",
                    format.planes()
                )
            }
            PictureError::Stride {
                plane,
                stride,
                needed,
            } => {
                write!(
                    f,
                    "plane {plane}: stride {stride} bytes, at least {needed} needed"
                )
            }
            PictureError::Bounds { plane, end, len } => {
                write!(
                    f,
                    "plane {plane} ends at byte {end}, the buffer holds {len}"
                )
            }
        }
    }
}

impl std::error::Error for PictureError {}

/// A picture in one of the `PixelFormat`s, validated: every row of every plane lies inside
/// `data`.
#[derive(Clone, Copy, Debug)]
pub struct Picture<'a> {
    pub format: PixelFormat,
    pub width: usize,
    pub height: usize,
    pub data: &'a [u8],
    pub planes: [PlaneLayout; 4],
    pub colour: YuvToRgb,
}

impl<'a> Picture<'a> {
    /// `layout` has one entry per plane of `format`; `colour` is used by YUV formats only.
    pub fn new(
        format: PixelFormat,
        width: usize,
        height: usize,
        data: &'a [u8],
        layout: &[PlaneLayout],
        colour: YuvToRgb,
    ) -> Result<Picture<'a>, PictureError> {
        if width == 0 || height == 0 {
            return Err(PictureError::Size { width, height });
        }
        if layout.len() != format.planes() {
            return Err(PictureError::Planes {
                format,
                got: layout.len(),
            });
        }
        let mut planes = [PlaneLayout::default(); 4];
        for (p, l) in layout.iter().enumerate() {
            let (bytes, dx, dy) = format.plane_geometry(p);
            let row = width.div_ceil(dx) * bytes;
            if l.stride < row {
                return Err(PictureError::Stride {
                    plane: p,
                    stride: l.stride,
                    needed: row,
                });
            }
            let end = (height.div_ceil(dy) - 1)
                .checked_mul(l.stride)
                .and_then(|n| n.checked_add(l.offset))
                .and_then(|n| n.checked_add(row))
                .unwrap_or(usize::MAX);
            if end > data.len() {
                return Err(PictureError::Bounds {
                    plane: p,
                    end,
                    len: data.len(),
                });
            }
            planes[p] = *l;
        }
        Ok(Picture {
            format,
            width,
            height,
            data,
            planes,
            colour,
        })
    }

    /// A tightly packed RGBA picture (`stride` bytes per row).
    pub fn rgba(
        data: &'a [u8],
        width: usize,
        height: usize,
        stride: usize,
    ) -> Result<Picture<'a>, PictureError> {
        let colour = YuvToRgb::new(Matrix::Bt601, false);
        Picture::new(
            PixelFormat::Rgba,
            width,
            height,
            data,
            &[PlaneLayout { offset: 0, stride }],
            colour,
        )
    }

    /// Row `y` of plane `p`, from its first byte to the end of the buffer.
    #[inline(always)]
    fn row(&self, p: usize, y: usize) -> &'a [u8] {
        let l = self.planes[p];
        &self.data[l.offset + y * l.stride..]
    }

    /// The picture as packed RGBA when it already is (`RGBA`, `RGBX`): (bytes, stride).
    pub fn as_rgba(&self) -> Option<(&'a [u8], usize)> {
        matches!(self.format, PixelFormat::Rgba | PixelFormat::Rgbx)
            .then(|| (&self.data[self.planes[0].offset..], self.planes[0].stride))
    }

    /// Converts to tightly packed RGBA (`width * height * 4` bytes, alpha 255).
    pub fn to_rgba(&self, out: &mut [u8]) {
        let (w, h) = (self.width, self.height);
        assert_eq!(out.len(), w * h * 4, "output buffer size");
        for (y, o) in out.chunks_exact_mut(4 * w).enumerate() {
            let cw = w.div_ceil(2);
            match self.format {
                PixelFormat::I420 | PixelFormat::I420A => {
                    let (ur, vr) = (&self.row(1, y / 2)[..cw], &self.row(2, y / 2)[..cw]);
                    yuv_row(
                        &self.colour,
                        &self.row(0, y)[..w],
                        Chroma::Planar(ur, vr),
                        o,
                    );
                }
                PixelFormat::Nv12 => {
                    yuv_row(
                        &self.colour,
                        &self.row(0, y)[..w],
                        Chroma::Interleaved(&self.row(1, y / 2)[..2 * cw]),
                        o,
                    );
                }
                PixelFormat::Rgba | PixelFormat::Rgbx | PixelFormat::Bgra | PixelFormat::Bgrx => {
                    let swap = matches!(self.format, PixelFormat::Bgra | PixelFormat::Bgrx);
                    let src = &self.row(0, y)[..4 * w];
                    // Byte order to RGBA, alpha forced opaque (X is undefined). (Written per
                    // byte: a u32 shuffle version of this loop sent LLVM's optimiser into
                    // minutes of work.)
                    let (r, b) = if swap { (2, 0) } else { (0, 2) };
                    for (d, s) in o.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                        d.copy_from_slice(&[s[r], s[1], s[b], 255]);
                    }
                }
            }
        }
    }

    /// RGB (0..255) of pixel `(x, y)`: what `to_rgba` gives there, before rounding. (For a
    /// few pixels; loops over many take `with_rgb`.)
    pub fn rgb_at(&self, x: usize, y: usize) -> [f32; 3] {
        self.with_rgb(|rgb| rgb(x, y))
    }

    /// Calls `f` with a function giving the RGB (0..255, not clamped) of any pixel `(x, y)`
    /// of this picture's format. The format is matched once here, not per pixel: inlined
    /// into a loop, a match per sample lets the optimiser clone the loop per format and
    /// combination (compile times explode).
    pub fn with_rgb<R>(&self, f: impl FnOnce(&dyn Fn(usize, usize) -> [f32; 3]) -> R) -> R {
        let plane = |p: usize| (&self.data[self.planes[p].offset..], self.planes[p].stride);
        let c = self.colour;
        match self.format {
            PixelFormat::I420 | PixelFormat::I420A => {
                let ((yp, ys), (up, us), (vp, vs)) = (plane(0), plane(1), plane(2));
                f(&|x, y| {
                    let (cx, cy) = (x / 2, y / 2);
                    c.rgb(
                        yp[y * ys + x] as f32,
                        up[cy * us + cx] as f32,
                        vp[cy * vs + cx] as f32,
                    )
                })
            }
            PixelFormat::Nv12 => {
                let ((yp, ys), (uvp, uvs)) = (plane(0), plane(1));
                f(&|x, y| {
                    let i = (y / 2) * uvs + x / 2 * 2;
                    c.rgb(yp[y * ys + x] as f32, uvp[i] as f32, uvp[i + 1] as f32)
                })
            }
            PixelFormat::Rgba | PixelFormat::Rgbx => {
                let (p, s) = plane(0);
                f(&|x, y| {
                    let i = y * s + 4 * x;
                    [p[i] as f32, p[i + 1] as f32, p[i + 2] as f32]
                })
            }
            PixelFormat::Bgra | PixelFormat::Bgrx => {
                let (p, s) = plane(0);
                f(&|x, y| {
                    let i = y * s + 4 * x;
                    [p[i + 2] as f32, p[i + 1] as f32, p[i] as f32]
                })
            }
        }
    }
}

/// The chroma samples of one row: two planes, or one of interleaved U V pairs (NV12).
#[derive(Clone, Copy)]
enum Chroma<'a> {
    Planar(&'a [u8], &'a [u8]),
    Interleaved(&'a [u8]),
}

impl Chroma<'_> {
    /// U and V of pixels `x..x + 8` (`x` even), each sample doubled.
    #[inline(always)]
    fn load(self, x: usize) -> (I16x8, I16x8) {
        match self {
            Chroma::Planar(u, v) => (
                I16x8::load_u8_doubled(u, x / 2),
                I16x8::load_u8_doubled(v, x / 2),
            ),
            Chroma::Interleaved(uv) => I16x8::load_u8_pairs_doubled(uv, x),
        }
    }
}

/// One row of YUV to RGBA, 8 pixels per step (`y.len()` pixels; chroma at half width). The
/// last partial group runs through the same kernel on a copy padded with the row's last
/// samples.
#[inline(always)]
fn yuv_row(c: &YuvToRgb, y: &[u8], chroma: Chroma, out: &mut [u8]) {
    let w = y.len();
    let ([ys, rv, gu, gv, bu], offset) = c.fixed();
    let centre = I16x8::splat(128);
    let kernel = |y: &[u8], chroma: Chroma, x: usize, out: &mut [u8], i: usize| {
        let (u, v) = chroma.load(x);
        // Operands << 7, so that a Q15 product by `coef * 2^(FRAC + 8)` is `value * coef * 2^FRAC`.
        let l = I16x8::load_u8(y, x).shl::<7>().mul_q15(ys).add(offset);
        let (u, v) = (u.sub(centre).shl::<7>(), v.sub(centre).shl::<7>());
        let r = l.add(v.mul_q15(rv));
        let g = l.add(u.mul_q15(gu)).add(v.mul_q15(gv));
        let b = l.add(u.mul_q15(bu));
        I16x8::store_rgba(r.shr::<FRAC>(), g.shr::<FRAC>(), b.shr::<FRAC>(), out, i);
    };
    let mut x = 0;
    while x + 8 <= w {
        kernel(y, chroma, x, out, 4 * x);
        x += 8;
    }
    if x < w {
        // Padded copies of the remaining samples (x is even: chroma starts at x / 2).
        let n = w - x;
        let pad = |src: &[u8], buf: &mut [u8]| {
            let k = src.len().min(buf.len());
            buf[..k].copy_from_slice(&src[..k]);
            let last = src[k - 1];
            buf[k..].fill(last);
        };
        let (mut yb, mut ub, mut vb, mut uvb, mut tmp) =
            ([0u8; 8], [0u8; 4], [0u8; 4], [0u8; 8], [0u8; 32]);
        pad(&y[x..], &mut yb);
        let padded = match chroma {
            Chroma::Planar(u, v) => {
                pad(&u[x / 2..], &mut ub);
                pad(&v[x / 2..], &mut vb);
                Chroma::Planar(&ub, &vb)
            }
            Chroma::Interleaved(uv) => {
                let src = &uv[x..];
                for k in 0..4 {
                    let j = (2 * k).min(src.len() - 2);
                    uvb[2 * k..2 * k + 2].copy_from_slice(&src[j..j + 2]);
                }
                Chroma::Interleaved(&uvb)
            }
        };
        kernel(&yb, padded, 0, &mut tmp, 0);
        out[4 * x..4 * w].copy_from_slice(&tmp[..4 * n]);
    }
}
