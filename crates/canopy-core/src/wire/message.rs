//! The MLSMessage envelope (RFC 9420 §6): a protocol version, a wire format and the message it
//! selects. This is the entry point for bytes received from the network.
//!
//! Decoding rejects, with typed [`CodecError`]s:
//! - a `version` other than mls10 ([`CodecError::UnsupportedVersion`]);
//! - a reserved or unknown wire format ([`CodecError::InvalidCode`]);
//! - any trailing byte after the message ([`CodecError::TrailingBytes`]).

use std::io::Write;

use tls_codec::{DeserializeBytes, Serialize, Size};

use super::framing::{PrivateMessage, PublicMessage};
use super::group_info::GroupInfo;
use super::key_package::KeyPackage;
use super::primitives::{ProtocolVersion, WireFormat};
use super::welcome::Welcome;
use crate::codec::{
    CodecError, Limits, charge_box, decode_exact, decode_exact_with_limits, decoding, encode,
};

/// RFC 9420 §6 `MLSMessage`. The `version` is always mls10: it is written on encode and
/// checked on decode, so it is not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MlsMessage {
    /// `mls_public_message`.
    PublicMessage(Box<PublicMessage>),
    /// `mls_private_message`.
    PrivateMessage(PrivateMessage),
    /// `mls_welcome`.
    Welcome(Welcome),
    /// `mls_group_info`.
    GroupInfo(Box<GroupInfo>),
    /// `mls_key_package`.
    KeyPackage(Box<KeyPackage>),
}

impl MlsMessage {
    /// RFC 9420 §6: decodes one complete MLSMessage from `bytes`.
    ///
    /// # Errors
    /// [`CodecError::UnsupportedVersion`] for a version other than mls10,
    /// [`CodecError::InvalidCode`] for an unknown wire format or any other closed code point,
    /// [`CodecError::TrailingBytes`] if bytes remain after the message, and any other decoding
    /// error of the inner message.
    ///
    /// Decodes under the active [`Limits`]: the default ones, unless called inside an
    /// operation that has its own (a [`Group`](crate::group::Group) uses its
    /// [`GroupConfig`](crate::group::GroupConfig)'s).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        decode_exact(bytes)
    }

    /// Decodes the first MLSMessage of `bytes`, a concatenation of messages (a
    /// `message/mls` body that carries several, as a Delivery Service takes a commit with
    /// its Welcome): the message, its own bytes, and the bytes after it.
    ///
    /// # Errors
    /// As [`Self::from_bytes`], except that bytes after the message are not an error.
    pub fn split_first(bytes: &[u8]) -> Result<(Self, &[u8], &[u8]), CodecError> {
        let (message, rest) = decoding(bytes.len(), || {
            Self::tls_deserialize_bytes(bytes).map_err(CodecError::from)
        })?;
        let used = bytes.len().saturating_sub(rest.len());
        let (own, rest) = bytes
            .split_at_checked(used)
            .ok_or(CodecError::TrailingBytes { count: rest.len() })?;
        Ok((message, own, rest))
    }

    /// [`Self::from_bytes`] under `limits`.
    ///
    /// # Errors
    /// As [`Self::from_bytes`]; [`CodecError::LimitExceeded`] for input beyond `limits`,
    /// before the work it would cause.
    pub fn from_bytes_with_limits(bytes: &[u8], limits: &Limits) -> Result<Self, CodecError> {
        decode_exact_with_limits(bytes, limits)
    }

    /// Decodes like [`Self::from_bytes`] and, for a PublicMessage, also returns the exact
    /// bytes of its FramedContent within `bytes` (see
    /// [`PublicMessage::decode_with_content_bytes`]).
    ///
    /// # Errors
    /// As [`Self::from_bytes`].
    pub(crate) fn from_bytes_with_content(
        bytes: &[u8],
    ) -> Result<(Self, Option<&[u8]>), CodecError> {
        let public_body = ProtocolVersion::tls_deserialize_bytes(bytes)
            .ok()
            .filter(|(version, _)| *version == ProtocolVersion::MLS10)
            .and_then(|(_, rest)| WireFormat::tls_deserialize_bytes(rest).ok())
            .filter(|(wire_format, _)| *wire_format == WireFormat::PublicMessage);
        // Anything else, errors included, is decoded (and reported) as `from_bytes` does.
        let Some((_, body)) = public_body else {
            return Ok((Self::from_bytes(bytes)?, None));
        };
        decoding(bytes.len(), || {
            let (message, content, rest) = PublicMessage::decode_with_content_bytes(body)?;
            if !rest.is_empty() {
                return Err(CodecError::TrailingBytes { count: rest.len() });
            }
            charge_box::<PublicMessage>()?;
            Ok((Self::PublicMessage(Box::new(message)), Some(content)))
        })
    }

    /// RFC 9420 §6: encodes this message.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] for a vector longer than 2^30 - 1 bytes;
    /// [`CodecError::FieldPresenceMismatch`] for a PublicMessage whose optional fields do not
    /// match their selectors.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        encode(self)
    }

    /// RFC 9420 §6: the protocol version, always mls10.
    pub fn version(&self) -> ProtocolVersion {
        ProtocolVersion::MLS10
    }

    /// RFC 9420 §6: the wire format of the carried message.
    pub fn wire_format(&self) -> WireFormat {
        match self {
            Self::PublicMessage(_) => WireFormat::PublicMessage,
            Self::PrivateMessage(_) => WireFormat::PrivateMessage,
            Self::Welcome(_) => WireFormat::Welcome,
            Self::GroupInfo(_) => WireFormat::GroupInfo,
            Self::KeyPackage(_) => WireFormat::KeyPackage,
        }
    }
}

