//! Negative tests of the commit rules (CM-, RFC 9420 §12.2, §12.4, §7.5, §7.6): Alice forges a
//! commit, correctly signed, MAC'd and confirmed, that breaks one rule; Bob refuses it and is
//! unchanged. Each test also delivers an honest variant where one is close, to show that the
//! rule, not the forgery, is what fails.

use super::harness::{Harness, assert_accepted, assert_rejected};
use crate::group::forge::Forgery;
use crate::group::{CommitOptions, GroupConfig, HandshakeFormat};
use crate::rules::Rule;
use crate::tree::TreeRead;
use crate::tree::math::LeafIndex;
use crate::wire::{
    Add, ExternalInit, GroupContextExtensions, PreSharedKey, PreSharedKeyId, Proposal, Psk, Remove,
    Sender,
};

fn me(g: &crate::group::Group) -> Sender {
    Sender::Member(g.own_leaf().value())
}

fn remove(leaf: LeafIndex) -> Proposal {
    Proposal::Remove(Remove {
        removed: leaf.value(),
    })
}

#[test]
fn cm_01_the_committers_own_update() {
    let h = Harness::default_suite(101);
    let (mut alice, mut bob, _carol) = h.three();
    // Alice proposes an Update, then commits it herself by reference.
    let proposal = alice.propose_update(&h.env(), None).unwrap();
    h.deliver(&mut bob, &proposal);
    let reference = alice.last_cached_reference().unwrap();
    let update = alice.pending_proposals().next().unwrap().1.clone();
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                proposals: vec![(update, me(&alice), Some(reference))],
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitterUpdate);
}

#[test]
fn cm_02_a_remove_of_the_committer() {
    let h = Harness::default_suite(102);
    let (mut alice, mut bob, _carol) = h.three();
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(me(&alice), vec![remove(alice.own_leaf())]).with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitterRemoved);
}

#[test]
fn cm_03_two_changes_to_one_leaf() {
    let h = Harness::default_suite(103);
    let (mut alice, mut bob, carol) = h.three();
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(
                me(&alice),
                vec![remove(carol.own_leaf()), remove(carol.own_leaf())],
            )
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitLeafChangedTwice);
}

#[test]
fn cm_04_one_client_added_twice() {
    let h = Harness::default_suite(104);
    let (mut alice, mut bob, _carol) = h.three();
    let (dave, _) = h.key_package("dave");
    let add = Proposal::Add(Box::new(Add {
        key_package: dave.key_package,
    }));
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(me(&alice), vec![add.clone(), add]),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitAddTwice);
}

#[test]
fn cm_05_an_add_of_a_member() {
    let h = Harness::default_suite(105);
    let (mut alice, mut bob, carol) = h.three();
    // A new KeyPackage with Carol's signature key: the same client, already a member.
    let carol_key = carol.test_signer().clone();
    let params = crate::key_package::KeyPackageParams::new(
        h.leaf("carol"),
        crate::wire::Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        },
    );
    let again =
        crate::key_package::create_key_package(&h.provider, h.suite, &params, &carol_key).unwrap();
    let add = Proposal::Add(Box::new(Add {
        key_package: again.key_package,
    }));
    let mut copy = h.fork(&alice);
    let forged = alice
        .forge(&h.env(), Forgery::by_value(me(&alice), vec![add.clone()]))
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitAddMember);
    // With Carol removed in the same commit, the Add is valid.
    let valid = copy
        .forge(
            &h.env(),
            Forgery::by_value(me(&copy), vec![remove(carol.own_leaf()), add]).with_path(),
        )
        .unwrap();
    assert_accepted(&h, &mut bob, &valid.commit);
}

fn external_psk(h: &Harness, id: &[u8]) -> PreSharedKeyId {
    PreSharedKeyId {
        psk: Psk::External {
            psk_id: id.to_vec().into(),
        },
        psk_nonce: vec![7; h.ops().params().hash_len()].into(),
    }
}

#[test]
fn cm_06_one_psk_twice() {
    let h = Harness::default_suite(106);
    let (mut alice, mut bob, _carol) = h.three();
    let secret = canopy_crypto::Secret::new(vec![1; 32]);
    alice.add_external_psk(b"psk".to_vec(), secret.clone());
    bob.add_external_psk(b"psk".to_vec(), secret);
    let psk = Proposal::PreSharedKey(PreSharedKey {
        psk: external_psk(&h, b"psk"),
    });
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(me(&alice), vec![psk.clone(), psk]),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPskTwice);
}

#[test]
fn cm_07_two_group_context_extensions() {
    let h = Harness::default_suite(107);
    let (mut alice, mut bob, _carol) = h.three();
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: crate::wire::Extensions::default(),
    });
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(me(&alice), vec![gce.clone(), gce]).with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitExtensionsTwice);
}

