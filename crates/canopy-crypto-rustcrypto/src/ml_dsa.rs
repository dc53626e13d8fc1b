//! ML-DSA (FIPS 204) signatures: ML-DSA-44, ML-DSA-65 and ML-DSA-87 on RustCrypto's `ml-dsa`,
//! for the post-quantum suites that sign with them (OpenMLS's profile; TLS code points 0x0904
//! to 0x0906).
//!
//! - A private key is the 32-byte seed `ξ` of FIPS 204 §6.1 `ML-DSA.KeyGen_internal`; the
//!   expanded key is recomputed from it for each signature.
//! - A public key is `pkEncode(ρ, t1)` (§7.2), of 1,312, 1,952 or 2,592 bytes.
//! - Signing is pure ML-DSA (`ML-DSA.Sign`, §5.2) with an empty context string, in its
//!   deterministic variant (no fresh randomness: the same message and key give the same
//!   signature); a signature is `sigEncode` (§7.2), of 2,420, 3,309 or 4,627 bytes.
//! - Verification is `ML-DSA.Verify` (§5.3) with an empty context: the one acceptance rule
//!   for each of the three schemes. A signature whose hint encoding is malformed, or of the
//!   wrong length, is refused before the equation.

use canopy_crypto::{CryptoError, SignatureScheme};
use ml_dsa::signature::{Signer, Verifier};

/// `mldsa44` (TLS 0x0904).
pub(crate) const MLDSA44: SignatureScheme = SignatureScheme(0x0904);
/// `mldsa65` (TLS 0x0905).
pub(crate) const MLDSA65: SignatureScheme = SignatureScheme(0x0905);
/// `mldsa87` (TLS 0x0906).
pub(crate) const MLDSA87: SignatureScheme = SignatureScheme(0x0906);

/// The seed length of every ML-DSA private key.
pub(crate) const SEED_LEN: usize = 32;

/// Whether `scheme` is one of the three ML-DSA parameter sets.
pub(crate) fn is_ml_dsa(scheme: SignatureScheme) -> bool {
    matches!(scheme, MLDSA44 | MLDSA65 | MLDSA87)
}

fn seed(sk: &[u8]) -> Result<ml_dsa::Seed, CryptoError> {
    ml_dsa::Seed::try_from(sk).map_err(|_| CryptoError::InvalidPrivateKey)
}

macro_rules! params {
    ($name:ident, $p:ty) => {
        mod $name {
            use super::*;

            pub(super) fn sign(sk: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
                let key = ml_dsa::SigningKey::<$p>::from_seed(&seed(sk)?);
                let signature: ml_dsa::Signature<$p> = key
                    .try_sign(msg)
                    .map_err(|_| CryptoError::InvalidPrivateKey)?;
                Ok(signature.encode().to_vec())
            }

            pub(super) fn public_key(sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
                let key = ml_dsa::SigningKey::<$p>::from_seed(&seed(sk)?);
                Ok(ml_dsa::signature::Keypair::verifying_key(&key)
                    .encode()
                    .to_vec())
            }

            pub(super) fn verify(pk: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
                let encoded = ml_dsa::EncodedVerifyingKey::<$p>::try_from(pk)
                    .map_err(|_| CryptoError::InvalidPublicKey)?;
                let key = ml_dsa::VerifyingKey::<$p>::decode(&encoded);
                let encoded = ml_dsa::EncodedSignature::<$p>::try_from(sig)
                    .map_err(|_| CryptoError::InvalidSignature)?;
                let signature = ml_dsa::Signature::<$p>::decode(&encoded)
                    .ok_or(CryptoError::InvalidSignature)?;
                key.verify(msg, &signature)
                    .map_err(|_| CryptoError::InvalidSignature)
            }
        }
    };
}

params!(p44, ml_dsa::MlDsa44);
params!(p65, ml_dsa::MlDsa65);
params!(p87, ml_dsa::MlDsa87);

/// `ML-DSA.Sign(sk, msg, ctx = "")`, deterministic.
pub(crate) fn sign(scheme: SignatureScheme, sk: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match scheme {
        MLDSA44 => p44::sign(sk, msg),
        MLDSA65 => p65::sign(sk, msg),
        MLDSA87 => p87::sign(sk, msg),
        _ => Err(CryptoError::InvalidPrivateKey),
    }
}

/// The encoded public key of the seed `sk`.
pub(crate) fn public_key(scheme: SignatureScheme, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match scheme {
        MLDSA44 => p44::public_key(sk),
        MLDSA65 => p65::public_key(sk),
        MLDSA87 => p87::public_key(sk),
        _ => Err(CryptoError::InvalidPrivateKey),
    }
}

/// `ML-DSA.Verify(pk, msg, sig, ctx = "")`.
pub(crate) fn verify(
    scheme: SignatureScheme,
    pk: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    match scheme {
        MLDSA44 => p44::verify(pk, msg, sig),
        MLDSA65 => p65::verify(pk, msg, sig),
        MLDSA87 => p87::verify(pk, msg, sig),
        _ => Err(CryptoError::InvalidPublicKey),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn sign_and_verify_and_refuse_tampering_for_each_parameter_set() {
        for (scheme, pk_len, sig_len) in [
            (MLDSA44, 1312, 2420),
            (MLDSA65, 1952, 3309),
            (MLDSA87, 2592, 4627),
        ] {
            let sk = [7u8; SEED_LEN];
            let pk = public_key(scheme, &sk).unwrap();
            assert_eq!(pk.len(), pk_len);
            let sig = sign(scheme, &sk, b"message").unwrap();
            assert_eq!(sig.len(), sig_len);
            // Deterministic.
            assert_eq!(sig, sign(scheme, &sk, b"message").unwrap());
            verify(scheme, &pk, b"message", &sig).unwrap();
            assert!(verify(scheme, &pk, b"messagf", &sig).is_err());
            let mut bad = sig.clone();
            bad[10] ^= 1;
            assert!(verify(scheme, &pk, b"message", &bad).is_err());
            assert!(verify(scheme, &pk, b"message", &sig[1..]).is_err());
            assert!(verify(scheme, &pk[1..], b"message", &sig).is_err());
            let other = public_key(scheme, &[8u8; SEED_LEN]).unwrap();
            assert!(verify(scheme, &other, b"message", &sig).is_err());
            assert!(sign(scheme, &sk[1..], b"m").is_err());
        }
    }

    /// The `ml-dsa` crate's own signer (the one OpenMLS's `openmls_basic_credential` uses:
    /// `Signer::sign` on a key from the seed) verifies under ours, and ours under its verifier.
    #[test]
    fn matches_the_ml_dsa_crate_signer_and_verifier() {
        let sk = [3u8; SEED_LEN];
        let key = ml_dsa::SigningKey::<ml_dsa::MlDsa65>::from_seed(&seed(&sk).unwrap());
        let theirs: ml_dsa::Signature<ml_dsa::MlDsa65> = key.sign(b"tbs");
        let pk = public_key(MLDSA65, &sk).unwrap();
        verify(MLDSA65, &pk, b"tbs", &theirs.encode()).unwrap();
        let ours = sign(MLDSA65, &sk, b"tbs2").unwrap();
        let vk = ml_dsa::signature::Keypair::verifying_key(&key);
        let sig = ml_dsa::Signature::<ml_dsa::MlDsa65>::decode(
            &ml_dsa::EncodedSignature::<ml_dsa::MlDsa65>::try_from(ours.as_slice()).unwrap(),
        )
        .unwrap();
        vk.verify(b"tbs2", &sig).unwrap();
    }
}
