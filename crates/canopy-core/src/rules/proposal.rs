//! Proposal rules (RFC 9420 §12.1) and proposal-list rules (§12.2, §12.4.3.2): one function
//! per rule, [`check_proposal`] for a single proposal, and [`ListCheck`], which checks a
//! commit's list one proposal at a time, so that a committer can pick a valid subset of the
//! proposals it holds with the same rules a receiver applies to the whole list.

use std::collections::BTreeSet;

use canopy_crypto::{SignaturePublicKey, SuiteOps};

use super::leaf::{Signature, check_leaf, first_missing};
use super::{At, Detail, Rule, Violation, ensure};
use crate::key_package::{
    CredentialValidator, GroupRequirements, LeafNodeRole, LifetimePolicy, is_default_extension,
    is_default_proposal,
};
use crate::tree::math::LeafIndex;
use crate::tree::{RatchetTree, TreeRead};
use crate::wire::{
    ExtensionType, Extensions, ExternalSenders, GroupContext, LeafNode, PreSharedKeyId, Proposal,
    ProposalType, Psk, RequiredCapabilities, ResumptionPskUsage, Sender,
};

/// A proposal of a commit, resolved from a reference or taken by value.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) proposal: Proposal,
    /// Who proposed it (the committer for proposals by value).
    pub(crate) sender: Sender,
    pub(crate) by_reference: bool,
}

/// Who sends a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Committer {
    /// A member, at its leaf.
    Member(LeafIndex),
    /// RFC 9420 §12.4.3.2: a new member, with an external commit.
    NewMember,
}

/// What a proposal is checked against: the epoch it was sent in, and the application's clock
/// and Authentication Service.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) ops: &'a dyn SuiteOps,
    pub(crate) context: &'a GroupContext,
    pub(crate) tree: &'a RatchetTree,
    pub(crate) lifetime: LifetimePolicy,
    pub(crate) validator: &'a dyn CredentialValidator,
    /// The provider, for credential bindings of other suites than the group's.
    pub(crate) crypto: &'a dyn canopy_crypto::CryptoProvider,
    /// RFC 9420 §11.2, §11.3: the `reinit` or `branch` PSK the first commit of a successor
    /// group injects, the only one such a proposal may name.
    pub(crate) successor_psk: Option<&'a PreSharedKeyId>,
    /// The application's components (draft-ietf-mls-extensions).
    #[cfg(feature = "extensions")]
    pub(crate) components: &'a dyn crate::extensions::AppComponents,
}

/// RFC 9420 §12.1: checks one proposal from `sender`, with `extensions` as the GroupContext
/// extensions (the new ones when the commit also changes them, §12.3).
pub(crate) fn check_proposal(
    scope: &Scope<'_>,
    proposal: &Proposal,
    sender: &Sender,
    extensions: &Extensions,
) -> Result<(), Violation> {
    check_proposal_with(scope, proposal, sender, extensions, Signature::Verify)
}

