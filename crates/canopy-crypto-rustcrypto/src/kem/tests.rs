//! Validation of received HPKE public keys (`SuiteOps::hpke_validate_public_key`): per suite,
//! against an oracle for the Montgomery curves (Diffie-Hellman output zero) and against the
//! `hpke` crate for X25519 and the NIST curves.

use ::hpke::{Deserializable, Kem as HpkeKem, OpModeS};
use canopy_crypto::{CipherSuite, CryptoProvider, HpkePublicKey, SuiteOps};
use curve25519_dalek::montgomery::MontgomeryPoint;

use super::*;
use crate::RustCryptoProvider;

fn ops(provider: &RustCryptoProvider, suite: u16) -> &dyn SuiteOps {
    provider.suite(CipherSuite(suite)).unwrap()
}

fn valid(ops: &dyn SuiteOps, key: &[u8]) -> bool {
    ops.hpke_validate_public_key(&HpkePublicKey::new(key.to_vec()))
        .is_ok()
}

/// `[8]P` is the point at infinity (u = 0 from the ladder) exactly for the low-order points of
/// Curve25519 and its twist: the X25519 oracle.
fn x25519_low_order_oracle(u: [u8; 32]) -> bool {
    let eight = [true, false, false, false].into_iter();
    MontgomeryPoint(u).mul_bits_be(eight).to_bytes() == [0; 32]
}

/// X448 with a fixed private key gives zero exactly for the low-order points (curve and twist
/// have cofactor 4 and the clamped scalar is a multiple of 4 with a huge prime part).
fn x448_low_order_oracle(u: [u8; 56]) -> bool {
    x448::x448_unchecked([0x5a; 56], u) == [0; 56]
}

/// Little-endian `base + i` for small `i` (no wrap past the top byte).
fn plus<const N: usize>(base: [u8; N], i: u32) -> [u8; N] {
    let mut out = base;
    let mut carry = i;
    for b in &mut out {
        let sum = u32::from(*b) + (carry & 0xff);
        *b = (sum & 0xff) as u8;
        carry = (carry >> 8) + (sum >> 8);
    }
    out
}

#[test]
fn generated_keys_are_valid_on_every_suite_and_wrong_lengths_are_not() {
    let p = RustCryptoProvider::new();
    for s in CipherSuite::ALL {
        let ops = p.suite(s).unwrap();
        for _ in 0..4 {
            let kp = ops.hpke_generate_key_pair().unwrap();
            assert!(valid(ops, kp.public.as_bytes()), "suite {s}");
            let mut long = kp.public.as_bytes().to_vec();
            long.push(0);
            assert!(!valid(ops, &long), "suite {s}");
            assert!(!valid(ops, &long[..long.len() - 2]), "suite {s}");
        }
        assert!(!valid(ops, &[]), "suite {s}");
    }
}

#[test]
fn x25519_refuses_exactly_the_low_order_points() {
    let p = RustCryptoProvider::new();
    let ops = ops(&p, 1);
    // Every listed value, with and without the ignored top bit, is low order, and X25519
    // with it gives zero for a random private key.
    for u in x25519_low_order() {
        for top in [0, 0x80] {
            let mut e = *u;
            e[31] |= top;
            assert!(x25519_low_order_oracle(e), "{}", hex::encode(e));
            assert_eq!(x25519_dalek::x25519([7; 32], e), [0; 32]);
            assert!(!valid(ops, &e), "{}", hex::encode(e));
        }
    }
    assert_eq!(
        x25519_low_order().len(),
        7,
        "0, 1, two of order 8, p - 1, p, p + 1"
    );
    // The oracle and the check agree on every u near the listed values: the small ones
    // (0 and 1), the top of the range (p - 1, p, p + 1), both top bits.
    // 2^255 - 4096: the last 4096 values below 2^255 follow.
    let mut high_start = [0xff; 32];
    high_start[0] = 0;
    high_start[1] = 0xf0;
    high_start[31] = 0x7f;
    for i in 0u32..4096 {
        let small = plus([0; 32], i);
        let high = plus(high_start, i);
        for mut u in [small, high] {
            for top in [0, 0x80] {
                u[31] = (u[31] & 0x7f) | top;
                assert_eq!(
                    valid(ops, &u),
                    !x25519_low_order_oracle(u),
                    "{}",
                    hex::encode(u)
                );
            }
        }
    }
    // And next to the order-8 points.
    for u in x25519_low_order() {
        for i in 1u32..64 {
            let v = plus(*u, i);
            if v[31] & 0x80 == 0 {
                assert_eq!(valid(ops, &v), !x25519_low_order_oracle(v));
            }
        }
    }
}

