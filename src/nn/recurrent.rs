//! Vector kernels for recurrent networks run one time step at a time: a matrix-vector product
//! with the matrix laid out at load for `F4`, grouped linear layers, and the GRU cell built on
//! them. One step touches every weight once, so these are bound by streaming the weights: the
//! layouts keep each inner loop on consecutive memory.

use super::kernels::{act4, Act};
use crate::simd::{F4, I4};

/// Rows per block of a packed matrix: 8 accumulators of 4 lanes, enough independent additions
/// to hide their latency, few enough to stay in registers.
const BLOCK: usize = 32;

/// A `rows x cols` matrix for `y = W x`, laid out at load in blocks of 32 rows, in one of two
/// precisions:
/// - float32, packed [row block][col][32 rows]: each column's 32 weights are one contiguous
///   read multiplied by the broadcast `x[col]`;
/// - int16 (`quantized`): each row scaled to +-4095 (12 bits and sign, relative to the row's
///   largest weight), packed [row block][col pair][32 rows][2] for `i32x4.dot_i16x8_s`, which
///   multiplies and adds 8 weights per instruction. `x` is scaled the same way per call. Half
///   the bytes of float32 (these matrices are read once per frame: the GRUs are bound by
///   streaming their weights) and a third of the instructions.
#[derive(Clone, Debug)]
pub struct Matrix {
    cols: usize,
    packed: Vec<f32>,
    packed_q: Vec<i16>,
    /// Per row: the int16 weights times this give the weights.
    row_scale: Vec<f32>,
}

/// Largest magnitude of the int16 weights and inputs. A dot lane adds two products of at
/// most 4095^2 (< 2^25), so 32 column pairs stay below 2^30 in i32 before they are flushed
/// to float32.
const QMAX: f32 = 4095.0;
const FLUSH_PAIRS: usize = 32;

impl Matrix {
    /// All zeros, to be filled by [`Matrix::set_rows`] (plain loops over slices: this runs
    /// at start-up or in a model switch, often before the engine has optimised the code).
    pub fn zeros(rows: usize, cols: usize, quantized: bool) -> Matrix {
        let blocks = rows.div_ceil(BLOCK);
        let (packed, packed_q) = if quantized {
            (vec![], vec![0; blocks * cols.div_ceil(2) * 2 * BLOCK])
        } else {
            (vec![0.0; blocks * cols * BLOCK], vec![])
        };
        Matrix {
            cols,
            packed,
            packed_q,
            row_scale: vec![0.0; blocks * BLOCK],
        }
    }

    /// Lays out rows `first..` from `w` (whole rows, row-major); each row's layout (and
    /// int16 scale) depends on that row alone.
    pub fn set_rows(&mut self, first: usize, w: &[f32]) {
        let cols = self.cols;
        assert!(w.len().is_multiple_of(cols) && (first + w.len() / cols) <= self.row_scale.len());
        if self.packed_q.is_empty() {
            for (i, row) in w.chunks_exact(cols).enumerate() {
                let r = first + i;
                let base = (r / BLOCK) * cols * BLOCK + r % BLOCK;
                for (c, &v) in row.iter().enumerate() {
                    self.packed[base + c * BLOCK] = v;
                }
            }
            return;
        }
        let pairs = cols.div_ceil(2);
        for (i, row) in w.chunks_exact(cols).enumerate() {
            let r = first + i;
            let max = row.iter().fold(0f32, |a, v| a.max(v.abs()));
            self.row_scale[r] = max / QMAX;
            let inv = if max > 0.0 { QMAX / max } else { 0.0 };
            let base = (r / BLOCK) * pairs * 2 * BLOCK + (r % BLOCK) * 2;
            for (c, &v) in row.iter().enumerate() {
                self.packed_q[base + (c / 2) * 2 * BLOCK + c % 2] = round_i16(v * inv);
            }
        }
    }

    /// `y = W x + bias` (`y` and `bias` hold `rows` rounded up to 32, `x` holds `cols`);
    /// `xq` is scratch of `cols` rounded up to even.
    pub fn gemv(&self, x: &[f32], xq: &mut [i16], bias: &[f32], y: &mut [f32]) {
        if self.packed.is_empty() {
            self.gemv_q(x, xq, bias, y);
            return;
        }
        let x = &x[..self.cols];
        for ((panel, y), b) in self
            .packed
            .chunks_exact(self.cols * BLOCK)
            .zip(y.chunks_exact_mut(BLOCK))
            .zip(bias.chunks_exact(BLOCK))
        {
            let mut a = [F4::splat(0.0); 8];
            for (k, acc) in a.iter_mut().enumerate() {
                *acc = F4::load(b, 4 * k);
            }
            for (w, &xv) in panel.chunks_exact(BLOCK).zip(x) {
                let xv = F4::splat(xv);
                for (k, acc) in a.iter_mut().enumerate() {
                    *acc = xv.mul_add(F4::load(w, 4 * k), *acc);
                }
            }
            for (k, acc) in a.into_iter().enumerate() {
                acc.store(y, 4 * k);
            }
        }
    }

