//! Array-based tree math for left-balanced binary trees (RFC 9420 Appendix C, §4.1, §7.8).
//!
//! Nodes are numbered left to right in one array: leaf `i` is node `2i` and parent nodes sit
//! at odd positions. A node's *level* is the number of trailing one bits of its index (leaves
//! are level 0).
//!
//! ```text
//!                       7
//!               3               11
//!           1       5       9       13
//!         0   2   4   6   8  10  12  14      node index
//!         0   1   2   3   4   5   6   7      leaf index
//! ```
//!
//! **Accepted tree sizes.** RFC 9420 §7.8 keeps the ratchet tree *full*: the number of leaves
//! is always a power of two (the tree is extended by doubling and truncated by halving). All
//! functions here that depend on the tree size take a [`LeafCount`], which only holds a power
//! of two from 1 to 2^31 ([`MAX_LEAVES`]). With 2^31 leaves the tree has 2^32 - 1 nodes, so
//! every node index fits a `u32`; [`NodeIndex`] holds 0 ..= 2^32 - 2 and [`LeafIndex`] holds
//! 0 ..= 2^31 - 1. Only [`node_width`] takes a raw leaf count, like the RFC's function of the
//! same name, and it is defined for every count that fits.
//!
//! **No panics.** Where the RFC's Python raises (the children of a leaf, the parent or sibling
//! of the root) or a node lies outside the tree, the function returns `None`.

/// RFC 9420 Appendix C: the largest supported number of leaves, 2^31.
pub const MAX_LEAVES: u32 = 0x8000_0000;

/// The largest node index of the largest supported tree, 2^32 - 2.
const MAX_NODE: u32 = 0xFFFF_FFFE;

/// RFC 9420 §4.1.1: the position of a member's leaf among the leaves of the tree.
///
/// Always below [`MAX_LEAVES`], so [`LeafIndex::node`] cannot overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeafIndex(u32);

impl LeafIndex {
    /// RFC 9420 Appendix C: a leaf index, or `None` if it is not below 2^31 and so cannot be a
    /// leaf of any tree whose node indices fit a `u32`.
    pub const fn new(index: u32) -> Option<Self> {
        if index < MAX_LEAVES {
            Some(Self(index))
        } else {
            None
        }
    }

    /// RFC 9420 Appendix C: the leaf index as a number.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// RFC 9420 Appendix C: the node index of this leaf, `2 * index`.
    pub const fn node(self) -> NodeIndex {
        // `self.0 < 2^31`, so the top bit is clear and the shift loses nothing.
        NodeIndex(self.0 << 1)
    }
}

impl From<LeafIndex> for NodeIndex {
    fn from(leaf: LeafIndex) -> Self {
        leaf.node()
    }
}

/// RFC 9420 Appendix C: the position of a node in the array representation of the tree.
///
/// Always at most 2^32 - 2, the last node of a tree with 2^31 leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeIndex(u32);

impl NodeIndex {
    /// RFC 9420 Appendix C: a node index, or `None` for `u32::MAX`, which is a node of no tree
    /// with at most 2^31 leaves.
    pub const fn new(index: u32) -> Option<Self> {
        if index <= MAX_NODE {
            Some(Self(index))
        } else {
            None
        }
    }

    /// RFC 9420 Appendix C: the node index as a number.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// RFC 9420 Appendix C: the leaf at this node (`index / 2`), or `None` for a parent node.
    pub const fn leaf(self) -> Option<LeafIndex> {
        if self.is_leaf() {
            Some(LeafIndex(self.0 >> 1))
        } else {
            None
        }
    }

    /// RFC 9420 Appendix C: whether this is a leaf node (an even index).
    pub const fn is_leaf(self) -> bool {
        self.0 & 1 == 0
    }

    /// RFC 9420 Appendix C: the level of this node; see [`level`].
    pub const fn level(self) -> u32 {
        self.0.trailing_ones()
    }
}

/// RFC 9420 §7.8: the number of leaves of a full left-balanced tree, a power of two from 1 to
/// 2^31.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeafCount(u32);

