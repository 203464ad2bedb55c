//! The executable network: kernels with their repacked weights, in order, over one arena of
//! activations reused by every inference (no allocation per run). It knows nothing of model
//! files: the planner (`plan`) decides the steps and the arena's layout and hands them to
//! `Network::new`.

use super::kernels::{self, Act, BinOp, Dims, Window};
use super::Error;

/// One step's computation, with its weights repacked at load.
pub(super) enum Kernel {
    Pointwise {
        w: Vec<f32>,
        bias: Vec<f32>,
    },
    /// Any other convolution: im2col into the scratch space (rows of `k` values gathered from
    /// the `cin` real input channels), then a GEMM.
    Conv {
        w: Vec<f32>,
        bias: Vec<f32>,
        win: Window,
        cin: usize,
        k: usize,
    },
    Depthwise {
        w: Vec<f32>,
        bias: Vec<f32>,
        win: Window,
    },
    TransposeConv {
        w: Vec<f32>,
        bias: Vec<f32>,
        win: Window,
    },
    /// Non-overlapping transposed convolution as a GEMM (weights packed for `pointwise`).
    TransposeConvGemm {
        w: Vec<f32>,
        bias: Vec<f32>,
        win: Window,
        cout: usize,
    },
    Binary {
        op: BinOp,
        b: usize,
    },
    Unary,
    Mean,
    AveragePool {
        win: Window,
    },
    Resize {
        ys: Vec<(usize, usize, f32)>,
        xs: Vec<(usize, usize, f32)>,
    },
}

/// One kernel run: what it computes, where it reads and writes.
pub(super) struct Step {
    pub(super) kernel: Kernel,
    pub(super) act: Act,
    /// Arena tensor ids.
    pub(super) input: usize,
    pub(super) output: usize,
    /// A tensor added to a 1x1 or depthwise convolution's result after its activation (a
    /// residual ADD folded into the convolution, saving a pass over memory).
    pub(super) residual: Option<usize>,
}

impl Step {
    /// The arena tensors this step reads.
    pub(super) fn reads(&self) -> impl Iterator<Item = usize> {
        let b = match self.kernel {
            Kernel::Binary { b, .. } => Some(b),
            _ => None,
        };
        [Some(self.input), b, self.residual].into_iter().flatten()
    }

    /// Floats of work space it needs (im2col rows, the transposed convolution's GEMM output,
    /// a resized row).
    fn scratch_len(&self, slots: &[Slot]) -> usize {
        let id = slots[self.input].dims;
        match &self.kernel {
            Kernel::TransposeConvGemm { win, cout, .. } => {
                id.h * id.w * (win.kh * win.kw * cout).div_ceil(4) * 4
            }
            Kernel::Conv { k, .. } => slots[self.output].dims.w * k,
            Kernel::Resize { .. } => id.w * id.c,
            _ => 0,
        }
    }
}

/// An activation tensor's place in the arena.
#[derive(Clone, Copy)]
pub(super) struct Slot {
    pub(super) dims: Dims,
    pub(super) offset: usize,
}

/// Most floats the arena or the work space may take (256 MiB each): a model asking for more
/// is refused at load rather than allocated.
const MAX_FLOATS: usize = 1 << 26;

/// A loaded model, ready to run (`Network::from_tflite` in `plan` loads one).
pub struct Network {
    steps: Vec<Step>,
    slots: Vec<Slot>,
    arena: Vec<f32>,
    input: usize,
    output: usize,
    channels: (usize, usize),
    /// Work space of im2col and of the transposed-convolution GEMM.
    scratch: Vec<f32>,
}

impl Network {
    /// The network running `steps` in order, its tensors at `slots` in an arena of `arena_len`
    /// floats; `input` and `output` are slots, `channels` their real (unpadded) channel counts.
    /// Allocates the arena and the work space the steps need, or refuses if either is too large.
    pub(super) fn new(
        steps: Vec<Step>,
        slots: Vec<Slot>,
        arena_len: usize,
        input: usize,
        output: usize,
        channels: (usize, usize),
    ) -> Result<Network, Error> {
        if arena_len > MAX_FLOATS {
            return Err(Error::malformed(format!(
                "activations need {arena_len} floats, more than this engine allows"
            )));
        }
        let scratch_len = steps
            .iter()
            .map(|s| s.scratch_len(&slots))
            .max()
            .unwrap_or(0);
        if scratch_len > MAX_FLOATS {
            return Err(Error::malformed(format!("convolutions need {scratch_len} floats of work space, more than this engine allows")));
        }
        Ok(Network {
            steps,
            slots,
            arena: vec![0.0; arena_len],
            input,
            output,
            channels,
            scratch: vec![0.0; scratch_len],
        })
    }

    /// Dims of the model input and output (channels padded to 4) and their real channel counts.
    pub fn input_dims(&self) -> Dims {
        self.slots[self.input].dims
    }
    pub fn output_dims(&self) -> Dims {
        self.slots[self.output].dims
    }
    /// Real (unpadded) channel counts of the input and output.
    pub fn input_channels(&self) -> usize {
        self.channels.0
    }
    pub fn output_channels(&self) -> usize {
        self.channels.1
    }

