//! TreeKEM (RFC 9420 §7.4–§7.6): creating an UpdatePath, applying a received one to a
//! [`TreeDiff`], and decrypting its path secret.
//!
//! Creating a path is split in two because the HPKE context is the provisional GroupContext,
//! which holds the tree hash *after* the path is merged (§12.4.1):
//!
//! ```text
//! diff.create_update_path(..)  -> PendingUpdatePath   (new keys, parent hashes, signed leaf)
//! diff.tree_hash(ops)          -> provisional tree hash -> caller builds GroupContext bytes
//! pending.encrypt(&diff, ..)   -> UpdatePath          (one HPKE seal per resolution node)
//! ```
//!
//! A receiver validates the path's leaf and keys with the rules of [`crate::rules`], runs
//! [`TreeDiff::apply_update_path`] (the path length and the parent-hash chain, then installs
//! the nodes), computes the provisional context the same way, and calls [`decrypt_path`]
//! with its [`PrivateTree`](super::PrivateTree).
//!
//! The encryptions of one path are independent; with the `parallel` feature and enough
//! recipients they run on the rayon pool.

use canopy_crypto::{
    CryptoProvider, HpkeKeyPair, HpkePublicKey, PreparedInfo, Secret, SignaturePublicKey, Signer,
    SuiteOps,
};

use super::diff::{TreeDiff, fresh_parent};
use super::error::TreeError;
use super::hash::parent_hash;
use super::math::{LeafIndex, NodeIndex, common_ancestor, left, right};
use super::private::PrivateTree;
use super::view::{TreeRead, in_subtree, resolve_node};
use crate::codec::{VarBytes, VarVec};
use crate::crypto::{
    decrypt_with_keys, derive_secret, encrypt_with_prepared, prepare_encrypt_context,
    sign_with_label,
};
use crate::rules::{At, Detail, Rule, Violation};
use crate::wire::{
    Capabilities, Credential, Extensions, HpkeCiphertext, HpkeCiphertexts, LeafNode,
    LeafNodeSource, Node, UpdatePath, UpdatePathNode,
};

/// RFC 9420 §7.6: the HPKE label of encrypted path secrets.
const UPDATE_PATH_NODE: &[u8] = b"UpdatePathNode";

/// RFC 9420 §7.5: the fields of a committer's new LeafNode that it chooses; the encryption
/// key, source (`commit` with the parent hash) and signature are filled in by
/// [`TreeDiff::create_update_path`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafTemplate {
    /// `signature_key`.
    pub signature_key: SignaturePublicKey,
    /// `credential`.
    pub credential: Credential,
    /// `capabilities`.
    pub capabilities: Capabilities,
    /// `extensions`.
    pub extensions: Extensions,
}

impl LeafTemplate {
    /// Keeps everything of `leaf` that the committer may keep.
    pub fn from_leaf(leaf: &LeafNode) -> Self {
        Self {
            signature_key: leaf.signature_key.clone(),
            credential: leaf.credential.clone(),
            capabilities: leaf.capabilities.clone(),
            extensions: leaf.extensions.clone(),
        }
    }
}

/// RFC 9420 §7.4, §7.5: a new path installed in a diff, before its path secrets are
/// encrypted. Holds the secrets; never printed.
///
/// The fields are crate-visible so that group state records can store and restore a pending
/// commit's path (`group::state`); nothing else builds one field by field.
#[must_use = "the path secrets must be encrypted with `encrypt`"]
pub struct PendingUpdatePath {
    pub(crate) sender: LeafIndex,
    pub(crate) leaf_node: LeafNode,
    /// The filtered direct path: each node with its copath child.
    pub(crate) filtered: Vec<(NodeIndex, NodeIndex)>,
    /// One path secret per node of `filtered`.
    pub(crate) path_secrets: Vec<Secret>,
    /// One key pair per node of `filtered`.
    pub(crate) node_keys: Vec<HpkeKeyPair>,
    pub(crate) leaf_key: HpkeKeyPair,
    pub(crate) commit_secret: Secret,
}

