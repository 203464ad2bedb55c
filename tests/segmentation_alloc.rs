//! After the first inference, segmenting allocates nothing (the arena, scratch space and mask
//! are reused). Its own test binary, since it installs a counting global allocator.

use visio_media_effects::video::segmenter::Segmenter;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

#[test]
fn inference_allocates_nothing_after_the_first() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "selfie_segmentation_landscape.tflite",
        "selfie_segmentation.tflite",
    ] {
        let path = root
            .join("node_modules/@mediapipe/selfie_segmentation")
            .join(file);
        let model = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run `npm install` first)", path.display()));
        let mut seg = Segmenter::new(&model).unwrap();
        // Camera-sized frames with some content, resized by the segmenter: 16:9, 4:3 and
        // portrait (bars beside the picture, or above and below it for the square model).
        for (w, h) in [(640, 360), (640, 480), (360, 640)] {
            let frame: Vec<u8> = (0..w * h * 4).map(|i| (i * 7 % 251) as u8).collect();
            seg.segment(&frame, w, h, w * 4).unwrap();
            let before = allocations();
            for _ in 0..3 {
                seg.segment(&frame, w, h, w * 4).unwrap();
            }
            assert_eq!(
                allocations() - before,
                0,
                "{file} {w}x{h}: allocations during inference"
            );
        }
    }
}
