//! Native micro-benchmark of the CPU background renderer on 1280x720 frames with a
//! 256x144 mask: `cargo run --release --example compositor_bench`. (The browser figure
//! comes from the wasm build: `node bench/compositor.mjs`.)
//!
//! `-- --dump DIR` renders each mode once instead and writes the outputs to
//! `DIR/<mode>.rgba`: `tests/compositor-wasm.test.mjs` checks that the wasm SIMD build
//! produces the very same bytes from the same scene (`bench/compositor.mjs`'s `scene`).

use std::time::Instant;
use visio_media_effects::video::{Background, Compositor, Frame, Mask};

const W: usize = 1280;
const H: usize = 720;
const MW: usize = 256;
const MH: usize = 144;

fn main() {
    // A textured frame with an elliptical "person" and its mask (as bench/compositor.mjs).
    let inside = |x: f32, y: f32| ((x - 0.5) / 0.2).powi(2) + ((y - 0.8) / 0.55).powi(2) <= 1.0;
    let mut frame = vec![255u8; W * H * 4];
    for y in 0..H {
        for x in 0..W {
            let p = inside(x as f32 / W as f32, y as f32 / H as f32);
            let v = if p {
                [200, 60, 140]
            } else if (x / 4 + y / 4) % 2 == 0 {
                [40, 120, 70]
            } else {
                [190, 210, 110]
            };
            frame[(y * W + x) * 4..(y * W + x) * 4 + 3].copy_from_slice(&v);
        }
    }
    let mask: Vec<f32> = (0..MW * MH)
        .map(|i| inside((i % MW) as f32 / MW as f32, (i / MW) as f32 / MH as f32) as u8 as f32)
        .collect();
    let image: Vec<u8> = (0..1920 * 1080 * 4).map(|i| (i % 251) as u8).collect();
    let mut out = vec![0u8; W * H * 4];
    let f = Frame {
        rgba: &frame,
        width: W,
        height: H,
        stride: 4 * W,
    };
    let m = Mask {
        data: &mask,
        width: MW,
        height: MH,
    };

    let modes = [
        (
            "blur10",
            "blur radius 10",
            Background::Blur { radius: 10.0 },
        ),
        (
            "blur20",
            "blur radius 20",
            Background::Blur { radius: 20.0 },
        ),
        (
            "image",
            "image 1920x1080",
            Background::Image {
                rgba: image,
                width: 1920,
                height: 1080,
            },
        ),
    ];
    let args: Vec<String> = std::env::args().collect();
    let dump = args
        .iter()
        .position(|a| a == "--dump")
        .and_then(|i| args.get(i + 1));
    for (key, name, bg) in modes {
        let mut c = Compositor::new(W, H);
        c.set_background(bg).unwrap();
        if let Some(dir) = dump {
            c.render(f, m, &mut out).unwrap();
            std::fs::write(format!("{dir}/{key}.rgba"), &out).expect("write the dump");
            continue;
        }
        for _ in 0..10 {
            c.render(f, m, &mut out).unwrap();
        }
        let n = 200;
        let t = Instant::now();
        for _ in 0..n {
            c.render(f, m, &mut out).unwrap();
        }
        let ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
        println!("{name}: {ms:.2} ms per 1280x720 frame");
    }
}
