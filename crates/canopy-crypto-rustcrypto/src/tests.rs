//! Unit tests of the backend: round trips per suite, rejection of bad inputs, and
//! differential tests of HPKE against the `hpke` crate (X25519, P-256, P-384, P-521).

use ::hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};

use super::*;

fn provider() -> RustCryptoProvider {
    RustCryptoProvider::new()
}

#[test]
fn every_rfc_suite_is_supported_and_unknown_suites_are_errors() {
    let p = provider();
    assert_eq!(p.supported(), &CipherSuite::ALL);
    for s in CipherSuite::ALL {
        assert_eq!(p.suite(s).unwrap().suite(), s);
    }
    for bad in [0u16, 8, 0x0a0a, 0xffff] {
        assert_eq!(
            p.suite(CipherSuite(bad)).err(),
            Some(CryptoError::UnsupportedSuite(CipherSuite(bad)))
        );
    }
}

#[test]
fn signatures_round_trip_and_reject_tampering() {
    let p = provider();
    for s in CipherSuite::ALL {
        let ops = p.suite(s).unwrap();
        let kp = ops.signature_generate_key_pair().unwrap();
        assert_eq!(ops.signature_public_key(&kp.private).unwrap(), kp.public);
        let sig = ops.sign(&kp.private, b"hello").unwrap();
        ops.verify(&kp.public, b"hello", &sig).unwrap();
        assert_eq!(
            ops.verify(&kp.public, b"hellO", &sig),
            Err(CryptoError::InvalidSignature)
        );
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(ops.verify(&kp.public, b"hello", &bad).is_err(), "suite {s}");
        assert_eq!(
            ops.verify(&kp.public, b"hello", &[]),
            Err(CryptoError::InvalidSignature)
        );
        assert_eq!(
            ops.verify(&SignaturePublicKey::new(vec![1, 2, 3]), b"hello", &sig),
            Err(CryptoError::InvalidPublicKey)
        );
        assert!(
            ops.sign(&SignaturePrivateKey::new(vec![0; 3]), b"x")
                .is_err()
        );
    }
}

#[test]
fn ecdsa_signatures_are_der() {
    let p = provider();
    for (s, max) in [(2u16, 72), (7, 104), (5, 139)] {
        let ops = p.suite(CipherSuite(s)).unwrap();
        let kp = ops.signature_generate_key_pair().unwrap();
        let sig = ops.sign(&kp.private, b"m").unwrap();
        assert_eq!(sig[0], 0x30, "DER SEQUENCE");
        assert!(sig.len() <= max);
    }
}

#[test]
fn aead_round_trips_and_rejects_bad_input() {
    let p = provider();
    for s in CipherSuite::ALL {
        let ops = p.suite(s).unwrap();
        let key = vec![7u8; ops.params().aead_key_len()];
        let nonce = [9u8; 12];
        let ct = ops.aead_seal(&key, &nonce, b"aad", b"plaintext").unwrap();
        assert_eq!(ct.len(), 9 + 16);
        assert_eq!(
            ops.aead_open(&key, &nonce, b"aad", &ct).unwrap().as_bytes(),
            b"plaintext"
        );
        assert_eq!(
            ops.aead_open(&key, &nonce, b"aaD", &ct),
            Err(CryptoError::AeadOpenFailed)
        );
        assert_eq!(
            ops.aead_open(&key, &nonce, b"aad", &ct[..3]),
            Err(CryptoError::AeadOpenFailed)
        );
        assert!(matches!(
            ops.aead_seal(&key[1..], &nonce, b"", b""),
            Err(CryptoError::InvalidLength {
                what: "AEAD key",
                ..
            })
        ));
        assert!(matches!(
            ops.aead_open(&key, &nonce[1..], b"", &ct),
            Err(CryptoError::InvalidLength {
                what: "AEAD nonce",
                ..
            })
        ));
    }
}

