//! Staging a received commit (RFC 9420 §12.4.2) and merging a staged one.
//!
//! Staging takes only content whose signature verified ([`VerifiedContent`]), runs the epoch
//! transition of [`super::transition`] and changes nothing: the secret-tree key a
//! PrivateMessage commit was decrypted with is consumed when the commit is merged, so a
//! staged commit that is dropped (refused by the application, or waiting for a PSK) can be
//! processed again from the same bytes.

use canopy_crypto::{Secret, SignaturePublicKey, SuiteOps};

use super::policy::ProposalInfo;
use super::proposals::CachedProposal;
use super::transition::{
    Base, EpochInputs, Transcript, Transition, advance_epoch, check_confirmation_tag, path_required,
};
use super::{Env, EpochState, Group, GroupError, PastEpoch, PastSenders};
use crate::codec::Limits;
use crate::framing::VerifiedContent;
use crate::join::psk_secret_of;
use crate::rules::proposal::{Committer, Resolved, Scope};
use crate::rules::{Rule, Violation};
use crate::schedule::{JoinerSecrets, PendingDecryption};
use crate::tree::math::LeafIndex;
use crate::tree::{
    DecryptedPath, PendingUpdatePath, RatchetTree, StagedTree, TreeRead, decrypt_path,
};
use crate::wire::{
    Commit, FramedContentBody, GroupContext, Node, PreSharedKeyId, ProposalOrRef, ReInit, Sender,
    UpdatePath,
};

/// What a commit changes, for the application to inspect before merging.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitSummary {
    /// Who committed (a member, or a new member joining externally).
    pub committer: Option<Sender>,
    /// The leaves of the added members.
    pub added: Vec<LeafIndex>,
    /// The leaves removed.
    pub removed: Vec<LeafIndex>,
    /// The leaves whose members sent an Update.
    pub updated: Vec<LeafIndex>,
    /// The PSKs injected, in order.
    pub psks: Vec<PreSharedKeyId>,
    /// The ReInit, if the commit ends this group (RFC 9420 §11.2).
    pub reinit: Option<ReInit>,
    /// Whether the GroupContext extensions changed.
    pub extensions_changed: bool,
    /// Whether the commit carried an UpdatePath.
    pub has_path: bool,
    /// Whether this member is removed by the commit.
    pub self_removed: bool,
    /// The epoch the commit starts.
    pub new_epoch: u64,
    /// draft-ietf-mls-extensions §AppEphemeral: the AppEphemeral proposals, in commit
    /// order, for their components to apply. (Our own pending commit restored from the
    /// group's records reports none here, nor in `app_data_updated`: we made them.)
    #[cfg(feature = "extensions")]
    pub app_ephemeral: Vec<ReceivedEphemeral>,
    /// draft-ietf-mls-extensions §AppDataUpdate: the components whose data in the
    /// GroupContext's `app_data_dictionary` the commit changed, ascending.
    #[cfg(feature = "extensions")]
    pub app_data_updated: Vec<u16>,
}

/// An AppEphemeral proposal of a commit and who proposed it.
#[cfg(feature = "extensions")]
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    tls_codec::TlsSerialize,
    tls_codec::TlsDeserializeBytes,
    tls_codec::TlsSize,
)]
pub struct ReceivedEphemeral {
    /// The proposer (the committer for a proposal by value).
    pub sender: Sender,
    /// The proposal.
    pub ephemeral: crate::wire::AppEphemeral,
}

/// How our private tree state changes with a commit.
pub(crate) enum PrivateChange {
    None,
    Decrypted(DecryptedPath),
    Own(Box<PendingUpdatePath>),
}

/// The state of a group a commit was staged against: merging it into any other (another
/// group, another member of this group, or this group at another epoch or after another
/// commit) is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BaseId {
    pub(crate) group_id: Vec<u8>,
    pub(crate) epoch: u64,
    pub(crate) epoch_authenticator: Vec<u8>,
    pub(crate) own_leaf: LeafIndex,
}

