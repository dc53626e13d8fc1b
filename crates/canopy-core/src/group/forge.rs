//! Forged commits, for the negative tests of [`crate::rules`] (test builds only): a member
//! commits exactly the proposals a test gives, unchecked, with a path and a Welcome the test
//! may change, and everything is still correctly signed, MAC'd and confirmed, so that the
//! receiver's rejection is due to the one rule the test breaks.

use canopy_crypto::SuiteOps;

use super::commit::Plan;
use super::{Env, Group, GroupError};
use crate::codec::VarBytes;
use crate::crypto::sign_with_label;
use crate::framing::sign_content;
use crate::rules::leaf::LEAF_NODE_LABEL;
use crate::rules::proposal::Resolved;
use crate::schedule::{JoinerSecrets, confirmation_tag};
use crate::tree::LeafTemplate;
use crate::tree::math::LeafIndex;
use crate::wire::{
    Commit, Extension, FramedContent, FramedContentBody, GroupContext, Proposal, ProposalOrRef,
    Sender, UpdatePath,
};

/// A change to a forged commit's UpdatePath, after it was encrypted.
pub(crate) type PathChange = Box<dyn FnOnce(&mut UpdatePath)>;
/// A change to the committer's new leaf, before the path is created (and the leaf signed).
pub(crate) type TemplateChange = Box<dyn FnOnce(&mut LeafTemplate)>;
/// A change to the GroupInfo of a forged commit's Welcome: its GroupContext and extensions
/// (the ratchet tree among them), before its confirmation tag and signature are computed.
pub(crate) type GroupInfoChange = Box<dyn FnOnce(&mut GroupContext, &mut Vec<Extension>)>;

/// What a forged commit carries.
#[derive(Default)]
pub(crate) struct Forgery {
    /// The proposals, each with its sender and, when committed by reference, its reference.
    pub(crate) proposals: Vec<(Proposal, Sender, Option<Vec<u8>>)>,
    /// Whether the commit has a path.
    pub(crate) path: bool,
    pub(crate) template: Option<TemplateChange>,
    pub(crate) update_path: Option<PathChange>,
    /// Re-sign the path's leaf after `update_path` changed it.
    pub(crate) resign_leaf: bool,
    pub(crate) group_info: Option<GroupInfoChange>,
    /// Flip a bit of the Welcome's GroupInfo signature (WE-03).
    pub(crate) bad_group_info_signature: bool,
    /// Flip a bit of the Welcome's GroupInfo confirmation tag (WE-07).
    pub(crate) bad_group_info_tag: bool,
    /// Draws the path secret of this path node at random instead of deriving it from the one
    /// below: the path is consistent (parent hashes, signature, encryption) but its keys do
    /// not derive from the secrets below them, which only the CM-18 check tells.
    pub(crate) break_path_at: Option<usize>,
    /// The commit's `authenticated_data`, sent as it is (no Safe AAD framing).
    pub(crate) authenticated_data: Vec<u8>,
}

impl Forgery {
    /// A commit of `proposals`, all by value from the committer `sender`.
    pub(crate) fn by_value(sender: Sender, proposals: Vec<Proposal>) -> Self {
        Self {
            proposals: proposals.into_iter().map(|p| (p, sender, None)).collect(),
            ..Self::default()
        }
    }

    /// With a path.
    pub(crate) fn with_path(self) -> Self {
        Self { path: true, ..self }
    }
}

impl Group {
    /// An application message of `data` and `authenticated_data` exactly as given, without
    /// the framing checks of the extensions feature (Safe AAD, ApplicationFraming).
    #[cfg(feature = "extensions")]
    pub(crate) fn forge_application(
        &mut self,
        env: &Env<'_>,
        data: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>, GroupError> {
        self.encrypt_application_checked(env, data, authenticated_data, false)
    }

    /// Commits `forgery` as it is (no proposal or list check, no key-uniqueness check of the
    /// new tree), leaving it pending like [`Group::commit`].
    pub(crate) fn forge(
        &mut self,
        env: &Env<'_>,
        forgery: Forgery,
    ) -> Result<super::CommitOutput, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let template = LeafTemplate::from_leaf(self.own_leaf_node()?);
        let (list, refs): (Vec<Resolved>, Vec<Option<Vec<u8>>>) = forgery
            .proposals
            .iter()
            .map(|(proposal, sender, reference)| {
                (
                    Resolved {
                        proposal: proposal.clone(),
                        sender: *sender,
                        by_reference: reference.is_some(),
                    },
                    reference.clone(),
                )
            })
            .unzip();
        let on_wire: Vec<ProposalOrRef> = list
            .iter()
            .zip(&refs)
            .map(|(r, reference)| match reference {
                Some(reference) => ProposalOrRef::Reference(VarBytes(reference.clone())),
                None => ProposalOrRef::Proposal(r.proposal.clone()),
            })
            .collect();
        let plan = Plan {
            list,
            refs,
            path: forgery.path,
            authenticated_data: forgery.authenticated_data.clone(),
            left_out: Vec::new(),
            forgery: Some(forgery),
        };
        match self.build_commit(env, ops, template, plan) {
            // A list the tree cannot even apply (a Remove of a blank leaf, ...): the commit
            // without a path or a meaningful confirmation tag, still signed and MAC'd; a
            // receiver refuses it before it gets there.
            Err(GroupError::Tree(_)) => self.forge_unappliable(env, ops, on_wire),
            other => other,
        }
    }

