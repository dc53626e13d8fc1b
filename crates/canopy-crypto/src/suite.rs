//! Cipher-suite identifiers and their parameters (RFC 9420 §5.1, §17.1; RFC 9180 §7).

use core::fmt;

/// An MLS cipher suite identifier (RFC 9420 §17.1), as carried on the wire.
///
/// Any `u16` can be represented, because the wire can carry values this library does not
/// know; [`CipherSuite::params`] tells whether it is one of RFC 9420's.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    /// `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519` (0x0001).
    pub const MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519: Self = Self(0x0001);
    /// `MLS_128_DHKEMP256_AES128GCM_SHA256_P256` (0x0002).
    pub const MLS_128_DHKEMP256_AES128GCM_SHA256_P256: Self = Self(0x0002);
    /// `MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519` (0x0003).
    pub const MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519: Self = Self(0x0003);
    /// `MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448` (0x0004).
    pub const MLS_256_DHKEMX448_AES256GCM_SHA512_ED448: Self = Self(0x0004);
    /// `MLS_256_DHKEMP521_AES256GCM_SHA512_P521` (0x0005).
    pub const MLS_256_DHKEMP521_AES256GCM_SHA512_P521: Self = Self(0x0005);
    /// `MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448` (0x0006).
    pub const MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_ED448: Self = Self(0x0006);
    /// `MLS_256_DHKEMP384_AES256GCM_SHA384_P384` (0x0007).
    pub const MLS_256_DHKEMP384_AES256GCM_SHA384_P384: Self = Self(0x0007);

    /// The seven cipher suites of RFC 9420 §17.1, in id order.
    pub const ALL: [Self; 7] = [
        Self::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        Self::MLS_128_DHKEMP256_AES128GCM_SHA256_P256,
        Self::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519,
        Self::MLS_256_DHKEMX448_AES256GCM_SHA512_ED448,
        Self::MLS_256_DHKEMP521_AES256GCM_SHA512_P521,
        Self::MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_ED448,
        Self::MLS_256_DHKEMP384_AES256GCM_SHA384_P384,
    ];

    /// The parameters of this suite, or `None` if it is not one of RFC 9420's seven.
    pub const fn params(self) -> Option<SuiteParams> {
        use AeadAlgorithm as A;
        use HashAlgorithm as H;
        use KemAlgorithm as K;
        use SignatureScheme as S;
        let (kem, hash, aead, signature) = match self.0 {
            0x0001 => (K::DhKemX25519, H::Sha256, A::Aes128Gcm, S::ED25519),
            0x0002 => (
                K::DhKemP256,
                H::Sha256,
                A::Aes128Gcm,
                S::ECDSA_SECP256R1_SHA256,
            ),
            0x0003 => (K::DhKemX25519, H::Sha256, A::ChaCha20Poly1305, S::ED25519),
            0x0004 => (K::DhKemX448, H::Sha512, A::Aes256Gcm, S::ED448),
            0x0005 => (
                K::DhKemP521,
                H::Sha512,
                A::Aes256Gcm,
                S::ECDSA_SECP521R1_SHA512,
            ),
            0x0006 => (K::DhKemX448, H::Sha512, A::ChaCha20Poly1305, S::ED448),
            0x0007 => (
                K::DhKemP384,
                H::Sha384,
                A::Aes256Gcm,
                S::ECDSA_SECP384R1_SHA384,
            ),
            _ => return None,
        };
        Some(SuiteParams {
            suite: self,
            kem,
            hash,
            kdf: hash,
            pq_derivation: PqKeyDerivation::Shake256,
            aead,
            signature,
        })
    }
}

impl fmt::Debug for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CipherSuite(0x{:04x})", self.0)
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:04x}", self.0)
    }
}

/// Everything RFC 9420 and RFC 9180 fix for one cipher suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuiteParams {
    /// The suite these parameters belong to.
    pub suite: CipherSuite,
    /// The HPKE KEM.
    pub kem: KemAlgorithm,
    /// The suite's hash (RFC 9420 §17.1 "Hash"): `RefHash`, the transcript and tree hashes,
    /// and HMAC's hash for `MAC`.
    pub hash: HashAlgorithm,
    /// The suite's KDF (RFC 9420 §5.1, the HPKE KDF): HKDF with this hash, for MLS's
    /// `KDF.Extract` and `KDF.Expand` (so `KDF.Nh` is its output length) and for HPKE.
    /// RFC 9420's suites use `hash`; some peers' post-quantum suites pair one hash with another
    /// KDF (ts-mls: SHA-384 with HKDF-SHA512).
    pub kdf: HashAlgorithm,
    /// How a post-quantum KEM's `DeriveKeyPair(ikm)` makes its seed (ignored by DHKEMs).
    pub pq_derivation: PqKeyDerivation,
    /// The AEAD used for messages and by HPKE.
    pub aead: AeadAlgorithm,
    /// The signature scheme.
    pub signature: SignatureScheme,
}

