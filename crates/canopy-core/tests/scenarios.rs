//! Many-member scenarios through the public API: a seeded random driver of adds, updates,
//! removes, external joins and resyncs, PSK commits, proposals by reference, application
//! messages and branches, ending with a ReInit; after every step every member must share the
//! epoch authenticator and read every other member's messages, and removed members must not.
//! Then one test per class of bad input, each a typed error that leaves the group unchanged.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use canopy_core::group::CreateParams;
use canopy_core::group::JoinParams;
use std::sync::Arc;

use canopy_core::advanced::codec::VarBytes;
use canopy_core::advanced::framing::{FramingError, protect_public, sign_content};
use canopy_core::group::{
    CommitOptions, CommitOutput, Env, Group, GroupConfig, GroupError, HandshakeFormat, Merged,
    ProcessedMessage,
};
use canopy_core::join::JoinError;
use canopy_core::key_package::{
    BasicCredentialValidator, KeyPackageBundle, KeyPackageParams, LeafNodeParams,
    create_key_package,
};
use canopy_core::rules::Rule;
use canopy_core::wire::{
    Credential, Extensions, FramedContentBody, Lifetime, MlsMessage, PreSharedKeyId, Proposal,
    ProposalOrRef, ProtocolVersion, Psk, ReInit, Remove, Welcome,
};
use canopy_crypto::{CipherSuite, CryptoProvider, Secret, SignatureKeyPair};
use canopy_crypto_rustcrypto::RustCryptoProvider;

const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

/// xorshift64*: a small deterministic generator for the driver.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }
}

struct World {
    provider: RustCryptoProvider,
    suite: CipherSuite,
    validator: BasicCredentialValidator,
    next_name: u32,
}

struct Member {
    name: String,
    group: Group,
}

impl World {
    /// A world whose randomness is seeded, so that a failure replays exactly.
    fn new() -> Self {
        Self {
            provider: canopy_crypto_rustcrypto::DeterministicRandom::provider(0x5CE7),
            suite: SUITE,
            validator: BasicCredentialValidator::new(),
            next_name: 0,
        }
    }

    fn env(&self) -> Env<'_> {
        Env::new(&self.provider, &self.validator).at(1_700_000_000)
    }

    fn signer(&self) -> SignatureKeyPair {
        self.provider
            .suite(self.suite)
            .unwrap()
            .signature_generate_key_pair()
            .unwrap()
    }

    fn fresh_name(&mut self) -> String {
        self.next_name += 1;
        format!("member-{}", self.next_name)
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
        let bundle = create_key_package(&self.provider, self.suite, &params, &signer).unwrap();
        (bundle, signer)
    }

    fn config(&self, rng: &mut Rng) -> GroupConfig {
        GroupConfig {
            handshake: if rng.below(2) == 0 {
                HandshakeFormat::Public
            } else {
                HandshakeFormat::Private
            },
            ..GroupConfig::default()
        }
    }
}

fn welcome_of(out: &CommitOutput) -> Welcome {
    let MlsMessage::Welcome(w) = MlsMessage::from_bytes(out.welcome.as_ref().unwrap()).unwrap()
    else {
        panic!("not a Welcome");
    };
    w
}

/// Sends `out.commit` from `committer` to everyone, merges it, and returns the removed.
fn deliver(w: &World, members: &mut Vec<Member>, committer: usize, commit: &[u8]) -> Vec<Member> {
    let mut removed = Vec::new();
    for (i, m) in members.iter_mut().enumerate() {
        let processed = m.group.process_message(&w.env(), commit).unwrap();
        let merged = if i == committer {
            assert!(matches!(processed, ProcessedMessage::OwnCommit));
            m.group.merge_pending_commit().unwrap()
        } else {
            let ProcessedMessage::Commit(staged) = processed else {
                panic!("{} got {processed:?}", m.name);
            };
            m.group.merge_staged_commit(*staged).unwrap()
        };
        if merged == Merged::Removed {
            removed.push(i);
        }
    }
    removed
        .into_iter()
        .rev()
        .map(|i| members.remove(i))
        .collect()
}

