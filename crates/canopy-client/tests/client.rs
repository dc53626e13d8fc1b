//! The client's features: identities, KeyPackages, routing, joins, membership and roster.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use canopy_client::{
    Client, ClientError, FixedClock, Incoming, LeafIndex, MembershipStatus, MessageKind,
    no_app_writes,
};
use canopy_core::wire::{ContentType, ExtensionView, MlsMessage, Proposal};
use canopy_crypto::{CryptoProvider, Signer};
use canopy_crypto_rustcrypto::DeterministicRandom;
use canopy_store::{MemoryStore, Store, Table};
use common::{NOW, SUITE, basic, client, member, pair, read};

#[test]
fn two_members_exchange_messages_both_ways() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 1, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 2, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    for i in 0..3u8 {
        let ct = alice.encrypt(&group, &[i; 10], b"ad").unwrap();
        let (m, ()) = bob.decrypt(&ct, |_, _| Ok(())).unwrap();
        assert_eq!(m.data, vec![i; 10]);
        assert_eq!(m.authenticated_data, b"ad");
        assert_eq!(m.sender, LeafIndex::new(0).unwrap());
        assert_eq!(m.sender_credential, Some(basic("alice")));
        let ct = bob.encrypt(&group, b"back", b"").unwrap();
        assert_eq!(read(&mut alice, &ct), b"back");
    }
    assert_eq!(
        alice.group(&group).unwrap().epoch_authenticator(),
        bob.group(&group).unwrap().epoch_authenticator()
    );
}

#[test]
fn key_packages_come_in_batches_and_the_last_resort_is_reused() {
    let clock = FixedClock::new(NOW);
    let mut bob = member(MemoryStore::new(), 3, &clock, "bob");
    let batch = bob.generate_key_packages("bob", SUITE, 5).unwrap();
    assert_eq!(batch.len(), 5);
    let stored = bob.key_packages().unwrap();
    assert_eq!(stored.len(), 5);
    let refs: std::collections::BTreeSet<_> = stored.iter().map(|k| k.reference.clone()).collect();
    assert_eq!(refs.len(), 5, "every KeyPackage has its own reference");
    for bytes in &batch {
        assert!(matches!(
            MlsMessage::from_bytes(bytes).unwrap(),
            MlsMessage::KeyPackage(_)
        ));
        assert_eq!(bob.peek(bytes).unwrap().kind, MessageKind::KeyPackage);
    }
    assert!(stored.iter().all(|k| !k.last_resort && k.identity == "bob"));

    let last = bob.last_resort_key_package("bob", SUITE).unwrap();
    assert_eq!(bob.last_resort_key_package("bob", SUITE).unwrap(), last);
    let MlsMessage::KeyPackage(kp) = MlsMessage::from_bytes(&last).unwrap() else {
        panic!("not a KeyPackage");
    };
    // The `last_resort` extension (draft-ietf-mls-extensions) marks it.
    assert!(
        kp.extensions
            .find(canopy_core::key_package::LastResort::EXTENSION_TYPE)
            .is_some()
    );
    assert_eq!(bob.key_packages().unwrap().len(), 6);

    // Two groups join with the last-resort KeyPackage; it stays.
    let mut alice = member(MemoryStore::new(), 4, &clock, "alice");
    for _ in 0..2 {
        let group = alice.create_group("alice", SUITE, None).unwrap();
        let out = alice.add_members(&group, &[&last]).unwrap();
        alice.merge_pending_commit(&group).unwrap();
        let (joined, ()) = bob
            .process_incoming(&out.welcome.unwrap(), no_app_writes)
            .unwrap();
        assert!(matches!(joined, Incoming::Joined { .. }));
        assert_eq!(joined.group_id(), group.as_slice());
    }
    assert_eq!(bob.key_packages().unwrap().len(), 6);
    assert_eq!(bob.group_ids().unwrap().len(), 2);

    // An ordinary one is used once.
    let group = alice.create_group("alice", SUITE, None).unwrap();
    let out = alice.add_members(&group, &[&batch[0]]).unwrap();
    alice.merge_pending_commit(&group).unwrap();
    let welcome = out.welcome.unwrap();
    let peeked = bob.peek(&welcome).unwrap();
    assert_eq!(peeked.kind, MessageKind::Welcome);
    let reference = peeked.key_package.unwrap();
    assert!(stored.iter().any(|k| k.reference == reference));
    bob.process_incoming(&welcome, no_app_writes).unwrap();
    assert_eq!(bob.key_packages().unwrap().len(), 5);
    assert!(
        bob.store()
            .get(Table::KeyPackage, reference.as_bytes())
            .unwrap()
            .is_none()
    );
    assert!(bob.peek(&welcome).unwrap().key_package.is_none());
    assert!(matches!(
        bob.process_incoming(&welcome, no_app_writes),
        Err(ClientError::NoMatchingKeyPackage)
    ));
}

