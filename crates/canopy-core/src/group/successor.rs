//! Successor groups (RFC 9420 §11.2, §11.3): re-initializing a group after a ReInit commit,
//! and branching a subgroup. Both start a new group whose first commit injects the old
//! group's resumption PSK (usage `reinit` or `branch`), and whose joiners check that PSK.

use std::sync::Arc;

use std::collections::{BTreeMap, BTreeSet};

use canopy_crypto::Signer;

use super::join::{JoinKind, JoinPsks};
use super::{CommitOptions, CommitOutput, CreateParams, Env, Group, GroupConfig, GroupError};
use crate::codec::VarBytes;
use crate::key_package::{KeyPackageBundle, LeafNodeParams};
use crate::rules::proposal::members;
use crate::rules::{At, Rule, Violation, ensure};
use crate::wire::{self, Extensions, KeyPackage, PreSharedKeyId, Psk, ResumptionPskUsage, Welcome};

impl Group {
    /// RFC 9420 §11.2: creates the group that replaces `old` after its ReInit commit was
    /// merged, with the ReInit's group id, cipher suite and extensions, and adds
    /// `key_packages` (the old group's members, under the new suite) in a first commit that
    /// injects `old`'s resumption PSK with usage `reinit`. The commit stays pending in the
    /// returned group as for [`Group::commit`].
    ///
    /// # Errors
    /// [`GroupError::NotEnded`] if `old` did not end
    /// with a ReInit, and the errors of [`Group::create`] and [`Group::commit`].
    pub fn reinit_successor(
        env: &Env<'_>,
        old: &Self,
        config: GroupConfig,
        leaf: &LeafNodeParams,
        signer: Arc<dyn Signer>,
        key_packages: Vec<KeyPackage>,
    ) -> Result<(Self, CommitOutput), GroupError> {
        let reinit = old.ended.clone().ok_or(GroupError::NotEnded)?;
        Self::successor(
            env,
            old,
            config,
            SuccessorParams {
                group_id: reinit.group_id.0,
                suite: reinit.cipher_suite,
                extensions: reinit.extensions,
                usage: ResumptionPskUsage::Reinit,
            },
            leaf,
            signer,
            key_packages,
        )
    }

    /// RFC 9420 §11.3: creates a subgroup of `old` with id `group_id` (same cipher suite), and
    /// adds `key_packages` (of members of `old`) in a first commit that injects `old`'s
    /// current resumption PSK with usage `branch`. The commit stays pending in the returned
    /// group as for [`Group::commit`].
    ///
    /// # Errors
    /// The errors of [`Group::create`] and [`Group::commit`].
    pub fn branch(
        env: &Env<'_>,
        old: &Self,
        config: GroupConfig,
        group_id: Vec<u8>,
        extensions: Extensions,
        leaf: &LeafNodeParams,
        signer: Arc<dyn Signer>,
        key_packages: Vec<KeyPackage>,
    ) -> Result<(Self, CommitOutput), GroupError> {
        Self::successor(
            env,
            old,
            config,
            SuccessorParams {
                group_id,
                suite: old.cipher_suite(),
                extensions,
                usage: ResumptionPskUsage::Branch,
            },
            leaf,
            signer,
            key_packages,
        )
    }

    /// RFC 9420 §11.2, §11.3: in a group made by [`Group::reinit_successor`] or
    /// [`Group::branch`], the PSK (usage `reinit` or `branch`, with its nonce) that its first
    /// commit injects; `None` in other groups. A caller that replaces that first commit (with
    /// [`Group::discard_pending_commit`], then [`Group::commit`] with other options, for
    /// example [`CommitOptions::force_path`]) injects this PSK again in
    /// [`CommitOptions::psks`], or the joiners refuse the Welcome (rule WE-08).
    pub fn successor_psk(&self) -> Option<&PreSharedKeyId> {
        self.successor_psk.as_ref().map(|(id, _)| id)
    }

    fn successor(
        env: &Env<'_>,
        old: &Self,
        config: GroupConfig,
        params: SuccessorParams,
        leaf: &LeafNodeParams,
        signer: Arc<dyn Signer>,
        key_packages: Vec<KeyPackage>,
    ) -> Result<(Self, CommitOutput), GroupError> {
        let mut group = Self::create(
            env,
            CreateParams::new(params.suite, params.group_id, leaf, signer)
                .config(config)
                .extensions(params.extensions),
        )?;
        let nh = env.ops(params.suite)?.params().kdf_len();
        let id = PreSharedKeyId {
            psk: Psk::Resumption {
                usage: params.usage,
                psk_group_id: old.context.group_id.clone(),
                psk_epoch: old.context.epoch,
            },
            psk_nonce: VarBytes(env.random(nh)?),
        };
        group.successor_psk = Some((id.clone(), old.epoch.secrets.resumption_psk.clone()));
        let out = group.commit(
            env,
            CommitOptions {
                add: key_packages,
                psks: vec![id],
                ..CommitOptions::default()
            },
        )?;
        Ok((group, out))
    }

