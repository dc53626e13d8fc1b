#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use canopy_crypto::{CipherSuite, CryptoProvider};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use super::*;

fn tree(leaves: u32, policy: OutOfOrderPolicy) -> SecretTree {
    SecretTree::new(
        Secret::from_slice(&[7; 32]),
        LeafCount::new(leaves).unwrap(),
        policy,
    )
}

fn leaf(i: u32) -> LeafIndex {
    LeafIndex::new(i).unwrap()
}

#[test]
fn sender_and_receiver_agree_and_keys_are_single_use() {
    let p = RustCryptoProvider::new();
    let ops = p.suite(CipherSuite(1)).unwrap();
    let mut alice = tree(8, OutOfOrderPolicy::default());
    let mut bob = alice.clone();
    for g in 0..3 {
        let sent = alice
            .next_encryption_key(ops, leaf(5), ContentKind::Application)
            .unwrap();
        assert_eq!(sent.generation, g);
        let pending = bob
            .prepare_decryption(ops, leaf(5), ContentKind::Application, g)
            .unwrap();
        assert_eq!(pending.key(), &sent.key);
        bob.commit_decryption(pending).unwrap();
    }
    // A replayed generation cannot be derived again.
    assert_eq!(
        bob.prepare_decryption(ops, leaf(5), ContentKind::Application, 1)
            .unwrap_err(),
        ScheduleError::GenerationConsumed { generation: 1 }
    );
    // The handshake ratchet of the same leaf is independent.
    let hs = alice
        .next_encryption_key(ops, leaf(5), ContentKind::Handshake)
        .unwrap();
    assert_eq!(hs.generation, 0);
    assert_ne!(
        hs.key,
        alice
            .next_encryption_key(ops, leaf(5), ContentKind::Application)
            .unwrap()
            .key
    );
}

#[test]
fn prepare_does_not_change_the_tree_until_committed() {
    let p = RustCryptoProvider::new();
    let ops = p.suite(CipherSuite(1)).unwrap();
    let t = tree(4, OutOfOrderPolicy::default());
    let before = t.clone();
    let pending = t
        .prepare_decryption(ops, leaf(2), ContentKind::Handshake, 3)
        .unwrap();
    assert_eq!(t, before);
    let mut t = t;
    t.commit_decryption(pending).unwrap();
    assert_ne!(t, before);
}

#[test]
fn stale_pending_is_rejected_and_leaves_the_tree_unchanged() {
    let p = RustCryptoProvider::new();
    let ops = p.suite(CipherSuite(1)).unwrap();
    let mut t = tree(4, OutOfOrderPolicy::default());
    let a = t
        .prepare_decryption(ops, leaf(1), ContentKind::Application, 0)
        .unwrap();
    let b = t
        .prepare_decryption(ops, leaf(1), ContentKind::Application, 1)
        .unwrap();
    t.commit_decryption(a).unwrap();
    let snapshot = t.clone();
    assert_eq!(
        t.commit_decryption(b).unwrap_err(),
        ScheduleError::StalePending
    );
    assert_eq!(t, snapshot);
}

#[test]
fn out_of_order_within_policy_works_and_beyond_is_an_error() {
    let p = RustCryptoProvider::new();
    let ops = p.suite(CipherSuite(1)).unwrap();
    let policy = OutOfOrderPolicy {
        max_forward_distance: 10,
        max_retained_keys: 3,
    };
    let mut sender = tree(2, policy);
    let keys: Vec<_> = (0..20)
        .map(|_| {
            sender
                .next_encryption_key(ops, leaf(0), ContentKind::Application)
                .unwrap()
        })
        .collect();
    let mut r = tree(2, policy);
    // Jump to 10 (distance 10: allowed), keeping 7, 8, 9.
    let pending = r
        .prepare_decryption(ops, leaf(0), ContentKind::Application, 10)
        .unwrap();
    assert_eq!(pending.key(), &keys[10].key);
    r.commit_decryption(pending).unwrap();
    for g in [9, 8, 7] {
        let pending = r
            .prepare_decryption(ops, leaf(0), ContentKind::Application, g)
            .unwrap();
        assert_eq!(pending.key(), &keys[g as usize].key);
        r.commit_decryption(pending).unwrap();
    }
    // 6 fell out of the retention window; 9 was used.
    for g in [6, 9, 0] {
        assert_eq!(
            r.prepare_decryption(ops, leaf(0), ContentKind::Application, g)
                .unwrap_err(),
            ScheduleError::GenerationConsumed { generation: g }
        );
    }
    // 11 + 11 = 22 is 11 ahead of the next expected generation (11): beyond the policy.
    assert_eq!(
        r.prepare_decryption(ops, leaf(0), ContentKind::Application, 22)
            .unwrap_err(),
        ScheduleError::GenerationTooFarAhead {
            generation: 22,
            distance: 11,
            max: 10
        }
    );
}

#[test]
fn leaves_outside_the_tree_are_errors() {
    let p = RustCryptoProvider::new();
    let ops = p.suite(CipherSuite(1)).unwrap();
    let mut t = tree(4, OutOfOrderPolicy::default());
    assert_eq!(
        t.next_encryption_key(ops, leaf(4), ContentKind::Handshake)
            .unwrap_err(),
        ScheduleError::LeafOutOfRange { leaf: 4, leaves: 4 }
    );
}

#[test]
fn derivation_is_lazy_and_deletes_consumed_node_secrets() {
    let p = RustCryptoProvider::new();
    let ops = p.suite(CipherSuite(1)).unwrap();
    let mut t = tree(65536, OutOfOrderPolicy::default());
    assert_eq!(t.stored_secrets(), (1, 0));
    t.next_encryption_key(ops, leaf(12345), ContentKind::Application)
        .unwrap();
    // The root is gone, one sibling per level (16) is stored, one leaf has ratchets.
    assert_eq!(t.stored_secrets(), (16, 1));
    t.next_encryption_key(ops, leaf(12344), ContentKind::Application)
        .unwrap();
    // The sibling leaf's secret was on the frontier: it is replaced by its ratchets.
    assert_eq!(t.stored_secrets(), (15, 2));
}
