//! The epoch transition (RFC 9420 §12.4.1, §12.4.2, §12.4.3.2), written once for the three
//! ways a commit is made or taken: a member's own commit ([`Group::commit`]), a commit
//! received from another member (`Group::process_message`), and an external join
//! ([`Group::join_external`]).
//!
//! ```text
//!  Base (the epoch the commit starts from: context, tree, interim transcript hash)
//!    │ Transition::apply      §12.1 each proposal not checked on receipt, §12.2 list rules,
//!    │                        §12.3 applied to a diff, LN-04/LN-05, PR-06 on the new tree
//!    │ create_path | receive_path
//!    │                        §12.4.1 new path | §7.3 leaf rules, CM-12, CM-13, applied
//!    │ seal_tree              §12.2 LN-11/LN-12 on the changed nodes, tree hash
//!    │ (encrypt | decrypt the path with the provisional GroupContext)
//!    │ stage                  the diff detached: O(changed nodes)
//!    v
//!  advance_epoch              §8, §8.2 transcript hashes, key schedule, secret tree
//!  confirmation_tag           §6.1 computed by the committer, checked by the receiver (CM-19)
//! ```
//!
//! The phases are the same functions for every path; only creating a path versus receiving
//! one differs. Nothing here mutates a group: the result is staged and merged by the caller.
//!
//! [`Group::commit`]: super::Group::commit
//! [`Group::join_external`]: super::Group::join_external

use canopy_crypto::{CryptoProvider, Secret, Signer, SuiteOps};

use super::{EpochState, GroupError};
use crate::key_package::LeafNodeRole;
use crate::rules::leaf::{CredentialTypes, Signature, check_leaf, update_new_key};
use crate::rules::proposal::{
    Committer, ListCheck, Resolved, Scope, check_proposal_with, members, new_extensions_supported,
};
use crate::rules::tree::{changed_keys_unique, path_keys_fresh};
use crate::rules::{At, Rule, Violation};
use crate::schedule::{
    JoinerSecrets, OutOfOrderPolicy, SecretTree, confirmation_tag, confirmed_transcript_hash,
    confirmed_transcript_hash_of_parts, interim_transcript_hash,
};
use crate::tree::math::{LeafCount, LeafIndex};
use crate::tree::{LeafTemplate, PendingUpdatePath, RatchetTree, StagedTree, TreeDiff, TreeRead};
use crate::wire::{
    AuthenticatedContent, Extensions, FramedContentBody, GroupContext, KeyPackage, PreSharedKeyId,
    Proposal, ReInit, Sender, UpdatePath, WireFormat,
};

/// The epoch a commit starts from: a member's current epoch, or for an external joiner the
/// epoch its GroupInfo describes.
#[derive(Clone, Copy)]
pub(crate) struct Base<'a> {
    pub(crate) ops: &'a dyn SuiteOps,
    pub(crate) context: &'a GroupContext,
    pub(crate) tree: &'a RatchetTree,
}

/// The proposals a commit applies, sorted into what they do (RFC 9420 §12.3).
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub(crate) extensions: Option<Extensions>,
    pub(crate) added: Vec<(LeafIndex, KeyPackage)>,
    pub(crate) removed: Vec<LeafIndex>,
    pub(crate) updated: Vec<LeafIndex>,
    pub(crate) psks: Vec<PreSharedKeyId>,
    pub(crate) reinit: Option<ReInit>,
    pub(crate) external_init: Option<Vec<u8>>,
    /// draft-ietf-mls-extensions: the AppEphemerals, in commit order.
    #[cfg(feature = "extensions")]
    pub(crate) app_ephemeral: Vec<crate::group::ReceivedEphemeral>,
    /// draft-ietf-mls-extensions: the components whose `app_data_dictionary` data the
    /// AppDataUpdates changed, ascending.
    #[cfg(feature = "extensions")]
    pub(crate) app_data_updated: Vec<u16>,
    /// draft-ietf-mls-extensions: how many leaves SelfRemoves removed.
    #[cfg(feature = "extensions")]
    pub(crate) self_removes: usize,
}