/// A validated commit, ready to merge: the tree diff, the new GroupContext and the new
/// epoch's secrets. Holds no copy of the tree: merging costs O(changed nodes).
#[must_use = "a staged commit changes nothing until merged"]
pub struct StagedCommit {
    pub(crate) base: BaseId,
    pub(crate) context: GroupContext,
    pub(crate) tree: StagedTree,
    pub(crate) private: PrivateChange,
    pub(crate) epoch: Option<EpochState>,
    pub(crate) summary: CommitSummary,
    /// Our new leaf key pair, when the commit applies one of our Update proposals.
    pub(crate) leaf_key: Option<canopy_crypto::HpkeKeyPair>,
    /// The secret-tree change of the PrivateMessage the commit came in, applied on merge.
    pub(crate) decryption: Option<PendingDecryption>,
}

impl core::fmt::Debug for StagedCommit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StagedCommit")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

impl StagedCommit {
    /// What the commit changes.
    pub fn summary(&self) -> &CommitSummary {
        &self.summary
    }

    /// The GroupContext of the new epoch.
    pub fn new_context(&self) -> &GroupContext {
        &self.context
    }

    /// The epoch authenticator of the new epoch, or `None` if this member is removed.
    pub fn epoch_authenticator(&self) -> Option<&[u8]> {
        self.epoch
            .as_ref()
            .map(|e| e.secrets.epoch_authenticator.as_bytes())
    }
}

/// The result of merging a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "a removed member must stop using the group"]
pub enum Merged {
    /// The group is in the new epoch.
    Member {
        /// The new epoch.
        epoch: u64,
    },
    /// This member was removed: the group can no longer be used.
    Removed,
}

/// RFC 9420 §8.3: the exporter label of an external commit's `init_secret`.
pub(crate) const EXTERNAL_INIT_LABEL: &[u8] = b"MLS 1.0 external init secret";

/// A received commit, verified, and what comes with it.
pub(crate) struct Received<'a> {
    pub(crate) content: &'a VerifiedContent,
    /// The FramedContent's bytes as received in a PublicMessage.
    pub(crate) encoded: Option<&'a [u8]>,
    /// Its confirmed transcript hash, when computed while the signature was verified.
    pub(crate) confirmed: Option<&'a [u8]>,
}

impl Group {
    /// The state a commit is staged against.
    pub(crate) fn base_id(&self) -> BaseId {
        BaseId {
            group_id: self.context.group_id.0.clone(),
            epoch: self.context.epoch,
            epoch_authenticator: self.epoch_authenticator().to_vec(),
            own_leaf: self.own_leaf(),
        }
    }