#[test]
fn peek_reads_group_epoch_and_content_type_without_processing() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 5, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 6, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let ct = alice.encrypt(&group, b"x", b"").unwrap();
    let p = bob.peek(&ct).unwrap();
    assert_eq!(p.kind, MessageKind::PrivateMessage);
    assert_eq!(p.group_id.as_deref(), Some(group.as_slice()));
    assert_eq!(p.epoch, Some(1));
    assert_eq!(p.content_type, Some(ContentType::Application));
    // Peeking changed nothing: the message still decrypts, once.
    assert!(!bob.group(&group).unwrap().has_changes());
    assert_eq!(read(&mut bob, &ct), b"x");
    assert!(bob.decrypt(&ct, |_, _| Ok(())).is_err());

    let out = alice.update(&group).unwrap();
    let p = bob.peek(&out.commit).unwrap();
    assert_eq!(p.kind, MessageKind::PublicMessage);
    assert_eq!(p.content_type, Some(ContentType::Commit));
    assert_eq!(p.epoch, Some(1));
    assert!(matches!(
        bob.decrypt(&out.commit, |_, _| Ok(())),
        Err(ClientError::UnexpectedMessage(_))
    ));
    assert!(bob.peek(b"\x00\x01garbage").is_err());
}

#[test]
fn removed_member_gets_a_removed_status_not_unknown_epoch() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 7, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 8, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let roster = alice.roster(&group).unwrap();
    assert_eq!(roster.len(), 2);
    assert_eq!(*roster[1].credential, basic("bob"));
    let bob_leaf = roster[1].leaf;
    assert_eq!(bob.group(&group).unwrap().own_leaf(), bob_leaf);
    assert_eq!(bob.status(&group).unwrap(), MembershipStatus::Member);

    // A message sent before the removal, delivered after it, still reads.
    let early = alice.encrypt(&group, b"before", b"").unwrap();
    let out = alice.remove_members(&group, &[bob_leaf]).unwrap();
    let (incoming, ()) = bob.process_incoming(&out.commit, no_app_writes).unwrap();
    let Incoming::Removed { epoch, summary, .. } = incoming else {
        panic!("not removed: {incoming:?}");
    };
    assert_eq!(epoch, 2, "the first epoch without us");
    assert!(summary.self_removed);
    assert_eq!(
        bob.status(&group).unwrap(),
        MembershipStatus::Removed { epoch: 2 }
    );
    assert!(matches!(
        bob.encrypt(&group, b"x", b""),
        Err(ClientError::Removed { epoch: 2 })
    ));
    assert!(matches!(
        bob.update(&group),
        Err(ClientError::Removed { epoch: 2 })
    ));
    assert_eq!(read(&mut bob, &early), b"before");

    alice.process_incoming(&out.commit, no_app_writes).unwrap();
    assert_eq!(alice.roster(&group).unwrap().len(), 1);
    assert_eq!(alice.status(&group).unwrap(), MembershipStatus::Member);
    let later = alice.encrypt(&group, b"after", b"").unwrap();
    assert!(matches!(
        bob.process_incoming(&later, no_app_writes),
        Err(ClientError::Removed { epoch: 2 })
    ));
    // After a restart too.
    let mut bob = client(bob.into_store(), 9, &clock);
    assert_eq!(
        bob.status(&group).unwrap(),
        MembershipStatus::Removed { epoch: 2 }
    );
    assert!(matches!(
        bob.process_incoming(&later, no_app_writes),
        Err(ClientError::Removed { epoch: 2 })
    ));
}

#[test]
fn groups_load_from_the_store_after_a_restart() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 10, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 11, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let before = alice.group(&group).unwrap().epoch_authenticator().to_vec();
    let mut alice = client(alice.into_store(), 12, &clock);
    assert_eq!(alice.group_ids().unwrap(), vec![group.clone()]);
    assert_eq!(
        alice.identity("alice").unwrap().credential(),
        &basic("alice")
    );
    assert_eq!(alice.group(&group).unwrap().epoch_authenticator(), before);
    let ct = alice.encrypt(&group, b"still here", b"").unwrap();
    assert_eq!(read(&mut bob, &ct), b"still here");
    assert!(matches!(
        alice.group(b"no such group"),
        Err(ClientError::UnknownGroup)
    ));
}

#[test]
fn external_signer_is_stored_without_its_private_key() {
    let clock = FixedClock::new(NOW);
    let provider = DeterministicRandom::provider(13);
    let key: Arc<dyn Signer> = Arc::new(
        provider
            .suite(SUITE)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap(),
    );
    let mut carol = client(MemoryStore::new(), 14, &clock);
    carol
        .register_external_identity("carol", basic("carol"), SUITE, key.clone())
        .unwrap();
    assert!(carol.identity("carol").unwrap().is_external());
    let group = carol.create_group("carol", SUITE, None).unwrap();
    // The stored row holds the public key but no private key.
    let row = carol
        .store()
        .get(Table::Identity, b"carol")
        .unwrap()
        .unwrap();
    let private_len = u32::from_be_bytes(row.as_bytes()[row.len() - 4..].try_into().unwrap());
    assert_eq!(private_len, 0);

    let mut carol = client(carol.into_store(), 15, &clock);
    assert!(matches!(
        carol.group(&group),
        Err(ClientError::SignerNotAttached(_))
    ));
    let other: Arc<dyn Signer> = Arc::new(
        provider
            .suite(SUITE)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap(),
    );
    assert!(matches!(
        carol.attach_signer("carol", other),
        Err(ClientError::SignerMismatch(_))
    ));
    carol.attach_signer("carol", key).unwrap();
    assert_eq!(carol.group(&group).unwrap().epoch(), 0);
    assert!(matches!(
        carol.create_identity("carol", basic("carol"), SUITE),
        Err(ClientError::IdentityExists(_))
    ));
}

