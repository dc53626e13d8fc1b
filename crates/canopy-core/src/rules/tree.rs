//! Ratchet tree rules (RFC 9420 §7.1, §7.3, §7.7, §7.9.2, §12.4.3.1): validating a whole tree
//! received from a peer ([`RatchetTree::validate`]), and the checks a commit's changes must
//! pass against the tree they change, in O(changed nodes) ([`changed_keys_unique`],
//! [`path_keys_fresh`]).

use std::collections::BTreeMap;

use canopy_crypto::{HpkePublicKey, SignatureCheck, SignaturePublicKey, SuiteOps};

use super::leaf::{CredentialTypes, LEAF_NODE_LABEL, Signature, check_leaf};
use super::{At, Detail, Rule, Violation};
use crate::key_package::{CredentialValidator, GroupRequirements, LeafNodeRole, LifetimePolicy};
use crate::tree::math::{LeafIndex, NodeIndex, direct_path};
use crate::tree::{RatchetTree, TreeDiff, TreeError, TreeRead, in_subtree};
use crate::wire::{LeafNode, Node, UpdatePath};

/// What a received tree is validated against (RFC 9420 §12.4.3.1): the group it claims to be
/// the tree of, and the application's clock and Authentication Service.
#[derive(Clone, Copy)]
pub struct TreeChecks<'a> {
    /// The group's `group_id`: the signature context of `update` and `commit` leaves.
    pub group_id: &'a [u8],
    /// The group's protocol version and GroupContext extensions.
    pub group: GroupRequirements<'a>,
    /// How `key_package` leaf lifetimes are checked.
    pub lifetime: LifetimePolicy,
    /// The application's Authentication Service, asked about every leaf's credential.
    pub validator: &'a dyn CredentialValidator,
}

impl core::fmt::Debug for TreeChecks<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TreeChecks")
            .field("group", &self.group)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl RatchetTree {
    /// RFC 9420 §12.4.3.1: validates a tree received from a peer, in this order (each failure
    /// a [`Violation`] naming the node or leaf):
    ///
    /// 1. TR-01: the tree is truncated;
    /// 2. TR-02, TR-03, TR-04: unmerged leaves are sorted, non-blank descendants, listed at
    ///    every non-blank node in between;
    /// 3. LN-12, LN-11: no encryption key in two nodes, no signature key in two leaves;
    /// 4. TR-07: parent nodes' keys are keys of the suite's KEM;
    /// 5. every leaf: the LeafNode rules (LN-, the credential validator included),
    ///    and LN-05 (it supports every credential type in use, which also gives LN-04);
    /// 6. TR-05: every non-blank parent is parent-hash valid.
    ///
    /// The tree hash (TR-06) is checked by the caller against the GroupContext. Leaf
    /// signatures are verified in batches, with the `parallel` feature on the rayon pool; the
    /// error reported is that of the lowest failing leaf.
    ///
    /// # Errors
    /// [`TreeError::Invalid`] with the first rule broken; [`TreeError::SuiteMismatch`] if
    /// `ops` is not the tree's suite.
    pub fn validate(&self, ops: &dyn SuiteOps, checks: &TreeChecks<'_>) -> Result<(), TreeError> {
        if ops.suite() != self.suite() {
            return Err(TreeError::SuiteMismatch);
        }
        truncated(self)?;
        unmerged_leaves(self)?;
        unique_keys(self)?;
        parent_keys(ops, self)?;
        leaves(self, ops, checks)?;
        crate::tree::verify_parent_hashes(self, ops)
    }
}

/// TR-01, RFC 9420 §7.7: the right subtree of the root holds a member.
pub(crate) fn truncated(tree: &RatchetTree) -> Result<(), Violation> {
    let n = tree.leaf_count().value();
    if n == 1 {
        return Ok(());
    }
    let half = n / 2;
    let occupied = (half..n)
        .filter_map(LeafIndex::new)
        .any(|l| tree.leaf(l).is_some());
    if occupied {
        Ok(())
    } else {
        Err(Violation::new(Rule::TreeTruncated).at(At::Node(
            half.saturating_sub(1).saturating_mul(2).saturating_add(1),
        )))
    }
}

/// The non-blank nodes of `tree` with their indices.
fn nodes(tree: &RatchetTree) -> impl Iterator<Item = (NodeIndex, &Node)> {
    (0..tree.leaf_count().width())
        .filter_map(NodeIndex::new)
        .filter_map(|x| tree.node(x).map(|n| (x, n)))
}

