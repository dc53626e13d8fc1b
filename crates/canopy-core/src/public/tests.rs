//! Tests of the public group view: a [`PublicGroup`] follows seeded groups of two cipher
//! suites through adds, updates, removes, proposals by reference and an external join, and
//! agrees with every member at every epoch; forged and unfollowable messages are refused
//! with the rule they break, leaving the public group byte-identical.

use std::sync::Arc;

use canopy_crypto::{CipherSuite, CryptoProvider, SignatureKeyPair};

use super::{PublicGroup, PublicGroupError, PublicProcessed};
use crate::codec::VarBytes;
use crate::group::forge::Forgery;
use crate::group::test_world::{World, remove_proposal};
use crate::group::{
    CommitOptions, CreateParams, Env, Group, GroupConfig, GroupError, HandshakeFormat, JoinParams,
    Member, Merged, ProcessedMessage,
};
use crate::key_package::{KeyPackageBundle, KeyPackageParams, LeafNodeParams, create_key_package};
use crate::rules::{Rule, assert_rule};
use crate::tree::math::LeafIndex;
use crate::wire::{self, Credential, GroupInfo, Lifetime, MlsMessage, Proposal, Sender};

const X25519: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
const P256: CipherSuite = CipherSuite::MLS_128_DHKEMP256_AES128GCM_SHA256_P256;

/// Seeded members of one cipher suite, on a [`World`]'s provider and validator.
struct Suite {
    world: World,
    suite: CipherSuite,
}

impl Suite {
    fn new(suite: CipherSuite, seed: u64) -> Self {
        Self {
            world: World::seeded(seed),
            suite,
        }
    }

    fn env(&self) -> Env<'_> {
        self.world.env()
    }

    fn signer(&self) -> SignatureKeyPair {
        self.world
            .provider
            .suite(self.suite)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap()
    }

    fn leaf(&self, name: &str) -> LeafNodeParams {
        LeafNodeParams::new(
            Credential::Basic {
                identity: VarBytes(name.as_bytes().to_vec()),
            },
            self.suite,
        )
    }

    fn key_package(&self, name: &str) -> (KeyPackageBundle, SignatureKeyPair) {
        let signer = self.signer();
        let params = KeyPackageParams::new(
            self.leaf(name),
            Lifetime {
                not_before: 0,
                not_after: u64::MAX,
            },
        );
        let bundle =
            create_key_package(&self.world.provider, self.suite, &params, &signer).unwrap();
        (bundle, signer)
    }

    fn create(&self, name: &str) -> Group {
        Group::create(
            &self.env(),
            CreateParams::new(
                self.suite,
                b"public".to_vec(),
                &self.leaf(name),
                Arc::new(self.signer()),
            ),
        )
        .unwrap()
    }

    /// A public group from `member`'s GroupInfo of the current epoch, with its tree.
    fn public_of(&self, member: &Group) -> PublicGroup {
        let info = member.group_info(&self.env(), true).unwrap();
        PublicGroup::from_group_info(&self.env(), &GroupConfig::default(), &info, None).unwrap()
    }

    /// `committer` (in `groups`) adds `names`; the commit goes to `public` and every member;
    /// the joiners join from the Welcome and are appended to `groups`.
    fn add(
        &self,
        public: &mut PublicGroup,
        groups: &mut Vec<Group>,
        committer: usize,
        names: &[&str],
    ) {
        let kps: Vec<_> = names.iter().map(|n| self.key_package(n)).collect();
        let out = groups[committer]
            .commit(
                &self.env(),
                CommitOptions {
                    add: kps.iter().map(|(b, _)| b.key_package.clone()).collect(),
                    ..CommitOptions::default()
                },
            )
            .unwrap();
        let summary = broadcast(&self.env(), public, groups, &out.commit);
        let PublicProcessed::Commit(summary) = summary else {
            panic!("not a commit: {summary:?}");
        };
        assert_eq!(summary.added.len(), names.len());
        let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
        else {
            panic!("not a Welcome");
        };
        for (bundle, signer) in kps {
            groups.push(
                Group::join(
                    &self.env(),
                    JoinParams::new(&welcome, &bundle, Arc::new(signer)),
                )
                .unwrap(),
            );
        }
    }

    /// `committer` commits `options`; the commit goes to `public` and every member.
    fn commit(
        &self,
        public: &mut PublicGroup,
        groups: &mut Vec<Group>,
        committer: usize,
        options: CommitOptions,
    ) -> PublicProcessed {
        let out = groups[committer].commit(&self.env(), options).unwrap();
        broadcast(&self.env(), public, groups, &out.commit)
    }
}

