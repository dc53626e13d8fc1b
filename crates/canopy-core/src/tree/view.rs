//! Read access shared by a [`RatchetTree`](super::RatchetTree) and a
//! [`TreeDiff`](super::TreeDiff): node lookup, resolution (RFC 9420 §4.1.2) and the filtered
//! direct path (§4.1.2).
//!
//! Resolutions are computed on demand by a depth-first walk that stops at non-blank nodes and
//! skips all-blank subtrees, so their cost is about the size of the result times the depth.
//! Emptiness tests (for the filtered direct path) use the trees' per-node occupancy caches.

use super::error::TreeError;
use super::math::{LeafCount, LeafIndex, NodeIndex, copath, direct_path, left, right};
use crate::wire::{LeafNode, Node, ParentNode};

/// A node index as a `usize` array position.
pub(crate) fn ix(x: NodeIndex) -> usize {
    usize::try_from(x.value()).unwrap_or(usize::MAX)
}

/// RFC 9420 Appendix C: whether node `x` lies in the subtree headed by `head` (`head` itself
/// included). In a full tree the subtree of a node at level `k` is the aligned block of
/// indices that agree with it above bit `k`.
pub fn in_subtree(x: NodeIndex, head: NodeIndex) -> bool {
    let k = head.level();
    let shift = k.saturating_add(1);
    x.level() <= k && x.value().checked_shr(shift) == head.value().checked_shr(shift)
}

/// RFC 9420 §4.1.2: one step of a resolution walk at node `y` holding `node`. A leaf is its
/// own resolution, a parent adds itself and its unmerged leaves (leaves in the sorted
/// `excluded` are left out of both); returns `false` for a blank node, whose children the
/// walk must visit.
pub(crate) fn resolve_node(
    y: NodeIndex,
    node: Option<&Node>,
    excluded: &[LeafIndex],
    out: &mut Vec<NodeIndex>,
) -> bool {
    match node {
        Some(Node::Leaf(_)) => {
            if y.leaf().is_none_or(|l| excluded.binary_search(&l).is_err()) {
                out.push(y);
            }
            true
        }
        Some(Node::Parent(p)) => {
            out.push(y);
            for &u in p.unmerged_leaves.as_slice() {
                if let Some(l) = LeafIndex::new(u)
                    && excluded.binary_search(&l).is_err()
                {
                    out.push(l.node());
                }
            }
            true
        }
        None => false,
    }
}

/// The length of the resolution step [`resolve_node`] takes at a non-blank node (what it
/// would push), or `None` for a blank node.
pub(crate) fn resolved_len(
    y: NodeIndex,
    node: Option<&Node>,
    excluded: &[LeafIndex],
) -> Option<usize> {
    let kept = |l: LeafIndex| excluded.binary_search(&l).is_err();
    match node {
        Some(Node::Leaf(_)) => Some(usize::from(y.leaf().is_none_or(kept))),
        Some(Node::Parent(p)) => Some(
            p.unmerged_leaves
                .as_slice()
                .iter()
                .filter(|&&u| LeafIndex::new(u).is_some_and(kept))
                .count()
                .saturating_add(1),
        ),
        None => None,
    }
}

/// One step of counting a resolution: the length of the step at `x` if it is non-blank,
/// otherwise the counts of its children (through `view`, so that its caches answer them).
pub(crate) fn resolution_len_at<T: TreeRead + ?Sized>(
    view: &T,
    x: NodeIndex,
    excluded: &[LeafIndex],
) -> usize {
    if let Some(len) = resolved_len(x, view.node(x), excluded) {
        return len;
    }
    match (left(x), right(x)) {
        (Some(l), Some(r)) => view
            .resolution_len_excluding(l, excluded)
            .saturating_add(view.resolution_len_excluding(r, excluded)),
        _ => 0,
    }
}

/// Read access to the nodes of a ratchet tree, plus the derived views every tree offers.
pub trait TreeRead {
    /// RFC 9420 §7.8: the number of leaves (a power of two).
    fn leaf_count(&self) -> LeafCount;

    /// RFC 9420 §4.1.1: the node at `x`, or `None` if it is blank or outside the tree.
    fn node(&self, x: NodeIndex) -> Option<&Node>;