impl core::fmt::Debug for PendingUpdatePath {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PendingUpdatePath")
            .field("sender", &self.sender)
            .field("filtered", &self.filtered)
            .finish_non_exhaustive()
    }
}

/// RFC 9420 §7.5: what a receiver learns from an UpdatePath.
pub struct DecryptedPath {
    /// The path secret it decrypted (for the lowest node of the sender's filtered direct path
    /// above the receiver).
    pub path_secret: Secret,
    /// RFC 9420 §12.4.2: `commit_secret`, derived from the last path secret.
    pub commit_secret: Secret,
    /// The key pairs of the nodes from the decrypted one to the root.
    pub keys: Vec<(NodeIndex, HpkeKeyPair)>,
}

impl core::fmt::Debug for DecryptedPath {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DecryptedPath")
            .field(
                "nodes",
                &self.keys.iter().map(|(x, _)| *x).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// RFC 9420 §7.4: `KEM.DeriveKeyPair(DeriveSecret(path_secret, "node"))`.
///
/// # Errors
/// A crypto error from the backend.
pub(crate) fn derive_node_key(
    ops: &dyn SuiteOps,
    path_secret: &[u8],
) -> Result<HpkeKeyPair, TreeError> {
    let node_secret = derive_secret(ops, path_secret, b"node")?;
    Ok(ops.hpke_derive_key_pair(node_secret.as_bytes())?)
}

impl TreeDiff<'_> {
    /// RFC 9420 §7.4, §7.5: refreshes the direct path of `sender` in this diff: blanks it,
    /// derives path secrets from a random leaf secret (`path_secret[n+1] =
    /// DeriveSecret(path_secret[n], "path")`), sets the filtered-direct-path nodes with their
    /// parent hashes, and signs the new `commit` LeafNode built from `template`.
    ///
    /// Call it after the Commit's proposals are applied to this diff.
    ///
    /// # Errors
    /// [`TreeError::BlankLeaf`] / [`TreeError::LeafOutOfRange`] for a bad sender, crypto and
    /// encoding errors.
    pub fn create_update_path(
        &mut self,
        provider: &dyn CryptoProvider,
        ops: &dyn SuiteOps,
        sender: LeafIndex,
        group_id: &[u8],
        template: LeafTemplate,
        signer: &dyn Signer,
    ) -> Result<PendingUpdatePath, TreeError> {
        self.create_update_path_breaking(provider, ops, sender, group_id, template, signer, None)
    }

    /// [`Self::create_update_path`]; with `break_at`, the path secret of that path node is
    /// drawn at random instead of derived from the one below (a forged, inconsistent path,
    /// for the negative tests of RFC 9420 §7.5).
    pub(crate) fn create_update_path_breaking(
        &mut self,
        provider: &dyn CryptoProvider,
        ops: &dyn SuiteOps,
        sender: LeafIndex,
        group_id: &[u8],
        template: LeafTemplate,
        signer: &dyn Signer,
        break_at: Option<usize>,
    ) -> Result<PendingUpdatePath, TreeError> {
        self.require_member(sender)?;
        let filtered = self.filtered_direct_path(sender)?;
        let random_secret = || -> Result<Secret, TreeError> {
            let mut secret = vec![0u8; ops.params().kdf_len()];
            provider.fill_random(&mut secret)?;
            Ok(Secret::new(secret))
        };
        let leaf_secret = random_secret()?;
        let leaf_key = derive_node_key(ops, leaf_secret.as_bytes())?;
        let mut path_secrets = Vec::with_capacity(filtered.len());
        let mut node_keys = Vec::with_capacity(filtered.len());
        let mut current = derive_secret(ops, leaf_secret.as_bytes(), b"path")?;
        for i in 0..filtered.len() {
            if break_at == Some(i) {
                current = random_secret()?;
            }
            node_keys.push(derive_node_key(ops, current.as_bytes())?);
            let next = derive_secret(ops, current.as_bytes(), b"path")?;
            path_secrets.push(core::mem::replace(&mut current, next));
        }
        let publics: Vec<HpkePublicKey> = node_keys.iter().map(|k| k.public.clone()).collect();
        let leaf_parent_hash = self.install_path(ops, sender, &filtered, &publics)?;
        let mut leaf_node = LeafNode {
            encryption_key: leaf_key.public.clone(),
            signature_key: template.signature_key,
            credential: template.credential,
            capabilities: template.capabilities,
            leaf_node_source: LeafNodeSource::Commit(VarBytes(leaf_parent_hash)),
            extensions: template.extensions,
            signature: VarBytes(Vec::new()),
        };
        let tbs = leaf_node.tbs_bytes(group_id, sender.value())?;
        leaf_node.signature = VarBytes(sign_with_label(ops, signer, b"LeafNodeTBS", &tbs)?);
        self.set_node(sender.node(), Some(Node::leaf(leaf_node.clone())));
        Ok(PendingUpdatePath {
            sender,
            leaf_node,
            filtered,
            path_secrets,
            node_keys,
            leaf_key,
            commit_secret: current,
        })
    }

    /// RFC 9420 §12.4.2: applies the UpdatePath of a commit from the member at `sender`
    /// (after the commit's proposals): the path must have one node per filtered-direct-path
    /// node (CM-14) and the leaf's `parent_hash` must match the recomputed chain (CM-16). The
    /// leaf and the freshness of the path's keys are checked before, by the rules of
    /// [`crate::rules`] (`leaf_node_source` `commit` is required here to read the claimed
    /// parent hash).
    ///
    /// # Errors
    /// [`TreeError::Invalid`] naming the rule; [`TreeError::BlankLeaf`] if `sender` is not a
    /// member. The diff may then hold part of the path and should be dropped.
    pub fn apply_update_path(
        &mut self,
        ops: &dyn SuiteOps,
        sender: LeafIndex,
        path: &UpdatePath,
    ) -> Result<(), TreeError> {
        self.require_member(sender)?;
        self.merge_path(ops, sender, path)
    }

    /// RFC 9420 §12.4.2, §12.4.3.2: applies the UpdatePath of an external commit (after the
    /// commit's proposals): the new member takes the leftmost blank leaf, or a new leaf on
    /// the right if there is none, and its path is checked and merged as
    /// [`apply_update_path`](Self::apply_update_path) does. Returns the new member's leaf.
    ///
    /// # Errors
    /// As [`apply_update_path`](Self::apply_update_path), and [`TreeError::TooLarge`] if the
    /// tree cannot grow.
    pub fn apply_external_update_path(
        &mut self,
        ops: &dyn SuiteOps,
        path: &UpdatePath,
    ) -> Result<LeafIndex, TreeError> {
        let sender = self.next_leaf()?;
        self.merge_path(ops, sender, path)?;
        Ok(sender)
    }

    /// The leaf a new member takes: the leftmost blank one, or a new one on the right.
    pub(crate) fn next_leaf(&mut self) -> Result<LeafIndex, TreeError> {
        match self.leftmost_blank_leaf() {
            Some(l) => Ok(l),
            None => {
                let old = self.leaf_count().value();
                self.extend()?;
                LeafIndex::new(old).ok_or_else(|| TreeError::TooLarge {
                    len: usize::try_from(old).unwrap_or(usize::MAX),
                })
            }
        }
    }

    /// The checks and merge that a member's and a new member's UpdatePath share (RFC 9420
    /// §7.5, §7.9.2, §12.4.2): one path node per filtered-direct-path node, each node's key a
    /// valid key of the suite's KEM (TR-07), and the parent-hash chain.
    fn merge_path(
        &mut self,
        ops: &dyn SuiteOps,
        sender: LeafIndex,
        path: &UpdatePath,
    ) -> Result<(), TreeError> {
        let leaf = &path.leaf_node;
        let s = sender.value();
        let LeafNodeSource::Commit(claimed) = &leaf.leaf_node_source else {
            return Err(Violation::new(Rule::LeafSource)
                .at(At::Leaf(s))
                .with(Detail::Code {
                    expected: 3,
                    got: leaf.leaf_node_source.value().into(),
                })
                .into());
        };
        let filtered = self.filtered_direct_path(sender)?;
        if filtered.len() != path.nodes.len() {
            return Err(path_length(s, filtered.len(), path.nodes.len()).into());
        }
        // TR-07 for the parent nodes the path sets (its leaf's key is LN-17).
        for ((x, _), n) in filtered.iter().zip(path.nodes.as_slice()) {
            crate::crypto::check_hpke_public_key(ops, &n.encryption_key).map_err(|d| {
                Violation::new(Rule::TreeNodeKeyValid)
                    .at(At::Node(x.value()))
                    .with(d)
            })?;
        }
        let publics: Vec<HpkePublicKey> = path
            .nodes
            .as_slice()
            .iter()
            .map(|n| n.encryption_key.clone())
            .collect();
        let expected = self.install_path(ops, sender, &filtered, &publics)?;
        if expected.as_slice() != claimed.as_slice() {
            return Err(Violation::new(Rule::CommitPathParentHash)
                .at(At::Leaf(s))
                .into());
        }
        self.set_node(sender.node(), Some(Node::leaf(leaf.clone())));
        Ok(())
    }

    /// The node of this diff's tree, among the changed ones, that holds `key`.
    pub(crate) fn changed_node_with_key(&self, key: &HpkePublicKey) -> Option<NodeIndex> {
        self.changed_nodes()
            .find(|(_, n)| n.is_some_and(|n| node_key(n) == key.as_bytes()))
            .map(|(x, _)| x)
    }

    /// RFC 9420 §7.5, §7.9: blanks the direct path of `sender` and sets the filtered nodes to
    /// `publics` with empty unmerged leaves, computing parent hashes from the root down.
    /// Returns the parent hash the sender's LeafNode must carry.
    fn install_path(
        &mut self,
        ops: &dyn SuiteOps,
        sender: LeafIndex,
        filtered: &[(NodeIndex, NodeIndex)],
        publics: &[HpkePublicKey],
    ) -> Result<Vec<u8>, TreeError> {
        self.blank_direct_path(sender)?;
        let mut above = Vec::new();
        for (&(x, sibling), key) in filtered.iter().zip(publics).rev() {
            // The copath subtree is untouched by this path, so its hash is final.
            let sibling_hash = self.node_hash(ops, sibling)?;
            let ph = parent_hash(ops, key.as_bytes(), &above, &sibling_hash)?;
            self.set_node(x, Some(Node::parent(fresh_parent(key.clone(), above))));
            above = ph;
        }
        Ok(above)
    }
}

/// CM-14: an UpdatePath of `got` nodes for a filtered direct path of `expected`.
fn path_length(leaf: u32, expected: usize, got: usize) -> Violation {
    Violation::new(Rule::CommitPathLength)
        .at(At::Leaf(leaf))
        .with(Detail::Count { expected, got })
}

/// The encryption key of a node.
fn node_key(node: &Node) -> &[u8] {
    match node {
        Node::Leaf(l) => l.encryption_key.as_bytes(),
        Node::Parent(p) => p.encryption_key.as_bytes(),
    }
}

impl PendingUpdatePath {
    /// RFC 9420 §7.5, §7.6: encrypts each path secret to every node of the resolution of its
    /// copath child in `view` (the diff the path was created in), leaving out `new_leaves`
    /// (the members added by this Commit), with `EncryptWithLabel(pk, "UpdatePathNode",
    /// group_context, path_secret)`. `group_context` is the encoded provisional GroupContext.
    ///
    /// # Errors
    /// Crypto errors (an invalid recipient key).
    pub fn encrypt<T: TreeRead + ?Sized>(
        &self,
        view: &T,
        ops: &dyn SuiteOps,
        group_context: &[u8],
        new_leaves: &[LeafIndex],
    ) -> Result<UpdatePath, TreeError> {
        let mut excluded = new_leaves.to_vec();
        excluded.sort_unstable();
        excluded.dedup();
        let prepared = prepare_encrypt_context(ops, UPDATE_PATH_NODE, group_context)?;
        let mut jobs: Vec<(usize, HpkePublicKey)> = Vec::new();
        let mut counts = Vec::with_capacity(self.filtered.len());
        for (i, &(_, child)) in self.filtered.iter().enumerate() {
            let resolution = view.resolution_excluding(child, &excluded);
            counts.push(resolution.len());
            for r in resolution {
                let key = view
                    .node(r)
                    .map(node_key)
                    .ok_or(TreeError::Internal("blank node in a resolution"))?;
                jobs.push((i, HpkePublicKey::new(key.to_vec())));
            }
        }
        let mut ciphertexts = self.seal_all(ops, &prepared, &jobs)?.into_iter();
        let mut nodes = Vec::with_capacity(self.filtered.len());
        for (count, key) in counts.into_iter().zip(&self.node_keys) {
            let cts: Vec<HpkeCiphertext> = ciphertexts.by_ref().take(count).collect();
            nodes.push(UpdatePathNode {
                encryption_key: key.public.clone(),
                encrypted_path_secret: HpkeCiphertexts::new(&cts)?,
            });
        }
        Ok(UpdatePath {
            leaf_node: self.leaf_node.clone(),
            nodes: VarVec(nodes),
        })
    }

