//! One negative test per tree-validation rule (RFC 9420 §7.3, §7.9.2, §12.4.3.1, §12.4.3.3):
//! a tree that breaks exactly that rule is rejected with its own error variant.

use super::sim::{
    Sim, capabilities, checks_with, key_package_leaf, lenient_checks, ops, sign_leaf,
};
use crate::codec::VarVec;
use crate::rules::{Rule, assert_rule};
use crate::tree::math::{LeafIndex, NodeIndex};
use crate::tree::{LifetimePolicy, RatchetTree, TreeChecks, TreeError, TreeRead};
use crate::wire::{
    Credential, CredentialType, Extension, ExtensionType, ExtensionView, Extensions, LeafNode,
    LeafNodeSource, Lifetime, Node, RequiredCapabilities,
};

/// The nodes of `tree` without trailing blanks.
fn stripped(tree: &RatchetTree) -> Vec<Option<Node>> {
    tree.to_wire().unwrap().into_nodes()
}

/// Rebuilds a tree from edited nodes and validates it.
fn validate(nodes: Vec<Option<Node>>) -> Result<(), TreeError> {
    validate_with(nodes, &lenient_checks())
}

fn validate_with(nodes: Vec<Option<Node>>, checks: &TreeChecks<'_>) -> Result<(), TreeError> {
    RatchetTree::from_nodes(ops(), nodes)?.validate(ops(), checks)
}

fn leaf_mut(nodes: &mut [Option<Node>], l: usize) -> &mut LeafNode {
    match nodes[2 * l].as_mut() {
        Some(Node::Leaf(leaf)) => leaf,
        _ => panic!("leaf {l} is blank"),
    }
}

fn parent_mut(nodes: &mut [Option<Node>], x: usize) -> &mut crate::wire::ParentNode {
    match nodes[x].as_mut() {
        Some(Node::Parent(p)) => p,
        _ => panic!("node {x} is not a parent"),
    }
}

#[test]
fn chained_trees_validate() {
    for n in [1, 2, 3, 5, 8] {
        Sim::chain(n).check();
    }
}

#[test]
fn bad_leaf_signature() {
    let sim = Sim::chain(4);
    let mut nodes = stripped(&sim.tree);
    let sig = &mut leaf_mut(&mut nodes, 2).signature.0;
    sig[0] ^= 1;
    assert_rule(validate(nodes), Rule::LeafSignature);
}

#[test]
fn leaf_signed_for_another_position() {
    let sim = Sim::chain(4);
    let mut nodes = stripped(&sim.tree);
    let signer = &sim.members[&2].signer;
    // A commit leaf's signature binds its leaf index: signed as leaf 1, it fails at leaf 2.
    sign_leaf(leaf_mut(&mut nodes, 2), signer, 1);
    assert_rule(validate(nodes), Rule::LeafSignature);
}

#[test]
fn broken_parent_hash() {
    let sim = Sim::chain(4);
    let mut nodes = stripped(&sim.tree);
    // Node 5 was set by leaf 2's commit; its parent_hash links it to the root.
    parent_mut(&mut nodes, 5).parent_hash.0[0] ^= 1;
    let err = validate(nodes).unwrap_err();
    assert_eq!(err.rule(), Some(Rule::TreeParentHash), "{err:?}");
    let TreeError::Invalid(v) = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(v.location(), crate::rules::At::Node(3 | 5)),
        "{err:?}"
    );
}

#[test]
fn parent_without_any_chain() {
    let sim = Sim::chain(4);
    let mut nodes = stripped(&sim.tree);
    // A fresh key at the root: nothing below links to it.
    parent_mut(&mut nodes, 3).encryption_key = ops().hpke_generate_key_pair().unwrap().public;
    assert_rule(validate(nodes), Rule::TreeParentHash);
}

#[test]
fn duplicate_encryption_key_parent_and_leaf() {
    let sim = Sim::chain(4);
    let mut nodes = stripped(&sim.tree);
    let key = leaf_mut(&mut nodes, 0).encryption_key.clone();
    parent_mut(&mut nodes, 5).encryption_key = key;
    assert_rule(validate(nodes), Rule::LeafEncryptionKeyUnique);
}

#[test]
fn duplicate_encryption_key_two_leaves() {
    let sim = Sim::chain(4);
    let mut nodes = stripped(&sim.tree);
    let key = leaf_mut(&mut nodes, 0).encryption_key.clone();
    let leaf = leaf_mut(&mut nodes, 2);
    leaf.encryption_key = key;
    sign_leaf(leaf, &sim.members[&2].signer, 2);
    assert_rule(validate(nodes), Rule::LeafEncryptionKeyUnique);
}

