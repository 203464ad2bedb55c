//! Streaming band-limited resampler between the context rate and RNNoise's 48 kHz.
//!
//! A windowed-sinc (Kaiser) interpolator evaluated at exact rational positions: output
//! `k` sits at input position `k * from / to`. The filter is zero-phase, so the only delay
//! it causes is its look-ahead of `half` input samples, which the suppressor absorbs in its
//! (exactly computed) output prefill. Coefficients are tabulated per phase: exactly when
//! the ratio has at most `MAX_PHASES` phases (every common rate), otherwise at the nearest
//! lower of `MAX_PHASES` sub-sample positions (timing error below 1/1024 sample, ~-80 dB).
//!
//! We wrote this instead of using `rubato` because its fixed-in/fixed-out chunk interfaces
//! add a chunk of buffering on top of the filter delay, and the suppressor needs to know
//! the exact sample count each stage can deliver to keep a fixed, minimal latency.

/// Zero crossings of the sinc on each side of the centre: sets steepness and look-ahead.
/// At most 16, and at most 1 ms at the lower rate so that 8 kHz (whose 128-sample quanta
/// already cost 16 ms each) keeps its added latency under 3 ms.
const MAX_ZERO_CROSSINGS: u32 = 16;
const MIN_ZERO_CROSSINGS: u32 = 8;
/// Kaiser window shape: ~80 dB stop band.
const KAISER_BETA: f64 = 8.0;
/// Cut-off as a fraction of the lower Nyquist frequency (20.9 kHz for 44.1 <-> 48 kHz).
const CUTOFF: f64 = 0.95;
const MAX_PHASES: u64 = 1024;

pub struct Resampler {
    /// Ratio reduced to lowest terms: `from` input samples for every `to` output samples.
    from: u64,
    to: u64,
    half: usize,
    phases: u64,
    /// `phases` rows of `2 * half` taps.
    coeffs: Vec<f32>,
    /// Input history; `hist[start]` holds logical input index `first`. Logical indices
    /// `-half..0` are the zeros that precede the stream.
    hist: Vec<f32>,
    start: usize,
    end: usize,
    first: i64,
    consumed: u64,
    produced: u64,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Zeroth-order modified Bessel function of the first kind (for the Kaiser window).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > 1e-12 * sum {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        k += 1.0;
    }
    sum
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x)
    }
}

impl Resampler {
    /// `max_push` bounds how many input samples one `push` may bring.
    pub fn new(from_rate: u32, to_rate: u32, max_push: usize) -> Self {
        let g = gcd(from_rate as u64, to_rate as u64);
        let (from, to) = (from_rate as u64 / g, to_rate as u64 / g);
        // Downsampling lowers the cut-off to the output's Nyquist, widening the kernel.
        let fc = CUTOFF * (to as f64 / from as f64).min(1.0);
        let zero_crossings =
            (from_rate.min(to_rate) / 1000).clamp(MIN_ZERO_CROSSINGS, MAX_ZERO_CROSSINGS);
        let half = (zero_crossings as f64 / fc).ceil() as usize;
        let phases = to.min(MAX_PHASES);
        let taps = 2 * half;
        let i0_beta = bessel_i0(KAISER_BETA);
        let mut coeffs = vec![0.0f32; phases as usize * taps];
        for (p, row) in coeffs.chunks_mut(taps).enumerate() {
            let frac = p as f64 / phases as f64;
            let mut sum = 0.0;
            let mut tmp = vec![0.0f64; taps];
            for (j, c) in tmp.iter_mut().enumerate() {
                // Distance from the output position to input `ip - half + 1 + j`.
                let tau = frac + half as f64 - 1.0 - j as f64;
                let x = tau / half as f64;
                let w = if x.abs() <= 1.0 {
                    bessel_i0(KAISER_BETA * (1.0 - x * x).sqrt()) / i0_beta
                } else {
                    0.0
                };
                *c = fc * sinc(fc * tau) * w;
                sum += *c;
            }
            // Unit gain at DC for every phase.
            for (r, c) in row.iter_mut().zip(&tmp) {
                *r = (c / sum) as f32;
            }
        }
        Resampler {
            from,
            to,
            half,
            phases,
            coeffs,
            hist: vec![0.0; 2 * taps + max_push + 2],
            start: 0,
            end: half,
            first: -(half as i64),
            consumed: 0,
            produced: 0,
        }
    }

    /// Input samples the filter looks ahead of its output position.
    pub fn look_ahead(&self) -> usize {
        self.half
    }

    /// How many outputs exist once `consumed` inputs have been pushed.
    pub fn outputs_available(&self, consumed: u64) -> u64 {
        let h = self.half as u64;
        if consumed <= h {
            0
        } else {
            ((consumed - h) * self.to).div_ceil(self.from)
        }
    }

