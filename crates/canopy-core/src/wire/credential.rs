//! Credentials (RFC 9420 §5.3), capabilities and lifetimes (§7.2): the identity-related parts
//! of a LeafNode.
//!
//! A [`Credential`] with a type other than basic or x509 (and, with the `extensions` feature,
//! multi and weak-multi) cannot be decoded, because its body has no known length; such a value is [`CodecError::InvalidCode`] for
//! [`CodeKind::CredentialType`]. Inside [`Capabilities`], credential types (like every other
//! listed code point) are carried whatever their value, GREASE included (§13.5).

use std::io::Write;

use canopy_crypto::CipherSuite;
use tls_codec::{DeserializeBytes, Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::primitives::{CredentialType, ExtensionType, ProposalType, ProtocolVersion};
use crate::codec::{CodeKind, CodecError, Limit, VarBytes, VarVec, check_count, split_vector};

/// RFC 9420 §5.3 `Certificate`: one DER-encoded X.509 certificate.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Certificate {
    /// `opaque cert_data<V>`: the DER encoding.
    pub cert_data: VarBytes,
}

/// RFC 9420 §5.3 `Credential`: a `CredentialType` and the matching body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// `basic`: `opaque identity<V>`, an application-defined identity.
    Basic {
        /// The identity bytes.
        identity: VarBytes,
    },
    /// `x509`: `Certificate certificates<V>`, end-entity certificate first.
    X509 {
        /// The certificate chain.
        certificates: VarVec<Certificate>,
    },
    /// `multi` (draft-ietf-mls-extensions §Multi-Credentials): `CredentialBinding
    /// bindings<V>`, every one of which each member supports and verifies.
    #[cfg(feature = "extensions")]
    Multi {
        /// The credential bindings, at least one.
        bindings: VarVec<crate::extensions::CredentialBinding>,
    },
    /// `weak-multi` (draft-ietf-mls-extensions §Multi-Credentials): like [`Self::Multi`],
    /// but each member needs to support only one binding, and verifies those it supports.
    #[cfg(feature = "extensions")]
    WeakMulti {
        /// The credential bindings, at least one.
        bindings: VarVec<crate::extensions::CredentialBinding>,
    },
}

impl Credential {
    /// RFC 9420 §5.3: the `credential_type` this credential is encoded with.
    pub fn credential_type(&self) -> CredentialType {
        match self {
            Self::Basic { .. } => CredentialType::BASIC,
            Self::X509 { .. } => CredentialType::X509,
            #[cfg(feature = "extensions")]
            Self::Multi { .. } => CredentialType::MULTI,
            #[cfg(feature = "extensions")]
            Self::WeakMulti { .. } => CredentialType::WEAK_MULTI,
        }
    }

    /// The bindings of a `multi` or `weak-multi` credential (draft-ietf-mls-extensions
    /// §Multi-Credentials), `None` for any other.
    #[cfg(feature = "extensions")]
    pub fn bindings(&self) -> Option<&[crate::extensions::CredentialBinding]> {
        match self {
            Self::Multi { bindings } | Self::WeakMulti { bindings } => Some(bindings.as_slice()),
            Self::Basic { .. } | Self::X509 { .. } => None,
        }
    }
}

impl Size for Credential {
    fn tls_serialized_len(&self) -> usize {
        let body = match self {
            Self::Basic { identity } => identity.tls_serialized_len(),
            Self::X509 { certificates } => certificates.tls_serialized_len(),
            #[cfg(feature = "extensions")]
            Self::Multi { bindings } | Self::WeakMulti { bindings } => {
                bindings.tls_serialized_len()
            }
        };
        body.saturating_add(2)
    }
}

impl Serialize for Credential {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let head = self.credential_type().tls_serialize(writer)?;
        let body = match self {
            Self::Basic { identity } => identity.tls_serialize(writer)?,
            Self::X509 { certificates } => certificates.tls_serialize(writer)?,
            #[cfg(feature = "extensions")]
            Self::Multi { bindings } | Self::WeakMulti { bindings } => {
                bindings.tls_serialize(writer)?
            }
        };
        Ok(head.saturating_add(body))
    }
}

impl DeserializeBytes for Credential {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (credential_type, rest) = CredentialType::tls_deserialize_bytes(bytes)?;
        #[cfg(feature = "extensions")]
        if matches!(
            credential_type,
            CredentialType::MULTI | CredentialType::WEAK_MULTI
        ) {
            let (body, rest) = split_vector(rest).map_err(CodecError::into_tls_decoding)?;
            check_count(Limit::CredentialLen, body.len())?;
            // Each binding costs a signature and an Authentication Service check: their
            // number is bounded while decoding, and a binding's own credential cannot be a
            // multi-credential (`CredentialBinding`'s decoder refuses it).
            let bindings = VarVec(crate::codec::decode_elements(
                body,
                Limit::CredentialBindings,
            )?);
            let credential = if credential_type == CredentialType::MULTI {
                Self::Multi { bindings }
            } else {
                Self::WeakMulti { bindings }
            };
            return Ok((credential, rest));
        }
        if matches!(
            credential_type,
            CredentialType::BASIC | CredentialType::X509
        ) {
            // Both bodies are one `<V>` vector: its declared length is checked before any of
            // it is copied or decoded.
            let (body, _) = split_vector(rest).map_err(CodecError::into_tls_decoding)?;
            check_count(Limit::CredentialLen, body.len())?;
        }
        match credential_type {
            CredentialType::BASIC => {
                let (identity, rest) = VarBytes::tls_deserialize_bytes(rest)?;
                Ok((Self::Basic { identity }, rest))
            }
            CredentialType::X509 => {
                let (certificates, rest) = VarVec::tls_deserialize_bytes(rest)?;
                Ok((Self::X509 { certificates }, rest))
            }
            CredentialType(value) => Err(CodecError::InvalidCode {
                kind: CodeKind::CredentialType,
                value,
            }
            .into_tls_decoding()),
        }
    }
}

/// RFC 9420 §7.2 `Capabilities`: what a client supports. Every list may hold values unknown
/// to this implementation, GREASE included; they are carried, never rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Capabilities {
    /// `ProtocolVersion versions<V>`.
    pub versions: VarVec<ProtocolVersion>,
    /// `CipherSuite cipher_suites<V>`.
    #[tls_codec(with = "super::primitives::cipher_suite_list")]
    pub cipher_suites: Vec<CipherSuite>,
    /// `ExtensionType extensions<V>`: the non-default extension types supported.
    pub extensions: VarVec<ExtensionType>,
    /// `ProposalType proposals<V>`: the non-default proposal types supported.
    pub proposals: VarVec<ProposalType>,
    /// `CredentialType credentials<V>`.
    pub credentials: VarVec<CredentialType>,
}

/// RFC 9420 §7.2 `Lifetime`: the validity window of a key-package leaf, in seconds since the
/// Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Lifetime {
    /// `uint64 not_before`.
    pub not_before: u64,
    /// `uint64 not_after`.
    pub not_after: u64,
}