impl Applied {
    /// How many of the leading [`Self::removed`] leaves SelfRemoves removed (they come
    /// before those of Removes); the Remove of an external commit's resync follows them.
    pub(crate) fn self_removes(&self) -> usize {
        #[cfg(feature = "extensions")]
        {
            self.self_removes
        }
        #[cfg(not(feature = "extensions"))]
        {
            0
        }
    }

    /// The leaves of the members this commit adds.
    pub(crate) fn new_leaves(&self) -> Vec<LeafIndex> {
        self.added.iter().map(|(l, _)| *l).collect()
    }
}

/// RFC 9420 §12.4: whether a proposal type requires the commit to carry a path (all but
/// `add`, `psk` and `reinit`).
pub(crate) fn requires_path(proposal: &Proposal) -> bool {
    match proposal {
        Proposal::Add(_) | Proposal::PreSharedKey(_) | Proposal::ReInit(_) => false,
        // draft-ietf-mls-extensions: "Path Required: N".
        #[cfg(feature = "extensions")]
        Proposal::AppDataUpdate(_) | Proposal::AppEphemeral(_) => false,
        _ => true,
    }
}

/// CM-10, RFC 9420 §12.4: whether a commit of `list` must carry a path (it is empty, or holds
/// a proposal type that requires one).
pub(crate) fn path_required(list: &[Resolved]) -> bool {
    list.is_empty() || list.iter().any(|r| requires_path(&r.proposal))
}

/// A commit being made or taken: its proposals applied to a diff of the base tree, and the
/// provisional GroupContext of the next epoch (§12.4.2).
pub(crate) struct Transition<'a> {
    base: Base<'a>,
    pub(crate) diff: TreeDiff<'a>,
    pub(crate) applied: Applied,
    pub(crate) provisional: GroupContext,
    committer: Committer,
}

impl<'a> Transition<'a> {
    /// RFC 9420 §12.2, §12.3: checks the list rules (cheap and structural, first), every
    /// proposal of `list` that was not checked when it was received (those by value, and Adds
    /// again when the list changes the extensions), and applies the list; then the checks of the new tree that the
    /// proposals alone decide: LN-04/LN-05 for added leaves and for updated leaves with a new
    /// credential type, and PR-06 for new GroupContext extensions.
    pub(crate) fn apply(
        base: Base<'a>,
        scope: &Scope<'_>,
        list: &[Resolved],
        committer: Committer,
    ) -> Result<Self, GroupError> {
        ListCheck::check_list(committer, base.tree, list)?;
        check_unchecked(scope, list)?;
        let mut diff = base.tree.diff();
        #[allow(unused_mut)]
        let mut applied = apply_proposals(&mut diff, list)?;
        check_credential_types(base.tree, &diff, &applied)?;
        if let Some(extensions) = &applied.extensions {
            new_extensions_supported(members(&diff), extensions)?;
        }
        #[cfg(feature = "extensions")]
        apply_app_data(&base, scope, &diff, list, &mut applied)?;
        let extensions = applied
            .extensions
            .clone()
            .unwrap_or_else(|| base.context.extensions.clone());
        let provisional = GroupContext {
            version: base.context.version,
            cipher_suite: base.context.cipher_suite,
            group_id: base.context.group_id.clone(),
            epoch: base
                .context
                .epoch
                .checked_add(1)
                .ok_or(GroupError::Internal("epoch overflow"))?,
            tree_hash: Default::default(),
            confirmed_transcript_hash: base.context.confirmed_transcript_hash.clone(),
            extensions,
        };
        Ok(Self {
            base,
            diff,
            applied,
            provisional,
            committer,
        })
    }

