//! Tree hashes (RFC 9420 §7.8) and parent hashes (§7.9): the hash inputs, encoded by hand so
//! that each node is serialized once per hash.
//!
//! Invariant: a node's tree hash depends only on the nodes of its subtree, and in a full
//! left-balanced tree the subtree of node `x` is fixed by `x` alone (not by the tree size), so a
//! cached hash stays valid when the tree is extended or truncated.

use canopy_crypto::SuiteOps;
use tls_codec::Serialize;

use super::error::TreeError;
use super::math::{LeafCount, LeafIndex, NodeIndex, left, right};
use super::view::ix;
use crate::codec::{CodecError, encode_varint};
use crate::wire::{LeafNode, Node, ParentNode};

/// RFC 9420 §7.8 `NodeType`: `leaf(1)`.
const LEAF: u8 = 1;
/// RFC 9420 §7.8 `NodeType`: `parent(2)`.
const PARENT: u8 = 2;

/// Appends `opaque value<V>`.
fn put_opaque(out: &mut Vec<u8>, value: &[u8]) -> Result<(), TreeError> {
    encode_varint(value.len(), out)?;
    out.extend_from_slice(value);
    Ok(())
}

/// RFC 9420 §7.8: the tree hash of leaf `leaf_index`, `Hash(TreeHashInput)` with a
/// `LeafNodeHashInput` (`leaf_node` absent when the leaf is blank).
///
/// # Errors
/// [`TreeError::Codec`] if the leaf cannot be encoded.
pub(crate) fn leaf_tree_hash(
    ops: &dyn SuiteOps,
    leaf_index: LeafIndex,
    leaf: Option<&LeafNode>,
) -> Result<Vec<u8>, TreeError> {
    let mut input = Vec::with_capacity(256);
    input.push(LEAF);
    input.extend_from_slice(&leaf_index.value().to_be_bytes());
    match leaf {
        None => input.push(0),
        Some(leaf) => {
            input.push(1);
            leaf.tls_serialize(&mut input).map_err(CodecError::from)?;
        }
    }
    Ok(ops.hash(&input))
}

/// RFC 9420 §7.8: the tree hash of a parent node, `Hash(TreeHashInput)` with a
/// `ParentNodeHashInput` over its (optional) content and its children's tree hashes.
///
/// # Errors
/// [`TreeError::Codec`] if the node cannot be encoded.
pub(crate) fn parent_tree_hash(
    ops: &dyn SuiteOps,
    parent: Option<&ParentNode>,
    left_hash: &[u8],
    right_hash: &[u8],
) -> Result<Vec<u8>, TreeError> {
    let mut input = Vec::with_capacity(256);
    input.push(PARENT);
    match parent {
        None => input.push(0),
        Some(parent) => {
            input.push(1);
            parent.tls_serialize(&mut input).map_err(CodecError::from)?;
        }
    }
    put_opaque(&mut input, left_hash)?;
    put_opaque(&mut input, right_hash)?;
    Ok(ops.hash(&input))
}

/// RFC 9420 §7.9: `Hash(ParentHashInput{encryption_key, parent_hash,
/// original_sibling_tree_hash})`.
///
/// # Errors
/// [`TreeError::Codec`] for a field longer than 2^30 - 1 bytes.
pub(crate) fn parent_hash(
    ops: &dyn SuiteOps,
    encryption_key: &[u8],
    parent_hash: &[u8],
    original_sibling_tree_hash: &[u8],
) -> Result<Vec<u8>, TreeError> {
    let mut input = Vec::with_capacity(
        encryption_key
            .len()
            .saturating_add(parent_hash.len())
            .saturating_add(original_sibling_tree_hash.len())
            .saturating_add(12),
    );
    put_opaque(&mut input, encryption_key)?;
    put_opaque(&mut input, parent_hash)?;
    put_opaque(&mut input, original_sibling_tree_hash)?;
    Ok(ops.hash(&input))
}

