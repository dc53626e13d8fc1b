//! Sending (RFC 9420 §12.4.1, §12.4.3): building a commit with its Welcome, proposals and
//! application messages, and the own-commit lifecycle (pending until the Delivery Service
//! accepts it).

use canopy_crypto::{Secret, SuiteOps};

use super::process::{Applied, Merged, PrivateChange, StagedCommit, Transcript, apply_proposals};
use super::proposals::{CachedProposal, Committer, Resolved, requires_path};
use super::{Env, Group, GroupError, HandshakeFormat};
use crate::codec::VarBytes;
use crate::crypto::proposal_ref;
use crate::framing::{protect_private, protect_public, sign_content};
use crate::join::{WelcomeRecipient, seal_welcome, sign_group_info};
use crate::key_package::{KeyPackageRef, LeafNodeParams, NewLeafSource, generate_leaf_node};
use crate::tree::math::{LeafIndex, NodeIndex, common_ancestor};
use crate::tree::{LeafTemplate, TreeDiff, TreeRead};
use crate::wire::{
    self, Add, AuthenticatedContent, Commit, ExtensionView, Extensions, ExternalPub, FramedContent,
    FramedContentBody, GroupContext, GroupContextExtensions, KeyPackage, MlsMessage, PreSharedKey,
    PreSharedKeyId, Proposal, ProposalOrRef, ReInit, Remove, Sender, Update, WireFormat,
};

/// What to put in a commit (RFC 9420 §12.4). By default it includes every valid proposal
/// received in the epoch (by reference), and a path whenever one is required.
#[derive(Clone, Debug)]
pub struct CommitOptions {
    /// KeyPackages to add (RFC 9420 §12.1.1).
    pub add: Vec<KeyPackage>,
    /// Leaves to remove (RFC 9420 §12.1.3).
    pub remove: Vec<LeafIndex>,
    /// PSKs to inject (RFC 9420 §12.1.4).
    pub psks: Vec<PreSharedKeyId>,
    /// New GroupContext extensions (RFC 9420 §12.1.7).
    pub extensions: Option<Extensions>,
    /// End this group in favour of a new one (RFC 9420 §12.1.5, §11.2).
    pub reinit: Option<ReInit>,
    /// Include an UpdatePath even when none is required (refreshes our leaf: an "update").
    pub force_path: bool,
    /// Include the proposals received in this epoch (the RFC requires it, RFC 9420 §12.4).
    pub include_pending: bool,
    /// The commit's `authenticated_data`.
    pub authenticated_data: Vec<u8>,
}

impl Default for CommitOptions {
    fn default() -> Self {
        Self {
            add: Vec::new(),
            remove: Vec::new(),
            psks: Vec::new(),
            extensions: None,
            reinit: None,
            force_path: false,
            include_pending: true,
            authenticated_data: Vec::new(),
        }
    }
}

/// The messages a commit produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitOutput {
    /// The commit, an encoded MLSMessage for the group.
    pub commit: Vec<u8>,
    /// The Welcome for the added members, an encoded MLSMessage, if any were added.
    pub welcome: Option<Vec<u8>>,
}

/// Our commit, staged and waiting for the Delivery Service's verdict.
pub(crate) struct PendingCommit {
    pub(crate) staged: StagedCommit,
    pub(crate) message: Vec<u8>,
}

