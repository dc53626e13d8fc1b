//! Errors of KeyPackage and LeafNode creation and validation.

use canopy_crypto::{CipherSuite, CryptoError};

use super::credential::CredentialRejected;
use crate::codec::CodecError;
use crate::crypto::MlsCryptoError;
use crate::wire::{CredentialType, ExtensionType, ProposalType, ProtocolVersion};

/// Why a KeyPackage or LeafNode could not be created, or is invalid (RFC 9420 §5.3, §7.2,
/// §7.3, §10, §10.1).
///
/// Each validation variant names one rule; its doc line cites the section that states it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyPackageError {
    /// A structure did not encode or decode (including a malformed `required_capabilities` or
    /// `last_resort` extension body).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A cryptographic function failed for a reason other than a bad signature (key
    /// generation, signing, an unsupported suite).
    #[error(transparent)]
    Crypto(#[from] MlsCryptoError),

    // ----- §5.3.1 credentials -----
    /// RFC 9420 §5.3.1: the Authentication Service (the application's
    /// [`CredentialValidator`](super::CredentialValidator)) rejected the credential.
    #[error(transparent)]
    CredentialRejected(#[from] CredentialRejected),
    /// RFC 9420 §5.3.1: the new credential of an Update or Commit is not a valid successor of
    /// the credential it replaces.
    #[error("the new credential is not a valid successor of the old one")]
    InvalidCredentialSuccessor,

    // ----- §7.3 leaf node validation -----
    /// RFC 9420 §7.3: the LeafNode signature does not verify under its `signature_key`.
    #[error("LeafNode signature does not verify")]
    BadLeafNodeSignature,
    /// RFC 9420 §7.3: `leaf_node_source` is not the one required where the leaf appears
    /// (`key_package` in a KeyPackage, `update` in an Update, `commit` in an UpdatePath).
    #[error("leaf_node_source is {got}, expected {expected}")]
    WrongLeafNodeSource {
        /// The source code point required (1 key_package, 2 update, 3 commit).
        expected: u8,
        /// The source code point the leaf carries.
        got: u8,
    },
    /// RFC 9420 §7.3: an Update's `encryption_key` equals that of the leaf it replaces.
    #[error("an Update leaf must change its encryption_key")]
    UpdateEncryptionKeyUnchanged,
    /// RFC 9420 §10 / §5.1: the leaf's `encryption_key` is not a public key of the cipher
    /// suite's KEM (wrong length).
    #[error("encryption_key of {len} bytes is not a key of the suite's KEM")]
    InvalidEncryptionKey {
        /// The key length received.
        len: usize,
    },
    /// RFC 9420 §7.2: the credential type in use is not listed in the leaf's own
    /// `capabilities.credentials`.
    #[error("credential type {0:?} is not listed in the leaf's capabilities")]
    CredentialTypeNotInCapabilities(CredentialType),
    /// RFC 9420 §11.1: the leaf's capabilities do not list the group's protocol version.
    #[error("protocol version {0:?} is not listed in the leaf's capabilities")]
    VersionNotInCapabilities(ProtocolVersion),
    /// RFC 9420 §7.2, §7.3: a non-default extension in the LeafNode's `extensions` is not
    /// listed in its `capabilities.extensions`.
    #[error("leaf extension {0:?} is not listed in the leaf's capabilities")]
    LeafExtensionNotInCapabilities(ExtensionType),
    /// RFC 9420 §17.3: an extension type whose registered "Message(s)" do not include
    /// LeafNodes (LN) appears in a LeafNode's `extensions`.
    #[error("extension {0:?} may not appear in a LeafNode")]
    ExtensionNotAllowedInLeafNode(ExtensionType),
    /// RFC 9420 §7.3, §11.1: an extension type required by the group's
    /// `required_capabilities` is not in the leaf's capabilities.
    #[error("required extension {0:?} is not supported by the leaf")]
    RequiredExtensionUnsupported(ExtensionType),
    /// RFC 9420 §7.3, §11.1: a proposal type required by the group's
    /// `required_capabilities` is not in the leaf's capabilities.
    #[error("required proposal {0:?} is not supported by the leaf")]
    RequiredProposalUnsupported(ProposalType),
    /// RFC 9420 §7.3, §11.1: a credential type required by the group's
    /// `required_capabilities` is not in the leaf's capabilities.
    #[error("required credential type {0:?} is not supported by the leaf")]
    RequiredCredentialUnsupported(CredentialType),
    /// RFC 9420 §13.4: the leaf's capabilities do not list a (non-default) extension that is
    /// in the group's GroupContext.
    #[error("group context extension {0:?} is not supported by the leaf")]
    GroupContextExtensionUnsupported(ExtensionType),
    /// RFC 9420 §7.3: the current time is outside the key-package leaf's `lifetime`.
    #[error("time {now} is outside the lifetime {not_before}..={not_after}")]
    OutsideLifetime {
        /// The time checked against.
        now: u64,
        /// `lifetime.not_before`.
        not_before: u64,
        /// `lifetime.not_after`.
        not_after: u64,
    },
    /// RFC 9420 §7.2: the lifetime is longer than the application's maximum total lifetime.
    #[error("lifetime of {total} s exceeds the maximum of {max} s")]
    LifetimeTooLong {
        /// `not_after - not_before`.
        total: u64,
        /// The application's maximum.
        max: u64,
    },
    /// RFC 9420 §7.2: `not_before` is after `not_after`, so the lifetime is empty.
    #[error("lifetime ends before it begins")]
    InvertedLifetime,

    // ----- §7.3 checks against the other members (helpers the tree calls) -----
    /// RFC 9420 §7.3, §13.3: a member of the group does not support the leaf's credential
    /// type.
    #[error("credential type {0:?} is not supported by every member")]
    CredentialTypeUnsupportedByMember(CredentialType),
    /// RFC 9420 §7.3, §13.3: the leaf does not support a credential type in use by another
    /// member.
    #[error("the leaf does not support credential type {0:?}, in use by a member")]
    MemberCredentialTypeUnsupported(CredentialType),
    /// RFC 9420 §7.3: another member already uses this `signature_key`.
    #[error("signature_key is already used by a member")]
    DuplicateSignatureKey,
    /// RFC 9420 §7.3: another member already uses this `encryption_key`.
    #[error("encryption_key is already used by a member")]
    DuplicateEncryptionKey,

    // ----- §10 / §10.1 key packages -----
    /// RFC 9420 §10.1: the KeyPackage's protocol version is not the group's.
    #[error("KeyPackage version {got:?}, expected {expected:?}")]
    VersionMismatch {
        /// The group's version.
        expected: ProtocolVersion,
        /// The KeyPackage's version.
        got: ProtocolVersion,
    },
    /// RFC 9420 §10.1: the KeyPackage's cipher suite is not the group's.
    #[error("KeyPackage cipher suite {got:?}, expected {expected:?}")]
    CipherSuiteMismatch {
        /// The group's suite.
        expected: CipherSuite,
        /// The KeyPackage's suite.
        got: CipherSuite,
    },
    /// RFC 9420 §10.1: the KeyPackage signature does not verify under
    /// `leaf_node.signature_key`.
    #[error("KeyPackage signature does not verify")]
    BadKeyPackageSignature,
    /// RFC 9420 §10: `init_key` is not a public key of the cipher suite's KEM (wrong length).
    #[error("init_key of {len} bytes is not a key of the suite's KEM")]
    InvalidInitKey {
        /// The key length received.
        len: usize,
    },
    /// RFC 9420 §10.1: `init_key` equals `leaf_node.encryption_key`.
    #[error("init_key equals the leaf's encryption_key")]
    InitKeyIsEncryptionKey,
    /// RFC 9420 §17.3: an extension type whose registered "Message(s)" do not include
    /// KeyPackages (KP) appears in `KeyPackage.extensions`.
    #[error("extension {0:?} may not appear in a KeyPackage")]
    ExtensionNotAllowedInKeyPackage(ExtensionType),
}

impl From<CryptoError> for KeyPackageError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(MlsCryptoError::Crypto(e))
    }
}
