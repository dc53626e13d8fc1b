//! External joins (RFC 9420 §12.4.3.2): publishing a GroupInfo with `external_pub`, and
//! joining a group with an external commit, including a resync that removes the joiner's
//! old leaf.

use std::sync::Arc;

use std::collections::BTreeMap;

use canopy_crypto::{Secret, Signer};

use super::join::{group_info_signer, received_tree};
use super::stage::EXTERNAL_INIT_LABEL;
use super::transition::{
    Base, EpochInputs, Transcript, Transition, advance_epoch, epoch_confirmation_tag,
};
use super::{Env, Group, GroupConfig, GroupError, typed};
use crate::codec::{VarBytes, with_limits};
use crate::framing::{protect_public, sign_content};
use crate::join::{psk_secret_of, sign_group_info, verify_group_info};
use crate::key_package::{LeafNodeParams, NewLeafSource, generate_leaf_node};
use crate::rules::proposal::{Committer, Resolved, Scope};
use crate::rules::{Rule, Violation};
use crate::schedule::{confirmation_tag, interim_transcript_hash};
use crate::tree::LeafTemplate;
use crate::tree::math::LeafIndex;
use crate::wire::{
    self, Commit, ExtensionView, Extensions, ExternalInit, ExternalPub, FramedContent,
    FramedContentBody, GroupInfo, MlsMessage, PreSharedKey, PreSharedKeyId, Proposal,
    ProposalOrRef, Remove, Sender, WireFormat,
};

impl Group {
    /// A signed GroupInfo of the current epoch (RFC 9420 §12.4.3) with the `external_pub`
    /// extension, so that anyone holding it can join with an external commit, and the
    /// ratchet tree if `with_tree`.
    ///
    /// # Errors
    /// Crypto and encoding errors.
    pub fn group_info(&self, env: &Env<'_>, with_tree: bool) -> Result<Vec<u8>, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let mut extensions = Vec::new();
        if with_tree {
            extensions.push(self.tree.to_wire()?.to_extension()?);
        }
        let external = self.epoch.secrets.external_key_pair(ops)?;
        extensions.push(
            ExternalPub {
                external_pub: external.public,
            }
            .to_extension()?,
        );
        extensions.push(super::grease_extension(env)?);
        let tag = confirmation_tag(
            ops,
            &self.epoch.secrets.confirmation_key,
            self.context.confirmed_transcript_hash.as_slice(),
        );
        let info = sign_group_info(
            ops,
            self.context.clone(),
            Extensions::new(extensions)?,
            tag,
            self.own_leaf().value(),
            &self.signer,
        )?;
        Ok(MlsMessage::GroupInfo(Box::new(info)).to_bytes()?)
    }

    /// Joins a group with an external commit (RFC 9420 §12.4.3.2) from its GroupInfo: checks
    /// the GroupInfo and the ratchet tree (from its `ratchet_tree` extension or
    /// `ratchet_tree`) with every rule a Welcome's tree gets (the application's validator
    /// included), derives the `init_secret` from the `external_pub` extension, and commits an
    /// ExternalInit, a Remove of `resync` (our old leaf, when rejoining) and `psks`, with a
    /// path for our new leaf built from `leaf`, through the same epoch transition as every
    /// other commit.
    ///
    /// Returns the group in the new epoch and the commit to send. If the Delivery Service
    /// rejects the commit, drop the returned group.
    ///
    /// # Errors
    /// [`GroupError::Invalid`] naming the rule broken (WE-03 for a bad GroupInfo signature,
    /// WE-14 without a valid `external_pub`, TR-06 for a tree that does not match, the LN-
    /// and TR- rules of the tree), [`GroupError::MissingRatchetTree`].
    pub fn join_external(
        env: &Env<'_>,
        config: GroupConfig,
        group_info: &GroupInfo,
        ratchet_tree: Option<wire::RatchetTree>,
        leaf: &LeafNodeParams,
        signer: Arc<dyn Signer>,
        resync: Option<LeafIndex>,
        psks: &[(PreSharedKeyId, Secret)],
    ) -> Result<(Self, Vec<u8>), GroupError> {
        with_limits(config.limits, || {
            Self::join_external_within_limits(
                env,
                config,
                group_info,
                ratchet_tree,
                leaf,
                signer,
                resync,
                psks,
                &[],
            )
        })
    }

