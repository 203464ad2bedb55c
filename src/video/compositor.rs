//! The CPU renderer: one frame and its segmentation mask in, the composited frame out.
//! The passes are described in the module docs of `video`; this file validates the
//! inputs, owns every buffer (allocated when the frame size or the background changes,
//! never per frame) and runs the passes in order.

use super::blur::{blur_planes, grid_for, MaskedBlur};
use super::composite::{composite_blur, composite_image, matte_row, Lerp};
use super::plane::{area_down, downsample_rgba, upsample_row, LinearTaps, Plane};
use super::refine::{GuidedRefiner, EDGE};
use super::temporal::TemporalSmoother;
use super::Mask;
use std::fmt;

/// Largest frame or image side accepted.
pub const MAX_DIMENSION: usize = 8192;
/// Largest blur radius accepted (in pixels of a 720p frame).
pub const MAX_RADIUS: f32 = 100.0;
/// Rows of the working grid L along the frame's short side (its pixels are
/// `factor x factor` blocks of the frame, factor = round(short side / 180)).
pub const WORKING_ROWS: usize = 180;
/// The short side the blur radius refers to: radius r means a Gaussian of standard
/// deviation r pixels on a 720p frame (as CSS `blur(r px)`), r * side / 720 on others.
pub const REFERENCE_SIDE: f32 = 720.0;
/// Standard deviation (720p pixels) of the light wrap's reach into the person.
pub const WRAP_SIGMA: f32 = 6.0;

/// What goes behind the person.
#[derive(Clone, Debug, PartialEq)]
pub enum Background {
    /// The frame passes through unchanged.
    None,
    /// The frame's own background, blurred; `radius` in pixels at 720p (Visio: 10 light,
    /// 20 normal).
    Blur { radius: f32 },
    /// A virtual background, cover-fitted to the frame (scaled to cover, centre-cropped).
    Image {
        rgba: Vec<u8>,
        width: usize,
        height: usize,
    },
}

/// An RGBA frame: `height` rows of `width` pixels, `stride` bytes apart.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    pub rgba: &'a [u8],
    pub width: usize,
    pub height: usize,
    pub stride: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CompositorError {
    EmptyFrame,
    FrameTooLarge {
        width: usize,
        height: usize,
    },
    StrideTooSmall {
        stride: usize,
        width: usize,
    },
    FrameTooShort {
        needed: usize,
        got: usize,
    },
    OutputLength {
        needed: usize,
        got: usize,
    },
    EmptyMask,
    MaskLargerThanFrame {
        mask: (usize, usize),
        frame: (usize, usize),
    },
    MaskLength {
        needed: usize,
        got: usize,
    },
    BadRadius(f32),
    BadImage {
        width: usize,
        height: usize,
        len: usize,
    },
}

impl fmt::Display for CompositorError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        use CompositorError::*;
        match self {
            EmptyFrame => write!(f, "frame width and height must be at least 1"),
            FrameTooLarge { width, height } => {
                write!(
                    f,
                    "frame {width}x{height} exceeds {MAX_DIMENSION} pixels on a side"
                )
            }
            StrideTooSmall { stride, width } => {
                write!(
                    f,
                    "stride {stride} bytes is less than 4 * width ({})",
                    4 * width
                )
            }
            FrameTooShort { needed, got } => {
                write!(f, "frame buffer holds {got} bytes, {needed} needed")
            }
            OutputLength { needed, got } => {
                write!(
                    f,
                    "output buffer holds {got} bytes, exactly width * height * 4 = {needed} needed"
                )
            }
            EmptyMask => write!(f, "mask width and height must be at least 1"),
            MaskLargerThanFrame { mask, frame } => write!(
                f,
                "mask {}x{} is larger than the frame {}x{}",
                mask.0, mask.1, frame.0, frame.1
            ),
            MaskLength { needed, got } => write!(
                f,
                "mask holds {got} values, width * height = {needed} needed"
            ),
            BadRadius(r) => write!(f, "blur radius {r} is outside (0, {MAX_RADIUS}]"),
            BadImage { width, height, len } => write!(
                f,
                "background image {width}x{height} must be 1..={MAX_DIMENSION} per side with \
                 width * height * 4 bytes, got {len}"
            ),
        }
    }
}