    /// Runs every HPKE seal, in parallel when there are many.
    fn seal_all(
        &self,
        ops: &dyn SuiteOps,
        prepared: &PreparedInfo,
        jobs: &[(usize, HpkePublicKey)],
    ) -> Result<Vec<HpkeCiphertext>, TreeError> {
        let seal = |(i, pk): &(usize, HpkePublicKey)| -> Result<HpkeCiphertext, TreeError> {
            let secret = self
                .path_secrets
                .get(*i)
                .ok_or(TreeError::Internal("path secret index"))?;
            Ok(encrypt_with_prepared(ops, pk, prepared, secret.as_bytes())?.into())
        };
        #[cfg(feature = "parallel")]
        {
            use rayon::prelude::*;
            if jobs.len() >= crate::parallel::SEALS {
                return jobs.par_iter().map(seal).collect();
            }
        }
        jobs.iter().map(seal).collect()
    }

    /// RFC 9420 §12.4.1: `commit_secret`, the path secret after the last one.
    pub fn commit_secret(&self) -> &Secret {
        &self.commit_secret
    }

    /// The committer's new, signed LeafNode.
    pub fn leaf_node(&self) -> &LeafNode {
        &self.leaf_node
    }

    /// RFC 9420 §12.4.3.1: the path secret of `node` (for a joiner's GroupSecrets), if it is
    /// on the filtered direct path.
    pub fn path_secret(&self, node: NodeIndex) -> Option<&Secret> {
        self.filtered
            .iter()
            .position(|&(x, _)| x == node)
            .and_then(|i| self.path_secrets.get(i))
    }

