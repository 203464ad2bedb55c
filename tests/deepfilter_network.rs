//! DeepFilterNet3's networks run frame by frame (`audio::deepfilter::network`) against
//! onnxruntime running the official ONNX graphs over the whole sequence, on features of real
//! speech mixed with noise (`scripts/dfn3-onnx-reference.py`, run here when its output is
//! missing). Also: the weight-file reader rejects bad files with errors, never panics.
//!
//! Needs `node scripts/dfn3-model.mjs` (run by `npm test`'s build) for the weights.

#[path = "support/compare.rs"]
mod compare;
#[path = "support/rng.rs"]
mod rng;
use compare::rel_err;
use rng::XorShift;
use std::path::{Path, PathBuf};
use std::process::Command;
use visio_media_effects::audio::deepfilter::network::{
    Network, NetworkOutput, DF_ORDER, NB_DF, NB_ERB,
};
use visio_media_effects::nn::dfn_weights::{DfnModel, Error};

fn cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/dfn3")
}

fn read(name: &str) -> Vec<u8> {
    let path = cache().join(name);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `node scripts/dfn3-model.mjs` first)",
            path.display()
        )
    })
}

fn network(name: &str) -> Network {
    Network::new(&DfnModel::parse(&read(name)).unwrap()).unwrap()
}

struct Reference {
    frames: usize,
    feat_erb: Vec<f32>,
    feat_spec: Vec<f32>,
    lsnr: Vec<f32>,
    mask: Vec<f32>,
    coefs: Vec<f32>,
}

/// Loaded once per test binary: the tests run in parallel threads, and only one may create
/// the venv and the file.
fn reference() -> &'static Reference {
    static REFERENCE: std::sync::OnceLock<Reference> = std::sync::OnceLock::new();
    REFERENCE.get_or_init(load_reference)
}

fn load_reference() -> Reference {
    let path = cache().join("reference.bin");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/dfn3-onnx-reference.py");
    let stale = |p: &Path| {
        let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        m(p).is_none() || m(p) < m(&script)
    };
    if stale(&path) {
        let ok = Command::new("python3")
            .arg(&script)
            .status()
            .map(|s| s.success());
        assert!(
            matches!(ok, Ok(true)),
            "{} failed: {ok:?}",
            script.display()
        );
    }
    let b = std::fs::read(&path).unwrap();
    let frames = u32::from_le_bytes(b[..4].try_into().unwrap()) as usize;
    let mut f = b[4..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()));
    let mut take = |n: usize| (&mut f).take(n).collect::<Vec<f32>>();
    let r = Reference {
        frames,
        feat_erb: take(frames * NB_ERB),
        feat_spec: take(frames * NB_DF * 2),
        lsnr: take(frames),
        mask: take(frames * NB_ERB),
        coefs: take(frames * NB_DF * DF_ORDER * 2),
    };
    assert_eq!(
        r.coefs.len(),
        frames * NB_DF * DF_ORDER * 2,
        "reference.bin truncated"
    );
    r
}

/// Runs the network over the reference's features; returns (lsnr, mask, coefs) per frame.
fn run(net: &mut Network, r: &Reference) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (mut lsnr, mut mask, mut coefs) = (vec![], vec![], vec![]);
    let mut out = NetworkOutput::default();
    for t in 0..r.frames {
        let erb: &[f32; NB_ERB] = r.feat_erb[t * NB_ERB..(t + 1) * NB_ERB].try_into().unwrap();
        let mut spec = [[0.0f32; 2]; NB_DF];
        for (b, s) in spec.iter_mut().enumerate() {
            *s = [
                r.feat_spec[(t * NB_DF + b) * 2],
                r.feat_spec[(t * NB_DF + b) * 2 + 1],
            ];
        }
        net.step(erb, &spec, &mut out);
        lsnr.push(out.lsnr);
        mask.extend_from_slice(&out.erb_mask);
        coefs.extend(out.df_coefs.iter().flatten().flatten());
    }
    (lsnr, mask, coefs)
}

fn parity(file: &str) -> [f32; 3] {
    let r = reference();
    let mut net = network(file);
    let (lsnr, mask, coefs) = run(&mut net, r);
    let e = [
        rel_err(&lsnr, &r.lsnr),
        rel_err(&mask, &r.mask),
        rel_err(&coefs, &r.coefs),
    ];
    println!(
        "{file}: {} frames, max error / max |reference|: lsnr {:.2e}, mask {:.2e}, coefs {:.2e}",
        r.frames, e[0], e[1], e[2]
    );
    e
}

