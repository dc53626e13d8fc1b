//! Errors of the group engine.

use crate::codec::CodecError;
use crate::crypto::MlsCryptoError;
use crate::framing::FramingError;
use crate::join::JoinError;
use crate::key_package::KeyPackageError;
use crate::schedule::ScheduleError;
use crate::tree::TreeError;
use crate::wire::ProposalType;

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
    /// The ratchet tree or TreeKEM rejected a change (RFC 9420 §7).
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// The key schedule or secret tree failed (RFC 9420 §8, §9).
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    /// A Welcome or GroupInfo was rejected (RFC 9420 §12.4.3).
    #[error(transparent)]
    Join(#[from] JoinError),
    /// A KeyPackage or LeafNode was rejected (RFC 9420 §7.3, §10.1).
    #[error(transparent)]
    KeyPackage(#[from] KeyPackageError),
    /// A proposal or a commit's proposal list breaks a rule of RFC 9420 §12.1-§12.2.
    #[error("invalid proposal: {0}")]
    Proposal(#[from] ProposalRule),
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
    /// The sender is not a member, or not an allowed external sender (RFC 9420 §6, §12.1.8).
    #[error("unknown sender")]
    UnknownSender,
    /// A PrivateMessage of ours came back (a Delivery Service echoes what we sent): its key
    /// was consumed when we sent it (RFC 9420 §9.2), and we know its content already. Our
    /// own commits are recognised instead (`ProcessedMessage::OwnCommit`).
    #[error("a message we sent ourselves")]
    OwnMessage,
    /// RFC 9420 §12.4.2: the commit references a proposal this member does not have.
    #[error("the commit references an unknown proposal")]
    UnknownProposalRef,
    /// RFC 9420 §12.4: a path is required for this commit's proposals, but it has none.
    #[error("the commit needs an UpdatePath")]
    PathRequired,
    /// RFC 9420 §8.4: a PSK named by a proposal or Welcome is not available.
    #[error("PSK not available")]
    MissingPsk,
    /// RFC 9420 §6.1: the commit's confirmation tag does not verify.
    #[error("bad confirmation tag")]
    BadConfirmationTag,
    /// RFC 9420 §12.4.3.1: the ratchet tree's hash differs from the GroupContext's.
    #[error("the ratchet tree does not match the GroupContext tree hash")]
    TreeHashMismatch,
    /// RFC 9420 §12.4.3.1: the joiner needs the ratchet tree, and neither the GroupInfo nor
    /// the caller supplied it.
    #[error("no ratchet tree")]
    MissingRatchetTree,
    /// RFC 9420 §12.4.3.1: no leaf of the tree is our KeyPackage's LeafNode.
    #[error("our leaf is not in the tree")]
    OwnLeafNotFound,
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
    /// RFC 9420 §11.2, §11.3: the successor group does not match the ReInit, or its Welcome
    /// lacks the resumption PSK that ties it to the old group.
    #[error("not a valid successor of the old group: {0}")]
    InvalidSuccessor(&'static str),
    /// This member was removed from the group and cannot send.
    #[error("this member is no longer in the group")]
    NotAMember,
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
    /// An internal invariant failed: a bug in Canopy, never caused by peer input.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// A rule of RFC 9420 §12.1-§12.2 (and §12.4.3.2 for external commits) that a proposal or a
/// commit's proposal list broke. The doc line of each variant names its section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProposalRule {
    /// §12.2: an Update proposal from the committer.
    #[error("the committer's own Update")]
    CommitterUpdate,
    /// §12.2: a Remove of the committer.
    #[error("the committer removes itself")]
    CommitterRemoved,
    /// §12.2: two Update and/or Remove proposals for one leaf.
    #[error("two Update/Remove proposals for leaf {leaf}")]
    DuplicateLeafChange {
        /// The leaf.
        leaf: u32,
    },
    /// §12.2: two Adds of one client (same signature key), or an Add of a current member.
    #[error("the added client is already a member or added twice")]
    DuplicateAdd,
    /// §12.2: two PreSharedKey proposals for one PSK.
    #[error("the same PSK twice")]
    DuplicatePsk,
    /// §12.2: more than one GroupContextExtensions proposal.
    #[error("more than one GroupContextExtensions")]
    MultipleGroupContextExtensions,
    /// §12.2: a ReInit together with any other proposal.
    #[error("ReInit with other proposals")]
    ReInitNotAlone,
    /// §12.2, §12.4.3.2: ExternalInit in a commit not sent by a new member, or the
    /// wrong proposals in an external commit.
    #[error("ExternalInit rules broken")]
    ExternalInit,
    /// §12.1.3: a Remove of a blank or absent leaf.
    #[error("Remove of a non-member leaf {leaf}")]
    RemoveNonMember {
        /// The leaf.
        leaf: u32,
    },
    /// §12.1.2: an Update whose leaf is not a valid `update` leaf for its sender.
    #[error("invalid Update leaf")]
    InvalidUpdate,
    /// §12.1.2, §12.4: an Update by value, or a proposal a sender type may not send.
    #[error("proposal {0:?} not allowed from this sender or by value")]
    NotAllowed(ProposalType),
    /// §12.1.4: a PSK nonce whose length is not `KDF.Nh`, or a resumption PSK with a usage
    /// other than `application` in a normal commit.
    #[error("invalid PreSharedKey proposal")]
    InvalidPsk,
    /// §12.1.7, §11.1: new group extensions some member does not support.
    #[error("a member does not support the new group extensions")]
    UnsupportedExtensions,
    /// §12.1.5: a ReInit to an older protocol version.
    #[error("ReInit to an older version")]
    ReInitDowngrade,
    /// §12.2: a proposal type some member does not support.
    #[error("a member does not support proposal type {0:?}")]
    UnsupportedProposal(ProposalType),
}