impl std::error::Error for CompositorError {}

/// Two full-width rows of low-resolution planes, interpolated horizontally, for the two
/// source rows the current output row sits between (each source row is interpolated once
/// and kept while output rows need it).
#[derive(Default)]
struct UpRows {
    width: usize,
    /// Frame pixels per grid pixel, and the interpolation fractions within a block.
    factor: usize,
    weights: Vec<f32>,
    rows: [Vec<f32>; 2],
    held: [Option<u32>; 2],
}

impl UpRows {
    fn new(planes: usize, width: usize, factor: usize) -> Self {
        let h = factor / 2;
        let weights = (0..factor)
            .map(|j| (j + h) as f32 / factor as f32 + 0.5 / factor as f32 - 0.5)
            .collect();
        let rows = [vec![0.0; planes * width], vec![0.0; planes * width]];
        UpRows {
            width,
            factor,
            weights,
            rows,
            held: [None; 2],
        }
    }

    fn invalidate(&mut self) {
        self.held = [None; 2];
    }

    fn slot_for(&mut self, i: u32, planes: &[&Plane], keep: Option<usize>) -> usize {
        if let Some(s) = self.held.iter().position(|&h| h == Some(i)) {
            return s;
        }
        let s = match keep {
            Some(k) => 1 - k,
            None => usize::from(self.held[0].is_some() && self.held[1].is_none()),
        };
        for (j, p) in planes.iter().enumerate() {
            let out = &mut self.rows[s][j * self.width..(j + 1) * self.width];
            upsample_row(p.row(i as usize), self.factor, &self.weights, out);
        }
        self.held[s] = Some(i);
        s
    }

    /// Plane `j` of output row `y` as a vertical `Lerp` (after `prepare(y)`).
    fn prepare(&mut self, planes: &[&Plane], yt: &LinearTaps, y: usize) -> (usize, usize, f32) {
        let s0 = self.slot_for(yt.i0[y], planes, None);
        let s1 = self.slot_for(yt.i1[y], planes, Some(s0));
        (s0, s1, yt.f[y])
    }

    fn lerp(&self, (s0, s1, f): (usize, usize, f32), j: usize) -> Lerp<'_> {
        let r = j * self.width..(j + 1) * self.width;
        Lerp {
            r0: &self.rows[s0][r.clone()],
            r1: &self.rows[s1][r],
            f,
        }
    }
}

/// What the current background needs per frame.
enum Effect {
    None,
    Blur {
        radius: f32,
        blur: MaskedBlur,
    },
    Image {
        wrap: MaskedBlur,
        fitted: Vec<u8>,
        fitted_blur: Vec<u8>,
        source: (Vec<u8>, usize, usize),
    },
}

pub struct Compositor {
    width: usize,
    height: usize,
    /// Frame pixels per working-grid pixel, and the working grid's size.
    factor: usize,
    frame_l: [Plane; 3],
    sums: Vec<u16>,
    temporal: TemporalSmoother,
    refiner: GuidedRefiner,
    effect: Effect,
    /// Vertical taps working grid -> frame, blur grid -> frame (horizontal: `UpRows`).
    ly: LinearTaps,
    by: LinearTaps,
    up_l: UpRows,
    up_b: UpRows,
    /// Per group of 4 frame pixels in a row: the working-grid columns it interpolates
    /// from, and its matte class for the current pair of working-grid rows.
    group_cols: Vec<(u32, u32)>,
    group_class: Vec<u8>,
    classified_rows: Option<(u32, u32)>,
}

impl Compositor {
    /// A compositor for `width x height` frames, background `None`. Sizes outside
    /// 1..=MAX_DIMENSION are clamped here; `render` adapts to the actual frame size.
    pub fn new(width: usize, height: usize) -> Self {
        let (width, height) = (
            width.clamp(1, MAX_DIMENSION),
            height.clamp(1, MAX_DIMENSION),
        );
        let mut c = Compositor {
            width,
            height,
            factor: 1,
            frame_l: Default::default(),
            sums: Vec::new(),
            temporal: TemporalSmoother::default(),
            refiner: GuidedRefiner::new(1, 1),
            effect: Effect::None,
            ly: LinearTaps::default(),
            by: LinearTaps::default(),
            up_l: UpRows::default(),
            up_b: UpRows::default(),
            group_cols: Vec::new(),
            group_class: Vec::new(),
            classified_rows: None,
        };
        c.configure_size();
        c
    }

