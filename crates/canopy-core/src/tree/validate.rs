//! Validation of a ratchet tree received from a peer (RFC 9420 §12.4.3.1, §7.3, §7.9.2).
//!
//! [`RatchetTree::validate`] runs the checks in this order, each failure a [`TreeError`]
//! variant naming the node or leaf:
//! 1. size: the tree is truncated (the root's right subtree holds a member);
//! 2. unmerged leaves (§7.1, §12.4.3.1): sorted, non-blank descendants, listed at every
//!    non-blank node between the leaf and the parent;
//! 3. key uniqueness (§7.3): encryption keys across all nodes, signature keys across leaves;
//! 4. every leaf (§7.3): signature over LeafNodeTBS (with group id and leaf index for
//!    `update`/`commit` leaves), lifetime per [`LifetimePolicy`], extensions listed in its
//!    capabilities, its credential type listed in its own capabilities, every credential type
//!    in use listed in its capabilities, and the group's required capabilities;
//! 5. parent hashes (§7.9.2): every non-blank parent is parent-hash valid.
//!
//! Node types at the right parity and the absence of trailing blanks are checked when the
//! tree is built ([`RatchetTree::from_nodes`]). Leaf checks are independent, so with the
//! `parallel` feature they run on the rayon pool; the reported error is still the one of the
//! lowest failing leaf.

use std::collections::BTreeMap;

use canopy_crypto::{SignatureCheck, SuiteOps};

use super::error::TreeError;
use super::math::{LeafIndex, NodeIndex, direct_path};
use super::parent_hash::verify_parent_hashes;
use super::ratchet::RatchetTree;
use super::view::{TreeRead, in_subtree};
use crate::crypto::verify_with_label;
use crate::lifetime::LifetimeError;
use crate::wire::{
    CredentialType, ExtensionType, LeafNode, LeafNodeSource, Node, ProposalType,
    RequiredCapabilities,
};

pub use crate::lifetime::LifetimePolicy;

/// The group parameters a received tree is validated against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationPolicy {
    /// How key-package leaf lifetimes are checked.
    pub lifetime: LifetimePolicy,
    /// RFC 9420 §11.1: the group's `required_capabilities` extension, if any.
    pub required_capabilities: Option<RequiredCapabilities>,
}

impl ValidationPolicy {
    /// A policy checking lifetimes at `now` (seconds since the Unix epoch) with a maximum total
    /// lifetime of `max_total` seconds, and no required capabilities.
    pub fn at(now: u64, max_total: u64) -> Self {
        Self {
            lifetime: LifetimePolicy::at(now).with_max_total(max_total),
            required_capabilities: None,
        }
    }

    /// A policy that ignores lifetimes (for test vectors and archived trees).
    pub fn ignoring_lifetimes() -> Self {
        Self {
            lifetime: LifetimePolicy::unchecked(),
            required_capabilities: None,
        }
    }
}

/// RFC 9420 §7.2: extension types that are "default" and need not (MUST NOT) be listed in
/// capabilities.
fn is_default_extension(t: ExtensionType) -> bool {
    (1..=5).contains(&t.0)
}

/// RFC 9420 §7.2: proposal types that are "default".
fn is_default_proposal(t: ProposalType) -> bool {
    (1..=7).contains(&t.0)
}

impl RatchetTree {
    /// RFC 9420 §12.4.3.1: validates a tree received from a peer (see the module docs for the
    /// checks and their order). `group_id` is the signature context of `update` and `commit`
    /// leaves.
    ///
    /// # Errors
    /// The [`TreeError`] of the first check that fails.
    pub fn validate(
        &self,
        ops: &dyn SuiteOps,
        group_id: &[u8],
        policy: &ValidationPolicy,
    ) -> Result<(), TreeError> {
        if ops.suite() != self.suite() {
            return Err(TreeError::SuiteMismatch);
        }
        self.check_truncated()?;
        self.check_unmerged_leaves()?;
        self.check_unique_keys()?;
        self.check_leaves(ops, group_id, policy)?;
        verify_parent_hashes(self, ops)
    }

    /// RFC 9420 §7.7, §12.1.3: the right subtree of the root must hold a member.
    fn check_truncated(&self) -> Result<(), TreeError> {
        let n = self.leaf_count().value();
        if n == 1 {
            return Ok(());
        }
        let half = n / 2;
        let occupied = (half..n)
            .filter_map(LeafIndex::new)
            .any(|l| self.leaf(l).is_some());
        if occupied {
            Ok(())
        } else {
            Err(TreeError::NotTruncated {
                root: half.saturating_sub(1).saturating_mul(2).saturating_add(1),
            })
        }
    }