impl Group {
    /// Builds a commit (RFC 9420 §12.4.1) and, if it adds members, their Welcome
    /// (§12.4.3.1). The commit stays pending in the group: send it, then call
    /// [`Group::merge_pending_commit`] once the Delivery Service accepts it (receiving its
    /// echo through [`Group::process_message`] says so), or [`Group::discard_pending_commit`]
    /// if another commit won the epoch.
    ///
    /// # Errors
    /// [`GroupError::CommitPending`], and every proposal check a receiver would run.
    pub fn commit(
        &mut self,
        env: &Env<'_>,
        options: CommitOptions,
    ) -> Result<CommitOutput, GroupError> {
        if self.pending.is_some() {
            return Err(GroupError::CommitPending);
        }
        if self.ended.is_some() {
            return Err(GroupError::GroupEnded);
        }
        let ops = env.ops(self.cipher_suite())?;
        let own = self.own_leaf();
        if self.tree.leaf(own).is_none() {
            return Err(GroupError::NotAMember);
        }
        let me = Sender::Member(own.value());
        let mut by_value: Vec<Proposal> = Vec::new();
        if let Some(extensions) = options.extensions {
            by_value.push(Proposal::GroupContextExtensions(GroupContextExtensions {
                extensions,
            }));
        }
        by_value.extend(
            options
                .remove
                .iter()
                .map(|l| Proposal::Remove(Remove { removed: l.value() })),
        );
        by_value.extend(
            options
                .add
                .into_iter()
                .map(|key_package| Proposal::Add(Box::new(Add { key_package }))),
        );
        by_value.extend(
            options
                .psks
                .into_iter()
                .map(|psk| Proposal::PreSharedKey(PreSharedKey { psk })),
        );
        if let Some(reinit) = options.reinit {
            by_value.push(Proposal::ReInit(reinit));
        }
        let by_value: Vec<Resolved> = by_value
            .into_iter()
            .map(|proposal| Resolved {
                proposal,
                sender: me,
                by_reference: false,
            })
            .collect();
        // RFC 9420 §12.4: the received proposals, by reference, first; those that would clash
        // with ours or with each other are left out (the §12.2 SHOULDs: our own values win).
        let mut list: Vec<Resolved> = Vec::new();
        let mut refs: Vec<Option<Vec<u8>>> = Vec::new();
        if options.include_pending {
            for c in &self.proposals {
                let chosen = list.iter().chain(&by_value);
                if self.keeps(chosen, c, own) {
                    list.push(Resolved {
                        proposal: c.proposal.clone(),
                        sender: c.sender,
                        by_reference: true,
                    });
                    refs.push(Some(c.reference.clone()));
                }
            }
        }
        // A received ReInit is committed only alone (RFC 9420 §12.2: other proposals win).
        if options.include_pending
            && list.is_empty()
            && by_value.is_empty()
            && let Some(c) = self
                .proposals
                .iter()
                .find(|c| matches!(c.proposal, Proposal::ReInit(_)))
        {
            list.push(Resolved {
                proposal: c.proposal.clone(),
                sender: c.sender,
                by_reference: true,
            });
            refs.push(Some(c.reference.clone()));
        }
        refs.extend(by_value.iter().map(|_| None));
        list.extend(by_value);
        self.check_by_value(env, ops, &list)?;
        self.check_proposal_list(&list, Committer::Member(own))?;
        let path_needed = options.force_path
            || list.is_empty()
            || list.iter().any(|r| requires_path(&r.proposal));

        let mut diff = self.tree.diff();
        let applied = apply_proposals(&mut diff, &list)?;
        self.check_credential_types(&diff, &applied)?;
        let extensions = applied
            .extensions
            .clone()
            .unwrap_or_else(|| self.context.extensions.clone());
        let mut provisional = GroupContext {
            version: self.context.version,
            cipher_suite: self.context.cipher_suite,
            group_id: self.context.group_id.clone(),
            epoch: self
                .context
                .epoch
                .checked_add(1)
                .ok_or(GroupError::Internal("epoch overflow"))?,
            tree_hash: VarBytes(Vec::new()),
            confirmed_transcript_hash: self.context.confirmed_transcript_hash.clone(),
            extensions,
        };
        let new_leaves = applied.new_leaves();
        let nh = ops.params().hash_len();
        let (path, pending_path) = if path_needed {
            let own_leaf = self.tree.leaf(own).ok_or(GroupError::NotAMember)?;
            let pending = diff.create_update_path(
                env.crypto,
                ops,
                own,
                self.context.group_id.as_slice(),
                LeafTemplate::from_leaf(own_leaf),
                &self.signer,
            )?;
            provisional.tree_hash = diff.tree_hash(ops)?.into();
            let ctx = provisional.to_bytes()?;
            let path = pending.encrypt(&diff, ops, &ctx, &new_leaves)?;
            (Some(path), Some(pending))
        } else {
            provisional.tree_hash = diff.tree_hash(ops)?.into();
            (None, None)
        };
        let welcome_tree = if !applied.added.is_empty() && self.config.ratchet_tree_in_welcome {
            Some(wire_tree(&diff)?)
        } else {
            None
        };
        let staged_tree = diff.stage(ops)?;

        let proposals: Vec<ProposalOrRef> = list
            .iter()
            .zip(&refs)
            .map(|(r, reference)| match reference {
                Some(reference) => ProposalOrRef::Reference(VarBytes(reference.clone())),
                None => ProposalOrRef::Proposal(r.proposal.clone()),
            })
            .collect();
        let commit = Commit {
            proposals: proposals.into(),
            path,
        };
        let wire_format = self.handshake_wire_format();
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: me,
            authenticated_data: VarBytes(options.authenticated_data),
            body: FramedContentBody::Commit(Box::new(commit)),
        };
        let mut signed =
            sign_content(ops, wire_format, content, &self.signer, Some(&self.context))?;
        let commit_secret = pending_path
            .as_ref()
            .map_or_else(|| Secret::zero(nh), |p| p.commit_secret().clone());
        let (context, epoch, joiner) = self.next_epoch(
            ops,
            Transcript::of(&signed),
            provisional,
            &commit_secret,
            &applied.psks,
            &staged_tree,
            None,
        )?;
        let tag = crate::schedule::confirmation_tag(
            ops,
            &epoch.secrets.confirmation_key,
            context.confirmed_transcript_hash.as_slice(),
        );
        signed.auth.confirmation_tag = Some(VarBytes(tag.clone()));

