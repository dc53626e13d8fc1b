//! One conformance suite, run for every store: MemoryStore, FaultyStore (no fault armed),
//! SqliteStore in memory, SqliteStore on a file with encryption.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use canopy_store::{
    Change, FaultyStore, MemoryStore, RecordKey, RecordKind, SqliteStore, Store, StoreError,
    StoreOptions, StoreTx, Table,
};
use common::{commit, delta, dump, put, records};

const G: &[u8] = b"group-a";
const H: &[u8] = b"group-b";

fn every_kind() -> Vec<Change> {
    vec![
        put(RecordKey::PENDING, b"pending"),
        put(RecordKey::ratchet(3, 2), b"ratchet 3/2"),
        put(RecordKey::node(4), b"node 4"),
        put(RecordKey::META, b"meta"),
        put(RecordKey::node(0), b"node 0"),
        put(RecordKey::secret_node(3, 1), b"secret node 3/1"),
        put(RecordKey::past(2), b"past 2"),
        put(RecordKey::ratchet(3, 0), b""),
    ]
}

pub(crate) fn round_trip<S: Store>(s: &mut S) {
    assert!(s.load_group(G).unwrap().is_none());
    assert_eq!(s.group_version(G).unwrap(), None);
    assert!(s.group_ids().unwrap().is_empty());
    assert_eq!(commit(s, G, None, every_kind()), 1);

    let loaded = s.load_group(G).unwrap().unwrap();
    assert_eq!(loaded.version, 1);
    let keys: Vec<RecordKey> = loaded.records.iter().map(|r| r.0).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "records come back in key order");
    assert_eq!(
        records(s, G),
        vec![
            (RecordKey::META, b"meta".to_vec()),
            (RecordKey::node(0), b"node 0".to_vec()),
            (RecordKey::node(4), b"node 4".to_vec()),
            (RecordKey::secret_node(3, 1), b"secret node 3/1".to_vec()),
            (RecordKey::ratchet(3, 0), Vec::new()),
            (RecordKey::ratchet(3, 2), b"ratchet 3/2".to_vec()),
            (RecordKey::past(2), b"past 2".to_vec()),
            (RecordKey::PENDING, b"pending".to_vec()),
        ]
    );
    assert_eq!(s.group_ids().unwrap(), vec![G.to_vec()]);
    assert_eq!(s.group_version(G).unwrap(), Some(1));
}

pub(crate) fn put_replaces_and_delete_removes<S: Store>(s: &mut S) {
    commit(s, G, None, every_kind());
    let v = commit(
        s,
        G,
        Some(1),
        vec![
            put(RecordKey::ratchet(3, 2), b"ratchet 3/2, advanced"),
            Change::Delete(RecordKey::PENDING),
            Change::Delete(RecordKey::node(99)),
        ],
    );
    assert_eq!(v, 2);
    let r = records(s, G);
    assert!(r.contains(&(RecordKey::ratchet(3, 2), b"ratchet 3/2, advanced".to_vec())));
    assert!(!r.iter().any(|(k, _)| *k == RecordKey::PENDING));
    assert_eq!(r.len(), 7);
}

pub(crate) fn changes_apply_in_order<S: Store>(s: &mut S) {
    let k = RecordKey::ratchet(1, 1);
    commit(
        s,
        G,
        None,
        vec![put(k, b"1"), Change::Delete(k), put(k, b"2")],
    );
    assert_eq!(records(s, G), vec![(k, b"2".to_vec())]);
    commit(
        s,
        G,
        Some(1),
        vec![put(RecordKey::node(1), b"n"), Change::Reset],
    );
    assert!(records(s, G).is_empty());
    assert_eq!(s.group_version(G).unwrap(), Some(2));
}

