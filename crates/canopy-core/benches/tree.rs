//! Ratchet-tree costs at 1,000, 10,000 and 50,000 members (suite 0x0001), for two shapes:
//!
//! - `full`: every parent non-blank (built by a commit from every even leaf, right to left);
//! - `one-commit`: the creator added everyone in one commit, so only its path is non-blank
//!   and resolutions elsewhere are large.
//!
//! Per shape and size: the root tree hash from scratch, merging one received UpdatePath
//! (apply with signature and parent-hash checks, provisional tree hash, one decryption with
//! the ciphertext-count checks, stage, merge), creating one UpdatePath (path keys, parent
//! hashes, signed leaf, tree hash, every HPKE encryption), and validating the whole tree as a
//! joiner does. The sender of the measured paths is leaf 1, whose filtered direct path is the
//! whole direct path (log2 of the leaf count); the receiver is leaf 0, which decrypts at the
//! lowest node and so derives every key of the path.
//!
//! `cargo bench -p canopy-core --bench tree`; `CANOPY_BENCH_SIZES=1000,10000` picks sizes.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    // The bench reports its setup time; the sans-IO clock ban is for the library.
    clippy::disallowed_methods
)]

use std::time::{Duration, Instant};

use canopy_core::LeafIndex;
use canopy_core::advanced::codec::{VarBytes, VarVec};
use canopy_core::advanced::crypto::sign_with_label;
use canopy_core::advanced::tree::{
    LeafTemplate, PrivateTree, RatchetTree, TreeChecks, TreeRead, decrypt_path,
};
use canopy_core::wire::{
    Capabilities, Credential, CredentialType, Extensions, LeafNode, LeafNodeSource, Lifetime,
    ProtocolVersion, UpdatePath,
};
use canopy_crypto::{CipherSuite, CryptoProvider, HpkePrivateKey, SignatureKeyPair, SuiteOps};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
const GROUP_ID: &[u8] = b"canopy bench group";
/// Stands in for the encoded provisional GroupContext (its size is realistic).
const CONTEXT: &[u8] = &[0x42; 120];

struct Member {
    leaf: LeafNode,
    signer: SignatureKeyPair,
    enc: HpkePrivateKey,
}

fn member(ops: &dyn SuiteOps, i: u32) -> Member {
    let sig = ops.signature_generate_key_pair().unwrap();
    let enc = ops.hpke_generate_key_pair().unwrap();
    let mut leaf = LeafNode {
        encryption_key: enc.public,
        signature_key: sig.public.clone(),
        credential: Credential::Basic {
            identity: VarBytes(format!("member-{i:06}").into_bytes()),
        },
        capabilities: Capabilities {
            versions: VarVec(vec![ProtocolVersion::MLS10]),
            cipher_suites: vec![SUITE],
            extensions: VarVec(Vec::new()),
            proposals: VarVec(Vec::new()),
            credentials: VarVec(vec![CredentialType::BASIC]),
        },
        leaf_node_source: LeafNodeSource::KeyPackage(Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        }),
        extensions: Extensions::default(),
        signature: VarBytes(Vec::new()),
    };
    let tbs = leaf.tbs_bytes(GROUP_ID, 0).unwrap();
    leaf.signature = VarBytes(sign_with_label(ops, &sig, b"LeafNodeTBS", &tbs).unwrap());
    Member {
        leaf,
        signer: sig,
        enc: enc.private,
    }
}

/// A tree, the measured sender and its signer, and leaf 0's private state.
struct Group {
    tree: RatchetTree,
    /// The sender of measured paths (leaf 1).
    sender: u32,
    sender_signer: SignatureKeyPair,
    receiver: PrivateTree,
}

/// Leaf `sender` commits with a path (encryption skipped: only the tree matters here).
fn commit_unencrypted(
    provider: &dyn CryptoProvider,
    ops: &dyn SuiteOps,
    tree: &mut RatchetTree,
    sender: u32,
    signer: &SignatureKeyPair,
    adds: Vec<LeafNode>,
    private: Option<&mut PrivateTree>,
) {
    let s = LeafIndex::new(sender).unwrap();
    let mut diff = tree.diff();
    for leaf in adds {
        diff.add_leaf(leaf).unwrap();
    }
    let template = LeafTemplate::from_leaf(tree.leaf(s).unwrap());
    let pending = diff
        .create_update_path(provider, ops, s, GROUP_ID, template, signer)
        .unwrap();
    let staged = diff.stage(ops).unwrap();
    tree.merge(staged).unwrap();
    if let Some(p) = private {
        pending.update_private(p);
    }
}

/// Every parent non-blank: the creator adds everyone, then every even leaf commits, from the
/// right, so leaf 0's commit comes last.
fn full_tree(provider: &dyn CryptoProvider, ops: &dyn SuiteOps, n: u32) -> Group {
    let members: Vec<Member> = (0..n).map(|i| member(ops, i)).collect();
    let mut tree = RatchetTree::new(ops, members[0].leaf.clone()).unwrap();
    let mut diff = tree.diff();
    for m in &members[1..] {
        diff.add_leaf(m.leaf.clone()).unwrap();
    }
    tree.merge(diff.stage(ops).unwrap()).unwrap();
    let mut receiver =
        PrivateTree::new(ops, LeafIndex::new(0).unwrap(), members[0].enc.clone()).unwrap();
    for i in (0..n).step_by(2).rev() {
        let private = (i == 0).then_some(&mut receiver);
        commit_unencrypted(
            provider,
            ops,
            &mut tree,
            i,
            &members[i as usize].signer,
            Vec::new(),
            private,
        );
    }
    Group {
        tree,
        sender: 1,
        sender_signer: members[1].signer.clone(),
        receiver,
    }
}

