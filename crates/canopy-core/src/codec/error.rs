//! The codec error type (RFC 9420 §2.1) and its two-way mapping to [`tls_codec::Error`].
//!
//! Invariant: the tag strings that carry our variants through tls_codec appear only in
//! [`CodecError::tag`] and [`CodecError::from_tag`], so the two directions cannot drift; a test
//! round-trips every variant.

use core::fmt;

use super::Limit;

/// Marks a tls_codec error message as one of ours (see [`CodecError`]).
const TAG_PREFIX: &str = "canopy-codec: ";

/// The closed RFC 9420 code points whose undefined values [`CodecError::InvalidCode`] reports.
///
/// Each is a `select` discriminant or an enum that RFC 9420 closes: a value outside the listed
/// cases either cannot be delimited (the body that follows it has no known shape) or is
/// declared `reserved(0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum CodeKind {
    /// RFC 9420 §6 (`uint16 WireFormat`, §17.2 registry): only the five RFC 9420 wire formats
    /// can be decoded.
    WireFormat,
    /// RFC 9420 §6 `ContentType`: application(1), proposal(2), commit(3).
    ContentType,
    /// RFC 9420 §6 `SenderType`: member(1) to new_member_commit(4).
    SenderType,
    /// RFC 9420 §7.2 `LeafNodeSource`: key_package(1), update(2), commit(3).
    LeafNodeSource,
    /// RFC 9420 §7.8 `NodeType`: leaf(1), parent(2).
    NodeType,
    /// RFC 9420 §8.4 `PSKType`: external(1), resumption(2).
    PskType,
    /// RFC 9420 §8.4 `ResumptionPSKUsage`: application(1), reinit(2), branch(3).
    ResumptionPskUsage,
    /// RFC 9420 §12.4 `ProposalOrRefType`: proposal(1), reference(2).
    ProposalOrRefType,
    /// RFC 9420 §12.1 `ProposalType` inside a `Proposal`: only the seven RFC 9420 proposal
    /// bodies can be delimited.
    ProposalType,
    /// RFC 9420 §5.3 `CredentialType` inside a `Credential`: only basic(1) and x509(2) bodies
    /// can be delimited.
    CredentialType,
    /// draft-ietf-mls-extensions §AppDataUpdate `AppDataUpdateOperation`: update(1),
    /// remove(2).
    AppDataUpdateOperation,
}

/// Every [`CodeKind`] with its RFC 9420 name, for display and for the tls_codec tag.
const CODE_KINDS: [(CodeKind, &str); 11] = [
    (CodeKind::WireFormat, "WireFormat"),
    (CodeKind::ContentType, "ContentType"),
    (CodeKind::SenderType, "SenderType"),
    (CodeKind::LeafNodeSource, "LeafNodeSource"),
    (CodeKind::NodeType, "NodeType"),
    (CodeKind::PskType, "PSKType"),
    (CodeKind::ResumptionPskUsage, "ResumptionPSKUsage"),
    (CodeKind::ProposalOrRefType, "ProposalOrRefType"),
    (CodeKind::ProposalType, "ProposalType"),
    (CodeKind::CredentialType, "CredentialType"),
    (CodeKind::AppDataUpdateOperation, "AppDataUpdateOperation"),
];

impl CodeKind {
    /// The RFC 9420 name of the code point type, e.g. `"PSKType"`.
    pub fn name(self) -> &'static str {
        CODE_KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("?", |(_, n)| n)
    }

    /// Inverse of [`Self::name`].
    fn from_name(name: &str) -> Option<Self> {
        CODE_KINDS.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
/// [`ZeroSizedElement`](Self::ZeroSizedElement) and the RFC 9420 value checks from
/// [`InvalidPresence`](Self::InvalidPresence) on) travel as `DecodingError`/`EncodingError`
/// whose message is `"canopy-codec: "` plus a tag naming the variant and its payload. The `From<tls_codec::Error>` impl,
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
    /// RFC 9420 §2.1.1: an `optional<T>` presence octet other than 0 or 1.
    #[error("optional presence octet {0} is neither 0 nor 1")]
    InvalidPresence(u8),
    /// RFC 9420 §6: an MLSMessage whose `version` is not mls10 (1).
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(u16),
    /// RFC 9420: a reserved or undefined value of a closed code point (see [`CodeKind`]).
    #[error("invalid {kind} value {value}")]
    InvalidCode {
        /// Which code point.
        kind: CodeKind,
        /// The value found on the wire.
        value: u16,
    },
    /// RFC 9420 §13: a list of extensions holds two extensions of the same type.
    #[error("duplicate extension type {0}")]
    DuplicateExtension(u16),
    /// RFC 9420 §12.4.3.3: a `ratchet_tree` is empty or its last node is blank.
    #[error("ratchet tree is empty or ends with a blank node")]
    TrailingBlankNode,
    /// RFC 9420 §12.4.3.3 and Appendix C: a ratchet-tree node whose type does not match its
    /// position (leaves sit at even indices, parents at odd ones).
    #[error("ratchet tree node {0} has the wrong node type for its position")]
    MisplacedNode(u32),
    /// draft-ietf-mls-extensions: a list keyed by component id (`app_data_dictionary`,
    /// `SafeAAD`) whose ids are not strictly increasing (out of order, or one repeated).
    #[cfg(feature = "extensions")]
    #[error("component {0} is out of order or repeated")]
    ComponentOrder(u16),
    /// draft-ietf-mls-extensions §Content Advertisement: a `MediaTypeList` must contain at
    /// least one media type.
    #[cfg(feature = "extensions")]
    #[error("empty media type list")]
    EmptyMediaTypes,
    /// RFC 9420 §6.3.1: the padding of a PrivateMessageContent holds a non-zero byte.
    #[error("non-zero byte in PrivateMessageContent padding")]
    NonZeroPadding,
    /// RFC 9420 §6.1, §6.2: encoding a value whose conditional field disagrees with the field
    /// that selects it (a `confirmation_tag` without a commit, a `membership_tag` without a
    /// member sender, or the reverse), which would produce bytes no decoder accepts.
    #[error("a conditional field is present when it must be absent, or the reverse")]
    FieldPresenceMismatch,
    /// A value went over one of the receiver's [`Limits`](super::Limits), before the work it
    /// would have caused: a list with more elements, a tree with more leaves, an input or a
    /// credential with more bytes, or a decoding that would allocate more, than allowed. For
    /// a list or a budget cut off while decoding, `value` is where decoding stopped (the
    /// whole would be at least that).
    #[error("{limit} {value} exceeds the limit {max}")]
    LimitExceeded {
        /// Which limit.
        limit: Limit,
        /// The value found (at least).
        value: usize,
        /// The configured ceiling.
        max: usize,
    },
    /// RFC 9420 §2.1: any other malformed input, as reported by tls_codec.
    #[error("malformed input: {0}")]
    Malformed(String),
    /// RFC 9420 §2.1: any other failure while encoding, as reported by tls_codec.
    #[error("encoding failed: {0}")]
    Encoding(String),
}