impl LeafCount {
    /// RFC 9420 §7.8: a leaf count, or `None` unless `n_leaves` is a power of two (which, in a
    /// `u32`, is at most 2^31).
    pub const fn new(n_leaves: u32) -> Option<Self> {
        if n_leaves.is_power_of_two() {
            Some(Self(n_leaves))
        } else {
            None
        }
    }

    /// RFC 9420 §7.8: the smallest full tree with room for `n_leaves` leaves (one leaf for 0),
    /// or `None` above 2^31.
    pub const fn covering(n_leaves: u32) -> Option<Self> {
        let n = if n_leaves == 0 { 1 } else { n_leaves };
        match n.checked_next_power_of_two() {
            Some(p) => Some(Self(p)),
            None => None,
        }
    }

    /// RFC 9420 §7.8: the number of leaves.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// RFC 9420 Appendix C: the number of nodes, `2 * n_leaves - 1` (see [`node_width`]).
    pub const fn width(self) -> u32 {
        // `self.0 = 2^d` with `d <= 31` has `31 - d` leading zeros, and
        // `u32::MAX >> (31 - d) = 2^(d + 1) - 1`.
        u32::MAX >> self.0.leading_zeros()
    }

    /// RFC 9420 Appendix C: the level of the root, `log2(n_leaves)`.
    pub const fn depth(self) -> u32 {
        self.0.trailing_zeros()
    }

    /// RFC 9420 Appendix C: whether `leaf` is one of this tree's leaves.
    pub const fn contains(self, leaf: LeafIndex) -> bool {
        leaf.0 < self.0
    }
}

/// RFC 9420 Appendix C: the level of a node. Leaves are level 0, their parents level 1, and
/// so on: the number of trailing one bits of the index.
pub const fn level(x: NodeIndex) -> u32 {
    x.level()
}

/// RFC 9420 Appendix C: whether `x` is a leaf node.
pub const fn is_leaf(x: NodeIndex) -> bool {
    x.is_leaf()
}

/// RFC 9420 Appendix C `node_width`: the number of nodes needed for `n_leaves` leaves,
/// `2 * (n_leaves - 1) + 1` (0 for no leaves). Defined for any count, not only powers of two.
///
/// Returns `None` above 2^31 leaves, whose width does not fit a `u32`.
pub const fn node_width(n_leaves: u32) -> Option<u32> {
    if n_leaves == 0 {
        return Some(0);
    }
    // n_leaves >= 1, so the subtraction cannot underflow.
    match (n_leaves.saturating_sub(1)).checked_mul(2) {
        Some(twice) => twice.checked_add(1),
        None => None,
    }
}

/// RFC 9420 Appendix C `root`: the root node of a tree with `n_leaves` leaves.
pub const fn root(n_leaves: LeafCount) -> NodeIndex {
    // A full tree of 2^d leaves has its root at 2^d - 1, and LeafCount >= 1.
    NodeIndex(n_leaves.0.saturating_sub(1))
}

/// RFC 9420 Appendix C: whether `x` is a node of the tree with `n_leaves` leaves.
pub const fn is_in_tree(x: NodeIndex, n_leaves: LeafCount) -> bool {
    x.0 < n_leaves.width()
}

/// RFC 9420 Appendix C `left`: the left child of a parent node, or `None` for a leaf.
pub fn left(x: NodeIndex) -> Option<NodeIndex> {
    let k = x.level().checked_sub(1)?;
    NodeIndex::new(x.0 ^ 1u32.checked_shl(k)?)
}

/// RFC 9420 Appendix C `right`: the right child of a parent node, or `None` for a leaf.
///
/// In a full tree the right child of an in-tree node is in the tree.
pub fn right(x: NodeIndex) -> Option<NodeIndex> {
    let k = x.level().checked_sub(1)?;
    // Levels are at most 31, so `k <= 30` and `3 << k` keeps both bits.
    NodeIndex::new(x.0 ^ 3u32.checked_shl(k)?)
}

