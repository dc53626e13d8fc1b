//! The five DHKEMs of RFC 9180 §4.1 and §7.1: key derivation, serialization and Diffie-Hellman;
//! and [`Kem`], which runs a suite's KEM whether it is one of them or post-quantum
//! ([`crate::pq_kem`]).
//!
//! Public keys are raw X25519/X448 strings or uncompressed SEC1 points (RFC 9180 §7.1.1).
//! Private keys are raw X25519/X448 strings or fixed-length big-endian scalars (§7.1.2).
//! NIST-curve private keys shorter than `Nsk` are left-padded with zeros: some encoders
//! (and some IETF test vectors) drop a leading zero byte of P-521 scalars.

use canopy_crypto::{
    CryptoError, HpkeKeyPair, HpkePrivateKey, HpkePublicKey, KemAlgorithm, Secret,
};
use zeroize::Zeroizing;

use crate::hash;
use crate::pq_kem::PqKem;

/// `"KEM" || I2OSP(kem_id, 2)`, the suite id of the KEM's labelled KDF calls (RFC 9180 §4.1).
fn kem_suite_id(kem: KemAlgorithm) -> [u8; 5] {
    let id = kem.id().to_be_bytes();
    [b'K', b'E', b'M', id[0], id[1]]
}

/// RFC 9180 §4: `LabeledExtract(salt, label, ikm)` with the given suite id.
pub(crate) fn labeled_extract(
    alg: canopy_crypto::HashAlgorithm,
    suite_id: &[u8],
    salt: &[u8],
    label: &[u8],
    ikm: &[u8],
) -> Secret {
    hash::extract(alg, salt, &[b"HPKE-v1", suite_id, label, ikm])
}

/// RFC 9180 §4: `LabeledExpand(prk, label, info, L)` with the given suite id.
pub(crate) fn labeled_expand(
    alg: canopy_crypto::HashAlgorithm,
    suite_id: &[u8],
    prk: &[u8],
    label: &[u8],
    info: &[u8],
    len: usize,
) -> Result<Secret, CryptoError> {
    let l = u16::try_from(len)
        .map_err(|_| CryptoError::InvalidLength {
            what: "LabeledExpand length",
            got: len,
        })?
        .to_be_bytes();
    hash::expand(alg, prk, &[&l, b"HPKE-v1", suite_id, label, info], len)
}

/// Left-pads a NIST-curve scalar to `nsk` bytes; rejects longer input.
fn padded_scalar(bytes: &[u8], nsk: usize) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let pad = nsk
        .checked_sub(bytes.len())
        .ok_or(CryptoError::InvalidPrivateKey)?;
    let mut out = Zeroizing::new(vec![0u8; pad]);
    out.extend_from_slice(bytes);
    Ok(out)
}

macro_rules! nist {
    ($krate:ident) => {
        pub(crate) mod $krate {
            use super::*;

            pub(crate) fn secret(
                sk: &[u8],
                nsk: usize,
            ) -> Result<::$krate::SecretKey, CryptoError> {
                let bytes = padded_scalar(sk, nsk)?;
                ::$krate::SecretKey::from_slice(&bytes).map_err(|_| CryptoError::InvalidPrivateKey)
            }

            pub(crate) fn public(
                pk: &[u8],
                npk: usize,
            ) -> Result<::$krate::PublicKey, CryptoError> {
                // Only the uncompressed form is a valid serialization (RFC 9180 §7.1.1).
                if pk.len() != npk || pk.first() != Some(&0x04) {
                    return Err(CryptoError::InvalidPublicKey);
                }
                ::$krate::PublicKey::from_sec1_bytes(pk).map_err(|_| CryptoError::InvalidPublicKey)
            }

            pub(crate) fn public_of(sk: &[u8], nsk: usize) -> Result<Vec<u8>, CryptoError> {
                Ok(secret(sk, nsk)?.public_key().to_sec1_bytes().to_vec())
            }

            pub(crate) fn dh(
                sk: &[u8],
                pk: &[u8],
                nsk: usize,
                npk: usize,
            ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
                let sk = secret(sk, nsk)?;
                let pk = public(pk, npk)?;
                let shared = sk.diffie_hellman(&pk);
                Ok(Zeroizing::new(shared.raw_secret_bytes().to_vec()))
            }

            /// Whether `candidate` is a valid scalar (non-zero and below the order).
            pub(crate) fn is_valid_scalar(candidate: &[u8]) -> bool {
                ::$krate::SecretKey::from_slice(candidate).is_ok()
            }
        }
    };
}

nist!(p256);
nist!(p384);
nist!(p521);

