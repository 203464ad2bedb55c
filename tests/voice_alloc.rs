//! The suppressor with the whole voice chain on allocates nothing per quantum, stage
//! toggles and parameter changes included. Its own test binary, since it installs a
//! counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use visio_media_effects::audio::voice::{Stage, DERIVED};
use visio_media_effects::audio::{Suppressor, QUANTUM};

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn processing_with_the_voice_chain_allocates_nothing() {
    for rate in [48_000u32, 44_100] {
        let mut s = Suppressor::with_lookahead(rate, 2).unwrap();
        s.set_intensity(90.0);
        for stage in Stage::ALL {
            s.set_stage(stage, true, DERIVED);
        }
        let mut q = [[0.0f32; QUANTUM]; 2];
        let mut seed = 1u32;
        // nnnoiseless fills its FFT tables lazily in the first frames of the process (48
        // allocations, once): counted from the 20th quantum on.
        let mut before = 0;
        for k in 0..(2 * rate as usize / QUANTUM) {
            if k == 20 {
                before = ALLOCATIONS.load(Ordering::SeqCst);
            }
            for ch in q.iter_mut() {
                for v in ch.iter_mut() {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    *v = (seed >> 9) as f32 / (1u32 << 23) as f32 - 1.0;
                }
            }
            if k % 50 == 25 {
                let stage = Stage::ALL[(k / 50) % 4];
                s.set_stage(stage, (k / 200) % 2 == 0, [f32::NAN, 6.0, f32::NAN, f32::NAN]);
                s.set_intensity((k % 100) as f32);
            }
            // Mono and stereo in turn: a channel joining mid-stream allocates nothing either.
            let n = if (k / 100) % 2 == 0 { 2 } else { 1 };
            s.process(&mut q[..n]);
        }
        let after = ALLOCATIONS.load(Ordering::SeqCst);
        assert_eq!(after - before, 0, "{rate} Hz: {} allocations while processing", after - before);
    }
}