/// TR-02, TR-03, TR-04, RFC 9420 §7.1, §12.4.3.1: each parent's `unmerged_leaves` are sorted,
/// name non-blank leaves below it, and are listed at every non-blank node in between.
pub(crate) fn unmerged_leaves(tree: &RatchetTree) -> Result<(), Violation> {
    let n = tree.leaf_count();
    for (x, node) in nodes(tree) {
        let Node::Parent(p) = node else {
            continue;
        };
        let list = p.unmerged_leaves.as_slice();
        if list.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
            return Err(Violation::new(Rule::TreeUnmergedSorted).at(At::Node(x.value())));
        }
        for &u in list {
            let not_below = Violation::new(Rule::TreeUnmergedLeaf)
                .at(At::Node(x.value()))
                .with(Detail::First(u));
            let leaf = LeafIndex::new(u).ok_or_else(|| not_below.clone())?;
            if !n.contains(leaf) || !in_subtree(leaf.node(), x) || tree.leaf(leaf).is_none() {
                return Err(not_below);
            }
            let path = direct_path(leaf.node(), n).ok_or(not_below)?;
            for y in path.into_iter().take_while(|&y| y != x) {
                if let Some(q) = tree.parent_node(y)
                    && q.unmerged_leaves.as_slice().binary_search(&u).is_err()
                {
                    return Err(Violation::new(Rule::TreeUnmergedChain)
                        .at(At::Node(y.value()))
                        .with(Detail::First(u)));
                }
            }
        }
    }
    Ok(())
}

/// The encryption key of a node.
pub(crate) fn node_key(node: &Node) -> &HpkePublicKey {
    match node {
        Node::Leaf(l) => &l.encryption_key,
        Node::Parent(p) => &p.encryption_key,
    }
}

/// LN-12, LN-11, RFC 9420 §7.3, §12.4.3.1: no encryption key in two nodes, no signature key
/// in two leaves.
pub(crate) fn unique_keys(tree: &RatchetTree) -> Result<(), Violation> {
    let mut enc: BTreeMap<&HpkePublicKey, u32> = BTreeMap::new();
    let mut sig: BTreeMap<&SignaturePublicKey, u32> = BTreeMap::new();
    for (x, node) in nodes(tree) {
        if let (Node::Leaf(leaf), Some(l)) = (node, x.leaf()) {
            if let Some(&first) = sig.get(&leaf.signature_key) {
                return Err(duplicate_signature_key(l.value(), first));
            }
            sig.insert(&leaf.signature_key, l.value());
        }
        let key = node_key(node);
        if let Some(&first) = enc.get(key) {
            return Err(duplicate_encryption_key(x.value(), first));
        }
        enc.insert(key, x.value());
    }
    Ok(())
}

fn duplicate_signature_key(leaf: u32, first: u32) -> Violation {
    Violation::new(Rule::LeafSignatureKeyUnique)
        .at(At::Leaf(leaf))
        .with(Detail::First(first))
}

fn duplicate_encryption_key(node: u32, first: u32) -> Violation {
    Violation::new(Rule::LeafEncryptionKeyUnique)
        .at(At::Node(node))
        .with(Detail::First(first))
}

/// TR-07, RFC 9420 §5.1.1: every parent node's encryption key is a key of the suite's KEM.
pub(crate) fn parent_keys(ops: &dyn SuiteOps, tree: &RatchetTree) -> Result<(), Violation> {
    for (x, node) in nodes(tree) {
        if let Node::Parent(p) = node {
            crate::crypto::check_hpke_public_key(ops, &p.encryption_key).map_err(|d| {
                Violation::new(Rule::TreeNodeKeyValid)
                    .at(At::Node(x.value()))
                    .with(d)
            })?;
        }
    }
    Ok(())
}

/// At most how many leaf signatures (and, in `framing::verify_all`, content signatures) are
/// handed to [`SuiteOps::verify_batch`] at once (with the `parallel` feature, `batch_len`
/// sizes the batches, each a unit of work). A backend may batch
/// them only if a batch accepts nothing that one `verify` each would refuse (the rustcrypto
/// backend batches Ed25519 under its cofactored rule); a failed batch is re-checked one by one,
/// which decides, and names the lowest bad leaf.
pub(crate) const SIGNATURE_BATCH: usize = 256;

