//! `tree-operations.json`: an Add, Update or Remove proposal applied to a tree (RFC 9420
//! §12.1.1–§12.1.3, §7.7), staged in a diff and merged; the result must re-encode to
//! `tree_after` byte for byte and match both tree hashes.

use canopy_core::LeafIndex;
use canopy_core::advanced::tree::RatchetTree;
use canopy_core::wire::{self, Proposal};
use canopy_crypto::{CryptoProvider, SuiteOps};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    tree_before: Hex,
    proposal: Hex,
    proposal_sender: u32,
    tree_hash_before: Hex,
    tree_after: Hex,
    tree_hash_after: Hex,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(provider, c.cipher_suite, String::new, |ops| run(c, ops))
}

fn run(c: &Case, ops: &dyn SuiteOps) -> Result<(), String> {
    let before =
        wire::RatchetTree::from_bytes(&c.tree_before).map_err(|e| format!("tree_before: {e}"))?;
    let mut tree = RatchetTree::from_wire(ops, before).map_err(|e| format!("tree_before: {e}"))?;
    expect_eq("tree_hash_before", &c.tree_hash_before, tree.tree_hash())?;
    let proposal = Proposal::from_bytes(&c.proposal).map_err(|e| format!("proposal: {e}"))?;
    let sender = LeafIndex::new(c.proposal_sender).ok_or("proposal_sender")?;
    let mut diff = tree.diff();
    let applied = match proposal {
        Proposal::Add(add) => diff.add_leaf(add.key_package.leaf_node).map(|_| ()),
        Proposal::Update(update) => diff.update_leaf(sender, update.leaf_node),
        Proposal::Remove(remove) => {
            let removed = LeafIndex::new(remove.removed).ok_or("removed index")?;
            diff.remove_leaf(removed)
        }
        other => return Err(format!("unexpected proposal {other:?}")),
    };
    applied.map_err(|e| format!("applying the proposal: {e}"))?;
    let staged = diff.stage(ops).map_err(|e| e.to_string())?;
    expect_eq("staged tree hash", &c.tree_hash_after, staged.tree_hash())?;
    tree.merge(staged).map_err(|e| e.to_string())?;
    let after = tree
        .to_wire()
        .and_then(|t| Ok(t.to_bytes()?))
        .map_err(|e| e.to_string())?;
    expect_eq("tree_after", &c.tree_after, &after)?;
    expect_eq("tree_hash_after", &c.tree_hash_after, tree.tree_hash())?;
    let scratch = tree
        .tree_hash_from_scratch(ops)
        .map_err(|e| e.to_string())?;
    expect_eq("tree hash from scratch", &c.tree_hash_after, &scratch)
}
