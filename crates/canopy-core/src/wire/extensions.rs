//! Extensions (RFC 9420 §13.4): the generic [`Extension`], the duplicate-free list
//! [`Extensions`], and typed views of the §13 extensions defined by RFC 9420.
//!
//! An extension's `extension_data` is kept as opaque bytes, because unknown (and GREASE)
//! extensions MUST be carried and ignored. The typed views implement [`ExtensionView`], which
//! decodes `extension_data` exactly and builds an [`Extension`] back.
//!
//! Invariant: an [`Extensions`] list never holds two extensions of the same type (§13.4: "Any
//! field containing a list of extensions MUST NOT have more than one extension of any given
//! type"). Decoding a list with a repeated type fails with
//! [`CodecError::DuplicateExtension`], so [`Extensions::find`] is unambiguous.

use std::io::Write;

use canopy_crypto::{HpkePublicKey, SignaturePublicKey};
use tls_codec::{DeserializeBytes, Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::credential::Credential;
use super::primitives::{CredentialType, ExtensionType, ProposalType};
use crate::codec::{CodecError, Limit, VarBytes, VarVec, charge, decode_elements, split_vector};

/// RFC 9420 §7.2 / §13.4 `Extension`: a type and its opaque data.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Extension {
    /// `ExtensionType extension_type`.
    pub extension_type: ExtensionType,
    /// `opaque extension_data<V>`: the encoded extension body.
    pub extension_data: VarBytes,
}

impl Extension {
    /// RFC 9420 §13.4: an extension of type `extension_type` carrying `extension_data`.
    pub fn new(extension_type: ExtensionType, extension_data: Vec<u8>) -> Self {
        Self {
            extension_type,
            extension_data: VarBytes(extension_data),
        }
    }
}

/// RFC 9420 §13.4 `Extension extensions<V>`: a list of extensions with at most one of each
/// type, in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extensions(Vec<Extension>);

impl Extensions {
    /// RFC 9420 §13.4: a list of `extensions`, in the given order.
    ///
    /// # Errors
    /// [`CodecError::DuplicateExtension`] if two extensions have the same type.
    pub fn new(extensions: Vec<Extension>) -> Result<Self, CodecError> {
        check_unique(&extensions)?;
        Ok(Self(extensions))
    }

    /// RFC 9420 §13.4: the extensions in wire order.
    pub fn as_slice(&self) -> &[Extension] {
        &self.0
    }

    /// RFC 9420 §13.4: the number of extensions.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// RFC 9420 §13.4: whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// RFC 9420 §13.4: the extension of type `extension_type`, if present (there is at most
    /// one).
    pub fn find(&self, extension_type: ExtensionType) -> Option<&Extension> {
        self.0.iter().find(|e| e.extension_type == extension_type)
    }

    /// RFC 9420 §13: decodes the extension of type `T::EXTENSION_TYPE`, if present.
    ///
    /// # Errors
    /// Any [`CodecError`] from decoding its `extension_data` exactly as a `T`.
    pub fn typed<T: ExtensionView>(&self) -> Result<Option<T>, CodecError> {
        self.find(T::EXTENSION_TYPE)
            .map(|e| T::from_extension_data(e.extension_data.as_slice()))
            .transpose()
    }

    /// Replaces the extension of `extension`'s type in place, or appends it.
    #[cfg(feature = "extensions")]
    pub(crate) fn set(&mut self, extension: Extension) {
        match self
            .0
            .iter_mut()
            .find(|e| e.extension_type == extension.extension_type)
        {
            Some(slot) => *slot = extension,
            None => self.0.push(extension),
        }
    }

    /// RFC 9420 §13.4: the extensions, in wire order.
    pub fn into_vec(self) -> Vec<Extension> {
        self.0
    }
}

/// Rejects a list holding two extensions of one type, in O(n log n).
fn check_unique(extensions: &[Extension]) -> Result<(), CodecError> {
    let mut types: Vec<u16> = extensions.iter().map(|e| e.extension_type.0).collect();
    types.sort_unstable();
    match types.windows(2).find_map(|w| match w {
        [a, b] if a == b => Some(*a),
        _ => None,
    }) {
        Some(duplicate) => Err(CodecError::DuplicateExtension(duplicate)),
        None => Ok(()),
    }
}

