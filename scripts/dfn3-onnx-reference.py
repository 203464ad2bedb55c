#!/usr/bin/env python3
"""Reference outputs of DeepFilterNet3's ONNX graphs (onnxruntime) for tests/deepfilter_network.rs.

    python3 scripts/dfn3-onnx-reference.py      (the test runs it when its output is missing)

Needs target/dfn3/onnx/ from `node scripts/dfn3-model.mjs`. Installs onnxruntime and numpy
(pinned) into a venv under target/dfn3/venv the first time, and re-runs itself there.

Input: tests/fixtures/speech.wav (48 kHz) mixed with seeded noise (white plus a 1/f hum and
clicks) at 5 dB SNR, turned into features the way DeepFilterNet does (960-point Vorbis-window
STFT, hop 480; ERB band powers in dB minus a running mean, / 40; the lowest 96 bins divided by
the square root of a running mean of their magnitude; alpha = exp(-hop / (sr * 1 s))). The band
edges are an approximation of libDF's: the networks only need realistic inputs here; parity of
the features themselves is the DSP's test.

Output: target/dfn3/reference.bin, little-endian: u32 T, then float32 arrays
feat_erb [T, 32], feat_spec [T, 96, 2], lsnr [T], mask [T, 32], coefs [T, 96, 10].
"""
import os
import subprocess
import sys
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "target", "dfn3")
VENV = os.path.join(CACHE, "venv")
PINS = ["onnxruntime==1.32.0", "numpy==2.4.6"]
FRAMES = 500


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    marker = os.path.join(VENV, "installed.txt")
    if not (os.path.exists(marker) and open(marker).read() == "\n".join(PINS)):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "--quiet", *PINS])
        with open(marker, "w") as f:
            f.write("\n".join(PINS))
    os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


def features(np):
    with wave.open(os.path.join(ROOT, "tests", "fixtures", "speech.wav")) as w:
        assert w.getframerate() == 48000 and w.getsampwidth() == 2 and w.getnchannels() == 1
        speech = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
    hop, n_fft = 480, 960
    n = hop * (FRAMES + 1)
    speech = np.pad(speech, (0, max(0, n - len(speech))))[:n]
    rng = np.random.default_rng(7)
    t = np.arange(n) / 48000
    noise = rng.standard_normal(n) * 0.5 + np.sin(2 * np.pi * 100 * t) + np.sin(2 * np.pi * 3000 * t) * 0.3
    noise[rng.integers(0, n, 40)] += 8.0
    gain = np.sqrt(np.mean(speech**2) / np.mean(noise**2) / 10 ** (5 / 10))
    x = speech + gain * noise

    k = np.arange(n_fft)
    window = np.sin(0.5 * np.pi * np.sin(np.pi * (k + 0.5) / n_fft) ** 2)
    buf = np.zeros(n_fft)
    spec = []
    for f in range(FRAMES):
        buf = np.concatenate([buf[hop:], x[f * hop:(f + 1) * hop]])
        spec.append(np.fft.rfft(buf * window) / n_fft)
    spec = np.array(spec)  # [T, 481]

    # 32 bands, at least 2 bins wide, roughly ERB-spaced between 0 and 24 kHz.
    erb = lambda hz: 9.265 * np.log1p(hz / (24.7 * 9.265))
    edges = np.unique(np.round(np.interp(np.linspace(0, erb(24000), 33), erb(np.linspace(0, 24000, 481)), np.arange(481))).astype(int))
    edges[-1] = 481
    bands = list(zip(edges[:-1], edges[1:]))[:32]
    while len(bands) < 32:  # split the widest band until there are 32
        i = max(range(len(bands)), key=lambda j: bands[j][1] - bands[j][0])
        a, b = bands[i]
        bands[i:i + 1] = [(a, (a + b) // 2), ((a + b) // 2, b)]
    alpha = np.exp(-hop / 48000)
    mean = np.linspace(-60, -90, 32)
    unit = np.linspace(0.001, 0.0001, 96)
    feat_erb = np.zeros((FRAMES, 32))
    feat_spec = np.zeros((FRAMES, 96, 2))
    for f in range(FRAMES):
        p = np.abs(spec[f]) ** 2
        db = 10 * np.log10(np.array([p[a:b].mean() for a, b in bands]) + 1e-10)
        mean = db * (1 - alpha) + mean * alpha
        feat_erb[f] = (db - mean) / 40
        c = spec[f, :96]
        unit = np.abs(c) * (1 - alpha) + unit * alpha
        c = c / np.sqrt(unit)
        feat_spec[f, :, 0], feat_spec[f, :, 1] = c.real, c.imag
    return feat_erb.astype(np.float32), feat_spec.astype(np.float32)


def main():
    ensure_venv()
    import numpy as np
    import onnxruntime as ort

    feat_erb, feat_spec = features(np)
    onnx = os.path.join(CACHE, "onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = lambda g: ort.InferenceSession(os.path.join(onnx, g + ".onnx"), opts, providers=["CPUExecutionProvider"])
    e0, e1, e2, e3, emb, c0, lsnr = sess("enc").run(None, {
        "feat_erb": feat_erb[None, None],
        "feat_spec": feat_spec.transpose(2, 0, 1)[None],
    })
    (mask,) = sess("erb_dec").run(["m"], {"emb": emb, "e3": e3, "e2": e2, "e1": e1, "e0": e0})
    coefs = sess("df_dec").run(["coefs"], {"emb": emb, "c0": c0})[0]
    out = os.path.join(CACHE, "reference.bin")
    with open(out + ".tmp", "wb") as f:
        f.write(np.uint32(FRAMES).tobytes())
        for a in (feat_erb, feat_spec, lsnr, mask, coefs):
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
    os.replace(out + ".tmp", out)
    print(f"{out}: {FRAMES} frames, lsnr {lsnr.min():.1f}..{lsnr.max():.1f} dB, mask mean {mask.mean():.3f}")


if __name__ == "__main__":
    main()
