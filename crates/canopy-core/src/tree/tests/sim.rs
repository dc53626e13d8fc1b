//! A small deterministic-shape group simulation over the real crypto provider: members with
//! signature keys and private trees, adds, removes, updates and commits with paths that every
//! member processes. Used by the rule and property tests.

use std::collections::BTreeMap;

use canopy_crypto::{
    CipherSuite, CryptoProvider, HpkePrivateKey, SignatureKeyPair, Signer, SuiteOps,
};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use crate::codec::{VarBytes, VarVec};
use crate::crypto::sign_with_label;
use crate::tree::math::{LeafIndex, NodeIndex, common_ancestor};
use crate::tree::{
    LeafTemplate, PrivateTree, RatchetTree, TreeChecks, TreeDiff, TreeRead, decrypt_path,
    in_subtree,
};
use crate::wire::{
    Capabilities, Credential, CredentialType, Extensions, GroupContext, LeafNode, LeafNodeSource,
    Lifetime, ProtocolVersion,
};

pub(super) const GROUP_ID: &[u8] = b"canopy tree tests";
pub(super) const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

pub(super) fn provider() -> &'static RustCryptoProvider {
    static P: std::sync::OnceLock<RustCryptoProvider> = std::sync::OnceLock::new();
    P.get_or_init(RustCryptoProvider::new)
}

pub(super) fn ops() -> &'static dyn SuiteOps {
    provider().suite(SUITE).unwrap()
}

/// Default capabilities: mls10, suite 1, basic credentials.
pub(super) fn capabilities() -> Capabilities {
    Capabilities {
        versions: VarVec(vec![ProtocolVersion::MLS10]),
        cipher_suites: vec![SUITE],
        extensions: VarVec(Vec::new()),
        proposals: VarVec(Vec::new()),
        credentials: VarVec(vec![CredentialType::BASIC]),
    }
}

/// Signs `leaf` in place for position `index`.
pub(super) fn sign_leaf(leaf: &mut LeafNode, signer: &dyn Signer, index: u32) {
    let tbs = leaf.tbs_bytes(GROUP_ID, index).unwrap();
    leaf.signature = VarBytes(sign_with_label(ops(), signer, b"LeafNodeTBS", &tbs).unwrap());
}

/// A fresh key-package leaf, its signature key and its HPKE private key.
pub(super) fn key_package_leaf(name: u32) -> (LeafNode, SignatureKeyPair, HpkePrivateKey) {
    let sig = ops().signature_generate_key_pair().unwrap();
    let enc = ops().hpke_generate_key_pair().unwrap();
    let mut leaf = LeafNode {
        encryption_key: enc.public,
        signature_key: sig.public.clone(),
        credential: Credential::Basic {
            identity: VarBytes(format!("member {name}").into_bytes()),
        },
        capabilities: capabilities(),
        leaf_node_source: LeafNodeSource::KeyPackage(Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        }),
        extensions: Extensions::default(),
        signature: VarBytes(Vec::new()),
    };
    sign_leaf(&mut leaf, &sig, 0);
    (leaf, sig, enc.private)
}

pub(super) struct Member {
    pub(super) signer: SignatureKeyPair,
    pub(super) private: PrivateTree,
}

/// A group's public tree and every member's private state.
pub(super) struct Sim {
    pub(super) tree: RatchetTree,
    pub(super) members: BTreeMap<u32, Member>,
    pub(super) epoch: u64,
    names: u32,
}

fn leaf_index(l: u32) -> LeafIndex {
    LeafIndex::new(l).unwrap()
}

impl Sim {
    /// A one-member group.
    pub(super) fn new() -> Self {
        let (leaf, signer, enc) = key_package_leaf(0);
        let tree = RatchetTree::new(ops(), leaf).unwrap();
        let private = PrivateTree::new(ops(), leaf_index(0), enc).unwrap();
        Self {
            tree,
            members: BTreeMap::from([(0, Member { signer, private })]),
            epoch: 0,
            names: 1,
        }
    }

    /// `get_tree(n)` of the test vectors: leaf `i` commits adding leaf `i + 1`.
    pub(super) fn chain(n: u32) -> Self {
        let mut sim = Self::new();
        for i in 0..n.saturating_sub(1) {
            sim.commit(i, 1);
        }
        sim
    }