/// The u-coordinates (top bit clear) of the X25519 points of low order, on the curve or its
/// twist: X25519 of any private key with one of them is zero.
///
/// The curve has order 8 * l and its twist 4 * l' (l, l' prime), so a low-order point is in the
/// curve's 8-torsion, whose u-coordinates are those of the eight Edwards torsion points
/// (0, 1 and the two of order 8; the identity maps to 0), or in the twist's 4-torsion, which
/// adds u = -1. X25519 reduces u modulo p = 2^255 - 19, so p and p + 1 encode 0 and 1 as
/// well; no other value below 2^255 is congruent to one of these.
fn x25519_low_order() -> &'static [[u8; 32]] {
    static LOW: std::sync::LazyLock<Vec<[u8; 32]>> = std::sync::LazyLock::new(|| {
        let mut low: Vec<[u8; 32]> = curve25519_dalek::constants::EIGHT_TORSION
            .iter()
            .map(|t| t.to_montgomery().to_bytes())
            .collect();
        // p - 1, p and p + 1, little-endian: 0x7fff..ff with the low byte 0xec, 0xed, 0xee.
        for low_byte in [0xec, 0xed, 0xee] {
            let mut u = [0xff; 32];
            u[0] = low_byte;
            u[31] = 0x7f;
            low.push(u);
        }
        low.sort_unstable();
        low.dedup();
        low
    });
    &LOW
}

/// Whether X25519 with the u-coordinate `u` gives zero for every private key (the top bit is
/// ignored, RFC 7748 §5).
pub(crate) fn is_low_order_x25519(u: &[u8; 32]) -> bool {
    let mut u = *u;
    if let Some(top) = u.last_mut() {
        *top &= 0x7f;
    }
    x25519_low_order().contains(&u)
}

/// Whether `u` is p or p + 1 (p = 2^448 - 2^224 - 1), X448's encodings at or above p of the
/// low-order u = 0 and u = 1 (RFC 7748 §5 takes u modulo p; the other low-order value, p - 1,
/// has none below 2^448).
fn x448_non_canonical_low_order(u: &[u8; 56]) -> bool {
    let (low, high) = u.split_at(28);
    let high_is_p = high.first() == Some(&0xfe) && high.iter().skip(1).all(|b| *b == 0xff);
    let high_is_p_plus_1 = high.iter().all(|b| *b == 0xff);
    (high_is_p && low.iter().all(|b| *b == 0xff))
        || (high_is_p_plus_1 && low.iter().all(|b| *b == 0))
}

/// The DHKEM operations for one KEM.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dhkem {
    kem: KemAlgorithm,
    suite_id: [u8; 5],
}

impl Dhkem {
    pub(crate) fn new(kem: KemAlgorithm) -> Self {
        Self {
            kem,
            suite_id: kem_suite_id(kem),
        }
    }

    fn nsk(&self) -> usize {
        self.kem.private_key_len()
    }

    fn npk(&self) -> usize {
        self.kem.public_key_len()
    }

    /// `SerializePublicKey(pk(sk))`.
    pub(crate) fn public_key(&self, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self.kem {
            KemAlgorithm::DhKemX25519 => {
                let sk: [u8; 32] = sk.try_into().map_err(|_| CryptoError::InvalidPrivateKey)?;
                // The same clamped scalar times the base point as `x25519(sk, 9)`, computed
                // with the precomputed Edwards base-point table instead of a Montgomery
                // ladder (about three times faster); the secret is zeroized on drop.
                let secret = x25519_dalek::StaticSecret::from(sk);
                Ok(x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec())
            }
            KemAlgorithm::DhKemX448 => {
                let sk: [u8; 56] = sk.try_into().map_err(|_| CryptoError::InvalidPrivateKey)?;
                Ok(x448::x448_unchecked(sk, x448::X448_BASEPOINT_BYTES).to_vec())
            }
            KemAlgorithm::DhKemP256 => p256::public_of(sk, self.nsk()),
            KemAlgorithm::DhKemP384 => p384::public_of(sk, self.nsk()),
            _ => p521::public_of(sk, self.nsk()),
        }
    }

    /// `DH(sk, pk)`, rejecting invalid public keys and an all-zero output (RFC 9180 §7.1.4).
    pub(crate) fn dh(&self, sk: &[u8], pk: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let out = match self.kem {
            KemAlgorithm::DhKemX25519 => {
                let sk: [u8; 32] = sk.try_into().map_err(|_| CryptoError::InvalidPrivateKey)?;
                let pk: [u8; 32] = pk.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
                Zeroizing::new(x25519_dalek::x25519(sk, pk).to_vec())
            }
            KemAlgorithm::DhKemX448 => {
                let sk: [u8; 56] = sk.try_into().map_err(|_| CryptoError::InvalidPrivateKey)?;
                let pk: [u8; 56] = pk.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
                // `x448` returns `None` for low-order points, whose output would be all zero.
                Zeroizing::new(
                    x448::x448(sk, pk)
                        .ok_or(CryptoError::ZeroSharedSecret)?
                        .to_vec(),
                )
            }
            KemAlgorithm::DhKemP256 => p256::dh(sk, pk, self.nsk(), self.npk())?,
            KemAlgorithm::DhKemP384 => p384::dh(sk, pk, self.nsk(), self.npk())?,
            _ => p521::dh(sk, pk, self.nsk(), self.npk())?,
        };
        if out.iter().all(|b| *b == 0) {
            return Err(CryptoError::ZeroSharedSecret);
        }
        Ok(out)
    }

