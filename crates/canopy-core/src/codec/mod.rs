//! Presentation-language glue for RFC 9420 §2.1: the variable-length integer of §2.1.2,
//! `<V>` vector field types, and exact whole-message encoding and decoding.
//!
//! Wire structs derive tls_codec's `TlsSerialize`, `TlsDeserializeBytes` and `TlsSize`, and use
//! [`VarBytes`] (`opaque x<V>`) and [`VarVec`] (`T x<V>`) for every `<V>` field instead of
//! tls_codec's `Vec<T>`/`VLBytes`, whose slice decoding accepts the reserved `0b11` length prefix.
//! Entry points decode with [`decode_exact`], which rejects trailing bytes, and encode with
//! [`encode`].
//!
//! Invariants:
//! - every length header is a minimal varint of at most 2^30 - 1 (RFC 9420 §2.1.2), on both
//!   encode and decode;
//! - decoding never panics and never allocates more than the input it was given;
//! - no arithmetic in this module can overflow (`clippy::arithmetic_side_effects` is on).
//!
//! Errors: tls_codec's traits must return [`tls_codec::Error`]; the varint- and vector-specific
//! failures travel through it as tagged messages and come out of [`decode_exact`] and
//! [`encode`] as their own [`CodecError`] variants (see [`CodecError`] for how).
//!
//! ```
//! use canopy_core::codec::{VarBytes, VarVec, decode_exact, encode};
//!
//! #[derive(Debug, PartialEq)]
//! #[derive(tls_codec::TlsSerialize, tls_codec::TlsDeserializeBytes, tls_codec::TlsSize)]
//! struct Example {
//!     version: u16,
//!     payload: VarBytes,
//!     labels: VarVec<VarBytes>,
//! }
//!
//! let value = Example {
//!     version: 1,
//!     payload: VarBytes::from(b"hi".to_vec()),
//!     labels: VarVec(vec![VarBytes::from(b"a".to_vec())]),
//! };
//! let bytes = encode(&value)?;
//! assert_eq!(bytes, [0x00, 0x01, 0x02, b'h', b'i', 0x02, 0x01, b'a']);
//! assert_eq!(decode_exact::<Example>(&bytes)?, value);
//! # Ok::<(), canopy_core::codec::CodecError>(())
//! ```
#![warn(clippy::arithmetic_side_effects)]

mod error;
pub(crate) mod fields;
mod limits;
mod varint;
mod vectors;

#[cfg(test)]
mod tests;

pub use error::{CodeKind, CodecError};
pub use limits::{ALLOC_SLACK, Limit, Limits};
pub(crate) use limits::{
    active as active_limits, charge, charge_box, check_count, decoding, reserve_one, with_limits,
};
pub(crate) use varint::split_vector;
pub use varint::{VARINT_MAX, decode_varint, encode_varint};
pub(crate) use vectors::decode_elements;
pub use vectors::{VarBytes, VarVec};

/// RFC 9420 §2.1: decodes one complete `T` from `bytes`.
///
/// # Errors
///
/// [`CodecError::TrailingBytes`] if bytes remain after the value; otherwise whatever decoding
/// `T` reports, with the varint and vector failures of RFC 9420 §2.1.2 as their own variants.
pub fn decode_exact<T: tls_codec::DeserializeBytes>(bytes: &[u8]) -> Result<T, CodecError> {
    decoding(bytes.len(), || {
        let (value, rest) = T::tls_deserialize_bytes(bytes)?;
        if !rest.is_empty() {
            return Err(CodecError::TrailingBytes { count: rest.len() });
        }
        Ok(value)
    })
}

/// [`decode_exact`] under `limits` instead of the active ones (by default
/// [`Limits::DEFAULT`]).
///
/// # Errors
/// As [`decode_exact`].
pub fn decode_exact_with_limits<T: tls_codec::DeserializeBytes>(
    bytes: &[u8],
    limits: &Limits,
) -> Result<T, CodecError> {
    with_limits(*limits, || decode_exact(bytes))
}

/// RFC 9420 §2.1: encodes `value` into a new buffer.
///
/// # Errors
///
/// [`CodecError::LengthTooLarge`] if a `<V>` vector inside `value` exceeds 2^30 - 1 bytes;
/// [`CodecError::Encoding`] for any other failure reported by tls_codec.
pub fn encode<T: tls_codec::Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    Ok(value.tls_serialize_detached()?)
}
