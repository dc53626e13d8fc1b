//! Tests for the tree math (RFC 9420 Appendix C): the tree-math KAT, a port of the RFC's
//! Python as a reference, edge cases at 2^31 leaves, and properties.
#![allow(
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: panics are test failures"
)]

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn n(leaves: u32) -> LeafCount {
    LeafCount::new(leaves).unwrap()
}

fn node(x: u32) -> NodeIndex {
    NodeIndex::new(x).unwrap()
}

fn nodes(xs: &[u32]) -> Vec<NodeIndex> {
    xs.iter().copied().map(node).collect()
}

/// RFC 9420 Appendix C, transcribed literally in u64 arithmetic as an independent reference.
mod reference {
    pub(super) fn log2(x: u64) -> u64 {
        if x == 0 {
            return 0;
        }
        let mut k = 0;
        while (x >> k) > 0 {
            k += 1;
        }
        k - 1
    }

    pub(super) fn level(x: u64) -> u64 {
        if x & 1 == 0 {
            return 0;
        }
        let mut k = 0;
        while (x >> k) & 1 == 1 {
            k += 1;
        }
        k
    }

    pub(super) fn root(n: u64) -> u64 {
        let w = 2 * (n - 1) + 1;
        (1 << log2(w)) - 1
    }

    pub(super) fn parent(x: u64, n: u64) -> Option<u64> {
        if x == root(n) {
            return None;
        }
        let k = level(x);
        let b = (x >> (k + 1)) & 1;
        Some((x | (1 << k)) ^ (b << (k + 1)))
    }

    pub(super) fn sibling(x: u64, n: u64) -> Option<u64> {
        let p = parent(x, n)?;
        let k = level(p);
        Some(if x < p {
            p ^ (3 << (k - 1))
        } else {
            p ^ (1 << (k - 1))
        })
    }

    pub(super) fn direct_path(mut x: u64, n: u64) -> Vec<u64> {
        let r = root(n);
        let mut d = Vec::new();
        while x != r {
            x = parent(x, n).unwrap();
            d.push(x);
        }
        d
    }

    pub(super) fn copath(x: u64, n: u64) -> Vec<u64> {
        let mut d = direct_path(x, n);
        if d.is_empty() {
            return d;
        }
        d.insert(0, x);
        d.pop();
        d.into_iter().map(|y| sibling(y, n).unwrap()).collect()
    }

    pub(super) fn common_ancestor_semantic(x: u64, y: u64, n: u64) -> u64 {
        let mut dx: Vec<u64> = direct_path(x, n);
        dx.push(x);
        let mut dy: Vec<u64> = direct_path(y, n);
        dy.push(y);
        dx.into_iter()
            .filter(|a| dy.contains(a))
            .min_by_key(|&a| level(a))
            .unwrap()
    }
}

fn to_u32s(v: Option<Vec<NodeIndex>>) -> Vec<u64> {
    v.unwrap()
        .into_iter()
        .map(|x| u64::from(x.value()))
        .collect()
}

fn opt(v: &serde_json::Value) -> Option<u32> {
    v.as_u64().map(|x| u32::try_from(x).unwrap())
}

#[test]
fn tree_math_vectors() {
    let json: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/vectors/tree-math.json"
    )))
    .unwrap();
    let cases = json.as_array().unwrap();
    assert_eq!(cases.len(), 10);
    for case in cases {
        let n_leaves = u32::try_from(case["n_leaves"].as_u64().unwrap()).unwrap();
        let count = n(n_leaves);
        let n_nodes = u32::try_from(case["n_nodes"].as_u64().unwrap()).unwrap();
        assert_eq!(count.width(), n_nodes, "n_leaves {n_leaves}");
        assert_eq!(node_width(n_leaves), Some(n_nodes));
        assert_eq!(root(count).value(), opt(&case["root"]).unwrap());
        for field in ["left", "right", "parent", "sibling"] {
            assert_eq!(case[field].as_array().unwrap().len(), n_nodes as usize);
        }
        for i in 0..n_nodes {
            let x = node(i);
            let idx = i as usize;
            let ctx = format!("n_leaves {n_leaves}, node {i}");
            assert_eq!(
                left(x).map(NodeIndex::value),
                opt(&case["left"][idx]),
                "left {ctx}"
            );
            assert_eq!(
                right(x).map(NodeIndex::value),
                opt(&case["right"][idx]),
                "right {ctx}"
            );
            assert_eq!(
                parent(x, count).map(NodeIndex::value),
                opt(&case["parent"][idx]),
                "parent {ctx}"
            );
            assert_eq!(
                sibling(x, count).map(NodeIndex::value),
                opt(&case["sibling"][idx]),
                "sibling {ctx}"
            );
        }
    }
}

