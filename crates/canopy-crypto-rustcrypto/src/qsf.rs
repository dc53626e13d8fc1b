//! The QSF hybrid KEMs of `draft-ietf-hpke-pq-03`: MLKEM768-P256 (HPKE KEM id 0x0050) and
//! MLKEM1024-P384 (0x0051), the QSF construction of `draft-irtf-cfrg-hybrid-kems` on the
//! P-256 and P-384 groups of `draft-irtf-cfrg-concrete-hybrid-kems`. The PQ cipher-suite
//! draft pairs them with P-256 and P-384 signatures.
//!
//! - A private key is the 32-byte seed. `expandKey(seed)`: `SHAKE256(seed, 64 + Group.Nseed)`
//!   gives the ML-KEM seed `d || z` and `Group.Nseed` bytes from which the group scalar is
//!   drawn by rejection sampling (`Group.RandomScalar`: the first `Nscalar`-byte big-endian
//!   chunk that is neither zero nor at least the group order).
//! - Public key `ek_PQ || ek_T` (the ML-KEM encapsulation key, the uncompressed point);
//!   ciphertext `ct_PQ || ct_T`.
//! - Shared secret `SHA3-256(ss_PQ || ss_T || ct_T || ek_T || Label)`, with `ss_T` the
//!   x-coordinate of the Diffie-Hellman point and `Label` `"MLKEM768-P256"` or
//!   `"MLKEM1024-P384"`.
//! - A received key or ciphertext is checked: lengths, FIPS 203's modulus check of the
//!   ML-KEM key, and an uncompressed point on the curve (never the identity) for the group
//!   half.
//!
//! Composed here from RustCrypto's `ml-kem`, `p256`, `p384`, `sha3` and `shake`; tested
//! against the `hpke` crate's implementation of the same KEMs.

use canopy_crypto::{CryptoError, KemAlgorithm, Secret};
use ml_kem::{Decapsulate, KeyExport, TryKeyInit};
use shake::{ExtendableOutput, Update, XofReader};
use zeroize::Zeroizing;

use crate::pq_kem::take;

/// One QSF hybrid: its sizes and label.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Qsf {
    kem: KemAlgorithm,
}

/// `KEM.Nek`, `KEM.Nct`, `Group.Nelem`, `Group.Nseed`, `Group.Nscalar` and `Label`.
struct Sizes {
    nek: usize,
    nct: usize,
    nelem: usize,
    nseed: usize,
    nscalar: usize,
    label: &'static [u8],
}

const P256: Sizes = Sizes {
    nek: 1184,
    nct: 1088,
    nelem: 65,
    nseed: 128,
    nscalar: 32,
    label: b"MLKEM768-P256",
};

const P384: Sizes = Sizes {
    nek: 1568,
    nct: 1568,
    nelem: 97,
    nseed: 48,
    nscalar: 48,
    label: b"MLKEM1024-P384",
};

/// ML-KEM's half of an expanded private key.
enum PqKey {
    K768(Box<ml_kem::DecapsulationKey768>),
    K1024(Box<ml_kem::DecapsulationKey1024>),
}

/// `expandKey(seed)`: the ML-KEM decapsulation key, `ek_PQ`, the group scalar `dk_T` and
/// `ek_T`.
struct Expanded {
    dk_pq: PqKey,
    ek_pq: Vec<u8>,
    dk_t: Zeroizing<Vec<u8>>,
    ek_t: Vec<u8>,
}

impl Qsf {
    /// The QSF KEM `kem`, if it is one.
    pub(crate) fn new(kem: KemAlgorithm) -> Option<Self> {
        matches!(
            kem,
            KemAlgorithm::MlKem768P256 | KemAlgorithm::MlKem1024P384
        )
        .then_some(Self { kem })
    }

