//! The public ratchet tree (RFC 9420 §4.1, §7): an array of optional nodes in the order of
//! Appendix C, always padded to the full width `2 * n_leaves - 1`, with a cached tree hash for
//! every node (§7.8) and indexes of the leaves that are blank and of the keys in use.
//!
//! Invariants, established by the constructors and kept by [`RatchetTree::merge`]:
//! - `nodes.len() == resolution_len.len() == leaf_count.width()`, and `hashes` holds that many
//!   hashes;
//! - `hashes[x]` is the tree hash of node `x` in the current tree, and `resolution_len[x]` the
//!   length of its resolution (§4.1.2; zero exactly when its subtree is all blank);
//! - `blank_leaves` holds exactly the blank leaves;
//! - `encryption_keys` / `signature_keys` map every key in use to a node (the first one that
//!   holds it when a received tree has duplicates, which validation rejects).
//!
//! The tree is only changed through a [`TreeDiff`] staged into a [`StagedTree`] and merged in
//! O(changed nodes), so a Commit never clones the tree.

use std::collections::{BTreeMap, BTreeSet};

use canopy_crypto::{CipherSuite, HpkePublicKey, SignaturePublicKey, SuiteOps};

use super::diff::{StagedTree, TreeDiff};
use super::error::TreeError;
use super::hash::{HashStore, all_tree_hashes, leaf_tree_hash, parent_tree_hash};
use super::math::{LeafCount, LeafIndex, NodeIndex, left, right, root};
use super::view::{TreeRead, in_subtree, ix, resolved_len};
use crate::wire::{self, Node};

/// The public state of a ratchet tree with cached tree hashes (RFC 9420 §4.1, §7.8).
#[derive(Clone, Debug)]
pub struct RatchetTree {
    suite: CipherSuite,
    leaf_count: LeafCount,
    nodes: Vec<Option<Node>>,
    /// One tree hash per node, `hash_len` bytes each, in one buffer.
    hashes: HashStore,
    /// `resolution_len[x]`: the length of the resolution of `x` (RFC 9420 §4.1.2), kept up to
    /// date on merge in O(changed nodes) so that an UpdatePath's ciphertext counts are
    /// checked without walking the copath subtrees.
    resolution_len: Vec<u32>,
    blank_leaves: BTreeSet<u32>,
    encryption_keys: BTreeMap<HpkePublicKey, NodeIndex>,
    signature_keys: BTreeMap<SignaturePublicKey, LeafIndex>,
    generation: u64,
}

impl RatchetTree {
    /// RFC 9420 §11: the tree of a new group, holding only the creator's `leaf`.
    ///
    /// # Errors
    /// [`TreeError::Codec`] if the leaf cannot be encoded for hashing.
    pub fn new(ops: &dyn SuiteOps, leaf: wire::LeafNode) -> Result<Self, TreeError> {
        Self::from_nodes(ops, vec![Some(Node::leaf(leaf))])
    }

    /// RFC 9420 §12.4.3.3: the tree carried by a `ratchet_tree` extension, padded with blank
    /// nodes to the full width and every node hashed. The tree is *not* validated: call
    /// [`RatchetTree::validate`] on a tree received from a peer.
    ///
    /// Cost: O(width) time and memory, whatever the input: the width is the next power of two
    /// of [`wire::RatchetTree::leaf_count`] times two, minus one, and every node of it is
    /// hashed and takes `16 + hash_len + 4` bytes (a blank node's share) besides the
    /// non-blank nodes themselves. Check the leaf count against the application's
    /// [`Limits`](crate::codec::Limits) before calling this on a peer's tree.
    ///
    /// # Errors
    /// [`TreeError::TooLarge`] for more than 2^31 leaves; [`TreeError::Codec`] if a node
    /// cannot be encoded for hashing.
    pub fn from_wire(ops: &dyn SuiteOps, tree: wire::RatchetTree) -> Result<Self, TreeError> {
        let len = tree.node_count();
        let leaf_count = covering(len)?;
        let mut nodes: Vec<Option<Node>> = vec![None; ix_width(leaf_count)];
        for (index, node) in tree.into_non_blank() {
            let slot = usize::try_from(index)
                .ok()
                .and_then(|i| nodes.get_mut(i))
                .ok_or(TreeError::TooLarge { len })?;
            *slot = Some(node);
        }
        Self::padded(ops, nodes, leaf_count)
    }

