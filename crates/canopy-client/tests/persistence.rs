//! The persistence contract, one test per ordering rule, each failing if the order is
//! broken: faults injected with `FaultyStore`, restarts by reopening the store.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use canopy_client::{ClientError, FixedClock, Incoming, no_app_writes};
use canopy_core::wire::MlsMessage;
use canopy_store::{FaultyStore, MemoryStore, SqliteStore, Store, StoreError, StoreOptions, Table};
use common::{NOW, SUITE, assert_mirrors, client, member, pair, read};

fn injected(e: &ClientError) -> bool {
    matches!(e, ClientError::Store(StoreError::Injected { .. }))
}

/// Rule 1: a failed write of the ratchet advance returns no ciphertext; the group, reloaded,
/// sends at the next generation, and nothing is reused (Bob reads everything after, which he
/// could not if a generation were used twice: its key is deleted after the first use).
#[test]
fn encrypt_whose_write_fails_returns_no_ciphertext_and_reuses_no_generation() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(FaultyStore::new(MemoryStore::new()), 1, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 2, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let faults = alice.store().faults();
    let commits = faults.commits();

    let first = alice.encrypt(&group, b"first", b"").unwrap();
    for fault in 0..3 {
        match fault {
            0 => faults.fail_next_commit(),
            1 => faults.fail_next_write(),
            _ => faults.fail_next_begin(),
        }
        let err = alice.encrypt(&group, b"lost", b"").unwrap_err();
        assert!(injected(&err), "{err:?}");
    }
    assert_eq!(faults.injected(), 3);
    assert_eq!(
        faults.commits(),
        commits + 1,
        "only the first encrypt committed"
    );
    let second = alice.encrypt(&group, b"second", b"").unwrap();
    // A restart: the store is all there is.
    let mut alice = client(alice.into_store(), 3, &clock);
    let third = alice.encrypt(&group, b"third", b"").unwrap();
    assert_eq!(read(&mut bob, &first), b"first");
    assert_eq!(read(&mut bob, &second), b"second");
    assert_eq!(read(&mut bob, &third), b"third");
}

/// Rule 2: a failed decrypt transaction delivers no plaintext, writes nothing of the
/// application's, and the message decrypts again afterwards (its key was not deleted).
#[test]
fn decrypt_whose_transaction_fails_delivers_nothing_and_can_be_retried() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 4, &clock, "alice");
    let mut bob = member(FaultyStore::new(MemoryStore::new()), 5, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let faults = bob.store().faults();
    let ct = alice.encrypt(&group, b"secret", b"").unwrap();
    let save = |m: &canopy_client::ReceivedMessage, tx: &mut dyn canopy_client::AppTx| {
        tx.put(b"inbox/1", &m.data)?;
        Ok(m.data.len())
    };

    faults.fail_next_commit();
    let err = bob.decrypt(&ct, save).unwrap_err();
    assert!(injected(&err), "{err:?}");
    assert!(bob.store().get(Table::App, b"inbox/1").unwrap().is_none());

    // The application's own failure rolls back the key's deletion too.
    let err = bob
        .decrypt(&ct, |_, tx| {
            tx.put(b"inbox/1", b"half")?;
            Err::<(), _>("disk full".into())
        })
        .unwrap_err();
    assert!(matches!(err, ClientError::App(_)), "{err:?}");
    assert!(bob.store().get(Table::App, b"inbox/1").unwrap().is_none());

    // A restart, then the message decrypts, once.
    let mut bob = client(bob.into_store(), 6, &clock);
    let (m, len) = bob.decrypt(&ct, save).unwrap();
    assert_eq!((m.data.as_slice(), len), (&b"secret"[..], 6));
    assert_eq!(
        bob.store()
            .get(Table::App, b"inbox/1")
            .unwrap()
            .unwrap()
            .as_bytes(),
        b"secret"
    );
    assert!(bob.decrypt(&ct, save).is_err(), "the key is deleted");
    let mut bob = client(bob.into_store(), 7, &clock);
    assert!(bob.decrypt(&ct, save).is_err(), "deleted on disk too");
}

