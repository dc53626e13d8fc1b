use crate::group::CreateParams;
use crate::group::JoinParams;
use std::sync::Arc;

use canopy_crypto::{CipherSuite, CryptoProvider};

use super::test_world::{
    SUITE, World, own_commit, private_handshake, remove_proposal, update_options,
};
use super::*;
use crate::framing::FramingError;
use crate::key_package::{KeyPackageParams, LeafNodeParams, create_key_package};
use crate::rules::{Rule, assert_rule};
use crate::wire::{
    Credential, FramedContentBody, Lifetime, MlsMessage, Proposal, ReInit, Remove, Sender, Welcome,
};

fn assert_agree(groups: &[&Group]) {
    let first = groups[0];
    for g in groups {
        assert_eq!(g.epoch(), first.epoch());
        assert_eq!(g.epoch_authenticator(), first.epoch_authenticator());
        assert_eq!(g.tree().tree_hash(), first.tree().tree_hash());
    }
}

/// Delivers `commit` to every group in `others` and merges it.
fn deliver(w: &World, commit: &[u8], others: &mut [&mut Group]) -> Vec<Merged> {
    others
        .iter_mut()
        .map(|g| match g.process_message(&w.env(), commit).unwrap() {
            ProcessedMessage::Commit(staged) => g.merge_staged_commit(*staged).unwrap(),
            other => panic!("expected a commit, got {other:?}"),
        })
        .collect()
}

fn three_members(w: &World, config: GroupConfig) -> (Group, Group, Group) {
    w.three_members(config)
}

#[test]
fn three_members_share_an_epoch_and_read_each_other() {
    let w = World::new();
    for handshake in [HandshakeFormat::Public, HandshakeFormat::Private] {
        let config = GroupConfig {
            handshake,
            ..GroupConfig::default()
        };
        let (mut alice, mut bob, mut carol) = three_members(&w, config);
        assert_eq!(alice.epoch(), 1);
        assert_eq!(alice.member_count(), 3);
        assert_agree(&[&alice, &bob, &carol]);

        let m = bob.encrypt_application(&w.env(), b"hello", b"ad").unwrap();
        for g in [&mut alice, &mut carol] {
            match g.process_message(&w.env(), &m).unwrap() {
                ProcessedMessage::Application {
                    sender,
                    data,
                    authenticated_data,
                    ..
                } => {
                    assert_eq!(sender.value(), 1);
                    assert_eq!(data, b"hello");
                    assert_eq!(authenticated_data, b"ad");
                }
                other => panic!("{other:?}"),
            }
        }

        // Bob updates (a commit with a path), Alice and Carol follow.
        let out = bob.commit(&w.env(), update_options()).unwrap();
        deliver(&w, &out.commit, &mut [&mut alice, &mut carol]);
        assert!(matches!(
            bob.process_message(&w.env(), &out.commit).unwrap(),
            ProcessedMessage::OwnCommit
        ));
        let _ = bob.merge_pending_commit().unwrap();
        assert_agree(&[&alice, &bob, &carol]);
        assert_eq!(alice.epoch(), 2);

        // Alice removes Carol.
        let carol_leaf = carol.own_leaf();
        let out = alice
            .commit(
                &w.env(),
                CommitOptions {
                    remove: vec![carol_leaf],
                    ..CommitOptions::default()
                },
            )
            .unwrap();
        let merged = deliver(&w, &out.commit, &mut [&mut bob, &mut carol]);
        assert_eq!(merged, vec![Merged::Member { epoch: 3 }, Merged::Removed]);
        let _ = alice.merge_pending_commit().unwrap();
        assert_agree(&[&alice, &bob]);
        assert_eq!(alice.member_count(), 2);

        // Carol cannot read the new epoch.
        let m = alice.encrypt_application(&w.env(), b"secret", b"").unwrap();
        assert!(carol.process_message(&w.env(), &m).is_err());
        assert!(matches!(
            bob.process_message(&w.env(), &m).unwrap(),
            ProcessedMessage::Application { .. }
        ));
    }
}

#[test]
fn proposals_by_reference_are_committed_by_another_member() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    let carol_leaf = carol.own_leaf();
    let proposal = bob.propose(&w.env(), remove_proposal(carol_leaf)).unwrap();
    for g in [&mut alice, &mut carol] {
        assert!(matches!(
            g.process_message(&w.env(), &proposal).unwrap(),
            ProcessedMessage::Proposal { .. }
        ));
    }
    let out = alice.commit(&w.env(), CommitOptions::default()).unwrap();
    let merged = deliver(&w, &out.commit, &mut [&mut bob, &mut carol]);
    assert_eq!(merged[1], Merged::Removed);
    let _ = alice.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &bob]);
    assert_eq!(bob.member_count(), 2);
}

#[test]
fn bad_commits_are_rejected_and_leave_the_group_unchanged() {
    let w = World::new();
    let (mut alice, mut bob, _carol) = three_members(&w, GroupConfig::default());
    let out = alice.commit(&w.env(), update_options()).unwrap();
    let before = bob.epoch_authenticator().to_vec();
    // Flip the last byte (inside the membership tag) and a byte of the signature region.
    for i in [out.commit.len() - 1, out.commit.len() - 40, 20] {
        let mut bad = out.commit.clone();
        bad[i] ^= 1;
        assert!(bob.process_message(&w.env(), &bad).is_err());
        assert_eq!(bob.epoch_authenticator(), before.as_slice());
        assert_eq!(bob.epoch(), 1);
    }
    // A message for another epoch.
    let _ = alice.merge_pending_commit().unwrap();
    let out2 = alice.commit(&w.env(), update_options()).unwrap();
    assert!(matches!(
        bob.process_message(&w.env(), &out2.commit).unwrap_err(),
        GroupError::UnknownEpoch {
            epoch: 2,
            current: 1
        }
    ));
    // The genuine commit still applies.
    deliver(&w, &out.commit, &mut [&mut bob]);
    assert_eq!(bob.epoch(), 2);
}