/// [`check_proposal`], with an Add's two signatures left out if `add_signatures` says the
/// caller verified them under the same rule
/// ([`batch_signatures`](super::key_package::batch_signatures)).
pub(crate) fn check_proposal_with(
    scope: &Scope<'_>,
    proposal: &Proposal,
    sender: &Sender,
    extensions: &Extensions,
    add_signatures: Signature,
) -> Result<(), Violation> {
    external_sender_type(proposal, sender)?;
    let group = GroupRequirements {
        version: scope.context.version,
        extensions: Some(extensions),
        provider: Some(scope.crypto),
    };
    match proposal {
        Proposal::Add(add) => super::key_package::check_key_package_with(
            scope.ops,
            &add.key_package,
            &group,
            &scope.lifetime,
            scope.validator,
            add_signatures,
        ),
        Proposal::Update(update) => {
            let Sender::Member(l) = sender else {
                return Err(Violation::new(Rule::ProposalUpdateSender));
            };
            let replaced = LeafIndex::new(*l)
                .and_then(|leaf| scope.tree.leaf(leaf))
                .ok_or_else(|| Violation::new(Rule::FramingSender).at(At::Leaf(*l)))?;
            check_leaf(
                scope.ops,
                &update.leaf_node,
                LeafNodeRole::Update {
                    group_id: scope.context.group_id.as_slice(),
                    leaf_index: *l,
                    replaced,
                },
                &group,
                &scope.lifetime,
                scope.validator,
                Signature::Verify,
            )
            .map_err(|v| v.at(At::Leaf(*l)))
        }
        Proposal::Remove(remove) => remove_member(scope.tree, remove.removed),
        Proposal::PreSharedKey(psk) => {
            psk_nonce(scope.ops, &psk.psk)?;
            psk_usage(&psk.psk, scope.successor_psk)
        }
        Proposal::ReInit(reinit) => ensure(
            reinit.version >= scope.context.version,
            Rule::ProposalReInitVersion,
        ),
        Proposal::ExternalInit(_) => Ok(()),
        Proposal::GroupContextExtensions(gce) => {
            external_senders(
                scope.ops,
                scope.crypto,
                scope.validator,
                &gce.extensions,
                scope.lifetime.now,
            )?;
            #[cfg(feature = "extensions")]
            app_data_left_alone(scope.context, &gce.extensions)?;
            new_extensions_supported(members(scope.tree), &gce.extensions)
        }
        #[cfg(feature = "extensions")]
        Proposal::AppDataUpdate(update) => ensure(
            crate::extensions::registry::knows_data(scope.components, update.component_id),
            Rule::AppDataUpdateComponent,
        )
        .map_err(|v| v.with(Detail::Reason(format!("component {}", update.component_id)))),
        #[cfg(feature = "extensions")]
        Proposal::AppEphemeral(ephemeral) => {
            let component = ephemeral.component_id;
            ensure(
                crate::extensions::registry::knows_ephemeral(scope.components, component),
                Rule::AppEphemeralComponent,
            )
            .map_err(|v| v.with(Detail::Reason(format!("component {component}"))))?;
            crate::extensions::registry::check_ephemeral(
                scope.components,
                component,
                sender,
                ephemeral.data.as_slice(),
            )
            .map_err(|r| Violation::new(Rule::AppEphemeralRefused).with(r.into_detail()))
        }
        #[cfg(feature = "extensions")]
        Proposal::SelfRemove(_) => {
            let Sender::Member(l) = sender else {
                return Err(Violation::new(Rule::SelfRemoveSender));
            };
            ensure(
                LeafIndex::new(*l)
                    .and_then(|leaf| scope.tree.leaf(leaf))
                    .is_some(),
                Rule::FramingSender,
            )
            .map_err(|v| v.at(At::Leaf(*l)))
        }
    }
}

/// AD-05, draft-ietf-mls-extensions §AppDataUpdate: when the group requires AppDataUpdate,
/// a GroupContextExtensions proposal leaves the `app_data_dictionary` extension as it was
/// (present with the same data, or absent).
#[cfg(feature = "extensions")]
fn app_data_left_alone(context: &GroupContext, new: &Extensions) -> Result<(), Violation> {
    let required = context
        .extensions
        .typed::<RequiredCapabilities>()
        .ok()
        .flatten()
        .is_some_and(|r| {
            r.proposal_types
                .as_slice()
                .contains(&ProposalType::APP_DATA_UPDATE)
        });
    let dictionary = crate::extensions::APP_DATA_DICTIONARY;
    ensure(
        !required || context.extensions.find(dictionary) == new.find(dictionary),
        Rule::AppDataUpdateExtensions,
    )
}

