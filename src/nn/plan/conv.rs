//! Planning of the convolutions: CONV_2D (1x1 as a GEMM, others as im2col + GEMM),
//! DEPTHWISE_CONV_2D and MediaPipe's transposed convolution. Each checks its filter and bias
//! and repacks the weights into the layout its kernel reads.

use super::window::{out_size, window};
use super::{act_of, arity, Input, NewStep, Planner};
use crate::nn::kernels::{self, Act, Dims, Window};
use crate::nn::network::Kernel;
use crate::nn::tflite::{self, ConvOptions, DepthwiseOptions, Padding, TransposeConvOptions};
use crate::nn::Error;

impl Planner<'_> {
    pub(super) fn conv2d(
        &self,
        node: &tflite::Node,
        n: usize,
        src: Input,
        o: ConvOptions,
    ) -> Result<NewStep, Error> {
        let (id, in_c) = (src.dims, src.channels);
        let ConvOptions {
            padding,
            stride,
            dilation,
            act,
        } = o;
        arity(node, n, 2)?;
        let (cout, kh, kw) = self.filter(node, n, in_c, false, "CONV_2D")?;
        let w = self.constant(node.inputs[1], n, "filter")?;
        let win = window(n, id, kh, kw, padding, stride, dilation)?;
        let (oh, ow) = out_size(n, id, kh, kw, padding, stride, dilation)?;
        let taps = kh * kw;
        let cout_p = cout.div_ceil(4) * 4;
        let packed = kernels::pack_conv(
            |o, t, i| w[(o * taps + t) * in_c + i],
            cout,
            taps,
            in_c,
            cout_p,
            id.c,
        );
        let bias = self.bias(node, n, cout)?;
        let kernel = if taps == 1 && stride == [1, 1] {
            Kernel::Pointwise { w: packed, bias }
        } else {
            let k = (taps * in_c).div_ceil(4) * 4;
            let w = kernels::pack_conv(
                |o, _, j| w[o * taps * in_c + j],
                cout,
                1,
                taps * in_c,
                cout_p,
                k,
            );
            Kernel::Conv {
                w,
                bias,
                win,
                cin: in_c,
                k,
            }
        };
        Ok(NewStep {
            kernel,
            act: act_of(act),
            out: (
                Dims {
                    h: oh,
                    w: ow,
                    c: cout_p,
                },
                cout,
            ),
        })
    }

    pub(super) fn depthwise_conv2d(
        &self,
        node: &tflite::Node,
        n: usize,
        src: Input,
        o: DepthwiseOptions,
    ) -> Result<NewStep, Error> {
        let (id, in_c) = (src.dims, src.channels);
        let DepthwiseOptions {
            padding,
            stride,
            dilation,
            multiplier,
            act,
        } = o;
        arity(node, n, 2)?;
        if multiplier > 1 {
            return Err(Error::unsupported(
                n,
                format!("depth multiplier {multiplier}"),
            ));
        }
        let fs = &self.model.tensors[self.tensor(node.inputs[1], n)?].shape;
        if fs.len() == 4 && fs[1] as i64 * fs[2] as i64 > kernels::MAX_TAPS as i64 {
            let what = format!("depthwise window {}x{}", fs[1], fs[2]);
            return Err(Error::unsupported(n, what));
        }
        let (_, kh, kw) = self.filter(node, n, in_c, true, "DEPTHWISE_CONV_2D")?;
        let w = self.constant(node.inputs[1], n, "filter")?;
        let win = window(n, id, kh, kw, padding, stride, dilation)?;
        let (oh, ow) = out_size(n, id, kh, kw, padding, stride, dilation)?;
        let mut packed = vec![0.0; kh * kw * id.c];
        for t in 0..kh * kw {
            packed[t * id.c..t * id.c + in_c].copy_from_slice(&w[t * in_c..(t + 1) * in_c]);
        }
        let bias = self.bias(node, n, in_c)?;
        Ok(NewStep {
            kernel: Kernel::Depthwise {
                w: packed,
                bias,
                win,
            },
            act: act_of(act),
            out: (
                Dims {
                    h: oh,
                    w: ow,
                    c: id.c,
                },
                in_c,
            ),
        })
    }

    /// MediaPipe's `Convolution2DTransposeBias`.
    pub(super) fn transpose_conv_bias(
        &self,
        node: &tflite::Node,
        n: usize,
        src: Input,
        o: TransposeConvOptions,
    ) -> Result<NewStep, Error> {
        let (id, in_c) = (src.dims, src.channels);
        let TransposeConvOptions { padding, stride } = o;
        arity(node, n, 3)?;
        let (cout, kh, kw) = self.filter(node, n, in_c, false, "Convolution2DTransposeBias")?;
        let w = self.constant(node.inputs[1], n, "filter")?;
        let (oh, ow) = match padding {
            Padding::Same => (id.h * stride[0], id.w * stride[1]),
            Padding::Valid => ((id.h - 1) * stride[0] + kh, (id.w - 1) * stride[1] + kw),
        };
        let pad = |o: usize, i: usize, k: usize, s: usize| ((i - 1) * s + k).saturating_sub(o) / 2;
        let win = Window {
            kh,
            kw,
            stride,
            dilation: [1, 1],
            pad: [pad(oh, id.h, kh, stride[0]), pad(ow, id.w, kw, stride[1])],
        };
        let cout_p = cout.div_ceil(4) * 4;
        let taps = kh * kw;
        let bias = self.bias(node, n, cout)?;
        let out = (
            Dims {
                h: oh,
                w: ow,
                c: cout_p,
            },
            cout,
        );
        let kernel = if stride == [kh, kw] && win.pad == [0, 0] && taps * cout <= 64 {
            // Patches tile the output: one GEMM with taps * cout output columns.
            let wide = (taps * cout).div_ceil(4) * 4;
            let packed = kernels::pack_conv(
                |j, _, i| w[((j % cout) * taps + j / cout) * in_c + i],
                taps * cout,
                1,
                in_c,
                wide,
                id.c,
            );
            // The bias repeated for every tap's columns.
            let wide_bias = (0..wide)
                .map(|j| if j < taps * cout { bias[j % cout] } else { 0.0 })
                .collect();
            Kernel::TransposeConvGemm {
                w: packed,
                bias: wide_bias,
                win,
                cout,
            }
        } else {
            // Filter [cout][kh][kw][cin] -> [tap][cin_p][cout_p].
            let mut packed = vec![0.0; kh * kw * id.c * cout_p];
            for o in 0..cout {
                for t in 0..kh * kw {
                    for i in 0..in_c {
                        packed[(t * id.c + i) * cout_p + o] = w[(o * kh * kw + t) * in_c + i];
                    }
                }
            }
            Kernel::TransposeConv {
                w: packed,
                bias,
                win,
            }
        };
        Ok(NewStep {
            kernel,
            act: Act::None,
            out,
        })
    }

    /// Checks a filter [cout, kh, kw, cin] (depthwise: [1, kh, kw, cin]) against the input channels.
    fn filter(
        &self,
        node: &tflite::Node,
        n: usize,
        in_c: usize,
        depthwise: bool,
        name: &str,
    ) -> Result<(usize, usize, usize), Error> {
        let t = self.tensor(node.inputs[1], n)?;
        let fs = &self.model.tensors[t].shape;
        let ok = fs.len() == 4
            && fs.iter().all(|&d| d > 0 && d <= 4096)
            && fs[3] as usize == in_c
            && (!depthwise || fs[0] == 1);
        if !ok {
            return Err(Error::node(
                n,
                format!("{name} filter shape {fs:?} does not fit {in_c} input channels"),
            ));
        }
        let w = self.constant(node.inputs[1], n, "filter")?;
        if w.len() != fs.iter().map(|&d| d as usize).product::<usize>() {
            return Err(Error::node(
                n,
                format!("{name} filter has {} values for shape {fs:?}", w.len()),
            ));
        }
        Ok((fs[0] as usize, fs[1] as usize, fs[2] as usize))
    }

    /// The bias (third input) padded to a multiple of 4; zeros when omitted.
    fn bias(&self, node: &tflite::Node, n: usize, c: usize) -> Result<Vec<f32>, Error> {
        let mut out = vec![0.0; c.div_ceil(4) * 4];
        match node.inputs.get(2) {
            None | Some(-1) => {}
            Some(&b) => {
                let v = self.constant(b, n, "bias")?;
                if v.len() != c {
                    return Err(Error::node(
                        n,
                        format!("bias has {} values for {c} output channels", v.len()),
                    ));
                }
                out[..c].copy_from_slice(v);
            }
        }
        Ok(out)
    }
}