pub(crate) fn drop_epoch_deletes_only_epoch_scoped_records_of_that_epoch<S: Store>(s: &mut S) {
    let not_scoped_at_3 = RecordKey {
        kind: RecordKind::Meta,
        epoch: 3,
        index: 0,
    };
    commit(
        s,
        G,
        None,
        vec![
            put(RecordKey::META, b"m"),
            put(RecordKey::node(3), b"n"),
            put(not_scoped_at_3, b"opaque"),
            put(RecordKey::secret_node(3, 0), b"s3"),
            put(RecordKey::secret_node(3, u32::MAX), b"s3 max"),
            put(RecordKey::ratchet(3, 7), b"r3"),
            put(RecordKey::past(3), b"p3"),
            put(RecordKey::secret_node(4, 0), b"s4"),
            put(RecordKey::ratchet(2, 7), b"r2"),
            put(RecordKey::past(4), b"p4"),
        ],
    );
    commit(
        s,
        H,
        None,
        vec![put(RecordKey::ratchet(3, 7), b"other group")],
    );
    commit(s, G, Some(1), vec![Change::DropEpoch(3)]);
    let keys: Vec<RecordKey> = records(s, G).into_iter().map(|r| r.0).collect();
    assert_eq!(
        keys,
        vec![
            RecordKey::META,
            not_scoped_at_3,
            RecordKey::node(3),
            RecordKey::secret_node(4, 0),
            RecordKey::ratchet(2, 7),
            RecordKey::past(4),
        ]
    );
    assert_eq!(records(s, H).len(), 1, "other groups are untouched");
}

pub(crate) fn reset_deletes_every_record_of_the_group_only<S: Store>(s: &mut S) {
    commit(s, G, None, every_kind());
    commit(s, H, None, every_kind());
    commit(
        s,
        G,
        Some(1),
        vec![Change::Reset, put(RecordKey::META, b"fresh")],
    );
    assert_eq!(records(s, G), vec![(RecordKey::META, b"fresh".to_vec())]);
    assert_eq!(records(s, H).len(), every_kind().len());
}

pub(crate) fn epochs_use_all_64_bits<S: Store>(s: &mut S) {
    let top = u64::MAX;
    let above_i64 = 1u64 << 63;
    commit(
        s,
        G,
        None,
        vec![
            put(RecordKey::ratchet(top, 1), b"top"),
            put(RecordKey::ratchet(above_i64, 1), b"2^63"),
            put(RecordKey::ratchet(5, 1), b"5"),
            put(RecordKey::past(top), b"past top"),
        ],
    );
    assert_eq!(
        records(s, G),
        vec![
            (RecordKey::ratchet(5, 1), b"5".to_vec()),
            (RecordKey::ratchet(above_i64, 1), b"2^63".to_vec()),
            (RecordKey::ratchet(top, 1), b"top".to_vec()),
            (RecordKey::past(top), b"past top".to_vec()),
        ]
    );
    commit(s, G, Some(1), vec![Change::DropEpoch(top)]);
    assert_eq!(records(s, G).len(), 2);
}

pub(crate) fn a_version_conflict_writes_nothing_and_does_not_abort<S: Store>(s: &mut S) {
    commit(s, G, None, every_kind());
    let before = dump(s);
    let mut tx = s.begin().unwrap();
    let change = || delta(G, vec![Change::Reset]);
    assert!(matches!(
        tx.apply(&change(), None),
        Err(StoreError::Conflict {
            expected: None,
            found: Some(1)
        })
    ));
    assert!(matches!(
        tx.apply(&change(), Some(2)),
        Err(StoreError::Conflict {
            expected: Some(2),
            found: Some(1)
        })
    ));
    assert!(matches!(
        tx.apply(&delta(H, vec![]), Some(1)),
        Err(StoreError::Conflict {
            expected: Some(1),
            found: None
        })
    ));
    assert_eq!(tx.group_version(G).unwrap(), Some(1));
    tx.commit().unwrap();
    assert_eq!(dump(s), before, "a conflict wrote nothing");

    // The transaction is still usable after a conflict.
    let mut tx = s.begin().unwrap();
    assert!(tx.apply(&change(), Some(7)).is_err());
    assert_eq!(tx.apply(&change(), Some(1)).unwrap(), 2);
    tx.commit().unwrap();
    assert!(records(s, G).is_empty());
}

pub(crate) fn versions_count_every_apply_even_empty_ones<S: Store>(s: &mut S) {
    assert_eq!(commit(s, G, None, vec![]), 1);
    assert_eq!(s.load_group(G).unwrap().unwrap().records.len(), 0);
    let mut tx = s.begin().unwrap();
    assert_eq!(tx.apply(&delta(G, vec![]), Some(1)).unwrap(), 2);
    assert_eq!(tx.apply(&delta(G, vec![]), Some(2)).unwrap(), 3);
    assert_eq!(tx.group_version(G).unwrap(), Some(3));
    tx.commit().unwrap();
    assert_eq!(s.group_version(G).unwrap(), Some(3));
}

