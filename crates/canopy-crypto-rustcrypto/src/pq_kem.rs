//! The post-quantum KEMs of the PQ cipher-suite draft: ML-KEM-768 and ML-KEM-1024 (FIPS 203,
//! RustCrypto's `ml-kem`), X-Wing (`draft-connolly-cfrg-xwing-kem-06`, RustCrypto's
//! `x-wing`) and the QSF hybrids MLKEM768-P256 and MLKEM1024-P384 ([`crate::qsf`]), as HPKE
//! KEMs.
//!
//! - A private key is the seed: 64 bytes `d || z` for ML-KEM (FIPS 203 §7.1
//!   `ML-KEM.KeyGen_internal`), 32 bytes for X-Wing (draft 06 §5.2). The expanded key is
//!   recomputed from it when needed and never stored.
//! - `DeriveKeyPair(ikm)`: `seed = SHAKE256(ikm, Nsk)`, then key generation from the seed
//!   (X-Wing draft 06 §5.4 "Use in HPKE"; `draft-connolly-cfrg-hpke-mlkem` for ML-KEM), the
//!   derivation OpenMLS (hpke-rs) and ts-mls (hpke-js) use; or, as the suite's profile says,
//!   the seed itself, or the labelled `SHAKE256.LabeledDerive` of `draft-ietf-hpke-pq-03`.
//! - `Encap` draws its randomness from the provider's source and encapsulates
//!   deterministically with it, so that seeded tests replay.
//! - X-Wing's `Decap` is composed here (draft 06 §5.3: ML-KEM-768 decapsulation, X25519,
//!   the SHA3-256 combiner) from the seed expanded once; the `x-wing` crate's expands the
//!   seed twice, once to make the key and once to decapsulate, and the expansion (an
//!   ML-KEM key generation) is most of the cost of processing a commit. It is checked
//!   against the crate's in the tests.
//! - A received public key must be of `Npk` bytes and pass FIPS 203's modulus check (§7.2,
//!   every coefficient below q); for X-Wing the X25519 half must moreover not be a point of
//!   low order, with which X25519 gives zero whatever the private key (X-Wing would then rest
//!   on ML-KEM alone; an honest key never is one).

use canopy_crypto::{
    CryptoError, HpkeKeyPair, HpkePrivateKey, HpkePublicKey, KemAlgorithm, PqKeyDerivation, Secret,
};
use ml_kem::{Decapsulate, KeyExport, TryKeyInit};
use shake::{ExtendableOutput, Update, XofReader};
use zeroize::Zeroizing;

use crate::qsf::Qsf;

/// One post-quantum KEM.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PqKem {
    kem: KemAlgorithm,
    derivation: PqKeyDerivation,
}

/// `SHAKE256(ikm, N)`.
fn shake256<const N: usize>(ikm: &[u8]) -> Zeroizing<[u8; N]> {
    let mut out = Zeroizing::new([0u8; N]);
    let mut h = shake::Shake256::default();
    h.update(ikm);
    h.finalize_xof().read(out.as_mut());
    out
}

/// The bytes of a shared secret the KEM crates return in an `Array`, which is zeroized once
/// copied (the caller keeps them in a zeroizing `Secret`).
pub(crate) fn take<A: AsRef<[u8]> + zeroize::Zeroize>(mut secret: A) -> Vec<u8> {
    let out = secret.as_ref().to_vec();
    secret.zeroize();
    out
}

fn seed64(sk: &[u8]) -> Result<ml_kem::Seed, CryptoError> {
    ml_kem::Seed::try_from(sk).map_err(|_| CryptoError::InvalidPrivateKey)
}

fn seed32(sk: &[u8]) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let seed: [u8; 32] = sk.try_into().map_err(|_| CryptoError::InvalidPrivateKey)?;
    Ok(Zeroizing::new(seed))
}

impl PqKem {
    /// The KEM, if `kem` is one of the post-quantum ones, with `DeriveKeyPair` by
    /// `SHAKE256(ikm, Nsk)`.
    #[cfg(test)]
    pub(crate) fn new(kem: KemAlgorithm) -> Option<Self> {
        Self::with_derivation(kem, PqKeyDerivation::Shake256)
    }

    /// The KEM with the given `DeriveKeyPair` seed derivation.
    pub(crate) fn with_derivation(kem: KemAlgorithm, derivation: PqKeyDerivation) -> Option<Self> {
        kem.is_post_quantum().then_some(Self { kem, derivation })
    }

    fn check_len(&self, pk: &[u8]) -> Result<(), CryptoError> {
        if pk.len() == self.kem.public_key_len() {
            Ok(())
        } else {
            Err(CryptoError::InvalidPublicKey)
        }
    }

