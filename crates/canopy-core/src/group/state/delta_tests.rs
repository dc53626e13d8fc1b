//! The records a store keeps, kept up to date with nothing but [`Group::take_delta`], always
//! load the group as it is: checked after every step of seeded random scenarios.

use std::collections::BTreeMap;

use canopy_crypto::Secret;

use super::super::{CommitOptions, GroupConfig, HandshakeFormat, Merged, ProcessedMessage};
use crate::group::Group;
use crate::group::records::{Change, RecordKey, StateDelta};
use crate::group::test_world::{World, own_commit, private_handshake, remove_proposal};

/// A store's records of one group, changed only by applying deltas (the semantics of
/// [`Change`] a store implements).
#[derive(Default)]
struct Mirror {
    records: BTreeMap<RecordKey, Vec<u8>>,
    /// Records put, over every delta applied.
    puts: usize,
}

impl Mirror {
    fn apply(&mut self, delta: &StateDelta) {
        for change in delta.changes() {
            match change {
                Change::Reset => self.records.clear(),
                Change::Put { key, value } => {
                    self.puts += 1;
                    self.records.insert(*key, value.as_bytes().to_vec());
                }
                Change::Delete(key) => {
                    self.records.remove(key);
                }
                Change::DropEpoch(epoch) => self
                    .records
                    .retain(|k, _| !(k.kind.is_epoch_scoped() && k.epoch == *epoch)),
            }
        }
    }

    /// Takes `group`'s delta, applies it, and checks that the records load `group` exactly.
    fn sync(&mut self, w: &World, group: &mut Group) -> StateDelta {
        let delta = group.take_delta().unwrap();
        assert_eq!(delta.group_id(), group.group_id());
        self.apply(&delta);
        assert!(!group.has_changes(), "changes left after taking the delta");
        let loaded = Group::from_records(
            &w.provider,
            self.records.iter().map(|(k, v)| (*k, v.as_slice())),
            group.signer().clone(),
        )
        .unwrap();
        assert_eq!(
            loaded.to_bytes().unwrap().as_bytes(),
            group.to_bytes().unwrap().as_bytes(),
            "the records differ from the group"
        );
        assert_eq!(
            group.records().unwrap().len(),
            self.records.len(),
            "stray records"
        );
        delta
    }
}

/// A member and its store's records.
struct Member {
    group: Group,
    mirror: Mirror,
}

/// xorshift64*, seeded: the scenario replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(x % u64::try_from(n).unwrap()).unwrap()
    }
}