    /// RFC 9420 §12.4.3.3: a tree from its nodes in array order, trailing blanks stripped;
    /// pads to the smallest full width (`2^(d+1) - 1` entries) and hashes every node.
    ///
    /// # Errors
    /// [`TreeError::Empty`], [`TreeError::TrailingBlank`], [`TreeError::MisplacedNode`] (a
    /// node type at the wrong parity), [`TreeError::TooLarge`].
    pub fn from_nodes(ops: &dyn SuiteOps, mut nodes: Vec<Option<Node>>) -> Result<Self, TreeError> {
        let len = nodes.len();
        match nodes.last() {
            None => return Err(TreeError::Empty),
            Some(None) => return Err(TreeError::TrailingBlank),
            Some(Some(_)) => {}
        }
        for (i, node) in nodes.iter().enumerate() {
            let even = i % 2 == 0;
            let misplaced = match node {
                Some(Node::Leaf(_)) => !even,
                Some(Node::Parent(_)) => even,
                None => false,
            };
            if misplaced {
                return Err(TreeError::MisplacedNode {
                    node: u32::try_from(i).map_err(|_| TreeError::TooLarge { len })?,
                });
            }
        }
        let leaf_count = covering(len)?;
        nodes.resize(ix_width(leaf_count), None);
        Self::padded(ops, nodes, leaf_count)
    }

    /// The tree of `nodes`, which has the full width of `leaf_count`: hashes every node and
    /// builds the indexes.
    fn padded(
        ops: &dyn SuiteOps,
        nodes: Vec<Option<Node>>,
        leaf_count: LeafCount,
    ) -> Result<Self, TreeError> {
        let hashes = all_tree_hashes(ops, &nodes, leaf_count)?;
        let width = nodes.len();
        let mut tree = Self {
            suite: ops.suite(),
            leaf_count,
            nodes,
            hashes,
            resolution_len: vec![0; width],
            blank_leaves: BTreeSet::new(),
            encryption_keys: BTreeMap::new(),
            signature_keys: BTreeMap::new(),
            generation: 0,
        };
        tree.rebuild_indexes();
        let mut all: Vec<NodeIndex> = (0..width)
            .filter_map(|i| u32::try_from(i).ok().and_then(NodeIndex::new))
            .collect();
        all.sort_by_key(|x| x.level());
        tree.refresh_resolution_len(all);
        Ok(tree)
    }

    /// Applies a staged diff in O(changed nodes): node contents, cached hashes and indexes.
    ///
    /// # Errors
    /// [`TreeError::StaleDiff`] if `staged` was made from another state of this tree; the
    /// tree is then unchanged.
    pub fn merge(&mut self, staged: StagedTree) -> Result<(), TreeError> {
        if staged.base_generation != self.generation || staged.suite != self.suite {
            return Err(TreeError::StaleDiff);
        }
        // Nodes at or beyond `min_width` were dropped by a truncation inside the diff.
        let keep = staged.min_width.min(self.nodes.len());
        for x in keep..self.nodes.len() {
            self.unindex(x);
        }
        self.nodes.truncate(keep);
        self.resolution_len.truncate(keep);
        let width = ix_width(staged.leaf_count);
        // Cannot fail: a store of `width` hashes existed or fits (`width` is a tree width).
        self.hashes.resize(keep)?;
        self.hashes.resize(width)?;
        self.nodes.resize(width, None);
        self.resolution_len.resize(width, 0);
        let old_count = self.leaf_count.value();
        self.leaf_count = staged.leaf_count;
        let new_count = staged.leaf_count.value();
        if new_count < old_count {
            self.blank_leaves.retain(|&l| l < new_count);
        }
        // Leaves that came back into the tree (past a truncation or from an extension) start
        // blank; `changes` below fills the ones that are not.
        let first_new = u32::try_from(keep.saturating_add(1) / 2).unwrap_or(u32::MAX);
        self.blank_leaves.extend(first_new..new_count);
        for (x, node) in staged.changes {
            let i = ix(x);
            if i >= width {
                continue;
            }
            self.unindex(i);
            if let Some(slot) = self.nodes.get_mut(i) {
                *slot = node;
            }
            self.index(i);
        }
        // The staged hashes cover exactly the nodes whose subtree changed (and any new
        // region), which are also the nodes whose resolution may have changed.
        let mut touched: Vec<NodeIndex> = Vec::with_capacity(staged.hashes.len());
        for (x, h) in staged.hashes {
            if self.hashes.set(x, &h).is_ok() {
                touched.push(x);
            }
        }
        touched.sort_by_key(|x| x.level());
        self.refresh_resolution_len(touched);
        self.generation = self.generation.wrapping_add(1);
        Ok(())
    }