    pub fn size(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    /// Sets the background. An image is copied and cover-fitted now (and again whenever
    /// the frame size changes). Leaving `None` forgets the mask history.
    pub fn set_background(&mut self, background: Background) -> Result<(), CompositorError> {
        if matches!(self.effect, Effect::None) {
            self.temporal.reset();
        }
        self.effect = match background {
            Background::None => Effect::None,
            Background::Blur { radius } => {
                if !(radius > 0.0 && radius <= MAX_RADIUS) {
                    return Err(CompositorError::BadRadius(radius));
                }
                Effect::Blur {
                    radius,
                    blur: MaskedBlur::new(1, 1, 1.0),
                }
            }
            Background::Image {
                rgba,
                width,
                height,
            } => {
                let ok = (1..=MAX_DIMENSION).contains(&width)
                    && (1..=MAX_DIMENSION).contains(&height)
                    && rgba.len() == width * height * 4;
                if !ok {
                    return Err(CompositorError::BadImage {
                        width,
                        height,
                        len: rgba.len(),
                    });
                }
                Effect::Image {
                    wrap: MaskedBlur::new(1, 1, 1.0),
                    fitted: Vec::new(),
                    fitted_blur: Vec::new(),
                    source: (rgba, width, height),
                }
            }
        };
        self.configure_effect();
        Ok(())
    }

    /// Forgets the mask history (after a camera change, a cut): the next mask is used as is.
    pub fn reset_temporal(&mut self) {
        self.temporal.reset();
    }

    /// Composites `frame` over the background according to `mask` into `out` (tightly
    /// packed RGBA, `width * height * 4` bytes; alpha 255, or the frame's own in `None`
    /// mode, which copies the frame exactly and ignores the mask).
    pub fn render<D: AsRef<[f32]>>(
        &mut self,
        frame: Frame,
        mask: Mask<D>,
        out: &mut [u8],
    ) -> Result<(), CompositorError> {
        let mask = mask.view();
        validate_frame(&frame, out.len())?;
        if matches!(self.effect, Effect::None) {
            for y in 0..frame.height {
                let row = &frame.rgba[y * frame.stride..y * frame.stride + 4 * frame.width];
                out[y * 4 * frame.width..(y + 1) * 4 * frame.width].copy_from_slice(row);
            }
            return Ok(());
        }
        self.refine(frame, mask)?;
        let rgb = [&self.frame_l[0], &self.frame_l[1], &self.frame_l[2]];
        self.up_l.invalidate();
        self.up_b.invalidate();
        self.classified_rows = None;
        let c = &self.refiner.coeffs;
        let coeffs = [&c[0], &c[1], &c[2], &c[3]];
        let w4 = 4 * self.width;
        match &mut self.effect {
            Effect::None => unreachable!("handled above"),
            Effect::Blur { blur, .. } => {
                blur.run(rgb, &self.refiner.alpha);
                let bg = [&blur.bg[0], &blur.bg[1], &blur.bg[2]];
                for y in 0..self.height {
                    let tl = self.up_l.prepare(&coeffs, &self.ly, y);
                    let tb = self.up_b.prepare(&bg, &self.by, y);
                    let rows = (self.ly.i0[y], self.ly.i1[y]);
                    if self.classified_rows != Some(rows) {
                        self.classified_rows = Some(rows);
                        classify(
                            &self.refiner.class,
                            self.frame_l[0].width,
                            rows,
                            &self.group_cols,
                            &mut self.group_class,
                        );
                    }
                    let (ul, ub) = (&self.up_l, &self.up_b);
                    composite_blur(
                        &frame.rgba[y * frame.stride..y * frame.stride + w4],
                        [
                            ul.lerp(tl, 0),
                            ul.lerp(tl, 1),
                            ul.lerp(tl, 2),
                            ul.lerp(tl, 3),
                        ],
                        [ub.lerp(tb, 0), ub.lerp(tb, 1), ub.lerp(tb, 2)],
                        &self.group_class,
                        &mut out[y * w4..(y + 1) * w4],
                    );
                }
            }
            Effect::Image {
                wrap,
                fitted,
                fitted_blur,
                ..
            } => {
                wrap.run_weight(&self.refiner.alpha);
                let weight = [wrap.weight()];
                for y in 0..self.height {
                    let tl = self.up_l.prepare(&coeffs, &self.ly, y);
                    let tb = self.up_b.prepare(&weight, &self.by, y);
                    let rows = (self.ly.i0[y], self.ly.i1[y]);
                    if self.classified_rows != Some(rows) {
                        self.classified_rows = Some(rows);
                        classify(
                            &self.refiner.class,
                            self.frame_l[0].width,
                            rows,
                            &self.group_cols,
                            &mut self.group_class,
                        );
                    }
                    let (ul, ub) = (&self.up_l, &self.up_b);
                    let row = y * w4..(y + 1) * w4;
                    composite_image(
                        &frame.rgba[y * frame.stride..y * frame.stride + w4],
                        [
                            ul.lerp(tl, 0),
                            ul.lerp(tl, 1),
                            ul.lerp(tl, 2),
                            ul.lerp(tl, 3),
                        ],
                        ub.lerp(tb, 0),
                        [&fitted[row.clone()], &fitted_blur[row.clone()]],
                        &self.group_class,
                        &mut out[row],
                    );
                }
            }
        }
        Ok(())
    }

    /// The matte `render` would use for this frame, at full resolution (0 background, 1
    /// person): for tests and diagnostics, e.g. comparing the WebGL2 renderer's matte. It
    /// advances the temporal smoothing like `render`.
    pub fn matte<D: AsRef<[f32]>>(
        &mut self,
        frame: Frame,
        mask: Mask<D>,
        out: &mut [f32],
    ) -> Result<(), CompositorError> {
        let mask = mask.view();
        validate_frame(&frame, out.len() * 4)?;
        self.refine(frame, mask)?;
        self.up_l.invalidate();
        let c = &self.refiner.coeffs;
        let coeffs = [&c[0], &c[1], &c[2], &c[3]];
        let w = self.width;
        for y in 0..self.height {
            let t = self.up_l.prepare(&coeffs, &self.ly, y);
            let u = &self.up_l;
            matte_row(
                &frame.rgba[y * frame.stride..y * frame.stride + 4 * w],
                [u.lerp(t, 0), u.lerp(t, 1), u.lerp(t, 2), u.lerp(t, 3)],
                &mut out[y * w..(y + 1) * w],
            );
        }
        Ok(())
    }

    /// Passes 1-3 (temporal smoothing, downsampling, guided filter), after the frame was
    /// validated; adapts to a new frame size.
    fn refine(&mut self, frame: Frame, mask: Mask<&[f32]>) -> Result<(), CompositorError> {
        validate_mask(&mask, &frame)?;
        if (frame.width, frame.height) != (self.width, self.height) {
            self.width = frame.width;
            self.height = frame.height;
            self.configure_size();
        }
        let smoothed = self.temporal.update(mask.data, mask.width, mask.height);
        let [r, g, b] = &mut self.frame_l;
        let size = (self.width, self.height);
        downsample_rgba(
            frame.rgba,
            size,
            frame.stride,
            self.factor,
            [r, g, b],
            &mut self.sums,
        );
        let rgb = [&self.frame_l[0], &self.frame_l[1], &self.frame_l[2]];
        self.refiner.run(rgb, smoothed, mask.width, mask.height);
        Ok(())
    }

    /// (Re)allocates everything that depends on the frame size.
    fn configure_size(&mut self) {
        let (w, h) = (self.width, self.height);
        self.factor = ((w.min(h) as f32 / WORKING_ROWS as f32).round() as usize).max(1);
        let (lw, lh) = (w.div_ceil(self.factor), h.div_ceil(self.factor));
        self.frame_l = [Plane::new(lw, lh), Plane::new(lw, lh), Plane::new(lw, lh)];
        self.sums = vec![0; 4 * w];
        self.refiner = GuidedRefiner::new(lw, lh);
        self.ly = LinearTaps::new(lh, h, 1.0 / self.factor as f32);
        let lx = LinearTaps::new(lw, w, 1.0 / self.factor as f32);
        self.group_cols = (0..w.div_ceil(4))
            .map(|g| (lx.i0[4 * g], lx.i1[(4 * g + 3).min(w - 1)]))
            .collect();
        self.group_class = vec![EDGE; w.div_ceil(4)];
        self.up_l = UpRows::new(4, w, self.factor);
        self.configure_effect();
    }

    /// (Re)allocates what depends on the background and the frame size.
    fn configure_effect(&mut self) {
        let (w, h, factor) = (self.width, self.height, self.factor);
        let (lw, lh) = (self.frame_l[0].width, self.frame_l[0].height);
        // Frame pixels per 720p pixel, then L pixels per 720p pixel.
        let to_l = w.min(h) as f32 / REFERENCE_SIDE / factor as f32;
        let (g, planes) = match &mut self.effect {
            Effect::None => return,
            Effect::Blur { radius, blur } => {
                *blur = MaskedBlur::new(lw, lh, *radius * to_l);
                (blur.g, 3)
            }
            Effect::Image {
                wrap,
                fitted,
                fitted_blur,
                source,
            } => {
                *wrap = MaskedBlur::new(lw, lh, WRAP_SIGMA * to_l);
                *fitted = cover_fit(&source.0, source.1, source.2, w, h);
                *fitted_blur = blurred(
                    fitted,
                    w,
                    h,
                    (factor, wrap.g),
                    grid_for(WRAP_SIGMA * to_l).1,
                );
                (wrap.g, 1)
            }
        };
        let bh = lh.div_ceil(g);
        self.by = LinearTaps::new(bh, h, 1.0 / (factor * g) as f32);
        self.up_b = UpRows::new(planes, w, factor * g);
    }
}

/// The class of each group of 4 frame pixels between working-grid rows `rows`: the common
/// class of all the working-grid pixels it interpolates from, else edge.
fn classify(class: &[u8], lw: usize, rows: (u32, u32), cols: &[(u32, u32)], out: &mut [u8]) {
    let (r0, r1) = (
        &class[rows.0 as usize * lw..][..lw],
        &class[rows.1 as usize * lw..][..lw],
    );
    for (o, &(c0, c1)) in out.iter_mut().zip(cols) {
        let first = r0[c0 as usize];
        let same = (c0..=c1).all(|c| r0[c as usize] == first && r1[c as usize] == first);
        *o = if same { first } else { EDGE };
    }
}

fn validate_frame(frame: &Frame, out_len: usize) -> Result<(), CompositorError> {
    let (w, h) = (frame.width, frame.height);
    if w == 0 || h == 0 {
        return Err(CompositorError::EmptyFrame);
    }
    if w > MAX_DIMENSION || h > MAX_DIMENSION {
        return Err(CompositorError::FrameTooLarge {
            width: w,
            height: h,
        });
    }
    if frame.stride < 4 * w {
        return Err(CompositorError::StrideTooSmall {
            stride: frame.stride,
            width: w,
        });
    }
    let needed = frame
        .stride
        .checked_mul(h - 1)
        .and_then(|n| n.checked_add(4 * w))
        .unwrap_or(usize::MAX);
    if frame.rgba.len() < needed {
        return Err(CompositorError::FrameTooShort {
            needed,
            got: frame.rgba.len(),
        });
    }
    if out_len != 4 * w * h {
        return Err(CompositorError::OutputLength {
            needed: 4 * w * h,
            got: out_len,
        });
    }
    Ok(())
}

fn validate_mask(mask: &Mask<&[f32]>, frame: &Frame) -> Result<(), CompositorError> {
    if mask.width == 0 || mask.height == 0 {
        return Err(CompositorError::EmptyMask);
    }
    if mask.width > frame.width || mask.height > frame.height {
        return Err(CompositorError::MaskLargerThanFrame {
            mask: (mask.width, mask.height),
            frame: (frame.width, frame.height),
        });
    }
    if mask.data.len() != mask.width * mask.height {
        return Err(CompositorError::MaskLength {
            needed: mask.width * mask.height,
            got: mask.data.len(),
        });
    }
    Ok(())
}

/// Scales `src` (sw x sh) to cover `w x h`, centred, cropping the overflow. Minification
/// averages n x n bilinear samples per pixel (n = ceil(1 / scale)) so that a large
/// photo does not alias. Runs once per image and frame size.
pub fn cover_fit(src: &[u8], sw: usize, sh: usize, w: usize, h: usize) -> Vec<u8> {
    let scale = (w as f32 / sw as f32).max(h as f32 / sh as f32);
    let n = ((1.0 / scale).ceil() as usize).clamp(1, 8);
    let sample = |u: f32, v: f32, c: usize| -> f32 {
        let u = u.clamp(0.0, (sw - 1) as f32);
        let v = v.clamp(0.0, (sh - 1) as f32);
        let (x0, y0) = (u.floor() as usize, v.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(sw - 1), (y0 + 1).min(sh - 1));
        let (fx, fy) = (u - x0 as f32, v - y0 as f32);
        let p = |x: usize, y: usize| src[(y * sw + x) * 4 + c] as f32;
        let top = p(x0, y0) + fx * (p(x1, y0) - p(x0, y0));
        let bottom = p(x0, y1) + fx * (p(x1, y1) - p(x0, y1));
        top + fy * (bottom - top)
    };
    let mut out = vec![255u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                let mut acc = 0.0;
                for j in 0..n {
                    for i in 0..n {
                        let px = x as f32 + (i as f32 + 0.5) / n as f32;
                        let py = y as f32 + (j as f32 + 0.5) / n as f32;
                        let u = (px - w as f32 / 2.0) / scale + sw as f32 / 2.0 - 0.5;
                        let v = (py - h as f32 / 2.0) / scale + sh as f32 / 2.0 - 0.5;
                        acc += sample(u, v, c);
                    }
                }
                out[(y * w + x) * 4 + c] = (acc / (n * n) as f32 + 0.5) as u8;
            }
        }
    }
    out
}