#[test]
fn matches_rfc_reference_for_small_trees() {
    for depth in 0..=8 {
        let count = n(1 << depth);
        let n64 = u64::from(count.value());
        assert_eq!(u64::from(root(count).value()), reference::root(n64));
        for i in 0..count.width() {
            let x = node(i);
            let x64 = u64::from(i);
            assert_eq!(u64::from(level(x)), reference::level(x64));
            assert_eq!(
                to_u32s(direct_path(x, count)),
                reference::direct_path(x64, n64)
            );
            assert_eq!(to_u32s(copath(x, count)), reference::copath(x64, n64));
        }
    }
}

#[test]
fn common_ancestor_matches_rfc_semantic_definition() {
    for depth in 0..=5 {
        let count = n(1 << depth);
        let n64 = u64::from(count.value());
        for i in 0..count.width() {
            for j in 0..count.width() {
                let expected = reference::common_ancestor_semantic(i.into(), j.into(), n64);
                assert_eq!(
                    u64::from(common_ancestor(node(i), node(j)).value()),
                    expected,
                    "({i}, {j}) in {n64} leaves"
                );
            }
        }
    }
}

#[test]
fn eight_leaf_example() {
    // The tree drawn in RFC 9420 Appendix C.
    let count = n(8);
    assert_eq!(root(count), node(7));
    assert_eq!(direct_path(node(0), count), Some(nodes(&[1, 3, 7])));
    assert_eq!(copath(node(0), count), Some(nodes(&[2, 5, 11])));
    assert_eq!(direct_path(node(10), count), Some(nodes(&[9, 11, 7])));
    assert_eq!(copath(node(10), count), Some(nodes(&[8, 13, 3])));
    assert_eq!(direct_path(node(7), count), Some(vec![]));
    assert_eq!(copath(node(7), count), Some(vec![]));
    assert_eq!(common_ancestor(node(2), node(4)), node(3));
    assert_eq!(common_ancestor(node(0), node(1)), node(1));
    assert_eq!(common_ancestor(node(14), node(8)), node(11));
    assert_eq!(common_ancestor(node(6), node(8)), node(7));
}

#[test]
fn index_newtypes() {
    assert_eq!(LeafIndex::new(5).unwrap().node(), node(10));
    assert_eq!(NodeIndex::from(LeafIndex::new(5).unwrap()), node(10));
    assert_eq!(node(10).leaf(), LeafIndex::new(5));
    assert_eq!(node(11).leaf(), None);
    assert!(is_leaf(node(0)) && !is_leaf(node(1)));
    assert_eq!(node(11).level(), 2);
    assert_eq!(LeafIndex::new(3).unwrap().value(), 3);

    let last_leaf = LeafIndex::new(MAX_LEAVES - 1).unwrap();
    assert_eq!(last_leaf.node().value(), u32::MAX - 1);
    assert_eq!(last_leaf.node().leaf(), Some(last_leaf));
    assert_eq!(LeafIndex::new(MAX_LEAVES), None);
    assert_eq!(LeafIndex::new(u32::MAX), None);
    assert_eq!(NodeIndex::new(u32::MAX), None);
    assert_eq!(
        NodeIndex::new(u32::MAX - 1).map(NodeIndex::value),
        Some(u32::MAX - 1)
    );
}

