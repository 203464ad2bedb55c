//! DeepFilterNet3's three networks, µs per 10 ms frame:
//! `cargo run --release --example deepfilter_bench [WEIGHTS]` (native build; the wasm build runs
//! the same kernels on simd128, measured by bench/audio.mjs). Weights default to the shipped
//! float16 file (widened to float32 at load, so the speed is the same as float32's).
use visio_media_effects::audio::deepfilter::network::{Network, NetworkOutput, NB_DF, NB_ERB};
use visio_media_effects::nn::dfn_weights::DfnModel;

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/dfn3/deepfilternet3.dfw".into());
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (run node scripts/dfn3-model.mjs)"));
    let t = std::time::Instant::now();
    let model = DfnModel::parse(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut net = Network::new(&model).unwrap_or_else(|e| panic!("{path}: {e}"));
    println!("load: {:.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    // Feature-like inputs that change every frame (normalised features are O(1)).
    let mut out = NetworkOutput::default();
    let mut erb = [0.0f32; NB_ERB];
    let mut spec = [[0.0f32; 2]; NB_DF];
    let mut frame = |net: &mut Network, i: usize| {
        for (b, x) in erb.iter_mut().enumerate() {
            *x = ((i * 7 + b * 13) % 29) as f32 / 29.0 - 0.6;
        }
        for (b, s) in spec.iter_mut().enumerate() {
            *s = [
                ((i + b * 3) % 17) as f32 / 8.0 - 1.0,
                ((i * 5 + b) % 11) as f32 / 5.0 - 1.0,
            ];
        }
        net.step(&erb, &spec, &mut out);
    };
    for i in 0..200 {
        frame(&mut net, i);
    }
    let n = 2000;
    let (t, cpu) = (std::time::Instant::now(), cpu_seconds());
    for i in 0..n {
        frame(&mut net, i);
    }
    let us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
    // On a shared machine the process's own CPU time says more than the wall clock.
    if let (Some(a), Some(b)) = (cpu, cpu_seconds()) {
        println!("CPU time: {:.0} µs per frame", (b - a) * 1e6 / n as f64);
    }
    println!(
        "{path}: {us:.0} µs per 10 ms frame ({:.1}% of one core), lsnr {:.1} dB",
        us / 100.0,
        out.lsnr
    );
}

/// User + system CPU time of this process (Linux), in seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let f: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
