//! Every RPC of the `MLSClient` service, driven over loopback with a tonic client, checking
//! real outcomes: equal epoch authenticators and exported secrets across members, decrypted
//! plaintexts, the trees and suites of what comes back, and errors for bad input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use canopy_core::wire::{Credential, MlsMessage, Node, RatchetTree};
use canopy_interop_server::proto::*;
use common::{Client, Server, bounded};
use tonic::Code;

const SUITE: u32 = 1;

async fn create(c: &mut Client, name: &str, encrypt: bool) -> u32 {
    c.create_group(CreateGroupRequest {
        group_id: b"group".to_vec(),
        cipher_suite: SUITE,
        encrypt_handshake: encrypt,
        identity: name.into(),
    })
    .await
    .unwrap()
    .into_inner()
    .state_id
}

async fn key_package(c: &mut Client, suite: u32, name: &str) -> CreateKeyPackageResponse {
    c.create_key_package(CreateKeyPackageRequest {
        cipher_suite: suite,
        identity: name.into(),
    })
    .await
    .unwrap()
    .into_inner()
}

async fn state_auth(c: &mut Client, state_id: u32) -> Vec<u8> {
    c.state_auth(StateAuthRequest { state_id })
        .await
        .unwrap()
        .into_inner()
        .state_auth_secret
}

async fn pending(c: &mut Client, state_id: u32) -> Vec<u8> {
    c.handle_pending_commit(HandlePendingCommitRequest { state_id })
        .await
        .unwrap()
        .into_inner()
        .epoch_authenticator
}

async fn handle(c: &mut Client, state_id: u32, proposal: Vec<Vec<u8>>, commit: &[u8]) -> Vec<u8> {
    c.handle_commit(HandleCommitRequest {
        state_id,
        proposal,
        commit: commit.to_vec(),
    })
    .await
    .unwrap()
    .into_inner()
    .epoch_authenticator
}

async fn join(
    c: &mut Client,
    kp: &CreateKeyPackageResponse,
    welcome: &[u8],
    tree: &[u8],
) -> JoinGroupResponse {
    c.join_group(JoinGroupRequest {
        transaction_id: kp.transaction_id,
        welcome: welcome.to_vec(),
        encrypt_handshake: false,
        identity: Vec::new(),
        ratchet_tree: tree.to_vec(),
    })
    .await
    .unwrap()
    .into_inner()
}

