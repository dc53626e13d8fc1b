//! Errors of the public group view.

use crate::group::GroupError;
use crate::rules::{Rule, Violation};
use crate::wire::ContentType;

/// Why a [`PublicGroup`](super::PublicGroup) operation failed. On any error the public group
/// is unchanged (byte for byte: [`PublicGroup::to_bytes`](super::PublicGroup::to_bytes) is
/// the same before and after).
///
/// The checks a public group runs are the members' own (the same functions of
/// [`crate::rules`], the tree validation of a join and the epoch transition of a commit), and
/// they report what they found as the members' [`GroupError`] does: a broken rule is
/// [`GroupError::Invalid`] (or a framing, tree, join or codec error that names its rule),
/// and [`PublicGroupError::rule`] gives the [`Rule`] whichever layer found it. The variants
/// of this enum are what only a public view can run into.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublicGroupError {
    /// RFC 9420 §6.3: a proposal or commit sent as a PrivateMessage. Its content is
    /// encrypted with the epoch's keys, so a party without them cannot check or apply it:
    /// the group handshakes in private, and a public view cannot follow it (members must
    /// send their proposals and commits as PublicMessages for that).
    #[error(
        "a {content_type:?} PrivateMessage of epoch {epoch} cannot be followed without the group's secrets"
    )]
    PrivateHandshake {
        /// The message's epoch (in the clear).
        epoch: u64,
        /// Proposal or commit (in the clear).
        content_type: ContentType,
    },
    /// The bytes given as a GroupInfo hold another kind of MLSMessage.
    #[error("not a GroupInfo")]
    NotAGroupInfo,
    /// A GroupInfo of this group and epoch whose GroupContext (tree hash, confirmed
    /// transcript hash, extensions) or ratchet tree is not this public group's: it describes
    /// another state of the epoch, which members would not confirm.
    #[error("the GroupInfo does not describe this epoch's GroupContext and tree")]
    GroupInfoMismatch,
    /// A check of the members' path failed: a broken rule ([`GroupError::rule`] names it),
    /// undecodable bytes, a message for another group or epoch, a state record that does not
    /// load, or a crypto error.
    #[error(transparent)]
    Group(#[from] GroupError),
}

impl PublicGroupError {
    /// The rule of RFC 9420 (or of the application's policy) that this error reports as
    /// broken; `None` for errors that are not broken rules.
    pub fn rule(&self) -> Option<Rule> {
        match self {
            Self::Group(e) => e.rule(),
            Self::PrivateHandshake { .. } | Self::NotAGroupInfo | Self::GroupInfoMismatch => None,
        }
    }

    /// The [`Violation`], if this error is one.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Self::Group(e) => e.violation(),
            Self::PrivateHandshake { .. } | Self::NotAGroupInfo | Self::GroupInfoMismatch => None,
        }
    }
}

impl From<Violation> for PublicGroupError {
    fn from(v: Violation) -> Self {
        Self::Group(v.into())
    }
}

impl From<crate::codec::CodecError> for PublicGroupError {
    fn from(e: crate::codec::CodecError) -> Self {
        Self::Group(e.into())
    }
}
