//! Proposals (RFC 9420 §12.1, §12.2, §12.4): the checks a proposal passes when it is received
//! or sent, the cache of the epoch's proposals, and the choice of the cached proposals a
//! commit of ours includes.
//!
//! Receiving runs the single-proposal rules of [`crate::rules::proposal`], the rules a
//! proposal can already be held to against the current tree (credential types, key
//! uniqueness), and the application's [`ProposalPolicy`](super::ProposalPolicy). Committing
//! picks a valid subset of the cache with the same list rules a receiver applies
//! ([`ListCheck`]), preferring Removes and then the latest Update per leaf (§12.2), and
//! reports what it left out and why (§12.4: include the valid proposals "as long as this
//! results in a valid proposal list").

use std::collections::BTreeSet;
use std::sync::OnceLock;

use canopy_crypto::{HpkePublicKey, SignaturePublicKey, SuiteOps};

use super::policy::ProposalInfo;
use super::{Env, Group, GroupError};
use crate::rules::leaf::CredentialTypes;
use crate::rules::proposal::{Committer, ListCheck, Resolved, Scope, check_proposal, members};
use crate::rules::{At, Detail, Rule, Violation};
use crate::tree::math::LeafIndex;
use crate::tree::{RatchetTree, TreeRead};
use crate::wire::{Extensions, LeafNode, Proposal, Sender};

/// A proposal received (or sent) in the current epoch, kept until a commit references it.
#[derive(Clone, Debug)]
pub(crate) struct CachedProposal {
    /// RFC 9420 §5.2: its ProposalRef.
    pub(crate) reference: Vec<u8>,
    pub(crate) proposal: Proposal,
    pub(crate) sender: Sender,
}

/// A proposal the commit left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeftOut {
    /// Who proposed it.
    pub sender: Sender,
    /// The proposal.
    pub proposal: Proposal,
    /// Why it was left out: the rule it would break in this commit (AP-02 when the
    /// application's policy did not include it), or [`GroupError::MissingPsk`] for a PSK
    /// this member does not hold.
    pub reason: GroupError,
}

/// The cached proposals a commit of ours takes, by reference, and those it leaves out.
pub(crate) struct Selection {
    /// The chosen proposals with their references, in the order they go in the commit.
    pub(crate) chosen: Vec<(Resolved, Vec<u8>)>,
    pub(crate) left_out: Vec<LeftOut>,
}