/// Every member shares the epoch and reads a message from a random member; every removed
/// member fails to read it.
fn check(w: &World, rng: &mut Rng, members: &mut [Member], removed: &mut [Member]) {
    let first = members[0].group.epoch_authenticator().to_vec();
    for m in members.iter() {
        assert_eq!(
            m.group.epoch_authenticator(),
            first.as_slice(),
            "{}",
            m.name
        );
        assert_eq!(m.group.epoch(), members[0].group.epoch());
    }
    let sender = rng.below(members.len());
    let text = format!("from {}", members[sender].name);
    let message = members[sender]
        .group
        .encrypt_application(&w.env(), text.as_bytes(), b"")
        .unwrap();
    for (i, m) in members.iter_mut().enumerate() {
        if i == sender {
            continue;
        }
        match m.group.process_message(&w.env(), &message).unwrap() {
            ProcessedMessage::Application { data, .. } => assert_eq!(data, text.as_bytes()),
            other => panic!("{} got {other:?}", m.name),
        }
    }
    for r in removed.iter_mut() {
        assert!(
            r.group.process_message(&w.env(), &message).is_err(),
            "removed {} read a message",
            r.name
        );
    }
}

fn psk_id(n: u64, nonce_len: usize) -> PreSharedKeyId {
    PreSharedKeyId {
        psk: Psk::External {
            psk_id: VarBytes(format!("psk-{n}").into_bytes()),
        },
        psk_nonce: VarBytes(vec![u8::try_from(n % 251).unwrap(); nonce_len]),
    }
}

#[test]
fn a_seeded_random_group_life_stays_in_sync() {
    let mut ran = std::collections::BTreeSet::new();
    for seed in [1u64, 7, 42] {
        run_random_life(seed, 40, &mut ran);
    }
    let all = [
        "add", "update", "remove", "proposal", "external", "resync", "psk", "branch", "messages",
    ];
    for op in all {
        assert!(ran.contains(op), "the driver never ran {op}: {ran:?}");
    }
}

/// The same life on post-quantum suites, under OpenMLS's code points: X-Wing with Ed25519
/// (0x004F), ML-KEM-1024 with P-384 (0x0042), whose node keys are about 1.2 and 1.6 KB, and
/// X-Wing with ML-DSA-44 signatures of 2.4 KB (0x0052).
#[test]
fn a_seeded_random_group_life_stays_in_sync_on_post_quantum_suites() {
    let mut ran = std::collections::BTreeSet::new();
    for (seed, suite) in [(3u64, 0x004F), (5, 0x0042), (11, 0x0052)] {
        let mut w = World::new();
        w.provider = canopy_crypto_rustcrypto::DeterministicRandom::provider_with(
            0x5CE7,
            canopy_crypto::SuiteProfile::OPENMLS,
        )
        .with_profile(canopy_crypto::SuiteProfile::OPENMLS_ML_DSA)
        .unwrap();
        w.suite = CipherSuite(suite);
        run_random_life_in(w, seed, 25, &mut ran);
    }
    for op in ["add", "update", "remove", "external", "messages"] {
        assert!(ran.contains(op), "the driver never ran {op}: {ran:?}");
    }
}

/// The QSF hybrids of draft-ietf-hpke-pq (ML-KEM-768 + P-256, ML-KEM-1024 + P-384) with the
/// PQ cipher-suite draft's AEAD, hash and signatures, under private code points: no peer
/// numbers them yet, so an application runs them through a profile of its own.
#[test]
fn a_seeded_random_group_life_stays_in_sync_on_the_qsf_hybrid_suites() {
    use canopy_crypto::{
        AeadAlgorithm, HashAlgorithm, KemAlgorithm, PqKeyDerivation, SignatureScheme, SuiteParams,
        SuiteProfile,
    };
    const SUITES: &[SuiteParams] = &[
        SuiteParams::new(
            CipherSuite(0xF050),
            KemAlgorithm::MlKem768P256,
            HashAlgorithm::Sha384,
            AeadAlgorithm::Aes256Gcm,
            SignatureScheme::ECDSA_SECP256R1_SHA256,
        )
        .with_pq_derivation(PqKeyDerivation::LabeledShake256),
        SuiteParams::new(
            CipherSuite(0xF051),
            KemAlgorithm::MlKem1024P384,
            HashAlgorithm::Sha384,
            AeadAlgorithm::Aes256Gcm,
            SignatureScheme::ECDSA_SECP384R1_SHA384,
        )
        .with_pq_derivation(PqKeyDerivation::LabeledShake256),
    ];
    let profile = SuiteProfile::custom("qsf", SUITES).unwrap();
    let mut ran = std::collections::BTreeSet::new();
    for (seed, suite) in [(13u64, 0xF050), (17, 0xF051)] {
        let mut w = World::new();
        w.provider = canopy_crypto_rustcrypto::DeterministicRandom::provider_with(0x95F, profile);
        w.suite = CipherSuite(suite);
        run_random_life_in(w, seed, 12, &mut ran);
    }
    for op in ["add", "update", "remove", "messages"] {
        assert!(ran.contains(op), "the driver never ran {op}: {ran:?}");
    }
}