impl SuiteParams {
    /// Placeholder returned for unknown suites by [`crate::SuiteOps::params`]'s default.
    pub const UNKNOWN: Self = Self {
        suite: CipherSuite(0),
        kem: KemAlgorithm::DhKemX25519,
        hash: HashAlgorithm::Sha256,
        kdf: HashAlgorithm::Sha256,
        pq_derivation: PqKeyDerivation::Shake256,
        aead: AeadAlgorithm::Aes128Gcm,
        signature: SignatureScheme(0),
    };

    /// A suite of the given algorithms, its KDF on the same hash, for code-point tables
    /// ([`SuiteProfile`](crate::SuiteProfile)).
    pub const fn new(
        suite: CipherSuite,
        kem: KemAlgorithm,
        hash: HashAlgorithm,
        aead: AeadAlgorithm,
        signature: SignatureScheme,
    ) -> Self {
        Self {
            suite,
            kem,
            hash,
            kdf: hash,
            pq_derivation: PqKeyDerivation::Shake256,
            aead,
            signature,
        }
    }

    /// The same suite with its KDF on `kdf`.
    pub const fn with_kdf(mut self, kdf: HashAlgorithm) -> Self {
        self.kdf = kdf;
        self
    }

    /// The same suite with another post-quantum `DeriveKeyPair`.
    pub const fn with_pq_derivation(mut self, pq_derivation: PqKeyDerivation) -> Self {
        self.pq_derivation = pq_derivation;
        self
    }

    /// The length of the suite's hash: of `RefHash`, transcript and tree hashes, and MACs.
    pub const fn hash_len(&self) -> usize {
        self.hash.output_len()
    }

    /// `KDF.Nh`: the output length of the suite's `KDF.Extract`, the length of every secret
    /// of the key schedule, the secret tree and TreeKEM, and of PSK nonces. Equal to
    /// [`SuiteParams::hash_len`] for RFC 9420's suites.
    pub const fn kdf_len(&self) -> usize {
        self.kdf.output_len()
    }

    /// `AEAD.Nk`: the AEAD key length.
    pub const fn aead_key_len(&self) -> usize {
        self.aead.key_len()
    }

    /// `AEAD.Nn`: the AEAD nonce length.
    pub const fn aead_nonce_len(&self) -> usize {
        12
    }

    /// The HPKE suite id `"HPKE" || kem_id || kdf_id || aead_id` (RFC 9180 §5.1).
    pub const fn hpke_suite_id(&self) -> [u8; 10] {
        let k = self.kem.id().to_be_bytes();
        let d = self.kdf.hkdf_id().to_be_bytes();
        let a = self.aead.id().to_be_bytes();
        [b'H', b'P', b'K', b'E', k[0], k[1], d[0], d[1], a[0], a[1]]
    }
}

/// The KEMs of the supported suites: the DHKEMs of RFC 9180 §7.1 that RFC 9420's suites use,
/// and the post-quantum KEMs of the PQ cipher-suite draft (`draft-ietf-mls-pq-ciphersuites`).
///
/// The post-quantum KEMs are not Diffie-Hellman KEMs: HPKE uses their `Encap` and `Decap`
/// directly (RFC 9180 §4 is written against any KEM), a private key is the 32- or 64-byte seed
/// that FIPS 203 and X-Wing expand into the full key, and `DeriveKeyPair(ikm)` (which TreeKEM
/// uses for every node key) is `seed = SHAKE256(ikm, Nsk)` followed by the KEM's
/// deterministic key generation from that seed, as the HPKE integrations of ML-KEM and X-Wing
/// that OpenMLS (through hpke-rs) deploys define it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KemAlgorithm {
    /// DHKEM(P-256, HKDF-SHA256), 0x0010.
    DhKemP256,
    /// DHKEM(P-384, HKDF-SHA384), 0x0011.
    DhKemP384,
    /// DHKEM(P-521, HKDF-SHA512), 0x0012.
    DhKemP521,
    /// DHKEM(X25519, HKDF-SHA256), 0x0020.
    DhKemX25519,
    /// DHKEM(X448, HKDF-SHA512), 0x0021.
    DhKemX448,
    /// ML-KEM-768 (FIPS 203), HPKE KEM id 0x0041.
    MlKem768,
    /// ML-KEM-1024 (FIPS 203), HPKE KEM id 0x0042.
    MlKem1024,
    /// X-Wing (`draft-connolly-cfrg-xwing-kem-06`): ML-KEM-768 and X25519 with the X-Wing
    /// SHA3-256 combiner, HPKE KEM id 0x647a.
    XWingDraft06,
    /// MLKEM768-P256 (`draft-ietf-hpke-pq-03`): ML-KEM-768 and P-256 with the QSF SHA3-256
    /// combiner of `draft-irtf-cfrg-hybrid-kems`, HPKE KEM id 0x0050.
    MlKem768P256,
    /// MLKEM1024-P384 (`draft-ietf-hpke-pq-03`): ML-KEM-1024 and P-384 with the QSF
    /// combiner, HPKE KEM id 0x0051.
    MlKem1024P384,
}

