//! The extensions draft on groups (feature `extensions`): SelfRemove (§SelfRemove), the
//! accepted flow and a negative test for each SR- rule; and the safe application interface
//! on the group's keys.

use super::harness::{Harness, assert_accepted, assert_rejected};
use super::proposal::{external, with_external_sender};
use crate::group::forge::Forgery;
use crate::group::{CommitOptions, GroupConfig, HandshakeFormat, Merged, ProcessedMessage};
use crate::rules::{Rule, assert_rule};
use crate::wire::{Proposal, ProposalType, Remove, SelfRemove, Sender};

fn self_remove(code: ProposalType) -> Proposal {
    Proposal::SelfRemove(SelfRemove { code })
}

#[test]
fn a_self_remove_is_committed_by_another_member_and_removes_its_sender() {
    let h = Harness::default_suite(901);
    let (mut alice, mut bob, mut carol) = h.three();
    let proposal = carol.propose_self_remove(&h.env()).unwrap();
    // The draft's code point: every member supports it.
    match alice.process_message(&h.env(), &proposal).unwrap() {
        ProcessedMessage::Proposal { proposal, sender } => {
            assert_eq!(proposal, self_remove(ProposalType::SELF_REMOVE));
            assert_eq!(sender, Sender::Member(carol.own_leaf().value()));
        }
        other => panic!("{other:?}"),
    }
    h.deliver(&mut bob, &proposal);
    // Alice's next commit includes it by reference, with a path (Path Required: Y).
    let out = alice.commit(&h.env(), CommitOptions::default()).unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    h.deliver(&mut bob, &out.commit);
    assert_eq!(alice.member_count(), 2);
    assert_eq!(bob.member_count(), 2);
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    // Carol learns she is out.
    match carol.process_message(&h.env(), &out.commit).unwrap() {
        ProcessedMessage::Commit(staged) => {
            assert_eq!(carol.merge_staged_commit(*staged).unwrap(), Merged::Removed);
        }
        other => panic!("{other:?}"),
    }
    // The same through a public group (a Delivery Service).
    let (mut alice, mut bob, mut carol) = h.three();
    let mut ds = alice.public_view();
    let proposal = carol.propose_self_remove(&h.env()).unwrap();
    ds.process_message(&h.env(), &proposal).unwrap();
    h.deliver(&mut alice, &proposal);
    h.deliver(&mut bob, &proposal);
    let out = bob.commit(&h.env(), CommitOptions::default()).unwrap();
    ds.process_message(&h.env(), &out.commit).unwrap();
    assert_eq!(ds.member_count(), 2);
}

#[test]
fn sr_01_a_self_remove_in_a_private_message() {
    let h = Harness::default_suite(902);
    let config = GroupConfig {
        handshake: HandshakeFormat::Private,
        ..GroupConfig::default()
    };
    let mut g = h.group(&["alice", "bob"], config);
    let mut bob = g.pop().unwrap();
    let mut alice = g.pop().unwrap();
    // forge_proposal frames as the group's handshakes: a PrivateMessage here.
    let private = bob
        .forge_proposal(&h.env(), self_remove(ProposalType::SELF_REMOVE))
        .unwrap();
    assert_rejected(&h, &mut alice, &private, Rule::SelfRemovePublic);
    // Our own API sends it as a PublicMessage even in this group.
    let public = bob.propose_self_remove(&h.env()).unwrap();
    assert_accepted(&h, &mut alice, &public);
}

#[test]
fn sr_02_a_self_remove_by_value() {
    let h = Harness::default_suite(903);
    let (mut alice, mut bob, carol) = h.three();
    let carol_leaf = Sender::Member(carol.own_leaf().value());
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                proposals: vec![(self_remove(ProposalType::SELF_REMOVE), carol_leaf, None)],
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::SelfRemoveByReference);
}

#[test]
fn sr_03_a_self_remove_from_an_external_sender() {
    let h = Harness::default_suite(904);
    let (_alice, mut bob, ds) = with_external_sender(&h);
    let message = external(&h, &bob, &ds, self_remove(ProposalType::SELF_REMOVE));
    assert_rejected(&h, &mut bob, &message, Rule::SelfRemoveSender);
}

