//! RFC 9420 structs exactly as they travel on the wire: plain data with byte-exact codecs and
//! no cryptographic or group logic.
//!
//! | module | RFC 9420 | types |
//! |---|---|---|
//! | `primitives` | §6, §17 | [`ProtocolVersion`], [`WireFormat`], [`ContentType`], [`SenderType`], [`ExtensionType`], [`ProposalType`], [`CredentialType`] |
//! | `credential` | §5.3, §7.2 | [`Credential`], [`Certificate`], [`Capabilities`], [`Lifetime`] |
//! | `extensions` | §13 | [`Extension`], [`Extensions`], [`ExtensionView`], [`ApplicationId`], [`RequiredCapabilities`], [`ExternalPub`], [`ExternalSenders`] |
//! | `leaf_node` | §7.2 | [`LeafNode`], [`LeafNodeSource`] |
//! | `key_package` | §10 | [`KeyPackage`] |
//! | `tree` | §7.1, §7.6, §12.4.3.3 | [`ParentNode`], [`Node`], [`RatchetTree`], [`UpdatePath`], [`UpdatePathNode`], [`HpkeCiphertext`], [`HpkeCiphertexts`] |
//! | `proposals` | §8.4, §12.1 | [`Proposal`] and its bodies, [`PreSharedKeyId`], [`ProposalOrRef`] |
//! | `commit` | §12.4 | [`Commit`] |
//! | `group_context` | §8.1 | [`GroupContext`] |
//! | `group_info` | §12.4.3 | [`GroupInfo`] |
//! | `welcome` | §12.4.3.1 | [`Welcome`], [`EncryptedGroupSecrets`], [`GroupSecrets`], [`PathSecret`] |
//! | `framing` | §6 | [`Sender`], [`FramedContent`], [`FramedContentAuthData`], [`AuthenticatedContent`], [`PublicMessage`], [`PrivateMessage`], [`PrivateMessageContent`], [`SenderData`] |
//! | `message` | §6 | [`MlsMessage`] |
//!
//! # Decoding
//!
//! [`MlsMessage::from_bytes`] is the entry point for network input; every other top-level
//! struct has `from_bytes`/`to_bytes` too. All of them decode *exactly* (trailing bytes are
//! [`CodecError::TrailingBytes`](crate::codec::CodecError::TrailingBytes)) and re-encode to the
//! same bytes: every length is a minimal varint and every field has one encoding.
//!
//! Values RFC 9420 disallows are decode errors with typed
//! [`CodecError`](crate::codec::CodecError) variants:
//! - an MLSMessage version other than mls10: `UnsupportedVersion`;
//! - reserved or undefined closed code points (wire format, content type, sender type, leaf
//!   node source, node type, PSK type, resumption usage, ProposalOrRef type) and proposal or
//!   credential types whose bodies cannot be delimited: `InvalidCode` naming the
//!   [`CodeKind`](crate::codec::CodeKind);
//! - an `optional<T>` presence octet other than 0 or 1: `InvalidPresence`;
//! - two extensions of one type in a list: `DuplicateExtension`;
//! - a ratchet tree that is empty, ends in a blank node or has a node type at the wrong
//!   parity: `TrailingBlankNode`, `MisplacedNode`.
//!
//! Everything that needs group state, keys or policy (signatures, tags, lifetimes, capability
//! checks, which sender may send what) is validated by later layers, not here. Values that
//! must be *carried* when unknown (capability lists, extension types, GREASE) are open `u16`
//! newtypes and never rejected.
//!
//! # Cost
//!
//! Decoding is a single pass: each vector's body is bounds-checked before use, allocation is
//! charged to a budget proportional to the input before it happens (the bound is in the
//! [`codec`](crate::codec) module docs), and each byte string is copied once into its owned
//! field. The receiver's [`Limits`](crate::codec::Limits) cap the input length, list lengths,
//! tree leaves and credential sizes as they are decoded. Encoding sizes each value once per
//! nesting level.
#![warn(clippy::arithmetic_side_effects)]

mod commit;
mod credential;
mod extensions;
#[cfg(feature = "extensions")]
pub(crate) use extensions::extension_view;
mod framing;
mod group_context;
mod group_info;
mod key_package;
mod leaf_node;
mod message;
pub(crate) mod primitives;
mod proposals;
mod tree;
mod welcome;