    /// RFC 9420 §7.1, §12.4.3.1: unmerged-leaf consistency.
    fn check_unmerged_leaves(&self) -> Result<(), TreeError> {
        let n = self.leaf_count();
        for (i, node) in self.nodes().iter().enumerate() {
            let Some(Node::Parent(p)) = node else {
                continue;
            };
            let x = node_index(i)?;
            let list = p.unmerged_leaves.as_slice();
            if list.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
                return Err(TreeError::UnmergedLeavesUnsorted { node: x.value() });
            }
            for &u in list {
                let not_below = TreeError::UnmergedLeafNotDescendant {
                    node: x.value(),
                    leaf: u,
                };
                let leaf = LeafIndex::new(u).ok_or_else(|| not_below.clone())?;
                if !n.contains(leaf) || !in_subtree(leaf.node(), x) {
                    return Err(not_below);
                }
                if self.leaf(leaf).is_none() {
                    return Err(TreeError::UnmergedLeafBlank {
                        node: x.value(),
                        leaf: u,
                    });
                }
                let path = direct_path(leaf.node(), n).ok_or(not_below)?;
                for y in path.into_iter().take_while(|&y| y != x) {
                    if let Some(q) = self.parent_node(y)
                        && q.unmerged_leaves.as_slice().binary_search(&u).is_err()
                    {
                        return Err(TreeError::UnmergedLeafMissingBelow {
                            node: x.value(),
                            leaf: u,
                            missing_at: y.value(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// RFC 9420 §7.3, §12.4.3.1: no encryption key in two nodes, no signature key in two
    /// leaves.
    fn check_unique_keys(&self) -> Result<(), TreeError> {
        let mut enc: BTreeMap<&[u8], u32> = BTreeMap::new();
        let mut sig: BTreeMap<&[u8], u32> = BTreeMap::new();
        for (i, node) in self.nodes().iter().enumerate() {
            let x = node_index(i)?;
            let key = match node {
                Some(Node::Leaf(leaf)) => {
                    let l = x.value() / 2;
                    if let Some(&first) = sig.get(leaf.signature_key.as_bytes()) {
                        return Err(TreeError::DuplicateSignatureKey { leaf: l, first });
                    }
                    sig.insert(leaf.signature_key.as_bytes(), l);
                    leaf.encryption_key.as_bytes()
                }
                Some(Node::Parent(p)) => p.encryption_key.as_bytes(),
                None => continue,
            };
            if let Some(&first) = enc.get(key) {
                return Err(TreeError::DuplicateEncryptionKey {
                    node: x.value(),
                    first,
                });
            }
            enc.insert(key, x.value());
        }
        Ok(())
    }

    /// RFC 9420 §7.3: every leaf, possibly in parallel; the lowest failing leaf's error wins.
    fn check_leaves(
        &self,
        ops: &dyn SuiteOps,
        group_id: &[u8],
        policy: &ValidationPolicy,
    ) -> Result<(), TreeError> {
        let leaves: Vec<(LeafIndex, &LeafNode)> = (0..self.leaf_count().value())
            .filter_map(LeafIndex::new)
            .filter_map(|l| self.leaf(l).map(|n| (l, n)))
            .collect();
        let mut in_use: BTreeMap<CredentialType, u32> = BTreeMap::new();
        for (l, leaf) in &leaves {
            in_use
                .entry(leaf.credential.credential_type())
                .or_insert_with(|| l.value());
        }
        let check =
            |chunk: &[(LeafIndex, &LeafNode)]| check_chunk(ops, group_id, policy, &in_use, chunk);
        #[cfg(feature = "parallel")]
        let results: Vec<Result<(), TreeError>> = {
            use rayon::prelude::*;
            leaves.par_chunks(SIGNATURE_BATCH).map(check).collect()
        };
        #[cfg(not(feature = "parallel"))]
        let results: Vec<Result<(), TreeError>> =
            leaves.chunks(SIGNATURE_BATCH).map(check).collect();
        results.into_iter().collect()
    }
}

/// How many leaf signatures are verified in one batch. From about 95 signatures (190 points)
/// the backend's multiscalar multiplication switches from Straus to Pippenger, which costs
/// less per point: joining a 10,000-member group took 198 ms with batches of 64 and 168 ms
/// with 256 (1,024 was no faster, and a failed batch is re-checked one by one).
const SIGNATURE_BATCH: usize = 256;

/// RFC 9420 §7.3: the checks of consecutive leaves, their signatures verified as one batch;
/// if the batch fails, one by one, so that the error names the lowest bad leaf.
fn check_chunk(
    ops: &dyn SuiteOps,
    group_id: &[u8],
    policy: &ValidationPolicy,
    in_use: &BTreeMap<CredentialType, u32>,
    chunk: &[(LeafIndex, &LeafNode)],
) -> Result<(), TreeError> {
    let contents = chunk
        .iter()
        .map(|(l, leaf)| {
            let tbs = leaf.tbs_bytes(group_id, l.value())?;
            Ok(crate::crypto::sign_content(b"LeafNodeTBS", &tbs)?)
        })
        .collect::<Result<Vec<Vec<u8>>, TreeError>>()?;
    let checks: Vec<SignatureCheck<'_>> = chunk
        .iter()
        .zip(&contents)
        .map(|((_, leaf), content)| SignatureCheck {
            public_key: &leaf.signature_key,
            message: content,
            signature: leaf.signature.as_slice(),
        })
        .collect();
    let batch_ok = ops.verify_batch(&checks).is_ok();
    for &(l, leaf) in chunk {
        if !batch_ok {
            verify_leaf_signature(ops, group_id, l, leaf)?;
        }
        check_leaf_rest(policy, in_use, l, leaf)?;
    }
    Ok(())
}

/// RFC 9420 §7.3: the checks of one leaf of a tree other than its signature.
fn check_leaf_rest(
    policy: &ValidationPolicy,
    in_use: &BTreeMap<CredentialType, u32>,
    l: LeafIndex,
    leaf: &LeafNode,
) -> Result<(), TreeError> {
    check_leaf_lifetime(policy.lifetime, l, leaf)?;
    check_leaf_capabilities(l, leaf, policy.required_capabilities.as_ref())?;
    let creds = leaf.capabilities.credentials.as_slice();
    for (&t, &used_by) in in_use {
        if !creds.contains(&t) {
            return Err(TreeError::CredentialTypeUnsupported {
                leaf: l.value(),
                credential_type: t.0,
                used_by,
            });
        }
    }
    Ok(())
}

/// RFC 9420 §7.2, §7.3: `VerifyWithLabel(signature_key, "LeafNodeTBS", LeafNodeTBS,
/// signature)`, with `group_id` and the leaf index as context for `update`/`commit` leaves.
///
/// # Errors
/// [`TreeError::BadLeafSignature`].
pub(crate) fn verify_leaf_signature(
    ops: &dyn SuiteOps,
    group_id: &[u8],
    l: LeafIndex,
    leaf: &LeafNode,
) -> Result<(), TreeError> {
    let tbs = leaf.tbs_bytes(group_id, l.value())?;
    verify_with_label(
        ops,
        &leaf.signature_key,
        b"LeafNodeTBS",
        &tbs,
        leaf.signature.as_slice(),
    )
    .map_err(|_| TreeError::BadLeafSignature { leaf: l.value() })
}

/// RFC 9420 §7.2, §7.3: the lifetime of a key-package leaf under `policy`.
///
/// # Errors
/// [`TreeError::LifetimeExpired`], [`TreeError::LifetimeTooLong`].
pub(crate) fn check_leaf_lifetime(
    policy: LifetimePolicy,
    l: LeafIndex,
    leaf: &LeafNode,
) -> Result<(), TreeError> {
    let LeafNodeSource::KeyPackage(lifetime) = &leaf.leaf_node_source else {
        return Ok(());
    };
    policy.check(lifetime).map_err(|e| match e {
        LifetimeError::TooLong { .. } => TreeError::LifetimeTooLong { leaf: l.value() },
        // An inverted lifetime contains no time: never valid.
        LifetimeError::Outside { .. } | LifetimeError::Inverted => {
            TreeError::LifetimeExpired { leaf: l.value() }
        }
    })
}

/// RFC 9420 §7.2, §7.3, §11.1: a leaf's own extensions and credential type are listed in its
/// capabilities, and it has the group's required capabilities. Default extension and proposal
/// types are exempt: §7.2 says they MUST NOT be listed.
///
/// # Errors
/// [`TreeError::UnsupportedExtension`], [`TreeError::OwnCredentialUnsupported`],
/// [`TreeError::MissingRequiredCapability`].
pub(crate) fn check_leaf_capabilities(
    l: LeafIndex,
    leaf: &LeafNode,
    required: Option<&RequiredCapabilities>,
) -> Result<(), TreeError> {
    let caps = &leaf.capabilities;
    for e in leaf.extensions.as_slice() {
        let t = e.extension_type;
        if !is_default_extension(t) && !caps.extensions.as_slice().contains(&t) {
            return Err(TreeError::UnsupportedExtension {
                leaf: l.value(),
                extension_type: t.0,
            });
        }
    }
    let own = leaf.credential.credential_type();
    if !caps.credentials.as_slice().contains(&own) {
        return Err(TreeError::OwnCredentialUnsupported {
            leaf: l.value(),
            credential_type: own.0,
        });
    }
    if let Some(rc) = required {
        let missing = |code: u16| TreeError::MissingRequiredCapability {
            leaf: l.value(),
            code,
        };
        for &t in rc.extension_types.as_slice() {
            if !is_default_extension(t) && !caps.extensions.as_slice().contains(&t) {
                return Err(missing(t.0));
            }
        }
        for &t in rc.proposal_types.as_slice() {
            if !is_default_proposal(t) && !caps.proposals.as_slice().contains(&t) {
                return Err(missing(t.0));
            }
        }
        for &t in rc.credential_types.as_slice() {
            if !caps.credentials.as_slice().contains(&t) {
                return Err(missing(t.0));
            }
        }
    }
    Ok(())
}

fn node_index(i: usize) -> Result<NodeIndex, TreeError> {
    u32::try_from(i)
        .ok()
        .and_then(NodeIndex::new)
        .ok_or(TreeError::TooLarge { len: i })
}
