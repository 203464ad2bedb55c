//! Reader of the DeepFilterNet weight file (`pkg/models/deepfilternet3.dfw`, written by
//! `scripts/dfn3-model.mjs` from the official ONNX release).
//!
//! Format, all integers little-endian:
//!
//! ```text
//! "DFNW"                  magic
//! u32 version             1
//! u32 dtype               1 = float32, 2 = float16 (IEEE binary16)
//! u32 count               number of tensors
//! count times:
//!   u8  name length, then the name (ASCII, e.g. "enc.gru0.w")
//!   u8  rank, then rank x u32 dims
//!   the elements, row-major, in dtype
//! ```
//!
//! Nothing may follow the last tensor. Tensors keep their ONNX layouts (see the script). Every
//! read is bounds-checked; a bad file gives an [`Error`] naming what is wrong, never a panic.
//! [`DfnModel::parse`] checks the structure only (a walk over the 66 headers); each value is
//! checked to be finite when it is converted ([`DfnModel::get_range`]), which every network
//! build does once per value: a live model switch spreads that over its steps instead of
//! scanning 2 M values in one go on the audio thread.

use std::borrow::Cow;
use std::fmt;

use super::float16::f16_to_f32;

const MAGIC: &[u8; 4] = b"DFNW";
const VERSION: u32 = 1;
const MAX_RANK: usize = 4;

