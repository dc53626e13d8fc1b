//! `treekem.json`: UpdatePaths over trees of 2–8 leaves (RFC 9420 §7.4–§7.6). For each given
//! path: apply it (leaf signature, key uniqueness, parent-hash chain), have every other member
//! decrypt it (path secret and commit secret), and match the tree hash after the merge. Then
//! create a fresh UpdatePath from the same sender and check that every other member applies it
//! and derives the same commit secret, and that the merged tree still validates.
//!
//! The HPKE context is the GroupContext with the case's suite, group id, epoch and confirmed
//! transcript hash, no extensions, and the tree hash *after* the path is merged.

use canopy_core::advanced::tree::math::{LeafIndex, NodeIndex};
use canopy_core::advanced::tree::{
    LeafTemplate, PrivateTree, RatchetTree, TreeDiff, TreeRead, decrypt_path,
};
use canopy_core::wire::{self, GroupContext, ProtocolVersion, UpdatePath};
use canopy_crypto::{
    CipherSuite, CryptoProvider, HpkePrivateKey, SignatureKeyPair, SignaturePrivateKey, SuiteOps,
};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    group_id: Hex,
    epoch: u64,
    confirmed_transcript_hash: Hex,
    ratchet_tree: Hex,
    leaves_private: Vec<LeafPrivate>,
    update_paths: Vec<PathCase>,
}

#[derive(Deserialize)]
struct LeafPrivate {
    index: u32,
    encryption_priv: Hex,
    signature_priv: Hex,
    path_secrets: Vec<NodeSecret>,
}

#[derive(Deserialize)]
struct NodeSecret {
    node: u32,
    path_secret: Hex,
}

#[derive(Deserialize)]
struct PathCase {
    sender: u32,
    update_path: Hex,
    path_secrets: Vec<Option<Hex>>,
    commit_secret: Hex,
    tree_hash_after: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(
        provider,
        c.cipher_suite,
        || format!(", {} members", c.leaves_private.len()),
        |ops| run(c, provider, ops),
    )
}

fn run(c: &Case, provider: &dyn CryptoProvider, ops: &dyn SuiteOps) -> Result<(), String> {
    let wire_tree =
        wire::RatchetTree::from_bytes(&c.ratchet_tree).map_err(|e| format!("ratchet_tree: {e}"))?;
    let tree = RatchetTree::from_wire(ops, wire_tree).map_err(|e| format!("ratchet_tree: {e}"))?;
    let mut members = Vec::with_capacity(c.leaves_private.len());
    for lp in &c.leaves_private {
        let leaf = LeafIndex::new(lp.index).ok_or("leaf index")?;
        let mut private =
            PrivateTree::new(ops, leaf, HpkePrivateKey::from_slice(&lp.encryption_priv))
                .map_err(|e| format!("leaf {}: {e}", lp.index))?;
        for ps in &lp.path_secrets {
            let node = NodeIndex::new(ps.node).ok_or("node index")?;
            private
                .insert_path_secret(ops, node, &ps.path_secret)
                .map_err(|e| format!("leaf {}: {e}", lp.index))?;
        }
        private
            .check(&tree)
            .map_err(|e| format!("private state of leaf {}: {e}", lp.index))?;
        members.push((private, lp));
    }
    for (k, pc) in c.update_paths.iter().enumerate() {
        check_given_path(c, ops, &tree, &members, pc)
            .map_err(|e| format!("update path {k}: {e}"))?;
        check_fresh_path(c, provider, ops, &tree, &members, pc.sender)
            .map_err(|e| format!("fresh path from {}: {e}", pc.sender))?;
    }
    Ok(())
}

/// The provisional GroupContext of the case with `tree_hash`.
fn context(c: &Case, tree_hash: Vec<u8>) -> Result<Vec<u8>, String> {
    GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite(c.cipher_suite),
        group_id: c.group_id.0.clone().into(),
        epoch: c.epoch,
        tree_hash: tree_hash.into(),
        confirmed_transcript_hash: c.confirmed_transcript_hash.0.clone().into(),
        extensions: wire::Extensions::default(),
    }
    .to_bytes()
    .map_err(|e| e.to_string())
}

/// RFC 9420 §7.3, §12.4.2: the UpdatePath's leaf is a valid `commit` leaf of `sender`.
fn check_path_leaf(
    ops: &dyn SuiteOps,
    tree: &RatchetTree,
    c: &Case,
    sender: LeafIndex,
    path: &UpdatePath,
) -> Result<(), String> {
    canopy_core::key_package::validate_leaf_node(
        ops,
        &path.leaf_node,
        canopy_core::key_package::LeafNodeRole::Commit {
            group_id: &c.group_id,
            leaf_index: sender.value(),
            replaced: tree.leaf(sender),
        },
        &canopy_core::key_package::GroupRequirements::mls10(),
        &canopy_core::advanced::tree::LifetimePolicy::unchecked(),
        &super::AcceptAll,
    )
    .map_err(|e| format!("path leaf: {e}"))
}