#[test]
fn a_large_commit_is_checked_and_staged_on_two_threads_with_the_same_outcomes() {
    // 600 KiB of authenticated data takes the commit past the size from which its signature
    // is verified alongside the membership tag and the staging (`parallel` feature).
    let w = World::new();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    let out = alice
        .commit(
            &w.env(),
            CommitOptions {
                force_path: true,
                authenticated_data: vec![0x5A; 600 * 1024],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let before = bob.to_bytes().unwrap();
    // A flipped byte in the authenticated data, in the signature, or in the tag.
    for i in [100, out.commit.len() - 60, out.commit.len() - 1] {
        let mut bad = out.commit.clone();
        bad[i] ^= 1;
        assert!(matches!(
            bob.process_message(&w.env(), &bad).unwrap_err(),
            GroupError::Framing(FramingError::BadMembershipTag)
        ));
        assert_eq!(bob.to_bytes().unwrap(), before);
    }
    own_commit(&w, &mut alice, &out.commit);
    deliver(&w, &out.commit, &mut [&mut bob, &mut carol]);
    assert_agree(&[&alice, &bob, &carol]);
}

#[test]
fn processing_many_messages_at_once_gives_the_results_of_one_at_a_time() {
    let w = World::new();
    let env = w.env();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    let mut messages: Vec<Vec<u8>> = Vec::new();
    // A clean run of 24 messages (with the `parallel` feature, batches on the pool), ended
    // by bytes that are no message.
    for i in 0..12u8 {
        messages.push(alice.encrypt_application(&env, &[i; 100], b"").unwrap());
        messages.push(carol.encrypt_application(&env, &[i; 50], b"ad").unwrap());
    }
    messages.push(vec![0, 1, 2]);
    // A replay, a tampered message, a good one after it, and bytes that are no message.
    messages.push(messages[2].clone());
    let mut tampered = alice.encrypt_application(&env, b"tampered", b"").unwrap();
    let k = tampered.len() - 5;
    tampered[k] ^= 1;
    messages.push(tampered);
    messages.push(alice.encrypt_application(&env, b"after it", b"").unwrap());
    messages.push(vec![0, 1, 2]);
    // A commit, then messages of the next epoch.
    let commit = alice.commit(&env, update_options()).unwrap().commit;
    messages.push(commit.clone());
    own_commit(&w, &mut alice, &commit);
    deliver(&w, &commit, &mut [&mut carol]);
    for i in 0..3u8 {
        messages.push(alice.encrypt_application(&env, &[i; 10], b"").unwrap());
        messages.push(carol.encrypt_application(&env, &[i; 20], b"").unwrap());
    }

    // One at a time, on a copy of Bob.
    let mut single = Group::from_bytes(
        env.crypto,
        bob.to_bytes().unwrap().as_bytes(),
        Some(bob.signer().clone()),
    )
    .unwrap();
    let mut expected = Vec::new();
    for m in &messages {
        match single.process_message(&env, m) {
            Ok(ProcessedMessage::Commit(staged)) => {
                let _ = single.merge_staged_commit(*staged).unwrap();
                expected.push("commit".to_owned());
            }
            other => expected.push(format!("{other:?}")),
        }
    }
    // All at once: the call stops after the commit, which is merged before the rest.
    let mut got = Vec::new();
    let mut rest = &messages[..];
    while !rest.is_empty() {
        let results = bob.process_messages(&env, rest);
        assert!(!results.is_empty());
        rest = &rest[results.len()..];
        for result in results {
            match result {
                Ok(ProcessedMessage::Commit(staged)) => {
                    let _ = bob.merge_staged_commit(*staged).unwrap();
                    got.push("commit".to_owned());
                }
                other => got.push(format!("{other:?}")),
            }
        }
    }
    assert_eq!(got, expected);
    assert_eq!(
        bob.to_bytes().unwrap().as_bytes(),
        single.to_bytes().unwrap().as_bytes()
    );
    // The outcomes are the expected ones: 24 + 1 read; the replay, the forgery and the two
    // non-messages refused.
    let read = expected
        .iter()
        .filter(|e| e.contains("Application"))
        .count();
    assert_eq!(read, 24 + 1 + 6);
    assert_eq!(expected.iter().filter(|e| e.starts_with("Err")).count(), 4);
    assert_eq!(bob.epoch(), alice.epoch());
}

#[test]
fn a_late_message_is_verified_with_the_key_its_sender_had_then() {
    let w = World::new();
    let env = w.env();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    let carol_leaf = carol.own_leaf();
    let late = carol
        .encrypt_application(&env, b"sent before leaving", b"")
        .unwrap();
    // Alice removes Carol; Bob merges before Carol's message reaches him.
    let remove = alice
        .commit(
            &env,
            CommitOptions {
                remove: vec![carol_leaf],
                ..CommitOptions::default()
            },
        )
        .unwrap()
        .commit;
    own_commit(&w, &mut alice, &remove);
    deliver(&w, &remove, &mut [&mut bob]);
    // Then Dave takes Carol's leaf.
    let (add, welcome, kps) = w.commit_add(&mut alice, &["dave"]);
    own_commit(&w, &mut alice, &add);
    let mut dave = w.join(&welcome, kps, GroupConfig::default()).remove(0);
    assert_eq!(dave.own_leaf(), carol_leaf);
    deliver(&w, &add, &mut [&mut bob]);
    assert_agree(&[&alice, &bob, &dave]);
    // Saved and loaded, Bob still reads Carol's late message, with Carol's key.
    let mut bob = Group::from_bytes(
        env.crypto,
        bob.to_bytes().unwrap().as_bytes(),
        Some(bob.signer().clone()),
    )
    .unwrap();
    match bob.process_message(&env, &late).unwrap() {
        ProcessedMessage::Application {
            sender,
            epoch,
            data,
            ..
        } => {
            assert_eq!(sender, carol_leaf);
            assert_eq!(epoch, 1);
            assert_eq!(data, b"sent before leaving");
        }
        other => panic!("{other:?}"),
    }
    // Dave's messages are verified with Dave's key.
    let now = dave.encrypt_application(&env, b"hello", b"").unwrap();
    assert!(matches!(
        bob.process_message(&env, &now).unwrap(),
        ProcessedMessage::Application { .. }
    ));
}

#[test]
fn our_own_private_messages_echoed_back_are_recognised() {
    let w = World::new();
    let env = w.env();
    let config = private_handshake();
    let (mut alice, mut bob, _carol) = three_members(&w, config);
    let message = alice.encrypt_application(&env, b"mine", b"").unwrap();
    let proposal = alice
        .propose(&env, remove_proposal(bob.own_leaf()))
        .unwrap();
    let before = alice.to_bytes().unwrap();
    for echo in [&message, &proposal] {
        assert_eq!(
            alice.process_message(&env, echo).unwrap_err(),
            GroupError::OwnMessage
        );
        assert_eq!(alice.to_bytes().unwrap().as_bytes(), before.as_bytes());
    }
    // An echo that arrives after the next epoch began is recognised too.
    let commit = alice.commit(&env, CommitOptions::default()).unwrap().commit;
    own_commit(&w, &mut alice, &commit);
    assert_eq!(
        alice.process_message(&env, &message).unwrap_err(),
        GroupError::OwnMessage
    );
    // Bob, who has not moved on, reads the message.
    assert!(matches!(
        bob.process_message(&env, &message).unwrap(),
        ProcessedMessage::Application { .. }
    ));
}

#[test]
fn a_late_private_proposal_of_the_previous_epoch_is_reported_once() {
    let w = World::new();
    let env = w.env();
    let config = private_handshake();
    let (mut alice, mut bob, mut carol) = three_members(&w, config);
    let late = bob
        .propose(&env, remove_proposal(alice.own_leaf()))
        .unwrap();
    // Alice commits without having seen it; Carol merges, then the proposal arrives.
    let commit = alice.commit(&env, CommitOptions::default()).unwrap().commit;
    own_commit(&w, &mut alice, &commit);
    deliver(&w, &commit, &mut [&mut carol]);
    match carol.process_message(&env, &late).unwrap() {
        ProcessedMessage::PastHandshake {
            epoch: 1,
            sender,
            body: FramedContentBody::Proposal(Proposal::Remove(_)),
        } => assert_eq!(sender, Sender::Member(bob.own_leaf().value())),
        other => panic!("{other:?}"),
    }
    // Its key is used up: the same message again is an error, and changes nothing.
    let before = carol.to_bytes().unwrap();
    assert!(carol.process_message(&env, &late).is_err());
    assert_eq!(carol.to_bytes().unwrap().as_bytes(), before.as_bytes());
    // Nothing was cached for a commit to pick up.
    assert_eq!(carol.pending_proposals().count(), 0);
}

#[test]
fn a_discarded_commit_leaves_the_epoch_and_late_messages_still_decrypt() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    let late = carol.encrypt_application(&w.env(), b"late", b"").unwrap();
    let out = alice.commit(&w.env(), CommitOptions::default()).unwrap();
    assert!(alice.has_pending_commit());
    // Bob's commit wins the epoch; Alice discards hers and processes Bob's.
    let won = bob.commit(&w.env(), CommitOptions::default()).unwrap();
    assert!(alice.discard_pending_commit());
    deliver(&w, &won.commit, &mut [&mut alice, &mut carol]);
    let _ = bob.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &bob, &carol]);
    // Alice's losing commit, delivered after all, is reported as a past epoch's, to her and
    // to the others, and changes nothing.
    for g in [&mut alice, &mut carol] {
        let before = g.to_bytes().unwrap();
        match g.process_message(&w.env(), &out.commit).unwrap() {
            ProcessedMessage::PastHandshake {
                epoch: 1,
                sender: Sender::Member(0),
                body: FramedContentBody::Commit(_),
            } => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(g.to_bytes().unwrap().as_bytes(), before.as_bytes());
    }
    // Carol's message of the previous epoch is still readable.
    match bob.process_message(&w.env(), &late).unwrap() {
        ProcessedMessage::Application { epoch, data, .. } => {
            assert_eq!(epoch, 1);
            assert_eq!(data, b"late");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_larger_group_stays_in_sync_through_adds_updates_and_removes() {
    let w = World::new();
    let config = GroupConfig::default();
    let mut creator = w.create("m0", config);
    let names: Vec<String> = (1..12).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut members = vec![creator];
    let joined = {
        let c = &mut members[0];
        w.add(c, &refs, config)
    };
    members.extend(joined);
    creator = members.remove(0);
    members.insert(0, creator);
    for round in 0..6 {
        let committer = (round * 5) % members.len();
        let options = if round % 2 == 0 {
            update_options()
        } else {
            let victim = (committer + 1) % members.len();
            CommitOptions {
                remove: vec![members[victim].own_leaf()],
                ..CommitOptions::default()
            }
        };
        let out = members[committer].commit(&w.env(), options).unwrap();
        let mut removed = Vec::new();
        for (i, g) in members.iter_mut().enumerate() {
            if i == committer {
                continue;
            }
            let ProcessedMessage::Commit(staged) =
                g.process_message(&w.env(), &out.commit).unwrap()
            else {
                panic!("not a commit");
            };
            if g.merge_staged_commit(*staged).unwrap() == Merged::Removed {
                removed.push(i);
            }
        }
        let _ = members[committer].merge_pending_commit().unwrap();
        for i in removed.into_iter().rev() {
            members.remove(i);
        }
        let refs: Vec<&Group> = members.iter().collect();
        assert_agree(&refs);
    }
}

#[test]
fn external_joins_and_resyncs_keep_everyone_in_sync() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    let info_bytes = alice.group_info(&w.env(), true).unwrap();
    let MlsMessage::GroupInfo(info) = MlsMessage::from_bytes(&info_bytes).unwrap() else {
        panic!("not a GroupInfo");
    };
    let (mut dave, commit) = Group::join_external(
        &w.env(),
        GroupConfig::default(),
        &info,
        None,
        &World::leaf("dave"),
        Arc::new(w.signer()),
        None,
        &[],
    )
    .unwrap();
    for g in [&mut alice, &mut bob, &mut carol] {
        let ProcessedMessage::Commit(staged) = g.process_message(&w.env(), &commit).unwrap() else {
            panic!("not a commit");
        };
        assert_eq!(staged.summary().added, vec![dave.own_leaf()]);
        let _ = g.merge_staged_commit(*staged).unwrap();
    }
    assert_eq!(dave.member_count(), 4);
    assert_agree(&[&alice, &bob, &carol, &dave]);
    let m = dave
        .encrypt_application(&w.env(), b"hi from dave", b"")
        .unwrap();
    assert!(matches!(
        carol.process_message(&w.env(), &m).unwrap(),
        ProcessedMessage::Application { .. }
    ));

    // Bob lost his state and rejoins, removing his old leaf (a resync).
    let old_bob = bob.own_leaf();
    let info_bytes = carol.group_info(&w.env(), true).unwrap();
    let MlsMessage::GroupInfo(info) = MlsMessage::from_bytes(&info_bytes).unwrap() else {
        panic!("not a GroupInfo");
    };
    let (mut new_bob, commit) = Group::join_external(
        &w.env(),
        GroupConfig::default(),
        &info,
        None,
        &World::leaf("bob"),
        Arc::new(w.signer()),
        Some(old_bob),
        &[],
    )
    .unwrap();
    for g in [&mut alice, &mut carol, &mut dave] {
        let ProcessedMessage::Commit(staged) = g.process_message(&w.env(), &commit).unwrap() else {
            panic!("not a commit");
        };
        assert_eq!(staged.summary().removed, vec![old_bob]);
        let _ = g.merge_staged_commit(*staged).unwrap();
    }
    assert_eq!(new_bob.member_count(), 4);
    assert_agree(&[&alice, &carol, &dave, &new_bob]);
    // Another member commits; the rejoined Bob follows.
    let out = alice.commit(&w.env(), update_options()).unwrap();
    deliver(&w, &out.commit, &mut [&mut carol, &mut dave, &mut new_bob]);
    let _ = alice.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &carol, &dave, &new_bob]);
}