    /// [`Group::join_external`] into a self-remove-capable group, including by reference
    /// the pending SelfRemove proposals `self_removes` (encoded MLSMessages, fetched with
    /// the GroupInfo), as draft-ietf-mls-extensions §SelfRemove requires of a joiner. Each
    /// is validated first, except for its membership tag, which a non-member cannot check:
    /// a PublicMessage (SR-01) of the GroupInfo's group and epoch (FR-01, FR-02) carrying a
    /// SelfRemove (SR-08) from a member (SR-03, FR-07) whose signature verifies (FR-03), at
    /// most one per member (SR-07; the same message twice counts once).
    ///
    /// # Errors
    /// As [`Group::join_external`], and the rules above for the SelfRemoves.
    #[cfg(feature = "extensions")]
    #[allow(clippy::too_many_arguments)]
    pub fn join_external_with_self_removes(
        env: &Env<'_>,
        config: GroupConfig,
        group_info: &GroupInfo,
        ratchet_tree: Option<wire::RatchetTree>,
        leaf: &LeafNodeParams,
        signer: Arc<dyn Signer>,
        resync: Option<LeafIndex>,
        psks: &[(PreSharedKeyId, Secret)],
        self_removes: &[&[u8]],
    ) -> Result<(Self, Vec<u8>), GroupError> {
        with_limits(config.limits, || {
            Self::join_external_within_limits(
                env,
                config,
                group_info,
                ratchet_tree,
                leaf,
                signer,
                resync,
                psks,
                self_removes,
            )
        })
    }

    /// [`Group::join_external`], under `config`'s limits.
    #[allow(clippy::too_many_arguments)]
    fn join_external_within_limits(
        env: &Env<'_>,
        config: GroupConfig,
        group_info: &GroupInfo,
        ratchet_tree: Option<wire::RatchetTree>,
        leaf: &LeafNodeParams,
        signer: Arc<dyn Signer>,
        resync: Option<LeafIndex>,
        psks: &[(PreSharedKeyId, Secret)],
        self_removes: &[&[u8]],
    ) -> Result<(Self, Vec<u8>), GroupError> {
        let context = &group_info.group_context;
        let suite = context.cipher_suite;
        let ops = env.ops(suite)?;
        let nh = ops.params().kdf_len();
        let wire_tree = match typed::<wire::RatchetTree>(&group_info.extensions)? {
            Some(t) => t,
            None => ratchet_tree.ok_or(GroupError::MissingRatchetTree)?,
        };
        // The signature first: padding and hashing the tree costs O(width).
        let signer_leaf = group_info_signer(&wire_tree, group_info.signer)?;
        verify_group_info(ops, group_info, &signer_leaf.signature_key)?;
        let tree = received_tree(env, ops, &config, context, wire_tree)?;
        let external_pub: ExternalPub = typed(&group_info.extensions)?
            .ok_or_else(|| Violation::new(Rule::GroupInfoExternalPub))?;
        crate::crypto::check_hpke_public_key(ops, &external_pub.external_pub)
            .map_err(|d| Violation::new(Rule::GroupInfoExternalPub).with(d))?;
        let (kem_output, init_secret) = ops
            .hpke_export_seal(
                &external_pub.external_pub,
                &ops.hpke_prepare_info(b""),
                EXTERNAL_INIT_LABEL,
                nh,
            )
            .map_err(|e| GroupError::Crypto(e.into()))?;

        let mut proposals = vec![Proposal::ExternalInit(ExternalInit {
            kem_output: VarBytes(kem_output),
        })];
        if let Some(old) = resync {
            proposals.push(Proposal::Remove(Remove {
                removed: old.value(),
            }));
        }
        proposals.extend(
            psks.iter()
                .map(|(psk, _)| Proposal::PreSharedKey(PreSharedKey { psk: psk.clone() })),
        );
        #[allow(unused_mut)]
        let mut list: Vec<Resolved> = proposals
            .iter()
            .map(|proposal| Resolved {
                proposal: proposal.clone(),
                sender: Sender::NewMemberCommit,
                by_reference: false,
            })
            .collect();
        #[allow(unused_mut)]
        let mut refs: Vec<Option<Vec<u8>>> = vec![None; list.len()];
        #[cfg(feature = "extensions")]
        for (reference, resolved) in pending_self_removes(ops, context, &tree, self_removes)? {
            list.push(resolved);
            refs.push(Some(reference));
        }
        #[cfg(not(feature = "extensions"))]
        let _ = self_removes;
        let scope = Scope {
            ops,
            context,
            tree: &tree,
            lifetime: env.lifetime(&config),
            validator: env.credentials,
            crypto: env.crypto,
            #[cfg(feature = "extensions")]
            components: env.components,
            successor_psk: None,
        };
        let base = Base {
            ops,
            context,
            tree: &tree,
        };
        let mut transition = Transition::apply(base, &scope, &list, Committer::NewMember)?;
        // Our new leaf: a placeholder takes the leftmost blank leaf; the path replaces it.
        let (placeholder, _) = generate_leaf_node(
            env.crypto,
            suite,
            leaf,
            NewLeafSource::KeyPackage {
                lifetime: wire::Lifetime {
                    not_before: 0,
                    not_after: u64::MAX,
                },
            },
            &signer,
        )?;
        let template = LeafTemplate::from_leaf(&placeholder);
        let own = transition.diff.add_leaf(placeholder)?;
        let pending = transition.create_path(env.crypto, own, template, &signer, None)?;
        transition.seal_tree()?;
        let ctx = transition.provisional.to_bytes()?;
        let path = pending.encrypt(&transition.diff, ops, &ctx, &[])?;
        let (staged, provisional, _) = transition.stage()?;

        let commit = Commit {
            proposals: list
                .into_iter()
                .zip(refs)
                .map(|(r, reference)| match reference {
                    Some(reference) => ProposalOrRef::Reference(VarBytes(reference)),
                    None => ProposalOrRef::Proposal(r.proposal),
                })
                .collect::<Vec<_>>()
                .into(),
            path: Some(path),
        };
        let content = FramedContent {
            group_id: context.group_id.clone(),
            epoch: context.epoch,
            sender: Sender::NewMemberCommit,
            authenticated_data: VarBytes(super::commit::framed_aad(
                &context.extensions,
                Vec::new(),
            )?),
            body: FramedContentBody::Commit(Box::new(commit)),
        };
        let mut signed = sign_content(
            ops,
            WireFormat::PublicMessage,
            content,
            &signer,
            Some(context),
        )?;
        let interim_before = interim_transcript_hash(
            ops,
            context.confirmed_transcript_hash.as_slice(),
            group_info.confirmation_tag.as_slice(),
        )?;
        let psk_ids: Vec<PreSharedKeyId> = psks.iter().map(|(id, _)| id.clone()).collect();
        let psk_values: Vec<Secret> = psks.iter().map(|(_, v)| v.clone()).collect();
        let psk_secret = psk_secret_of(ops, &psk_ids, &psk_values)?;
        let (new_context, epoch, _) = advance_epoch(
            ops,
            Transcript::of(&signed),
            provisional,
            &EpochInputs {
                interim_before: &interim_before,
                init_secret: &init_secret,
                commit_secret: pending.commit_secret(),
                psk_secret: &psk_secret,
                leaf_count: staged.leaf_count,
                policy: config.out_of_order,
            },
        )?;
        let tag = epoch_confirmation_tag(ops, &new_context, &epoch);
        signed.auth.confirmation_tag = Some(VarBytes(tag));
        let message =
            MlsMessage::PublicMessage(Box::new(protect_public(ops, signed, context, None)?))
                .to_bytes()?;

        let mut tree = tree;
        tree.merge(staged)?;
        let private = pending.to_private();
        private.check(&tree)?;
        let group = Self::from_epoch(
            config,
            new_context,
            tree,
            private,
            signer,
            epoch,
            BTreeMap::new(),
        );
        Ok((group, message))
    }
}

