//! Staged changes to a ratchet tree (RFC 9420 §7.7, §12.1): a [`TreeDiff`] overlays changed
//! nodes on a borrowed [`RatchetTree`] and never mutates it; [`TreeDiff::stage`] turns it into
//! an owned [`StagedTree`] that [`RatchetTree::merge`] applies in O(changed nodes).
//!
//! Tree hashes in a diff are memoized per node. A node is *dirty* when a node of its subtree
//! changed (or it lies past the base tree's width); clean nodes take the base tree's cached
//! hash. So hashing after an UpdatePath costs O(log n) hashes, and after an Add or Remove
//! O(log n) too, except when the tree doubles (the new blank half must be hashed once).

use std::collections::{BTreeMap, BTreeSet};

use canopy_crypto::{CipherSuite, SuiteOps};

use super::error::TreeError;
use super::hash::{leaf_tree_hash, parent_tree_hash};
use super::math::{LeafCount, LeafIndex, NodeIndex, direct_path, left, right, root};
use super::ratchet::{RatchetTree, ix_width};
use super::view::{TreeRead, ix, resolution_len_at, resolve_node};
use crate::codec::VarVec;
use crate::wire::{LeafNode, Node, ParentNode};

/// Pending changes to a [`RatchetTree`] (RFC 9420 §7.7, §12.1, §7.5), read through as if
/// applied. The base tree is borrowed and never modified.
#[derive(Debug)]
pub struct TreeDiff<'a> {
    base: &'a RatchetTree,
    leaf_count: LeafCount,
    /// The smallest width this diff truncated to: base nodes at or past it are gone.
    min_width: usize,
    changes: BTreeMap<NodeIndex, Option<Node>>,
    dirty: BTreeSet<NodeIndex>,
    hashes: BTreeMap<NodeIndex, Vec<u8>>,
    /// Leaves made blank by this diff (removed, or new from an extension).
    blank: BTreeSet<u32>,
    /// Leaves filled by this diff.
    filled: BTreeSet<u32>,
    /// Base blank leaves below this were filled (Adds fill from the left).
    base_cursor: u32,
}

/// A [`TreeDiff`] with every changed tree hash computed, detached from the base tree so it can
/// be stored until the Commit is confirmed; apply it with [`RatchetTree::merge`].
#[derive(Clone, Debug)]
#[must_use = "a staged tree changes nothing until it is merged"]
pub struct StagedTree {
    pub(crate) suite: CipherSuite,
    pub(crate) base_generation: u64,
    pub(crate) leaf_count: LeafCount,
    pub(crate) min_width: usize,
    pub(crate) changes: BTreeMap<NodeIndex, Option<Node>>,
    pub(crate) hashes: BTreeMap<NodeIndex, Vec<u8>>,
    pub(crate) tree_hash: Vec<u8>,
}

impl StagedTree {
    /// RFC 9420 §7.8: the root tree hash of the tree after the merge.
    pub fn tree_hash(&self) -> &[u8] {
        &self.tree_hash
    }

    /// The number of nodes this merge writes.
    pub fn changed_nodes(&self) -> usize {
        self.changes.len()
    }

    /// The number of tree hashes this diff recomputed (the nodes whose subtree changed, plus
    /// any new region): O(log n) for an UpdatePath.
    pub fn rehashed_nodes(&self) -> usize {
        self.hashes.len()
    }
}

impl<'a> TreeDiff<'a> {
    pub(crate) fn new(base: &'a RatchetTree) -> Self {
        Self {
            base,
            leaf_count: base.leaf_count(),
            min_width: base.width(),
            changes: BTreeMap::new(),
            dirty: BTreeSet::new(),
            hashes: BTreeMap::new(),
            blank: BTreeSet::new(),
            filled: BTreeSet::new(),
            base_cursor: 0,
        }
    }

