//! `tree-math.json`: RFC 9420 Appendix C over trees of 1 to 512 leaves.

use canopy_core::advanced::tree::math::{self, LeafCount, NodeIndex};
use serde::Deserialize;

use super::{Outcome, outcome};

#[derive(Deserialize)]
pub(crate) struct Case {
    n_leaves: u32,
    n_nodes: u32,
    root: u32,
    left: Vec<Option<u32>>,
    right: Vec<Option<u32>>,
    parent: Vec<Option<u32>>,
    sibling: Vec<Option<u32>>,
}

pub(crate) fn check(c: &Case) -> Outcome {
    outcome(run(c))
}

fn run(c: &Case) -> Result<(), String> {
    let n = LeafCount::new(c.n_leaves).ok_or_else(|| format!("bad leaf count {}", c.n_leaves))?;
    if math::node_width(c.n_leaves) != Some(c.n_nodes) {
        return Err(format!("node_width({}) != {}", c.n_leaves, c.n_nodes));
    }
    if math::root(n).value() != c.root {
        return Err(format!(
            "root: expected {}, got {}",
            c.root,
            math::root(n).value()
        ));
    }
    let arrays = [
        (&c.left, "left"),
        (&c.right, "right"),
        (&c.parent, "parent"),
        (&c.sibling, "sibling"),
    ];
    for (values, name) in arrays {
        if values.len() != c.n_nodes as usize {
            return Err(format!(
                "{name} has {} entries for {} nodes",
                values.len(),
                c.n_nodes
            ));
        }
    }
    for x in 0..c.n_nodes {
        let node = NodeIndex::new(x).ok_or_else(|| format!("node {x} out of range"))?;
        let i = x as usize;
        let got = [
            math::left(node).map(NodeIndex::value),
            math::right(node).map(NodeIndex::value),
            math::parent(node, n).map(NodeIndex::value),
            math::sibling(node, n).map(NodeIndex::value),
        ];
        for ((values, name), got) in arrays.iter().zip(got) {
            let expected = values.get(i).copied().flatten();
            if expected != got {
                return Err(format!("{name}({x}): expected {expected:?}, got {got:?}"));
            }
        }
    }
    Ok(())
}