    /// A diff over this tree, to stage changes without touching the tree.
    pub fn diff(&self) -> TreeDiff<'_> {
        TreeDiff::new(self)
    }

    /// The cipher suite the cached hashes were computed with.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// RFC 9420 §7.8: the tree hash of the root (cached).
    pub fn tree_hash(&self) -> &[u8] {
        self.node_hash(root(self.leaf_count)).unwrap_or(&[])
    }

    /// RFC 9420 §7.8: the cached tree hash of node `x`, or `None` outside the tree.
    pub fn node_hash(&self, x: NodeIndex) -> Option<&[u8]> {
        self.hashes.get(x)
    }

    /// RFC 9420 §7.8: recomputes the root tree hash from scratch, ignoring the cache (for
    /// tests and audits).
    ///
    /// # Errors
    /// [`TreeError::Codec`] if a node cannot be encoded.
    pub fn tree_hash_from_scratch(&self, ops: &dyn SuiteOps) -> Result<Vec<u8>, TreeError> {
        let hashes = all_tree_hashes(ops, &self.nodes, self.leaf_count)?;
        Ok(hashes
            .get(root(self.leaf_count))
            .map(<[u8]>::to_vec)
            .unwrap_or_default())
    }

    /// RFC 9420 §12.4.3.3: the tree as carried in a `ratchet_tree` extension, trailing blank
    /// nodes stripped.
    ///
    /// # Errors
    /// [`TreeError::Empty`] if every node is blank.
    pub fn to_wire(&self) -> Result<wire::RatchetTree, TreeError> {
        let mut nodes = Vec::new();
        for (i, node) in self.nodes.iter().enumerate() {
            if let Some(node) = node {
                let at = u32::try_from(i).map_err(|_| TreeError::TooLarge { len: i })?;
                nodes.push((at, node.clone()));
            }
        }
        if nodes.is_empty() {
            return Err(TreeError::Empty);
        }
        Ok(wire::RatchetTree::from_indexed(nodes)?)
    }

    /// All nodes in array order, padded to the full width.
    pub fn nodes(&self) -> &[Option<Node>] {
        &self.nodes
    }

    /// RFC 9420 §7.7: the leftmost blank leaf, if any (from the index, O(log n)).
    pub fn leftmost_blank_leaf(&self) -> Option<LeafIndex> {
        self.blank_leaves.first().copied().and_then(LeafIndex::new)
    }

    /// The number of non-blank leaves (members).
    pub fn member_count(&self) -> u32 {
        let blank = u32::try_from(self.blank_leaves.len()).unwrap_or(u32::MAX);
        self.leaf_count.value().saturating_sub(blank)
    }

    /// RFC 9420 §7.3: the node holding `key` as its encryption key, if any (O(log n)).
    pub fn find_encryption_key(&self, key: &HpkePublicKey) -> Option<NodeIndex> {
        self.encryption_keys.get(key).copied()
    }

    /// RFC 9420 §7.3: the leaf holding `key` as its signature key, if any (O(log n)).
    pub fn find_signature_key(&self, key: &SignaturePublicKey) -> Option<LeafIndex> {
        self.signature_keys.get(key).copied()
    }

    /// RFC 9420 §7.9: the tree hash of `x` with the leaves in `excluded` (sorted) blanked and
    /// removed from every parent's `unmerged_leaves` (the "original sibling tree hash").
    /// Subtrees without excluded leaves use the cache, so the cost is
    /// O(|excluded| * log n) hashes.
    ///
    /// # Errors
    /// [`TreeError::Codec`] if a node cannot be encoded.
    pub(crate) fn tree_hash_excluding(
        &self,
        ops: &dyn SuiteOps,
        x: NodeIndex,
        excluded: &[LeafIndex],
    ) -> Result<Vec<u8>, TreeError> {
        if !excluded.iter().any(|l| in_subtree(l.node(), x)) {
            return self
                .node_hash(x)
                .map(<[u8]>::to_vec)
                .ok_or(TreeError::Internal("node outside the tree"));
        }
        if let Some(leaf) = x.leaf() {
            // The only leaf of this subtree is excluded.
            return leaf_tree_hash(ops, leaf, None);
        }
        let (l, r) = left(x)
            .zip(right(x))
            .ok_or(TreeError::Internal("parent without children"))?;
        let lh = self.tree_hash_excluding(ops, l, excluded)?;
        let rh = self.tree_hash_excluding(ops, r, excluded)?;
        let parent = self.parent_node(x).map(|p| {
            let mut p = p.clone();
            p.unmerged_leaves
                .0
                .retain(|&u| LeafIndex::new(u).is_none_or(|u| excluded.binary_search(&u).is_err()));
            p
        });
        parent_tree_hash(ops, parent.as_ref(), &lh, &rh)
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// A stored tree (group state records): [`RatchetTree::from_wire`] with the merge counter
    /// that staged diffs of this tree were made against. Rehashes every node: O(n).
    ///
    /// # Errors
    /// As [`RatchetTree::from_nodes`].
    pub(crate) fn from_stored(
        ops: &dyn SuiteOps,
        tree: wire::RatchetTree,
        generation: u64,
    ) -> Result<Self, TreeError> {
        let mut restored = Self::from_wire(ops, tree)?;
        restored.generation = generation;
        Ok(restored)
    }

    pub(crate) fn blank_leaves_from(&self, from: u32) -> impl Iterator<Item = u32> + '_ {
        self.blank_leaves.range(from..).copied()
    }

    pub(crate) fn width(&self) -> usize {
        self.nodes.len()
    }

    /// Recomputes `resolution_len` for `nodes`, which must be sorted by level (children
    /// first).
    fn refresh_resolution_len(&mut self, nodes: Vec<NodeIndex>) {
        for x in nodes {
            let value = match resolved_len(x, self.node(x), &[]) {
                Some(len) => u32::try_from(len).unwrap_or(u32::MAX),
                None => {
                    let below = |c: Option<NodeIndex>| {
                        c.and_then(|c| self.resolution_len.get(ix(c)).copied())
                            .unwrap_or(0)
                    };
                    below(left(x)).saturating_add(below(right(x)))
                }
            };
            if let Some(slot) = self.resolution_len.get_mut(ix(x)) {
                *slot = value;
            }
        }
    }

    pub(crate) fn is_occupied(&self, x: NodeIndex) -> bool {
        self.resolution_len.get(ix(x)).is_some_and(|&n| n > 0)
    }

    fn rebuild_indexes(&mut self) {
        self.blank_leaves.clear();
        self.encryption_keys.clear();
        self.signature_keys.clear();
        for i in (0..self.nodes.len()).step_by(2) {
            if matches!(self.nodes.get(i), Some(None)) {
                self.blank_leaves
                    .insert(u32::try_from(i / 2).unwrap_or(u32::MAX));
            }
        }
        for i in 0..self.nodes.len() {
            self.index(i);
        }
    }

    /// Adds node `i` to the key indexes and the blank-leaf set.
    fn index(&mut self, i: usize) {
        let Some(x) = u32::try_from(i).ok().and_then(NodeIndex::new) else {
            return;
        };
        match self.nodes.get(i) {
            Some(Some(Node::Leaf(leaf))) => {
                if let Some(l) = x.leaf() {
                    self.blank_leaves.remove(&l.value());
                    self.signature_keys
                        .entry(leaf.signature_key.clone())
                        .or_insert(l);
                }
                self.encryption_keys
                    .entry(leaf.encryption_key.clone())
                    .or_insert(x);
            }
            Some(Some(Node::Parent(p))) => {
                self.encryption_keys
                    .entry(p.encryption_key.clone())
                    .or_insert(x);
            }
            Some(None) => {
                if let Some(l) = x.leaf() {
                    self.blank_leaves.insert(l.value());
                }
            }
            None => {}
        }
    }

    /// Removes node `i` from the key indexes (where they point at it).
    fn unindex(&mut self, i: usize) {
        let Some(x) = u32::try_from(i).ok().and_then(NodeIndex::new) else {
            return;
        };
        let (enc, sig) = match self.nodes.get(i) {
            Some(Some(Node::Leaf(leaf))) => (
                Some(leaf.encryption_key.clone()),
                Some(leaf.signature_key.clone()),
            ),
            Some(Some(Node::Parent(p))) => (Some(p.encryption_key.clone()), None),
            _ => (None, None),
        };
        if let Some(k) = enc
            && self.encryption_keys.get(&k) == Some(&x)
        {
            self.encryption_keys.remove(&k);
        }
        if let (Some(k), Some(l)) = (sig, x.leaf())
            && self.signature_keys.get(&k) == Some(&l)
        {
            self.signature_keys.remove(&k);
        }
        if let Some(l) = x.leaf() {
            self.blank_leaves.remove(&l.value());
        }
    }
}

