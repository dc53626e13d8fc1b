//! SqliteStore: persistence, migrations, pragmas, two connections, bad rows, encryption.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::time::{Duration, Instant};

use canopy_store::rusqlite::Connection;
use canopy_store::rusqlite::types::Value;
use canopy_store::{
    Change, EncryptionKey, RecordKey, SCHEMA_VERSION, SqliteStore, Store, StoreError, StoreOptions,
    StoreTx, Synchronous, Table,
};
use common::{commit, delta, dump, encrypted, file_store, put, records};

const G: &[u8] = b"group";

fn seeded(options: StoreOptions) -> (tempfile::TempDir, std::path::PathBuf, SqliteStore) {
    let (dir, path, mut s) = file_store(options);
    commit(
        &mut s,
        G,
        None,
        vec![
            put(RecordKey::META, b"meta"),
            put(RecordKey::node(0), b"leaf zero"),
            put(RecordKey::node(2), b"leaf one"),
            put(RecordKey::ratchet(1, 0), b"ratchet"),
        ],
    );
    let mut tx = s.begin().unwrap();
    tx.put(Table::Identity, b"alice", b"alice's signature key")
        .unwrap();
    tx.put(Table::Identity, b"bob", b"bob's signature key")
        .unwrap();
    tx.commit().unwrap();
    (dir, path, s)
}

fn pragma(s: &SqliteStore, name: &str) -> String {
    s.connection()
        .query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, Value>(0))
        .map(|v| format!("{v:?}"))
        .unwrap()
}

#[test]
fn a_reopened_store_has_what_was_committed() {
    for options in [StoreOptions::default(), encrypted(3)] {
        let (_dir, path, s) = seeded(options.clone());
        let before = dump(&s);
        drop(s);
        let s = SqliteStore::open(&path, options).unwrap();
        assert_eq!(dump(&s), before);
        assert_eq!(before.groups[0].2.len(), 4);
        assert_eq!(before.tables.len(), 2);
    }
}

#[test]
fn a_new_database_is_migrated_and_configured() {
    let (_dir, _path, s) = file_store(StoreOptions::default());
    assert_eq!(
        pragma(&s, "user_version"),
        format!("Integer({SCHEMA_VERSION})")
    );
    assert_eq!(pragma(&s, "journal_mode"), "Text(\"wal\")");
    assert_eq!(pragma(&s, "foreign_keys"), "Integer(1)");
    assert_eq!(pragma(&s, "synchronous"), "Integer(1)", "NORMAL");
    assert_eq!(pragma(&s, "secure_delete"), "Integer(1)");
    assert_eq!(pragma(&s, "busy_timeout"), "Integer(5000)");
    assert!(!s.is_encrypted());

    let options = StoreOptions::default()
        .with_synchronous(Synchronous::Full)
        .with_busy_timeout(Duration::from_millis(250))
        .with_secure_delete(false);
    let (_dir, _path, s) = file_store(options);
    assert_eq!(pragma(&s, "synchronous"), "Integer(2)", "FULL");
    assert_eq!(pragma(&s, "busy_timeout"), "Integer(250)");
    assert_eq!(pragma(&s, "secure_delete"), "Integer(0)");
}

#[test]
fn an_existing_empty_or_foreign_database_is_migrated_keeping_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE app_messages (id INTEGER PRIMARY KEY, body BLOB);")
            .unwrap();
        conn.execute("INSERT INTO app_messages (body) VALUES (x'00')", [])
            .unwrap();
    }
    let mut s = SqliteStore::open(&path, StoreOptions::default()).unwrap();
    commit(&mut s, G, None, vec![put(RecordKey::META, b"m")]);
    let n: i64 = s
        .connection()
        .query_row("SELECT count(*) FROM app_messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    let tables: Vec<String> = s
        .connection()
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        tables,
        [
            "app_messages",
            "canopy_group_records",
            "canopy_groups",
            "canopy_kv",
            "canopy_meta"
        ]
    );
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let (_dir, path, s) = seeded(StoreOptions::default());
    let before = dump(&s);
    s.connection()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(s);
    let err = SqliteStore::open(&path, StoreOptions::default()).unwrap_err();
    assert!(matches!(
        err,
        StoreError::SchemaTooNew { found, supported }
            if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
    ));
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
        .unwrap();
    drop(conn);
    let s = SqliteStore::open(&path, StoreOptions::default()).unwrap();
    assert_eq!(dump(&s), before);
}

