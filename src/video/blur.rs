//! Background blur without halo: a Gaussian normalised convolution whose taps are weighted
//! by how much background they hold, at a reduced grid.
//!
//! ```text
//! w   = 1 - max3x3(alpha) + W_FLOOR          (working grid L)
//! acc = gauss((rgb * w, w))                  (blur grid B = L / g, premultiplied)
//! bg  = acc.rgb / acc.w
//! ```
//!
//! The person's pixels get no weight, so their colours never reach the background (no
//! halo), and the division fills the person's silhouette with the surrounding background,
//! so what shows through the soft edge of the composite is background. `max3x3` (a one
//! L-pixel dilation of the refined mask) also drops the L pixels that straddle the edge,
//! whose colour is an average of person and background. `W_FLOOR` keeps the division
//! defined deep inside the person (where it then yields a plain blur, never seen since
//! alpha is 1 there) while weighing ~1000x less than any real background tap.
//!
//! The grid B is chosen so that the Gaussian's sigma stays between 2 and 4 of its pixels
//! (g = 1, 2, 4 or 8 L pixels per B pixel): constant cost per frame whatever the radius,
//! and a result smooth enough to be interpolated bilinearly to full resolution.

use super::plane::{convolve, gaussian_kernel, max3x3, Plane};

pub const W_FLOOR: f32 = 1e-3;

/// The blur grid for a Gaussian of `sigma_l` working-grid pixels: (g, sigma in B pixels).
pub fn grid_for(sigma_l: f32) -> (usize, f32) {
    let mut g = 1;
    while g < 8 && sigma_l / (2 * g) as f32 >= 2.0 {
        g *= 2;
    }
    (g, sigma_l / g as f32)
}

pub struct MaskedBlur {
    /// L pixels per B pixel along each axis.
    pub g: usize,
    kernel: Vec<f32>,
    dilated: Plane,
    tmp_l: Plane,
    /// Premultiplied R, G, B and the weight, on B; blurred in place.
    acc: [Plane; 4],
    tmp: Plane,
    pad: Vec<f32>,
    /// The blurred background, 0..255, on B.
    pub bg: [Plane; 3],
}

impl MaskedBlur {
    /// For a working grid of `lw x lh` and a Gaussian of `sigma_l` L pixels.
    pub fn new(lw: usize, lh: usize, sigma_l: f32) -> Self {
        let (g, sigma) = grid_for(sigma_l);
        let kernel = gaussian_kernel(sigma);
        let (bw, bh) = (lw.div_ceil(g), lh.div_ceil(g));
        let b = || Plane::new(bw, bh);
        MaskedBlur {
            g,
            pad: vec![0.0; bw + kernel.len()],
            kernel,
            dilated: Plane::new(lw, lh),
            tmp_l: Plane::new(lw, lh),
            acc: [b(), b(), b(), b()],
            tmp: b(),
            bg: [b(), b(), b()],
        }
    }

    /// The blurred weight: the local share of background around each B pixel (after
    /// `run`), or of `1 - alpha` (after `run_weight`).
    pub fn weight(&self) -> &Plane {
        &self.acc[3]
    }

    /// Blurs the background of the L-grid colour planes (0..255) given the refined mask.
    #[inline(never)] // one call per frame (or row): keeps profiles readable
    pub fn run(&mut self, rgb: [&Plane; 3], alpha: &Plane) {
        max3x3(alpha, &mut self.dilated, &mut self.tmp_l);
        for w in self.dilated.data.iter_mut() {
            *w = 1.0 - *w + W_FLOOR;
        }
        self.premultiply_down(rgb, true);
        for c in 0..4 {
            convolve(&mut self.acc[c], &mut self.tmp, &self.kernel, &mut self.pad);
        }
        let [r, g, b, w] = &self.acc;
        for (k, &wt) in w.data.iter().enumerate() {
            let inv = 1.0 / wt;
            self.bg[0].data[k] = r.data[k] * inv;
            self.bg[1].data[k] = g.data[k] * inv;
            self.bg[2].data[k] = b.data[k] * inv;
        }
    }

    /// Blurs only `1 - alpha` (no dilation): the light wrap's measure of how close to the
    /// background each person pixel is.
    pub fn run_weight(&mut self, alpha: &Plane) {
        for (w, &a) in self.dilated.data.iter_mut().zip(&alpha.data) {
            *w = 1.0 - a;
        }
        self.premultiply_down([alpha, alpha, alpha], false);
        convolve(&mut self.acc[3], &mut self.tmp, &self.kernel, &mut self.pad);
    }

    /// Area-averages `w` (in `dilated`) and, if `colour`, `rgb * w` into the B grid.
    #[inline(never)] // one call per frame (or row): keeps profiles readable
    fn premultiply_down(&mut self, rgb: [&Plane; 3], colour: bool) {
        let (lw, lh, g) = (self.dilated.width, self.dilated.height, self.g);
        let (bw, bh) = (self.acc[0].width, self.acc[0].height);
        if g == 1 {
            // B is L: a plain product (vectorised), same values as the general loop.
            let [r, gr, b, w] = &mut self.acc;
            w.data.copy_from_slice(&self.dilated.data);
            if colour {
                for (c, out) in [&mut r.data, &mut gr.data, &mut b.data]
                    .into_iter()
                    .enumerate()
                {
                    for ((o, &v), &wt) in out.iter_mut().zip(&rgb[c].data).zip(&self.dilated.data) {
                        *o = v * wt;
                    }
                }
            }
            return;
        }
        for by in 0..bh {
            for bx in 0..bw {
                let mut s = [0.0f32; 4];
                let mut n = 0;
                for y in by * g..((by + 1) * g).min(lh) {
                    for x in bx * g..((bx + 1) * g).min(lw) {
                        let i = y * lw + x;
                        let w = self.dilated.data[i];
                        if colour {
                            s[0] += rgb[0].data[i] * w;
                            s[1] += rgb[1].data[i] * w;
                            s[2] += rgb[2].data[i] * w;
                        }
                        s[3] += w;
                        n += 1;
                    }
                }
                let k = by * bw + bx;
                for (c, &v) in s.iter().enumerate() {
                    self.acc[c].data[k] = v / n as f32;
                }
            }
        }
    }
}

/// A plain (unweighted) Gaussian blur of colour planes at the B grid: the blurred
/// virtual background for the light wrap, computed once per image.
pub fn blur_planes(planes: &mut [Plane; 3], sigma: f32) {
    let kernel = gaussian_kernel(sigma);
    let (w, h) = (planes[0].width, planes[0].height);
    let mut tmp = Plane::new(w, h);
    let mut pad = vec![0.0; w + kernel.len()];
    for p in planes.iter_mut() {
        convolve(p, &mut tmp, &kernel, &mut pad);
    }
}
