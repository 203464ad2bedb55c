//! Planning of RESIZE_BILINEAR: the output size must be a constant, so the sampling tables are
//! computed once here.

use super::{arity, Input, NewStep, Planner};
use crate::nn::kernels::{self, Act, Dims};
use crate::nn::network::Kernel;
use crate::nn::tflite::{self, ResizeOptions};
use crate::nn::Error;

impl Planner<'_> {
    pub(super) fn resize_bilinear(
        &self,
        node: &tflite::Node,
        n: usize,
        src: Input,
        o: ResizeOptions,
    ) -> Result<NewStep, Error> {
        let id = src.dims;
        arity(node, n, 2)?;
        let size = match self.constant_i32(node.inputs[1], n)? {
            Some(s) if s.len() == 2 && s.iter().all(|&v| v > 0 && v <= 1 << 14) => {
                [s[0] as usize, s[1] as usize]
            }
            _ => {
                return Err(Error::node(
                    n,
                    "RESIZE_BILINEAR size is not a constant pair of positive int32".into(),
                ))
            }
        };
        let ys = kernels::bilinear_table(id.h, size[0], o.align_corners, o.half_pixel_centers);
        let xs = kernels::bilinear_table(id.w, size[1], o.align_corners, o.half_pixel_centers);
        Ok(NewStep {
            kernel: Kernel::Resize { ys, xs },
            act: Act::None,
            out: (
                Dims {
                    h: size[0],
                    w: size[1],
                    c: id.c,
                },
                src.channels,
            ),
        })
    }
}
