//! Camera background effects: camera pictures in the browsers' pixel formats (`pixels`), person
//! segmentation (`segmenter`) and the CPU renderer (mask
//! refinement, halo-free blur, virtual background, compositing). The renderer takes any
//! person-probability mask as `&[f32]` + its size (at most the frame's).
//!
//! # The passes (the WebGL2 renderer implements exactly these)
//!
//! Grids: the frame F (W x H); the working grid L, whose pixel is an `f x f` block of F with
//! `f = max(1, round(min(W, H) / 180))` (1280x720: f = 4, L = 320x180; 1920x1080: f = 6),
//! `Lw = ceil(W / f)`, `Lh = ceil(H / f)`, the last block partial; the blur grid B, whose
//! pixel is a `g x g` block of L. Every resampling is GL `LINEAR` + `CLAMP_TO_EDGE` with
//! pixel centres aligned: destination pixel `d` reads source coordinate
//! `(d + 0.5) * scale - 0.5` (scale = source pixels per destination pixel: `1/f` from L to
//! F, `1/(f g)` from B to F, `mask size / L size` from the mask to L). Box and Gaussian
//! filters clamp at the edges too. Colours are 0..1 below (0..255 in the code).
//!
//! 1. **Temporal smoothing** at the mask's resolution (a state texture, ping-pong):
//!    `d = |new - prev|`, `k = 0.25 + 0.75 * smoothstep(0.1, 0.5, d)`,
//!    `m = prev + k (new - prev)`; `new` is clamped to 0..1 (NaN -> 0). After
//!    `reset_temporal`, a change of mask size, or a switch from `None`, `m = new`.
//!    Noise is averaged over ~4 frames, real motion is taken at once (see `temporal`).
//! 2. **Downsample** F to L: mean of each `f x f` block -> `I` (RGB).
//! 3. **Colour guided filter** on L (`refine`), R = 2, EPS = 1e-3, `box` = mean over the
//!    (2R+1)^2 window: `p` = smoothed mask sampled bilinearly at L;
//!    box the 13 products `I, p, I*p, I*I^T` (4 RGBA float textures:
//!    `[r g b p] [rp gp bp rr] [rg rb gg gb] [bb 0 0 0]`);
//!    `S = box(I I^T) - box(I) box(I)^T + EPS Id`, `c = box(I p) - box(I) box(p)`,
//!    `a = S^-1 c` (3x3 inverse by the adjugate), `b = box(p) - a . box(I)`;
//!    box `(a, b)` again -> `(A, B)`; then stretch: `A' = A / (HIGH - LOW)`,
//!    `B' = (B - LOW) / (HIGH - LOW)` with LOW = 0.25, HIGH = 0.75. The matte of any
//!    pixel of colour `c` is `alpha = clamp(A' . c + B', 0, 1)`; `alphaL` is that at L.
//! 4. **Background** on B:
//!    - blur: the radius r is a Gaussian standard deviation in pixels of a 720-pixel-high
//!      frame (as CSS `blur(r px)`; Visio: 10 light, 20 normal), so
//!      `sigma = r * min(W, H) / 720` frame pixels, `sL = sigma / f`; g is the largest of
//!      1, 2, 4, 8 with `sL / g >= 2` (g = 1 if `sL < 4`), `sB = sL / g`. Weight on L:
//!      `w = 1 - max3x3(alphaL) + 0.001`; B = area mean of `(I w, w)` over `g x g` blocks;
//!      separable Gaussian `sB` on all four channels (taps `exp(-i^2 / (2 sB^2))`,
//!      `|i| <= ceil(3 sB)`, normalised); `bg = rgb / w`. No halo: person pixels (and the
//!      L pixels that straddle the outline, via the dilation) weigh nothing; the division
//!      fills the silhouette with the surrounding background.
//!    - image: once per image and frame size, the image cover-fitted to F (scale
//!      `max(W / iw, H / ih)`, centred, cropped; minification averages `n x n` bilinear
//!      samples, `n = min(8, ceil(1 / scale))`), and that fitted image blurred (mean to L then B,
//!      Gaussian, bilinear back to F) with the sigma of a blur of radius 6 (`imgBlur`).
//!      Per frame: `wrap` = Gaussian of the area mean of `1 - alphaL` on B (same grid rule,
//!      radius 6): the local share of background.
//! 5. **Composite** at F, the only full-resolution pass: `alpha` from `A', B'` sampled
//!    bilinearly from L and the pixel's own colour (the matte follows the frame's edges at
//!    full resolution). Blur: `out = bg + alpha (frame - bg)`, `bg` sampled bilinearly from
//!    B. Image: `lw = 0.2 alpha wrap` (wrap sampled from B), `person = frame + lw (imgBlur -
//!    frame)`, `out = img + alpha (person - img)`. Output alpha 255; rounding to nearest.
//!    (The CPU skips the matte for groups of 4 pixels whose every L neighbour is
//!    saturated for all colours: same result, less work.) Mode `None` copies the frame.
//!
//! On a GPU: step 3 is a products pass (4 render targets), 2 box passes per product
//! texture, a fit pass and 2 box passes on `(a, b)`; step 4 one dilate-weight-downsample
//! pass and 2 Gaussian passes; then the composite. Everything but the composite works on
//! textures of at most 320x180 at 720p (the fitted image aside, made once).

mod blur;
mod composite;
mod compositor;
pub mod pixels;
mod plane;
mod refine;
pub mod segmenter;
mod temporal;

pub use compositor::{
    cover_fit, Background, Compositor, CompositorError, Frame, MAX_DIMENSION, MAX_RADIUS,
};

/// A person-probability mask: `width x height` values in 0..1, row-major, covering the whole
/// picture. The segmenter's `Mask` owns its values; the renderer reads a `Mask<&[f32]>`
/// (`mask.view()`, or a mask in any buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mask<D = Vec<f32>> {
    pub width: usize,
    pub height: usize,
    pub data: D,
}

impl<D: AsRef<[f32]>> Mask<D> {
    pub fn view(&self) -> Mask<&[f32]> {
        Mask {
            width: self.width,
            height: self.height,
            data: self.data.as_ref(),
        }
    }
}