    /// RFC 9420 §12.1.1: adds `leaf` at the leftmost blank leaf, extending the tree if there
    /// is none, and lists it as unmerged at every non-blank parent on its direct path.
    ///
    /// # Errors
    /// [`TreeError::TooLarge`] if the tree cannot grow.
    pub fn add_leaf(&mut self, leaf: LeafNode) -> Result<LeafIndex, TreeError> {
        let at = match self.leftmost_blank_leaf() {
            Some(l) => l,
            None => {
                let old = self.leaf_count.value();
                self.extend()?;
                LeafIndex::new(old).ok_or_else(|| TreeError::TooLarge { len: self.width() })?
            }
        };
        let path = direct_path(at.node(), self.leaf_count).ok_or(TreeError::Internal("add"))?;
        for x in path {
            if let Some(p) = self.parent_node(x) {
                let mut p = p.clone();
                let u = at.value();
                if let Err(pos) = p.unmerged_leaves.0.binary_search(&u) {
                    p.unmerged_leaves.0.insert(pos, u);
                }
                self.set_node(x, Some(Node::parent(p)));
            }
        }
        self.set_node(at.node(), Some(Node::leaf(leaf)));
        Ok(at)
    }

    /// RFC 9420 §12.1.2: replaces the LeafNode of `leaf` and blanks its direct path.
    ///
    /// # Errors
    /// [`TreeError::LeafOutOfRange`], [`TreeError::BlankLeaf`].
    pub fn update_leaf(&mut self, leaf: LeafIndex, node: LeafNode) -> Result<(), TreeError> {
        self.require_member(leaf)?;
        self.blank_direct_path(leaf)?;
        self.set_node(leaf.node(), Some(Node::leaf(node)));
        Ok(())
    }

    /// RFC 9420 §12.1.3: blanks `leaf` and its direct path, then truncates the tree while the
    /// right subtree of the root holds no member.
    ///
    /// # Errors
    /// [`TreeError::LeafOutOfRange`], [`TreeError::BlankLeaf`].
    pub fn remove_leaf(&mut self, leaf: LeafIndex) -> Result<(), TreeError> {
        self.require_member(leaf)?;
        self.blank_direct_path(leaf)?;
        self.set_node(leaf.node(), None);
        self.truncate();
        Ok(())
    }

    /// RFC 9420 §7.8: the root tree hash of the tree with these changes.
    ///
    /// # Errors
    /// [`TreeError::Codec`] if a node cannot be encoded.
    pub fn tree_hash(&mut self, ops: &dyn SuiteOps) -> Result<Vec<u8>, TreeError> {
        self.node_hash(ops, root(self.leaf_count))
    }

    /// Computes every changed tree hash and detaches the changes from the base tree.
    ///
    /// # Errors
    /// [`TreeError::SuiteMismatch`] if `ops` is not the tree's suite; [`TreeError::Codec`].
    pub fn stage(mut self, ops: &dyn SuiteOps) -> Result<StagedTree, TreeError> {
        if ops.suite() != self.base.suite() {
            return Err(TreeError::SuiteMismatch);
        }
        let tree_hash = self.tree_hash(ops)?;
        let width = self.width();
        self.hashes.retain(|&x, _| ix(x) < width);
        self.changes.retain(|&x, _| ix(x) < width);
        Ok(StagedTree {
            suite: self.base.suite(),
            base_generation: self.base.generation(),
            leaf_count: self.leaf_count,
            min_width: self.min_width,
            changes: self.changes,
            hashes: self.hashes,
            tree_hash,
        })
    }

