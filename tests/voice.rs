//! The voice chain's contract on the native build, on the project's speech fixture (plus
//! deterministic pink noise and rumble): speech levels, pauses, rumble, the -1 dBFS ceiling,
//! click-free toggles, and the latency each stage adds.

use visio_media_effects::audio::voice::{Stage, DERIVED, LOOKAHEAD_SECONDS};
use visio_media_effects::audio::{Suppressor, QUANTUM};

#[path = "support/rng.rs"]
mod rng;
use rng::XorShift;

const RATE: u32 = 48_000;
const TARGET_DB: f64 = -20.0;
const CEILING: f64 = 0.891_250_938_133_745_6; // -1 dBFS
const VISIO_INTENSITY: f32 = 90.0;

/// tests/fixtures/speech.wav (16-bit mono 48 kHz).
fn speech() -> Vec<f32> {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/speech.wav"
    ))
    .unwrap();
    let mut o = 12;
    while &bytes[o..o + 4] != b"data" {
        o += 8 + u32::from_le_bytes(bytes[o + 4..o + 8].try_into().unwrap()) as usize;
    }
    let n = u32::from_le_bytes(bytes[o + 4..o + 8].try_into().unwrap()) as usize / 2;
    (0..n)
        .map(|i| i16::from_le_bytes([bytes[o + 8 + 2 * i], bytes[o + 9 + 2 * i]]) as f32 / 32768.0)
        .collect()
}