    fn gemv_q(&self, x: &[f32], xq: &mut [i16], bias: &[f32], y: &mut [f32]) {
        let pairs = self.cols.div_ceil(2);
        let xq = &mut xq[..2 * pairs];
        let xmax = x[..self.cols].iter().fold(0f32, |a, v| a.max(v.abs()));
        let inv = if xmax > 0.0 { QMAX / xmax } else { 0.0 };
        xq.fill(0);
        for (q, &v) in xq.iter_mut().zip(&x[..self.cols]) {
            *q = round_i16(v * inv);
        }
        let xscale = F4::splat(xmax / QMAX);
        for (((panel, y), b), s) in self
            .packed_q
            .chunks_exact(pairs * 2 * BLOCK)
            .zip(y.chunks_exact_mut(BLOCK))
            .zip(bias.chunks_exact(BLOCK))
            .zip(self.row_scale.chunks_exact(BLOCK))
        {
            let mut f = [F4::splat(0.0); 8];
            for (chunk, xc) in panel
                .chunks(FLUSH_PAIRS * 2 * BLOCK)
                .zip(xq.chunks(2 * FLUSH_PAIRS))
            {
                let mut a = [I4::zero(); 8];
                for (w, xp) in chunk.chunks_exact(2 * BLOCK).zip(xc.chunks_exact(2)) {
                    let pair = I4::splat_pair(xp[0], xp[1]);
                    for (k, acc) in a.iter_mut().enumerate() {
                        *acc = acc.dot_add(w, 8 * k, pair);
                    }
                }
                for (fk, ak) in f.iter_mut().zip(a) {
                    *fk = fk.add(ak.to_f4());
                }
            }
            for (k, fk) in f.into_iter().enumerate() {
                let scale = F4::load(s, 4 * k).mul(xscale);
                fk.mul_add(scale, F4::load(b, 4 * k)).store(y, 4 * k);
            }
        }
    }
}

/// Rounds to the nearest integer (half away from zero); `v` within +-4095.5.
#[inline(always)]
fn round_i16(v: f32) -> i16 {
    (v + 0.5f32.copysign(v)) as i16
}

/// A grouped linear layer (DeepFilterNet's `GroupedLinearEinsum`): the input split in `groups`
/// equal parts, each through its own `[inp x out]` matrix: `y[g*out + h] = act(sum_i
/// x[g*inp + i] * w[g][i][h])`. `out` must be a multiple of 4. The weights stay in their file
/// layout [group][in][out], which is already the one this loop wants.
#[derive(Clone, Debug)]
pub struct Grouped {
    pub groups: usize,
    pub inp: usize,
    pub out: usize,
    pub w: Vec<f32>,
}

impl Grouped {
    pub fn run(&self, x: &[f32], y: &mut [f32], act: Act) {
        let (inp, out) = (self.inp, self.out);
        let y = &mut y[..self.groups * out];
        y.fill(0.0);
        for ((wg, xg), yg) in self
            .w
            .chunks_exact(inp * out)
            .zip(x.chunks_exact(inp))
            .zip(y.chunks_exact_mut(out))
        {
            for (wi, &xv) in wg.chunks_exact(out).zip(xg) {
                let xv = F4::splat(xv);
                for h in (0..out).step_by(4) {
                    xv.mul_add(F4::load(wi, h), F4::load(yg, h)).store(yg, h);
                }
            }
            if act != Act::None {
                for h in (0..out).step_by(4) {
                    act4(F4::load(yg, h), act).store(yg, h);
                }
            }
        }
    }
}

/// tanh(x) = 2 sigmoid(2x) - 1.
#[inline(always)]
fn tanh4(x: F4) -> F4 {
    act4(x.add(x), Act::Sigmoid)
        .mul(F4::splat(2.0))
        .add(F4::splat(-1.0))
}

/// A GRU layer as ONNX defines it with `linear_before_reset = 1` (PyTorch's GRU): gates z, r,
/// candidate n in that order in W, R and the biases;
/// `z = s(Wz x + bz + Rz h + cz)`, `r = s(Wr x + br + Rr h + cr)`,
/// `n = tanh(Wn x + bn + r * (Rn h + cn))`, `h' = (1 - z) n + z h`.
#[derive(Clone, Debug)]
pub struct Gru {
    hidden: usize,
    inp: usize,
    w: Matrix,
    r: Matrix,
    bw: Vec<f32>,
    br: Vec<f32>,
}

