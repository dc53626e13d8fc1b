//! Negative tests of the Welcome, GroupInfo, tree and successor rules (WE-, TR-06, TR-07,
//! RFC 9420 §11, §12.4.3.1) and of the external-commit rules (EX-, §12.4.3.2): a Welcome or
//! GroupInfo, correctly signed and confirmed, that breaks one rule is refused by the joiner.

use crate::group::CreateParams;
use crate::group::JoinParams;
use std::sync::Arc;

use canopy_crypto::{CryptoProvider, SignatureKeyPair};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use super::harness::{Harness, assert_rejected, welcome};
use crate::codec::VarBytes;
use crate::group::forge::Forgery;
use crate::group::{CommitOptions, Group, GroupConfig, GroupError};
use crate::key_package::{CredentialRejected, CredentialValidator, KeyPackageBundle};
use crate::rules::{Rule, assert_rule};
use crate::tree::RatchetTree;
use crate::wire::{
    self, Add, Credential, ExtensionType, ExtensionView, GroupContext, Node, PreSharedKey,
    PreSharedKeyId, Proposal, Psk, Remove, ResumptionPskUsage, Sender,
};

/// The Welcome of a forged add of a fresh client to Alice's group, with `forgery`'s changes;
/// and the joiner's bundle and signer.
fn forged_welcome(
    h: &Harness,
    alice: &mut Group,
    forgery: Forgery,
) -> (wire::Welcome, KeyPackageBundle, SignatureKeyPair) {
    let (kp, signer) = h.key_package("dave");
    let mut forgery = forgery;
    forgery.proposals.push((
        Proposal::Add(Box::new(Add {
            key_package: kp.key_package.clone(),
        })),
        Sender::Member(alice.own_leaf().value()),
        None,
    ));
    let out = alice.forge(&h.env(), forgery).unwrap();
    (welcome(out.welcome.as_deref().unwrap()), kp, signer)
}

/// Joining from `welcome` breaks `rule`.
#[track_caller]
fn assert_join_rejected(
    h: &Harness,
    welcome: &wire::Welcome,
    kp: &KeyPackageBundle,
    signer: SignatureKeyPair,
    rule: Rule,
) {
    assert_rule(h.join(welcome, kp, signer, GroupConfig::default()), rule);
}

/// Applies `change` to the nodes of the `ratchet_tree` extension among `extensions`, and
/// sets the context's tree hash to the changed tree's unless `keep_hash`.
fn change_tree(
    suite: canopy_crypto::CipherSuite,
    context: &mut GroupContext,
    extensions: &mut [wire::Extension],
    keep_hash: bool,
    change: impl FnOnce(&mut Vec<Option<Node>>),
) {
    let provider = RustCryptoProvider::new();
    let ops = provider.suite(suite).unwrap();
    let slot = extensions
        .iter_mut()
        .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)
        .unwrap();
    let tree = wire::RatchetTree::from_bytes(slot.extension_data.as_slice()).unwrap();
    let mut nodes = tree.into_nodes();
    change(&mut nodes);
    let tree = wire::RatchetTree::new(nodes.clone()).unwrap();
    *slot = tree.to_extension().unwrap();
    if !keep_hash {
        let rebuilt = RatchetTree::from_nodes(ops, nodes).unwrap();
        context.tree_hash = rebuilt.tree_hash().to_vec().into();
    }
}

#[test]
fn we_01_a_welcome_for_another_key_package() {
    let h = Harness::default_suite(301);
    let (mut alice, _bob, _carol) = h.three();
    let (w, _kp, _signer) = forged_welcome(&h, &mut alice, Forgery::default());
    let (other, other_signer) = h.key_package("eve");
    assert_join_rejected(&h, &w, &other, other_signer, Rule::WelcomeForUs);
}

#[test]
fn we_02_a_group_info_that_does_not_decrypt() {
    let h = Harness::default_suite(302);
    let (mut alice, _bob, _carol) = h.three();
    let (mut w, kp, signer) = forged_welcome(&h, &mut alice, Forgery::default());
    w.encrypted_group_info.0[0] ^= 1;
    assert_join_rejected(&h, &w, &kp, signer, Rule::WelcomeDecrypt);
}