impl TreeRead for RatchetTree {
    fn leaf_count(&self) -> LeafCount {
        self.leaf_count
    }

    fn node(&self, x: NodeIndex) -> Option<&Node> {
        self.nodes.get(ix(x)).and_then(Option::as_ref)
    }

    fn resolution_is_empty(&self, x: NodeIndex) -> bool {
        !self.is_occupied(x)
    }

    /// From the cached length, less the excluded leaves the resolution of `x` holds (each
    /// found by a walk down from `x`): O(depth) per excluded leaf below `x`.
    fn resolution_len_excluding(&self, x: NodeIndex, excluded: &[LeafIndex]) -> usize {
        let cached = self
            .resolution_len
            .get(ix(x))
            .map_or(0, |&n| usize::try_from(n).unwrap_or(usize::MAX));
        let below = excluded_below(x, excluded);
        let dropped = below
            .iter()
            .map(|&l| self.times_resolved(x, l))
            .fold(0usize, usize::saturating_add);
        cached.saturating_sub(dropped)
    }
}

/// The part of the sorted `excluded` that lies in the subtree of `x`.
fn excluded_below(x: NodeIndex, excluded: &[LeafIndex]) -> &[LeafIndex] {
    // The leaves below `x` are the contiguous run whose nodes are within 2^level - 1 of it.
    let span = 1u32
        .checked_shl(x.level())
        .map_or(u32::MAX, |w| w.saturating_sub(1));
    let first = x.value().saturating_sub(span) / 2;
    let last = x.value().saturating_add(span) / 2;
    let start = excluded.partition_point(|l| l.value() < first);
    let end = excluded.partition_point(|l| l.value() <= last);
    excluded.get(start..end.max(start)).unwrap_or_default()
}

