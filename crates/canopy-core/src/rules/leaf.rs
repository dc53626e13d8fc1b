//! LeafNode rules (RFC 9420 §5.3.1, §7.2, §7.3, §13.4): one function per rule, and
//! [`check_leaf`], the checks of a single leaf in the order every path runs them.
//!
//! The rules against the other members (credential types, LN-04 and LN-05) are
//! [`CredentialTypes`]; key uniqueness (LN-11, LN-12) is checked against the whole tree in
//! [`super::tree`].
//!
//! Capability lists come from peers, so every "is listed" check here is a lookup in a sorted
//! copy once the lists are long: O((a + b) log b) for `a` values looked up in `b`, never the
//! O(a·b) of nested scans.

use std::collections::BTreeSet;

use canopy_crypto::SuiteOps;

use super::{At, Detail, Rule, Violation, ensure};
use crate::crypto::verify_with_label;
use crate::key_package::{
    CredentialValidator, GroupRequirements, LeafNodeRole, Place, allowed_in, is_default_extension,
    is_default_proposal,
};
use crate::lifetime::{LifetimeError, LifetimePolicy};
use crate::wire::{CredentialType, Extensions, LeafNode, LeafNodeSource, RequiredCapabilities};

/// The label of a LeafNode signature (RFC 9420 §7.2).
pub(crate) const LEAF_NODE_LABEL: &[u8] = b"LeafNodeTBS";

/// Whether the LeafNode signature still has to be checked by [`check_leaf`], or was verified
/// already (in a batch, RFC 9420 §7.3 leaf by leaf).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signature {
    /// Verify it.
    Verify,
    /// The caller verified it with the same rule.
    Verified,
}

/// RFC 9420 §7.3: the checks of `leaf` in `role` that need nothing but the leaf, the group's
/// parameters and the application's validator, in this order (cheap and structural first,
/// the application last):
///
/// LN-09 source, LN-17 encryption key, LN-02 signature, LN-13 own credential type, LN-14
/// version, LN-15 extension placement, LN-08 extensions listed, LN-03 required capabilities,
/// LN-18 GroupContext extensions, LN-06/LN-07 lifetime, LN-10 new key for an Update, LN-01
/// credential, LN-16 credential successor.
pub(crate) fn check_leaf(
    ops: &dyn SuiteOps,
    leaf: &LeafNode,
    role: LeafNodeRole<'_>,
    group: &GroupRequirements<'_>,
    lifetime: &LifetimePolicy,
    validator: &dyn CredentialValidator,
    signature_check: Signature,
) -> Result<(), Violation> {
    source(leaf, &role)?;
    encryption_key(ops, leaf)?;
    if signature_check == Signature::Verify {
        let (group_id, leaf_index) = role.signature_context();
        signature(ops, leaf, group_id, leaf_index)?;
    }
    own_credential_listed(leaf)?;
    version(leaf, group)?;
    extension_placement(leaf)?;
    extensions_listed(leaf)?;
    if let Some(extensions) = group.extensions {
        let required: Option<RequiredCapabilities> = extensions
            .typed()
            .map_err(|_| Violation::new(Rule::LeafRequiredCapabilities))?;
        required_capabilities(leaf, required.as_ref())?;
        group_extensions(leaf, extensions)?;
        #[cfg(feature = "extensions")]
        crate::extensions::negotiation::check_leaf(leaf, extensions)?;
    }
    self::lifetime(leaf, lifetime)?;
    if let LeafNodeRole::Update { replaced, .. } = role {
        update_new_key(leaf, replaced)?;
    }
    credential(ops, group, validator, leaf, lifetime.now)?;
    if let Some(old) = role.replaced() {
        credential_successor(validator, old, leaf)?;
    }
    Ok(())
}

/// LN-09, RFC 9420 §7.3: `leaf_node_source` is `key_package` in a KeyPackage, `update` in an
/// Update, `commit` in an UpdatePath (any source in a tree).
pub(crate) fn source(leaf: &LeafNode, role: &LeafNodeRole<'_>) -> Result<(), Violation> {
    let Some(expected) = role.required_source() else {
        return Ok(());
    };
    let got = leaf.leaf_node_source.value();
    if got == expected {
        Ok(())
    } else {
        Err(Violation::new(Rule::LeafSource).with(Detail::Code {
            expected: expected.into(),
            got: got.into(),
        }))
    }
}