/// Rule 3 (order): a commit whose write fails returns no bytes and leaves no pending commit.
#[test]
fn commit_whose_write_fails_returns_nothing_and_leaves_nothing_pending() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(FaultyStore::new(MemoryStore::new()), 8, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 9, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    alice.store().faults().fail_next_commit();
    assert!(injected(&alice.update(&group).unwrap_err()));
    assert!(!alice.has_pending_commit(&group).unwrap());
    let out = alice.update(&group).unwrap();
    assert!(alice.has_pending_commit(&group).unwrap());
    alice.merge_pending_commit(&group).unwrap();
    bob.process_incoming(&out.commit, no_app_writes).unwrap();
    assert_eq!(
        alice.group(&group).unwrap().epoch_authenticator(),
        bob.group(&group).unwrap().epoch_authenticator()
    );
}

fn sqlite(path: &std::path::Path) -> SqliteStore {
    SqliteStore::open(path, StoreOptions::default()).unwrap()
}

/// Rule 3: the pending commit survives a reopen of a SQLite store and is merged there when
/// the Delivery Service accepted it.
#[test]
fn pending_commit_survives_a_sqlite_reopen_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice.db");
    let clock = FixedClock::new(NOW);
    let mut alice = member(sqlite(&path), 10, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 11, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let out = alice.update(&group).unwrap();
    drop(alice); // killed after sending

    let mut alice = client(sqlite(&path), 12, &clock);
    assert!(alice.has_pending_commit(&group).unwrap());
    // The Delivery Service echoes it: the client merges it.
    let (own, ()) = alice.process_incoming(&out.commit, no_app_writes).unwrap();
    assert_eq!(
        own,
        Incoming::OwnCommit {
            group_id: group.clone(),
            epoch: 2
        }
    );
    // What is in memory is what is on disk (the new epoch's secret tree included).
    assert_mirrors(&mut alice, &group);
    bob.process_incoming(&out.commit, no_app_writes).unwrap();
    assert_mirrors(&mut bob, &group);
    drop(alice);
    let mut alice = client(sqlite(&path), 13, &clock);
    assert!(!alice.has_pending_commit(&group).unwrap());
    assert_eq!(alice.group(&group).unwrap().epoch(), 2);
    assert_eq!(
        alice.group(&group).unwrap().epoch_authenticator(),
        bob.group(&group).unwrap().epoch_authenticator()
    );
    let ct = alice.encrypt(&group, b"after merge", b"").unwrap();
    assert_eq!(read(&mut bob, &ct), b"after merge");
}

/// Rule 3: after a reopen, a pending commit that lost is discarded, explicitly or by
/// processing the winner.
#[test]
fn pending_commit_survives_a_sqlite_reopen_and_is_discarded_when_another_won() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice.db");
    let clock = FixedClock::new(NOW);
    let mut alice = member(sqlite(&path), 14, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 15, &clock, "bob");
    let group = pair(&mut alice, &mut bob);

    // Explicitly.
    let _lost = alice.update(&group).unwrap();
    drop(alice);
    let mut alice = client(sqlite(&path), 16, &clock);
    assert!(alice.discard_pending_commit(&group).unwrap());
    drop(alice);
    let mut alice = client(sqlite(&path), 17, &clock);
    assert!(!alice.has_pending_commit(&group).unwrap());

    // By processing the winner.
    let _lost = alice.update(&group).unwrap();
    let won = bob.update(&group).unwrap();
    bob.merge_pending_commit(&group).unwrap();
    drop(alice);
    let mut alice = client(sqlite(&path), 18, &clock);
    assert!(alice.has_pending_commit(&group).unwrap());
    let (incoming, ()) = alice.process_incoming(&won.commit, no_app_writes).unwrap();
    assert!(matches!(incoming, Incoming::Commit { .. }), "{incoming:?}");
    assert!(!alice.has_pending_commit(&group).unwrap());
    assert!(matches!(
        alice.merge_pending_commit(&group),
        Err(ClientError::Group(_))
    ));
    drop(alice);
    let mut alice = client(sqlite(&path), 19, &clock);
    assert!(!alice.has_pending_commit(&group).unwrap());
    assert_eq!(
        alice.group(&group).unwrap().epoch_authenticator(),
        bob.group(&group).unwrap().epoch_authenticator()
    );
}