    /// A forged commit's transition (test builds only): `list` applied without any check.
    #[cfg(test)]
    pub(crate) fn apply_unchecked(base: Base<'a>, list: &[Resolved]) -> Result<Self, GroupError> {
        let mut diff = base.tree.diff();
        let applied = apply_proposals(&mut diff, list)?;
        let extensions = applied
            .extensions
            .clone()
            .unwrap_or_else(|| base.context.extensions.clone());
        let provisional = GroupContext {
            epoch: base.context.epoch.wrapping_add(1),
            tree_hash: Default::default(),
            extensions,
            ..base.context.clone()
        };
        Ok(Self {
            base,
            diff,
            applied,
            provisional,
            committer: Committer::NewMember,
        })
    }

    /// The committer's side of §12.4.1: a new path for `own` (created after the proposals),
    /// with a fresh leaf built from `template`.
    pub(crate) fn create_path(
        &mut self,
        provider: &dyn CryptoProvider,
        own: LeafIndex,
        template: LeafTemplate,
        signer: &dyn Signer,
        break_at: Option<usize>,
    ) -> Result<PendingUpdatePath, GroupError> {
        Ok(self.diff.create_update_path_breaking(
            provider,
            self.base.ops,
            own,
            self.base.context.group_id.as_slice(),
            template,
            signer,
            break_at,
        )?)
    }

    /// The receiver's side of §12.4.2 for a commit's `path`: the leaf is valid for a
    /// `commit` leaf at the committer's position (the LeafNode rules, with the leaf it
    /// replaces: the committer's own, or for an external resync the removed old leaf), its
    /// key is new (CM-12), no key of the path is in the tree already (CM-13), and the path is
    /// applied (CM-14, CM-16). An external committer takes the leftmost blank leaf and must
    /// pass LN-04/LN-05 against the members. Returns the committer's leaf.
    pub(crate) fn receive_path(
        &mut self,
        scope: &Scope<'_>,
        path: &UpdatePath,
    ) -> Result<LeafIndex, GroupError> {
        let leaf = &path.leaf_node;
        let (at, replaced) = match self.committer {
            Committer::Member(l) => (l, self.base.tree.leaf(l)),
            Committer::NewMember => {
                // The leaf the joiner will take, computed on a copy of the diff's size.
                let at = self.peek_next_leaf()?;
                let resync = self
                    .applied
                    .removed
                    .get(self.applied.self_removes())
                    .and_then(|l| self.base.tree.leaf(*l));
                (at, resync)
            }
        };
        let group = crate::key_package::GroupRequirements {
            version: self.provisional.version,
            extensions: Some(&self.provisional.extensions),
            provider: Some(scope.crypto),
        };
        check_leaf(
            self.base.ops,
            leaf,
            LeafNodeRole::Commit {
                group_id: self.base.context.group_id.as_slice(),
                leaf_index: at.value(),
                replaced,
            },
            &group,
            &scope.lifetime,
            scope.validator,
            Signature::Verify,
        )
        .map_err(|v| v.at(At::Leaf(at.value())))?;
        if let Committer::Member(l) = self.committer
            && let Some(old) = self.base.tree.leaf(l)
        {
            update_new_key(leaf, old)
                .map_err(|_| Violation::new(Rule::CommitPathNewKey).at(At::Leaf(l.value())))?;
        }
        let new_type = replaced.is_none_or(|old| CredentialTypes::recheck(old, leaf));
        if new_type {
            CredentialTypes::of(members(&self.diff))
                .check(leaf)
                .map_err(|v| v.at(At::Leaf(at.value())))?;
        }
        path_keys_fresh(&self.diff, path)?;
        match self.committer {
            Committer::Member(l) => {
                self.diff.apply_update_path(self.base.ops, l, path)?;
                Ok(l)
            }
            Committer::NewMember => {
                Ok(self.diff.apply_external_update_path(self.base.ops, path)?)
            }
        }
    }