    /// How many inputs in total must be pushed before `outputs` outputs exist.
    pub fn inputs_required(&self, outputs: u64) -> u64 {
        if outputs == 0 {
            0
        } else {
            (outputs - 1) * self.from / self.to + self.half as u64 + 1
        }
    }

    /// More inputs to push before the next `n` outputs can be pulled.
    pub fn inputs_needed_for(&self, n: usize) -> usize {
        self.inputs_required(self.produced + n as u64)
            .saturating_sub(self.consumed) as usize
    }

    pub fn push(&mut self, input: &[f32]) {
        if self.end + input.len() > self.hist.len() {
            self.compact();
        }
        let n = input.len().min(self.hist.len() - self.end);
        debug_assert_eq!(n, input.len(), "push larger than max_push");
        self.hist[self.end..self.end + n].copy_from_slice(&input[..n]);
        self.end += n;
        self.consumed += n as u64;
    }

    /// Drops history the next output no longer needs.
    fn compact(&mut self) {
        let ip = (self.produced * self.from / self.to) as i64;
        let keep_from = (ip - self.half as i64 + 1).max(self.first);
        let offset = (keep_from - self.first) as usize;
        let from = self.start + offset;
        self.hist.copy_within(from..self.end, 0);
        self.end -= from;
        self.start = 0;
        self.first = keep_from;
    }

    /// Writes as many outputs as the pushed input allows, up to `out.len()`; returns the count.
    pub fn pull(&mut self, out: &mut [f32]) -> usize {
        let taps = 2 * self.half;
        let mut n = 0;
        while n < out.len() {
            let num = self.produced * self.from;
            let ip = num / self.to;
            if ip + self.half as u64 >= self.consumed {
                break;
            }
            let phase = ((num % self.to) * self.phases / self.to) as usize;
            let row = &self.coeffs[phase * taps..(phase + 1) * taps];
            let lo = (ip as i64 - self.half as i64 + 1 - self.first) as usize + self.start;
            let window = &self.hist[lo..lo + taps];
            out[n] = row.iter().zip(window).map(|(c, x)| c * x).sum();
            self.produced += 1;
            n += 1;
        }
        n
    }

    /// Puts this resampler at the same stream position as `other` (same rates), with
    /// silent history: used when a channel joins a running stream.
    pub fn reset_like(&mut self, other: &Resampler) {
        self.hist.fill(0.0);
        self.start = other.start;
        self.end = other.end;
        self.first = other.first;
        self.consumed = other.consumed;
        self.produced = other.produced;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(r: &mut Resampler, input: &[f32], block: usize) -> Vec<f32> {
        let mut out = Vec::new();
        let mut tmp = vec![0.0; 4096];
        for chunk in input.chunks(block) {
            r.push(chunk);
            let n = r.pull(&mut tmp);
            out.extend_from_slice(&tmp[..n]);
        }
        out
    }

    #[test]
    fn counts_match_what_pull_delivers() {
        for &(a, b) in &[
            (44100, 48000),
            (48000, 44100),
            (16000, 48000),
            (48000, 8000),
            (96000, 48000),
            (47999, 48000),
        ] {
            let mut r = Resampler::new(a, b, 1024);
            let mut tmp = vec![0.0; 8192];
            let mut total = 0u64;
            for step in 0..50 {
                let n = 37 + step * 11;
                r.push(&vec![0.5; n]);
                total += r.pull(&mut tmp) as u64;
                assert_eq!(total, r.outputs_available(r.consumed), "{a}->{b}");
                assert!(r.inputs_required(total) <= r.consumed);
                assert!(r.inputs_required(total + 1) > r.consumed);
            }
        }
    }

    #[test]
    fn dc_passes_at_unit_gain() {
        let mut r = Resampler::new(44100, 48000, 128);
        let out = run(&mut r, &vec![0.25; 44100], 128);
        for &y in &out[100..out.len() - 100] {
            assert!((y - 0.25).abs() < 1e-4, "{y}");
        }
    }

    #[test]
    fn zero_phase_sine_round_trip() {
        // A sine resampled up and down comes back in phase: the filters add no delay
        // beyond the look-ahead that the caller accounts for.
        let f = 1000.0f64;
        let x: Vec<f32> = (0..44100)
            .map(|n| (0.5 * (2.0 * std::f64::consts::PI * f * n as f64 / 44100.0).sin()) as f32)
            .collect();
        let mut up = Resampler::new(44100, 48000, 128);
        let mut down = Resampler::new(48000, 44100, 512);
        let mid = run(&mut up, &x, 128);
        let back = run(&mut down, &mid, 139);
        let (mut sig, mut err) = (0.0f64, 0.0f64);
        for n in 2000..back.len() - 2000 {
            sig += (x[n] as f64).powi(2);
            err += (x[n] as f64 - back[n] as f64).powi(2);
        }
        let snr = 10.0 * (sig / err).log10();
        assert!(snr > 60.0, "SNR {snr:.1} dB");
    }
}
