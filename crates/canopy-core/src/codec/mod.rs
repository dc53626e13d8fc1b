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
//! - decoding never panics, and its allocations are bounded by the input (below);
//! - no arithmetic in this module can overflow (`clippy::arithmetic_side_effects` is on).
//!
//! # How much decoding allocates
//!
//! A decoded value takes more memory than its encoding: a `<V>` byte string of one byte is a
//! 24-byte `Vec` header, a reference in a Commit's proposal list (two bytes) is a 64-byte
//! `ProposalOrRef`. So the bound is not "no more than the input" but a budget:
//!
//! **Decoding `n` bytes with [`decode_exact`] (and every `from_bytes` built on it) allocates
//! at most `max_alloc_per_byte * n + ALLOC_SLACK` bytes** ([`Limits::max_alloc_per_byte`],
//! 8 by default; [`ALLOC_SLACK`] = 4096), counted as the sizes requested from the allocator:
//! each vector's capacity (grown by doubling, at least four elements), each copied byte
//! string and each boxed node, proposal or message body is charged to the budget *before*
//! it is allocated, and the decoding stops with [`CodecError::LimitExceeded`] for
//! [`Limit::DecodedBytes`] instead of going over. While a vector moves to its doubled
//! buffer, the old one (at most half of what was charged) is still held, so the peak heap of
//! a decoding is at most 1.5 times the budget; `tests/allocation.rs` checks both with a
//! counting allocator on the worst shapes (lists of two-byte references, of empty
//! certificates, of empty extensions) and a 4 MiB tree of blank nodes, which allocates a few
//! hundred bytes: a ratchet tree keeps only its non-blank nodes. The messages Canopy sends
//! decode at about 3.2 bytes per byte (a commit of Adds, the most; a ratchet tree 3.1, a
//! GroupInfo 1.0). Nested decodings inside one (none today) share its budget; a value
//! decoded later from bytes held by another (an extension's data) has its own.
//!
//! The [`Limits`] also bound, before the work: the input length, the leaves of a ratchet tree
//! (checked node by node, so a run of blank nodes is refused as soon as it passes the limit),
//! the extensions of a list, the elements of any other list, and a credential's length. They
//! apply to the decoders through a per-call scope (see `limits.rs`): [`decode_exact`] uses
//! the active ones, [`decode_exact_with_limits`] the given ones.
//!
//! Errors: tls_codec's traits must return [`tls_codec::Error`]; the varint- and vector-specific
//! failures travel through it as tagged messages and come out of [`decode_exact`] and
//! [`encode`] as their own [`CodecError`] variants (see [`CodecError`] for how).
//!
//! ```
//! use canopy_core::advanced::codec::{VarBytes, VarVec, decode_exact, encode};
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
//! # Ok::<(), canopy_core::advanced::codec::CodecError>(())
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