    /// The leaf a new member would take in the tree of this diff (RFC 9420 §12.4.2: the
    /// leftmost blank leaf, or the first new one).
    fn peek_next_leaf(&self) -> Result<LeafIndex, GroupError> {
        match self.diff.leftmost_blank_leaf() {
            Some(l) => Ok(l),
            None => LeafIndex::new(self.diff.leaf_count().value())
                .ok_or(GroupError::Internal("tree too large")),
        }
    }

    /// RFC 9420 §12.2: the tree after the commit holds no signature key twice and no
    /// encryption key twice (checked on the changed nodes only); then the provisional
    /// GroupContext gets the new tree hash (§12.4.2).
    pub(crate) fn seal_tree(&mut self) -> Result<(), GroupError> {
        changed_keys_unique(&self.diff)?;
        self.hash_tree()
    }

    /// The new tree hash into the provisional GroupContext (§12.4.2).
    pub(crate) fn hash_tree(&mut self) -> Result<(), GroupError> {
        self.provisional.tree_hash = self.diff.tree_hash(self.base.ops)?.into();
        Ok(())
    }

    /// The diff detached from the base tree, with the provisional GroupContext and what the
    /// proposals did.
    pub(crate) fn stage(self) -> Result<(StagedTree, GroupContext, Applied), GroupError> {
        let staged = self.diff.stage(self.base.ops)?;
        Ok((staged, self.provisional, self.applied))
    }
}

/// Checks each proposal that was not checked on receipt (those sent by value, and Adds when
/// the list changes the extensions, RFC 9420 §12.3), in parallel when there are many (an
/// add-everyone commit).
fn check_unchecked(scope: &Scope<'_>, list: &[Resolved]) -> Result<(), GroupError> {
    let extensions = list
        .iter()
        .find_map(|r| match &r.proposal {
            Proposal::GroupContextExtensions(gce) => Some(&gce.extensions),
            _ => None,
        })
        .unwrap_or(&scope.context.extensions);
    let new_extensions = !core::ptr::eq(extensions, &scope.context.extensions);
    // Proposals by reference were checked on receipt, against the old extensions.
    let needs_check = |r: &Resolved| {
        let recheck = new_extensions && matches!(r.proposal, Proposal::Add(_));
        !r.by_reference || recheck
    };
    // Consecutive proposals; the signatures of their Adds' KeyPackages (KP-03, LN-02) are
    // verified as one batch first, and if it verifies, the checks in rule order skip them.
    let check_chunk = |chunk: &[Resolved]| -> Result<(), Violation> {
        let adds: Vec<&KeyPackage> = chunk
            .iter()
            .filter(|r| needs_check(r))
            .filter_map(|r| match &r.proposal {
                Proposal::Add(add) => Some(&add.key_package),
                _ => None,
            })
            .collect();
        let signatures = if adds.len() >= 2 {
            crate::rules::key_package::batch_signatures(scope.ops, &adds)
        } else {
            Signature::Verify
        };
        chunk.iter().filter(|r| needs_check(r)).try_for_each(|r| {
            check_proposal_with(scope, &r.proposal, &r.sender, extensions, signatures)
        })
    };
    #[cfg(feature = "parallel")]
    if list.len() >= 32 {
        use rayon::prelude::*;
        // On the pool's threads too, under the caller's limits; every thread gets a batch,
        // and the first failing proposal in list order is the one reported.
        let limits = crate::codec::active_limits();
        let batch =
            crate::rules::tree::batch_len(list.len(), rayon::current_num_threads()).min(ADD_BATCH);
        let results: Vec<Result<(), Violation>> = list
            .par_chunks(batch)
            .map(|chunk| crate::codec::with_limits(limits, || check_chunk(chunk)))
            .collect();
        return Ok(results.into_iter().collect::<Result<(), Violation>>()?);
    }
    Ok(list.chunks(ADD_BATCH).try_for_each(check_chunk)?)
}