impl KemAlgorithm {
    /// The RFC 9180 (or HPKE PQ draft) KEM id, as it enters the HPKE suite id.
    pub const fn id(self) -> u16 {
        match self {
            Self::DhKemP256 => 0x0010,
            Self::DhKemP384 => 0x0011,
            Self::DhKemP521 => 0x0012,
            Self::DhKemX25519 => 0x0020,
            Self::DhKemX448 => 0x0021,
            Self::MlKem768 => 0x0041,
            Self::MlKem1024 => 0x0042,
            Self::XWingDraft06 => 0x647a,
            Self::MlKem768P256 => 0x0050,
            Self::MlKem1024P384 => 0x0051,
        }
    }

    /// Whether this is one of RFC 9180's Diffie-Hellman KEMs.
    pub const fn is_dh(self) -> bool {
        matches!(
            self,
            Self::DhKemP256
                | Self::DhKemP384
                | Self::DhKemP521
                | Self::DhKemX25519
                | Self::DhKemX448
        )
    }

    /// Whether this KEM resists a quantum adversary (ML-KEM, alone or in a hybrid).
    pub const fn is_post_quantum(self) -> bool {
        matches!(
            self,
            Self::MlKem768
                | Self::MlKem1024
                | Self::XWingDraft06
                | Self::MlKem768P256
                | Self::MlKem1024P384
        )
    }

    /// The hash of a DHKEM's own HKDF (RFC 9180 §7.1); the post-quantum KEMs use none, and
    /// report SHA-256, the length of their 32-byte shared secret.
    pub const fn hash(self) -> HashAlgorithm {
        match self {
            Self::DhKemP256 | Self::DhKemX25519 => HashAlgorithm::Sha256,
            Self::DhKemP384 => HashAlgorithm::Sha384,
            Self::DhKemP521 | Self::DhKemX448 => HashAlgorithm::Sha512,
            Self::MlKem768
            | Self::MlKem1024
            | Self::XWingDraft06
            | Self::MlKem768P256
            | Self::MlKem1024P384 => HashAlgorithm::Sha256,
        }
    }

    /// `Nsecret`: the KEM shared-secret length.
    pub const fn shared_secret_len(self) -> usize {
        self.hash().output_len()
    }

    /// `Npk`: the serialized public key length.
    pub const fn public_key_len(self) -> usize {
        match self {
            Self::DhKemP256 => 65,
            Self::DhKemP384 => 97,
            Self::DhKemP521 => 133,
            Self::DhKemX25519 => 32,
            Self::DhKemX448 => 56,
            Self::MlKem768 => 1184,
            Self::MlKem1024 => 1568,
            Self::XWingDraft06 => 1216,
            Self::MlKem768P256 => 1184 + 65,
            Self::MlKem1024P384 => 1568 + 97,
        }
    }

    /// `Nenc`: the length of the KEM output (the encapsulated key) in an HPKE ciphertext;
    /// `Npk` for the DHKEMs.
    pub const fn enc_len(self) -> usize {
        match self {
            Self::MlKem768 => 1088,
            Self::MlKem1024 => 1568,
            Self::XWingDraft06 => 1120,
            Self::MlKem768P256 => 1088 + 65,
            Self::MlKem1024P384 => 1568 + 97,
            _ => self.public_key_len(),
        }
    }

    /// `Nsk`: the serialized private key length (for the post-quantum KEMs, the seed).
    pub const fn private_key_len(self) -> usize {
        match self {
            Self::DhKemP256
            | Self::DhKemX25519
            | Self::XWingDraft06
            | Self::MlKem768P256
            | Self::MlKem1024P384 => 32,
            Self::DhKemP384 => 48,
            Self::DhKemP521 => 66,
            Self::DhKemX448 => 56,
            Self::MlKem768 | Self::MlKem1024 => 64,
        }
    }

    /// How many random bytes one `Encap` consumes: a DHKEM derives its ephemeral key pair
    /// from `Nsk` random bytes; ML-KEM's encapsulation takes the 32-byte message `m` (FIPS 203
    /// §6.2), X-Wing 64 bytes (32 for ML-KEM, 32 for the X25519 ephemeral key), the QSF
    /// hybrids 32 for ML-KEM and `Group.Nseed` for the ephemeral scalar's rejection sampling
    /// (128 for P-256, 48 for P-384).
    pub const fn encap_randomness_len(self) -> usize {
        match self {
            Self::MlKem768 | Self::MlKem1024 => 32,
            Self::XWingDraft06 => 64,
            Self::MlKem768P256 => 32 + 128,
            Self::MlKem1024P384 => 32 + 48,
            _ => self.private_key_len(),
        }
    }
}