impl From<KeyPackage> for MlsMessage {
    /// RFC 9420 §10: the envelope a KeyPackage is published in.
    fn from(key_package: KeyPackage) -> Self {
        Self::KeyPackage(Box::new(key_package))
    }
}

impl From<Welcome> for MlsMessage {
    fn from(welcome: Welcome) -> Self {
        Self::Welcome(welcome)
    }
}

impl From<GroupInfo> for MlsMessage {
    fn from(group_info: GroupInfo) -> Self {
        Self::GroupInfo(Box::new(group_info))
    }
}

impl KeyPackage {
    /// RFC 9420 §10: this KeyPackage as the encoded `MLSMessage` to publish (for example to a
    /// Delivery Service's KeyPackage directory).
    ///
    /// # Errors
    /// [`CodecError`] if a field is too long to encode.
    pub fn to_message_bytes(&self) -> Result<Vec<u8>, CodecError> {
        MlsMessage::KeyPackage(Box::new(self.clone())).to_bytes()
    }
}

impl Size for MlsMessage {
    fn tls_serialized_len(&self) -> usize {
        let body = match self {
            Self::PublicMessage(m) => m.tls_serialized_len(),
            Self::PrivateMessage(m) => m.tls_serialized_len(),
            Self::Welcome(m) => m.tls_serialized_len(),
            Self::GroupInfo(m) => m.tls_serialized_len(),
            Self::KeyPackage(m) => m.tls_serialized_len(),
        };
        body.saturating_add(4)
    }
}

impl Serialize for MlsMessage {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let head = self
            .version()
            .tls_serialize(writer)?
            .saturating_add(self.wire_format().tls_serialize(writer)?);
        let body = match self {
            Self::PublicMessage(m) => m.tls_serialize(writer)?,
            Self::PrivateMessage(m) => m.tls_serialize(writer)?,
            Self::Welcome(m) => m.tls_serialize(writer)?,
            Self::GroupInfo(m) => m.tls_serialize(writer)?,
            Self::KeyPackage(m) => m.tls_serialize(writer)?,
        };
        Ok(head.saturating_add(body))
    }
}

/// Decodes a `T` and wraps it with `wrap`.
fn body<T: DeserializeBytes>(
    bytes: &[u8],
    wrap: impl FnOnce(T) -> MlsMessage,
) -> Result<(MlsMessage, &[u8]), tls_codec::Error> {
    let (value, rest) = T::tls_deserialize_bytes(bytes)?;
    Ok((wrap(value), rest))
}

impl DeserializeBytes for MlsMessage {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (version, rest) = ProtocolVersion::tls_deserialize_bytes(bytes)?;
        if version != ProtocolVersion::MLS10 {
            return Err(CodecError::UnsupportedVersion(version.0).into_tls_decoding());
        }
        let (wire_format, rest) = WireFormat::tls_deserialize_bytes(rest)?;
        match wire_format {
            WireFormat::PublicMessage => {
                charge_box::<PublicMessage>()?;
                body(rest, |m| Self::PublicMessage(Box::new(m)))
            }
            WireFormat::PrivateMessage => body(rest, Self::PrivateMessage),
            WireFormat::Welcome => body(rest, Self::Welcome),
            WireFormat::GroupInfo => {
                charge_box::<GroupInfo>()?;
                body(rest, |m| Self::GroupInfo(Box::new(m)))
            }
            WireFormat::KeyPackage => {
                charge_box::<KeyPackage>()?;
                body(rest, |m| Self::KeyPackage(Box::new(m)))
            }
        }
    }
}
