//! Property tests: random sequences of adds, removes, updates and commits keep the tree valid
//! and truncated, keep cached hashes equal to hashes from scratch, keep indexes consistent, and
//! keep every member able to process every commit.

use proptest::prelude::*;

use super::sim::Sim;
use crate::tree::TreeRead;

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
