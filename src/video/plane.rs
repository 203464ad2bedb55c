//! Single-channel f32 images ("planes") at the reduced working resolutions, and the
//! resampling and filtering primitives the mask refinement and the blur share.
//!
//! Every sampler clamps to the edge and puts sample `i` at the centre of pixel `i`, exactly
//! like a WebGL texture with `CLAMP_TO_EDGE` and `LINEAR` filtering, so the WebGL2 renderer
//! reproduces them with plain texture fetches.

use crate::simd::{I16x8, F4};

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

/// Linear interpolation of a row of a grid of `f`-pixel blocks to full resolution (GL
/// `LINEAR` + `CLAMP_TO_EDGE`, centres aligned): between samples k and k+1 lie the `f`
/// outputs from `f k + f / 2` on, at fractions `weights[j] = (j + f/2 + 0.5) / f - 0.5`;
/// `out = a + t (b - a)`, as `LinearTaps::apply`.
#[inline(never)] // one call per frame (or row): keeps profiles readable
pub fn upsample_row(src: &[f32], f: usize, weights: &[f32], out: &mut [f32]) {
    let (n, w, h) = (src.len(), out.len(), f / 2);
    assert!(n >= 1 && weights.len() >= f);
    out[..h.min(w)].fill(src[0]);
    let (mut x, mut k) = (h, 0);
    if f == 4 {
        // Four segments per step: a = src[k..k+4], d = src[k+1..k+5] - a, each lane
        // splatted in turn.
        let t = F4::load(weights, 0);
        while k + 5 <= n && x + 16 <= w {
            let a = F4::load(src, k);
            let d = F4::load(src, k + 1).sub(a);
            a.lane::<0>().add(t.mul(d.lane::<0>())).store(out, x);
            a.lane::<1>().add(t.mul(d.lane::<1>())).store(out, x + 4);
            a.lane::<2>().add(t.mul(d.lane::<2>())).store(out, x + 8);
            a.lane::<3>().add(t.mul(d.lane::<3>())).store(out, x + 12);
            x += 16;
            k += 4;
        }
    }
    while k + 1 < n && x < w {
        let (a, d) = (F4::splat(src[k]), F4::splat(src[k + 1] - src[k]));
        let end = (x + f).min(w);
        let segment = &mut out[x..end];
        for j in (0..segment.len()).step_by(4) {
            a.add(F4::load_part(weights, j).mul(d))
                .store_part(segment, j);
        }
        x = end;
        k += 1;
    }
    if x < w {
        out[x..].fill(src[n - 1]);
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
        box_row4(p, r, norm, &mut tmp[y * w..(y + 1) * w]);
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
        box_column_step(sum, a, b, norm, &mut dst[y * w..(y + 1) * w]);
    }
}

/// Horizontal box mean of four-channel pixels (one vector each): `p` is the row with `r`
/// replicated pixels each side; `out[x] = sum(p[x..=x + 2r]) * norm`. Direct taps, not a
/// running sum: the windows are small and a running sum is one long chain of dependent
/// additions.
pub fn box_row4(p: &[[f32; 4]], r: usize, norm: f32, out: &mut [[f32; 4]]) {
    assert!(p.len() >= out.len() + 2 * r);
    let norm = F4::splat(norm);
    for (o, window) in out.iter_mut().zip(p.windows(2 * r + 1)) {
        let sum = window[1..]
            .iter()
            .fold(F4::from_ref(&window[0]), |s, v| s.add(F4::from_ref(v)));
        sum.mul(norm).write_to(o);
    }
}

/// One row of a vertical running box mean: `out = sum * norm; sum += add - sub`.
pub fn box_column_step(
    sum: &mut [[f32; 4]],
    add: &[[f32; 4]],
    sub: &[[f32; 4]],
    norm: f32,
    out: &mut [[f32; 4]],
) {
    let w = out.len();
    assert!(sum.len() >= w && add.len() >= w && sub.len() >= w);
    let norm = F4::splat(norm);
    for (((s, a), b), o) in sum.iter_mut().zip(add).zip(sub).zip(out) {
        let v = F4::from_ref(s);
        v.mul(norm).write_to(o);
        v.add(F4::from_ref(a).sub(F4::from_ref(b))).write_to(s);
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
        convolve_row(padded, kernel, &mut tmp.data[y * w..(y + 1) * w]);
    }
    // Vertical: each output row is a weighted sum of 2r+1 whole rows.
    let mut rows = [0usize; MAX_TAPS];
    for y in 0..h {
        for (i, row) in rows[..kernel.len()].iter_mut().enumerate() {
            *row = (y as isize + i as isize - r as isize).clamp(0, h as isize - 1) as usize;
        }
        convolve_column(
            &tmp.data,
            &rows[..kernel.len()],
            kernel,
            &mut p.data[y * w..(y + 1) * w],
        );
    }
}