#[cfg(test)]
mod tests;

pub use commit::Commit;
pub use credential::{Capabilities, Certificate, Credential, Lifetime};
pub use extensions::{
    ApplicationId, Extension, ExtensionView, Extensions, ExternalPub, ExternalSender,
    ExternalSenders, RequiredCapabilities,
};
pub use framing::{
    AuthenticatedContent, FramedContent, FramedContentAuthData, FramedContentBody,
    PrivateContentAad, PrivateMessage, PrivateMessageContent, PublicMessage, Sender, SenderData,
    SenderDataAad,
};
pub use group_context::GroupContext;
pub use group_info::GroupInfo;
pub use key_package::KeyPackage;
pub use leaf_node::{LeafNode, LeafNodeSource};
pub use message::MlsMessage;
pub use primitives::{
    ContentType, CredentialType, ExtensionType, ProposalType, ProtocolVersion, SenderType,
    WireFormat,
};
#[cfg(feature = "extensions")]
pub use proposals::SelfRemove;
pub use proposals::{
    Add, ExternalInit, GroupContextExtensions, PreSharedKey, PreSharedKeyId, Proposal,
    ProposalOrRef, Psk, PskType, ReInit, Remove, ResumptionPskUsage, Update,
};
#[cfg(feature = "extensions")]
pub use proposals::{AppDataOp, AppDataUpdate, AppEphemeral};
pub use tree::{
    HpkeCiphertext, HpkeCiphertexts, Node, NodeType, ParentNode, RatchetTree, UpdatePath,
    UpdatePathNode,
};
pub use welcome::{EncryptedGroupSecrets, GroupSecrets, PathSecret, Welcome};

/// Adds `from_bytes` (exact decoding) and `to_bytes` to wire structs.
macro_rules! exact_bytes {
    ($($ty:ty),+ $(,)?) => {$(
        impl $ty {
            /// RFC 9420 §2.1: decodes one complete value from `bytes`; trailing bytes are an
            /// error.
            ///
            /// # Errors
            /// [`CodecError::TrailingBytes`](crate::codec::CodecError::TrailingBytes) if bytes
            /// remain, or the [`CodecError`](crate::codec::CodecError) of whatever part of the
            /// value failed to decode.
            ///
            /// Decodes under the active [`Limits`](crate::codec::Limits): the default ones,
            /// unless called inside an operation that has its own.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::codec::CodecError> {
                crate::codec::decode_exact(bytes)
            }

            /// RFC 9420 §2.1: [`Self::from_bytes`] under `limits`.
            ///
            /// # Errors
            /// As [`Self::from_bytes`];
            /// [`CodecError::LimitExceeded`](crate::codec::CodecError::LimitExceeded) for
            /// input beyond `limits`, before the work it would cause.
            pub fn from_bytes_with_limits(
                bytes: &[u8],
                limits: &crate::codec::Limits,
            ) -> Result<Self, crate::codec::CodecError> {
                crate::codec::decode_exact_with_limits(bytes, limits)
            }

            /// RFC 9420 §2.1: encodes this value.
            ///
            /// # Errors
            /// [`CodecError::LengthTooLarge`](crate::codec::CodecError::LengthTooLarge) for a
            /// vector longer than 2^30 - 1 bytes, or
            /// [`CodecError::FieldPresenceMismatch`](crate::codec::CodecError::FieldPresenceMismatch)
            /// for a conditional field that disagrees with its selector.
            pub fn to_bytes(&self) -> Result<Vec<u8>, crate::codec::CodecError> {
                crate::codec::encode(self)
            }
        }
    )+};
}

exact_bytes!(
    Credential,
    Capabilities,
    Extensions,
    LeafNode,
    KeyPackage,
    ParentNode,
    Node,
    RatchetTree,
    UpdatePath,
    Add,
    Update,
    Remove,
    PreSharedKey,
    PreSharedKeyId,
    ReInit,
    ExternalInit,
    GroupContextExtensions,
    Proposal,
    ProposalOrRef,
    Commit,
    GroupContext,
    GroupInfo,
    GroupSecrets,
    Welcome,
    FramedContent,
    AuthenticatedContent,
    PublicMessage,
    PrivateMessage,
    SenderData,
);