/// How a post-quantum KEM's `DeriveKeyPair(ikm)` turns `ikm` into the seed its key pair is
/// generated from. Deployed implementations differ, so a suite's profile says which.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PqKeyDerivation {
    /// `seed = SHAKE256(ikm, Nsk)` (X-Wing draft 06 §5.4, `draft-connolly-cfrg-hpke-mlkem`;
    /// OpenMLS through hpke-rs, and ts-mls's X-Wing).
    Shake256,
    /// `seed = ikm`, which must be exactly `Nsk` bytes (hpke-js's ML-KEM, so ts-mls's ML-KEM
    /// suites, whose KDF gives 64-byte node secrets).
    IkmIsSeed,
    /// `seed = SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", Nsk)` (`draft-ietf-hpke-pq-03`
    /// and later, with the one-stage KDF's labelling: `ikm || "HPKE-v1" || "KEM" || kem_id ||
    /// len(label) || label || Nsk || context`), the derivation of the HPKE PQ draft itself
    /// and of the `hpke` crate.
    LabeledShake256,
}

/// The hash functions of RFC 9420's suites (and their HKDF ids in RFC 9180 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The RFC 9180 KDF id of HKDF with this hash.
    pub const fn hkdf_id(self) -> u16 {
        match self {
            Self::Sha256 => 0x0001,
            Self::Sha384 => 0x0002,
            Self::Sha512 => 0x0003,
        }
    }
}

/// The AEADs of RFC 9420's suites (RFC 9180 §7.3 ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AeadAlgorithm {
    /// AES-128-GCM, 0x0001.
    Aes128Gcm,
    /// AES-256-GCM, 0x0002.
    Aes256Gcm,
    /// ChaCha20-Poly1305, 0x0003.
    ChaCha20Poly1305,
}

impl AeadAlgorithm {
    /// The RFC 9180 AEAD id.
    pub const fn id(self) -> u16 {
        match self {
            Self::Aes128Gcm => 0x0001,
            Self::Aes256Gcm => 0x0002,
            Self::ChaCha20Poly1305 => 0x0003,
        }
    }

    /// `Nk`: the key length.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Aes128Gcm => 16,
            Self::Aes256Gcm | Self::ChaCha20Poly1305 => 32,
        }
    }

    /// `Nt`: the tag length.
    pub const fn tag_len(self) -> usize {
        16
    }
}

/// A TLS 1.3 `SignatureScheme` value (RFC 8446 §4.2.3), as used by RFC 9420 suites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignatureScheme(pub u16);

impl SignatureScheme {
    /// `ecdsa_secp256r1_sha256`.
    pub const ECDSA_SECP256R1_SHA256: Self = Self(0x0403);
    /// `ecdsa_secp384r1_sha384`.
    pub const ECDSA_SECP384R1_SHA384: Self = Self(0x0503);
    /// `ecdsa_secp521r1_sha512`.
    pub const ECDSA_SECP521R1_SHA512: Self = Self(0x0603);
    /// `ed25519`.
    pub const ED25519: Self = Self(0x0807);
    /// `ed448`.
    pub const ED448: Self = Self(0x0808);
    /// `mldsa44` (ML-DSA-44, FIPS 204; the TLS code point OpenMLS uses).
    pub const MLDSA44: Self = Self(0x0904);
    /// `mldsa65` (ML-DSA-65).
    pub const MLDSA65: Self = Self(0x0905);
    /// `mldsa87` (ML-DSA-87).
    pub const MLDSA87: Self = Self(0x0906);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_seven_suites_have_params_and_others_do_not() {
        for s in CipherSuite::ALL {
            let p = s.params().unwrap();
            assert_eq!(p.suite, s);
        }
        assert!(CipherSuite(0).params().is_none());
        assert!(CipherSuite(8).params().is_none());
        assert!(CipherSuite(0x0a0a).params().is_none());
    }

    #[test]
    fn hpke_suite_ids_match_rfc_9180() {
        let p = CipherSuite::MLS_256_DHKEMP521_AES256GCM_SHA512_P521
            .params()
            .unwrap();
        assert_eq!(&p.hpke_suite_id(), b"HPKE\x00\x12\x00\x03\x00\x02");
        let p = CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519
            .params()
            .unwrap();
        assert_eq!(&p.hpke_suite_id(), b"HPKE\x00\x20\x00\x01\x00\x03");
        assert_eq!(p.hash_len(), 32);
        assert_eq!(p.aead_key_len(), 32);
    }
}
