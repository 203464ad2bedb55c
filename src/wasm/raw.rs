//! What the raw C-ABI families (`vme_ns_*` in `audio.rs`, `vme_dfn_*` and `vme_dfn_net_*` in
//! `deepfilter.rs`) share: the weight-file buffer and the last error's message.
//!
//! The raw ABI exists because an `AudioWorkletGlobalScope` cannot load wasm-bindgen's glue;
//! it keeps the conventions of the wasm-bindgen side in C form (README, "The wasm boundary"):
//! - names are `vme_<family>_<verb>`; each family has `create` (a handle, 0 on failure) and
//!   `destroy`; nothing panics;
//! - buffers live in wasm memory and the caller reads and writes views at the addresses the
//!   family returns (`vme_ns_buffer`, `vme_dfn_buffer`, ...), processed in place;
//! - a weight file comes in through `vme_weights_alloc(len)`: the caller copies the file there
//!   and passes `(ptr, len)` to the family, which takes (frees) it whatever happens, or gives
//!   it back with `vme_weights_free(ptr, len)`;
//! - a call that fails returns 0 (or 1 for a status) and leaves its UTF-8 message at
//!   `vme_error_ptr()`, `vme_error_len()` bytes long, until the next failure.

use std::cell::RefCell;

thread_local! { static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) }; }

/// Records why the current call fails (read by JS with `vme_error_ptr`/`vme_error_len`).
pub(crate) fn set_error(message: String) {
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

#[no_mangle]
pub extern "C" fn vme_error_ptr() -> *const u8 {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn vme_error_len() -> u32 {
    LAST_ERROR.with(|e| e.borrow().len() as u32)
}

/// A buffer of `len` bytes for a weight file (0 when memory runs out), which the caller must
/// write whole before passing it on. Not zeroed: a live model switch allocates its 4.3 MB
/// weight file on the audio thread, where a pass over it would cost ~1-3 ms.
#[no_mangle]
pub extern "C" fn vme_weights_alloc(len: u32) -> *mut u8 {
    let Ok(layout) = std::alloc::Layout::array::<u8>(len as usize) else {
        return std::ptr::null_mut();
    };
    if layout.size() == 0 {
        return Box::into_raw(Box::<[u8]>::default()) as *mut u8;
    }
    // SAFETY: the layout's size is not zero. The bytes are initialised by the caller (the JS
    // side copies a whole file in) before `take_weights` makes them a `Box<[u8]>`.
    unsafe { std::alloc::alloc(layout) }
}

/// Frees a buffer from `vme_weights_alloc(len)` that was not passed on (a switch overtaken by
/// another, a node destroyed mid-copy), whatever was written into it.
#[no_mangle]
pub extern "C" fn vme_weights_free(ptr: *mut u8, len: u32) {
    if ptr.is_null() {
        return;
    }
    if let Ok(layout) = std::alloc::Layout::array::<u8>(len as usize) {
        if layout.size() != 0 {
            // SAFETY: `ptr` comes from `vme_weights_alloc(len)` and was not passed on.
            unsafe { std::alloc::dealloc(ptr, layout) };
        }
    }
}

/// Takes back a buffer from `vme_weights_alloc(len)`; `None` for a null pointer.
///
/// # Safety
/// A non-null `ptr` must come from `vme_weights_alloc(len)` with this `len`, not be taken
/// twice, and have all its `len` bytes written.
pub(crate) unsafe fn take_weights(ptr: *mut u8, len: u32) -> Option<Box<[u8]>> {
    (!ptr.is_null()).then(|| Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len as usize)))
}
