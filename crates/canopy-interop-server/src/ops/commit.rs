//! Commits (RFC 9420 §12.4): `Commit` (and `ReInitCommit`), `HandleCommit`,
//! `HandlePendingCommit`.
//!
//! The runner passes the proposals to commit by reference as the messages that carried them
//! (the committer's own, and other members', external senders' and new members' that the
//! committer has not seen yet), and the proposals to commit by value as descriptions. The
//! commit includes exactly those: a proposal passed by reference that Canopy would leave out
//! (it would make the list invalid) fails the RPC rather than silently sending another commit.

use canopy_core::LeafIndex;
use canopy_core::group::{CommitOptions, CommitOutput, Group};
use canopy_core::wire::Proposal;
use canopy_crypto::CryptoProvider;

use super::proposals::{ProposalContext, describe};
use crate::client::{ANY, CanopyClient, Requested};
use crate::error::InteropError;
use crate::proto;
use crate::state::Member;

/// The ratchet tree the group will have once its pending commit is merged (for a commit
/// whose Welcome leaves the tree out): merged on a copy of the state, the group itself
/// unchanged.
pub(crate) fn tree_after_pending(
    crypto: &dyn CryptoProvider,
    group: &Group,
) -> Result<Vec<u8>, InteropError> {
    let state = group.to_bytes()?;
    let mut copy = Group::from_bytes(crypto, state.as_bytes(), Some(group.signer().clone()))?;
    let _merged = copy.merge_pending_commit()?;
    crate::convert::tree_bytes(copy.tree())
}

/// `CommitOptions` carrying the runner's by-value proposals.
fn by_value(
    crypto: &dyn CryptoProvider,
    context: &ProposalContext<'_>,
    descriptions: &[proto::ProposalDescription],
    force_path: bool,
) -> Result<CommitOptions, InteropError> {
    let mut options = CommitOptions {
        force_path,
        include_pending: true,
        ..CommitOptions::default()
    };
    for description in descriptions {
        match describe(crypto, context, description, true)? {
            Proposal::Add(add) => options.add.push(add.key_package),
            Proposal::Remove(remove) => options.remove.push(
                LeafIndex::new(remove.removed)
                    .ok_or_else(|| InteropError::bad("leaf index out of range"))?,
            ),
            Proposal::PreSharedKey(psk) => options.psks.push(psk.psk),
            Proposal::GroupContextExtensions(gce) => {
                if options.extensions.replace(gce.extensions).is_some() {
                    return Err(InteropError::bad(
                        "two groupContextExtensions proposals by value (RFC 9420 §12.2 allows one)",
                    ));
                }
            }
            Proposal::ReInit(reinit) => options.reinit = Some(reinit),
            _ => return Err(InteropError::bad("unsupported proposal by value")),
        }
    }
    Ok(options)
}

impl CanopyClient {
    /// RFC 9420 §12.4.1: a commit of the proposals the runner lists, left pending until
    /// `HandlePendingCommit`; the Welcome carries the ratchet tree unless `external_tree`,
    /// when the tree comes back beside it.
    pub(crate) fn commit(
        &self,
        req: proto::CommitRequest,
    ) -> Result<proto::CommitResponse, InteropError> {
        let mut store = self.store()?;
        let member = store.member_mut(req.state_id)?;
        let requested = member.take_proposals(&self.env(&ANY), &req.by_reference)?;
        let options = by_value(
            &self.provider,
            &ProposalContext::of(&member.group),
            &req.by_value,
            req.force_path,
        )?;
        let policy = Requested(requested);
        let out = commit_requested(
            &self.env(&policy),
            member,
            &policy,
            options,
            req.external_tree,
        )?;
        let ratchet_tree = if req.external_tree {
            tree_after_pending(&self.provider, &member.group)?
        } else {
            Vec::new()
        };
        Ok(proto::CommitResponse {
            commit: out.commit,
            welcome: out.welcome.unwrap_or_default(),
            ratchet_tree,
        })
    }

    /// RFC 9420 §12.4.2: processes the proposals the commit references, then the commit, and
    /// merges it.
    pub(crate) fn handle_commit(
        &self,
        req: proto::HandleCommitRequest,
    ) -> Result<proto::HandleCommitResponse, InteropError> {
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let member = store.member_mut(req.state_id)?;
        member.take_proposals(&env, &req.proposal)?;
        let merged = member.handle_commit(&env, &req.commit)?;
        Ok(proto::HandleCommitResponse {
            state_id: req.state_id,
            epoch_authenticator: member.authenticator_after(merged),
        })
    }

    /// Merges our pending commit (the Delivery Service accepted it).
    pub(crate) fn handle_pending_commit(
        &self,
        req: proto::HandlePendingCommitRequest,
    ) -> Result<proto::HandleCommitResponse, InteropError> {
        let mut store = self.store()?;
        let member = store.member_mut(req.state_id)?;
        let merged = member.merge_pending()?;
        Ok(proto::HandleCommitResponse {
            state_id: req.state_id,
            epoch_authenticator: member.authenticator_after(merged),
        })
    }
}

/// Commits `options` plus the cached proposals `policy` names, with the ratchet tree in the
/// Welcome unless `external_tree`; fails (and drops the commit) if one of those proposals
/// was left out.
fn commit_requested(
    env: &canopy_core::group::Env<'_>,
    member: &mut Member,
    policy: &Requested,
    options: CommitOptions,
    external_tree: bool,
) -> Result<CommitOutput, InteropError> {
    member.group.set_ratchet_tree_in_welcome(!external_tree);
    let out = member.group.commit(env, options)?;
    if let Some(left) = out.left_out.iter().find(|l| {
        policy
            .0
            .iter()
            .any(|(s, p)| *s == l.sender && *p == l.proposal)
    }) {
        let _ = member.group.discard_pending_commit();
        return Err(InteropError::bad(format!(
            "a proposal passed by reference cannot be committed: {}",
            InteropError::from(left.reason.clone())
        )));
    }
    Ok(out)
}