#[test]
fn cm_08_a_reinit_with_other_proposals() {
    let h = Harness::default_suite(108);
    let (mut alice, mut bob, carol) = h.three();
    let reinit = Proposal::ReInit(crate::wire::ReInit {
        group_id: b"next".to_vec().into(),
        version: crate::wire::ProtocolVersion::MLS10,
        cipher_suite: h.suite,
        extensions: crate::wire::Extensions::default(),
    });
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(me(&alice), vec![reinit, remove(carol.own_leaf())]).with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitReInitAlone);
}

#[test]
fn cm_09_an_external_init_in_a_members_commit() {
    let h = Harness::default_suite(109);
    let (mut alice, mut bob, _carol) = h.three();
    let init = Proposal::ExternalInit(ExternalInit {
        kem_output: vec![1; 32].into(),
    });
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(me(&alice), vec![init]).with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitExternalInit);
}

#[test]
fn cm_10_a_remove_without_a_path() {
    let h = Harness::default_suite(110);
    let (mut alice, mut bob, carol) = h.three();
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(me(&alice), vec![remove(carol.own_leaf())]),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathRequired);
    // An empty commit needs a path too.
    assert!(alice.discard_pending_commit());
    let empty = alice.forge(&h.env(), Forgery::default()).unwrap();
    assert_rejected(&h, &mut bob, &empty.commit, Rule::CommitPathRequired);
}

#[test]
fn cm_11_a_reference_to_an_unknown_proposal() {
    let h = Harness::default_suite(111);
    let (mut alice, mut bob, carol) = h.three();
    // Alice proposes a Remove that Bob never receives, then commits it by reference.
    let _ = alice.propose(&h.env(), remove(carol.own_leaf())).unwrap();
    let reference = alice.last_cached_reference().unwrap();
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                proposals: vec![(remove(carol.own_leaf()), me(&alice), Some(reference))],
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitProposalRef);
}

#[test]
fn cm_12_an_update_path_that_keeps_the_leaf_key() {
    let h = Harness::default_suite(112);
    let (mut alice, mut bob, _carol) = h.three();
    let old = alice
        .tree()
        .leaf(alice.own_leaf())
        .unwrap()
        .encryption_key
        .clone();
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                update_path: Some(Box::new(move |p| p.leaf_node.encryption_key = old)),
                resign_leaf: true,
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathNewKey);
}

#[test]
fn cm_13_an_update_path_reusing_a_key_of_the_tree() {
    let h = Harness::default_suite(113);
    let (mut alice, mut bob, carol) = h.three();
    let carols = carol
        .tree()
        .leaf(carol.own_leaf())
        .unwrap()
        .encryption_key
        .clone();
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                update_path: Some(Box::new(move |p| p.nodes.0[0].encryption_key = carols)),
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathFreshKeys);
}

#[test]
fn cm_14_an_update_path_of_the_wrong_length() {
    let h = Harness::default_suite(114);
    let (mut alice, mut bob, _carol) = h.three();
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                update_path: Some(Box::new(|p| {
                    p.nodes.0.pop();
                })),
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathLength);
}

#[test]
fn cm_15_an_update_path_node_with_a_missing_ciphertext() {
    let h = Harness::default_suite(115);
    let (mut alice, mut bob, _carol) = h.three();
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                update_path: Some(Box::new(|p| {
                    let last = p.nodes.0.len() - 1;
                    let mut cts = p.nodes.0[last].encrypted_path_secret.to_vec();
                    cts.pop();
                    p.nodes.0[last].encrypted_path_secret =
                        crate::wire::HpkeCiphertexts::new(&cts).unwrap();
                })),
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathCiphertexts);
}

#[test]
fn cm_16_an_update_path_whose_leaf_parent_hash_is_wrong() {
    let h = Harness::default_suite(116);
    let (mut alice, mut bob, _carol) = h.three();
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                update_path: Some(Box::new(|p| {
                    p.leaf_node.leaf_node_source =
                        crate::wire::LeafNodeSource::Commit(vec![9; 32].into());
                })),
                resign_leaf: true,
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathParentHash);
}

#[test]
fn cm_17_a_path_secret_that_does_not_decrypt() {
    let h = Harness::default_suite(117);
    let (mut alice, mut bob, _carol) = h.three();
    // Bob's ciphertext is the first one of the node above Alice and Bob.
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                update_path: Some(Box::new(|p| {
                    let mut cts = p.nodes.0[0].encrypted_path_secret.to_vec();
                    let last = cts[0].ciphertext.0.len() - 1;
                    cts[0].ciphertext.0[last] ^= 1;
                    p.nodes.0[0].encrypted_path_secret =
                        crate::wire::HpkeCiphertexts::new(&cts).unwrap();
                })),
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathDecrypt);
}

