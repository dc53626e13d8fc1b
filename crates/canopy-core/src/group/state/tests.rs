use std::sync::Arc;

use canopy_crypto::{CryptoProvider, SignatureKeyPair, Signer};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use proptest::prelude::*;

use super::super::{CommitOptions, Env, Merged, ProcessedMessage};
use super::*;
use crate::codec;
use crate::group::records::RecordKey;
use crate::group::test_world::{SUITE, World, own_commit, remove_proposal, update_options};
use crate::key_package::BasicCredentialValidator;
use crate::schedule::ScheduleError;
use crate::wire::{Extensions, FramedContentBody, MlsMessage, ProtocolVersion, Sender};

/// Delivers another member's commit and merges it.
fn deliver(w: &World, group: &mut Group, commit: &[u8]) -> Merged {
    match group.process_message(&w.env(), commit).unwrap() {
        ProcessedMessage::Commit(staged) => group.merge_staged_commit(*staged).unwrap(),
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// Saves and loads `group`, checks that saving the copy gives the same bytes and that the
/// copy looks the same from outside, and returns it.
fn reload(w: &World, group: &Group) -> Group {
    let bytes = group.to_bytes().unwrap();
    assert_eq!(bytes.as_bytes()[0], STATE_FORMAT_VERSION);
    let copy =
        Group::from_bytes(&w.provider, bytes.as_bytes(), Some(group.signer().clone())).unwrap();
    assert_eq!(copy.to_bytes().unwrap().as_bytes(), bytes.as_bytes());
    assert_same(w, group, &copy);
    let records = group.records().unwrap();
    let from_records = Group::from_records(
        &w.provider,
        records.iter().map(|(k, v)| (*k, v.as_bytes())),
        group.signer().clone(),
    )
    .unwrap();
    assert_eq!(
        from_records.to_bytes().unwrap().as_bytes(),
        bytes.as_bytes()
    );
    copy
}

fn assert_same(w: &World, a: &Group, b: &Group) {
    assert_eq!(a.context(), b.context());
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
    assert_eq!(a.tree().tree_hash(), b.tree().tree_hash());
    assert_eq!(a.tree().nodes(), b.tree().nodes());
    assert_eq!(a.own_leaf(), b.own_leaf());
    assert_eq!(a.member_count(), b.member_count());
    assert_eq!(a.config(), b.config());
    assert_eq!(a.has_pending_commit(), b.has_pending_commit());
    assert!(a.pending_proposals().eq(b.pending_proposals()));
    assert_eq!(a.resumption_psk(), b.resumption_psk());
    assert_eq!(
        a.export_secret(&w.env(), b"label", b"ctx", 32).unwrap(),
        b.export_secret(&w.env(), b"label", b"ctx", 32).unwrap()
    );
}

fn application(message: ProcessedMessage) -> (u64, Vec<u8>) {
    match message {
        ProcessedMessage::Application { epoch, data, .. } => (epoch, data),
        other => panic!("expected application data, got {other:?}"),
    }
}

fn is_replay(err: &GroupError) -> bool {
    matches!(
        err,
        GroupError::Framing(crate::framing::FramingError::Schedule(
            ScheduleError::GenerationConsumed { .. }
        ))
    )
}

#[test]
fn a_new_group_round_trips_and_grows_after_loading() {
    let w = World::new();
    let alice = w.create("alice", GroupConfig::default());
    let mut alice = reload(&w, &alice);
    let (commit, welcome, kps) = w.commit_add(&mut alice, &["bob"]);
    own_commit(&w, &mut alice, &commit);
    let bob = w.join(&welcome, kps, GroupConfig::default()).pop().unwrap();
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
}

#[test]
fn every_member_round_trips_and_reads_what_the_original_reads() {
    let w = World::new();
    let config = GroupConfig {
        handshake: HandshakeFormat::Private,
        padding: Padding::None,
        past_epochs: 5,
        ratchet_tree_in_welcome: true,
        external_pub: false,
        ..GroupConfig::default()
    };
    let (mut alice, mut bob, mut carol) = w.three_members(config);
    let m = alice.encrypt_application(&w.env(), b"hello", b"").unwrap();
    for g in [&mut bob, &mut carol] {
        let mut copy = reload(&w, g);
        let original = application(g.process_message(&w.env(), &m).unwrap());
        let restored = application(copy.process_message(&w.env(), &m).unwrap());
        assert_eq!(original, restored);
        assert_eq!(restored.1, b"hello");
        assert_eq!(copy.to_bytes().unwrap(), g.to_bytes().unwrap());
    }
    // The sender's ratchet moved on in the copy too: its next message is readable once.
    let mut alice2 = reload(&w, &alice);
    let m2 = alice2.encrypt_application(&w.env(), b"again", b"").unwrap();
    assert_eq!(
        application(bob.process_message(&w.env(), &m2).unwrap()).1,
        b"again"
    );
    assert!(is_replay(&bob.process_message(&w.env(), &m).unwrap_err()));
}

#[test]
fn cached_proposals_survive_and_are_committed_after_loading() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = w.three_members(GroupConfig::default());
    let proposal = bob
        .propose(&w.env(), remove_proposal(carol.own_leaf()))
        .unwrap();
    for g in [&mut alice, &mut carol] {
        assert!(matches!(
            g.process_message(&w.env(), &proposal).unwrap(),
            ProcessedMessage::Proposal { .. }
        ));
    }
    let mut carol = reload(&w, &carol);
    let mut bob = reload(&w, &bob);
    let mut alice = reload(&w, &alice);
    assert_eq!(alice.pending_proposals().count(), 1);
    let out = alice.commit(&w.env(), CommitOptions::default()).unwrap();
    assert_eq!(
        deliver(&w, &mut bob, &out.commit),
        Merged::Member { epoch: 2 }
    );
    assert_eq!(deliver(&w, &mut carol, &out.commit), Merged::Removed);
    own_commit(&w, &mut alice, &out.commit);
    assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
    assert_eq!(alice.member_count(), 2);
    // A removed member's group still saves and loads.
    let _ = reload(&w, &carol);
}

#[test]
fn a_pending_commit_is_restored_and_merges_to_the_same_epoch() {
    let w = World::new();
    let (mut alice, mut bob, _carol) = w.three_members(GroupConfig::default());
    // A commit with a path and an add: a pending path, a staged tree that grows, a Welcome.
    let kp = w.key_package("dave");
    let out = alice
        .commit(
            &w.env(),
            CommitOptions {
                add: vec![kp.0.key_package.clone()],
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    let mut restored = reload(&w, &alice);
    drop(alice);
    own_commit(&w, &mut restored, &out.commit);
    assert_eq!(
        deliver(&w, &mut bob, &out.commit),
        Merged::Member { epoch: 2 }
    );
    assert_eq!(restored.epoch_authenticator(), bob.epoch_authenticator());
    let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
    else {
        panic!("not a welcome");
    };
    let dave = w
        .join(&welcome, vec![kp], GroupConfig::default())
        .pop()
        .unwrap();
    assert_eq!(restored.epoch_authenticator(), dave.epoch_authenticator());
    // The merged path keys work: Bob commits with a path that only they decrypt.
    let out = bob.commit(&w.env(), update_options()).unwrap();
    let _ = deliver(&w, &mut restored, &out.commit);
    own_commit(&w, &mut bob, &out.commit);
    assert_eq!(restored.epoch_authenticator(), bob.epoch_authenticator());

    // A restored pending commit can also be discarded in favour of another member's.
    let mine = restored.commit(&w.env(), CommitOptions::default()).unwrap();
    let mut restored = reload(&w, &restored);
    let theirs = bob.commit(&w.env(), CommitOptions::default()).unwrap();
    assert!(restored.discard_pending_commit());
    let _ = deliver(&w, &mut restored, &theirs.commit);
    own_commit(&w, &mut bob, &theirs.commit);
    assert_eq!(restored.epoch_authenticator(), bob.epoch_authenticator());
    // Our discarded commit, arriving after all, is a past epoch's: reported, nothing changed.
    let before = restored.to_bytes().unwrap();
    let own = Sender::Member(restored.own_leaf().value());
    assert!(matches!(
        restored.process_message(&w.env(), &mine.commit).unwrap(),
        ProcessedMessage::PastHandshake {
            sender,
            body: FramedContentBody::Commit(_),
            ..
        } if sender == own
    ));
    assert_eq!(restored.to_bytes().unwrap().as_bytes(), before.as_bytes());
}

#[test]
fn consumed_and_retained_ratchet_keys_stay_so_across_epochs_and_loads() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = w.three_members(GroupConfig::default());
    let old: Vec<Vec<u8>> = (0..3u8)
        .map(|i| alice.encrypt_application(&w.env(), &[i], b"").unwrap())
        .collect();
    // Bob reads generation 2 first: generations 0 and 1 are retained, 2 is consumed.
    assert_eq!(
        application(bob.process_message(&w.env(), &old[2]).unwrap()),
        (1, vec![2])
    );
    // Carol moves the group on; epoch 1 becomes a past epoch.
    let out = carol.commit(&w.env(), update_options()).unwrap();
    let _ = deliver(&w, &mut bob, &out.commit);
    let _ = deliver(&w, &mut alice, &out.commit);
    own_commit(&w, &mut carol, &out.commit);
    let now = alice.encrypt_application(&w.env(), b"now", b"").unwrap();
    assert_eq!(
        application(bob.process_message(&w.env(), &now).unwrap()),
        (2, b"now".to_vec())
    );

    let mut bob = reload(&w, &bob);
    // Replays of consumed generations are rejected, in the current and the past epoch.
    assert!(is_replay(&bob.process_message(&w.env(), &now).unwrap_err()));
    assert!(is_replay(
        &bob.process_message(&w.env(), &old[2]).unwrap_err()
    ));
    // Retained keys of the past epoch still open their messages, once.
    assert_eq!(
        application(bob.process_message(&w.env(), &old[0]).unwrap()),
        (1, vec![0])
    );
    let mut bob = reload(&w, &bob);
    assert!(is_replay(
        &bob.process_message(&w.env(), &old[0]).unwrap_err()
    ));
    assert_eq!(
        application(bob.process_message(&w.env(), &old[1]).unwrap()),
        (1, vec![1])
    );
}

#[test]
fn externally_joined_members_and_external_psks_round_trip() {
    let w = World::new();
    let (mut alice, _bob, _carol) = w.three_members(GroupConfig::default());
    alice.add_external_psk(b"psk-b".to_vec(), Secret::from_slice(&[2; 32]));
    alice.add_external_psk(b"psk-a".to_vec(), Secret::from_slice(&[1; 32]));
    let mut alice = reload(&w, &alice);
    let MlsMessage::GroupInfo(info) =
        MlsMessage::from_bytes(&alice.group_info(&w.env(), true).unwrap()).unwrap()
    else {
        panic!("not a GroupInfo");
    };
    let (dave, commit) = Group::join_external(
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
    let mut dave = reload(&w, &dave);
    let _ = deliver(&w, &mut alice, &commit);
    assert_eq!(alice.epoch_authenticator(), dave.epoch_authenticator());
    let m = dave.encrypt_application(&w.env(), b"hi", b"").unwrap();
    let mut alice = reload(&w, &alice);
    assert_eq!(
        application(alice.process_message(&w.env(), &m).unwrap()).1,
        b"hi"
    );
}

#[test]
fn other_versions_trailing_bytes_and_truncation_are_typed_errors() {
    let w = World::new();
    let (alice, _bob, _carol) = w.three_members(GroupConfig::default());
    let bytes = alice.to_bytes().unwrap().into_bytes();
    let signer = || Some(alice.signer().clone());
    for version in [0u8, STATE_FORMAT_VERSION + 1, 255] {
        let mut other = bytes.clone();
        other[0] = version;
        assert_eq!(
            Group::from_bytes(&w.provider, &other, signer()).unwrap_err(),
            GroupError::StateVersion {
                found: version,
                supported: STATE_FORMAT_VERSION
            }
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        Group::from_bytes(&w.provider, &longer, signer()).unwrap_err(),
        GroupError::Codec(CodecError::TrailingBytes { count: 1 })
    );
    assert_eq!(
        Group::from_bytes(&w.provider, &[], signer()).unwrap_err(),
        GroupError::Codec(CodecError::Truncated)
    );
    for len in [1, 2, bytes.len() / 2, bytes.len() - 1] {
        assert!(matches!(
            Group::from_bytes(&w.provider, &bytes[..len], signer()).unwrap_err(),
            GroupError::Codec(_)
        ));
    }
}

/// A state with something in every field: a cached proposal, past epochs, used ratchets, a
/// PSK and a pending commit with a path.
fn rich_state() -> (Vec<u8>, SignatureKeyPair) {
    let w = World::new();
    let key = w.signer();
    let (mut alice, mut bob, mut carol) = w.three_members_with(GroupConfig::default(), key.clone());
    let out = bob.commit(&w.env(), update_options()).unwrap();
    let _ = deliver(&w, &mut alice, &out.commit);
    let _ = deliver(&w, &mut carol, &out.commit);
    let m = bob.encrypt_application(&w.env(), b"m", b"").unwrap();
    let _ = alice.process_message(&w.env(), &m).unwrap();
    let p = carol
        .propose(&w.env(), remove_proposal(bob.own_leaf()))
        .unwrap();
    let _ = alice.process_message(&w.env(), &p).unwrap();
    alice.add_external_psk(b"psk".to_vec(), Secret::from_slice(&[1; 32]));
    let _ = alice.commit(&w.env(), update_options()).unwrap();
    (alice.to_bytes().unwrap().into_bytes(), key)
}

fn rich_parts() -> &'static (Vec<u8>, SignatureKeyPair) {
    static STATE: std::sync::OnceLock<(Vec<u8>, SignatureKeyPair)> = std::sync::OnceLock::new();
    STATE.get_or_init(rich_state)
}

fn rich() -> &'static [u8] {
    &rich_parts().0
}

fn rich_signer() -> Option<Arc<dyn Signer>> {
    Some(Arc::new(rich_parts().1.clone()))
}

/// Loading a changed state either fails or gives a group that saves again; it never panics.
fn load_changed(bytes: &[u8]) {
    let provider = RustCryptoProvider::new();
    if let Ok(g) = Group::from_bytes(&provider, bytes, rich_signer()) {
        let _ = g.to_bytes();
    }
}

#[test]
fn every_single_byte_change_errors_or_loads() {
    let state = rich();
    assert!(Group::from_bytes(&RustCryptoProvider::new(), state, rich_signer()).is_ok());
    for i in 0..state.len() {
        let mut changed = state.to_vec();
        changed[i] ^= 0xff;
        load_changed(&changed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        load_changed(&bytes);
        let mut versioned = bytes;
        versioned.insert(0, STATE_FORMAT_VERSION);
        load_changed(&versioned);
    }

    #[test]
    fn a_changed_byte_never_panics(index in any::<prop::sample::Index>(), xor in 1u8..=255) {
        let mut changed = rich().to_vec();
        let i = index.index(changed.len());
        changed[i] ^= xor;
        load_changed(&changed);
    }

    #[test]
    fn a_cut_or_extended_state_is_rejected(cut in any::<prop::sample::Index>(), extra in proptest::collection::vec(any::<u8>(), 1..8)) {
        let state = rich();
        let len = cut.index(state.len());
        prop_assert!(Group::from_bytes(&RustCryptoProvider::new(), &state[..len], rich_signer()).is_err());
        let mut longer = state.to_vec();
        longer.extend(extra);
        prop_assert!(Group::from_bytes(&RustCryptoProvider::new(), &longer, rich_signer()).is_err());
    }
}

/// The facts a stored state fixture is checked against: epoch authenticators before and after
/// merging its pending commit.
fn fixture_facts(state: &[u8], signer: Option<Arc<dyn Signer>>) -> (String, String) {
    let provider = RustCryptoProvider::new();
    let validator = BasicCredentialValidator::new();
    let env = Env::new(&provider, &validator);
    let mut g = Group::from_bytes(&provider, state, signer).unwrap();
    let before = hex::encode(g.epoch_authenticator());
    let message = g.pending.as_ref().unwrap().message.clone();
    assert!(matches!(
        g.process_message(&env, &message).unwrap(),
        ProcessedMessage::OwnCommit
    ));
    let _ = g.merge_pending_commit().unwrap();
    (before, hex::encode(g.epoch_authenticator()))
}

/// A fixture: the facts (two lines), the state's hex, and for format 5 (which holds no
/// signature key) the hex of the signer's Ed25519 private key.
fn read_fixture(text: &str) -> (String, String, Vec<u8>, Option<Arc<dyn Signer>>) {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let before = lines.next().unwrap().to_owned();
    let after = lines.next().unwrap().to_owned();
    let state = hex::decode(lines.next().unwrap()).unwrap();
    let signer = lines.next().map(|key| {
        let private = SignaturePrivateKey::new(hex::decode(key).unwrap());
        let provider = RustCryptoProvider::new();
        let public = provider
            .suite(SUITE)
            .unwrap()
            .signature_public_key(&private)
            .unwrap();
        Arc::new(canopy_crypto::SignatureKeyPair { private, public }) as Arc<dyn Signer>
    });
    (before, after, state, signer)
}

/// Storage stability (STYLE B.4 item 6): a state written by an earlier build (fixture `text`,
/// of format `version`) still loads, saves as the current version and loads back to the same
/// state, and its pending commit merges to the same epoch from either. If this fails, the
/// format changed: bump [`STATE_FORMAT_VERSION`] (and read the old version), never edit a
/// fixture.
fn check_stored_state(text: &str, version: u8) -> Group {
    let (before, after, state, signer) = read_fixture(text);
    assert_eq!(state[0], version);
    let provider = RustCryptoProvider::new();
    let g = Group::from_bytes(&provider, &state, signer.clone()).unwrap();
    let current = g.to_bytes().unwrap();
    assert_eq!(current.as_bytes()[0], STATE_FORMAT_VERSION);
    let again = Group::from_bytes(&provider, current.as_bytes(), Some(g.signer().clone())).unwrap();
    assert_eq!(again.to_bytes().unwrap().as_bytes(), current.as_bytes());
    if version == STATE_FORMAT_VERSION {
        assert_eq!(current.as_bytes(), state.as_slice(), "the format changed");
    }
    let facts = (before, after);
    assert_eq!(fixture_facts(&state, signer), facts);
    assert_eq!(
        fixture_facts(current.as_bytes(), Some(g.signer().clone())),
        facts
    );
    g
}

#[test]
fn a_stored_version_1_state_still_loads() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/state/group-state-v1.txt"
    ));
    // Version 1 had no lifecycle record: it loads without one.
    let g = check_stored_state(text, 1);
    assert_eq!(g.reinit(), None);
}

