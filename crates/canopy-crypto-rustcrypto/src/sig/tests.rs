//! The Ed25519 acceptance rule through every path: [`verify`] without the key cache,
//! `SuiteOps::verify` (twice, so that the second call hits the cache) and
//! `SuiteOps::verify_batch`, alone and inside batches of valid signatures of several sizes.
//! Every path must give the same answer for every case.
//!
//! The cases are the twelve vectors of "Taming the many EdDSAs" (Chalkias, Garillot,
//! Nikolaenko, 2020; the `ed25519-speccheck` repository), and signatures made here as the
//! holder of the key, with the scalar arithmetic of `curve25519-dalek`: small-order keys in
//! every encoding, small-order `R`, torsion added to `R` (valid under the cofactored equation of
//! the rule, invalid under the cofactorless one), keys with a torsion component, non-canonical
//! `S`, `R` and `A` encodings.

use canopy_crypto::{CipherSuite, CryptoProvider, SignatureCheck, SignaturePublicKey};
use curve25519_dalek::constants::EIGHT_TORSION;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::Identity;
use sha2::{Digest, Sha512};

use super::*;
use crate::RustCryptoProvider;

/// One signature to verify, and whether the rule accepts it.
struct Case {
    name: String,
    pk: Vec<u8>,
    msg: Vec<u8>,
    sig: Vec<u8>,
    valid: bool,
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn wide(bytes: &[u8]) -> Scalar {
    let mut out = [0u8; 64];
    out.copy_from_slice(bytes);
    Scalar::from_bytes_mod_order_wide(&out)
}

/// A scalar derived from `seed` (deterministic test randomness).
fn scalar(seed: &[u8]) -> Scalar {
    wide(&Sha512::digest(seed))
}

/// `k = SHA-512(R || A || M) mod L` over the encodings as given (RFC 8032 §5.1.7).
fn challenge(r: &[u8; 32], a: &[u8; 32], msg: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(msg);
    wide(&h.finalize())
}

/// `R || S` with `S = r + k * a` and `k` over the encodings `r_enc` and `a_enc`: what the
/// holder of the secret scalar `a` can produce, whatever `R` and `A` really are.
fn sign_as(a: Scalar, a_enc: [u8; 32], r: Scalar, r_enc: [u8; 32], msg: &[u8]) -> Vec<u8> {
    let s = r + challenge(&r_enc, &a_enc, msg) * a;
    [r_enc, s.to_bytes()].concat()
}

/// The first message `prefix || i` whose challenge satisfies `pred`.
fn grind(prefix: &[u8], pred: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    (0u32..)
        .map(|i| [prefix, &i.to_le_bytes()].concat())
        .find(|m| pred(m))
        .unwrap()
}

/// Whether the reduced challenge is a multiple of 8, so that `[k]T` is the identity for every
/// small-order `T`.
fn kills_torsion(k: Scalar) -> bool {
    k.as_bytes()[0] & 7 == 0
}

/// `p + y` for `y` in 0..19, the non-canonical encodings of the y coordinates 0..18, with
/// either sign bit, and the canonical y = 1 and y = -1 (x = 0) with the sign bit set.
fn non_canonical_encodings() -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for y in 0u8..19 {
        let mut e = [0xffu8; 32];
        e[0] = 0xed + y;
        e[31] = 0x7f;
        out.push(e);
        e[31] = 0xff;
        out.push(e);
    }
    let mut one = [0u8; 32];
    one[0] = 1;
    one[31] = 0x80;
    out.push(one);
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    out.push(minus_one);
    out.into_iter()
        .filter(|e| {
            CompressedEdwardsY(*e)
                .decompress()
                .is_some_and(|p| p.compress().to_bytes() != *e)
        })
        .collect()
}

/// The twelve vectors of "Taming the many EdDSAs" (`cases.txt`): vectors 3, 4 and 5
/// (mixed-order `A` and `R`; 3 valid under both equations, 4 and 5 under the cofactored one
/// only) meet the rule. 0: small `A` and `R`, `S = 0`; 1: small `A`; 2: small `R`;
/// 6, 7: `S >= L`; 8, 9: non-canonical `R`; 10, 11: non-canonical (small-order) `A`.
fn taming_vectors() -> Vec<Case> {
    const V: [(&str, &str, &str); 12] = [
        (
            "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
        ),
        (
            "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
        ),
        (
            "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
        ),
        (
            "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
        ),
        (
            "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
        ),
        (
            "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
        ),
        (
            "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
        ),
        (
            "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f",
        ),
        (
            "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908",
        ),
        (
            "e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
        ),
        (
            "39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
        ),
    ];
    V.iter()
        .enumerate()
        .map(|(i, (msg, pk, sig))| Case {
            name: format!("taming vector {i}"),
            pk: unhex(pk),
            msg: unhex(msg),
            sig: unhex(sig),
            valid: (3..=5).contains(&i),
        })
        .collect()
}