impl CodecError {
    /// The tag that carries this variant through a tls_codec error message, if it has one.
    fn tag(&self) -> Option<String> {
        let tag = match self {
            Self::NonMinimalVarint => "non-minimal varint".to_string(),
            Self::ReservedVarintPrefix => "reserved varint prefix".to_string(),
            Self::LengthTooLarge => "length too large".to_string(),
            Self::VectorLengthMismatch => "vector length mismatch".to_string(),
            Self::ZeroSizedElement => "zero-sized element".to_string(),
            Self::InvalidPresence(b) => format!("invalid presence {b}"),
            Self::UnsupportedVersion(v) => format!("unsupported version {v}"),
            Self::InvalidCode { kind, value } => format!("invalid code {kind} {value}"),
            Self::DuplicateExtension(t) => format!("duplicate extension {t}"),
            Self::TrailingBlankNode => "trailing blank node".to_string(),
            Self::MisplacedNode(i) => format!("misplaced node {i}"),
            Self::NonZeroPadding => "non-zero padding".to_string(),
            Self::FieldPresenceMismatch => "field presence mismatch".to_string(),
            Self::LimitExceeded { limit, value, max } => format!("limit {limit} {value} {max}"),
            #[cfg(feature = "extensions")]
            Self::ComponentOrder(c) => format!("component order {c}"),
            #[cfg(feature = "extensions")]
            Self::EmptyMediaTypes => "empty media types".to_owned(),
            Self::Truncated
            | Self::TrailingBytes { .. }
            | Self::InvalidEnumValue(_)
            | Self::Malformed(_)
            | Self::Encoding(_) => return None,
        };
        Some(tag)
    }

    /// Inverse of [`Self::tag`].
    fn from_tag(tag: &str) -> Option<Self> {
        let fixed = match tag {
            "non-minimal varint" => Some(Self::NonMinimalVarint),
            "reserved varint prefix" => Some(Self::ReservedVarintPrefix),
            "length too large" => Some(Self::LengthTooLarge),
            "vector length mismatch" => Some(Self::VectorLengthMismatch),
            "zero-sized element" => Some(Self::ZeroSizedElement),
            "trailing blank node" => Some(Self::TrailingBlankNode),
            "non-zero padding" => Some(Self::NonZeroPadding),
            "field presence mismatch" => Some(Self::FieldPresenceMismatch),
            _ => None,
        };
        if fixed.is_some() {
            return fixed;
        }
        if let Some(b) = tag.strip_prefix("invalid presence ") {
            return b.parse().ok().map(Self::InvalidPresence);
        }
        if let Some(v) = tag.strip_prefix("unsupported version ") {
            return v.parse().ok().map(Self::UnsupportedVersion);
        }
        if let Some(t) = tag.strip_prefix("duplicate extension ") {
            return t.parse().ok().map(Self::DuplicateExtension);
        }
        if let Some(i) = tag.strip_prefix("misplaced node ") {
            return i.parse().ok().map(Self::MisplacedNode);
        }
        #[cfg(feature = "extensions")]
        if tag == "empty media types" {
            return Some(Self::EmptyMediaTypes);
        }
        #[cfg(feature = "extensions")]
        if let Some(c) = tag.strip_prefix("component order ") {
            return c.parse().ok().map(Self::ComponentOrder);
        }
        if let Some(rest) = tag.strip_prefix("limit ") {
            let mut parts = rest.split(' ');
            let limit = Limit::from_name(parts.next()?)?;
            let value = parts.next()?.parse().ok()?;
            let max = parts.next()?.parse().ok()?;
            return Some(Self::LimitExceeded { limit, value, max });
        }
        let (kind, value) = tag.strip_prefix("invalid code ")?.split_once(' ')?;
        Some(Self::InvalidCode {
            kind: CodeKind::from_name(kind)?,
            value: value.parse().ok()?,
        })
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

impl CodecError {
    /// The rule of [`crate::rules`] this decoding error reports as broken, for the few
    /// decoding checks RFC 9420 states as rules; `None` for malformed bytes in general.
    pub fn rule(&self) -> Option<crate::rules::Rule> {
        use crate::rules::Rule;
        match self {
            Self::DuplicateExtension(_) => Some(Rule::ExtensionsUnique),
            Self::NonZeroPadding => Some(Rule::FramingPadding),
            _ => None,
        }
    }
}
