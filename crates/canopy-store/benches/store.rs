//! The store's own cost, without MLS: one transaction writing what an application message
//! changes (one Ratchet record), what a commit changes at 50,000 members (about 17 node
//! records and a Meta record), and loading a group of 100,000 node records; on a file in WAL
//! mode with `synchronous=NORMAL` and `FULL`, plain and encrypted.
//!
//! ```text
//! cargo bench -p canopy-store --bench store
//! ```
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use canopy_store::{
    Change, EncryptionKey, RecordKey, Secret, SqliteStore, StateDelta, Store, StoreOptions,
    StoreTx, Synchronous,
};
use criterion::{Criterion, criterion_group, criterion_main};

const GROUP: &[u8] = b"bench group";

fn put(key: RecordKey, len: usize) -> Change {
    Change::Put {
        key,
        value: Secret::from_slice(&vec![0x5a; len]),
    }
}

fn open(dir: &tempfile::TempDir, name: &str, options: StoreOptions) -> (SqliteStore, u64) {
    let mut store = SqliteStore::open(dir.path().join(name), options).unwrap();
    let mut tx = store.begin().unwrap();
    let v = tx
        .apply(
            &StateDelta::new(GROUP.to_vec(), vec![put(RecordKey::META, 400)]),
            None,
        )
        .unwrap();
    tx.commit().unwrap();
    (store, v)
}

fn write(store: &mut SqliteStore, version: &mut u64, changes: Vec<Change>) {
    let mut tx = store.begin().unwrap();
    *version = tx
        .apply(&StateDelta::new(GROUP.to_vec(), changes), Some(*version))
        .unwrap();
    tx.commit().unwrap();
}

fn bench_writes(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let configs = [
        ("normal", StoreOptions::default()),
        (
            "full",
            StoreOptions::default().with_synchronous(Synchronous::Full),
        ),
        (
            "normal+encrypted",
            StoreOptions::encrypted(EncryptionKey::new([7; 32])),
        ),
    ];
    let mut g = c.benchmark_group("store");
    for (name, options) in configs {
        let (mut store, mut version) = open(&dir, &format!("{name}.db"), options);
        let mut generation = 0u32;
        g.bench_function(format!("message record ({name})"), |b| {
            b.iter(|| {
                generation = generation.wrapping_add(1);
                let ratchet = put(RecordKey::ratchet(1, generation % 64), 120);
                write(&mut store, &mut version, vec![ratchet]);
            });
        });
        g.bench_function(format!("commit records, 17 nodes ({name})"), |b| {
            b.iter(|| {
                let mut changes: Vec<Change> = (0..17)
                    .map(|i| put(RecordKey::node(i * 2 + 1), 180))
                    .collect();
                changes.push(put(RecordKey::META, 400));
                changes.push(Change::DropEpoch(0));
                write(&mut store, &mut version, changes);
            });
        });
    }
    g.finish();
}

fn bench_load(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, mut version) = open(&dir, "load.db", StoreOptions::default());
    // 100,000 node records: the tree of a 50,000-member group.
    for chunk in 0..10u32 {
        let changes = (0..10_000u32)
            .map(|i| put(RecordKey::node(chunk * 10_000 + i), 150))
            .collect();
        write(&mut store, &mut version, changes);
    }
    let mut g = c.benchmark_group("store");
    g.sample_size(10);
    g.bench_function("load a group of 100,000 records", |b| {
        b.iter(|| black_box(store.load_group(GROUP).unwrap().unwrap().records.len()));
    });
    g.finish();
}

criterion_group!(benches, bench_writes, bench_load);
criterion_main!(benches);