impl Group {
    /// What proposals of the current epoch are checked against.
    pub(crate) fn scope<'a>(&'a self, env: &Env<'a>, ops: &'a dyn SuiteOps) -> Scope<'a> {
        Scope {
            ops,
            context: &self.context,
            tree: &self.tree,
            lifetime: env.lifetime(&self.config),
            validator: env.credentials,
            crypto: env.crypto,
            #[cfg(feature = "extensions")]
            components: env.components,
            successor_psk: self.successor_psk.as_ref().map(|(id, _)| id),
        }
    }

    /// RFC 9420 §12.1: the checks of a proposal from `sender` against the current epoch
    /// ([`check_in_epoch`]).
    pub(crate) fn check_in_epoch(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        proposal: &Proposal,
        sender: &Sender,
    ) -> Result<(), GroupError> {
        check_in_epoch(
            &self.scope(env, ops),
            &self.credential_types,
            proposal,
            sender,
        )
    }

    /// A proposal received in a message of the current epoch ([`accept_received`]).
    pub(crate) fn accept_received(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        proposal: &Proposal,
        sender: &Sender,
    ) -> Result<(), GroupError> {
        accept_received(
            env,
            &self.scope(env, ops),
            &self.credential_types,
            proposal,
            sender,
        )
    }

    /// Caches a proposal once: the Delivery Service's echo of a proposal (ours, or one seen
    /// twice) must not make a commit reference it twice.
    pub(crate) fn cache_proposal(&mut self, proposal: CachedProposal) {
        if !self
            .proposals
            .iter()
            .any(|p| p.reference == proposal.reference)
        {
            self.proposals.push(proposal);
            self.dirty.meta();
        }
    }

    /// RFC 9420 §12.2, §12.4: the cached proposals our commit includes with `by_value` (our
    /// own, which must all be valid: an error there fails the commit), chosen so that the
    /// list stays valid: Removes first, then Updates from the latest, then the rest in the
    /// order received (a ReInit last, so that it goes only alone). A proposal the policy does
    /// not include, whose PSK we lack, or that would break a list rule is left out and
    /// reported.
    pub(crate) fn select(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        by_value: &[Resolved],
        include_cached: bool,
    ) -> Result<Selection, GroupError> {
        let cached: Vec<(usize, &CachedProposal)> = if include_cached {
            self.proposals.iter().enumerate().collect()
        } else {
            Vec::new()
        };
        let resolved: Vec<Resolved> = cached
            .iter()
            .map(|(_, c)| Resolved {
                proposal: c.proposal.clone(),
                sender: c.sender,
                by_reference: true,
            })
            .collect();
        let mut check = ListCheck::new(Committer::Member(self.own_leaf()), &self.tree);
        let mut keys = NewKeys::default();
        let is_remove = |p: &Proposal| matches!(p, Proposal::Remove(_));
        let mut left_out = Vec::new();
        let mut chosen: Vec<(usize, &CachedProposal)> = Vec::new();
        // 1. our Removes, then the received ones.
        for r in by_value.iter().filter(|r| is_remove(&r.proposal)) {
            check.push(r)?;
        }
        let mut order: Vec<usize> = (0..cached.len())
            .filter(|&i| resolved.get(i).is_some_and(|r| is_remove(&r.proposal)))
            .collect();
        // 2. our other proposals.
        for r in by_value.iter().filter(|r| !is_remove(&r.proposal)) {
            check.push(r)?;
            keys.note(r)?;
        }
        // 3. received Updates, the latest first; 4. the rest; a ReInit last.
        order.extend((0..cached.len()).rev().filter(|&i| {
            resolved
                .get(i)
                .is_some_and(|r| matches!(r.proposal, Proposal::Update(_)))
        }));
        order.extend((0..cached.len()).filter(|&i| {
            resolved.get(i).is_some_and(|r| {
                !matches!(
                    r.proposal,
                    Proposal::Remove(_) | Proposal::Update(_) | Proposal::ReInit(_)
                )
            })
        }));
        order.extend((0..cached.len()).filter(|&i| {
            resolved
                .get(i)
                .is_some_and(|r| matches!(r.proposal, Proposal::ReInit(_)))
        }));
        for i in order {
            let (Some(&(index, c)), Some(r)) = (cached.get(i), resolved.get(i)) else {
                continue;
            };
            match self.admit(env, &mut check, &mut keys, r) {
                Ok(()) => chosen.push((index, c)),
                Err(reason) => left_out.push(LeftOut {
                    sender: c.sender,
                    proposal: c.proposal.clone(),
                    reason,
                }),
            }
        }
        check.finish()?;
        // A new GroupContext applies to the Adds of the same list (§12.3).
        let extensions = by_value
            .iter()
            .map(|r| &r.proposal)
            .chain(chosen.iter().map(|(_, c)| &c.proposal))
            .find_map(|p| match p {
                Proposal::GroupContextExtensions(gce) => Some(&gce.extensions),
                _ => None,
            });
        if let Some(extensions) = extensions {
            self.recheck_adds(env, ops, extensions, &mut chosen, &mut left_out);
        }
        chosen.sort_by_key(|(i, _)| *i);
        Ok(Selection {
            chosen: chosen
                .into_iter()
                .map(|(_, c)| {
                    (
                        Resolved {
                            proposal: c.proposal.clone(),
                            sender: c.sender,
                            by_reference: true,
                        },
                        c.reference.clone(),
                    )
                })
                .collect(),
            left_out,
        })
    }

    /// Whether the cached `r` can join the list so far: the policy includes it, we hold its
    /// PSK, it breaks no list rule and brings no key another chosen proposal brings.
    fn admit<'a>(
        &self,
        env: &Env<'_>,
        check: &mut ListCheck<'a>,
        keys: &mut NewKeys<'a>,
        r: &'a Resolved,
    ) -> Result<(), GroupError> {
        let info = ProposalInfo {
            sender: &r.sender,
            proposal: &r.proposal,
        };
        if !env.policy.include(&info) {
            return Err(Violation::new(Rule::ApplicationPolicy)
                .with(Detail::Reason("not included by the policy".into()))
                .into());
        }
        if let Proposal::PreSharedKey(psk) = &r.proposal {
            self.psk_value(env, &psk.psk)?;
        }
        keys.check(r)?;
        check.push(r)?;
        keys.note(r)?;
        Ok(())
    }

    /// RFC 9420 §12.3: the chosen received Adds must meet the new GroupContext `extensions`;
    /// those that do not are left out.
    fn recheck_adds(
        &self,
        env: &Env<'_>,
        ops: &dyn SuiteOps,
        extensions: &Extensions,
        chosen: &mut Vec<(usize, &CachedProposal)>,
        left_out: &mut Vec<LeftOut>,
    ) {
        let scope = self.scope(env, ops);
        chosen.retain(|(_, c)| {
            if !matches!(c.proposal, Proposal::Add(_)) {
                return true;
            }
            match check_proposal(&scope, &c.proposal, &c.sender, extensions) {
                Ok(()) => true,
                Err(v) => {
                    left_out.push(LeftOut {
                        sender: c.sender,
                        proposal: c.proposal.clone(),
                        reason: v.into(),
                    });
                    false
                }
            }
        });
    }
}