#[test]
fn a_second_writer_waits_for_the_busy_timeout_then_gets_busy() {
    let (_dir, path, mut a) = seeded(StoreOptions::default());
    let mut b = SqliteStore::open(
        &path,
        StoreOptions::default().with_busy_timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let tx = a.begin().unwrap();
    let start = Instant::now();
    let err = b.begin().err().unwrap();
    assert!(matches!(err, StoreError::Busy), "{err:?}");
    assert!(start.elapsed() >= Duration::from_millis(190));
    // Readers are not blocked by the writer (WAL).
    assert_eq!(b.group_version(G).unwrap(), Some(1));
    assert_eq!(records(&b, G).len(), 4);
    drop(tx);
    let tx = b.begin().unwrap();
    tx.commit().unwrap();
}

#[test]
fn a_writer_that_waits_gets_the_lock_when_the_first_commits() {
    let (_dir, path, mut a) = seeded(StoreOptions::default());
    let mut b = SqliteStore::open(&path, StoreOptions::default()).unwrap();
    let mut tx = a.begin().unwrap();
    let handle = std::thread::spawn(move || {
        let start = Instant::now();
        let tx = b.begin().unwrap();
        let waited = start.elapsed();
        let version = tx.group_version(G).unwrap();
        tx.commit().unwrap();
        (waited, version)
    });
    std::thread::sleep(Duration::from_millis(150));
    tx.apply(&delta(G, vec![]), Some(1)).unwrap();
    tx.commit().unwrap();
    let (waited, version) = handle.join().unwrap();
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    assert_eq!(version, Some(2), "b sees a's commit once it has the lock");
}

#[test]
fn two_connections_that_loaded_one_version_cannot_both_write() {
    let (_dir, path, mut a) = seeded(StoreOptions::default());
    let mut b = SqliteStore::open(&path, StoreOptions::default()).unwrap();
    let va = a.load_group(G).unwrap().unwrap().version;
    let vb = b.load_group(G).unwrap().unwrap().version;
    assert_eq!(va, vb);

    // Both advance the same sender ratchet from the state they loaded.
    let advance = |v: &[u8]| delta(G, vec![put(RecordKey::ratchet(1, 0), v)]);
    let mut tx = a.begin().unwrap();
    assert_eq!(
        tx.apply(&advance(b"a's generation 5"), Some(va)).unwrap(),
        va + 1
    );
    tx.commit().unwrap();

    let mut tx = b.begin().unwrap();
    let err = tx
        .apply(&advance(b"b's generation 5"), Some(vb))
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Conflict { expected, found } if expected == Some(vb) && found == Some(va + 1)
    ));
    drop(tx);
    assert!(records(&b, G).contains(&(RecordKey::ratchet(1, 0), b"a's generation 5".to_vec())));

    // b reloads and goes on from a's state.
    let reloaded = b.load_group(G).unwrap().unwrap().version;
    let mut tx = b.begin().unwrap();
    tx.apply(&advance(b"b's generation 6"), Some(reloaded))
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(a.group_version(G).unwrap(), Some(va + 2));
}

#[test]
fn a_failure_mid_transaction_leaves_the_previous_state_intact() {
    let (_dir, path, mut s) = seeded(StoreOptions::default());
    let before = dump(&s);
    // A real SQLite error on the third row of a delta.
    s.connection()
        .execute_batch(
            "CREATE TRIGGER fail_666 BEFORE INSERT ON canopy_group_records \
             WHEN NEW.idx = 666 BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
        )
        .unwrap();
    let mut tx = s.begin().unwrap();
    tx.put(Table::App, b"plaintext", b"hello").unwrap();
    let err = tx
        .apply(
            &delta(
                G,
                vec![
                    Change::Reset,
                    put(RecordKey::node(1), b"new"),
                    put(RecordKey::node(666), b"fails"),
                    put(RecordKey::node(4), b"never"),
                ],
            ),
            Some(1),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Sqlite(_)), "{err:?}");
    assert!(matches!(
        tx.apply(&delta(G, vec![]), Some(1)),
        Err(StoreError::Aborted)
    ));
    assert!(matches!(tx.commit(), Err(StoreError::Aborted)));
    assert_eq!(dump(&s), before);

    // And across a reopen (nothing half-written reached the file).
    drop(s);
    let s = SqliteStore::open(&path, StoreOptions::default()).unwrap();
    assert_eq!(dump(&s), before);
}

#[test]
fn the_application_writes_its_rows_in_the_same_transaction() {
    let (_dir, _path, mut s) = seeded(StoreOptions::default());
    s.connection()
        .execute_batch("CREATE TABLE app_messages (body BLOB NOT NULL)")
        .unwrap();
    let count = |s: &SqliteStore| -> i64 {
        s.connection()
            .query_row("SELECT count(*) FROM app_messages", [], |r| r.get(0))
            .unwrap()
    };
    for commit in [false, true] {
        let mut tx = s.begin().unwrap();
        tx.apply(
            &delta(G, vec![Change::Delete(RecordKey::ratchet(1, 0))]),
            Some(1),
        )
        .unwrap();
        tx.sql()
            .execute(
                "INSERT INTO app_messages (body) VALUES (?1)",
                [b"hi".as_slice()],
            )
            .unwrap();
        if commit {
            tx.commit().unwrap();
        }
    }
    assert_eq!(count(&s), 1);
    assert_eq!(s.group_version(G).unwrap(), Some(2));
}