impl Size for Extensions {
    fn tls_serialized_len(&self) -> usize {
        let body = self
            .0
            .iter()
            .fold(0usize, |acc, e| acc.saturating_add(e.tls_serialized_len()));
        crate::codec::fields::vector::tls_serialized_len(body)
    }
}

impl Serialize for Extensions {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let body = self
            .0
            .iter()
            .fold(0usize, |acc, e| acc.saturating_add(e.tls_serialized_len()));
        let mut written = crate::codec::fields::vector::write_header(body, writer)?;
        for e in &self.0 {
            written = written.saturating_add(e.tls_serialize(writer)?);
        }
        Ok(written)
    }
}

impl DeserializeBytes for Extensions {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (body, rest) = split_vector(bytes).map_err(CodecError::into_tls_decoding)?;
        let list = decode_elements::<Extension>(body, Limit::Extensions)?;
        // The duplicate check sorts a copy of the types.
        charge(list.len().saturating_mul(size_of::<u16>()))?;
        check_unique(&list).map_err(CodecError::into_tls_decoding)?;
        Ok((Self(list), rest))
    }
}

/// A typed view of one RFC 9420 §13 extension: how its `extension_data` is structured.
pub trait ExtensionView: Sized {
    /// The extension type this view decodes.
    const EXTENSION_TYPE: ExtensionType;

    /// RFC 9420 §13: decodes `extension_data` exactly (trailing bytes are an error).
    ///
    /// # Errors
    /// Any [`CodecError`] from decoding.
    fn from_extension_data(extension_data: &[u8]) -> Result<Self, CodecError>;

    /// RFC 9420 §13: encodes this value as an [`Extension`] of type
    /// [`Self::EXTENSION_TYPE`].
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] if a vector inside is longer than 2^30 - 1 bytes.
    fn to_extension(&self) -> Result<Extension, CodecError>;
}

/// Implements [`ExtensionView`] for a type with a derived or hand-written codec.
macro_rules! extension_view {
    ($ty:ty, $code:expr) => {
        impl $crate::wire::ExtensionView for $ty {
            const EXTENSION_TYPE: $crate::wire::ExtensionType = $code;

            fn from_extension_data(
                extension_data: &[u8],
            ) -> Result<Self, $crate::codec::CodecError> {
                $crate::codec::decode_exact(extension_data)
            }

            fn to_extension(&self) -> Result<$crate::wire::Extension, $crate::codec::CodecError> {
                Ok($crate::wire::Extension::new(
                    $code,
                    $crate::codec::encode(self)?,
                ))
            }
        }
    };
}

pub(crate) use extension_view;

/// RFC 9420 §5.3.3 `application_id` extension: `opaque application_id<V>`, an
/// application-defined (and unauthenticated) client identifier in a LeafNode.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ApplicationId {
    /// `opaque application_id<V>`.
    pub application_id: VarBytes,
}

extension_view!(ApplicationId, ExtensionType::APPLICATION_ID);

/// RFC 9420 §11.1 `RequiredCapabilities` (`required_capabilities` GroupContext extension).
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct RequiredCapabilities {
    /// `ExtensionType extension_types<V>`.
    pub extension_types: VarVec<ExtensionType>,
    /// `ProposalType proposal_types<V>`.
    pub proposal_types: VarVec<ProposalType>,
    /// `CredentialType credential_types<V>`.
    pub credential_types: VarVec<CredentialType>,
}

extension_view!(RequiredCapabilities, ExtensionType::REQUIRED_CAPABILITIES);

/// RFC 9420 §12.4.3.2 `ExternalPub` (`external_pub` GroupInfo extension): the HPKE key for
/// external joins.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ExternalPub {
    /// `HPKEPublicKey external_pub`.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub external_pub: HpkePublicKey,
}

extension_view!(ExternalPub, ExtensionType::EXTERNAL_PUB);

/// RFC 9420 §12.1.8.1 `ExternalSender`: one party allowed to send external proposals.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ExternalSender {
    /// `SignaturePublicKey signature_key`.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub signature_key: SignaturePublicKey,
    /// `Credential credential`.
    pub credential: Credential,
}

/// RFC 9420 §12.1.8.1 `ExternalSender external_senders<V>` (`external_senders` GroupContext
/// extension). A `sender_index` in a [`Sender::External`](super::Sender::External) indexes
/// this list.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ExternalSenders {
    /// The senders, in order.
    pub senders: VarVec<ExternalSender>,
}

extension_view!(ExternalSenders, ExtensionType::EXTERNAL_SENDERS);
