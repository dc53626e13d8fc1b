#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use ::hpke::{Deserializable, Kem as HpkeKem, OpModeR, OpModeS, Serializable};
use canopy_crypto::{
    CipherSuite, CryptoProvider, HpkeCiphertext, KemAlgorithm, PqKeyDerivation, SuiteProfile,
};

use crate::DeterministicRandom;

fn ops(profile: SuiteProfile, suite: u16) -> (crate::RustCryptoProvider, CipherSuite) {
    (
        DeterministicRandom::provider_with(9, profile),
        CipherSuite(suite),
    )
}

/// Our keys, HPKE seal/open and the exporter against the `hpke` crate's ML-KEM and X-Wing
/// (draft-ietf-hpke-pq), both ways. The key pairs come from our `DeriveKeyPair` and are
/// loaded into the crate from their seeds (its own `DeriveKeyPair` is the newer labelled
/// SHAKE256 derivation of draft-ietf-hpke-pq-04, which no deployed MLS peer uses).
macro_rules! differential {
    ($name:ident, $profile:expr, $suite:expr, $kem:ty, $kdf:ty, $aead:ty) => {
        #[test]
        fn $name() {
            let (p, suite) = ops($profile, $suite);
            let ops = p.suite(suite).unwrap();
            for i in 0..4u8 {
                // Nsk bytes, as TreeKEM's node secrets are for ts-mls's ML-KEM suites, whose
                // seed is the ikm itself.
                let ikm = vec![i; ops.params().kem.private_key_len()];
                let ours = ops.hpke_derive_key_pair(&ikm).unwrap();
                assert_eq!(
                    ours.private.as_bytes().len(),
                    ops.params().kem.private_key_len()
                );
                let sk =
                    <$kem as HpkeKem>::PrivateKey::from_bytes(ours.private.as_bytes()).unwrap();
                let pk = <$kem as HpkeKem>::sk_to_pk(&sk);
                assert_eq!(ours.public.as_bytes(), pk.to_bytes().as_slice());
                assert_eq!(
                    ops.hpke_public_key(&ours.private).unwrap().as_bytes(),
                    ours.public.as_bytes()
                );
                ops.hpke_validate_public_key(&ours.public).unwrap();

                let info = vec![i; 300 * usize::from(i)];
                let prepared = ops.hpke_prepare_info(&info);

                let (enc, ct) = ::hpke::single_shot_seal::<$aead, $kdf, $kem>(
                    &OpModeS::Base,
                    &pk,
                    &info,
                    b"from hpke",
                    b"aad",
                )
                .unwrap();
                assert_eq!(enc.to_bytes().len(), ops.params().kem.enc_len());
                let theirs = HpkeCiphertext {
                    kem_output: enc.to_bytes().to_vec(),
                    ciphertext: ct,
                };
                let pt = ops
                    .hpke_open(&ours.private, &theirs, &prepared, b"aad")
                    .unwrap();
                assert_eq!(pt.as_bytes(), b"from hpke");

                let sealed = ops
                    .hpke_seal(&ours.public, &prepared, b"aad2", b"from canopy")
                    .unwrap();
                assert_eq!(sealed.kem_output.len(), ops.params().kem.enc_len());
                let enc = <$kem as HpkeKem>::EncappedKey::from_bytes(&sealed.kem_output).unwrap();
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

                let (kem_output, ours_secret) = ops
                    .hpke_export_seal(&ours.public, &prepared, b"exporter ctx", 32)
                    .unwrap();
                let enc = <$kem as HpkeKem>::EncappedKey::from_bytes(&kem_output).unwrap();
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
    xwing_hkdf_sha256_aes128_matches_hpke_crate,
    SuiteProfile::OPENMLS,
    0x004F,
    ::hpke::kem::XWing,
    ::hpke::kdf::HkdfSha256,
    ::hpke::aead::AesGcm128
);
differential!(
    xwing_hkdf_sha512_chacha_matches_hpke_crate,
    SuiteProfile::TS_MLS,
    0x0054,
    ::hpke::kem::XWing,
    ::hpke::kdf::HkdfSha512,
    ::hpke::aead::ChaCha20Poly1305
);
differential!(
    mlkem768_hkdf_sha384_aes256_matches_hpke_crate,
    SuiteProfile::OPENMLS,
    0x0050,
    ::hpke::kem::MlKem768,
    ::hpke::kdf::HkdfSha384,
    ::hpke::aead::AesGcm256
);
differential!(
    mlkem768_with_hpke_kdf_other_than_the_suite_hash_matches_hpke_crate,
    SuiteProfile::TS_MLS,
    0x004F,
    ::hpke::kem::MlKem768,
    ::hpke::kdf::HkdfSha512,
    ::hpke::aead::AesGcm256
);
differential!(
    mlkem1024_hkdf_sha384_aes256_matches_hpke_crate,
    SuiteProfile::OPENMLS,
    0x0042,
    ::hpke::kem::MlKem1024,
    ::hpke::kdf::HkdfSha384,
    ::hpke::aead::AesGcm256
);

/// The QSF hybrids under private code points, with the HPKE PQ draft's labelled
/// `DeriveKeyPair`, as an application would run them (`SuiteProfile::custom`).
const QSF_SUITES: &[canopy_crypto::SuiteParams] = &[
    canopy_crypto::SuiteParams::new(
        CipherSuite(0xF050),
        KemAlgorithm::MlKem768P256,
        canopy_crypto::HashAlgorithm::Sha384,
        canopy_crypto::AeadAlgorithm::Aes256Gcm,
        canopy_crypto::SignatureScheme::ECDSA_SECP256R1_SHA256,
    )
    .with_pq_derivation(PqKeyDerivation::LabeledShake256),
    canopy_crypto::SuiteParams::new(
        CipherSuite(0xF051),
        KemAlgorithm::MlKem1024P384,
        canopy_crypto::HashAlgorithm::Sha384,
        canopy_crypto::AeadAlgorithm::Aes256Gcm,
        canopy_crypto::SignatureScheme::ECDSA_SECP384R1_SHA384,
    )
    .with_pq_derivation(PqKeyDerivation::LabeledShake256),
];

fn qsf_profile() -> SuiteProfile {
    SuiteProfile::custom("qsf-test", QSF_SUITES).unwrap()
}

differential!(
    mlkem768_p256_hkdf_sha384_aes256_matches_hpke_crate,
    qsf_profile(),
    0xF050,
    ::hpke::kem::MlKem768P256,
    ::hpke::kdf::HkdfSha384,
    ::hpke::aead::AesGcm256
);
differential!(
    mlkem1024_p384_hkdf_sha384_aes256_matches_hpke_crate,
    qsf_profile(),
    0xF051,
    ::hpke::kem::MlKem1024P384,
    ::hpke::kdf::HkdfSha384,
    ::hpke::aead::AesGcm256
);

/// `LabeledShake256` is the `hpke` crate's own `DeriveKeyPair` (`draft-ietf-hpke-pq`), for
/// every post-quantum KEM.
#[test]
fn labeled_derivation_is_the_hpke_pq_drafts_derive_key_pair() {
    fn check<K: HpkeKem>(kem: KemAlgorithm) {
        let ours = super::PqKem::with_derivation(kem, PqKeyDerivation::LabeledShake256).unwrap();
        for ikm in [&b""[..], b"node secret", &[7u8; 64]] {
            let pair = ours.derive_key_pair(ikm).unwrap();
            let (sk, pk) = K::derive_keypair(ikm);
            assert_eq!(pair.private.as_bytes(), sk.to_bytes().as_slice(), "{kem:?}");
            assert_eq!(pair.public.as_bytes(), pk.to_bytes().as_slice(), "{kem:?}");
        }
    }
    check::<::hpke::kem::MlKem768>(KemAlgorithm::MlKem768);
    check::<::hpke::kem::MlKem1024>(KemAlgorithm::MlKem1024);
    check::<::hpke::kem::XWing>(KemAlgorithm::XWingDraft06);
    check::<::hpke::kem::MlKem768P256>(KemAlgorithm::MlKem768P256);
    check::<::hpke::kem::MlKem1024P384>(KemAlgorithm::MlKem1024P384);
}

/// A QSF key or ciphertext whose group half is no point, or not uncompressed, is refused;
/// so is one whose ML-KEM half fails the modulus check.
#[test]
fn qsf_keys_and_ciphertexts_with_a_bad_half_are_refused() {
    let p = DeterministicRandom::provider_with(5, qsf_profile());
    for (suite, nek, nct) in [(0xF050, 1184, 1088), (0xF051, 1568, 1568)] {
        let ops = p.suite(CipherSuite(suite)).unwrap();
        let pair = ops.hpke_generate_key_pair().unwrap();
        ops.hpke_validate_public_key(&pair.public).unwrap();
        let info = ops.hpke_prepare_info(b"info");
        let ct = ops.hpke_seal(&pair.public, &info, b"", b"m").unwrap();
        let bad_key = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut k = pair.public.as_bytes().to_vec();
            f(&mut k);
            ops.hpke_validate_public_key(&canopy_crypto::HpkePublicKey::new(k))
                .is_err()
        };
        // Compressed-point prefix, a point off the curve, an ML-KEM coefficient of q.
        assert!(bad_key(&|k| k[nek] = 0x02));
        assert!(bad_key(&|k| {
            let last = k.len() - 1;
            k[last] ^= 1;
        }));
        assert!(bad_key(&|k| {
            k[0] = 0xff;
            k[1] |= 0x0f;
        }));
        assert!(
            ops.hpke_seal(
                &canopy_crypto::HpkePublicKey::new(vec![0; 10]),
                &info,
                b"",
                b"m"
            )
            .is_err()
        );
        // A ciphertext whose group half is off the curve.
        let mut off = ct.clone();
        let last = off.kem_output.len() - 1;
        off.kem_output[last] ^= 1;
        assert!(ops.hpke_open(&pair.private, &off, &info, b"").is_err());
        let mut prefix = ct.clone();
        prefix.kem_output[nct] = 0x03;
        assert!(ops.hpke_open(&pair.private, &prefix, &info, b"").is_err());
        assert_eq!(
            ops.hpke_open(&pair.private, &ct, &info, b"")
                .unwrap()
                .as_bytes(),
            b"m"
        );
    }
}

#[test]
fn derive_key_pair_is_shake256_of_the_ikm_then_the_seed_key_pair() {
    use shake::{ExtendableOutput, Update, XofReader};
    for (kem, n) in [
        (KemAlgorithm::XWingDraft06, 32),
        (KemAlgorithm::MlKem768, 64),
        (KemAlgorithm::MlKem1024, 64),
        (KemAlgorithm::MlKem768P256, 32),
        (KemAlgorithm::MlKem1024P384, 32),
    ] {
        let k = super::PqKem::new(kem).unwrap();
        let pair = k.derive_key_pair(b"node secret").unwrap();
        let mut want = vec![0u8; n];
        let mut h = shake::Shake256::default();
        h.update(b"node secret");
        h.finalize_xof().read(&mut want);
        assert_eq!(pair.private.as_bytes(), want.as_slice());
        assert_eq!(pair.public.as_bytes().len(), kem.public_key_len());
    }
    assert!(super::PqKem::new(KemAlgorithm::DhKemX25519).is_none());
}

#[test]
fn ikm_is_seed_derivation_takes_exactly_nsk_bytes_as_the_seed() {
    let k =
        super::PqKem::with_derivation(KemAlgorithm::MlKem768, PqKeyDerivation::IkmIsSeed).unwrap();
    let pair = k.derive_key_pair(&[9; 64]).unwrap();
    assert_eq!(pair.private.as_bytes(), &[9; 64]);
    let shake = super::PqKem::new(KemAlgorithm::MlKem768).unwrap();
    assert_eq!(
        pair.public.as_bytes(),
        shake.public_key(&[9; 64]).unwrap().as_slice()
    );
    assert_ne!(
        pair.public.as_bytes(),
        shake.derive_key_pair(&[9; 64]).unwrap().public.as_bytes()
    );
    assert!(k.derive_key_pair(&[9; 48]).is_err());
    assert!(k.derive_key_pair(&[9; 65]).is_err());
}

#[test]
fn every_pq_suite_of_every_profile_seals_and_opens() {
    for profile in SuiteProfile::ALL {
        let p = DeterministicRandom::provider_with(3, profile);
        for params in profile.suites() {
            let ops = p.suite(params.suite).unwrap();
            assert_eq!(ops.params(), *params);
            let pair = ops.hpke_generate_key_pair().unwrap();
            let info = ops.hpke_prepare_info(b"info");
            let ct = ops.hpke_seal(&pair.public, &info, b"a", b"hello").unwrap();
            let pt = ops.hpke_open(&pair.private, &ct, &info, b"a").unwrap();
            assert_eq!(pt.as_bytes(), b"hello");
            // Another key's ciphertext: ML-KEM's implicit rejection, then the AEAD fails.
            let other = ops.hpke_generate_key_pair().unwrap();
            assert!(ops.hpke_open(&other.private, &ct, &info, b"a").is_err());
            // A KEM output of the wrong length.
            let mut short = ct.clone();
            short.kem_output.pop();
            assert!(ops.hpke_open(&pair.private, &short, &info, b"a").is_err());
        }
    }
}

#[test]
fn invalid_public_keys_are_refused() {
    for kem in [
        KemAlgorithm::XWingDraft06,
        KemAlgorithm::MlKem768,
        KemAlgorithm::MlKem1024,
    ] {
        let k = super::PqKem::new(kem).unwrap();
        let good = k.derive_key_pair(b"x").unwrap().public.into_bytes();
        k.validate_public_key(&good).unwrap();
        // Wrong lengths.
        assert!(k.validate_public_key(&good[1..]).is_err());
        let mut long = good.clone();
        long.push(0);
        assert!(k.validate_public_key(&long).is_err());
        assert!(
            k.encap(&long, &[0; 64][..kem.encap_randomness_len()])
                .is_err()
        );
        // FIPS 203 §7.2 modulus check: the first coefficient 0xfff >= q = 3329.
        let mut off = good.clone();
        off[0] = 0xff;
        off[1] |= 0x0f;
        assert!(k.validate_public_key(&off).is_err());
        assert!(
            k.encap(&off, &[0; 64][..kem.encap_randomness_len()])
                .is_err()
        );
    }
    // X-Wing with a low-order X25519 half (u = 0, u = 1, and u = p + 1 with the top bit set).
    let k = super::PqKem::new(KemAlgorithm::XWingDraft06).unwrap();
    let good = k.derive_key_pair(b"y").unwrap().public.into_bytes();
    let mut p_plus_1 = [0xffu8; 32];
    p_plus_1[0] = 0xee;
    for x in [
        [0u8; 32],
        {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        },
        p_plus_1,
    ] {
        let mut bad = good.clone();
        bad[1184..].copy_from_slice(&x);
        assert!(k.validate_public_key(&bad).is_err());
    }
}

#[test]
fn encapsulation_randomness_of_the_wrong_length_is_an_error() {
    let k = super::PqKem::new(KemAlgorithm::MlKem768).unwrap();
    let pk = k.derive_key_pair(b"z").unwrap().public.into_bytes();
    assert!(k.encap(&pk, &[1; 31]).is_err());
    let (ss1, enc1) = k.encap(&pk, &[1; 32]).unwrap();
    let (ss2, enc2) = k.encap(&pk, &[1; 32]).unwrap();
    assert_eq!((ss1.as_bytes(), &enc1), (ss2.as_bytes(), &enc2));
}

#[test]
fn our_xwing_decapsulation_matches_the_x_wing_crate() {
    use ml_kem::Decapsulate;
    let k = super::PqKem::new(KemAlgorithm::XWingDraft06).unwrap();
    for i in 0..8u8 {
        let pair = k.derive_key_pair(&[i; 40]).unwrap();
        let (ss, enc) = k.encap(pair.public.as_bytes(), &[i ^ 0x5a; 64]).unwrap();
        let seed: [u8; 32] = pair.private.as_bytes().try_into().unwrap();
        let theirs = x_wing::DecapsulationKey::from(seed)
            .decapsulate_slice(&enc)
            .unwrap();
        let ours = k.decap(&enc, pair.private.as_bytes()).unwrap();
        assert_eq!(ours.as_bytes(), theirs.as_slice());
        assert_eq!(ours.as_bytes(), ss.as_bytes());
        // A ciphertext for another key: both give the same (implicitly rejected) secret.
        let other = k.derive_key_pair(&[i; 41]).unwrap();
        let seed: [u8; 32] = other.private.as_bytes().try_into().unwrap();
        let theirs = x_wing::DecapsulationKey::from(seed)
            .decapsulate_slice(&enc)
            .unwrap();
        let ours = k.decap(&enc, other.private.as_bytes()).unwrap();
        assert_eq!(ours.as_bytes(), theirs.as_slice());
        assert_ne!(ours.as_bytes(), ss.as_bytes());
    }
}
