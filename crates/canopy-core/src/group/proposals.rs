//! Proposals (RFC 9420 §12.1): the per-proposal checks, the cache of proposals received in
//! an epoch, and the proposal-list rules of a commit (§12.2, §12.4.3.2).

use std::collections::BTreeSet;

use canopy_crypto::SuiteOps;

use super::{Env, Group, GroupError, ProposalRule};
use crate::key_package::{
    GroupRequirements, LeafNodeRole, is_default_extension, validate_key_package, validate_leaf_node,
};
use crate::tree::TreeRead;
use crate::tree::math::LeafIndex;
use crate::wire::{
    CredentialType, ExtensionType, LeafNode, Proposal, ProposalType, Psk, RequiredCapabilities,
    ResumptionPskUsage, Sender,
};

/// A proposal received in the current epoch, kept until a commit references it.
#[derive(Clone, Debug)]
pub(crate) struct CachedProposal {
    /// RFC 9420 §5.2: its ProposalRef.
    pub(crate) reference: Vec<u8>,
    pub(crate) proposal: Proposal,
    pub(crate) sender: Sender,
}

/// A proposal of a commit, resolved from a reference or taken by value.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) proposal: Proposal,
    /// Who proposed it (the committer for proposals by value).
    pub(crate) sender: Sender,
    pub(crate) by_reference: bool,
}

/// Who sent a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Committer {
    Member(LeafIndex),
    /// RFC 9420 §12.4.3.2: an external commit.
    NewMember,
}

/// The credential types of the members and the types every member supports (RFC 9420 §7.3),
/// computed once per commit that needs them.
pub(crate) struct MemberCredentials {
    in_use: BTreeSet<CredentialType>,
    supported_by_all: Option<BTreeSet<CredentialType>>,
}

impl MemberCredentials {
    pub(crate) fn of<T: TreeRead + ?Sized>(tree: &T) -> Self {
        let mut in_use = BTreeSet::new();
        let mut supported_by_all: Option<BTreeSet<CredentialType>> = None;
        for leaf in leaves(tree) {
            in_use.insert(leaf.credential.credential_type());
            let theirs: BTreeSet<CredentialType> = leaf
                .capabilities
                .credentials
                .as_slice()
                .iter()
                .copied()
                .collect();
            supported_by_all = Some(match supported_by_all {
                None => theirs,
                Some(all) => all.intersection(&theirs).copied().collect(),
            });
        }
        Self {
            in_use,
            supported_by_all,
        }
    }

    /// RFC 9420 §7.3: every member supports `leaf`'s credential type, and `leaf` supports
    /// every credential type in use.
    pub(crate) fn check(&self, leaf: &LeafNode) -> Result<(), GroupError> {
        let own = leaf.credential.credential_type();
        if self
            .supported_by_all
            .as_ref()
            .is_some_and(|all| !all.contains(&own))
        {
            return Err(
                crate::key_package::KeyPackageError::CredentialTypeUnsupportedByMember(own).into(),
            );
        }
        let caps = leaf.capabilities.credentials.as_slice();
        if let Some(missing) = self.in_use.iter().find(|t| !caps.contains(t)) {
            return Err(
                crate::key_package::KeyPackageError::MemberCredentialTypeUnsupported(*missing)
                    .into(),
            );
        }
        Ok(())
    }
}

/// Every non-blank leaf of `tree`.
pub(crate) fn leaves<T: TreeRead + ?Sized>(tree: &T) -> impl Iterator<Item = &LeafNode> {
    (0..tree.leaf_count().value())
        .filter_map(LeafIndex::new)
        .filter_map(move |l| tree.leaf(l))
}

/// RFC 9420 §12.4: whether a proposal type requires the commit to carry a path (all but
/// `add`, `psk` and `reinit`; unknown types do).
pub(crate) fn requires_path(proposal: &Proposal) -> bool {
    !matches!(
        proposal,
        Proposal::Add(_) | Proposal::PreSharedKey(_) | Proposal::ReInit(_)
    )
}

