//! `<V>` vectors (RFC 9420 §2.1.2) as tls_codec field types: [`VarBytes`] for `opaque x<V>`
//! and [`VarVec`] for `T x<V>`.
//!
//! Both implement tls_codec's `Size`, `Serialize`, `SerializeBytes` and `DeserializeBytes`,
//! so they can be fields of `#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]` structs.
//! They exist because tls_codec 0.5's own `Vec<T>`/`VLBytes` slice decoding accepts the
//! reserved `0b11` prefix and 62-bit lengths; ours use [`decode_varint`](super::decode_varint).
//!
//! Decoding invariants:
//! - the whole declared body must be present before any element is decoded or any byte is
//!   copied, so allocation is bounded by the input, never by the declared length;
//! - `VarVec` elements are decoded from the declared body only; they must fill it exactly
//!   (an element running past its end is [`CodecError::VectorLengthMismatch`]) and each must
//!   consume at least one byte ([`CodecError::ZeroSizedElement`]).
//!
//! There is deliberately no `tls_codec::Deserialize` (`std::io::Read`) impl: derive
//! `TlsDeserializeBytes` and decode through [`decode_exact`](super::decode_exact).

use std::io::Write;

use tls_codec::{DeserializeBytes, Serialize, SerializeBytes, Size};

use super::limits::{active as active_limits, charge, reserve_one};
use super::varint::{Varint, split_vector, varint_len};
use super::{CodecError, Limit};

/// Length of the header plus body of a vector whose body is `body_len` bytes.
///
/// `Size` cannot fail, so an oversize body is given the 4-byte header; serialising it then
/// fails with [`CodecError::LengthTooLarge`].
pub(super) fn framed_len(body_len: usize) -> usize {
    varint_len(body_len).unwrap_or(4).saturating_add(body_len)
}

/// The varint header for a vector whose body is `body_len` bytes.
pub(super) fn header(body_len: usize) -> Result<Varint, tls_codec::Error> {
    Varint::new(body_len).map_err(CodecError::into_tls_encoding)
}

/// Sum of the encoded sizes of `items`.
fn body_len<T: Size>(items: &[T]) -> Result<usize, tls_codec::Error> {
    items
        .iter()
        .try_fold(0usize, |acc, e| acc.checked_add(e.tls_serialized_len()))
        .ok_or_else(|| CodecError::LengthTooLarge.into_tls_encoding())
}

/// Error for an encoder that produced a different number of bytes than its `Size` promised.
fn size_mismatch(expected: usize, written: usize) -> tls_codec::Error {
    CodecError::Encoding(format!(
        "vector body: expected {expected} bytes, wrote {written}"
    ))
    .into_tls_encoding()
}

/// RFC 9420 §2.1.2: `opaque x<V>`, a byte string with a variable-length integer length header.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VarBytes(pub Vec<u8>);

impl VarBytes {
    /// RFC 9420 §2.1.2: the bytes of the vector body, without the length header.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// RFC 9420 §2.1.2: the number of body bytes (the value of the length header).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// RFC 9420 §2.1.2: whether the body is empty (encoded as the single byte `0x00`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for VarBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl From<&[u8]> for VarBytes {
    fn from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }
}

impl From<VarBytes> for Vec<u8> {
    fn from(bytes: VarBytes) -> Self {
        bytes.0
    }
}

impl AsRef<[u8]> for VarBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Size for VarBytes {
    fn tls_serialized_len(&self) -> usize {
        framed_len(self.0.len())
    }
}

impl Serialize for VarBytes {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        writer.write_all(header(self.0.len())?.as_slice())?;
        writer.write_all(&self.0)?;
        Ok(framed_len(self.0.len()))
    }
}

impl SerializeBytes for VarBytes {
    fn tls_serialize_bytes(&self) -> Result<Vec<u8>, tls_codec::Error> {
        let mut out = Vec::with_capacity(self.tls_serialized_len());
        out.extend_from_slice(header(self.0.len())?.as_slice());
        out.extend_from_slice(&self.0);
        Ok(out)
    }
}

