//! Native micro-benchmark of the CPU background renderer on 1280x720 frames with a
//! 256x144 mask: `cargo run --release --example compositor_bench`. (The browser figure
//! comes from the wasm build: `node bench/compositor.mjs`.)

use std::time::Instant;
use visio_media_effects::video::{Background, Compositor, Frame, Mask};

const W: usize = 1280;
const H: usize = 720;
const MW: usize = 256;
const MH: usize = 144;

fn main() {
    // A textured frame with an elliptical "person" and its soft mask.
    let inside = |x: f32, y: f32| ((x - 0.5) / 0.2).powi(2) + ((y - 0.8) / 0.55).powi(2) <= 1.0;
    let mut frame = vec![255u8; W * H * 4];
    for y in 0..H {
        for x in 0..W {
            let p = inside(x as f32 / W as f32, y as f32 / H as f32);
            let v = if p { [200, 60, 140] } else if (x / 4 + y / 4) % 2 == 0 { [40, 120, 70] } else { [190, 210, 110] };
            frame[(y * W + x) * 4..(y * W + x) * 4 + 3].copy_from_slice(&v);
        }
    }
    let mask: Vec<f32> = (0..MW * MH)
        .map(|i| inside((i % MW) as f32 / MW as f32, (i / MW) as f32 / MH as f32) as u8 as f32)
        .collect();
    let image: Vec<u8> = (0..1920 * 1080 * 4).map(|i| (i % 251) as u8).collect();
    let mut out = vec![0u8; W * H * 4];
    let f = Frame { rgba: &frame, width: W, height: H, stride: 4 * W };
    let m = Mask { data: &mask, width: MW, height: MH };

    let modes = [
        ("blur radius 10", Background::Blur { radius: 10.0 }),
        ("blur radius 20", Background::Blur { radius: 20.0 }),
        ("image 1920x1080", Background::Image { rgba: image, width: 1920, height: 1080 }),
    ];
    for (name, bg) in modes {
        let mut c = Compositor::new(W, H);
        c.set_background(bg).unwrap();
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
