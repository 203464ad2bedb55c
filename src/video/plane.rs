//! Single-channel f32 images ("planes") at the reduced working resolutions, and the
//! resampling and filtering primitives the mask refinement and the blur share.
//!
//! Every sampler clamps to the edge and puts sample `i` at the centre of pixel `i`, exactly
//! like a WebGL texture with `CLAMP_TO_EDGE` and `LINEAR` filtering, so the WebGL2 renderer
//! reproduces them with plain texture fetches.

use super::simd;

#[derive(Clone, Debug, Default)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn new(width: usize, height: usize) -> Self {
        Plane {
            width,
            height,
            data: vec![0.0; width * height],
        }
    }

    pub fn row(&self, y: usize) -> &[f32] {
        &self.data[y * self.width..(y + 1) * self.width]
    }

    pub fn row_mut(&mut self, y: usize) -> &mut [f32] {
        &mut self.data[y * self.width..(y + 1) * self.width]
    }
}

/// Linear-interpolation taps from `src` samples to `dst` samples spanning the same extent
/// (GL `LINEAR` + `CLAMP_TO_EDGE`): `out[d] = in[i0] + f * (in[i1] - in[i0])`.
#[derive(Clone, Debug, Default)]
pub struct LinearTaps {
    pub i0: Vec<u32>,
    pub i1: Vec<u32>,
    pub f: Vec<f32>,
}

impl LinearTaps {
    /// `scale` is source samples per destination sample: `src / dst` when both grids span
    /// the same extent, `1 / factor` from a grid of `factor x factor` blocks (whose last
    /// block may be partial) to the full resolution.
    pub fn new(src: usize, dst: usize, scale: f32) -> Self {
        let mut taps = LinearTaps::default();
        for d in 0..dst {
            let s = ((d as f32 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f32);
            let i0 = s.floor() as usize;
            taps.i0.push(i0 as u32);
            taps.i1.push((i0 + 1).min(src - 1) as u32);
            taps.f.push(s - i0 as f32);
        }
        taps
    }

    /// Interpolates one row: `out[d]` from `src` at this table's positions.
    pub fn apply(&self, src: &[f32], out: &mut [f32]) {
        for (d, o) in out.iter_mut().enumerate() {
            let a = src[self.i0[d] as usize];
            let b = src[self.i1[d] as usize];
            *o = a + self.f[d] * (b - a);
        }
    }
}

/// Bilinear resampling of `src` (rows of `src_width` samples) into `dst`, whose size is
/// already set; `scratch` holds two rows of `dst`.
pub fn resample(
    src: &[f32],
    src_width: usize,
    dst: &mut Plane,
    xt: &LinearTaps,
    yt: &LinearTaps,
    scratch: &mut [f32],
) {
    let w = dst.width;
    let (r0, r1) = scratch.split_at_mut(w);
    let row = |i: u32| &src[i as usize * src_width..(i as usize + 1) * src_width];
    for y in 0..dst.height {
        xt.apply(row(yt.i0[y]), r0);
        xt.apply(row(yt.i1[y]), &mut r1[..w]);
        let f = yt.f[y];
        for ((o, &a), &b) in dst.row_mut(y).iter_mut().zip(r0.iter()).zip(r1.iter()) {
            *o = a + f * (b - a);
        }
    }
}

/// Separable mean over a (2r+1)^2 window, edges replicated, of four interleaved channels
/// (a `[f32; 4]` per pixel, one RGBA float texture in GLSL; the four channels ride in one
/// SIMD vector): 2r+1 taps horizontally, a running sum vertically (same result).
/// `scratch` holds `width + 2r` pixels.
pub fn box_mean4(
    src: &[[f32; 4]],
    dst: &mut [[f32; 4]],
    tmp: &mut [[f32; 4]],
    size: (usize, usize),
    r: usize,
    scratch: &mut [[f32; 4]],
) {
    let (w, h) = size;
    let norm = 1.0 / (2 * r + 1) as f32;
    let clampi = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
    let add = |a: &mut [f32; 4], b: &[f32; 4]| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
    // Horizontal: the row with r replicated samples each side, then direct taps.
    for y in 0..h {
        let s = &src[y * w..(y + 1) * w];
        let p = &mut scratch[..w + 2 * r];
        p[..r].fill(s[0]);
        p[r..r + w].copy_from_slice(s);
        p[r + w..].fill(s[w - 1]);
        simd::box_row4(p, r, norm, &mut tmp[y * w..(y + 1) * w]);
    }
    let sum = &mut scratch[..w];
    sum.fill([0.0; 4]);
    for i in -(r as isize)..=r as isize {
        let row = clampi(i, h);
        for (a, b) in sum.iter_mut().zip(&tmp[row * w..(row + 1) * w]) {
            add(a, b);
        }
    }
    for y in 0..h {
        let (add_row, sub_row) = (
            clampi(y as isize + r as isize + 1, h),
            clampi(y as isize - r as isize, h),
        );
        let (a, b) = (
            &tmp[add_row * w..(add_row + 1) * w],
            &tmp[sub_row * w..(sub_row + 1) * w],
        );
        simd::box_column_step(sum, a, b, norm, &mut dst[y * w..(y + 1) * w]);
    }
}

/// Separable 3x3 maximum (dilation), edges replicated.
#[inline(never)] // one call per frame (or row): keeps profiles readable
pub fn max3x3(src: &Plane, dst: &mut Plane, tmp: &mut Plane) {
    let (w, h) = (src.width, src.height);
    for y in 0..h {
        let s = src.row(y);
        let t = &mut tmp.data[y * w..(y + 1) * w];
        for x in 0..w {
            t[x] = max(max(s[x.saturating_sub(1)], s[x]), s[(x + 1).min(w - 1)]);
        }
    }
    for y in 0..h {
        let (a, b, c) = (y.saturating_sub(1), y, (y + 1).min(h - 1));
        for x in 0..w {
            dst.data[y * w + x] = max(
                max(tmp.data[a * w + x], tmp.data[b * w + x]),
                tmp.data[c * w + x],
            );
        }
    }
}

/// `f32::max` without its NaN handling, which wasm compiles to a slow library call.
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// Most taps a Gaussian kernel may have (sigma up to 10 pixels of its grid; the blur grids
/// keep it under 4).
pub const MAX_TAPS: usize = 61;

/// Normalised Gaussian taps `k[0..=2r]` for `sigma`, radius `ceil(3 sigma)` (at most 30).
pub fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().clamp(1.0, (MAX_TAPS / 2) as f32) as isize;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = k.iter().sum();
    k.into_iter().map(|v| v / sum).collect()
}