    /// `SerializePublicKey(pk(sk))`: the encapsulation key of the seed `sk`.
    pub(crate) fn public_key(&self, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if let Some(q) = Qsf::new(self.kem) {
            return q.public_key(sk);
        }
        match self.kem {
            KemAlgorithm::MlKem768 => {
                let dk = ml_kem::DecapsulationKey768::from_seed(seed64(sk)?);
                Ok(dk.encapsulation_key().to_bytes().to_vec())
            }
            KemAlgorithm::MlKem1024 => {
                let dk = ml_kem::DecapsulationKey1024::from_seed(seed64(sk)?);
                Ok(dk.encapsulation_key().to_bytes().to_vec())
            }
            _ => {
                let dk = x_wing::DecapsulationKey::from(*seed32(sk)?);
                Ok(ml_kem::kem::Decapsulator::encapsulation_key(&dk)
                    .to_bytes()
                    .to_vec())
            }
        }
    }

    /// Checks a received public key (see the module docs).
    pub(crate) fn validate_public_key(&self, pk: &[u8]) -> Result<(), CryptoError> {
        if let Some(q) = Qsf::new(self.kem) {
            return q.validate_public_key(pk);
        }
        self.check_len(pk)?;
        let parsed = match self.kem {
            KemAlgorithm::MlKem768 => ml_kem::EncapsulationKey768::new_from_slice(pk).map(|_| ()),
            KemAlgorithm::MlKem1024 => ml_kem::EncapsulationKey1024::new_from_slice(pk).map(|_| ()),
            _ => {
                let x = pk
                    .get(1184..)
                    .and_then(|x| <[u8; 32]>::try_from(x).ok())
                    .ok_or(CryptoError::InvalidPublicKey)?;
                if crate::kem::is_low_order_x25519(&x) {
                    return Err(CryptoError::InvalidPublicKey);
                }
                x_wing::EncapsulationKey::new_from_slice(pk).map(|_| ())
            }
        };
        parsed.map_err(|_| CryptoError::InvalidPublicKey)
    }

    /// `DeriveKeyPair(ikm)`: `seed = SHAKE256(ikm, Nsk)` (or `ikm` itself, for
    /// [`PqKeyDerivation::IkmIsSeed`]), then the key pair of the seed.
    pub(crate) fn derive_key_pair(&self, ikm: &[u8]) -> Result<HpkeKeyPair, CryptoError> {
        let seed = match (self.derivation, self.kem) {
            (PqKeyDerivation::IkmIsSeed, _) => {
                if ikm.len() != self.kem.private_key_len() {
                    return Err(CryptoError::InvalidLength {
                        what: "DeriveKeyPair ikm (the seed itself)",
                        got: ikm.len(),
                    });
                }
                Secret::from_slice(ikm)
            }
            (PqKeyDerivation::LabeledShake256, kem) => labeled_derive(kem, ikm),
            (_, KemAlgorithm::MlKem768 | KemAlgorithm::MlKem1024) => {
                Secret::new(shake256::<64>(ikm).to_vec())
            }
            _ => Secret::new(shake256::<32>(ikm).to_vec()),
        };
        let public = HpkePublicKey::new(self.public_key(seed.as_bytes())?);
        Ok(HpkeKeyPair {
            private: HpkePrivateKey::from(seed),
            public,
        })
    }

    /// `Encap(pkR)` with the given randomness ([`KemAlgorithm::encap_randomness_len`] bytes).
    /// Returns `(shared_secret, enc)`.
    pub(crate) fn encap(
        &self,
        pk_r: &[u8],
        randomness: &[u8],
    ) -> Result<(Secret, Vec<u8>), CryptoError> {
        if let Some(q) = Qsf::new(self.kem) {
            return q.encap(pk_r, randomness);
        }
        self.check_len(pk_r)?;
        let bad_rand = |_| CryptoError::InvalidLength {
            what: "KEM encapsulation randomness",
            got: randomness.len(),
        };
        let (ct, ss) = match self.kem {
            KemAlgorithm::MlKem768 => {
                let ek = ml_kem::EncapsulationKey768::new_from_slice(pk_r)
                    .map_err(|_| CryptoError::InvalidPublicKey)?;
                let m = ml_kem::B32::try_from(randomness).map_err(bad_rand)?;
                let (ct, ss) = ek.encapsulate_deterministic(&m);
                (ct.to_vec(), take(ss))
            }
            KemAlgorithm::MlKem1024 => {
                let ek = ml_kem::EncapsulationKey1024::new_from_slice(pk_r)
                    .map_err(|_| CryptoError::InvalidPublicKey)?;
                let m = ml_kem::B32::try_from(randomness).map_err(bad_rand)?;
                let (ct, ss) = ek.encapsulate_deterministic(&m);
                (ct.to_vec(), take(ss))
            }
            _ => {
                let ek = x_wing::EncapsulationKey::new_from_slice(pk_r)
                    .map_err(|_| CryptoError::InvalidPublicKey)?;
                let r = ml_kem::array::Array::try_from(randomness).map_err(bad_rand)?;
                let (ct, ss) = ek.encapsulate_deterministic(&r);
                (ct.to_vec(), take(ss))
            }
        };
        Ok((Secret::new(ss), ct))
    }

