//! A fixed-capacity sample FIFO: the glue between stages that run at different block
//! sizes (128-sample render quanta, 480-sample RNNoise frames). Never allocates after
//! construction.

pub struct Fifo {
    buf: Vec<f32>,
    head: usize,
    len: usize,
}

impl Fifo {
    pub fn new(capacity: usize) -> Self {
        Fifo {
            buf: vec![0.0; capacity.max(1)],
            head: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Appends as much of `samples` as fits; returns how many were taken.
    pub fn push(&mut self, samples: &[f32]) -> usize {
        let cap = self.buf.len();
        let n = samples.len().min(cap - self.len);
        let mut tail = (self.head + self.len) % cap;
        for &s in &samples[..n] {
            self.buf[tail] = s;
            tail += 1;
            if tail == cap {
                tail = 0;
            }
        }
        self.len += n;
        n
    }

    /// Fills `out` from the front; returns how many samples were available.
    pub fn pop(&mut self, out: &mut [f32]) -> usize {
        let cap = self.buf.len();
        let n = out.len().min(self.len);
        for o in &mut out[..n] {
            *o = self.buf[self.head];
            self.head += 1;
            if self.head == cap {
                self.head = 0;
            }
        }
        self.len -= n;
        n
    }

    /// Empties the FIFO and refills it with `n` zeros (capped at capacity).
    pub fn reset_to_zeros(&mut self, n: usize) {
        self.head = 0;
        self.len = n.min(self.buf.len());
        self.buf[..self.len].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_around_and_keeps_order() {
        let mut f = Fifo::new(5);
        let mut out = [0.0; 3];
        for round in 0..10 {
            let base = round as f32 * 3.0;
            assert_eq!(f.push(&[base, base + 1.0, base + 2.0]), 3);
            assert_eq!(f.pop(&mut out), 3);
            assert_eq!(out, [base, base + 1.0, base + 2.0]);
        }
        assert_eq!(f.len(), 0);
        assert_eq!(f.push(&[1.0; 7]), 5, "push stops at capacity");
        assert_eq!(f.pop(&mut [0.0; 9]), 5, "pop stops when empty");
    }
}
