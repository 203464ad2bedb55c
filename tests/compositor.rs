//! The CPU renderer's contract on synthetic but realistic scenes: a person-like silhouette
//! (head, neck, shoulders) with its exact anti-aliased coverage, over textured or uniform
//! backgrounds, and a 256x144 segmenter-like mask made from that coverage (area-averaged,
//! softened, noisy, jittered). These mirror the browser acceptance tests: blur strength
//! and person fidelity, no halo (and a naive blur that has one), edge-aware upsampling vs
//! bilinear, temporal flicker vs lag, virtual background, pass-through, bad input.
//! Run with `--nocapture` to see the measured figures.

use visio_media_effects::video::{cover_fit, Background, Compositor, CompositorError, Frame, Mask};

// Counts this thread's heap allocations, to check that rendering allocates nothing.
#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/rng.rs"]
mod rng;
use counting_alloc::allocations;
use rng::XorShift as Rng;

const W: usize = 1280;
const H: usize = 720;
const MW: usize = 256;
const MH: usize = 144;

/// Head ellipse, neck, shoulders ellipse; `dx` shifts the person horizontally.
fn inside(x: f32, y: f32, w: usize, h: usize, dx: f32) -> bool {
    let s = h as f32;
    let cx = w as f32 * 0.5 + dx;
    let e = |ex: f32, ey: f32, rx: f32, ry: f32| {
        ((x - ex) / rx).powi(2) + ((y - ey) / ry).powi(2) <= 1.0
    };
    e(cx, 0.36 * s, 0.12 * s, 0.155 * s)
        || ((x - cx).abs() <= 0.06 * s && y >= 0.45 * s && y <= 0.62 * s)
        || e(cx, 1.02 * s, 0.36 * s, 0.42 * s)
}

/// Exact-ish coverage of each pixel by the person (4x4 supersampling).
fn coverage(w: usize, h: usize, dx: f32) -> Vec<f32> {
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut n = 0;
            for j in 0..4 {
                for i in 0..4 {
                    let (px, py) = (
                        x as f32 + (i as f32 + 0.5) / 4.0,
                        y as f32 + (j as f32 + 0.5) / 4.0,
                    );
                    n += inside(px, py, w, h, dx) as u32;
                }
            }
            out[y * w + x] = n as f32 / 16.0;
        }
    }
    out
}

/// A segmenter-like mask: coverage area-averaged to MW x MH, softened by a 3x3 mean,
/// plus uniform noise of `noise` amplitude.
fn low_res_mask(cov: &[f32], w: usize, h: usize, noise: f32, rng: &mut Rng) -> Vec<f32> {
    let (fx, fy) = (w / MW, h / MH);
    let mut m = vec![0.0; MW * MH];
    for my in 0..MH {
        for mx in 0..MW {
            let mut s = 0.0;
            for y in my * fy..(my + 1) * fy {
                for x in mx * fx..(mx + 1) * fx {
                    s += cov[y * w + x];
                }
            }
            m[my * MW + mx] = s / (fx * fy) as f32;
        }
    }
    let at = |x: isize, y: isize| {
        m[(y.clamp(0, MH as isize - 1) as usize) * MW + x.clamp(0, MW as isize - 1) as usize]
    };
    let mut out = vec![0.0; MW * MH];
    for y in 0..MH as isize {
        for x in 0..MW as isize {
            let s: f32 = (-1..=1)
                .flat_map(|j| (-1..=1).map(move |i| (i, j)))
                .map(|(i, j)| at(x + i, y + j))
                .sum();
            out[y as usize * MW + x as usize] = (s / 9.0 + noise * rng.signed()).clamp(0.0, 1.0);
        }
    }
    out
}

fn textured_background(x: usize, y: usize, rng: &mut Rng) -> [f32; 3] {
    let checker = ((x / 4) + (y / 4)).is_multiple_of(2);
    let base = if checker {
        [40.0, 120.0, 70.0]
    } else {
        [190.0, 210.0, 110.0]
    };
    let stripe = 25.0 * ((x + 2 * y) as f32 * 0.9).sin();
    let n = 12.0 * rng.signed();
    [base[0] + stripe + n, base[1] + n, base[2] - stripe + n]
}