/// Rule 4: a failed join keeps the KeyPackage (and stores no group); the join succeeds
/// afterwards and deletes it in the same transaction.
#[test]
fn join_whose_transaction_fails_keeps_the_key_package() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 20, &clock, "alice");
    let mut bob = member(FaultyStore::new(MemoryStore::new()), 21, &clock, "bob");
    let group = alice.create_group("alice", SUITE, None).unwrap();
    let kp = bob
        .generate_key_packages("bob", SUITE, 1)
        .unwrap()
        .remove(0);
    let out = alice.add_members(&group, &[&kp]).unwrap();
    alice.merge_pending_commit(&group).unwrap();
    let welcome = out.welcome.unwrap();

    let faults = bob.store().faults();
    // The KeyPackage deletion is the transaction's last write: fail exactly that one.
    faults.fail_write_after(2);
    let err = bob.process_incoming(&welcome, no_app_writes).unwrap_err();
    assert!(injected(&err), "{err:?}");
    assert_eq!(bob.key_packages().unwrap().len(), 1);
    assert!(bob.group_ids().unwrap().is_empty());
    assert!(bob.store().load_group(&group).unwrap().is_none());

    faults.fail_next_commit();
    assert!(injected(
        &bob.process_incoming(&welcome, no_app_writes).unwrap_err()
    ));
    assert_eq!(bob.key_packages().unwrap().len(), 1);

    let mut bob = client(bob.into_store(), 22, &clock);
    bob.process_incoming(&welcome, no_app_writes).unwrap();
    assert!(bob.key_packages().unwrap().is_empty());
    let ct = alice.encrypt(&group, b"welcome", b"").unwrap();
    assert_eq!(read(&mut bob, &ct), b"welcome");
}

/// Rule 5: two handles of one group (two clients on one SQLite database) cannot both use a
/// generation: the second gets Conflict and no ciphertext, then sends at a fresh one.
#[test]
fn two_handles_of_one_group_cannot_both_use_a_generation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alice.db");
    let clock = FixedClock::new(NOW);
    let mut a1 = member(sqlite(&path), 23, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 24, &clock, "bob");
    let group = pair(&mut a1, &mut bob);
    let mut a2 = client(sqlite(&path), 25, &clock);
    a2.group(&group).unwrap();
    a1.group(&group).unwrap();

    let m1 = a1.encrypt(&group, b"from handle 1", b"").unwrap();
    let err = a2.encrypt(&group, b"from handle 2", b"").unwrap_err();
    assert!(
        matches!(err, ClientError::Store(StoreError::Conflict { .. })),
        "{err:?}"
    );
    // Reloaded with the winner's state, it sends at the next generation.
    let m2 = a2.encrypt(&group, b"from handle 2", b"").unwrap();
    assert!(matches!(
        a1.encrypt(&group, b"stale", b""),
        Err(ClientError::Store(StoreError::Conflict { .. }))
    ));
    let m3 = a1.encrypt(&group, b"handle 1 again", b"").unwrap();
    assert_eq!(read(&mut bob, &m1), b"from handle 1");
    assert_eq!(read(&mut bob, &m2), b"from handle 2");
    assert_eq!(read(&mut bob, &m3), b"handle 1 again");
}

/// Removal status is written in the transaction of the removing commit.
#[test]
fn removal_whose_write_fails_can_be_processed_again() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 26, &clock, "alice");
    let mut bob = member(FaultyStore::new(MemoryStore::new()), 27, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let leaf = bob.group(&group).unwrap().own_leaf();
    let out = alice.remove_members(&group, &[leaf]).unwrap();
    bob.store().faults().fail_next_commit();
    assert!(injected(
        &bob.process_incoming(&out.commit, no_app_writes)
            .unwrap_err()
    ));
    assert_eq!(
        bob.status(&group).unwrap(),
        canopy_client::MembershipStatus::Member
    );
    let (incoming, ()) = bob.process_incoming(&out.commit, no_app_writes).unwrap();
    assert!(matches!(incoming, Incoming::Removed { epoch: 2, .. }));
    let mut bob = client(bob.into_store(), 28, &clock);
    assert_eq!(
        bob.status(&group).unwrap(),
        canopy_client::MembershipStatus::Removed { epoch: 2 }
    );
}