/// RFC 9420 §12.1: the checks of a proposal from `sender` against the epoch of `scope`: the
/// single-proposal rules, and those a new leaf can be held to against the current tree
/// before any commit (LN-04/LN-05 credential types, with the members' `types` computed once
/// per epoch; LN-11/LN-12 keys already in use). A member and a
/// [`PublicGroup`](crate::public::PublicGroup) run the same checks.
pub(crate) fn check_in_epoch(
    scope: &Scope<'_>,
    types: &OnceLock<CredentialTypes>,
    proposal: &Proposal,
    sender: &Sender,
) -> Result<(), GroupError> {
    let tree = scope.tree;
    let types = || types.get_or_init(|| CredentialTypes::of(members(tree)));
    check_proposal(scope, proposal, sender, &scope.context.extensions)?;
    match proposal {
        Proposal::Add(add) => {
            let leaf = &add.key_package.leaf_node;
            types().check(leaf)?;
            key_unused(tree, &leaf.encryption_key)?;
        }
        Proposal::Update(update) => {
            let Sender::Member(l) = sender else {
                return Ok(());
            };
            let leaf = &update.leaf_node;
            let old = LeafIndex::new(*l).and_then(|i| tree.leaf(i));
            if old.is_some_and(|o| CredentialTypes::recheck(o, leaf)) {
                types().check(leaf)?;
            }
            key_unused(tree, &leaf.encryption_key)?;
            if let Some(holder) = tree.find_signature_key(&leaf.signature_key)
                && holder.value() != *l
            {
                return Err(Violation::new(Rule::LeafSignatureKeyUnique)
                    .at(At::Leaf(*l))
                    .with(Detail::First(holder.value()))
                    .into());
            }
        }
        #[cfg(feature = "extensions")]
        Proposal::SelfRemove(s) => crate::rules::proposal::self_remove_capable(tree, s.code)?,
        #[cfg(feature = "extensions")]
        Proposal::AppDataUpdate(_) | Proposal::AppEphemeral(_) => {
            crate::rules::proposal::app_proposal_capable(
                scope.context,
                tree,
                proposal.proposal_type(),
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// SR-01 and SR-07, draft-ietf-mls-extensions §SelfRemove, for a proposal received in a
/// message of `wire_format` whose ProposalRef is `reference`: a SelfRemove comes as a
/// PublicMessage, and is its sender's only one in the epoch (`cached`; the same proposal
/// seen again is not a second one).
#[cfg(feature = "extensions")]
pub(crate) fn self_remove_received(
    proposal: &Proposal,
    sender: &Sender,
    wire_format: crate::wire::WireFormat,
    reference: &[u8],
    cached: &[CachedProposal],
) -> Result<(), Violation> {
    if !matches!(proposal, Proposal::SelfRemove(_)) {
        return Ok(());
    }
    if wire_format != crate::wire::WireFormat::PublicMessage {
        return Err(Violation::new(Rule::SelfRemovePublic));
    }
    let again = cached.iter().any(|c| {
        matches!(c.proposal, Proposal::SelfRemove(_))
            && c.sender == *sender
            && c.reference != reference
    });
    if again {
        return Err(Violation::new(Rule::SelfRemoveOnce));
    }
    Ok(())
}

/// LN-12: no node of `tree` holds `key`.
fn key_unused(tree: &RatchetTree, key: &HpkePublicKey) -> Result<(), GroupError> {
    match tree.find_encryption_key(key) {
        Some(holder) => Err(Violation::new(Rule::LeafEncryptionKeyUnique)
            .with(Detail::First(holder.value()))
            .into()),
        None => Ok(()),
    }
}

/// A proposal received in a message of the epoch of `scope`: checked ([`check_in_epoch`]),
/// then offered to the application's policy (AP-02).
pub(crate) fn accept_received(
    env: &Env<'_>,
    scope: &Scope<'_>,
    types: &OnceLock<CredentialTypes>,
    proposal: &Proposal,
    sender: &Sender,
) -> Result<(), GroupError> {
    check_in_epoch(scope, types, proposal, sender)?;
    env.policy
        .on_received(&ProposalInfo { sender, proposal })
        .map_err(|r| {
            GroupError::from(Violation::new(Rule::ApplicationPolicy).with(r.into_detail()))
        })
}

/// The keys the proposals chosen so far bring into the tree, so that two cached proposals
/// bringing the same key are not both chosen (LN-11, LN-12 on the tree after the commit).
#[derive(Default)]
struct NewKeys<'a> {
    encryption: BTreeSet<&'a HpkePublicKey>,
    signature: BTreeSet<&'a SignaturePublicKey>,
}

impl<'a> NewKeys<'a> {
    /// The new leaf of an Add or Update, if `r` is one.
    fn leaf(r: &'a Resolved) -> Option<&'a LeafNode> {
        match &r.proposal {
            Proposal::Add(add) => Some(&add.key_package.leaf_node),
            Proposal::Update(update) => Some(&update.leaf_node),
            _ => None,
        }
    }

    /// LN-11, LN-12: `r` brings no key a chosen proposal brings.
    fn check(&self, r: &'a Resolved) -> Result<(), Violation> {
        let Some(leaf) = Self::leaf(r) else {
            return Ok(());
        };
        if self.encryption.contains(&leaf.encryption_key) {
            return Err(Violation::new(Rule::LeafEncryptionKeyUnique));
        }
        if self.signature.contains(&leaf.signature_key) {
            return Err(Violation::new(Rule::LeafSignatureKeyUnique));
        }
        Ok(())
    }

    /// Records the keys `r` brings, after checking them.
    fn note(&mut self, r: &'a Resolved) -> Result<(), Violation> {
        self.check(r)?;
        if let Some(leaf) = Self::leaf(r) {
            self.encryption.insert(&leaf.encryption_key);
            self.signature.insert(&leaf.signature_key);
        }
        Ok(())
    }
}
