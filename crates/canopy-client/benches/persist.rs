//! What the persistence contract costs, through the client, on SQLite (WAL), suite 0x0001,
//! in a tree left by one add-everyone commit, at n members (`CANOPY_CLIENT_BENCH_N`, a
//! comma-separated list; default `1000,10000`; e.g. `CANOPY_CLIENT_BENCH_N=50000`):
//!
//! - a sent 1 KiB application message, encrypt + durable write, `synchronous=NORMAL` and
//!   `FULL`;
//! - a received 1 KiB application message, decrypt + durable write (NORMAL);
//! - a received update commit, processed, merged and written (NORMAL), next to the same
//!   processing in memory only (canopy-core, no store): the difference is the write;
//! - loading the group from the store (read + `Group::from_records`);
//! - printed: the database bytes of one group's records vs `Group::to_bytes().len()`.
//!
//! `cargo bench -p canopy-client --bench persist`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::Duration;

use canopy_client::{Client, Incoming, no_app_writes};
use canopy_core::advanced::codec::VarBytes;
use canopy_core::group::{Env, Group, ProcessedMessage};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageParams, LeafNodeParams, create_key_package,
};
use canopy_core::wire::{Credential, Lifetime, MlsMessage};
use canopy_crypto::{CipherSuite, CryptoProvider};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_store::{MemoryStore, SqliteStore, Store, StoreOptions, Synchronous};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

fn sizes() -> Vec<u32> {
    std::env::var("CANOPY_CLIENT_BENCH_N")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("CANOPY_CLIENT_BENCH_N: numbers"))
        .collect()
}

fn credential(name: &str) -> Credential {
    Credential::Basic {
        identity: VarBytes(name.as_bytes().to_vec()),
    }
}

fn sqlite(path: &Path, synchronous: Synchronous) -> SqliteStore {
    SqliteStore::open(path, StoreOptions::default().with_synchronous(synchronous)).unwrap()
}

fn client<S: Store>(store: S, name: &str) -> Client<S> {
    let mut c = Client::open(store).unwrap();
    if c.identity(name).is_none() {
        c.create_identity(name, credential(name), SUITE).unwrap();
    }
    c
}

/// KeyPackages (encoded MLSMessages) of `count` members nobody plays.
fn filler(provider: &RustCryptoProvider, count: u32) -> Vec<Vec<u8>> {
    let ops = provider.suite(SUITE).unwrap();
    (0..count)
        .map(|i| {
            let signer = ops.signature_generate_key_pair().unwrap();
            let params = KeyPackageParams::new(
                LeafNodeParams::new(credential(&format!("member {i}")), SUITE),
                Lifetime {
                    not_before: 0,
                    not_after: u64::MAX,
                },
            );
            let kp = create_key_package(provider, SUITE, &params, &signer).unwrap();
            MlsMessage::KeyPackage(Box::new(kp.key_package))
                .to_bytes()
                .unwrap()
        })
        .collect()
}

