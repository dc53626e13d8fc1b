//! Negative tests of the framing rules (FR-, RFC 9420 §6, §9.2) through a group: a message
//! that breaks one rule is refused and the receiver is byte-identical afterwards. The framing
//! layer's own tests (`framing::tests`) check each rule on its own.

use super::harness::{Harness, assert_accepted, assert_rejected};
use crate::group::{CommitOptions, Group, GroupConfig};
use crate::rules::Rule;
use crate::wire::{MlsMessage, Proposal, PublicMessage, Remove};

/// A Remove proposal from `group` of its leaf `leaf`, as a PublicMessage.
fn remove_proposal(h: &Harness, group: &mut Group, leaf: u32) -> Vec<u8> {
    group
        .forge_proposal(&h.env(), Proposal::Remove(Remove { removed: leaf }))
        .unwrap()
}

fn public(bytes: &[u8]) -> PublicMessage {
    match MlsMessage::from_bytes(bytes).unwrap() {
        MlsMessage::PublicMessage(m) => *m,
        other => panic!("not a PublicMessage: {other:?}"),
    }
}

/// `m` with its membership tag recomputed by `group` (so only the tampered part is wrong).
fn remac(h: &Harness, group: &Group, m: PublicMessage) -> Vec<u8> {
    let content = crate::wire::AuthenticatedContent {
        wire_format: crate::wire::WireFormat::PublicMessage,
        content: m.content,
        auth: m.auth,
    };
    MlsMessage::PublicMessage(Box::new(
        crate::framing::protect_public(
            h.ops(),
            content,
            group.context(),
            Some(group.test_membership_key()),
        )
        .unwrap(),
    ))
    .to_bytes()
    .unwrap()
}

#[test]
fn fr_01_a_message_for_another_group() {
    let h = Harness::default_suite(401);
    let (_alice, mut bob, _carol) = h.three();
    let mut stranger = h
        .group_with_id(b"elsewhere", &["mallory", "eve"], GroupConfig::default())
        .remove(0);
    let message = remove_proposal(&h, &mut stranger, 1);
    assert_rejected(&h, &mut bob, &message, Rule::FramingGroupId);
}

#[test]
fn fr_02_a_message_of_an_epoch_we_do_not_have() {
    let h = Harness::default_suite(402);
    let (mut alice, mut bob, _carol) = h.three();
    let mut ahead = h.fork(&alice);
    let _ = ahead
        .commit(
            &h.env(),
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = ahead.merge_pending_commit().unwrap();
    let message = remove_proposal(&h, &mut ahead, 2);
    assert_rejected(&h, &mut bob, &message, Rule::FramingEpoch);
    let current = remove_proposal(&h, &mut alice, 2);
    assert_accepted(&h, &mut bob, &current);
}

#[test]
fn fr_03_a_signature_that_does_not_verify() {
    let h = Harness::default_suite(403);
    let (mut alice, mut bob, _carol) = h.three();
    let mut m = public(&remove_proposal(&h, &mut alice, 2));
    m.auth.signature.0[0] ^= 1;
    let bad = remac(&h, &alice, m);
    assert_rejected(&h, &mut bob, &bad, Rule::FramingSignature);
}

#[test]
fn fr_04_a_membership_tag_that_does_not_verify() {
    let h = Harness::default_suite(404);
    let (mut alice, mut bob, _carol) = h.three();
    let mut m = public(&remove_proposal(&h, &mut alice, 2));
    m.membership_tag.as_mut().unwrap().0[0] ^= 1;
    let bad = MlsMessage::PublicMessage(Box::new(m)).to_bytes().unwrap();
    assert_rejected(&h, &mut bob, &bad, Rule::FramingMembershipTag);
}

#[test]
fn fr_07_a_member_sender_at_a_blank_leaf() {
    let h = Harness::default_suite(405);
    let (mut alice, mut bob, _carol) = h.three();
    let mut m = public(&remove_proposal(&h, &mut alice, 2));
    m.content.sender = crate::wire::Sender::Member(3);
    let bad = remac(&h, &alice, m);
    assert_rejected(&h, &mut bob, &bad, Rule::FramingSender);
}

#[test]
fn fr_08_a_private_message_that_does_not_decrypt() {
    let h = Harness::default_suite(406);
    let (mut alice, mut bob, _carol) = h.three();
    let message = alice.encrypt_application(&h.env(), b"hello", b"").unwrap();
    let MlsMessage::PrivateMessage(mut m) = MlsMessage::from_bytes(&message).unwrap() else {
        panic!("not private");
    };
    let last = m.ciphertext.0.len() - 1;
    m.ciphertext.0[last] ^= 1;
    let bad = MlsMessage::PrivateMessage(m.clone()).to_bytes().unwrap();
    assert_rejected(&h, &mut bob, &bad, Rule::FramingDecrypt);
    m.ciphertext.0[last] ^= 1;
    m.encrypted_sender_data.0[0] ^= 1;
    let bad = MlsMessage::PrivateMessage(m).to_bytes().unwrap();
    assert_rejected(&h, &mut bob, &bad, Rule::FramingDecrypt);
    // The genuine message still opens: the forgeries burnt no key.
    assert_accepted(&h, &mut bob, &message);
}

#[test]
fn fr_10_a_replayed_application_message() {
    let h = Harness::default_suite(407);
    let (mut alice, mut bob, _carol) = h.three();
    let message = alice.encrypt_application(&h.env(), b"once", b"").unwrap();
    assert_accepted(&h, &mut bob, &message);
    assert_rejected(&h, &mut bob, &message, Rule::FramingGeneration);
}