    /// RFC 9420 §7.2: the LeafNode of leaf `leaf`, or `None` if blank or outside the tree.
    fn leaf(&self, leaf: LeafIndex) -> Option<&LeafNode> {
        match self.node(leaf.node()) {
            Some(Node::Leaf(l)) => Some(l),
            _ => None,
        }
    }

    /// RFC 9420 §7.1: the ParentNode at `x`, or `None` if blank, a leaf or outside the tree.
    fn parent_node(&self, x: NodeIndex) -> Option<&ParentNode> {
        match self.node(x) {
            Some(Node::Parent(p)) => Some(p),
            _ => None,
        }
    }

    /// RFC 9420 §4.1.2: the resolution of `x`, in order.
    fn resolution(&self, x: NodeIndex) -> Vec<NodeIndex> {
        self.resolution_excluding(x, &[])
    }

    /// RFC 9420 §7.6: the resolution of `x` without the leaves in `excluded` (sorted), which
    /// are dropped both as leaves and as unmerged leaves of parents: the new members of a
    /// Commit.
    fn resolution_excluding(&self, x: NodeIndex, excluded: &[LeafIndex]) -> Vec<NodeIndex> {
        let mut out = Vec::new();
        let mut stack = vec![x];
        // Right child pushed first, so the left subtree is enumerated first.
        while let Some(y) = stack.pop() {
            if !resolve_node(y, self.node(y), excluded, &mut out)
                && let (Some(l), Some(r)) = (left(y), right(y))
            {
                // Skip all-blank subtrees (O(1) with the trees' occupancy caches).
                if !self.resolution_is_empty(r) {
                    stack.push(r);
                }
                if !self.resolution_is_empty(l) {
                    stack.push(l);
                }
            }
        }
        out
    }

    /// The length of [`Self::resolution_excluding`]`(x, excluded)` (RFC 9420 §7.6: an
    /// UpdatePath node carries one ciphertext per entry). This default walks the subtree;
    /// [`RatchetTree`](super::RatchetTree) answers from a per-node cache and
    /// [`TreeDiff`](super::TreeDiff) delegates the subtrees it did not change to it.
    fn resolution_len_excluding(&self, x: NodeIndex, excluded: &[LeafIndex]) -> usize {
        resolution_len_at(self, x, excluded)
    }

    /// RFC 9420 §4.1.2: whether the resolution of `x` is empty, i.e. its subtree holds no
    /// non-blank node. This default walks the subtree and stops at the first non-blank node;
    /// [`RatchetTree`](super::RatchetTree) answers from a per-node cache in O(1) and
    /// [`TreeDiff`](super::TreeDiff) in O(1) for nodes it did not change.
    fn resolution_is_empty(&self, x: NodeIndex) -> bool {
        let mut stack = vec![x];
        while let Some(y) = stack.pop() {
            if self.node(y).is_some() {
                return false;
            }
            if let (Some(l), Some(r)) = (left(y), right(y)) {
                stack.push(r);
                stack.push(l);
            }
        }
        true
    }

    /// RFC 9420 §4.1.2: the filtered direct path of `leaf` as `(node, copath child)` pairs
    /// from the leaf side to the root: the direct path without the nodes whose copath child
    /// has an empty resolution.
    ///
    /// # Errors
    /// [`TreeError::LeafOutOfRange`] if `leaf` is not in the tree.
    fn filtered_direct_path(
        &self,
        leaf: LeafIndex,
    ) -> Result<Vec<(NodeIndex, NodeIndex)>, TreeError> {
        let n = self.leaf_count();
        let out_of_range = TreeError::LeafOutOfRange { leaf: leaf.value() };
        if !n.contains(leaf) {
            return Err(out_of_range);
        }
        let path = direct_path(leaf.node(), n).ok_or_else(|| out_of_range.clone())?;
        let co = copath(leaf.node(), n).ok_or(out_of_range)?;
        Ok(path
            .into_iter()
            .zip(co)
            .filter(|&(_, c)| !self.resolution_is_empty(c))
            .collect())
    }

    /// RFC 9420 §7.7: the leftmost blank leaf, if any (a linear scan; the trees keep faster
    /// indexes for their own use).
    fn leftmost_blank_leaf_scan(&self) -> Option<LeafIndex> {
        (0..self.leaf_count().value())
            .filter_map(LeafIndex::new)
            .find(|&l| self.leaf(l).is_none())
    }
}