#[test]
fn a_resync_under_another_identity_is_rejected() {
    let w = World::new();
    let (mut alice, bob, _carol) = three_members(&w, GroupConfig::default());
    let MlsMessage::GroupInfo(info) =
        MlsMessage::from_bytes(&alice.group_info(&w.env(), true).unwrap()).unwrap()
    else {
        panic!("not a GroupInfo");
    };
    let (_, commit) = Group::join_external(
        &w.env(),
        GroupConfig::default(),
        &info,
        None,
        &World::leaf("mallory"),
        Arc::new(w.signer()),
        Some(bob.own_leaf()),
        &[],
    )
    .unwrap();
    let epoch = alice.epoch();
    assert_rule(
        alice.process_message(&w.env(), &commit),
        Rule::LeafCredentialSuccessor,
    );
    assert_eq!(alice.epoch(), epoch);
}

fn welcome_of(out: &CommitOutput) -> Welcome {
    let MlsMessage::Welcome(w) = MlsMessage::from_bytes(out.welcome.as_ref().unwrap()).unwrap()
    else {
        panic!("not a Welcome");
    };
    w
}

#[test]
fn reinit_ends_the_group_and_its_successor_is_joined_with_the_reinit_psk() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    let reinit = ReInit {
        group_id: VarBytes(b"group v2".to_vec()),
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519,
        extensions: Extensions::default(),
    };
    let out = alice
        .commit(
            &w.env(),
            CommitOptions {
                reinit: Some(reinit.clone()),
                ..CommitOptions::default()
            },
        )
        .unwrap();
    deliver(&w, &out.commit, &mut [&mut bob, &mut carol]);
    let _ = alice.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &bob, &carol]);
    for g in [&alice, &bob, &carol] {
        assert_eq!(g.reinit(), Some(&reinit));
    }
    assert_eq!(
        alice.encrypt_application(&w.env(), b"x", b"").unwrap_err(),
        GroupError::GroupEnded
    );
    assert_eq!(
        alice
            .commit(&w.env(), CommitOptions::default())
            .unwrap_err(),
        GroupError::GroupEnded
    );

    // Bob creates the new group (suite 3) with fresh KeyPackages of Alice and Carol.
    let suite3 = CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519;
    let kp = |name: &str| {
        let signer = w
            .provider
            .suite(suite3)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap();
        let params = KeyPackageParams::new(
            LeafNodeParams::new(
                Credential::Basic {
                    identity: VarBytes(name.as_bytes().to_vec()),
                },
                suite3,
            ),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        (
            create_key_package(&w.provider, suite3, &params, &signer).unwrap(),
            signer,
        )
    };
    let (a_kp, a_sig) = kp("alice");
    let (c_kp, c_sig) = kp("carol");
    let bob_signer = w
        .provider
        .suite(suite3)
        .unwrap()
        .signature_generate_key_pair()
        .unwrap();
    let bob_leaf = LeafNodeParams::new(
        Credential::Basic {
            identity: VarBytes(b"bob".to_vec()),
        },
        suite3,
    );
    let (mut bob2, out) = Group::reinit_successor(
        &w.env(),
        &bob,
        GroupConfig::default(),
        &bob_leaf,
        Arc::new(bob_signer),
        vec![a_kp.key_package.clone(), c_kp.key_package.clone()],
    )
    .unwrap();
    let _ = bob2.merge_pending_commit().unwrap();
    let welcome = welcome_of(&out);
    let alice2 = Group::join_successor(
        &w.env(),
        &alice,
        GroupConfig::default(),
        &welcome,
        &a_kp,
        Arc::new(a_sig),
        None,
    )
    .unwrap();
    let carol2 = Group::join_successor(
        &w.env(),
        &carol,
        GroupConfig::default(),
        &welcome,
        &c_kp,
        Arc::new(c_sig),
        None,
    )
    .unwrap();
    assert_eq!(alice2.group_id(), b"group v2");
    assert_eq!(alice2.cipher_suite(), suite3);
    assert_agree(&[&alice2, &bob2, &carol2]);

    // A plain join of that Welcome, without the old group's PSK, fails.
    let (d_kp, d_sig) = kp("dave");
    assert!(matches!(
        Group::join(&w.env(), JoinParams::new(&welcome, &d_kp, Arc::new(d_sig))).unwrap_err(),
        GroupError::Join(_)
    ));
}

