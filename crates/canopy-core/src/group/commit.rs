//! Sending (RFC 9420 §12.4.1, §12.4.3): building a commit with its Welcome, proposals and
//! application messages, and the own-commit lifecycle (pending until the Delivery Service
//! accepts it).

use canopy_crypto::{Secret, SuiteOps};

use super::policy::ProposalInfo;
use super::proposals::{CachedProposal, LeftOut};
use super::stage::{Merged, PrivateChange, StagedCommit};
use super::transition::{
    Applied, Base, Transcript, Transition, epoch_confirmation_tag, path_required,
};
use super::{Env, Group, GroupError, HandshakeFormat};
use crate::codec::VarBytes;
use crate::crypto::proposal_ref;
use crate::framing::{protect_private, protect_public, sign_content};
use crate::join::{WelcomeRecipient, seal_welcome, sign_group_info};
use crate::key_package::{KeyPackageRef, LeafNodeParams, NewLeafSource, generate_leaf_node};
use crate::rules::proposal::{Committer, Resolved};
use crate::rules::{Rule, Violation};
use crate::tree::math::{LeafIndex, NodeIndex, common_ancestor};
use crate::tree::{LeafTemplate, TreeDiff, TreeRead};
use crate::wire::{
    self, Add, AuthenticatedContent, Commit, ExtensionView, Extensions, ExternalPub, FramedContent,
    FramedContentBody, GroupContextExtensions, KeyPackage, MlsMessage, PreSharedKey,
    PreSharedKeyId, Proposal, ProposalOrRef, ReInit, Remove, Sender, Update, WireFormat,
};

/// What to put in a commit (RFC 9420 §12.4). By default it includes the valid proposals of
/// the epoch that the application's [`ProposalPolicy`](super::ProposalPolicy) includes (by
/// reference; by default members' proposals, not outsiders'), as many as make a valid list,
/// and a path whenever one is required.
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
    /// Include the proposals received in this epoch (RFC 9420 §12.4: the committer SHOULD
    /// include the valid ones), as the policy allows.
    pub include_pending: bool,
    /// The commit's `authenticated_data`.
    pub authenticated_data: Vec<u8>,
    /// More proposals by value, after the others: AppEphemeral and AppDataUpdate proposals
    /// (draft-ietf-mls-extensions), in the order given.
    #[cfg(feature = "extensions")]
    pub proposals: Vec<Proposal>,
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
            #[cfg(feature = "extensions")]
            proposals: Vec::new(),
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
    /// The proposals of the epoch the commit did not include, each with the reason: the
    /// policy did not include it, its PSK is missing, or it would have made the list invalid
    /// (RFC 9420 §12.2, §12.4).
    pub left_out: Vec<LeftOut>,
}

/// What a commit of ours carries: the proposals (with the references of those committed by
/// reference), whether it has a path, and what was left out.
pub(crate) struct Plan {
    pub(crate) list: Vec<Resolved>,
    pub(crate) refs: Vec<Option<Vec<u8>>>,
    pub(crate) path: bool,
    pub(crate) authenticated_data: Vec<u8>,
    pub(crate) left_out: Vec<LeftOut>,
    /// The changes of a forged commit (the negative tests of `crate::rules`).
    #[cfg(test)]
    pub(crate) forgery: Option<super::forge::Forgery>,
}

/// Our commit, staged and waiting for the Delivery Service's verdict.
pub(crate) struct PendingCommit {
    pub(crate) staged: StagedCommit,
    pub(crate) message: Vec<u8>,
}

impl Group {
    /// [`framed_aad`] for the current epoch.
    fn framed_aad(&self, authenticated_data: Vec<u8>) -> Result<Vec<u8>, GroupError> {
        framed_aad(&self.context.extensions, authenticated_data)
    }

