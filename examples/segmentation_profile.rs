//! Where the time goes in one inference: `cargo run --release --example segmentation_profile [MODEL]`
//! (native build; the wasm build runs the same kernels on simd128).
use std::collections::BTreeMap;
use visio_media_effects::nn::Network;

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        "node_modules/@mediapipe/selfie_segmentation/selfie_segmentation_landscape.tflite".into()
    });
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run npm install)"));
    let mut net = Network::from_tflite(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    // Pixel-like input, rewritten before every run as the Segmenter does (the arena reuses the
    // input's memory; left-over activations there can be subnormal and slow).
    let fill = |net: &mut Network| {
        for (j, v) in net.input_mut().iter_mut().enumerate() {
            *v = if j % 4 < 3 {
                (j * 7 % 251) as f32 / 255.0
            } else {
                0.0
            };
        }
    };
    fill(&mut net);
    net.run();
    let t = std::time::Instant::now();
    for _ in 0..20 {
        fill(&mut net);
        net.run();
    }
    println!(
        "{path}: {:.2} ms per inference",
        t.elapsed().as_secs_f64() * 1000.0 / 20.0
    );
    let start = std::time::Instant::now();
    let steps = net.profile_steps(20, || start.elapsed().as_secs_f64() * 1000.0);
    let mut by_kind: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    for (what, ms) in &steps {
        let e = by_kind
            .entry(what.split(' ').next().unwrap_or(""))
            .or_default();
        e.0 += ms;
        e.1 += 1;
    }
    println!("\nby kind ({} steps):", steps.len());
    for (kind, (ms, n)) in &by_kind {
        println!("{ms:8.3} ms  {n:3} x {kind}");
    }
    let mut slowest = steps.clone();
    slowest.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("\nslowest steps:");
    for (what, ms) in slowest.iter().take(12) {
        println!("{ms:8.3} ms  {what}");
    }
}
