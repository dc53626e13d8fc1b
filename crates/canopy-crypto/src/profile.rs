//! Code-point profiles: which number stands for which post-quantum cipher suite.
//!
//! The PQ cipher-suite draft (`draft-ietf-mls-pq-ciphersuites`, §IANA Considerations) leaves
//! its values as TBD1 to TBD5, and every implementation has picked its own, often for
//! different algorithms: 0x004F is X-Wing with AES-128-GCM and SHA-256 in OpenMLS and
//! ML-KEM-768 with AES-256-GCM and SHA-384 in ts-mls. Until IANA assigns values, the number of
//! a post-quantum suite is a table the application chooses: a [`SuiteProfile`]. A provider
//! given a profile runs its suites under its numbers (the rustcrypto provider's
//! `with_profile`); a group then speaks to the peer whose numbering it is.
//!
//! RFC 9420's seven suites (0x0001 to 0x0007) are fixed and in no profile. A profile never
//! redefines them, and two profiles that give one number different suites cannot be used
//! together ([`SuiteProfile::conflicts_with`]). A code point no profile in use defines is an
//! unknown suite like any other: ignored in capabilities, refused as a group's suite.

use crate::suite::{
    AeadAlgorithm as A, CipherSuite, HashAlgorithm as H, KemAlgorithm as K, PqKeyDerivation,
    SignatureScheme as S, SuiteParams,
};

/// A table of post-quantum cipher suites under one implementation's code points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuiteProfile {
    name: &'static str,
    suites: &'static [SuiteParams],
}

const fn suite(code: u16, kem: K, hash: H, aead: A, signature: S) -> SuiteParams {
    SuiteParams::new(CipherSuite(code), kem, hash, aead, signature)
}

/// OpenMLS 0.9 with `openmls_rust_crypto` 0.6, feature `draft-ietf-mls-pq-ciphersuites`
/// (`openmls_traits::types::Ciphersuite`): HPKE's KDF is HKDF on the suite's hash, X-Wing is
/// KEM 0x647a in the HPKE suite id. The ML-DSA suites of that table are not included.
const OPENMLS: &[SuiteParams] = &[
    suite(
        0x004D,
        K::XWingDraft06,
        H::Sha256,
        A::ChaCha20Poly1305,
        S::ED25519,
    ),
    suite(0x004E, K::XWingDraft06, H::Sha384, A::Aes256Gcm, S::ED25519),
    suite(0x004F, K::XWingDraft06, H::Sha256, A::Aes128Gcm, S::ED25519),
    suite(
        0x0050,
        K::MlKem768,
        H::Sha384,
        A::Aes256Gcm,
        S::ECDSA_SECP256R1_SHA256,
    ),
    suite(
        0x0042,
        K::MlKem1024,
        H::Sha384,
        A::Aes256Gcm,
        S::ECDSA_SECP384R1_SHA384,
    ),
    suite(0xF042, K::MlKem768, H::Sha384, A::Aes256Gcm, S::ED25519),
];

/// OpenMLS's suites that also sign with ML-DSA (FIPS 204), same library and feature: a
/// signature grows from 64 bytes to 2.4 to 4.6 KB, so they are a profile of their own.
const OPENMLS_ML_DSA: &[SuiteParams] = &[
    suite(
        0x0052,
        K::XWingDraft06,
        H::Sha384,
        A::ChaCha20Poly1305,
        S::MLDSA44,
    ),
    suite(0x0051, K::MlKem768, H::Sha384, A::Aes256Gcm, S::MLDSA65),
    suite(0x0907, K::MlKem1024, H::Sha384, A::Aes256Gcm, S::MLDSA87),
    suite(0x0906, K::MlKem1024, H::Sha512, A::Aes256Gcm, S::MLDSA87),
];

/// ts-mls 1.6 (`ciphersuites` of `src/crypto/ciphersuite.ts`), on hpke-js: the KDF is
/// HKDF-SHA512 whatever the suite's hash (for its key schedule as well as HPKE), and hpke-js's
/// ML-KEM takes the 64-byte `ikm` itself as the seed. The ML-KEM-512 and ML-DSA suites of that
/// table are not included.
const TS_MLS: &[SuiteParams] = &[
    ts_mlkem(0x004F, K::MlKem768, H::Sha384, A::Aes256Gcm),
    ts_mlkem(0x0050, K::MlKem768, H::Sha384, A::ChaCha20Poly1305),
    ts_mlkem(0x0051, K::MlKem1024, H::Sha512, A::Aes256Gcm),
    ts_mlkem(0x0052, K::MlKem1024, H::Sha512, A::ChaCha20Poly1305),
    suite(0x0053, K::XWingDraft06, H::Sha512, A::Aes256Gcm, S::ED25519),
    suite(
        0x0054,
        K::XWingDraft06,
        H::Sha512,
        A::ChaCha20Poly1305,
        S::ED25519,
    ),
];

/// A ts-mls ML-KEM suite: Ed25519, HKDF-SHA512, the `ikm` as the seed.
const fn ts_mlkem(code: u16, kem: K, hash: H, aead: A) -> SuiteParams {
    suite(code, kem, hash, aead, S::ED25519)
        .with_kdf(H::Sha512)
        .with_pq_derivation(PqKeyDerivation::IkmIsSeed)
}