/// At most how many proposals' KeyPackage signatures (two each) are verified as one batch.
const ADD_BATCH: usize = 128;

/// RFC 9420 §12.3: applies `list` to `diff` in the RFC's order: GroupContextExtensions,
/// Updates, Removes, Adds (in list order), then notes PSKs, ExternalInit and ReInit.
pub(crate) fn apply_proposals(
    diff: &mut TreeDiff<'_>,
    list: &[Resolved],
) -> Result<Applied, GroupError> {
    let mut applied = Applied::default();
    for r in list {
        if let Proposal::GroupContextExtensions(gce) = &r.proposal {
            applied.extensions = Some(gce.extensions.clone());
        }
    }
    for r in list {
        if let (Proposal::Update(update), Sender::Member(l)) = (&r.proposal, &r.sender) {
            let leaf = LeafIndex::new(*l)
                .ok_or_else(|| Violation::new(Rule::FramingSender).at(At::Leaf(*l)))?;
            diff.update_leaf(leaf, update.leaf_node.clone())?;
            applied.updated.push(leaf);
        }
    }
    // draft-ietf-mls-extensions §SelfRemove: after the Updates and before the Removes, each
    // SelfRemove removes its sender's leaf.
    #[cfg(feature = "extensions")]
    for r in list {
        if let (Proposal::SelfRemove(_), Sender::Member(l)) = (&r.proposal, &r.sender) {
            let leaf = LeafIndex::new(*l)
                .ok_or_else(|| Violation::new(Rule::FramingSender).at(At::Leaf(*l)))?;
            diff.remove_leaf(leaf)?;
            applied.removed.push(leaf);
            applied.self_removes = applied.self_removes.saturating_add(1);
        }
    }
    for r in list {
        if let Proposal::Remove(remove) = &r.proposal {
            let leaf = LeafIndex::new(remove.removed).ok_or_else(|| {
                Violation::new(Rule::ProposalRemoveMember).at(At::Leaf(remove.removed))
            })?;
            diff.remove_leaf(leaf)?;
            applied.removed.push(leaf);
        }
    }
    for r in list {
        match &r.proposal {
            Proposal::Add(add) => {
                let leaf = diff.add_leaf(add.key_package.leaf_node.clone())?;
                applied.added.push((leaf, add.key_package.clone()));
            }
            Proposal::PreSharedKey(psk) => applied.psks.push(psk.psk.clone()),
            Proposal::ExternalInit(init) => {
                applied.external_init = Some(init.kem_output.0.clone());
            }
            Proposal::ReInit(reinit) => applied.reinit = Some(reinit.clone()),
            #[cfg(feature = "extensions")]
            Proposal::AppEphemeral(ephemeral) => {
                applied.app_ephemeral.push(crate::group::ReceivedEphemeral {
                    sender: r.sender,
                    ephemeral: ephemeral.clone(),
                });
            }
            _ => {}
        }
    }
    Ok(applied)
}

/// draft-ietf-mls-extensions §AppDataUpdate: applies the AppDataUpdates of `list` to the
/// extensions the RFC 9420 proposals left (AD-02 to AD-04), then, if they create the
/// `app_data_dictionary` or change what it requires, checks every member against the new
/// extensions once (PR-06, XT-01 to XT-03).
#[cfg(feature = "extensions")]
fn apply_app_data(
    base: &Base<'_>,
    scope: &Scope<'_>,
    diff: &TreeDiff<'_>,
    list: &[Resolved],
    applied: &mut Applied,
) -> Result<(), GroupError> {
    use crate::extensions::negotiation::same_requirements;
    let updates = list.iter().filter_map(|r| match &r.proposal {
        Proposal::AppDataUpdate(u) => Some(u),
        _ => None,
    });
    let before = applied
        .extensions
        .as_ref()
        .unwrap_or(&base.context.extensions);
    let Some((after, changed)) =
        crate::extensions::data_update::apply(scope.components, before, updates)?
    else {
        return Ok(());
    };
    let dictionary = crate::extensions::APP_DATA_DICTIONARY;
    let created = before.find(dictionary).is_none();
    // A GroupContextExtensions of this commit was checked against every member already.
    if applied.extensions.is_none() && (created || !same_requirements(before, &after)) {
        new_extensions_supported(members(diff), &after)?;
    }
    applied.extensions = Some(after);
    applied.app_data_updated = changed;
    Ok(())
}