/// Separable convolution of `p`, in place, with the symmetric `kernel`, edges replicated.
/// `tmp` is a plane of the same size, `pad` scratch of `width + kernel.len()` samples.
pub fn convolve(p: &mut Plane, tmp: &mut Plane, kernel: &[f32], pad: &mut [f32]) {
    let (w, h) = (p.width, p.height);
    let r = kernel.len() / 2;
    // Horizontal: copy the row with r replicated samples each side, then plain taps.
    for y in 0..h {
        let s = p.row(y);
        let padded = &mut pad[..w + 2 * r];
        padded[..r].fill(s[0]);
        padded[r..r + w].copy_from_slice(s);
        padded[r + w..].fill(s[w - 1]);
        simd::convolve_row(padded, kernel, &mut tmp.data[y * w..(y + 1) * w]);
    }
    // Vertical: each output row is a weighted sum of 2r+1 whole rows.
    let mut rows = [0usize; MAX_TAPS];
    for y in 0..h {
        for (i, row) in rows[..kernel.len()].iter_mut().enumerate() {
            *row = (y as isize + i as isize - r as isize).clamp(0, h as isize - 1) as usize;
        }
        simd::convolve_column(
            &tmp.data,
            &rows[..kernel.len()],
            kernel,
            &mut p.data[y * w..(y + 1) * w],
        );
    }
}

/// Largest block `downsample_rgba` takes: its 16-bit column sums hold 257 rows of 255.
pub const MAX_BLOCK: usize = 257;

/// Area average of `factor x factor` blocks of an RGBA frame into R, G, B planes (0..255;
/// the last block of a row or column averages the pixels it has). `sums` is scratch of
/// `4 * width` counters.
pub fn downsample_rgba(
    frame: &[u8],
    size: (usize, usize),
    stride: usize,
    factor: usize,
    out: [&mut Plane; 3],
    sums: &mut [u16],
) {
    assert!(factor <= MAX_BLOCK);
    let [pr, pg, pb] = out;
    let (width, height) = size;
    let sums = &mut sums[..4 * width];
    for ly in 0..pr.height {
        sums.fill(0);
        let rows = ly * factor..((ly + 1) * factor).min(height);
        let nrows = rows.len();
        for y in rows {
            simd::add_columns(&frame[y * stride..y * stride + 4 * width], sums);
        }
        simd::block_means(
            sums,
            factor,
            nrows,
            [pr.row_mut(ly), pg.row_mut(ly), pb.row_mut(ly)],
        );
    }
}