fn run_random_life(seed: u64, steps: usize, ran: &mut std::collections::BTreeSet<&'static str>) {
    run_random_life_in(World::new(), seed, steps, ran);
}

fn run_random_life_in(
    mut w: World,
    seed: u64,
    steps: usize,
    ran: &mut std::collections::BTreeSet<&'static str>,
) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let name = w.fresh_name();
    let config = w.config(&mut rng);
    let first = Group::create(
        &w.env(),
        CreateParams::new(
            w.suite,
            format!("group-{seed}").into_bytes(),
            &w.leaf(&name),
            Arc::new(w.signer()),
        )
        .config(config),
    )
    .unwrap();
    let mut members = vec![Member { name, group: first }];
    let mut removed: Vec<Member> = Vec::new();
    let mut psk_count = 0u64;

    for _ in 0..steps {
        let committer = rng.below(members.len());
        match rng.below(9) {
            // Add one to three members.
            0 | 1 => {
                ran.insert("add");
                let new: Vec<_> = (0..1 + rng.below(3))
                    .map(|_| {
                        let name = w.fresh_name();
                        let kp = w.key_package(&name);
                        (name, kp)
                    })
                    .collect();
                let out = members[committer]
                    .group
                    .commit(
                        &w.env(),
                        CommitOptions {
                            add: new
                                .iter()
                                .map(|(_, (b, _))| b.key_package.clone())
                                .collect(),
                            ..CommitOptions::default()
                        },
                    )
                    .unwrap();
                removed.extend(deliver(&w, &mut members, committer, &out.commit));
                let welcome = welcome_of(&out);
                for (name, (bundle, signer)) in new {
                    let config = w.config(&mut rng);
                    let group = Group::join(
                        &w.env(),
                        JoinParams::new(&welcome, &bundle, Arc::new(signer)).config(config),
                    )
                    .unwrap();
                    members.push(Member { name, group });
                }
            }
            // Update (a commit with a path).
            2 => {
                ran.insert("update");
                let out = members[committer]
                    .group
                    .commit(
                        &w.env(),
                        CommitOptions {
                            force_path: true,
                            ..CommitOptions::default()
                        },
                    )
                    .unwrap();
                removed.extend(deliver(&w, &mut members, committer, &out.commit));
            }
            // Remove someone else.
            3 if members.len() > 2 => {
                ran.insert("remove");
                let mut victim = rng.below(members.len());
                if victim == committer {
                    victim = (victim + 1) % members.len();
                }
                let leaf = members[victim].group.own_leaf();
                let out = members[committer]
                    .group
                    .commit(
                        &w.env(),
                        CommitOptions {
                            remove: vec![leaf],
                            ..CommitOptions::default()
                        },
                    )
                    .unwrap();
                let gone = deliver(&w, &mut members, committer, &out.commit);
                assert_eq!(gone.len(), 1);
                removed.extend(gone);
            }
            // A proposal by reference, committed by another member.
            4 if members.len() > 2 => {
                ran.insert("proposal");
                let proposer = (committer + 1) % members.len();
                let mut victim = rng.below(members.len());
                while victim == committer || victim == proposer {
                    victim = (victim + 1) % members.len();
                }
                let leaf = members[victim].group.own_leaf();
                let proposal = members[proposer]
                    .group
                    .propose(
                        &w.env(),
                        Proposal::Remove(Remove {
                            removed: leaf.value(),
                        }),
                    )
                    .unwrap();
                for (i, m) in members.iter_mut().enumerate() {
                    if i != proposer {
                        assert!(matches!(
                            m.group.process_message(&w.env(), &proposal).unwrap(),
                            ProcessedMessage::Proposal { .. }
                        ));
                    }
                }
                let out = members[committer]
                    .group
                    .commit(&w.env(), CommitOptions::default())
                    .unwrap();
                removed.extend(deliver(&w, &mut members, committer, &out.commit));
            }
            // An external join, or a resync of an existing member.
            5 => {
                let info = members[committer].group.group_info(&w.env(), true).unwrap();
                let MlsMessage::GroupInfo(info) = MlsMessage::from_bytes(&info).unwrap() else {
                    panic!("not a GroupInfo");
                };
                let resync = (members.len() > 2 && rng.below(2) == 0).then(|| {
                    let mut who = rng.below(members.len());
                    if who == committer {
                        who = (who + 1) % members.len();
                    }
                    who
                });
                ran.insert(if resync.is_some() {
                    "resync"
                } else {
                    "external"
                });
                let name = match resync {
                    Some(i) => members[i].name.clone(),
                    None => w.fresh_name(),
                };
                let config = w.config(&mut rng);
                let (group, commit) = Group::join_external(
                    &w.env(),
                    config,
                    &info,
                    None,
                    &w.leaf(&name),
                    Arc::new(w.signer()),
                    resync.map(|i| members[i].group.own_leaf()),
                    &[],
                )
                .unwrap();
                // The old state of a resyncing member is dropped (it lost it).
                if let Some(i) = resync {
                    members.remove(i);
                }
                for m in members.iter_mut() {
                    let ProcessedMessage::Commit(staged) =
                        m.group.process_message(&w.env(), &commit).unwrap()
                    else {
                        panic!("not a commit");
                    };
                    assert_eq!(
                        m.group.merge_staged_commit(*staged).unwrap(),
                        Merged::Member {
                            epoch: group.epoch()
                        }
                    );
                }
                members.push(Member { name, group });
            }
            // A commit injecting an external PSK every member holds.
            6 => {
                ran.insert("psk");
                psk_count += 1;
                let id = psk_id(
                    psk_count,
                    w.provider.suite(w.suite).unwrap().params().hash_len(),
                );
                let value = Secret::from_slice(&[u8::try_from(psk_count % 256).unwrap(); 32]);
                let Psk::External { psk_id } = &id.psk else {
                    unreachable!()
                };
                for m in members.iter_mut() {
                    m.group.add_external_psk(psk_id.0.clone(), value.clone());
                }
                let out = members[committer]
                    .group
                    .commit(
                        &w.env(),
                        CommitOptions {
                            psks: vec![id],
                            ..CommitOptions::default()
                        },
                    )
                    .unwrap();
                removed.extend(deliver(&w, &mut members, committer, &out.commit));
            }
            // A branch with one other member, checked and then left aside.
            7 if members.len() > 1 => {
                ran.insert("branch");
                let other = (committer + 1) % members.len();
                let (kp, signer) = w.key_package(&members[other].name);
                let (mut sub, out) = Group::branch(
                    &w.env(),
                    &members[committer].group,
                    GroupConfig::default(),
                    b"branch".to_vec(),
                    Extensions::default(),
                    &w.leaf(&members[committer].name),
                    Arc::new(w.signer()),
                    vec![kp.key_package.clone()],
                )
                .unwrap();
                let _ = sub.merge_pending_commit().unwrap();
                let joined = Group::join_successor(
                    &w.env(),
                    &members[other].group,
                    GroupConfig::default(),
                    &welcome_of(&out),
                    &kp,
                    Arc::new(signer),
                    None,
                )
                .unwrap();
                assert_eq!(sub.epoch_authenticator(), joined.epoch_authenticator());
            }
            // Several messages from everyone, delivered in reverse order.
            _ => {
                ran.insert("messages");
                let sender = rng.below(members.len());
                let messages: Vec<Vec<u8>> = (0..3)
                    .map(|k| {
                        members[sender]
                            .group
                            .encrypt_application(&w.env(), format!("m{k}").as_bytes(), b"")
                            .unwrap()
                    })
                    .collect();
                for (i, m) in members.iter_mut().enumerate() {
                    if i == sender {
                        continue;
                    }
                    for message in messages.iter().rev() {
                        assert!(matches!(
                            m.group.process_message(&w.env(), message).unwrap(),
                            ProcessedMessage::Application { .. }
                        ));
                    }
                }
            }
        }
        check(&w, &mut rng, &mut members, &mut removed);
    }

    // The life ends with a ReInit that every member follows.
    let committer = rng.below(members.len());
    let reinit = ReInit {
        group_id: VarBytes(format!("group-{seed}-v2").into_bytes()),
        version: ProtocolVersion::MLS10,
        cipher_suite: w.suite,
        extensions: Extensions::default(),
    };
    let out = members[committer]
        .group
        .commit(
            &w.env(),
            CommitOptions {
                reinit: Some(reinit),
                ..CommitOptions::default()
            },
        )
        .unwrap();
    deliver(&w, &mut members, committer, &out.commit);
    let kps: Vec<_> = members
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != committer)
        .map(|(i, m)| (i, w.key_package(&m.name)))
        .collect();
    let (mut next, out) = Group::reinit_successor(
        &w.env(),
        &members[committer].group,
        GroupConfig::default(),
        &w.leaf(&members[committer].name),
        Arc::new(w.signer()),
        kps.iter()
            .map(|(_, (b, _))| b.key_package.clone())
            .collect(),
    )
    .unwrap();
    let _ = next.merge_pending_commit().unwrap();
    let welcome = welcome_of(&out);
    for (i, (bundle, signer)) in kps {
        let joined = Group::join_successor(
            &w.env(),
            &members[i].group,
            GroupConfig::default(),
            &welcome,
            &bundle,
            Arc::new(signer),
            None,
        )
        .unwrap();
        assert_eq!(joined.epoch_authenticator(), next.epoch_authenticator());
    }
}

