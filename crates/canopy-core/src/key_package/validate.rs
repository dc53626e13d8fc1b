//! LeafNode validation (RFC 9420 §7.3): where a leaf appears ([`LeafNodeRole`]), what the group
//! requires of it ([`GroupRequirements`]), and [`validate_leaf_node`], the public entry to the
//! LeafNode rules of [`crate::rules`].
//!
//! The §7.3 checks against the other members of the group (credential types, key uniqueness)
//! need the tree, and run where a tree or a commit is validated.

use canopy_crypto::SuiteOps;

use super::KeyPackageError;
use super::credential::CredentialValidator;
use crate::rules::leaf::{Signature, check_leaf};
use crate::wire::{Extensions, GroupContext, LeafNode, ProtocolVersion};

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
    pub(crate) fn signature_context(&self) -> (&[u8], u32) {
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
    pub(crate) fn required_source(&self) -> Option<u8> {
        match self {
            Self::KeyPackage => Some(1),
            Self::Update { .. } => Some(2),
            Self::Commit { .. } => Some(3),
            Self::TreeMember { .. } => None,
        }
    }

    /// The leaf this one replaces, if any.
    pub(crate) fn replaced(&self) -> Option<&LeafNode> {
        match *self {
            Self::Update { replaced, .. } => Some(replaced),
            Self::Commit { replaced, .. } => replaced,
            Self::KeyPackage | Self::TreeMember { .. } => None,
        }
    }
}

/// What the group requires of a leaf (RFC 9420 §11.1, §13.4): its protocol version and
/// GroupContext extensions. The cipher suite is that of the [`SuiteOps`] passed alongside.
#[derive(Clone, Copy)]
pub struct GroupRequirements<'a> {
    /// The group's protocol version.
    pub version: ProtocolVersion,
    /// The GroupContext `extensions`, including any `required_capabilities`; `None` for none.
    pub extensions: Option<&'a Extensions>,
    /// The provider whose other suites verify credential bindings of another cipher suite
    /// than the group's (draft-ietf-mls-extensions §Multi-Credentials, feature
    /// `extensions`); `None` verifies only bindings of the group's suite. Groups set it to
    /// their [`Env`](crate::group::Env)'s provider.
    pub provider: Option<&'a dyn canopy_crypto::CryptoProvider>,
}

impl core::fmt::Debug for GroupRequirements<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GroupRequirements")
            .field("version", &self.version)
            .field("extensions", &self.extensions)
            .field("provider", &self.provider.map(|p| p.supported()))
            .finish()
    }
}

impl<'a> GroupRequirements<'a> {
    /// The requirements of the group whose context is `context`.
    pub fn from_context(context: &'a GroupContext) -> Self {
        Self {
            version: context.version,
            extensions: Some(&context.extensions),
            provider: None,
        }
    }

    /// These requirements, with `provider` to verify credential bindings of other suites.
    #[must_use]
    pub fn with_provider(self, provider: &'a dyn canopy_crypto::CryptoProvider) -> Self {
        Self {
            provider: Some(provider),
            ..self
        }
    }

    /// No group yet (a KeyPackage checked before a group is created): `mls10`, no extensions.
    pub fn mls10() -> Self {
        Self {
            version: ProtocolVersion::MLS10,
            extensions: None,
            provider: None,
        }
    }
}

pub use crate::lifetime::LifetimePolicy;

/// RFC 9420 §7.3: validates `leaf` as it appears in `role`, for a group with cipher suite
/// `ops.suite()` and requirements `group`, checking lifetimes per `lifetime` and the
/// credential with `validator`: the LeafNode rules LN-09, LN-17, LN-02, LN-13, LN-14, LN-15,
/// LN-08, LN-03, LN-18, LN-06, LN-07, LN-10, LN-01 and LN-16 of [`crate::rules`], in that
/// order (cheap and structural first, the application last). Credential-type compatibility
/// and key uniqueness need the other members and are checked with the tree.
///
/// # Errors
/// [`KeyPackageError::Invalid`] naming the first rule broken.
pub fn validate_leaf_node(
    ops: &dyn SuiteOps,
    leaf: &LeafNode,
    role: LeafNodeRole<'_>,
    group: &GroupRequirements<'_>,
    lifetime: &LifetimePolicy,
    validator: &dyn CredentialValidator,
) -> Result<(), KeyPackageError> {
    Ok(check_leaf(
        ops,
        leaf,
        role,
        group,
        lifetime,
        validator,
        Signature::Verify,
    )?)
}