    /// The committer's whole private state after the path, for a member who has no other
    /// (a new member joining with an external commit, RFC 9420 §12.4.3.2).
    pub fn to_private(&self) -> PrivateTree {
        let mut private = PrivateTree::from_key_pair(self.sender, self.leaf_key.clone());
        self.update_private(&mut private);
        private
    }

    /// The committer's private state after the path: its new leaf key and the keys of its
    /// filtered direct path, merged into `private`.
    pub fn update_private(&self, private: &mut PrivateTree) {
        if private.leaf() != self.sender {
            return;
        }
        private.set_leaf_key(self.leaf_key.clone());
        let keys = self
            .filtered
            .iter()
            .map(|&(x, _)| x)
            .zip(self.node_keys.iter().cloned());
        private.insert_keys(keys);
    }
}

/// The position in `resolution_excluding(x, excluded)` of the first node whose private key
/// `private` holds, and that key (RFC 9420 §7.5).
///
/// Only the member's leaf and its direct path carry keys it holds, so the entry is in the
/// block of the first non-blank node on the way down from `x` to the member's leaf: that
/// node, or the leaf among its unmerged leaves. Every block to the left of the way down is
/// counted with [`TreeRead::resolution_len_excluding`] instead of being listed, which makes
/// this O(depth) with the trees' caches rather than O(size of the resolution).
fn own_resolution_entry<'k, T: TreeRead + ?Sized>(
    view: &T,
    private: &'k PrivateTree,
    x: NodeIndex,
    excluded: &[LeafIndex],
) -> Option<(usize, &'k HpkeKeyPair)> {
    let me = private.leaf().node();
    if !in_subtree(me, x) {
        return None;
    }
    let mut before = 0usize;
    let mut y = x;
    loop {
        let mut block = Vec::new();
        if resolve_node(y, view.node(y), excluded, &mut block) {
            return block.iter().enumerate().find_map(|(k, &r)| {
                private
                    .pair_for(view, r)
                    .map(|pair| (before.saturating_add(k), pair))
            });
        }
        let (l, r) = (left(y)?, right(y)?);
        if in_subtree(me, l) {
            y = l;
        } else {
            before = before.saturating_add(view.resolution_len_excluding(l, excluded));
            y = r;
        }
    }
}