#[test]
fn leaf_counts() {
    for bad in [0, 3, 5, 6, 7, 12, 1000, MAX_LEAVES + 1, u32::MAX] {
        assert_eq!(LeafCount::new(bad), None, "{bad}");
    }
    for d in 0..32 {
        let c = n(1 << d);
        assert_eq!(c.depth(), d);
        assert_eq!(u64::from(c.width()), (2u64 << d) - 1);
        assert_eq!(Some(c.width()), node_width(c.value()));
    }
    assert_eq!(LeafCount::covering(0), Some(n(1)));
    assert_eq!(LeafCount::covering(1), Some(n(1)));
    assert_eq!(LeafCount::covering(5), Some(n(8)));
    assert_eq!(LeafCount::covering(MAX_LEAVES), Some(n(MAX_LEAVES)));
    assert_eq!(LeafCount::covering(MAX_LEAVES + 1), None);
    assert_eq!(LeafCount::covering(u32::MAX), None);
    assert!(n(4).contains(LeafIndex::new(3).unwrap()));
    assert!(!n(4).contains(LeafIndex::new(4).unwrap()));
}

#[test]
fn node_width_edges() {
    assert_eq!(node_width(0), Some(0));
    assert_eq!(node_width(1), Some(1));
    assert_eq!(node_width(3), Some(5));
    assert_eq!(node_width(MAX_LEAVES), Some(u32::MAX));
    assert_eq!(node_width(MAX_LEAVES + 1), None);
    assert_eq!(node_width(u32::MAX), None);
}

#[test]
fn largest_tree() {
    let count = n(MAX_LEAVES);
    let r = root(count);
    assert_eq!(r.value(), MAX_LEAVES - 1);
    assert_eq!(level(r), 31);
    assert_eq!(parent(r, count), None);
    assert_eq!(sibling(r, count), None);
    assert_eq!(left(r), Some(node((1 << 30) - 1)));
    assert_eq!(right(r), Some(node(3 * (1 << 30) - 1)));

    let last = node(u32::MAX - 1);
    assert!(is_in_tree(last, count));
    let path = direct_path(last, count).unwrap();
    assert_eq!(path.len(), 31);
    assert_eq!(path.last(), Some(&r));
    assert_eq!(copath(last, count).unwrap().len(), 31);
    assert_eq!(sibling(last, count), Some(node(u32::MAX - 3)));
    assert_eq!(common_ancestor(node(0), last), r);
    assert_eq!(common_ancestor(last, last), last);
}

#[test]
fn out_of_tree_nodes_are_rejected() {
    let count = n(4);
    for x in [7, 8, 100, u32::MAX - 1] {
        let x = node(x);
        assert!(!is_in_tree(x, count));
        assert_eq!(parent(x, count), None);
        assert_eq!(sibling(x, count), None);
        assert_eq!(direct_path(x, count), None);
        assert_eq!(copath(x, count), None);
    }
    assert_eq!(left(node(4)), None);
    assert_eq!(right(node(4)), None);
    // u32::MAX - 1 = 0b1..10 is a leaf; the largest parent index has level 30.
    assert_eq!(left(node(u32::MAX - 1)), None);
    let p = node(0xBFFF_FFFF);
    assert_eq!(left(p), Some(node(0x9FFF_FFFF)));
    assert_eq!(right(p), Some(node(0xDFFF_FFFF)));
}

fn tree_and_node() -> impl Strategy<Value = (LeafCount, NodeIndex)> {
    (0u32..32).prop_flat_map(|d| {
        let count = LeafCount::new(1 << d).unwrap();
        (
            Just(count),
            (0..count.width()).prop_map(|x| NodeIndex::new(x).unwrap()),
        )
    })
}

fn tree_and_two_nodes() -> impl Strategy<Value = (LeafCount, NodeIndex, NodeIndex)> {
    (0u32..32).prop_flat_map(|d| {
        let count = LeafCount::new(1 << d).unwrap();
        let w = count.width();
        (
            Just(count),
            (0..w).prop_map(|x| NodeIndex::new(x).unwrap()),
            (0..w).prop_map(|x| NodeIndex::new(x).unwrap()),
        )
    })
}

/// Any `u32`, with extra weight on the values next to `u32::MAX` and 2^31.
fn edgy_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        any::<u32>(),
        (u32::MAX - 8)..=u32::MAX,
        (MAX_LEAVES - 8)..=(MAX_LEAVES + 8),
        0u32..16,
    ]
}