        let welcome = if applied.added.is_empty() {
            None
        } else {
            let mut gi_extensions = Vec::new();
            if let Some(tree) = welcome_tree {
                gi_extensions.push(tree.to_extension()?);
            }
            if self.config.external_pub {
                let external = epoch.secrets.external_key_pair(ops)?;
                gi_extensions.push(
                    ExternalPub {
                        external_pub: external.public,
                    }
                    .to_extension()?,
                );
            }
            gi_extensions.push(super::grease_extension(env)?);
            let group_info = sign_group_info(
                ops,
                context.clone(),
                Extensions::new(gi_extensions)?,
                tag,
                own.value(),
                &self.signer,
            )?;
            Some(self.welcome(
                ops,
                &applied,
                &group_info,
                &joiner,
                pending_path.as_ref(),
                own,
            )?)
        };

        let message = self.protect_handshake(env, ops, signed)?;
        let summary = super::process::CommitSummary {
            committer: Some(me),
            added: new_leaves,
            removed: applied.removed.clone(),
            updated: applied.updated.clone(),
            psks: applied.psks.clone(),
            reinit: applied.reinit.clone(),
            extensions_changed: applied.extensions.is_some(),
            has_path: pending_path.is_some(),
            self_removed: false,
            new_epoch: context.epoch,
        };
        let staged = StagedCommit {
            base_epoch: self.context.epoch,
            context,
            tree: staged_tree,
            private: pending_path.map_or(PrivateChange::None, |p| PrivateChange::Own(Box::new(p))),
            epoch: Some(epoch),
            summary,
            leaf_key: None,
        };
        self.pending = Some(Box::new(PendingCommit {
            staged,
            message: message.clone(),
        }));
        Ok(CommitOutput {
            commit: message,
            welcome,
        })
    }

    /// Whether a cached proposal can join the `chosen` ones (RFC 9420 §12.2, and the SHOULDs
    /// there): our own Updates, Removes of us, second changes to one leaf, second Adds of one
    /// client, second GroupContextExtensions, repeated PSKs, ReInits and ExternalInits are
    /// left out.
    fn keeps<'a>(
        &self,
        chosen: impl Iterator<Item = &'a Resolved> + Clone,
        c: &CachedProposal,
        own: LeafIndex,
    ) -> bool {
        let leaf_of = |p: &Proposal, s: &Sender| match (p, s) {
            (Proposal::Update(_), Sender::Member(l)) => Some(*l),
            (Proposal::Remove(r), _) => Some(r.removed),
            _ => None,
        };
        if let Some(l) = leaf_of(&c.proposal, &c.sender) {
            if l == own.value() {
                return false;
            }
            if chosen
                .clone()
                .any(|r| leaf_of(&r.proposal, &r.sender) == Some(l))
            {
                return false;
            }
        }
        let mut chosen = chosen;
        match &c.proposal {
            Proposal::ReInit(_) | Proposal::ExternalInit(_) => false,
            Proposal::GroupContextExtensions(_) => {
                !chosen.any(|r| matches!(r.proposal, Proposal::GroupContextExtensions(_)))
            }
            Proposal::PreSharedKey(p) => {
                !chosen.any(|r| matches!(&r.proposal, Proposal::PreSharedKey(q) if q.psk == p.psk))
            }
            Proposal::Add(a) => !chosen.any(|r| {
                matches!(&r.proposal, Proposal::Add(b)
                    if b.key_package.leaf_node.signature_key
                        == a.key_package.leaf_node.signature_key)
            }),
            _ => true,
        }
    }

    /// RFC 9420 §12.4.3.1: the Welcome for the members `applied` adds.
    fn welcome(
        &self,
        ops: &dyn SuiteOps,
        applied: &Applied,
        group_info: &wire::GroupInfo,
        joiner: &crate::schedule::JoinerSecrets,
        path: Option<&crate::tree::PendingUpdatePath>,
        own: LeafIndex,
    ) -> Result<Vec<u8>, GroupError> {
        let refs = applied
            .added
            .iter()
            .map(|(_, kp)| KeyPackageRef::compute(ops, kp))
            .collect::<Result<Vec<_>, _>>()?;
        let recipients: Vec<WelcomeRecipient<'_>> = applied
            .added
            .iter()
            .zip(&refs)
            .map(|((leaf, kp), r)| WelcomeRecipient {
                key_package_ref: r.as_bytes(),
                init_key: &kp.init_key,
                path_secret: path
                    .and_then(|p| p.path_secret(common_ancestor(own.node(), leaf.node()))),
            })
            .collect();
        let welcome = seal_welcome(ops, group_info, joiner, &applied.psks, &recipients)?;
        Ok(MlsMessage::Welcome(welcome).to_bytes()?)
    }

    /// The wire format of our proposals and commits.
    fn handshake_wire_format(&self) -> WireFormat {
        match self.config.handshake {
            HandshakeFormat::Public => WireFormat::PublicMessage,
            HandshakeFormat::Private => WireFormat::PrivateMessage,
        }
    }

    /// Protects our handshake content as the configuration says.
    fn protect_handshake(
        &mut self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        content: AuthenticatedContent,
    ) -> Result<Vec<u8>, GroupError> {
        let message = match content.wire_format {
            WireFormat::PublicMessage => MlsMessage::PublicMessage(Box::new(protect_public(
                ops,
                content,
                &self.context,
                Some(&self.epoch.secrets.membership_key),
            )?)),
            _ => {
                let guard = reuse_guard(env)?;
                MlsMessage::PrivateMessage(protect_private(
                    ops,
                    content,
                    &self.epoch.secrets.sender_data_secret,
                    &mut self.epoch.secret_tree,
                    self.config.padding,
                    guard,
                )?)
            }
        };
        Ok(message.to_bytes()?)
    }

    /// Merges our pending commit, after the Delivery Service accepted it.
    ///
    /// # Errors
    /// [`GroupError::NoPendingCommit`]; [`GroupError::StaleCommit`] if the group moved on.
    pub fn merge_pending_commit(&mut self) -> Result<Merged, GroupError> {
        let pending = self.pending.take().ok_or(GroupError::NoPendingCommit)?;
        if pending.staged.base_epoch != self.context.epoch {
            return Err(GroupError::StaleCommit);
        }
        self.apply_staged(pending.staged)
    }

    /// Drops our pending commit (the Delivery Service rejected it, or another commit won
    /// the epoch). Returns whether there was one.
    pub fn discard_pending_commit(&mut self) -> bool {
        self.pending.take().is_some()
    }

    /// Encrypts application data as a PrivateMessage of the current epoch (RFC 9420 §6.3).
    ///
    /// # Errors
    /// [`GroupError::NotAMember`], crypto errors, [`GroupError::Schedule`] if our ratchet is
    /// exhausted.
    pub fn encrypt_application(
        &mut self,
        env: &Env<'_>,
        data: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let own = self.own_leaf();
        if self.tree.leaf(own).is_none() {
            return Err(GroupError::NotAMember);
        }
        if self.ended.is_some() {
            return Err(GroupError::GroupEnded);
        }
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(own.value()),
            authenticated_data: VarBytes(authenticated_data.to_vec()),
            body: FramedContentBody::Application(VarBytes(data.to_vec())),
        };
        let signed = sign_content(
            ops,
            WireFormat::PrivateMessage,
            content,
            &self.signer,
            Some(&self.context),
        )?;
        let guard = reuse_guard(env)?;
        let message = protect_private(
            ops,
            signed,
            &self.epoch.secrets.sender_data_secret,
            &mut self.epoch.secret_tree,
            self.config.padding,
            guard,
        )?;
        Ok(MlsMessage::PrivateMessage(message).to_bytes()?)
    }

    /// Sends a proposal (RFC 9420 §12.1) framed as the configuration says, and caches it so
    /// that our next commit includes it. Our own Update is [`Group::propose_update`].
    ///
    /// # Errors
    /// [`GroupError::Proposal`] for an invalid proposal, an Update or an ExternalInit.
    pub fn propose(&mut self, env: &Env<'_>, proposal: Proposal) -> Result<Vec<u8>, GroupError> {
        if matches!(proposal, Proposal::Update(_) | Proposal::ExternalInit(_)) {
            return Err(super::ProposalRule::NotAllowed(proposal.proposal_type()).into());
        }
        self.send_proposal(env, proposal)
    }

    /// Sends an Update proposal for our leaf (RFC 9420 §12.1.2): a new LeafNode (from
    /// `leaf`, or our current leaf's contents) with a fresh encryption key, whose private key
    /// is kept until another member's commit applies it. (A committer cannot apply its own
    /// Update; to refresh our leaf in our own commit use [`CommitOptions::force_path`].)
    ///
    /// # Errors
    /// [`GroupError::NotAMember`], [`GroupError::GroupEnded`], the leaf checks of §7.3.
    pub fn propose_update(
        &mut self,
        env: &Env<'_>,
        leaf: Option<&LeafNodeParams>,
    ) -> Result<Vec<u8>, GroupError> {
        let own = self.own_leaf();
        let current = self.tree.leaf(own).ok_or(GroupError::NotAMember)?;
        let params = leaf
            .cloned()
            .unwrap_or_else(|| LeafNodeParams::from_leaf(current));
        let (leaf_node, private) = generate_leaf_node(
            env.crypto,
            self.cipher_suite(),
            &params,
            NewLeafSource::Update {
                group_id: self.context.group_id.as_slice(),
                leaf_index: own.value(),
            },
            &self.signer,
        )?;
        let key = canopy_crypto::HpkeKeyPair {
            private,
            public: leaf_node.encryption_key.clone(),
        };
        let message = self.send_proposal(env, Proposal::Update(Box::new(Update { leaf_node })))?;
        self.own_updates.push(key);
        Ok(message)
    }

    /// Checks, signs, protects and caches our `proposal`.
    fn send_proposal(&mut self, env: &Env<'_>, proposal: Proposal) -> Result<Vec<u8>, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let own = self.own_leaf();
        if self.tree.leaf(own).is_none() {
            return Err(GroupError::NotAMember);
        }
        if self.ended.is_some() {
            return Err(GroupError::GroupEnded);
        }
        let sender = Sender::Member(own.value());
        self.check_proposal(env, ops, &proposal, &sender, &self.context.extensions)?;
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender,
            authenticated_data: VarBytes(Vec::new()),
            body: FramedContentBody::Proposal(proposal.clone()),
        };
        let wire_format = self.handshake_wire_format();
        let signed = sign_content(ops, wire_format, content, &self.signer, Some(&self.context))?;
        let reference = proposal_ref(ops, &signed.to_bytes()?)?;
        let message = self.protect_handshake(env, ops, signed)?;
        self.proposals.push(CachedProposal {
            reference,
            proposal,
            sender,
        });
        Ok(message)
    }
}

/// A fresh random reuse guard (RFC 9420 §6.3.1).
fn reuse_guard(env: &Env<'_>) -> Result<[u8; 4], GroupError> {
    let mut guard = [0u8; 4];
    env.crypto
        .fill_random(&mut guard)
        .map_err(|e| GroupError::Crypto(e.into()))?;
    Ok(guard)
}

/// The ratchet tree of `diff` as it goes on the wire (RFC 9420 §12.4.3.3): every node,
/// trailing blanks removed.
fn wire_tree(diff: &TreeDiff<'_>) -> Result<wire::RatchetTree, GroupError> {
    let width = diff.leaf_count().width();
    let mut nodes: Vec<Option<wire::Node>> = (0..width)
        .map(|x| NodeIndex::new(x).and_then(|x| diff.node(x)).cloned())
        .collect();
    while nodes.last().is_some_and(Option::is_none) {
        nodes.pop();
    }
    Ok(wire::RatchetTree::new(nodes)?)
}