    /// RFC 9420 §11.2, §11.3, §12.4.3.1: joins the successor of `old` (after a ReInit, or a
    /// branch) from its Welcome, with `old`'s resumption PSKs, and checks the rules of a
    /// successor group: the Welcome injects exactly one `reinit` (or `branch`) PSK of `old`
    /// (WE-08), the new group is at epoch 1 (WE-09); for a ReInit, the new group has the
    /// ReInit's group id, version, cipher suite and extensions and the PSK names the epoch
    /// that ended `old` (WE-10), and every member of `old` is a member of the new group
    /// (WE-11); for a branch, the version and cipher suite are `old`'s (WE-12) and every
    /// member of the new group is a member of `old` (WE-13). Membership is decided by the
    /// validator's [`client_identity`](crate::key_package::CredentialValidator::client_identity).
    ///
    /// # Errors
    /// [`GroupError::Invalid`] naming the rule, and the errors of [`Group::join`].
    pub fn join_successor(
        env: &Env<'_>,
        old: &Self,
        config: GroupConfig,
        welcome: &Welcome,
        bundle: &KeyPackageBundle,
        signer: Arc<dyn Signer>,
        ratchet_tree: Option<wire::RatchetTree>,
    ) -> Result<Self, GroupError> {
        let resumption = old.resumption_psks();
        let wanted = if old.ended.is_some() {
            ResumptionPskUsage::Reinit
        } else {
            ResumptionPskUsage::Branch
        };
        let (group, psks) = Self::join_inner(
            env,
            config,
            welcome,
            bundle,
            signer,
            ratchet_tree,
            &JoinPsks {
                external: &BTreeMap::new(),
                resumption: &resumption,
                kind: JoinKind::Successor(wanted),
            },
        )?;
        let tie = psks.iter().find_map(|id| match &id.psk {
            Psk::Resumption {
                usage,
                psk_group_id,
                psk_epoch,
            } if *usage == wanted && psk_group_id.as_slice() == old.group_id() => Some(*psk_epoch),
            _ => None,
        });
        let Some(psk_epoch) = tie else {
            return Err(Violation::new(Rule::WelcomeSuccessorPsk).into());
        };
        ensure(group.context.epoch == 1, Rule::SuccessorEpoch)?;
        let ctx = &group.context;
        if let Some(reinit) = &old.ended {
            // RFC 9420 §11.2: the ReInit fixes the version, suite, id and extensions, and the
            // PSK is the resumption PSK of the epoch its commit started.
            ensure(
                ctx.group_id == reinit.group_id
                    && ctx.cipher_suite == reinit.cipher_suite
                    && ctx.version == reinit.version
                    && ctx.extensions == reinit.extensions
                    && psk_epoch == old.epoch(),
                Rule::SuccessorReInit,
            )?;
            members_within(env, old, &group, Rule::SuccessorReInitMembers)?;
        } else {
            // RFC 9420 §11.3: a branch keeps the version and cipher suite.
            ensure(
                ctx.cipher_suite == old.cipher_suite() && ctx.version == old.context.version,
                Rule::SuccessorBranch,
            )?;
            members_within(env, &group, old, Rule::SuccessorBranchMembers)?;
        }
        Ok(group)
    }
}

/// WE-11, WE-13: every member of `smaller` is a member of `larger`, by the validator's client
/// identity (O(n log n)).
fn members_within(
    env: &Env<'_>,
    smaller: &Group,
    larger: &Group,
    rule: Rule,
) -> Result<(), GroupError> {
    let identities: BTreeSet<Vec<u8>> = members(&larger.tree)
        .map(|(_, leaf)| env.credentials.client_identity(&leaf.credential))
        .collect();
    match members(&smaller.tree)
        .find(|(_, leaf)| !identities.contains(&env.credentials.client_identity(&leaf.credential)))
    {
        None => Ok(()),
        Some((l, _)) => Err(Violation::new(rule).at(At::Leaf(l)).into()),
    }
}

/// What a successor group is created with.
struct SuccessorParams {
    group_id: Vec<u8>,
    suite: canopy_crypto::CipherSuite,
    extensions: Extensions,
    usage: ResumptionPskUsage,
}