/// Delivers `message` to `public` (which must accept it) and to every group of `groups`
/// (merging commits); members a commit removes are dropped from `groups`.
fn broadcast(
    env: &Env<'_>,
    public: &mut PublicGroup,
    groups: &mut Vec<Group>,
    message: &[u8],
) -> PublicProcessed {
    let processed = public.process_message(env, message).unwrap();
    groups.retain_mut(|g| match g.process_message(env, message).unwrap() {
        ProcessedMessage::OwnCommit => {
            matches!(g.merge_pending_commit().unwrap(), Merged::Member { .. })
        }
        ProcessedMessage::Commit(staged) => {
            matches!(
                g.merge_staged_commit(*staged).unwrap(),
                Merged::Member { .. }
            )
        }
        _ => true,
    });
    processed
}

/// `public` agrees with `member` on everything public: epoch, GroupContext (tree hash,
/// confirmed transcript hash, extensions), interim transcript hash, roster and tree; its
/// state is the member's public view's, and survives a round trip through its bytes.
#[track_caller]
fn assert_same(s: &Suite, public: &PublicGroup, member: &Group) {
    assert_eq!(public.epoch(), member.epoch());
    assert_eq!(public.group_id(), member.group_id());
    assert_eq!(public.cipher_suite(), member.cipher_suite());
    assert_eq!(public.context(), member.context());
    assert_eq!(public.tree_hash(), member.context().tree_hash.as_slice());
    assert_eq!(
        public.confirmed_transcript_hash(),
        member.context().confirmed_transcript_hash.as_slice()
    );
    assert_eq!(public.member_count(), member.member_count());
    let ours: Vec<Member<'_>> = public.roster().collect();
    let theirs: Vec<Member<'_>> = member.roster().collect();
    assert_eq!(ours, theirs);
    assert_eq!(
        public.export_tree().unwrap(),
        member.tree().to_wire().unwrap()
    );
    let view = member.public_view();
    assert_eq!(
        public.interim_transcript_hash(),
        view.interim_transcript_hash()
    );
    let bytes = public.to_bytes().unwrap();
    assert_eq!(bytes, view.to_bytes().unwrap());
    let loaded = PublicGroup::from_bytes(&s.world.provider, &bytes).unwrap();
    assert_eq!(loaded.to_bytes().unwrap(), bytes);
}

#[track_caller]
fn assert_all_same(s: &Suite, public: &PublicGroup, groups: &[Group]) {
    assert!(!groups.is_empty());
    for g in groups {
        assert_same(s, public, g);
    }
}

/// The GroupInfo in `bytes`.
fn group_info(bytes: &[u8]) -> GroupInfo {
    match MlsMessage::from_bytes(bytes).unwrap() {
        MlsMessage::GroupInfo(info) => *info,
        other => panic!("not a GroupInfo: {other:?}"),
    }
}

