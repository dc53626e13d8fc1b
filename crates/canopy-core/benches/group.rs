//! The group engine's core operations at n = 2, 100, 1,000 and 10,000 members (50,000 with
//! `CANOPY_BENCH_50K=1`), suite 0x0001, handshake as PublicMessage, in a tree left by one
//! add-everyone commit:
//!
//! - adding n-1 members in one commit (commit + Welcome);
//! - joining from that Welcome (tree validation included);
//! - an update commit (a commit with a path) created by a member, and processed by another;
//! - the update commit processed by a public group (`PublicGroup`, no secrets);
//! - a remove commit created, and processed by another member;
//! - a 1 KiB application message encrypted by one member and decrypted by another (the
//!   round trip, each direction alone, and 64 decrypted at once with
//!   `Group::process_messages`).
//!
//! After the runs it prints each benchmark's median (from criterion's estimates) beside its
//! cryptographic floor ([`floors`]: the same primitives, measured here) and the ratio;
//! `CANOPY_BENCH_OUT=docs/bench` also writes the table to `docs/bench/group.md`.
//! `CANOPY_BENCH_SIZES=100,1000` picks the sizes.
//!
//! `cargo bench -p canopy-core --bench group`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod floors;

use std::sync::Mutex;

use canopy_core::group::CreateParams;
use canopy_core::group::JoinParams;
use std::sync::Arc;
use std::time::Duration;

use canopy_core::advanced::codec::VarBytes;
use canopy_core::group::{CommitOptions, Env, Group, ProcessedMessage};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{Credential, KeyPackage, Lifetime, MlsMessage, Welcome};
use canopy_crypto::{CipherSuite, CryptoProvider, Signer};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use criterion::{BatchSize, Criterion, criterion_group};

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

/// Each benchmark's floor, in seconds, by (group, function), as the runs find the sizes of
/// their messages.
static FLOORS: Mutex<Vec<(String, &'static str, f64)>> = Mutex::new(Vec::new());

fn floor(group: &str, name: &'static str, seconds: f64) {
    FLOORS
        .lock()
        .unwrap()
        .push((group.to_owned(), name, seconds));
}

fn sizes() -> Vec<u32> {
    if let Ok(list) = std::env::var("CANOPY_BENCH_SIZES") {
        return list.split(',').map(|n| n.trim().parse().unwrap()).collect();
    }
    let mut n = vec![2, 100, 1_000, 10_000];
    if std::env::var_os("CANOPY_BENCH_50K").is_some() {
        n.push(50_000);
    }
    n
}

fn credential(i: u32) -> Credential {
    Credential::Basic {
        identity: VarBytes(format!("member {i}").into_bytes()),
    }
}

struct Fixture {
    provider: RustCryptoProvider,
    validator: BasicCredentialValidator,
}

impl Fixture {
    fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator).at(1_700_000_000)
    }

    fn member(&self, i: u32) -> (KeyPackageBundle, Arc<dyn Signer>) {
        let ops = self.provider.suite(SUITE).unwrap();
        let signer = ops.signature_generate_key_pair().unwrap();
        let params = KeyPackageParams::new(
            LeafNodeParams::new(credential(i), SUITE),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        let bundle = create_key_package(&self.provider, SUITE, &params, &signer).unwrap();
        (bundle, Arc::new(signer) as Arc<dyn Signer>)
    }

    fn creator(&self) -> Group {
        let ops = self.provider.suite(SUITE).unwrap();
        Group::create(
            &self.env(),
            CreateParams::new(
                SUITE,
                b"bench group".to_vec(),
                &LeafNodeParams::new(credential(0), SUITE),
                Arc::new(ops.signature_generate_key_pair().unwrap()),
            ),
        )
        .unwrap()
    }

    fn join(&self, welcome: &Welcome, member: &(KeyPackageBundle, Arc<dyn Signer>)) -> Group {
        Group::join(
            &self.env(),
            JoinParams::new(welcome, &member.0, member.1.clone()),
        )
        .unwrap()
    }
}