/// LN-17, RFC 9420 §5.1.1: the leaf's `encryption_key` is a public key of the suite's KEM.
pub(crate) fn encryption_key(ops: &dyn SuiteOps, leaf: &LeafNode) -> Result<(), Violation> {
    crate::crypto::check_hpke_public_key(ops, &leaf.encryption_key)
        .map_err(|d| Violation::new(Rule::LeafEncryptionKeyValid).with(d))
}

/// LN-02, RFC 9420 §7.2, §7.3: `VerifyWithLabel(signature_key, "LeafNodeTBS", LeafNodeTBS,
/// signature)`, with `group_id` and `leaf_index` bound for `update` and `commit` leaves.
pub(crate) fn signature(
    ops: &dyn SuiteOps,
    leaf: &LeafNode,
    group_id: &[u8],
    leaf_index: u32,
) -> Result<(), Violation> {
    let tbs = leaf
        .tbs_bytes(group_id, leaf_index)
        .map_err(|_| Violation::new(Rule::LeafSignature))?;
    verify_with_label(
        ops,
        &leaf.signature_key,
        LEAF_NODE_LABEL,
        &tbs,
        leaf.signature.as_slice(),
    )
    .map_err(|_| Violation::new(Rule::LeafSignature))
}

/// LN-13, RFC 9420 §7.2: the leaf's credential type is in its `capabilities.credentials`.
pub(crate) fn own_credential_listed(leaf: &LeafNode) -> Result<(), Violation> {
    let own = leaf.credential.credential_type();
    ensure(
        leaf.capabilities.credentials.as_slice().contains(&own),
        Rule::LeafOwnCredentialListed,
    )
    .map_err(|v| v.with(Detail::Credential(own)))
}

/// LN-14, RFC 9420 §7.2, §11.1: the leaf's capabilities list the group's protocol version.
pub(crate) fn version(leaf: &LeafNode, group: &GroupRequirements<'_>) -> Result<(), Violation> {
    ensure(
        leaf.capabilities
            .versions
            .as_slice()
            .contains(&group.version),
        Rule::LeafVersion,
    )
    .map_err(|v| v.with(Detail::Version(group.version)))
}

/// LN-15, RFC 9420 §13.4, §17.3: each recognised extension of the leaf is registered for
/// LeafNodes (unknown ones, GREASE included, may appear and are checked by LN-08).
pub(crate) fn extension_placement(leaf: &LeafNode) -> Result<(), Violation> {
    match leaf
        .extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .find(|&t| !allowed_in(t, Place::LeafNode))
    {
        None => Ok(()),
        Some(t) => Err(Violation::new(Rule::LeafExtensionPlacement).with(Detail::Extension(t))),
    }
}

/// LN-08, RFC 9420 §7.2, §7.3: every non-default extension of the leaf is listed in its
/// `capabilities.extensions`.
pub(crate) fn extensions_listed(leaf: &LeafNode) -> Result<(), Violation> {
    let carried = leaf
        .extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .filter(|&t| !is_default_extension(t));
    first_missing(leaf.capabilities.extensions.as_slice(), carried).map_or(Ok(()), |t| {
        Err(Violation::new(Rule::LeafExtensionsListed).with(Detail::Extension(t)))
    })
}

/// LN-03, RFC 9420 §7.3, §11.1: the leaf lists everything the group's
/// `required_capabilities` asks for (default extension and proposal types are supported by
/// every client without being listed, §7.2).
pub(crate) fn required_capabilities(
    leaf: &LeafNode,
    required: Option<&RequiredCapabilities>,
) -> Result<(), Violation> {
    let Some(required) = required else {
        return Ok(());
    };
    let caps = &leaf.capabilities;
    let broken = Violation::new(Rule::LeafRequiredCapabilities);
    let extensions = required
        .extension_types
        .as_slice()
        .iter()
        .copied()
        .filter(|&t| !is_default_extension(t));
    if let Some(t) = first_missing(caps.extensions.as_slice(), extensions) {
        return Err(broken.with(Detail::Extension(t)));
    }
    let proposals = required
        .proposal_types
        .as_slice()
        .iter()
        .copied()
        .filter(|&p| !is_default_proposal(p));
    if let Some(p) = first_missing(caps.proposals.as_slice(), proposals) {
        return Err(broken.with(Detail::Proposal(p)));
    }
    let credentials = required.credential_types.as_slice().iter().copied();
    if let Some(c) = first_missing(caps.credentials.as_slice(), credentials) {
        return Err(broken.with(Detail::Credential(c)));
    }
    Ok(())
}