/// A Welcome that names an external PSK (RFC 9420 §8.4) joins only with it; without it the
/// join fails and keeps the KeyPackage.
#[test]
fn join_asks_for_the_psks_the_welcome_names() {
    use canopy_client::{CommitOptions, JoinOptions};
    use canopy_core::advanced::codec::VarBytes;
    use canopy_core::wire::{PreSharedKeyId, Psk};
    use canopy_crypto::Secret;

    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 30, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 31, &clock, "bob");
    let group = alice.create_group("alice", SUITE, None).unwrap();
    let psk = Secret::new(vec![7; 32]);
    alice
        .add_external_psk(&group, b"shared".to_vec(), psk.clone())
        .unwrap();
    let kp = bob
        .generate_key_packages("bob", SUITE, 1)
        .unwrap()
        .remove(0);
    let MlsMessage::KeyPackage(parsed) = MlsMessage::from_bytes(&kp).unwrap() else {
        panic!()
    };
    let out = alice
        .commit(
            &group,
            CommitOptions {
                add: vec![*parsed],
                psks: vec![PreSharedKeyId {
                    psk: Psk::External {
                        psk_id: VarBytes(b"shared".to_vec()),
                    },
                    psk_nonce: VarBytes(vec![1; 32]),
                }],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    alice.merge_pending_commit(&group).unwrap();
    let welcome = out.welcome.unwrap();
    let err = bob.process_incoming(&welcome, no_app_writes).unwrap_err();
    assert!(
        matches!(err, ClientError::Group(canopy_core::GroupError::MissingPsk)),
        "{err:?}"
    );
    assert_eq!(bob.key_packages().unwrap().len(), 1);
    let options = JoinOptions::default().with_psk(b"shared".to_vec(), psk);
    bob.join(&welcome, &options, no_app_writes).unwrap();
    assert!(bob.key_packages().unwrap().is_empty());
    let ct = alice.encrypt(&group, b"with psk", b"").unwrap();
    assert_eq!(read(&mut bob, &ct), b"with psk");
}

/// A Welcome without the ratchet tree joins with the tree given out of band (RFC 9420
/// §12.4.3.3), and fails without it, keeping the KeyPackage.
#[test]
fn join_takes_an_out_of_band_ratchet_tree() {
    use canopy_client::{ClientConfig, JoinOptions};

    let clock = FixedClock::new(NOW);
    let mut config = ClientConfig::default();
    config.group.ratchet_tree_in_welcome = false;
    let mut alice = canopy_client::Client::builder(MemoryStore::new())
        .crypto(std::sync::Arc::new(
            canopy_crypto_rustcrypto::DeterministicRandom::provider(32),
        ))
        .clock(std::sync::Arc::new(clock.clone()))
        .config(config)
        .open()
        .unwrap();
    alice
        .create_identity("alice", common::basic("alice"), SUITE)
        .unwrap();
    let mut bob = member(MemoryStore::new(), 33, &clock, "bob");
    let group = alice.create_group("alice", SUITE, None).unwrap();
    let kp = bob
        .generate_key_packages("bob", SUITE, 1)
        .unwrap()
        .remove(0);
    let out = alice.add_members(&group, &[&kp]).unwrap();
    alice.merge_pending_commit(&group).unwrap();
    let welcome = out.welcome.unwrap();
    let err = bob.process_incoming(&welcome, no_app_writes).unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Group(canopy_core::GroupError::MissingRatchetTree)
        ),
        "{err:?}"
    );
    assert_eq!(bob.key_packages().unwrap().len(), 1);
    let tree = alice
        .group(&group)
        .unwrap()
        .tree()
        .to_wire()
        .unwrap()
        .to_bytes()
        .unwrap();
    bob.join(
        &welcome,
        &JoinOptions::default().with_ratchet_tree(tree),
        no_app_writes,
    )
    .unwrap();
    let ct = alice.encrypt(&group, b"tree out of band", b"").unwrap();
    assert_eq!(read(&mut bob, &ct), b"tree out of band");
}

/// The client over an encrypted SQLite store (values sealed at rest): the same contract, and
/// the database holds no plaintext of what the application stored.
#[test]
fn an_encrypted_sqlite_store_works_and_seals_the_application_table() {
    use canopy_store::EncryptionKey;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bob.db");
    let key = || EncryptionKey::new([9; 32]);
    let open = || SqliteStore::open(&path, StoreOptions::encrypted(key())).unwrap();
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 34, &clock, "alice");
    let mut bob = member(open(), 35, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let ct = alice
        .encrypt(&group, b"sealed plaintext marker", b"")
        .unwrap();
    bob.decrypt(&ct, |m, tx| Ok(tx.put(b"inbox/1", &m.data)?))
        .unwrap();
    bob.store().checkpoint().unwrap();
    drop(bob);
    let raw = std::fs::read(&path).unwrap();
    assert!(
        !raw.windows(23).any(|w| w == b"sealed plaintext marker"),
        "the plaintext is in the database file"
    );
    let mut bob = client(open(), 36, &clock);
    let ct = alice.encrypt(&group, b"again", b"").unwrap();
    assert_eq!(read(&mut bob, &ct), b"again");
}
