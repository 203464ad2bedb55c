//! The browser boundary: the only place with `#[no_mangle]` exports and `#[wasm_bindgen]`.
//! One file per capability; the Rust core they call knows nothing of the browser.
//!
//! Two surfaces, one set of conventions (README, "The wasm boundary"):
//! - wasm-bindgen (the video side and tools: `FrameInput`, `Segmenter`, `CpuCompositor`,
//!   `version`, `profileSegmentation`): JavaScript names in camelCase (`js_name` on every
//!   name of more than one word); per-frame data (frames, masks, output) in buffers owned by
//!   the wasm objects, which JS reads and writes through views at the `...Ptr()` addresses
//!   they give (valid until the next call that sizes them); set-up data (a model file, a
//!   background image) as plain typed-array arguments; errors as `Result<_, JsError>`, the
//!   core's errors passed on with `?` (their messages name the problem), never a panic.
//! - the raw C ABI `vme_*` (`raw.rs`, `audio.rs`, `deepfilter.rs`) for the AudioWorklet,
//!   which cannot load the glue: the same buffer rule, in C form.

mod audio;
mod compositor;
#[cfg(feature = "debug-trap")]
mod debug_trap;
mod deepfilter;
mod frame;
mod raw;
mod segmenter;

use wasm_bindgen::prelude::*;

/// Start of the message of the JS `Error` a panic throws (js/video/wasm-trap.js looks for it).
const PANIC_PREFIX: &str = "visio-media-effects: the video wasm panicked: ";

/// Runs when the wasm-bindgen glue instantiates the module (the video side; the audio worklet
/// instantiates it without the glue and never calls this, its traps stay `unreachable`).
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(on_panic));
}

/// A panic's message and location go to the console (`console_error_panic_hook`, with the JS
/// stack), then to the caller as the Error it catches, instead of an anonymous "unreachable".
/// The Rust stack is not unwound (`panic = "abort"`): the instance is left mid-call (the
/// object that panicked still borrowed, the stack pointer not restored), so the caller must
/// not use it again; js/video/ re-instantiates the module after such an Error.
fn on_panic(info: &std::panic::PanicHookInfo) {
    console_error_panic_hook::hook(info);
    wasm_bindgen::throw_str(&format!("{PANIC_PREFIX}{info}"));
}

/// The crate version, for diagnostics (`import { version } from 'visio-media-effects/visio_media_effects.js'`).
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
