//! Pooling: the spatial mean (MEAN over height and width, and global average pooling) and
//! windowed average pooling.

use super::{act4, Act, Dims, Window};
use crate::simd::F4;

/// Mean over all pixels of each channel (MEAN over axes 1, 2).
pub fn mean_spatial(inp: &[f32], id: Dims, out: &mut [f32]) {
    let scale = F4::splat(1.0 / (id.h * id.w) as f32);
    for c0 in (0..id.c).step_by(4) {
        let mut acc = F4::splat(0.0);
        for p in 0..id.h * id.w {
            acc = acc.add(F4::load(inp, p * id.c + c0));
        }
        acc.mul(scale).store(out, c0);
    }
}

/// Average pooling; like TFLite, padded positions are left out of the count.
pub fn average_pool(inp: &[f32], id: Dims, out: &mut [f32], od: Dims, win: &Window, act: Act) {
    for oy in 0..od.h {
        for ox in 0..od.w {
            for c0 in (0..id.c).step_by(4) {
                let mut acc = F4::splat(0.0);
                let mut n = 0usize;
                for ky in 0..win.kh {
                    let Some(iy) = win.tap(0, oy, ky, id.h) else {
                        continue;
                    };
                    for kx in 0..win.kw {
                        let Some(ix) = win.tap(1, ox, kx, id.w) else {
                            continue;
                        };
                        acc = acc.add(F4::load(inp, (iy * id.w + ix) * id.c + c0));
                        n += 1;
                    }
                }
                let r = acc.mul(F4::splat(1.0 / n.max(1) as f32));
                act4(r, act).store(out, (oy * od.w + ox) * od.c + c0);
            }
        }
    }
}