/// `img` (w x h RGBA) blurred with a Gaussian of `sigma` pixels of a grid of
/// `factor x factor` blocks, back at full resolution: the light the wrap borrows.
fn blurred(img: &[u8], w: usize, h: usize, factors: (usize, usize), sigma: f32) -> Vec<u8> {
    // Frame -> working grid -> blur grid, as for the frame itself.
    let (f, g) = factors;
    let (lw, lh) = (w.div_ceil(f), h.div_ceil(f));
    let mut l = [Plane::new(lw, lh), Plane::new(lw, lh), Plane::new(lw, lh)];
    let [r, gr, b] = &mut l;
    downsample_rgba(img, (w, h), 4 * w, f, [r, gr, b], &mut vec![0; 4 * w]);
    let (bw, bh) = (lw.div_ceil(g), lh.div_ceil(g));
    let mut planes = [Plane::new(bw, bh), Plane::new(bw, bh), Plane::new(bw, bh)];
    for (src, dst) in l.iter().zip(planes.iter_mut()) {
        area_down(src, g, dst);
    }
    blur_planes(&mut planes, sigma);
    let inv = 1.0 / (f * g) as f32;
    let (xt, yt) = (LinearTaps::new(bw, w, inv), LinearTaps::new(bh, h, inv));
    let mut out = vec![255u8; w * h * 4];
    let mut full = Plane::new(w, h);
    let mut scratch = vec![0.0; 2 * w];
    for (c, p) in planes.iter().enumerate() {
        super::plane::resample(&p.data, bw, &mut full, &xt, &yt, &mut scratch);
        for (o, &v) in out.chunks_exact_mut(4).zip(&full.data) {
            o[c] = (v + 0.5) as u8;
        }
    }
    out
}