/// Three members, handshake as PublicMessage.
fn trio(w: &World) -> (Group, Group, Group) {
    let mut alice = Group::create(
        &w.env(),
        CreateParams::new(
            w.suite,
            b"trio".to_vec(),
            &w.leaf("alice"),
            Arc::new(w.signer()),
        ),
    )
    .unwrap();
    let (b, bs) = w.key_package("bob");
    let (c, cs) = w.key_package("carol");
    let out = alice
        .commit(
            &w.env(),
            CommitOptions {
                add: vec![b.key_package.clone(), c.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let welcome = welcome_of(&out);
    let join = |bundle: &KeyPackageBundle, signer: SignatureKeyPair| {
        Group::join(
            &w.env(),
            JoinParams::new(&welcome, bundle, Arc::new(signer)),
        )
        .unwrap()
    };
    let bob = join(&b, bs);
    let carol = join(&c, cs);
    (alice, bob, carol)
}

/// An external commit from Dave, returned with Dave's signer so tests can re-sign variants.
fn external_commit(w: &World, group: &Group) -> (Vec<u8>, SignatureKeyPair) {
    let info = group.group_info(&w.env(), true).unwrap();
    let MlsMessage::GroupInfo(info) = MlsMessage::from_bytes(&info).unwrap() else {
        panic!("not a GroupInfo");
    };
    let signer = w.signer();
    let (_, commit) = Group::join_external(
        &w.env(),
        GroupConfig::default(),
        &info,
        None,
        &w.leaf("dave"),
        Arc::new(signer.clone()),
        None,
        &[],
    )
    .unwrap();
    (commit, signer)
}

/// Asserts that processing `bytes` fails with `check` and leaves `group` as it was.
fn rejected(w: &World, group: &mut Group, bytes: &[u8], check: impl Fn(&GroupError) -> bool) {
    let epoch = group.epoch();
    let auth = group.epoch_authenticator().to_vec();
    let err = group.process_message(&w.env(), bytes).unwrap_err();
    assert!(check(&err), "unexpected error {err:?}");
    assert_eq!(group.epoch(), epoch);
    assert_eq!(group.epoch_authenticator(), auth.as_slice());
}

#[test]
fn a_bad_signature_is_a_typed_error_and_changes_nothing() {
    let w = World::new();
    let (mut alice, _bob, _carol) = trio(&w);
    let (commit, _) = external_commit(&w, &alice);
    let MlsMessage::PublicMessage(mut m) = MlsMessage::from_bytes(&commit).unwrap() else {
        panic!("not public");
    };
    m.auth.signature.0[5] ^= 1;
    let bad = MlsMessage::PublicMessage(m).to_bytes().unwrap();
    rejected(&w, &mut alice, &bad, |e| {
        *e == GroupError::Framing(FramingError::BadSignature)
    });
    // The genuine commit still applies afterwards.
    assert!(matches!(
        alice.process_message(&w.env(), &commit).unwrap(),
        ProcessedMessage::Commit(_)
    ));
}

#[test]
fn a_bad_confirmation_tag_is_a_typed_error_and_changes_nothing() {
    let w = World::new();
    let (mut alice, _bob, _carol) = trio(&w);
    let (commit, _) = external_commit(&w, &alice);
    let MlsMessage::PublicMessage(mut m) = MlsMessage::from_bytes(&commit).unwrap() else {
        panic!("not public");
    };
    m.auth.confirmation_tag.as_mut().unwrap().0[0] ^= 1;
    let bad = MlsMessage::PublicMessage(m).to_bytes().unwrap();
    rejected(&w, &mut alice, &bad, |e| {
        e.rule() == Some(Rule::CommitConfirmationTag)
    });
}

#[test]
fn a_wrong_epoch_is_a_typed_error_and_changes_nothing() {
    let w = World::new();
    let (mut alice, mut bob, _carol) = trio(&w);
    let first = alice
        .commit(
            &w.env(),
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let ProcessedMessage::Commit(staged) = bob.process_message(&w.env(), &first.commit).unwrap()
    else {
        panic!("not a commit");
    };
    let _ = bob.merge_staged_commit(*staged).unwrap();
    // The same commit again is for a past epoch: authenticated with that epoch's keys and
    // reported, changing nothing.
    let before = bob.to_bytes().unwrap();
    assert!(matches!(
        bob.process_message(&w.env(), &first.commit).unwrap(),
        ProcessedMessage::PastHandshake { epoch: 1, .. }
    ));
    assert_eq!(bob.to_bytes().unwrap().as_bytes(), before.as_bytes());
    // A commit from the future.
    let ahead = alice
        .commit(
            &w.env(),
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let _ = alice.merge_pending_commit().unwrap();
    let further = alice.commit(&w.env(), CommitOptions::default()).unwrap();
    rejected(&w, &mut bob, &further.commit, |e| {
        matches!(e, GroupError::UnknownEpoch { .. })
    });
    drop(ahead);
}

#[test]
fn an_invalid_proposal_list_is_a_typed_error_and_changes_nothing() {
    let w = World::new();
    let (mut alice, _bob, _carol) = trio(&w);
    let (commit, dave) = external_commit(&w, &alice);
    let MlsMessage::PublicMessage(m) = MlsMessage::from_bytes(&commit).unwrap() else {
        panic!("not public");
    };
    // Add a second ExternalInit, re-sign as Dave: the list breaks RFC 9420 §12.2.
    let mut content = m.content.clone();
    let FramedContentBody::Commit(c) = &mut content.body else {
        panic!("not a commit");
    };
    let first = c.proposals.as_slice()[0].clone();
    let mut list = c.proposals.as_slice().to_vec();
    list.push(first);
    c.proposals = list.into();
    let ops = w.provider.suite(w.suite).unwrap();
    let mut signed = sign_content(
        ops,
        canopy_core::wire::WireFormat::PublicMessage,
        content,
        &dave,
        Some(alice.context()),
    )
    .unwrap();
    signed.auth.confirmation_tag = m.auth.confirmation_tag.clone();
    let bad = MlsMessage::PublicMessage(Box::new(
        protect_public(ops, signed, alice.context(), None).unwrap(),
    ))
    .to_bytes()
    .unwrap();
    rejected(&w, &mut alice, &bad, |e| {
        e.rule() == Some(Rule::ExternalProposals)
    });
    assert!(matches!(
        &m.content.body,
        FramedContentBody::Commit(c) if matches!(c.proposals.as_slice()[0], ProposalOrRef::Proposal(_))
    ));
}

#[test]
fn a_tampered_welcome_is_a_typed_error() {
    let w = World::new();
    let mut alice = Group::create(
        &w.env(),
        CreateParams::new(
            w.suite,
            b"w".to_vec(),
            &w.leaf("alice"),
            Arc::new(w.signer()),
        ),
    )
    .unwrap();
    let (b, bs) = w.key_package("bob");
    let out = alice
        .commit(
            &w.env(),
            CommitOptions {
                add: vec![b.key_package.clone()],
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let mut welcome = welcome_of(&out);
    let last = welcome.encrypted_group_info.0.len() - 1;
    welcome.encrypted_group_info.0[last] ^= 1;
    let err = Group::join(&w.env(), JoinParams::new(&welcome, &b, Arc::new(bs))).unwrap_err();
    assert_eq!(err, GroupError::Join(JoinError::GroupSecretsUndecryptable));
}