#[test]
fn kdf_expand_rejects_short_prk_and_long_output() {
    let p = provider();
    let ops = p.suite(CipherSuite(1)).unwrap();
    assert!(ops.kdf_expand(&[0; 16], b"", 32).is_err());
    assert!(ops.kdf_expand(&[0; 32], b"", 255 * 32 + 1).is_err());
    assert_eq!(
        ops.kdf_expand(&[0; 32], b"", 255 * 32).unwrap().len(),
        255 * 32
    );
}

/// RFC 5869 test case 1 (SHA-256).
#[test]
fn hkdf_matches_rfc_5869() {
    let p = provider();
    let ops = p.suite(CipherSuite(1)).unwrap();
    let ikm = [0x0bu8; 22];
    let salt = hex::decode("000102030405060708090a0b0c").unwrap();
    let info = hex::decode("f0f1f2f3f4f5f6f7f8f9").unwrap();
    let prk = ops.kdf_extract(&salt, &ikm);
    assert_eq!(
        hex::encode(prk.as_bytes()),
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    );
    let okm = ops.kdf_expand(prk.as_bytes(), &info, 42).unwrap();
    assert_eq!(
        hex::encode(okm.as_bytes()),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    );
}

#[test]
fn hpke_round_trips_for_every_suite_and_rejects_tampering() {
    let p = provider();
    for s in CipherSuite::ALL {
        let ops = p.suite(s).unwrap();
        let kp = ops.hpke_generate_key_pair().unwrap();
        assert_eq!(ops.hpke_public_key(&kp.private).unwrap(), kp.public);
        let info = ops.hpke_prepare_info(b"info");
        let ct = ops.hpke_seal(&kp.public, &info, b"aad", b"secret").unwrap();
        assert_eq!(ct.kem_output.len(), ops.params().kem.public_key_len());
        let pt = ops.hpke_open(&kp.private, &ct, &info, b"aad").unwrap();
        assert_eq!(pt.as_bytes(), b"secret");
        let other_info = ops.hpke_prepare_info(b"infO");
        assert_eq!(
            ops.hpke_open(&kp.private, &ct, &other_info, b"aad"),
            Err(CryptoError::AeadOpenFailed)
        );
        let mut bad = ct.clone();
        bad.kem_output[5] ^= 1;
        assert!(ops.hpke_open(&kp.private, &bad, &info, b"aad").is_err());
        let bad = HpkeCiphertext {
            kem_output: vec![4; 3],
            ciphertext: ct.ciphertext.clone(),
        };
        assert_eq!(
            ops.hpke_open(&kp.private, &bad, &info, b"aad"),
            Err(CryptoError::InvalidPublicKey)
        );
        assert!(
            ops.hpke_seal(&HpkePublicKey::new(vec![0; 2]), &info, b"", b"")
                .is_err()
        );
    }
}

#[test]
fn hpke_open_with_the_public_key_agrees_with_open_and_fails_with_another_key() {
    let p = provider();
    for s in CipherSuite::ALL {
        let ops = p.suite(s).unwrap();
        let kp = ops.hpke_generate_key_pair().unwrap();
        let other = ops.hpke_generate_key_pair().unwrap();
        let info = ops.hpke_prepare_info(b"info");
        let ct = ops.hpke_seal(&kp.public, &info, b"aad", b"secret").unwrap();
        let pt = ops
            .hpke_open_with_public_key(&kp.private, &kp.public, &ct, &info, b"aad")
            .unwrap();
        assert_eq!(pt.as_bytes(), b"secret", "suite {s:?}");
        // pkR is in the KEM context: the wrong one gives another key and the AEAD refuses.
        assert_eq!(
            ops.hpke_open_with_public_key(&kp.private, &other.public, &ct, &info, b"aad"),
            Err(CryptoError::AeadOpenFailed),
            "suite {s:?}"
        );
        assert!(
            ops.hpke_open_with_public_key(&other.private, &kp.public, &ct, &info, b"aad")
                .is_err()
        );
    }
}