    /// The input tensor (NHWC, channels padded to a multiple of 4), to fill before `run`.
    pub fn input_mut(&mut self) -> &mut [f32] {
        let s = self.slots[self.input];
        &mut self.arena[s.offset..s.offset + s.dims.len()]
    }

    pub fn output(&self) -> &[f32] {
        let s = self.slots[self.output];
        &self.arena[s.offset..s.offset + s.dims.len()]
    }

    pub fn run(&mut self) {
        for i in 0..self.steps.len() {
            self.run_step(i);
        }
    }

    /// Runs each step alone `reps` times: (description, ms per run) per step, for finding the
    /// expensive layers (`cargo run --release --example segmentation_profile`).
    /// `now()` is a clock in milliseconds (performance.now in the browser). The input is set to
    /// a fixed pattern of pixel-like values first: left-over activations there could be
    /// subnormal floats, which are far slower to multiply and would distort the figures.
    pub fn profile_steps(&mut self, reps: usize, now: impl Fn() -> f64) -> Vec<(String, f64)> {
        let c = self.input_dims().c;
        for (j, v) in self.input_mut().iter_mut().enumerate() {
            *v = if j % c < 3 {
                (j * 7 % 251) as f32 / 255.0
            } else {
                0.0
            };
        }
        (0..self.steps.len())
            .map(|i| {
                let t = now();
                for _ in 0..reps {
                    self.run_step(i);
                }
                let ms = (now() - t) / reps as f64;
                let s = &self.steps[i];
                let kind = match &s.kernel {
                    Kernel::Pointwise { .. } => "pointwise".to_string(),
                    Kernel::Conv { win, .. } => {
                        format!("conv{}x{}s{}", win.kh, win.kw, win.stride[0])
                    }
                    Kernel::Depthwise { win, .. } => {
                        format!("depthwise{}x{}s{}", win.kh, win.kw, win.stride[0])
                    }
                    Kernel::TransposeConv { .. } | Kernel::TransposeConvGemm { .. } => {
                        "transpose_conv".to_string()
                    }
                    Kernel::Binary { op, .. } => format!("{op:?}").to_lowercase(),
                    Kernel::Unary => "activation".to_string(),
                    Kernel::Mean => "mean".to_string(),
                    Kernel::AveragePool { .. } => "average_pool".to_string(),
                    Kernel::Resize { .. } => "resize_bilinear".to_string(),
                };
                let (i, o) = (self.slots[s.input].dims, self.slots[s.output].dims);
                (
                    format!(
                        "{kind} {}x{}x{} -> {}x{}x{} {:?}",
                        i.h, i.w, i.c, o.h, o.w, o.c, s.act
                    ),
                    ms,
                )
            })
            .collect()
    }

    fn run_step(&mut self, i: usize) {
        {
            let step = &self.steps[i];
            let scratch = &mut self.scratch;
            let (si, so) = (self.slots[step.input], self.slots[step.output]);
            // Slots of one step never overlap (the planner allocates a step's output while its
            // inputs are live), so split the arena around the output.
            let (before, rest) = self.arena.split_at_mut(so.offset);
            let (out, after) = rest.split_at_mut(so.dims.len());
            let view = |s: Slot| -> &[f32] {
                if s.offset < so.offset {
                    &before[s.offset..s.offset + s.dims.len()]
                } else {
                    let o = s.offset - so.offset - so.dims.len();
                    &after[o..o + s.dims.len()]
                }
            };
            let inp = view(si);
            let (id, od, act) = (si.dims, so.dims, step.act);
            match &step.kernel {
                Kernel::Pointwise { w, bias } => {
                    let residual = step.residual.map(|r| view(self.slots[r]));
                    kernels::pointwise(inp, id.c, out, od.c, od.h * od.w, w, bias, act, residual)
                }
                Kernel::Conv {
                    w,
                    bias,
                    win,
                    cin,
                    k,
                } => {
                    for (oy, out_row) in out.chunks_exact_mut(od.w * od.c).enumerate() {
                        kernels::im2col(inp, id, *cin, scratch, *k, oy..oy + 1, od.w, win);
                        kernels::pointwise(scratch, *k, out_row, od.c, od.w, w, bias, act, None);
                    }
                }
                Kernel::TransposeConvGemm { w, bias, win, cout } => kernels::transpose_conv_gemm(
                    inp, id, out, od, *cout, w, bias, scratch, win, act,
                ),
                Kernel::Depthwise { w, bias, win } => {
                    let residual = step.residual.map(|r| view(self.slots[r]));
                    kernels::depthwise(inp, id, out, od, w, bias, win, act, residual)
                }
                Kernel::TransposeConv { w, bias, win } => {
                    kernels::transpose_conv(inp, id, out, od, w, bias, win, act)
                }
                Kernel::Binary { op, b } => {
                    kernels::binary(inp, view(self.slots[*b]), out, *op, act)
                }
                Kernel::Unary => kernels::unary_to(inp, out, act),
                Kernel::Mean => {
                    kernels::mean_spatial(inp, id, out);
                    kernels::unary(out, act);
                }
                Kernel::AveragePool { win } => kernels::average_pool(inp, id, out, od, win, act),
                Kernel::Resize { ys, xs } => {
                    kernels::resize_bilinear(inp, id, out, od, ys, xs, scratch)
                }
            }
        }
    }
}