/// AD-06, draft-ietf-mls-extensions §Negotiating Extensions and Components: every member
/// lists `code`. O(1) when the group's `required_capabilities` lists it (every member then
/// does), else O(n), once per proposal received and once per proposal type of a commit.
#[cfg(feature = "extensions")]
pub(crate) fn app_proposal_capable<T: TreeRead + ?Sized>(
    context: &GroupContext,
    tree: &T,
    code: ProposalType,
) -> Result<(), Violation> {
    let required = context
        .extensions
        .typed::<RequiredCapabilities>()
        .ok()
        .flatten()
        .is_some_and(|r| r.proposal_types.as_slice().contains(&code));
    if required {
        return Ok(());
    }
    app_members_capable(tree, code)
}

/// AD-06 by scanning the members: O(n).
#[cfg(feature = "extensions")]
fn app_members_capable<T: TreeRead + ?Sized>(
    tree: &T,
    code: ProposalType,
) -> Result<(), Violation> {
    match members(tree).find(|(_, leaf)| !leaf.capabilities.proposals.as_slice().contains(&code)) {
        Some((l, _)) => Err(Violation::new(Rule::AppProposalCapable)
            .at(At::Leaf(l))
            .with(Detail::Proposal(code))),
        None => Ok(()),
    }
}

/// SR-04, draft-ietf-mls-extensions §SelfRemove: every member of `tree` lists `code` among
/// its proposal types (a "self-remove-capable group"). O(n): callers run it once per
/// proposal received and once per commit, not once per SelfRemove of a commit.
#[cfg(feature = "extensions")]
pub(crate) fn self_remove_capable<T: TreeRead + ?Sized>(
    tree: &T,
    code: ProposalType,
) -> Result<(), Violation> {
    match members(tree).find(|(_, leaf)| !leaf.capabilities.proposals.as_slice().contains(&code)) {
        Some((l, _)) => Err(Violation::new(Rule::SelfRemoveCapable)
            .at(At::Leaf(l))
            .with(Detail::Proposal(code))),
        None => Ok(()),
    }
}

/// PR-07, RFC 9420 §12.1.8: an external sender proposes only `add`, `remove`, `psk`,
/// `reinit` or `group_context_extensions`.
pub(crate) fn external_sender_type(proposal: &Proposal, sender: &Sender) -> Result<(), Violation> {
    match (sender, proposal) {
        (Sender::External(_), Proposal::Update(_) | Proposal::ExternalInit(_)) => {
            Err(Violation::new(Rule::ProposalExternalType)
                .with(Detail::Proposal(proposal.proposal_type())))
        }
        _ => Ok(()),
    }
}

/// PR-02, RFC 9420 §12.1.3: a Remove names a non-blank leaf of `tree`.
pub(crate) fn remove_member(tree: &impl TreeRead, removed: u32) -> Result<(), Violation> {
    ensure(
        LeafIndex::new(removed).and_then(|l| tree.leaf(l)).is_some(),
        Rule::ProposalRemoveMember,
    )
    .map_err(|v| v.at(At::Leaf(removed)))
}

/// PR-03, RFC 9420 §12.1.4: the `psk_nonce` has length `KDF.Nh`.
pub(crate) fn psk_nonce(ops: &dyn SuiteOps, psk: &PreSharedKeyId) -> Result<(), Violation> {
    let len = psk.psk_nonce.len();
    ensure(len == ops.params().kdf_len(), Rule::ProposalPskNonce)
        .map_err(|v| v.with(Detail::Length(len)))
}

/// PR-04, RFC 9420 §8.4, §12.1.4: a resumption PSK with usage `reinit` or `branch` is only
/// the one that ties a successor group to its predecessor.
pub(crate) fn psk_usage(
    psk: &PreSharedKeyId,
    successor: Option<&PreSharedKeyId>,
) -> Result<(), Violation> {
    match &psk.psk {
        Psk::Resumption { usage, .. }
            if *usage != ResumptionPskUsage::Application && successor != Some(psk) =>
        {
            Err(Violation::new(Rule::ProposalPskUsage))
        }
        _ => Ok(()),
    }
}

