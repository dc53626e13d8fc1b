//! Negative tests of the single-proposal rules (PR-, RFC 9420 §12.1) and of the application
//! rules (AP-): a member (or an external sender) sends a proposal, correctly signed and MAC'd,
//! that breaks one rule; the receiver refuses it and is unchanged.

use super::harness::{Harness, assert_accepted, assert_rejected};
use crate::codec::VarBytes;
use crate::framing::{protect_public, sign_content};
use crate::group::CreateParams;
use crate::group::forge::Forgery;
use crate::group::{CommitOptions, Group, GroupConfig};
use crate::rules::{Rule, assert_rule};
use crate::tree::TreeRead;
use crate::wire::{
    Credential, ExtensionType, ExtensionView, Extensions, ExternalSender, ExternalSenders,
    FramedContent, FramedContentBody, GroupContextExtensions, MlsMessage, PreSharedKey,
    PreSharedKeyId, Proposal, ProtocolVersion, Psk, ReInit, Remove, ResumptionPskUsage, Sender,
    Update, WireFormat,
};
use std::sync::Arc;

#[test]
fn pr_01_an_update_by_value_or_from_an_external_sender() {
    let h = Harness::default_suite(201);
    let (mut alice, mut bob, _carol) = h.three();
    // Alice's own fresh Update leaf, committed by value: never allowed (§12.4).
    let leaf = alice.tree().leaf(alice.own_leaf()).unwrap().clone();
    let update = Proposal::Update(Box::new(Update { leaf_node: leaf }));
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(Sender::Member(alice.own_leaf().value()), vec![update]).with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::ProposalUpdateSender);
    // And our own API refuses to send one.
    assert_rule(
        bob.propose(
            &h.env(),
            Proposal::Update(Box::new(Update {
                leaf_node: bob.tree().leaf(bob.own_leaf()).unwrap().clone(),
            })),
        ),
        Rule::ProposalUpdateSender,
    );
}

#[test]
fn pr_02_a_remove_of_a_blank_leaf() {
    let h = Harness::default_suite(202);
    let (mut alice, mut bob, _carol) = h.three();
    let message = alice
        .forge_proposal(&h.env(), Proposal::Remove(Remove { removed: 3 }))
        .unwrap();
    assert_rejected(&h, &mut bob, &message, Rule::ProposalRemoveMember);
    // Our API refuses to send it too.
    assert_rule(
        bob.propose(&h.env(), Proposal::Remove(Remove { removed: 3 })),
        Rule::ProposalRemoveMember,
    );
}

fn psk(id: Psk, nonce_len: usize) -> Proposal {
    Proposal::PreSharedKey(PreSharedKey {
        psk: PreSharedKeyId {
            psk: id,
            psk_nonce: VarBytes(vec![5; nonce_len]),
        },
    })
}

#[test]
fn pr_03_a_psk_nonce_of_the_wrong_length() {
    let h = Harness::default_suite(203);
    let (mut alice, mut bob, _carol) = h.three();
    let external = Psk::External {
        psk_id: VarBytes(b"k".to_vec()),
    };
    let message = alice
        .forge_proposal(&h.env(), psk(external.clone(), 31))
        .unwrap();
    assert_rejected(&h, &mut bob, &message, Rule::ProposalPskNonce);
    let good = alice.forge_proposal(&h.env(), psk(external, 32)).unwrap();
    assert_accepted(&h, &mut bob, &good);
}

#[test]
fn pr_04_a_reinit_or_branch_psk_outside_a_successor_group() {
    let h = Harness::default_suite(204);
    let (mut alice, mut bob, _carol) = h.three();
    for usage in [ResumptionPskUsage::Reinit, ResumptionPskUsage::Branch] {
        let id = Psk::Resumption {
            usage,
            psk_group_id: VarBytes(alice.group_id().to_vec()),
            psk_epoch: alice.epoch(),
        };
        let message = alice.forge_proposal(&h.env(), psk(id, 32)).unwrap();
        assert_rejected(&h, &mut bob, &message, Rule::ProposalPskUsage);
    }
}

