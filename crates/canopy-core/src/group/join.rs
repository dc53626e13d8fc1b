//! Joining from a Welcome (RFC 9420 §12.4.3.1): the Welcome and GroupInfo checks, the whole
//! received tree validated with the application's Authentication Service, and the PSK rules
//! that keep successor PSKs out of ordinary joins.

use std::sync::Arc;

use std::collections::BTreeMap;

use canopy_crypto::{Secret, Signer, SuiteOps};

use super::{Env, EpochState, Group, GroupConfig, GroupError, JoinParams, lookup_psk};
use crate::codec::{Limit, with_limits};
use crate::join::{
    JoinError, open_group_info, open_group_secrets_with, verify_confirmation_tag, verify_group_info,
};
use crate::key_package::KeyPackageBundle;
use crate::rules::proposal::external_senders;
use crate::rules::{At, Rule, Violation};
use crate::schedule::{SecretTree, interim_transcript_hash};
use crate::tree::math::{LeafIndex, common_ancestor};
use crate::tree::{PrivateTree, RatchetTree, TreeError, TreeRead};
use crate::wire::{self, LeafNode, PreSharedKeyId, Psk, ResumptionPskUsage, Welcome};

/// Which kind of join a Welcome is taken for: an ordinary one, or the first epoch of a
/// successor group (RFC 9420 §11.2, §11.3), which alone accepts a `reinit` or `branch` PSK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinKind {
    Ordinary,
    Successor(ResumptionPskUsage),
}

impl Group {
    /// Joins a group from a Welcome (RFC 9420 §12.4.3.1): opens our GroupSecrets with
    /// `bundle`'s init key, decrypts the GroupInfo (with the PSKs it names, from
    /// `external_psks` or `resumption_psks`), validates the ratchet tree (from the GroupInfo's
    /// `ratchet_tree` extension or `ratchet_tree`) with every LeafNode rule, the application's
    /// [`CredentialValidator`](crate::key_package::CredentialValidator) included, verifies the
    /// GroupInfo's signature and confirmation tag, finds our leaf and installs the path
    /// secret.
    ///
    /// `resumption_psks` lists `(group_id, epoch, psk)` of resumption PSKs with usage
    /// `application`. A Welcome naming a `reinit` or `branch` PSK is refused here (rule
    /// WE-08): it starts a successor group, joined with [`Group::join_successor`].
    ///
    /// # Errors
    /// [`GroupError::Invalid`] naming the rule broken (the WE-, TR- and LN- rules of
    /// [`crate::rules`]), [`GroupError::SignerMismatch`] if `signer` is not the KeyPackage's
    /// signature key, [`GroupError::MissingPsk`], [`GroupError::MissingRatchetTree`].
    pub fn join(env: &Env<'_>, params: JoinParams<'_>) -> Result<Self, GroupError> {
        let JoinParams {
            welcome,
            key_package,
            signer,
            config,
            ratchet_tree,
            external_psks,
            resumption_psks,
        } = params;
        Self::join_inner(
            env,
            config,
            welcome,
            key_package,
            signer,
            ratchet_tree,
            &JoinPsks {
                external: external_psks,
                resumption: resumption_psks,
                kind: JoinKind::Ordinary,
            },
        )
        .map(|(group, _)| group)
    }

    /// [`Group::join`] for a join of `kind`, also returning the PSKs the Welcome named.
    pub(crate) fn join_inner(
        env: &Env<'_>,
        config: GroupConfig,
        welcome: &Welcome,
        bundle: &KeyPackageBundle,
        signer: Arc<dyn Signer>,
        ratchet_tree: Option<wire::RatchetTree>,
        psks: &JoinPsks<'_>,
    ) -> Result<(Self, Vec<PreSharedKeyId>), GroupError> {
        with_limits(config.limits, || {
            Self::join_within_limits(env, config, welcome, bundle, signer, ratchet_tree, psks)
        })
    }

