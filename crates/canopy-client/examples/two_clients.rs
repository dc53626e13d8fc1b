//! Alice and Bob, each with a SQLite database in a temporary directory, chat; both
//! "restart" (every in-memory state dropped, the clients reopened from their databases) and
//! chat on: `cargo run -p canopy-client --example two_clients`.
//!
//! Messages travel as bytes, as they would through a Delivery Service. Bob keeps what he
//! reads in the application table, written in the transaction that deletes the message's
//! key (the client's persistence contract).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use canopy_client::{AppTx, Client, Incoming, no_app_writes};
use canopy_core::advanced::codec::VarBytes;
use canopy_core::wire::Credential;
use canopy_crypto::CipherSuite;
use canopy_store::{SqliteStore, StoreOptions, Table};

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

fn open(path: &Path) -> Client<SqliteStore> {
    Client::open(SqliteStore::open(path, StoreOptions::default()).unwrap()).unwrap()
}

fn credential(name: &str) -> Credential {
    Credential::Basic {
        identity: VarBytes(name.as_bytes().to_vec()),
    }
}

/// Reads `ciphertext`, storing it as message number `n` of the inbox in the same
/// transaction, and prints it.
fn receive(who: &str, client: &mut Client<SqliteStore>, ciphertext: &[u8], n: u32) {
    let (m, ()) = client
        .decrypt(ciphertext, |m, tx: &mut dyn AppTx| {
            tx.put(format!("inbox/{n:04}").as_bytes(), &m.data)?;
            Ok(())
        })
        .unwrap();
    println!(
        "{who} read (epoch {}): {}",
        m.epoch,
        String::from_utf8_lossy(&m.data)
    );
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let alice_db = dir.path().join("alice.db");
    let bob_db = dir.path().join("bob.db");

    let mut alice = open(&alice_db);
    let mut bob = open(&bob_db);
    alice
        .create_identity("alice", credential("alice"), SUITE)
        .unwrap();
    bob.create_identity("bob", credential("bob"), SUITE)
        .unwrap();

    // Bob publishes KeyPackages; Alice creates a group and adds him.
    let key_packages = bob.generate_key_packages("bob", SUITE, 3).unwrap();
    let group = alice.create_group("alice", SUITE, None).unwrap();
    let out = alice.add_members(&group, &[&key_packages[0]]).unwrap();
    alice.merge_pending_commit(&group).unwrap(); // the Delivery Service accepted it
    let (joined, ()) = bob
        .process_incoming(&out.welcome.unwrap(), no_app_writes)
        .unwrap();
    assert!(matches!(joined, Incoming::Joined { .. }));
    println!(
        "bob joined; {} KeyPackages left",
        bob.key_packages().unwrap().len()
    );

    let mut n = 0;
    for text in ["hi bob", "how are you?"] {
        let ct = alice.encrypt(&group, text.as_bytes(), b"").unwrap();
        n += 1;
        receive("bob", &mut bob, &ct, n);
    }
    let ct = bob.encrypt(&group, b"fine, thanks", b"").unwrap();
    let (m, ()) = alice.decrypt(&ct, |_, _| Ok(())).unwrap();
    println!("alice read: {}", String::from_utf8_lossy(&m.data));

    // Alice sends an update commit and is "killed" before the Delivery Service answers.
    let update = alice.update(&group).unwrap();
    let epoch_before = alice.group(&group).unwrap().epoch();

    // Restart: both processes' state is dropped; the databases are all that is left.
    drop(alice);
    drop(bob);
    let mut alice = open(&alice_db);
    let mut bob = open(&bob_db);
    println!(
        "restarted: alice has groups {:?}, pending commit: {}",
        alice.group_ids().unwrap().len(),
        alice.has_pending_commit(&group).unwrap()
    );

    // The Delivery Service delivers the update to both: Alice's is her own (merged), Bob's a
    // commit to merge.
    let (own, ()) = alice
        .process_incoming(&update.commit, no_app_writes)
        .unwrap();
    let (theirs, ()) = bob.process_incoming(&update.commit, no_app_writes).unwrap();
    assert!(matches!(own, Incoming::OwnCommit { .. }));
    assert!(matches!(theirs, Incoming::Commit { .. }));
    assert_eq!(alice.group(&group).unwrap().epoch(), epoch_before + 1);
    assert_eq!(
        alice.group(&group).unwrap().epoch_authenticator(),
        bob.group(&group).unwrap().epoch_authenticator()
    );

    for text in ["still there after the restart?", "yes"] {
        let ct = alice.encrypt(&group, text.as_bytes(), b"").unwrap();
        n += 1;
        receive("bob", &mut bob, &ct, n);
    }
    let ct = bob.encrypt(&group, b"all good here", b"").unwrap();
    let (m, ()) = alice.decrypt(&ct, |_, _| Ok(())).unwrap();
    println!("alice read: {}", String::from_utf8_lossy(&m.data));

    // Bob's inbox, as his application stored it.
    let inbox = bob.store().list_app_inbox();
    println!("bob's stored inbox: {inbox:?}");
    assert_eq!(inbox.len(), 4);
    for (who, client) in [("alice", &mut alice), ("bob", &mut bob)] {
        let roster: Vec<String> = client
            .roster(&group)
            .unwrap()
            .into_iter()
            .map(|m| match m.credential {
                Credential::Basic { identity } => String::from_utf8_lossy(&identity.0).into(),
                _ => "?".into(),
            })
            .collect();
        println!("{who} sees members {roster:?}");
    }
    println!(
        "database sizes: alice {} bytes, bob {} bytes",
        std::fs::metadata(&alice_db).unwrap().len(),
        std::fs::metadata(&bob_db).unwrap().len()
    );
}

/// Bob's stored inbox.
trait Inbox {
    fn list_app_inbox(&self) -> Vec<String>;
}

impl Inbox for SqliteStore {
    fn list_app_inbox(&self) -> Vec<String> {
        use canopy_store::Store;
        self.list(Table::App)
            .unwrap()
            .into_iter()
            .map(|(_, v)| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }
}