#[test]
fn a_branch_is_joined_with_the_branch_psk_and_checked() {
    let w = World::new();
    let (alice, bob, carol) = three_members(&w, GroupConfig::default());
    let (b_kp, b_sig) = w.key_package("bob");
    let (mut sub, out) = Group::branch(
        &w.env(),
        &alice,
        GroupConfig::default(),
        b"subgroup".to_vec(),
        Extensions::default(),
        &World::leaf("alice"),
        Arc::new(w.signer()),
        vec![b_kp.key_package.clone()],
    )
    .unwrap();
    let _ = sub.merge_pending_commit().unwrap();
    let welcome = welcome_of(&out);
    let bob_sub = Group::join_successor(
        &w.env(),
        &bob,
        GroupConfig::default(),
        &welcome,
        &b_kp,
        Arc::new(b_sig.clone()),
        None,
    )
    .unwrap();
    assert_agree(&[&sub, &bob_sub]);
    assert_eq!(bob_sub.member_count(), 2);
    // Joining with another group as the "old" one fails: its PSK is not there.
    let unrelated = w.create("zed", GroupConfig::default());
    assert_eq!(
        Group::join_successor(
            &w.env(),
            &unrelated,
            GroupConfig::default(),
            &welcome,
            &b_kp,
            Arc::new(b_sig),
            None,
        )
        .unwrap_err(),
        GroupError::MissingPsk
    );
    drop(carol);
}

