//! A member's private view of the ratchet tree (RFC 9420 §4.2, §7.4): its leaf's HPKE private
//! key and the private keys of the nodes on its direct path that it knows.
//!
//! Invariant (the tree invariant of §4.2): every key held is for the member's own leaf or a
//! node on its direct path, and [`PrivateTree::prune`] drops keys whose node became blank or
//! changed its public key, so a stale key is never used to decrypt.

use std::collections::BTreeMap;

use canopy_crypto::{HpkeKeyPair, HpkePrivateKey, SuiteOps};

use super::error::TreeError;
use super::math::{LeafIndex, NodeIndex, direct_path};
use super::treekem::{DecryptedPath, derive_node_key};
use super::view::TreeRead;

/// RFC 9420 §7.4: the private keys a member holds. Never printed.
#[derive(Clone)]
pub struct PrivateTree {
    leaf: LeafIndex,
    leaf_key: HpkeKeyPair,
    path: BTreeMap<NodeIndex, HpkeKeyPair>,
}

impl core::fmt::Debug for PrivateTree {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PrivateTree")
            .field("leaf", &self.leaf)
            .field("path_nodes", &self.path.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl PrivateTree {
    /// The private state of the member at `leaf` whose LeafNode encryption key belongs to
    /// `leaf_private`.
    ///
    /// # Errors
    /// A crypto error if `leaf_private` is not a valid key.
    pub fn new(
        ops: &dyn SuiteOps,
        leaf: LeafIndex,
        leaf_private: HpkePrivateKey,
    ) -> Result<Self, TreeError> {
        let public = ops.hpke_public_key(&leaf_private)?;
        Ok(Self {
            leaf,
            leaf_key: HpkeKeyPair {
                private: leaf_private,
                public,
            },
            path: BTreeMap::new(),
        })
    }

    /// The private state of the member at `leaf` with the key pair `leaf_key`.
    pub(crate) fn from_key_pair(leaf: LeafIndex, leaf_key: HpkeKeyPair) -> Self {
        Self {
            leaf,
            leaf_key,
            path: BTreeMap::new(),
        }
    }

    /// The member's leaf.
    pub fn leaf(&self) -> LeafIndex {
        self.leaf
    }

    /// RFC 9420 §7.4, §12.4.3.1: sets the key of `node` from its path secret.
    ///
    /// # Errors
    /// A crypto error from key derivation.
    pub fn insert_path_secret(
        &mut self,
        ops: &dyn SuiteOps,
        node: NodeIndex,
        path_secret: &[u8],
    ) -> Result<(), TreeError> {
        let pair = derive_node_key(ops, path_secret)?;
        self.path.insert(node, pair);
        Ok(())
    }

    /// RFC 9420 §12.4.3.1: from the path secret of `node` (a joiner's GroupSecrets), sets the
    /// key of `node` and of every non-blank node above it in `tree` (the rest of the
    /// committer's filtered direct path), deriving `path_secret[n+1] =
    /// DeriveSecret(path_secret[n], "path")`, and checks each key against the tree.
    ///
    /// # Errors
    /// [`TreeError::PrivateKeyMismatch`] if a derived key is not the node's public key;
    /// crypto errors.
    pub fn insert_path_secret_chain<T: TreeRead + ?Sized>(
        &mut self,
        ops: &dyn SuiteOps,
        tree: &T,
        node: NodeIndex,
        path_secret: &[u8],
    ) -> Result<(), TreeError> {
        let above = direct_path(node, tree.leaf_count()).unwrap_or_default();
        let mut secret = canopy_crypto::Secret::from_slice(path_secret);
        let mut keys = Vec::new();
        for x in core::iter::once(node).chain(above) {
            let Some(p) = tree.parent_node(x) else {
                continue;
            };
            let pair = derive_node_key(ops, secret.as_bytes())?;
            if pair.public != p.encryption_key {
                return Err(TreeError::PrivateKeyMismatch { node: x.value() });
            }
            keys.push((x, pair));
            secret = crate::crypto::derive_secret(ops, secret.as_bytes(), b"path")?;
        }
        self.insert_keys(keys.into_iter());
        Ok(())
    }

    /// RFC 9420 §7.5: stores the keys a received UpdatePath gave this member.
    pub fn apply(&mut self, decrypted: &DecryptedPath) {
        self.insert_keys(decrypted.keys.iter().cloned());
    }

    /// Drops every key whose node is blank, holds another public key or is not on the
    /// member's direct path in `tree` (after a merge). O(log n).
    pub fn prune<T: TreeRead + ?Sized>(&mut self, tree: &T) {
        let path = direct_path(self.leaf.node(), tree.leaf_count()).unwrap_or_default();
        self.path.retain(|x, pair| {
            path.contains(x)
                && tree
                    .parent_node(*x)
                    .is_some_and(|p| p.encryption_key == pair.public)
        });
    }

    /// RFC 9420 §7.4 (tree invariant): checks that every held key matches the public key of
    /// its node in `tree`.
    ///
    /// # Errors
    /// [`TreeError::PrivateKeyMismatch`] naming the first node that differs or is blank.
    pub fn check<T: TreeRead + ?Sized>(&self, tree: &T) -> Result<(), TreeError> {
        let leaf_ok = tree
            .leaf(self.leaf)
            .is_some_and(|l| l.encryption_key == self.leaf_key.public);
        if !leaf_ok {
            return Err(TreeError::PrivateKeyMismatch {
                node: self.leaf.node().value(),
            });
        }
        for (x, pair) in &self.path {
            let ok = tree
                .parent_node(*x)
                .is_some_and(|p| p.encryption_key == pair.public);
            if !ok {
                return Err(TreeError::PrivateKeyMismatch { node: x.value() });
            }
        }
        Ok(())
    }

    /// The private key for node `x` if this member holds it and it matches `x`'s public key
    /// in `tree`.
    pub fn key_for<T: TreeRead + ?Sized>(&self, tree: &T, x: NodeIndex) -> Option<&HpkePrivateKey> {
        self.pair_for(tree, x).map(|pair| &pair.private)
    }

    /// The key pair for node `x` if this member holds it and its public key is `x`'s in
    /// `tree`.
    pub(crate) fn pair_for<T: TreeRead + ?Sized>(
        &self,
        tree: &T,
        x: NodeIndex,
    ) -> Option<&HpkeKeyPair> {
        if x == self.leaf.node() {
            return tree
                .leaf(self.leaf)
                .filter(|l| l.encryption_key == self.leaf_key.public)
                .map(|_| &self.leaf_key);
        }
        let pair = self.path.get(&x)?;
        tree.parent_node(x)
            .filter(|p| p.encryption_key == pair.public)
            .map(|_| pair)
    }

    /// The member's leaf key pair (for group state records).
    pub(crate) fn leaf_key(&self) -> &HpkeKeyPair {
        &self.leaf_key
    }

    /// The key pairs held for nodes of the direct path (for group state records).
    pub(crate) fn path_keys(&self) -> &BTreeMap<NodeIndex, HpkeKeyPair> {
        &self.path
    }

    pub(crate) fn set_leaf_key(&mut self, key: HpkeKeyPair) {
        self.leaf_key = key;
    }

    pub(crate) fn insert_keys(&mut self, keys: impl Iterator<Item = (NodeIndex, HpkeKeyPair)>) {
        self.path.extend(keys);
    }
}