#[test]
fn we_03_a_bad_group_info_signature() {
    let h = Harness::default_suite(303);
    let (mut alice, _bob, _carol) = h.three();
    let (w, kp, signer) = forged_welcome(
        &h,
        &mut alice,
        Forgery {
            bad_group_info_signature: true,
            ..Forgery::default()
        },
    );
    assert_join_rejected(&h, &w, &kp, signer, Rule::GroupInfoSignature);
}

#[test]
fn we_04_a_group_info_of_another_cipher_suite() {
    let h = Harness::default_suite(304);
    let (mut alice, _bob, _carol) = h.three();
    let (w, kp, signer) = forged_welcome(
        &h,
        &mut alice,
        Forgery {
            group_info: Some(Box::new(|context, _| {
                context.cipher_suite =
                    canopy_crypto::CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519;
            })),
            ..Forgery::default()
        },
    );
    assert_join_rejected(&h, &w, &kp, signer, Rule::GroupInfoSuite);
}

#[test]
fn we_05_a_tree_without_our_leaf() {
    let h = Harness::default_suite(305);
    let (mut alice, _bob, _carol) = h.three();
    // Dave's leaf (leaf 3, unmerged: no parent hash covers it) is swapped for Eve's.
    let (eve, _) = h.key_package("eve");
    let suite = h.suite;
    let (w, kp, signer) = forged_welcome(
        &h,
        &mut alice,
        Forgery {
            group_info: Some(Box::new(move |context, extensions| {
                change_tree(suite, context, extensions, false, |nodes| {
                    nodes[6] = Some(Node::leaf(eve.key_package.leaf_node));
                });
            })),
            ..Forgery::default()
        },
    );
    assert_join_rejected(&h, &w, &kp, signer, Rule::WelcomeOwnLeaf);
}

#[test]
fn we_06_a_path_secret_that_does_not_give_the_trees_keys() {
    let h = Harness::default_suite(306);
    let mut g = h.group(&["alice", "bob", "carol", "dave"], GroupConfig::default());
    let mut alice = g.remove(0);
    let bob = g.remove(0);
    // Bob removed: Eve takes leaf 1, whose common ancestor with Alice is node 1 (the first
    // path node); the root's secret (the second) is drawn at random, so the key Eve derives
    // for the root from node 1's secret is not the tree's.
    let (eve, eve_signer) = h.key_package("eve");
    let out = alice
        .forge(
            &h.env(),
            Forgery {
                proposals: vec![
                    (
                        Proposal::Remove(Remove {
                            removed: bob.own_leaf().value(),
                        }),
                        Sender::Member(0),
                        None,
                    ),
                    (
                        Proposal::Add(Box::new(Add {
                            key_package: eve.key_package.clone(),
                        })),
                        Sender::Member(0),
                        None,
                    ),
                ],
                path: true,
                break_path_at: Some(1),
                ..Forgery::default()
            },
        )
        .unwrap();
    let w = welcome(out.welcome.as_deref().unwrap());
    assert_join_rejected(&h, &w, &eve, eve_signer, Rule::WelcomePathSecret);
}

#[test]
fn we_07_a_bad_group_info_confirmation_tag() {
    let h = Harness::default_suite(307);
    let (mut alice, _bob, _carol) = h.three();
    let (w, kp, signer) = forged_welcome(
        &h,
        &mut alice,
        Forgery {
            bad_group_info_tag: true,
            ..Forgery::default()
        },
    );
    assert_join_rejected(&h, &w, &kp, signer, Rule::GroupInfoConfirmationTag);
}

#[test]
fn tr_06_a_tree_that_does_not_match_the_tree_hash() {
    let h = Harness::default_suite(308);
    let (mut alice, _bob, _carol) = h.three();
    let (eve, _) = h.key_package("eve");
    let suite = h.suite;
    let (w, kp, signer) = forged_welcome(
        &h,
        &mut alice,
        Forgery {
            group_info: Some(Box::new(move |context, extensions| {
                change_tree(suite, context, extensions, true, |nodes| {
                    nodes[6] = Some(Node::leaf(eve.key_package.leaf_node));
                });
            })),
            ..Forgery::default()
        },
    );
    assert_join_rejected(&h, &w, &kp, signer, Rule::TreeHash);
}