impl Group {
    /// RFC 9420 §12.1: checks one proposal from `sender` against the current epoch, with
    /// `extensions` as the GroupContext extensions (the new ones when the commit also carries
    /// a GroupContextExtensions proposal, §12.3).
    pub(crate) fn check_proposal(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        proposal: &Proposal,
        sender: &Sender,
        extensions: &crate::wire::Extensions,
    ) -> Result<(), GroupError> {
        let ptype = proposal.proposal_type();
        // RFC 9420 §12.1.8: what external senders may propose; new members only Add (checked
        // by framing).
        if matches!(sender, Sender::External(_))
            && matches!(proposal, Proposal::Update(_) | Proposal::ExternalInit(_))
        {
            return Err(ProposalRule::NotAllowed(ptype).into());
        }
        let requirements = GroupRequirements {
            version: self.context.version,
            extensions: Some(extensions),
        };
        match proposal {
            Proposal::Add(add) => {
                validate_key_package(
                    ops,
                    add.key_package.clone(),
                    &requirements,
                    &env.lifetime(),
                    env.credentials,
                )?;
            }
            Proposal::Update(update) => {
                let Sender::Member(l) = sender else {
                    return Err(ProposalRule::NotAllowed(ptype).into());
                };
                let leaf = LeafIndex::new(*l).ok_or(GroupError::UnknownSender)?;
                let replaced = self.tree.leaf(leaf).ok_or(GroupError::UnknownSender)?;
                validate_leaf_node(
                    ops,
                    &update.leaf_node,
                    LeafNodeRole::Update {
                        group_id: self.context.group_id.as_slice(),
                        leaf_index: *l,
                        replaced,
                    },
                    &requirements,
                    &env.lifetime(),
                    env.credentials,
                )
                .map_err(|_| ProposalRule::InvalidUpdate)?;
            }
            Proposal::Remove(remove) => {
                let occupied = LeafIndex::new(remove.removed)
                    .and_then(|l| self.tree.leaf(l))
                    .is_some();
                if !occupied {
                    return Err(ProposalRule::RemoveNonMember {
                        leaf: remove.removed,
                    }
                    .into());
                }
            }
            Proposal::PreSharedKey(psk) => {
                if psk.psk.psk_nonce.len() != ops.params().hash_len() {
                    return Err(ProposalRule::InvalidPsk.into());
                }
                // RFC 9420 §8.4: `reinit` and `branch` resumption PSKs appear only in the first
                // commit of a successor group.
                let successor = self
                    .successor_psk
                    .as_ref()
                    .is_some_and(|(id, _)| *id == psk.psk);
                if let Psk::Resumption { usage, .. } = &psk.psk.psk
                    && *usage != ResumptionPskUsage::Application
                    && !successor
                {
                    return Err(ProposalRule::InvalidPsk.into());
                }
            }
            Proposal::ReInit(reinit) => {
                if reinit.version < self.context.version {
                    return Err(ProposalRule::ReInitDowngrade.into());
                }
            }
            Proposal::ExternalInit(_) => {}
            Proposal::GroupContextExtensions(gce) => {
                self.check_new_extensions(&gce.extensions)?;
            }
        }
        Ok(())
    }

    /// RFC 9420 §12.1.7, §11.1: every member supports the new GroupContext extensions and
    /// meets their `required_capabilities`.
    fn check_new_extensions(&self, extensions: &crate::wire::Extensions) -> Result<(), GroupError> {
        let required: Option<RequiredCapabilities> = extensions.typed()?;
        let needed: Vec<ExtensionType> = extensions
            .as_slice()
            .iter()
            .map(|e| e.extension_type)
            .filter(|t| !is_default_extension(*t))
            .collect();
        for leaf in leaves(&self.tree) {
            let caps = &leaf.capabilities;
            let supports_ext = |t: &ExtensionType| {
                is_default_extension(*t) || caps.extensions.as_slice().contains(t)
            };
            if !needed.iter().all(supports_ext) {
                return Err(ProposalRule::UnsupportedExtensions.into());
            }
            if let Some(r) = &required {
                let ok = r.extension_types.as_slice().iter().all(supports_ext)
                    && r.proposal_types.as_slice().iter().all(|p| {
                        crate::key_package::is_default_proposal(*p)
                            || caps.proposals.as_slice().contains(p)
                    })
                    && r.credential_types
                        .as_slice()
                        .iter()
                        .all(|c| caps.credentials.as_slice().contains(c));
                if !ok {
                    return Err(ProposalRule::UnsupportedExtensions.into());
                }
            }
        }
        Ok(())
    }

