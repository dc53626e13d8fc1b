//! Errors of the group engine.

use crate::codec::CodecError;
use crate::crypto::MlsCryptoError;
use crate::framing::FramingError;
use crate::join::JoinError;
use crate::key_package::KeyPackageError;
use crate::rules::{Rule, Violation};
use crate::schedule::ScheduleError;
use crate::tree::TreeError;

/// Why a group operation failed. On any error the group is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    /// Bytes did not decode, or a value could not be encoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A cryptographic function failed.
    #[error(transparent)]
    Crypto(#[from] MlsCryptoError),
    /// Message protection rejected the message (RFC 9420 §6).
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// A tree operation failed for a reason other than a broken rule (those are
    /// [`GroupError::Invalid`]).
    #[error(transparent)]
    Tree(TreeError),
    /// The key schedule or secret tree failed (RFC 9420 §8, §9).
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// A Welcome or GroupInfo was rejected (RFC 9420 §12.4.3).
    #[error(transparent)]
    Join(#[from] JoinError),
    /// KeyPackage or LeafNode creation failed for a reason other than a broken rule (those are
    /// [`GroupError::Invalid`]).
    #[error(transparent)]
    KeyPackage(KeyPackageError),
    /// A rule of RFC 9420 (or the application's policy) was broken: the [`Violation`] names
    /// it ([`Violation::rule`]) and where.
    #[error(transparent)]
    Invalid(Violation),
    /// The message is for another group.
    #[error("the message is for another group")]
    WrongGroup,
    /// The message is for an epoch this group does not have keys for (too old, or future).
    #[error("no keys for epoch {epoch} (current epoch {current})")]
    UnknownEpoch {
        /// The message's epoch.
        epoch: u64,
        /// The group's current epoch.
        current: u64,
    },
    /// The wire format cannot be processed by a group (Welcome, GroupInfo, KeyPackage).
    #[error("not a group message")]
    NotAGroupMessage,
    /// A PublicMessage proposal or commit of a retained past epoch whose membership key is
    /// not known (the epoch was saved in a state format before 3), so it cannot be checked.
    /// (Otherwise such messages are reported as `ProcessedMessage::PastHandshake`.)
    #[error("handshake message of a past epoch whose membership key is not kept")]
    PastEpochHandshake,
    /// A PrivateMessage of ours came back (a Delivery Service echoes what we sent): its key
    /// was consumed when we sent it (RFC 9420 §9.2), and we know its content already. Our
    /// own commits are recognised instead (`ProcessedMessage::OwnCommit`).
    #[error("a message we sent ourselves")]
    OwnMessage,
    /// RFC 9420 §8.4: a PSK named by a proposal or Welcome is not available.
    #[error("PSK not available")]
    MissingPsk,
    /// RFC 9420 §12.4.3.1: the joiner needs the ratchet tree, and neither the GroupInfo nor
    /// the caller supplied it.
    #[error("no ratchet tree")]
    MissingRatchetTree,
    /// The operation needs a commit of ours to be pending, and none is.
    #[error("no pending commit")]
    NoPendingCommit,
    /// A commit of ours is pending: merge or discard it before committing again.
    #[error("a commit is already pending")]
    CommitPending,
    /// A staged or pending commit is for another epoch than the group's current one.
    #[error("the staged commit is for another epoch")]
    StaleCommit,
    /// RFC 9420 §11.2: the group ended with a ReInit; nothing more may be sent in it.
    #[error("the group ended with a ReInit")]
    GroupEnded,
    /// RFC 9420 §11.2: a successor was asked for a group that did not end with a ReInit.
    #[error("the group did not end with a ReInit")]
    NotEnded,
    /// This member was removed from the group and cannot send.
    #[error("this member is no longer in the group")]
    NotAMember,
    /// RFC 9420 §12.1.3: a message of an epoch this client is not a member of: the commit
    /// that started `epoch` removed it ([`MembershipStatus::Removed`](super::MembershipStatus)).
    #[error("this client was removed from the group in epoch {epoch}")]
    Removed {
        /// The first epoch this client is not a member of.
        epoch: u64,
    },
    /// A valid message that Canopy does not process yet.
    #[error("not supported yet: {0}")]
    Unsupported(&'static str),
    /// A group state record could not be read: its content is inconsistent (the reason is
    /// named). Bytes that do not decode at all are [`GroupError::Codec`].
    #[error("invalid group state: {0}")]
    State(&'static str),
    /// A group state record is in a format version this build cannot read (written by a newer
    /// Canopy, or not a group state at all).
    #[error("group state format version {found} is not supported (this build reads {supported})")]
    StateVersion {
        /// The version byte found.
        found: u8,
        /// The version this build reads and writes.
        supported: u8,
    },
    /// The signature private key given for a join is not the one of the KeyPackage's leaf
    /// (a caller's mistake: the group would sign with a key its leaf does not carry).
    #[error("the signer does not match the leaf's signature key")]
    SignerMismatch,
    /// A staged commit was made for another group, another member, or another state of this
    /// group (a caller's mistake).
    #[error("the staged commit was made for another group or state")]
    ForeignCommit,
    /// The operation needs the current time ([`Env::now`](super::Env::now)) and none was
    /// given.
    #[error("the current time is needed (Env::now)")]
    ClockRequired,
    /// A safe export secret cannot be given (draft-ietf-mls-extensions §Exported Secrets).
    #[cfg(feature = "extensions")]
    #[error(transparent)]
    SafeExport(#[from] crate::extensions::ExportError),
    /// An internal invariant failed: a bug in Canopy, never caused by peer input.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl GroupError {
    /// The rule of RFC 9420 (or of the application's policy) that this error reports as
    /// broken, whichever layer found it; `None` for errors that are not broken rules (a
    /// missing PSK, a caller's mistake, an internal error).
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Self::Invalid(v) => Some(v.rule()),
            Self::Tree(e) => e.rule(),
            Self::KeyPackage(e) => e.rule(),
            Self::Framing(e) => e.rule(),
            Self::Join(e) => e.rule(),
            Self::Codec(e) => e.rule(),
            Self::Schedule(e) => e.rule(),
            Self::WrongGroup => Some(Rule::FramingGroupId),
            Self::UnknownEpoch { .. } => Some(Rule::FramingEpoch),
            _ => None,
        }
    }

    /// The [`Violation`], if this error is one.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Self::Invalid(v) | Self::Tree(TreeError::Invalid(v)) => Some(v),
            Self::KeyPackage(KeyPackageError::Invalid(v)) => Some(v),
            _ => None,
        }
    }
}

impl From<Violation> for GroupError {
    fn from(v: Violation) -> Self {
        Self::Invalid(v)
    }
}

impl From<Rule> for GroupError {
    fn from(rule: Rule) -> Self {
        Self::Invalid(Violation::new(rule))
    }
}

impl From<TreeError> for GroupError {
    fn from(e: TreeError) -> Self {
        match e {
            TreeError::Invalid(v) => Self::Invalid(v),
            other => Self::Tree(other),
        }
    }
}

impl From<KeyPackageError> for GroupError {
    fn from(e: KeyPackageError) -> Self {
        match e {
            KeyPackageError::Invalid(v) => Self::Invalid(v),
            other => Self::KeyPackage(other),
        }
    }
}