#[test]
fn a_stored_version_2_state_still_loads() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/state/group-state-v2.txt"
    ));
    let g = check_stored_state(text, 2);
    assert!(!g.past.is_empty(), "the fixture keeps past epochs");
}

#[test]
fn a_stored_version_5_state_still_loads() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/state/group-state-v5.txt"
    ));
    let g = check_stored_state(text, 5);
    assert!(!g.past.is_empty(), "the fixture keeps past epochs");
    assert!(g.has_pending_commit());
}

#[test]
fn a_stored_version_6_state_still_loads() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/state/group-state-v6.txt"
    ));
    let g = check_stored_state(text, 6);
    assert!(!g.past.is_empty(), "the fixture keeps past epochs");
    assert!(g.has_pending_commit());
    assert_eq!(g.status(), crate::group::MembershipStatus::Member);
}

#[test]
fn a_stored_version_7_state_still_loads() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/state/group-state-v7.txt"
    ));
    let g = check_stored_state(text, 7);
    assert!(!g.past.is_empty(), "the fixture keeps past epochs");
    assert!(g.has_pending_commit());
}

/// Prints a new fixture like the ones [`check_stored_state`] reads (only when the format
/// version is bumped).
#[test]
#[ignore = "prints a fixture"]
fn print_state_fixture() {
    let (state, key) = rich_parts();
    let (before, after) = fixture_facts(state, rich_signer());
    println!(
        "{before}\n{after}\n{}\n{}",
        hex::encode(state),
        hex::encode(key.private.as_bytes())
    );
}

