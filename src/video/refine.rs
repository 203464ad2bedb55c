//! Edge-aware upsampling of the mask: a fast colour guided filter (He, Sun & Tang; He &
//! Sun 2015) guided by the frame.
//!
//! The guided filter models the refined mask as a local affine function of the colour,
//! `q = A . I + B`, fitted in every (2R+1)^2 window to the coarse mask `p`:
//!
//! ```text
//! S = cov(I, I) + EPS * Id  (3x3)    c = cov(I, p)  (3)           (box means, radius R)
//! a = S^-1 c                         b = mean(p) - a . mean(I)
//! A = box_R(a)                       B = box_R(b)
//! ```
//!
//! Where the colours change across the person's outline, `q` snaps to that change; where
//! the window is flat (`cov(I, I) << EPS`), `a -> 0` and `q` is the box-smoothed mask, so it
//! degrades gracefully. A colour guide rather than luma: a person and a background of the
//! same brightness but different hue are common (a red jumper on a grey wall).
//!
//! The fit runs on the working grid L (about 180 rows whatever the frame size); `A`, `B`
//! are then interpolated bilinearly to full resolution and applied to each pixel's own
//! colour in the final pass, so the matte follows the full-resolution image edges although
//! nothing but that one pass runs at full resolution (the "fast" guided filter).

use super::plane::{box_mean4, resample, LinearTaps, Plane};
use super::simd::{self, EDGE};

/// Window radius in working-grid pixels (4 frame pixels each at 720p): the window
/// (20 frame pixels at 720p) spans the segmenter's edge error (its pixel is 5 frame pixels).
pub const RADIUS: usize = 2;
/// Regulariser on the colour covariance (colour in 0..1): colour edges weaker than ~0.03
/// in standard deviation over a window do not steer the mask.
pub const EPS: f32 = 1e-3;
/// The fit is then stretched: alpha = clamp((q - LOW) / (HIGH - LOW), 0, 1). A guided filter
/// reproduces the mask's *local mean* on each side of an edge (about 0.85 and 0.15 for a
/// segmenter's soft mask), not 1 and 0; the stretch removes that veil, and steepens the
/// mask's own ramp where the guide is flat. Folded into the coefficients: no extra cost.
pub const LOW: f32 = 0.25;
pub const HIGH: f32 = 0.75;

pub struct GuidedRefiner {
    width: usize,
    height: usize,
    /// The coarse mask at the working grid.
    p: Plane,
    /// Horizontal box means of the products (see `run`), four channels per pixel.
    hbox: [Vec<[f32; 4]>; 4],
    /// Per quad: a padded row of products, then the vertical running sums and means rows.
    padded: [Vec<[f32; 4]>; 4],
    sums: [Vec<[f32; 4]>; 4],
    means: [Vec<[f32; 4]>; 4],
    /// (a, b) per pixel, then their box means.
    ab: Vec<[f32; 4]>,
    ab_mean: Vec<[f32; 4]>,
    row_scratch: Vec<f32>,
    /// The coefficients per colour channel (scaled for 0..255 colour, stretch included)
    /// and the offset: refined mask = clamp(A[0] R + A[1] G + A[2] B + A[3], 0, 1).
    pub coeffs: [Plane; 4],
    /// The refined mask at the working grid (for the blur weights and the light wrap).
    pub alpha: Plane,
    /// Per working-grid pixel: `simd::PERSON` if its affine function gives alpha >= 1 for
    /// every colour, `simd::BACKGROUND` if <= 0 for every colour, else `simd::EDGE`. A
    /// full-resolution pixel interpolates these functions (a convex combination), so where
    /// all its neighbours agree it needs no evaluation.
    pub class: Vec<u8>,
    taps: Option<((usize, usize), LinearTaps, LinearTaps)>,
}

impl GuidedRefiner {
    pub fn new(width: usize, height: usize) -> Self {
        let n = width * height;
        let quads = |len: usize| {
            [
                vec![[0.0; 4]; len],
                vec![[0.0; 4]; len],
                vec![[0.0; 4]; len],
                vec![[0.0; 4]; len],
            ]
        };
        let p = || Plane::new(width, height);
        GuidedRefiner {
            width,
            height,
            p: p(),
            hbox: quads(n),
            padded: quads(width + 2 * RADIUS),
            sums: quads(width),
            means: quads(width),
            ab: vec![[0.0; 4]; n],
            ab_mean: vec![[0.0; 4]; n],
            row_scratch: vec![0.0; 2 * width],
            coeffs: [p(), p(), p(), p()],
            alpha: p(),
            class: vec![EDGE; n],
            taps: None,
        }
    }

