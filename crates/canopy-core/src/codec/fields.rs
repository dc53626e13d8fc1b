//! Field adapters for `#[tls_codec(with = "...")]`: `optional<T>` (RFC 9420 §2.1.1) with a
//! strict presence octet, and `opaque x<V>` (§2.1.2) stored in any byte newtype.
//!
//! tls_codec's own `Option<T>` rejects presence octets other than 0 and 1, but only with an
//! untyped message; [`optional`] reports [`CodecError::InvalidPresence`](super::CodecError::InvalidPresence). [`opaque`] lets a
//! wire struct hold typed byte strings (`HpkePublicKey`, `Secret`, ...) that live in crates
//! which cannot depend on tls_codec, with exactly [`VarBytes`](super::VarBytes)'s encoding.

/// RFC 9420 §2.1.1 `optional<T>`: a presence octet (0 or 1) and, if 1, the value.
pub(crate) mod optional {
    use std::io::Write;

    use tls_codec::{DeserializeBytes, Serialize, Size};

    use crate::codec::CodecError;

    /// The encoded size: one presence octet plus the value, if any.
    pub(crate) fn tls_serialized_len<T: Size>(value: &Option<T>) -> usize {
        value
            .as_ref()
            .map_or(0, Size::tls_serialized_len)
            .saturating_add(1)
    }

    /// Writes the presence octet and the value, if any.
    pub(crate) fn tls_serialize<T: Serialize, W: Write>(
        value: &Option<T>,
        writer: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        match value {
            Some(v) => {
                writer.write_all(&[1])?;
                Ok(v.tls_serialize(writer)?.saturating_add(1))
            }
            None => {
                writer.write_all(&[0])?;
                Ok(1)
            }
        }
    }

    /// Reads the presence octet and, if it is 1, the value.
    ///
    /// A presence octet other than 0 or 1 is [`CodecError::InvalidPresence`].
    pub(crate) fn tls_deserialize_bytes<T: DeserializeBytes>(
        bytes: &[u8],
    ) -> Result<(Option<T>, &[u8]), tls_codec::Error> {
        let (&present, rest) = bytes.split_first().ok_or(tls_codec::Error::EndOfStream)?;
        match present {
            0 => Ok((None, rest)),
            1 => {
                let (value, rest) = T::tls_deserialize_bytes(rest)?;
                Ok((Some(value), rest))
            }
            other => Err(CodecError::InvalidPresence(other).into_tls_decoding()),
        }
    }
}

/// RFC 9420 §2.1.2 `opaque x<V>` held in any byte newtype (`AsRef<[u8]>` + `From<Vec<u8>>`).
pub(crate) mod opaque {
    use std::io::Write;

    use crate::codec::CodecError;
    use crate::codec::varint::split_vector;
    use crate::codec::vectors::{framed_len, header};

    /// The encoded size: the minimal varint header plus the bytes.
    pub(crate) fn tls_serialized_len<T: AsRef<[u8]>>(value: &T) -> usize {
        framed_len(value.as_ref().len())
    }

    /// Writes the varint header and the bytes.
    pub(crate) fn tls_serialize<T: AsRef<[u8]>, W: Write>(
        value: &T,
        writer: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        let bytes = value.as_ref();
        writer.write_all(header(bytes.len())?.as_slice())?;
        writer.write_all(bytes)?;
        Ok(framed_len(bytes.len()))
    }

    /// Reads the varint header and copies the body once into a new `T`.
    pub(crate) fn tls_deserialize_bytes<T: From<Vec<u8>>>(
        bytes: &[u8],
    ) -> Result<(T, &[u8]), tls_codec::Error> {
        let (body, rest) = split_vector(bytes).map_err(CodecError::into_tls_decoding)?;
        crate::codec::charge(body.len())?;
        Ok((T::from(body.to_vec()), rest))
    }
}

/// Helpers for hand-written `<V>` vectors whose elements need custom handling (RFC 9420
/// §2.1.2), such as the `optional<Node>` entries of a ratchet tree.
pub(crate) mod vector {
    use std::io::Write;

    use crate::codec::CodecError;
    use crate::codec::varint::split_vector;
    use crate::codec::vectors::{framed_len, header};

    /// The encoded size of a vector whose body is `body_len` bytes, header included.
    pub(crate) fn tls_serialized_len(body_len: usize) -> usize {
        framed_len(body_len)
    }

    /// Writes the varint header of a vector whose body is `body_len` bytes; returns its size.
    pub(crate) fn write_header<W: Write>(
        body_len: usize,
        writer: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        let header = header(body_len)?;
        writer.write_all(header.as_slice())?;
        Ok(header.as_slice().len())
    }

    /// Splits a vector off the front of `bytes` into `(body, rest)`; the body is fully present.
    pub(crate) fn split(bytes: &[u8]) -> Result<(&[u8], &[u8]), tls_codec::Error> {
        split_vector(bytes).map_err(CodecError::into_tls_decoding)
    }
}