/// Why a weight file was rejected, or a network could not be built from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The file ends inside `what`.
    Truncated {
        what: String,
        offset: usize,
    },
    /// Not a DeepFilterNet weight file.
    BadMagic,
    UnsupportedVersion(u32),
    UnsupportedDtype(u32),
    /// A tensor header or value makes no sense (rank, name, duplicate, NaN, trailing bytes...).
    Malformed(String),
    /// The network needs a tensor the file lacks.
    MissingTensor(String),
    WrongShape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Error::Truncated { what, offset } => {
                write!(f, "DeepFilterNet weights truncated: {what} at byte {offset}")
            }
            Error::BadMagic => write!(f, "not a DeepFilterNet weight file (no \"DFNW\" magic)"),
            Error::UnsupportedVersion(v) => write!(f, "DeepFilterNet weights: unsupported version {v}"),
            Error::UnsupportedDtype(d) => write!(f, "DeepFilterNet weights: unsupported dtype {d}"),
            Error::Malformed(w) => write!(f, "malformed DeepFilterNet weights: {w}"),
            Error::MissingTensor(n) => write!(f, "DeepFilterNet weights: missing tensor \"{n}\""),
            Error::WrongShape { name, expected, found } => write!(
                f,
                "DeepFilterNet weights: tensor \"{name}\" has shape {found:?}, expected {expected:?}"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Where a tensor's elements are in the file.
#[derive(Clone, Debug)]
struct Entry {
    name: String,
    dims: Vec<usize>,
    offset: usize,
    len: usize,
}

/// A checked weight file. It borrows the bytes and converts a tensor to float32 only when it
/// is asked for, so loading never holds a float32 copy of the whole model next to the file
/// and the network built from it (this matters in a wasm instance, whose memory never shrinks).
#[derive(Clone, Debug)]
pub struct DfnModel<'a> {
    buf: Cow<'a, [u8]>,
    tensors: Vec<Entry>,
    /// The file stores float16 values.
    pub half: bool,
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| Error::Truncated {
            what: what.into(),
            offset: self.pos,
        })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &str) -> Result<u8, Error> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<u32, Error> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl<'a> DfnModel<'a> {
    /// Checks a weight file's structure and sizes (values: see [`DfnModel::get_range`]).
    pub fn parse(buf: &'a [u8]) -> Result<DfnModel<'a>, Error> {
        let mut c = Cursor { buf, pos: 0 };
        if c.take(4, "magic").map_err(|_| Error::BadMagic)? != MAGIC {
            return Err(Error::BadMagic);
        }
        let version = c.u32("version")?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let dtype = c.u32("dtype")?;
        let size = match dtype {
            1 => 4,
            2 => 2,
            d => return Err(Error::UnsupportedDtype(d)),
        };
        let count = c.u32("tensor count")? as usize;
        // Each tensor takes at least 2 bytes: a count beyond that is a lie, not an allocation.
        if count > buf.len() / 2 {
            return Err(Error::Malformed(format!(
                "{count} tensors in {} bytes",
                buf.len()
            )));
        }
        let mut tensors: Vec<Entry> = Vec::with_capacity(count);
        for i in 0..count {
            let what = format!("tensor {i} name");
            let len = c.u8(&what)? as usize;
            let name = c.take(len, &what)?;
            if name.is_empty() || !name.iter().all(|b| b.is_ascii_graphic()) {
                return Err(Error::Malformed(format!(
                    "tensor {i} has no printable ASCII name"
                )));
            }
            let name = String::from_utf8_lossy(name).into_owned();
            if tensors.iter().any(|t| t.name == name) {
                return Err(Error::Malformed(format!("tensor \"{name}\" appears twice")));
            }
            let rank = c.u8(&format!("rank of \"{name}\""))? as usize;
            if rank > MAX_RANK {
                return Err(Error::Malformed(format!(
                    "tensor \"{name}\" has rank {rank}"
                )));
            }
            let mut dims = Vec::with_capacity(rank);
            for _ in 0..rank {
                dims.push(c.u32(&format!("dims of \"{name}\""))? as usize);
            }
            let n = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
            let bytes = n.and_then(|n| n.checked_mul(size));
            let bytes = bytes.ok_or_else(|| {
                Error::Malformed(format!("tensor \"{name}\" dims {dims:?} overflow"))
            })?;
            let offset = c.pos;
            c.take(bytes, &format!("data of \"{name}\""))?;
            tensors.push(Entry {
                name,
                dims,
                offset,
                len: n.unwrap_or(0),
            });
        }
        if c.pos != buf.len() {
            return Err(Error::Malformed(format!(
                "{} bytes after the last tensor",
                buf.len() - c.pos
            )));
        }
        Ok(DfnModel {
            buf: Cow::Borrowed(buf),
            tensors,
            half: size == 2,
        })
    }

    /// [`DfnModel::parse`] of a file it keeps, for a conversion spread over several calls
    /// after the caller's buffer is gone (a live model switch).
    pub fn parse_owned(buf: Vec<u8>) -> Result<DfnModel<'static>, Error> {
        let DfnModel { tensors, half, .. } = DfnModel::parse(&buf)?;
        Ok(DfnModel {
            buf: Cow::Owned(buf),
            tensors,
            half,
        })
    }

    /// The tensor `name` in float32, which must have exactly the shape `dims`.
    pub fn get(&self, name: &str, dims: &[usize]) -> Result<Vec<f32>, Error> {
        self.get_range(name, dims, 0..dims.iter().product())
    }

    /// Values `range` (in row-major order) of [`DfnModel::get`]'s tensor: a part of it
    /// converted without the rest. A value that is not finite (NaN, infinity) is an error
    /// naming the tensor and the value's index in it.
    pub fn get_range(
        &self,
        name: &str,
        dims: &[usize],
        range: std::ops::Range<usize>,
    ) -> Result<Vec<f32>, Error> {
        let t = self.tensors.iter().find(|t| t.name == name);
        let t = t.ok_or_else(|| Error::MissingTensor(name.into()))?;
        if t.dims != dims {
            return Err(Error::WrongShape {
                name: name.into(),
                expected: dims.to_vec(),
                found: t.dims.clone(),
            });
        }
        let size = if self.half { 2 } else { 4 };
        assert!(
            range.end <= t.len,
            "range {range:?} of \"{name}\" ({} values)",
            t.len
        );
        let raw = &self.buf[t.offset + range.start * size..t.offset + range.end * size];
        let values: Vec<f32> = if self.half {
            raw.chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect()
        } else {
            raw.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        };
        match values.iter().position(|v| !v.is_finite()) {
            Some(k) => Err(Error::Malformed(format!(
                "tensor \"{name}\" holds a non-finite value at {}",
                range.start + k
            ))),
            None => Ok(values),
        }
    }
}