/// `k[r] at(r) + sum_{i<r} k[i] (at(i) + at(2r - i))` for a symmetric kernel `k` of odd
/// length: one group of 4 outputs (a row's last, partial group).
#[inline(always)]
fn fold_taps(k: &[f32], at: impl Fn(usize) -> F4) -> F4 {
    let r = k.len() / 2;
    let mut acc = F4::splat(k[r]).mul(at(r));
    for (i, &ki) in k[..r].iter().enumerate() {
        acc = acc.add(F4::splat(ki).mul(at(i).add(at(2 * r - i))));
    }
    acc
}

/// `fold_taps` over every whole group of `out`: `tap(i)` is the groups tap `i` reads (at
/// least `out.len()`). Four groups at a time, their sums kept in registers over all the taps:
/// a pass tap by tap over the whole row loads and stores every sum once per tap, which on
/// blur 20's narrow rows (a coarser grid, as many taps) cost more than the taps themselves.
/// Each lane sees the same operations in the same order as in `fold_taps`.
#[inline(always)]
fn fold_taps_groups<'a>(k: &[f32], tap: impl Fn(usize) -> &'a [[f32; 4]], out: &mut [[f32; 4]]) {
    let r = k.len() / 2;
    let (blocks, rest) = out.as_chunks_mut::<4>();
    for (b, block) in blocks.iter_mut().enumerate() {
        let at = |i: usize| -> &'a [[f32; 4]; 4] { tap(i)[4 * b..4 * b + 4].try_into().unwrap() };
        let (centre, kr) = (at(r), F4::splat(k[r]));
        let mut acc = [0, 1, 2, 3].map(|j| kr.mul(F4::from_ref(&centre[j])));
        for (i, &ki) in k[..r].iter().enumerate() {
            let (a, c, ki) = (at(i), at(2 * r - i), F4::splat(ki));
            for (j, sum) in acc.iter_mut().enumerate() {
                *sum = sum.add(ki.mul(F4::from_ref(&a[j]).add(F4::from_ref(&c[j]))));
            }
        }
        for (o, sum) in block.iter_mut().zip(acc) {
            sum.write_to(o);
        }
    }
    let first = 4 * blocks.len();
    for (j, o) in rest.iter_mut().enumerate() {
        fold_taps(k, |i| F4::from_ref(&tap(i)[first + j])).write_to(o);
    }
}

/// `out[x] = sum_i k[i] * p[x + i]` for a symmetric kernel `k` of odd length (folded:
/// `k[r] p[x + r] + sum_{i<r} k[i] (p[x + i] + p[x + 2r - i])`), `p` holding
/// `out.len() + k.len() - 1` samples.
pub fn convolve_row(p: &[f32], k: &[f32], out: &mut [f32]) {
    assert!(k.len() % 2 == 1 && p.len() + 1 >= out.len() + k.len());
    let (groups, rest) = out.as_chunks_mut::<4>();
    let x = 4 * groups.len();
    // Tap i of the group at x reads p[x + i..x + i + 4]: the groups of p[i..].
    fold_taps_groups(k, |i| p[i..].as_chunks::<4>().0, groups);
    if !rest.is_empty() {
        fold_taps(k, |i| F4::load_part(p, x + i)).store_part(rest, 0);
    }
}

/// One output row of a vertical convolution with a symmetric kernel of odd length:
/// `out[x] = sum_i k[i] * src[rows[i] * w + x]` (`w = out.len()`), folded as in
/// `convolve_row`.
pub fn convolve_column(src: &[f32], rows: &[usize], k: &[f32], out: &mut [f32]) {
    let w = out.len();
    assert!(k.len() % 2 == 1 && rows.len() == k.len());
    let row = |i: usize| &src[rows[i] * w..(rows[i] + 1) * w];
    let (groups, rest) = out.as_chunks_mut::<4>();
    fold_taps_groups(k, |i| row(i).as_chunks::<4>().0, groups);
    if !rest.is_empty() {
        let x = 4 * groups.len();
        fold_taps(k, |i| F4::load_part(row(i), x)).store_part(rest, 0);
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
            add_columns(&frame[y * stride..y * stride + 4 * width], sums);
        }
        block_means(
            sums,
            factor,
            nrows,
            [pr.row_mut(ly), pg.row_mut(ly), pb.row_mut(ly)],
        );
    }
}

