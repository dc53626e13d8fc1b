//! A bounded load run of the Delivery Service on loopback (it stops by itself): devices in
//! many small groups plus a group of 100 and a large group, application messages posted from
//! several threads, sampled receivers long-polling. Reports messages accepted per second, the
//! time to accept one in a small group, in the group of 100 and in the large group (the cost
//! of a message does not depend on the group's size), p50/p99 delivery latency, and lost,
//! duplicated or reordered deliveries at the sampled receivers.
//!
//! ```sh
//! cargo bench -p canopy-ds --bench load                      # SQLite (a file)
//! CANOPY_LOAD_POSTGRES='host=127.0.0.1 port=55432 user=postgres' cargo bench -p canopy-ds --bench load
//! ```
//! Sizes: `CANOPY_LOAD_GROUPS` (100) groups of `CANOPY_LOAD_GROUP_SIZE` (10), one group of
//! `CANOPY_LOAD_MID` (100), one group of `CANOPY_LOAD_BIG` (10,000), `CANOPY_LOAD_MESSAGES`
//! (100,000) messages, a tenth of them to the large group and a tenth to the group of 100;
//! `CANOPY_LOAD_THREADS` (128) posting threads (clients posting at once).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    unreachable_pub
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use canopy_core::group::{CommitOptions, CreateParams};
use canopy_core::key_package::BasicCredentialValidator;
use canopy_core::{Env, Group};
use canopy_ds::Limits;
use canopy_ds_api::auth::{self, RequestSignature};
use canopy_ds_api::{Delivery, DeliveryKind, hex};
use canopy_store::ds::SqliteDs;
use common::{Device, NOW, SUITE, Server};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// A signed request over a kept-alive connection.
fn call(
    agent: &ureq::Agent,
    server: &Server,
    d: &Device,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, Vec<u8>) {
    let nonce = d.next_nonce();
    let content = RequestSignature {
        method,
        path_and_query: path,
        device: &d.id,
        timestamp: NOW,
        nonce: &nonce,
        body,
    }
    .signed_content();
    let sig = hex::encode(&d.sign(&content));
    let url = format!("{}{path}", server.base);
    let headers = [
        (auth::DEVICE, d.id.clone()),
        (auth::TIMESTAMP, NOW.to_string()),
        (auth::NONCE, nonce),
        (auth::SIGNATURE, sig),
    ];
    let resp = if method == "GET" {
        let mut r = agent.get(&url);
        for (k, v) in &headers {
            r = r.header(*k, v.as_str());
        }
        r.call()
    } else {
        let mut r = agent.post(&url);
        for (k, v) in &headers {
            r = r.header(*k, v.as_str());
        }
        r.send(body)
    };
    let mut resp = resp.unwrap();
    let status = resp.status().as_u16();
    (
        status,
        resp.body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .unwrap(),
    )
}

fn parallel<T: Sync>(items: &[T], threads: usize, f: impl Fn(&ureq::Agent, &T) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let a = agent();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { return };
                    f(&a, item);
                }
            });
        }
    });
}

