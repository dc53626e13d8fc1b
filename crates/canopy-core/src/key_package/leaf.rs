//! LeafNode creation (RFC 9420 §7.2): building and signing a leaf for each source.
//!
//! | source | signed over | body |
//! |---|---|---|
//! | `key_package` | `LeafNodeTBS` | `lifetime` |
//! | `update` | `LeafNodeTBS` + `group_id` + `leaf_index` | – |
//! | `commit` | `LeafNodeTBS` + `group_id` + `leaf_index` | `parent_hash` |
//!
//! [`generate_leaf_node`] draws a fresh HPKE key pair and signs; [`sign_leaf_node`] signs a
//! leaf for an encryption key the caller already has (a Commit's leaf is signed only after the
//! path's parent hash is known, §7.9).

use canopy_crypto::{CipherSuite, CryptoProvider, HpkePrivateKey, HpkePublicKey, Signer, SuiteOps};

use super::KeyPackageError;
use super::capabilities::{
    GreasePicker, Place, allowed_in, complete_capabilities, default_capabilities, has_grease,
    strip_grease,
};
use crate::codec::VarBytes;
use crate::crypto::sign_with_label;
use crate::rules::leaf::LEAF_NODE_LABEL;
use crate::rules::{Detail, Rule, Violation};
use crate::wire::{
    Capabilities, Credential, Extension, Extensions, LeafNode, LeafNodeSource, Lifetime,
};

/// What a client puts in its LeafNodes (RFC 9420 §7.2), apart from keys and source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafNodeParams {
    /// The credential (§5.3). Its type is added to the signed capabilities if missing.
    pub credential: Credential,
    /// The client's own capabilities, without GREASE (§13.5). When signing, the cipher suite,
    /// `mls10`, the credential type and the type of every non-default extension carried are
    /// added if missing, and default proposal and extension types are removed (§7.2: they
    /// "MUST NOT be listed").
    pub capabilities: Capabilities,
    /// The LeafNode `extensions` (for example `application_id`).
    pub extensions: Extensions,
    /// Whether to send GREASE values in the capabilities (§13.5): one random GREASE value in
    /// each of the four lists that allow it (cipher suites, extensions, proposals,
    /// credentials). RFC 9420 says a client SHOULD; [`LeafNodeParams::new`] sets it. Every
    /// deployed implementation we test against accepts it.
    pub grease: bool,
    /// Whether to also send GREASE *extensions* (§13.5): one GREASE extension in
    /// `LeafNode.extensions` and, for a KeyPackage, one in `KeyPackage.extensions`, each listed
    /// in the leaf's capabilities (§7.2, §10).
    ///
    /// Off in [`LeafNodeParams::new`] until the peers' released crates accept it: OpenMLS
    /// 0.9.2 rejects any GREASE extension in a LeafNode or KeyPackage, even a correctly listed
    /// one (OpenMLS issue 2156, fixed after 0.9.2), so a group with an OpenMLS 0.9.2 member
    /// cannot add a client that sets this. See `docs/interop.md`.
    pub grease_extensions: bool,
}

impl LeafNodeParams {
    /// `credential` with [`default_capabilities`] for `suite`, no extensions, GREASE in the
    /// capabilities on ([`Self::grease`]) and GREASE extensions off
    /// ([`Self::grease_extensions`]).
    pub fn new(credential: Credential, suite: CipherSuite) -> Self {
        Self {
            credential,
            capabilities: default_capabilities(suite),
            extensions: Extensions::default(),
            grease: true,
            grease_extensions: false,
        }
    }

    /// The parameters of an existing `leaf` (to re-sign it for an Update or Commit), with
    /// GREASE values removed from its capabilities and extensions (§13.5). The two GREASE
    /// switches follow the leaf, so a re-signed leaf GREASEs as the original did: `grease` is
    /// on if its capabilities hold a GREASE value, `grease_extensions` if it carries a GREASE
    /// extension.
    pub fn from_leaf(leaf: &LeafNode) -> Self {
        let kept: Vec<Extension> = leaf
            .extensions
            .as_slice()
            .iter()
            .filter(|e| !e.extension_type.is_grease())
            .cloned()
            .collect();
        // A sub-list of a duplicate-free list is duplicate-free.
        let extensions = Extensions::new(kept).unwrap_or_default();
        // With the extensions feature, the component GREASE of its app_data_dictionary too.
        #[cfg(feature = "extensions")]
        let extensions = crate::extensions::grease::strip(&extensions);
        Self {
            credential: leaf.credential.clone(),
            capabilities: strip_grease(&leaf.capabilities),
            extensions,
            grease: has_grease(&leaf.capabilities),
            grease_extensions: leaf
                .extensions
                .as_slice()
                .iter()
                .any(|e| e.extension_type.is_grease()),
        }
    }
}

/// The source of a new leaf and the context its signature binds (RFC 9420 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewLeafSource<'a> {
    /// A KeyPackage leaf, valid during `lifetime`.
    KeyPackage {
        /// `not_before` and `not_after`, in seconds since the Unix epoch.
        lifetime: Lifetime,
    },
    /// The leaf of an Update proposal, for the member at `leaf_index` of group `group_id`.
    Update {
        /// The group's `group_id`.
        group_id: &'a [u8],
        /// The sender's leaf index.
        leaf_index: u32,
    },
    /// The leaf of a Commit's UpdatePath, with the parent hash of the committer's new path.
    Commit {
        /// The group's `group_id`.
        group_id: &'a [u8],
        /// The committer's leaf index.
        leaf_index: u32,
        /// The leaf's `parent_hash` (§7.9).
        parent_hash: &'a [u8],
    },
}