impl RatchetTree {
    /// How many times leaf `l` (in the subtree of `x`) appears in the resolution of `x`: at
    /// the first non-blank node on the way down from `x`, as that leaf itself or among its
    /// unmerged leaves.
    fn times_resolved(&self, x: NodeIndex, l: LeafIndex) -> usize {
        let target = l.node();
        let mut y = x;
        loop {
            match self.node(y) {
                Some(Node::Leaf(_)) => return usize::from(y == target),
                Some(Node::Parent(p)) => {
                    return p
                        .unmerged_leaves
                        .as_slice()
                        .iter()
                        .filter(|&&u| u == l.value())
                        .count();
                }
                None => {
                    let next = [left(y), right(y)]
                        .into_iter()
                        .flatten()
                        .find(|&c| in_subtree(target, c));
                    match next {
                        Some(c) => y = c,
                        None => return 0,
                    }
                }
            }
        }
    }
}

/// RFC 9420 §12.4.3.3: the leaf count of the smallest full tree holding `len` nodes.
fn covering(len: usize) -> Result<LeafCount, TreeError> {
    // The smallest n with 2n - 1 >= len is ceil((len + 1) / 2) = (len + 2) / 2.
    u32::try_from(len.saturating_add(2) / 2)
        .ok()
        .and_then(LeafCount::covering)
        .ok_or(TreeError::TooLarge { len })
}

/// The full width of a tree as a `usize`.
pub(crate) fn ix_width(n: LeafCount) -> usize {
    usize::try_from(n.width()).unwrap_or(usize::MAX)
}