/// The `per_mille`-th of a sorted list (500: the median).
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = (sorted.len() - 1) * per_mille / 1000;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let groups = env_or("CANOPY_LOAD_GROUPS", 100);
    let size = env_or("CANOPY_LOAD_GROUP_SIZE", 10).max(2);
    let big = env_or("CANOPY_LOAD_BIG", 10_000).max(2);
    let mid = env_or("CANOPY_LOAD_MID", 100).max(2);
    let total = env_or("CANOPY_LOAD_MESSAGES", 100_000);
    let posters = env_or("CANOPY_LOAD_THREADS", 128);
    let pg = std::env::var("CANOPY_LOAD_POSTGRES").ok();
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        requests_per_second: u32::MAX / 2,
        claims_per_minute: u32::MAX / 2,
        ..Limits::default()
    };
    let (server, backend) = match &pg {
        Some(url) => (
            Server::on_postgres(url, &common::fresh_schema(), limits),
            "PostgreSQL",
        ),
        None => (
            Server::with_store(
                Arc::new(SqliteDs::open(&dir.path().join("ds.db")).unwrap()),
                limits,
            ),
            "SQLite (file, WAL)",
        ),
    };
    println!(
        "load: {groups} groups of {size} + 1 group of {mid} + 1 group of {big}, {total} messages, {posters} posting threads, {backend}"
    );
    let provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
    let validator = BasicCredentialValidator::new();
    let e = Env::new(&provider, &validator).at(NOW);

    // Setup (not measured): devices, KeyPackages, groups with everyone added.
    let t = Instant::now();
    let mut layout: Vec<usize> = vec![size; groups];
    layout.push(mid);
    layout.push(big);
    let devices: Vec<Vec<Device>> = layout
        .iter()
        .enumerate()
        .map(|(g, n)| {
            (0..*n)
                .map(|m| Device::new(&format!("g{g}m{m}/d")))
                .collect()
        })
        .collect();
    let flat: Vec<&Device> = devices.iter().flatten().collect();
    parallel(&flat, 4, |a, d| {
        let body = serde_json::json!({"device": d.id, "suite": SUITE.0, "signature_key": hex::encode(d.key.public.as_bytes())});
        assert_eq!(
            call(
                a,
                &server,
                d,
                "POST",
                "/v1/users",
                body.to_string().as_bytes()
            )
            .0,
            200
        );
    });
    let kps: Vec<(usize, usize, canopy_core::KeyPackage)> = devices
        .iter()
        .enumerate()
        .flat_map(|(g, ds)| {
            ds.iter()
                .enumerate()
                .skip(1)
                .map(move |(m, d)| (g, m, d.key_package().key_package))
        })
        .collect();
    parallel(&kps, 4, |a, (g, m, kp)| {
        assert_eq!(
            call(
                a,
                &server,
                &devices[*g][*m],
                "POST",
                "/v1/key-packages",
                &kp.to_message_bytes().unwrap()
            )
            .0,
            200
        );
    });
    let mut creators: Vec<Group> = Vec::new();
    let a = agent();
    for (g, ds) in devices.iter().enumerate() {
        let creator = &ds[0];
        let mut group = Group::create(
            &e,
            CreateParams::new(
                SUITE,
                format!("load{g}").into_bytes(),
                &creator.leaf_params(),
                Arc::new(creator.key.clone()),
            ),
        )
        .unwrap();
        let info = group.group_info(&e, true).unwrap();
        assert_eq!(
            call(&a, &server, creator, "POST", "/v1/groups", &info).0,
            200
        );
        let add: Vec<canopy_core::KeyPackage> = kps
            .iter()
            .filter(|(kg, _, _)| *kg == g)
            .map(|(_, _, kp)| kp.clone())
            .collect();
        let out = group
            .commit(
                &e,
                CommitOptions {
                    add,
                    ..CommitOptions::default()
                },
            )
            .unwrap();
        let path = format!("/v1/groups/{}/messages", hex::encode(group.group_id()));
        let (status, body) = call(
            &a,
            &server,
            creator,
            "POST",
            &path,
            &[out.commit, out.welcome.unwrap()].concat(),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let _ = group.merge_pending_commit().unwrap();
        creators.push(group);
    }
    // Every device drains its Welcome (so that the measured inboxes hold messages only).
    parallel(&flat, 4, |a, d| {
        loop {
            let (_, body) = call(a, &server, d, "GET", "/v1/inbox?max=1000", b"");
            let got = Delivery::decode_all(&body).unwrap();
            if got.is_empty() {
                break;
            }
            let welcomes = got
                .iter()
                .filter(|x| x.kind == DeliveryKind::Welcome)
                .map(|x| x.seq)
                .max();
            let groups: Vec<_> = got
                .iter()
                .filter(|x| x.kind == DeliveryKind::Group)
                .map(|x| serde_json::json!({"group_id": hex::encode(&x.group_id), "seq": x.seq}))
                .collect();
            let ack = serde_json::json!({"welcomes": welcomes, "groups": groups});
            call(
                a,
                &server,
                d,
                "POST",
                "/v1/inbox/ack",
                ack.to_string().as_bytes(),
            );
        }
    });
    // The messages, encrypted in advance: a tenth to the large group, a tenth to the group of
    // 100, the rest round robin.
    let (mid_index, big_index) = (groups, groups + 1);
    let mut messages: Vec<(usize, Vec<u8>)> = Vec::with_capacity(total);
    for i in 0..total {
        let g = if groups == 0 || i % 10 == 0 {
            big_index
        } else if i % 10 == 5 {
            mid_index
        } else {
            i % groups
        };
        let text = format!("load message {i}");
        messages.push((
            g,
            creators[g]
                .encrypt_application(&e, text.as_bytes(), b"")
                .unwrap(),
        ));
    }
    println!("setup: {:.1?} ({} devices)", t.elapsed(), flat.len());

    // Sampled receivers: 2 members of 10 small groups, 5 of the group of 100, 10 of the large one.
    let mut sample: Vec<(usize, usize)> = (0..groups.min(10))
        .flat_map(|g| [(g, 1), (g, size - 1)])
        .collect();
    sample.extend((1..=5.min(mid - 1)).map(|m| (mid_index, m * (mid - 1) / 5.min(mid - 1))));
    sample.extend((1..=10.min(big - 1)).map(|m| (big_index, m * (big - 1) / 10.min(big - 1))));
    let expected: BTreeMap<usize, usize> =
        messages.iter().fold(BTreeMap::new(), |mut m, (g, _)| {
            *m.entry(*g).or_default() += 1;
            m
        });
    let accepted_at: Mutex<BTreeMap<(usize, u64), Instant>> = Mutex::new(BTreeMap::new());
    let latency_small: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    let latency_mid: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    let latency_big: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    let delivered: Mutex<Vec<Duration>> = Mutex::new(Vec::new());
    let problems: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let group_of: BTreeMap<Vec<u8>, usize> = creators
        .iter()
        .enumerate()
        .map(|(i, g)| (g.group_id().to_vec(), i))
        .collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut wall = Duration::ZERO;
    let mut stats_before = None;
    std::thread::scope(|s| {
        for &(g, m) in &sample {
            let (server, devices, accepted_at, delivered, problems, group_of, done, expected) = (
                &server,
                &devices,
                &accepted_at,
                &delivered,
                &problems,
                &group_of,
                &done,
                &expected,
            );
            s.spawn(move || {
                let a = agent();
                let d = &devices[g][m];
                let mut seqs: Vec<u64> = Vec::new();
                let want = expected.get(&g).copied().unwrap_or(0);
                let deadline = Instant::now() + Duration::from_secs(600);
                // Each read acknowledges the batch before it (POST /v1/inbox): one request
                // per batch, as a client that keeps up makes.
                let mut ack: Option<Vec<u8>> = None;
                while seqs.len() < want && Instant::now() < deadline {
                    let path = "/v1/inbox?wait=5&max=1000";
                    let (status, body) = match &ack {
                        Some(a_body) => call(&a, server, d, "POST", path, a_body),
                        None => call(&a, server, d, "GET", path, b""),
                    };
                    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                    let now = Instant::now();
                    let got = Delivery::decode_all(&body).unwrap();
                    let mut last = BTreeMap::new();
                    for x in &got {
                        if group_of.get(&x.group_id) != Some(&g) {
                            continue;
                        }
                        seqs.push(x.seq);
                        last.insert(hex::encode(&x.group_id), x.seq);
                        if let Some(at) = accepted_at.lock().unwrap().get(&(g, x.seq)) {
                            delivered
                                .lock()
                                .unwrap()
                                .push(now.saturating_duration_since(*at));
                        }
                    }
                    ack = (!last.is_empty()).then(|| {
                        let groups: Vec<_> = last
                            .iter()
                            .map(|(k, v)| serde_json::json!({"group_id": k, "seq": v}))
                            .collect();
                        serde_json::json!({"groups": groups})
                            .to_string()
                            .into_bytes()
                    });
                    if done.load(Ordering::SeqCst) && got.is_empty() && seqs.len() < want {
                        // Posting is over and the inbox is empty: whatever is missing is lost.
                        break;
                    }
                }
                let unique: BTreeSet<u64> = seqs.iter().copied().collect();
                if unique.len() != seqs.len() {
                    problems.lock().unwrap().push(format!(
                        "{}: {} duplicated",
                        d.id,
                        seqs.len() - unique.len()
                    ));
                }
                if seqs.windows(2).any(|w| w[0] >= w[1]) {
                    problems
                        .lock()
                        .unwrap()
                        .push(format!("{}: reordered", d.id));
                }
                if unique.len() != want {
                    problems.lock().unwrap().push(format!(
                        "{}: {} of {want} delivered",
                        d.id,
                        unique.len()
                    ));
                }
            });
        }
        // The posters.
        std::thread::sleep(Duration::from_millis(300));
        stats_before = server.service.group_commit_stats();
        let t = Instant::now();
        let next = AtomicUsize::new(0);
        std::thread::scope(|p| {
            for _ in 0..posters {
                p.spawn(|| {
                    let a = agent();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some((g, bytes)) = messages.get(i) else {
                            return;
                        };
                        let creator = &devices[*g][0];
                        let path = format!(
                            "/v1/groups/{}/messages",
                            hex::encode(creators[*g].group_id())
                        );
                        let start = Instant::now();
                        let (status, body) = call(&a, &server, creator, "POST", &path, bytes);
                        let end = Instant::now();
                        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                        let accepted: canopy_ds_api::types::Accepted =
                            serde_json::from_slice(&body).unwrap();
                        accepted_at.lock().unwrap().insert((*g, accepted.seq), end);
                        if *g == big_index {
                            &latency_big
                        } else if *g == mid_index {
                            &latency_mid
                        } else {
                            &latency_small
                        }
                        .lock()
                        .unwrap()
                        .push(end - start);
                    }
                });
            }
        });
        wall = t.elapsed();
        done.store(true, Ordering::SeqCst);
    });
    let n = messages.len();
    let stats_after = server.service.group_commit_stats();
    if let (Some(a), Some(b)) = (stats_before, stats_after) {
        let (batches, requests) = (b.batches - a.batches, b.requests - a.requests);
        println!(
            "group commit while posting: {requests} requests in {batches} transactions ({:.1} per transaction), writer busy {:.0}% of the time",
            requests as f64 / batches.max(1) as f64,
            100.0 * (b.busy - a.busy).as_secs_f64() / wall.as_secs_f64()
        );
    }
    println!(
        "posted {n} messages in {wall:.2?}: {:.0} messages/s accepted",
        n as f64 / wall.as_secs_f64()
    );
    for (what, l) in [
        (format!("a group of {size}"), &latency_small),
        (format!("the group of {mid}"), &latency_mid),
        (format!("the group of {big}"), &latency_big),
    ] {
        let mut l = l.lock().unwrap().clone();
        l.sort();
        let mean = l.iter().sum::<Duration>() / u32::try_from(l.len().max(1)).unwrap();
        println!(
            "accepting a message in {what}: mean {mean:.2?}, p50 {:.2?}, p99 {:.2?} ({} messages)",
            percentile(&l, 500),
            percentile(&l, 990),
            l.len()
        );
    }
    let mut d = delivered.lock().unwrap().clone();
    d.sort();
    println!(
        "delivery latency at {} sampled devices ({} deliveries): p50 {:.2?}, p99 {:.2?}",
        sample.len(),
        d.len(),
        percentile(&d, 500),
        percentile(&d, 990)
    );
    let problems = problems.lock().unwrap();
    if problems.is_empty() {
        println!("lost, duplicated or reordered at the sampled devices: none");
    } else {
        println!("PROBLEMS: {problems:?}");
        std::process::exit(1);
    }
}