/// LN-04, LN-05, RFC 9420 §7.3: every added leaf, and every updated leaf whose credential
/// type changed, uses a credential type all members support and supports all in use. The
/// O(n) scan of the members runs only for such commits.
fn check_credential_types(
    base: &RatchetTree,
    diff: &TreeDiff<'_>,
    applied: &Applied,
) -> Result<(), Violation> {
    let changed_type = applied.updated.iter().filter_map(|l| {
        let new = diff.leaf(*l)?;
        let old = base.leaf(*l)?;
        CredentialTypes::recheck(old, new).then_some((*l, new))
    });
    let leaves: Vec<(LeafIndex, &crate::wire::LeafNode)> = applied
        .added
        .iter()
        .map(|(l, kp)| (*l, &kp.leaf_node))
        .chain(changed_type)
        .collect();
    if leaves.is_empty() {
        return Ok(());
    }
    let types = CredentialTypes::of(members(diff));
    leaves
        .into_iter()
        .try_for_each(|(l, leaf)| types.check(leaf).map_err(|v| v.at(At::Leaf(l.value()))))
}

/// The commit that a new epoch's confirmed transcript hash covers (RFC 9420 §8.2): its
/// AuthenticatedContent and, when it arrived in a PublicMessage, either the FramedContent's
/// bytes as received (hashed in place of encoding the content again) or the hash itself,
/// computed while the signature was verified.
#[derive(Clone, Copy)]
pub(crate) struct Transcript<'a> {
    pub(crate) content: &'a AuthenticatedContent,
    pub(crate) encoded: Option<&'a [u8]>,
    pub(crate) confirmed: Option<&'a [u8]>,
}

impl<'a> Transcript<'a> {
    /// A commit we encode ourselves.
    pub(crate) fn of(content: &'a AuthenticatedContent) -> Self {
        Self {
            content,
            encoded: None,
            confirmed: None,
        }
    }

    /// `confirmed_transcript_hash_[n]` after `interim_before` (§8.2).
    pub(crate) fn confirmed_hash(
        &self,
        ops: &dyn SuiteOps,
        interim_before: &[u8],
    ) -> Result<Vec<u8>, GroupError> {
        if let Some(hash) = self.confirmed {
            return Ok(hash.to_vec());
        }
        match self.encoded {
            Some(framed_content) => Ok(confirmed_transcript_hash_of_parts(
                ops,
                interim_before,
                self.content.wire_format,
                framed_content,
                self.content.auth.signature.as_slice(),
            )?),
            None => {
                let input = self.content.confirmed_transcript_hash_input()?;
                Ok(confirmed_transcript_hash(ops, interim_before, &input))
            }
        }
    }
}

/// RFC 9420 §8.2: the confirmed transcript hash of a received PublicMessage commit from the
/// bytes its FramedContent was decoded from: a hash of public data only, so it may be
/// computed while the commit's signature is verified, before anything else of it is used.
pub(crate) fn received_transcript_hash(
    ops: &dyn SuiteOps,
    interim_before: &[u8],
    framed_content: &[u8],
    signature: &[u8],
) -> Result<Vec<u8>, GroupError> {
    Ok(confirmed_transcript_hash_of_parts(
        ops,
        interim_before,
        WireFormat::PublicMessage,
        framed_content,
        signature,
    )?)
}

