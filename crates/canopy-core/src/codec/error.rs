//! The codec error type (RFC 9420 §2.1) and its two-way mapping to [`tls_codec::Error`].
//!
//! Invariant: the tag strings that carry our variants through tls_codec appear only in
//! [`CodecError::tag`] and [`CodecError::from_tag`], so the two directions cannot drift; a test
//! round-trips every variant.

/// Marks a tls_codec error message as one of ours (see [`CodecError`]).
const TAG_PREFIX: &str = "canopy-codec: ";

/// Why encoding or decoding an RFC 9420 §2.1 presentation-language value failed.
///
/// # Passing through tls_codec
///
/// tls_codec's traits (`Serialize`, `DeserializeBytes`, ...) fix their error type to
/// [`tls_codec::Error`], so the [`VarBytes`](super::VarBytes)/[`VarVec`](super::VarVec) impls
/// that derived code calls cannot return a `CodecError`. The variants tls_codec has no
/// equivalent for ([`NonMinimalVarint`](Self::NonMinimalVarint),
/// [`ReservedVarintPrefix`](Self::ReservedVarintPrefix), [`LengthTooLarge`](Self::LengthTooLarge),
/// [`VectorLengthMismatch`](Self::VectorLengthMismatch),
/// [`ZeroSizedElement`](Self::ZeroSizedElement)) travel as `DecodingError`/`EncodingError`
/// whose message is `"canopy-codec: "` plus a fixed tag. The `From<tls_codec::Error>` impl,
/// which [`decode_exact`](super::decode_exact) and [`encode`](super::encode) go through,
/// recognises exactly those messages and restores the variant. The rest map natively:
/// `EndOfStream` is [`Truncated`](Self::Truncated), `UnknownValue` is
/// [`InvalidEnumValue`](Self::InvalidEnumValue); any other tls_codec error becomes
/// [`Malformed`](Self::Malformed) or [`Encoding`](Self::Encoding) with tls_codec's text.
/// A string tag was chosen over a side channel (thread-local, pre-scan) because it needs no
/// state and works for vectors nested at any depth inside derived structs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// RFC 9420 §2.1: the input ended before the value was complete.
    #[error("input truncated")]
    Truncated,
    /// RFC 9420 §2.1.2: a variable-length integer used more bytes than its value needs.
    #[error("variable-length integer is not minimally encoded")]
    NonMinimalVarint,
    /// RFC 9420 §2.1.2: a variable-length integer started with the reserved `0b11` prefix.
    #[error("variable-length integer uses the reserved 0b11 prefix")]
    ReservedVarintPrefix,
    /// RFC 9420 §2.1.2: a vector length exceeds 2^30 - 1 bytes, the largest a varint can carry.
    #[error("vector length exceeds 2^30 - 1 bytes")]
    LengthTooLarge,
    /// RFC 9420 §2.1: a complete value was decoded but `count` bytes were left over.
    #[error("{count} trailing bytes after the decoded value")]
    TrailingBytes {
        /// How many bytes were left after the value.
        count: usize,
    },
    /// RFC 9420 §2.1.2: the elements of a vector do not exactly fill its declared length.
    #[error("vector elements do not match the declared vector length")]
    VectorLengthMismatch,
    /// RFC 9420 §2.1.2: a vector element decoded from zero bytes, so the vector has no
    /// well-defined element count.
    #[error("vector element decoded from zero bytes")]
    ZeroSizedElement,
    /// RFC 9420 §2.1: an enum discriminant not defined for the type.
    #[error("invalid enum value {0}")]
    InvalidEnumValue(u64),
    /// RFC 9420 §2.1: any other malformed input, as reported by tls_codec.
    #[error("malformed input: {0}")]
    Malformed(String),
    /// RFC 9420 §2.1: any other failure while encoding, as reported by tls_codec.
    #[error("encoding failed: {0}")]
    Encoding(String),
}

impl CodecError {
    /// The tag that carries this variant through a tls_codec error message, if it has one.
    fn tag(&self) -> Option<&'static str> {
        match self {
            Self::NonMinimalVarint => Some("non-minimal varint"),
            Self::ReservedVarintPrefix => Some("reserved varint prefix"),
            Self::LengthTooLarge => Some("length too large"),
            Self::VectorLengthMismatch => Some("vector length mismatch"),
            Self::ZeroSizedElement => Some("zero-sized element"),
            Self::Truncated
            | Self::TrailingBytes { .. }
            | Self::InvalidEnumValue(_)
            | Self::Malformed(_)
            | Self::Encoding(_) => None,
        }
    }

    /// Inverse of [`Self::tag`].
    fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "non-minimal varint" => Some(Self::NonMinimalVarint),
            "reserved varint prefix" => Some(Self::ReservedVarintPrefix),
            "length too large" => Some(Self::LengthTooLarge),
            "vector length mismatch" => Some(Self::VectorLengthMismatch),
            "zero-sized element" => Some(Self::ZeroSizedElement),
            _ => None,
        }
    }

    /// Converts to the error type tls_codec's traits require, for a failure while decoding.
    ///
    /// `CodecError::from(e.into_tls_decoding())` gives back `e` for every variant except
    /// `TrailingBytes`, whose count tls_codec cannot carry.
    pub(crate) fn into_tls_decoding(self) -> tls_codec::Error {
        self.into_tls(tls_codec::Error::DecodingError)
    }

    /// Converts to the error type tls_codec's traits require, for a failure while encoding.
    pub(crate) fn into_tls_encoding(self) -> tls_codec::Error {
        self.into_tls(tls_codec::Error::EncodingError)
    }

    fn into_tls(self, tagged: fn(String) -> tls_codec::Error) -> tls_codec::Error {
        if let Some(tag) = self.tag() {
            return tagged(format!("{TAG_PREFIX}{tag}"));
        }
        match self {
            Self::Truncated => tls_codec::Error::EndOfStream,
            Self::TrailingBytes { .. } => tls_codec::Error::TrailingData,
            Self::InvalidEnumValue(v) => tls_codec::Error::UnknownValue(v),
            Self::Malformed(msg) => tls_codec::Error::DecodingError(msg),
            Self::Encoding(msg) => tls_codec::Error::EncodingError(msg),
            other => tagged(other.to_string()),
        }
    }
}

impl From<tls_codec::Error> for CodecError {
    fn from(e: tls_codec::Error) -> Self {
        let tagged = |msg: &str| msg.strip_prefix(TAG_PREFIX).and_then(Self::from_tag);
        match e {
            tls_codec::Error::EndOfStream => Self::Truncated,
            tls_codec::Error::UnknownValue(v) => Self::InvalidEnumValue(v),
            tls_codec::Error::DecodingError(msg) => tagged(&msg).unwrap_or(Self::Malformed(msg)),
            tls_codec::Error::EncodingError(msg) => tagged(&msg).unwrap_or(Self::Encoding(msg)),
            tls_codec::Error::InvalidWriteLength(msg) => Self::Encoding(msg),
            tls_codec::Error::InvalidVectorLength => {
                Self::Malformed("invalid vector length".to_string())
            }
            tls_codec::Error::InvalidInput => Self::Malformed("invalid input".to_string()),
            tls_codec::Error::TrailingData => Self::Malformed("trailing data".to_string()),
            tls_codec::Error::LibraryError => {
                Self::Malformed("tls_codec library error".to_string())
            }
        }
    }
}
