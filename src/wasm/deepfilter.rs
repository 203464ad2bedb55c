//! DeepFilterNet3's networks alone, on the same raw C ABI as `audio.rs` (usable from an
//! AudioWorklet): for the wasm parity test (tests/node/deepfilter-network.test.mjs) and the
//! speed figure of bench/audio.mjs. The full suppressor will wrap them behind `vme_ns_*`.
//!
//! ABI (handles are pointers, 0 means failure; nothing here can panic):
//! - `vme_dfn_net_new(weights_len) -> handle`, `vme_dfn_net_weights(handle) -> *mut u8`: the
//!   caller copies the weight file (pkg/models/deepfilternet3.dfw) there, then
//! - `vme_dfn_net_load(handle) -> u32`: 0 when the networks are built (the copy is freed), else
//!   an error code: 1 malformed file, 2 missing or misshapen tensor
//! - `vme_dfn_net_features(handle) -> *mut f32`: one frame's inputs, 32 ERB features then 96
//!   (re, im) pairs
//! - `vme_dfn_net_step(handle) -> f32`: runs the three networks, returns the local SNR (dB)
//! - `vme_dfn_net_output(handle) -> *const f32`: the 32 ERB gains then the 96 x 5 x (re, im)
//!   deep-filter coefficients of the latest step
//! - `vme_dfn_net_reset(handle)`, `vme_dfn_net_destroy(handle)`
//!
//! And the whole of DeepFilterNet3 (`audio::deepfilter::DeepFilter`: STFT, features, the
//! networks, ERB gains and deep filter), 480 samples at 48 kHz in and out per call, `vme_dfn_*`
//! (below).

use crate::audio::deepfilter::network::{Network, NetworkOutput, DF_ORDER, NB_DF, NB_ERB};
use crate::audio::deepfilter::{DeepFilter, HOP, LATENCY};
use crate::nn::dfn_weights::{DfnModel, Error};
use std::cell::RefCell;

const FEATURES: usize = NB_ERB + 2 * NB_DF;
const OUTPUTS: usize = NB_ERB + 2 * DF_ORDER * NB_DF;

pub struct Handle {
    weights: Vec<u8>,
    net: Option<Network>,
    features: [f32; FEATURES],
    out: NetworkOutput,
    flat: [f32; OUTPUTS],
}

