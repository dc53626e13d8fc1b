//! LeafNode validation (RFC 9420 §7.3): [`validate_leaf_node`] runs the checks that need only
//! the leaf and the group's parameters (listed, in order, on the function).
//!
//! The §7.3 checks against the other members of the group are separate functions taking an
//! iterator over their leaves, for the ratchet tree to call:
//! [`check_credential_types_supported`] and [`check_keys_unique`].

use canopy_crypto::SuiteOps;

use super::KeyPackageError;
use super::capabilities::{Place, allowed_in, is_default_extension, is_default_proposal};
use super::credential::CredentialValidator;
use super::leaf::LEAF_NODE_LABEL;
use crate::crypto::verify_with_label;
use crate::wire::{
    Extensions, GroupContext, LeafNode, LeafNodeSource, ProtocolVersion, RequiredCapabilities,
};

/// Where a LeafNode being validated appears, which fixes its required source and signature
/// context (RFC 9420 §7.3).
#[derive(Clone, Copy, Debug)]
pub enum LeafNodeRole<'a> {
    /// In a KeyPackage (downloaded, or in an Add): the source must be `key_package`.
    KeyPackage,
    /// In an Update proposal from the member at `leaf_index`, replacing `replaced`: the source
    /// must be `update` and the `encryption_key` must change.
    Update {
        /// The group's `group_id`.
        group_id: &'a [u8],
        /// The sender's leaf index.
        leaf_index: u32,
        /// The sender's current leaf.
        replaced: &'a LeafNode,
    },
    /// In the UpdatePath of a Commit from `leaf_index`: the source must be `commit`.
    Commit {
        /// The group's `group_id`.
        group_id: &'a [u8],
        /// The committer's leaf index.
        leaf_index: u32,
        /// The committer's current leaf, if it had one (`None` for a new member's external
        /// Commit; the removed old leaf for an external-join resync, §12.4.3.2).
        replaced: Option<&'a LeafNode>,
    },
    /// A leaf of a ratchet tree being validated (joining, or after a Commit): any source,
    /// signed with this position as context when the source is `update` or `commit`.
    TreeMember {
        /// The group's `group_id`.
        group_id: &'a [u8],
        /// The leaf's index.
        leaf_index: u32,
    },
}

impl LeafNodeRole<'_> {
    /// The `group_id` and `leaf_index` a leaf in this role signs (ignored by `key_package`).
    fn signature_context(&self) -> (&[u8], u32) {
        match *self {
            Self::KeyPackage => (&[], 0),
            Self::Update {
                group_id,
                leaf_index,
                ..
            }
            | Self::Commit {
                group_id,
                leaf_index,
                ..
            }
            | Self::TreeMember {
                group_id,
                leaf_index,
            } => (group_id, leaf_index),
        }
    }

    /// The required source code point, if the role fixes one.
    fn required_source(&self) -> Option<u8> {
        match self {
            Self::KeyPackage => Some(1),
            Self::Update { .. } => Some(2),
            Self::Commit { .. } => Some(3),
            Self::TreeMember { .. } => None,
        }
    }

    /// The leaf this one replaces, if any.
    fn replaced(&self) -> Option<&LeafNode> {
        match *self {
            Self::Update { replaced, .. } => Some(replaced),
            Self::Commit { replaced, .. } => replaced,
            Self::KeyPackage | Self::TreeMember { .. } => None,
        }
    }
}

/// What the group requires of a leaf (RFC 9420 §11.1, §13.4): its protocol version and
/// GroupContext extensions. The cipher suite is that of the [`SuiteOps`] passed alongside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupRequirements<'a> {
    /// The group's protocol version.
    pub version: ProtocolVersion,
    /// The GroupContext `extensions`, including any `required_capabilities`; `None` for none.
    pub extensions: Option<&'a Extensions>,
}

impl<'a> GroupRequirements<'a> {
    /// The requirements of the group whose context is `context`.
    pub fn from_context(context: &'a GroupContext) -> Self {
        Self {
            version: context.version,
            extensions: Some(&context.extensions),
        }
    }

    /// No group yet (a KeyPackage checked before a group is created): `mls10`, no extensions.
    pub fn mls10() -> Self {
        Self {
            version: ProtocolVersion::MLS10,
            extensions: None,
        }
    }
}

pub use crate::lifetime::LifetimePolicy;

impl From<crate::lifetime::LifetimeError> for KeyPackageError {
    fn from(e: crate::lifetime::LifetimeError) -> Self {
        use crate::lifetime::LifetimeError;
        match e {
            LifetimeError::Outside {
                now,
                not_before,
                not_after,
            } => Self::OutsideLifetime {
                now,
                not_before,
                not_after,
            },
            LifetimeError::TooLong { total, max } => Self::LifetimeTooLong { total, max },
            LifetimeError::Inverted => Self::InvertedLifetime,
        }
    }
}