    /// Checks that `pk` deserializes (RFC 9180 §7.1.1 `DeserializePublicKey`).
    pub(crate) fn check_public_key(&self, pk: &[u8]) -> Result<(), CryptoError> {
        match self.kem {
            KemAlgorithm::DhKemX25519 | KemAlgorithm::DhKemX448 => {
                if pk.len() == self.npk() {
                    Ok(())
                } else {
                    Err(CryptoError::InvalidPublicKey)
                }
            }
            KemAlgorithm::DhKemP256 => p256::public(pk, self.npk()).map(|_| ()),
            KemAlgorithm::DhKemP384 => p384::public(pk, self.npk()).map(|_| ()),
            _ => p521::public(pk, self.npk()).map(|_| ()),
        }
    }

    /// Checks a received public key ([`canopy_crypto::SuiteOps::hpke_validate_public_key`]):
    /// `DeserializePublicKey` (RFC 9180 §7.1.1) succeeds and the key is not a low-order
    /// X25519 or X448 point, with which every `DH` gives zero (§7.1.4).
    pub(crate) fn validate_public_key(&self, pk: &[u8]) -> Result<(), CryptoError> {
        let low = match self.kem {
            KemAlgorithm::DhKemX25519 => {
                let u: [u8; 32] = pk.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
                is_low_order_x25519(&u)
            }
            KemAlgorithm::DhKemX448 => {
                let u: [u8; 56] = pk.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
                // `from_bytes` refuses 0, 1 and p - 1, not their encodings at or above p.
                x448::PublicKey::from_bytes(&u).is_none() || x448_non_canonical_low_order(&u)
            }
            _ => return self.check_public_key(pk),
        };
        if low {
            return Err(CryptoError::InvalidPublicKey);
        }
        Ok(())
    }

    /// `DeriveKeyPair(ikm)` (RFC 9180 §7.1.3).
    pub(crate) fn derive_key_pair(&self, ikm: &[u8]) -> Result<HpkeKeyPair, CryptoError> {
        let h = self.kem.hash();
        let dkp_prk = labeled_extract(h, &self.suite_id, b"", b"dkp_prk", ikm);
        let sk = match self.kem {
            KemAlgorithm::DhKemX25519 | KemAlgorithm::DhKemX448 => labeled_expand(
                h,
                &self.suite_id,
                dkp_prk.as_bytes(),
                b"sk",
                b"",
                self.nsk(),
            )?,
            _ => self.derive_nist_scalar(&dkp_prk)?,
        };
        let public = HpkePublicKey::new(self.public_key(sk.as_bytes())?);
        Ok(HpkeKeyPair {
            private: HpkePrivateKey::from(sk),
            public,
        })
    }

    fn derive_nist_scalar(&self, dkp_prk: &Secret) -> Result<Secret, CryptoError> {
        let bitmask = if self.kem == KemAlgorithm::DhKemP521 {
            0x01
        } else {
            0xff
        };
        for counter in 0..=255u8 {
            let candidate = labeled_expand(
                self.kem.hash(),
                &self.suite_id,
                dkp_prk.as_bytes(),
                b"candidate",
                &[counter],
                self.nsk(),
            )?;
            let mut bytes = candidate.into_bytes();
            if let Some(first) = bytes.first_mut() {
                *first &= bitmask;
            }
            let bytes = Secret::new(bytes);
            let valid = match self.kem {
                KemAlgorithm::DhKemP256 => p256::is_valid_scalar(bytes.as_bytes()),
                KemAlgorithm::DhKemP384 => p384::is_valid_scalar(bytes.as_bytes()),
                _ => p521::is_valid_scalar(bytes.as_bytes()),
            };
            if valid {
                return Ok(bytes);
            }
        }
        Err(CryptoError::DeriveKeyPairFailed)
    }

    /// `ExtractAndExpand(dh, kem_context)` (RFC 9180 §4.1).
    fn extract_and_expand(
        &self,
        dh: &[u8],
        enc: &[u8],
        pk_r: &[u8],
    ) -> Result<Secret, CryptoError> {
        let h = self.kem.hash();
        let eae_prk = labeled_extract(h, &self.suite_id, b"", b"eae_prk", dh);
        let mut kem_context = Vec::with_capacity(enc.len().saturating_add(pk_r.len()));
        kem_context.extend_from_slice(enc);
        kem_context.extend_from_slice(pk_r);
        labeled_expand(
            h,
            &self.suite_id,
            eae_prk.as_bytes(),
            b"shared_secret",
            &kem_context,
            self.kem.shared_secret_len(),
        )
    }

