//! visio-media-effects: noise suppression and background effects for web video calls.
//!
//! The Rust core is free of browser APIs so it tests natively; `wasm` is the only
//! module that knows it is compiled for the browser.

pub mod audio;
pub mod nn;
mod simd;
pub mod video;
#[cfg(target_arch = "wasm32")]
mod wasm;