#[test]
fn pr_05_a_reinit_to_an_older_version() {
    let h = Harness::default_suite(205);
    let (mut alice, mut bob, _carol) = h.three();
    let reinit = |version| {
        Proposal::ReInit(ReInit {
            group_id: VarBytes(b"next".to_vec()),
            version,
            cipher_suite: h.suite,
            extensions: Extensions::default(),
        })
    };
    let message = alice
        .forge_proposal(&h.env(), reinit(ProtocolVersion(0)))
        .unwrap();
    assert_rejected(&h, &mut bob, &message, Rule::ProposalReInitVersion);
    let good = alice
        .forge_proposal(&h.env(), reinit(ProtocolVersion::MLS10))
        .unwrap();
    assert_accepted(&h, &mut bob, &good);
}

#[test]
fn pr_06_new_group_extensions_a_member_does_not_support() {
    let h = Harness::default_suite(206);
    let (mut alice, mut bob, _carol) = h.three();
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: Extensions::new(vec![crate::wire::Extension::new(
            ExtensionType(0xff00),
            vec![],
        )])
        .unwrap(),
    });
    let message = alice.forge_proposal(&h.env(), gce.clone()).unwrap();
    assert_rejected(&h, &mut bob, &message, Rule::ProposalGroupExtensions);
    // Committed by value, the same proposal is refused with the same rule (checked against
    // the tree the commit leaves).
    let forged = alice
        .forge(
            &h.env(),
            Forgery::by_value(Sender::Member(alice.own_leaf().value()), vec![gce]).with_path(),
        )
        .unwrap();
    assert_rejected(&h, &mut bob, &forged.commit, Rule::ProposalGroupExtensions);
}

