//! Property tests: random sequences of adds, removes, updates and commits keep the tree valid
//! and truncated, keep cached hashes equal to hashes from scratch, keep indexes consistent, and
//! keep every member able to process every commit.

use proptest::prelude::*;

use super::sim::{Sim, key_package_leaf, ops};
use crate::tree::TreeRead;
use crate::tree::math::{LeafIndex, NodeIndex};

#[derive(Clone, Debug)]
enum Op {
    Add,
    Remove(u32),
    Update(u32),
    Commit(u32, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Add),
        2 => any::<u32>().prop_map(Op::Remove),
        1 => any::<u32>().prop_map(Op::Update),
        2 => (any::<u32>(), 0usize..3).prop_map(|(s, a)| Op::Commit(s, a)),
    ]
}

/// The `k`-th member (mod the member count).
fn pick(sim: &Sim, k: u32) -> u32 {
    let members: Vec<u32> = sim.members.keys().copied().collect();
    members[k as usize % members.len()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_invariant(ops in proptest::collection::vec(op(), 1..14)) {
        let mut sim = Sim::new();
        for op in ops {
            match op {
                Op::Add => {
                    sim.add();
                }
                Op::Remove(k) => {
                    if sim.members.len() > 1 {
                        let l = pick(&sim, k);
                        sim.remove(l);
                    }
                }
                Op::Update(k) => {
                    let l = pick(&sim, k);
                    sim.update(l);
                }
                Op::Commit(k, adds) => {
                    let l = pick(&sim, k);
                    sim.commit(l, adds);
                }
            }
            sim.check();
            let n = sim.tree.leaf_count().value();
            prop_assert!(n.is_power_of_two());
            prop_assert_eq!(sim.tree.nodes().len() as u32, 2 * n - 1);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A diff's resolutions (which delegate untouched subtrees to the base tree) equal those
    /// of the merged tree, with and without the diff's new leaf excluded.
    #[test]
    fn diff_resolutions_match_the_merged_tree(
        adds in 1u32..12,
        removes in proptest::collection::vec(any::<u32>(), 0..3),
    ) {
        let mut sim = Sim::new();
        for _ in 0..adds {
            sim.add();
        }
        for k in removes {
            if sim.members.len() > 1 {
                let l = pick(&sim, k);
                sim.remove(l);
            }
        }
        let mut diff = sim.tree.diff();
        let victim = pick(&sim, 7);
        if sim.members.len() > 1 {
            diff.remove_leaf(LeafIndex::new(victim).unwrap()).unwrap();
        }
        let (leaf, _, _) = key_package_leaf(999);
        let new = diff.add_leaf(leaf).unwrap();
        let width = diff.leaf_count().width();
        let from_diff: Vec<(Vec<NodeIndex>, Vec<NodeIndex>)> = (0..width)
            .map(|x| {
                let x = NodeIndex::new(x).unwrap();
                (diff.resolution(x), diff.resolution_excluding(x, &[new]))
            })
            .collect();
        let mut merged = sim.tree.clone();
        merged.merge(diff.stage(ops()).unwrap()).unwrap();
        for (x, (all, without)) in (0..width).zip(from_diff) {
            let x = NodeIndex::new(x).unwrap();
            prop_assert_eq!(all, merged.resolution(x));
            prop_assert_eq!(without, merged.resolution_excluding(x, &[new]));
        }
    }
}
