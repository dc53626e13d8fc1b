//! A post-quantum suite beside the classical one at n = 1,000 and 10,000 members: X-Wing
//! (ML-KEM-768 + X25519, draft 06) with AES-128-GCM, SHA-256 and Ed25519, under OpenMLS's code
//! point 0x004F (`SuiteProfile::OPENMLS`), against suite 0x0001, which differs from it only
//! in the KEM. Handshake as PublicMessage, in a tree left by one add-everyone commit:
//!
//! - adding n-1 members in one commit (commit + Welcome, KeyPackages validated);
//! - joining from that Welcome (tree validation included);
//! - an update commit (with a path) created by a member in the middle of the tree;
//! - that update commit processed by the member at leaf 0.
//!
//! After the runs it prints each operation's median for both suites, the ratio, and the sizes
//! of the messages (a KeyPackage, the add-everyone commit, the Welcome, the update commit);
//! `CANOPY_BENCH_OUT=docs/bench` also writes the table to `docs/bench/pq.md`.
//! `CANOPY_BENCH_SIZES=1000` picks the sizes. An X-Wing Welcome for 10,000 members is about
//! 40 MB, above the default 32 MiB `Limits::max_message_len`, so the joiners here raise it.
//!
//! `cargo bench -p canopy-core --bench pq`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod floors;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use canopy_core::advanced::codec::{Limits, VarBytes};
use canopy_core::group::{
    CommitOptions, CreateParams, Env, Group, GroupConfig, JoinParams, ProcessedMessage,
};
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::wire::{Credential, KeyPackage, Lifetime, MlsMessage, Welcome};
use canopy_crypto::{CipherSuite, CryptoProvider, Signer, SuiteProfile};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use criterion::{BatchSize, Criterion, criterion_group};

const CLASSICAL: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
const XWING: CipherSuite = CipherSuite(0x004F);

const OPS: [&str; 4] = [
    "add n-1 members (commit + Welcome)",
    "join from the Welcome",
    "update commit (create)",
    "update commit (process by another member)",
];

/// Message sizes by (suite, n): KeyPackage, add commit, Welcome, update commit.
static SIZES: Mutex<Vec<(CipherSuite, u32, [usize; 4])>> = Mutex::new(Vec::new());

/// By (suite, n): the time to verify one signature over as many bytes as the update commit
/// (seconds), the floor of processing it: Ed25519 hashes the whole signed content with
/// SHA-512, and the content is the commit.
static SIGNATURE_FLOORS: Mutex<Vec<(CipherSuite, u32, f64)>> = Mutex::new(Vec::new());