/// An honest key: its secret scalar and canonical encoding.
fn honest_key(seed: &[u8]) -> (Scalar, [u8; 32]) {
    let a = scalar(seed);
    (a, EdwardsPoint::mul_base(&a).compress().to_bytes())
}

fn honest(seed: &[u8], msg: &[u8]) -> Case {
    let (a, a_enc) = honest_key(seed);
    let r = scalar(&[seed, b" nonce", msg].concat());
    let r_enc = EdwardsPoint::mul_base(&r).compress().to_bytes();
    Case {
        name: "honest".into(),
        pk: a_enc.to_vec(),
        msg: msg.to_vec(),
        sig: sign_as(a, a_enc, r, r_enc, msg),
        valid: true,
    }
}

/// `s + L` as 32 little-endian bytes (it fits: `s < L < 2^253`).
fn plus_order(s: &[u8]) -> [u8; 32] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    assert_eq!(Scalar::from_bytes_mod_order(L), Scalar::ZERO);
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(L[i]) + carry;
        out[i] = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    out
}

/// Signatures made here (see the module docs), with the verdict of the rule.
fn constructed_cases() -> Vec<Case> {
    let mut cases = vec![honest(b"alice", b"hello")];
    let (a, a_enc) = honest_key(b"alice");
    let r = scalar(b"nonce");
    let r_point = EdwardsPoint::mul_base(&r);
    let r_enc = r_point.compress().to_bytes();

    // Small-order keys in every encoding: R = [r]B, S = r and a message whose challenge
    // kills the key, so that the cofactorless equation holds; refused for the key alone.
    let small_keys: Vec<[u8; 32]> = EIGHT_TORSION
        .iter()
        .map(|t| t.compress().to_bytes())
        .chain(non_canonical_encodings().into_iter().filter(|e| {
            CompressedEdwardsY(*e)
                .decompress()
                .is_some_and(|p| p.is_small_order())
        }))
        .collect();
    assert_eq!(
        small_keys.len(),
        8 + 6,
        "8 canonical and 6 non-canonical encodings"
    );
    for (i, key) in small_keys.iter().enumerate() {
        let msg = grind(b"small key", |m| kills_torsion(challenge(&r_enc, key, m)));
        cases.push(Case {
            name: format!("small-order key #{i} {}", hex::encode(key)),
            pk: key.to_vec(),
            sig: [r_enc, r.to_bytes()].concat(),
            msg,
            valid: false,
        });
    }

    // Non-canonical encodings of points that are not of small order: nobody knows their
    // discrete logarithm, so any signature serves; the key itself is refused.
    let odd_keys: Vec<[u8; 32]> = non_canonical_encodings()
        .into_iter()
        .filter(|e| {
            CompressedEdwardsY(*e)
                .decompress()
                .is_some_and(|p| !p.is_small_order())
        })
        .collect();
    assert!(!odd_keys.is_empty());
    for key in odd_keys {
        cases.push(Case {
            name: format!("non-canonical key {}", hex::encode(key)),
            pk: key.to_vec(),
            msg: b"hello".to_vec(),
            sig: honest(b"alice", b"hello").sig,
            valid: false,
        });
    }

    // Small-order R with an honest key, S = k * a: the identity satisfies the cofactorless
    // equation, the other seven only the cofactored one. All refused.
    for (i, t) in EIGHT_TORSION.iter().enumerate() {
        let t_enc = t.compress().to_bytes();
        cases.push(Case {
            name: format!("small-order R #{i}"),
            pk: a_enc.to_vec(),
            msg: b"small R".to_vec(),
            sig: sign_as(a, a_enc, Scalar::ZERO, t_enc, b"small R"),
            valid: false,
        });
    }
    // The identity as R in its non-canonical encodings (k over those bytes).
    for e in non_canonical_encodings().into_iter().filter(|e| {
        CompressedEdwardsY(*e)
            .decompress()
            .is_some_and(|p| p == EdwardsPoint::identity())
    }) {
        cases.push(Case {
            name: format!("non-canonical identity R {}", hex::encode(e)),
            pk: a_enc.to_vec(),
            msg: b"small R".to_vec(),
            sig: sign_as(a, a_enc, Scalar::ZERO, e, b"small R"),
            valid: false,
        });
    }

    // Torsion added to R: S = r + k' * a with k' over R' = [r]B + T. Valid under the
    // cofactored equation of the rule, invalid under the cofactorless one; several messages.
    for (i, t) in EIGHT_TORSION.iter().enumerate().skip(1) {
        for m in 0u8..4 {
            let msg = [b"torsion R".as_slice(), &[m]].concat();
            let r2 = (r_point + t).compress().to_bytes();
            cases.push(Case {
                name: format!("R + torsion #{i}, message {m}"),
                pk: a_enc.to_vec(),
                sig: sign_as(a, a_enc, r, r2, &msg),
                msg,
                valid: true,
            });
        }
    }

    // S + L: an honest signature with a non-canonical S.
    let good = honest(b"alice", b"hello");
    cases.push(Case {
        name: "S + L".into(),
        sig: [&good.sig[..32], &plus_order(&good.sig[32..])].concat(),
        valid: false,
        ..good
    });

    // Keys with a torsion component, A' = [a]B + T: the cofactorless equation holds iff
    // [k]T is the identity, the cofactored one always. Allowed by the rule (only small-order
    // keys are refused), so both signatures are valid.
    for (i, t) in EIGHT_TORSION.iter().enumerate().skip(1) {
        let mixed = (EdwardsPoint::mul_base(&a) + t).compress().to_bytes();
        let good_msg = grind(b"mixed key", |m| {
            kills_torsion(challenge(&r_enc, &mixed, m))
        });
        let bad_msg = grind(b"mixed key", |m| {
            !kills_torsion(challenge(&r_enc, &mixed, m))
        });
        for (msg, cofactorless) in [(good_msg, true), (bad_msg, false)] {
            cases.push(Case {
                name: format!("mixed-order key #{i}, cofactorless {cofactorless}"),
                pk: mixed.to_vec(),
                sig: sign_as(a, mixed, r, r_enc, &msg),
                msg,
                valid: true,
            });
        }
        // Mixed key and mixed R = [r]B + T2 with T2 = -[k]T: valid cofactorless.
        let (msg, r2) = (0u32..)
            .find_map(|n| {
                let msg = [b"mixed both".as_slice(), &n.to_le_bytes()].concat();
                let t2 = EIGHT_TORSION[usize::try_from(n % 7).unwrap() + 1];
                let r2 = (r_point + t2).compress().to_bytes();
                (-(challenge(&r2, &mixed, &msg) * t) == t2).then_some((msg, r2))
            })
            .unwrap();
        cases.push(Case {
            name: format!("mixed-order key #{i} and mixed-order R"),
            pk: mixed.to_vec(),
            sig: sign_as(a, mixed, r, r2, &msg),
            msg,
            valid: true,
        });
    }
    cases
}