    /// RFC 9420 §12.4.2: validates a verified commit from another member (or a new member's
    /// external commit) and computes the next epoch without changing the group: the epoch
    /// transition of [`super::transition`], with the application's policy asked about every
    /// proposal (AP-02).
    pub(crate) fn stage_commit(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        received: &Received<'_>,
        decryption: Option<PendingDecryption>,
    ) -> Result<StagedCommit, GroupError> {
        let content = received.content.content();
        let FramedContentBody::Commit(commit) = &content.content.body else {
            return Err(GroupError::Internal("not a commit"));
        };
        let sender = content.content.sender;
        let committer = committer_of(sender)?;
        if committer == Committer::Member(self.own_leaf()) {
            // Our own commit, but not the one we have pending.
            return Err(GroupError::NoPendingCommit);
        }
        let scope = self.scope(env, ops);
        let base = Base {
            ops,
            context: &self.context,
            tree: &self.tree,
        };
        let mut transition = start_commit(
            env,
            base,
            &scope,
            &self.config.limits,
            &self.proposals,
            commit,
            sender,
            committer,
        )?;
        let own = self.own_leaf();
        // Our leaf may already hold a new member (Adds fill removed leaves first).
        let self_removed = transition.applied.removed.contains(&own);
        let new_leaves = transition.applied.new_leaves();
        let nh = ops.params().kdf_len();
        // RFC 9420 §8.3: an external commit's init_secret comes from its ExternalInit.
        let external_init = match (&committer, &transition.applied.external_init) {
            (Committer::NewMember, Some(kem_output)) => {
                let external = self.epoch.secrets.external_key_pair(ops)?;
                let info = ops.hpke_prepare_info(b"");
                Some(
                    ops.hpke_export_open(
                        &external.private,
                        kem_output,
                        &info,
                        EXTERNAL_INIT_LABEL,
                        nh,
                    )
                    .map_err(|_| Violation::new(Rule::ExternalInitKem))?,
                )
            }
            (Committer::NewMember, None) => {
                return Err(Violation::new(Rule::ExternalProposals).into());
            }
            _ => None,
        };
        // RFC 9420 §12.1.2: if the commit applies our Update, our leaf holds the new key, and
        // the path secret is encrypted to it.
        let leaf_key = if transition.applied.updated.contains(&own) {
            let public = transition
                .diff
                .leaf(own)
                .map(|l| l.encryption_key.clone())
                .ok_or(GroupError::Internal("updated leaf"))?;
            Some(
                self.own_updates
                    .iter()
                    .find(|k| k.public == public)
                    .cloned()
                    .ok_or(GroupError::State(
                        "the key of our Update proposal is missing",
                    ))?,
            )
        } else {
            None
        };
        let mut private = PrivateChange::None;
        let mut commit_secret = Secret::zero(nh);
        let mut joined = None;
        let path_leaf = receive_and_seal(&mut transition, &scope, commit.path.as_ref())?;
        if let (Some(path), Some(leaf)) = (&commit.path, path_leaf) {
            if committer == Committer::NewMember {
                joined = Some(leaf);
            }
            if !self_removed {
                let ctx = transition.provisional.to_bytes()?;
                let updated_private = leaf_key.as_ref().map(|k| {
                    let mut p = self.private.clone();
                    p.set_leaf_key(k.clone());
                    p
                });
                let decrypted = decrypt_path(
                    &transition.diff,
                    ops,
                    updated_private.as_ref().unwrap_or(&self.private),
                    leaf,
                    path,
                    &new_leaves,
                    &ctx,
                )?;
                commit_secret = decrypted.commit_secret.clone();
                private = PrivateChange::Decrypted(decrypted);
            }
        }
        let has_path = commit.path.is_some();
        let (staged_tree, provisional, applied) = transition.stage()?;
        let mut added = new_leaves;
        added.extend(joined);
        let summary = CommitSummary {
            committer: Some(sender),
            added,
            removed: applied.removed.clone(),
            updated: applied.updated.clone(),
            psks: applied.psks.clone(),
            reinit: applied.reinit.clone(),
            extensions_changed: applied.extensions.is_some(),
            has_path,
            self_removed,
            new_epoch: provisional.epoch,
            #[cfg(feature = "extensions")]
            app_ephemeral: applied.app_ephemeral.clone(),
            #[cfg(feature = "extensions")]
            app_data_updated: applied.app_data_updated.clone(),
        };
        if self_removed {
            return Ok(StagedCommit {
                base: self.base_id(),
                context: provisional,
                tree: staged_tree,
                private,
                epoch: None,
                summary,
                leaf_key: None,
                decryption,
            });
        }
        let transcript = Transcript {
            content,
            encoded: received.encoded,
            confirmed: received.confirmed,
        };
        let (context, epoch, _) = self.next_epoch(
            env,
            ops,
            transcript,
            provisional,
            &commit_secret,
            &applied.psks,
            &staged_tree,
            external_init.as_ref(),
        )?;
        check_confirmation_tag(ops, content, &context, &epoch)?;
        Ok(StagedCommit {
            base: self.base_id(),
            context,
            tree: staged_tree,
            private,
            epoch: Some(epoch),
            summary,
            leaf_key,
            decryption,
        })
    }