    fn context(&self, tree_hash: Vec<u8>) -> Vec<u8> {
        GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: SUITE,
            group_id: GROUP_ID.to_vec().into(),
            epoch: self.epoch,
            tree_hash: tree_hash.into(),
            confirmed_transcript_hash: VarBytes(Vec::new()),
            extensions: Extensions::default(),
        }
        .to_bytes()
        .unwrap()
    }

    fn new_leaves(&mut self, count: usize) -> Vec<(LeafNode, SignatureKeyPair, HpkePrivateKey)> {
        (0..count)
            .map(|_| {
                self.names += 1;
                key_package_leaf(self.names)
            })
            .collect()
    }

    /// Adds one member without a commit path.
    pub(super) fn add(&mut self) -> u32 {
        let mut joiners = self.new_leaves(1);
        let (leaf, signer, enc) = joiners.pop().unwrap();
        let mut diff = self.tree.diff();
        let at = diff.add_leaf(leaf).unwrap();
        let staged = diff.stage(ops()).unwrap();
        self.tree.merge(staged).unwrap();
        let private = PrivateTree::new(ops(), at, enc).unwrap();
        self.members.insert(at.value(), Member { signer, private });
        self.after_merge();
        at.value()
    }

    /// Removes member `l` without a commit path.
    pub(super) fn remove(&mut self, l: u32) {
        let mut diff = self.tree.diff();
        diff.remove_leaf(leaf_index(l)).unwrap();
        let staged = diff.stage(ops()).unwrap();
        self.tree.merge(staged).unwrap();
        self.members.remove(&l);
        self.after_merge();
    }

    /// Member `l` replaces its leaf (an Update proposal, committed without a path).
    pub(super) fn update(&mut self, l: u32) {
        let old = self.tree.leaf(leaf_index(l)).unwrap().clone();
        let enc = ops().hpke_generate_key_pair().unwrap();
        let mut leaf = LeafNode {
            encryption_key: enc.public,
            leaf_node_source: LeafNodeSource::Update,
            ..old
        };
        let member = self.members.get_mut(&l).unwrap();
        sign_leaf(&mut leaf, &member.signer, l);
        let mut diff = self.tree.diff();
        diff.update_leaf(leaf_index(l), leaf).unwrap();
        let staged = diff.stage(ops()).unwrap();
        self.tree.merge(staged).unwrap();
        member.private = PrivateTree::new(ops(), leaf_index(l), enc.private).unwrap();
        self.after_merge();
    }

    /// Member `sender` commits `adds` new members with a path; every other member applies and
    /// decrypts it and must derive the same commit secret; joiners get their path secret as
    /// from a Welcome.
    pub(super) fn commit(&mut self, sender: u32, adds: usize) {
        let s = leaf_index(sender);
        let joiners = self.new_leaves(adds);
        let mut diff: TreeDiff<'_> = self.tree.diff();
        let mut added = Vec::new();
        for (leaf, _, _) in &joiners {
            added.push(diff.add_leaf(leaf.clone()).unwrap());
        }
        let template = LeafTemplate::from_leaf(self.tree.leaf(s).unwrap());
        let signer = &self.members[&sender].signer;
        let pending = diff
            .create_update_path(provider(), ops(), s, GROUP_ID, template, signer)
            .unwrap();
        let tree_hash = diff.tree_hash(ops()).unwrap();
        let ctx = self.context(tree_hash.clone());
        let path = pending.encrypt(&diff, ops(), &ctx, &added).unwrap();

        let mut decrypted = Vec::new();
        for (&l, member) in &self.members {
            if l == sender {
                continue;
            }
            let mut theirs = self.tree.diff();
            for (leaf, _, _) in &joiners {
                theirs.add_leaf(leaf.clone()).unwrap();
            }
            theirs.apply_update_path(ops(), s, &path).unwrap();
            assert_eq!(theirs.tree_hash(ops()).unwrap(), tree_hash);
            let got =
                decrypt_path(&theirs, ops(), &member.private, s, &path, &added, &ctx).unwrap();
            assert_eq!(&got.commit_secret, pending.commit_secret(), "leaf {l}");
            decrypted.push((l, got));
        }
        let staged = diff.stage(ops()).unwrap();
        assert_eq!(staged.tree_hash(), tree_hash.as_slice());
        self.tree.merge(staged).unwrap();
        for (l, got) in decrypted {
            self.members.get_mut(&l).unwrap().private.apply(&got);
        }
        pending.update_private(&mut self.members.get_mut(&sender).unwrap().private);
        for ((_, signer, enc), at) in joiners.into_iter().zip(added) {
            let mut private = PrivateTree::new(ops(), at, enc).unwrap();
            let ancestor = common_ancestor(s.node(), at.node());
            if let Some(secret) = pending.path_secret(ancestor) {
                private
                    .insert_path_secret_chain(ops(), &self.tree, ancestor, secret.as_bytes())
                    .unwrap();
            }
            self.members.insert(at.value(), Member { signer, private });
        }
        self.after_merge();
    }

    fn after_merge(&mut self) {
        self.epoch += 1;
        for member in self.members.values_mut() {
            member.private.prune(&self.tree);
        }
    }

    /// Every invariant of a consistent group.
    pub(super) fn check(&self) {
        self.tree.validate(ops(), &lenient_checks()).unwrap();
        assert_eq!(
            self.tree.tree_hash(),
            self.tree.tree_hash_from_scratch(ops()).unwrap().as_slice()
        );
        let round_trip = RatchetTree::from_wire(ops(), self.tree.to_wire().unwrap()).unwrap();
        assert_eq!(round_trip.tree_hash(), self.tree.tree_hash());
        assert_eq!(round_trip.nodes(), self.tree.nodes());
        assert_eq!(
            self.tree.leftmost_blank_leaf(),
            self.tree.leftmost_blank_leaf_scan()
        );
        assert_eq!(self.tree.member_count() as usize, self.members.len());
        // The occupancy cache agrees with a scan of every subtree.
        let nodes = self.tree.nodes();
        for i in 0..nodes.len() {
            let x = NodeIndex::new(i as u32).unwrap();
            let occupied = nodes
                .iter()
                .enumerate()
                .any(|(j, n)| n.is_some() && in_subtree(NodeIndex::new(j as u32).unwrap(), x));
            assert_eq!(self.tree.resolution_is_empty(x), !occupied, "node {i}");
        }
        // The resolution-length cache agrees with the resolutions, with and without leaves
        // left out (every other member's, as a Commit leaves out the ones it adds).
        let mut excluded: Vec<LeafIndex> = self.members.keys().map(|&l| leaf_index(l)).collect();
        excluded.sort_unstable();
        let every_other: Vec<LeafIndex> = excluded.iter().copied().step_by(2).collect();
        for i in 0..nodes.len() {
            let x = NodeIndex::new(i as u32).unwrap();
            for left_out in [&[][..], &every_other] {
                assert_eq!(
                    self.tree.resolution_len_excluding(x, left_out),
                    self.tree.resolution_excluding(x, left_out).len(),
                    "node {i}"
                );
                let diff = self.tree.diff();
                assert_eq!(
                    diff.resolution_len_excluding(x, left_out),
                    diff.resolution_excluding(x, left_out).len(),
                    "node {i} through a diff"
                );
            }
        }
        for (l, member) in &self.members {
            assert!(self.tree.leaf(leaf_index(*l)).is_some());
            member.private.check(&self.tree).unwrap();
        }
    }
}

/// The validator of the tree tests: basic credentials, and x509 ones unchecked.
pub(super) static VALIDATOR: crate::key_package::BasicCredentialValidator =
    crate::key_package::BasicCredentialValidator::new().dangerous_accept_unverified_x509();

/// Checks of a tree of group [`GROUP_ID`] with `lifetime` and GroupContext `extensions`.
pub(super) fn checks_with(
    lifetime: crate::tree::LifetimePolicy,
    extensions: Option<&Extensions>,
) -> TreeChecks<'_> {
    TreeChecks {
        group_id: GROUP_ID,
        group: crate::key_package::GroupRequirements {
            version: ProtocolVersion::MLS10,
            extensions,
            provider: None,
        },
        lifetime,
        validator: &VALIDATOR,
    }
}

/// Checks that ignore lifetimes and have no GroupContext extensions.
pub(super) fn lenient_checks() -> TreeChecks<'static> {
    checks_with(crate::tree::LifetimePolicy::unchecked(), None)
}