#[test]
fn prepared_info_is_bound_to_its_suite() {
    let p = provider();
    let a = p.suite(CipherSuite(1)).unwrap();
    let b = p.suite(CipherSuite(3)).unwrap();
    let kp = b.hpke_generate_key_pair().unwrap();
    let info = a.hpke_prepare_info(b"x");
    assert_eq!(
        b.hpke_seal(&kp.public, &info, b"", b"").err(),
        Some(CryptoError::WrongSuite {
            prepared: CipherSuite(1),
            used: CipherSuite(3)
        })
    );
}

#[test]
fn x25519_and_x448_reject_low_order_points() {
    let p = provider();
    let info_pt = b"pt";
    for (s, len) in [(1u16, 32), (4, 56)] {
        let ops = p.suite(CipherSuite(s)).unwrap();
        let info = ops.hpke_prepare_info(b"");
        // The all-zero point has order one; DH with it yields zero.
        let zero = HpkePublicKey::new(vec![0; len]);
        assert!(
            ops.hpke_seal(&zero, &info, b"", info_pt).is_err(),
            "suite {s}"
        );
    }
}

/// Derives a key pair with both implementations from the same IKM and checks they agree,
/// then seals with each and opens with the other.
macro_rules! differential {
    ($name:ident, $suite:expr, $kem:ty, $kdf:ty, $aead:ty) => {
        #[test]
        fn $name() {
            let p = provider();
            let ops = p.suite(CipherSuite($suite)).unwrap();
            for i in 0..8u8 {
                let ikm = vec![i; 48];
                let ours = ops.hpke_derive_key_pair(&ikm).unwrap();
                let (sk, pk) = <$kem>::derive_keypair(&ikm);
                // The hpke crate serializes X25519 keys clamped (RFC 7748 §5); we keep the
                // unclamped string of RFC 9180 §7.1.3. Both denote the same scalar.
                let mut our_sk = ours.private.as_bytes().to_vec();
                if ops.params().kem == canopy_crypto::KemAlgorithm::DhKemX25519 {
                    our_sk[0] &= 248;
                    our_sk[31] &= 127;
                    our_sk[31] |= 64;
                }
                assert_eq!(our_sk, sk.to_bytes().as_slice());
                assert_eq!(ours.public.as_bytes(), pk.to_bytes().as_slice());

                let info = vec![i; 100 * usize::from(i)];
                let prepared = ops.hpke_prepare_info(&info);

                // hpke crate seals, we open.
                let (enc, ct) = ::hpke::single_shot_seal::<$aead, $kdf, $kem>(
                    &OpModeS::Base,
                    &pk,
                    &info,
                    b"from hpke",
                    b"aad",
                )
                .unwrap();
                let ours_ct = HpkeCiphertext {
                    kem_output: enc.to_bytes().to_vec(),
                    ciphertext: ct,
                };
                let pt = ops
                    .hpke_open(&ours.private, &ours_ct, &prepared, b"aad")
                    .unwrap();
                assert_eq!(pt.as_bytes(), b"from hpke");

                // We seal, the hpke crate opens.
                let sealed = ops
                    .hpke_seal(&ours.public, &prepared, b"aad2", b"from canopy")
                    .unwrap();
                let enc =
                    <$kem as ::hpke::Kem>::EncappedKey::from_bytes(&sealed.kem_output).unwrap();
                let pt = ::hpke::single_shot_open::<$aead, $kdf, $kem>(
                    &OpModeR::Base,
                    &sk,
                    &enc,
                    &info,
                    &sealed.ciphertext,
                    b"aad2",
                )
                .unwrap();
                assert_eq!(pt, b"from canopy");

                // Exporter (RFC 9180 §5.3): our sender export against the crate's receiver
                // context, and the reverse.
                let (kem_output, ours_secret) = ops
                    .hpke_export_seal(&ours.public, &prepared, b"exporter ctx", 32)
                    .unwrap();
                let enc = <$kem as ::hpke::Kem>::EncappedKey::from_bytes(&kem_output).unwrap();
                let ctx =
                    ::hpke::setup_receiver::<$aead, $kdf, $kem>(&OpModeR::Base, &sk, &enc, &info)
                        .unwrap();
                let mut theirs = [0u8; 32];
                ctx.export(b"exporter ctx", &mut theirs).unwrap();
                assert_eq!(ours_secret.as_bytes(), theirs.as_slice());
                let (enc, ctx) =
                    ::hpke::setup_sender::<$aead, $kdf, $kem>(&OpModeS::Base, &pk, &info).unwrap();
                let mut theirs = [0u8; 48];
                ctx.export(b"other", &mut theirs).unwrap();
                let ours_secret = ops
                    .hpke_export_open(&ours.private, &enc.to_bytes(), &prepared, b"other", 48)
                    .unwrap();
                assert_eq!(ours_secret.as_bytes(), theirs.as_slice());
            }
        }
    };
}