/// Delivers `message` to every member but `from`, merging commits; returns the members the
/// commit removed (their records are checked, then they leave).
fn deliver(w: &World, members: &mut Vec<Member>, from: usize, message: &[u8]) {
    let mut removed = Vec::new();
    for (i, m) in members.iter_mut().enumerate() {
        if i == from {
            continue;
        }
        let processed = match m.group.process_message(&w.env(), message) {
            // A late message of an epoch this member never had (it joined later) or no
            // longer keeps.
            Err(crate::group::GroupError::UnknownEpoch { .. }) => continue,
            other => other.unwrap(),
        };
        match processed {
            ProcessedMessage::Commit(staged) => {
                if matches!(
                    m.group.merge_staged_commit(*staged).unwrap(),
                    Merged::Removed
                ) {
                    removed.push(i);
                }
            }
            ProcessedMessage::Application { .. } | ProcessedMessage::Proposal { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
        let _ = m.mirror.sync(w, &mut m.group);
    }
    for i in removed.into_iter().rev() {
        let _ = members.remove(i);
    }
}

/// `committer` commits `options`; everyone processes it; joiners join with fresh records.
fn commit(
    w: &World,
    members: &mut Vec<Member>,
    committer: usize,
    options: CommitOptions,
    joiners: Vec<(
        crate::key_package::KeyPackageBundle,
        canopy_crypto::SignatureKeyPair,
    )>,
    config: GroupConfig,
) {
    let out = members[committer].group.commit(&w.env(), options).unwrap();
    {
        let m = &mut members[committer];
        let _ = m.mirror.sync(w, &mut m.group);
        own_commit(w, &mut m.group, &out.commit);
        let _ = m.mirror.sync(w, &mut m.group);
    }
    deliver(w, members, committer, &out.commit);
    if !joiners.is_empty() {
        let crate::wire::MlsMessage::Welcome(welcome) =
            crate::wire::MlsMessage::from_bytes(&out.welcome.unwrap()).unwrap()
        else {
            panic!("not a Welcome");
        };
        for mut group in w.join(&welcome, joiners, config) {
            let mut mirror = Mirror::default();
            let delta = mirror.sync(w, &mut group);
            assert!(matches!(delta.changes().first(), Some(Change::Reset)));
            members.push(Member { group, mirror });
        }
    }
}

fn run(seed: u64, config: GroupConfig, steps: usize) {
    let w = World::seeded(seed);
    let mut rng = Rng(seed | 1);
    let mut first = w.create("m0", config);
    let mut mirror = Mirror::default();
    let _ = mirror.sync(&w, &mut first);
    let mut members = vec![Member {
        group: first,
        mirror,
    }];
    let mut names = 1;
    let mut late: Vec<(usize, Vec<u8>)> = Vec::new();
    for _ in 0..steps {
        let n = members.len();
        let who = rng.below(n);
        match rng.below(8) {
            // Add one or two members.
            0 | 1 if n < 8 => {
                let joiners: Vec<_> = (0..=rng.below(2))
                    .map(|_| {
                        names += 1;
                        w.key_package(&format!("m{names}"))
                    })
                    .collect();
                let add = joiners.iter().map(|(b, _)| b.key_package.clone()).collect();
                commit(
                    &w,
                    &mut members,
                    who,
                    CommitOptions {
                        add,
                        ..CommitOptions::default()
                    },
                    joiners,
                    config,
                );
            }
            // An application message, delivered now or kept for after the next commit.
            2 | 3 => {
                let m = &mut members[who];
                let message = m
                    .group
                    .encrypt_application(&w.env(), b"hello", b"")
                    .unwrap();
                let _ = m.mirror.sync(&w, &mut m.group);
                if rng.below(3) == 0 {
                    late.push((who, message));
                } else {
                    deliver(&w, &mut members, who, &message);
                }
            }
            // An update commit (with a path).
            4 => commit(
                &w,
                &mut members,
                who,
                CommitOptions {
                    force_path: true,
                    ..CommitOptions::default()
                },
                Vec::new(),
                config,
            ),
            // A removal: proposed by one member, committed by another.
            5 if n > 2 => {
                let target = (who + 1 + rng.below(n - 1)) % n;
                let leaf = members[target].group.own_leaf();
                let proposal = members[who]
                    .group
                    .propose(&w.env(), remove_proposal(leaf))
                    .unwrap();
                let m = &mut members[who];
                let _ = m.mirror.sync(&w, &mut m.group);
                deliver(&w, &mut members, who, &proposal);
                let committer = (0..members.len()).find(|&i| i != target).unwrap();
                commit(
                    &w,
                    &mut members,
                    committer,
                    CommitOptions::default(),
                    Vec::new(),
                    config,
                );
                late.retain(|(from, _)| *from != target);
                late.iter_mut().for_each(|(from, _)| {
                    if *from > target {
                        *from -= 1
                    }
                });
            }
            // An Update proposal, committed by reference by another member.
            6 if n > 1 => {
                let proposal = members[who].group.propose_update(&w.env(), None).unwrap();
                let m = &mut members[who];
                let _ = m.mirror.sync(&w, &mut m.group);
                deliver(&w, &mut members, who, &proposal);
                commit(
                    &w,
                    &mut members,
                    (who + 1) % n,
                    CommitOptions::default(),
                    Vec::new(),
                    config,
                );
            }
            // Late messages of past epochs; an external PSK; a commit made, then discarded.
            _ => {
                for (from, message) in std::mem::take(&mut late) {
                    if from < members.len() {
                        deliver(&w, &mut members, from, &message);
                    }
                }
                let m = &mut members[who];
                m.group.add_external_psk(
                    vec![u8::try_from(names % 256).unwrap()],
                    Secret::from_slice(&[7; 32]),
                );
                let _ = m.mirror.sync(&w, &mut m.group);
                let _ = m
                    .group
                    .commit(
                        &w.env(),
                        CommitOptions {
                            force_path: true,
                            ..CommitOptions::default()
                        },
                    )
                    .unwrap();
                let _ = m.mirror.sync(&w, &mut m.group);
                assert!(m.group.discard_pending_commit());
                let _ = m.mirror.sync(&w, &mut m.group);
            }
        }
    }
}

#[test]
fn deltas_keep_the_records_equal_to_the_group_with_past_epochs() {
    for seed in 1..=3 {
        run(seed, GroupConfig::default(), 40);
    }
}

#[test]
fn deltas_keep_the_records_equal_to_the_group_without_past_epochs() {
    let config = GroupConfig {
        past_epochs: 0,
        ..GroupConfig::default()
    };
    run(11, config, 30);
}

#[test]
fn deltas_keep_the_records_equal_to_the_group_with_private_handshakes() {
    let config = GroupConfig {
        past_epochs: 1,
        ..private_handshake()
    };
    assert_eq!(config.handshake, HandshakeFormat::Private);
    run(21, config, 30);
}

/// A pending commit restored from the records (a restart between sending and merging)
/// writes the new epoch's secret tree when it is merged.
#[test]
fn a_pending_commit_merged_after_a_reload_writes_the_new_epoch() {
    let w = World::new();
    let mut alice = w.create("alice", GroupConfig::default());
    let mut mirror = Mirror::default();
    let _ = mirror.sync(&w, &mut alice);
    let options = CommitOptions {
        force_path: true,
        ..CommitOptions::default()
    };
    let _ = alice.commit(&w.env(), options).unwrap();
    let _ = mirror.sync(&w, &mut alice);
    let mut reloaded = Group::from_records(
        &w.provider,
        mirror.records.iter().map(|(k, v)| (*k, v.as_slice())),
        alice.signer().clone(),
    )
    .unwrap();
    let _ = reloaded.merge_pending_commit().unwrap();
    let _ = mirror.sync(&w, &mut reloaded);
}

/// What one message and one commit write, in a group of 64: a message one ratchet record
/// (plus the secret tree path for a sender's first message of the epoch), a commit O(log n)
/// records, never the whole state.
#[test]
fn a_message_writes_one_record_and_a_commit_a_few() {
    let w = World::new();
    let mut alice = w.create("alice", GroupConfig::default());
    let names: Vec<String> = (1..64).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut others = w.add(&mut alice, &refs, GroupConfig::default());
    let mut bob = others.remove(0);
    let mut alice_mirror = Mirror::default();
    let mut bob_mirror = Mirror::default();
    let _ = alice_mirror.sync(&w, &mut alice);
    let _ = bob_mirror.sync(&w, &mut bob);

    let first = alice.encrypt_application(&w.env(), b"one", b"").unwrap();
    let sent = alice_mirror.sync(&w, &mut alice);
    // Alice's first message: her ratchets and the secret tree path to her leaf (the root
    // deleted, a sibling written on each of the 6 levels).
    assert_eq!(sent.changes().len(), 1 + 1 + 6);
    let _ = bob.process_message(&w.env(), &first).unwrap();
    assert_eq!(bob_mirror.sync(&w, &mut bob).changes().len(), 1 + 1 + 6);
    let second = alice.encrypt_application(&w.env(), b"two", b"").unwrap();
    let sent = alice_mirror.sync(&w, &mut alice);
    assert_eq!(sent.changes().len(), 1, "{:?}", sent.changes());
    assert!(sent.written_bytes() < 200, "{} bytes", sent.written_bytes());
    let _ = bob.process_message(&w.env(), &second).unwrap();
    let received = bob_mirror.sync(&w, &mut bob);
    assert_eq!(received.changes().len(), 1);

    // Bob's update commit, as Alice receives it: Meta, Bob's leaf and direct path (7 nodes),
    // the new epoch's secret tree root, the old epoch's Past record.
    let out = bob
        .commit(
            &w.env(),
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
        .unwrap();
    match alice.process_message(&w.env(), &out.commit).unwrap() {
        ProcessedMessage::Commit(staged) => {
            let _ = alice.merge_staged_commit(*staged).unwrap();
        }
        other => panic!("{other:?}"),
    }
    let merged = alice_mirror.sync(&w, &mut alice);
    assert!(
        merged.changes().len() <= 1 + 7 + 1 + 1 + 1,
        "{}",
        merged.changes().len()
    );
    let total: usize = alice.records().unwrap().len();
    assert!(total > 64, "the group has {total} records");
    assert!(alice.tree().member_count() == 64);
}