/// [`received_transcript_hash`] of `content` if it is a commit decoded from `content_bytes`:
/// the work members and public groups do while a received commit's signature is verified.
pub(crate) fn commit_transcript_hash(
    ops: &dyn SuiteOps,
    interim_before: &[u8],
    content: &AuthenticatedContent,
    content_bytes: Option<&[u8]>,
) -> Option<Result<Vec<u8>, GroupError>> {
    match (&content.content.body, content_bytes) {
        (FramedContentBody::Commit(_), Some(bytes)) => Some(received_transcript_hash(
            ops,
            interim_before,
            bytes,
            content.auth.signature.as_slice(),
        )),
        _ => None,
    }
}

/// What the key schedule of a new epoch starts from (RFC 9420 §8).
pub(crate) struct EpochInputs<'a> {
    pub(crate) interim_before: &'a [u8],
    pub(crate) init_secret: &'a Secret,
    pub(crate) commit_secret: &'a Secret,
    pub(crate) psk_secret: &'a Secret,
    pub(crate) leaf_count: LeafCount,
    pub(crate) policy: OutOfOrderPolicy,
}

/// RFC 9420 §8, §8.2: the new GroupContext (with the confirmed transcript hash over
/// `content`, signed but without its confirmation tag), the key schedule of the new epoch,
/// and its secret tree. The interim transcript hash uses the confirmation tag the new
/// epoch's key produces, which the caller compares with ([`check_confirmation_tag`]) or sets
/// on the content.
pub(crate) fn advance_epoch(
    ops: &dyn SuiteOps,
    content: Transcript<'_>,
    mut provisional: GroupContext,
    inputs: &EpochInputs<'_>,
) -> Result<(GroupContext, EpochState, JoinerSecrets), GroupError> {
    let confirmed = content.confirmed_hash(ops, inputs.interim_before)?;
    provisional.confirmed_transcript_hash = confirmed.clone().into();
    let context = provisional;
    let context_bytes = context.to_bytes()?;
    let joiner = JoinerSecrets::from_commit(
        ops,
        inputs.init_secret,
        inputs.commit_secret,
        inputs.psk_secret,
        &context_bytes,
    )?;
    let secrets = joiner.epoch_secrets(ops, &context_bytes)?;
    let tag = confirmation_tag(ops, &secrets.confirmation_key, &confirmed);
    let interim = interim_transcript_hash(ops, &confirmed, &tag)?;
    let secret_tree = SecretTree::new(
        secrets.encryption_secret.clone(),
        inputs.leaf_count,
        inputs.policy,
    );
    Ok((
        context,
        EpochState::new(secrets, secret_tree, interim),
        joiner,
    ))
}

/// RFC 9420 §6.1, §8.2: the confirmation tag of the epoch `epoch` starts, over its confirmed
/// transcript hash.
pub(crate) fn epoch_confirmation_tag(
    ops: &dyn SuiteOps,
    context: &GroupContext,
    epoch: &EpochState,
) -> Vec<u8> {
    confirmation_tag(
        ops,
        &epoch.secrets.confirmation_key,
        context.confirmed_transcript_hash.as_slice(),
    )
}

/// CM-19, RFC 9420 §6.1, §12.4.2: the received commit's confirmation tag is the one the new
/// epoch's confirmation key gives.
pub(crate) fn check_confirmation_tag(
    ops: &dyn SuiteOps,
    content: &AuthenticatedContent,
    context: &GroupContext,
    epoch: &EpochState,
) -> Result<(), Violation> {
    let expected = epoch_confirmation_tag(ops, context, epoch);
    let ok = content
        .auth
        .confirmation_tag
        .as_ref()
        .is_some_and(|tag| crate::schedule::verify_mac(&expected, tag.as_slice()));
    crate::rules::ensure(ok, Rule::CommitConfirmationTag)
}
