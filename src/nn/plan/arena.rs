//! Where each activation tensor lives: one arena for all of them, each placed for the steps
//! between its writer and its last reader.

use crate::nn::kernels::Dims;
use crate::nn::network::{Slot, Step};

/// Places every activation slot in one arena: a slot lives from the step that writes it to the
/// last step that reads it; each new slot takes the lowest offset free of every live slot.
pub(super) fn allocate(
    dims: &[(Dims, usize)],
    steps: &[Step],
    input: usize,
    output: usize,
) -> (Vec<Slot>, usize) {
    let n = dims.len();
    let mut first = vec![usize::MAX; n];
    let mut last = vec![0usize; n];
    first[input] = 0;
    for (i, s) in steps.iter().enumerate() {
        first[s.output] = first[s.output].min(i);
        for r in s.reads() {
            last[r] = last[r].max(i);
        }
    }
    last[output] = steps.len();
    let mut slots: Vec<Slot> = dims
        .iter()
        .map(|&(d, _)| Slot { dims: d, offset: 0 })
        .collect();
    let mut order: Vec<usize> = (0..n).filter(|&s| first[s] != usize::MAX).collect();
    order.sort_by_key(|&s| first[s]);
    let mut placed: Vec<usize> = Vec::new();
    let mut end = 0;
    for s in order {
        let len = dims[s].0.len();
        // Live intervals overlapping [first, last] of this slot, sorted by offset.
        let mut busy: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&p| first[p] <= last[s].max(first[s]) && first[s] <= last[p].max(first[p]))
            .map(|&p| (slots[p].offset, slots[p].offset + slots[p].dims.len()))
            .collect();
        busy.sort();
        let mut off = 0;
        for (b0, b1) in busy {
            if off + len <= b0 {
                break;
            }
            off = off.max(b1);
        }
        slots[s].offset = off;
        end = end.max(off + len);
        placed.push(s);
    }
    (slots, end)
}