#[test]
fn external_senders_and_new_members_propose_and_members_commit_by_reference() {
    use crate::framing::{protect_public, sign_content};
    use crate::wire::{
        Add, ExtensionView, ExternalSender, ExternalSenders, FramedContent, FramedContentBody,
        Sender, WireFormat,
    };
    let w = World::new();
    let ops = w.provider.suite(SUITE).unwrap();
    let ds = w.signer();
    let senders = ExternalSenders {
        senders: vec![ExternalSender {
            signature_key: ds.public.clone(),
            credential: Credential::Basic {
                identity: VarBytes(b"delivery service".to_vec()),
            },
        }]
        .into(),
    };
    let extensions = Extensions::new(vec![senders.to_extension().unwrap()]).unwrap();
    let mut alice = Group::create(
        &w.env(),
        CreateParams::new(
            SUITE,
            b"ext".to_vec(),
            &World::leaf("alice"),
            Arc::new(w.signer()),
        )
        .extensions(extensions),
    )
    .unwrap();
    let mut bob = w
        .add(&mut alice, &["bob"], GroupConfig::default())
        .pop()
        .unwrap();

    // The external sender proposes to remove Bob; Bob himself cannot be the committer.
    let content = FramedContent {
        group_id: alice.context().group_id.clone(),
        epoch: alice.epoch(),
        sender: Sender::External(0),
        authenticated_data: VarBytes(Vec::new()),
        body: FramedContentBody::Proposal(remove_proposal(bob.own_leaf())),
    };
    let signed = sign_content(ops, WireFormat::PublicMessage, content, &ds, None).unwrap();
    let message = MlsMessage::PublicMessage(Box::new(
        protect_public(ops, signed, alice.context(), None).unwrap(),
    ))
    .to_bytes()
    .unwrap();
    for g in [&mut alice, &mut bob] {
        assert!(matches!(
            g.process_message(&w.env(), &message).unwrap(),
            ProcessedMessage::Proposal {
                sender: Sender::External(0),
                ..
            }
        ));
    }

    // A new member proposes to add itself.
    let (carol_kp, _) = w.key_package("carol");
    let content = FramedContent {
        group_id: alice.context().group_id.clone(),
        epoch: alice.epoch(),
        sender: Sender::NewMemberProposal,
        authenticated_data: VarBytes(Vec::new()),
        body: FramedContentBody::Proposal(Proposal::Add(Box::new(Add {
            key_package: carol_kp.key_package.clone(),
        }))),
    };
    // Signed with Carol's own key, which is in her KeyPackage.
    let carol_signer = {
        let (bundle, signer) = w.key_package("carol");
        (bundle, signer)
    };
    let signed = sign_content(
        ops,
        WireFormat::PublicMessage,
        FramedContent {
            body: FramedContentBody::Proposal(Proposal::Add(Box::new(Add {
                key_package: carol_signer.0.key_package.clone(),
            }))),
            ..content
        },
        &carol_signer.1,
        None,
    )
    .unwrap();
    let message = MlsMessage::PublicMessage(Box::new(
        protect_public(ops, signed, alice.context(), None).unwrap(),
    ))
    .to_bytes()
    .unwrap();
    for g in [&mut alice, &mut bob] {
        assert!(matches!(
            g.process_message(&w.env(), &message).unwrap(),
            ProcessedMessage::Proposal {
                sender: Sender::NewMemberProposal,
                ..
            }
        ));
    }

    // By default the outsiders' proposals are surfaced but not committed (issue 10, defect 2:
    // RFC 9420 §12.2 lets the application decide; the default policy trusts members only).
    let out = alice.commit(&w.env(), CommitOptions::default()).unwrap();
    assert_eq!(out.left_out.len(), 2);
    for left in &out.left_out {
        assert_eq!(
            left.reason.rule(),
            Some(Rule::ApplicationPolicy),
            "{left:?}"
        );
    }
    assert!(out.welcome.is_none());
    assert!(alice.discard_pending_commit());
    // With a policy that authorizes them, Alice commits both by reference; Bob is removed,
    // Carol added.
    let env = w.env().with_policy(&IncludeAll);
    let out = alice.commit(&env, CommitOptions::default()).unwrap();
    let ProcessedMessage::Commit(staged) = bob.process_message(&w.env(), &out.commit).unwrap()
    else {
        panic!("not a commit");
    };
    assert_eq!(staged.summary().removed, vec![bob.own_leaf()]);
    assert_eq!(staged.summary().added.len(), 1);
    assert_eq!(bob.merge_staged_commit(*staged).unwrap(), Merged::Removed);
    let _ = alice.merge_pending_commit().unwrap();
    assert_eq!(alice.member_count(), 2);
    assert!(out.welcome.is_some());

    // A proposal signed by a stranger claiming to be the external sender is refused.
    let stranger = w.signer();
    let content = FramedContent {
        group_id: alice.context().group_id.clone(),
        epoch: alice.epoch(),
        sender: Sender::External(0),
        authenticated_data: VarBytes(Vec::new()),
        body: FramedContentBody::Proposal(Proposal::Remove(Remove { removed: 0 })),
    };
    let signed = sign_content(ops, WireFormat::PublicMessage, content, &stranger, None).unwrap();
    let message = MlsMessage::PublicMessage(Box::new(
        protect_public(ops, signed, alice.context(), None).unwrap(),
    ))
    .to_bytes()
    .unwrap();
    assert_eq!(
        alice.process_message(&w.env(), &message).unwrap_err(),
        GroupError::Framing(FramingError::BadSignature)
    );
    drop(carol_kp);
}

