//! Element by element: the activations every kernel applies in its epilogue, and the standalone
//! activation, ADD and MUL steps.

use crate::simd::{self, F4};

/// Activation applied as a kernel's epilogue (TFLite's fused activations, plus the separate
/// HARD_SWISH / LOGISTIC / RELU ops folded into the producing kernel).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    None,
    Relu,
    Relu6,
    ReluN1To1,
    HardSwish,
    Sigmoid,
}

/// `act` applied to four lanes.
#[inline(always)]
pub fn act4(x: F4, act: Act) -> F4 {
    match act {
        Act::None => x,
        Act::Relu => x.max(F4::splat(0.0)),
        Act::Relu6 => x.max(F4::splat(0.0)).min(F4::splat(6.0)),
        Act::ReluN1To1 => x.max(F4::splat(-1.0)).min(F4::splat(1.0)),
        // x * relu6(x + 3) / 6
        Act::HardSwish => x
            .mul(
                x.add(F4::splat(3.0))
                    .max(F4::splat(0.0))
                    .min(F4::splat(6.0)),
            )
            .mul(F4::splat(1.0 / 6.0)),
        // 1 / (1 + e^-x); beyond |x| = 87 the result is 0 or 1 to float precision.
        Act::Sigmoid => {
            let e = simd::exp(
                x.max(F4::splat(-87.0))
                    .min(F4::splat(87.0))
                    .mul(F4::splat(-1.0)),
            );
            F4::splat(1.0).div(F4::splat(1.0).add(e))
        }
    }
}

/// Applies `act` in place.
pub fn unary(data: &mut [f32], act: Act) {
    for i in (0..data.len()).step_by(4) {
        act4(F4::load(data, i), act).store(data, i);
    }
}

/// `out = act(inp)`.
pub fn unary_to(inp: &[f32], out: &mut [f32], act: Act) {
    for i in (0..out.len()).step_by(4) {
        act4(F4::load(inp, i), act).store(out, i);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Mul,
}

/// `out = act(a op b)`, where `b` is either as long as `a` or one pixel (`c` values) broadcast
/// over every pixel of `a`.
pub fn binary(a: &[f32], b: &[f32], out: &mut [f32], op: BinOp, act: Act) {
    for (o, x) in out.chunks_exact_mut(b.len()).zip(a.chunks_exact(b.len())) {
        for ((o, x), y) in o
            .chunks_exact_mut(4)
            .zip(x.chunks_exact(4))
            .zip(b.chunks_exact(4))
        {
            let (x, y) = (F4::load(x, 0), F4::load(y, 0));
            let r = match op {
                BinOp::Add => x.add(y),
                BinOp::Mul => x.mul(y),
            };
            act4(r, act).store(o, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activations_match_their_definitions() {
        for i in -2000..=2000 {
            let x = i as f32 * 0.05;
            let mut out = [0.0f32; 4];
            for (act, want) in [
                (Act::Sigmoid, 1.0 / (1.0 + (-x as f64).exp())),
                (
                    Act::HardSwish,
                    x as f64 * (x as f64 + 3.0).clamp(0.0, 6.0) / 6.0,
                ),
                (Act::Relu, (x as f64).max(0.0)),
                (Act::Relu6, (x as f64).clamp(0.0, 6.0)),
                (Act::ReluN1To1, (x as f64).clamp(-1.0, 1.0)),
            ] {
                act4(F4::splat(x), act).store(&mut out, 0);
                let err = (out[0] as f64 - want).abs();
                assert!(
                    err <= 1e-6 * want.abs().max(1.0),
                    "{act:?}({x}) = {} not {want}",
                    out[0]
                );
            }
        }
    }
}