fn persist(c: &mut Criterion) {
    let provider = RustCryptoProvider::new();
    let validator = BasicCredentialValidator::new();
    for n in sizes() {
        let dir = tempfile::tempdir().unwrap();
        let alice_db = dir.path().join("alice.db");
        let bob_db = dir.path().join("bob.db");
        let mut alice = client(sqlite(&alice_db, Synchronous::Normal), "alice");
        let mut bob = client(sqlite(&bob_db, Synchronous::Normal), "bob");
        let mut carol = client(MemoryStore::new(), "carol");

        // The group: Alice adds everyone in one commit.
        let group = alice.create_group("alice", SUITE, None).unwrap();
        let mut kps = vec![
            bob.generate_key_packages("bob", SUITE, 1)
                .unwrap()
                .remove(0),
            carol
                .generate_key_packages("carol", SUITE, 1)
                .unwrap()
                .remove(0),
        ];
        kps.extend(filler(&provider, n.saturating_sub(3)));
        let refs: Vec<&[u8]> = kps.iter().map(Vec::as_slice).collect();
        let out = alice.add_members(&group, &refs).unwrap();
        alice.merge_pending_commit(&group).unwrap();
        let welcome = out.welcome.unwrap();
        bob.process_incoming(&welcome, no_app_writes).unwrap();
        carol.process_incoming(&welcome, no_app_writes).unwrap();
        assert_eq!(bob.group(&group).unwrap().member_count(), n);

        let mut g = c.benchmark_group(format!("client n={n}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(3));
        let kib = vec![0x42u8; 1024];

        g.bench_function("send 1 KiB, durable (SQLite NORMAL)", |b| {
            b.iter(|| alice.encrypt(&group, &kib, b"").unwrap())
        });
        drop(alice);
        // A second connection to Alice's database, syncing every commit.
        let mut alice = client(sqlite(&alice_db, Synchronous::Full), "alice");
        alice.group(&group).unwrap();
        g.bench_function("send 1 KiB, durable (SQLite FULL)", |b| {
            b.iter(|| alice.encrypt(&group, &kib, b"").unwrap())
        });

        g.bench_function("receive 1 KiB, durable (SQLite NORMAL)", |b| {
            b.iter_batched(
                || carol.encrypt(&group, &kib, b"").unwrap(),
                |ct| bob.decrypt(&ct, |_, _| Ok(())).unwrap(),
                BatchSize::PerIteration,
            )
        });

        // Bob's group in memory only, for the same commits without a store.
        let records = bob.store().load_group(&group).unwrap().unwrap().records;
        let signer = bob.identity("bob").unwrap().signer().unwrap();
        let mut bob_memory = Group::from_records(
            &provider,
            records.iter().map(|(k, v)| (*k, v.as_bytes())),
            signer,
        )
        .unwrap();
        let env = Env::new(&provider, &validator).at(now());
        let next_commit = |alice: &mut Client<SqliteStore>| {
            let out = alice.update(&group).unwrap();
            alice.merge_pending_commit(&group).unwrap();
            out.commit
        };
        g.bench_function("receive update commit, durable (SQLite NORMAL)", |b| {
            b.iter_batched(
                || {
                    let commit = next_commit(&mut alice);
                    let ProcessedMessage::Commit(staged) =
                        bob_memory.process_message(&env, &commit).unwrap()
                    else {
                        panic!("not a commit")
                    };
                    let _ = bob_memory.merge_staged_commit(*staged).unwrap();
                    commit
                },
                |commit| {
                    let (incoming, ()) = bob.process_incoming(&commit, no_app_writes).unwrap();
                    assert!(matches!(incoming, Incoming::Commit { .. }));
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function("receive update commit, in memory only (no store)", |b| {
            b.iter_batched(
                || {
                    let commit = next_commit(&mut alice);
                    bob.process_incoming(&commit, no_app_writes).unwrap();
                    commit
                },
                |commit| {
                    let ProcessedMessage::Commit(staged) =
                        bob_memory.process_message(&env, &commit).unwrap()
                    else {
                        panic!("not a commit")
                    };
                    let _ = bob_memory.merge_staged_commit(*staged).unwrap();
                },
                BatchSize::PerIteration,
            )
        });

        g.bench_function("load the group from the store (SQLite)", |b| {
            b.iter(|| {
                bob.unload_group(&group);
                bob.group(&group).unwrap().epoch()
            })
        });
        g.finish();

        // Space: one group's rows in Bob's database vs the whole state in one buffer.
        bob.store().checkpoint().unwrap();
        let loaded = bob.store().load_group(&group).unwrap().unwrap();
        let record_bytes: usize = loaded.records.iter().map(|(_, v)| v.len()).sum();
        let state_bytes = bob.group(&group).unwrap().to_bytes().unwrap().len();
        let file_bytes = std::fs::metadata(&bob_db).unwrap().len();
        println!(
            "n={n}: Bob's group has {} records, {record_bytes} value bytes; database file \
             {file_bytes} bytes (one group, identities, WAL checkpointed); \
             Group::to_bytes() {state_bytes} bytes",
            loaded.records.len()
        );
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

criterion_group!(benches, persist);
criterion_main!(benches);
