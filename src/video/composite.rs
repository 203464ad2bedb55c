//! Pass 5, the only full-resolution pass: each frame row composited over the background, 4
//! pixels per step. The matte is the guided filter's affine function of the pixel's own
//! colour, its coefficients interpolated from the working grid (`Lerp`); groups of 4 pixels
//! whose class (`refine::PERSON`, `BACKGROUND`) says the answer skip it.

use super::refine::{BACKGROUND, PERSON};
use crate::simd::{groups, Rgba4, F4};

/// Share of the blurred background light that wraps onto the person's edge (image mode),
/// multiplied by alpha and by the local background fraction (about 0.5 on the edge).
pub const LIGHT_WRAP: f32 = 0.2;

/// One row of a low-resolution plane, interpolated to full width and then between two
/// such rows: `r0 + f * (r1 - r0)`.
#[derive(Clone, Copy)]
pub struct Lerp<'a> {
    pub r0: &'a [f32],
    pub r1: &'a [f32],
    pub f: f32,
}

impl Lerp<'_> {
    /// Lanes `x..x + 4` (`PART`: of the row's last, partial group).
    #[inline(always)]
    fn at<const PART: bool>(&self, x: usize) -> F4 {
        let a = F4::load_group::<PART>(self.r0, x);
        a.add(F4::splat(self.f).mul(F4::load_group::<PART>(self.r1, x).sub(a)))
    }

    fn row(&self, w: usize) -> Self {
        Lerp {
            r0: &self.r0[..w],
            r1: &self.r1[..w],
            f: self.f,
        }
    }
}

/// The matte of 4 pixels of colour `c`: `clamp(k . (c, 1), 0, 1)`.
#[inline(always)]
fn matte<const PART: bool>(c: [F4; 3], k: &[Lerp; 4], x: usize) -> F4 {
    let at = |i: usize| k[i].at::<PART>(x);
    let q = at(0)
        .mul(c[0])
        .add(at(1).mul(c[1]))
        .add(at(2).mul(c[2]))
        .add(at(3));
    q.max(F4::splat(0.0)).min(F4::splat(1.0))
}

/// The matte of one full-resolution row (diagnostics and tests).
pub fn matte_row(frame: &[u8], k: [Lerp; 4], out: &mut [f32]) {
    groups!(out.len(), |x, PART| {
        matte::<PART>(Rgba4::load_group::<PART>(frame, 4 * x).unpack(), &k, x)
            .store_group::<PART>(out, x)
    });
}

/// Blur mode, one full-resolution row: alpha from the guided-filter coefficients `k`
/// applied to the pixel's colour, then `bg + alpha * (frame - bg)`. `classes` holds one
/// class per group of 4 pixels.
pub fn composite_blur(frame: &[u8], k: [Lerp; 4], bg: [Lerp; 3], classes: &[u8], out: &mut [u8]) {
    let w = out.len() / 4;
    let (frame, out, classes) = (
        &frame[..4 * w],
        &mut out[..4 * w],
        &classes[..w.div_ceil(4)],
    );
    let (k, bg) = (k.map(|l| l.row(w)), bg.map(|l| l.row(w)));
    groups!(w, |x, PART| {
        // The background groups (most of the frame) do not even read the frame.
        let o = match classes[x / 4] {
            PERSON => Rgba4::load_group::<PART>(frame, 4 * x).opaque(),
            BACKGROUND => Rgba4::pack([0, 1, 2].map(|i| bg[i].at::<PART>(x))),
            _ => {
                let c = Rgba4::load_group::<PART>(frame, 4 * x).unpack();
                let alpha = matte::<PART>(c, &k, x);
                Rgba4::pack([0, 1, 2].map(|i| {
                    let g = bg[i].at::<PART>(x);
                    g.add(alpha.mul(c[i].sub(g)))
                }))
            }
        };
        o.store_group::<PART>(out, 4 * x)
    });
}