/// RFC 9420 §7.3: validates `leaf` as it appears in `role`, for a group with cipher suite
/// `ops.suite()` and requirements `group`, checking lifetimes per `lifetime` and the
/// credential with `validator`. Credential-type compatibility and key uniqueness need the
/// other members and are [`check_credential_types_supported`] and [`check_keys_unique`].
///
/// The checks, in order (cheap and structural first, the application last):
///
/// 1. `leaf_node_source` matches where the leaf appears ([`LeafNodeRole`]);
/// 2. `encryption_key` has the length of the suite's KEM public keys;
/// 3. the signature verifies under `signature_key` (with `group_id` and `leaf_index` for the
///    `update` and `commit` sources);
/// 4. the credential type is in the leaf's own `capabilities.credentials` (§7.2);
/// 5. the group's protocol version is in its capabilities (§11.1); the group's cipher suite
///    need not be (no receive-side rule of §7.3 or §10.1 asks for it, and other
///    implementations send leaves that omit it);
/// 6. each extension in `extensions` may appear in a LeafNode (§17.3) and, unless default, is
///    listed in `capabilities.extensions` (§7.2, §7.3);
/// 7. the group's `required_capabilities` are satisfied (§11.1) and every non-default
///    GroupContext extension is supported (§13.4);
/// 8. for a `key_package` source, the lifetime is well-formed, within the application's
///    maximum, and contains `now` (§7.2, §7.3), as the [`LifetimePolicy`] asks;
/// 9. an Update changes the `encryption_key` (§7.3);
/// 10. the application's [`CredentialValidator`] accepts the credential, and, where a leaf with
///     another credential is replaced, accepts the new one as its successor (§5.3.1).
///
/// # Errors
/// The [`KeyPackageError`] variant of the first rule broken;
/// [`KeyPackageError::Codec`] if the group's `required_capabilities` does not decode.
pub fn validate_leaf_node(
    ops: &dyn SuiteOps,
    leaf: &LeafNode,
    role: LeafNodeRole<'_>,
    group: &GroupRequirements<'_>,
    lifetime: &LifetimePolicy,
    validator: &dyn CredentialValidator,
) -> Result<(), KeyPackageError> {
    if let Some(expected) = role.required_source() {
        let got = leaf.leaf_node_source.value();
        if got != expected {
            return Err(KeyPackageError::WrongLeafNodeSource { expected, got });
        }
    }
    check_hpke_key_len(ops, leaf.encryption_key.as_bytes().len())
        .map_err(|len| KeyPackageError::InvalidEncryptionKey { len })?;
    verify_leaf_signature(ops, leaf, role)?;
    check_own_capabilities(leaf, group)?;
    check_group_requirements(leaf, group)?;
    if let LeafNodeSource::KeyPackage(l) = &leaf.leaf_node_source {
        lifetime.check(l)?;
    }
    let replaced = role.replaced();
    if let (LeafNodeRole::Update { .. }, Some(old)) = (role, replaced)
        && old.encryption_key == leaf.encryption_key
    {
        return Err(KeyPackageError::UpdateEncryptionKeyUnchanged);
    }
    validator.validate(&leaf.credential, &leaf.signature_key)?;
    if let Some(old) = replaced
        && old.credential != leaf.credential
        && !validator.valid_successor(&old.credential, &leaf.credential)
    {
        return Err(KeyPackageError::InvalidCredentialSuccessor);
    }
    Ok(())
}

/// Whether a key of `len` bytes has the length of the suite's KEM public keys (unknown suites
/// are not checked here; the KEM rejects bad keys when they are used).
pub(crate) fn check_hpke_key_len(ops: &dyn SuiteOps, len: usize) -> Result<(), usize> {
    match ops.suite().params() {
        Some(p) if p.kem.public_key_len() != len => Err(len),
        _ => Ok(()),
    }
}

/// RFC 9420 §7.2, §7.3: `VerifyWithLabel(signature_key, "LeafNodeTBS", LeafNodeTBS,
/// signature)`.
fn verify_leaf_signature(
    ops: &dyn SuiteOps,
    leaf: &LeafNode,
    role: LeafNodeRole<'_>,
) -> Result<(), KeyPackageError> {
    let (group_id, leaf_index) = role.signature_context();
    let tbs = leaf.tbs_bytes(group_id, leaf_index)?;
    verify_with_label(
        ops,
        &leaf.signature_key,
        LEAF_NODE_LABEL,
        &tbs,
        leaf.signature.as_slice(),
    )
    .map_err(|_| KeyPackageError::BadLeafNodeSignature)
}