fn check_given_path(
    c: &Case,
    ops: &dyn SuiteOps,
    tree: &RatchetTree,
    members: &[(PrivateTree, &LeafPrivate)],
    pc: &PathCase,
) -> Result<(), String> {
    let sender = LeafIndex::new(pc.sender).ok_or("sender")?;
    let path = UpdatePath::from_bytes(&pc.update_path).map_err(|e| format!("decode: {e}"))?;
    check_path_leaf(ops, tree, c, sender, &path)?;
    let mut diff = tree.diff();
    diff.apply_update_path(ops, sender, &path)
        .map_err(|e| format!("apply: {e}"))?;
    let tree_hash = diff.tree_hash(ops).map_err(|e| e.to_string())?;
    expect_eq("tree_hash_after", &pc.tree_hash_after, &tree_hash)?;
    let ctx = context(c, tree_hash)?;
    for (private, lp) in members {
        if lp.index == pc.sender {
            continue;
        }
        let got = decrypt_path(&diff, ops, private, sender, &path, &[], &ctx)
            .map_err(|e| format!("leaf {} decrypting: {e}", lp.index))?;
        let expected = pc
            .path_secrets
            .get(usize::try_from(lp.index).map_err(|e| e.to_string())?)
            .and_then(Option::as_ref)
            .ok_or_else(|| format!("no expected path secret for leaf {}", lp.index))?;
        expect_eq(
            &format!("path secret of leaf {}", lp.index),
            expected,
            got.path_secret.as_bytes(),
        )?;
        expect_eq(
            &format!("commit secret of leaf {}", lp.index),
            &pc.commit_secret,
            got.commit_secret.as_bytes(),
        )?;
    }
    let staged = diff.stage(ops).map_err(|e| e.to_string())?;
    let mut merged = tree.clone();
    merged.merge(staged).map_err(|e| e.to_string())?;
    expect_eq("merged tree hash", &pc.tree_hash_after, merged.tree_hash())?;
    Ok(())
}

fn check_fresh_path(
    c: &Case,
    provider: &dyn CryptoProvider,
    ops: &dyn SuiteOps,
    tree: &RatchetTree,
    members: &[(PrivateTree, &LeafPrivate)],
    sender_index: u32,
) -> Result<(), String> {
    let sender = LeafIndex::new(sender_index).ok_or("sender")?;
    let (_, lp) = members
        .iter()
        .find(|(_, lp)| lp.index == sender_index)
        .ok_or("no private state for the sender")?;
    let template = LeafTemplate::from_leaf(tree.leaf(sender).ok_or("sender leaf is blank")?);
    let signer =
        SignatureKeyPair::from_private(ops, SignaturePrivateKey::from_slice(&lp.signature_priv))
            .map_err(|e| format!("signature key: {e}"))?;
    let mut diff: TreeDiff<'_> = tree.diff();
    let pending = diff
        .create_update_path(provider, ops, sender, &c.group_id, template, &signer)
        .map_err(|e| format!("create: {e}"))?;
    let tree_hash = diff.tree_hash(ops).map_err(|e| e.to_string())?;
    let ctx = context(c, tree_hash.clone())?;
    let path = pending
        .encrypt(&diff, ops, &ctx, &[])
        .map_err(|e| format!("encrypt: {e}"))?;
    check_path_leaf(ops, tree, c, sender, &path)?;
    let mut received = tree.diff();
    received
        .apply_update_path(ops, sender, &path)
        .map_err(|e| format!("apply: {e}"))?;
    let received_hash = received.tree_hash(ops).map_err(|e| e.to_string())?;
    expect_eq("receiver's tree hash", &tree_hash, &received_hash)?;
    for (private, lp) in members {
        if lp.index == sender_index {
            continue;
        }
        let got = decrypt_path(&received, ops, private, sender, &path, &[], &ctx)
            .map_err(|e| format!("leaf {} decrypting: {e}", lp.index))?;
        expect_eq(
            &format!("commit secret of leaf {}", lp.index),
            pending.commit_secret().as_bytes(),
            got.commit_secret.as_bytes(),
        )?;
    }
    let mut merged = tree.clone();
    merged
        .merge(diff.stage(ops).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    merged
        .validate(ops, &super::tree_checks(&c.group_id))
        .map_err(|e| format!("tree after the fresh path: {e}"))
}