#[test]
fn x448_refuses_exactly_the_low_order_points() {
    let p = RustCryptoProvider::new();
    let ops = ops(&p, 4);
    // p - 1, p, p + 1 (p = 2^448 - 2^224 - 1) and 0, 1.
    let mut p_minus_1 = [0xff; 56];
    p_minus_1[0] = 0xfe;
    p_minus_1[28] = 0xfe;
    let listed = [
        plus([0; 56], 0),
        plus([0; 56], 1),
        p_minus_1,
        plus(p_minus_1, 1),
        plus(p_minus_1, 2),
    ];
    for u in listed {
        assert!(x448_low_order_oracle(u), "{}", hex::encode(u));
        assert!(!valid(ops, &u), "{}", hex::encode(u));
    }
    // The x448 crate alone misses the encodings at or above p.
    assert!(x448::PublicKey::from_bytes(&plus(p_minus_1, 1)).is_some());
    // Around the listed values, the check agrees with the oracle.
    for base in [plus([0; 56], 0), plus(p_minus_1, 0)] {
        for i in 0u32..256 {
            let u = plus(base, i);
            if u.iter().all(|b| *b == 0xff) {
                break;
            }
            assert_eq!(
                valid(ops, &u),
                !x448_low_order_oracle(u),
                "{}",
                hex::encode(u)
            );
        }
    }
    let mut below = p_minus_1;
    below[0] = 0;
    for i in 0u32..256 {
        let u = plus(below, i);
        assert_eq!(
            valid(ops, &u),
            !x448_low_order_oracle(u),
            "{}",
            hex::encode(u)
        );
    }
}

/// Whether the `hpke` crate can encapsulate to `key`: it deserializes, and the
/// Diffie-Hellman output is not zero.
fn hpke_accepts<K: HpkeKem>(key: &[u8]) -> bool {
    let Ok(pk) = <K as HpkeKem>::PublicKey::from_bytes(key) else {
        return false;
    };
    ::hpke::setup_sender::<::hpke::aead::AesGcm128, ::hpke::kdf::HkdfSha256, K>(
        &OpModeS::Base,
        &pk,
        b"",
    )
    .is_ok()
}

/// Keys to try on a suite: generated ones, each with bytes flipped, truncated and extended,
/// and the given special values.
fn candidates(ops: &dyn SuiteOps, special: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = special.to_vec();
    for i in 0..8usize {
        let key = ops.hpke_generate_key_pair().unwrap().public.into_bytes();
        out.push(key.clone());
        for at in [0, 1, key.len() / 2, key.len() - 1] {
            let mut k = key.clone();
            k[at] ^= 1 << (i % 8);
            out.push(k);
        }
        out.push(key[..key.len() - 1].to_vec());
        out.push([key.as_slice(), &[0]].concat());
    }
    out
}

/// A NIST key's special cases: compressed and hybrid forms, the SEC1 identity, zero
/// coordinates, coordinates at the field prime or above (all-ones), wrong prefixes.
fn nist_specials(ops: &dyn SuiteOps) -> Vec<Vec<u8>> {
    let key = ops.hpke_generate_key_pair().unwrap().public.into_bytes();
    let n = (key.len() - 1) / 2;
    let (x, y) = key[1..].split_at(n);
    let y_odd = y[n - 1] & 1;
    let mut out = vec![
        vec![0x00],
        [&[0x02 | y_odd], x].concat(),
        [&[0x06 | y_odd], x, y].concat(),
        [&[0x03 ^ y_odd], x, y].concat(),
        [&[0x04], x, y][..].concat(),
        vec![0x04; key.len()],
        [vec![0x04], vec![0; 2 * n]].concat(),
        [vec![0x04], vec![0xff; 2 * n]].concat(),
        [&[0x04], x, &vec![0xff; n][..]].concat(),
        [&[0x04], &vec![0xff; n][..], y].concat(),
    ];
    for prefix in [0x00, 0x01, 0x05, 0x07, 0xff] {
        out.push([&[prefix], x, y].concat());
    }
    out
}

fn differential<K: HpkeKem>(suite: u16, special: &[Vec<u8>]) {
    let p = RustCryptoProvider::new();
    let ops = ops(&p, suite);
    let mut accepted = 0;
    let mut refused = 0;
    for key in candidates(ops, special) {
        let ours = valid(ops, &key);
        assert_eq!(
            ours,
            hpke_accepts::<K>(&key),
            "suite {suite}: {}",
            hex::encode(&key)
        );
        if ours {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        accepted >= 8 && refused >= special.len(),
        "{accepted} {refused}"
    );
}

#[test]
fn x25519_validation_matches_the_hpke_crate() {
    let special: Vec<Vec<u8>> = x25519_low_order()
        .iter()
        .flat_map(|u| {
            let mut top = *u;
            top[31] |= 0x80;
            [u.to_vec(), top.to_vec()]
        })
        .collect();
    differential::<::hpke::kem::X25519HkdfSha256>(1, &special);
}

#[test]
fn p256_validation_matches_the_hpke_crate() {
    let p = RustCryptoProvider::new();
    let special = nist_specials(ops(&p, 2));
    differential::<::hpke::kem::DhP256HkdfSha256>(2, &special);
}

#[test]
fn p384_validation_matches_the_hpke_crate() {
    let p = RustCryptoProvider::new();
    let special = nist_specials(ops(&p, 7));
    differential::<::hpke::kem::DhP384HkdfSha384>(7, &special);
}

#[test]
fn p521_validation_matches_the_hpke_crate() {
    let p = RustCryptoProvider::new();
    let special = nist_specials(ops(&p, 5));
    differential::<::hpke::kem::DhP521HkdfSha512>(5, &special);
}