/// A public group follows a group from its first epoch: adds, an update, proposals by
/// reference (Update, Remove, Add), an external join, a remove; equal to every member at
/// every epoch.
fn follow_a_group(suite: CipherSuite, seed: u64) {
    let s = Suite::new(suite, seed);
    let env = s.env();
    let mut groups = vec![s.create("alice")];
    let mut public = s.public_of(&groups[0]);
    assert_all_same(&s, &public, &groups);

    // Epoch 1: alice adds bob, carol and dave.
    s.add(&mut public, &mut groups, 0, &["bob", "carol", "dave"]);
    assert_eq!(public.epoch(), 1);
    assert_eq!(public.member_count(), 4);
    assert_all_same(&s, &public, &groups);

    // Epoch 2: bob updates his leaf with a path.
    let done = s.commit(
        &mut public,
        &mut groups,
        1,
        CommitOptions {
            force_path: true,
            ..CommitOptions::default()
        },
    );
    assert!(matches!(done, PublicProcessed::Commit(ref c) if c.has_path));
    assert_all_same(&s, &public, &groups);

    // Epoch 3: carol proposes an Update, dave a Remove of bob and an Add of erin; alice
    // commits them by reference.
    let update = groups[2].propose_update(&env, None).unwrap();
    let remove = groups[3]
        .propose(&env, remove_proposal(LeafIndex::new(1).unwrap()))
        .unwrap();
    let (erin_kp, erin_signer) = s.key_package("erin");
    let add = groups[3]
        .propose(
            &env,
            Proposal::Add(Box::new(wire::Add {
                key_package: erin_kp.key_package.clone(),
            })),
        )
        .unwrap();
    for proposal in [&update, &remove, &add] {
        let got = broadcast(&env, &mut public, &mut groups, proposal);
        assert!(matches!(got, PublicProcessed::Proposal { .. }), "{got:?}");
    }
    assert_eq!(public.pending_proposals().count(), 3);
    // A resent proposal is kept once.
    assert!(matches!(
        public.process_message(&env, &add).unwrap(),
        PublicProcessed::Proposal { .. }
    ));
    assert_eq!(public.pending_proposals().count(), 3);
    // A member's view carries the same proposals, under the same references.
    assert_eq!(
        PublicGroup::from(&groups[0]).to_bytes().unwrap(),
        public.to_bytes().unwrap()
    );
    let out = groups[0].commit(&env, CommitOptions::default()).unwrap();
    let PublicProcessed::Commit(summary) = broadcast(&env, &mut public, &mut groups, &out.commit)
    else {
        panic!("not a commit");
    };
    assert_eq!(summary.removed, vec![LeafIndex::new(1).unwrap()]);
    assert_eq!(summary.updated, vec![LeafIndex::new(2).unwrap()]);
    assert_eq!(summary.added, vec![LeafIndex::new(1).unwrap()]);
    assert_eq!(public.pending_proposals().count(), 0);
    let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
    else {
        panic!("not a Welcome");
    };
    groups.push(
        Group::join(
            &env,
            JoinParams::new(&welcome, &erin_kp, Arc::new(erin_signer)),
        )
        .unwrap(),
    );
    assert_eq!(groups.len(), 4, "bob was removed, erin joined");
    assert_all_same(&s, &public, &groups);

    // Epoch 4: frank joins with an external commit.
    let info = group_info(&groups[1].group_info(&env, true).unwrap());
    let (frank, commit) = Group::join_external(
        &env,
        GroupConfig::default(),
        &info,
        None,
        &s.leaf("frank"),
        Arc::new(s.signer()),
        None,
        &[],
    )
    .unwrap();
    let PublicProcessed::Commit(summary) = broadcast(&env, &mut public, &mut groups, &commit)
    else {
        panic!("not a commit");
    };
    assert_eq!(summary.committer, Some(Sender::NewMemberCommit));
    assert_eq!(summary.added.len(), 1);
    groups.push(frank);
    assert_all_same(&s, &public, &groups);

    // Epoch 5: frank removes carol.
    let frank_at = groups.len() - 1;
    s.commit(
        &mut public,
        &mut groups,
        frank_at,
        CommitOptions {
            remove: vec![LeafIndex::new(2).unwrap()],
            ..CommitOptions::default()
        },
    );
    assert_eq!(public.epoch(), 5);
    assert_eq!(public.member_count(), 4);
    assert_all_same(&s, &public, &groups);

    // A public group built from a member's view at any point follows on as well.
    let mut from_member = PublicGroup::from(&groups[0]);
    assert_same(&s, &from_member, &groups[0]);
    let out = groups[1]
        .commit(
            &env,
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let mut others = Vec::new();
    broadcast(&env, &mut public, &mut groups, &out.commit);
    broadcast(&env, &mut from_member, &mut others, &out.commit);
    assert_eq!(from_member.to_bytes().unwrap(), public.to_bytes().unwrap());
    assert_all_same(&s, &public, &groups);
    // And the members' GroupInfo of the new epoch is one the public group vouches for.
    let info = groups[2].group_info(&env, false).unwrap();
    let checked = public.check_group_info(&env, &info).unwrap();
    assert_eq!(&checked.group_context, public.context());
}

/// Alice (committer), Bob and Carol, and a public group of their epoch 1.
fn three(s: &Suite) -> (PublicGroup, Vec<Group>) {
    let mut groups = vec![s.create("alice")];
    let mut public = s.public_of(&groups[0]);
    s.add(&mut public, &mut groups, 0, &["bob", "carol"]);
    (public, groups)
}

/// Processing `message` breaks `rule` and leaves `public` byte-identical.
#[track_caller]
fn assert_rejected(s: &Suite, public: &mut PublicGroup, message: &[u8], rule: Rule) {
    let before = public.to_bytes().unwrap();
    assert_rule(public.process_message(&s.env(), message), rule);
    assert_eq!(public.to_bytes().unwrap(), before, "the state changed");
}

/// `message` with its PublicMessage changed by `change`, re-encoded.
fn tampered(message: &[u8], change: impl FnOnce(&mut wire::PublicMessage)) -> Vec<u8> {
    let MlsMessage::PublicMessage(mut m) = MlsMessage::from_bytes(message).unwrap() else {
        panic!("not a PublicMessage");
    };
    change(&mut m);
    MlsMessage::PublicMessage(m).to_bytes().unwrap()
}

impl crate::rules::ReportsRule for PublicGroupError {
    fn broken_rule(&self) -> Option<Rule> {
        self.rule()
    }
}

#[test]
fn follows_a_group_through_adds_updates_removes_proposals_and_an_external_join() {
    follow_a_group(X25519, 1);
    follow_a_group(P256, 2);
}

#[test]
fn a_forged_signature_an_unknown_sender_and_a_replay_are_refused() {
    for (suite, seed) in [(X25519, 3), (P256, 4)] {
        let s = Suite::new(suite, seed);
        let (mut public, mut groups) = three(&s);
        let out = groups[0]
            .commit(
                &s.env(),
                CommitOptions {
                    force_path: true,
                    ..CommitOptions::default()
                },
            )
            .unwrap();
        // A flipped signature bit (FR-03).
        let forged = tampered(&out.commit, |m| {
            if let Some(b) = m.auth.signature.0.last_mut() {
                *b ^= 1;
            }
        });
        assert_rejected(&s, &mut public, &forged, Rule::FramingSignature);
        // The same commit claiming a leaf nobody holds (FR-07).
        let forged = tampered(&out.commit, |m| m.content.sender = Sender::Member(7));
        assert_rejected(&s, &mut public, &forged, Rule::FramingSender);
        // The same commit claiming Bob's leaf: signed by Alice, it does not verify (FR-03).
        let forged = tampered(&out.commit, |m| m.content.sender = Sender::Member(1));
        assert_rejected(&s, &mut public, &forged, Rule::FramingSignature);
        // The genuine commit is accepted, and the members agree.
        broadcast(&s.env(), &mut public, &mut groups, &out.commit);
        assert_all_same(&s, &public, &groups);
        // Replayed in the next epoch: the wrong epoch (FR-02).
        assert_rejected(&s, &mut public, &out.commit, Rule::FramingEpoch);
    }
}

#[test]
fn a_large_commit_is_followed_with_its_transcript_hashed_beside_the_signature() {
    // 1.1 MiB of authenticated data: past the size from which the signature is verified on
    // one thread and the transcript hashed on the other (`parallel` feature).
    let s = Suite::new(X25519, 5);
    let (mut public, mut groups) = three(&s);
    let out = groups[0]
        .commit(
            &s.env(),
            CommitOptions {
                force_path: true,
                authenticated_data: vec![0xA5; 1100 * 1024],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let forged = tampered(&out.commit, |m| {
        if let Some(b) = m.auth.signature.0.last_mut() {
            *b ^= 1;
        }
    });
    assert_rejected(&s, &mut public, &forged, Rule::FramingSignature);
    let forged = tampered(&out.commit, |m| {
        if let Some(b) = m.content.authenticated_data.0.get_mut(1000) {
            *b ^= 1;
        }
    });
    assert_rejected(&s, &mut public, &forged, Rule::FramingSignature);
    broadcast(&s.env(), &mut public, &mut groups, &out.commit);
    assert_all_same(&s, &public, &groups);
}

#[test]
fn invalid_commits_and_proposals_are_refused_with_their_rule() {
    for (suite, seed) in [(X25519, 5), (P256, 6)] {
        let s = Suite::new(suite, seed);
        let env = s.env();
        let (mut public, mut groups) = three(&s);
        let alice = Sender::Member(0);
        // The same client added twice (CM-04).
        let (kp, _) = s.key_package("dave");
        let add = Proposal::Add(Box::new(wire::Add {
            key_package: kp.key_package,
        }));
        let forged = groups[0]
            .forge(&env, Forgery::by_value(alice, vec![add.clone(), add]))
            .unwrap();
        let _ = groups[0].discard_pending_commit();
        assert_rejected(&s, &mut public, &forged.commit, Rule::CommitAddTwice);
        // A Remove of a blank leaf (PR-02).
        let forged = groups[0]
            .forge(
                &env,
                Forgery::by_value(alice, vec![remove_proposal(LeafIndex::new(5).unwrap())])
                    .with_path(),
            )
            .unwrap();
        let _ = groups[0].discard_pending_commit();
        assert_rejected(&s, &mut public, &forged.commit, Rule::ProposalRemoveMember);
        // An UpdatePath whose leaf's parent hash is wrong (CM-16).
        let forged = groups[0]
            .forge(
                &env,
                Forgery {
                    update_path: Some(Box::new(|p| {
                        p.leaf_node.leaf_node_source =
                            wire::LeafNodeSource::Commit(vec![9; 32].into());
                    })),
                    resign_leaf: true,
                    ..Forgery::default()
                }
                .with_path(),
            )
            .unwrap();
        let _ = groups[0].discard_pending_commit();
        assert_rejected(&s, &mut public, &forged.commit, Rule::CommitPathParentHash);
        // A Remove with no path (CM-10).
        let forged = groups[0]
            .forge(
                &env,
                Forgery::by_value(alice, vec![remove_proposal(LeafIndex::new(1).unwrap())]),
            )
            .unwrap();
        let _ = groups[0].discard_pending_commit();
        assert_rejected(&s, &mut public, &forged.commit, Rule::CommitPathRequired);
        // A reference to a proposal nobody sent (CM-11).
        let forged = groups[0]
            .forge(
                &env,
                Forgery {
                    proposals: vec![(
                        remove_proposal(LeafIndex::new(1).unwrap()),
                        Sender::Member(2),
                        Some(vec![7; 32]),
                    )],
                    ..Forgery::default()
                }
                .with_path(),
            )
            .unwrap();
        let _ = groups[0].discard_pending_commit();
        assert_rejected(&s, &mut public, &forged.commit, Rule::CommitProposalRef);
        // An invalid proposal on its own (PR-02, a Remove of a blank leaf), refused and not kept.
        let proposal = groups[1]
            .forge_proposal(&env, remove_proposal(LeafIndex::new(6).unwrap()))
            .unwrap();
        assert_rejected(&s, &mut public, &proposal, Rule::ProposalRemoveMember);
        assert_eq!(public.pending_proposals().count(), 0);
        // An external commit without its path (EX-04: nothing to verify it with), and with
        // a Remove of a blank leaf added after signing (FR-03); the genuine one is followed.
        let info = group_info(&groups[0].group_info(&env, true).unwrap());
        let (dave, external) = Group::join_external(
            &env,
            GroupConfig::default(),
            &info,
            None,
            &s.leaf("dave"),
            Arc::new(s.signer()),
            None,
            &[],
        )
        .unwrap();
        let no_path = tampered(&external, |m| {
            if let wire::FramedContentBody::Commit(c) = &mut m.content.body {
                c.path = None;
            }
        });
        assert_rejected(&s, &mut public, &no_path, Rule::ExternalPath);
        let changed = tampered(&external, |m| {
            if let wire::FramedContentBody::Commit(c) = &mut m.content.body {
                let mut list = c.proposals.0.clone();
                list.push(wire::ProposalOrRef::Proposal(remove_proposal(
                    LeafIndex::new(6).unwrap(),
                )));
                c.proposals = list.into();
            }
        });
        assert_rejected(&s, &mut public, &changed, Rule::FramingSignature);
        broadcast(&env, &mut public, &mut groups, &external);
        groups.push(dave);
        assert_all_same(&s, &public, &groups);
        // Still in step with the members afterwards.
        s.commit(
            &mut public,
            &mut groups,
            1,
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        );
        assert_all_same(&s, &public, &groups);
    }
}

#[test]
fn a_private_handshake_cannot_be_followed_and_application_messages_pass_unread() {
    let s = Suite::new(X25519, 7);
    let env = s.env();
    let (mut public, mut groups) = three(&s);
    let before = public.to_bytes().unwrap();
    groups[1].test_config_mut().handshake = HandshakeFormat::Private;
    let proposal = groups[1]
        .propose(&env, remove_proposal(LeafIndex::new(2).unwrap()))
        .unwrap();
    assert!(matches!(
        public.process_message(&env, &proposal),
        Err(PublicGroupError::PrivateHandshake {
            epoch: 1,
            content_type: wire::ContentType::Proposal
        })
    ));
    let commit = groups[1].commit(&env, CommitOptions::default()).unwrap();
    let err = public.process_message(&env, &commit.commit).unwrap_err();
    assert!(
        matches!(
            err,
            PublicGroupError::PrivateHandshake {
                content_type: wire::ContentType::Commit,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.rule(), None);
    let hello = groups[0].encrypt_application(&env, b"hello", b"").unwrap();
    assert_eq!(
        public.process_message(&env, &hello).unwrap(),
        PublicProcessed::Application { epoch: 1 }
    );
    assert_eq!(public.to_bytes().unwrap(), before);
}

#[test]
fn a_group_info_is_checked_like_a_joiners() {
    let s = Suite::new(P256, 8);
    let env = s.env();
    let (public, mut groups) = three(&s);
    let config = GroupConfig::default();
    // A flipped signature bit (WE-03).
    let mut info = group_info(&groups[0].group_info(&env, true).unwrap());
    if let Some(b) = info.signature.0.last_mut() {
        *b ^= 1;
    }
    let bytes = MlsMessage::GroupInfo(Box::new(info)).to_bytes().unwrap();
    assert_rule(
        PublicGroup::from_group_info(&env, &config, &bytes, None),
        Rule::GroupInfoSignature,
    );
    // Without a tree, none given; then with the tree of another epoch (TR-06).
    let old_tree = public.export_tree().unwrap();
    groups[0]
        .commit(
            &env,
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = groups[0].merge_pending_commit().unwrap();
    let bare = groups[0].group_info(&env, false).unwrap();
    assert!(matches!(
        PublicGroup::from_group_info(&env, &config, &bare, None),
        Err(PublicGroupError::Group(GroupError::MissingRatchetTree))
    ));
    assert_rule(
        PublicGroup::from_group_info(&env, &config, &bare, Some(old_tree)),
        Rule::TreeHash,
    );
    let tree = groups[0].tree().to_wire().unwrap();
    let ok = PublicGroup::from_group_info(&env, &config, &bare, Some(tree)).unwrap();
    assert_same(&s, &ok, &groups[0]);
    // Not a GroupInfo at all; a GroupInfo of another epoch for check_group_info.
    let kp = s
        .key_package("zed")
        .0
        .key_package
        .to_message_bytes()
        .unwrap();
    assert!(matches!(
        PublicGroup::from_group_info(&env, &config, &kp, None),
        Err(PublicGroupError::NotAGroupInfo)
    ));
    assert_rule(public.check_group_info(&env, &bare), Rule::FramingEpoch);
    // The limits apply to the received tree.
    let small = GroupConfig {
        limits: crate::codec::Limits {
            max_tree_leaves: 2,
            ..crate::codec::Limits::DEFAULT
        },
        ..GroupConfig::default()
    };
    let full = groups[0].group_info(&env, true).unwrap();
    assert!(PublicGroup::from_group_info(&env, &small, &full, None).is_err());
}

#[test]
fn saved_state_round_trips_and_bad_records_are_refused() {
    let s = Suite::new(X25519, 9);
    let (public, _groups) = three(&s);
    let bytes = public.to_bytes().unwrap();
    assert_eq!(bytes[0], super::PUBLIC_STATE_FORMAT_VERSION);
    let loaded = PublicGroup::from_bytes(&s.world.provider, &bytes).unwrap();
    assert_eq!(loaded.to_bytes().unwrap(), bytes);
    let mut other_version = bytes.clone();
    other_version[0] = 9;
    assert!(matches!(
        PublicGroup::from_bytes(&s.world.provider, &other_version),
        Err(PublicGroupError::Group(GroupError::StateVersion {
            found: 9,
            ..
        }))
    ));
    let mut trailing = bytes.clone();
    trailing.push(0);
    assert!(PublicGroup::from_bytes(&s.world.provider, &trailing).is_err());
    assert!(PublicGroup::from_bytes(&s.world.provider, &bytes[..bytes.len() - 1]).is_err());
    assert!(PublicGroup::from_bytes(&s.world.provider, &[]).is_err());
}

#[test]
fn external_senders_new_members_and_new_extensions_are_followed() {
    use crate::framing::{protect_public, sign_content};
    use crate::group::IncludeAll;
    use crate::wire::{
        Add, ExtensionView, Extensions, ExternalSender, ExternalSenders, FramedContent,
        FramedContentBody, WireFormat,
    };
    for (suite, seed) in [(X25519, 10), (P256, 11)] {
        let s = Suite::new(suite, seed);
        let env = s.env();
        let ops = s.world.provider.suite(suite).unwrap();
        // The Delivery Service is the group's external sender.
        let ds = s.signer();
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
        let alice = Group::create(
            &env,
            CreateParams::new(
                suite,
                b"ext".to_vec(),
                &s.leaf("alice"),
                Arc::new(s.signer()),
            )
            .extensions(extensions),
        )
        .unwrap();
        let mut groups = vec![alice];
        let mut public = s.public_of(&groups[0]);
        s.add(&mut public, &mut groups, 0, &["bob", "carol"]);
        let outsider = |context: &wire::GroupContext,
                        sender: Sender,
                        proposal: Proposal,
                        signer: &SignatureKeyPair| {
            let content = FramedContent {
                group_id: context.group_id.clone(),
                epoch: context.epoch,
                sender,
                authenticated_data: VarBytes(Vec::new()),
                body: FramedContentBody::Proposal(proposal),
            };
            let signed =
                sign_content(ops, WireFormat::PublicMessage, content, signer, None).unwrap();
            MlsMessage::PublicMessage(Box::new(
                protect_public(ops, signed, context, None).unwrap(),
            ))
            .to_bytes()
            .unwrap()
        };
        // The external sender proposes to remove Carol; a stranger claiming to be it is
        // refused (FR-03).
        let remove = outsider(
            public.context(),
            Sender::External(0),
            remove_proposal(LeafIndex::new(2).unwrap()),
            &ds,
        );
        let forged = outsider(
            public.context(),
            Sender::External(0),
            remove_proposal(LeafIndex::new(1).unwrap()),
            &s.signer(),
        );
        // Dave proposes to add himself, signed with his KeyPackage's key.
        let (dave_kp, dave_signer) = s.key_package("dave");
        let add = outsider(
            public.context(),
            Sender::NewMemberProposal,
            Proposal::Add(Box::new(Add {
                key_package: dave_kp.key_package.clone(),
            })),
            &dave_signer,
        );
        // An Add by a new member signed with another key does not verify (FR-03).
        let (erin_kp, _) = s.key_package("erin");
        let forged_add = outsider(
            public.context(),
            Sender::NewMemberProposal,
            Proposal::Add(Box::new(Add {
                key_package: erin_kp.key_package.clone(),
            })),
            &dave_signer,
        );
        // An external sender index that is not listed (FR-07).
        let unlisted = outsider(
            public.context(),
            Sender::External(3),
            remove_proposal(LeafIndex::new(1).unwrap()),
            &ds,
        );
        assert_rejected(&s, &mut public, &forged, Rule::FramingSignature);
        assert_rejected(&s, &mut public, &forged_add, Rule::FramingSignature);
        assert_rejected(&s, &mut public, &unlisted, Rule::FramingSender);
        for message in [&remove, &add] {
            let got = broadcast(&env, &mut public, &mut groups, message);
            assert!(matches!(got, PublicProcessed::Proposal { .. }), "{got:?}");
        }
        // Alice commits them (her policy includes outsiders' proposals) with new GroupContext
        // extensions: the external senders list is dropped.
        let new_extensions = Extensions::new(Vec::new()).unwrap();
        let out = groups[0]
            .commit(
                &env.with_policy(&IncludeAll),
                CommitOptions {
                    extensions: Some(new_extensions.clone()),
                    ..CommitOptions::default()
                },
            )
            .unwrap();
        let PublicProcessed::Commit(summary) =
            broadcast(&env, &mut public, &mut groups, &out.commit)
        else {
            panic!("not a commit");
        };
        assert!(summary.extensions_changed);
        assert_eq!(summary.removed, vec![LeafIndex::new(2).unwrap()]);
        assert_eq!(summary.added, vec![LeafIndex::new(2).unwrap()]);
        assert_eq!(public.extensions(), &new_extensions);
        assert_all_same(&s, &public, &groups);
        // Without the extension, the former external sender is no sender (FR-07).
        let late = outsider(
            public.context(),
            Sender::External(0),
            remove_proposal(LeafIndex::new(1).unwrap()),
            &ds,
        );
        assert_rejected(&s, &mut public, &late, Rule::FramingSender);
    }
}
