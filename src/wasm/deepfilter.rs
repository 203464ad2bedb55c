//! DeepFilterNet3's networks alone, on the same raw C ABI as `audio.rs` (usable from an
//! AudioWorklet): for the wasm parity test (tests/node/deepfilter-network.test.mjs) and the
//! speed figure of bench/audio.mjs. The full suppressor will wrap them behind `vme_ns_*`.
//!
//! ABI (the raw ABI's conventions, weight buffer and error message: `raw.rs`):
//! - `vme_dfn_net_create(weights, len) -> handle`: builds the networks from the weight file
//!   (pkg/models/deepfilternet3.dfw) in a buffer from `vme_weights_alloc(len)`, which it takes
//!   (frees); 0 on failure, the reason (truncated file, missing or misshapen tensor...) in
//!   `vme_error_*`
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

use super::raw::{set_error, take_weights};
use crate::audio::deepfilter::network::{Network, NetworkOutput, DF_ORDER, NB_DF, NB_ERB};
use crate::audio::deepfilter::{DeepFilter, HOP, LATENCY};
use crate::nn::dfn_weights::DfnModel;

const FEATURES: usize = NB_ERB + 2 * NB_DF;
const OUTPUTS: usize = NB_ERB + 2 * DF_ORDER * NB_DF;

pub struct Handle {
    net: Network,
    features: [f32; FEATURES],
    out: NetworkOutput,
    flat: [f32; OUTPUTS],
}

fn handle<'a>(h: *mut Handle) -> Option<&'a mut Handle> {
    // SAFETY: handles only come from `vme_dfn_net_create` and the JS side forgets them after
    // `vme_dfn_net_destroy`; a null handle is rejected here.
    unsafe { h.as_mut() }
}

/// The weight file at `weights` (from `vme_weights_alloc(len)`, taken here) parsed by `build`;
/// null with the reason in `vme_error_*` when it is refused.
fn create_from<T>(
    weights: *mut u8,
    len: u32,
    build: impl FnOnce(&DfnModel) -> Result<T, String>,
) -> *mut T {
    // SAFETY: a non-null `weights` comes from `vme_weights_alloc(len)`; taken once, here.
    let Some(bytes) = (unsafe { take_weights(weights, len) }) else {
        set_error("no weight buffer (null pointer)".into());
        return std::ptr::null_mut();
    };
    match DfnModel::parse(&bytes)
        .map_err(|e| e.to_string())
        .and_then(|m| build(&m))
    {
        Ok(made) => Box::into_raw(Box::new(made)),
        Err(message) => {
            set_error(message);
            std::ptr::null_mut()
        }
    }
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_create(weights: *mut u8, len: u32) -> *mut Handle {
    create_from(weights, len, |m| {
        Ok(Handle {
            net: Network::new(m).map_err(|e| e.to_string())?,
            features: [0.0; FEATURES],
            out: NetworkOutput::default(),
            flat: [0.0; OUTPUTS],
        })
    })
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_features(h: *mut Handle) -> *mut f32 {
    handle(h).map_or(std::ptr::null_mut(), |h| h.features.as_mut_ptr())
}

#[no_mangle]
pub extern "C" fn vme_dfn_net_step(h: *mut Handle) -> f32 {
    let Some(h) = handle(h) else { return 0.0 };
    let net = &mut h.net;
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
    if let Some(h) = handle(h) {
        h.net.reset();
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
// - `vme_dfn_create(weights, len) -> handle`: as `vme_dfn_net_create`, for the whole filter
// - `vme_dfn_buffer(handle) -> *mut f32`: the 480-sample in/out buffer
// - `vme_dfn_process(handle) -> f32`: enhances one hop in place; returns the model's SNR
//   estimate for it in dB
// - `vme_dfn_set_attenuation_limit(handle, db)` (`db` = +inf: no limit; 0: the input,
//   delayed); `vme_dfn_latency() -> u32`: delay in samples (1440, a constant of the model)
// - `vme_dfn_destroy(handle)`

pub struct Filter {
    filter: DeepFilter,
    buffer: [f32; HOP],
}

#[no_mangle]
pub extern "C" fn vme_dfn_create(weights: *mut u8, len: u32) -> *mut Filter {
    create_from(weights, len, |m| {
        Ok(Filter {
            filter: DeepFilter::new(m).map_err(|e| format!("DeepFilterNet3 networks: {e}"))?,
            buffer: [0.0; HOP],
        })
    })
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