pub(crate) fn dropping_a_transaction_rolls_everything_back<S: Store>(s: &mut S) {
    commit(s, G, None, every_kind());
    commit(s, H, None, vec![put(RecordKey::META, b"h")]);
    {
        let mut tx = s.begin().unwrap();
        tx.put(Table::Identity, b"alice", b"key").unwrap();
        tx.commit().unwrap();
    }
    let before = dump(s);
    {
        let mut tx = s.begin().unwrap();
        tx.apply(
            &delta(G, vec![Change::Reset, put(RecordKey::META, b"x")]),
            Some(1),
        )
        .unwrap();
        tx.apply(&delta(b"new", vec![put(RecordKey::META, b"n")]), None)
            .unwrap();
        assert!(tx.delete_group(H).unwrap());
        tx.put(Table::Identity, b"alice", b"replaced").unwrap();
        tx.put(Table::KeyPackage, b"kp", b"private").unwrap();
        assert!(tx.delete(Table::Identity, b"alice").unwrap());
        assert_eq!(tx.group_version(G).unwrap(), Some(2));
        assert_eq!(tx.group_version(H).unwrap(), None);
        assert_eq!(
            tx.get(Table::KeyPackage, b"kp")
                .unwrap()
                .unwrap()
                .as_bytes(),
            b"private"
        );
        // dropped here, uncommitted
    }
    assert_eq!(dump(s), before);
}

pub(crate) fn tables_store_opaque_values_by_key<S: Store>(s: &mut S) {
    let mut tx = s.begin().unwrap();
    tx.put(Table::Identity, b"bob", b"bob's key").unwrap();
    tx.put(Table::Identity, b"alice", b"alice's key").unwrap();
    tx.put(Table::KeyPackage, b"alice", b"same key, other table")
        .unwrap();
    tx.put(Table::GroupIndex, G, b"owned by alice").unwrap();
    tx.put(Table::App, b"", b"empty key").unwrap();
    tx.put(Table::App, b"v", b"").unwrap();
    assert_eq!(tx.list(Table::Identity).unwrap().len(), 2);
    tx.commit().unwrap();

    let ids: Vec<(Vec<u8>, Vec<u8>)> = s
        .list(Table::Identity)
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.as_bytes().to_vec()))
        .collect();
    assert_eq!(
        ids,
        vec![
            (b"alice".to_vec(), b"alice's key".to_vec()),
            (b"bob".to_vec(), b"bob's key".to_vec())
        ]
    );
    assert_eq!(
        s.get(Table::KeyPackage, b"alice")
            .unwrap()
            .unwrap()
            .as_bytes(),
        b"same key, other table"
    );
    assert_eq!(
        s.get(Table::App, b"").unwrap().unwrap().as_bytes(),
        b"empty key"
    );
    assert!(s.get(Table::App, b"v").unwrap().unwrap().is_empty());
    assert!(s.get(Table::KeyPackage, b"bob").unwrap().is_none());

    let mut tx = s.begin().unwrap();
    tx.put(Table::Identity, b"bob", b"rotated").unwrap();
    assert!(tx.delete(Table::KeyPackage, b"alice").unwrap());
    assert!(!tx.delete(Table::KeyPackage, b"alice").unwrap());
    assert!(tx.get(Table::KeyPackage, b"alice").unwrap().is_none());
    tx.commit().unwrap();
    assert_eq!(
        s.get(Table::Identity, b"bob").unwrap().unwrap().as_bytes(),
        b"rotated"
    );
    assert!(s.list(Table::KeyPackage).unwrap().is_empty());
    assert_eq!(s.list(Table::GroupIndex).unwrap().len(), 1);
    assert!(s.group_ids().unwrap().is_empty(), "tables are not groups");
}

pub(crate) fn deleting_a_group_removes_it_and_conflicts_with_stale_writers<S: Store>(s: &mut S) {
    commit(s, G, None, every_kind());
    commit(s, H, None, vec![put(RecordKey::META, b"h")]);
    let mut tx = s.begin().unwrap();
    assert!(tx.delete_group(G).unwrap());
    assert!(!tx.delete_group(G).unwrap());
    tx.commit().unwrap();
    assert!(s.load_group(G).unwrap().is_none());
    assert_eq!(s.group_ids().unwrap(), vec![H.to_vec()]);

    let mut tx = s.begin().unwrap();
    assert!(matches!(
        tx.apply(&delta(G, vec![]), Some(1)),
        Err(StoreError::Conflict {
            expected: Some(1),
            found: None
        })
    ));
    assert_eq!(
        tx.apply(&delta(G, vec![put(RecordKey::node(2), b"again")]), None)
            .unwrap(),
        1
    );
    tx.commit().unwrap();
    assert_eq!(records(s, G), vec![(RecordKey::node(2), b"again".to_vec())]);
}

