//! Test builds only (`--features debug-trap`, built by tests/browser/video-trap.test.mjs, never
//! shipped in pkg/): makes the next segmentation panic, so that the test can check how the
//! page recovers from a trap in the middle of a real call, with the object mutably borrowed.

use std::sync::atomic::{AtomicBool, Ordering};
use wasm_bindgen::prelude::*;

static ARMED: AtomicBool = AtomicBool::new(false);

/// The next `Segmenter.segment` panics (once).
#[wasm_bindgen(js_name = debugPanicOnNextFrame)]
pub fn debug_panic_on_next_frame() {
    ARMED.store(true, Ordering::Relaxed);
}

/// Panics if a test asked for it (called inside `Segmenter.segment`, with the segmenter borrowed).
pub(crate) fn check() {
    if ARMED.swap(false, Ordering::Relaxed) {
        panic!("debug-trap: panic requested by the test");
    }
}