#[test]
fn our_update_proposal_is_committed_by_another_member_and_its_key_is_used() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    let old_key = bob
        .tree()
        .leaf(bob.own_leaf())
        .unwrap()
        .encryption_key
        .clone();
    let proposal = bob.propose_update(&w.env(), None).unwrap();
    for g in [&mut alice, &mut carol] {
        assert!(matches!(
            g.process_message(&w.env(), &proposal).unwrap(),
            ProcessedMessage::Proposal {
                proposal: Proposal::Update(_),
                ..
            }
        ));
    }
    // Bob's state survives a save and load with the pending Update key.
    let mut bob = Group::from_bytes(
        &w.provider,
        bob.to_bytes().unwrap().as_bytes(),
        Some(bob.signer().clone()),
    )
    .unwrap();
    // Alice commits it by reference; the path secret reaches Bob under his new key.
    let out = alice.commit(&w.env(), CommitOptions::default()).unwrap();
    let ProcessedMessage::Commit(staged) = bob.process_message(&w.env(), &out.commit).unwrap()
    else {
        panic!("not a commit");
    };
    assert_eq!(staged.summary().updated, vec![bob.own_leaf()]);
    let _ = bob.merge_staged_commit(*staged).unwrap();
    deliver(&w, &out.commit, &mut [&mut carol]);
    let _ = alice.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &bob, &carol]);
    let new_key = &bob.tree().leaf(bob.own_leaf()).unwrap().encryption_key;
    assert_ne!(*new_key, old_key);
    // Carol commits with a path: Bob decrypts it with his new leaf key.
    let out = carol.commit(&w.env(), update_options()).unwrap();
    deliver(&w, &out.commit, &mut [&mut alice, &mut bob]);
    let _ = carol.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &bob, &carol]);
    // A committer leaves its own Update out.
    let _ = alice.propose_update(&w.env(), None).unwrap();
    let out = alice.commit(&w.env(), CommitOptions::default()).unwrap();
    let ProcessedMessage::Commit(staged) = bob.process_message(&w.env(), &out.commit).unwrap()
    else {
        panic!("not a commit");
    };
    assert!(staged.summary().updated.is_empty());
}

#[test]
fn every_single_byte_change_to_a_commit_or_proposal_is_rejected_without_state_change() {
    let w = World::new();
    for handshake in [HandshakeFormat::Public, HandshakeFormat::Private] {
        let config = GroupConfig {
            handshake,
            ..GroupConfig::default()
        };
        let (mut alice, mut bob, _carol) = three_members(&w, config);
        let proposal = alice
            .propose(&w.env(), Proposal::Remove(Remove { removed: 2 }))
            .unwrap();
        let commit = alice.commit(&w.env(), update_options()).unwrap().commit;
        let before = bob.to_bytes().unwrap();
        for message in [&proposal, &commit] {
            for i in 0..message.len() {
                let mut changed = message.clone();
                changed[i] ^= 0x01;
                assert!(
                    bob.process_message(&w.env(), &changed).is_err(),
                    "{handshake:?}: byte {i} of {} changed and accepted",
                    message.len()
                );
            }
            assert_eq!(
                bob.to_bytes().unwrap().as_bytes(),
                before.as_bytes(),
                "a rejected message changed the state"
            );
        }
        // The genuine messages still work.
        assert!(matches!(
            bob.process_message(&w.env(), &proposal).unwrap(),
            ProcessedMessage::Proposal { .. }
        ));
    }
}

