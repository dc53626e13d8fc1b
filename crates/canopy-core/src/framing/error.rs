//! Errors of message protection.

use crate::codec::CodecError;
use crate::crypto::MlsCryptoError;
use crate::schedule::ScheduleError;
use crate::wire::{ContentType, Sender, SenderType};

/// Why a message could not be protected or unprotected (RFC 9420 §6).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// A structure did not decode, or could not be encoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A cryptographic function failed for a reason other than a bad signature or tag.
    #[error(transparent)]
    Crypto(#[from] MlsCryptoError),
    /// The secret tree refused the key: a replay, a generation beyond the out-of-order
    /// policy, or a leaf outside the tree (RFC 9420 §9.2).
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// RFC 9420 §6.2: application data MUST NOT be sent or accepted as a PublicMessage.
    #[error("application data in a PublicMessage")]
    ApplicationDataInPublicMessage,
    /// RFC 9420 §6: the message names another group.
    #[error("the message belongs to another group")]
    WrongGroup,
    /// RFC 9420 §6: the message is for another epoch than the one it was opened with.
    #[error("the message is for epoch {got}, expected {expected}")]
    WrongEpoch {
        /// The epoch of the keys it was opened with.
        expected: u64,
        /// The epoch the message names.
        got: u64,
    },
    /// RFC 9420 §6: this sender type cannot send this content (`new_member_commit` sends only
    /// commits, `new_member_proposal` only Add proposals, `external` only proposals).
    #[error("a {sender:?} sender cannot send {content:?} content")]
    SenderCannotSend {
        /// The sender type.
        sender: SenderType,
        /// The content type.
        content: ContentType,
    },
    /// RFC 9420 §6.3: a PrivateMessage is always sent by a member.
    #[error("only members send PrivateMessages")]
    PrivateSenderNotMember,
    /// The content was signed for another wire format than it is being protected with.
    #[error("the content was signed for another wire format")]
    WireFormatMismatch,
    /// A member's PublicMessage needs the membership key (RFC 9420 §6.2); the caller did not
    /// give it.
    #[error("a member's PublicMessage needs the membership key")]
    MissingMembershipKey,
    /// A member's or new member's content signs the GroupContext (RFC 9420 §6.1); the caller
    /// did not give it.
    #[error("the sender signs the GroupContext, which was not given")]
    MissingGroupContext,
    /// RFC 9420 §6.2: the membership tag does not verify.
    #[error("membership tag does not verify")]
    BadMembershipTag,
    /// RFC 9420 §6.1: the signature does not verify under the sender's key.
    #[error("signature does not verify")]
    BadSignature,
    /// RFC 9420 §6.3.2: the sender data does not decrypt.
    #[error("sender data does not decrypt")]
    SenderDataUndecryptable,
    /// RFC 9420 §6.3.1: the content does not decrypt with the sender's key.
    #[error("content does not decrypt")]
    ContentUndecryptable,
    /// RFC 9420 §6.3.2: the sender is not one the caller knows (a blank leaf, an index past
    /// the `external_senders` list, or no key for it).
    #[error("unknown sender {sender:?}")]
    UnknownSender {
        /// The sender the message names.
        sender: Sender,
    },
}

impl FramingError {
    /// The rule of [`crate::rules`] this error reports as broken, if any.
    pub fn rule(&self) -> Option<crate::rules::Rule> {
        use crate::rules::Rule;
        match self {
            Self::ApplicationDataInPublicMessage => Some(Rule::FramingPublicApplication),
            Self::WrongGroup => Some(Rule::FramingGroupId),
            Self::WrongEpoch { .. } => Some(Rule::FramingEpoch),
            Self::SenderCannotSend { .. } => Some(Rule::FramingSenderContent),
            Self::BadMembershipTag => Some(Rule::FramingMembershipTag),
            Self::BadSignature => Some(Rule::FramingSignature),
            Self::SenderDataUndecryptable | Self::ContentUndecryptable => {
                Some(Rule::FramingDecrypt)
            }
            Self::UnknownSender { .. } => Some(Rule::FramingSender),
            Self::Schedule(e) => e.rule(),
            Self::Codec(e) => e.rule(),
            _ => None,
        }
    }
}