fn handle<'a>(h: *mut Handle) -> Option<&'a mut Handle> {
    // SAFETY: handles only come from `vme_dfn_net_new` and the JS side forgets them after
    // `vme_dfn_net_destroy`; a null handle is rejected here.
    unsafe { h.as_mut() }
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_new(weights_len: u32) -> *mut Handle {
    // The real file is 4.3 MB; refuse what could only exhaust memory.
    if weights_len > 64 << 20 {
        return std::ptr::null_mut();
    }
    Box::into_raw(Box::new(Handle {
        weights: vec![0; weights_len as usize],
        net: None,
        features: [0.0; FEATURES],
        out: NetworkOutput::default(),
        flat: [0.0; OUTPUTS],
    }))
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_weights(h: *mut Handle) -> *mut u8 {
    handle(h).map_or(std::ptr::null_mut(), |h| h.weights.as_mut_ptr())
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_load(h: *mut Handle) -> u32 {
    let Some(h) = handle(h) else { return 1 };
    let net = DfnModel::parse(&h.weights).and_then(|m| Network::new(&m));
    h.weights = Vec::new();
    match net {
        Ok(net) => {
            h.net = Some(net);
            0
        }
        Err(Error::MissingTensor(_) | Error::WrongShape { .. }) => 2,
        Err(_) => 1,
    }
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_features(h: *mut Handle) -> *mut f32 {
    handle(h).map_or(std::ptr::null_mut(), |h| h.features.as_mut_ptr())
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_step(h: *mut Handle) -> f32 {
    let Some(h) = handle(h) else { return 0.0 };
    let Some(net) = h.net.as_mut() else {
        return 0.0;
    };
    let mut erb = [0.0; NB_ERB];
    erb.copy_from_slice(&h.features[..NB_ERB]);
    let mut spec = [[0.0; 2]; NB_DF];
    for (s, f) in spec.iter_mut().zip(h.features[NB_ERB..].chunks_exact(2)) {
        *s = [f[0], f[1]];
    }
    net.step(&erb, &spec, &mut h.out);
    h.flat[..NB_ERB].copy_from_slice(&h.out.erb_mask);
    for (d, s) in h.flat[NB_ERB..]
        .iter_mut()
        .zip(h.out.df_coefs.iter().flatten().flatten())
    {
        *d = *s;
    }
    h.out.lsnr
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_output(h: *mut Handle) -> *const f32 {
    handle(h).map_or(std::ptr::null(), |h| h.flat.as_ptr())
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_reset(h: *mut Handle) {
    if let Some(net) = handle(h).and_then(|h| h.net.as_mut()) {
        net.reset();
    }
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_destroy(h: *mut Handle) {
    if !h.is_null() {
        // SAFETY: see `handle`; the JS side calls this once per handle.
        drop(unsafe { Box::from_raw(h) });
    }
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

/// A buffer of `len` bytes handed to JS (null when memory runs out), which must write every
/// byte of it before passing it back (`take_bytes`). Not zeroed: a live model switch allocates
/// its 4.3 MB weight file on the audio thread, where a pass over it would cost ~1-3 ms.
pub(crate) fn alloc_bytes(len: u32) -> *mut u8 {
    let Ok(layout) = std::alloc::Layout::array::<u8>(len as usize) else {
        return std::ptr::null_mut();
    };
    if layout.size() == 0 {
        return Box::into_raw(Box::<[u8]>::default()) as *mut u8;
    }
    // SAFETY: the layout's size is not zero. The bytes are initialised by the caller (the JS
    // side copies a whole file in) before `take_bytes` makes them a `Box<[u8]>`.
    unsafe { std::alloc::alloc(layout) }
}

/// Frees a buffer from `alloc_bytes(len)` whatever was written into it.
///
/// # Safety
/// `ptr` must come from `alloc_bytes(len)` with this `len`, and not be taken or freed again.
pub(crate) unsafe fn free_bytes(ptr: *mut u8, len: u32) {
    if let Ok(layout) = std::alloc::Layout::array::<u8>(len as usize) {
        if layout.size() != 0 {
            std::alloc::dealloc(ptr, layout);
        }
    }
}

/// Takes back a buffer from `alloc_bytes(len)`.
///
/// # Safety
/// `ptr` must come from `alloc_bytes(len)` with this `len`, not be taken twice, and have all
/// its `len` bytes written (a buffer given back unwritten is only dropped, never read).
pub(crate) unsafe fn take_bytes(ptr: *mut u8, len: u32) -> Box<[u8]> {
    Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len as usize))
}

pub struct Filter {
    filter: DeepFilter,
    buffer: [f32; HOP],
}

#[no_mangle]
pub extern "C" fn vme_dfn_alloc(len: u32) -> *mut u8 {
    alloc_bytes(len)
}

#[no_mangle]
pub extern "C" fn vme_dfn_create(weights: *mut u8, len: u32) -> *mut Filter {
    if weights.is_null() {
        DFN_ERROR.with(|e| *e.borrow_mut() = "no weight buffer".into());
        return std::ptr::null_mut();
    }
    // SAFETY: `weights` comes from `vme_dfn_alloc(len)`; ownership returns to Rust here.
    let bytes = unsafe { take_bytes(weights, len) };
    let made = DfnModel::parse(&bytes)
        .map_err(|e| e.to_string())
        .and_then(|m| DeepFilter::new(&m).map_err(|e| format!("DeepFilterNet3 networks: {e}")));
    match made {
        Ok(filter) => Box::into_raw(Box::new(Filter {
            filter,
            buffer: [0.0; HOP],
        })),
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

fn filter<'a>(h: *mut Filter) -> Option<&'a mut Filter> {
    // SAFETY: as for `handle`: from `vme_dfn_create`, forgotten after `vme_dfn_destroy`.
    unsafe { h.as_mut() }
}

#[no_mangle]
pub extern "C" fn vme_dfn_buffer(h: *mut Filter) -> *mut f32 {
    filter(h).map_or(std::ptr::null_mut(), |h| h.buffer.as_mut_ptr())
}

#[no_mangle]
pub extern "C" fn vme_dfn_process(h: *mut Filter) -> f32 {
    match filter(h) {
        Some(h) => {
            let input = h.buffer;
            h.filter.process(&input, &mut h.buffer)
        }
        None => 0.0,
    }
}

#[no_mangle]
pub extern "C" fn vme_dfn_set_attenuation_limit(h: *mut Filter, db: f32) {
    if let Some(h) = filter(h) {
        h.filter.set_attenuation_limit(db.is_finite().then_some(db));
    }
}

#[no_mangle]
pub extern "C" fn vme_dfn_latency() -> u32 {
    LATENCY as u32
}

#[no_mangle]
pub extern "C" fn vme_dfn_destroy(h: *mut Filter) {
    if !h.is_null() {
        // SAFETY: see `filter`; called once per handle.
        drop(unsafe { Box::from_raw(h) });
    }
}