/// The median of 9 timed verifications of a signature over `len` bytes (a benchmark may read
/// the clock; the library never does).
#[allow(clippy::disallowed_methods)]
fn verify_floor(f: &Fixture, len: usize) -> f64 {
    let ops = f.provider.suite(f.suite).unwrap();
    let key = ops.signature_generate_key_pair().unwrap();
    let message = vec![0x5a; len];
    let signature = ops.sign(&key.private, &message).unwrap();
    let mut times: Vec<f64> = (0..9)
        .map(|_| {
            let t = std::time::Instant::now();
            ops.verify(&key.public, &message, &signature).unwrap();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[4]
}

fn sizes() -> Vec<u32> {
    if let Ok(list) = std::env::var("CANOPY_BENCH_SIZES") {
        return list.split(',').map(|n| n.trim().parse().unwrap()).collect();
    }
    vec![1_000, 10_000]
}

fn label(suite: CipherSuite) -> &'static str {
    if suite == XWING {
        "X-Wing 0x004F"
    } else {
        "X25519 0x0001"
    }
}

fn credential(i: u32) -> Credential {
    Credential::Basic {
        identity: VarBytes(format!("member {i}").into_bytes()),
    }
}

struct Fixture {
    provider: RustCryptoProvider,
    validator: BasicCredentialValidator,
    suite: CipherSuite,
}

impl Fixture {
    fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator).at(1_700_000_000)
    }

    fn config() -> GroupConfig {
        let mut limits = Limits::default();
        limits.max_message_len = 256 << 20;
        GroupConfig {
            limits,
            ..GroupConfig::default()
        }
    }

    fn member(&self, i: u32) -> (KeyPackageBundle, Arc<dyn Signer>) {
        let ops = self.provider.suite(self.suite).unwrap();
        let signer = ops.signature_generate_key_pair().unwrap();
        let params = KeyPackageParams::new(
            LeafNodeParams::new(credential(i), self.suite),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        let bundle = create_key_package(&self.provider, self.suite, &params, &signer).unwrap();
        (bundle, Arc::new(signer) as Arc<dyn Signer>)
    }

    fn creator(&self) -> Group {
        let ops = self.provider.suite(self.suite).unwrap();
        Group::create(
            &self.env(),
            CreateParams::new(
                self.suite,
                b"bench group".to_vec(),
                &LeafNodeParams::new(credential(0), self.suite),
                Arc::new(ops.signature_generate_key_pair().unwrap()),
            )
            .config(Self::config()),
        )
        .unwrap()
    }

    fn join(&self, welcome: &Welcome, member: &(KeyPackageBundle, Arc<dyn Signer>)) -> Group {
        Group::join(
            &self.env(),
            JoinParams::new(welcome, &member.0, member.1.clone()).config(Self::config()),
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

fn pq_ops(c: &mut Criterion) {
    for n in sizes() {
        for suite in [CLASSICAL, XWING] {
            let f = Fixture {
                provider: RustCryptoProvider::new()
                    .with_profile(SuiteProfile::OPENMLS)
                    .unwrap(),
                validator: BasicCredentialValidator::new(),
                suite,
            };
            let env = f.env();
            let members: Vec<_> = (1..n).map(|i| f.member(i)).collect();
            let key_packages: Vec<KeyPackage> =
                members.iter().map(|(b, _)| b.key_package.clone()).collect();
            let kp_len = key_packages[0].to_bytes().unwrap().len();
            let mut g = c.benchmark_group(format!("{} n={n}", label(suite)));
            g.sample_size(10)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(if n >= 10_000 { 20 } else { 5 }));

            let mut creator = f.creator();
            g.bench_function(OPS[0], |b| {
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
            let out = creator.commit(&env, add_all(&key_packages)).unwrap();
            let _ = creator.merge_pending_commit().unwrap();
            let add_len = out.commit.len();
            let welcome_bytes = out.welcome.unwrap();
            let MlsMessage::Welcome(welcome) =
                MlsMessage::from_bytes_with_limits(&welcome_bytes, &Fixture::config().limits)
                    .unwrap()
            else {
                panic!("not a Welcome");
            };
            let middle = members.len() / 2;
            g.bench_function(OPS[1], |b| b.iter(|| f.join(&welcome, &members[middle])));
            let mut member = f.join(&welcome, &members[middle]);

            let update = CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            };
            g.bench_function(OPS[2], |b| {
                b.iter(|| {
                    let out = member.commit(&env, update.clone()).unwrap();
                    assert!(member.discard_pending_commit());
                    out
                })
            });
            let update_commit = member.commit(&env, update.clone()).unwrap().commit;
            g.bench_function(OPS[3], |b| {
                b.iter(
                    || match creator.process_message(&env, &update_commit).unwrap() {
                        ProcessedMessage::Commit(staged) => staged,
                        other => panic!("{other:?}"),
                    },
                )
            });
            g.finish();
            SIGNATURE_FLOORS.lock().unwrap().push((
                suite,
                n,
                verify_floor(&f, update_commit.len()),
            ));
            SIZES.lock().unwrap().push((
                suite,
                n,
                [kp_len, add_len, welcome_bytes.len(), update_commit.len()],
            ));
        }
    }
}

fn fmt_len(n: usize) -> String {
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    if n >= 1 << 20 {
        format!("{:.1} MB", f / 1e6)
    } else if n >= 1 << 10 {
        format!("{:.1} KB", f / 1e3)
    } else {
        format!("{n} B")
    }
}

/// The table: each operation's median on both suites and the ratio; then the sizes.
fn table() {
    let mut t = String::from(
        "| n | operation | X25519 0x0001 | X-Wing 0x004F | X-Wing / X25519 |\n|---|---|---|---|---|\n",
    );
    for n in sizes() {
        for op in OPS {
            let a = floors::measured(&format!("{} n={n}", label(CLASSICAL)), op);
            let b = floors::measured(&format!("{} n={n}", label(XWING)), op);
            let (ta, tb) = (
                a.map_or_else(|| "-".to_owned(), floors::fmt),
                b.map_or_else(|| "-".to_owned(), floors::fmt),
            );
            let ratio = match (a, b) {
                (Some(a), Some(b)) => format!("{:.2}", b / a),
                _ => "-".to_owned(),
            };
            t.push_str(&format!("| {n} | {op} | {ta} | {tb} | {ratio} |\n"));
        }
    }
    t.push_str(
        "\n| n | message | X25519 0x0001 | X-Wing 0x004F | X-Wing / X25519 |\n|---|---|---|---|---|\n",
    );
    let sizes = SIZES.lock().unwrap();
    let names = [
        "KeyPackage",
        "add-everyone commit",
        "Welcome",
        "update commit",
    ];
    for n in self::sizes() {
        let of = |suite| {
            sizes
                .iter()
                .find(|(s, m, _)| *s == suite && *m == n)
                .map(|x| x.2)
        };
        if let (Some(a), Some(b)) = (of(CLASSICAL), of(XWING)) {
            for (i, name) in names.iter().enumerate() {
                #[allow(clippy::cast_precision_loss)]
                let ratio = b[i] as f64 / a[i] as f64;
                t.push_str(&format!(
                    "| {n} | {name} | {} | {} | {ratio:.1} |\n",
                    fmt_len(a[i]),
                    fmt_len(b[i])
                ));
            }
        }
    }
    t.push_str(
        "\n| n | suite | update commit (process) | one signature verified over the commit's bytes | process / that floor |\n|---|---|---|---|---|\n",
    );
    for n in self::sizes() {
        for suite in [CLASSICAL, XWING] {
            let floor = SIGNATURE_FLOORS
                .lock()
                .unwrap()
                .iter()
                .find(|(s, m, _)| *s == suite && *m == n)
                .map(|x| x.2);
            let time = floors::measured(&format!("{} n={n}", label(suite)), OPS[3]);
            if let (Some(floor), Some(time)) = (floor, time) {
                t.push_str(&format!(
                    "| {n} | {} | {} | {} | {:.2} |\n",
                    label(suite),
                    floors::fmt(time),
                    floors::fmt(floor),
                    time / floor
                ));
            }
        }
    }
    floors::print_table(&t, "pq.md");
}

criterion_group!(benches, pq_ops);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    table();
}