    /// The base tree.
    pub fn base(&self) -> &'a RatchetTree {
        self.base
    }

    /// RFC 9420 §7.7: the leftmost blank leaf of the tree with these changes.
    pub fn leftmost_blank_leaf(&self) -> Option<LeafIndex> {
        let n = self.leaf_count.value();
        let base_limit = u32::try_from(self.min_width.saturating_add(1) / 2).unwrap_or(u32::MAX);
        let from_base = self
            .base
            .blank_leaves_from(self.base_cursor)
            .take_while(|&l| l < base_limit)
            .find(|l| !self.filled.contains(l));
        let from_diff = self.blank.first().copied();
        let best = match (from_base, from_diff) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }?;
        if best < n { LeafIndex::new(best) } else { None }
    }

    /// RFC 9420 §7.8: the tree hash of node `x` in the tree with these changes (memoized).
    ///
    /// # Errors
    /// [`TreeError::Codec`] if a node cannot be encoded.
    pub fn node_hash(&mut self, ops: &dyn SuiteOps, x: NodeIndex) -> Result<Vec<u8>, TreeError> {
        if let Some(h) = self.hashes.get(&x) {
            return Ok(h.clone());
        }
        if ix(x) < self.min_width && !self.dirty.contains(&x) {
            return self
                .base
                .node_hash(x)
                .map(<[u8]>::to_vec)
                .ok_or(TreeError::Internal("clean node outside the base tree"));
        }
        let h = match x.leaf() {
            Some(leaf) => leaf_tree_hash(ops, leaf, self.leaf(leaf))?,
            None => {
                let (l, r) = left(x)
                    .zip(right(x))
                    .ok_or(TreeError::Internal("parent without children"))?;
                let lh = self.node_hash(ops, l)?;
                let rh = self.node_hash(ops, r)?;
                parent_tree_hash(ops, self.parent_node(x), &lh, &rh)?
            }
        };
        self.hashes.insert(x, h.clone());
        Ok(h)
    }

    /// Sets node `x` and marks it and its ancestors dirty.
    pub(crate) fn set_node(&mut self, x: NodeIndex, node: Option<Node>) {
        if let Some(l) = x.leaf() {
            let l = l.value();
            if node.is_some() {
                self.blank.remove(&l);
                self.filled.insert(l);
                // The cursor skips base blank leaves already filled; it moves only past the
                // first base blank leaf at or after it (an Add), never past one that is still
                // blank (an Update further right, RFC 9420 §12.3 applies Updates first).
                if self.base.blank_leaves_from(self.base_cursor).next() == Some(l) {
                    self.base_cursor = l.saturating_add(1);
                }
            } else {
                self.filled.remove(&l);
                self.blank.insert(l);
            }
        }
        self.changes.insert(x, node);
        self.dirty.insert(x);
        self.hashes.remove(&x);
        for y in direct_path(x, self.leaf_count).unwrap_or_default() {
            self.dirty.insert(y);
            self.hashes.remove(&y);
        }
    }

    /// RFC 9420 §12.1.2, §12.1.3, §7.5: blanks every node on the direct path of `leaf`.
    pub(crate) fn blank_direct_path(&mut self, leaf: LeafIndex) -> Result<(), TreeError> {
        let path = direct_path(leaf.node(), self.leaf_count)
            .ok_or_else(|| TreeError::LeafOutOfRange { leaf: leaf.value() })?;
        for x in path {
            if self.node(x).is_some() {
                self.set_node(x, None);
            }
        }
        Ok(())
    }

    /// The nodes this diff changed, in node order.
    pub(crate) fn changed_nodes(&self) -> impl Iterator<Item = (NodeIndex, Option<&Node>)> + '_ {
        self.changes.iter().map(|(&x, n)| (x, n.as_ref()))
    }

    pub(crate) fn require_member(&self, leaf: LeafIndex) -> Result<(), TreeError> {
        if !self.leaf_count.contains(leaf) {
            return Err(TreeError::LeafOutOfRange { leaf: leaf.value() });
        }
        if self.leaf(leaf).is_none() {
            return Err(TreeError::BlankLeaf { leaf: leaf.value() });
        }
        Ok(())
    }

    /// RFC 9420 §7.7: doubles the number of leaves; the new right half is blank.
    pub(crate) fn extend(&mut self) -> Result<(), TreeError> {
        let old = self.leaf_count.value();
        let new = old
            .checked_mul(2)
            .and_then(LeafCount::new)
            .ok_or_else(|| TreeError::TooLarge { len: self.width() })?;
        self.leaf_count = new;
        self.blank.extend(old..new.value());
        Ok(())
    }

    /// RFC 9420 §12.1.3: halves the tree while the right subtree of the root has no member.
    fn truncate(&mut self) {
        let n = self.leaf_count.value();
        let last = self.rightmost_member();
        let target = last
            .and_then(|l| LeafCount::covering(l.value().saturating_add(1)))
            .unwrap_or(self.leaf_count);
        if target.value() >= n {
            return;
        }
        self.leaf_count = target;
        let width = ix_width(target);
        let count = target.value();
        self.min_width = self.min_width.min(width);
        self.changes.retain(|&x, _| ix(x) < width);
        self.dirty.retain(|&x| ix(x) < width);
        self.hashes.retain(|&x, _| ix(x) < width);
        self.blank.retain(|&l| l < count);
        self.filled.retain(|&l| l < count);
    }

    fn width(&self) -> usize {
        ix_width(self.leaf_count)
    }

    /// The rightmost non-blank leaf: a right-first walk that skips all-blank subtrees with
    /// the occupancy caches. It takes O(depth) steps when every non-blank parent has a
    /// non-blank leaf below it, as in every tree the protocol builds, instead of a scan over
    /// the blank leaves at the right end of the tree.
    fn rightmost_member(&self) -> Option<LeafIndex> {
        let mut stack = vec![root(self.leaf_count)];
        while let Some(y) = stack.pop() {
            if self.resolution_is_empty(y) {
                continue;
            }
            if let Some(l) = y.leaf() {
                if self.leaf(l).is_some() {
                    return Some(l);
                }
                continue;
            }
            if let (Some(l), Some(r)) = (left(y), right(y)) {
                stack.push(l);
                stack.push(r);
            }
        }
        None
    }
}

