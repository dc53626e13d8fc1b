//! Receiving (RFC 9420 §6, §12.1, §12.4.2): opening messages of the current and past epochs,
//! accepting application data and proposals, and handing verified commits to staging
//! ([`super::stage`]).
//!
//! Every message is authenticated before anything else is done with it: the membership tag
//! and the signature of a PublicMessage, the AEAD and the signature of a PrivateMessage. Only
//! [`VerifiedContent`] reaches the proposal checks and staging, which may call the
//! application's validator and decrypt with our keys. For a large PublicMessage commit, the
//! signature is verified on one thread while the other checks the membership tag and hashes
//! the commit into the confirmed transcript hash: public data only, no secret, no application
//! code.

use canopy_crypto::{Secret, SignaturePublicKey, SuiteOps};

use super::proposals::CachedProposal;
use super::stage::Received;
pub use super::stage::{CommitSummary, Merged, StagedCommit};
use super::transition::commit_transcript_hash;
use super::{Env, Group, GroupError};
use crate::crypto::proposal_ref;
use crate::framing::{
    DecryptedMessage, FramingError, open_private, open_public_alongside, open_sender_data,
};
use crate::rules::{Rule, Violation};
use crate::schedule::PendingDecryption;
use crate::tree::TreeRead;
use crate::tree::math::LeafIndex;
use crate::wire::{
    Extensions, ExternalSenders, FramedContent, FramedContentBody, MlsMessage, PrivateMessage,
    Proposal, PublicMessage, Sender,
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
    /// [`GroupError::UnknownEpoch`], [`GroupError::PastEpochHandshake`], and
    /// [`GroupError::Invalid`] for every rule of a proposal or commit
    /// ([`GroupError::rule`] names it).
    pub fn process_message(
        &mut self,
        env: &Env<'_>,
        bytes: &[u8],
    ) -> Result<ProcessedMessage, GroupError> {
        let limits = self.config.limits;
        crate::codec::with_limits(limits, || self.process_message_within_limits(env, bytes))
    }

    /// [`Self::process_message`], under the group's limits.
    fn process_message_within_limits(
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

    /// Which epoch a message is for: `None` for the current one, the index in `past` of a
    /// retained past one.
    fn epoch_index(&self, group_id: &[u8], epoch: u64) -> Result<Option<usize>, GroupError> {
        if group_id != self.context.group_id.as_slice() {
            return Err(GroupError::WrongGroup);
        }
        if epoch == self.context.epoch {
            return Ok(None);
        }
        self.check_not_removed_before(epoch)?;
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
        // While the signature is verified: the transcript hash of a commit, public data only.
        let interim = &self.epoch.interim_transcript_hash;
        let (verified, transcript) = open_public_alongside(
            ops,
            message,
            content_bytes,
            &self.context,
            Some(&self.epoch.secrets.membership_key),
            &key,
            |content| commit_transcript_hash(ops, interim, content, content_bytes),
        )?;
        let confirmed = transcript.transpose()?;
        let received = Received {
            content: &verified,
            encoded: content_bytes,
            confirmed: confirmed.as_deref(),
        };
        let handled = self.handle_verified(env, ops, &received, None)?;
        self.accept(handled)
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
        let received = Received {
            content: &verified,
            encoded: None,
            confirmed: None,
        };
        // A commit's key is consumed when the commit is merged; other messages' now.
        let handled = self.handle_verified(env, ops, &received, Some(pending))?;
        self.accept(handled)
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
            self.check_not_removed_before(message.epoch)?;
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
        // The framing that epoch's GroupContext required (XT-04, XT-06), checked before its
        // key is consumed.
        #[cfg(feature = "extensions")]
        {
            let extensions = &past.context.extensions;
            crate::extensions::safe_aad::check(extensions, content.authenticated_data.as_slice())?;
            if let FramedContentBody::Application(data) = &content.body {
                crate::extensions::media_types::check_framed(extensions, data.as_slice())?;
            }
        }
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
        let key = sender_key_with(&message.content, &past.context.extensions, |leaf| {
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
                return key.cloned().ok_or_else(unknown_sender);
            }
        }
        self.member_key(leaf)
    }

    /// The signature key of the member at `leaf`.
    pub(super) fn member_key(&self, leaf: LeafIndex) -> Result<SignaturePublicKey, GroupError> {
        leaf_signature_key(&self.tree, leaf)
    }

    /// RFC 9420 §6.1: the key that verifies content from its claimed sender: a member's leaf,
    /// an external sender of the `external_senders` extension, or the new member's own key
    /// (its KeyPackage's leaf for an Add, its path's leaf for an external commit).
    fn sender_key(&self, content: &FramedContent) -> Result<SignaturePublicKey, GroupError> {
        sender_key_with(content, &self.context.extensions, |leaf| {
            self.member_key(leaf)
        })
    }

    /// Turns verified content into a processed message: application data as it is, a
    /// proposal checked (and offered to the policy) for the cache, a commit staged. For a
    /// PrivateMessage, `decryption` is the secret-tree change of its key: handed back to be
    /// applied for application data and proposals, kept in the staged commit for a commit
    /// (applied when it is merged).
    pub(super) fn handle_verified(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        received: &Received<'_>,
        decryption: Option<PendingDecryption>,
    ) -> Result<Handled, GroupError> {
        let content = received.content.content();
        let sender = content.content.sender;
        #[cfg(feature = "extensions")]
        crate::extensions::safe_aad::check(
            &self.context.extensions,
            content.content.authenticated_data.as_slice(),
        )?;
        match &content.content.body {
            FramedContentBody::Application(data) => {
                let unknown = || Violation::new(Rule::FramingSender);
                let Sender::Member(l) = sender else {
                    return Err(unknown().into());
                };
                #[cfg(feature = "extensions")]
                crate::extensions::media_types::check_framed(&self.context.extensions, &data.0)?;
                let processed = ProcessedMessage::Application {
                    sender: LeafIndex::new(l).ok_or_else(unknown)?,
                    epoch: content.content.epoch,
                    data: data.0.clone(),
                    authenticated_data: content.content.authenticated_data.0.clone(),
                };
                Ok(Handled {
                    processed,
                    cached: None,
                    consume: decryption,
                })
            }
            FramedContentBody::Proposal(proposal) => {
                let reference = proposal_ref(ops, &content.to_bytes()?)?;
                #[cfg(feature = "extensions")]
                super::proposals::self_remove_received(
                    proposal,
                    &sender,
                    content.wire_format,
                    &reference,
                    &self.proposals,
                )?;
                self.accept_received(env, ops, proposal, &sender)?;
                let cached = CachedProposal {
                    reference,
                    proposal: proposal.clone(),
                    sender,
                };
                let processed = ProcessedMessage::Proposal {
                    sender,
                    proposal: proposal.clone(),
                };
                Ok(Handled {
                    processed,
                    cached: Some(cached),
                    consume: decryption,
                })
            }
            FramedContentBody::Commit(_) => {
                let staged = self.stage_commit(env, ops, received, decryption)?;
                Ok(Handled {
                    processed: ProcessedMessage::Commit(Box::new(staged)),
                    cached: None,
                    consume: None,
                })
            }
        }
    }

    /// Applies what [`Self::handle_verified`] accepted: the consumed key, the cached proposal.
    pub(super) fn accept(&mut self, handled: Handled) -> Result<ProcessedMessage, GroupError> {
        if let Some(pending) = handled.consume {
            #[cfg(feature = "extensions")]
            if matches!(handled.processed, ProcessedMessage::Application { .. }) {
                let (sender, generation) = pending.position();
                self.acks.record(sender, generation);
            }
            self.epoch.secret_tree.commit_decryption(pending)?;
        }
        if let Some(c) = handled.cached {
            self.cache_proposal(c);
        }
        Ok(handled.processed)
    }
}

/// RFC 9420 §6.1: the key that verifies content from its claimed sender (as
/// `Group::sender_key`) in an epoch whose GroupContext has `extensions` and whose members'
/// keys `member_key` gives. A [`PublicGroup`](crate::public::PublicGroup) finds keys the same
/// way.
pub(crate) fn sender_key_with(
    content: &FramedContent,
    extensions: &Extensions,
    member_key: impl FnOnce(LeafIndex) -> Result<SignaturePublicKey, GroupError>,
) -> Result<SignaturePublicKey, GroupError> {
    match (&content.sender, &content.body) {
        (Sender::Member(l), _) => member_key(LeafIndex::new(*l).ok_or_else(unknown_sender)?),
        (Sender::External(i), _) => {
            let senders: ExternalSenders = super::typed(extensions)?.ok_or_else(unknown_sender)?;
            let index = usize::try_from(*i).map_err(|_| unknown_sender())?;
            senders
                .senders
                .as_slice()
                .get(index)
                .map(|s| s.signature_key.clone())
                .ok_or_else(unknown_sender)
        }
        (Sender::NewMemberProposal, FramedContentBody::Proposal(Proposal::Add(add))) => {
            Ok(add.key_package.leaf_node.signature_key.clone())
        }
        (Sender::NewMemberCommit, FramedContentBody::Commit(commit)) => commit
            .path
            .as_ref()
            .map(|p| p.leaf_node.signature_key.clone())
            .ok_or_else(|| Violation::new(Rule::ExternalPath).into()),
        _ => Err(unknown_sender()),
    }
}

/// A verified message, handled: what to report, and what to change in the group.
pub(super) struct Handled {
    processed: ProcessedMessage,
    cached: Option<CachedProposal>,
    consume: Option<PendingDecryption>,
}

impl Handled {
    /// What to report, for a caller that applied the changes itself (application data
    /// whose keys were consumed already).
    pub(super) fn into_processed(self) -> ProcessedMessage {
        self.processed
    }
}

/// The signature key of the member at `leaf` of `tree`; FR-07 if the leaf is blank or
/// outside the tree.
pub(super) fn leaf_signature_key(
    tree: &crate::tree::RatchetTree,
    leaf: LeafIndex,
) -> Result<SignaturePublicKey, GroupError> {
    tree.leaf(leaf)
        .map(|l| l.signature_key.clone())
        .ok_or_else(unknown_sender)
}

/// FR-07: the claimed sender is no member, no listed external sender, and no new member
/// carrying its own key.
fn unknown_sender() -> GroupError {
    Violation::new(Rule::FramingSender).into()
}