/// RFC 9420 §7.8: the tree hash of every node of a full tree from scratch, level by level
/// (leaves first), as one buffer holding `hash_len` bytes per node in node order (see
/// [`HashStore`]). `nodes` has exactly `n_leaves.width()` entries. Each level's hashes are
/// independent, so with the `parallel` feature they are computed on the rayon pool.
///
/// # Errors
/// [`TreeError::Codec`] if a node cannot be encoded.
pub(crate) fn all_tree_hashes(
    ops: &dyn SuiteOps,
    nodes: &[Option<Node>],
    n_leaves: LeafCount,
) -> Result<HashStore, TreeError> {
    let width = nodes.len();
    let mut hashes = HashStore::new(ops.params().hash_len(), width)?;
    for level in 0..=n_leaves.depth() {
        // Nodes at `level` are `2^level - 1 + i * 2^(level + 1)`.
        let first = 1usize
            .checked_shl(level)
            .and_then(|p| p.checked_sub(1))
            .ok_or(TreeError::Internal("level out of range"))?;
        let step = 1usize
            .checked_shl(level.saturating_add(1))
            .ok_or(TreeError::Internal("level out of range"))?;
        let hash_one = |hashes: &HashStore, x: usize| -> Result<Vec<u8>, TreeError> {
            let node =
                NodeIndex::new(u32::try_from(x).map_err(|_| TreeError::TooLarge { len: width })?)
                    .ok_or(TreeError::TooLarge { len: width })?;
            let content = nodes.get(x).and_then(Option::as_ref);
            match node.leaf() {
                Some(leaf) => {
                    let leaf_node = match content {
                        Some(Node::Leaf(l)) => Some(&**l),
                        _ => None,
                    };
                    leaf_tree_hash(ops, leaf, leaf_node)
                }
                None => {
                    let parent = match content {
                        Some(Node::Parent(p)) => Some(&**p),
                        _ => None,
                    };
                    let child = |c: Option<NodeIndex>| -> Result<&[u8], TreeError> {
                        let c = c.ok_or(TreeError::Internal("parent without children"))?;
                        hashes
                            .get(c)
                            .ok_or(TreeError::Internal("child outside the tree"))
                    };
                    parent_tree_hash(ops, parent, child(left(node))?, child(right(node))?)
                }
            }
        };
        // In chunks, so that the hashes in flight before they are stored stay few.
        let all: Vec<usize> = (first..width).step_by(step).collect();
        for indices in all.chunks(HASH_CHUNK) {
            #[cfg(feature = "parallel")]
            let level_hashes: Vec<Vec<u8>> = {
                use rayon::prelude::*;
                if indices.len() >= crate::parallel::TREE_HASHES {
                    let store = &hashes;
                    indices
                        .par_iter()
                        .map(|&x| hash_one(store, x))
                        .collect::<Result<_, _>>()?
                } else {
                    indices
                        .iter()
                        .map(|&x| hash_one(&hashes, x))
                        .collect::<Result<_, _>>()?
                }
            };
            #[cfg(not(feature = "parallel"))]
            let level_hashes: Vec<Vec<u8>> = indices
                .iter()
                .map(|&x| hash_one(&hashes, x))
                .collect::<Result<_, _>>()?;
            for (&x, h) in indices.iter().zip(level_hashes) {
                hashes.set_at(x, &h)?;
            }
        }
    }
    Ok(hashes)
}

/// The cached tree hash of every node of a tree (RFC 9420 §7.8) in one buffer: node `x`'s
/// hash is the `hash_len` bytes at `x * hash_len`. One allocation for the whole tree, and
/// `hash_len` bytes per node (32 to 64), where a `Vec<u8>` per node would cost 24 bytes of
/// header plus a heap block each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HashStore {
    hash_len: usize,
    bytes: Vec<u8>,
}

impl HashStore {
    /// A store for `width` nodes, every hash zero.
    pub(crate) fn new(hash_len: usize, width: usize) -> Result<Self, TreeError> {
        let len = width
            .checked_mul(hash_len)
            .ok_or(TreeError::TooLarge { len: width })?;
        Ok(Self {
            hash_len,
            bytes: vec![0; len],
        })
    }

    /// The hash of node `x`, or `None` outside the store.
    pub(crate) fn get(&self, x: NodeIndex) -> Option<&[u8]> {
        self.bytes.get(self.range(ix(x))?)
    }

    /// Sets the hash of node `x`; `hash` must be `hash_len` bytes.
    pub(crate) fn set(&mut self, x: NodeIndex, hash: &[u8]) -> Result<(), TreeError> {
        self.set_at(ix(x), hash)
    }

    /// Truncates or extends (with zero hashes) to `width` nodes.
    pub(crate) fn resize(&mut self, width: usize) -> Result<(), TreeError> {
        let len = width
            .checked_mul(self.hash_len)
            .ok_or(TreeError::TooLarge { len: width })?;
        self.bytes.resize(len, 0);
        Ok(())
    }

    fn set_at(&mut self, x: usize, hash: &[u8]) -> Result<(), TreeError> {
        let slot = self
            .range(x)
            .and_then(|r| self.bytes.get_mut(r))
            .ok_or(TreeError::Internal("hash outside the tree"))?;
        if slot.len() != hash.len() {
            return Err(TreeError::Internal("hash of the wrong length"));
        }
        slot.copy_from_slice(hash);
        Ok(())
    }

    fn range(&self, x: usize) -> Option<core::ops::Range<usize>> {
        let start = x.checked_mul(self.hash_len)?;
        Some(start..start.checked_add(self.hash_len)?)
    }
}

/// How many tree hashes are computed before they are stored (RFC 9420 §7.8).
const HASH_CHUNK: usize = 4096;