#[test]
fn duplicate_signature_key() {
    let sim = Sim::chain(4);
    let mut nodes = stripped(&sim.tree);
    let key = leaf_mut(&mut nodes, 1).signature_key.clone();
    let leaf = leaf_mut(&mut nodes, 2);
    leaf.signature_key = key;
    sign_leaf(leaf, &sim.members[&1].signer, 2);
    assert_rule(validate(nodes), Rule::LeafSignatureKeyUnique);
}

/// `get_tree(7)` plus an Add without a path: leaf 7 is unmerged at nodes 11 and 7.
fn with_unmerged() -> Vec<Option<Node>> {
    let mut sim = Sim::chain(7);
    assert_eq!(sim.add(), 7);
    sim.check();
    let mut nodes = stripped(&sim.tree);
    assert_eq!(parent_mut(&mut nodes, 11).unmerged_leaves.0, [7]);
    assert_eq!(parent_mut(&mut nodes, 7).unmerged_leaves.0, [7]);
    nodes
}

#[test]
fn unmerged_leaf_missing_below() {
    let mut nodes = with_unmerged();
    parent_mut(&mut nodes, 11).unmerged_leaves.0.clear();
    assert_rule(validate(nodes), Rule::TreeUnmergedChain);
}

#[test]
fn unmerged_leaf_not_descendant() {
    let mut nodes = with_unmerged();
    parent_mut(&mut nodes, 11).unmerged_leaves.0 = vec![0, 7];
    assert_rule(validate(nodes), Rule::TreeUnmergedLeaf);
    let mut nodes = with_unmerged();
    parent_mut(&mut nodes, 11).unmerged_leaves.0 = vec![7, 1000];
    assert_rule(validate(nodes), Rule::TreeUnmergedLeaf);
}

#[test]
fn unmerged_leaf_blank() {
    let sim = Sim::chain(7);
    let mut nodes = stripped(&sim.tree);
    // Leaf 7 is blank in get_tree(7).
    parent_mut(&mut nodes, 7).unmerged_leaves.0 = vec![7];
    assert_rule(validate(nodes), Rule::TreeUnmergedLeaf);
}

#[test]
fn unmerged_leaves_unsorted() {
    let mut nodes = with_unmerged();
    parent_mut(&mut nodes, 7).unmerged_leaves.0 = vec![7, 6];
    assert_rule(validate(nodes), Rule::TreeUnmergedSorted);
    let mut nodes = with_unmerged();
    parent_mut(&mut nodes, 7).unmerged_leaves.0 = vec![7, 7];
    assert_rule(validate(nodes), Rule::TreeUnmergedSorted);
}

#[test]
fn not_truncated() {
    let sim = Sim::chain(2);
    let mut nodes = stripped(&sim.tree);
    assert_eq!(nodes.len(), 3);
    // A root over an all-blank right half: 4 leaves where 2 would do.
    let Some(Node::Parent(mut root)) = nodes[1].clone() else {
        unreachable!()
    };
    root.encryption_key = ops().hpke_generate_key_pair().unwrap().public;
    nodes.push(Some(Node::Parent(root)));
    assert_rule(validate(nodes), Rule::TreeTruncated);
}

#[test]
fn size_and_parity_are_checked_on_construction() {
    let sim = Sim::chain(3);
    let nodes = stripped(&sim.tree);
    assert_eq!(validate(Vec::new()), Err(TreeError::Empty));
    let mut trailing = nodes.clone();
    trailing.push(None);
    assert_eq!(validate(trailing), Err(TreeError::TrailingBlank));
    let mut misplaced = nodes.clone();
    misplaced.swap(0, 1);
    assert_eq!(
        validate(misplaced),
        Err(TreeError::MisplacedNode { node: 0 })
    );
    let mut misplaced = nodes;
    misplaced[1] = misplaced[0].clone();
    assert_eq!(
        validate(misplaced),
        Err(TreeError::MisplacedNode { node: 1 })
    );
}

/// A two-leaf tree whose second leaf (a key-package leaf) is `leaf`, re-signed.
fn with_second_leaf(edit: impl FnOnce(&mut LeafNode)) -> Vec<Option<Node>> {
    let (leaf0, _, _) = key_package_leaf(100);
    let (mut leaf1, signer, _) = key_package_leaf(101);
    edit(&mut leaf1);
    sign_leaf(&mut leaf1, &signer, 1);
    vec![Some(Node::leaf(leaf0)), None, Some(Node::leaf(leaf1))]
}

