//! Post-quantum cipher suites (draft-ietf-mls-pq-ciphersuites) in live groups of Canopy and
//! OpenMLS 0.9.2 (`openmls_rust_crypto` 0.6, feature `draft-ietf-mls-pq-ciphersuites`), under
//! OpenMLS's code points (Canopy's `SuiteProfile::OPENMLS`):
//!
//! | code point | KEM | AEAD | hash | signature |
//! |---|---|---|---|---|
//! | 0x004F | X-Wing (draft 06) | AES-128-GCM | SHA-256 | Ed25519 |
//! | 0x004E | X-Wing (draft 06) | AES-256-GCM | SHA-384 | Ed25519 |
//! | 0x0050 | ML-KEM-768 | AES-256-GCM | SHA-384 | ECDSA P-256 |
//! | 0x0042 | ML-KEM-1024 | AES-256-GCM | SHA-384 | ECDSA P-384 |
//! | 0xF042 | ML-KEM-768 | AES-256-GCM | SHA-384 | Ed25519 |
//! | 0x0052 | X-Wing (draft 06) | ChaCha20-Poly1305 | SHA-384 | ML-DSA-44 |
//! | 0x0051 | ML-KEM-768 | AES-256-GCM | SHA-384 | ML-DSA-65 |
//! | 0x0907 | ML-KEM-1024 | AES-256-GCM | SHA-384 | ML-DSA-87 |
//! | 0x0906 | ML-KEM-1024 | AES-256-GCM | SHA-512 | ML-DSA-87 |
//!
//! Every scenario of the classical interop table runs on each, with each implementation
//! creating the group; the TreeKEM node keys (`DeriveKeyPair`), HPKE with the KEM, the
//! Welcome and the external join all cross between the two.
//!
//! `cargo test -p canopy-interop --features pq --test post_quantum`.
#![cfg(feature = "pq")]
#![allow(clippy::unwrap_used, clippy::panic)]

use canopy_interop::scenarios::{Scenario, random_group};
use canopy_interop::{CanopyOptions, Handshake, Impl};

use Impl::{Canopy as C, OpenMls as O};

fn run_all(suite: u16, handshake: Handshake) {
    for lineup in [[C, O, C], [O, C, O]] {
        for scenario in Scenario::ALL {
            scenario
                .run(lineup, suite, handshake, CanopyOptions::default())
                .unwrap_or_else(|e| {
                    panic!("suite 0x{suite:04x} {lineup:?} {}: {e}", scenario.label())
                });
        }
    }
}

#[test]
fn xwing_aes128_sha256_ed25519_0x004f() {
    run_all(0x004F, Handshake::Public);
    run_all(0x004F, Handshake::Private);
}

#[test]
fn xwing_aes256_sha384_ed25519_0x004e() {
    run_all(0x004E, Handshake::Public);
}

#[test]
fn mlkem768_aes256_sha384_p256_0x0050() {
    run_all(0x0050, Handshake::Public);
}

#[test]
fn mlkem1024_aes256_sha384_p384_0x0042() {
    run_all(0x0042, Handshake::Public);
}

#[test]
fn mlkem768_aes256_sha384_ed25519_0xf042() {
    run_all(0xF042, Handshake::Private);
}

/// With ML-DSA signatures (`SuiteProfile::OPENMLS_ML_DSA`): post-quantum authentication too.
#[test]
fn xwing_chacha_sha384_mldsa44_0x0052() {
    run_all(0x0052, Handshake::Public);
}

#[test]
fn mlkem768_aes256_sha384_mldsa65_0x0051() {
    run_all(0x0051, Handshake::Private);
}

#[test]
fn mlkem1024_aes256_sha384_mldsa87_0x0907() {
    run_all(0x0907, Handshake::Public);
}

#[test]
fn mlkem1024_aes256_sha512_mldsa87_0x0906() {
    run_all(0x0906, Handshake::Public);
}

#[test]
fn a_random_mixed_group_on_xwing_stays_in_sync() {
    let steps = random_group(
        0x9042,
        &[C, O],
        0x004F,
        8,
        12,
        Handshake::Public,
        CanopyOptions::default(),
    )
    .unwrap();
    assert!(steps.len() >= 12, "{steps:?}");
}

#[test]
fn every_pq_suite_is_run_by_both() {
    for s in Impl::PQ_SUITES.into_iter().chain(Impl::PQ_ML_DSA_SUITES) {
        assert!(C.suites().contains(&s) && O.suites().contains(&s));
    }
}