/// Deterministic pink noise (Paul Kellett's filter on xorshift white noise) at `rms`.
fn pink(n: usize, seed: u64, rms: f64) -> Vec<f32> {
    let mut rng = XorShift(seed);
    let mut b = [0.0f64; 7];
    let mut out: Vec<f64> = (0..n)
        .map(|_| {
            let w = rng.signed_f64();
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.969 * b[2] + w * 0.153852;
            b[3] = 0.8665 * b[3] + w * 0.3104856;
            b[4] = 0.55 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.016898;
            let y = b[..6].iter().sum::<f64>() + b[6] + w * 0.5362;
            b[6] = w * 0.115926;
            y
        })
        .collect();
    let g = rms / (out.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    out.iter_mut().for_each(|v| *v *= g);
    out.into_iter().map(|v| v as f32).collect()
}

fn db(power: f64) -> f64 {
    10.0 * power.max(1e-30).log10()
}

fn power(x: &[f32]) -> f64 {
    x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64
}

/// 10 ms frames of `clean` that are speech: within 40 dB of its loudest frame (the
/// fixture's pauses are digital silence), as tests/helpers/audio.mjs's speechMask.
fn speech_frames(clean: &[f32]) -> Vec<bool> {
    let p: Vec<f64> = clean.chunks_exact(480).map(power).collect();
    let max = p.iter().copied().fold(0.0, f64::max);
    p.iter().map(|&v| db(v) > db(max) - 40.0).collect()
}

/// Mean power of `y` (delayed by `lag`) over the frames where `mask` is set, from frame `from`.
fn level_db(y: &[f32], lag: usize, mask: &[bool], from: usize) -> f64 {
    let (mut sum, mut count) = (0.0, 0);
    for (f, &m) in mask.iter().enumerate().skip(from) {
        let s = f * 480 + lag;
        if m && s + 480 <= y.len() {
            sum += power(&y[s..s + 480]);
            count += 1;
        }
    }
    db(sum / count as f64)
}

/// The speech fixture `times` times at an active speech level of `level` dBFS, with pink
/// noise `snr` dB below the speech and optional extra signal; returns (mixture, clean).
fn scene(level: f64, times: usize, snr: f64) -> (Vec<f32>, Vec<f32>) {
    let one = speech();
    let mask = speech_frames(&one);
    let g = 10f64.powf((level - level_db(&one, 0, &mask, 0)) / 20.0) as f32;
    let clean: Vec<f32> = (0..times)
        .flat_map(|_| one.iter().map(|&v| v * g))
        .collect();
    let noise = pink(clean.len(), 7, 10f64.powf((level - snr) / 20.0));
    let mix = clean.iter().zip(&noise).map(|(a, b)| a + b).collect();
    (mix, clean)
}

/// Runs mono audio through `s` in 128-sample quanta; `at(quantum_index, s)` runs before each.
fn run_with(s: &mut Suppressor, x: &[f32], mut at: impl FnMut(usize, &mut Suppressor)) -> Vec<f32> {
    let mut out = Vec::with_capacity(x.len());
    let mut q = [[0.0f32; QUANTUM]; 1];
    for (k, chunk) in x.chunks(QUANTUM).enumerate() {
        at(k, s);
        q[0] = [0.0; QUANTUM];
        q[0][..chunk.len()].copy_from_slice(chunk);
        s.process(&mut q);
        out.extend_from_slice(&q[0][..chunk.len()]);
    }
    out
}

fn run(s: &mut Suppressor, x: &[f32]) -> Vec<f32> {
    run_with(s, x, |_, _| {})
}

/// A suppressor at Visio's intensity with the given stages on (derived parameters).
fn chain(stages: &[Stage]) -> Suppressor {
    let mut s = Suppressor::with_lookahead(RATE, 2).unwrap();
    s.set_intensity(VISIO_INTENSITY);
    for &st in stages {
        s.set_stage(st, true, DERIVED);
    }
    s
}

const ALL: [Stage; 4] = [
    Stage::HighPass,
    Stage::Leveler,
    Stage::Compressor,
    Stage::Limiter,
];

#[test]
fn quiet_and_loud_speech_both_end_within_3db_of_the_target() {
    for level in [-45.0, -15.0] {
        let (mix, clean) = scene(level, 3, 20.0);
        let mut s = chain(&ALL);
        let y = run(&mut s, &mix);
        let mask = speech_frames(&clean);
        // The last of the three passes: the leveler has settled.
        let third = mask.len() * 2 / 3;
        let out = level_db(&y, s.latency_samples(), &mask, third);
        println!(
            "speech at {level} dBFS -> {out:.2} dBFS (target {TARGET_DB}), leveler gain {:.1} dB",
            s.voice().leveler_gain_db()
        );
        assert!(
            (out - TARGET_DB).abs() <= 3.0,
            "{level} dBFS speech came out at {out:.2} dBFS"
        );
        assert_eq!(s.underruns(), 0);
    }
}

#[test]
fn the_leveler_does_not_pump_pauses_up() {
    // Quiet speech (-45 dBFS, pink noise 15 dB below), then 4 s of noise alone.
    let (mut mix, mut clean) = scene(-45.0, 2, 15.0);
    let tail = pink(4 * RATE as usize, 99, 10f64.powf((-45.0 - 15.0) / 20.0));
    mix.extend(&tail);
    clean.extend(std::iter::repeat_n(0.0, tail.len()));
    let mask = speech_frames(&clean);
    // Compressor and limiter off: they act on the speech the leveler raised, not on pauses,
    // which would hide the leveler's own speech gain.
    let mut off = chain(&[Stage::HighPass]);
    let mut on = chain(&[Stage::HighPass, Stage::Leveler]);
    let (y_off, y_on) = (run(&mut off, &mix), run(&mut on, &mix));
    let lag = on.latency_samples();
    assert_eq!(lag, off.latency_samples());
    // The leveler's gain on speech and on the pauses inside it (second pass, settled) ...
    let half = mask.len() / 2;
    let speech_end = mask.iter().rposition(|&m| m).unwrap();
    let pauses: Vec<bool> = (0..mask.len())
        .map(|f| {
            f >= half
                && f < speech_end
                && (f.saturating_sub(8)..(f + 8).min(mask.len())).all(|g| !mask[g])
        })
        .collect();
    let speech: Vec<bool> = (0..mask.len()).map(|f| f >= half && mask[f]).collect();
    let speech_gain = level_db(&y_on, lag, &speech, 0) - level_db(&y_off, lag, &speech, 0);
    let pause_gain = level_db(&y_on, lag, &pauses, 0) - level_db(&y_off, lag, &pauses, 0);
    // ... and over a long pause: its last second against its first.
    let long_pause = |y: &[f32], a: usize, b: usize| {
        let m: Vec<bool> = (0..mask.len()).map(|f| f >= a && f < b).collect();
        level_db(y, lag, &m, 0)
    };
    let start = speech_end + 30;
    let drift =
        long_pause(&y_on, mask.len() - 100, mask.len()) - long_pause(&y_on, start, start + 100);
    let drift_off =
        long_pause(&y_off, mask.len() - 100, mask.len()) - long_pause(&y_off, start, start + 100);
    println!(
        "leveler gain: speech {speech_gain:.2} dB, pauses {pause_gain:.2} dB; noise over a 4 s pause moves {drift:.2} dB (leveler off: {drift_off:.2} dB)"
    );
    assert!(
        speech_gain > 15.0,
        "the leveler raised quiet speech by only {speech_gain:.1} dB"
    );
    assert!(
        pause_gain - speech_gain <= 1.0,
        "pauses raised {pause_gain:.2} dB against speech {speech_gain:.2} dB"
    );
    assert!(
        drift - drift_off <= 1.0,
        "noise in a long pause rose {drift:.2} dB ({drift_off:.2} dB without the leveler)"
    );
}

/// Amplitude of the `freq` Hz component of `y` (projection on sine and cosine).
fn tone_amplitude(y: &[f32], freq: f64) -> f64 {
    let (mut c, mut s) = (0.0, 0.0);
    for (n, &v) in y.iter().enumerate() {
        let p = 2.0 * std::f64::consts::PI * freq * n as f64 / RATE as f64;
        c += v as f64 * p.cos();
        s += v as f64 * p.sin();
    }
    2.0 * c.hypot(s) / y.len() as f64
}

#[test]
fn a_50hz_rumble_drops_by_30db_or_more() {
    let (mix, clean) = scene(-25.0, 1, 30.0);
    let rumble =
        |n: usize| 0.1 * (2.0 * std::f64::consts::PI * 50.0 * n as f64 / RATE as f64).sin();
    let x: Vec<f32> = mix
        .iter()
        .enumerate()
        .map(|(n, &v)| v + rumble(n) as f32)
        .collect();
    let mut off = Suppressor::with_lookahead(RATE, 1).unwrap();
    off.set_intensity(VISIO_INTENSITY);
    let mut on = chain(&[Stage::HighPass]);
    let (y_off, y_on) = (run(&mut off, &x), run(&mut on, &x));
    let lag = on.latency_samples();
    let part = |y: &[f32]| y[RATE as usize + lag..].to_vec();
    let input = tone_amplitude(&x[RATE as usize..x.len() - lag], 50.0);
    let (a_off, a_on) = (
        tone_amplitude(&part(&y_off), 50.0),
        tone_amplitude(&part(&y_on), 50.0),
    );
    let drop = 20.0 * (a_off / a_on).log10();
    let mask = speech_frames(&clean);
    let speech_change = level_db(&y_on, lag, &mask, 100) - level_db(&y_off, lag, &mask, 100);
    println!(
        "50 Hz rumble: input {:.1} dBFS, after RNNoise {:.1} dBFS, after the high-pass {:.1} dBFS: -{drop:.1} dB; speech level change {speech_change:.2} dB",
        20.0 * input.log10(),
        20.0 * a_off.log10(),
        20.0 * a_on.log10()
    );
    assert!(drop >= 30.0, "the high-pass lowered 50 Hz by {drop:.1} dB");
    assert!(
        speech_change.abs() < 1.5,
        "speech level changed {speech_change:.2} dB"
    );
}

#[test]
fn overdriven_input_never_exceeds_minus_1_dbfs() {
    // +6 dB over full scale at the fixture's peaks (the input is clamped to [-1, 1] first, so
    // everything that reaches the chain is at or near full scale on every syllable), with the
    // bypass toggled on the way, at 48 and 44.1 kHz (resampling back overshoots), limiter
    // alone or behind the whole chain, with and without look-ahead.
    let one = speech();
    let x: Vec<f32> = one.iter().map(|&v| 2.0 * v).collect();
    for rate in [48_000u32, 44_100] {
        let x: Vec<f32> = if rate == RATE {
            x.clone()
        } else {
            resample_linear(&x, RATE, rate)
        };
        for (name, stages, lookahead) in [
            ("limiter, look-ahead", &[Stage::Limiter][..], true),
            ("whole chain, look-ahead", &ALL[..], true),
            ("limiter, no look-ahead", &[Stage::Limiter][..], false),
        ] {
            let mut s = if lookahead {
                Suppressor::with_lookahead(rate, 1)
            } else {
                Suppressor::new(rate, 1)
            }
            .unwrap();
            s.set_intensity(VISIO_INTENSITY);
            for &st in stages {
                s.set_stage(st, true, DERIVED);
            }
            let y = run_with(&mut s, &x, |k, s| {
                if k % 300 == 150 {
                    s.set_enabled(k % 600 != 150);
                }
            });
            let peak = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let unlimited = {
                let mut s = Suppressor::new(rate, 1).unwrap();
                s.set_enabled(false);
                run(&mut s, &x).iter().fold(0.0f32, |m, v| m.max(v.abs()))
            };
            println!(
                "{rate} Hz, {name}: peak {:.3} dBFS (without limiter {:.2} dBFS)",
                20.0 * (peak as f64).log10(),
                20.0 * (unlimited as f64).log10()
            );
            assert!(peak as f64 <= CEILING, "{rate} Hz {name}: peak {peak}");
            assert!(
                unlimited as f64 > CEILING,
                "the test must drive the limiter"
            );
        }
    }
}

/// Plain linear-interpolation resampling (test input only).
fn resample_linear(x: &[f32], from: u32, to: u32) -> Vec<f32> {
    let n = (x.len() as u64 * to as u64 / from as u64) as usize;
    (0..n)
        .map(|j| {
            let p = j as f64 * from as f64 / to as f64;
            let i = p as usize;
            let t = (p - i as f64) as f32;
            x[i] * (1.0 - t) + x.get(i + 1).copied().unwrap_or(0.0) * t
        })
        .collect()
}

#[test]
fn the_limiter_gain_is_smooth_not_a_clipper() {
    // Bypass + limiter: the limiter's input is exactly the input delayed, so its gain can be
    // read off sample by sample. With look-ahead D it moves by at most 1/(D+1) per sample.
    let x: Vec<f32> = speech()
        .iter()
        .map(|&v| (2.0 * v).clamp(-1.0, 1.0))
        .collect();
    let mut s = chain(&[Stage::Limiter]);
    s.set_enabled(false);
    let y = run(&mut s, &x);
    let lag = s.latency_samples();
    let d = (LOOKAHEAD_SECONDS * RATE as f64).round();
    assert_eq!(lag, 928 + d as usize);
    let mut worst = 0.0f64;
    let mut prev: Option<(usize, f64)> = None;
    for n in lag + 480..y.len() {
        let input = x[n - lag] as f64;
        if input.abs() > 0.05 {
            let g = y[n] as f64 / input;
            if let Some((m, p)) = prev {
                worst = worst.max((g - p).abs() / (n - m) as f64);
            }
            prev = Some((n, g));
        }
    }
    println!(
        "largest limiter gain change: {worst:.5} per sample (bound {:.5})",
        1.0 / (d + 1.0)
    );
    assert!(worst <= 1.0 / (d + 1.0) + 1e-4, "gain jumped {worst}");
}

/// High-frequency energy of `d` in windows of 128 samples over [a, b): the energy of its
/// fourth difference (a +24 dB/octave weighting: clicks are broadband, voice is not).
fn hf_windows(d: &[f64], a: usize, b: usize) -> Vec<f64> {
    (a.max(4)..b.min(d.len()))
        .collect::<Vec<_>>()
        .chunks(128)
        .map(|w| {
            w.iter()
                .map(|&n| {
                    (d[n] - 4.0 * d[n - 1] + 6.0 * d[n - 2] - 4.0 * d[n - 3] + d[n - 4]).powi(2)
                })
                .sum()
        })
        .collect()
}

/// The click measure, in dB: around a toggle at output sample `t`, the high-frequency energy
/// of what the toggle changed (`toggled - off`) against that of the stage's whole effect
/// (`on - off`), window by window (the worst window counts; a floor of a tenth of the
/// effect's mean keeps near-silent windows from dividing by zero). A crossfade scales the
/// effect smoothly, so no window gains energy; a hard switch cuts it, a step whose energy
/// lands in one window at all frequencies.
fn click_db(toggled: &[f32], on: &[f32], off: &[f32], t: usize) -> f64 {
    let diff = |a: &[f32]| {
        a.iter()
            .zip(off)
            .map(|(&p, &q)| p as f64 - q as f64)
            .collect::<Vec<f64>>()
    };
    let (a, b) = (t.saturating_sub(1024), t + 1536);
    let (dt, d_on) = (
        hf_windows(&diff(toggled), a, b),
        hf_windows(&diff(on), a, b),
    );
    let floor = 0.1 * d_on.iter().sum::<f64>() / d_on.len() as f64 + 1e-30;
    dt.iter()
        .zip(&d_on)
        .map(|(&x, &y)| db((x + floor) / (y + floor)))
        .fold(f64::MIN, f64::max)
}

#[test]
fn toggling_any_stage_makes_no_click() {
    // Each stage where it does the most: rumble for the high-pass, quiet speech for the
    // leveler, loud speech for the compressor, overdriven speech for the limiter.
    let rumble =
        |n: usize| 0.05 * (2.0 * std::f64::consts::PI * 50.0 * n as f64 / RATE as f64).sin() as f32;
    let cases: [(Stage, f64); 4] = [
        (Stage::HighPass, -30.0),
        (Stage::Leveler, -40.0),
        (Stage::Compressor, -8.0),
        (Stage::Limiter, -4.0),
    ];
    for (stage, level) in cases {
        let (mut x, _) = scene(level, 1, 30.0);
        if stage == Stage::HighPass {
            x.iter_mut().enumerate().for_each(|(n, v)| *v += rumble(n));
        }
        let run_stage = |toggle: Option<(usize, usize)>, initially: bool| {
            let mut s = Suppressor::with_lookahead(RATE, 1).unwrap();
            s.set_intensity(VISIO_INTENSITY);
            s.set_stage(stage, initially, DERIVED);
            let y = run_with(&mut s, &x, |k, s| match toggle {
                Some((on_at, _)) if k == on_at => s.set_stage(stage, true, DERIVED),
                Some((_, off_at)) if k == off_at => s.set_stage(stage, false, DERIVED),
                _ => {}
            });
            (y, s.latency_samples())
        };
        let (on, lag) = run_stage(None, true);
        let (off, _) = run_stage(None, false);
        // Toggle where the stage's effect is largest in each half of the recording, at a
        // quantum boundary: the hardest place for a crossfade, the clearest for a switch.
        let effect = |from: usize, to: usize| {
            (from..to).max_by(|&a, &b| {
                let e = |k: usize| ((on[k * QUANTUM + lag] - off[k * QUANTUM + lag]) as f64).abs();
                e(a).partial_cmp(&e(b)).unwrap()
            })
        };
        let quanta = x.len() / QUANTUM - 20;
        let on_at = effect(quanta / 5, quanta / 2).unwrap();
        let off_at = effect(quanta / 2 + 40, quanta).unwrap();
        let (toggled, _) = run_stage(Some((on_at, off_at)), false);
        for (what, k) in [("on", on_at), ("off", off_at)] {
            let t = k * QUANTUM + lag;
            let measured = click_db(&toggled, &on, &off, t);
            // The same toggle as a hard switch, where the crossfade would start.
            let hard: Vec<f32> = (0..x.len())
                .map(|n| {
                    if (n >= t) == (what == "on") {
                        on[n]
                    } else {
                        off[n]
                    }
                })
                .collect();
            let hard_db = click_db(&hard, &on, &off, t);
            println!(
                "{stage:?} {what}: click {measured:+.1} dB (a hard switch there: {hard_db:+.1} dB)"
            );
            assert!(
                measured <= 3.0,
                "{stage:?} toggled {what}: {measured:.1} dB"
            );
            assert!(
                hard_db > 10.0,
                "the measure must catch a hard switch ({stage:?} {what}: {hard_db:.1} dB)"
            );
        }
    }
}

#[test]
fn latency_per_stage() {
    // High-pass, leveler and compressor add nothing; the limiter's look-ahead is 1.5 ms when
    // reserved at creation. An impulse through bypass + limiter comes out exactly there.
    for rate in [48_000u32, 44_100, 16_000] {
        let plain = Suppressor::new(rate, 1).unwrap();
        let mut s = Suppressor::with_lookahead(rate, 1).unwrap();
        let d = (LOOKAHEAD_SECONDS * rate as f64).round();
        let extra = s.latency_seconds() - plain.latency_seconds();
        assert!((extra - d / rate as f64).abs() < 1e-12, "{rate}: {extra}");
        for stage in ALL {
            s.set_stage(stage, true, DERIVED);
        }
        s.set_enabled(false);
        let mut x = vec![0.0f32; rate as usize / 2];
        let at = rate as usize / 4 + 11;
        x[at] = 0.5;
        let y = run(&mut s, &x);
        let peak = (0..y.len())
            .max_by(|&a, &b| y[a].abs().partial_cmp(&y[b].abs()).unwrap())
            .unwrap();
        let expected = at as f64 + s.latency_seconds() * rate as f64;
        println!(
            "{rate} Hz: latency {:.3} ms, limiter look-ahead {d} samples",
            s.latency_seconds() * 1e3
        );
        assert!(
            (peak as f64 - expected).abs() <= 1.0,
            "{rate} Hz: peak at {peak}, expected {expected:.1}"
        );
    }
    // With the high-pass on in the processed path too, an impulse keeps its sample (minimum
    // phase; the biggest tap stays first).
    let mut s = chain(&[Stage::HighPass]);
    s.set_attenuation_limit_db(0.0);
    let mut x = vec![0.0f32; RATE as usize];
    x[RATE as usize / 2] = 0.5;
    let y = run(&mut s, &x);
    let peak = (0..y.len())
        .max_by(|&a, &b| y[a].abs().partial_cmp(&y[b].abs()).unwrap())
        .unwrap();
    assert_eq!(peak, RATE as usize / 2 + s.latency_samples());
}

#[test]
fn all_stages_off_is_bit_exact_with_no_chain() {
    let (x, _) = scene(-25.0, 1, 10.0);
    let mut plain = Suppressor::new(RATE, 1).unwrap();
    let mut s = Suppressor::new(RATE, 1).unwrap();
    s.set_intensity(100.0);
    for stage in ALL {
        s.set_stage(stage, false, DERIVED);
    }
    assert_eq!(run(&mut plain, &x), run(&mut s, &x));
}