impl DeserializeBytes for VarBytes {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (body, rest) = split_vector(bytes).map_err(CodecError::into_tls_decoding)?;
        charge(body.len())?;
        Ok((Self(body.to_vec()), rest))
    }
}

/// RFC 9420 §2.1.2: `T x<V>`, a vector of `T` whose length header counts encoded *bytes*, not
/// elements.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VarVec<T>(pub Vec<T>);

impl<T> VarVec<T> {
    /// RFC 9420 §2.1.2: the elements of the vector.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// RFC 9420 §2.1.2: the number of elements (not the encoded byte length).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// RFC 9420 §2.1.2: whether the vector has no elements.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> Default for VarVec<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> From<Vec<T>> for VarVec<T> {
    fn from(items: Vec<T>) -> Self {
        Self(items)
    }
}

impl<T> From<VarVec<T>> for Vec<T> {
    fn from(items: VarVec<T>) -> Self {
        items.0
    }
}

impl<T> AsRef<[T]> for VarVec<T> {
    fn as_ref(&self) -> &[T] {
        &self.0
    }
}

impl<T: Size> Size for VarVec<T> {
    fn tls_serialized_len(&self) -> usize {
        let body = self
            .0
            .iter()
            .fold(0usize, |acc, e| acc.saturating_add(e.tls_serialized_len()));
        framed_len(body)
    }
}

impl<T: Serialize> Serialize for VarVec<T> {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let expected = body_len(&self.0)?;
        writer.write_all(header(expected)?.as_slice())?;
        let mut written = 0usize;
        for item in &self.0 {
            written = written
                .checked_add(item.tls_serialize(writer)?)
                .ok_or_else(|| CodecError::LengthTooLarge.into_tls_encoding())?;
        }
        if written != expected {
            return Err(size_mismatch(expected, written));
        }
        Ok(framed_len(expected))
    }
}

impl<T: SerializeBytes> SerializeBytes for VarVec<T> {
    fn tls_serialize_bytes(&self) -> Result<Vec<u8>, tls_codec::Error> {
        let expected = body_len(&self.0)?;
        let mut out = header(expected)?.as_slice().to_vec();
        let header_len = out.len();
        for item in &self.0 {
            out.extend_from_slice(&item.tls_serialize_bytes()?);
        }
        let written = out.len().saturating_sub(header_len);
        if written != expected {
            return Err(size_mismatch(expected, written));
        }
        Ok(out)
    }
}

impl<T: DeserializeBytes> DeserializeBytes for VarVec<T> {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (body, rest) = split_vector(bytes).map_err(CodecError::into_tls_decoding)?;
        Ok((Self(decode_elements(body, Limit::VectorLen)?), rest))
    }
}

/// Decodes the body of a `T x<V>` vector (RFC 9420 §2.1.2) element by element: at most the
/// active ceiling of `limit` elements, each consuming at least one byte, filling `body`
/// exactly, and each growth of the list charged to the allocation budget first.
pub(crate) fn decode_elements<T: DeserializeBytes>(
    mut body: &[u8],
    limit: Limit,
) -> Result<Vec<T>, tls_codec::Error> {
    let max = active_limits().max(limit);
    // Grows with the elements actually decoded; never sized from the declared length.
    let mut items = Vec::new();
    while !body.is_empty() {
        if items.len() >= max {
            return Err(CodecError::LimitExceeded {
                limit,
                value: items.len().saturating_add(1),
                max,
            }
            .into_tls_decoding());
        }
        let (item, remaining) = T::tls_deserialize_bytes(body).map_err(|e| match e {
            // The body is fully present, so an element that runs out of input wanted
            // bytes beyond the declared length.
            tls_codec::Error::EndOfStream => CodecError::VectorLengthMismatch.into_tls_decoding(),
            other => other,
        })?;
        if remaining.len() >= body.len() {
            return Err(CodecError::ZeroSizedElement.into_tls_decoding());
        }
        reserve_one(&mut items)?;
        items.push(item);
        body = remaining;
    }
    Ok(items)
}