/// The smallest batch [`batch_len`] makes (below it a batch saves little).
#[cfg(feature = "parallel")]
const MIN_SIGNATURE_BATCH: usize = 8;

/// The batch length for `n` leaf signatures on `threads` threads: at most
/// [`SIGNATURE_BATCH`], and as many batches as a multiple of the threads, so that every
/// thread gets work (at n = 100 on two cores, two batches of 50, not one of 100 on one core).
#[cfg(feature = "parallel")]
pub(crate) fn batch_len(n: usize, threads: usize) -> usize {
    let threads = threads.max(1);
    let batches = n
        .div_ceil(SIGNATURE_BATCH)
        .max(threads)
        .div_ceil(threads)
        .saturating_mul(threads);
    n.div_ceil(batches)
        .clamp(MIN_SIGNATURE_BATCH, SIGNATURE_BATCH)
}

/// RFC 9420 §7.3 for every leaf of a received tree, possibly in parallel; the lowest failing
/// leaf's violation wins.
fn leaves(
    tree: &RatchetTree,
    ops: &dyn SuiteOps,
    checks: &TreeChecks<'_>,
) -> Result<(), Violation> {
    let leaves: Vec<(LeafIndex, &LeafNode)> = (0..tree.leaf_count().value())
        .filter_map(LeafIndex::new)
        .filter_map(|l| tree.leaf(l).map(|n| (l, n)))
        .collect();
    let types = CredentialTypes::of(leaves.iter().map(|(l, leaf)| (l.value(), *leaf)));
    let check = |chunk: &[(LeafIndex, &LeafNode)]| check_chunk(ops, checks, &types, chunk);
    #[cfg(feature = "parallel")]
    if leaves.len() >= crate::parallel::LEAF_SIGNATURES {
        use rayon::prelude::*;
        let batch = batch_len(leaves.len(), rayon::current_num_threads());
        let results: Vec<Result<(), Violation>> = leaves.par_chunks(batch).map(check).collect();
        return results.into_iter().collect();
    }
    // In order, so the first failing chunk is the lowest one.
    leaves.chunks(SIGNATURE_BATCH).try_for_each(check)
}

/// The checks of consecutive leaves, their signatures verified as one batch; if the batch
/// fails, one by one, so that the violation names the lowest bad leaf.
fn check_chunk(
    ops: &dyn SuiteOps,
    checks: &TreeChecks<'_>,
    types: &CredentialTypes,
    chunk: &[(LeafIndex, &LeafNode)],
) -> Result<(), Violation> {
    let contents = chunk
        .iter()
        .map(|(l, leaf)| {
            let tbs = leaf
                .tbs_bytes(checks.group_id, l.value())
                .map_err(|_| Violation::new(Rule::LeafSignature).at(At::Leaf(l.value())))?;
            crate::crypto::sign_content(LEAF_NODE_LABEL, &tbs)
                .map_err(|_| Violation::new(Rule::LeafSignature).at(At::Leaf(l.value())))
        })
        .collect::<Result<Vec<Vec<u8>>, Violation>>()?;
    let batch: Vec<SignatureCheck<'_>> = chunk
        .iter()
        .zip(&contents)
        .map(|((_, leaf), content)| SignatureCheck {
            public_key: &leaf.signature_key,
            message: content,
            signature: leaf.signature.as_slice(),
        })
        .collect();
    let signatures = if ops.verify_batch(&batch).is_ok() {
        Signature::Verified
    } else {
        Signature::Verify
    };
    for &(l, leaf) in chunk {
        let role = LeafNodeRole::TreeMember {
            group_id: checks.group_id,
            leaf_index: l.value(),
        };
        let at = At::Leaf(l.value());
        check_leaf(
            ops,
            leaf,
            role,
            &checks.group,
            &checks.lifetime,
            checks.validator,
            signatures,
        )
        .map_err(|v| v.at(at))?;
        types.check_supports_all(leaf).map_err(|v| v.at(at))?;
    }
    Ok(())
}

/// The keys the changes of `diff` put in the tree, indexed once (O(c log c) for `c` changed
/// nodes), to look up whether a key is new.
struct ChangedKeys<'d> {
    encryption: BTreeMap<&'d HpkePublicKey, NodeIndex>,
    signature: BTreeMap<&'d SignaturePublicKey, LeafIndex>,
}