/// Runs `sql` on the database file behind the store's back.
fn tamper(path: &std::path::Path, sql: &str) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn corrupt_load(path: &std::path::Path, options: StoreOptions) -> StoreError {
    let s = SqliteStore::open(path, options).unwrap();
    s.load_group(G).unwrap_err()
}

#[test]
fn malformed_rows_are_typed_errors_without_encryption() {
    let cases = [
        "UPDATE canopy_group_records SET kind = 99 WHERE idx = 2",
        "UPDATE canopy_group_records SET kind = -1 WHERE idx = 2",
        "UPDATE canopy_group_records SET idx = -1 WHERE idx = 2",
        "UPDATE canopy_group_records SET idx = 4294967296 WHERE idx = 2",
        "UPDATE canopy_group_records SET epoch = 'one' WHERE kind = 4",
        "UPDATE canopy_group_records SET value = 'text' WHERE idx = 2",
        "UPDATE canopy_group_records SET kind = 2.5 WHERE idx = 2",
        "PRAGMA ignore_check_constraints = ON; UPDATE canopy_groups SET version = 0",
        "PRAGMA ignore_check_constraints = ON; UPDATE canopy_groups SET version = -5",
        "UPDATE canopy_groups SET version = 'x'",
    ];
    for sql in cases {
        let (_dir, path, s) = seeded(StoreOptions::default());
        drop(s);
        tamper(&path, sql);
        let err = corrupt_load(&path, StoreOptions::default());
        assert!(matches!(err, StoreError::Corrupt { .. }), "{sql}: {err:?}");
    }
    let (_dir, path, s) = seeded(StoreOptions::default());
    drop(s);
    tamper(
        &path,
        "UPDATE canopy_kv SET value = 42 WHERE key = x'616c696365'",
    );
    let s = SqliteStore::open(&path, StoreOptions::default()).unwrap();
    assert!(matches!(
        s.get(Table::Identity, b"alice"),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        s.list(Table::Identity),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(s.get(Table::Identity, b"bob").unwrap().is_some());
}

#[test]
fn tampered_truncated_swapped_or_moved_values_are_corrupt_with_encryption() {
    let cases = [
        // one flipped byte of the ciphertext
        "UPDATE canopy_group_records SET value = \
         substr(value, 1, 30) || x'ff' || substr(value, 32) WHERE idx = 2",
        // truncated: tag cut off, then all but the format byte, then empty
        "UPDATE canopy_group_records SET value = substr(value, 1, length(value) - 16) WHERE idx = 2",
        "UPDATE canopy_group_records SET value = substr(value, 1, 1) WHERE idx = 2",
        "UPDATE canopy_group_records SET value = x'' WHERE idx = 2",
        // the plaintext written over the sealed value
        "UPDATE canopy_group_records SET value = CAST('leaf one' AS BLOB) WHERE idx = 2",
        // two nodes' values swapped
        "UPDATE canopy_group_records SET value = \
         (SELECT value FROM canopy_group_records r WHERE r.kind = 2 AND r.idx = 0) \
         WHERE kind = 2 AND idx = 2",
        // the ratchet moved to another epoch, then to another leaf
        "UPDATE canopy_group_records SET epoch = 2 WHERE kind = 4",
        "UPDATE canopy_group_records SET idx = 1 WHERE kind = 4",
        // a node turned into a secret-tree node
        "UPDATE canopy_group_records SET kind = 3 WHERE kind = 2 AND idx = 2",
    ];
    for sql in cases {
        let (_dir, path, s) = seeded(encrypted(4));
        drop(s);
        tamper(&path, sql);
        let err = corrupt_load(&path, encrypted(4));
        assert!(matches!(err, StoreError::Corrupt { .. }), "{sql}: {err:?}");
    }

    // A record moved to another group, and a table value moved to another key.
    let (_dir, path, mut s) = seeded(encrypted(4));
    commit(&mut s, b"other", None, vec![]);
    drop(s);
    tamper(
        &path,
        "UPDATE canopy_group_records SET group_id = CAST('other' AS BLOB) WHERE kind = 4; \
         UPDATE canopy_kv SET value = (SELECT value FROM canopy_kv WHERE key = x'626f62') \
         WHERE key = x'616c696365';",
    );
    let s = SqliteStore::open(&path, encrypted(4)).unwrap();
    assert_eq!(records(&s, G).len(), 3, "the rest of the group still opens");
    assert!(matches!(
        s.load_group(b"other"),
        Err(StoreError::Corrupt { .. })
    ));
    assert!(matches!(
        s.get(Table::Identity, b"alice"),
        Err(StoreError::Corrupt { .. })
    ));
    assert_eq!(
        s.get(Table::Identity, b"bob").unwrap().unwrap().as_bytes(),
        b"bob's signature key"
    );
}

#[test]
fn a_value_copied_from_another_database_with_the_same_key_does_not_open() {
    let (_dir1, path1, s1) = seeded(encrypted(5));
    let (_dir2, path2, s2) = seeded(encrypted(5));
    drop((s1, s2));
    tamper(
        &path2,
        &format!(
            "ATTACH '{}' AS first; \
             UPDATE canopy_group_records SET value = (SELECT value FROM first.canopy_group_records \
             r WHERE r.kind = 2 AND r.idx = 2) WHERE kind = 2 AND idx = 2;",
            path1.display()
        ),
    );
    let err = corrupt_load(&path2, encrypted(5));
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[test]
fn keys_must_fit_the_database() {
    let (_dir, path, s) = seeded(encrypted(6));
    drop(s);
    assert!(matches!(
        SqliteStore::open(&path, encrypted(7)).unwrap_err(),
        StoreError::WrongKey
    ));
    assert!(matches!(
        SqliteStore::open(&path, StoreOptions::default()).unwrap_err(),
        StoreError::KeyRequired
    ));
    let s = SqliteStore::open(&path, encrypted(6)).unwrap();
    assert!(s.is_encrypted());
    assert_eq!(records(&s, G).len(), 4);

    let (_dir, path, s) = seeded(StoreOptions::default());
    drop(s);
    assert!(matches!(
        SqliteStore::open(&path, encrypted(6)).unwrap_err(),
        StoreError::NotEncrypted
    ));
    // A deleted key check is not taken for "no encryption".
    let (_dir, path, s) = seeded(encrypted(6));
    drop(s);
    tamper(&path, "DELETE FROM canopy_meta WHERE name = 'key_check'");
    assert!(matches!(
        SqliteStore::open(&path, encrypted(6)).unwrap_err(),
        StoreError::Corrupt { .. }
    ));
    tamper(
        &path,
        "UPDATE canopy_meta SET value = CAST('none' AS BLOB) WHERE name = 'encryption'",
    );
    // Switching the mode to plaintext shows the sealed values, never the secrets.
    let s = SqliteStore::open(&path, StoreOptions::default()).unwrap();
    let r = records(&s, G);
    assert!(r.iter().all(|(_, v)| !v.windows(4).any(|w| w == b"leaf")));
}

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    let mut all = std::fs::read(path).unwrap();
    let wal = path.with_extension("db-wal");
    if let Ok(w) = std::fs::read(wal) {
        all.extend(w);
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn encrypted_values_never_reach_the_file_in_plaintext() {
    let secret = b"THE-RATCHET-SECRET-0123456789";
    for (options, visible) in [(StoreOptions::default(), true), (encrypted(8), false)] {
        let (_dir, path, mut s) = file_store(options);
        commit(&mut s, G, None, vec![put(RecordKey::ratchet(1, 1), secret)]);
        let mut tx = s.begin().unwrap();
        tx.put(Table::KeyPackage, b"ref", secret).unwrap();
        tx.commit().unwrap();
        assert_eq!(contains(&file_bytes(&path), secret), visible);
        s.checkpoint().unwrap();
        assert_eq!(contains(&file_bytes(&path), secret), visible);
        // the keys stay visible
        assert!(contains(&file_bytes(&path), b"ref"));
    }
}

#[test]
fn deleted_secrets_are_wiped_from_the_file_after_a_checkpoint() {
    let secret = b"USED-KEY-MUST-GO-abcdefghijklmnop";
    let (_dir, path, mut s) = file_store(StoreOptions::default());
    commit(
        &mut s,
        G,
        None,
        vec![
            put(RecordKey::META, b"meta"),
            put(RecordKey::ratchet(1, 1), secret),
        ],
    );
    s.checkpoint().unwrap();
    assert!(contains(&file_bytes(&path), secret));
    commit(
        &mut s,
        G,
        Some(1),
        vec![Change::Delete(RecordKey::ratchet(1, 1))],
    );
    s.checkpoint().unwrap();
    assert_eq!(
        std::fs::metadata(path.with_extension("db-wal"))
            .unwrap()
            .len(),
        0
    );
    assert!(!contains(&file_bytes(&path), secret));
}

#[test]
fn an_encryption_key_is_only_32_bytes() {
    assert!(EncryptionKey::from_slice(&[1; 33]).is_none());
    let key = EncryptionKey::from_slice(&[1; 32]).unwrap();
    let s = SqliteStore::open_in_memory(StoreOptions::encrypted(key)).unwrap();
    assert!(s.is_encrypted());
}
