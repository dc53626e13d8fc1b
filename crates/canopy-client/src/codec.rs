//! The encoding of the client's own table rows (identities, KeyPackages, the group index):
//! a leading row-format byte, then fields as fixed-width big-endian integers and
//! `u32`-length-prefixed byte strings. Decoding is exact: a short row or trailing bytes are
//! [`ClientError::Corrupt`]. MLS structures inside a row (credentials, KeyPackages) keep
//! their RFC 9420 encoding.

use crate::ClientError;

/// The format byte of every row this version writes.
pub(crate) const ROW_FORMAT: u8 = 1;

/// Builds a row.
pub(crate) struct RowWriter(Vec<u8>);

impl RowWriter {
    pub(crate) fn new() -> Self {
        Self(vec![ROW_FORMAT])
    }

    pub(crate) fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }

    pub(crate) fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A byte string, `u32`-length-prefixed.
    ///
    /// # Errors
    /// [`ClientError::Corrupt`] for a string of 4 GiB or more.
    pub(crate) fn bytes(mut self, v: &[u8]) -> Result<Self, ClientError> {
        let len = u32::try_from(v.len()).map_err(|_| ClientError::Corrupt("field too long"))?;
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(v);
        Ok(self)
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Reads a row written by [`RowWriter`].
pub(crate) struct RowReader<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> RowReader<'a> {
    /// A reader of `row`, a row of kind `what` (named in errors).
    pub(crate) fn new(row: &'a [u8], what: &'static str) -> Result<Self, ClientError> {
        let mut r = Self { rest: row, what };
        if r.u8()? != ROW_FORMAT {
            return Err(ClientError::Corrupt(what));
        }
        Ok(r)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ClientError> {
        if self.rest.len() < n {
            return Err(ClientError::Corrupt(self.what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ClientError> {
        self.take(N)?
            .try_into()
            .map_err(|_| ClientError::Corrupt(self.what))
    }

    pub(crate) fn u8(&mut self) -> Result<u8, ClientError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    pub(crate) fn u16(&mut self) -> Result<u16, ClientError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, ClientError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], ClientError> {
        let len = u32::from_be_bytes(self.array()?);
        let len = usize::try_from(len).map_err(|_| ClientError::Corrupt(self.what))?;
        self.take(len)
    }

    /// Checks that the whole row was read.
    pub(crate) fn finish(self) -> Result<(), ClientError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(ClientError::Corrupt(self.what))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_reject_damage() {
        let row = RowWriter::new()
            .u8(7)
            .u16(0x0102)
            .u64(9)
            .bytes(b"abc")
            .unwrap()
            .finish();
        let mut r = RowReader::new(&row, "test").unwrap();
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.u16().unwrap(), 0x0102);
        assert_eq!(r.u64().unwrap(), 9);
        assert_eq!(r.bytes().unwrap(), b"abc");
        r.finish().unwrap();

        let short = &row[..row.len() - 1];
        let mut r = RowReader::new(short, "test").unwrap();
        r.u8().unwrap();
        r.u16().unwrap();
        r.u64().unwrap();
        assert!(matches!(r.bytes(), Err(ClientError::Corrupt("test"))));

        let mut long = row.clone();
        long.push(0);
        let mut r = RowReader::new(&long, "test").unwrap();
        r.u8().unwrap();
        r.u16().unwrap();
        r.u64().unwrap();
        r.bytes().unwrap();
        assert!(r.finish().is_err());

        let mut other = row;
        other[0] = 2;
        assert!(RowReader::new(&other, "test").is_err());
    }
}