/// A group of Alice and Bob whose GroupContext lists one external sender; and its signer.
pub(super) fn with_external_sender(h: &Harness) -> (Group, Group, canopy_crypto::SignatureKeyPair) {
    let ds = h.signer();
    let senders = ExternalSenders {
        senders: vec![ExternalSender {
            signature_key: ds.public.clone(),
            credential: Credential::Basic {
                identity: VarBytes(b"delivery service".to_vec()),
            },
        }]
        .into(),
    };
    let mut alice = Group::create(
        &h.env(),
        CreateParams::new(
            h.suite,
            b"ext".to_vec(),
            &h.leaf("alice"),
            Arc::new(h.signer()),
        )
        .extensions(Extensions::new(vec![senders.to_extension().unwrap()]).unwrap()),
    )
    .unwrap();
    let (bob_kp, bob_signer) = h.key_package("bob");
    let out = alice
        .commit(
            &h.env(),
            CommitOptions {
                add: vec![bob_kp.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let welcome = super::harness::welcome(out.welcome.as_deref().unwrap());
    let bob = h
        .join(&welcome, &bob_kp, bob_signer, GroupConfig::default())
        .unwrap();
    (alice, bob, ds)
}

/// An external proposal from external sender 0 of `group`, signed with `signer`.
pub(super) fn external(
    h: &Harness,
    group: &Group,
    signer: &canopy_crypto::SignatureKeyPair,
    p: Proposal,
) -> Vec<u8> {
    let content = FramedContent {
        group_id: group.context().group_id.clone(),
        epoch: group.epoch(),
        sender: Sender::External(0),
        authenticated_data: VarBytes(Vec::new()),
        body: FramedContentBody::Proposal(p),
    };
    let signed = sign_content(h.ops(), WireFormat::PublicMessage, content, &signer, None).unwrap();
    MlsMessage::PublicMessage(Box::new(
        protect_public(h.ops(), signed, group.context(), None).unwrap(),
    ))
    .to_bytes()
    .unwrap()
}

#[test]
fn pr_07_an_external_sender_proposing_an_update() {
    let h = Harness::default_suite(207);
    let (_alice, mut bob, ds) = with_external_sender(&h);
    let leaf = bob.tree().leaf(bob.own_leaf()).unwrap().clone();
    let update = external(
        &h,
        &bob,
        &ds,
        Proposal::Update(Box::new(Update { leaf_node: leaf })),
    );
    assert_rejected(&h, &mut bob, &update, Rule::ProposalExternalType);
    let remove = external(&h, &bob, &ds, Proposal::Remove(Remove { removed: 0 }));
    assert_accepted(&h, &mut bob, &remove);
}

#[test]
fn pr_08_new_external_senders_the_authentication_service_refuses() {
    let h = Harness::default_suite(208);
    let (mut alice, mut bob, _carol) = h.three();
    // An X.509 external sender: the basic validator accepts no X.509 credential.
    let senders = ExternalSenders {
        senders: vec![ExternalSender {
            signature_key: h.signer().public,
            credential: Credential::X509 {
                certificates: vec![crate::wire::Certificate {
                    cert_data: VarBytes(vec![0x30, 0]),
                }]
                .into(),
            },
        }]
        .into(),
    };
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
        extensions: Extensions::new(vec![senders.to_extension().unwrap()]).unwrap(),
    });
    let message = alice.forge_proposal(&h.env(), gce).unwrap();
    assert_rejected(&h, &mut bob, &message, Rule::ProposalExternalSenders);
}

#[test]
fn ap_01_application_data_waits_for_a_commit_of_the_proposals() {
    let h = Harness::default_suite(209);
    let (mut alice, mut bob, carol) = h.three();
    let proposal = alice
        .propose(
            &h.env(),
            Proposal::Remove(Remove {
                removed: carol.own_leaf().value(),
            }),
        )
        .unwrap();
    h.deliver(&mut bob, &proposal);
    // Both hold a valid proposal: both must commit before sending application data.
    let before = bob.to_bytes().unwrap();
    assert_rule(
        bob.encrypt_application(&h.env(), b"hi", b""),
        Rule::ApplicationAfterProposals,
    );
    assert_eq!(bob.to_bytes().unwrap().as_bytes(), before.as_bytes());
    assert_rule(
        alice.encrypt_application(&h.env(), b"hi", b""),
        Rule::ApplicationAfterProposals,
    );
    // The documented override sends anyway.
    let mut forced = h.fork(&bob);
    forced.test_config_mut().dangerous_application_before_commit = true;
    assert!(forced.encrypt_application(&h.env(), b"hi", b"").is_ok());
    // After the commit, application data flows.
    let out = alice.commit(&h.env(), CommitOptions::default()).unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    h.deliver(&mut bob, &out.commit);
    let message = alice.encrypt_application(&h.env(), b"hi", b"").unwrap();
    assert_accepted(&h, &mut bob, &message);
}

#[test]
fn ap_02_the_policy_refuses_a_proposal_and_a_commit() {
    use crate::group::{PolicyRefusal, ProposalInfo, ProposalPolicy};
    struct NoRemoves;
    impl ProposalPolicy for NoRemoves {
        fn on_received(&self, p: &ProposalInfo<'_>) -> Result<(), PolicyRefusal> {
            match p.proposal {
                Proposal::Remove(_) => Err(PolicyRefusal::new("no removes here")),
                _ => Ok(()),
            }
        }
        fn on_commit(&self, _: &Sender, p: &ProposalInfo<'_>) -> Result<(), PolicyRefusal> {
            self.on_received(p)
        }
    }
    let h = Harness::default_suite(210);
    let (mut alice, mut bob, carol) = h.three();
    let remove = Proposal::Remove(Remove {
        removed: carol.own_leaf().value(),
    });
    let proposal = alice.propose(&h.env(), remove).unwrap();
    let env = h.env().with_policy(&NoRemoves);
    let before = bob.to_bytes().unwrap();
    assert_rule(
        bob.process_message(&env, &proposal),
        Rule::ApplicationPolicy,
    );
    assert_eq!(bob.to_bytes().unwrap().as_bytes(), before.as_bytes());
    // A commit carrying a Remove by value is refused whole.
    let out = alice
        .commit(
            &h.env(),
            CommitOptions {
                remove: vec![carol.own_leaf()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    assert_rule(
        bob.process_message(&env, &out.commit),
        Rule::ApplicationPolicy,
    );
    assert_eq!(bob.to_bytes().unwrap().as_bytes(), before.as_bytes());
    // With the default policy both are accepted.
    assert_accepted(&h, &mut bob, &out.commit);
}