fn add_all(key_packages: &[KeyPackage]) -> CommitOptions {
    CommitOptions {
        add: key_packages.to_vec(),
        ..CommitOptions::default()
    }
}

fn group_ops(c: &mut Criterion) {
    let f = Fixture {
        provider: RustCryptoProvider::new(),
        validator: BasicCredentialValidator::new(),
    };
    let env = f.env();
    for n in sizes() {
        // Measured again for each size: the machine is shared and its speed drifts over a
        // run of many minutes.
        let floors = floors::Floors::measure();
        println!("n = {n}: {}", floors.describe());
        let members: Vec<_> = (1..n).map(|i| f.member(i)).collect();
        let key_packages: Vec<KeyPackage> =
            members.iter().map(|(b, _)| b.key_package.clone()).collect();
        let group = format!("group n={n}");
        let mut g = c.benchmark_group(group.clone());
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(if n >= 10_000 { 20 } else { 5 }));

        // Adding everyone: commit + Welcome, then discarded so the next iteration starts over.
        let mut creator = f.creator();
        g.bench_function("add n-1 members (commit + Welcome)", |b| {
            b.iter_batched(
                || add_all(&key_packages),
                |options| {
                    let out = creator.commit(&env, options).unwrap();
                    assert!(creator.discard_pending_commit());
                    out
                },
                BatchSize::PerIteration,
            )
        });

        // The real add, merged; a member in the middle of the tree joins.
        let out = creator.commit(&env, add_all(&key_packages)).unwrap();
        let _ = creator.merge_pending_commit().unwrap();
        let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
        else {
            panic!("not a Welcome");
        };
        let middle = members.len() / 2;
        let welcome_len = welcome.to_bytes().unwrap().len();
        floor(
            &group,
            "add n-1 members (commit + Welcome)",
            floors.add_everyone(n, welcome_len),
        );
        floor(&group, "join from the Welcome", floors.join(n, welcome_len));
        g.bench_function("join from the Welcome", |b| {
            b.iter(|| f.join(&welcome, &members[middle]))
        });
        let mut member = f.join(&welcome, &members[middle]);

        // An update commit by the member, processed by the creator.
        let update = CommitOptions {
            force_path: true,
            ..CommitOptions::default()
        };
        g.bench_function("update commit (create)", |b| {
            b.iter(|| {
                let out = member.commit(&env, update.clone()).unwrap();
                assert!(member.discard_pending_commit());
                out
            })
        });
        let update_commit = member.commit(&env, update.clone()).unwrap().commit;
        let middle_leaf = member.own_leaf().value();
        let seals = f64::from(n) - 1.0;
        floor(
            &group,
            "update commit (create)",
            floors.commit_create(n, seals, update_commit.len()),
        );
        floor(
            &group,
            "update commit (process by another member)",
            floors.process_commit(
                n,
                floors::derived_nodes(n, middle_leaf, 0),
                update_commit.len(),
            ),
        );
        floor(
            &group,
            "update commit (process by a public group)",
            floors.process_public(n, update_commit.len()),
        );
        g.bench_function("update commit (process by another member)", |b| {
            b.iter(
                || match creator.process_message(&env, &update_commit).unwrap() {
                    ProcessedMessage::Commit(staged) => staged,
                    other => panic!("{other:?}"),
                },
            )
        });
        // The same commit followed by a public group (a Delivery Service): checked and
        // applied, on a copy of the public group made outside the measurement.
        let public = creator.public_view();
        g.bench_function("update commit (process by a public group)", |b| {
            b.iter_batched(
                || public.clone(),
                |mut public| {
                    public.process_message(&env, &update_commit).unwrap();
                    public
                },
                BatchSize::PerIteration,
            )
        });
        assert!(member.discard_pending_commit());

        // A remove commit by the creator, processed by the member.
        if n > 2 {
            let victim = canopy_core::LeafIndex::new(n - 1).unwrap();
            let remove = CommitOptions {
                remove: vec![victim],
                ..CommitOptions::default()
            };
            g.bench_function("remove commit (create)", |b| {
                b.iter(|| {
                    let out = creator.commit(&env, remove.clone()).unwrap();
                    assert!(creator.discard_pending_commit());
                    out
                })
            });
            let remove_commit = creator.commit(&env, remove).unwrap().commit;
            let seals = f64::from(n) - 2.0;
            floor(
                &group,
                "remove commit (create)",
                floors.commit_create(n, seals, remove_commit.len()),
            );
            floor(
                &group,
                "remove commit (process by another member)",
                floors.process_commit(
                    n,
                    floors::derived_nodes(n, 0, middle_leaf),
                    remove_commit.len(),
                ),
            );
            g.bench_function("remove commit (process by another member)", |b| {
                b.iter(
                    || match member.process_message(&env, &remove_commit).unwrap() {
                        ProcessedMessage::Commit(staged) => staged,
                        other => panic!("{other:?}"),
                    },
                )
            });
            assert!(creator.discard_pending_commit());
        }

        // A 1 KiB application message, encrypted by the creator and decrypted by the member.
        let data = vec![0x42u8; 1024];
        floor(
            &group,
            "1 KiB application message round trip",
            floors.encrypt() + floors.decrypt(),
        );
        floor(
            &group,
            "1 KiB application message decrypt",
            floors.decrypt(),
        );
        floor(
            &group,
            "64 x 1 KiB application messages decrypted at once",
            floors.decrypt_backlog(64.0),
        );
        floor(
            &group,
            "1 KiB application message encrypt",
            floors.encrypt(),
        );
        g.bench_function("1 KiB application message round trip", |b| {
            b.iter(|| {
                let m = creator.encrypt_application(&env, &data, b"").unwrap();
                match member.process_message(&env, &m).unwrap() {
                    ProcessedMessage::Application { data, .. } => data,
                    other => panic!("{other:?}"),
                }
            })
        });
        // The two directions alone: decrypting messages encrypted (untimed) just before, then
        // encrypting, last, since messages nobody reads move the sender's ratchet ahead.
        g.bench_function("1 KiB application message decrypt", |b| {
            b.iter_batched(
                || creator.encrypt_application(&env, &data, b"").unwrap(),
                |m| match member.process_message(&env, &m).unwrap() {
                    ProcessedMessage::Application { data, .. } => data,
                    other => panic!("{other:?}"),
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function("64 x 1 KiB application messages decrypted at once", |b| {
            b.iter_batched(
                || {
                    (0..64)
                        .map(|_| creator.encrypt_application(&env, &data, b"").unwrap())
                        .collect::<Vec<_>>()
                },
                |batch| {
                    let results = member.process_messages(&env, &batch);
                    assert!(results.iter().all(Result::is_ok));
                    results
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function("1 KiB application message encrypt", |b| {
            b.iter(|| creator.encrypt_application(&env, &data, b"").unwrap())
        });
        g.finish();
    }
}

/// The table of every benchmark's median beside its floor.
fn floors_table() {
    let mut t = String::from(
        "| group | benchmark | Canopy (median) | floor | Canopy / floor |\n|---|---|---|---|---|\n",
    );
    for (group, name, floor) in FLOORS.lock().unwrap().iter() {
        let (time, ratio) = match floors::measured(group, name) {
            Some(m) => (floors::fmt(m), format!("{:.2}", m / floor)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        t.push_str(&format!(
            "| {group} | {name} | {time} | {} | {ratio} |\n",
            floors::fmt(*floor)
        ));
    }
    floors::print_table(&t, "group.md");
}

criterion_group!(benches, group_ops);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    floors_table();
}