impl TreeRead for TreeDiff<'_> {
    fn leaf_count(&self) -> LeafCount {
        self.leaf_count
    }

    fn node(&self, x: NodeIndex) -> Option<&Node> {
        let i = ix(x);
        if i >= self.width() {
            return None;
        }
        if let Some(change) = self.changes.get(&x) {
            return change.as_ref();
        }
        if i >= self.min_width {
            return None;
        }
        self.base.node(x)
    }

    /// As the default, but every subtree this diff did not touch is resolved by the base tree,
    /// which reads its node array directly: after an UpdatePath, the copath subtrees (most of
    /// the tree) are untouched.
    fn resolution_excluding(&self, x: NodeIndex, excluded: &[LeafIndex]) -> Vec<NodeIndex> {
        let mut out = Vec::new();
        let mut stack = vec![x];
        while let Some(y) = stack.pop() {
            if ix(y) >= self.width() {
                continue;
            }
            if ix(y) < self.min_width && !self.dirty.contains(&y) {
                out.extend(self.base.resolution_excluding(y, excluded));
                continue;
            }
            if !resolve_node(y, self.node(y), excluded, &mut out)
                && let (Some(l), Some(r)) = (left(y), right(y))
            {
                stack.push(r);
                stack.push(l);
            }
        }
        out
    }

    /// As the default, with every subtree this diff did not touch counted by the base tree's
    /// cache.
    fn resolution_len_excluding(&self, x: NodeIndex, excluded: &[LeafIndex]) -> usize {
        if ix(x) >= self.width() {
            return 0;
        }
        if ix(x) < self.min_width && !self.dirty.contains(&x) {
            return self.base.resolution_len_excluding(x, excluded);
        }
        resolution_len_at(self, x, excluded)
    }

    fn resolution_is_empty(&self, x: NodeIndex) -> bool {
        if ix(x) >= self.width() {
            return true;
        }
        if ix(x) < self.min_width && !self.dirty.contains(&x) {
            return !self.base.is_occupied(x);
        }
        if self.node(x).is_some() {
            return false;
        }
        match (left(x), right(x)) {
            (Some(l), Some(r)) => self.resolution_is_empty(l) && self.resolution_is_empty(r),
            _ => true,
        }
    }
}

/// RFC 9420 §7.6: a parent node with a fresh key and no unmerged leaves.
pub(crate) fn fresh_parent(
    encryption_key: canopy_crypto::HpkePublicKey,
    parent_hash: Vec<u8>,
) -> ParentNode {
    ParentNode {
        encryption_key,
        parent_hash: parent_hash.into(),
        unmerged_leaves: VarVec(Vec::new()),
    }
}