/// PR-08, RFC 9420 §5.3.1: every credential of an `external_senders` extension among
/// `extensions` is accepted by the Authentication Service ("When an `external_senders`
/// extension is added to the group").
pub(crate) fn external_senders(
    ops: &dyn SuiteOps,
    crypto: &dyn canopy_crypto::CryptoProvider,
    validator: &dyn CredentialValidator,
    extensions: &Extensions,
    now: Option<u64>,
) -> Result<(), Violation> {
    let senders: Option<ExternalSenders> = extensions
        .typed()
        .map_err(|_| Violation::new(Rule::ProposalExternalSenders))?;
    for sender in senders.iter().flat_map(|s| s.senders.as_slice()) {
        // A multi-credential (feature `extensions`) is checked binding by binding, as in a
        // LeafNode (MC-01, MC-04, MC-05).
        #[cfg(feature = "extensions")]
        if sender.credential.bindings().is_some() {
            crate::extensions::multi_credential::check_credential_bindings(
                ops,
                Some(crypto),
                validator,
                &sender.credential,
                &sender.signature_key,
                now,
            )?;
            continue;
        }
        #[cfg(not(feature = "extensions"))]
        let _ = (ops, crypto);
        validator
            .validate_at(&sender.credential, &sender.signature_key, now)
            .map_err(|e| {
                Violation::new(Rule::ProposalExternalSenders)
                    .with(Detail::Reason(e.reason().to_string()))
            })?;
    }
    Ok(())
}

/// Every non-blank leaf of `tree`, with its index.
pub(crate) fn members<T: TreeRead + ?Sized>(tree: &T) -> impl Iterator<Item = (u32, &LeafNode)> {
    (0..tree.leaf_count().value())
        .filter_map(LeafIndex::new)
        .filter_map(move |l| tree.leaf(l).map(|leaf| (l.value(), leaf)))
}

/// PR-06, RFC 9420 §12.1.7, §11.1, §13.4: every one of `members` lists each non-default
/// extension of `extensions` and meets their `required_capabilities`.
pub(crate) fn new_extensions_supported<'l>(
    members: impl Iterator<Item = (u32, &'l LeafNode)>,
    extensions: &Extensions,
) -> Result<(), Violation> {
    let required: Option<RequiredCapabilities> = extensions
        .typed()
        .map_err(|_| Violation::new(Rule::ProposalGroupExtensions))?;
    let mut needed: Vec<ExtensionType> = extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .chain(
            required
                .iter()
                .flat_map(|r| r.extension_types.as_slice().iter().copied()),
        )
        .filter(|&t| !is_default_extension(t))
        .collect();
    needed.sort_unstable();
    needed.dedup();
    let proposals: Vec<ProposalType> = required
        .iter()
        .flat_map(|r| r.proposal_types.as_slice().iter().copied())
        .filter(|&p| !is_default_proposal(p))
        .collect();
    #[cfg(feature = "extensions")]
    let requirements = crate::extensions::negotiation::Requirements::of(extensions)?;
    for (index, leaf) in members {
        #[cfg(feature = "extensions")]
        requirements
            .check(leaf)
            .map_err(|v| v.at(At::Leaf(index)))?;
        let caps = &leaf.capabilities;
        let broken = |d| {
            Violation::new(Rule::ProposalGroupExtensions)
                .at(At::Leaf(index))
                .with(d)
        };
        if let Some(t) = first_missing(caps.extensions.as_slice(), needed.iter().copied()) {
            return Err(broken(Detail::Extension(t)));
        }
        if let Some(p) = first_missing(caps.proposals.as_slice(), proposals.iter().copied()) {
            return Err(broken(Detail::Proposal(p)));
        }
        let credentials = required
            .iter()
            .flat_map(|r| r.credential_types.as_slice().iter().copied());
        if let Some(c) = first_missing(caps.credentials.as_slice(), credentials) {
            return Err(broken(Detail::Credential(c)));
        }
    }
    Ok(())
}