fn textured_person(x: usize, y: usize, head: bool, rng: &mut Rng) -> [f32; 3] {
    let shade = 18.0 * (x as f32 * 0.021).sin() * (y as f32 * 0.017).cos();
    let n = 5.0 * rng.signed();
    let base = if head {
        [225.0, 172.0, 140.0]
    } else {
        [200.0, 40.0, 150.0]
    };
    [
        base[0] + shade + n,
        base[1] + shade + n,
        base[2] + shade + n,
    ]
}

struct Scene {
    frame: Vec<u8>,
    cov: Vec<f32>,
}

/// What the person and the background look like.
#[derive(Clone, Copy)]
enum Look {
    /// Saturated, shaded clothes and a face over a high-frequency checker with stripes.
    Textured,
    /// Flat colours plus camera noise of +-`noise`.
    Flat {
        person: [f32; 3],
        background: [f32; 3],
        noise: f32,
    },
}

const HALO_BG: [f32; 3] = [90.0, 110.0, 140.0];
/// A red jumper on a grey-blue wall: about the same luma, very different hue.
const CONTRASTING: Look = Look::Flat {
    person: [230.0, 40.0, 40.0],
    background: HALO_BG,
    noise: 4.0,
};
/// Person and background 12 levels apart: the frame gives the matte no edge to follow.
const LOW_CONTRAST: Look = Look::Flat {
    person: [100.0, 118.0, 146.0],
    background: HALO_BG,
    noise: 3.0,
};

/// The frame: person over background, blended by the coverage (an anti-aliased edge).
fn scene(w: usize, h: usize, dx: f32, look: Look, seed: u64) -> Scene {
    let cov = coverage(w, h, dx);
    let mut rng = Rng(seed);
    let mut frame = vec![255u8; w * h * 4];
    for y in 0..h {
        for x in 0..w {
            let (bg, fg) = match look {
                Look::Textured => {
                    let head = (y as f32) < 0.5 * h as f32;
                    (
                        textured_background(x, y, &mut rng),
                        textured_person(x, y, head, &mut rng),
                    )
                }
                Look::Flat {
                    person,
                    background,
                    noise,
                } => {
                    let n = noise * rng.signed();
                    (background.map(|v| v + n), person.map(|v| v + n))
                }
            };
            let t = cov[y * w + x];
            for c in 0..3 {
                frame[(y * w + x) * 4 + c] =
                    (bg[c] + t * (fg[c] - bg[c])).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    Scene { frame, cov }
}

/// Approximate Euclidean distance (3-4 chamfer / 3) from each pixel to the nearest pixel
/// where `target(i)` holds.
fn distance(w: usize, h: usize, target: impl Fn(usize) -> bool) -> Vec<f32> {
    let big = 1e9f32;
    let mut d: Vec<f32> = (0..w * h)
        .map(|i| if target(i) { 0.0 } else { big })
        .collect();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let mut v = d[i];
            if x > 0 {
                v = v.min(d[i - 1] + 3.0);
            }
            if y > 0 {
                v = v.min(d[i - w] + 3.0);
                if x > 0 {
                    v = v.min(d[i - w - 1] + 4.0);
                }
                if x + 1 < w {
                    v = v.min(d[i - w + 1] + 4.0);
                }
            }
            d[i] = v;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            let mut v = d[i];
            if x + 1 < w {
                v = v.min(d[i + 1] + 3.0);
            }
            if y + 1 < h {
                v = v.min(d[i + w] + 3.0);
                if x + 1 < w {
                    v = v.min(d[i + w + 1] + 4.0);
                }
                if x > 0 {
                    v = v.min(d[i + w - 1] + 4.0);
                }
            }
            d[i] = v;
        }
    }
    d.iter().map(|v| v / 3.0).collect()
}

/// Distance outside the person (0 inside) and inside it (0 outside), in pixels.
fn distances(cov: &[f32], w: usize, h: usize) -> (Vec<f32>, Vec<f32>) {
    (
        distance(w, h, |i| cov[i] >= 0.5),
        distance(w, h, |i| cov[i] < 0.5),
    )
}

fn luma(img: &[u8], i: usize) -> f32 {
    0.299 * img[4 * i] as f32 + 0.587 * img[4 * i + 1] as f32 + 0.114 * img[4 * i + 2] as f32
}

/// Sum of the squared 4-neighbour Laplacian of luma over the pixels in `region`.
fn laplacian_energy(img: &[u8], w: usize, h: usize, region: impl Fn(usize) -> bool) -> f64 {
    let mut e = 0.0;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            if region(i) {
                let l = 4.0 * luma(img, i)
                    - luma(img, i - 1)
                    - luma(img, i + 1)
                    - luma(img, i - w)
                    - luma(img, i + w);
                e += (l as f64).powi(2);
            }
        }
    }
    e
}