/// Valid signatures by distinct honest keys, to surround a case in a batch.
fn fillers(n: usize) -> Vec<Case> {
    (0..n)
        .map(|i| {
            honest(
                format!("filler {i}").as_bytes(),
                format!("message {i}").as_bytes(),
            )
        })
        .collect()
}

#[test]
fn every_path_gives_every_case_the_same_verdict() {
    let provider = RustCryptoProvider::new();
    let mut cases = taming_vectors();
    cases.extend(constructed_cases());
    let fill = fillers(256);
    let fill_keys: Vec<SignaturePublicKey> = fill
        .iter()
        .map(|c| SignaturePublicKey::new(c.pk.clone()))
        .collect();
    let mut wrong = Vec::new();
    let expect = |wrong: &mut Vec<String>, ok: bool, c: &Case, path: &str| {
        if ok != c.valid {
            wrong.push(format!("{}: {path} says {ok}", c.name));
        }
    };
    for suite in [CipherSuite(1), CipherSuite(3)] {
        let ops = provider.suite(suite).unwrap();
        for c in &cases {
            let key = SignaturePublicKey::new(c.pk.clone());
            let single = verify(SignatureScheme::ED25519, &c.pk, &c.msg, &c.sig);
            expect(&mut wrong, single.is_ok(), c, "uncached verify");
            for round in 0..2 {
                let cached = ops.verify(&key, &c.msg, &c.sig);
                expect(
                    &mut wrong,
                    cached.is_ok(),
                    c,
                    &format!("cached verify, call {round}"),
                );
                if cached != single {
                    wrong.push(format!(
                        "{}: cached {cached:?}, uncached {single:?}",
                        c.name
                    ));
                }
            }
            let alone = SignatureCheck {
                public_key: &key,
                message: &c.msg,
                signature: &c.sig,
            };
            expect(
                &mut wrong,
                ops.verify_batch(&[alone]).is_ok(),
                c,
                "batch of one",
            );
            // Sizes around the thresholds the batch used to have: one signature, two, and
            // the Straus/Pippenger switch of the multiscalar multiplication (about 95); the
            // second Ed25519 suite (another key cache) runs the single paths only.
            let sizes: &[usize] = if suite == CipherSuite(1) {
                &[2, 3, 64, 100, 256]
            } else {
                &[]
            };
            for &n in sizes {
                for at in [0, n / 2, n - 1] {
                    let mut checks: Vec<SignatureCheck<'_>> = fill[..n - 1]
                        .iter()
                        .zip(&fill_keys)
                        .map(|(f, k)| SignatureCheck {
                            public_key: k,
                            message: &f.msg,
                            signature: &f.sig,
                        })
                        .collect();
                    checks.insert(at, alone);
                    let ok = ops.verify_batch(&checks).is_ok();
                    expect(&mut wrong, ok, c, &format!("batch of {n} at {at}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong verdicts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn valid_batches_pass_and_fillers_are_valid() {
    let provider = RustCryptoProvider::new();
    let ops = provider.suite(CipherSuite(1)).unwrap();
    let fill = fillers(300);
    let keys: Vec<SignaturePublicKey> = fill
        .iter()
        .map(|c| SignaturePublicKey::new(c.pk.clone()))
        .collect();
    let checks: Vec<SignatureCheck<'_>> = fill
        .iter()
        .zip(&keys)
        .map(|(f, k)| SignatureCheck {
            public_key: k,
            message: &f.msg,
            signature: &f.sig,
        })
        .collect();
    ops.verify_batch(&checks).unwrap();
    for c in &checks {
        ops.verify(c.public_key, c.message, c.signature).unwrap();
    }
}

#[test]
fn refused_keys_are_invalid_public_keys_and_never_cached() {
    let provider = RustCryptoProvider::new();
    let ops = provider.suite(CipherSuite(1)).unwrap();
    let good = honest(b"alice", b"hello");
    for key in EIGHT_TORSION
        .iter()
        .map(|t| t.compress().to_bytes())
        .chain(non_canonical_encodings())
    {
        let key = SignaturePublicKey::new(key.to_vec());
        for _ in 0..2 {
            assert_eq!(
                ops.verify(&key, &good.msg, &good.sig),
                Err(CryptoError::InvalidPublicKey),
                "{}",
                hex::encode(key.as_bytes())
            );
        }
    }
}

#[test]
fn the_canonical_encoding_check_equals_recompression() {
    let mut encodings: Vec<[u8; 32]> = non_canonical_encodings();
    encodings.extend(EIGHT_TORSION.iter().map(|t| t.compress().to_bytes()));
    for i in 0u32..512 {
        let p = EdwardsPoint::mul_base(&scalar(&i.to_le_bytes()));
        encodings.push(p.compress().to_bytes());
        encodings.push((p + EIGHT_TORSION[(i % 8) as usize]).compress().to_bytes());
    }
    // Every y below 19 and at the top of the range, both signs.
    for y in 0u8..19 {
        for top in [0u8, 0x80] {
            let mut e = [0u8; 32];
            e[0] = y;
            e[31] = top;
            encodings.push(e);
            let mut e = [0xffu8; 32];
            e[0] = 0xd0 + y;
            e[31] = 0x7f | top;
            encodings.push(e);
        }
    }
    let mut decoded = 0;
    for e in encodings {
        if let Some(p) = CompressedEdwardsY(e).decompress() {
            decoded += 1;
            assert_eq!(
                is_canonical_encoding(&e),
                p.compress().to_bytes() == e,
                "{}",
                hex::encode(e)
            );
        }
    }
    assert!(decoded > 1000);
}
