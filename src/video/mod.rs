//! Camera background effects: person segmentation (`segmenter`) and the CPU renderer (mask
//! refinement, halo-free blur, virtual background, compositing). The renderer takes any
//! person-probability mask as `&[f32]` + its size.
//!
//! # The passes (the WebGL2 renderer implements exactly these)
//!
//! Grids: the frame F (W x H); the working grid L, whose pixel is a `f x f` block of F with
//! `f = max(1, round(min(W, H) / 180))` (1280x720: f = 4, L = 320x180), last block partial;
//! the blur grid B, whose pixel is a `g x g` block of L (g in 1, 2, 4, 8, see below). Every
//! resampling is GL `LINEAR` + `CLAMP_TO_EDGE` with pixel centres aligned: destination
//! pixel `d` reads source coordinate `(d + 0.5) * scale - 0.5` (scale = source pixels per
//! destination pixel: 1/f from L to F, 1/(f g) from B to F, mask size / L size from the
//! mask to L). Luma `Y = 0.299 R + 0.587 G + 0.114 B` with RGB in 0..1.
//!
//! 1. **Temporal smoothing** (mask grid, state texture): `d = |new - prev|`,
//!    `k = 0.25 + 0.75 smoothstep(0.1, 0.5, d)`, `m = prev + k (new - prev)`. The first
//!    frame after `reset_temporal`, a mask-size change or leaving `None` takes `new`.
//!    See `temporal`.
//! 2. **Downsample** F to L: area average of each `f x f` block -> `rgbL` (0..1 in GLSL,
//!    0..255 here), `YL` = luma of `rgbL`.
//! 3. **Guided filter** on L (`refine`), radius R = 3 L pixels, EPS = 1e-3, box means over
//!    (2R+1)^2 with clamped edges: `p` = smoothed mask sampled bilinearly at L;
//!    `box(YL), box(p), box(YL p), box(YL^2)` -> `a = cov / (var + EPS)`,
//!    `b = mean(p) - a mean(YL)` -> `A = box(a)`, `B = box(b)`; `alphaL = clamp(A YL + B, 0, 1)`.
//! 4. **Background** on B:
//!    - blur mode (`blur`): sigma = radius * min(W, H) / 720 frame pixels, i.e.
//!      `sL = sigma / f` L pixels; g = the largest of 1, 2, 4, 8 with `sL / g >= 2`
//!      (stopping at the first g for which `sL / (2g) < 2`), `sB = sL / g`. Weight
//!      `w = 1 - max3x3(alphaL) + 0.001` on L; area-average `(rgbL w, w)` over `g x g`
//!      blocks into B; separable Gaussian `sB` (taps `exp(-i^2 / 2 sB^2)`, i in
//!      `-ceil(3 sB)..=ceil(3 sB)`, normalised, clamped edges) on all four channels;
//!      `bg = acc.rgb / acc.w`.
//!    - image mode: the image cover-fitted to F (scale `max(W/iw, H/ih)`, centred) once,
//!      and that fitted image blurred once (area-average to B, Gaussian, bilinear back to
//!      F: `imgBlur`); per frame only `wrap = gauss(area_avg(1 - alphaL))` on B, with the
//!      grid and sigma chosen as for blur with a radius of `WRAP_SIGMA` = 6.
//! 5. **Composite** at F, the only full-resolution pass: `alpha = clamp(A' Y + B', 0, 1)`
//!    with `A', B'` sampled bilinearly from L and `Y` the pixel's own luma (the matte edge
//!    follows the full-resolution image). Blur: `out = bg' + alpha (frame - bg')` with
//!    `bg'` sampled bilinearly from B. Image: `lw = 0.2 alpha wrap'`,
//!    `person = frame + lw (imgBlur - frame)`, `out = img + alpha (person - img)`.
//!    Output alpha 255. Mode `None` copies the frame.

mod blur;
mod compositor;
mod plane;
mod refine;
pub mod segmenter;
mod simd;
mod temporal;

pub use compositor::{
    cover_fit, Background, Compositor, CompositorError, Frame, Mask, MAX_DIMENSION, MAX_RADIUS,
};
