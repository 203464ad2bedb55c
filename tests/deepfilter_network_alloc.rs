//! DeepFilterNet3's networks allocate nothing per frame, from the first frame on (all buffers
//! are made by `Network::new`). Its own test binary, since it installs a counting allocator.

use visio_media_effects::audio::deepfilter::network::{Network, NetworkOutput, NB_DF, NB_ERB};
use visio_media_effects::nn::dfn_weights::DfnModel;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

#[test]
fn steps_allocate_nothing() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // Both precisions: float16 files run the int16 GRU path, float32 files the float32 one.
    for file in ["deepfilternet3.dfw", "deepfilternet3-f32.dfw"] {
        let path = root.join("target/dfn3").join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `node scripts/dfn3-model.mjs` first)",
                path.display()
            )
        });
        let mut net = Network::new(&DfnModel::parse(&bytes).unwrap()).unwrap();
        let mut out = NetworkOutput::default();
        let before = allocations();
        for i in 0..20 {
            let x = i as f32 * 0.1 - 1.0;
            net.step(&[x; NB_ERB], &[[x, -x]; NB_DF], &mut out);
        }
        net.reset();
        net.step(&[0.5; NB_ERB], &[[0.5, 0.5]; NB_DF], &mut out);
        assert_eq!(allocations() - before, 0, "{file}");
        assert!(out.lsnr.is_finite());
    }
}
