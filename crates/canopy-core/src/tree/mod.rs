//! The ratchet tree and TreeKEM (RFC 9420 §4, §7), built for groups of tens of thousands of
//! members.
//!
//! | module | RFC 9420 | what |
//! |---|---|---|
//! | `math` | Appendix C | [`LeafIndex`](math::LeafIndex), [`NodeIndex`](math::NodeIndex), [`LeafCount`](math::LeafCount), direct path, copath |
//! | `ratchet` | §4.1, §7.8, §12.4.3.3 | [`RatchetTree`]: nodes, cached tree hashes, key indexes, (de)serialization |
//! | `view` | §4.1.2 | [`TreeRead`]: resolution, filtered direct path |
//! | `diff` | §7.7, §12.1 | [`TreeDiff`] (Add, Update, Remove, UpdatePath, staged without mutation) and [`StagedTree`] |
//! | `hash`, `parent_hash` | §7.8, §7.9 | tree hash and parent hash inputs, parent-hash verification |
//! | (`crate::rules`) | §7.3, §12.4.3.1 | [`RatchetTree::validate`] with [`TreeChecks`] |
//! | `treekem` | §7.4–§7.6 | creating, applying and decrypting UpdatePaths |
//! | `private` | §7.4 | [`PrivateTree`]: a member's leaf key and the keys of its direct path |
//!
//! # Cost model
//!
//! The tree is a `Vec` of optional nodes indexed by node index, with a cached tree hash per
//! node in one buffer: a blank node costs 16 bytes, plus `hash_len` for its hash and 4 for its
//! resolution length, so a received tree is checked against the receiver's
//! [`Limits`](crate::codec::Limits) before it is padded to full width and hashed. Changes are staged in a [`TreeDiff`] that overlays the base tree, and merged in
//! O(changed nodes). Tree hashes are recomputed only for nodes whose subtree changed: O(log n)
//! hashes for an UpdatePath, an Add or a Remove (the tree doubling on an Add hashes the new
//! blank half once). Resolutions are computed on demand: their cost is the size of the result
//! plus the blank parents crossed, which is inherent (a mostly blank tree has large
//! resolutions, and that many HPKE encryptions). The leftmost blank leaf and key-uniqueness
//! lookups use indexes kept by the tree (O(log n)).
//!
//! Invariants: node and leaf indices are newtypes that bound their values at construction,
//! and no tree computation can overflow or panic (`clippy::arithmetic_side_effects` is on for
//! this module and everything below it).
#![warn(clippy::arithmetic_side_effects)]

mod diff;
mod error;
mod hash;
pub mod math;
mod parent_hash;
mod private;
mod ratchet;
mod treekem;
mod view;

#[cfg(test)]
mod tests;

pub use crate::lifetime::LifetimePolicy;
pub use crate::rules::tree::TreeChecks;
pub use diff::{StagedTree, TreeDiff};
pub use error::TreeError;
pub(crate) use parent_hash::verify_parent_hashes;
pub use private::PrivateTree;
pub use ratchet::RatchetTree;
pub(crate) use ratchet::ix_width;
pub use treekem::{DecryptedPath, LeafTemplate, PendingUpdatePath, decrypt_path};
pub use view::{TreeRead, in_subtree};