/// draft-ietf-mls-extensions §SelfRemove: the pending SelfRemoves a joiner includes in its
/// external commit, each validated (but for its membership tag) and with its ProposalRef;
/// see [`Group::join_external_with_self_removes`].
#[cfg(feature = "extensions")]
fn pending_self_removes(
    ops: &dyn canopy_crypto::SuiteOps,
    context: &wire::GroupContext,
    tree: &crate::tree::RatchetTree,
    messages: &[&[u8]],
) -> Result<Vec<(Vec<u8>, Resolved)>, GroupError> {
    use crate::tree::TreeRead;
    let mut out: Vec<(Vec<u8>, Resolved)> = Vec::new();
    for bytes in messages {
        let MlsMessage::PublicMessage(message) = MlsMessage::from_bytes(bytes)? else {
            return Err(Violation::new(Rule::SelfRemovePublic).into());
        };
        if !matches!(
            message.content.body,
            FramedContentBody::Proposal(Proposal::SelfRemove(_))
        ) {
            return Err(Violation::new(Rule::SelfRemoveExternal).into());
        }
        let Sender::Member(l) = message.content.sender else {
            return Err(Violation::new(Rule::SelfRemoveSender).into());
        };
        let key = LeafIndex::new(l)
            .and_then(|leaf| tree.leaf(leaf))
            .map(|leaf| leaf.signature_key.clone())
            .ok_or_else(|| Violation::new(Rule::FramingSender).at(crate::rules::At::Leaf(l)))?;
        let (verified, ()) = crate::framing::open_public_without_membership_key_alongside(
            ops,
            *message,
            None,
            context,
            &key,
            |_| (),
        )?;
        let content = verified.into_inner();
        let reference = crate::crypto::proposal_ref(ops, &content.to_bytes()?)?;
        if out.iter().any(|(r, _)| *r == reference) {
            continue;
        }
        if out.iter().any(|(_, r)| r.sender == Sender::Member(l)) {
            return Err(Violation::new(Rule::SelfRemoveOnce).into());
        }
        let FramedContentBody::Proposal(proposal) = content.content.body else {
            return Err(Violation::new(Rule::SelfRemoveExternal).into());
        };
        out.push((
            reference,
            Resolved {
                proposal,
                sender: Sender::Member(l),
                by_reference: true,
            },
        ));
    }
    Ok(out)
}