    fn sizes(self) -> &'static Sizes {
        if self.kem == KemAlgorithm::MlKem768P256 {
            &P256
        } else {
            &P384
        }
    }

    /// `Group.Exp(G, x)`: the uncompressed public point of scalar `x`.
    fn base_exp(self, x: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let n = self.sizes().nscalar;
        if self.kem == KemAlgorithm::MlKem768P256 {
            crate::kem::p256::public_of(x, n)
        } else {
            crate::kem::p384::public_of(x, n)
        }
    }

    /// `Group.ElementToSharedSecret(Group.Exp(point, x))`: the x-coordinate; the point is
    /// checked (uncompressed, on the curve).
    fn dh(self, x: &[u8], point: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let s = self.sizes();
        if self.kem == KemAlgorithm::MlKem768P256 {
            crate::kem::p256::dh(x, point, s.nscalar, s.nelem)
        } else {
            crate::kem::p384::dh(x, point, s.nscalar, s.nelem)
        }
    }

    /// `Group.RandomScalar(seed)`: the first `Nscalar`-byte chunk of `seed` that is a valid
    /// scalar.
    fn random_scalar(self, seed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let n = self.sizes().nscalar;
        let valid = |c: &[u8]| {
            if self.kem == KemAlgorithm::MlKem768P256 {
                crate::kem::p256::is_valid_scalar(c)
            } else {
                crate::kem::p384::is_valid_scalar(c)
            }
        };
        seed.chunks_exact(n)
            .find(|c| valid(c))
            .map(|c| Zeroizing::new(c.to_vec()))
            // Probability below 2^-128: not a key any honest party makes.
            .ok_or(CryptoError::InvalidPrivateKey)
    }

    fn expand(self, sk: &[u8]) -> Result<Expanded, CryptoError> {
        if sk.len() != 32 {
            return Err(CryptoError::InvalidPrivateKey);
        }
        let s = self.sizes();
        let mut full = Zeroizing::new(vec![0u8; 64 + s.nseed]);
        let mut h = shake::Shake256::default();
        h.update(sk);
        h.finalize_xof().read(full.as_mut_slice());
        let (seed_pq, seed_t) = full.split_at(64);
        let seed_pq =
            ml_kem::Seed::try_from(seed_pq).map_err(|_| CryptoError::InvalidPrivateKey)?;
        let (dk_pq, ek_pq) = if self.kem == KemAlgorithm::MlKem768P256 {
            let dk = ml_kem::DecapsulationKey768::from_seed(seed_pq);
            let ek = dk.encapsulation_key().to_bytes().to_vec();
            (PqKey::K768(Box::new(dk)), ek)
        } else {
            let dk = ml_kem::DecapsulationKey1024::from_seed(seed_pq);
            let ek = dk.encapsulation_key().to_bytes().to_vec();
            (PqKey::K1024(Box::new(dk)), ek)
        };
        let dk_t = self.random_scalar(seed_t)?;
        let ek_t = self.base_exp(&dk_t)?;
        Ok(Expanded {
            dk_pq,
            ek_pq,
            dk_t,
            ek_t,
        })
    }

    /// `PrivateKeyToPublicKey(seed)`: `ek_PQ || ek_T`.
    pub(crate) fn public_key(self, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let e = self.expand(sk)?;
        let mut out = e.ek_pq;
        out.extend_from_slice(&e.ek_t);
        Ok(out)
    }

    /// Checks a received public key: its length, the ML-KEM modulus check, the point.
    pub(crate) fn validate_public_key(self, pk: &[u8]) -> Result<(), CryptoError> {
        let s = self.sizes();
        if pk.len() != s.nek + s.nelem {
            return Err(CryptoError::InvalidPublicKey);
        }
        let (ek_pq, ek_t) = pk.split_at(s.nek);
        let pq = if self.kem == KemAlgorithm::MlKem768P256 {
            ml_kem::EncapsulationKey768::new_from_slice(ek_pq).map(|_| ())
        } else {
            ml_kem::EncapsulationKey1024::new_from_slice(ek_pq).map(|_| ())
        };
        pq.map_err(|_| CryptoError::InvalidPublicKey)?;
        if self.kem == KemAlgorithm::MlKem768P256 {
            crate::kem::p256::public(ek_t, s.nelem).map(|_| ())
        } else {
            crate::kem::p384::public(ek_t, s.nelem).map(|_| ())
        }
    }

    /// `EncapsDerand(pk, randomness)`, `randomness` of `32 + Group.Nseed` bytes. Returns
    /// `(shared_secret, enc)`.
    pub(crate) fn encap(
        self,
        pk: &[u8],
        randomness: &[u8],
    ) -> Result<(Secret, Vec<u8>), CryptoError> {
        self.validate_public_key(pk)?;
        let s = self.sizes();
        if randomness.len() != 32 + s.nseed {
            return Err(CryptoError::InvalidLength {
                what: "KEM encapsulation randomness",
                got: randomness.len(),
            });
        }
        let (ek_pq, ek_t) = pk.split_at(s.nek);
        let (m, seed_t) = randomness.split_at(32);
        let m = ml_kem::B32::try_from(m).map_err(|_| CryptoError::InvalidPrivateKey)?;
        let (mut ct, ss_pq) = if self.kem == KemAlgorithm::MlKem768P256 {
            let ek = ml_kem::EncapsulationKey768::new_from_slice(ek_pq)
                .map_err(|_| CryptoError::InvalidPublicKey)?;
            let (ct, ss) = ek.encapsulate_deterministic(&m);
            (ct.to_vec(), Zeroizing::new(take(ss)))
        } else {
            let ek = ml_kem::EncapsulationKey1024::new_from_slice(ek_pq)
                .map_err(|_| CryptoError::InvalidPublicKey)?;
            let (ct, ss) = ek.encapsulate_deterministic(&m);
            (ct.to_vec(), Zeroizing::new(take(ss)))
        };
        let sk_e = self.random_scalar(seed_t)?;
        let ct_t = self.base_exp(&sk_e)?;
        let ss_t = self.dh(&sk_e, ek_t)?;
        let ss = combine(&ss_pq, &ss_t, &ct_t, ek_t, s.label);
        ct.extend_from_slice(&ct_t);
        Ok((ss, ct))
    }

    /// `Decaps(seed, ct)`. ML-KEM's implicit rejection gives a pseudo-random secret for a
    /// ciphertext not made for this key; a group half that is not a point is an error.
    pub(crate) fn decap(self, enc: &[u8], sk: &[u8]) -> Result<Secret, CryptoError> {
        let s = self.sizes();
        if enc.len() != s.nct + s.nelem {
            return Err(CryptoError::InvalidPublicKey);
        }
        let (ct_pq, ct_t) = enc.split_at(s.nct);
        let e = self.expand(sk)?;
        let ss_pq = match &e.dk_pq {
            PqKey::K768(dk) => dk.decapsulate_slice(ct_pq).map(take),
            PqKey::K1024(dk) => dk.decapsulate_slice(ct_pq).map(take),
        }
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::InvalidPublicKey)?;
        let ss_t = self.dh(&e.dk_t, ct_t)?;
        Ok(combine(&ss_pq, &ss_t, ct_t, &e.ek_t, s.label))
    }
}

/// The QSF combiner: `SHA3-256(ss_PQ || ss_T || ct_T || ek_T || Label)`.
fn combine(ss_pq: &[u8], ss_t: &[u8], ct_t: &[u8], ek_t: &[u8], label: &[u8]) -> Secret {
    let mut h = <sha3::Sha3_256 as sha3::Digest>::new();
    for part in [ss_pq, ss_t, ct_t, ek_t, label] {
        sha3::Digest::update(&mut h, part);
    }
    Secret::new(sha3::Digest::finalize(h).to_vec())
}