pub(crate) fn groups_are_isolated<S: Store>(s: &mut S) {
    commit(s, G, None, vec![put(RecordKey::node(0), b"g")]);
    commit(s, H, None, vec![put(RecordKey::node(0), b"h")]);
    commit(s, b"group-", None, vec![put(RecordKey::node(0), b"prefix")]);
    commit(s, G, Some(1), vec![Change::Delete(RecordKey::node(0))]);
    assert!(records(s, G).is_empty());
    assert_eq!(records(s, H), vec![(RecordKey::node(0), b"h".to_vec())]);
    assert_eq!(
        records(s, b"group-"),
        vec![(RecordKey::node(0), b"prefix".to_vec())]
    );
    assert_eq!(
        s.group_ids().unwrap(),
        vec![b"group-".to_vec(), G.to_vec(), H.to_vec()]
    );
}

macro_rules! conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn round_trip() {
                let (_guard, mut s) = $make;
                super::round_trip(&mut s);
            }
            #[test]
            fn put_replaces_and_delete_removes() {
                let (_guard, mut s) = $make;
                super::put_replaces_and_delete_removes(&mut s);
            }
            #[test]
            fn changes_apply_in_order() {
                let (_guard, mut s) = $make;
                super::changes_apply_in_order(&mut s);
            }
            #[test]
            fn drop_epoch_deletes_only_epoch_scoped_records_of_that_epoch() {
                let (_guard, mut s) = $make;
                super::drop_epoch_deletes_only_epoch_scoped_records_of_that_epoch(&mut s);
            }
            #[test]
            fn reset_deletes_every_record_of_the_group_only() {
                let (_guard, mut s) = $make;
                super::reset_deletes_every_record_of_the_group_only(&mut s);
            }
            #[test]
            fn epochs_use_all_64_bits() {
                let (_guard, mut s) = $make;
                super::epochs_use_all_64_bits(&mut s);
            }
            #[test]
            fn a_version_conflict_writes_nothing_and_does_not_abort() {
                let (_guard, mut s) = $make;
                super::a_version_conflict_writes_nothing_and_does_not_abort(&mut s);
            }
            #[test]
            fn versions_count_every_apply_even_empty_ones() {
                let (_guard, mut s) = $make;
                super::versions_count_every_apply_even_empty_ones(&mut s);
            }
            #[test]
            fn dropping_a_transaction_rolls_everything_back() {
                let (_guard, mut s) = $make;
                super::dropping_a_transaction_rolls_everything_back(&mut s);
            }
            #[test]
            fn tables_store_opaque_values_by_key() {
                let (_guard, mut s) = $make;
                super::tables_store_opaque_values_by_key(&mut s);
            }
            #[test]
            fn deleting_a_group_removes_it_and_conflicts_with_stale_writers() {
                let (_guard, mut s) = $make;
                super::deleting_a_group_removes_it_and_conflicts_with_stale_writers(&mut s);
            }
            #[test]
            fn groups_are_isolated() {
                let (_guard, mut s) = $make;
                super::groups_are_isolated(&mut s);
            }
        }
    };
}

conformance!(memory, ((), MemoryStore::new()));
conformance!(faulty_memory, ((), FaultyStore::new(MemoryStore::new())));
conformance!(
    sqlite_in_memory,
    (
        (),
        SqliteStore::open_in_memory(StoreOptions::default()).unwrap()
    )
);
conformance!(sqlite_file, {
    let (dir, _, s) = common::file_store(StoreOptions::default());
    (dir, s)
});
conformance!(sqlite_file_encrypted, {
    let (dir, _, s) = common::file_store(common::encrypted(1));
    (dir, s)
});
conformance!(
    faulty_sqlite_encrypted,
    (
        (),
        FaultyStore::new(SqliteStore::open_in_memory(common::encrypted(2)).unwrap())
    )
);