/// Mean SSIM of luma over the 8x8 windows (stride 8) that lie wholly in `region`.
fn ssim(a: &[u8], b: &[u8], w: usize, h: usize, region: impl Fn(usize) -> bool) -> f64 {
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (mut total, mut n) = (0.0, 0);
    for wy in (0..h - 8).step_by(8) {
        for wx in (0..w - 8).step_by(8) {
            let idx: Vec<usize> = (0..64).map(|k| (wy + k / 8) * w + wx + k % 8).collect();
            if !idx.iter().all(|&i| region(i)) {
                continue;
            }
            let va: Vec<f64> = idx.iter().map(|&i| luma(a, i) as f64).collect();
            let vb: Vec<f64> = idx.iter().map(|&i| luma(b, i) as f64).collect();
            let (ma, mb) = (va.iter().sum::<f64>() / 64.0, vb.iter().sum::<f64>() / 64.0);
            let var = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 63.0;
            let cov = va
                .iter()
                .zip(&vb)
                .map(|(x, y)| (x - ma) * (y - mb))
                .sum::<f64>()
                / 63.0;
            total += ((2.0 * ma * mb + c1) * (2.0 * cov + c2))
                / ((ma * ma + mb * mb + c1) * (var(&va, ma) + var(&vb, mb) + c2));
            n += 1;
        }
    }
    assert!(n > 50, "too few SSIM windows ({n})");
    total / n as f64
}

fn colour_distance(img: &[u8], i: usize, c: [f32; 3]) -> f32 {
    (0..3)
        .map(|k| (img[4 * i + k] as f32 - c[k]).powi(2))
        .sum::<f32>()
        .sqrt()
}

fn frame(data: &[u8], w: usize, h: usize) -> Frame<'_> {
    Frame {
        rgba: data,
        width: w,
        height: h,
        stride: 4 * w,
    }
}

fn mask(data: &[f32]) -> Mask<&[f32]> {
    Mask {
        data,
        width: MW,
        height: MH,
    }
}

fn render(c: &mut Compositor, s: &Scene, m: &[f32]) -> Vec<u8> {
    let mut out = vec![0u8; W * H * 4];
    c.render(frame(&s.frame, W, H), mask(m), &mut out)
        .expect("render");
    out
}

#[test]
fn blur_removes_background_detail_and_keeps_the_person() {
    let s = scene(W, H, 0.0, Look::Textured, 1);
    let m = low_res_mask(&s.cov, W, H, 0.03, &mut Rng(7));
    let (outside, inside_d) = distances(&s.cov, W, H);
    // Background well away from the edge (beyond the soft matte and the blur's reach of
    // the silhouette), person away from its outline.
    let far_bg = |i: usize| outside[i] > 48.0;
    let person = |i: usize| inside_d[i] > 8.0;
    let e_in = laplacian_energy(&s.frame, W, H, far_bg);
    for (radius, min_drop) in [(20.0, 0.8), (10.0, 0.8)] {
        let mut c = Compositor::new(W, H);
        c.set_background(Background::Blur { radius }).unwrap();
        let out = render(&mut c, &s, &m);
        let drop = 1.0 - laplacian_energy(&out, W, H, far_bg) / e_in;
        let q = ssim(&s.frame, &out, W, H, person);
        println!(
            "blur radius {radius}: background HF energy drop {:.1}%, person SSIM {q:.4}",
            100.0 * drop
        );
        assert!(
            drop >= min_drop,
            "radius {radius}: HF energy dropped only {:.1}%",
            100.0 * drop
        );
        assert!(q >= 0.9, "radius {radius}: person SSIM {q}");
    }
}