/// Sizes and save/load times of an add-everyone group (run with `--release --ignored
/// --nocapture`); prints, asserts nothing about time.
#[test]
#[ignore = "slow: builds groups of 1,000 and 10,000 members"]
#[expect(clippy::disallowed_methods, reason = "a timing report, not core logic")]
fn report_sizes_and_times() {
    use std::time::Instant;
    let w = World::new();
    for n in [1_000usize, 10_000] {
        let mut alice = w.create("m0", GroupConfig::default());
        let names: Vec<String> = (1..n).map(|i| format!("m{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let (commit, _welcome, _kps) = w.commit_add(&mut alice, &refs);
        let pending = alice.to_bytes().unwrap().len();
        own_commit(&w, &mut alice, &commit);
        let t = Instant::now();
        let bytes = alice.to_bytes().unwrap();
        let save = t.elapsed();
        let t = Instant::now();
        let copy =
            Group::from_bytes(&w.provider, bytes.as_bytes(), Some(alice.signer().clone())).unwrap();
        let load = t.elapsed();
        assert_eq!(copy.epoch_authenticator(), alice.epoch_authenticator());
        let wire_tree = alice.tree().to_wire().unwrap();
        let t = Instant::now();
        let _ = RatchetTree::from_wire(w.provider.suite(SUITE).unwrap(), wire_tree).unwrap();
        let rehash = t.elapsed();
        println!(
            "n = {n}: {} bytes ({} with the add-everyone commit pending), save {save:?}, \
             load {load:?} (of which rebuilding the tree {rehash:?})",
            bytes.len(),
            pending
        );
    }
}

#[test]
fn an_ended_group_and_a_successor_commit_round_trip() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = w.three_members(GroupConfig::default());
    let reinit = ReInit {
        group_id: VarBytes(b"next".to_vec()),
        version: ProtocolVersion::MLS10,
        cipher_suite: alice.cipher_suite(),
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
    own_commit(&w, &mut alice, &out.commit);
    let _ = deliver(&w, &mut bob, &out.commit);
    let _ = deliver(&w, &mut carol, &out.commit);
    let loaded = reload(&w, &alice);
    assert_eq!(loaded.reinit(), Some(&reinit));
    assert_eq!(
        loaded.to_bytes().unwrap().as_bytes(),
        alice.to_bytes().unwrap().as_bytes()
    );

    // The successor's first commit, with its reinit PSK, is pending in a saved group. Every
    // member of the old group is in the new one (RFC 9420 §11.2, rule WE-11).
    let (kp, signer) = w.key_package("bob");
    let (carol_kp, _) = w.key_package("carol");
    let (next, out) = Group::reinit_successor(
        &w.env(),
        &alice,
        GroupConfig::default(),
        &World::leaf("alice"),
        Arc::new(w.signer()),
        vec![kp.key_package.clone(), carol_kp.key_package],
    )
    .unwrap();
    let mut next = reload(&w, &next);
    own_commit(&w, &mut next, &out.commit);
    let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
    else {
        panic!("not a Welcome");
    };
    let joined = Group::join_successor(
        &w.env(),
        &bob,
        GroupConfig::default(),
        &welcome,
        &kp,
        Arc::new(signer),
        None,
    )
    .unwrap();
    assert_eq!(joined.epoch_authenticator(), next.epoch_authenticator());
}

#[test]
fn past_senders_round_trip_and_inconsistent_ones_are_state_errors() {
    let w = World::new();
    let (mut alice, mut bob, mut carol) = w.three_members(GroupConfig::default());
    // Carol is removed: Bob's past epoch records her key.
    let remove = alice
        .commit(
            &w.env(),
            CommitOptions {
                remove: vec![carol.own_leaf()],
                ..CommitOptions::default()
            },
        )
        .unwrap()
        .commit;
    own_commit(&w, &mut alice, &remove);
    for g in [&mut bob, &mut carol] {
        match g.process_message(&w.env(), &remove).unwrap() {
            ProcessedMessage::Commit(staged) => {
                let _ = g.merge_staged_commit(*staged).unwrap();
            }
            other => panic!("{other:?}"),
        }
    }
    let past = &bob.past[0].senders;
    assert_eq!(past.replaced.len(), 1);
    assert!(past.filled.is_empty());
    let bytes = bob.to_bytes().unwrap().into_bytes();
    let copy = Group::from_bytes(&w.provider, &bytes, Some(bob.signer().clone())).unwrap();
    assert_eq!(copy.past[0].senders, *past);
    assert!(copy.past[0].membership_key.is_some());
    assert_eq!(
        copy.past[0].membership_key.as_ref().map(Secret::as_bytes),
        bob.past[0].membership_key.as_ref().map(Secret::as_bytes)
    );

    // Bob's records, with the past epoch's sender changes replaced.
    let past_key = RecordKey::past(bob.past[0].context.epoch);
    let with = |extra: PastExtraRecord| {
        let mut extra = Some(extra);
        let records: Vec<(RecordKey, Vec<u8>)> = bob
            .records()
            .unwrap()
            .into_iter()
            .map(|(key, value)| {
                if key != past_key {
                    return (key, value.into_bytes());
                }
                let mut record: incremental::PastRecordForTests =
                    decode_exact(value.as_bytes()).unwrap();
                record.extra = extra.take().unwrap();
                (key, codec::encode(&record).unwrap())
            })
            .collect();
        Group::from_records(&w.provider, records, bob.signer().clone()).unwrap_err()
    };
    let extra = || PastExtraRecord::of(&bob.past[0]);
    // Leaves out of order.
    let mut unordered = extra();
    unordered.filled = VarVec(vec![5, 2]);
    assert!(matches!(with(unordered), GroupError::State(_)));
    let mut twice = extra();
    let (leaf, key) = {
        let first = &twice.replaced.0[0];
        (first.leaf, first.key.clone())
    };
    twice.replaced.0.push(LeafKeyRecord { leaf, key });
    assert!(matches!(with(twice), GroupError::State(_)));
    // A membership key of the wrong length.
    let mut short_key = extra();
    short_key.membership_key = Secret::new(vec![1; 5]);
    assert!(matches!(with(short_key), GroupError::State(_)));
}