    /// [`Group::join_inner`], under `config`'s limits.
    fn join_within_limits(
        env: &Env<'_>,
        config: GroupConfig,
        welcome: &Welcome,
        bundle: &KeyPackageBundle,
        signer: Arc<dyn Signer>,
        ratchet_tree: Option<wire::RatchetTree>,
        psks: &JoinPsks<'_>,
    ) -> Result<(Self, Vec<PreSharedKeyId>), GroupError> {
        let suite = welcome.cipher_suite;
        let ops = env.ops(suite)?;
        if bundle.key_package.cipher_suite != suite {
            return Err(JoinError::CipherSuiteMismatch.into());
        }
        check_signer(&*signer, &bundle.key_package.leaf_node)?;
        let reference = bundle.reference(ops)?;
        let secrets = open_group_secrets_with(
            ops,
            welcome,
            reference.as_bytes(),
            &bundle.init_private,
            Some(&bundle.key_package.init_key),
        )?;
        successor_psks(secrets.psks.as_slice(), psks.kind)?;
        let psk_values = secrets
            .psks
            .as_slice()
            .iter()
            .map(|id| lookup_psk(env, id, psks.external, psks.resumption, None))
            .collect::<Result<Vec<_>, _>>()?;
        let (group_info, joiner) = open_group_info(ops, welcome, &secrets, &psk_values)?;
        let context = group_info.group_context.clone();

        let wire_tree = match group_info.extensions.typed::<wire::RatchetTree>()? {
            Some(t) => t,
            None => ratchet_tree.ok_or(GroupError::MissingRatchetTree)?,
        };
        // The signature first: padding and hashing the tree costs O(width).
        let signer_leaf = group_info_signer(&wire_tree, group_info.signer)?;
        verify_group_info(ops, &group_info, &signer_leaf.signature_key)?;
        let tree = received_tree(env, ops, &config, &context, wire_tree)?;
        let secrets_epoch = verify_confirmation_tag(ops, &group_info, &joiner)?;

        let own = find_own_leaf(&tree, &bundle.key_package.leaf_node)?;
        let mut private = PrivateTree::new(ops, own, bundle.encryption_private.clone())?;
        if let Some(path_secret) = &secrets.path_secret {
            let signer_index =
                LeafIndex::new(group_info.signer).ok_or(JoinError::BadGroupInfoSignature)?;
            let node = common_ancestor(own.node(), signer_index.node());
            private
                .insert_path_secret_chain(ops, &tree, node, path_secret.path_secret.as_bytes())
                .map_err(path_secret_error)?;
        }
        private.check(&tree).map_err(path_secret_error)?;

        let interim = interim_transcript_hash(
            ops,
            context.confirmed_transcript_hash.as_slice(),
            group_info.confirmation_tag.as_slice(),
        )?;
        let secret_tree = SecretTree::new(
            secrets_epoch.encryption_secret.clone(),
            tree.leaf_count(),
            config.out_of_order,
        );
        let group = Self::from_epoch(
            config,
            context,
            tree,
            private,
            signer,
            EpochState::new(secrets_epoch, secret_tree, interim),
            psks.external.clone(),
        );
        Ok((group, secrets.psks.0))
    }
}

/// The PSKs a join may use, and which kind of join it is.
pub(crate) struct JoinPsks<'a> {
    pub(crate) external: &'a BTreeMap<Vec<u8>, Secret>,
    pub(crate) resumption: &'a [(Vec<u8>, u64, Secret)],
    pub(crate) kind: JoinKind,
}

/// A misuse trap (not a peer's fault): the signature key given to sign for us is the one our
/// leaf carries.
pub(crate) fn check_signer(signer: &dyn Signer, leaf: &LeafNode) -> Result<(), GroupError> {
    if *signer.public_key() == leaf.signature_key {
        Ok(())
    } else {
        Err(GroupError::SignerMismatch)
    }
}