#[test]
fn the_clock_checks_key_package_lifetimes() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 16, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 17, &clock, "bob");
    let kp = bob
        .generate_key_packages("bob", SUITE, 1)
        .unwrap()
        .remove(0);
    let group = alice.create_group("alice", SUITE, None).unwrap();
    // A year later the KeyPackage (12 weeks) has expired (RFC 9420 §10.1).
    clock.advance(365 * 24 * 3_600);
    let err = alice.add_members(&group, &[&kp]).unwrap_err();
    assert!(matches!(err, ClientError::Group(_)), "{err:?}");
    assert!(!alice.has_pending_commit(&group).unwrap());
}

#[test]
fn several_identities_in_one_client() {
    let clock = FixedClock::new(NOW);
    let mut c = client(MemoryStore::new(), 18, &clock);
    c.create_identity("work", basic("work"), SUITE).unwrap();
    c.create_identity("home", basic("home"), SUITE).unwrap();
    let g1 = c.create_group("work", SUITE, Some(b"g1".to_vec())).unwrap();
    let g2 = c.create_group("home", SUITE, Some(b"g2".to_vec())).unwrap();
    assert_eq!(*c.roster(&g1).unwrap()[0].credential, basic("work"));
    assert_eq!(*c.roster(&g2).unwrap()[0].credential, basic("home"));
    assert!(matches!(
        c.create_group("work", SUITE, Some(b"g1".to_vec())),
        Err(ClientError::GroupExists)
    ));
    assert!(matches!(
        c.generate_key_packages("nobody", SUITE, 1),
        Err(ClientError::UnknownIdentity(_))
    ));
    let p256 = canopy_crypto::CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;
    assert!(matches!(
        c.generate_key_packages("work", p256, 1),
        Err(ClientError::SuiteMismatch { .. })
    ));
    assert_eq!(c.identities().count(), 2);
    let c = client(c.into_store(), 19, &clock);
    assert_eq!(c.identities().count(), 2);
}

#[test]
fn a_proposal_is_cached_and_committed_by_the_next_commit() {
    let clock = FixedClock::new(NOW);
    let mut alice = member(MemoryStore::new(), 20, &clock, "alice");
    let mut bob = member(MemoryStore::new(), 21, &clock, "bob");
    let group = pair(&mut alice, &mut bob);
    let mut carol: Client<MemoryStore> = member(MemoryStore::new(), 22, &clock, "carol");
    let kp = carol
        .generate_key_packages("carol", SUITE, 1)
        .unwrap()
        .remove(0);
    // Bob proposes adding Carol; Alice caches the proposal and commits it.
    let MlsMessage::KeyPackage(kp) = MlsMessage::from_bytes(&kp).unwrap() else {
        panic!()
    };
    let proposal = bob
        .propose(
            &group,
            Proposal::Add(Box::new(canopy_core::wire::Add { key_package: *kp })),
        )
        .unwrap();
    let (incoming, ()) = alice.process_incoming(&proposal, no_app_writes).unwrap();
    assert!(
        matches!(incoming, Incoming::Proposal { .. }),
        "{incoming:?}"
    );
    // The cached proposal survives a restart of Alice.
    let mut alice = client(alice.into_store(), 23, &clock);
    assert_eq!(alice.group(&group).unwrap().pending_proposals().count(), 1);
    let out = alice
        .commit(&group, canopy_client::CommitOptions::default())
        .unwrap();
    let (incoming, ()) = bob.process_incoming(&out.commit, no_app_writes).unwrap();
    let Incoming::Commit { summary, .. } = incoming else {
        panic!("{incoming:?}")
    };
    assert_eq!(summary.added.len(), 1);
    let (own, ()) = alice.process_incoming(&out.commit, no_app_writes).unwrap();
    assert_eq!(
        own,
        Incoming::OwnCommit {
            group_id: group.clone(),
            epoch: 2
        }
    );
    carol
        .process_incoming(&out.welcome.unwrap(), no_app_writes)
        .unwrap();
    let ct = carol.encrypt(&group, b"hi both", b"").unwrap();
    assert_eq!(read(&mut alice, &ct), b"hi both");
    assert_eq!(read(&mut bob, &ct), b"hi both");
    assert_eq!(bob.roster(&group).unwrap().len(), 3);
}