    /// RFC 9420 §12.2 (and §12.4.3.2 for an external commit): the rules on a commit's whole
    /// proposal list. Each proposal was checked on its own by
    /// [`check_proposal`](Self::check_proposal).
    pub(crate) fn check_proposal_list(
        &self,
        list: &[Resolved],
        committer: Committer,
    ) -> Result<(), GroupError> {
        if let Committer::NewMember = committer {
            return check_external_list(list);
        }
        let Committer::Member(me) = committer else {
            return Err(GroupError::Internal("committer"));
        };
        let mut changed: BTreeSet<u32> = BTreeSet::new();
        let mut removed: BTreeSet<u32> = BTreeSet::new();
        let mut added_keys: BTreeSet<&[u8]> = BTreeSet::new();
        let mut psks = Vec::new();
        let mut gce = 0usize;
        let mut reinit = false;
        for r in list {
            match &r.proposal {
                Proposal::Update(_) => {
                    let Sender::Member(l) = r.sender else {
                        return Err(ProposalRule::NotAllowed(ProposalType::UPDATE).into());
                    };
                    if !r.by_reference {
                        return Err(ProposalRule::NotAllowed(ProposalType::UPDATE).into());
                    }
                    if l == me.value() {
                        return Err(ProposalRule::CommitterUpdate.into());
                    }
                    if !changed.insert(l) {
                        return Err(ProposalRule::DuplicateLeafChange { leaf: l }.into());
                    }
                }
                Proposal::Remove(remove) => {
                    if remove.removed == me.value() {
                        return Err(ProposalRule::CommitterRemoved.into());
                    }
                    if !changed.insert(remove.removed) {
                        return Err(ProposalRule::DuplicateLeafChange {
                            leaf: remove.removed,
                        }
                        .into());
                    }
                    removed.insert(remove.removed);
                }
                Proposal::Add(add) => {
                    let key = add.key_package.leaf_node.signature_key.as_bytes();
                    if !added_keys.insert(key) {
                        return Err(ProposalRule::DuplicateAdd.into());
                    }
                }
                Proposal::PreSharedKey(psk) => {
                    if psks.contains(&&psk.psk) {
                        return Err(ProposalRule::DuplicatePsk.into());
                    }
                    psks.push(&psk.psk);
                }
                Proposal::GroupContextExtensions(_) => {
                    gce = gce.saturating_add(1);
                    if gce > 1 {
                        return Err(ProposalRule::MultipleGroupContextExtensions.into());
                    }
                }
                Proposal::ReInit(_) => reinit = true,
                Proposal::ExternalInit(_) => return Err(ProposalRule::ExternalInit.into()),
            }
        }
        if reinit && list.len() > 1 {
            return Err(ProposalRule::ReInitNotAlone.into());
        }
        // An Add of a client already in the group, unless that member is removed here.
        for r in list {
            if let Proposal::Add(add) = &r.proposal {
                let key = &add.key_package.leaf_node.signature_key;
                if let Some(holder) = self.tree.find_signature_key(key)
                    && !removed.contains(&holder.value())
                {
                    return Err(ProposalRule::DuplicateAdd.into());
                }
                let enc = &add.key_package.leaf_node.encryption_key;
                if self.tree.find_encryption_key(enc).is_some() {
                    return Err(ProposalRule::DuplicateAdd.into());
                }
            }
        }
        Ok(())
    }
}

/// RFC 9420 §12.2: an external commit has exactly one ExternalInit, at most one Remove, any
/// number of PreSharedKeys, nothing else, and (§12.4.3.2) everything by value.
fn check_external_list(list: &[Resolved]) -> Result<(), GroupError> {
    let mut init = 0usize;
    let mut removes = 0usize;
    for r in list {
        if r.by_reference {
            return Err(ProposalRule::ExternalInit.into());
        }
        match &r.proposal {
            Proposal::ExternalInit(_) => init = init.saturating_add(1),
            Proposal::Remove(_) => removes = removes.saturating_add(1),
            Proposal::PreSharedKey(_) => {}
            _ => return Err(ProposalRule::ExternalInit.into()),
        }
    }
    if init != 1 || removes > 1 {
        return Err(ProposalRule::ExternalInit.into());
    }
    Ok(())
}
