//! The application's rules for proposals (RFC 9420 §12.2: "An application may extend the
//! above procedure by additional rules, for example, requiring application-level permissions
//! to add members"; §12.4: the committer includes the valid proposals "according to
//! application policy").
//!
//! A [`ProposalPolicy`] sees every proposal three times:
//!
//! 1. when it is received ([`ProposalPolicy::on_received`]): refused, it is not cached and
//!    [`Group::process_message`](crate::group::Group::process_message) fails with rule AP-02,
//!    leaving the group unchanged;
//! 2. when this member commits ([`ProposalPolicy::include`]): a cached proposal the policy
//!    does not include is left out of the commit and reported in
//!    [`CommitOutput::left_out`](crate::group::CommitOutput::left_out);
//! 3. when another member's commit carries it ([`ProposalPolicy::on_commit`]): refused, the
//!    whole commit is rejected with AP-02.
//!
//! # The default
//!
//! [`DefaultPolicy`] accepts and caches every valid proposal, and commits the proposals of
//! members, but **not** those of non-members (`external` senders and `new_member_proposal`
//! Adds): anyone who holds a GroupInfo or knows the group id can send a self-signed Add, and
//! an external sender is only as trustworthy as the application's provisioning. Such
//! proposals are surfaced ([`ProcessedMessage::Proposal`](crate::group::ProcessedMessage) and
//! [`Group::pending_proposals`](crate::group::Group::pending_proposals)) and committed only if the
//! application's policy includes them, or if the application commits them itself. Commits
//! of other members are accepted whatever they carry: they decided, and refusing a valid
//! commit would split the group.

use crate::rules::Detail;
use crate::wire::{Proposal, Sender};

/// A proposal as the policy sees it.
#[derive(Clone, Copy, Debug)]
pub struct ProposalInfo<'a> {
    /// Who proposed it.
    pub sender: &'a Sender,
    /// The proposal.
    pub proposal: &'a Proposal,
}

impl ProposalInfo<'_> {
    /// Whether the proposer is a member of the group.
    pub fn from_member(&self) -> bool {
        matches!(self.sender, Sender::Member(_))
    }
}

/// Why the policy refused a proposal (reported as rule AP-02 with this reason).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRefusal(pub String);

impl PolicyRefusal {
    /// A refusal with a human-readable reason.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }

    pub(crate) fn into_detail(self) -> Detail {
        Detail::Reason(self.0)
    }
}

/// The application's rules for proposals (RFC 9420 §12.2: "An application may extend the
/// above procedure by additional rules, for example, requiring application-level permissions
/// to add members"; §12.4: the committer includes the valid proposals "according to
/// application policy").
///
/// A [`ProposalPolicy`] sees every proposal three times:
///
/// 1. when it is received ([`ProposalPolicy::on_received`]): refused, it is not cached and
///    [`Group::process_message`](crate::group::Group::process_message) fails with rule AP-02,
///    leaving the group unchanged;
/// 2. when this member commits ([`ProposalPolicy::include`]): a cached proposal the policy
///    does not include is left out of the commit and reported in
///    [`CommitOutput::left_out`](crate::group::CommitOutput::left_out);
/// 3. when another member's commit carries it ([`ProposalPolicy::on_commit`]): refused, the
///    whole commit is rejected with AP-02.
///
/// # The default
///
/// [`DefaultPolicy`] accepts and caches every valid proposal, and commits the proposals of
/// members, but **not** those of non-members (`external` senders and `new_member_proposal`
/// Adds): anyone who holds a GroupInfo or knows the group id can send a self-signed Add, and
/// an external sender is only as trustworthy as the application's provisioning. Such
/// proposals are surfaced ([`ProcessedMessage::Proposal`](crate::group::ProcessedMessage) and
/// [`Group::pending_proposals`](crate::group::Group::pending_proposals)) and committed only if the
/// application's policy includes them, or if the application commits them itself. Commits
/// of other members are accepted whatever they carry: they decided, and refusing a valid
/// commit would split the group.
///
/// Every method has the [`DefaultPolicy`] behaviour as its default implementation, so a
/// policy overrides only what it changes.
///
/// Object-safe; implementations must be deterministic for a given input and must not panic.
pub trait ProposalPolicy: Send + Sync {
    /// A valid proposal was received in a message of the current epoch. Refusing it keeps it
    /// out of the cache and fails the processing of its message.
    ///
    /// # Errors
    /// The reason for refusing it.
    fn on_received(&self, proposal: &ProposalInfo<'_>) -> Result<(), PolicyRefusal> {
        let _ = proposal;
        Ok(())
    }

    /// Whether this member's next commit includes `proposal`, a cached proposal of the epoch.
    /// By default members' proposals are included and non-members' are not.
    fn include(&self, proposal: &ProposalInfo<'_>) -> bool {
        proposal.from_member()
    }

    /// A commit from `committer` carries `proposal` (by value or by reference). Refusing it
    /// rejects the commit.
    ///
    /// # Errors
    /// The reason for refusing it.
    fn on_commit(
        &self,
        committer: &Sender,
        proposal: &ProposalInfo<'_>,
    ) -> Result<(), PolicyRefusal> {
        let _ = (committer, proposal);
        Ok(())
    }
}

/// The default policy (see [`ProposalPolicy`]): accept every valid proposal, commit members'
/// proposals, leave non-members' out unless the application includes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DefaultPolicy;

impl ProposalPolicy for DefaultPolicy {}

/// A policy that also commits the proposals of non-members (external senders, and new
/// members asking to be added), for groups whose Delivery Service or Authentication Service
/// has authorized them already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncludeAll;

impl ProposalPolicy for IncludeAll {
    fn include(&self, _: &ProposalInfo<'_>) -> bool {
        true
    }
}

/// The policy [`Env::new`](super::Env::new) starts with.
pub(crate) static DEFAULT_POLICY: DefaultPolicy = DefaultPolicy;
