//! Receiving (RFC 9420 §6, §12.4.2): opening messages of the current and past epochs,
//! caching proposals, staging commits, and merging a staged commit.

use canopy_crypto::{Secret, SignaturePublicKey, SuiteOps};

use super::proposals::{CachedProposal, Committer, MemberCredentials, Resolved, requires_path};
use super::{Env, EpochState, Group, GroupError, PastEpoch, PastSenders};
use crate::crypto::proposal_ref;
use crate::framing::{
    DecryptedMessage, FramingError, open_private, open_public_alongside, open_sender_data,
};
use crate::join::psk_secret_of;
use crate::schedule::{
    JoinerSecrets, SecretTree, confirmation_tag, confirmed_transcript_hash,
    confirmed_transcript_hash_of_parts, interim_transcript_hash, verify_mac,
};
use crate::tree::math::{LeafCount, LeafIndex};
use crate::tree::{
    DecryptedPath, PendingUpdatePath, RatchetTree, StagedTree, TreeDiff, TreeRead, decrypt_path,
};
use crate::wire::{
    AuthenticatedContent, Commit, Extensions, ExternalSenders, FramedContent, FramedContentBody,
    GroupContext, KeyPackage, MlsMessage, Node, PreSharedKeyId, PrivateMessage, Proposal,
    ProposalOrRef, PublicMessage, ReInit, RequiredCapabilities, Sender,
};

/// What a processed message was.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessedMessage {
    /// Application data from a member (RFC 9420 §6.3).
    Application {
        /// The sender's leaf.
        sender: LeafIndex,
        /// The epoch it was sent in (the current one or a retained past one).
        epoch: u64,
        /// The application data.
        data: Vec<u8>,
        /// The message's `authenticated_data`.
        authenticated_data: Vec<u8>,
    },
    /// A valid proposal, now cached until a commit references it (RFC 9420 §12.1).
    Proposal {
        /// Who proposed it.
        sender: Sender,
        /// The proposal.
        proposal: Proposal,
    },
    /// A valid commit from another member, staged: inspect it, then merge it with
    /// [`Group::merge_staged_commit`] or drop it.
    Commit(Box<StagedCommit>),
    /// The Delivery Service's echo of our own pending commit: it was accepted; merge it with
    /// [`Group::merge_pending_commit`].
    OwnCommit,
    /// A proposal or commit of a retained past epoch (a duplicate delivery, or one that lost
    /// a race to the commit we merged), authenticated with that epoch's keys and decrypted.
    /// It changes nothing: that epoch is over, and its proposals can no longer be committed.
    PastHandshake {
        /// The epoch it was sent in.
        epoch: u64,
        /// Who sent it.
        sender: Sender,
        /// The proposal or commit.
        body: FramedContentBody,
    },
}

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
}

/// How our private tree state changes with a commit.
pub(crate) enum PrivateChange {
    None,
    Decrypted(DecryptedPath),
    Own(Box<PendingUpdatePath>),
}