/// `creator` adds `names` (new KeyPackages on `c`) by value and merges; returns their states.
async fn add(c: &mut Client, creator: u32, names: &[&str]) -> Vec<u32> {
    let mut kps = Vec::new();
    for name in names {
        kps.push(key_package(c, SUITE, name).await);
    }
    let out = c
        .commit(CommitRequest {
            state_id: creator,
            by_value: kps
                .iter()
                .map(|kp| ProposalDescription {
                    proposal_type: b"add".to_vec(),
                    key_package: kp.key_package.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let auth = pending(c, creator).await;
    let mut states = Vec::new();
    for kp in &kps {
        let joined = join(c, kp, &out.welcome, &[]).await;
        assert_eq!(joined.epoch_authenticator, auth);
        states.push(joined.state_id);
    }
    states
}

fn decode(bytes: &[u8]) -> MlsMessage {
    MlsMessage::from_bytes(bytes).unwrap()
}

/// The identities of the members in a ratchet tree.
fn members(tree: &[u8]) -> Vec<String> {
    RatchetTree::from_bytes(tree)
        .unwrap()
        .nodes()
        .filter_map(|n| match n {
            Some(Node::Leaf(leaf)) => match &leaf.credential {
                Credential::Basic { identity } => {
                    Some(String::from_utf8(identity.as_slice().to_vec()).unwrap())
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

async fn tree(c: &mut Client, state_id: u32) -> Vec<u8> {
    c.group_info(GroupInfoRequest {
        state_id,
        external_tree: true,
    })
    .await
    .unwrap()
    .into_inner()
    .ratchet_tree
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_suites_create_join_state_auth_export_protect_unprotect_free() {
    bounded(120, async {
        let server = Server::start().await;
        let mut c = server.client.clone();
        let name = c.name(NameRequest {}).await.unwrap().into_inner().name;
        assert_eq!(name, "Canopy");
        let suites = c
            .supported_ciphersuites(SupportedCiphersuitesRequest {})
            .await
            .unwrap()
            .into_inner()
            .ciphersuites;
        assert_eq!(suites, (1..=7).collect::<Vec<u32>>());

        for encrypt in [false, true] {
            let alice = create(&mut c, "alice", encrypt).await;
            let bob_kp = key_package(&mut c, SUITE, "bob").await;
            assert!(matches!(
                decode(&bob_kp.key_package),
                MlsMessage::KeyPackage(_)
            ));
            assert_eq!(bob_kp.init_priv.len(), 32);
            assert_eq!(bob_kp.encryption_priv.len(), 32);
            assert!(!bob_kp.signature_priv.is_empty());

            // An Add by reference, committed, merged, joined.
            let proposal = c
                .add_proposal(AddProposalRequest {
                    state_id: alice,
                    key_package: bob_kp.key_package.clone(),
                })
                .await
                .unwrap()
                .into_inner()
                .proposal;
            let wire_format = decode(&proposal).wire_format();
            assert_eq!(
                wire_format,
                if encrypt {
                    canopy_core::wire::WireFormat::PrivateMessage
                } else {
                    canopy_core::wire::WireFormat::PublicMessage
                }
            );
            let out = c
                .commit(CommitRequest {
                    state_id: alice,
                    by_reference: vec![proposal],
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert!(out.ratchet_tree.is_empty());
            let auth = pending(&mut c, alice).await;
            let bob = c
                .join_group(JoinGroupRequest {
                    transaction_id: bob_kp.transaction_id,
                    welcome: out.welcome,
                    encrypt_handshake: encrypt,
                    identity: b"bob".to_vec(),
                    ratchet_tree: Vec::new(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(bob.epoch_authenticator, auth);
            assert_eq!(state_auth(&mut c, alice).await, auth);
            assert_eq!(state_auth(&mut c, bob.state_id).await, auth);

            // Exported secrets agree, and depend on the label.
            let export = |state_id, label: &str| ExportRequest {
                state_id,
                label: label.into(),
                context: b"context".to_vec(),
                key_length: 32,
            };
            let a = c.export(export(alice, "label")).await.unwrap().into_inner();
            let b = c
                .export(export(bob.state_id, "label"))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(a.exported_secret.len(), 32);
            assert_eq!(a.exported_secret, b.exported_secret);
            let other = c
                .export(export(bob.state_id, "other"))
                .await
                .unwrap()
                .into_inner();
            assert_ne!(other.exported_secret, a.exported_secret);

            // Application messages both ways, with authenticated data.
            for (from, to) in [(alice, bob.state_id), (bob.state_id, alice)] {
                let ciphertext = c
                    .protect(ProtectRequest {
                        state_id: from,
                        authenticated_data: b"btw".to_vec(),
                        plaintext: b"hello world".to_vec(),
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .ciphertext;
                let opened = c
                    .unprotect(UnprotectRequest {
                        state_id: to,
                        ciphertext,
                    })
                    .await
                    .unwrap()
                    .into_inner();
                assert_eq!(opened.plaintext, b"hello world");
                assert_eq!(opened.authenticated_data, b"btw");
            }

            // Free forgets the state.
            c.free(FreeRequest {
                state_id: bob.state_id,
            })
            .await
            .unwrap();
            let err = c
                .state_auth(StateAuthRequest {
                    state_id: bob.state_id,
                })
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::NotFound);
        }
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_proposal_kind_by_reference_and_by_value() {
    bounded(120, async {
        let server = Server::start().await;
        let mut c = server.client.clone();
        for encrypt in [false, true] {
            let alice = create(&mut c, "alice", encrypt).await;
            let states = add(&mut c, alice, &["bob", "carol", "dave"]).await;
            let (bob, carol, dave) = (states[0], states[1], states[2]);

            // An external PSK stored with every member.
            for state in [alice, bob, carol, dave] {
                c.store_psk(StorePskRequest {
                    state_or_transaction_id: state,
                    psk_id: b"psk".to_vec(),
                    psk_secret: vec![7; 32],
                })
                .await
                .unwrap();
            }
            let mut by_reference = Vec::new();
            let mut proposal = |r: tonic::Response<ProposalResponse>| {
                let p = r.into_inner().proposal;
                by_reference.push(p.clone());
                p
            };
            proposal(
                c.update_proposal(UpdateProposalRequest { state_id: bob })
                    .await
                    .unwrap(),
            );
            proposal(
                c.external_psk_proposal(ExternalPskProposalRequest {
                    state_id: bob,
                    psk_id: b"psk".to_vec(),
                })
                .await
                .unwrap(),
            );
            proposal(
                c.group_context_extensions_proposal(GroupContextExtensionsProposalRequest {
                    state_id: carol,
                    extensions: vec![Extension {
                        extension_type: 3,
                        extension_data: vec![0, 0, 0],
                    }],
                })
                .await
                .unwrap(),
            );
            proposal(
                c.remove_proposal(RemoveProposalRequest {
                    state_id: bob,
                    removed_id: b"dave".to_vec(),
                })
                .await
                .unwrap(),
            );
            let eve = key_package(&mut c, SUITE, "eve").await;
            let out = c
                .commit(CommitRequest {
                    state_id: alice,
                    by_reference: by_reference.clone(),
                    by_value: vec![
                        ProposalDescription {
                            proposal_type: b"add".to_vec(),
                            key_package: eve.key_package.clone(),
                            ..Default::default()
                        },
                        ProposalDescription {
                            proposal_type: b"remove".to_vec(),
                            removed_id: b"carol".to_vec(),
                            ..Default::default()
                        },
                    ],
                    force_path: true,
                    external_tree: true,
                })
                .await
                .unwrap()
                .into_inner();
            // The tree comes beside the Welcome: joining needs it.
            assert_eq!(
                members(&out.ratchet_tree),
                ["alice", "bob", "eve"],
                "carol and dave removed, eve added"
            );
            let auth = pending(&mut c, alice).await;
            assert_eq!(
                handle(&mut c, bob, by_reference.clone(), &out.commit).await,
                auth
            );
            // Removed members learn it: no epoch authenticator.
            assert!(
                handle(&mut c, carol, by_reference.clone(), &out.commit)
                    .await
                    .is_empty()
            );
            assert!(
                handle(&mut c, dave, by_reference.clone(), &out.commit)
                    .await
                    .is_empty()
            );
            let err = c
                .join_group(JoinGroupRequest {
                    transaction_id: eve.transaction_id,
                    welcome: out.welcome.clone(),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
            c.store_psk(StorePskRequest {
                state_or_transaction_id: eve.transaction_id,
                psk_id: b"psk".to_vec(),
                psk_secret: vec![7; 32],
            })
            .await
            .unwrap();
            let joined = join(&mut c, &eve, &out.welcome, &out.ratchet_tree).await;
            assert_eq!(joined.epoch_authenticator, auth);

            // A by-value GroupContextExtensions and PSKs, then an empty commit.
            let out = c
                .commit(CommitRequest {
                    state_id: bob,
                    by_value: vec![
                        ProposalDescription {
                            proposal_type: b"groupContextExtensions".to_vec(),
                            extensions: vec![],
                            ..Default::default()
                        },
                        ProposalDescription {
                            proposal_type: b"externalPSK".to_vec(),
                            psk_id: b"psk".to_vec(),
                            ..Default::default()
                        },
                        ProposalDescription {
                            proposal_type: b"resumptionPSK".to_vec(),
                            epoch_id: 2,
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert!(out.welcome.is_empty());
            let auth = pending(&mut c, bob).await;
            assert_eq!(handle(&mut c, alice, vec![], &out.commit).await, auth);
            assert_eq!(
                handle(&mut c, joined.state_id, vec![], &out.commit).await,
                auth
            );
            // Eve commits Alice's resumption PSK proposal (joiners cannot have a resumption
            // PSK of an epoch before theirs, so it waits until Eve is in).
            let resumption = c
                .resumption_psk_proposal(ResumptionPskProposalRequest {
                    state_id: alice,
                    epoch_id: 2,
                })
                .await
                .unwrap()
                .into_inner()
                .proposal;
            let out = c
                .commit(CommitRequest {
                    state_id: joined.state_id,
                    by_reference: vec![resumption.clone()],
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            let auth = pending(&mut c, joined.state_id).await;
            assert_eq!(
                handle(&mut c, alice, vec![resumption.clone()], &out.commit).await,
                auth
            );
            assert_eq!(
                handle(&mut c, bob, vec![resumption], &out.commit).await,
                auth
            );
        }
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_info_and_external_joins_with_psks_and_resync() {
    bounded(120, async {
        let server = Server::start().await;
        let mut c = server.client.clone();
        let alice = create(&mut c, "alice", false).await;
        // With the tree inside, or beside.
        let inside = c
            .group_info(GroupInfoRequest {
                state_id: alice,
                external_tree: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(inside.ratchet_tree.is_empty());
        let MlsMessage::GroupInfo(info) = decode(&inside.group_info) else {
            panic!("not a GroupInfo");
        };
        assert!(info.extensions.typed::<RatchetTree>().unwrap().is_some());
        assert!(
            info.extensions
                .typed::<canopy_core::wire::ExternalPub>()
                .unwrap()
                .is_some()
        );
        let beside = c
            .group_info(GroupInfoRequest {
                state_id: alice,
                external_tree: true,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(members(&beside.ratchet_tree), ["alice"]);

        c.store_psk(StorePskRequest {
            state_or_transaction_id: alice,
            psk_id: b"external".to_vec(),
            psk_secret: vec![1; 32],
        })
        .await
        .unwrap();
        let joined = c
            .external_join(ExternalJoinRequest {
                group_info: beside.group_info.clone(),
                ratchet_tree: beside.ratchet_tree.clone(),
                encrypt_handshake: false,
                identity: b"bob".to_vec(),
                remove_prior: false,
                psks: vec![PreSharedKey {
                    psk_id: b"external".to_vec(),
                    psk_secret: vec![1; 32],
                }],
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            handle(&mut c, alice, vec![], &joined.commit).await,
            joined.epoch_authenticator
        );
        // Bob joins again, removing his prior leaf.
        let info = c
            .group_info(GroupInfoRequest {
                state_id: alice,
                external_tree: false,
            })
            .await
            .unwrap()
            .into_inner();
        let again = c
            .external_join(ExternalJoinRequest {
                group_info: info.group_info,
                identity: b"bob".to_vec(),
                remove_prior: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            handle(&mut c, alice, vec![], &again.commit).await,
            again.epoch_authenticator
        );
        assert_eq!(members(&tree(&mut c, alice).await), ["alice", "bob"]);
        // The old state is out: the new epoch's messages are not for it.
        let message = c
            .protect(ProtectRequest {
                state_id: alice,
                authenticated_data: vec![],
                plaintext: b"hi".to_vec(),
            })
            .await
            .unwrap()
            .into_inner()
            .ciphertext;
        let opened = c
            .unprotect(UnprotectRequest {
                state_id: again.state_id,
                ciphertext: message.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(opened.plaintext, b"hi");
        assert!(
            c.unprotect(UnprotectRequest {
                state_id: joined.state_id,
                ciphertext: message,
            })
            .await
            .is_err()
        );
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reinit_to_another_suite_and_branch() {
    bounded(120, async {
        let server = Server::start().await;
        let mut c = server.client.clone();
        let alice = create(&mut c, "alice", true).await;
        let bob = add(&mut c, alice, &["bob"]).await[0];

        // Alice proposes a ReInit to suite 3 with a new id; Bob commits it.
        let proposal = c
            .re_init_proposal(ReInitProposalRequest {
                state_id: alice,
                cipher_suite: 3,
                group_id: b"group++".to_vec(),
                extensions: vec![Extension {
                    extension_type: 3,
                    extension_data: vec![0, 0, 0],
                }],
            })
            .await
            .unwrap()
            .into_inner()
            .proposal;
        let out = c
            .re_init_commit(CommitRequest {
                state_id: bob,
                by_reference: vec![proposal.clone()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let bob_reinit = c
            .handle_pending_re_init_commit(HandlePendingCommitRequest { state_id: bob })
            .await
            .unwrap()
            .into_inner();
        let alice_reinit = c
            .handle_re_init_commit(HandleCommitRequest {
                state_id: alice,
                proposal: vec![proposal],
                commit: out.commit,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            alice_reinit.epoch_authenticator,
            bob_reinit.epoch_authenticator
        );
        let MlsMessage::KeyPackage(kp) = decode(&bob_reinit.key_package) else {
            panic!("not a KeyPackage");
        };
        assert_eq!(kp.cipher_suite, canopy_crypto::CipherSuite(3));
        // The ended group sends nothing more.
        assert!(
            c.protect(ProtectRequest {
                state_id: alice,
                authenticated_data: vec![],
                plaintext: b"late".to_vec(),
            })
            .await
            .is_err()
        );

        let welcome = c
            .re_init_welcome(ReInitWelcomeRequest {
                reinit_id: alice_reinit.reinit_id,
                key_package: vec![bob_reinit.key_package],
                force_path: true,
                external_tree: true,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(members(&welcome.ratchet_tree), ["alice", "bob"]);
        let joined = c
            .handle_re_init_welcome(HandleReInitWelcomeRequest {
                reinit_id: bob_reinit.reinit_id,
                welcome: welcome.welcome,
                ratchet_tree: welcome.ratchet_tree,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(joined.epoch_authenticator, welcome.epoch_authenticator);
        assert_eq!(
            state_auth(&mut c, welcome.state_id).await,
            joined.epoch_authenticator
        );
        let info = c
            .group_info(GroupInfoRequest {
                state_id: joined.state_id,
                external_tree: false,
            })
            .await
            .unwrap()
            .into_inner();
        let MlsMessage::GroupInfo(info) = decode(&info.group_info) else {
            panic!("not a GroupInfo");
        };
        assert_eq!(
            info.group_context.cipher_suite,
            canopy_crypto::CipherSuite(3)
        );
        assert_eq!(info.group_context.group_id.as_slice(), b"group++");

        // A branch of the new group, with Bob.
        let bob_kp = key_package(&mut c, 3, "bob").await;
        let branch = c
            .create_branch(CreateBranchRequest {
                state_id: welcome.state_id,
                group_id: b"branch".to_vec(),
                extensions: vec![],
                key_packages: vec![bob_kp.key_package.clone()],
                force_path: false,
                external_tree: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(branch.ratchet_tree.is_empty());
        let bob_branch = c
            .handle_branch(HandleBranchRequest {
                state_id: joined.state_id,
                transaction_id: bob_kp.transaction_id,
                welcome: branch.welcome,
                ratchet_tree: vec![],
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(bob_branch.epoch_authenticator, branch.epoch_authenticator);
        let ciphertext = c
            .protect(ProtectRequest {
                state_id: branch.state_id,
                authenticated_data: vec![],
                plaintext: b"branched".to_vec(),
            })
            .await
            .unwrap()
            .into_inner()
            .ciphertext;
        let opened = c
            .unprotect(UnprotectRequest {
                state_id: bob_branch.state_id,
                ciphertext,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(opened.plaintext, b"branched");
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_member_and_external_sender_proposals() {
    bounded(120, async {
        let server = Server::start().await;
        let mut c = server.client.clone();
        let alice = create(&mut c, "alice", false).await;
        let bob = add(&mut c, alice, &["bob"]).await[0];

        // Carol asks to be added with a self-signed Add.
        let info = c
            .group_info(GroupInfoRequest {
                state_id: alice,
                external_tree: false,
            })
            .await
            .unwrap()
            .into_inner();
        let carol = c
            .new_member_add_proposal(NewMemberAddProposalRequest {
                group_info: info.group_info,
                identity: b"carol".to_vec(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!carol.init_priv.is_empty() && !carol.signature_priv.is_empty());
        let out = c
            .commit(CommitRequest {
                state_id: alice,
                by_reference: vec![carol.proposal.clone()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let auth = pending(&mut c, alice).await;
        assert_eq!(
            handle(&mut c, bob, vec![carol.proposal], &out.commit).await,
            auth
        );
        let carol_state = c
            .join_group(JoinGroupRequest {
                transaction_id: carol.transaction_id,
                welcome: out.welcome,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(carol_state.epoch_authenticator, auth);

        // A Delivery Service becomes an external sender, then removes Bob.
        let ds = c
            .create_external_signer(CreateExternalSignerRequest {
                cipher_suite: SUITE,
                identity: b"ds".to_vec(),
            })
            .await
            .unwrap()
            .into_inner();
        let gce = c
            .add_external_signer(AddExternalSignerRequest {
                state_id: bob,
                external_sender: ds.external_sender,
            })
            .await
            .unwrap()
            .into_inner()
            .proposal;
        let out = c
            .commit(CommitRequest {
                state_id: alice,
                by_reference: vec![gce.clone()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let auth = pending(&mut c, alice).await;
        for state in [bob, carol_state.state_id] {
            assert_eq!(
                handle(&mut c, state, vec![gce.clone()], &out.commit).await,
                auth
            );
        }
        let info = c
            .group_info(GroupInfoRequest {
                state_id: alice,
                external_tree: true,
            })
            .await
            .unwrap()
            .into_inner();
        let remove = c
            .external_signer_proposal(ExternalSignerProposalRequest {
                signer_id: ds.signer_id,
                signer_index: 0,
                group_info: info.group_info,
                ratchet_tree: info.ratchet_tree,
                description: Some(ProposalDescription {
                    proposal_type: b"remove".to_vec(),
                    removed_id: b"bob".to_vec(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .proposal;
        let out = c
            .commit(CommitRequest {
                state_id: alice,
                by_reference: vec![remove.clone()],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let auth = pending(&mut c, alice).await;
        assert_eq!(
            handle(
                &mut c,
                carol_state.state_id,
                vec![remove.clone()],
                &out.commit
            )
            .await,
            auth
        );
        assert!(
            handle(&mut c, bob, vec![remove], &out.commit)
                .await
                .is_empty()
        );
        assert_eq!(members(&tree(&mut c, alice).await), ["alice", "carol"]);
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_useful_status() {
    bounded(120, async {
        let server = Server::start().await;
        let mut c = server.client.clone();
        // Unknown ids.
        let err = c
            .state_auth(StateAuthRequest { state_id: 999 })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        assert_eq!(err.message(), "no state with id 999");
        let err = c
            .join_group(JoinGroupRequest {
                transaction_id: 999,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.code(),
            Code::InvalidArgument,
            "an empty Welcome: {err:?}"
        );
        // Suites.
        let err = c
            .create_group(CreateGroupRequest {
                group_id: b"g".to_vec(),
                cipher_suite: 0x1_0000,
                encrypt_handshake: false,
                identity: b"a".to_vec(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let err = c
            .create_key_package(CreateKeyPackageRequest {
                cipher_suite: 0x7777,
                identity: b"a".to_vec(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(
            err.message().contains("unsupported cipher suite"),
            "{err:?}"
        );

        let alice = create(&mut c, "alice", false).await;
        let bob = add(&mut c, alice, &["bob"]).await[0];
        // Garbage where MLS messages belong.
        let err = c
            .handle_commit(HandleCommitRequest {
                state_id: bob,
                proposal: vec![],
                commit: vec![1, 2, 3],
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let err = c
            .commit(CommitRequest {
                state_id: alice,
                by_reference: vec![vec![0; 10]],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let err = c
            .commit(CommitRequest {
                state_id: alice,
                by_value: vec![ProposalDescription {
                    proposal_type: b"frobnicate".to_vec(),
                    ..Default::default()
                }],
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert!(err.message().contains("frobnicate"), "{err:?}");
        let err = c
            .remove_proposal(RemoveProposalRequest {
                state_id: alice,
                removed_id: b"nobody".to_vec(),
            })
            .await
            .unwrap_err();
        assert!(err.message().contains("nobody"), "{err:?}");
        // A tampered message names the rule it breaks.
        let mut ciphertext = c
            .protect(ProtectRequest {
                state_id: alice,
                authenticated_data: vec![],
                plaintext: b"x".to_vec(),
            })
            .await
            .unwrap()
            .into_inner()
            .ciphertext;
        let last = ciphertext.len() - 1;
        ciphertext[last] ^= 1;
        let err = c
            .unprotect(UnprotectRequest {
                state_id: bob,
                ciphertext,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert!(
            err.message().contains("(RFC 9420 §"),
            "names the rule: {err:?}"
        );
        // A handshake message is not application data.
        let proposal = c
            .update_proposal(UpdateProposalRequest { state_id: alice })
            .await
            .unwrap()
            .into_inner()
            .proposal;
        let err = c
            .unprotect(UnprotectRequest {
                state_id: bob,
                ciphertext: proposal,
            })
            .await
            .unwrap_err();
        assert!(err.message().contains("a proposal"), "{err:?}");
        // Lifecycle misuse.
        let err = c
            .handle_pending_commit(HandlePendingCommitRequest { state_id: bob })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        let err = c
            .re_init_welcome(ReInitWelcomeRequest {
                reinit_id: alice,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        let err = c
            .external_signer_proposal(ExternalSignerProposalRequest {
                signer_id: 12345,
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "no GroupInfo: {err:?}");
        let err = c.free(FreeRequest { state_id: 4242 }).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        server.stop().await;
    })
    .await;
}