/// Unweighted Gaussian blur of the whole frame (the same sigma, the same reduced grid),
/// composited with the true coverage: what a renderer without mask-weighted taps does.
fn naive_blur_composite(s: &Scene, sigma: f32) -> Vec<u8> {
    let f = 4;
    let (lw, lh) = (W / f, H / f);
    let sl = sigma / f as f32;
    let r = (3.0 * sl).ceil() as isize;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sl * sl)).exp())
        .collect();
    let ks: f32 = k.iter().sum();
    let mut out = s.frame.clone();
    for c in 0..3 {
        let mut p = vec![0.0f32; lw * lh];
        for y in 0..H {
            for x in 0..W {
                p[(y / f) * lw + x / f] += s.frame[(y * W + x) * 4 + c] as f32 / (f * f) as f32;
            }
        }
        let mut t = vec![0.0f32; lw * lh];
        for y in 0..lh as isize {
            for x in 0..lw as isize {
                t[y as usize * lw + x as usize] = (-r..=r)
                    .map(|i| {
                        k[(i + r) as usize]
                            * p[y as usize * lw + (x + i).clamp(0, lw as isize - 1) as usize]
                    })
                    .sum::<f32>()
                    / ks;
            }
        }
        for y in 0..lh as isize {
            for x in 0..lw as isize {
                p[y as usize * lw + x as usize] = (-r..=r)
                    .map(|i| {
                        k[(i + r) as usize]
                            * t[(y + i).clamp(0, lh as isize - 1) as usize * lw + x as usize]
                    })
                    .sum::<f32>()
                    / ks;
            }
        }
        for y in 0..H {
            for x in 0..W {
                // Bilinear, pixel centres aligned.
                let sx = ((x as f32 + 0.5) / f as f32 - 0.5).clamp(0.0, (lw - 1) as f32);
                let sy = ((y as f32 + 0.5) / f as f32 - 0.5).clamp(0.0, (lh - 1) as f32);
                let (x0, y0) = (sx as usize, sy as usize);
                let (x1, y1) = ((x0 + 1).min(lw - 1), (y0 + 1).min(lh - 1));
                let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                let top = p[y0 * lw + x0] + fx * (p[y0 * lw + x1] - p[y0 * lw + x0]);
                let bot = p[y1 * lw + x0] + fx * (p[y1 * lw + x1] - p[y1 * lw + x0]);
                let bg = top + fy * (bot - top);
                let a = s.cov[y * W + x];
                let i = (y * W + x) * 4 + c;
                out[i] = (bg + a * (s.frame[i] as f32 - bg)).round() as u8;
            }
        }
    }
    out
}

#[test]
fn blurred_background_has_no_halo_where_a_naive_blur_has_one() {
    let s = scene(W, H, 0.0, CONTRASTING, 2);
    // The segmenter is off by 3 px and noisy.
    let m = low_res_mask(&coverage(W, H, 3.0), W, H, 0.05, &mut Rng(8));
    let (outside, _) = distances(&s.cov, W, H);
    // A band just outside the silhouette: 3 to 15 pixels from the outline (the matte's own
    // soft edge takes the first 2 or so).
    let band: Vec<usize> = (0..W * H)
        .filter(|&i| outside[i] >= 3.0 && outside[i] <= 15.0)
        .collect();
    let stats = |img: &[u8]| {
        let d: Vec<f32> = band
            .iter()
            .map(|&i| colour_distance(img, i, HALO_BG))
            .collect();
        let max = d.iter().cloned().fold(0.0, f32::max);
        (d.iter().sum::<f32>() / d.len() as f32, max)
    };
    let mut c = Compositor::new(W, H);
    c.set_background(Background::Blur { radius: 20.0 }).unwrap();
    let (mean, max) = stats(&render(&mut c, &s, &m));
    let (naive_mean, naive_max) = stats(&naive_blur_composite(&s, 20.0));
    println!("halo band 3..15 px (RGB distance to the wall): mask-weighted blur mean {mean:.2} max {max:.2}; naive blur mean {naive_mean:.2} max {naive_max:.2}");
    assert!(max < 10.0, "halo: colour distance up to {max}");
    assert!(
        naive_max > 30.0 && naive_mean > 10.0,
        "the naive blur should show a halo here"
    );
}