/// A validated commit, ready to merge: the tree diff, the new GroupContext and the new
/// epoch's secrets. Holds no copy of the tree: merging costs O(changed nodes).
#[must_use = "a staged commit changes nothing until merged"]
pub struct StagedCommit {
    pub(crate) base_epoch: u64,
    pub(crate) context: GroupContext,
    pub(crate) tree: StagedTree,
    pub(crate) private: PrivateChange,
    pub(crate) epoch: Option<EpochState>,
    pub(crate) summary: CommitSummary,
    /// Our new leaf key pair, when the commit applies one of our Update proposals.
    pub(crate) leaf_key: Option<canopy_crypto::HpkeKeyPair>,
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

/// The proposals a commit applies, sorted into what they do (RFC 9420 §12.3).
#[derive(Default)]
pub(crate) struct Applied {
    pub(crate) extensions: Option<Extensions>,
    pub(crate) added: Vec<(LeafIndex, KeyPackage)>,
    pub(crate) removed: Vec<LeafIndex>,
    pub(crate) updated: Vec<LeafIndex>,
    pub(crate) psks: Vec<PreSharedKeyId>,
    pub(crate) reinit: Option<ReInit>,
    pub(crate) external_init: Option<Vec<u8>>,
}

impl Applied {
    pub(crate) fn new_leaves(&self) -> Vec<LeafIndex> {
        self.added.iter().map(|(l, _)| *l).collect()
    }
}

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
            let leaf = LeafIndex::new(*l).ok_or(GroupError::UnknownSender)?;
            diff.update_leaf(leaf, update.leaf_node.clone())?;
            applied.updated.push(leaf);
        }
    }
    for r in list {
        if let Proposal::Remove(remove) = &r.proposal {
            let leaf =
                LeafIndex::new(remove.removed).ok_or(super::ProposalRule::RemoveNonMember {
                    leaf: remove.removed,
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
            _ => {}
        }
    }
    Ok(applied)
}

impl Group {
    /// Processes a message received for this group (RFC 9420 §6, §12): a PublicMessage or
    /// PrivateMessage of the current epoch or of a retained past one.
    ///
    /// Application data and proposals are accepted here (the ratchet advances, the proposal
    /// is cached); a commit is returned staged and changes nothing until merged. A proposal
    /// or commit of a past epoch is authenticated with that epoch's keys and reported as
    /// [`ProcessedMessage::PastHandshake`], changing nothing but the past epoch's ratchet.
    /// On any error the group is unchanged.
    ///
    /// # Errors
    /// [`GroupError::Codec`] for bytes that do not decode, [`GroupError::Framing`] for a
    /// message that fails authentication or decryption, [`GroupError::WrongGroup`],
    /// [`GroupError::UnknownEpoch`], [`GroupError::PastEpochHandshake`],
    /// [`GroupError::UnknownSender`], and every proposal and commit check.
    pub fn process_message(
        &mut self,
        env: &Env<'_>,
        bytes: &[u8],
    ) -> Result<ProcessedMessage, GroupError> {
        if self
            .pending
            .as_ref()
            .is_some_and(|p| p.message.as_slice() == bytes)
        {
            return Ok(ProcessedMessage::OwnCommit);
        }
        match MlsMessage::from_bytes_with_content(bytes)? {
            (MlsMessage::PublicMessage(m), content_bytes) => {
                self.process_public(env, *m, content_bytes)
            }
            (MlsMessage::PrivateMessage(m), _) => self.process_private(env, &m),
            _ => Err(GroupError::NotAGroupMessage),
        }
    }

    /// Caches a proposal once: the Delivery Service's echo of a proposal (ours, or one seen
    /// twice) must not make a commit reference it twice.
    fn cache_proposal(&mut self, proposal: CachedProposal) {
        if !self
            .proposals
            .iter()
            .any(|p| p.reference == proposal.reference)
        {
            self.proposals.push(proposal);
        }
    }

    /// Which epoch a message is for: `None` for the current one, the index in `past` of a
    /// retained past one.
    fn epoch_index(&self, group_id: &[u8], epoch: u64) -> Result<Option<usize>, GroupError> {
        if group_id != self.context.group_id.as_slice() {
            return Err(GroupError::WrongGroup);
        }
        if epoch == self.context.epoch {
            return Ok(None);
        }
        self.past
            .iter()
            .position(|p| p.context.epoch == epoch)
            .map(Some)
            .ok_or(GroupError::UnknownEpoch {
                epoch,
                current: self.context.epoch,
            })
    }

    fn process_public(
        &mut self,
        env: &Env<'_>,
        message: PublicMessage,
        content_bytes: Option<&[u8]>,
    ) -> Result<ProcessedMessage, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        if let Some(index) =
            self.epoch_index(message.content.group_id.as_slice(), message.content.epoch)?
        {
            return self.process_past_public(ops, message, content_bytes, index);
        }
        let key = self.sender_key(&message.content)?;
        // A large commit is staged (a pure computation) while its signature is checked.
        let (_, handled) = open_public_alongside(
            ops,
            message,
            content_bytes,
            &self.context,
            Some(&self.epoch.secrets.membership_key),
            &key,
            |content| self.handle_verified(env, ops, content, content_bytes),
        )?;
        let (processed, cached) = handled?;
        if let Some(c) = cached {
            self.cache_proposal(c);
        }
        Ok(processed)
    }

    pub(super) fn process_private(
        &mut self,
        env: &Env<'_>,
        message: &PrivateMessage,
    ) -> Result<ProcessedMessage, GroupError> {
        if message.group_id.as_slice() != self.context.group_id.as_slice() {
            return Err(GroupError::WrongGroup);
        }
        let ops = env.ops(self.cipher_suite())?;
        if message.epoch != self.context.epoch {
            return self.process_past_private(ops, message);
        }
        let decrypted = self
            .open_current(ops, message)
            .map_err(|e| self.unopened(ops, message, &self.epoch.secrets.sender_data_secret, e))?;
        let key = self.member_key(decrypted.sender_leaf())?;
        let (verified, pending) = decrypted.verify(ops, &key)?;
        let (processed, cached) = self.handle_verified(env, ops, verified.content(), None)?;
        self.epoch.secret_tree.commit_decryption(pending)?;
        if let Some(c) = cached {
            self.cache_proposal(c);
        }
        Ok(processed)
    }

    /// A PrivateMessage of a retained past epoch (RFC 9420 §9.2 lets late messages be read):
    /// application data, or a proposal or commit reported as
    /// [`ProcessedMessage::PastHandshake`]. The sender's key is the one it had in that epoch.
    fn process_past_private(
        &mut self,
        ops: &dyn SuiteOps,
        message: &PrivateMessage,
    ) -> Result<ProcessedMessage, GroupError> {
        let current = self.context.epoch;
        let Some(index) = self
            .past
            .iter()
            .position(|p| p.context.epoch == message.epoch)
        else {
            return Err(GroupError::UnknownEpoch {
                epoch: message.epoch,
                current,
            });
        };
        let past = self
            .past
            .get(index)
            .ok_or(GroupError::Internal("past epoch index"))?;
        let decrypted = open_private(
            ops,
            message,
            &past.context,
            &past.sender_data_secret,
            &past.secret_tree,
        )
        .map_err(|e| self.unopened(ops, message, &past.sender_data_secret, e))?;
        let leaf = decrypted.sender_leaf();
        let key = self.past_member_key(index, leaf)?;
        let (verified, pending) = decrypted.verify(ops, &key)?;
        let content = verified.into_inner().content;
        let epoch = past.context.epoch;
        self.past
            .get_mut(index)
            .ok_or(GroupError::Internal("past epoch index"))?
            .secret_tree
            .commit_decryption(pending)?;
        Ok(match content.body {
            FramedContentBody::Application(data) => ProcessedMessage::Application {
                sender: leaf,
                epoch,
                data: data.0,
                authenticated_data: content.authenticated_data.0,
            },
            body => ProcessedMessage::PastHandshake {
                epoch,
                sender: content.sender,
                body,
            },
        })
    }

    /// A PublicMessage of the retained past epoch `self.past[index]`: checked with that
    /// epoch's GroupContext, membership key and senders' keys, and reported as
    /// [`ProcessedMessage::PastHandshake`].
    fn process_past_public(
        &self,
        ops: &dyn SuiteOps,
        message: PublicMessage,
        content_bytes: Option<&[u8]>,
        index: usize,
    ) -> Result<ProcessedMessage, GroupError> {
        let past = self
            .past
            .get(index)
            .ok_or(GroupError::Internal("past epoch index"))?;
        // Records saved before format 3 did not keep the membership key.
        let membership_key = past
            .membership_key
            .as_ref()
            .ok_or(GroupError::PastEpochHandshake)?;
        let key = self.sender_key_with(&message.content, &past.context.extensions, |leaf| {
            self.past_member_key(index, leaf)
        })?;
        let (verified, ()) = open_public_alongside(
            ops,
            message,
            content_bytes,
            &past.context,
            Some(membership_key),
            &key,
            |_| (),
        )?;
        let content = verified.into_inner().content;
        Ok(ProcessedMessage::PastHandshake {
            epoch: past.context.epoch,
            sender: content.sender,
            body: content.body,
        })
    }

    /// [`open_private`] with the current epoch's secrets; the secret tree is unchanged.
    pub(super) fn open_current(
        &self,
        ops: &dyn SuiteOps,
        message: &PrivateMessage,
    ) -> Result<DecryptedMessage, FramingError> {
        open_private(
            ops,
            message,
            &self.context,
            &self.epoch.secrets.sender_data_secret,
            &self.epoch.secret_tree,
        )
    }

    /// The error of a PrivateMessage that did not open: [`GroupError::OwnMessage`] if its
    /// sender data names our own leaf (sending it consumed its key), else `error`.
    fn unopened(
        &self,
        ops: &dyn SuiteOps,
        message: &PrivateMessage,
        sender_data_secret: &Secret,
        error: FramingError,
    ) -> GroupError {
        match open_sender_data(ops, message, sender_data_secret) {
            Ok((leaf, _)) if leaf == self.own_leaf() => GroupError::OwnMessage,
            _ => error.into(),
        }
    }

    /// The signature key `leaf` had in the retained past epoch `self.past[index]`: as the
    /// first later commit that changed the leaf recorded it, or else its key now.
    fn past_member_key(
        &self,
        index: usize,
        leaf: LeafIndex,
    ) -> Result<SignaturePublicKey, GroupError> {
        // `past` is newest first: from the epoch at `index` forward in time.
        for past in self.past.iter().take(index.saturating_add(1)).rev() {
            if let Some(key) = past.senders.key_of(leaf) {
                return key.cloned().ok_or(GroupError::UnknownSender);
            }
        }
        self.member_key(leaf)
    }

    /// The signature key of the member at `leaf`.
    pub(super) fn member_key(&self, leaf: LeafIndex) -> Result<SignaturePublicKey, GroupError> {
        self.tree
            .leaf(leaf)
            .map(|l| l.signature_key.clone())
            .ok_or(GroupError::UnknownSender)
    }

    /// RFC 9420 §6.1: the key that verifies content from its claimed sender: a member's leaf,
    /// an external sender of the `external_senders` extension, or the new member's own key
    /// (its KeyPackage's leaf for an Add, its path's leaf for an external commit).
    fn sender_key(&self, content: &FramedContent) -> Result<SignaturePublicKey, GroupError> {
        self.sender_key_with(content, &self.context.extensions, |leaf| {
            self.member_key(leaf)
        })
    }

    /// [`Self::sender_key`] in an epoch whose GroupContext has `extensions` and whose
    /// members' keys `member_key` gives.
    fn sender_key_with(
        &self,
        content: &FramedContent,
        extensions: &Extensions,
        member_key: impl FnOnce(LeafIndex) -> Result<SignaturePublicKey, GroupError>,
    ) -> Result<SignaturePublicKey, GroupError> {
        match (&content.sender, &content.body) {
            (Sender::Member(l), _) => {
                member_key(LeafIndex::new(*l).ok_or(GroupError::UnknownSender)?)
            }
            (Sender::External(i), _) => {
                let senders: ExternalSenders =
                    super::typed(extensions)?.ok_or(GroupError::UnknownSender)?;
                let index = usize::try_from(*i).map_err(|_| GroupError::UnknownSender)?;
                senders
                    .senders
                    .as_slice()
                    .get(index)
                    .map(|s| s.signature_key.clone())
                    .ok_or(GroupError::UnknownSender)
            }
            (Sender::NewMemberProposal, FramedContentBody::Proposal(Proposal::Add(add))) => {
                Ok(add.key_package.leaf_node.signature_key.clone())
            }
            (Sender::NewMemberCommit, FramedContentBody::Commit(commit)) => commit
                .path
                .as_ref()
                .map(|p| p.leaf_node.signature_key.clone())
                .ok_or(GroupError::PathRequired),
            _ => Err(GroupError::UnknownSender),
        }
    }

    /// Turns verified content into a processed message, and the proposal to cache if any.
    /// `encoded` is the FramedContent's bytes as received in a PublicMessage.
    pub(super) fn handle_verified(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        content: &AuthenticatedContent,
        encoded: Option<&[u8]>,
    ) -> Result<(ProcessedMessage, Option<CachedProposal>), GroupError> {
        let sender = content.content.sender;
        match &content.content.body {
            FramedContentBody::Application(data) => {
                let Sender::Member(l) = sender else {
                    return Err(GroupError::UnknownSender);
                };
                let processed = ProcessedMessage::Application {
                    sender: LeafIndex::new(l).ok_or(GroupError::UnknownSender)?,
                    epoch: content.content.epoch,
                    data: data.0.clone(),
                    authenticated_data: content.content.authenticated_data.0.clone(),
                };
                Ok((processed, None))
            }
            FramedContentBody::Proposal(proposal) => {
                self.check_proposal(env, ops, proposal, &sender, &self.context.extensions)?;
                let reference = proposal_ref(ops, &content.to_bytes()?)?;
                let cached = CachedProposal {
                    reference,
                    proposal: proposal.clone(),
                    sender,
                };
                let processed = ProcessedMessage::Proposal {
                    sender,
                    proposal: proposal.clone(),
                };
                Ok((processed, Some(cached)))
            }
            FramedContentBody::Commit(_) => {
                let staged = self.stage_commit(env, ops, content, encoded)?;
                Ok((ProcessedMessage::Commit(Box::new(staged)), None))
            }
        }
    }

    /// Resolves a commit's proposals: references from the cache, values as sent by the
    /// committer.
    fn resolve(&self, commit: &Commit, committer: Sender) -> Result<Vec<Resolved>, GroupError> {
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
                ProposalOrRef::Reference(r) => self
                    .proposals
                    .iter()
                    .find(|c| c.reference.as_slice() == r.as_slice())
                    .map(|c| Resolved {
                        proposal: c.proposal.clone(),
                        sender: c.sender,
                        by_reference: true,
                    })
                    .ok_or(GroupError::UnknownProposalRef),
            })
            .collect()
    }

    /// RFC 9420 §7.3: every added leaf, and every updated leaf whose credential type
    /// changed, uses a credential type all members support and supports all in use. The
    /// O(n) scan of the members runs only for such commits.
    pub(crate) fn check_credential_types(
        &self,
        diff: &TreeDiff<'_>,
        applied: &Applied,
    ) -> Result<(), GroupError> {
        let changed_type = applied.updated.iter().filter_map(|l| {
            let new = diff.leaf(*l)?;
            let old = self.tree.leaf(*l)?;
            (old.credential.credential_type() != new.credential.credential_type()).then_some(new)
        });
        let leaves: Vec<&crate::wire::LeafNode> = applied
            .added
            .iter()
            .map(|(_, kp)| &kp.leaf_node)
            .chain(changed_type)
            .collect();
        if leaves.is_empty() {
            return Ok(());
        }
        let creds = MemberCredentials::of(diff);
        leaves.into_iter().try_for_each(|leaf| creds.check(leaf))
    }

    /// Checks each proposal that was not checked on receipt (those sent by value, and Adds
    /// when the list changes the extensions), in parallel when there are many (an
    /// add-everyone commit).
    pub(crate) fn check_by_value(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        list: &[Resolved],
    ) -> Result<(), GroupError> {
        // RFC 9420 §12.3: a GroupContextExtensions proposal's extensions apply to the other
        // proposals of the list (an Add must meet new required capabilities).
        let extensions = list
            .iter()
            .find_map(|r| match &r.proposal {
                Proposal::GroupContextExtensions(gce) => Some(&gce.extensions),
                _ => None,
            })
            .unwrap_or(&self.context.extensions);
        let new_extensions = !core::ptr::eq(extensions, &self.context.extensions);
        let check = |r: &Resolved| -> Result<(), GroupError> {
            // Proposals by reference were checked on receipt, against the old extensions.
            let recheck = new_extensions && matches!(r.proposal, Proposal::Add(_));
            if r.by_reference && !recheck {
                Ok(())
            } else {
                self.check_proposal(env, ops, &r.proposal, &r.sender, extensions)
            }
        };
        #[cfg(feature = "parallel")]
        if list.len() >= 32 {
            use rayon::prelude::*;
            return list.par_iter().try_for_each(check);
        }
        list.iter().try_for_each(check)
    }

    /// RFC 9420 §12.4.2: validates a commit from another member and computes the next epoch
    /// without changing the group. `encoded` is the FramedContent's bytes as received.
    fn stage_commit(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        content: &AuthenticatedContent,
        encoded: Option<&[u8]>,
    ) -> Result<StagedCommit, GroupError> {
        let FramedContentBody::Commit(commit) = &content.content.body else {
            return Err(GroupError::Internal("not a commit"));
        };
        let sender = content.content.sender;
        let committer = match sender {
            Sender::Member(l) => {
                let leaf = LeafIndex::new(l).ok_or(GroupError::UnknownSender)?;
                if leaf == self.own_leaf() {
                    // Our own commit, but not the one we have pending.
                    return Err(GroupError::NoPendingCommit);
                }
                Committer::Member(leaf)
            }
            Sender::NewMemberCommit => Committer::NewMember,
            _ => return Err(GroupError::UnknownSender),
        };
        let list = self.resolve(commit, sender)?;
        self.check_by_value(env, ops, &list)?;
        self.check_proposal_list(&list, committer)?;
        let path_required = list.is_empty() || list.iter().any(|r| requires_path(&r.proposal));
        if path_required && commit.path.is_none() {
            return Err(GroupError::PathRequired);
        }

        let mut diff = self.tree.diff();
        let applied = apply_proposals(&mut diff, &list)?;
        let extensions = applied
            .extensions
            .clone()
            .unwrap_or_else(|| self.context.extensions.clone());
        self.check_credential_types(&diff, &applied)?;
        let own = self.own_leaf();
        // Our leaf may already hold a new member (Adds fill removed leaves first).
        let self_removed = applied.removed.contains(&own);
        let mut provisional = GroupContext {
            version: self.context.version,
            cipher_suite: self.context.cipher_suite,
            group_id: self.context.group_id.clone(),
            epoch: self
                .context
                .epoch
                .checked_add(1)
                .ok_or(GroupError::Internal("epoch overflow"))?,
            tree_hash: Default::default(),
            confirmed_transcript_hash: self.context.confirmed_transcript_hash.clone(),
            extensions,
        };
        let new_leaves = applied.new_leaves();
        let mut private = PrivateChange::None;
        let nh = ops.params().hash_len();
        let mut commit_secret = Secret::zero(nh);
        // RFC 9420 §8.3: an external commit's init_secret comes from its ExternalInit.
        let external_init = match (&committer, &applied.external_init) {
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
                    .map_err(|_| super::ProposalRule::ExternalInit)?,
                )
            }
            (Committer::NewMember, None) => return Err(super::ProposalRule::ExternalInit.into()),
            _ => None,
        };
        // RFC 9420 §12.1.2: if the commit applies our Update, our leaf holds the new key, and
        // the path secret is encrypted to it.
        let leaf_key = if applied.updated.contains(&own) {
            let public = diff
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
        let mut joined = None;
        if let Some(path) = &commit.path {
            // The leaf the path replaces: the committer's own, or for an external resync the
            // removed old leaf of the joiner (RFC 9420 §12.2).
            let replaced = match committer {
                Committer::Member(l) => self.tree.leaf(l),
                Committer::NewMember => applied.removed.first().and_then(|l| self.tree.leaf(*l)),
            };
            if let Some(old) = replaced
                && !env
                    .credentials
                    .valid_successor(&old.credential, &path.leaf_node.credential)
            {
                return Err(crate::key_package::KeyPackageError::InvalidCredentialSuccessor.into());
            }
            env.credentials
                .validate(&path.leaf_node.credential, &path.leaf_node.signature_key)
                .map_err(crate::key_package::KeyPackageError::from)?;
            let leaf = match committer {
                Committer::Member(l) => {
                    diff.apply_update_path(ops, l, path, self.context.group_id.as_slice())?;
                    l
                }
                Committer::NewMember => {
                    MemberCredentials::of(&diff).check(&path.leaf_node)?;
                    let l = diff.apply_external_update_path(
                        ops,
                        path,
                        self.context.group_id.as_slice(),
                    )?;
                    joined = Some(l);
                    l
                }
            };
            // RFC 9420 §7.3, §11.1: the new leaf meets the group's required capabilities,
            // and a changed credential type is one every member supports.
            let required: Option<RequiredCapabilities> = super::typed(&provisional.extensions)?;
            crate::tree::check_leaf_capabilities(leaf, &path.leaf_node, required.as_ref())?;
            if replaced.is_some_and(|old| {
                old.credential.credential_type() != path.leaf_node.credential.credential_type()
            }) {
                MemberCredentials::of(&diff).check(&path.leaf_node)?;
            }
            provisional.tree_hash = diff.tree_hash(ops)?.into();
            if !self_removed {
                let ctx = provisional.to_bytes()?;
                let updated_private = leaf_key.as_ref().map(|k| {
                    let mut p = self.private.clone();
                    p.set_leaf_key(k.clone());
                    p
                });
                let decrypted = decrypt_path(
                    &diff,
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
        } else {
            provisional.tree_hash = diff.tree_hash(ops)?.into();
        }
        let staged_tree = diff.stage(ops)?;
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
            has_path: commit.path.is_some(),
            self_removed,
            new_epoch: provisional.epoch,
        };
        if self_removed {
            return Ok(StagedCommit {
                base_epoch: self.context.epoch,
                context: provisional,
                tree: staged_tree,
                private,
                epoch: None,
                summary,
                leaf_key: None,
            });
        }

        let (context, epoch, _) = self.next_epoch(
            ops,
            Transcript { content, encoded },
            provisional,
            &commit_secret,
            &applied.psks,
            &staged_tree,
            external_init.as_ref(),
        )?;
        let expected_tag = content
            .auth
            .confirmation_tag
            .as_ref()
            .ok_or(GroupError::BadConfirmationTag)?;
        let tag = confirmation_tag(
            ops,
            &epoch.secrets.confirmation_key,
            context.confirmed_transcript_hash.as_slice(),
        );
        if !verify_mac(&tag, expected_tag.as_slice()) {
            return Err(GroupError::BadConfirmationTag);
        }
        Ok(StagedCommit {
            base_epoch: self.context.epoch,
            context,
            tree: staged_tree,
            private,
            epoch: Some(epoch),
            summary,
            leaf_key,
        })
    }

    /// RFC 9420 §8, §8.2: the next epoch from this one: [`advance_epoch`] with our interim
    /// transcript hash, our `init_secret` (or `init_secret` from an ExternalInit), and the
    /// PSK secret of `psks`.
    pub(crate) fn next_epoch(
        &self,
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
            .map(|id| self.psk_value(id))
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
    /// staged for; the group is then unchanged.
    pub fn merge_staged_commit(&mut self, staged: StagedCommit) -> Result<Merged, GroupError> {
        if staged.base_epoch != self.context.epoch {
            return Err(GroupError::StaleCommit);
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
            ..
        } = staged;
        let senders = if self.config.past_epochs > 0 {
            PastSenders::of_change(&self.tree, &tree)
        } else {
            PastSenders::default()
        };
        self.tree.merge(tree).map_err(|_| GroupError::StaleCommit)?;
        self.pending = None;
        self.proposals.clear();
        let Some(epoch) = epoch.filter(|_| !summary.self_removed) else {
            return Ok(Merged::Removed);
        };
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
        if self.config.past_epochs > 0 {
            self.past.push_front(PastEpoch {
                context: old_context,
                sender_data_secret: old.secrets.sender_data_secret,
                secret_tree: old.secret_tree,
                resumption_psk: old.secrets.resumption_psk,
                membership_key: Some(old.secrets.membership_key),
                senders,
            });
            self.past.truncate(self.config.past_epochs);
        }
        Ok(Merged::Member {
            epoch: self.context.epoch,
        })
    }
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
    fn key_of(&self, leaf: LeafIndex) -> Option<Option<&SignaturePublicKey>> {
        if let Some(key) = self.replaced.get(&leaf.value()) {
            return Some(Some(key));
        }
        self.filled.binary_search(&leaf.value()).ok().map(|_| None)
    }
}

/// RFC 9420 §8.3: the exporter label of an external commit's `init_secret`.
pub(crate) const EXTERNAL_INIT_LABEL: &[u8] = b"MLS 1.0 external init secret";

/// The commit that a new epoch's confirmed transcript hash covers (RFC 9420 §8.2): its
/// AuthenticatedContent and, when it arrived in a PublicMessage, the FramedContent's bytes
/// as received, hashed in place of encoding the content again.
#[derive(Clone, Copy)]
pub(crate) struct Transcript<'a> {
    pub(crate) content: &'a AuthenticatedContent,
    pub(crate) encoded: Option<&'a [u8]>,
}