    /// RFC 9420 §8, §8.2: the next epoch from this one: [`advance_epoch`] with our interim
    /// transcript hash, our `init_secret` (or `init_secret` from an ExternalInit), and the
    /// PSK secret of `psks`.
    pub(crate) fn next_epoch(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        content: Transcript<'_>,
        provisional: GroupContext,
        commit_secret: &Secret,
        psks: &[PreSharedKeyId],
        tree: &StagedTree,
        init_secret: Option<&Secret>,
    ) -> Result<(GroupContext, EpochState, JoinerSecrets), GroupError> {
        let values = psks
            .iter()
            .map(|id| self.psk_value(env, id))
            .collect::<Result<Vec<_>, _>>()?;
        let psk_secret = psk_secret_of(ops, psks, &values)?;
        advance_epoch(
            ops,
            content,
            provisional,
            &EpochInputs {
                interim_before: &self.epoch.interim_transcript_hash,
                init_secret: init_secret.unwrap_or(&self.epoch.secrets.init_secret),
                commit_secret,
                psk_secret: &psk_secret,
                leaf_count: tree.leaf_count,
                policy: self.config.out_of_order,
            },
        )
    }

    /// Merges a commit staged by [`Group::process_message`] (RFC 9420 §12.4.2): the tree
    /// diff, our new path keys and the new epoch. The current epoch is retained (up to
    /// [`GroupConfig::past_epochs`](super::GroupConfig::past_epochs)) for late application
    /// messages and its resumption PSK.
    ///
    /// # Errors
    /// [`GroupError::StaleCommit`] if the group is no longer in the epoch the commit was
    /// staged for; [`GroupError::ForeignCommit`] if it was staged by another group, another
    /// member, or another state of this group. The group is then unchanged.
    pub fn merge_staged_commit(&mut self, staged: StagedCommit) -> Result<Merged, GroupError> {
        let base = self.base_id();
        if staged.base.group_id != base.group_id || staged.base.own_leaf != base.own_leaf {
            return Err(GroupError::ForeignCommit);
        }
        if staged.base.epoch != base.epoch {
            return Err(GroupError::StaleCommit);
        }
        if staged.base.epoch_authenticator != base.epoch_authenticator {
            return Err(GroupError::ForeignCommit);
        }
        self.apply_staged(staged)
    }

    pub(crate) fn apply_staged(&mut self, staged: StagedCommit) -> Result<Merged, GroupError> {
        let StagedCommit {
            context,
            tree,
            private,
            epoch,
            summary,
            leaf_key,
            decryption,
            ..
        } = staged;
        if summary.self_removed || epoch.is_none() {
            // RFC 9420 §12.1.3: removed. The group stays at this epoch (tree, secrets) with a
            // marker, so that it still loads and reads what was sent before the removal.
            if let Some(pending) = decryption {
                let _ = self.epoch.secret_tree.commit_decryption(pending);
            }
            if self.pending.take().is_some() {
                self.dirty.pending();
            }
            self.proposals.clear();
            self.removed = Some(context.epoch);
            self.dirty.meta();
            return Ok(Merged::Removed);
        }
        let senders = if self.config.past_epochs > 0 {
            PastSenders::of_change(&self.tree, &tree)
        } else {
            PastSenders::default()
        };
        // The records of the nodes the merge writes, and of any it drops by truncating.
        let new_width = crate::tree::ix_width(tree.leaf_count);
        let mut changed: Vec<u32> = tree.changes.keys().map(|x| x.value()).collect();
        changed.extend(
            self.tree
                .nodes()
                .iter()
                .enumerate()
                .skip(new_width)
                .filter(|(_, n)| n.is_some())
                .filter_map(|(x, _)| u32::try_from(x).ok()),
        );
        self.tree.merge(tree).map_err(|_| GroupError::StaleCommit)?;
        self.dirty.nodes(changed);
        self.dirty.meta();
        // The commit's own key is consumed now (RFC 9420 §9.2). If the epoch's secret tree
        // changed since staging, the change is stale and the key stays until the epoch's keys
        // are dropped; the epoch is over either way.
        if let Some(pending) = decryption {
            let _ = self.epoch.secret_tree.commit_decryption(pending);
        }
        if self.pending.take().is_some() {
            self.dirty.pending();
        }
        self.proposals.clear();
        self.credential_types = std::sync::OnceLock::new();
        #[cfg(feature = "extensions")]
        self.acks.clear();
        let Some(mut epoch) = epoch.filter(|_| !summary.self_removed) else {
            return Ok(Merged::Removed);
        };
        // The new epoch's secret tree is new to the store even when the staged commit was
        // restored from its record (a pending commit merged after a reload).
        epoch.secret_tree.touch_all();
        self.own_updates.clear();
        if let Some(key) = leaf_key {
            self.private.set_leaf_key(key);
        }
        match private {
            PrivateChange::None => {}
            PrivateChange::Decrypted(d) => self.private.apply(&d),
            PrivateChange::Own(p) => p.update_private(&mut self.private),
        }
        self.private.prune(&self.tree);
        self.successor_psk = None;
        if let Some(reinit) = summary.reinit {
            self.ended = Some(reinit);
        }
        let old_context = core::mem::replace(&mut self.context, context);
        let old = core::mem::replace(&mut self.epoch, epoch);
        let old_epoch = old_context.epoch;
        if self.config.past_epochs > 0 {
            self.past.push_front(PastEpoch {
                context: old_context,
                sender_data_secret: old.secrets.sender_data_secret,
                secret_tree: old.secret_tree,
                resumption_psk: old.secrets.resumption_psk,
                membership_key: Some(old.secrets.membership_key),
                senders,
            });
            self.dirty.past(old_epoch);
            while self.past.len() > self.config.past_epochs {
                if let Some(dropped) = self.past.pop_back() {
                    self.dirty.dropped(dropped.context.epoch);
                }
            }
        } else {
            self.dirty.dropped(old_epoch);
        }
        Ok(Merged::Member {
            epoch: self.context.epoch,
        })
    }
}