    /// Builds a commit (RFC 9420 §12.4.1) and, if it adds members, their Welcome
    /// (§12.4.3.1). The commit stays pending in the group: send it, then call
    /// [`Group::merge_pending_commit`] once the Delivery Service accepts it (receiving its
    /// echo through [`Group::process_message`] says so), or [`Group::discard_pending_commit`]
    /// if another commit won the epoch.
    ///
    /// The cached proposals of the epoch are included as far as they make a valid list with
    /// `options` (§12.2, §12.4): Removes first, then the latest Update of each member, then
    /// the rest; those left out are reported in [`CommitOutput::left_out`].
    ///
    /// # Errors
    /// [`GroupError::CommitPending`], [`GroupError::GroupEnded`], [`GroupError::NotAMember`],
    /// and every rule a receiver would check, for the proposals of `options`.
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
        let own_leaf = self.own_leaf_node()?;
        let me = Sender::Member(own.value());
        let by_value: Vec<Resolved> = by_value(&options)
            .into_iter()
            .map(|proposal| Resolved {
                proposal,
                sender: me,
                by_reference: false,
            })
            .collect();
        let selection = self.select(env, ops, &by_value, options.include_pending)?;
        // The received proposals, by reference, first; then ours.
        let (mut list, mut refs): (Vec<Resolved>, Vec<Option<Vec<u8>>>) = selection
            .chosen
            .into_iter()
            .map(|(r, reference)| (r, Some(reference)))
            .unzip();
        refs.extend(by_value.iter().map(|_| None));
        list.extend(by_value);
        let path = options.force_path || path_required(&list);
        let plan = Plan {
            list,
            refs,
            path,
            authenticated_data: options.authenticated_data,
            left_out: selection.left_out,
            #[cfg(test)]
            forgery: None,
        };
        self.build_commit(env, ops, LeafTemplate::from_leaf(own_leaf), plan)
    }

    /// Builds, signs and protects the commit of `plan` (RFC 9420 §12.4.1) through the epoch
    /// transition, with its Welcome (§12.4.3.1), and leaves it pending.
    pub(super) fn build_commit(
        &mut self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        template: LeafTemplate,
        plan: Plan,
    ) -> Result<CommitOutput, GroupError> {
        let own = self.own_leaf();
        let me = Sender::Member(own.value());
        #[cfg(test)]
        let mut forgery = plan.forgery;
        #[cfg(not(test))]
        let forgery: Option<()> = None;
        let scope = self.scope(env, ops);
        let base = Base {
            ops,
            context: &self.context,
            tree: &self.tree,
        };
        let mut transition = if forgery.is_none() {
            Transition::apply(base, &scope, &plan.list, Committer::Member(own))?
        } else {
            #[cfg(test)]
            {
                Transition::apply_unchecked(base, &plan.list)?
            }
            #[cfg(not(test))]
            return Err(GroupError::Internal("forgery"));
        };
        let new_leaves = transition.applied.new_leaves();
        #[cfg(test)]
        let template = match forgery.as_mut().and_then(|f| f.template.take()) {
            Some(change) => {
                let mut template = template;
                change(&mut template);
                template
            }
            None => template,
        };
        #[cfg(test)]
        let break_at = forgery.as_ref().and_then(|f| f.break_path_at);
        #[cfg(not(test))]
        let break_at = None;
        let pending_path = if plan.path {
            Some(transition.create_path(env.crypto, own, template, &self.signer, break_at)?)
        } else {
            None
        };
        if forgery.is_none() {
            transition.seal_tree()?;
        } else {
            transition.hash_tree()?;
        }
        let path = match &pending_path {
            Some(pending) => {
                let ctx = transition.provisional.to_bytes()?;
                let path = pending.encrypt(&transition.diff, ops, &ctx, &new_leaves)?;
                #[cfg(test)]
                let path = super::forge::tamper_path(forgery.as_mut(), ops, self, own, path)?;
                Some(path)
            }
            None => None,
        };
        let welcome_tree =
            if !transition.applied.added.is_empty() && self.config.ratchet_tree_in_welcome {
                Some(wire_tree(&transition.diff)?)
            } else {
                None
            };
        let (staged_tree, provisional, applied) = transition.stage()?;

        let proposals: Vec<ProposalOrRef> = plan
            .list
            .iter()
            .zip(&plan.refs)
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
            // A forgery (test builds) sends its bytes as they are.
            authenticated_data: VarBytes(if forgery.is_none() {
                self.framed_aad(plan.authenticated_data)?
            } else {
                plan.authenticated_data
            }),
            body: FramedContentBody::Commit(Box::new(commit)),
        };
        let mut signed =
            sign_content(ops, wire_format, content, &self.signer, Some(&self.context))?;
        let nh = ops.params().kdf_len();
        let commit_secret = pending_path
            .as_ref()
            .map_or_else(|| Secret::zero(nh), |p| p.commit_secret().clone());
        let (context, epoch, joiner) = self.next_epoch(
            env,
            ops,
            Transcript::of(&signed),
            provisional,
            &commit_secret,
            &applied.psks,
            &staged_tree,
            None,
        )?;
        let tag = epoch_confirmation_tag(ops, &context, &epoch);
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
            #[cfg(test)]
            let (gi_context, gi_tag) = match forgery.as_mut().and_then(|f| f.group_info.take()) {
                Some(change) => {
                    let mut forged = context.clone();
                    change(&mut forged, &mut gi_extensions);
                    let tag = super::forge::confirmation_tag_for(ops, &joiner, &forged)?;
                    (forged, tag)
                }
                None => (context.clone(), tag),
            };
            #[cfg(not(test))]
            let (gi_context, gi_tag) = (context.clone(), tag);
            #[cfg(test)]
            let gi_tag = {
                let mut tag = gi_tag;
                if forgery.as_ref().is_some_and(|f| f.bad_group_info_tag)
                    && let Some(b) = tag.first_mut()
                {
                    *b ^= 1;
                }
                tag
            };
            #[allow(unused_mut)]
            let mut group_info = sign_group_info(
                ops,
                gi_context,
                Extensions::new(gi_extensions)?,
                gi_tag,
                own.value(),
                &self.signer,
            )?;
            #[cfg(test)]
            if forgery.as_ref().is_some_and(|f| f.bad_group_info_signature)
                && let Some(b) = group_info.signature.0.first_mut()
            {
                *b ^= 1;
            }
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
            #[cfg(feature = "extensions")]
            app_ephemeral: applied.app_ephemeral.clone(),
            #[cfg(feature = "extensions")]
            app_data_updated: applied.app_data_updated,
        };
        let staged = StagedCommit {
            base: self.base_id(),
            context,
            tree: staged_tree,
            private: pending_path.map_or(PrivateChange::None, |p| PrivateChange::Own(Box::new(p))),
            epoch: Some(epoch),
            summary,
            leaf_key: None,
            decryption: None,
        };
        self.pending = Some(Box::new(PendingCommit {
            staged,
            message: message.clone(),
        }));
        self.dirty.pending();
        Ok(CommitOutput {
            commit: message,
            welcome,
            left_out: plan.left_out,
        })
    }

    /// Whether the group holds proposals of the epoch that a commit of ours would include
    /// (RFC 9420 §12.4, rule AP-01).
    pub fn has_proposals_to_commit(&self, env: &Env<'_>) -> bool {
        self.proposals.iter().any(|c| {
            env.policy.include(&ProposalInfo {
                sender: &c.sender,
                proposal: &c.proposal,
            })
        })
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
    pub(super) fn handshake_wire_format(&self) -> WireFormat {
        match self.config.handshake {
            HandshakeFormat::Public => WireFormat::PublicMessage,
            HandshakeFormat::Private => WireFormat::PrivateMessage,
        }
    }

    /// Protects our handshake content as the configuration says.
    pub(super) fn protect_handshake(
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
        let staged = match self.pending.as_deref() {
            None => return Err(GroupError::NoPendingCommit),
            Some(p) if p.staged.base.epoch != self.context.epoch => {
                return Err(GroupError::StaleCommit);
            }
            Some(_) => self.pending.take().map(|p| p.staged),
        };
        let staged = staged.ok_or(GroupError::NoPendingCommit)?;
        self.dirty.pending();
        self.apply_staged(staged)
    }

    /// Drops our pending commit (the Delivery Service rejected it, or another commit won
    /// the epoch). Returns whether there was one.
    pub fn discard_pending_commit(&mut self) -> bool {
        let had = self.pending.take().is_some();
        if had {
            self.dirty.pending();
        }
        had
    }

    /// Encrypts application data as a PrivateMessage of the current epoch (RFC 9420 §6.3).
    ///
    /// RFC 9420 §12.4: a member holding valid proposals must commit first, so this refuses
    /// with rule AP-01 while [`Group::has_proposals_to_commit`] (proposals the policy would
    /// commit), unless [`GroupConfig::dangerous_application_before_commit`] is set.
    ///
    /// # Errors
    /// [`GroupError::NotAMember`], [`GroupError::GroupEnded`], [`GroupError::Invalid`] with
    /// AP-01, crypto errors, [`GroupError::Schedule`] if our ratchet is exhausted.
    ///
    /// [`GroupConfig::dangerous_application_before_commit`]:
    ///     super::GroupConfig::dangerous_application_before_commit
    pub fn encrypt_application(
        &mut self,
        env: &Env<'_>,
        data: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>, GroupError> {
        self.encrypt_application_checked(env, data, authenticated_data, true)
    }

    /// [`Self::encrypt_application`]; `check_framing` false (test forgeries only) sends
    /// `data` and `authenticated_data` as they are, unframed.
    pub(crate) fn encrypt_application_checked(
        &mut self,
        env: &Env<'_>,
        data: &[u8],
        authenticated_data: &[u8],
        check_framing: bool,
    ) -> Result<Vec<u8>, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let own = self.own_leaf();
        if self.is_removed() {
            return Err(GroupError::NotAMember);
        }
        if self.ended.is_some() {
            return Err(GroupError::GroupEnded);
        }
        if !self.config.dangerous_application_before_commit && self.has_proposals_to_commit(env) {
            return Err(Violation::new(Rule::ApplicationAfterProposals).into());
        }
        #[cfg(feature = "extensions")]
        if check_framing {
            crate::extensions::media_types::check_framed(&self.context.extensions, data)?;
        }
        let authenticated_data = if check_framing {
            self.framed_aad(authenticated_data.to_vec())?
        } else {
            authenticated_data.to_vec()
        };
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(own.value()),
            authenticated_data: VarBytes(authenticated_data),
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
    /// [`GroupError::Invalid`] for an invalid proposal, an Update (PR-01) or an ExternalInit
    /// (CM-09).
    pub fn propose(&mut self, env: &Env<'_>, proposal: Proposal) -> Result<Vec<u8>, GroupError> {
        match proposal {
            Proposal::Update(_) => Err(Violation::new(Rule::ProposalUpdateSender).into()),
            Proposal::ExternalInit(_) => Err(Violation::new(Rule::CommitExternalInit).into()),
            proposal => self.send_proposal(env, proposal),
        }
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
        let current = self.own_leaf_node()?;
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
        self.dirty.meta();
        Ok(message)
    }

    /// How `proposal` is framed: as the group's handshakes are, except that a SelfRemove is
    /// always a PublicMessage (SR-01: an external joiner must be able to read it).
    fn proposal_wire_format(&self, proposal: &Proposal) -> WireFormat {
        #[cfg(feature = "extensions")]
        if matches!(proposal, Proposal::SelfRemove(_)) {
            return WireFormat::PublicMessage;
        }
        let _ = proposal;
        self.handshake_wire_format()
    }

    /// Sends a SelfRemove proposal (draft-ietf-mls-extensions §SelfRemove): the next commit
    /// of another member removes us. It goes as a PublicMessage, under the code point every
    /// member supports: the draft's 0x000a if all list it, else 0xF003 (RCS, mls-rs).
    ///
    /// # Errors
    /// SR-04 if no SelfRemove code point is supported by every member, SR-07 if we already
    /// sent one this epoch, [`GroupError::NotAMember`], [`GroupError::GroupEnded`].
    #[cfg(feature = "extensions")]
    pub fn propose_self_remove(&mut self, env: &Env<'_>) -> Result<Vec<u8>, GroupError> {
        use crate::wire::{ProposalType, SelfRemove};
        let code = [ProposalType::SELF_REMOVE, ProposalType::SELF_REMOVE_F003]
            .into_iter()
            .find(|&code| crate::rules::proposal::self_remove_capable(&self.tree, code).is_ok())
            .ok_or_else(|| {
                Violation::new(Rule::SelfRemoveCapable)
                    .with(crate::rules::Detail::Proposal(ProposalType::SELF_REMOVE))
            })?;
        self.send_proposal(env, Proposal::SelfRemove(SelfRemove { code }))
    }

    /// Checks, signs, protects and caches our `proposal`.
    fn send_proposal(&mut self, env: &Env<'_>, proposal: Proposal) -> Result<Vec<u8>, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let own = self.own_leaf();
        if self.is_removed() {
            return Err(GroupError::NotAMember);
        }
        if self.ended.is_some() {
            return Err(GroupError::GroupEnded);
        }
        let sender = Sender::Member(own.value());
        self.check_in_epoch(env, ops, &proposal, &sender)?;
        #[cfg(feature = "extensions")]
        if matches!(proposal, Proposal::SelfRemove(_))
            && self
                .proposals
                .iter()
                .any(|c| c.sender == sender && matches!(c.proposal, Proposal::SelfRemove(_)))
        {
            return Err(Violation::new(Rule::SelfRemoveOnce).into());
        }
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender,
            authenticated_data: VarBytes(self.framed_aad(Vec::new())?),
            body: FramedContentBody::Proposal(proposal.clone()),
        };
        let wire_format = self.proposal_wire_format(&proposal);
        let signed = sign_content(ops, wire_format, content, &self.signer, Some(&self.context))?;
        let reference = proposal_ref(ops, &signed.to_bytes()?)?;
        let message = self.protect_handshake(env, ops, signed)?;
        self.proposals.push(CachedProposal {
            reference,
            proposal,
            sender,
        });
        self.dirty.meta();
        Ok(message)
    }
}

