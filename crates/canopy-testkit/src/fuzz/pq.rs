//! The post-quantum KEM target: a peer's HPKE public keys and KEM outputs on every
//! post-quantum suite, through the checks a received key or ciphertext meets (an UpdatePath
//! node key, a KeyPackage's init key, a Welcome's or path's HPKE ciphertext).
//!
//! Input: one mode byte, then the bytes the operation takes. The mode's low nibble picks one
//! of eight suites (one per post-quantum KEM and key derivation), its high nibble the
//! operation:
//! - 0, validate: the rest is a public key; an accepted key can be sealed to.
//! - 1, open: the rest is a KEM output and a ciphertext (split at the KEM's `Nenc`), opened
//!   with a fixed key pair.
//! - 2, derive: the rest is the `ikm` of `DeriveKeyPair`; the pair's public key is valid and
//!   is the private key's.
//! - 3, seal and open: the rest is the `ikm` of a key pair; sealing to it and opening gives
//!   the plaintext back.

use canopy_crypto::{
    AeadAlgorithm, CipherSuite, CryptoProvider, HashAlgorithm, HpkeCiphertext, HpkePublicKey,
    KemAlgorithm, PqKeyDerivation, SignatureScheme, SuiteOps, SuiteParams, SuiteProfile,
};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use super::mutate::must;

/// The QSF hybrids, which no shipped profile numbers.
const QSF: &[SuiteParams] = &[
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

/// The profile suites the target picks from (X-Wing, ML-KEM-768 and -1024 with SHAKE256,
/// ML-KEM-768 with the seed as ikm, ML-KEM-768 with Ed25519, X-Wing with ChaCha20), before
/// the two QSF hybrids.
const SUITES: [(SuiteProfile, u16); 6] = [
    (SuiteProfile::OPENMLS, 0x004F),
    (SuiteProfile::OPENMLS, 0x0050),
    (SuiteProfile::OPENMLS, 0x0042),
    (SuiteProfile::TS_MLS, 0x004F),
    (SuiteProfile::OPENMLS, 0xF042),
    (SuiteProfile::OPENMLS, 0x004D),
];

/// The provider and suite of index `index` (for the seeds).
pub(crate) fn provider_for_seeds(index: usize) -> Option<(RustCryptoProvider, CipherSuite)> {
    provider(index)
}

fn provider(index: usize) -> Option<(RustCryptoProvider, CipherSuite)> {
    let qsf = SuiteProfile::custom("qsf", QSF).ok()?;
    // Six profile suites, then the two QSF ones.
    match index {
        0..=5 => {
            let (profile, code) = SUITES.get(index)?;
            Some((
                RustCryptoProvider::new().with_profile(*profile).ok()?,
                CipherSuite(*code),
            ))
        }
        6 | 7 => Some((
            RustCryptoProvider::new().with_profile(qsf).ok()?,
            QSF.get(index - 6)?.suite,
        )),
        _ => None,
    }
}

/// Runs the operation of `data`. Findings: a panic, an accepted key that cannot be sealed
/// to, a derived key pair that does not fit together, a round trip that loses the plaintext.
pub fn pq_kem(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((provider, suite)) = provider(usize::from(mode & 0x0F) % 8) else {
        return;
    };
    let Ok(ops) = provider.suite(suite) else {
        return;
    };
    let info = ops.hpke_prepare_info(b"fuzz");
    match (mode >> 4) % 4 {
        0 => {
            let key = HpkePublicKey::new(rest.to_vec());
            if ops.hpke_validate_public_key(&key).is_ok() {
                assert!(
                    ops.hpke_seal(&key, &info, b"", b"m").is_ok(),
                    "an accepted key cannot be sealed to"
                );
            }
        }
        1 => {
            let Ok(pair) = ops.hpke_derive_key_pair(&target_ikm(ops)) else {
                return;
            };
            let n = ops.params().kem.enc_len().min(rest.len());
            let (kem_output, ciphertext) = rest.split_at(n);
            let ct = HpkeCiphertext {
                kem_output: kem_output.to_vec(),
                ciphertext: ciphertext.to_vec(),
            };
            let _ = ops.hpke_open(&pair.private, &ct, &info, b"");
        }
        2 => derive(ops, rest),
        _ => {
            let Ok(pair) = ops.hpke_derive_key_pair(rest) else {
                return;
            };
            let ct = must(
                ops.hpke_seal(&pair.public, &info, b"aad", rest),
                "sealing to a derived key",
            );
            let pt = must(
                ops.hpke_open(&pair.private, &ct, &info, b"aad"),
                "opening what was sealed",
            );
            assert_eq!(pt.as_bytes(), rest, "the round trip lost the plaintext");
        }
    }
}

/// The `ikm` of the target's fixed key pair: `Nsk` bytes, which every derivation takes.
pub(crate) fn target_ikm(ops: &dyn SuiteOps) -> Vec<u8> {
    vec![0x5A; ops.params().kem.private_key_len()]
}

fn derive(ops: &dyn SuiteOps, ikm: &[u8]) {
    let Ok(pair) = ops.hpke_derive_key_pair(ikm) else {
        return;
    };
    assert!(
        ops.hpke_validate_public_key(&pair.public).is_ok(),
        "a derived public key is refused"
    );
    let public = must(
        ops.hpke_public_key(&pair.private),
        "the public key of a derived private key",
    );
    assert_eq!(
        public.as_bytes(),
        pair.public.as_bytes(),
        "the derived pair does not fit together"
    );
}
