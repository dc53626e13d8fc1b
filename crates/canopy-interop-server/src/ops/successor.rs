//! Successor groups (RFC 9420 §11.2, §11.3): `ReInitCommit`, `HandlePendingReInitCommit`,
//! `HandleReInitCommit`, `ReInitWelcome`, `HandleReInitWelcome`, `CreateBranch`,
//! `HandleBranch`.
//!
//! After a ReInit commit each member gives a KeyPackage in the new cipher suite (kept under a
//! reinit id); the "welcomer" creates the new group with the others' KeyPackages and merges
//! its first commit at once, as the runner expects; the others join it with
//! [`Group::join_successor`], which checks the `reinit` PSK. A branch is the same with the
//! `branch` PSK, in the old group's suite, from an existing member's state.

use std::collections::BTreeMap;
use std::sync::Arc;

use canopy_core::group::{CommitOptions, CommitOutput, Env, Group, GroupConfig, Merged};
use canopy_core::wire::{KeyPackage, MlsMessage};

use crate::client::{ANY, CanopyClient};
use crate::convert;
use crate::error::InteropError;
use crate::proto;
use crate::state::{Entry, Joiner, Member, Reinit, Store};

impl CanopyClient {
    /// Merges our ReInit commit and gives a KeyPackage for the successor.
    pub(crate) fn handle_pending_reinit_commit(
        &self,
        req: proto::HandlePendingCommitRequest,
    ) -> Result<proto::HandleReInitCommitResponse, InteropError> {
        let mut store = self.store()?;
        let merged = store.member_mut(req.state_id)?.merge_pending()?;
        self.after_reinit(&mut store, req.state_id, merged)
    }

    /// Handles another member's ReInit commit and gives a KeyPackage for the successor.
    pub(crate) fn handle_reinit_commit(
        &self,
        req: proto::HandleCommitRequest,
    ) -> Result<proto::HandleReInitCommitResponse, InteropError> {
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let member = store.member_mut(req.state_id)?;
        member.take_proposals(&env, &req.proposal)?;
        let merged = member.handle_commit(&env, &req.commit)?;
        self.after_reinit(&mut store, req.state_id, merged)
    }

    /// RFC 9420 §11.2: the group ended with a ReInit; a KeyPackage in its new suite.
    fn after_reinit(
        &self,
        store: &mut Store,
        state_id: u32,
        merged: Merged,
    ) -> Result<proto::HandleReInitCommitResponse, InteropError> {
        let member = store.member(state_id)?;
        let epoch_authenticator = member.authenticator_after(merged);
        let reinit = member
            .group
            .reinit()
            .ok_or_else(|| InteropError::bad("the commit did not end the group with a ReInit"))?;
        let (bundle, signer) = convert::new_key_package(
            &self.provider,
            reinit.cipher_suite,
            &member.identity,
            crate::client::now(),
        )?;
        let key_package =
            convert::encode(MlsMessage::KeyPackage(Box::new(bundle.key_package.clone())))?;
        let joiner = Joiner {
            bundle,
            signer: Arc::new(signer),
            identity: member.identity.clone(),
            psks: BTreeMap::new(),
        };
        let reinit_id = store.insert(Entry::Reinit(Box::new(Reinit {
            old_state: state_id,
            joiner,
        })))?;
        Ok(proto::HandleReInitCommitResponse {
            reinit_id,
            key_package,
            epoch_authenticator,
        })
    }

    /// RFC 9420 §11.2: creates the successor group of a ReInit with the other members'
    /// KeyPackages, merges its first commit, and returns the Welcome.
    pub(crate) fn reinit_welcome(
        &self,
        req: proto::ReInitWelcomeRequest,
    ) -> Result<proto::CreateSubgroupResponse, InteropError> {
        let key_packages = key_packages(&req.key_package)?;
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let reinit = store.reinit(req.reinit_id)?;
        let old = store.member(reinit.old_state)?;
        let suite = old
            .group
            .reinit()
            .ok_or_else(|| InteropError::bad("the group did not end with a ReInit"))?
            .cipher_suite;
        let config = welcome_config(&old.group, req.external_tree);
        let identity = reinit.joiner.identity.clone();
        let signer = reinit.joiner.signer.clone();
        let (group, out) = Group::reinit_successor(
            &env,
            &old.group,
            config,
            &convert::leaf(&identity, suite),
            signer.clone(),
            key_packages.clone(),
        )?;
        let member = Member::new(group, identity, signer);
        self.first_commit(
            &env,
            &mut store,
            member,
            out,
            key_packages,
            req.force_path,
            req.external_tree,
        )
    }