/// The proposals `options` asks for, by value, in the order they go in the commit.
/// The `authenticated_data` to send in a group with GroupContext `extensions`: with the
/// `extensions` feature, framed as Safe AAD requires (XT-04: nothing given becomes the empty
/// `SafeAAD`, anything else must start with one); otherwise as given.
pub(super) fn framed_aad(
    extensions: &Extensions,
    authenticated_data: Vec<u8>,
) -> Result<Vec<u8>, GroupError> {
    #[cfg(feature = "extensions")]
    {
        Ok(crate::extensions::safe_aad::frame(
            extensions,
            authenticated_data,
        )?)
    }
    #[cfg(not(feature = "extensions"))]
    {
        let _ = extensions;
        Ok(authenticated_data)
    }
}

fn by_value(options: &CommitOptions) -> Vec<Proposal> {
    let mut by_value: Vec<Proposal> = Vec::new();
    if let Some(extensions) = &options.extensions {
        by_value.push(Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions: extensions.clone(),
        }));
    }
    by_value.extend(
        options
            .remove
            .iter()
            .map(|l| Proposal::Remove(Remove { removed: l.value() })),
    );
    by_value.extend(options.add.iter().map(|key_package| {
        Proposal::Add(Box::new(Add {
            key_package: key_package.clone(),
        }))
    }));
    by_value.extend(
        options
            .psks
            .iter()
            .map(|psk| Proposal::PreSharedKey(PreSharedKey { psk: psk.clone() })),
    );
    if let Some(reinit) = &options.reinit {
        by_value.push(Proposal::ReInit(reinit.clone()));
    }
    #[cfg(feature = "extensions")]
    by_value.extend(options.proposals.iter().cloned());
    by_value
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
    let nodes: Vec<(u32, wire::Node)> = (0..width)
        .filter_map(|x| Some((x, diff.node(NodeIndex::new(x)?)?.clone())))
        .collect();
    Ok(wire::RatchetTree::from_indexed(nodes)?)
}