#[test]
fn random_bytes_are_typed_errors_not_panics() {
    let w = World::new();
    let (_alice, mut bob, _carol) = three_members(&w, GroupConfig::default());
    let mut x = 0x1234_5678_9abc_def0u64;
    for len in [0usize, 1, 2, 5, 16, 64, 300, 2000] {
        for _ in 0..50 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x.to_le_bytes()[0]
                })
                .collect();
            assert!(bob.process_message(&w.env(), &bytes).is_err());
        }
    }
    // A valid header for this group with a random body.
    let mut prefix = vec![0x00, 0x01, 0x00, 0x02];
    prefix.extend_from_slice(&[0x05]);
    prefix.extend_from_slice(b"group");
    for tail in 0..200u32 {
        let mut bytes = prefix.clone();
        bytes.extend_from_slice(&tail.to_be_bytes().repeat(7));
        assert!(bob.process_message(&w.env(), &bytes).is_err());
    }
}

#[test]
fn an_echoed_or_repeated_proposal_is_cached_once() {
    let w = World::new();
    for handshake in [HandshakeFormat::Public, HandshakeFormat::Private] {
        let config = GroupConfig {
            handshake,
            ..GroupConfig::default()
        };
        let (mut alice, mut bob, mut carol) = three_members(&w, config);
        let proposal = alice
            .propose(&w.env(), remove_proposal(carol.own_leaf()))
            .unwrap();
        // The Delivery Service echoes it to Alice (public framing only: a private echo of our
        // own message is a consumed generation) and delivers it to Bob twice.
        if handshake == HandshakeFormat::Public {
            assert!(matches!(
                alice.process_message(&w.env(), &proposal).unwrap(),
                ProcessedMessage::Proposal { .. }
            ));
        }
        let _ = bob.process_message(&w.env(), &proposal).unwrap();
        let _ = carol.process_message(&w.env(), &proposal).unwrap();
        if handshake == HandshakeFormat::Public {
            let _ = bob.process_message(&w.env(), &proposal).unwrap();
        }
        assert_eq!(alice.pending_proposals().count(), 1);
        assert_eq!(bob.pending_proposals().count(), 1);
        let out = alice.commit(&w.env(), CommitOptions::default()).unwrap();
        deliver(&w, &out.commit, &mut [&mut bob, &mut carol]);
        let _ = alice.merge_pending_commit().unwrap();
        assert_agree(&[&alice, &bob]);
    }
}

#[test]
fn our_own_choices_win_over_clashing_received_proposals() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = three_members(&w, GroupConfig::default());
    // Carol proposes an Update; Alice removes Carol by value in the same commit.
    let update = carol.propose_update(&w.env(), None).unwrap();
    for g in [&mut alice, &mut bob] {
        let _ = g.process_message(&w.env(), &update).unwrap();
    }
    let out = alice
        .commit(
            &w.env(),
            CommitOptions {
                remove: vec![carol.own_leaf()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let merged = deliver(&w, &out.commit, &mut [&mut bob, &mut carol]);
    assert_eq!(merged[1], Merged::Removed);
    let _ = alice.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &bob]);

    // Bob proposes a ReInit; Alice, with nothing else pending, commits it alone.
    let reinit = ReInit {
        group_id: VarBytes(b"again".to_vec()),
        version: ProtocolVersion::MLS10,
        cipher_suite: SUITE,
        extensions: Extensions::default(),
    };
    let proposal = bob
        .propose(&w.env(), Proposal::ReInit(reinit.clone()))
        .unwrap();
    let _ = alice.process_message(&w.env(), &proposal).unwrap();
    let out = alice.commit(&w.env(), CommitOptions::default()).unwrap();
    deliver(&w, &out.commit, &mut [&mut bob]);
    let _ = alice.merge_pending_commit().unwrap();
    assert_eq!(alice.reinit(), Some(&reinit));
    assert_eq!(bob.reinit(), Some(&reinit));
}

#[test]
fn adds_in_a_commit_that_changes_extensions_must_meet_the_new_requirements() {
    use crate::wire::{ExtensionType, ExtensionView, RequiredCapabilities};
    let w = World::new();
    let custom = ExtensionType(0xFF01);
    // Alice supports a custom extension type; a newcomer's default KeyPackage does not.
    let mut leaf = World::leaf("alice");
    leaf.capabilities.extensions.0.push(custom);
    let mut alice = Group::create(
        &w.env(),
        CreateParams::new(SUITE, b"req".to_vec(), &leaf, Arc::new(w.signer())),
    )
    .unwrap();
    let required = RequiredCapabilities {
        extension_types: vec![custom].into(),
        ..RequiredCapabilities::default()
    };
    let (dave, _) = w.key_package("dave");
    let err = alice
        .commit(
            &w.env(),
            CommitOptions {
                add: vec![dave.key_package.clone()],
                extensions: Some(Extensions::new(vec![required.to_extension().unwrap()]).unwrap()),
                ..CommitOptions::default()
            },
        )
        .unwrap_err();
    assert_rule(Err::<(), _>(err), Rule::LeafRequiredCapabilities);
    assert!(!alice.has_pending_commit());
    // Without the new requirement the same Add is fine.
    alice
        .commit(
            &w.env(),
            CommitOptions {
                add: vec![dave.key_package],
                ..CommitOptions::default()
            },
        )
        .unwrap();
}

