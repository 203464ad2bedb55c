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

use super::plane::{box_column_step, box_mean4, box_row4, resample, LinearTaps, Plane};
use crate::simd::{groups, F4};

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

/// What the matte is over a region, known from the guided filter's coefficients of every
/// working-grid pixel the region interpolates from (see `GuidedRefiner::class`): background
/// (alpha 0 whatever the colour), person (alpha 1 whatever the colour), or edge (evaluate).
/// Most of a frame is not edge, and the composite skips the matte there.
pub const BACKGROUND: u8 = 0;
pub const PERSON: u8 = 1;
pub const EDGE: u8 = 2;

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
    /// Per working-grid pixel: `PERSON` if its affine function gives alpha >= 1 for
    /// every colour, `BACKGROUND` if <= 0 for every colour, else `EDGE`. A
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
            products_row(
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
                box_row4(pad, r, norm, &mut out[y * w..(y + 1) * w]);
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
                box_column_step(
                    &mut self.sums[q],
                    &hb[add * w..(add + 1) * w],
                    &hb[sub * w..(sub + 1) * w],
                    norm,
                    &mut self.means[q],
                );
            }
            let m = &self.means;
            fit_row(
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
            coefficients_row(
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

/// One row of the guided filter's products, four channels per pixel, colour scaled by `k`:
/// `[r g b p] [rp gp bp rr] [rg rb gg gb] [bb 0 0 0]`.
pub fn products_row(rgb: [&[f32]; 3], p: &[f32], k: f32, out: [&mut [[f32; 4]]; 4]) {
    let w = p.len();
    let [o0, o1, o2, o3] = out.map(|o| &mut o[..w]);
    let [cr, cg, cb] = rgb.map(|c| &c[..w]);
    let (k, zero) = (F4::splat(k), F4::splat(0.0));
    groups!(w, |x, PART| {
        let [r, g, b] = [cr, cg, cb].map(|c| F4::load_group::<PART>(c, x).mul(k));
        let m = F4::load_group::<PART>(p, x);
        F4::store_pixels::<PART>([r, g, b, m], o0, x);
        F4::store_pixels::<PART>([r.mul(m), g.mul(m), b.mul(m), r.mul(r)], o1, x);
        F4::store_pixels::<PART>([r.mul(g), r.mul(b), g.mul(g), g.mul(b)], o2, x);
        F4::store_pixels::<PART>([b.mul(b), zero, zero, zero], o3, x);
    });
}

/// The guided filter's local affine fit for a row, from the window means of the products
/// (`means` as written by `products_row`, box-filtered): `[a_r, a_g, a_b, b]` per pixel,
/// `a = (cov(I, I) + eps Id)^-1 cov(I, p)`, `b = mean(p) - a . mean(I)`.
pub fn fit_row(means: [&[[f32; 4]]; 4], eps: f32, out: &mut [[f32; 4]]) {
    let w = out.len();
    let [m0, m1, m2, m3] = means.map(|m| &m[..w]);
    let e = F4::splat(eps);
    groups!(w, |x, PART| {
        let [mr, mg, mb, mp] = F4::load_pixels::<PART>(m0, x);
        let [rp, gp, bp, rr] = F4::load_pixels::<PART>(m1, x);
        let [rg, rb, gg, gb] = F4::load_pixels::<PART>(m2, x);
        let bb = F4::load_pixels::<PART>(m3, x)[0];
        // Covariance of the colour (+ eps on the diagonal) and with the mask.
        let (s00, s01, s02) = (
            rr.sub(mr.mul(mr)).add(e),
            rg.sub(mr.mul(mg)),
            rb.sub(mr.mul(mb)),
        );
        let (s11, s12, s22) = (
            gg.sub(mg.mul(mg)).add(e),
            gb.sub(mg.mul(mb)),
            bb.sub(mb.mul(mb)).add(e),
        );
        let c = [rp.sub(mr.mul(mp)), gp.sub(mg.mul(mp)), bp.sub(mb.mul(mp))];
        // S^-1 c by the adjugate; S is symmetric positive definite (eps > 0).
        let i00 = s11.mul(s22).sub(s12.mul(s12));
        let i01 = s02.mul(s12).sub(s01.mul(s22));
        let i02 = s01.mul(s12).sub(s02.mul(s11));
        let i11 = s00.mul(s22).sub(s02.mul(s02));
        let i12 = s01.mul(s02).sub(s00.mul(s12));
        let i22 = s00.mul(s11).sub(s01.mul(s01));
        let det = s00.mul(i00).add(s01.mul(i01)).add(s02.mul(i02));
        let inv_det = F4::splat(1.0).div(det);
        let solve = |i0: F4, i1: F4, i2: F4| {
            i0.mul(c[0])
                .add(i1.mul(c[1]))
                .add(i2.mul(c[2]))
                .mul(inv_det)
        };
        let (a0, a1, a2) = (
            solve(i00, i01, i02),
            solve(i01, i11, i12),
            solve(i02, i12, i22),
        );
        let b = mp.sub(a0.mul(mr)).sub(a1.mul(mg)).sub(a2.mul(mb));
        F4::store_pixels::<PART>([a0, a1, a2, b], out, x);
    });
}

/// The guided filter's final coefficients for a row: `coeffs = (a * scale, (b - low) *
/// stretch)` with `scale = stretch / 255` (colour in 0..255), the working-grid matte
/// `alpha = clamp(coeffs . (r, g, b, 1), 0, 1)` and each pixel's matte class.
pub fn coefficients_row(
    ab: &[[f32; 4]],
    rgb: [&[f32]; 3],
    low: f32,
    stretch: f32,
    coeffs: [&mut [f32]; 4],
    alpha: &mut [f32],
    class: &mut [u8],
) {
    let w = ab.len();
    let [c0, c1, c2, c3] = coeffs.map(|c| &mut c[..w]);
    let (alpha, class, rgb) = (&mut alpha[..w], &mut class[..w], rgb.map(|c| &c[..w]));
    let (scale, stretch, low) = (
        F4::splat(stretch / 255.0),
        F4::splat(stretch),
        F4::splat(low),
    );
    let (zero, one, full) = (F4::splat(0.0), F4::splat(1.0), F4::splat(255.0));
    let [cr, cg, cb] = rgb;
    groups!(w, |x, PART| {
        let [a0, a1, a2, b] = F4::load_pixels::<PART>(ab, x);
        let (a0, a1, a2, b) = (
            a0.mul(scale),
            a1.mul(scale),
            a2.mul(scale),
            b.sub(low).mul(stretch),
        );
        a0.store_group::<PART>(c0, x);
        a1.store_group::<PART>(c1, x);
        a2.store_group::<PART>(c2, x);
        b.store_group::<PART>(c3, x);
        let [r, g, bl] = [cr, cg, cb].map(|c| F4::load_group::<PART>(c, x));
        let q = a0.mul(r).add(a1.mul(g)).add(a2.mul(bl)).add(b);
        q.max(zero).min(one).store_group::<PART>(alpha, x);
        // The extremes of the affine function over the colour cube (0..255 per channel).
        let (mut lo, mut hi) = (b, b);
        for a in [a0, a1, a2] {
            lo = lo.add(full.mul(a.min(zero)));
            hi = hi.add(full.mul(a.max(zero)));
        }
        let (lo, hi) = (lo.to_array(), hi.to_array());
        for (i, c) in class[x..].iter_mut().take(4).enumerate() {
            *c = if lo[i] >= 1.0 {
                PERSON
            } else if hi[i] <= 0.0 {
                BACKGROUND
            } else {
                EDGE
            };
        }
    });
}