/// RFC 9420 §7.2: a fresh HPKE key pair for the suite's KEM and a LeafNode for it, signed with
/// `signer`. Returns the leaf and its private encryption key.
///
/// # Errors
/// [`KeyPackageError::Crypto`] if `suite` is not supported by `provider`, key generation or
/// signing fails; [`KeyPackageError::Invalid`] with LN-15 if `params` carries an
/// extension that RFC 9420 §17.3 places elsewhere; [`KeyPackageError::Codec`] for oversized
/// fields.
pub fn generate_leaf_node(
    provider: &dyn CryptoProvider,
    suite: CipherSuite,
    params: &LeafNodeParams,
    source: NewLeafSource<'_>,
    signer: &dyn Signer,
) -> Result<(LeafNode, HpkePrivateKey), KeyPackageError> {
    let ops = provider.suite(suite)?;
    let pair = ops.hpke_generate_key_pair()?;
    let mut grease = (params.grease || params.grease_extensions)
        .then(|| GreasePicker::new(provider))
        .transpose()?;
    let leaf = build_leaf(
        ops,
        params,
        pair.public,
        source,
        signer,
        grease.as_mut(),
        &[],
    )?;
    Ok((leaf, pair.private))
}

/// RFC 9420 §7.2: a LeafNode for an existing `encryption_key`, signed with `signer` (for a
/// Commit, whose leaf is signed once the parent hash is known, §7.9).
///
/// # Errors
/// As [`generate_leaf_node`].
pub fn sign_leaf_node(
    provider: &dyn CryptoProvider,
    suite: CipherSuite,
    params: &LeafNodeParams,
    encryption_key: HpkePublicKey,
    source: NewLeafSource<'_>,
    signer: &dyn Signer,
) -> Result<LeafNode, KeyPackageError> {
    let ops = provider.suite(suite)?;
    let mut grease = (params.grease || params.grease_extensions)
        .then(|| GreasePicker::new(provider))
        .transpose()?;
    build_leaf(
        ops,
        params,
        encryption_key,
        source,
        signer,
        grease.as_mut(),
        &[],
    )
}

/// Builds and signs a leaf; `grease` draws the GREASE values that `params` asks for (in the
/// capabilities for [`LeafNodeParams::grease`], a LeafNode extension for
/// [`LeafNodeParams::grease_extensions`]). The
/// types of `key_package_extensions` are listed in the capabilities too (RFC 9420 §10:
/// KeyPackage extensions "MUST be included in the `leaf_node.capabilities` field").
pub(crate) fn build_leaf(
    ops: &dyn SuiteOps,
    params: &LeafNodeParams,
    encryption_key: HpkePublicKey,
    source: NewLeafSource<'_>,
    signer: &dyn Signer,
    grease: Option<&mut GreasePicker>,
    key_package_extensions: &[Extension],
) -> Result<LeafNode, KeyPackageError> {
    if let Some(t) = params
        .extensions
        .as_slice()
        .iter()
        .map(|e| e.extension_type)
        .find(|&t| !allowed_in(t, Place::LeafNode))
    {
        return Err(Violation::new(Rule::LeafExtensionPlacement)
            .with(Detail::Extension(t))
            .into());
    }
    let mut grease = grease;
    #[cfg_attr(not(feature = "extensions"), allow(unused_mut))]
    let mut extensions = match grease.as_mut() {
        Some(g) if params.grease_extensions => g.grease_extensions(&params.extensions)?,
        _ => params.extensions.clone(),
    };
    #[cfg(feature = "extensions")]
    if let Some(g) = grease.as_mut()
        && params.grease
    {
        crate::extensions::grease::add(&mut extensions, g)?;
    }
    let mut capabilities = complete_capabilities(
        &params.capabilities,
        ops.suite(),
        params.credential.credential_type(),
        extensions.as_slice().iter().chain(key_package_extensions),
    );
    if let Some(g) = grease
        && params.grease
    {
        g.grease_capabilities(&mut capabilities);
    }
    let (leaf_node_source, group_id, leaf_index) = match source {
        NewLeafSource::KeyPackage { lifetime } => {
            (LeafNodeSource::KeyPackage(lifetime), &[][..], 0)
        }
        NewLeafSource::Update {
            group_id,
            leaf_index,
        } => (LeafNodeSource::Update, group_id, leaf_index),
        NewLeafSource::Commit {
            group_id,
            leaf_index,
            parent_hash,
        } => (
            LeafNodeSource::Commit(VarBytes(parent_hash.to_vec())),
            group_id,
            leaf_index,
        ),
    };
    let mut leaf = LeafNode {
        encryption_key,
        signature_key: signer.public_key().clone(),
        credential: params.credential.clone(),
        capabilities,
        leaf_node_source,
        extensions,
        signature: VarBytes::default(),
    };
    let tbs = leaf.tbs_bytes(group_id, leaf_index)?;
    leaf.signature = VarBytes(sign_with_label(ops, signer, LEAF_NODE_LABEL, &tbs)?);
    Ok(leaf)
}