impl SuiteProfile {
    /// OpenMLS's numbering (0x004D to 0x004F for X-Wing, 0x0050, 0x0042 and 0xF042 for
    /// ML-KEM); Canopy's tests run live groups with OpenMLS on it.
    pub const OPENMLS: Self = Self {
        name: "openmls",
        suites: OPENMLS,
    };

    /// OpenMLS's numbering of its suites with ML-DSA signatures (0x0051, 0x0052, 0x0906,
    /// 0x0907): post-quantum authentication as well as confidentiality. Optional: add it
    /// beside [`SuiteProfile::OPENMLS`] (the two share no code point).
    pub const OPENMLS_ML_DSA: Self = Self {
        name: "openmls-ml-dsa",
        suites: OPENMLS_ML_DSA,
    };

    /// ts-mls's numbering (0x004F to 0x0054, ML-KEM-768, ML-KEM-1024 and X-Wing with
    /// Ed25519), taken from its published source and checked against ts-mls 1.6.4 groups
    /// (`testdata/vectors/pq/ts-mls/`).
    pub const TS_MLS: Self = Self {
        name: "ts-mls",
        suites: TS_MLS,
    };

    /// The profiles this crate ships.
    pub const ALL: [Self; 3] = [Self::OPENMLS, Self::OPENMLS_ML_DSA, Self::TS_MLS];

    /// A profile of the application's own: `suites` under the numbers they carry.
    ///
    /// # Errors
    /// The first suite that redefines one of RFC 9420's seven, or repeats a number.
    pub fn custom(name: &'static str, suites: &'static [SuiteParams]) -> Result<Self, CipherSuite> {
        for (i, s) in suites.iter().enumerate() {
            let repeated = suites.iter().take(i).any(|t| t.suite == s.suite);
            if s.suite.params().is_some() || repeated {
                return Err(s.suite);
            }
        }
        Ok(Self { name, suites })
    }

    /// The profile's name (`"openmls"`, `"openmls-ml-dsa"`, `"ts-mls"`).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The suites of the profile.
    pub const fn suites(&self) -> &'static [SuiteParams] {
        self.suites
    }

    /// The parameters of `suite` in this profile.
    pub fn params(&self, suite: CipherSuite) -> Option<SuiteParams> {
        self.suites.iter().find(|s| s.suite == suite).copied()
    }

    /// The profile by name.
    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name == name)
    }

    /// The first code point that this profile and `other` give different suites.
    pub fn conflicts_with(&self, other: &Self) -> Option<CipherSuite> {
        self.suites
            .iter()
            .find_map(|s| match other.params(s.suite) {
                Some(t) if t != *s => Some(s.suite),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_profiles_are_valid_custom_profiles() {
        for p in SuiteProfile::ALL {
            assert_eq!(SuiteProfile::custom(p.name(), p.suites()), Ok(p));
            assert_eq!(SuiteProfile::by_name(p.name()), Some(p));
            assert!(p.suites().iter().all(|s| s.kem.is_post_quantum()));
        }
        assert_eq!(
            SuiteProfile::OPENMLS.conflicts_with(&SuiteProfile::OPENMLS_ML_DSA),
            None
        );
    }

    #[test]
    fn the_same_number_is_another_suite_in_another_profile() {
        let a = SuiteProfile::OPENMLS.params(CipherSuite(0x004F)).unwrap();
        let b = SuiteProfile::TS_MLS.params(CipherSuite(0x004F)).unwrap();
        assert_eq!(a.kem, K::XWingDraft06);
        assert_eq!(b.kem, K::MlKem768);
        assert_eq!(
            SuiteProfile::OPENMLS.conflicts_with(&SuiteProfile::TS_MLS),
            Some(CipherSuite(0x004F))
        );
        assert_eq!(
            SuiteProfile::OPENMLS.conflicts_with(&SuiteProfile::OPENMLS),
            None
        );
    }

    #[test]
    fn custom_profiles_refuse_rfc_suites_and_repeats() {
        static RFC: [SuiteParams; 1] = [suite(1, K::MlKem768, H::Sha256, A::Aes128Gcm, S::ED25519)];
        static TWICE: [SuiteParams; 2] = [
            suite(0xF100, K::MlKem768, H::Sha256, A::Aes128Gcm, S::ED25519),
            suite(0xF100, K::MlKem1024, H::Sha256, A::Aes128Gcm, S::ED25519),
        ];
        assert_eq!(SuiteProfile::custom("x", &RFC), Err(CipherSuite(1)));
        assert_eq!(SuiteProfile::custom("x", &TWICE), Err(CipherSuite(0xF100)));
    }

    #[test]
    fn hpke_suite_ids_carry_the_profile_kdf_and_kem() {
        assert_eq!(
            SuiteProfile::TS_MLS
                .params(CipherSuite(0x004F))
                .unwrap()
                .kdf_len(),
            64
        );
        let p = SuiteProfile::OPENMLS.params(CipherSuite(0x004F)).unwrap();
        assert_eq!(&p.hpke_suite_id(), b"HPKE\x64\x7a\x00\x01\x00\x01");
        let p = SuiteProfile::TS_MLS.params(CipherSuite(0x004F)).unwrap();
        assert_eq!(&p.hpke_suite_id(), b"HPKE\x00\x41\x00\x03\x00\x02");
        assert_eq!(p.hash_len(), 48);
    }
}