/// WE-08, RFC 9420 §12.4.3.1, §8.4: a Welcome names at most one `reinit` or `branch` PSK, and
/// only a successor join (of that usage) accepts one.
fn successor_psks(ids: &[PreSharedKeyId], kind: JoinKind) -> Result<(), GroupError> {
    let mut successor = ids.iter().filter_map(|id| match &id.psk {
        Psk::Resumption { usage, .. } if *usage != ResumptionPskUsage::Application => Some(*usage),
        _ => None,
    });
    let first = successor.next();
    let broken = Violation::new(Rule::WelcomeSuccessorPsk);
    if successor.next().is_some() {
        return Err(broken.into());
    }
    match (first, kind) {
        (None, _) => Ok(()),
        (Some(usage), JoinKind::Successor(wanted)) if usage == wanted => Ok(()),
        _ => Err(broken.into()),
    }
}

/// RFC 9420 §12.4.3.1: a tree received for the group of `context`, checked against
/// `config`'s limits (its leaf count: padding and hashing it costs time and memory in
/// proportion to that, not to its encoded size), padded and hashed, its
/// hash compared with the GroupContext's (TR-06), then validated with every rule of
/// [`RatchetTree::validate`] (the application's validator included), and the credentials of
/// the group's `external_senders` accepted by the validator (PR-08, §5.3.1: every credential
/// in a GroupInfo used to join).
pub(crate) fn received_tree(
    env: &Env<'_>,
    ops: &dyn SuiteOps,
    config: &GroupConfig,
    context: &wire::GroupContext,
    wire_tree: wire::RatchetTree,
) -> Result<RatchetTree, GroupError> {
    config
        .limits
        .check(Limit::TreeLeaves, wire_tree.leaf_count())?;
    let tree = RatchetTree::from_wire(ops, wire_tree)?;
    if tree.tree_hash() != context.tree_hash.as_slice() {
        return Err(Violation::new(Rule::TreeHash).into());
    }
    tree.validate(ops, &env.tree_checks(config, context))?;
    external_senders(
        ops,
        env.crypto,
        env.credentials,
        &context.extensions,
        env.now,
    )?;
    Ok(tree)
}

/// RFC 9420 §12.4.3.1: the LeafNode of the GroupInfo's `signer`, read from the received
/// tree before it is padded and hashed, so that the GroupInfo's signature (WE-03) is checked
/// first; a signer that is not a leaf of the tree cannot have signed it.
pub(crate) fn group_info_signer(
    tree: &wire::RatchetTree,
    signer: u32,
) -> Result<&LeafNode, GroupError> {
    let node = LeafIndex::new(signer)
        .and_then(|l| usize::try_from(l.node().value()).ok())
        .and_then(|x| tree.node(x));
    match node {
        Some(wire::Node::Leaf(leaf)) => Ok(leaf),
        _ => Err(JoinError::BadGroupInfoSignature.into()),
    }
}

/// WE-06: a path secret whose derived keys do not match the tree.
fn path_secret_error(e: TreeError) -> GroupError {
    match e {
        TreeError::PrivateKeyMismatch { node } => Violation::new(Rule::WelcomePathSecret)
            .at(At::Node(node))
            .into(),
        other => other.into(),
    }
}

/// WE-05, RFC 9420 §12.4.3.1: the leaf whose LeafNode is our KeyPackage's.
pub(crate) fn find_own_leaf(tree: &RatchetTree, leaf: &LeafNode) -> Result<LeafIndex, GroupError> {
    let not_found = || GroupError::from(Violation::new(Rule::WelcomeOwnLeaf));
    let node = tree
        .find_encryption_key(&leaf.encryption_key)
        .ok_or_else(not_found)?;
    let index = node.leaf().ok_or_else(not_found)?;
    if tree.leaf(index) != Some(leaf) {
        return Err(not_found());
    }
    Ok(index)
}