#[test]
fn guided_upsampling_beats_bilinear_on_a_blocky_offset_mask() {
    let s = scene(W, H, 0.0, Look::Textured, 3);
    // A blocky mask of a silhouette 6 px off: binarised at 128x72, repeated to 256x144.
    let off = coverage(W, H, 6.0);
    let coarse = {
        let mut m = vec![0.0f32; MW * MH];
        for my in 0..MH {
            for mx in 0..MW {
                let (bx, by) = (mx / 2 * 10, my / 2 * 10);
                let mut sum = 0.0;
                for y in by..by + 10 {
                    for x in bx..bx + 10 {
                        sum += off[y * W + x];
                    }
                }
                m[my * MW + mx] = if sum / 100.0 >= 0.5 { 1.0 } else { 0.0 };
            }
        }
        m
    };
    let mut c = Compositor::new(W, H);
    c.set_background(Background::Blur { radius: 10.0 }).unwrap();
    let mut refined = vec![0.0f32; W * H];
    c.matte(frame(&s.frame, W, H), mask(&coarse), &mut refined)
        .unwrap();
    // Plain bilinear upsampling of the same mask (GL LINEAR, pixel centres aligned).
    let bilinear = |x: usize, y: usize| {
        let sx = ((x as f32 + 0.5) * MW as f32 / W as f32 - 0.5).clamp(0.0, (MW - 1) as f32);
        let sy = ((y as f32 + 0.5) * MH as f32 / H as f32 - 0.5).clamp(0.0, (MH - 1) as f32);
        let (x0, y0) = (sx as usize, sy as usize);
        let (x1, y1) = ((x0 + 1).min(MW - 1), (y0 + 1).min(MH - 1));
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let p = |x: usize, y: usize| coarse[y * MW + x];
        let top = p(x0, y0) + fx * (p(x1, y0) - p(x0, y0));
        let bot = p(x0, y1) + fx * (p(x1, y1) - p(x0, y1));
        top + fy * (bot - top)
    };
    let (outside, inside_d) = distances(&s.cov, W, H);
    let (mut e_ref, mut e_bil, mut n) = (0.0f64, 0.0f64, 0);
    for y in 0..H {
        for x in 0..W {
            let i = y * W + x;
            if outside[i].max(inside_d[i]) <= 12.0 {
                e_ref += (refined[i] - s.cov[i]).abs() as f64;
                e_bil += (bilinear(x, y) - s.cov[i]).abs() as f64;
                n += 1;
            }
        }
    }
    let (e_ref, e_bil) = (e_ref / n as f64, e_bil / n as f64);
    println!(
        "edge band (12 px) mean abs error: guided {e_ref:.4}, bilinear {e_bil:.4} ({:.0}% lower)",
        100.0 * (1.0 - e_ref / e_bil)
    );
    assert!(e_ref < 0.75 * e_bil, "guided {e_ref} vs bilinear {e_bil}");
}

