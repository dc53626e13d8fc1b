//! `tree-validation.json`: resolutions and tree hashes of every node of 14 trees per suite,
//! and full validation (leaf signatures with the case's group id, parent hashes, unmerged
//! leaves, key uniqueness) as when joining. Lifetimes are ignored: the key-package leaves
//! expired in 2024.

use canopy_core::advanced::tree::math::NodeIndex;
use canopy_core::advanced::tree::{RatchetTree, TreeRead};
use canopy_core::wire;
use canopy_crypto::{CryptoProvider, SuiteOps};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, with_suite};

#[derive(Deserialize)]
pub(crate) struct Case {
    cipher_suite: u16,
    tree: Hex,
    group_id: Hex,
    resolutions: Vec<Vec<u32>>,
    tree_hashes: Vec<Hex>,
}

pub(crate) fn check(c: &Case, provider: &dyn CryptoProvider) -> Outcome {
    with_suite(
        provider,
        c.cipher_suite,
        || format!(", {} nodes", c.tree_hashes.len()),
        |ops| run(c, ops),
    )
}

fn run(c: &Case, ops: &dyn SuiteOps) -> Result<(), String> {
    let wire_tree = wire::RatchetTree::from_bytes(&c.tree).map_err(|e| format!("tree: {e}"))?;
    let tree = RatchetTree::from_wire(ops, wire_tree).map_err(|e| format!("tree: {e}"))?;
    if tree.nodes().len() != c.tree_hashes.len() || tree.nodes().len() != c.resolutions.len() {
        return Err(format!(
            "padded width {} but {} tree hashes and {} resolutions",
            tree.nodes().len(),
            c.tree_hashes.len(),
            c.resolutions.len()
        ));
    }
    for (i, (expected_res, expected_hash)) in (0u32..).zip(c.resolutions.iter().zip(&c.tree_hashes))
    {
        let x = NodeIndex::new(i).ok_or("node index")?;
        let res: Vec<u32> = tree.resolution(x).iter().map(|n| n.value()).collect();
        if &res != expected_res {
            return Err(format!(
                "resolution of node {i}: expected {expected_res:?}, got {res:?}"
            ));
        }
        let hash = tree.node_hash(x).ok_or("node hash")?;
        expect_eq(&format!("tree hash of node {i}"), expected_hash, hash)?;
    }
    tree.validate(ops, &super::tree_checks(&c.group_id))
        .map_err(|e| format!("validation: {e}"))?;
    let round_trip = tree.to_wire().map_err(|e| e.to_string())?;
    let bytes = round_trip.to_bytes().map_err(|e| e.to_string())?;
    expect_eq("re-encoded tree", &c.tree, &bytes)
}