#[test]
fn tr_07_a_parent_key_that_is_no_key_of_the_suite() {
    let h = Harness::default_suite(309);
    let (mut alice, _bob, _carol) = h.three();
    // An update fills Alice's direct path with parent nodes.
    let _ = alice
        .commit(
            &h.env(),
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let suite = h.suite;
    let (w, kp, signer) = forged_welcome(
        &h,
        &mut alice,
        Forgery {
            group_info: Some(Box::new(move |context, extensions| {
                change_tree(suite, context, extensions, false, |nodes| {
                    let Some(Node::Parent(p)) = nodes[1].as_mut() else {
                        panic!("node 1 is a parent");
                    };
                    p.encryption_key = canopy_crypto::HpkePublicKey::new(vec![9; 31]);
                });
            })),
            ..Forgery::default()
        },
    );
    assert_join_rejected(&h, &w, &kp, signer, Rule::TreeNodeKeyValid);
}

/// TR-07, LN-17, RFC 9180 §7.1.1, §7.1.4: on every suite, a tree whose parent or leaf key has
/// the right length but is no usable KEM key (low order, off the curve) is refused at join.
#[test]
fn tr_07_ln_17_invalid_points_in_the_tree_on_every_suite() {
    for (i, suite) in canopy_crypto::CipherSuite::ALL.into_iter().enumerate() {
        let h = Harness::new(suite, 330 + i as u64);
        let bad_keys = crate::crypto::invalid_hpke_keys(h.ops());
        for (node, rule) in [
            (1usize, Rule::TreeNodeKeyValid),
            (2, Rule::LeafEncryptionKeyValid),
        ] {
            let (mut alice, _bob, _carol) = h.three();
            let _ = alice
                .commit(
                    &h.env(),
                    CommitOptions {
                        force_path: true,
                        ..CommitOptions::default()
                    },
                )
                .unwrap();
            let _ = alice.merge_pending_commit().unwrap();
            let bad = bad_keys[0].clone();
            let (w, kp, signer) = forged_welcome(
                &h,
                &mut alice,
                Forgery {
                    group_info: Some(Box::new(move |context, extensions| {
                        change_tree(suite, context, extensions, false, |nodes| {
                            match nodes[node].as_mut() {
                                Some(Node::Parent(p)) => p.encryption_key = bad,
                                Some(Node::Leaf(l)) => l.encryption_key = bad,
                                None => panic!("node {node} is blank"),
                            }
                        });
                    })),
                    ..Forgery::default()
                },
            );
            assert_join_rejected(&h, &w, &kp, signer, rule);
        }
    }
}

/// WE-14, RFC 9180 §7.1.1, §7.1.4: a correctly signed GroupInfo whose `external_pub` has the
/// right length but is no usable KEM key is refused before any external commit is built.
#[test]
fn we_14_an_external_pub_that_is_no_usable_key() {
    let h = Harness::default_suite(340);
    let (alice, _bob, _carol) = h.three();
    for bad in crate::crypto::invalid_hpke_keys(h.ops()) {
        let tree = alice.tree().to_wire().unwrap().to_extension().unwrap();
        let external = wire::ExternalPub { external_pub: bad }
            .to_extension()
            .unwrap();
        let info = alice
            .test_group_info(&h.env(), vec![tree, external])
            .unwrap();
        let joined = Group::join_external(
            &h.env(),
            GroupConfig::default(),
            &info,
            None,
            &h.leaf("eve"),
            Arc::new(h.signer()),
            None,
            &[],
        );
        assert_rule(joined, Rule::GroupInfoExternalPub);
    }
}

/// A validator that refuses one identity, counting its calls.
struct Refuses(&'static [u8], std::sync::atomic::AtomicUsize);

impl CredentialValidator for Refuses {
    fn validate(
        &self,
        credential: &Credential,
        _: &canopy_crypto::SignaturePublicKey,
    ) -> Result<(), CredentialRejected> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match credential {
            Credential::Basic { identity } if identity.as_slice() == self.0 => {
                Err(CredentialRejected::new("refused"))
            }
            _ => Ok(()),
        }
    }

    fn valid_successor(&self, old: &Credential, new: &Credential) -> bool {
        old == new
    }
}

#[test]
fn ln_01_the_validator_is_asked_about_every_leaf_of_a_joined_tree() {
    // Issue 10, defect 1: joining never asked the Authentication Service about the members.
    let h = Harness::default_suite(310);
    let (mut alice, _bob, _carol) = h.three();
    let (kp, signer) = h.key_package("dave");
    let out = alice
        .commit(
            &h.env(),
            CommitOptions {
                add: vec![kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let w = welcome(out.welcome.as_deref().unwrap());
    let refuses = Refuses(b"carol", 0.into());
    let env = crate::group::Env::new(&h.provider, &refuses).at(super::harness::NOW);
    let join =
        |signer: SignatureKeyPair| Group::join(&env, JoinParams::new(&w, &kp, Arc::new(signer)));
    assert_rule(join(signer), Rule::LeafCredential);
    // External join: the GroupInfo's tree is checked the same way.
    let _ = alice.merge_pending_commit().unwrap();
    let info = alice.group_info(&h.env(), true).unwrap();
    let wire::MlsMessage::GroupInfo(info) = wire::MlsMessage::from_bytes(&info).unwrap() else {
        panic!("not a GroupInfo");
    };
    let external = Group::join_external(
        &env,
        GroupConfig::default(),
        &info,
        None,
        &h.leaf("eve"),
        Arc::new(h.signer()),
        None,
        &[],
    );
    assert_rule(external, Rule::LeafCredential);
    // An Add of the refused identity, in a proposal and in a commit.
    let (mut a2, mut b2, _c2) = Harness::default_suite(311).three();
    let h2 = Harness::default_suite(312);
    let (refused, _) = h2.key_package("carol");
    let add = Proposal::Add(Box::new(Add {
        key_package: refused.key_package,
    }));
    let env2 = crate::group::Env::new(&h2.provider, &refuses).at(super::harness::NOW);
    let message = a2.forge_proposal(&h2.env(), add.clone()).unwrap();
    let before = b2.to_bytes().unwrap();
    assert_rule(b2.process_message(&env2, &message), Rule::LeafCredential);
    assert_eq!(b2.to_bytes().unwrap().as_bytes(), before.as_bytes());
    let forged = a2
        .forge(&h2.env(), Forgery::by_value(Sender::Member(0), vec![add]))
        .unwrap();
    assert_rule(
        b2.process_message(&env2, &forged.commit),
        Rule::LeafCredential,
    );
    assert_eq!(b2.to_bytes().unwrap().as_bytes(), before.as_bytes());
    assert!(refuses.1.load(std::sync::atomic::Ordering::Relaxed) > 3);
}

/// A successor group of `old_members` created by `creator`, its first commit adding
/// `joiners` with the resumption PSK of `old` (usage `usage`), with `forgery`'s changes.
fn successor_welcome(
    h: &Harness,
    old: &Group,
    usage: ResumptionPskUsage,
    suite: canopy_crypto::CipherSuite,
    group_id: &[u8],
    joiners: &[&str],
    change: Option<crate::group::forge::GroupInfoChange>,
) -> (wire::Welcome, Vec<(KeyPackageBundle, SignatureKeyPair)>) {
    let h_new = Harness::new(suite, 999);
    let mut creator = Group::create(
        &h_new.env(),
        CreateParams::new(
            suite,
            group_id.to_vec(),
            &h_new.leaf("alice"),
            Arc::new(h_new.signer()),
        )
        .extensions(wire::Extensions::default()),
    )
    .unwrap();
    let psk = PreSharedKeyId {
        psk: Psk::Resumption {
            usage,
            psk_group_id: VarBytes(old.group_id().to_vec()),
            psk_epoch: old.epoch(),
        },
        psk_nonce: VarBytes(vec![3; h_new.ops().params().hash_len()]),
    };
    creator.test_successor_psk(psk.clone(), old.resumption_psk().clone());
    let kps: Vec<_> = joiners.iter().map(|n| h_new.key_package(n)).collect();
    let mut proposals: Vec<_> = kps
        .iter()
        .map(|(kp, _)| {
            (
                Proposal::Add(Box::new(Add {
                    key_package: kp.key_package.clone(),
                })),
                Sender::Member(0),
                None,
            )
        })
        .collect();
    proposals.push((
        Proposal::PreSharedKey(PreSharedKey { psk }),
        Sender::Member(0),
        None,
    ));
    let out = creator
        .forge(
            &h_new.env(),
            Forgery {
                proposals,
                group_info: change,
                ..Forgery::default()
            },
        )
        .unwrap();
    let _ = h;
    (welcome(out.welcome.as_deref().unwrap()), kps)
}

fn join_successor(
    h: &Harness,
    old: &Group,
    w: &wire::Welcome,
    (kp, signer): (KeyPackageBundle, SignatureKeyPair),
) -> Result<Group, GroupError> {
    Group::join_successor(
        &h.env(),
        old,
        GroupConfig::default(),
        w,
        &kp,
        Arc::new(signer),
        None,
    )
}

#[test]
fn we_08_a_successor_psk_in_an_ordinary_join() {
    let h = Harness::default_suite(320);
    let (_alice, bob, _carol) = h.three();
    let (w, mut kps) = successor_welcome(
        &h,
        &bob,
        ResumptionPskUsage::Branch,
        h.suite,
        b"branch",
        &["bob"],
        None,
    );
    let (kp, signer) = kps.remove(0);
    // Group::join, with the old group's resumption PSK at hand, still refuses.
    let old_psk = [(
        bob.group_id().to_vec(),
        bob.epoch(),
        bob.resumption_psk().clone(),
    )];
    let joined = Group::join(
        &h.env(),
        JoinParams::new(&w, &kp, Arc::new(signer)).resumption_psks(&old_psk),
    );
    assert_rule(joined, Rule::WelcomeSuccessorPsk);
}

#[test]
fn we_09_a_successor_not_at_epoch_one() {
    let h = Harness::default_suite(321);
    let (_alice, bob, _carol) = h.three();
    let (w, mut kps) = successor_welcome(
        &h,
        &bob,
        ResumptionPskUsage::Branch,
        h.suite,
        b"branch",
        &["bob"],
        Some(Box::new(|context, _| context.epoch = 5)),
    );
    assert_rule(
        join_successor(&h, &bob, &w, kps.remove(0)),
        Rule::SuccessorEpoch,
    );
}

#[test]
fn we_10_to_we_11_a_reinit_successor_that_does_not_match_its_reinit() {
    let h = Harness::default_suite(322);
    let (mut alice, mut bob, mut carol) = h.three();
    let reinit = wire::ReInit {
        group_id: VarBytes(b"next".to_vec()),
        version: wire::ProtocolVersion::MLS10,
        cipher_suite: h.suite,
        extensions: wire::Extensions::default(),
    };
    let out = alice
        .commit(
            &h.env(),
            CommitOptions {
                reinit: Some(reinit),
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    h.deliver(&mut bob, &out.commit);
    h.deliver(&mut carol, &out.commit);
    // Another group id than the ReInit's.
    let (w, mut kps) = successor_welcome(
        &h,
        &bob,
        ResumptionPskUsage::Reinit,
        h.suite,
        b"elsewhere",
        &["bob", "carol"],
        None,
    );
    assert_rule(
        join_successor(&h, &bob, &w, kps.remove(0)),
        Rule::SuccessorReInit,
    );
    // The right group, but Carol is left behind.
    let (w, mut kps) = successor_welcome(
        &h,
        &bob,
        ResumptionPskUsage::Reinit,
        h.suite,
        b"next",
        &["bob"],
        None,
    );
    assert_rule(
        join_successor(&h, &bob, &w, kps.remove(0)),
        Rule::SuccessorReInitMembers,
    );
    // With everyone, it joins.
    let (w, mut kps) = successor_welcome(
        &h,
        &bob,
        ResumptionPskUsage::Reinit,
        h.suite,
        b"next",
        &["bob", "carol"],
        None,
    );
    assert!(join_successor(&h, &bob, &w, kps.remove(0)).is_ok());
}

#[test]
fn we_12_to_we_13_a_branch_of_another_suite_or_with_strangers() {
    let h = Harness::default_suite(323);
    let (_alice, bob, _carol) = h.three();
    let other = canopy_crypto::CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519;
    let (w, mut kps) = successor_welcome(
        &h,
        &bob,
        ResumptionPskUsage::Branch,
        other,
        b"branch",
        &["bob"],
        None,
    );
    assert_rule(
        join_successor(&h, &bob, &w, kps.remove(0)),
        Rule::SuccessorBranch,
    );
    let (w, mut kps) = successor_welcome(
        &h,
        &bob,
        ResumptionPskUsage::Branch,
        h.suite,
        b"branch",
        &["bob", "mallory"],
        None,
    );
    assert_rule(
        join_successor(&h, &bob, &w, kps.remove(0)),
        Rule::SuccessorBranchMembers,
    );
}

#[test]
fn we_14_an_external_join_without_external_pub() {
    let h = Harness::default_suite(324);
    let (alice, _bob, _carol) = h.three();
    let tree = alice.tree().to_wire().unwrap().to_extension().unwrap();
    let info = alice.test_group_info(&h.env(), vec![tree]).unwrap();
    let joined = Group::join_external(
        &h.env(),
        GroupConfig::default(),
        &info,
        None,
        &h.leaf("eve"),
        Arc::new(h.signer()),
        None,
        &[],
    );
    assert_rule(joined, Rule::GroupInfoExternalPub);
}

/// Dave's external commit to `group`, re-signed by Dave after `change`.
fn external_commit(h: &Harness, group: &Group, change: impl FnOnce(&mut wire::Commit)) -> Vec<u8> {
    let info = group.group_info(&h.env(), true).unwrap();
    let wire::MlsMessage::GroupInfo(info) = wire::MlsMessage::from_bytes(&info).unwrap() else {
        panic!("not a GroupInfo");
    };
    let dave = h.signer();
    let (_, commit) = Group::join_external(
        &h.env(),
        GroupConfig::default(),
        &info,
        None,
        &h.leaf("dave"),
        Arc::new(dave.clone()),
        None,
        &[],
    )
    .unwrap();
    let wire::MlsMessage::PublicMessage(m) = wire::MlsMessage::from_bytes(&commit).unwrap() else {
        panic!("not public");
    };
    let mut content = m.content.clone();
    let wire::FramedContentBody::Commit(c) = &mut content.body else {
        panic!("not a commit");
    };
    change(c);
    let mut signed = crate::framing::sign_content(
        h.ops(),
        wire::WireFormat::PublicMessage,
        content,
        &dave,
        Some(group.context()),
    )
    .unwrap();
    signed.auth.confirmation_tag = m.auth.confirmation_tag.clone();
    wire::MlsMessage::PublicMessage(Box::new(
        crate::framing::protect_public(h.ops(), signed, group.context(), None).unwrap(),
    ))
    .to_bytes()
    .unwrap()
}

#[test]
fn ex_02_an_external_commit_with_a_proposal_by_reference() {
    let h = Harness::default_suite(330);
    let (mut alice, _bob, _carol) = h.three();
    let bytes = external_commit(&h, &alice, |c| {
        let mut list = c.proposals.as_slice().to_vec();
        list.push(wire::ProposalOrRef::Reference(VarBytes(vec![1; 32])));
        c.proposals = list.into();
    });
    assert_rejected(&h, &mut alice, &bytes, Rule::ExternalByValue);
}

#[test]
fn ex_03_an_external_init_that_does_not_decapsulate() {
    let h = Harness::default_suite(331);
    let (mut alice, _bob, _carol) = h.three();
    let bytes = external_commit(&h, &alice, |c| {
        let mut list = c.proposals.as_slice().to_vec();
        for p in &mut list {
            // Any 32 bytes are an X25519 key; a truncated one is no KEM output at all.
            if let wire::ProposalOrRef::Proposal(Proposal::ExternalInit(init)) = p {
                init.kem_output.0.pop();
            }
        }
        c.proposals = list.into();
    });
    assert_rejected(&h, &mut alice, &bytes, Rule::ExternalInitKem);
}

#[test]
fn ex_04_an_external_commit_without_a_path() {
    let h = Harness::default_suite(332);
    let (mut alice, _bob, _carol) = h.three();
    let bytes = external_commit(&h, &alice, |c| c.path = None);
    assert_rejected(&h, &mut alice, &bytes, Rule::ExternalPath);
}

#[test]
fn a_welcome_tree_is_checked_on_every_suite() {
    // One join scenario per suite (issue 10: group tests on every suite).
    for suite in canopy_crypto::CipherSuite::ALL {
        let h = Harness::new(suite, 340);
        let (mut alice, _bob, _carol) = h.three();
        let (w, kp, signer) = forged_welcome(
            &h,
            &mut alice,
            Forgery {
                bad_group_info_tag: true,
                ..Forgery::default()
            },
        );
        assert_join_rejected(&h, &w, &kp, signer, Rule::GroupInfoConfirmationTag);
        let (w, kp, signer) = forged_welcome(&h, &mut h.fork(&alice), Forgery::default());
        assert!(
            h.join(&w, &kp, signer, GroupConfig::default()).is_ok(),
            "{suite:?}"
        );
    }
}

#[test]
fn ln_01_the_validator_is_asked_on_every_path_that_accepts_a_leaf() {
    // Issue 10, defect 1: an Update, an UpdatePath leaf and a received external commit, each
    // with the identity the validator refuses.
    let h = Harness::default_suite(313);
    let (mut alice, mut bob, _carol) = h.three();
    let refuses = Refuses(b"mallory", 0.into());
    let env = crate::group::Env::new(&h.provider, &refuses).at(super::harness::NOW);
    let mallory = Credential::Basic {
        identity: VarBytes(b"mallory".to_vec()),
    };
    // An Update to the refused identity.
    let mut params = h.leaf("mallory");
    params.credential = mallory.clone();
    let (leaf, _) = crate::key_package::generate_leaf_node(
        &h.provider,
        h.suite,
        &params,
        crate::key_package::NewLeafSource::Update {
            group_id: bob.group_id(),
            leaf_index: bob.own_leaf().value(),
        },
        bob.test_signer(),
    )
    .unwrap();
    let update = h
        .fork(&bob)
        .forge_proposal(
            &h.env(),
            Proposal::Update(Box::new(wire::Update { leaf_node: leaf })),
        )
        .unwrap();
    let before = alice.to_bytes().unwrap();
    assert_rule(alice.process_message(&env, &update), Rule::LeafCredential);
    assert_eq!(alice.to_bytes().unwrap().as_bytes(), before.as_bytes());
    // A commit whose path leaf carries it.
    let forged = bob
        .forge(
            &h.env(),
            Forgery {
                template: Some(Box::new(move |t| t.credential = mallory)),
                ..Forgery::default()
            }
            .with_path(),
        )
        .unwrap();
    assert_rule(
        alice.process_message(&env, &forged.commit),
        Rule::LeafCredential,
    );
    assert_eq!(alice.to_bytes().unwrap().as_bytes(), before.as_bytes());
    // An external commit by the refused identity.
    let info = bob.group_info(&h.env(), true).unwrap();
    let wire::MlsMessage::GroupInfo(info) = wire::MlsMessage::from_bytes(&info).unwrap() else {
        panic!("not a GroupInfo");
    };
    let (_, commit) = Group::join_external(
        &h.env(),
        GroupConfig::default(),
        &info,
        None,
        &h.leaf("mallory"),
        Arc::new(h.signer()),
        None,
        &[],
    )
    .unwrap();
    assert_rule(alice.process_message(&env, &commit), Rule::LeafCredential);
    assert_eq!(alice.to_bytes().unwrap().as_bytes(), before.as_bytes());
    // With a validator that accepts it, the external commit is taken.
    assert!(alice.process_message(&h.env(), &commit).is_ok());
}