#[test]
fn lifetime_policy() {
    let nodes = with_second_leaf(|l| {
        l.leaf_node_source = LeafNodeSource::KeyPackage(Lifetime {
            not_before: 100,
            not_after: 200,
        })
    });
    let at = |now, max_total| {
        checks_with(
            LifetimePolicy {
                now: Some(now),
                max_total,
            },
            None,
        )
    };
    // Leaf 0 has lifetime (0, u64::MAX): fine without a maximum.
    assert_eq!(validate_with(nodes.clone(), &at(150, None)), Ok(()));
    assert_eq!(validate(nodes.clone()), Ok(()));
    assert_rule(
        validate_with(nodes.clone(), &at(201, None)),
        Rule::LeafLifetime,
    );
    assert_rule(
        validate_with(nodes.clone(), &at(99, None)),
        Rule::LeafLifetime,
    );
    assert_rule(
        validate_with(nodes.clone(), &at(150, Some(1000))),
        Rule::LeafLifetimeMax,
    );
    // The maximum alone can be checked, without a clock.
    let max_only = checks_with(LifetimePolicy::unchecked().with_max_total(1000), None);
    assert_rule(validate_with(nodes, &max_only), Rule::LeafLifetimeMax);
}

#[test]
fn extension_not_in_capabilities() {
    let nodes = with_second_leaf(|l| {
        l.extensions =
            Extensions::new(vec![Extension::new(ExtensionType(0xff00), vec![])]).unwrap();
    });
    assert_rule(validate(nodes), Rule::LeafExtensionsListed);
    // Listed: accepted. A default extension (application_id) needs no listing.
    let nodes = with_second_leaf(|l| {
        l.extensions = Extensions::new(vec![
            Extension::new(ExtensionType(0xff00), vec![]),
            Extension::new(ExtensionType::APPLICATION_ID, vec![0]),
        ])
        .unwrap();
        l.capabilities.extensions = VarVec(vec![ExtensionType(0xff00)]);
    });
    assert_eq!(validate(nodes), Ok(()));
}

#[test]
fn own_credential_type_not_in_capabilities() {
    let nodes = with_second_leaf(|l| {
        l.capabilities.credentials = VarVec(vec![CredentialType::X509]);
    });
    assert_rule(validate(nodes), Rule::LeafOwnCredentialListed);
}

#[test]
fn credential_type_in_use_not_supported_by_every_member() {
    // Leaf 1 uses x509 (and supports both); leaf 0 supports only basic.
    let nodes = with_second_leaf(|l| {
        l.credential = Credential::X509 {
            certificates: VarVec(Vec::new()),
        };
        l.capabilities.credentials = VarVec(vec![CredentialType::BASIC, CredentialType::X509]);
    });
    assert_rule(validate(nodes), Rule::LeafSupportsCredentialTypes);
}

#[test]
fn required_capabilities() {
    let nodes = with_second_leaf(|l| {
        l.capabilities.extensions = VarVec(vec![ExtensionType(0xff01)]);
    });
    let rc = RequiredCapabilities {
        extension_types: VarVec(vec![ExtensionType(0xff01), ExtensionType::RATCHET_TREE]),
        proposal_types: VarVec(Vec::new()),
        credential_types: VarVec(vec![CredentialType::BASIC]),
    };
    let extensions = Extensions::new(vec![rc.to_extension().unwrap()]).unwrap();
    let checks = checks_with(LifetimePolicy::unchecked(), Some(&extensions));
    // Leaf 0 lacks 0xff01; the default ratchet_tree type needs no listing.
    assert_rule(
        validate_with(nodes, &checks),
        Rule::LeafRequiredCapabilities,
    );
    let _ = capabilities();
}

#[test]
fn stale_diff_is_rejected() {
    let mut sim = Sim::chain(3);
    let (leaf, _, _) = key_package_leaf(50);
    let staged = {
        let mut diff = sim.tree.diff();
        diff.add_leaf(leaf).unwrap();
        diff.stage(ops()).unwrap()
    };
    sim.add();
    let before = sim.tree.tree_hash().to_vec();
    assert_eq!(sim.tree.merge(staged), Err(TreeError::StaleDiff));
    assert_eq!(sim.tree.tree_hash(), before.as_slice());
}

#[test]
fn operations_on_blank_or_missing_leaves_fail() {
    let sim = Sim::chain(3);
    let mut diff = sim.tree.diff();
    let blank = LeafIndex::new(3).unwrap();
    assert_eq!(
        diff.remove_leaf(blank),
        Err(TreeError::BlankLeaf { leaf: 3 })
    );
    let outside = LeafIndex::new(9).unwrap();
    assert_eq!(
        diff.remove_leaf(outside),
        Err(TreeError::LeafOutOfRange { leaf: 9 })
    );
    let leaf = sim.tree.leaf(LeafIndex::new(0).unwrap()).unwrap().clone();
    assert_eq!(
        diff.update_leaf(blank, leaf),
        Err(TreeError::BlankLeaf { leaf: 3 })
    );
    assert!(diff.resolution(NodeIndex::new(6).unwrap()).is_empty());
}