/// RFC 9420 §12.2 (§12.4.3.2 for an external commit): the rules on a commit's whole proposal
/// list, checked one proposal at a time. Each proposal was checked on its own by
/// [`check_proposal`].
///
/// A receiver checks a whole list with [`ListCheck::check_list`]. A committer builds one with
/// [`ListCheck::push`], which refuses a proposal that would make the list invalid and leaves
/// the check as it was, so the committer can leave that proposal out and go on; it pushes
/// Removes before the Adds that re-add the removed clients.
pub(crate) struct ListCheck<'a> {
    committer: Committer,
    tree: &'a RatchetTree,
    /// Leaves with an Update or Remove in the list.
    changed: BTreeSet<u32>,
    /// Leaves removed by the list.
    removed: BTreeSet<u32>,
    /// Signature keys of the clients the list adds.
    added: BTreeSet<&'a SignaturePublicKey>,
    psks: BTreeSet<&'a PreSharedKeyId>,
    extensions: bool,
    reinit: bool,
    external_init: bool,
    len: usize,
    /// The SelfRemove code points SR-04 was checked for in this list (at most the two).
    #[cfg(feature = "extensions")]
    self_remove_capable: Vec<ProposalType>,
    /// The AppDataUpdate and AppEphemeral types AD-06 was checked for in this list.
    #[cfg(feature = "extensions")]
    app_capable: Vec<ProposalType>,
    /// AD-03: per component, whether the list removes its data (`true`) or updates it.
    #[cfg(feature = "extensions")]
    app_data_ops: std::collections::BTreeMap<u16, bool>,
}

impl<'a> ListCheck<'a> {
    /// An empty list for a commit from `committer` to the group whose tree is `tree`.
    pub(crate) fn new(committer: Committer, tree: &'a RatchetTree) -> Self {
        Self {
            committer,
            tree,
            changed: BTreeSet::new(),
            removed: BTreeSet::new(),
            added: BTreeSet::new(),
            psks: BTreeSet::new(),
            extensions: false,
            reinit: false,
            external_init: false,
            len: 0,
            #[cfg(feature = "extensions")]
            self_remove_capable: Vec::new(),
            #[cfg(feature = "extensions")]
            app_capable: Vec::new(),
            #[cfg(feature = "extensions")]
            app_data_ops: std::collections::BTreeMap::new(),
        }
    }

    /// Checks a received commit's whole `list`: Removes first (an Add of a client is valid
    /// when the same list removes it, wherever the Remove is), then every proposal in order.
    pub(crate) fn check_list(
        committer: Committer,
        tree: &'a RatchetTree,
        list: &'a [Resolved],
    ) -> Result<(), Violation> {
        let mut check = Self::new(committer, tree);
        let removes = list
            .iter()
            .filter(|r| matches!(r.proposal, Proposal::Remove(_)));
        let others = list
            .iter()
            .filter(|r| !matches!(r.proposal, Proposal::Remove(_)));
        for r in removes.chain(others) {
            check.push(r)?;
        }
        check.finish()
    }

    /// Adds `r` to the list if the list stays valid; otherwise returns the rule it would
    /// break and leaves the check unchanged.
    pub(crate) fn push(&mut self, r: &'a Resolved) -> Result<(), Violation> {
        match self.committer {
            Committer::Member(me) => self.push_member(me, r)?,
            Committer::NewMember => self.push_external(r)?,
        }
        self.len = self.len.saturating_add(1);
        Ok(())
    }

    /// The rules that need the whole list: CM-08 (a ReInit alone), EX-01 (exactly one
    /// ExternalInit in an external commit).
    pub(crate) fn finish(&self) -> Result<(), Violation> {
        if self.reinit && self.len > 1 {
            return Err(Violation::new(Rule::CommitReInitAlone));
        }
        if self.committer == Committer::NewMember && !self.external_init {
            return Err(Violation::new(Rule::ExternalProposals));
        }
        Ok(())
    }