    /// `Decap(enc, skR)`. ML-KEM's implicit rejection gives a pseudo-random secret for a
    /// ciphertext that was not made for this key; the AEAD after it then fails.
    pub(crate) fn decap(&self, enc: &[u8], sk_r: &[u8]) -> Result<Secret, CryptoError> {
        if let Some(q) = Qsf::new(self.kem) {
            return q.decap(enc, sk_r);
        }
        if enc.len() != self.kem.enc_len() {
            return Err(CryptoError::InvalidPublicKey);
        }
        let ss = match self.kem {
            KemAlgorithm::MlKem768 => ml_kem::DecapsulationKey768::from_seed(seed64(sk_r)?)
                .decapsulate_slice(enc)
                .map(take),
            KemAlgorithm::MlKem1024 => ml_kem::DecapsulationKey1024::from_seed(seed64(sk_r)?)
                .decapsulate_slice(enc)
                .map(take),
            _ => return xwing_decap(enc, &*seed32(sk_r)?),
        };
        ss.map(Secret::new)
            .map_err(|_| CryptoError::InvalidPublicKey)
    }
}

/// `SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", Nsk)` (`draft-ietf-hpke-pq-03`, the
/// one-stage KDF's labelling): `SHAKE256(ikm || "HPKE-v1" || "KEM" || I2OSP(kem_id, 2) ||
/// I2OSP(len(label), 2) || label || I2OSP(Nsk, 2) || context, Nsk)`.
fn labeled_derive(kem: KemAlgorithm, ikm: &[u8]) -> Secret {
    const LABEL: &[u8] = b"DeriveKeyPair";
    let nsk = kem.private_key_len();
    let mut h = shake::Shake256::default();
    h.update(ikm);
    h.update(b"HPKE-v1");
    h.update(b"KEM");
    h.update(&kem.id().to_be_bytes());
    // Both lengths are constants below 2^16.
    h.update(&u16::try_from(LABEL.len()).unwrap_or(u16::MAX).to_be_bytes());
    h.update(LABEL);
    h.update(&u16::try_from(nsk).unwrap_or(u16::MAX).to_be_bytes());
    let mut out = Zeroizing::new(vec![0u8; nsk]);
    h.finalize_xof().read(out.as_mut_slice());
    Secret::new(core::mem::take(&mut *out))
}

/// X-Wing's label in the combiner (draft 06 §5.3): `\.//^\`.
const XWING_LABEL: &[u8; 6] = br"\.//^\";

/// X-Wing `Decapsulate(ct, sk)` (draft 06 §5.3): `(sk_M, sk_X, pk_X) = expandDecapsulationKey(sk)`
/// (`SHAKE256(sk, 96)`: the ML-KEM-768 seed `d || z`, then the X25519 private key),
/// `ss_M = ML-KEM-768.Decaps(sk_M, ct_M)`, `ss_X = X25519(sk_X, ct_X)`, and
/// `ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel)`.
fn xwing_decap(enc: &[u8], sk: &[u8; 32]) -> Result<Secret, CryptoError> {
    let (ct_m, ct_x) = enc
        .split_at_checked(1088)
        .ok_or(CryptoError::InvalidPublicKey)?;
    let ct_x: [u8; 32] = ct_x.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
    let expanded = shake256::<96>(sk);
    let (seed_m, sk_x) = expanded.split_at(64);
    let dk_m = ml_kem::DecapsulationKey768::from_seed(seed64(seed_m)?);
    let ss_m = Zeroizing::new(take(
        dk_m.decapsulate_slice(ct_m)
            .map_err(|_| CryptoError::InvalidPublicKey)?,
    ));
    let sk_x = x25519_dalek::StaticSecret::from(
        <[u8; 32]>::try_from(sk_x).map_err(|_| CryptoError::InvalidPrivateKey)?,
    );
    let pk_x = x25519_dalek::PublicKey::from(&sk_x);
    let ss_x = sk_x.diffie_hellman(&x25519_dalek::PublicKey::from(ct_x));
    let mut h = <sha3::Sha3_256 as sha3::Digest>::new();
    sha3::Digest::update(&mut h, ss_m.as_slice());
    sha3::Digest::update(&mut h, ss_x.as_bytes());
    sha3::Digest::update(&mut h, ct_x);
    sha3::Digest::update(&mut h, pk_x.as_bytes());
    sha3::Digest::update(&mut h, XWING_LABEL);
    Ok(Secret::new(sha3::Digest::finalize(h).to_vec()))
}

#[cfg(test)]
mod tests;
