//! Planning of the pooling operators: MEAN over height and width, and AVERAGE_POOL_2D (a window
//! covering the whole input, squeeze-excitation's global pooling, becomes the faster mean).

use super::window::{out_size, window};
use super::{act_of, arity, Input, NewStep, Planner};
use crate::nn::kernels::{Act, Dims};
use crate::nn::network::Kernel;
use crate::nn::tflite::{self, PoolOptions};
use crate::nn::Error;

impl Planner<'_> {
    /// MEAN over the spatial axes (1 and 2) only.
    pub(super) fn mean(&self, node: &tflite::Node, n: usize, src: Input) -> Result<NewStep, Error> {
        arity(node, n, 2)?;
        let axes = match self.constant_i32(node.inputs[1], n)? {
            Some(a) => a
                .iter()
                .map(|&x| if x < 0 { x + 4 } else { x })
                .collect::<Vec<_>>(),
            None => return Err(Error::node(n, "MEAN axes are not an int32 constant".into())),
        };
        if !(axes == [1, 2] || axes == [2, 1]) {
            return Err(Error::unsupported(
                n,
                format!("MEAN over axes {axes:?} (only 1, 2)"),
            ));
        }
        Ok(NewStep {
            kernel: Kernel::Mean,
            act: Act::None,
            out: (
                Dims {
                    h: 1,
                    w: 1,
                    c: src.dims.c,
                },
                src.channels,
            ),
        })
    }

    pub(super) fn average_pool(
        &self,
        node: &tflite::Node,
        n: usize,
        src: Input,
        o: PoolOptions,
    ) -> Result<NewStep, Error> {
        let id = src.dims;
        let PoolOptions {
            padding,
            stride,
            filter,
            act,
        } = o;
        arity(node, n, 1)?;
        let win = window(n, id, filter[0], filter[1], padding, stride, [1, 1])?;
        let (oh, ow) = out_size(n, id, filter[0], filter[1], padding, stride, [1, 1])?;
        // A window covering the whole input (squeeze-excitation's global pooling)
        // is the spatial mean, which has a much faster kernel.
        let global = (oh, ow) == (1, 1) && filter == [id.h, id.w] && win.pad == [0, 0];
        Ok(NewStep {
            kernel: if global {
                Kernel::Mean
            } else {
                Kernel::AveragePool { win }
            },
            act: act_of(act),
            out: (
                Dims {
                    h: oh,
                    w: ow,
                    c: id.c,
                },
                src.channels,
            ),
        })
    }
}