impl<'a> Transcript<'a> {
    /// A commit we encode ourselves.
    pub(crate) fn of(content: &'a AuthenticatedContent) -> Self {
        Self {
            content,
            encoded: None,
        }
    }

    /// `confirmed_transcript_hash_[n]` after `interim_before` (§8.2).
    fn confirmed_hash(
        &self,
        ops: &dyn SuiteOps,
        interim_before: &[u8],
    ) -> Result<Vec<u8>, GroupError> {
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

/// What the key schedule of a new epoch starts from (RFC 9420 §8).
pub(crate) struct EpochInputs<'a> {
    pub(crate) interim_before: &'a [u8],
    pub(crate) init_secret: &'a Secret,
    pub(crate) commit_secret: &'a Secret,
    pub(crate) psk_secret: &'a Secret,
    pub(crate) leaf_count: LeafCount,
    pub(crate) policy: crate::schedule::OutOfOrderPolicy,
}

/// RFC 9420 §8, §8.2: the new GroupContext (with the confirmed transcript hash over
/// `content`, signed but without its confirmation tag), the key schedule of the new epoch,
/// and its secret tree. The interim transcript hash uses the confirmation tag the new
/// epoch's key produces, which the caller compares with or sets on the content.
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
        EpochState {
            secrets,
            secret_tree,
            interim_transcript_hash: interim,
        },
        joiner,
    ))
}