/// One stream's state of a [`Gru`]: the hidden state and the step's scratch. Kept apart from
/// the (immutable) weights so that several streams share one copy of them.
#[derive(Clone, Debug)]
pub struct GruState {
    gx: Vec<f32>,
    gh: Vec<f32>,
    xq: Vec<i16>,
    /// The hidden state, carried from step to step.
    pub h: Vec<f32>,
}

impl GruState {
    pub fn reset(&mut self) {
        self.h.fill(0.0);
    }
}

impl Gru {
    /// From ONNX tensors laid out as matrices: `w` [3H x inp], `r` [3H x H], `b` [6H] (W
    /// biases then R biases). `hidden` must be a multiple of 32.
    pub fn from_matrices(w: Matrix, r: Matrix, b: &[f32]) -> Gru {
        let (hidden, inp) = (r.cols, w.cols);
        assert!(hidden % BLOCK == 0 && b.len() == 6 * hidden);
        Gru {
            hidden,
            inp,
            w,
            r,
            bw: b[..3 * hidden].to_vec(),
            br: b[3 * hidden..6 * hidden].to_vec(),
        }
    }

    /// A zero state for one stream.
    pub fn state(&self) -> GruState {
        GruState {
            gx: vec![0.0; 3 * self.hidden],
            gh: vec![0.0; 3 * self.hidden],
            xq: vec![0; (self.inp.max(self.hidden) + 1) & !1],
            h: vec![0.0; self.hidden],
        }
    }

    /// One time step of stream `s`: updates and returns its hidden state.
    pub fn step<'s>(&self, s: &'s mut GruState, x: &[f32]) -> &'s [f32] {
        let n = self.hidden;
        self.w.gemv(x, &mut s.xq, &self.bw, &mut s.gx);
        self.r.gemv(&s.h, &mut s.xq, &self.br, &mut s.gh);
        let (gx, gh) = (&s.gx, &s.gh);
        for i in (0..n).step_by(4) {
            let z = act4(F4::load(gx, i).add(F4::load(gh, i)), Act::Sigmoid);
            let r = act4(F4::load(gx, n + i).add(F4::load(gh, n + i)), Act::Sigmoid);
            let c = tanh4(r.mul_add(F4::load(gh, 2 * n + i), F4::load(gx, 2 * n + i)));
            let h = F4::load(&s.h, i);
            // (1 - z) c + z h = c + z (h - c)
            z.mul_add(h.add(c.mul(F4::splat(-1.0))), c)
                .store(&mut s.h, i);
        }
        &s.h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemv_matches_the_definition() {
        let (rows, cols) = (40, 7);
        let w = |r: usize, c: usize| ((r * 31 + c * 17) % 13) as f32 - 6.0;
        let x: Vec<f32> = (0..cols).map(|c| c as f32 * 0.5 - 1.0).collect();
        let bias: Vec<f32> = (0..64).map(|r| r as f32).collect();
        for (quantized, tolerance) in [(false, 1e-4), (true, 2e-2)] {
            let wv: Vec<f32> = (0..rows * cols).map(|i| w(i / cols, i % cols)).collect();
            let mut m = Matrix::zeros(rows, cols, quantized);
            m.set_rows(0, &wv[..cols]);
            m.set_rows(1, &wv[cols..]);
            let mut y = vec![0.0; 64];
            m.gemv(&x, &mut [0; 8], &bias, &mut y);
            for r in 0..rows {
                let want: f32 = bias[r] + (0..cols).map(|c| w(r, c) * x[c]).sum::<f32>();
                assert!(
                    (y[r] - want).abs() < tolerance,
                    "row {r}: {} vs {want}",
                    y[r]
                );
            }
        }
    }

    #[test]
    fn grouped_linear_matches_the_definition() {
        let g = Grouped {
            groups: 3,
            inp: 5,
            out: 8,
            w: (0..120).map(|i| (i % 7) as f32 - 3.0).collect(),
        };
        let x: Vec<f32> = (0..15).map(|i| i as f32 * 0.25 - 2.0).collect();
        let mut y = vec![0.0; 24];
        g.run(&x, &mut y, Act::None);
        for gi in 0..3 {
            for h in 0..8 {
                let want: f32 = (0..5)
                    .map(|i| x[gi * 5 + i] * g.w[(gi * 5 + i) * 8 + h])
                    .sum();
                assert!((y[gi * 8 + h] - want).abs() < 1e-4);
            }
        }
    }
}
