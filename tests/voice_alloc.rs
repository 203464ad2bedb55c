//! The suppressor with the whole voice chain on allocates nothing per quantum, stage
//! toggles and parameter changes included. Its own test binary, since it installs a
//! counting global allocator.

use visio_media_effects::audio::voice::{Stage, DERIVED};
use visio_media_effects::audio::{Suppressor, QUANTUM};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/rng.rs"]
mod rng;
use counting_alloc::allocations;
use rng::Lcg;

#[test]
fn processing_with_the_voice_chain_allocates_nothing() {
    for rate in [48_000u32, 44_100] {
        let mut s = Suppressor::with_lookahead(rate, 2).unwrap();
        s.set_intensity(90.0);
        for stage in Stage::ALL {
            s.set_stage(stage, true, DERIVED);
        }
        let mut q = [[0.0f32; QUANTUM]; 2];
        let mut rng = Lcg(1);
        // nnnoiseless fills its FFT tables lazily in the first frames of the process (48
        // allocations, once): counted from the 20th quantum on.
        let mut before = 0;
        for k in 0..(2 * rate as usize / QUANTUM) {
            if k == 20 {
                before = allocations();
            }
            for ch in q.iter_mut() {
                for v in ch.iter_mut() {
                    *v = rng.signed();
                }
            }
            if k % 50 == 25 {
                let stage = Stage::ALL[(k / 50) % 4];
                s.set_stage(
                    stage,
                    (k / 200) % 2 == 0,
                    [f32::NAN, 6.0, f32::NAN, f32::NAN],
                );
                s.set_intensity((k % 100) as f32);
            }
            // Mono and stereo in turn: a channel joining mid-stream allocates nothing either.
            let n = if (k / 100) % 2 == 0 { 2 } else { 1 };
            s.process(&mut q[..n]);
        }
        let after = allocations();
        assert_eq!(
            after - before,
            0,
            "{rate} Hz: {} allocations while processing",
            after - before
        );
    }
}
