//! Property test: `MemoryStore` and `SqliteStore` (plain and encrypted) agree on every random
//! sequence of transactions: deltas of every change kind, table writes, commits and rollbacks,
//! version conflicts. The memory store is the model; after each step both dumps must be equal
//! and every call must have given the same result.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use canopy_store::{
    Change, MemoryStore, RecordKey, RecordKind, SqliteStore, StoreError, StoreOptions, StoreTx,
    Table,
};
use common::{Dump, dump, encrypted, put};
use proptest::prelude::*;

/// One write inside a transaction.
#[derive(Clone, Debug)]
enum Write {
    /// `apply` to group `group` with these changes; `stale` passes a wrong expected version.
    Apply {
        group: u8,
        changes: Vec<ChangeSpec>,
        stale: bool,
    },
    DeleteGroup(u8),
    Put(u8, u8, Vec<u8>),
    Delete(u8, u8),
}

#[derive(Clone, Debug)]
enum ChangeSpec {
    Reset,
    Put(u8, u64, u32, Vec<u8>),
    Delete(u8, u64, u32),
    DropEpoch(u64),
}

/// A transaction: its writes, then commit (`true`) or drop.
#[derive(Clone, Debug)]
struct Txn {
    writes: Vec<Write>,
    commit: bool,
}

fn kind(k: u8) -> RecordKind {
    RecordKind::ALL[usize::from(k) % RecordKind::ALL.len()]
}

fn record_key(k: u8, epoch: u64, index: u32) -> RecordKey {
    let kind = kind(k);
    let (epoch, index) = match kind {
        RecordKind::Meta | RecordKind::Pending => (0, 0),
        RecordKind::Node => (0, index),
        RecordKind::Past => (epoch, 0),
        _ => (epoch, index),
    };
    RecordKey { kind, epoch, index }
}

fn change(spec: &ChangeSpec) -> Change {
    match spec {
        ChangeSpec::Reset => Change::Reset,
        ChangeSpec::Put(k, e, i, v) => put(record_key(*k, *e, *i), v),
        ChangeSpec::Delete(k, e, i) => Change::Delete(record_key(*k, *e, *i)),
        ChangeSpec::DropEpoch(e) => Change::DropEpoch(*e),
    }
}

fn table(t: u8) -> Table {
    Table::ALL[usize::from(t) % Table::ALL.len()]
}

fn change_spec() -> impl Strategy<Value = ChangeSpec> {
    prop_oneof![
        1 => Just(ChangeSpec::Reset),
        6 => (0u8..6, 0u64..4, 0u32..6, proptest::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(k, e, i, v)| ChangeSpec::Put(k, e, i, v)),
        2 => (0u8..6, 0u64..4, 0u32..6).prop_map(|(k, e, i)| ChangeSpec::Delete(k, e, i)),
        1 => (0u64..4).prop_map(ChangeSpec::DropEpoch),
    ]
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        6 => (0u8..3, proptest::collection::vec(change_spec(), 0..8), proptest::bool::weighted(0.1))
            .prop_map(|(group, changes, stale)| Write::Apply { group, changes, stale }),
        1 => (0u8..3).prop_map(Write::DeleteGroup),
        3 => (0u8..4, 0u8..4, proptest::collection::vec(any::<u8>(), 0..16))
            .prop_map(|(t, k, v)| Write::Put(t, k, v)),
        1 => (0u8..4, 0u8..4).prop_map(|(t, k)| Write::Delete(t, k)),
    ]
}

fn txn() -> impl Strategy<Value = Txn> {
    (
        proptest::collection::vec(write(), 1..6),
        proptest::bool::weighted(0.8),
    )
        .prop_map(|(writes, commit)| Txn { writes, commit })
}

/// The outcome of one write, comparable across stores.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Version(u64),
    Conflict,
    Existed(bool),
    Done,
}

fn run_txn<S: canopy_store::Store>(store: &mut S, txn: &Txn) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut tx = store.begin().unwrap();
    for w in &txn.writes {
        let outcome = match w {
            Write::Apply {
                group,
                changes,
                stale,
            } => {
                let id = vec![*group];
                let current = tx.group_version(&id).unwrap();
                let expected = if *stale {
                    Some(current.map_or(7, |v| v + 1))
                } else {
                    current
                };
                let delta = common::delta(&id, changes.iter().map(change).collect());
                match tx.apply(&delta, expected) {
                    Ok(v) => Outcome::Version(v),
                    Err(StoreError::Conflict { .. }) => Outcome::Conflict,
                    Err(e) => panic!("apply: {e}"),
                }
            }
            Write::DeleteGroup(group) => Outcome::Existed(tx.delete_group(&[*group]).unwrap()),
            Write::Put(t, k, v) => {
                tx.put(table(*t), &[*k], v).unwrap();
                Outcome::Done
            }
            Write::Delete(t, k) => Outcome::Existed(tx.delete(table(*t), &[*k]).unwrap()),
        };
        outcomes.push(outcome);
    }
    if txn.commit {
        tx.commit().unwrap();
    }
    outcomes
}

fn check(txns: &[Txn], options: impl Fn() -> StoreOptions) {
    let mut model = MemoryStore::new();
    let mut sqlite = SqliteStore::open_in_memory(options()).unwrap();
    for (i, txn) in txns.iter().enumerate() {
        let a = run_txn(&mut model, txn);
        let b = run_txn(&mut sqlite, txn);
        assert_eq!(a, b, "step {i}: {txn:?}");
        let (da, db): (Dump, Dump) = (dump(&model), dump(&sqlite));
        assert_eq!(da, db, "step {i}: {txn:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_behaves_like_the_memory_store(txns in proptest::collection::vec(txn(), 1..12)) {
        check(&txns, StoreOptions::default);
    }

    #[test]
    fn encrypted_sqlite_behaves_like_the_memory_store(txns in proptest::collection::vec(txn(), 1..8)) {
        check(&txns, || encrypted(9));
    }
}

/// The property can fail: a store that skipped one write would differ from the model.
#[test]
fn the_comparison_sees_a_missing_write() {
    let mut model = MemoryStore::new();
    let mut sqlite = SqliteStore::open_in_memory(StoreOptions::default()).unwrap();
    let txn = Txn {
        writes: vec![Write::Put(0, 1, vec![1, 2])],
        commit: true,
    };
    run_txn(&mut model, &txn);
    assert_ne!(dump(&model), dump(&sqlite));
    run_txn(&mut sqlite, &txn);
    assert_eq!(dump(&model), dump(&sqlite));
}
