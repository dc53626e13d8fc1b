//! The KeyPackage (RFC 9420 §10): a client's pre-published offer to be added to a group, and
//! the `KeyPackageTBS` input its signature covers.
//!
//! Decoding carries `version` and `cipher_suite` whatever their values; that they match the
//! enclosing MLSMessage and a supported suite is checked by KeyPackage validation (§10.1).

use canopy_crypto::{CipherSuite, HpkePublicKey};
use tls_codec::{Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::extensions::Extensions;
use super::leaf_node::LeafNode;
use super::primitives::ProtocolVersion;
use crate::codec::fields::opaque;
use crate::codec::{CodecError, VarBytes};

/// RFC 9420 §10 `KeyPackage`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct KeyPackage {
    /// `ProtocolVersion version`.
    pub version: ProtocolVersion,
    /// `CipherSuite cipher_suite`.
    #[tls_codec(with = "super::primitives::cipher_suite")]
    pub cipher_suite: CipherSuite,
    /// `HPKEPublicKey init_key`: the key a Welcome is encrypted to.
    #[tls_codec(with = "crate::codec::fields::opaque")]
    pub init_key: HpkePublicKey,
    /// `LeafNode leaf_node`: the leaf the client will occupy.
    pub leaf_node: LeafNode,
    /// `Extension extensions<V>`.
    pub extensions: Extensions,
    /// `opaque signature<V>`: `SignWithLabel(., "KeyPackageTBS", KeyPackageTBS)`.
    pub signature: VarBytes,
}

impl KeyPackage {
    /// RFC 9420 §10: the encoded `KeyPackageTBS` (every field but `signature`), the content of
    /// the KeyPackage's signature.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] if a vector is longer than 2^30 - 1 bytes.
    pub fn tbs_bytes(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(self.tls_serialized_len());
        self.version.tls_serialize(&mut out)?;
        super::primitives::cipher_suite::tls_serialize(&self.cipher_suite, &mut out)?;
        opaque::tls_serialize(&self.init_key, &mut out)?;
        self.leaf_node.tls_serialize(&mut out)?;
        self.extensions.tls_serialize(&mut out)?;
        Ok(out)
    }
}