    fn push_member(&mut self, me: LeafIndex, r: &'a Resolved) -> Result<(), Violation> {
        if self.reinit {
            return Err(Violation::new(Rule::CommitReInitAlone));
        }
        match &r.proposal {
            Proposal::Update(_) => {
                let Sender::Member(l) = r.sender else {
                    return Err(Violation::new(Rule::ProposalUpdateSender));
                };
                if !r.by_reference {
                    return Err(Violation::new(Rule::ProposalUpdateSender));
                }
                if l == me.value() {
                    return Err(Violation::new(Rule::CommitterUpdate));
                }
                self.change(l)
            }
            Proposal::Remove(remove) => {
                if remove.removed == me.value() {
                    return Err(Violation::new(Rule::CommitterRemoved));
                }
                self.change(remove.removed)?;
                self.removed.insert(remove.removed);
                Ok(())
            }
            Proposal::Add(add) => {
                let key = &add.key_package.leaf_node.signature_key;
                if self.added.contains(key) {
                    return Err(Violation::new(Rule::CommitAddTwice));
                }
                if let Some(holder) = self.tree.find_signature_key(key)
                    && !self.removed.contains(&holder.value())
                {
                    return Err(Violation::new(Rule::CommitAddMember).at(At::Leaf(holder.value())));
                }
                self.added.insert(key);
                Ok(())
            }
            Proposal::PreSharedKey(psk) => self.psk(&psk.psk),
            Proposal::GroupContextExtensions(_) => {
                if self.extensions {
                    return Err(Violation::new(Rule::CommitExtensionsTwice));
                }
                self.extensions = true;
                Ok(())
            }
            Proposal::ReInit(_) => {
                if self.len > 0 {
                    return Err(Violation::new(Rule::CommitReInitAlone));
                }
                self.reinit = true;
                Ok(())
            }
            Proposal::ExternalInit(_) => Err(Violation::new(Rule::CommitExternalInit)),
            #[cfg(feature = "extensions")]
            Proposal::SelfRemove(s) => self.self_remove(me, r, s.code),
            #[cfg(feature = "extensions")]
            Proposal::AppDataUpdate(_) | Proposal::AppEphemeral(_) => self.app_proposal(r),
        }
    }

    /// AD-06 once per proposal type of the list, AD-03 for an AppDataUpdate.
    #[cfg(feature = "extensions")]
    fn app_proposal(&mut self, r: &Resolved) -> Result<(), Violation> {
        let code = r.proposal.proposal_type();
        if let Proposal::AppDataUpdate(update) = &r.proposal {
            let remove = matches!(update.op, crate::wire::AppDataOp::Remove);
            if let Some(&seen) = self.app_data_ops.get(&update.component_id)
                && (seen || remove)
            {
                return Err(Violation::new(Rule::AppDataUpdateList)
                    .with(Detail::Reason(format!("component {}", update.component_id))));
            }
        }
        if !self.app_capable.contains(&code) {
            app_members_capable(self.tree, code)?;
            self.app_capable.push(code);
        }
        if let Proposal::AppDataUpdate(update) = &r.proposal {
            let remove = matches!(update.op, crate::wire::AppDataOp::Remove);
            self.app_data_ops.insert(update.component_id, remove);
        }
        Ok(())
    }

    /// SR-02 to SR-06 for one SelfRemove of a member's commit; the O(n) capability check
    /// (SR-04) runs once per code point in the list, not once per SelfRemove.
    #[cfg(feature = "extensions")]
    fn self_remove(
        &mut self,
        me: LeafIndex,
        r: &Resolved,
        code: ProposalType,
    ) -> Result<(), Violation> {
        let l = self.self_remove_of(r, code, Some(me))?;
        self.removed.insert(l);
        Ok(())
    }