differential!(
    hpke_matches_hpke_crate_x25519_aes128,
    1,
    ::hpke::kem::X25519HkdfSha256,
    ::hpke::kdf::HkdfSha256,
    ::hpke::aead::AesGcm128
);
differential!(
    hpke_matches_hpke_crate_p256_aes128,
    2,
    ::hpke::kem::DhP256HkdfSha256,
    ::hpke::kdf::HkdfSha256,
    ::hpke::aead::AesGcm128
);
differential!(
    hpke_matches_hpke_crate_x25519_chacha,
    3,
    ::hpke::kem::X25519HkdfSha256,
    ::hpke::kdf::HkdfSha256,
    ::hpke::aead::ChaCha20Poly1305
);
differential!(
    hpke_matches_hpke_crate_p521_aes256,
    5,
    ::hpke::kem::DhP521HkdfSha512,
    ::hpke::kdf::HkdfSha512,
    ::hpke::aead::AesGcm256
);
differential!(
    hpke_matches_hpke_crate_p384_aes256,
    7,
    ::hpke::kem::DhP384HkdfSha384,
    ::hpke::kdf::HkdfSha384,
    ::hpke::aead::AesGcm256
);

#[test]
fn batch_verification_accepts_good_batches_and_rejects_any_bad_signature() {
    let p = provider();
    for suite in [CipherSuite(1), CipherSuite(2)] {
        let ops = p.suite(suite).unwrap();
        let keys: Vec<_> = (0..9)
            .map(|_| ops.signature_generate_key_pair().unwrap())
            .collect();
        let msgs: Vec<Vec<u8>> = (0..9u8).map(|i| vec![i; 40 + usize::from(i)]).collect();
        let sigs: Vec<Vec<u8>> = keys
            .iter()
            .zip(&msgs)
            .map(|(k, m)| ops.sign(&k.private, m).unwrap())
            .collect();
        fn checks<'a>(
            keys: &'a [SignatureKeyPair],
            msgs: &'a [Vec<u8>],
            sigs: &'a [Vec<u8>],
        ) -> Vec<canopy_crypto::SignatureCheck<'a>> {
            keys.iter()
                .zip(msgs)
                .zip(sigs)
                .map(|((k, m), s)| canopy_crypto::SignatureCheck {
                    public_key: &k.public,
                    message: m,
                    signature: s,
                })
                .collect()
        }
        ops.verify_batch(&checks(&keys, &msgs, &sigs)).unwrap();
        for bad in [0usize, 4, 8] {
            let mut tampered = sigs.clone();
            let last = tampered[bad].len() - 1;
            tampered[bad][last] ^= 1;
            assert!(
                ops.verify_batch(&checks(&keys, &msgs, &tampered)).is_err(),
                "suite {suite:?}"
            );
        }
        // A signature moved to another message fails too.
        let mut swapped = sigs.clone();
        swapped.swap(1, 2);
        assert!(ops.verify_batch(&checks(&keys, &msgs, &swapped)).is_err());
    }
}