/// Mean absolute frame-to-frame change of the matte in the edge band with and without
/// temporal smoothing, on a flickering mask over a still scene; then the matte error after
/// the person jumps. On a textured scene (the guide already steadies the edge) and on a
/// low-contrast one (it cannot: the smoothing does all the work).
#[test]
fn temporal_smoothing_damps_flicker_and_follows_motion() {
    for (name, look) in [("textured", Look::Textured), ("low contrast", LOW_CONTRAST)] {
        let s = scene(W, H, 0.0, look, 4);
        let (outside, inside_d) = distances(&s.cov, W, H);
        let band: Vec<usize> = (0..W * H)
            .filter(|&i| outside[i].max(inside_d[i]) <= 10.0)
            .collect();
        let mut rng = Rng(9);
        // A flickering segmenter: the silhouette jitters by up to 2 px and the mask is noisy.
        let masks: Vec<Vec<f32>> = (0..12)
            .map(|_| {
                let cov = coverage(W, H, 2.0 * rng.signed());
                low_res_mask(&cov, W, H, 0.06, &mut rng)
            })
            .collect();
        let flicker = |smooth: bool| {
            let mut c = Compositor::new(W, H);
            c.set_background(Background::Blur { radius: 20.0 }).unwrap();
            let mut prev: Option<Vec<f32>> = None;
            let mut change = 0.0f64;
            for m in &masks {
                if !smooth {
                    c.reset_temporal();
                }
                let mut a = vec![0.0f32; W * H];
                c.matte(frame(&s.frame, W, H), mask(m), &mut a).unwrap();
                if let Some(p) = &prev {
                    change += band
                        .iter()
                        .map(|&i| (a[i] - p[i]).abs() as f64)
                        .sum::<f64>()
                        / band.len() as f64;
                }
                prev = Some(a);
            }
            change / (masks.len() - 1) as f64
        };
        let (raw, smoothed) = (flicker(false), flicker(true));
        println!("{name}: edge flicker (mean |frame-to-frame change| of the matte) raw {raw:.4}, smoothed {smoothed:.4} ({:.0}% less)", 100.0 * (1.0 - smoothed / raw));
        assert!(
            smoothed < 0.5 * raw,
            "{name}: smoothing left {smoothed} vs {raw}"
        );

        // Motion: the person jumps 40 px right; the matte must follow within two frames.
        let moved = scene(W, H, 40.0, look, 4);
        let moved_mask = low_res_mask(&moved.cov, W, H, 0.0, &mut rng);
        let (mo, mi) = distances(&moved.cov, W, H);
        let moved_band: Vec<usize> = (0..W * H).filter(|&i| mo[i].max(mi[i]) <= 10.0).collect();
        let error = |a: &[f32]| {
            moved_band
                .iter()
                .map(|&i| (a[i] - moved.cov[i]).abs() as f64)
                .sum::<f64>()
                / moved_band.len() as f64
        };
        let mut c = Compositor::new(W, H);
        c.set_background(Background::Blur { radius: 20.0 }).unwrap();
        let mut a = vec![0.0f32; W * H];
        for m in &masks[..6] {
            c.matte(frame(&s.frame, W, H), mask(m), &mut a).unwrap();
        }
        let mut errors = Vec::new();
        for _ in 0..3 {
            c.matte(frame(&moved.frame, W, H), mask(&moved_mask), &mut a)
                .unwrap();
            errors.push(error(&a));
        }
        let mut fresh = Compositor::new(W, H);
        fresh
            .set_background(Background::Blur { radius: 20.0 })
            .unwrap();
        fresh
            .matte(frame(&moved.frame, W, H), mask(&moved_mask), &mut a)
            .unwrap();
        let settled = error(&a);
        println!("{name}: after a 40 px jump, matte error per frame {errors:.4?} (no history: {settled:.4})");
        assert!(
            errors[1] < 1.25 * settled + 0.005,
            "{name}: lagging: {errors:?} vs {settled}"
        );
    }
}

#[test]
fn image_mode_cover_fits_replaces_and_wraps_light_a_little() {
    // A square image of gradients: red along x, green along y.
    let (iw, ih) = (800usize, 800usize);
    let mut img = vec![255u8; iw * ih * 4];
    for y in 0..ih {
        for x in 0..iw {
            img[(y * iw + x) * 4] = (x * 255 / (iw - 1)) as u8;
            img[(y * iw + x) * 4 + 1] = (y * 255 / (ih - 1)) as u8;
            img[(y * iw + x) * 4 + 2] = 60;
        }
    }
    let fitted = cover_fit(&img, iw, ih, W, H);
    // Scale max(1280/800, 720/800) = 1.6: full width, rows 175..625 of the image.
    let at = |x: usize, y: usize, c: usize| fitted[(y * W + x) * 4 + c] as f32;
    assert!((at(0, 0, 0) - 0.0).abs() <= 1.0 && (at(W - 1, 0, 0) - 255.0).abs() <= 1.0);
    let g_top = 255.0 * (175.0 + 0.5 / 1.6 - 0.5) / 799.0;
    let g_bottom = 255.0 * (625.0 - 0.5 / 1.6 - 0.5) / 799.0;
    assert!(
        (at(640, 0, 1) - g_top).abs() <= 1.0,
        "top row green {} vs {g_top}",
        at(640, 0, 1)
    );
    assert!((at(640, H - 1, 1) - g_bottom).abs() <= 1.0);
    // Aspect preserved: the same image distance per frame pixel along both axes.
    let slope_x = (at(1000, 360, 0) - at(200, 360, 0)) / 800.0;
    let slope_y = (at(640, 600, 1) - at(640, 100, 1)) / 500.0;
    assert!(
        (slope_x - slope_y).abs() < 0.01,
        "x {slope_x} vs y {slope_y}"
    );

    let s = scene(W, H, 0.0, Look::Textured, 5);
    let m = low_res_mask(&s.cov, W, H, 0.03, &mut Rng(10));
    let mut c = Compositor::new(W, H);
    c.set_background(Background::Image {
        rgba: img,
        width: iw,
        height: ih,
    })
    .unwrap();
    let out = render(&mut c, &s, &m);
    let (outside, inside_d) = distances(&s.cov, W, H);
    let px = |img: &[u8], i: usize| {
        [
            img[4 * i] as f32,
            img[4 * i + 1] as f32,
            img[4 * i + 2] as f32,
        ]
    };
    let far_bg: Vec<usize> = (0..W * H).filter(|&i| outside[i] > 8.0).collect();
    let replaced = far_bg
        .iter()
        .map(|&i| colour_distance(&out, i, px(&fitted, i)))
        .fold(0.0, f32::max);
    let deep: Vec<usize> = (0..W * H).filter(|&i| inside_d[i] > 16.0).collect();
    let deep_change = deep
        .iter()
        .map(|&i| colour_distance(&out, i, px(&s.frame, i)))
        .sum::<f32>()
        / deep.len() as f32;
    let rim: Vec<usize> = (0..W * H)
        .filter(|&i| inside_d[i] >= 2.0 && inside_d[i] <= 6.0)
        .collect();
    let wrap = rim
        .iter()
        .map(|&i| colour_distance(&out, i, px(&s.frame, i)))
        .sum::<f32>()
        / rim.len() as f32;
    println!("image mode: background max error {replaced:.2}, person interior change {deep_change:.2}, light wrap at 2-6 px inside {wrap:.2}");
    assert!(replaced <= 2.0, "background not replaced: {replaced}");
    assert!(
        deep_change < 2.0,
        "person interior changed by {deep_change}"
    );
    assert!(wrap > 2.0 && wrap < 40.0, "light wrap {wrap}");
}