    /// SR-02, SR-03, SR-04, SR-05 for a SelfRemove of an external commit: by reference, a
    /// member's, supported by every member, and not of the leaf the commit's Remove (a
    /// resync) or another SelfRemove removes.
    #[cfg(feature = "extensions")]
    fn external_self_remove(&mut self, r: &Resolved, code: ProposalType) -> Result<(), Violation> {
        self.self_remove_of(r, code, None).map(|_| ())
    }

    /// The checks both kinds of commit share: SR-02 by reference, SR-03 a member's, SR-06 not
    /// the `committer`'s own (a member's commit), SR-05 no other change to the leaf, SR-04
    /// supported by every member. Returns the leaf it removes, now marked changed.
    #[cfg(feature = "extensions")]
    fn self_remove_of(
        &mut self,
        r: &Resolved,
        code: ProposalType,
        committer: Option<LeafIndex>,
    ) -> Result<u32, Violation> {
        if !r.by_reference {
            return Err(Violation::new(Rule::SelfRemoveByReference));
        }
        let Sender::Member(l) = r.sender else {
            return Err(Violation::new(Rule::SelfRemoveSender));
        };
        if committer.is_some_and(|me| l == me.value()) {
            return Err(Violation::new(Rule::SelfRemoveCommitter));
        }
        if self.changed.contains(&l) {
            return Err(Violation::new(Rule::SelfRemoveRemove).at(At::Leaf(l)));
        }
        if !self.self_remove_capable.contains(&code) {
            self_remove_capable(self.tree, code)?;
            self.self_remove_capable.push(code);
        }
        self.changed.insert(l);
        Ok(l)
    }

    /// CM-03: one Update or Remove per leaf.
    fn change(&mut self, leaf: u32) -> Result<(), Violation> {
        if self.changed.contains(&leaf) {
            return Err(Violation::new(Rule::CommitLeafChangedTwice).at(At::Leaf(leaf)));
        }
        self.changed.insert(leaf);
        Ok(())
    }

    /// CM-06: one PreSharedKey proposal per PSK.
    fn psk(&mut self, psk: &'a PreSharedKeyId) -> Result<(), Violation> {
        if self.psks.contains(psk) {
            return Err(Violation::new(Rule::CommitPskTwice));
        }
        self.psks.insert(psk);
        Ok(())
    }

    /// EX-01, EX-02, RFC 9420 §12.2, §12.4.3.2: an external commit has exactly one
    /// ExternalInit, at most one Remove, any PreSharedKeys, nothing else, all by value.
    fn push_external(&mut self, r: &'a Resolved) -> Result<(), Violation> {
        // draft-ietf-mls-extensions §SelfRemove: an external commit includes the pending
        // SelfRemoves, by reference.
        #[cfg(feature = "extensions")]
        if let Proposal::SelfRemove(s) = &r.proposal {
            return self.external_self_remove(r, s.code);
        }
        if r.by_reference {
            return Err(Violation::new(Rule::ExternalByValue));
        }
        let extra = Violation::new(Rule::ExternalProposals)
            .with(Detail::Proposal(r.proposal.proposal_type()));
        match &r.proposal {
            Proposal::ExternalInit(_) if !self.external_init => {
                self.external_init = true;
                Ok(())
            }
            Proposal::Remove(remove) if self.removed.is_empty() => {
                self.removed.insert(remove.removed);
                self.changed.insert(remove.removed);
                Ok(())
            }
            Proposal::PreSharedKey(psk) => self.psk(&psk.psk),
            // draft-ietf-mls-extensions: AppDataUpdate and AppEphemeral may be in an
            // external commit.
            #[cfg(feature = "extensions")]
            Proposal::AppDataUpdate(_) | Proposal::AppEphemeral(_) => self.app_proposal(r),
            _ => Err(extra),
        }
    }
}