/// Image mode, one full-resolution row: the person, lit at the edge by the blurred image
/// (`wrap` = local background fraction), over the cover-fitted image.
pub fn composite_image(
    frame: &[u8],
    k: [Lerp; 4],
    wrap: Lerp,
    img: [&[u8]; 2],
    classes: &[u8],
    out: &mut [u8],
) {
    let w = out.len() / 4;
    let (frame, out, classes) = (
        &frame[..4 * w],
        &mut out[..4 * w],
        &classes[..w.div_ceil(4)],
    );
    let [img, img_blur] = img.map(|i| &i[..4 * w]);
    let (k, wrap) = (k.map(|l| l.row(w)), wrap.row(w));
    let strength = F4::splat(LIGHT_WRAP);
    groups!(w, |x, PART| {
        let class = classes[x / 4];
        let o = if class == BACKGROUND {
            Rgba4::load_group::<PART>(img, 4 * x).opaque()
        } else {
            let c = Rgba4::load_group::<PART>(frame, 4 * x).unpack();
            let ib = Rgba4::load_group::<PART>(img_blur, 4 * x).unpack();
            let alpha = if class == PERSON {
                F4::splat(1.0)
            } else {
                matte::<PART>(c, &k, x)
            };
            let lw = strength.mul(alpha).mul(wrap.at::<PART>(x));
            let person = [0, 1, 2].map(|j| c[j].add(lw.mul(ib[j].sub(c[j]))));
            if class == PERSON {
                Rgba4::pack(person)
            } else {
                let i = Rgba4::load_group::<PART>(img, 4 * x).unpack();
                Rgba4::pack([0, 1, 2].map(|j| i[j].add(alpha.mul(person[j].sub(i[j])))))
            }
        };
        o.store_group::<PART>(out, 4 * x)
    });
}

#[cfg(test)]
mod tests {
    use super::super::refine::EDGE;
    use super::*;

    /// The class shortcuts give the pixels the full evaluation gives.
    #[test]
    fn class_shortcuts_match_the_full_matte() {
        let w = 67;
        let mut seed = 1u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32
        };
        let frame: Vec<u8> = (0..4 * w).map(|_| (rnd() * 255.0) as u8).collect();
        let img: Vec<u8> = (0..4 * w)
            .map(|i| {
                if i % 4 == 3 {
                    255
                } else {
                    (rnd() * 255.0) as u8
                }
            })
            .collect();
        let img_blur: Vec<u8> = (0..4 * w).map(|_| (rnd() * 255.0) as u8).collect();
        // Coefficient rows: stretches of person (offset >= 1 + any colour term), background
        // and edge, per group of 4.
        let kind = |x: usize| (x / 4) % 3;
        let mut rows = vec![vec![0.0f32; w]; 8];
        #[allow(clippy::needless_range_loop)]
        for x in 0..w {
            for r in 0..2 {
                let a = [
                    (rnd() - 0.5) * 0.002,
                    (rnd() - 0.5) * 0.002,
                    (rnd() - 0.5) * 0.002,
                ];
                let b = match kind(x) {
                    0 => -1.0 - rnd(),
                    1 => 2.0 + rnd(),
                    _ => 0.5 + (rnd() - 0.5) * 0.2,
                };
                for c in 0..3 {
                    rows[2 * c + r][x] = a[c];
                }
                rows[6 + r][x] = b;
            }
        }
        let lerp = |c: usize| Lerp {
            r0: &rows[2 * c],
            r1: &rows[2 * c + 1],
            f: 0.3,
        };
        let k = [lerp(0), lerp(1), lerp(2), lerp(3)];
        let bg_rows: Vec<Vec<f32>> = (0..6)
            .map(|_| (0..w).map(|_| rnd() * 255.0).collect())
            .collect();
        let bg = [0, 1, 2].map(|c| Lerp {
            r0: &bg_rows[2 * c],
            r1: &bg_rows[2 * c + 1],
            f: 0.6,
        });
        let classes: Vec<u8> = (0..w.div_ceil(4))
            .map(|g| [BACKGROUND, PERSON, EDGE][g % 3])
            .collect();
        let all_edge = vec![EDGE; w.div_ceil(4)];
        let (mut a, mut b) = (vec![0u8; 4 * w], vec![0u8; 4 * w]);
        composite_blur(&frame, k, bg, &classes, &mut a);
        composite_blur(&frame, k, bg, &all_edge, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1));
        let wrap = Lerp {
            r0: &bg_rows[0],
            r1: &bg_rows[1],
            f: 0.5,
        };
        let wrap_rows: Vec<f32> = wrap.r0.iter().map(|v| v / 255.0).collect();
        let wrap = Lerp {
            r0: &wrap_rows,
            r1: &wrap_rows,
            f: 0.0,
        };
        composite_image(&frame, k, wrap, [&img, &img_blur], &classes, &mut a);
        composite_image(&frame, k, wrap, [&img, &img_blur], &all_edge, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x.abs_diff(*y) <= 1));
    }
}