#[test]
fn sr_04_a_group_where_a_member_does_not_support_self_remove() {
    let h = Harness::default_suite(905);
    let mut alice = h.group(&["alice"], GroupConfig::default()).pop().unwrap();
    // Bob supports neither code point.
    let (bundle, bob_signer) = {
        let mut leaf = h.leaf("bob");
        leaf.capabilities.proposals = Vec::new().into();
        let signer = h.signer();
        let params = crate::key_package::KeyPackageParams::new(
            leaf,
            crate::wire::Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        let bundle =
            crate::key_package::create_key_package(&h.provider, h.suite, &params, &signer).unwrap();
        (bundle, signer)
    };
    assert!(
        bundle
            .key_package
            .leaf_node
            .capabilities
            .proposals
            .as_slice()
            .iter()
            .all(|p| { *p != ProposalType::SELF_REMOVE && *p != ProposalType::SELF_REMOVE_F003 })
    );
    let (carol_kp, carol_signer) = h.key_package("carol");
    let out = alice
        .commit(
            &h.env(),
            CommitOptions {
                add: vec![bundle.key_package.clone(), carol_kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let welcome = super::harness::welcome(out.welcome.as_deref().unwrap());
    let _bob = h
        .join(&welcome, &bundle, bob_signer, GroupConfig::default())
        .unwrap();
    let mut carol = h
        .join(&welcome, &carol_kp, carol_signer, GroupConfig::default())
        .unwrap();
    // Carol's API refuses, and a forged SelfRemove is refused by Alice.
    assert_rule(carol.propose_self_remove(&h.env()), Rule::SelfRemoveCapable);
    let forged = carol
        .forge_proposal(&h.env(), self_remove(ProposalType::SELF_REMOVE))
        .unwrap();
    assert_rejected(&h, &mut alice, &forged, Rule::SelfRemoveCapable);
}

#[test]
fn sr_05_a_remove_of_a_leaf_that_removes_itself() {
    let h = Harness::default_suite(906);
    let (mut alice, mut bob, mut carol) = h.three();
    let proposal = carol.propose_self_remove(&h.env()).unwrap();
    let reference = carol.last_cached_reference().unwrap();
    h.deliver(&mut alice, &proposal);
    h.deliver(&mut bob, &proposal);
    let carol_leaf = carol.own_leaf().value();
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                proposals: vec![
                    (
                        Proposal::Remove(Remove {
                            removed: carol_leaf,
                        }),
                        Sender::Member(alice.own_leaf().value()),
                        None,
                    ),
                    (
                        self_remove(ProposalType::SELF_REMOVE),
                        Sender::Member(carol_leaf),
                        Some(reference),
                    ),
                ],
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::SelfRemoveRemove);
}

#[test]
fn sr_06_a_committer_committing_its_own_self_remove() {
    let h = Harness::default_suite(907);
    let (mut alice, _bob, mut carol) = h.three();
    let proposal = carol.propose_self_remove(&h.env()).unwrap();
    let reference = carol.last_cached_reference().unwrap();
    h.deliver(&mut alice, &proposal);
    let carol_leaf = Sender::Member(carol.own_leaf().value());
    let forged = carol
        .forge(
            &h.env(),
            Forgery {
                proposals: vec![(
                    self_remove(ProposalType::SELF_REMOVE),
                    carol_leaf,
                    Some(reference),
                )],
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut alice, &forged.commit, Rule::SelfRemoveCommitter);
    // Carol's own commit leaves her SelfRemove out (reported) instead of failing.
    let out = carol.commit(&h.env(), CommitOptions::default()).unwrap();
    assert_eq!(out.left_out.len(), 1);
}

#[test]
fn sr_07_a_second_self_remove_in_one_epoch() {
    let h = Harness::default_suite(908);
    let (mut alice, _bob, mut carol) = h.three();
    let first = carol.propose_self_remove(&h.env()).unwrap();
    h.deliver(&mut alice, &first);
    // The same message again is an echo, not a second proposal.
    assert_accepted(&h, &mut alice, &first);
    // A second one, under the other code point.
    let second = carol
        .forge_proposal(&h.env(), self_remove(ProposalType::SELF_REMOVE_F003))
        .unwrap();
    assert_rejected(&h, &mut alice, &second, Rule::SelfRemoveOnce);
    assert_rule(carol.propose_self_remove(&h.env()), Rule::SelfRemoveOnce);
}

/// The safe application interface on group keys: a component's signature and ciphertext work
/// for that component only.
#[test]
fn components_sign_and_encrypt_with_group_keys() {
    let h = Harness::default_suite(909);
    let (alice, bob, _carol) = h.three();
    let env = h.env();
    let sig = alice.safe_sign(&env, 0x8001, b"vote", b"yes").unwrap();
    bob.safe_verify(&env, alice.own_leaf(), 0x8001, b"vote", b"yes", &sig)
        .unwrap();
    assert!(
        bob.safe_verify(&env, alice.own_leaf(), 0x8002, b"vote", b"yes", &sig)
            .is_err()
    );
    assert!(
        bob.safe_verify(&env, bob.own_leaf(), 0x8001, b"vote", b"yes", &sig)
            .is_err()
    );
    let ct = alice
        .safe_encrypt_to(&env, bob.own_leaf(), 0x8001, b"file key", b"", b"k")
        .unwrap();
    assert_eq!(
        bob.safe_decrypt(&env, 0x8001, b"file key", b"", &ct)
            .unwrap()
            .as_bytes(),
        b"k"
    );
    assert!(
        bob.safe_decrypt(&env, 0x8002, b"file key", b"", &ct)
            .is_err()
    );
    assert!(
        alice
            .safe_decrypt(&env, 0x8001, b"file key", b"", &ct)
            .is_err()
    );
}

/// The GroupInfo `group` publishes for external joins, with its tree.
fn group_info_of(h: &Harness, group: &crate::group::Group) -> crate::wire::GroupInfo {
    let bytes = group.group_info(&h.env(), true).unwrap();
    match crate::wire::MlsMessage::from_bytes(&bytes).unwrap() {
        crate::wire::MlsMessage::GroupInfo(info) => *info,
        other => panic!("not a GroupInfo: {other:?}"),
    }
}

/// Dave joins externally with `self_removes`.
fn dave_joins(
    h: &Harness,
    info: &crate::wire::GroupInfo,
    resync: Option<crate::tree::math::LeafIndex>,
    self_removes: &[&[u8]],
) -> Result<(crate::group::Group, Vec<u8>), crate::group::GroupError> {
    crate::group::Group::join_external_with_self_removes(
        &h.env(),
        GroupConfig::default(),
        info,
        None,
        &h.leaf("dave"),
        std::sync::Arc::new(h.signer()),
        resync,
        &[],
        self_removes,
    )
}

#[test]
fn an_external_joiner_includes_the_pending_self_removes_by_reference() {
    let h = Harness::default_suite(910);
    let (mut alice, mut bob, mut carol) = h.three();
    let mut ds = alice.public_view();
    let proposal = carol.propose_self_remove(&h.env()).unwrap();
    for g in [&mut alice, &mut bob] {
        h.deliver(g, &proposal);
    }
    ds.process_message(&h.env(), &proposal).unwrap();
    let info = group_info_of(&h, &alice);
    // The same message twice counts once.
    let (dave, commit) = dave_joins(&h, &info, None, &[&proposal, &proposal]).unwrap();
    ds.process_message(&h.env(), &commit).unwrap();
    for g in [&mut alice, &mut bob] {
        h.deliver(g, &commit);
        assert_eq!(g.member_count(), 3);
        assert_eq!(g.epoch_authenticator(), dave.epoch_authenticator());
    }
    assert_eq!(ds.member_count(), 3);
    // Dave took the leftmost blank leaf: Carol's.
    assert_eq!(dave.own_leaf(), carol.own_leaf());
    match carol.process_message(&h.env(), &commit).unwrap() {
        ProcessedMessage::Commit(staged) => {
            assert_eq!(carol.merge_staged_commit(*staged).unwrap(), Merged::Removed);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn sr_08_an_external_joiner_given_a_proposal_that_is_not_a_self_remove() {
    let h = Harness::default_suite(911);
    let (mut alice, _bob, carol) = h.three();
    let remove = alice
        .propose(
            &h.env(),
            Proposal::Remove(Remove {
                removed: carol.own_leaf().value(),
            }),
        )
        .unwrap();
    let info = group_info_of(&h, &alice);
    assert_rule(
        dave_joins(&h, &info, None, &[&remove]),
        Rule::SelfRemoveExternal,
    );
}

#[test]
fn sr_05_an_external_commit_that_resyncs_the_leaf_a_self_remove_removes() {
    let h = Harness::default_suite(912);
    let (mut alice, _bob, mut carol) = h.three();
    let proposal = carol.propose_self_remove(&h.env()).unwrap();
    h.deliver(&mut alice, &proposal);
    let info = group_info_of(&h, &alice);
    assert_rule(
        dave_joins(&h, &info, Some(carol.own_leaf()), &[&proposal]),
        Rule::SelfRemoveRemove,
    );
    // A SelfRemove of another epoch is refused by the joiner.
    let no_pending = CommitOptions {
        include_pending: false,
        ..CommitOptions::default()
    };
    let _ = alice.commit(&h.env(), no_pending).unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let info = group_info_of(&h, &alice);
    assert_rule(
        dave_joins(&h, &info, None, &[&proposal]),
        Rule::FramingEpoch,
    );
}