    fn forge_unappliable(
        &mut self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        proposals: Vec<ProposalOrRef>,
    ) -> Result<super::CommitOutput, GroupError> {
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf().value()),
            authenticated_data: VarBytes(Vec::new()),
            body: FramedContentBody::Commit(Box::new(Commit {
                proposals: proposals.into(),
                path: None,
            })),
        };
        let mut signed = sign_content(
            ops,
            self.handshake_wire_format(),
            content,
            &self.signer,
            Some(&self.context),
        )?;
        signed.auth.confirmation_tag = Some(VarBytes(vec![0; ops.params().hash_len()]));
        let commit = self.protect_handshake(env, ops, signed)?;
        Ok(super::CommitOutput {
            commit,
            welcome: None,
            left_out: Vec::new(),
        })
    }

    /// The reference a proposal of ours of this epoch has in the cache (the last one).
    pub(crate) fn last_cached_reference(&self) -> Option<Vec<u8>> {
        self.proposals.last().map(|c| c.reference.clone())
    }

    /// A proposal message from this member with `proposal`, unchecked, signed and protected
    /// as the configuration says (cached by nobody).
    pub(crate) fn forge_proposal(
        &mut self,
        env: &Env<'_>,
        proposal: Proposal,
    ) -> Result<Vec<u8>, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf().value()),
            authenticated_data: VarBytes(Vec::new()),
            body: FramedContentBody::Proposal(proposal),
        };
        let signed = sign_content(
            ops,
            self.handshake_wire_format(),
            content,
            &self.signer,
            Some(&self.context),
        )?;
        self.protect_handshake(env, ops, signed)
    }

    /// This member's signature key, to sign forged messages with.
    pub(crate) fn test_signer(&self) -> &std::sync::Arc<dyn canopy_crypto::Signer> {
        &self.signer
    }

    /// Makes this (new) group the successor of the group of `psk`, whose resumption PSK is
    /// `value` (what [`Group::branch`] and [`Group::reinit_successor`] do, for any group).
    pub(crate) fn test_successor_psk(
        &mut self,
        psk: crate::wire::PreSharedKeyId,
        value: canopy_crypto::Secret,
    ) {
        self.successor_psk = Some((psk, value));
    }

    /// A signed GroupInfo of the current epoch with exactly `extensions`.
    pub(crate) fn test_group_info(
        &self,
        env: &Env<'_>,
        extensions: Vec<Extension>,
    ) -> Result<crate::wire::GroupInfo, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let tag = confirmation_tag(
            ops,
            &self.epoch.secrets.confirmation_key,
            self.context.confirmed_transcript_hash.as_slice(),
        );
        Ok(crate::join::sign_group_info(
            ops,
            self.context.clone(),
            crate::wire::Extensions::new(extensions)?,
            tag,
            self.own_leaf().value(),
            &self.signer,
        )?)
    }

    /// The configuration, to change in a test.
    pub(crate) fn test_config_mut(&mut self) -> &mut super::GroupConfig {
        &mut self.config
    }

    /// The epoch's membership key, to MAC forged PublicMessages with.
    pub(crate) fn test_membership_key(&self) -> &canopy_crypto::Secret {
        &self.epoch.secrets.membership_key
    }
}

/// Applies the forgery's changes to the encrypted `path` (made by `group`'s member at `own`
/// over its current tree), and re-signs its leaf where they need it.
pub(super) fn tamper_path(
    forgery: Option<&mut Forgery>,
    ops: &dyn SuiteOps,
    group: &Group,
    own: LeafIndex,
    mut path: UpdatePath,
) -> Result<UpdatePath, GroupError> {
    let Some(forgery) = forgery else {
        return Ok(path);
    };
    let mut resign = false;
    if let Some(change) = forgery.update_path.take() {
        change(&mut path);
        resign = forgery.resign_leaf;
    }
    if resign {
        let tbs = path
            .leaf_node
            .tbs_bytes(group.context.group_id.as_slice(), own.value())?;
        path.leaf_node.signature =
            VarBytes(sign_with_label(ops, &group.signer, LEAF_NODE_LABEL, &tbs)?);
    }
    Ok(path)
}

/// The confirmation tag a Welcome's joiner computes for a GroupInfo whose GroupContext is
/// `context` (RFC 9420 §12.4.3.1): the epoch secrets from the commit's joiner secrets (PSKs
/// included) and `context`.
pub(super) fn confirmation_tag_for(
    ops: &dyn SuiteOps,
    joiner: &JoinerSecrets,
    context: &GroupContext,
) -> Result<Vec<u8>, GroupError> {
    let secrets = joiner.epoch_secrets(ops, &context.to_bytes()?)?;
    Ok(confirmation_tag(
        ops,
        &secrets.confirmation_key,
        context.confirmed_transcript_hash.as_slice(),
    ))
}