proptest! {
    #[test]
    fn prop_children_and_parent((count, x) in tree_and_node()) {
        if is_leaf(x) {
            prop_assert_eq!(left(x), None);
            prop_assert_eq!(right(x), None);
        } else {
            let (l, r) = (left(x).unwrap(), right(x).unwrap());
            prop_assert!(l < x && x < r);
            prop_assert!(is_in_tree(l, count) && is_in_tree(r, count));
            prop_assert_eq!(level(l) + 1, level(x));
            prop_assert_eq!(level(r) + 1, level(x));
            prop_assert_eq!(parent(l, count), Some(x));
            prop_assert_eq!(parent(r, count), Some(x));
        }
    }

    #[test]
    fn prop_sibling_symmetry((count, x) in tree_and_node()) {
        if x == root(count) {
            prop_assert_eq!(sibling(x, count), None);
            prop_assert_eq!(parent(x, count), None);
        } else {
            let s = sibling(x, count).unwrap();
            prop_assert_ne!(s, x);
            prop_assert_eq!(level(s), level(x));
            prop_assert_eq!(sibling(s, count), Some(x));
            prop_assert_eq!(parent(s, count), parent(x, count));
        }
    }

    #[test]
    fn prop_direct_path_and_copath((count, x) in tree_and_node()) {
        let path = direct_path(x, count).unwrap();
        let co = copath(x, count).unwrap();
        prop_assert_eq!(path.len(), co.len());
        prop_assert_eq!(path.len() as u32, count.depth() - level(x));
        prop_assert_eq!(path.is_empty(), x == root(count));
        if let Some(last) = path.last() {
            prop_assert_eq!(*last, root(count));
        }
        let mut below = x;
        for (&p, &c) in path.iter().zip(&co) {
            prop_assert!(level(p) > level(below));
            prop_assert_eq!(parent(below, count), Some(p));
            prop_assert_eq!(sibling(below, count), Some(c));
            below = p;
        }
        let on_path: BTreeSet<_> = path.iter().collect();
        prop_assert!(co.iter().all(|c| !on_path.contains(c)));
    }

    #[test]
    fn prop_common_ancestor((count, x, y) in tree_and_two_nodes()) {
        prop_assert_eq!(common_ancestor(x, x), x);
        let a = common_ancestor(x, y);
        prop_assert_eq!(common_ancestor(y, x), a);
        prop_assert!(is_in_tree(a, count));
        let mut up_x = direct_path(x, count).unwrap();
        up_x.insert(0, x);
        let mut up_y = direct_path(y, count).unwrap();
        up_y.insert(0, y);
        prop_assert!(up_x.contains(&a) && up_y.contains(&a));
        // It is the lowest shared node: its children are not shared.
        let shared_below = up_x.iter().filter(|n| up_y.contains(n)).any(|n| level(*n) < level(a));
        prop_assert!(!shared_below);
    }

    #[test]
    fn prop_any_u32_never_panics(raw in edgy_u32(), other in edgy_u32(), d in 0u32..32) {
        let count = LeafCount::new(1 << d).unwrap();
        let width = if raw == 0 { Some(0) } else { u32::try_from(2 * u64::from(raw) - 1).ok() };
        prop_assert_eq!(node_width(raw), width);
        let _ = LeafCount::new(raw);
        let _ = LeafCount::covering(raw);
        if let Some(leaf) = LeafIndex::new(raw) {
            prop_assert_eq!(leaf.node().leaf(), Some(leaf));
        } else {
            prop_assert!(raw >= MAX_LEAVES);
        }
        match NodeIndex::new(raw) {
            None => prop_assert_eq!(raw, u32::MAX),
            Some(x) => {
                let _ = (left(x), right(x), level(x), x.leaf());
                if let Some(y) = NodeIndex::new(other) {
                    let _ = common_ancestor(x, y);
                }
                let inside = is_in_tree(x, count);
                prop_assert_eq!(inside, raw < count.width());
                prop_assert_eq!(direct_path(x, count).is_some(), inside);
                prop_assert_eq!(copath(x, count).is_some(), inside);
                if !inside {
                    prop_assert_eq!(parent(x, count), None);
                    prop_assert_eq!(sibling(x, count), None);
                }
            }
        }
    }
}
