//! The suppressor running DeepFilterNet3 allocates nothing per quantum: at 48 and 44.1 kHz,
//! mono and stereo in turn, with control changes, and through a live switch from RNNoise
//! (its weights are laid out in `WeightsBuilder::STEPS` steps, one per quantum, before
//! counting: those steps allocate what they lay out, and are timed). Its own test binary,
//! since it installs a counting allocator.

use std::time::Instant;
use visio_media_effects::audio::deepfilter::{NetworkWeights, WeightsBuilder};
use visio_media_effects::audio::{Model, ModelKind, Suppressor, QUANTUM};
use visio_media_effects::nn::dfn_weights::DfnModel;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/rng.rs"]
mod rng;
use counting_alloc::allocations;
use rng::Lcg;

#[test]
fn processing_and_switching_to_deepfilternet3_allocate_nothing() {
    let path =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/dfn3/deepfilternet3.dfw");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `node scripts/dfn3-model.mjs` first)",
            path.display()
        )
    });
    let model = DfnModel::parse_owned(bytes).unwrap();
    // What a live switch did in one call before it was spread over quanta (per channel).
    let t = Instant::now();
    NetworkWeights::new(&model).unwrap();
    let at_once = t.elapsed().as_secs_f64() * 1e3;
    for rate in [48_000u32, 44_100] {
        let mut s = Suppressor::new(rate, 2).unwrap();
        let mut q = [[0.0f32; QUANTUM]; 2];
        let mut rng = Lcg(1);
        let mut before = 0;
        let (mut converting, mut worst_converting, mut worst_other) = (0, 0f64, 0f64);
        for k in 0..(2 * rate as usize / QUANTUM) {
            if k == 10 {
                s.set_model(Model::DeepFilterNet3(model.clone())).unwrap();
            }
            // nnnoiseless fills its FFT tables lazily in its first frames, and the switch
            // lays its weights out in the quanta after set_model: counted from here.
            if k == 40 {
                assert!(!s.converting());
                before = allocations();
            }
            for ch in q.iter_mut() {
                for v in ch.iter_mut() {
                    *v = 0.3 * rng.signed();
                }
            }
            if k % 50 == 25 {
                s.set_enabled(k % 100 != 25);
                s.set_attenuation_limit_db((k % 30) as f32);
            }
            let n = if (k / 100) % 2 == 0 { 2 } else { 1 };
            let was_converting = s.converting();
            let t = Instant::now();
            s.process(&mut q[..n]);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            if was_converting {
                converting += 1;
                worst_converting = worst_converting.max(ms);
            } else if k > 10 {
                worst_other = worst_other.max(ms);
            }
        }
        let after = allocations();
        println!(
            "{rate} Hz: weights laid out in {converting} quanta, worst {worst_converting:.2} ms \
             (all at once: {at_once:.1} ms); worst quantum otherwise {worst_other:.2} ms"
        );
        assert_eq!(
            converting,
            WeightsBuilder::STEPS,
            "{rate} Hz: conversion steps"
        );
        assert_eq!(
            s.model(),
            ModelKind::DeepFilterNet3,
            "{rate} Hz: the switch did not complete"
        );
        assert_eq!(
            after - before,
            0,
            "{rate} Hz: {} allocations while processing",
            after - before
        );
    }
}
