//! Planning of the element-wise operators: RELU, HARD_SWISH and LOGISTIC (folded into the step
//! that produces their input when nothing else reads it), ADD and MUL (a residual ADD folded
//! into the 1x1 or depthwise convolution that produces one of its operands).

use super::{act_of, arity, Input, Planner};
use crate::nn::kernels::{Act, BinOp};
use crate::nn::network::{Kernel, Step};
use crate::nn::tflite::{self, Activation};
use crate::nn::Error;

impl Planner<'_> {
    /// A unary activation: folded into the producing step when nothing else reads its output.
    pub(super) fn unary(&mut self, node: &tflite::Node, n: usize, act: Act) -> Result<(), Error> {
        arity(node, n, 1)?;
        let src = self.activation(node.inputs[0], n, "input")?;
        let t = self.tensor(node.inputs[0], n)?;
        let out = self.new_slot(node.outputs[0], n)?;
        if self.slots[out] != self.slots[src] {
            return Err(Error::node(
                n,
                "output shape differs from input shape".into(),
            ));
        }
        let steps = &self.steps;
        let foldable = |p: &usize| {
            self.readers[t] == 1
                && steps[*p].act == Act::None
                && steps[*p].output == src
                && steps[*p].residual.is_none()
                && !matches!(steps[*p].kernel, Kernel::Resize { .. })
        };
        let step = if let Some(p) = self.producer[t].filter(foldable) {
            // The folded step now writes this node's output directly.
            self.steps[p].act = act;
            self.steps[p].output = out;
            p
        } else {
            self.steps.push(Step {
                kernel: Kernel::Unary,
                act,
                input: src,
                output: out,
                residual: None,
            });
            self.steps.len() - 1
        };
        self.produced(node, n, step)
    }

    /// ADD or MUL of two activations of the same size, or of one and a single pixel broadcast.
    pub(super) fn binary(
        &mut self,
        node: &tflite::Node,
        n: usize,
        src: Input,
        op: BinOp,
        act: Activation,
    ) -> Result<(), Error> {
        let (id, in_c, src) = (src.dims, src.channels, src.slot);
        arity(node, n, 2)?;
        let other = self.activation(node.inputs[1], n, "second input")?;
        let (od, oc) = self.slots[other];
        // Full-size operand first; the other is the same size or one pixel broadcast.
        let (a, b, ad) = if id.h * id.w >= od.h * od.w {
            (src, other, id)
        } else {
            (other, src, od)
        };
        let bd = self.slots[b].0;
        if in_c != oc || !(bd == ad || (bd.h == 1 && bd.w == 1 && bd.c == ad.c)) {
            return Err(Error::unsupported(
                n,
                format!(
                    "broadcast of {:?} with {:?}",
                    self.slots[src], self.slots[other]
                ),
            ));
        }
        if op == BinOp::Add && bd == ad && act == Activation::None {
            // out = x + y where x comes from a 1x1 convolution read by nothing else,
            // and y is already computed when that convolution runs: add y in the
            // convolution's epilogue instead.
            let tx = self.tensor(node.inputs[0], n)?;
            let ty = self.tensor(node.inputs[1], n)?;
            let fusable = |t: usize, slot: usize, other_t: usize| {
                let p = self.producer[t]?;
                let ready = self.producer[other_t].is_none_or(|q| q < p);
                let ok = self.readers[t] == 1
                    && self.steps[p].output == slot
                    && self.steps[p].residual.is_none()
                    && matches!(
                        self.steps[p].kernel,
                        Kernel::Pointwise { .. } | Kernel::Depthwise { .. }
                    )
                    && ready;
                ok.then_some(p)
            };
            let fused = fusable(tx, src, ty)
                .map(|p| (p, other))
                .or_else(|| fusable(ty, other, tx).map(|p| (p, src)));
            if let Some((p, residual)) = fused {
                let out = self.new_slot(node.outputs[0], n)?;
                if self.slots[out].0 != ad {
                    let what = format!("output shape {:?} should be {:?}", self.slots[out].0, ad);
                    return Err(Error::node(n, what));
                }
                self.steps[p].residual = Some(residual);
                self.steps[p].output = out;
                return self.produced(node, n, p);
            }
        }
        let out = self.new_slot(node.outputs[0], n)?;
        if self.slots[out].0 != ad {
            return Err(Error::node(
                n,
                format!("output shape {:?} should be {:?}", self.slots[out].0, ad),
            ));
        }
        self.steps.push(Step {
            kernel: Kernel::Binary { op, b },
            act: act_of(act),
            input: a,
            output: out,
            residual: None,
        });
        self.produced(node, n, self.steps.len() - 1)
    }
}