/// RFC 9420 §12.4.2: who commits, from the verified sender of a commit (FR-07, FR-06).
pub(crate) fn committer_of(sender: Sender) -> Result<Committer, GroupError> {
    match sender {
        Sender::Member(l) => {
            let leaf = LeafIndex::new(l).ok_or_else(|| Violation::new(Rule::FramingSender))?;
            Ok(Committer::Member(leaf))
        }
        Sender::NewMemberCommit => Ok(Committer::NewMember),
        _ => Err(Violation::new(Rule::FramingSenderContent).into()),
    }
}

/// Resolves a commit's proposals (CM-11): references from the epoch's `cached` proposals,
/// values as sent by the committer.
pub(crate) fn resolve(
    cached: &[CachedProposal],
    commit: &Commit,
    committer: Sender,
) -> Result<Vec<Resolved>, GroupError> {
    commit
        .proposals
        .as_slice()
        .iter()
        .map(|p| match p {
            ProposalOrRef::Proposal(proposal) => Ok(Resolved {
                proposal: proposal.clone(),
                sender: committer,
                by_reference: false,
            }),
            ProposalOrRef::Reference(r) => cached
                .iter()
                .find(|c| c.reference.as_slice() == r.as_slice())
                .map(|c| Resolved {
                    proposal: c.proposal.clone(),
                    sender: c.sender,
                    by_reference: true,
                })
                .ok_or_else(|| Violation::new(Rule::CommitProposalRef).into()),
        })
        .collect()
}