#[test]
fn rendering_allocates_nothing_once_sized() {
    let s = scene(W, H, 0.0, Look::Textured, 6);
    let m = low_res_mask(&s.cov, W, H, 0.03, &mut Rng(12));
    let mut out = vec![0u8; W * H * 4];
    let image = Background::Image {
        rgba: vec![128; 64 * 64 * 4],
        width: 64,
        height: 64,
    };
    for bg in [
        Background::Blur { radius: 10.0 },
        Background::Blur { radius: 20.0 },
        image,
    ] {
        let mut c = Compositor::new(W, H);
        c.set_background(bg).unwrap();
        c.render(frame(&s.frame, W, H), mask(&m), &mut out).unwrap();
        let before = allocations();
        for _ in 0..3 {
            c.render(frame(&s.frame, W, H), mask(&m), &mut out).unwrap();
        }
        assert_eq!(allocations(), before, "render allocated");
    }
}

#[test]
fn none_mode_is_an_exact_copy() {
    let (w, h, stride) = (37, 11, 37 * 4 + 12);
    let mut rng = Rng(11);
    let data: Vec<u8> = (0..stride * h)
        .map(|_| (rng.unit() * 256.0) as u8)
        .collect();
    let mut c = Compositor::new(w, h);
    c.set_background(Background::Blur { radius: 10.0 }).unwrap();
    c.set_background(Background::None).unwrap();
    let mut out = vec![0u8; w * h * 4];
    c.render(
        Frame {
            rgba: &data,
            width: w,
            height: h,
            stride,
        },
        Mask {
            data: &[],
            width: 0,
            height: 0,
        },
        &mut out,
    )
    .unwrap();
    for y in 0..h {
        assert_eq!(
            &out[y * w * 4..(y + 1) * w * 4],
            &data[y * stride..y * stride + w * 4]
        );
    }
}