    /// RFC 9420 §11.2: joins the successor group of a ReInit.
    pub(crate) fn handle_reinit_welcome(
        &self,
        req: proto::HandleReInitWelcomeRequest,
    ) -> Result<proto::JoinGroupResponse, InteropError> {
        let welcome = convert::welcome(&req.welcome)?;
        let tree = convert::ratchet_tree(&req.ratchet_tree)?;
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let reinit = store.reinit(req.reinit_id)?;
        let old = store.member(reinit.old_state)?;
        let group = Group::join_successor(
            &env,
            &old.group,
            *old.group.config(),
            &welcome,
            &reinit.joiner.bundle,
            reinit.joiner.signer.clone(),
            tree,
        )?;
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        let member = Member::new(
            group,
            reinit.joiner.identity.clone(),
            reinit.joiner.signer.clone(),
        );
        let state_id = store.insert_member(member)?;
        Ok(proto::JoinGroupResponse {
            state_id,
            epoch_authenticator,
        })
    }

    /// RFC 9420 §11.3: a subgroup of the member's group with `group_id` and `extensions`,
    /// whose first commit adds `key_packages` (of members of the old group) and is merged at
    /// once.
    pub(crate) fn create_branch(
        &self,
        req: proto::CreateBranchRequest,
    ) -> Result<proto::CreateSubgroupResponse, InteropError> {
        let key_packages = key_packages(&req.key_packages)?;
        let extensions = convert::extensions(&req.extensions)?;
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let old = store.member(req.state_id)?;
        let config = welcome_config(&old.group, req.external_tree);
        let (group, out) = Group::branch(
            &env,
            &old.group,
            config,
            req.group_id,
            extensions,
            &convert::leaf(&old.identity, old.group.cipher_suite()),
            old.signer.clone(),
            key_packages.clone(),
        )?;
        let member = Member::new(group, old.identity.clone(), old.signer.clone());
        self.first_commit(
            &env,
            &mut store,
            member,
            out,
            key_packages,
            req.force_path,
            req.external_tree,
        )
    }

    /// RFC 9420 §11.3: joins a branch of the member's group with the KeyPackage of
    /// `transaction_id`.
    pub(crate) fn handle_branch(
        &self,
        req: proto::HandleBranchRequest,
    ) -> Result<proto::HandleBranchResponse, InteropError> {
        let welcome = convert::welcome(&req.welcome)?;
        let tree = convert::ratchet_tree(&req.ratchet_tree)?;
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let old = store.member(req.state_id)?;
        let joiner = store.joiner(req.transaction_id)?;
        let group = Group::join_successor(
            &env,
            &old.group,
            *old.group.config(),
            &welcome,
            &joiner.bundle,
            joiner.signer.clone(),
            tree,
        )?;
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        let member = Member::new(group, joiner.identity.clone(), joiner.signer.clone());
        let state_id = store.insert_member(member)?;
        Ok(proto::HandleBranchResponse {
            state_id,
            epoch_authenticator,
        })
    }

    /// The successor's first commit: replaced by one with a path if `force_path` (injecting
    /// the successor PSK again), merged, and the new member stored.
    #[allow(clippy::too_many_arguments)]
    fn first_commit(
        &self,
        env: &Env<'_>,
        store: &mut Store,
        mut member: Member,
        out: CommitOutput,
        key_packages: Vec<KeyPackage>,
        force_path: bool,
        external_tree: bool,
    ) -> Result<proto::CreateSubgroupResponse, InteropError> {
        let out = if force_path {
            let psk = member
                .group
                .successor_psk()
                .cloned()
                .ok_or(InteropError::Group(
                    canopy_core::group::GroupError::Internal("a successor without its PSK"),
                ))?;
            let _ = member.group.discard_pending_commit();
            member.group.commit(
                env,
                CommitOptions {
                    add: key_packages,
                    psks: vec![psk],
                    force_path: true,
                    include_pending: false,
                    ..CommitOptions::default()
                },
            )?
        } else {
            out
        };
        let merged = member.merge_pending()?;
        let epoch_authenticator = member.authenticator_after(merged);
        let ratchet_tree = if external_tree {
            convert::tree_bytes(member.group.tree())?
        } else {
            Vec::new()
        };
        let state_id = store.insert_member(member)?;
        Ok(proto::CreateSubgroupResponse {
            state_id,
            welcome: out.welcome.unwrap_or_default(),
            ratchet_tree,
            epoch_authenticator,
        })
    }
}

/// The configuration of a successor group: the old group's, with the ratchet tree in the
/// Welcome unless `external_tree`.
fn welcome_config(old: &Group, external_tree: bool) -> GroupConfig {
    GroupConfig {
        ratchet_tree_in_welcome: !external_tree,
        ..*old.config()
    }
}

fn key_packages(list: &[Vec<u8>]) -> Result<Vec<KeyPackage>, InteropError> {
    list.iter().map(|kp| convert::key_package(kp)).collect()
}