/// RFC 9420 Appendix C `parent`: the parent of `x` in the tree with `n_leaves` leaves, or
/// `None` for the root or a node outside the tree.
pub fn parent(x: NodeIndex, n_leaves: LeafCount) -> Option<NodeIndex> {
    if !is_in_tree(x, n_leaves) || x == root(n_leaves) {
        return None;
    }
    let k = x.level();
    let k1 = k.checked_add(1)?;
    let b = x.0.checked_shr(k1)? & 1;
    let p = (x.0 | 1u32.checked_shl(k)?) ^ b.checked_shl(k1)?;
    NodeIndex::new(p)
}

/// RFC 9420 Appendix C `sibling`: the other child of `x`'s parent, or `None` for the root or a
/// node outside the tree.
pub fn sibling(x: NodeIndex, n_leaves: LeafCount) -> Option<NodeIndex> {
    let p = parent(x, n_leaves)?;
    if x < p { right(p) } else { left(p) }
}

/// RFC 9420 §4.1.2 and Appendix C `direct_path`: the parents of `x` up to and including the
/// root, ordered from `x`'s parent to the root. Empty for the root; `None` if `x` is outside
/// the tree.
pub fn direct_path(x: NodeIndex, n_leaves: LeafCount) -> Option<Vec<NodeIndex>> {
    if !is_in_tree(x, n_leaves) {
        return None;
    }
    let r = root(n_leaves);
    let steps = n_leaves.depth().saturating_sub(x.level());
    let mut path = Vec::with_capacity(usize::try_from(steps).unwrap_or(0));
    let mut cur = x;
    // Each step climbs one level and the root is the only in-tree node at the top level,
    // so this runs `steps` (at most 31) times.
    while cur != r {
        cur = parent(cur, n_leaves)?;
        path.push(cur);
    }
    Some(path)
}

/// RFC 9420 §4.1.2 and Appendix C `copath`: the siblings of `x` and of each node of its direct
/// path except the root, ordered from the leaf side to the root side. It has the same length
/// as [`direct_path`]; empty for the root; `None` if `x` is outside the tree.
pub fn copath(x: NodeIndex, n_leaves: LeafCount) -> Option<Vec<NodeIndex>> {
    let path = direct_path(x, n_leaves)?;
    std::iter::once(x)
        .chain(path.iter().copied())
        .take(path.len())
        .map(|y| sibling(y, n_leaves))
        .collect()
}

/// RFC 9420 Appendix C `common_ancestor_direct`: the lowest node whose subtree contains both
/// `x` and `y` (`x` itself if `x == y`, or if `y` is below `x`).
///
/// Needs no tree size: for two nodes of any full tree the result is a node of that tree.
pub fn common_ancestor(x: NodeIndex, y: NodeIndex) -> NodeIndex {
    // A node at level k is `a * 2^(k+1) + 2^k - 1`; its subtree holds exactly the indices
    // `i` with `i >> (k+1) == a` whose level is at most k. So the answer is the node at the
    // lowest level k >= max(level(x), level(y)) at which x and y agree above bit k.
    let mut k = x.level().max(y.level());
    while k < 32 {
        let shift = k.saturating_add(1);
        let (hx, hy) = (high_bits(x.0, shift), high_bits(y.0, shift));
        if hx == hy {
            let prefix = hx.checked_shl(shift).unwrap_or(0);
            let low_ones = 1u32
                .checked_shl(k)
                .map_or(u32::MAX, |b| b.saturating_sub(1));
            return NodeIndex(prefix | low_ones);
        }
        k = shift;
    }
    // Unreachable: levels are at most 31, and at k = 31 both high parts are 0. Answer with
    // the root of the largest tree, the common ancestor of every node.
    NodeIndex(MAX_LEAVES.saturating_sub(1))
}

/// `value >> shift`, with bits shifted out entirely (shift of 32) giving 0.
const fn high_bits(value: u32, shift: u32) -> u32 {
    match value.checked_shr(shift) {
        Some(v) => v,
        None => 0,
    }
}

#[cfg(test)]
mod tests;
