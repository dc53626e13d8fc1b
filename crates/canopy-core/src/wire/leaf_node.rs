//! The LeafNode (RFC 9420 §7.2): a member's (or a KeyPackage's) public keys, credential,
//! capabilities and signature, and the `LeafNodeTBS` input its signature covers.
//!
//! `leaf_node_source` selects a body: a [`Lifetime`] for `key_package`, nothing for `update`,
//! a `parent_hash` for `commit`. Any other source value, `reserved(0)` included, is
//! [`CodecError::InvalidCode`] for [`CodeKind::LeafNodeSource`].

use std::io::Write;

use canopy_crypto::{HpkePublicKey, SignaturePublicKey};
use tls_codec::{DeserializeBytes, Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::credential::{Capabilities, Credential, Lifetime};
use super::extensions::Extensions;
use crate::codec::fields::opaque;
use crate::codec::{CodeKind, CodecError, VarBytes};

/// RFC 9420 §7.2 `LeafNodeSource` with its `select` body: how the leaf entered the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeafNodeSource {
    /// `key_package(1)`: the leaf of a KeyPackage, valid during `lifetime`.
    KeyPackage(Lifetime),
    /// `update(2)`: the leaf of an Update proposal.
    Update,
    /// `commit(3)`: the leaf of a Commit's UpdatePath, with its `opaque parent_hash<V>`.
    Commit(VarBytes),
}

impl LeafNodeSource {
    /// RFC 9420 §7.2: the `LeafNodeSource` code point (1, 2 or 3).
    pub fn value(&self) -> u8 {
        match self {
            Self::KeyPackage(_) => 1,
            Self::Update => 2,
            Self::Commit(_) => 3,
        }
    }
}

impl Size for LeafNodeSource {
    fn tls_serialized_len(&self) -> usize {
        let body = match self {
            Self::KeyPackage(lifetime) => lifetime.tls_serialized_len(),
            Self::Update => 0,
            Self::Commit(parent_hash) => parent_hash.tls_serialized_len(),
        };
        body.saturating_add(1)
    }
}

impl Serialize for LeafNodeSource {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let head = self.value().tls_serialize(writer)?;
        let body = match self {
            Self::KeyPackage(lifetime) => lifetime.tls_serialize(writer)?,
            Self::Update => 0,
            Self::Commit(parent_hash) => parent_hash.tls_serialize(writer)?,
        };
        Ok(head.saturating_add(body))
    }
}

impl DeserializeBytes for LeafNodeSource {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (source, rest) = u8::tls_deserialize_bytes(bytes)?;
        match source {
            1 => {
                let (lifetime, rest) = Lifetime::tls_deserialize_bytes(rest)?;
                Ok((Self::KeyPackage(lifetime), rest))
            }
            2 => Ok((Self::Update, rest)),
            3 => {
                let (parent_hash, rest) = VarBytes::tls_deserialize_bytes(rest)?;
                Ok((Self::Commit(parent_hash), rest))
            }
            value => Err(CodecError::InvalidCode {
                kind: CodeKind::LeafNodeSource,
                value: u16::from(value),
            }
            .into_tls_decoding()),
        }
    }
}

/// RFC 9420 §7.2 `LeafNode`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct LeafNode {
    /// `HPKEPublicKey encryption_key`.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub encryption_key: HpkePublicKey,
    /// `SignaturePublicKey signature_key`.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub signature_key: SignaturePublicKey,
    /// `Credential credential`.
    pub credential: Credential,
    /// `Capabilities capabilities`.
    pub capabilities: Capabilities,
    /// `LeafNodeSource leaf_node_source` and its `select` body.
    pub leaf_node_source: LeafNodeSource,
    /// `Extension extensions<V>`.
    pub extensions: Extensions,
    /// `opaque signature<V>`: `SignWithLabel(., "LeafNodeTBS", LeafNodeTBS)`.
    pub signature: VarBytes,
}

impl LeafNode {
    /// RFC 9420 §7.2: the encoded `LeafNodeTBS`, the content of the leaf's signature.
    ///
    /// For the `update` and `commit` sources the group's `group_id` and the leaf's
    /// `leaf_index` are appended as signature context; for `key_package` they are not part of
    /// the structure and are ignored, so a caller that knows the group may always pass them.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] if a vector is longer than 2^30 - 1 bytes.
    pub fn tbs_bytes(&self, group_id: &[u8], leaf_index: u32) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(self.tls_serialized_len().saturating_add(64));
        self.write_tbs(&mut out, group_id, leaf_index)?;
        Ok(out)
    }

    fn write_tbs(
        &self,
        out: &mut Vec<u8>,
        group_id: &[u8],
        leaf_index: u32,
    ) -> Result<(), tls_codec::Error> {
        opaque::tls_serialize(&self.encryption_key, out)?;
        opaque::tls_serialize(&self.signature_key, out)?;
        self.credential.tls_serialize(out)?;
        self.capabilities.tls_serialize(out)?;
        self.leaf_node_source.tls_serialize(out)?;
        self.extensions.tls_serialize(out)?;
        match self.leaf_node_source {
            LeafNodeSource::KeyPackage(_) => {}
            LeafNodeSource::Update | LeafNodeSource::Commit(_) => {
                opaque::tls_serialize(&group_id, out)?;
                leaf_index.tls_serialize(out)?;
            }
        }
        Ok(())
    }
}
