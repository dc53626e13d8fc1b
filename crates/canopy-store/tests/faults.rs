//! FaultyStore: each armed fault fires once, and a failed begin, write or commit leaves the
//! previous state intact, for both wrapped stores.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use canopy_store::{
    Change, FaultyStore, MemoryStore, RecordKey, SqliteStore, Store, StoreError, StoreOptions,
    StoreTx, Table,
};
use common::{commit, delta, dump, put};

const G: &[u8] = b"g";

fn seed<S: Store>(s: &mut S) {
    commit(s, G, None, vec![put(RecordKey::META, b"meta 1")]);
}

/// One operation of a client: the group's delta, a KeyPackage deleted, a message stored.
fn operation<T: StoreTx>(tx: &mut T) -> Result<(), StoreError> {
    tx.apply(
        &delta(
            G,
            vec![
                put(RecordKey::META, b"meta 2"),
                put(RecordKey::ratchet(1, 0), b"r"),
            ],
        ),
        Some(1),
    )?;
    tx.delete(Table::KeyPackage, b"kp")?;
    tx.put(Table::App, b"msg", b"plaintext")?;
    Ok(())
}

fn a_failed_commit_leaves_nothing<S: Store>(mut s: FaultyStore<S>) {
    seed(&mut s);
    let faults = s.faults();
    let before = dump(&s);
    faults.fail_next_commit();
    let mut tx = s.begin().unwrap();
    operation(&mut tx).unwrap();
    assert!(matches!(
        tx.commit(),
        Err(StoreError::Injected {
            operation: "commit"
        })
    ));
    assert_eq!(dump(&s), before);
    assert_eq!(faults.injected(), 1);

    // Fired once: the same operation now commits.
    let commits = faults.commits();
    let mut tx = s.begin().unwrap();
    operation(&mut tx).unwrap();
    tx.commit().unwrap();
    assert_eq!(faults.commits(), commits + 1);
    assert_eq!(s.group_version(G).unwrap(), Some(2));
    assert_eq!(
        s.get(Table::App, b"msg").unwrap().unwrap().as_bytes(),
        b"plaintext"
    );
}

fn a_failed_write_aborts_the_transaction<S: Store>(mut s: FaultyStore<S>) {
    seed(&mut s);
    let faults = s.faults();
    let before = dump(&s);
    // The third write of the operation (the App put) fails, after two succeeded.
    faults.fail_write_after(2);
    let mut tx = s.begin().unwrap();
    assert!(matches!(
        operation(&mut tx),
        Err(StoreError::Injected { operation: "put" })
    ));
    assert!(matches!(
        tx.put(Table::App, b"other", b"x"),
        Err(StoreError::Aborted)
    ));
    assert!(matches!(tx.commit(), Err(StoreError::Aborted)));
    assert_eq!(dump(&s), before);

    faults.fail_next_write();
    let mut tx = s.begin().unwrap();
    assert!(matches!(
        tx.apply(&delta(G, vec![Change::Reset]), Some(1)),
        Err(StoreError::Injected { operation: "apply" })
    ));
    drop(tx);
    assert_eq!(dump(&s), before);
    assert_eq!(faults.injected(), 2);
}

fn a_failed_begin_and_clear<S: Store>(mut s: FaultyStore<S>) {
    let faults = s.faults();
    faults.fail_next_begin();
    assert!(matches!(
        s.begin().err(),
        Some(StoreError::Injected { operation: "begin" })
    ));
    assert!(s.begin().is_ok());
    faults.fail_next_commit();
    faults.fail_next_write();
    faults.clear();
    seed(&mut s);
    assert_eq!(faults.injected(), 1);
    assert_eq!(faults.commits(), 1);
}

#[test]
fn memory_failed_commit() {
    a_failed_commit_leaves_nothing(FaultyStore::new(MemoryStore::new()));
}

#[test]
fn memory_failed_write() {
    a_failed_write_aborts_the_transaction(FaultyStore::new(MemoryStore::new()));
}

#[test]
fn memory_failed_begin() {
    a_failed_begin_and_clear(FaultyStore::new(MemoryStore::new()));
}

fn sqlite() -> FaultyStore<SqliteStore> {
    FaultyStore::new(SqliteStore::open_in_memory(StoreOptions::default()).unwrap())
}

#[test]
fn sqlite_failed_commit() {
    a_failed_commit_leaves_nothing(sqlite());
}

#[test]
fn sqlite_failed_write() {
    a_failed_write_aborts_the_transaction(sqlite());
}

#[test]
fn sqlite_failed_begin() {
    a_failed_begin_and_clear(sqlite());
}

#[test]
fn the_sqlite_transaction_is_reachable_through_the_wrapper() {
    let mut s = sqlite();
    s.inner()
        .connection()
        .execute_batch("CREATE TABLE app_messages (body BLOB)")
        .unwrap();
    let tx = s.begin().unwrap();
    tx.inner()
        .sql()
        .execute("INSERT INTO app_messages VALUES (x'01')", [])
        .unwrap();
    tx.commit().unwrap();
    let n: i64 = s
        .inner()
        .connection()
        .query_row("SELECT count(*) FROM app_messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn memory_store_clones_are_snapshots() {
    let mut s = MemoryStore::new();
    seed(&mut s);
    let snapshot = s.clone();
    commit(&mut s, G, Some(1), vec![Change::Reset]);
    assert_ne!(dump(&s), dump(&snapshot));
    assert_eq!(snapshot.group_version(G).unwrap(), Some(1));
    assert_eq!(snapshot.load_group(G).unwrap().unwrap().records.len(), 1);
}
