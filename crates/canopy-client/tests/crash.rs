//! Crash test: a child process (this binary, re-executed with `CANOPY_CRASH_DIR` set) runs a
//! seeded random mix of operations as Carol on a SQLite store (encrypt, decrypt, process
//! commits, commit updates, join side groups, generate KeyPackages), and the parent SIGKILLs
//! it at random moments, at least 300 times. Alice and Bob live in the parent, which is
//! also the Delivery Service: files in `inbox/` are for Carol, files in `out/` are what
//! Carol emitted (each written, by rename, only after the operation that made it returned).
//!
//! After every kill the parent checks Carol's database:
//! - it opens and the group loads; its epoch authenticator is the one Alice had in that
//!   epoch (a state that had been committed), and no accepted epoch is lost (Carol is not
//!   behind a commit she processed or sent, or a message she sent);
//! - every inbox message before Carol's cursor (written in the same transaction as its
//!   processing) left its trace (the plaintext stored, the side group joined and its
//!   KeyPackage deleted) and none after it did;
//! - Alice and Bob decrypt every ciphertext Carol emitted: the receiver's secret tree deletes
//!   a key once used, so a (epoch, sender, generation) used for two ciphertexts makes the
//!   second fail; each ciphertext is also checked to be new.
//!
//! `harness = false`: `main` is the test.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use canopy_client::{Client, Incoming, no_app_writes};
use canopy_core::advanced::codec::VarBytes;
use canopy_core::wire::{Credential, MlsMessage};
use canopy_crypto::CipherSuite;
use canopy_store::{MemoryStore, SqliteStore, Store, StoreOptions, Table};

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
const GROUP: &[u8] = b"crash-group";
const KILLS: usize = 300;
/// Operations a child does at most before exiting by itself.
const MAX_OPS: usize = 40;

const APP: u8 = b'A';
const COMMIT: u8 = b'C';
const KEY_PACKAGE: u8 = b'K';

/// xorshift64*: the operation mix replays from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn credential(name: &str) -> Credential {
    Credential::Basic {
        identity: VarBytes(name.as_bytes().to_vec()),
    }
}

fn open_carol(dir: &Path) -> Client<SqliteStore> {
    let store = SqliteStore::open(dir.join("carol.db"), StoreOptions::default()).unwrap();
    Client::open(store).unwrap()
}

/// The `.msg` files of `sub`, in order.
fn messages(dir: &Path, sub: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "msg"))
        .collect();
    files.sort();
    files
}

/// Writes message `n` of `sub` atomically: a killed writer leaves a `.tmp` file at most.
fn put_message(dir: &Path, sub: &str, n: usize, kind: u8, epoch: u64, body: &[u8]) {
    let tmp = dir.join(sub).join(format!("{n:08}.tmp"));
    let mut bytes = vec![kind];
    bytes.extend_from_slice(&epoch.to_be_bytes());
    bytes.extend_from_slice(body);
    std::fs::write(&tmp, &bytes).unwrap();
    std::fs::rename(&tmp, dir.join(sub).join(format!("{n:08}.msg"))).unwrap();
}

fn read_message(path: &Path) -> (u8, u64, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let epoch = u64::from_be_bytes(bytes[1..9].try_into().unwrap());
    (bytes[0], epoch, bytes[9..].to_vec())
}

fn cursor(client: &Client<SqliteStore>) -> usize {
    client
        .store()
        .get(Table::App, b"cursor")
        .unwrap()
        .map_or(0, |v| {
            usize::try_from(u64::from_be_bytes(v.as_bytes().try_into().unwrap())).unwrap()
        })
}

/// Carol after a restart: her pending commit, if any, is merged if she had emitted it (the
/// Delivery Service took it) and discarded otherwise.
fn recover(dir: &Path, carol: &mut Client<SqliteStore>) {
    if !carol.has_pending_commit(GROUP).unwrap() {
        return;
    }
    let epoch = carol.group(GROUP).unwrap().epoch();
    let last = messages(dir, "out").last().map(|p| read_message(p));
    match last {
        Some((COMMIT, e, bytes)) if e == epoch => {
            let (incoming, ()) = carol.process_incoming(&bytes, no_app_writes).unwrap();
            assert!(
                matches!(incoming, Incoming::OwnCommit { .. }),
                "{incoming:?}"
            );
        }
        _ => assert!(carol.discard_pending_commit(GROUP).unwrap()),
    }
}