/// Area average of `g x g` blocks of a plane (the last block partial).
pub fn area_down(src: &Plane, g: usize, dst: &mut Plane) {
    for by in 0..dst.height {
        for bx in 0..dst.width {
            let (mut s, mut n) = (0.0, 0);
            for y in by * g..((by + 1) * g).min(src.height) {
                for x in bx * g..((bx + 1) * g).min(src.width) {
                    s += src.data[y * src.width + x];
                    n += 1;
                }
            }
            dst.data[by * dst.width + bx] = s / n as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_taps_follow_gl_pixel_centres() {
        let t = LinearTaps::new(2, 4, 0.5);
        // Destination centres 0.5..3.5 map to source -0.25, 0.25, 0.75, 1.25 -> clamped.
        assert_eq!(t.i0, vec![0, 0, 0, 1]);
        assert_eq!(t.f, vec![0.0, 0.25, 0.75, 0.0]);
    }

    #[test]
    fn block_upsampling_matches_the_linear_taps() {
        for f in 1..=9usize {
            for w in [f * 5, f * 5 - f / 2, 37] {
                let n = w.div_ceil(f);
                let src: Vec<f32> = (0..n).map(|i| ((i * 7919) % 13) as f32).collect();
                let h = f / 2;
                let weights: Vec<f32> = (0..f)
                    .map(|j| (j + h) as f32 / f as f32 + 0.5 / f as f32 - 0.5)
                    .collect();
                let (mut a, mut b) = (vec![0.0; w], vec![0.0; w]);
                LinearTaps::new(n, w, 1.0 / f as f32).apply(&src, &mut a);
                simd::upsample_row(&src, f, &weights, &mut b);
                for x in 0..w {
                    assert!(
                        (a[x] - b[x]).abs() < 1e-4,
                        "f {f} w {w} x {x}: {} vs {}",
                        a[x],
                        b[x]
                    );
                }
            }
        }
    }

    #[test]
    fn box_mean_and_convolve_match_direct_sums() {
        let mut p = Plane::new(7, 5);
        for (i, v) in p.data.iter_mut().enumerate() {
            *v = ((i * 37) % 11) as f32;
        }
        let mut t = Plane::new(7, 5);
        let quads: Vec<[f32; 4]> = p.data.iter().map(|&v| [v, 2.0 * v, -v, 1.0]).collect();
        let (mut dq, mut tq) = (vec![[0.0; 4]; 35], vec![[0.0; 4]; 35]);
        box_mean4(&quads, &mut dq, &mut tq, (7, 5), 2, &mut [[0.0; 4]; 11]);
        let at = |x: isize, y: isize| p.data[(y.clamp(0, 4) * 7 + x.clamp(0, 6)) as usize];
        for y in 0..5isize {
            for x in 0..7isize {
                let direct: f32 = (-2..=2)
                    .flat_map(|j| (-2..=2).map(move |i| (i, j)))
                    .map(|(i, j)| at(x + i, y + j))
                    .sum::<f32>()
                    / 25.0;
                let q = dq[(y * 7 + x) as usize];
                assert!((q[0] - direct).abs() < 1e-4 && (q[1] - 2.0 * direct).abs() < 1e-4);
                assert!((q[2] + direct).abs() < 1e-4 && (q[3] - 1.0).abs() < 1e-5);
            }
        }
        let k = gaussian_kernel(1.3);
        let mut pad = vec![0.0; 7 + k.len()];
        let mut d = p.clone();
        convolve(&mut d, &mut t, &k, &mut pad);
        let r = (k.len() / 2) as isize;
        for y in 0..5isize {
            for x in 0..7isize {
                let mut direct = 0.0;
                for j in -r..=r {
                    for i in -r..=r {
                        direct += k[(i + r) as usize] * k[(j + r) as usize] * at(x + i, y + j);
                    }
                }
                assert!((d.data[(y * 7 + x) as usize] - direct).abs() < 1e-4);
            }
        }
    }
}