    /// `Encap(pkR)` with the ephemeral key derived from `ephemeral_ikm` (RFC 9180 §4.1).
    /// Returns `(shared_secret, enc)`.
    pub(crate) fn encap(
        &self,
        pk_r: &[u8],
        ephemeral_ikm: &[u8],
    ) -> Result<(Secret, Vec<u8>), CryptoError> {
        self.check_public_key(pk_r)?;
        let eph = self.derive_key_pair(ephemeral_ikm)?;
        let dh = self.dh(eph.private.as_bytes(), pk_r)?;
        let enc = eph.public.into_bytes();
        let ss = self.extract_and_expand(&dh, &enc, pk_r)?;
        Ok((ss, enc))
    }

    /// `Decap(enc, skR)` (RFC 9180 §4.1).
    pub(crate) fn decap(&self, enc: &[u8], sk_r: &[u8]) -> Result<Secret, CryptoError> {
        let pk_r = self.public_key(sk_r)?;
        self.decap_with_public_key(enc, sk_r, &pk_r)
    }

    /// `Decap(enc, skR)` with `pkRm = pk_r` given rather than computed from `sk_r`
    /// (RFC 9180 §4.1); a `pk_r` that is not `sk_r`'s gives another shared secret.
    pub(crate) fn decap_with_public_key(
        &self,
        enc: &[u8],
        sk_r: &[u8],
        pk_r: &[u8],
    ) -> Result<Secret, CryptoError> {
        self.check_public_key(enc)?;
        let dh = self.dh(sk_r, enc)?;
        self.extract_and_expand(&dh, enc, pk_r)
    }
}

/// The KEM of a suite: a DHKEM or a post-quantum KEM, with one interface.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kem {
    /// One of RFC 9180's DHKEMs.
    Dh(Dhkem),
    /// ML-KEM or X-Wing.
    Pq(PqKem),
}

impl Kem {
    /// The KEM of `params`, with its post-quantum `DeriveKeyPair` variant.
    pub(crate) fn for_suite(params: &canopy_crypto::SuiteParams) -> Self {
        PqKem::with_derivation(params.kem, params.pq_derivation)
            .map_or_else(|| Self::Dh(Dhkem::new(params.kem)), Self::Pq)
    }

    /// `SerializePublicKey(pk(sk))`.
    pub(crate) fn public_key(&self, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match self {
            Self::Dh(k) => k.public_key(sk),
            Self::Pq(k) => k.public_key(sk),
        }
    }

    /// Checks a received public key.
    pub(crate) fn validate_public_key(&self, pk: &[u8]) -> Result<(), CryptoError> {
        match self {
            Self::Dh(k) => k.validate_public_key(pk),
            Self::Pq(k) => k.validate_public_key(pk),
        }
    }

    /// `DeriveKeyPair(ikm)`.
    pub(crate) fn derive_key_pair(&self, ikm: &[u8]) -> Result<HpkeKeyPair, CryptoError> {
        match self {
            Self::Dh(k) => k.derive_key_pair(ikm),
            Self::Pq(k) => k.derive_key_pair(ikm),
        }
    }

    /// `Encap(pkR)` with `randomness` ([`KemAlgorithm::encap_randomness_len`] bytes).
    /// Returns `(shared_secret, enc)`.
    pub(crate) fn encap(
        &self,
        pk_r: &[u8],
        randomness: &[u8],
    ) -> Result<(Secret, Vec<u8>), CryptoError> {
        match self {
            Self::Dh(k) => k.encap(pk_r, randomness),
            Self::Pq(k) => k.encap(pk_r, randomness),
        }
    }

    /// `Decap(enc, skR)`.
    pub(crate) fn decap(&self, enc: &[u8], sk_r: &[u8]) -> Result<Secret, CryptoError> {
        match self {
            Self::Dh(k) => k.decap(enc, sk_r),
            Self::Pq(k) => k.decap(enc, sk_r),
        }
    }

    /// `Decap(enc, skR)` for a recipient that holds its public key `pk_r`: a DHKEM uses it
    /// as `pkRm`; the post-quantum KEMs do not need it.
    pub(crate) fn decap_with_public_key(
        &self,
        enc: &[u8],
        sk_r: &[u8],
        pk_r: &[u8],
    ) -> Result<Secret, CryptoError> {
        match self {
            Self::Dh(k) => k.decap_with_public_key(enc, sk_r, pk_r),
            Self::Pq(k) => k.decap(enc, sk_r),
        }
    }
}

#[cfg(test)]
mod tests;