/// RFC 9420 §7.2, §11.1, §17.3: the leaf's capabilities list its credential type, the group's
/// version, and every non-default extension it carries, and it carries no extension reserved
/// for other messages.
fn check_own_capabilities(
    leaf: &LeafNode,
    group: &GroupRequirements<'_>,
) -> Result<(), KeyPackageError> {
    let caps = &leaf.capabilities;
    let credential_type = leaf.credential.credential_type();
    if !caps.credentials.as_slice().contains(&credential_type) {
        return Err(KeyPackageError::CredentialTypeNotInCapabilities(
            credential_type,
        ));
    }
    if !caps.versions.as_slice().contains(&group.version) {
        return Err(KeyPackageError::VersionNotInCapabilities(group.version));
    }
    for e in leaf.extensions.as_slice() {
        let t = e.extension_type;
        if !allowed_in(t, Place::LeafNode) {
            return Err(KeyPackageError::ExtensionNotAllowedInLeafNode(t));
        }
        if !is_default_extension(t) && !caps.extensions.as_slice().contains(&t) {
            return Err(KeyPackageError::LeafExtensionNotInCapabilities(t));
        }
    }
    Ok(())
}

/// RFC 9420 §7.3, §11.1, §13.4: the leaf supports everything the group's
/// `required_capabilities` lists and every non-default GroupContext extension. Default
/// extension and proposal types are supported by every client without being listed.
fn check_group_requirements(
    leaf: &LeafNode,
    group: &GroupRequirements<'_>,
) -> Result<(), KeyPackageError> {
    let Some(extensions) = group.extensions else {
        return Ok(());
    };
    let caps = &leaf.capabilities;
    let supports_extension = |t| is_default_extension(t) || caps.extensions.as_slice().contains(&t);
    if let Some(required) = extensions.typed::<RequiredCapabilities>()? {
        for &t in required.extension_types.as_slice() {
            if !supports_extension(t) {
                return Err(KeyPackageError::RequiredExtensionUnsupported(t));
            }
        }
        for &p in required.proposal_types.as_slice() {
            if !is_default_proposal(p) && !caps.proposals.as_slice().contains(&p) {
                return Err(KeyPackageError::RequiredProposalUnsupported(p));
            }
        }
        for &c in required.credential_types.as_slice() {
            if !caps.credentials.as_slice().contains(&c) {
                return Err(KeyPackageError::RequiredCredentialUnsupported(c));
            }
        }
    }
    for e in extensions.as_slice() {
        if !supports_extension(e.extension_type) {
            return Err(KeyPackageError::GroupContextExtensionUnsupported(
                e.extension_type,
            ));
        }
    }
    Ok(())
}

/// RFC 9420 §7.3, §13.3: `leaf`'s credential type is supported by every one of `members`
/// (per their capabilities), and `leaf` supports the credential type of every member.
///
/// `members` are the leaves of the other members (not the leaf being replaced, and not
/// `leaf` itself).
///
/// # Errors
/// [`KeyPackageError::CredentialTypeUnsupportedByMember`] or
/// [`KeyPackageError::MemberCredentialTypeUnsupported`].
pub fn check_credential_types_supported<'m>(
    leaf: &LeafNode,
    members: impl IntoIterator<Item = &'m LeafNode>,
) -> Result<(), KeyPackageError> {
    let own = leaf.credential.credential_type();
    for member in members {
        if !member.capabilities.credentials.as_slice().contains(&own) {
            return Err(KeyPackageError::CredentialTypeUnsupportedByMember(own));
        }
        let theirs = member.credential.credential_type();
        if !leaf.capabilities.credentials.as_slice().contains(&theirs) {
            return Err(KeyPackageError::MemberCredentialTypeUnsupported(theirs));
        }
    }
    Ok(())
}

/// RFC 9420 §7.3: `leaf`'s `signature_key` and `encryption_key` are not used by any of
/// `members` (the other members' leaves, excluding the leaf being replaced).
///
/// # Errors
/// [`KeyPackageError::DuplicateSignatureKey`] or [`KeyPackageError::DuplicateEncryptionKey`].
pub fn check_keys_unique<'m>(
    leaf: &LeafNode,
    members: impl IntoIterator<Item = &'m LeafNode>,
) -> Result<(), KeyPackageError> {
    for member in members {
        if member.signature_key == leaf.signature_key {
            return Err(KeyPackageError::DuplicateSignatureKey);
        }
        if member.encryption_key == leaf.encryption_key {
            return Err(KeyPackageError::DuplicateEncryptionKey);
        }
    }
    Ok(())
}