#[test]
fn float32_weights_match_onnxruntime() {
    for e in parity("deepfilternet3-f32.dfw") {
        assert!(e < 1e-4, "{e}");
    }
}

#[test]
fn float16_weights_stay_close_to_onnxruntime() {
    for e in parity("deepfilternet3.dfw") {
        assert!(e < 1e-2, "{e}");
    }
}

#[test]
fn reset_restarts_from_silence() {
    let r = reference();
    let mut net = network("deepfilternet3-f32.dfw");
    let first = run(&mut net, r);
    net.reset();
    assert_eq!(run(&mut net, r), first);
}

#[test]
fn malformed_weight_files_are_named_errors() {
    let good = read("deepfilternet3.dfw");
    let m = DfnModel::parse(&good).unwrap();
    assert!(m.half);
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(DfnModel::parse(&bad).unwrap_err(), Error::BadMagic);
    let e = DfnModel::parse(&good[..good.len() - 1]).unwrap_err();
    assert!(matches!(e, Error::Truncated { .. }), "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
    let mut longer = good.clone();
    longer.push(0);
    assert!(matches!(DfnModel::parse(&longer), Err(Error::Malformed(_))));
    bad = good.clone();
    bad[8] = 3;
    assert_eq!(
        DfnModel::parse(&bad).unwrap_err(),
        Error::UnsupportedDtype(3)
    );

    // The first tensor renamed: the network names the one it misses.
    bad = good.clone();
    let name_len = bad[16] as usize;
    bad[17] = b'X';
    let first = String::from_utf8_lossy(&good[17..17 + name_len]).into_owned();
    let e = Network::new(&DfnModel::parse(&bad).unwrap()).err().unwrap();
    assert_eq!(e, Error::MissingTensor(first.clone()));
    assert!(e.to_string().contains(&format!("\"{first}\"")));
    // Its shape [64, 1, 3, 3] stored as [64, 3, 1, 3] (same size): a named shape error.
    bad = good.clone();
    let dims = 18 + name_len;
    assert_eq!(good[dims - 1], 4, "rank");
    bad[dims + 4] = 3;
    bad[dims + 8] = 1;
    let e = Network::new(&DfnModel::parse(&bad).unwrap()).err().unwrap();
    let want = Error::WrongShape {
        name: first,
        expected: vec![64, 1, 3, 3],
        found: vec![64, 3, 1, 3],
    };
    assert_eq!(e, want);
    // A NaN among its values: the structure parses, converting the value fails, naming it.
    bad = good.clone();
    bad[dims + 16..dims + 18].copy_from_slice(&[0x00, 0x7e]);
    let e = Network::new(&DfnModel::parse(&bad).unwrap()).err().unwrap();
    let want = format!(
        "tensor \"{}\" holds a non-finite value at 0",
        String::from_utf8_lossy(&good[17..17 + name_len])
    );
    assert!(e.to_string().contains(&want), "{e}");
    // Its first dimension 64 -> 65: the data no longer fits the file.
    bad = good.clone();
    bad[dims] = 65;
    assert!(DfnModel::parse(&bad).is_err());
}

#[test]
fn damaged_weight_files_never_panic() {
    let good = read("deepfilternet3.dfw");
    // Every truncation point in the headers, and a spread of them in the data.
    let mut cuts: Vec<usize> = (0..600).collect();
    cuts.extend((600..good.len()).step_by(9973));
    for n in cuts {
        assert!(DfnModel::parse(&good[..n]).is_err(), "{n} bytes parsed");
    }
    // Seeded byte mutations in the first 4 KB (headers and first tensors); a file that still
    // parses must build a network or name its problem, and a network built must run.
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let mut rand = || rng.next_u64();
    let (mut parsed, mut built) = (0, 0);
    for _ in 0..120 {
        let mut bad = good.clone();
        for _ in 0..1 + rand() % 4 {
            let at = (rand() % 4096) as usize;
            bad[at] = rand() as u8;
        }
        if let Ok(m) = DfnModel::parse(&bad) {
            parsed += 1;
            if let Ok(mut net) = Network::new(&m) {
                built += 1;
                let mut out = NetworkOutput::default();
                net.step(&[0.1; NB_ERB], &[[0.1, -0.1]; NB_DF], &mut out);
            }
        }
    }
    println!("{parsed} mutated files parsed, {built} built a network");
}