/// The creator adds everyone in one commit with a path.
fn one_commit_tree(provider: &dyn CryptoProvider, ops: &dyn SuiteOps, n: u32) -> Group {
    let members: Vec<Member> = (0..n).map(|i| member(ops, i)).collect();
    let mut tree = RatchetTree::new(ops, members[0].leaf.clone()).unwrap();
    let mut receiver =
        PrivateTree::new(ops, LeafIndex::new(0).unwrap(), members[0].enc.clone()).unwrap();
    let adds = members[1..].iter().map(|m| m.leaf.clone()).collect();
    commit_unencrypted(
        provider,
        ops,
        &mut tree,
        0,
        &members[0].signer,
        adds,
        Some(&mut receiver),
    );
    Group {
        tree,
        sender: 1,
        sender_signer: members[1].signer.clone(),
        receiver,
    }
}

/// A complete UpdatePath from the measured sender.
fn create_path(provider: &dyn CryptoProvider, ops: &dyn SuiteOps, g: &Group) -> UpdatePath {
    let s = LeafIndex::new(g.sender).unwrap();
    let mut diff = g.tree.diff();
    let template = LeafTemplate::from_leaf(g.tree.leaf(s).unwrap());
    let pending = diff
        .create_update_path(provider, ops, s, GROUP_ID, template, &g.sender_signer)
        .unwrap();
    let _tree_hash = diff.tree_hash(ops).unwrap();
    pending.encrypt(&diff, ops, CONTEXT, &[]).unwrap()
}

/// A receiver (leaf 0) processes `path` from `sender` and merges it.
fn merge_path(
    ops: &dyn SuiteOps,
    mut tree: RatchetTree,
    sender: u32,
    receiver: &PrivateTree,
    path: &UpdatePath,
) -> RatchetTree {
    let s = LeafIndex::new(sender).unwrap();
    let mut diff = tree.diff();
    diff.apply_update_path(ops, s, path).unwrap();
    let _tree_hash = diff.tree_hash(ops).unwrap();
    let secrets = decrypt_path(&diff, ops, receiver, s, path, &[], CONTEXT).unwrap();
    assert!(!secrets.commit_secret.is_empty());
    let staged = diff.stage(ops).unwrap();
    tree.merge(staged).unwrap();
    tree
}

fn sizes() -> Vec<u32> {
    std::env::var("CANOPY_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000, 50_000])
}

fn tree(c: &mut Criterion) {
    let provider = RustCryptoProvider::new();
    let ops = provider.suite(SUITE).unwrap();
    type Build = fn(&dyn CryptoProvider, &dyn SuiteOps, u32) -> Group;
    let shapes: [(&str, Build); 2] = [("full", full_tree), ("one-commit", one_commit_tree)];
    for (shape, build) in shapes {
        let mut group = c.benchmark_group(format!("tree {shape}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        for n in sizes() {
            let started = Instant::now();
            let g = build(&provider, ops, n);
            g.tree.validate(ops, &checks()).unwrap();
            g.receiver.check(&g.tree).unwrap();
            let path = create_path(&provider, ops, &g);
            let cts: usize = path
                .nodes
                .as_slice()
                .iter()
                .map(|n| n.encrypted_path_secret.len())
                .sum();
            eprintln!(
                "setup {shape} n={n}: {:.1?}; path from leaf {}: {} nodes, {cts} ciphertexts",
                started.elapsed(),
                g.sender,
                path.nodes.len(),
            );

            group.bench_function(BenchmarkId::new("tree hash from scratch", n), |b| {
                b.iter(|| g.tree.tree_hash_from_scratch(ops).unwrap())
            });
            group.bench_function(BenchmarkId::new("merge one UpdatePath", n), |b| {
                b.iter_batched(
                    || g.tree.clone(),
                    |t| merge_path(ops, t, g.sender, &g.receiver, &path),
                    BatchSize::LargeInput,
                )
            });
            group.bench_function(BenchmarkId::new("create one UpdatePath", n), |b| {
                b.iter(|| create_path(&provider, ops, &g))
            });
            group.bench_function(BenchmarkId::new("validate received tree", n), |b| {
                b.iter(|| g.tree.validate(ops, &checks()).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, tree);
criterion_main!(benches);

/// Tree validation as a joiner runs it, lifetimes aside: every rule, with a validator that
/// accepts basic credentials.
fn checks() -> TreeChecks<'static> {
    static VALIDATOR: canopy_core::key_package::BasicCredentialValidator =
        canopy_core::key_package::BasicCredentialValidator::new();
    TreeChecks {
        group_id: GROUP_ID,
        group: canopy_core::key_package::GroupRequirements::mls10(),
        lifetime: canopy_core::advanced::tree::LifetimePolicy::unchecked(),
        validator: &VALIDATOR,
    }
}
