//! A small bounds-checked FlatBuffer reader: just what the TFLite schema needs (tables, scalars,
//! strings, vectors of scalars and of tables). Every read is checked against the buffer, so a
//! malformed or truncated file becomes an `Error`, never a panic or an out-of-bounds read.

use super::Error;

/// A table inside a FlatBuffer: its position and the position of its vtable.
#[derive(Clone, Copy)]
pub struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

/// A vector inside a FlatBuffer: its element count and the position of element 0.
#[derive(Clone, Copy)]
pub struct Vector<'a> {
    buf: &'a [u8],
    pos: usize,
    len: usize,
}

fn bytes<'a>(buf: &'a [u8], pos: usize, n: usize, what: &str) -> Result<&'a [u8], Error> {
    pos.checked_add(n)
        .and_then(|end| buf.get(pos..end))
        .ok_or_else(|| {
            Error::malformed(format!(
                "{what} at byte {pos} runs past the end of the file ({} bytes)",
                buf.len()
            ))
        })
}

fn u16_at(buf: &[u8], pos: usize, what: &str) -> Result<u16, Error> {
    let b = bytes(buf, pos, 2, what)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(buf: &[u8], pos: usize, what: &str) -> Result<u32, Error> {
    let b = bytes(buf, pos, 4, what)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Follows a `uoffset_t` stored at `pos` (offsets are relative to where they are stored).
fn follow(buf: &[u8], pos: usize, what: &str) -> Result<usize, Error> {
    let off = u32_at(buf, pos, what)? as usize;
    pos.checked_add(off)
        .filter(|&p| p < buf.len())
        .ok_or_else(|| {
            Error::malformed(format!(
                "{what}: offset at byte {pos} points outside the file"
            ))
        })
}

impl<'a> Table<'a> {
    /// The root table of a buffer, checking the 4-byte file identifier when one is given.
    pub fn root(buf: &'a [u8], identifier: &[u8; 4]) -> Result<Self, Error> {
        let id = bytes(buf, 4, 4, "file identifier")?;
        if id != identifier {
            return Err(Error::malformed(format!(
                "file identifier is {:?}, expected {:?} (not a TFLite model?)",
                String::from_utf8_lossy(id),
                String::from_utf8_lossy(identifier)
            )));
        }
        let pos = follow(buf, 0, "root table")?;
        Self::at(buf, pos, "root table")
    }

    fn at(buf: &'a [u8], pos: usize, what: &str) -> Result<Self, Error> {
        let soff = u32_at(buf, pos, what)? as i32 as i64;
        let vtable = pos as i64 - soff;
        if vtable < 0 || vtable as usize >= buf.len() {
            return Err(Error::malformed(format!(
                "{what} at byte {pos} has its vtable outside the file"
            )));
        }
        let vtable = vtable as usize;
        let vtable_len = u16_at(buf, vtable, what)? as usize;
        if vtable_len < 4 || !vtable_len.is_multiple_of(2) {
            return Err(Error::malformed(format!(
                "{what} at byte {pos} has a bad vtable size {vtable_len}"
            )));
        }
        bytes(buf, vtable, vtable_len, what)?;
        Ok(Table {
            buf,
            pos,
            vtable,
            vtable_len,
        })
    }

    /// Position of field `index`, or None when the field is absent (default value).
    fn field(&self, index: usize, size: usize, what: &str) -> Result<Option<usize>, Error> {
        let slot = 4 + 2 * index;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = u16_at(self.buf, self.vtable + slot, what)? as usize;
        if off == 0 {
            return Ok(None);
        }
        let pos = self.pos + off;
        bytes(self.buf, pos, size, what)?;
        Ok(Some(pos))
    }

    pub fn u8(&self, index: usize, default: u8, what: &str) -> Result<u8, Error> {
        Ok(match self.field(index, 1, what)? {
            Some(p) => self.buf[p],
            None => default,
        })
    }

    pub fn i8(&self, index: usize, default: i8, what: &str) -> Result<i8, Error> {
        Ok(self.u8(index, default as u8, what)? as i8)
    }

    pub fn bool(&self, index: usize, what: &str) -> Result<bool, Error> {
        Ok(self.u8(index, 0, what)? != 0)
    }

    pub fn u32(&self, index: usize, default: u32, what: &str) -> Result<u32, Error> {
        match self.field(index, 4, what)? {
            Some(p) => u32_at(self.buf, p, what),
            None => Ok(default),
        }
    }

    pub fn i32(&self, index: usize, default: i32, what: &str) -> Result<i32, Error> {
        Ok(self.u32(index, default as u32, what)? as i32)
    }

    pub fn u64(&self, index: usize, default: u64, what: &str) -> Result<u64, Error> {
        match self.field(index, 8, what)? {
            Some(p) => {
                let b = bytes(self.buf, p, 8, what)?;
                Ok(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            }
            None => Ok(default),
        }
    }

    pub fn table(&self, index: usize, what: &str) -> Result<Option<Table<'a>>, Error> {
        match self.field(index, 4, what)? {
            Some(p) => Ok(Some(Table::at(self.buf, follow(self.buf, p, what)?, what)?)),
            None => Ok(None),
        }
    }

    /// A vector of elements of `elem_size` bytes (an empty vector when absent).
    fn vector(&self, index: usize, elem_size: usize, what: &str) -> Result<Vector<'a>, Error> {
        let Some(p) = self.field(index, 4, what)? else {
            return Ok(Vector {
                buf: self.buf,
                pos: 0,
                len: 0,
            });
        };
        let start = follow(self.buf, p, what)?;
        let len = u32_at(self.buf, start, what)? as usize;
        let n = len
            .checked_mul(elem_size)
            .ok_or_else(|| Error::malformed(format!("{what}: vector length {len} overflows")))?;
        bytes(self.buf, start + 4, n, what)?;
        Ok(Vector {
            buf: self.buf,
            pos: start + 4,
            len,
        })
    }

    pub fn bytes(&self, index: usize, what: &str) -> Result<&'a [u8], Error> {
        self.vector(index, 1, what).map(|v| v.as_bytes())
    }

    /// A vector of tables (stored as 4-byte offsets).
    pub fn tables(&self, index: usize, what: &str) -> Result<Vector<'a>, Error> {
        self.vector(index, 4, what)
    }

    /// A vector of i32 scalars.
    pub fn i32s(&self, index: usize, what: &str) -> Result<Vec<i32>, Error> {
        let raw = self.vector(index, 4, what)?.as_bytes4();
        Ok(raw
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    pub fn string(&self, index: usize, what: &str) -> Result<String, Error> {
        Ok(String::from_utf8_lossy(self.bytes(index, what)?).into_owned())
    }
}

impl<'a> Vector<'a> {
    pub fn len(&self) -> usize {
        self.len
    }

    fn as_bytes(&self) -> &'a [u8] {
        // Bounds were checked when the vector was read.
        &self.buf[self.pos..self.pos + self.len]
    }

    /// The raw bytes of a vector of 4-byte elements.
    fn as_bytes4(&self) -> &'a [u8] {
        &self.buf[self.pos..self.pos + 4 * self.len]
    }

    /// Element `i` of a vector of tables.
    pub fn table(&self, i: usize, what: &str) -> Result<Table<'a>, Error> {
        if i >= self.len {
            return Err(Error::malformed(format!(
                "{what}: index {i} out of a vector of {}",
                self.len
            )));
        }
        let p = self.pos + 4 * i;
        Table::at(self.buf, follow(self.buf, p, what)?, what)
    }
}