/// LN-18, RFC 9420 §13.4: the leaf's capabilities list every non-default extension of the
/// GroupContext ("The `capabilities` field MUST indicate support for each extension in the
/// GroupContext").
pub(crate) fn group_extensions(leaf: &LeafNode, extensions: &Extensions) -> Result<(), Violation> {
    let needed = extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .filter(|&t| !is_default_extension(t));
    first_missing(leaf.capabilities.extensions.as_slice(), needed).map_or(Ok(()), |t| {
        Err(Violation::new(Rule::LeafGroupExtensions).with(Detail::Extension(t)))
    })
}

/// LN-06, LN-07, RFC 9420 §7.2, §7.3: a `key_package` leaf's lifetime is not longer than the
/// application's maximum and contains the current time, as `policy` asks.
pub(crate) fn lifetime(leaf: &LeafNode, policy: &LifetimePolicy) -> Result<(), Violation> {
    let LeafNodeSource::KeyPackage(lifetime) = &leaf.leaf_node_source else {
        return Ok(());
    };
    policy.check(lifetime).map_err(|e| match e {
        LifetimeError::TooLong { total, max } => {
            Violation::new(Rule::LeafLifetimeMax).with(Detail::TooLong { total, max })
        }
        LifetimeError::Outside {
            now,
            not_before,
            not_after,
        } => Violation::new(Rule::LeafLifetime).with(Detail::Lifetime {
            now,
            not_before,
            not_after,
        }),
        // An inverted lifetime contains no time, and its length is not defined.
        LifetimeError::Inverted => Violation::new(Rule::LeafLifetime),
    })
}

/// LN-10, RFC 9420 §7.3: an Update's `encryption_key` differs from the leaf it replaces.
pub(crate) fn update_new_key(leaf: &LeafNode, replaced: &LeafNode) -> Result<(), Violation> {
    ensure(
        leaf.encryption_key != replaced.encryption_key,
        Rule::LeafUpdateNewKey,
    )
}

/// LN-01, RFC 9420 §5.3.1: the application's Authentication Service accepts the leaf's
/// credential for its `signature_key` at the time `now`. A multi-credential (feature
/// `extensions`) is checked binding by binding instead, each binding's credential by the
/// Authentication Service (MC-01, MC-04, MC-05).
pub(crate) fn credential(
    ops: &dyn SuiteOps,
    group: &GroupRequirements<'_>,
    validator: &dyn CredentialValidator,
    leaf: &LeafNode,
    now: Option<u64>,
) -> Result<(), Violation> {
    #[cfg(feature = "extensions")]
    if leaf.credential.bindings().is_some() {
        return crate::extensions::multi_credential::check_bindings(
            ops,
            group.provider,
            validator,
            leaf,
            now,
        );
    }
    #[cfg(not(feature = "extensions"))]
    let _ = (ops, group);
    validator
        .validate_at(&leaf.credential, &leaf.signature_key, now)
        .map_err(|e| {
            Violation::new(Rule::LeafCredential).with(Detail::Reason(e.reason().to_string()))
        })
}

/// LN-16, RFC 9420 §5.3.1: a leaf that replaces `old` with another credential presents a
/// valid successor of it.
pub(crate) fn credential_successor(
    validator: &dyn CredentialValidator,
    old: &LeafNode,
    new: &LeafNode,
) -> Result<(), Violation> {
    ensure(
        old.credential == new.credential
            || validator.valid_successor(&old.credential, &new.credential),
        Rule::LeafCredentialSuccessor,
    )
}