#[test]
fn bad_input_is_an_error_and_sizes_may_change() {
    let mut c = Compositor::new(64, 36);
    c.set_background(Background::Blur { radius: 10.0 }).unwrap();
    let f = vec![0u8; 64 * 36 * 4];
    let m = vec![0.5f32; 16 * 9];
    let mut out = vec![0u8; 64 * 36 * 4];
    let ok_mask = Mask {
        data: &m[..],
        width: 16,
        height: 9,
    };
    fn fr(rgba: &[u8], width: usize, height: usize, stride: usize) -> Frame<'_> {
        Frame {
            rgba,
            width,
            height,
            stride,
        }
    }
    use CompositorError as E;
    type Case<'a> = (Frame<'a>, Mask<&'a [f32]>, usize, fn(&E) -> bool);
    let cases: Vec<Case> = vec![
        (fr(&f, 0, 36, 0), ok_mask, 64 * 36 * 4, |e| {
            *e == E::EmptyFrame
        }),
        (fr(&f, 64, 36, 200), ok_mask, 64 * 36 * 4, |e| {
            matches!(e, E::StrideTooSmall { .. })
        }),
        (fr(&f[..1000], 64, 36, 256), ok_mask, 64 * 36 * 4, |e| {
            matches!(e, E::FrameTooShort { .. })
        }),
        (fr(&f, 64, 36, 256), ok_mask, 100, |e| {
            matches!(e, E::OutputLength { .. })
        }),
        (
            fr(&f, 64, 36, 256),
            Mask {
                data: &m,
                width: 0,
                height: 9,
            },
            64 * 36 * 4,
            |e| *e == E::EmptyMask,
        ),
        (
            fr(&f, 64, 36, 256),
            Mask {
                data: &m,
                width: 16,
                height: 8,
            },
            64 * 36 * 4,
            |e| matches!(e, E::MaskLength { .. }),
        ),
        (
            fr(&f, 8, 4, 256),
            Mask {
                data: &m,
                width: 16,
                height: 9,
            },
            8 * 4 * 4,
            |e| matches!(e, E::MaskLargerThanFrame { .. }),
        ),
        (fr(&f, 9000, 1, 36000), ok_mask, 9000 * 4, |e| {
            matches!(e, E::FrameTooLarge { .. })
        }),
    ];
    for (i, (frame, mask, out_len, expected)) in cases.into_iter().enumerate() {
        let mut o = vec![0u8; out_len];
        let err = c
            .render(frame, mask, &mut o)
            .expect_err("bad input accepted");
        assert!(expected(&err), "case {i}: unexpected {err:?}");
        assert!(!err.to_string().is_empty());
    }
    for bad in [0.0, -1.0, f32::NAN, f32::INFINITY, 1000.0] {
        assert!(matches!(
            c.set_background(Background::Blur { radius: bad }),
            Err(E::BadRadius(_))
        ));
    }
    let img = Background::Image {
        rgba: vec![0; 10],
        width: 2,
        height: 2,
    };
    assert!(matches!(c.set_background(img), Err(E::BadImage { .. })));
    // Still usable, and garbage in the mask (NaN, infinities) is sanitised.
    let mut m2 = m.clone();
    m2[0] = f32::NAN;
    m2[1] = f32::INFINITY;
    m2[2] = -5.0;
    c.render(
        fr(&f, 64, 36, 256),
        Mask {
            data: &m2,
            width: 16,
            height: 9,
        },
        &mut out,
    )
    .unwrap();
    // A new frame size (odd, not a multiple of any grid) is adopted on the fly.
    let (w2, h2) = (203, 117);
    let f2 = vec![128u8; w2 * h2 * 4];
    let mut out2 = vec![0u8; w2 * h2 * 4];
    c.render(
        Frame {
            rgba: &f2,
            width: w2,
            height: h2,
            stride: 4 * w2,
        },
        ok_mask,
        &mut out2,
    )
    .unwrap();
    assert_eq!(c.size(), (w2, h2));
    // A uniform grey frame stays that grey whatever the mask.
    assert!(out2
        .chunks_exact(4)
        .all(|p| p[..3].iter().all(|&v| v.abs_diff(128) <= 1) && p[3] == 255));
    c.set_background(Background::Image {
        rgba: vec![9; 3 * 5 * 4],
        width: 3,
        height: 5,
    })
    .unwrap();
    c.render(
        Frame {
            rgba: &f2,
            width: w2,
            height: h2,
            stride: 4 * w2,
        },
        ok_mask,
        &mut out2,
    )
    .unwrap();
    // Degenerate sizes work too, in every mode.
    for (w, h) in [(1, 1), (2, 3), (5, 1), (1, 7)] {
        let f = vec![77u8; w * h * 4];
        let mut o = vec![0u8; w * h * 4];
        for bg in [
            Background::Blur { radius: 20.0 },
            Background::Image {
                rgba: vec![200; 16],
                width: 2,
                height: 2,
            },
        ] {
            c.set_background(bg).unwrap();
            c.render(
                Frame {
                    rgba: &f,
                    width: w,
                    height: h,
                    stride: 4 * w,
                },
                Mask {
                    data: &[0.5],
                    width: 1,
                    height: 1,
                },
                &mut o,
            )
            .unwrap();
        }
    }
}