/// Adds one RGBA row (`sums.len()` bytes) into per-byte 16-bit column sums.
pub fn add_columns(row: &[u8], sums: &mut [u16]) {
    let n = sums.len();
    let add =
        |s: &mut [u16; 8], r: &[u8]| I16x8::from_u16(s).add(I16x8::load_u8(r, 0)).write_u16(s);
    let (full, tail) = sums.as_chunks_mut::<8>();
    for (s, r) in full.iter_mut().zip(row[..n].chunks_exact(8)) {
        add(s, r);
    }
    if !tail.is_empty() {
        // The last 4 counters (an odd width), through the same step on a padded copy.
        let (mut s, mut r) = ([0; 8], [0; 8]);
        s[..tail.len()].copy_from_slice(tail);
        r[..tail.len()].copy_from_slice(&row[n - tail.len()..n]);
        add(&mut s, &r);
        tail.copy_from_slice(&s[..tail.len()]);
    }
}

/// Averages blocks of `f` columns of RGBA column sums (of `rows` rows) into R, G, B rows.
/// Two columns (8 counters) per vector, added in 16 bits as long as that cannot overflow
/// (`MAX_BLOCK` 255s), then in f32, exact for whole numbers below 2^24 (blocks up to 256
/// pixels on a side; frames of `MAX_DIMENSION` pixels have blocks of 46).
pub fn block_means(sums: &[u16], f: usize, rows: usize, out: [&mut [f32]; 3]) {
    let width = sums.len() / 4;
    let [r, g, b] = out;
    let mut done = 0;
    if f == 4 {
        // The factor of 720p frames: a block is 16 counters (4 pixels), two vectors added, then
        // their halves (4 rows of 255 per counter: no overflow).
        let norm = F4::splat(1.0 / (4 * rows) as f32);
        let blocks = sums.as_chunks::<16>().0;
        for (((blk, r), g), b) in blocks
            .iter()
            .zip(r.iter_mut())
            .zip(g.iter_mut())
            .zip(b.iter_mut())
        {
            let (lo, hi) = blk.split_at(8);
            let s = I16x8::from_u16(lo.try_into().unwrap())
                .add(I16x8::from_u16(hi.try_into().unwrap()));
            let [mr, mg, mb, _] = s.add(s.swap_halves()).to_f4_u16().0.mul(norm).to_array();
            (*r, *g, *b) = (mr, mg, mb);
            done += 1;
        }
    }
    let (r, g, b) = (&mut r[done..], &mut g[done..], &mut b[done..]);
    let per_flush = 2 * (MAX_BLOCK / rows.max(1)).max(1);
    let norm = F4::splat(1.0 / (rows * f) as f32);
    for (x, ((r, g), b)) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()).enumerate() {
        let x = x + done;
        let cols = x * f..((x + 1) * f).min(width);
        let block = &sums[..4 * cols.end];
        let mut acc = F4::splat(0.0);
        for start in cols.clone().step_by(per_flush) {
            let end = (start + per_flush).min(cols.end);
            let (pairs, odd) = block[4 * start..4 * end].as_chunks::<8>();
            let s = pairs
                .iter()
                .fold(I16x8::splat(0), |s, p| s.add(I16x8::from_u16(p)));
            let s = if odd.is_empty() {
                s
            } else {
                s.add(I16x8::load_u16_part(odd, 0))
            };
            let (first, second) = s.to_f4_u16();
            acc = acc.add(first).add(second);
        }
        let norm = if cols.len() == f {
            norm
        } else {
            F4::splat(1.0 / (rows * cols.len()) as f32)
        };
        let [mr, mg, mb, _] = acc.mul(norm).to_array();
        (*r, *g, *b) = (mr, mg, mb);
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
                upsample_row(&src, f, &weights, &mut b);
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

    /// The block means equal the exact integer means, 16-bit partial sums and all, for every
    /// block size up to `MAX_BLOCK` (full and partial blocks, odd widths).
    #[test]
    fn block_means_are_exact() {
        for (width, f, rows) in [
            (7, 1, 1),
            (13, 4, 4),
            (9, 4, 2),
            (11, 3, 3),
            (97, 46, 46),
            (300, 257, 257),
        ] {
            let row: Vec<u8> = (0..4 * width).map(|i| (255 - (i * 31) % 7) as u8).collect();
            let mut sums = vec![0u16; 4 * width];
            for _ in 0..rows {
                add_columns(&row, &mut sums);
            }
            let lw = width.div_ceil(f);
            let (mut r, mut g, mut b) = (vec![0.0; lw], vec![0.0; lw], vec![0.0; lw]);
            block_means(&sums, f, rows, [&mut r, &mut g, &mut b]);
            for x in 0..lw {
                let cols = x * f..((x + 1) * f).min(width);
                for (c, got) in [r[x], g[x], b[x]].into_iter().enumerate() {
                    let total: u64 = cols
                        .clone()
                        .map(|col| rows as u64 * row[4 * col + c] as u64)
                        .sum();
                    let want = total as f32 * (1.0 / (rows * cols.len()) as f32);
                    assert_eq!(
                        got, want,
                        "width {width} f {f} rows {rows} block {x} channel {c}"
                    );
                }
            }
        }
    }
}