/// Issue 10 item 14 (and `docs/interop.md`): a KeyPackage whose `KeyPackage.extensions`
/// carry an unknown and a GREASE extension its leaf does not list (§10: "MUST be ignored"),
/// and whose capabilities do not list the group's cipher suite (no receive-side rule asks
/// for it), is added to a group on every suite, and its owner joins from the Welcome.
#[test]
fn a_lax_key_package_from_another_implementation_is_added_and_joins_on_every_suite() {
    use crate::codec::VarBytes;
    use crate::crypto::sign_with_label;
    use crate::wire::{Extension, ExtensionType};

    let w = World::new();
    for suite in CipherSuite::ALL {
        let ops = w.provider.suite(suite).unwrap();
        let credential = |name: &str| Credential::Basic {
            identity: VarBytes(name.as_bytes().to_vec()),
        };
        let alice_signer = ops.signature_generate_key_pair().unwrap();
        let mut alice = Group::create(
            &w.env(),
            CreateParams::new(
                suite,
                b"lax".to_vec(),
                &LeafNodeParams::new(credential("alice"), suite),
                Arc::new(alice_signer),
            ),
        )
        .unwrap();

        let bob_signer = ops.signature_generate_key_pair().unwrap();
        let lifetime = Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        };
        let mut params =
            KeyPackageParams::new(LeafNodeParams::new(credential("bob"), suite), lifetime);
        params.leaf.capabilities.cipher_suites = vec![CipherSuite(0x0F0F)];
        let mut bob = create_key_package(&w.provider, suite, &params, &bob_signer).unwrap();
        let kp = &mut bob.key_package;
        kp.leaf_node
            .capabilities
            .cipher_suites
            .retain(|&s| s != suite);
        let tbs = kp.leaf_node.tbs_bytes(&[], 0).unwrap();
        kp.leaf_node.signature =
            VarBytes(sign_with_label(ops, &bob_signer, b"LeafNodeTBS", &tbs).unwrap());
        let listed = kp.leaf_node.capabilities.extensions.clone();
        let grease = crate::key_package::GREASE_VALUES
            .iter()
            .map(|&g| ExtensionType(g))
            .find(|t| !listed.as_slice().contains(t))
            .unwrap();
        kp.extensions = Extensions::new(vec![
            Extension::new(ExtensionType(0x7E57), vec![1, 2, 3]),
            Extension::new(grease, vec![4]),
        ])
        .unwrap();
        let tbs = kp.tbs_bytes().unwrap();
        kp.signature = VarBytes(sign_with_label(ops, &bob_signer, b"KeyPackageTBS", &tbs).unwrap());
        assert!(!kp.leaf_node.capabilities.cipher_suites.contains(&suite));

        let out = alice
            .commit(
                &w.env(),
                CommitOptions {
                    add: vec![bob.key_package.clone()],
                    ..CommitOptions::default()
                },
            )
            .unwrap_or_else(|e| panic!("{suite:?}: {e}"));
        own_commit(&w, &mut alice, &out.commit);
        let bob_group = Group::join(
            &w.env(),
            JoinParams::new(&welcome_of(&out), &bob, Arc::new(bob_signer)),
        )
        .unwrap_or_else(|e| panic!("{suite:?}: {e}"));
        assert_eq!(bob_group.member_count(), 2);
        assert_agree(&[&alice, &bob_group]);
    }
}

#[test]
fn the_ratchet_tree_goes_in_the_welcome_or_out_of_band_commit_by_commit() {
    let w = World::new();
    let mut alice = w.create("alice", GroupConfig::default());
    alice.set_ratchet_tree_in_welcome(false);
    assert!(!alice.config().ratchet_tree_in_welcome);
    let (commit, welcome, mut kps) = w.commit_add(&mut alice, &["bob"]);
    own_commit(&w, &mut alice, &commit);
    let (bundle, signer) = kps.pop().unwrap();
    let join = |tree: Option<wire::RatchetTree>| {
        Group::join(
            &w.env(),
            JoinParams::new(&welcome, &bundle, Arc::new(signer.clone())).ratchet_tree(tree),
        )
    };
    // Without the tree in its GroupInfo, the Welcome needs it out of band.
    assert_eq!(join(None).unwrap_err(), GroupError::MissingRatchetTree);
    let bob = join(Some(alice.tree().to_wire().unwrap())).unwrap();
    assert_agree(&[&alice, &bob]);

    // Back on: the next Welcome carries the tree again.
    alice.set_ratchet_tree_in_welcome(true);
    let (commit, welcome, kps) = w.commit_add(&mut alice, &["carol"]);
    own_commit(&w, &mut alice, &commit);
    let carol = w.join(&welcome, kps, GroupConfig::default());
    assert_agree(&[&alice, &carol[0]]);
}

#[test]
fn a_successor_s_first_commit_can_be_replaced_if_it_injects_the_successor_psk_again() {
    let w = World::new();
    let (alice, bob, _carol) = three_members(&w, GroupConfig::default());
    assert!(alice.successor_psk().is_none());
    let (b_kp, b_sig) = w.key_package("bob");
    let (mut sub, first) = Group::branch(
        &w.env(),
        &alice,
        GroupConfig::default(),
        b"subgroup".to_vec(),
        Extensions::default(),
        &World::leaf("alice"),
        Arc::new(w.signer()),
        vec![b_kp.key_package.clone()],
    )
    .unwrap();
    let psk = sub.successor_psk().cloned().unwrap();
    assert!(matches!(
        &psk.psk,
        Psk::Resumption { usage: ResumptionPskUsage::Branch, psk_epoch, .. }
            if *psk_epoch == alice.epoch()
    ));
    // Replace the add-only commit with one that has a path.
    assert!(sub.discard_pending_commit());
    let out = sub
        .commit(
            &w.env(),
            CommitOptions {
                add: vec![b_kp.key_package.clone()],
                psks: vec![psk],
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    assert_ne!(out.commit, first.commit);
    let _ = sub.merge_pending_commit().unwrap();
    let bob_sub = Group::join_successor(
        &w.env(),
        &bob,
        GroupConfig::default(),
        &welcome_of(&out),
        &b_kp,
        Arc::new(b_sig),
        None,
    )
    .unwrap();
    assert_agree(&[&sub, &bob_sub]);
}
