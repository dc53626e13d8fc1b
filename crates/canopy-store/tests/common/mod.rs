//! Helpers shared by the store tests: deltas, and a whole-store dump to compare states.
#![allow(dead_code, unreachable_pub, missing_docs)]

use canopy_store::{
    Change, RecordKey, Secret, SqliteStore, StateDelta, Store, StoreOptions, StoreTx, Table,
};

/// One group in a dump: id, version, records as (key, bytes).
pub type GroupDump = (Vec<u8>, u64, Vec<(RecordKey, Vec<u8>)>);

/// A store's whole content: groups (id, version, records) and table rows, in order.
#[derive(Debug, PartialEq, Eq)]
pub struct Dump {
    pub groups: Vec<GroupDump>,
    pub tables: Vec<(Table, Vec<u8>, Vec<u8>)>,
}

pub fn dump<S: Store>(store: &S) -> Dump {
    let mut groups = Vec::new();
    for id in store.group_ids().unwrap() {
        let g = store.load_group(&id).unwrap().unwrap();
        let records = g
            .records
            .into_iter()
            .map(|(k, v)| (k, v.as_bytes().to_vec()))
            .collect();
        groups.push((id, g.version, records));
    }
    let mut tables = Vec::new();
    for table in Table::ALL {
        for (k, v) in store.list(table).unwrap() {
            tables.push((table, k, v.as_bytes().to_vec()));
        }
    }
    Dump { groups, tables }
}

pub fn put(key: RecordKey, value: &[u8]) -> Change {
    Change::Put {
        key,
        value: Secret::from_slice(value),
    }
}

pub fn delta(group: &[u8], changes: Vec<Change>) -> StateDelta {
    StateDelta::new(group.to_vec(), changes)
}

/// Applies `changes` to `group` in one committed transaction; returns the new version.
pub fn commit<S: Store>(
    store: &mut S,
    group: &[u8],
    expected: Option<u64>,
    changes: Vec<Change>,
) -> u64 {
    let mut tx = store.begin().unwrap();
    let v = tx.apply(&delta(group, changes), expected).unwrap();
    tx.commit().unwrap();
    v
}

/// The records of `group` as (key, bytes).
pub fn records<S: Store>(store: &S, group: &[u8]) -> Vec<(RecordKey, Vec<u8>)> {
    store
        .load_group(group)
        .unwrap()
        .unwrap()
        .records
        .into_iter()
        .map(|(k, v)| (k, v.as_bytes().to_vec()))
        .collect()
}

pub fn key(n: u8) -> [u8; 32] {
    [n; 32]
}

pub fn encrypted(n: u8) -> StoreOptions {
    StoreOptions::encrypted(canopy_store::EncryptionKey::new(key(n)))
}

/// A file-backed store in a fresh temporary directory (kept alive by the returned guard).
pub fn file_store(options: StoreOptions) -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = SqliteStore::open(&path, options).unwrap();
    (dir, path, store)
}