/// LN-12, LN-11, RFC 9420 §7.3, §12.2 ("after processing the Commit the ratchet tree is
/// invalid"): the tree after `diff` has no encryption key in two nodes and no signature key in
/// two leaves. Only the changed nodes are looked at, each against the others and against the
/// base tree's key indexes: O(c log n) for `c` changed nodes, whatever the group size.
pub(crate) fn changed_keys_unique(diff: &TreeDiff<'_>) -> Result<(), Violation> {
    let mut changed = ChangedKeys {
        encryption: BTreeMap::new(),
        signature: BTreeMap::new(),
    };
    let base = diff.base();
    for (x, node) in diff.changed_nodes() {
        let Some(node) = node else {
            continue;
        };
        let key = node_key(node);
        if let Some(first) = changed.encryption.insert(key, x) {
            return Err(duplicate_encryption_key(x.value(), first.value()));
        }
        // A base node holding the key conflicts unless the diff replaced it (then it is one
        // of the changed nodes, checked above) or it is this node.
        if let Some(holder) = base.find_encryption_key(key)
            && holder != x
            && diff.node(holder).is_some_and(|n| node_key(n) == key)
        {
            return Err(duplicate_encryption_key(x.value(), holder.value()));
        }
        let (Node::Leaf(leaf), Some(l)) = (node, x.leaf()) else {
            continue;
        };
        if let Some(first) = changed.signature.insert(&leaf.signature_key, l) {
            return Err(duplicate_signature_key(l.value(), first.value()));
        }
        if let Some(holder) = base.find_signature_key(&leaf.signature_key)
            && holder != l
            && diff
                .leaf(holder)
                .is_some_and(|n| n.signature_key == leaf.signature_key)
        {
            return Err(duplicate_signature_key(l.value(), holder.value()));
        }
    }
    Ok(())
}

/// CM-19, RFC 9420 §12.4.2: none of the public keys of `path` (its leaf's and its nodes') is
/// in the tree of `diff` (after the commit's proposals, before the path is merged), nor twice
/// in the path. O(p log n) for a path of `p` keys.
pub(crate) fn path_keys_fresh(diff: &TreeDiff<'_>, path: &UpdatePath) -> Result<(), Violation> {
    let mut seen: Vec<&HpkePublicKey> = Vec::with_capacity(path.nodes.len().saturating_add(1));
    let keys = core::iter::once(&path.leaf_node.encryption_key)
        .chain(path.nodes.as_slice().iter().map(|n| &n.encryption_key));
    for key in keys {
        let stale = Violation::new(Rule::CommitPathFreshKeys);
        if seen.contains(&key) {
            return Err(stale);
        }
        seen.push(key);
        if let Some(holder) = key_holder(diff, key) {
            return Err(stale.at(At::Node(holder.value())));
        }
    }
    Ok(())
}

/// The node of `diff`'s tree that holds `key`: the base index for unchanged nodes, the
/// changes otherwise.
fn key_holder(diff: &TreeDiff<'_>, key: &HpkePublicKey) -> Option<NodeIndex> {
    if let Some(x) = diff.base().find_encryption_key(key)
        && diff.node(x).is_some_and(|n| node_key(n) == key)
    {
        return Some(x);
    }
    diff.changed_node_with_key(key)
}

#[cfg(all(test, feature = "parallel"))]
mod tests {
    use super::{MIN_SIGNATURE_BATCH, SIGNATURE_BATCH, batch_len};

    #[test]
    fn every_thread_gets_a_batch_and_none_is_over_the_limit() {
        assert_eq!(batch_len(100, 2), 50);
        assert_eq!(batch_len(1_000, 2), 250);
        assert_eq!(batch_len(10_000, 2), 250);
        assert_eq!(batch_len(10_000, 1), 250);
        assert_eq!(batch_len(3, 2), MIN_SIGNATURE_BATCH);
        assert_eq!(batch_len(0, 0), MIN_SIGNATURE_BATCH);
        for n in [1, 7, 99, 257, 513, 4_099, 50_000] {
            for threads in [1, 2, 3, 8] {
                let len = batch_len(n, threads);
                assert!(
                    (MIN_SIGNATURE_BATCH..=SIGNATURE_BATCH).contains(&len),
                    "{n} {threads}"
                );
                // Enough batches for every thread, once there are enough leaves.
                if n >= MIN_SIGNATURE_BATCH * threads {
                    assert!(n.div_ceil(len) >= threads, "{n} {threads}: {len}");
                }
            }
        }
    }
}
