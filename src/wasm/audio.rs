//! The noise suppressor's browser boundary.
//!
//! It runs inside an `AudioWorkletGlobalScope`, which has no
//! `TextDecoder`, `fetch` or `importScripts`, so it cannot load wasm-bindgen's JS glue.
//! Its entry points are therefore plain C-ABI exports on numbers and pointers that the
//! worklet calls on a raw `WebAssembly.Instance` (it stubs the glue's imports, which the
//! audio path never calls). Audio crosses the boundary through one 128-float buffer per
//! channel that lives in wasm memory and is processed in place, so `process()` allocates
//! nothing on either side.
//!
//! ABI (all handles are pointers, 0 means failure; nothing here can panic):
//! - `vme_ns_create(sample_rate, max_channels) -> handle` (0: rate outside 8..=96 kHz or
//!   channels outside 1..=2)
//! - `vme_ns_buffer(handle, channel) -> *mut f32`: the 128-sample in/out buffer of a channel
//! - `vme_ns_process(handle, channels)`: processes one 128-sample quantum of `channels`
//!   channels in place (a change in channel count resets the states it brings in)
//! - `vme_ns_vad(handle) -> f32`: voice probability of the latest 10 ms frame (max over channels)
//! - `vme_ns_set_enabled(handle, 0|1)`, `vme_ns_set_attenuation_limit(handle, db)`
//!   (`db` = +inf: no limit; 0: bypass)
//! - `vme_ns_latency(handle) -> u32`: added delay in samples at the context rate
//! - `vme_ns_destroy(handle)`; `vme_ns_live() -> u32`: suppressors alive in this instance
//!   (RNNoise and DeepFilterNet3 handles alike)
//!
//! DeepFilterNet3 (`vme_dfn_*`, below) has the same shape on its 480-sample hop at 48 kHz.

use crate::audio::deepfilter::{DeepFilter, HOP, LATENCY};
use crate::audio::{Suppressor, QUANTUM};
use crate::nn::dfn_weights::DfnModel;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};

static LIVE: AtomicU32 = AtomicU32::new(0);

/// A suppressor and the buffers the worklet writes into, boxed so the pointers stay put.
pub struct Handle {
    suppressor: Suppressor,
    buffers: Vec<[f32; QUANTUM]>,
}

fn handle<'a>(h: *mut Handle) -> Option<&'a mut Handle> {
    // SAFETY: handles only come from `vme_ns_create` and the JS side forgets them after
    // `vme_ns_destroy`; a null handle is rejected here.
    unsafe { h.as_mut() }
}