/// The child: Carol's random operations until killed (or `MAX_OPS`).
fn child(dir: &Path, seed: u64) {
    let mut rng = Rng(seed | 1);
    let mut carol = open_carol(dir);
    recover(dir, &mut carol);
    let mut out = messages(dir, "out").len();
    for op in 0..MAX_OPS {
        let inbox = messages(dir, "inbox");
        let next = cursor(&carol);
        match rng.below(100) {
            0..35 => {
                let text = format!("carol {seed} {op}");
                let epoch = carol.group(GROUP).unwrap().epoch();
                let ct = carol.encrypt(GROUP, text.as_bytes(), b"").unwrap();
                put_message(dir, "out", out, APP, epoch, &ct);
                out += 1;
            }
            35..75 if next < inbox.len() => {
                let (_, _, bytes) = read_message(&inbox[next]);
                let key = format!("recv/{next:08}");
                let after = (next as u64 + 1).to_be_bytes();
                carol
                    .process_incoming(&bytes, |incoming, tx| {
                        if let Incoming::Application(m) = incoming {
                            tx.put(key.as_bytes(), &m.data)?;
                        }
                        tx.put(b"cursor", &after)?;
                        Ok(())
                    })
                    .unwrap();
            }
            75..85 if next == inbox.len() => {
                let epoch = carol.group(GROUP).unwrap().epoch();
                let commit = carol.update(GROUP).unwrap();
                put_message(dir, "out", out, COMMIT, epoch, &commit.commit);
                out += 1;
                carol.merge_pending_commit(GROUP).unwrap();
            }
            85..92 => {
                for kp in carol.generate_key_packages("carol", SUITE, 2).unwrap() {
                    put_message(dir, "out", out, KEY_PACKAGE, 0, &kp);
                    out += 1;
                }
            }
            _ => {}
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// What the parent put in Carol's inbox.
enum Sent {
    /// Application data (main or side group).
    App(Vec<u8>),
    /// A commit of the main group, starting `epoch`.
    Commit { epoch: u64 },
    /// A Welcome to a side group, using the KeyPackage `reference`.
    Welcome { group: Vec<u8>, reference: Vec<u8> },
}

struct Parent {
    dir: PathBuf,
    rng: Rng,
    alice: Client<MemoryStore>,
    bob: Client<MemoryStore>,
    /// Alice's epoch authenticators of the main group.
    authenticators: BTreeMap<u64, Vec<u8>>,
    inbox: Vec<Sent>,
    /// Carol's emitted files processed so far.
    out_seen: usize,
    key_packages: Vec<Vec<u8>>,
    ciphertexts: BTreeSet<Vec<u8>>,
    /// The lowest epoch Carol's stored state may have: she processed, sent or emitted in it.
    floor: u64,
    /// Counts, for the report.
    carol_messages: usize,
    carol_commits: usize,
    joins: usize,
    pending_seen: usize,
    /// The epoch of Carol's last emitted file, if it was a commit.
    last_commit: Option<u64>,
}

impl Parent {
    fn new(dir: &Path, seed: u64) -> Self {
        std::fs::create_dir_all(dir.join("inbox")).unwrap();
        std::fs::create_dir_all(dir.join("out")).unwrap();
        let mut alice = Client::open(MemoryStore::new()).unwrap();
        let mut bob = Client::open(MemoryStore::new()).unwrap();
        let mut carol = open_carol(dir);
        alice
            .create_identity("alice", credential("alice"), SUITE)
            .unwrap();
        bob.create_identity("bob", credential("bob"), SUITE)
            .unwrap();
        carol
            .create_identity("carol", credential("carol"), SUITE)
            .unwrap();
        alice
            .create_group("alice", SUITE, Some(GROUP.to_vec()))
            .unwrap();
        let kb = bob.generate_key_packages("bob", SUITE, 1).unwrap();
        let kc = carol.generate_key_packages("carol", SUITE, 1).unwrap();
        let out = alice.add_members(GROUP, &[&kb[0], &kc[0]]).unwrap();
        alice.merge_pending_commit(GROUP).unwrap();
        let welcome = out.welcome.unwrap();
        bob.process_incoming(&welcome, no_app_writes).unwrap();
        carol.process_incoming(&welcome, no_app_writes).unwrap();
        let mut parent = Self {
            dir: dir.to_path_buf(),
            rng: Rng(seed),
            alice,
            bob,
            authenticators: BTreeMap::new(),
            inbox: Vec::new(),
            out_seen: 0,
            key_packages: Vec::new(),
            ciphertexts: BTreeSet::new(),
            floor: 1,
            carol_messages: 0,
            carol_commits: 0,
            joins: 0,
            pending_seen: 0,
            last_commit: None,
        };
        parent.note_epoch();
        parent
    }

    fn note_epoch(&mut self) {
        let g = self.alice.group(GROUP).unwrap();
        let (epoch, auth) = (g.epoch(), g.epoch_authenticator().to_vec());
        assert_eq!(self.bob.group(GROUP).unwrap().epoch_authenticator(), auth);
        self.authenticators.insert(epoch, auth);
    }

    fn send(&mut self, sent: Sent, kind: u8, epoch: u64, bytes: &[u8]) {
        put_message(&self.dir, "inbox", self.inbox.len(), kind, epoch, bytes);
        self.inbox.push(sent);
    }

    /// Alice and Bob process what Carol emitted since the last call.
    fn deliver_from_carol(&mut self) {
        let files = messages(&self.dir, "out");
        for path in &files[self.out_seen..] {
            let (kind, epoch, bytes) = read_message(path);
            match kind {
                APP => {
                    assert!(
                        self.ciphertexts.insert(bytes.clone()),
                        "a ciphertext emitted twice"
                    );
                    let a = self
                        .alice
                        .decrypt(&bytes, |_, _| Ok(()))
                        .unwrap_or_else(|e| {
                            panic!("Alice cannot read Carol's message of epoch {epoch}: {e}")
                        });
                    let b = self.bob.decrypt(&bytes, |_, _| Ok(())).unwrap();
                    assert_eq!(a.0.data, b.0.data);
                    assert!(a.0.data.starts_with(b"carol "));
                    self.floor = self.floor.max(epoch);
                    self.carol_messages += 1;
                }
                COMMIT => {
                    for m in [&mut self.alice, &mut self.bob] {
                        let (incoming, ()) = m.process_incoming(&bytes, no_app_writes).unwrap();
                        assert!(matches!(incoming, Incoming::Commit { .. }), "{incoming:?}");
                    }
                    self.note_epoch();
                    // Carol is at `epoch` with this commit pending, or past it.
                    self.floor = self.floor.max(epoch);
                    self.carol_commits += 1;
                }
                KEY_PACKAGE => self.key_packages.push(bytes),
                other => panic!("unknown kind {other}"),
            }
            self.last_commit = (kind == COMMIT).then_some(epoch);
        }
        self.out_seen = files.len();
    }

    /// Carol's database after a kill: see the module docs.
    fn check_carol(&mut self) {
        let mut carol = open_carol(&self.dir);
        let group = carol.group(GROUP).unwrap();
        let epoch = group.epoch();
        let auth = group.epoch_authenticator().to_vec();
        let pending = group.has_pending_commit();
        self.pending_seen += usize::from(pending);
        assert_eq!(
            self.authenticators.get(&epoch),
            Some(&auth),
            "Carol's epoch {epoch} is not a state the group had"
        );
        assert!(
            epoch >= self.floor,
            "Carol lost epochs: {epoch} < {}",
            self.floor
        );
        if self.last_commit == Some(epoch) {
            assert!(
                pending,
                "Carol sent a commit in epoch {epoch}: it must be pending"
            );
        }
        let next = cursor(&carol);
        assert!(next <= self.inbox.len());
        for (i, sent) in self.inbox.iter().enumerate() {
            let done = i < next;
            match sent {
                Sent::App(data) => {
                    let stored = carol
                        .store()
                        .get(Table::App, format!("recv/{i:08}").as_bytes())
                        .unwrap();
                    match (done, stored) {
                        (true, Some(v)) => assert_eq!(v.as_bytes(), data.as_slice()),
                        (false, None) => {}
                        (done, v) => {
                            panic!("message {i}: processed {done}, stored {:?}", v.is_some())
                        }
                    }
                }
                Sent::Commit { epoch: e } => {
                    if done {
                        assert!(
                            epoch >= *e,
                            "Carol processed the commit to {e} but is at {epoch}"
                        );
                    }
                }
                Sent::Welcome { group, reference } => {
                    let kp = carol.store().get(Table::KeyPackage, reference).unwrap();
                    let joined = carol.group_ids().unwrap().contains(group);
                    assert_eq!(kp.is_none(), done, "KeyPackage of Welcome {i}");
                    assert_eq!(joined, done, "side group of Welcome {i}");
                }
            }
        }
    }

    /// Alice and Bob act while Carol is down.
    fn act(&mut self) {
        let caught_up = {
            let carol = open_carol(&self.dir);
            cursor(&carol) == self.inbox.len()
        };
        for _ in 0..self.rng.below(3) {
            let data = format!("alice {}", self.rng.next()).into_bytes();
            let ct = self.alice.encrypt(GROUP, &data, b"").unwrap();
            let _ = self.bob.decrypt(&ct, |_, _| Ok(())).unwrap();
            let epoch = self.alice.group(GROUP).unwrap().epoch();
            self.send(Sent::App(data), APP, epoch, &ct);
        }
        if self.rng.below(3) == 0 {
            let data = format!("bob {}", self.rng.next()).into_bytes();
            let ct = self.bob.encrypt(GROUP, &data, b"").unwrap();
            let _ = self.alice.decrypt(&ct, |_, _| Ok(())).unwrap();
            let epoch = self.bob.group(GROUP).unwrap().epoch();
            self.send(Sent::App(data), APP, epoch, &ct);
        }
        // Commits only when Carol is at most one epoch behind, so that she can read what she
        // receives and Alice can read what Carol sent (past epochs are kept).
        if caught_up && self.rng.below(6) == 0 {
            let out = self.alice.update(GROUP).unwrap();
            self.alice.merge_pending_commit(GROUP).unwrap();
            self.bob
                .process_incoming(&out.commit, no_app_writes)
                .unwrap();
            self.note_epoch();
            let epoch = self.alice.group(GROUP).unwrap().epoch();
            self.send(Sent::Commit { epoch }, COMMIT, epoch, &out.commit);
        }
        if !self.key_packages.is_empty() && self.rng.below(8) == 0 {
            let kp = self.key_packages.remove(0);
            let MlsMessage::KeyPackage(parsed) = MlsMessage::from_bytes(&kp).unwrap() else {
                panic!("not a KeyPackage")
            };
            let ops = canopy_crypto_rustcrypto::RustCryptoProvider::new();
            let reference = canopy_core::key_package::KeyPackageRef::compute(
                canopy_crypto::CryptoProvider::suite(&ops, SUITE).unwrap(),
                &parsed,
            )
            .unwrap();
            let side = self.alice.create_group("alice", SUITE, None).unwrap();
            let out = self.alice.add_members(&side, &[&kp]).unwrap();
            self.alice.merge_pending_commit(&side).unwrap();
            let epoch = self.alice.group(&side).unwrap().epoch();
            self.send(
                Sent::Welcome {
                    group: side.clone(),
                    reference: reference.as_bytes().to_vec(),
                },
                b'W',
                epoch,
                &out.welcome.unwrap(),
            );
            let data = b"welcome to the side group".to_vec();
            let ct = self.alice.encrypt(&side, &data, b"").unwrap();
            self.send(Sent::App(data), APP, epoch, &ct);
            self.joins += 1;
        }
    }
}

fn parent() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let seed = std::env::var("CANOPY_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c0de_u64);
    let mut p = Parent::new(dir, seed);
    let exe = std::env::current_exe().unwrap();
    let (mut kills, mut runs, mut clean_exits) = (0usize, 0u64, 0usize);
    while kills < KILLS {
        assert!(
            started.elapsed() < Duration::from_secs(150),
            "too slow: {kills} kills in {:?}",
            started.elapsed()
        );
        p.act();
        runs += 1;
        let stderr = std::fs::File::create(dir.join("child.stderr")).unwrap();
        let mut child = Command::new(&exe)
            .env("CANOPY_CRASH_DIR", dir)
            .env("CANOPY_CRASH_CHILD_SEED", (seed ^ runs).to_string())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let wait = Duration::from_micros(2_000 + p.rng.below(40_000));
        std::thread::sleep(wait);
        let status = match child.try_wait().unwrap() {
            Some(status) => {
                clean_exits += 1;
                status
            }
            None => {
                child.kill().unwrap();
                kills += 1;
                child.wait().unwrap()
            }
        };
        if let Some(code) = status.code() {
            assert_eq!(
                code,
                0,
                "the child failed:\n{}",
                std::fs::read_to_string(dir.join("child.stderr")).unwrap()
            );
        }
        p.deliver_from_carol();
        p.check_carol();
    }
    // A last restart: Carol catches up and sends; Alice reads it.
    let mut carol = open_carol(dir);
    recover(dir, &mut carol);
    let ct = carol.encrypt(GROUP, b"carol is back", b"").unwrap();
    let (m, ()) = p.alice.decrypt(&ct, |_, _| Ok(())).unwrap();
    assert_eq!(m.data, b"carol is back");
    let epochs = p.authenticators.len();
    println!(
        "crash test: {runs} runs, {kills} kills, {clean_exits} clean exits, \
         {} of Carol's messages and {} of her commits read by Alice and Bob, \
         {} distinct ciphertexts, {} side-group joins, {} restarts with a pending commit, \
         {} inbox messages, {epochs} epochs, in {:?}",
        p.carol_messages,
        p.carol_commits,
        p.ciphertexts.len(),
        p.joins,
        p.pending_seen,
        p.inbox.len(),
        started.elapsed()
    );
    assert!(kills >= KILLS);
    assert!(p.carol_messages > 100, "too few messages to mean anything");
    assert!(p.carol_commits > 0 && p.joins > 0, "every operation ran");
}

fn main() {
    match std::env::var_os("CANOPY_CRASH_DIR") {
        Some(dir) => {
            let seed = std::env::var("CANOPY_CRASH_CHILD_SEED")
                .unwrap()
                .parse()
                .unwrap();
            child(Path::new(&dir), seed);
        }
        None => {
            // `cargo test -- --list` and filters: run only when not listing.
            if std::env::args().any(|a| a == "--list") {
                return;
            }
            parent();
        }
    }
}