    /// Fits the coefficients (and alpha) from the working-grid colour planes (0..255) and
    /// the temporally smoothed mask at its own resolution.
    #[inline(never)] // one call per frame: keeps profiles readable
    pub fn run(&mut self, rgb: [&Plane; 3], mask: &[f32], mask_w: usize, mask_h: usize) {
        let (w, h, r) = (self.width, self.height, RADIUS);
        let norm = 1.0 / (2 * r + 1) as f32;
        // The mask spans the frame, as the working grid does (up to its partial last block,
        // a fraction of a pixel: neglected).
        if self.taps.as_ref().map(|t| t.0) != Some((mask_w, mask_h)) {
            let xt = LinearTaps::new(mask_w, w, mask_w as f32 / w as f32);
            let yt = LinearTaps::new(mask_h, h, mask_h as f32 / h as f32);
            self.taps = Some(((mask_w, mask_h), xt, yt));
        }
        let (_, xt, yt) = self.taps.as_ref().expect("set above");
        resample(mask, mask_w, &mut self.p, xt, yt, &mut self.row_scratch);

        // Horizontal box means of the products, row by row (the products are never stored
        // whole): [r g b p] [rp gp bp rr] [rg rb gg gb] [bb - - -], colour in 0..1.
        for y in 0..h {
            let row = y * w..(y + 1) * w;
            let [p0, p1, p2, p3] = &mut self.padded;
            simd::products_row(
                [
                    &rgb[0].data[row.clone()],
                    &rgb[1].data[row.clone()],
                    &rgb[2].data[row.clone()],
                ],
                &self.p.data[row],
                1.0 / 255.0,
                [&mut p0[r..], &mut p1[r..], &mut p2[r..], &mut p3[r..]],
            );
            for (pad, out) in self.padded.iter_mut().zip(self.hbox.iter_mut()) {
                let (first, last) = (pad[r], pad[r + w - 1]);
                pad[..r].fill(first);
                pad[r + w..].fill(last);
                simd::box_row4(pad, r, norm, &mut out[y * w..(y + 1) * w]);
            }
        }
        // Vertical running means, and the fit on each row as soon as its means are ready.
        let clampi = |i: isize| i.clamp(0, h as isize - 1) as usize;
        for (sum, hb) in self.sums.iter_mut().zip(&self.hbox) {
            sum.fill([0.0; 4]);
            for i in -(r as isize)..=r as isize {
                let row = &hb[clampi(i) * w..(clampi(i) + 1) * w];
                sum.iter_mut()
                    .zip(row)
                    .for_each(|(s, v)| (0..4).for_each(|c| s[c] += v[c]));
            }
        }
        for y in 0..h {
            let (add, sub) = (
                clampi(y as isize + r as isize + 1),
                clampi(y as isize - r as isize),
            );
            for q in 0..4 {
                let hb = &self.hbox[q];
                simd::box_column_step(
                    &mut self.sums[q],
                    &hb[add * w..(add + 1) * w],
                    &hb[sub * w..(sub + 1) * w],
                    norm,
                    &mut self.means[q],
                );
            }
            let m = &self.means;
            simd::fit_row(
                [&m[0], &m[1], &m[2], &m[3]],
                EPS,
                &mut self.ab[y * w..(y + 1) * w],
            );
        }
        box_mean4(
            &self.ab,
            &mut self.ab_mean,
            &mut self.hbox[0],
            (w, h),
            r,
            &mut self.padded[0],
        );

        for y in 0..h {
            let row = y * w..(y + 1) * w;
            let [c0, c1, c2, c3] = &mut self.coeffs;
            simd::coefficients_row(
                &self.ab_mean[row.clone()],
                [
                    &rgb[0].data[row.clone()],
                    &rgb[1].data[row.clone()],
                    &rgb[2].data[row.clone()],
                ],
                LOW,
                1.0 / (HIGH - LOW),
                [
                    &mut c0.data[row.clone()],
                    &mut c1.data[row.clone()],
                    &mut c2.data[row.clone()],
                    &mut c3.data[row.clone()],
                ],
                &mut self.alpha.data[row.clone()],
                &mut self.class[row],
            );
        }
    }
}