/// The credential types of a group's members (RFC 9420 §7.3): the types in use and those
/// every member supports, computed once from the members' leaves, so that checking a new leaf
/// costs O(t log t) whatever the group size.
#[derive(Clone, Debug, Default)]
pub(crate) struct CredentialTypes {
    /// Each type in use, with the first leaf that uses it.
    in_use: std::collections::BTreeMap<CredentialType, u32>,
    /// The types every member supports; `None` for a group without members.
    supported_by_all: Option<BTreeSet<CredentialType>>,
    /// What the members support of, and need for, multi-credential bindings.
    #[cfg(feature = "extensions")]
    bindings: crate::extensions::multi_credential::BindingSupport,
}

impl CredentialTypes {
    /// The credential types of `members`, as (leaf index, leaf) pairs.
    pub(crate) fn of<'l>(members: impl IntoIterator<Item = (u32, &'l LeafNode)>) -> Self {
        let mut types = Self::default();
        for (index, leaf) in members {
            #[cfg(feature = "extensions")]
            types.bindings.add(index, leaf);
            types
                .in_use
                .entry(leaf.credential.credential_type())
                .or_insert(index);
            let theirs: BTreeSet<CredentialType> = leaf
                .capabilities
                .credentials
                .as_slice()
                .iter()
                .copied()
                .collect();
            types.supported_by_all = Some(match types.supported_by_all {
                None => theirs,
                Some(all) => all.intersection(&theirs).copied().collect(),
            });
        }
        types
    }

    /// LN-04, RFC 9420 §7.3: every member supports `leaf`'s credential type.
    pub(crate) fn check_supported(&self, leaf: &LeafNode) -> Result<(), Violation> {
        let own = leaf.credential.credential_type();
        match &self.supported_by_all {
            Some(all) if !all.contains(&own) => {
                Err(Violation::new(Rule::LeafCredentialTypeSupported).with(Detail::Credential(own)))
            }
            _ => Ok(()),
        }
    }

    /// LN-05, RFC 9420 §7.3: `leaf` supports every credential type in use.
    pub(crate) fn check_supports_all(&self, leaf: &LeafNode) -> Result<(), Violation> {
        let caps = leaf.capabilities.credentials.as_slice();
        match first_missing(caps, self.in_use.keys().copied()) {
            None => Ok(()),
            Some(t) => {
                let first = self.in_use.get(&t).copied().unwrap_or_default();
                Err(Violation::new(Rule::LeafSupportsCredentialTypes)
                    .with(Detail::Credential(t))
                    .at(At::Leaf(first)))
            }
        }
    }

    /// LN-04 and LN-05 for a leaf entering the group (with the `extensions` feature also
    /// MC-02 and MC-03, the support of multi-credential bindings).
    pub(crate) fn check(&self, leaf: &LeafNode) -> Result<(), Violation> {
        self.check_supported(leaf)?;
        self.check_supports_all(leaf)?;
        #[cfg(feature = "extensions")]
        self.bindings.check(leaf, self.supported_by_all.as_ref())?;
        Ok(())
    }

    /// Whether a leaf replacing `old` with `new` needs [`Self::check`]: its credential type
    /// changed, or (feature `extensions`) it presents other multi-credential bindings.
    pub(crate) fn recheck(old: &LeafNode, new: &LeafNode) -> bool {
        if old.credential.credential_type() != new.credential.credential_type() {
            return true;
        }
        #[cfg(feature = "extensions")]
        if new.credential.bindings().is_some() && old.credential != new.credential {
            return true;
        }
        false
    }
}

/// The first of `wanted` that is not in `list`, or `None`. Linear scans while both are short
/// (the usual case, a handful of values), a sorted copy of `list` otherwise.
pub(crate) fn first_missing<T: Copy + Ord>(
    list: &[T],
    wanted: impl Iterator<Item = T>,
) -> Option<T> {
    const SHORT: usize = 16;
    if list.len() <= SHORT {
        let mut wanted = wanted;
        // A long `wanted` against a short list is still O(len(wanted) · 16).
        return wanted.find(|w| !list.contains(w));
    }
    let mut sorted = list.to_vec();
    sorted.sort_unstable();
    let mut wanted = wanted;
    wanted.find(|w| sorted.binary_search(w).is_err())
}
