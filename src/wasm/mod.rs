//! The browser boundary: the only place with `#[no_mangle]` exports and `#[wasm_bindgen]`.
//! One file per capability; the Rust core they call knows nothing of the browser.

mod audio;
mod compositor;
mod deepfilter;
mod frame;
mod segmenter;

/// The crate version, for diagnostics (`import { version } from 'visio-media-effects/visio_media_effects.js'`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
