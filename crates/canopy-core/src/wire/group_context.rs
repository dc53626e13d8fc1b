//! The GroupContext (RFC 9420 §8.1): the summary of group state that every member agrees on
//! and that the key schedule binds.
//!
//! `version` is carried as decoded: the struct is written `ProtocolVersion version = mls10`,
//! but rejecting other values is left to validation, since a GroupContext is only reached
//! inside an MLSMessage that was already checked to be mls10.

use canopy_crypto::CipherSuite;
use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::extensions::Extensions;
use super::primitives::ProtocolVersion;
use crate::codec::VarBytes;

/// RFC 9420 §8.1 `GroupContext`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct GroupContext {
    /// `ProtocolVersion version = mls10`.
    pub version: ProtocolVersion,
    /// `CipherSuite cipher_suite`.
    #[tls_codec(with = "super::primitives::cipher_suite")]
    pub cipher_suite: CipherSuite,
    /// `opaque group_id<V>`.
    pub group_id: VarBytes,
    /// `uint64 epoch`.
    pub epoch: u64,
    /// `opaque tree_hash<V>`: the root tree hash (§7.8).
    pub tree_hash: VarBytes,
    /// `opaque confirmed_transcript_hash<V>` (§8.2).
    pub confirmed_transcript_hash: VarBytes,
    /// `Extension extensions<V>`: the group's extensions.
    pub extensions: Extensions,
}