#[no_mangle]
pub extern "C" fn vme_ns_create(sample_rate: u32, max_channels: u32) -> *mut Handle {
    match Suppressor::new(sample_rate, max_channels as usize) {
        Ok(suppressor) => {
            LIVE.fetch_add(1, Ordering::Relaxed);
            let buffers = vec![[0.0; QUANTUM]; max_channels as usize];
            Box::into_raw(Box::new(Handle { suppressor, buffers }))
        }
        Err(_) => std::ptr::null_mut(),
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_buffer(h: *mut Handle, channel: u32) -> *mut f32 {
    match handle(h).and_then(|h| h.buffers.get_mut(channel as usize)) {
        Some(b) => b.as_mut_ptr(),
        None => std::ptr::null_mut(),
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_process(h: *mut Handle, channels: u32) {
    if let Some(h) = handle(h) {
        let n = (channels as usize).min(h.buffers.len());
        h.suppressor.process(&mut h.buffers[..n]);
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_vad(h: *mut Handle) -> f32 {
    handle(h).map_or(0.0, |h| h.suppressor.vad())
}

#[no_mangle]
pub extern "C" fn vme_ns_set_enabled(h: *mut Handle, enabled: u32) {
    if let Some(h) = handle(h) {
        h.suppressor.set_enabled(enabled != 0);
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_set_attenuation_limit(h: *mut Handle, db: f32) {
    if let Some(h) = handle(h) {
        h.suppressor.set_attenuation_limit_db(db);
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_latency(h: *mut Handle) -> u32 {
    handle(h).map_or(0, |h| h.suppressor.latency_samples() as u32)
}

#[no_mangle]
pub extern "C" fn vme_ns_destroy(h: *mut Handle) {
    if !h.is_null() {
        // SAFETY: see `handle`; the JS side calls this once per handle.
        drop(unsafe { Box::from_raw(h) });
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_live() -> u32 {
    LIVE.load(Ordering::Relaxed)
}

// ---- DeepFilterNet3 (48 kHz, one 480-sample hop per call; not yet behind the worklet) ----
//
// - `vme_dfn_alloc(len) -> *mut u8`: a buffer for the weight file (0: out of memory)
// - `vme_dfn_create(weights, len) -> handle`: parses the weights and frees their buffer
//   (0 on failure; `vme_dfn_error_ptr()`/`vme_dfn_error_len()` then hold the UTF-8 reason)
// - `vme_dfn_buffer(handle) -> *mut f32`: the 480-sample in/out buffer
// - `vme_dfn_process(handle) -> f32`: enhances one hop in place; returns the model's SNR
//   estimate for it in dB
// - `vme_dfn_set_attenuation_limit(handle, db)` (`db` = +inf: no limit; 0: the input,
//   delayed); `vme_dfn_latency() -> u32`: delay in samples (1440)
// - `vme_dfn_destroy(handle)`

thread_local! { static DFN_ERROR: RefCell<String> = const { RefCell::new(String::new()) }; }

pub struct DfnHandle {
    filter: DeepFilter,
    buffer: [f32; HOP],
}

#[no_mangle]
pub extern "C" fn vme_dfn_alloc(len: u32) -> *mut u8 {
    let mut buf = Vec::new();
    if buf.try_reserve_exact(len as usize).is_err() {
        return std::ptr::null_mut();
    }
    buf.resize(len as usize, 0u8);
    Box::into_raw(buf.into_boxed_slice()) as *mut u8
}

#[no_mangle]
pub extern "C" fn vme_dfn_create(weights: *mut u8, len: u32) -> *mut DfnHandle {
    if weights.is_null() {
        DFN_ERROR.with(|e| *e.borrow_mut() = "no weight buffer".into());
        return std::ptr::null_mut();
    }
    // SAFETY: `weights` comes from `vme_dfn_alloc(len)`; ownership returns to Rust here.
    let bytes = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(weights, len as usize)) };
    let made = DfnModel::parse(&bytes)
        .map_err(|e| e.to_string())
        .and_then(|m| DeepFilter::new(&m).map_err(|e| format!("DeepFilterNet3 networks: {e}")));
    match made {
        Ok(filter) => {
            LIVE.fetch_add(1, Ordering::Relaxed);
            Box::into_raw(Box::new(DfnHandle {
                filter,
                buffer: [0.0; HOP],
            }))
        }
        Err(message) => {
            DFN_ERROR.with(|e| *e.borrow_mut() = message);
            std::ptr::null_mut()
        }
    }
}

#[no_mangle]
pub extern "C" fn vme_dfn_error_ptr() -> *const u8 {
    DFN_ERROR.with(|e| e.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn vme_dfn_error_len() -> u32 {
    DFN_ERROR.with(|e| e.borrow().len() as u32)
}

fn dfn<'a>(h: *mut DfnHandle) -> Option<&'a mut DfnHandle> {
    // SAFETY: as for `handle`: from `vme_dfn_create`, forgotten after `vme_dfn_destroy`.
    unsafe { h.as_mut() }
}

#[no_mangle]
pub extern "C" fn vme_dfn_buffer(h: *mut DfnHandle) -> *mut f32 {
    dfn(h).map_or(std::ptr::null_mut(), |h| h.buffer.as_mut_ptr())
}

#[no_mangle]
pub extern "C" fn vme_dfn_process(h: *mut DfnHandle) -> f32 {
    match dfn(h) {
        Some(h) => {
            let input = h.buffer;
            h.filter.process(&input, &mut h.buffer)
        }
        None => 0.0,
    }
}

#[no_mangle]
pub extern "C" fn vme_dfn_set_attenuation_limit(h: *mut DfnHandle, db: f32) {
    if let Some(h) = dfn(h) {
        h.filter.set_attenuation_limit(db.is_finite().then_some(db));
    }
}

#[no_mangle]
pub extern "C" fn vme_dfn_latency() -> u32 {
    LATENCY as u32
}

#[no_mangle]
pub extern "C" fn vme_dfn_destroy(h: *mut DfnHandle) {
    if !h.is_null() {
        // SAFETY: see `dfn`; called once per handle.
        drop(unsafe { Box::from_raw(h) });
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}