/// RFC 9420 §12.4.2, the first half of taking a verified commit, which needs no secret and
/// is the same for a member and a [`PublicGroup`](crate::public::PublicGroup): EX-02 (an
/// external commit carries everything by value), CM-11 (references resolve against the
/// epoch's `cached` proposals), AP-02 (the application's policy accepts every proposal), the
/// proposals checked and applied ([`Transition::apply`]: §12.1, §12.2, §12.3), the size of
/// the tree the commit leaves within `limits`, and CM-10/EX-04 (a path when required).
pub(crate) fn start_commit<'a>(
    env: &Env<'_>,
    base: Base<'a>,
    scope: &Scope<'_>,
    limits: &Limits,
    cached: &[CachedProposal],
    commit: &Commit,
    sender: Sender,
    committer: Committer,
) -> Result<Transition<'a>, GroupError> {
    // EX-02: an external commit carries everything by value (checked before references
    // are looked up, which would fail for another reason).
    // With the extensions draft, references to cached SelfRemoves are allowed (and checked
    // with the list).
    let allowed = |r: &[u8]| {
        #[cfg(feature = "extensions")]
        {
            cached.iter().any(|c| {
                c.reference.as_slice() == r
                    && matches!(c.proposal, crate::wire::Proposal::SelfRemove(_))
            })
        }
        #[cfg(not(feature = "extensions"))]
        {
            let _ = r;
            false
        }
    };
    if committer == Committer::NewMember
        && commit
            .proposals
            .as_slice()
            .iter()
            .any(|p| matches!(p, ProposalOrRef::Reference(r) if !allowed(r.as_slice())))
    {
        return Err(Violation::new(Rule::ExternalByValue).into());
    }
    let list = resolve(cached, commit, sender)?;
    for r in &list {
        let info = ProposalInfo {
            sender: &r.sender,
            proposal: &r.proposal,
        };
        env.policy.on_commit(&sender, &info).map_err(|refusal| {
            GroupError::from(Violation::new(Rule::ApplicationPolicy).with(refusal.into_detail()))
        })?;
    }
    let transition = Transition::apply(base, scope, &list, committer)?;
    // The tree the commit leaves, before any new part of it is hashed.
    let leaves = usize::try_from(transition.diff.leaf_count().value()).unwrap_or(usize::MAX);
    limits.check(crate::codec::Limit::TreeLeaves, leaves)?;
    if path_required(&list) && commit.path.is_none() {
        return Err(Violation::new(match committer {
            Committer::Member(_) => Rule::CommitPathRequired,
            Committer::NewMember => Rule::ExternalPath,
        })
        .into());
    }
    Ok(transition)
}

/// RFC 9420 §12.4.2, the public part of a commit's path: the UpdatePath's leaf and parent
/// nodes checked and applied ([`Transition::receive_path`]: the LeafNode rules, CM-12,
/// CM-13, CM-14, parent hashes CM-16), then the new tree's key uniqueness and hash
/// ([`Transition::seal_tree`]). Returns the committer's leaf when there is a path. Decrypting
/// the path secret is left to a member.
pub(crate) fn receive_and_seal(
    transition: &mut Transition<'_>,
    scope: &Scope<'_>,
    path: Option<&UpdatePath>,
) -> Result<Option<LeafIndex>, GroupError> {
    let leaf = path
        .map(|path| transition.receive_path(scope, path))
        .transpose()?;
    transition.seal_tree()?;
    Ok(leaf)
}

impl PastSenders {
    /// What merging `staged` into `tree` changes about who can send: the leaves whose
    /// signature key it replaces or removes (truncated ones included), with the key they had,
    /// and the blank leaves it fills.
    fn of_change(tree: &RatchetTree, staged: &StagedTree) -> Self {
        let mut senders = Self::default();
        for (x, node) in &staged.changes {
            let Some(leaf) = x.leaf() else {
                continue;
            };
            let new_key = match node {
                Some(Node::Leaf(l)) => Some(&l.signature_key),
                _ => None,
            };
            match tree.leaf(leaf) {
                Some(old) if new_key != Some(&old.signature_key) => {
                    senders
                        .replaced
                        .insert(leaf.value(), old.signature_key.clone());
                }
                Some(_) => {}
                None if new_key.is_some() => senders.filled.push(leaf.value()),
                None => {}
            }
        }
        // Leaves at or past `min_width` were cut off by a truncation, so are blank after it
        // unless the diff wrote them again (handled above).
        let first_cut = u32::try_from(staged.min_width.div_ceil(2)).unwrap_or(u32::MAX);
        for l in (first_cut..tree.leaf_count().value()).filter_map(LeafIndex::new) {
            if staged.changes.contains_key(&l.node()) {
                continue;
            }
            if let Some(old) = tree.leaf(l) {
                senders
                    .replaced
                    .insert(l.value(), old.signature_key.clone());
            }
        }
        senders
    }

    /// The key `leaf` had in this epoch if the ending commit changed it: `Some(Some(key))`,
    /// `Some(None)` if it was blank, `None` if the commit left it alone.
    pub(crate) fn key_of(&self, leaf: LeafIndex) -> Option<Option<&SignaturePublicKey>> {
        if let Some(key) = self.replaced.get(&leaf.value()) {
            return Some(Some(key));
        }
        self.filled.binary_search(&leaf.value()).ok().map(|_| None)
    }
}