#[test]
#[ignore = "prints timings"]
#[allow(clippy::disallowed_methods)]
fn ed25519_component_timings() {
    use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
    let sk = SigningKey::from_bytes(&[7u8; 32]);
    let msg = vec![0x5au8; 1100];
    let n = 2000u32;
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(SigningKey::from_bytes(&[7u8; 32]));
    }
    println!("SigningKey::from_bytes {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(sk.sign(&msg));
    }
    println!("sign (key built) {:?}", t.elapsed() / n);
    let sig = sk.sign(&msg);
    let vk_bytes = sk.verifying_key().to_bytes();
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(VerifyingKey::from_bytes(&vk_bytes).unwrap());
    }
    println!("VerifyingKey::from_bytes {:?}", t.elapsed() / n);
    let vk = VerifyingKey::from_bytes(&vk_bytes).unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        vk.verify_strict(&msg, &sig).unwrap();
    }
    println!("verify_strict (key built) {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        ed25519_dalek::Verifier::verify(&vk, &msg, &sig).unwrap();
    }
    println!("verify (key built) {:?}", t.elapsed() / n);
}

#[test]
fn the_signing_key_cache_never_signs_with_the_wrong_key() {
    let p = provider();
    let ops = p.suite(CipherSuite(1)).unwrap();
    let a = ops.signature_generate_key_pair().unwrap();
    let b = ops.signature_generate_key_pair().unwrap();
    for i in 0..6u8 {
        let (signer, other) = if i % 3 == 0 { (&b, &a) } else { (&a, &b) };
        let msg = vec![i; 100];
        let sig = ops.sign(&signer.private, &msg).unwrap();
        ops.verify(&signer.public, &msg, &sig).unwrap();
        assert!(ops.verify(&other.public, &msg, &sig).is_err());
    }
}

#[test]
fn the_verifying_key_cache_refuses_weak_keys_and_never_mixes_keys_up() {
    let p = provider();
    let ops = p.suite(CipherSuite(1)).unwrap();
    // More keys than the cache holds, each used twice, in two rounds: hits and evictions.
    let keys: Vec<_> = (0..sig::VERIFIER_CACHE_SIZE + 8)
        .map(|_| ops.signature_generate_key_pair().unwrap())
        .collect();
    let msg = b"cached verification".to_vec();
    let sigs: Vec<Vec<u8>> = keys
        .iter()
        .map(|k| ops.sign(&k.private, &msg).unwrap())
        .collect();
    for _ in 0..2 {
        for (i, (k, s)) in keys.iter().zip(&sigs).enumerate() {
            ops.verify(&k.public, &msg, s).unwrap();
            ops.verify(&k.public, &msg, s).unwrap();
            let other = &keys[(i + 1) % keys.len()];
            assert_eq!(
                ops.verify(&other.public, &msg, s),
                Err(CryptoError::InvalidSignature)
            );
            let mut tampered = msg.clone();
            tampered.push(0);
            assert_eq!(
                ops.verify(&k.public, &tampered, s),
                Err(CryptoError::InvalidSignature)
            );
        }
    }
    // The identity point (y = 1) has small order: refused every time, never cached.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = SignaturePublicKey::new(identity.to_vec());
    for _ in 0..2 {
        assert_eq!(
            ops.verify(&weak, &msg, &sigs[0]),
            Err(CryptoError::InvalidPublicKey)
        );
    }
    assert_eq!(
        ops.verify(&SignaturePublicKey::new(vec![1; 31]), &msg, &sigs[0]),
        Err(CryptoError::InvalidPublicKey)
    );
}