#[test]
fn cm_18_a_path_key_that_does_not_derive_from_the_path_secret() {
    let h = Harness::default_suite(118);
    let (mut alice, mut bob, _carol) = h.three();
    // Alice's path covers node 1 (Bob's subtree) and the root (Carol's). The root's path
    // secret is not derived from node 1's: everything else is consistent, and only Bob, who
    // derives the root key from node 1's secret, can tell.
    let forged = alice
        .forge(
            &h.env(),
            Forgery {
                break_path_at: Some(1),
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathKeys);
}

#[test]
fn cm_19_a_wrong_confirmation_tag() {
    let h = Harness::default_suite(119);
    let (mut alice, mut bob, _carol) = h.three();
    let out = alice
        .commit(
            &h.env(),
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let crate::wire::MlsMessage::PublicMessage(mut m) =
        crate::wire::MlsMessage::from_bytes(&out.commit).unwrap()
    else {
        panic!("not public");
    };
    m.auth.confirmation_tag.as_mut().unwrap().0[0] ^= 1;
    // Re-MAC it (the membership tag covers the confirmation tag).
    let content = crate::wire::AuthenticatedContent {
        wire_format: crate::wire::WireFormat::PublicMessage,
        content: m.content.clone(),
        auth: m.auth.clone(),
    };
    let bad = crate::wire::MlsMessage::PublicMessage(Box::new(
        crate::framing::protect_public(
            h.ops(),
            content,
            alice.context(),
            Some(alice.test_membership_key()),
        )
        .unwrap(),
    ))
    .to_bytes()
    .unwrap();
    assert_rejected(&h, &mut bob, &bad, Rule::CommitConfirmationTag);
    assert_accepted(&h, &mut bob, &out.commit);
}

#[test]
fn commits_in_private_messages_are_checked_the_same() {
    let h = Harness::default_suite(120);
    let config = GroupConfig {
        handshake: HandshakeFormat::Private,
        ..GroupConfig::default()
    };
    let mut g = h.group(&["alice", "bob", "carol"], config);
    let carol = g.pop().unwrap();
    let mut bob = g.pop().unwrap();
    let mut alice = g.pop().unwrap();
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(me(&alice), vec![remove(carol.own_leaf())]),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathRequired);
    // The same bytes again: still the rule, not a consumed key (staging consumed nothing).
    assert_rejected(&h, &mut bob, &forged.commit, Rule::CommitPathRequired);
}

/// A commit of 40 Adds (their KeyPackages' signatures verified in batches, in parallel with
/// the `parallel` feature): accepted when every KeyPackage is sound; refused with KP-03 when
/// one KeyPackage's signature is bad, and with LN-02 when one leaf's signature is bad under a
/// valid KeyPackage signature, wherever it sits in the list. A failed batch is checked one
/// by one, which names the rule.
#[test]
fn kp_03_and_ln_02_in_a_commit_of_many_adds() {
    use crate::crypto::sign_with_label;
    use crate::rules::key_package::KEY_PACKAGE_LABEL;
    use crate::wire::KeyPackage;
    use canopy_crypto::CryptoProvider;

    let h = Harness::default_suite(140);
    let ops = h.provider.suite(h.suite).unwrap();
    let (mut alice, mut bob, _carol) = h.three();
    let packages: Vec<(KeyPackage, canopy_crypto::SignatureKeyPair)> = (0..40)
        .map(|i| {
            let (b, signer) = h.key_package(&format!("new {i}"));
            (b.key_package, signer)
        })
        .collect();
    let commit_of = |alice: &mut crate::group::Group, list: Vec<KeyPackage>| {
        let adds = list
            .into_iter()
            .map(|key_package| Proposal::Add(Box::new(Add { key_package })))
            .collect();
        alice
            .forge(&h.env(), Forgery::by_value(me(alice), adds))
            .unwrap()
            .commit
    };
    let sound: Vec<KeyPackage> = packages.iter().map(|(k, _)| k.clone()).collect();
    for bad in [0, 25, 39] {
        // A KeyPackage signature that does not verify.
        let mut list = sound.clone();
        let mut signature = list[bad].signature.as_slice().to_vec();
        signature[0] ^= 1;
        list[bad].signature = crate::codec::VarBytes(signature);
        assert_rejected(
            &h,
            &mut bob,
            &commit_of(&mut alice, list),
            Rule::KeyPackageSignature,
        );

        // A leaf signature that does not verify, under a KeyPackage signature that does.
        let mut list = sound.clone();
        let mut leaf_signature = list[bad].leaf_node.signature.as_slice().to_vec();
        leaf_signature[0] ^= 1;
        list[bad].leaf_node.signature = crate::codec::VarBytes(leaf_signature);
        let tbs = list[bad].tbs_bytes().unwrap();
        list[bad].signature = crate::codec::VarBytes(
            sign_with_label(ops, &packages[bad].1, KEY_PACKAGE_LABEL, &tbs).unwrap(),
        );
        assert_rejected(
            &h,
            &mut bob,
            &commit_of(&mut alice, list),
            Rule::LeafSignature,
        );
    }
    assert_accepted(&h, &mut bob, &commit_of(&mut alice, sound));
}