/// RFC 9420 §7.5: decrypts the path secret of an UpdatePath from `sender` that was applied to
/// `view` (with [`TreeDiff::apply_update_path`]), derives the keys up to the root, checks
/// them against the UpdatePath, and derives the commit secret. `new_leaves` are the members
/// added by the Commit (left out of resolutions); `group_context` is the encoded provisional
/// GroupContext. Every UpdatePath node must carry one ciphertext per resolution node.
///
/// # Errors
/// [`TreeError::OwnPath`], [`TreeError::NoDecryptionKey`], and [`TreeError::Invalid`] with
/// CM-14 (path length), CM-15 (ciphertext counts), CM-17 (the path secret does not decrypt),
/// CM-18 (a derived key differs from the path).
pub fn decrypt_path<T: TreeRead + ?Sized>(
    view: &T,
    ops: &dyn SuiteOps,
    private: &PrivateTree,
    sender: LeafIndex,
    path: &UpdatePath,
    new_leaves: &[LeafIndex],
    group_context: &[u8],
) -> Result<DecryptedPath, TreeError> {
    let me = private.leaf();
    if me == sender {
        return Err(TreeError::OwnPath { leaf: me.value() });
    }
    let mut excluded = new_leaves.to_vec();
    excluded.sort_unstable();
    excluded.dedup();
    let filtered = view.filtered_direct_path(sender)?;
    let nodes = path.nodes.as_slice();
    if filtered.len() != nodes.len() {
        return Err(path_length(sender.value(), filtered.len(), nodes.len()).into());
    }
    let ancestor = common_ancestor(sender.node(), me.node());
    let mut mine = None;
    for (i, (&(x, child), node)) in filtered.iter().zip(nodes).enumerate() {
        let expected = view.resolution_len_excluding(child, &excluded);
        let got = node.encrypted_path_secret.len();
        if expected != got {
            return Err(Violation::new(Rule::CommitPathCiphertexts)
                .at(At::Node(x.value()))
                .with(Detail::Count { expected, got })
                .into());
        }
        if x == ancestor {
            mine = Some((i, x, child));
        }
    }
    let (start, x, child) = mine.ok_or_else(|| TreeError::NoDecryptionKey {
        node: ancestor.value(),
    })?;
    let (k, key) = own_resolution_entry(view, private, child, &excluded)
        .ok_or_else(|| TreeError::NoDecryptionKey { node: x.value() })?;
    let ct = nodes
        .get(start)
        .and_then(|n| n.encrypted_path_secret.get(k))
        .ok_or(TreeError::Internal("ciphertext index"))?;
    let path_secret = decrypt_with_keys(
        ops,
        &key.private,
        Some(&key.public),
        UPDATE_PATH_NODE,
        group_context,
        &ct.into(),
    )
    .map_err(|_| Violation::new(Rule::CommitPathDecrypt).at(At::Node(x.value())))?;
    let mut current = path_secret.clone();
    let mut keys = Vec::new();
    for (&(y, _), node) in filtered.iter().zip(nodes).skip(start) {
        let pair = derive_node_key(ops, current.as_bytes())?;
        if pair.public != node.encryption_key {
            return Err(Violation::new(Rule::CommitPathKeys)
                .at(At::Node(y.value()))
                .into());
        }
        keys.push((y, pair));
        current = derive_secret(ops, current.as_bytes(), b"path")?;
    }
    Ok(DecryptedPath {
        path_secret,
        commit_secret: current,
        keys,
    })
}
