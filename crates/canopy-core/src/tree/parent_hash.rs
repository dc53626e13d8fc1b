//! Parent hashes (RFC 9420 §7.9): computing the chain for an UpdatePath, and verifying that
//! every non-blank parent of a received tree is parent-hash valid (§7.9.2).

use canopy_crypto::SuiteOps;

use super::error::TreeError;
use super::hash::parent_hash;
use super::math::{LeafIndex, NodeIndex, left, right};
use super::ratchet::RatchetTree;
use super::view::{TreeRead, in_subtree};
use crate::rules::{At, Detail, Rule, Violation};
use crate::wire::{LeafNodeSource, Node, ParentNode};

/// RFC 9420 §7.9.2: checks that every non-blank parent node is parent-hash valid, "top down":
/// exactly one descendant D of each non-blank parent P has a `parent_hash` equal to the parent
/// hash of P with copath child S, where D is in the resolution of the other child C and P's
/// unmerged leaves below C are exactly the rest of that resolution.
///
/// Parent hashes are only computed for structurally matching candidates, and original sibling
/// tree hashes reuse the cached hashes of subtrees without unmerged leaves of P.
///
/// This is rule TR-05 of [`crate::rules`].
///
/// # Errors
/// [`TreeError::Invalid`] with TR-05 at the first failing parent (in node order), with
/// [`Detail::Count`] of the chains found (0 or more than 1); [`TreeError::Codec`].
pub(crate) fn verify_parent_hashes(
    tree: &RatchetTree,
    ops: &dyn SuiteOps,
) -> Result<(), TreeError> {
    for (i, node) in tree.nodes().iter().enumerate() {
        let Some(Node::Parent(p)) = node else {
            continue;
        };
        let x = u32::try_from(i)
            .ok()
            .and_then(NodeIndex::new)
            .ok_or(TreeError::Internal("node index"))?;
        let links = links_to(tree, ops, x, p)?;
        if links != 1 {
            return Err(Violation::new(Rule::TreeParentHash)
                .at(At::Node(x.value()))
                .with(Detail::Count {
                    expected: 1,
                    got: links,
                })
                .into());
        }
    }
    Ok(())
}

/// How many descendants of the parent `p` at `x` are linked to it by a valid parent hash.
fn links_to(
    tree: &RatchetTree,
    ops: &dyn SuiteOps,
    x: NodeIndex,
    p: &ParentNode,
) -> Result<usize, TreeError> {
    let (l, r) = left(x)
        .zip(right(x))
        .ok_or(TreeError::Internal("parent without children"))?;
    let mut unmerged: Vec<LeafIndex> = p
        .unmerged_leaves
        .as_slice()
        .iter()
        .filter_map(|&u| LeafIndex::new(u))
        .collect();
    unmerged.sort_unstable();
    let mut found = 0usize;
    for (c, s) in [(l, r), (r, l)] {
        let Some(d) = linked_candidate(tree, c, &unmerged) else {
            continue;
        };
        let claimed = match tree.node(d) {
            Some(Node::Parent(dp)) => dp.parent_hash.as_slice(),
            Some(Node::Leaf(leaf)) => match &leaf.leaf_node_source {
                LeafNodeSource::Commit(ph) => ph.as_slice(),
                _ => continue,
            },
            None => continue,
        };
        let sibling = tree.tree_hash_excluding(ops, s, &unmerged)?;
        let expected = parent_hash(
            ops,
            p.encryption_key.as_bytes(),
            p.parent_hash.as_slice(),
            &sibling,
        )?;
        if claimed == expected.as_slice() {
            found = found.saturating_add(1);
        }
    }
    Ok(found)
}

/// RFC 9420 §7.9.2: the node D of the resolution of `c` such that the resolution without D is
/// exactly P's unmerged leaves below `c`, if there is one.
fn linked_candidate(tree: &RatchetTree, c: NodeIndex, unmerged: &[LeafIndex]) -> Option<NodeIndex> {
    let mut below: Vec<NodeIndex> = unmerged
        .iter()
        .map(|u| u.node())
        .filter(|&n| in_subtree(n, c))
        .collect();
    let resolution = tree.resolution(c);
    if resolution.len() != below.len().checked_add(1)? {
        return None;
    }
    below.sort_unstable();
    let mut rest = Vec::with_capacity(below.len());
    let mut d = None;
    for n in resolution {
        if below.binary_search(&n).is_ok() {
            rest.push(n);
        } else if d.replace(n).is_some() {
            return None;
        }
    }
    rest.sort_unstable();
    (rest == below).then_some(d).flatten()
}
