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
//! ABI (the raw ABI's conventions, weight buffer and error message: `raw.rs`):
//! - `vme_ns_create(sample_rate, max_channels, lookahead) -> handle` (0: rate outside
//!   8..=96 kHz or channels outside 1..=2, the reason in `vme_error_*`); `lookahead` 1 reserves
//!   the voice chain's limiter look-ahead (1.5 ms more latency), 0 (or absent) does not
//! - `vme_ns_buffer(handle, channel) -> *mut f32`: the 128-sample in/out buffer of a channel
//! - `vme_ns_process(handle, channels) -> u32`: processes one 128-sample quantum of `channels`
//!   channels in place (a change in channel count resets the states it brings in); 1 when a
//!   live switch to DeepFilterNet3 was given up in it (its weights are laid out over the
//!   quanta after `vme_ns_set_model`): the message is in `vme_error_*`, the old model plays on
//! - `vme_ns_vad(handle) -> f32`: voice probability of the latest 10 ms frame (max over channels)
//! - `vme_ns_set_enabled(handle, 0|1)`, `vme_ns_set_attenuation_limit(handle, db)`
//!   (`db` = +inf: no limit; 0: bypass)
//! - `vme_ns_set_intensity(handle, 0..=100)`: the denoiser's strength and the voice chain's
//!   amounts (an attenuation limit set afterwards overrides the strength)
//! - `vme_ns_set_stage(handle, stage, on, p0, p1, p2, p3)`: voice chain stage 0 high-pass,
//!   1 leveler, 2 compressor, 3 limiter, on 0|1, parameters in `audio::voice::Params` order
//!   (NaN: from intensity; out of range: clamped; an unknown stage is ignored)
//! - `vme_ns_latency(handle) -> u32`: added delay in samples at the context rate (it changes
//!   when a model switch completes)
//! - `vme_ns_set_model(handle, model, weights, len) -> u32`: model 0 RNNoise (weights may be
//!   0), 1 DeepFilterNet3 with its weight file (pkg/models/deepfilternet3.dfw) in a buffer from
//!   `vme_weights_alloc(len)` (the worklet copies it there in slices over several quanta),
//!   which it takes (frees) whatever happens; before any audio the model changes at once,
//!   afterwards live with a crossfade (`audio::Suppressor::set_model`): then it only checks
//!   the file's structure, and the values are checked as the next quanta convert them.
//!   0: done; 1: failed, the suppressor unchanged and the reason in `vme_error_*`
//! - `vme_ns_model(handle) -> u32`: the model producing the output (0 RNNoise, 1 DeepFilterNet3)
//! - `vme_ns_destroy(handle)`; `vme_ns_live() -> u32`: suppressors alive in this instance

use super::raw::{set_error, take_weights};
use crate::audio::voice::Stage;
use crate::audio::{Model, ModelKind, Suppressor, QUANTUM};
use crate::nn::dfn_weights::DfnModel;
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
pub extern "C" fn vme_ns_create(
    sample_rate: u32,
    max_channels: u32,
    lookahead: u32,
) -> *mut Handle {
    let created = if lookahead != 0 {
        Suppressor::with_lookahead(sample_rate, max_channels as usize)
    } else {
        Suppressor::new(sample_rate, max_channels as usize)
    };
    match created {
        Ok(suppressor) => {
            LIVE.fetch_add(1, Ordering::Relaxed);
            let buffers = vec![[0.0; QUANTUM]; max_channels as usize];
            Box::into_raw(Box::new(Handle {
                suppressor,
                buffers,
            }))
        }
        Err(e) => {
            set_error(e.to_string());
            std::ptr::null_mut()
        }
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
pub extern "C" fn vme_ns_process(h: *mut Handle, channels: u32) -> u32 {
    let Some(h) = handle(h) else {
        return 0;
    };
    let n = (channels as usize).min(h.buffers.len());
    h.suppressor.process(&mut h.buffers[..n]);
    match h.suppressor.take_switch_error() {
        None => 0,
        Some(e) => {
            set_error(format!("DeepFilterNet3 weights: {e}"));
            1
        }
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
pub extern "C" fn vme_ns_set_intensity(h: *mut Handle, intensity: f32) {
    if let Some(h) = handle(h) {
        h.suppressor.set_intensity(intensity);
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_set_stage(
    h: *mut Handle,
    stage: u32,
    on: u32,
    p0: f32,
    p1: f32,
    p2: f32,
    p3: f32,
) {
    if let (Some(h), Some(stage)) = (handle(h), Stage::from_index(stage)) {
        h.suppressor.set_stage(stage, on != 0, [p0, p1, p2, p3]);
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_latency(h: *mut Handle) -> u32 {
    handle(h).map_or(0, |h| h.suppressor.latency_samples() as u32)
}

#[no_mangle]
pub extern "C" fn vme_ns_set_model(h: *mut Handle, model: u32, weights: *mut u8, len: u32) -> u32 {
    // SAFETY: a non-null `weights` comes from `vme_weights_alloc(len)`; taken once, here.
    let bytes = unsafe { take_weights(weights, len) };
    let result = match (handle(h), model, bytes) {
        (None, _, _) => Err("no suppressor (null handle)".to_string()),
        (Some(h), 0, _) => h
            .suppressor
            .set_model(Model::RNNoise)
            .map_err(|e| e.to_string()),
        (Some(_), 1, None) => Err("DeepFilterNet3 needs its weight file (none given)".to_string()),
        (Some(h), 1, Some(bytes)) => DfnModel::parse_owned(bytes.into_vec())
            .and_then(|m| h.suppressor.set_model(Model::DeepFilterNet3(m)))
            .map_err(|e| format!("DeepFilterNet3 weights: {e}")),
        (Some(_), m, _) => Err(format!("unknown model {m} (0 RNNoise, 1 DeepFilterNet3)")),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            set_error(message);
            1
        }
    }
}

#[no_mangle]
pub extern "C" fn vme_ns_model(h: *mut Handle) -> u32 {
    handle(h).map_or(0, |h| match h.suppressor.model() {
        ModelKind::RNNoise => 0,
        ModelKind::DeepFilterNet3 => 1,
    })
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
