//! Crypto provider traits, cipher-suite identifiers and secret-holding types for Canopy.
//!
//! This crate is the contract between the protocol library (`canopy-core`) and a crypto
//! backend (`canopy-crypto-rustcrypto` is the default). It holds no algorithm code:
//!
//! - [`CipherSuite`] names an RFC 9420 §5.1 cipher suite and knows its parameters
//!   ([`SuiteParams`]): KEM, KDF, AEAD, hash and signature scheme, and their sizes.
//!   Post-quantum suites, whose numbers are not assigned yet, come from a [`SuiteProfile`]: a
//!   peer's numbering, which the application picks.
//! - [`CryptoProvider`] hands out one [`SuiteOps`] per supported suite and fills buffers with
//!   randomness. [`SuiteOps`] exposes the raw primitives of one suite: hash, MAC, HKDF, AEAD,
//!   HPKE base mode (RFC 9180) and signatures. MLS's labelled functions (ExpandWithLabel,
//!   SignWithLabel, EncryptWithLabel) live in `canopy-core`, never here.
//! - [`Secret`] and the key newtypes zeroize their bytes on drop, compare in constant time and
//!   never print their contents.
//!
//! The traits are object-safe and synchronous: the core takes `&dyn CryptoProvider`.
//!
//! HPKE's `info` is prepared once ([`SuiteOps::hpke_prepare_info`]) and reused for every
//! recipient ([`SuiteOps::hpke_seal`]). A Welcome seals the same multi-megabyte `info` to every
//! new member; hashing it once keeps an add-everyone commit linear in the group size.
#![forbid(unsafe_code)]

mod error;
mod keys;
mod profile;
mod signer;
mod suite;

pub use error::CryptoError;
pub use keys::{
    HpkeCiphertext, HpkeKeyPair, HpkePrivateKey, HpkePublicKey, PreparedInfo, Secret,
    SignatureKeyPair, SignaturePrivateKey, SignaturePublicKey,
};
pub use profile::SuiteProfile;
pub use signer::Signer;
pub use suite::{
    AeadAlgorithm, CipherSuite, HashAlgorithm, KemAlgorithm, PqKeyDerivation, SignatureScheme,
    SuiteParams,
};

/// The entry point to a crypto backend: which suites it runs, and randomness.
///
/// Implementations must be thread-safe; one provider is shared by every group of a process.
pub trait CryptoProvider: Send + Sync {
    /// The cipher suites this provider implements, in order of preference.
    fn supported(&self) -> &[CipherSuite];

    /// The primitives of one cipher suite.
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedSuite`] if this provider does not implement `suite`.
    fn suite(&self, suite: CipherSuite) -> Result<&dyn SuiteOps, CryptoError>;

    /// Fills `out` with bytes from a cryptographically secure random number generator.
    ///
    /// # Errors
    /// [`CryptoError::Random`] if the generator failed.
    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError>;
}

/// One signature to verify in [`SuiteOps::verify_batch`].
#[derive(Clone, Copy, Debug)]
pub struct SignatureCheck<'a> {
    /// The signer's public key.
    pub public_key: &'a SignaturePublicKey,
    /// The signed message.
    pub message: &'a [u8],
    /// The signature.
    pub signature: &'a [u8],
}

/// The raw primitives of one RFC 9420 cipher suite.
///
/// Every method validates its inputs (key and nonce lengths, point encodings) and reports a
/// [`CryptoError`]; none panics on malformed input.
pub trait SuiteOps: Send + Sync {
    /// The suite these primitives implement.
    fn suite(&self) -> CipherSuite;

    /// The suite's parameters (sizes and algorithm ids). The default knows RFC 9420's seven
    /// suites only: a backend that runs profile suites (post-quantum ones) must return their
    /// parameters here, since the core reads key lengths and `KDF.Nh` from it.
    fn params(&self) -> SuiteParams {
        self.suite().params().unwrap_or(SuiteParams::UNKNOWN)
    }

    /// `Hash(data)` with the suite's hash function.
    fn hash(&self, data: &[u8]) -> Vec<u8>;

    /// `Hash(parts[0] || parts[1] || ...)` without concatenating the parts first.
    fn hash_parts(&self, parts: &[&[u8]]) -> Vec<u8>;

    /// `MAC(key, data)`: HMAC with the suite's hash (RFC 9420 §5.1).
    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8>;

    /// `KDF.Extract(salt, ikm)`: HKDF-Extract with the suite's KDF hash ([`SuiteParams::kdf`],
    /// RFC 5869).
    fn kdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Secret;

    /// `KDF.Expand(prk, info, len)`: HKDF-Expand with the suite's KDF hash (RFC 5869).
    ///
    /// # Errors
    /// [`CryptoError::InvalidLength`] if `prk` is shorter than the hash output or `len` exceeds
    /// 255 hash outputs.
    fn kdf_expand(&self, prk: &[u8], info: &[u8], len: usize) -> Result<Secret, CryptoError>;

    /// AEAD encryption with the suite's AEAD. Returns ciphertext with the tag appended.
    ///
    /// # Errors
    /// [`CryptoError::InvalidLength`] for a key or nonce of the wrong size.
    fn aead_seal(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// AEAD decryption with the suite's AEAD.
    ///
    /// # Errors
    /// [`CryptoError::InvalidLength`] for a key or nonce of the wrong size,
    /// [`CryptoError::AeadOpenFailed`] if the ciphertext does not authenticate.
    fn aead_open(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError>;

    /// Computes the `info`-dependent part of the HPKE base-mode key schedule once
    /// (RFC 9180 §5.1: `key_schedule_context = mode || psk_id_hash || info_hash`).
    ///
    /// The result can be passed to any number of [`SuiteOps::hpke_seal`] and
    /// [`SuiteOps::hpke_open`] calls of this suite.
    fn hpke_prepare_info(&self, info: &[u8]) -> PreparedInfo;

    /// HPKE base-mode single-shot seal to `recipient` (RFC 9180 §6.1, `SealBase`).
    ///
    /// # Errors
    /// [`CryptoError::InvalidPublicKey`] if `recipient` is not a valid KEM public key,
    /// [`CryptoError::WrongSuite`] if `info` was prepared by another suite.
    fn hpke_seal(
        &self,
        recipient: &HpkePublicKey,
        info: &PreparedInfo,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<HpkeCiphertext, CryptoError>;

    /// HPKE base-mode single-shot open (RFC 9180 §6.1, `OpenBase`).
    ///
    /// # Errors
    /// [`CryptoError::InvalidPrivateKey`], [`CryptoError::InvalidPublicKey`] for a bad
    /// `kem_output`, [`CryptoError::AeadOpenFailed`] if the ciphertext does not authenticate.
    fn hpke_open(
        &self,
        private_key: &HpkePrivateKey,
        ciphertext: &HpkeCiphertext,
        info: &PreparedInfo,
        aad: &[u8],
    ) -> Result<Secret, CryptoError>;

    /// [`SuiteOps::hpke_open`] for a recipient that also holds its public key:
    /// `public_key` must be the one of `private_key`, and a backend may put it into the KEM
    /// context (RFC 9180 §4.1, `pkRm` of `Decap`) instead of computing it from the private
    /// key again, which for a DHKEM saves one scalar multiplication; a backend that does so
    /// derives another shared secret from any other public key, and the open fails as with a
    /// wrong private key. The default ignores `public_key`, as KEMs whose decapsulation does
    /// not take the public key may.
    ///
    /// # Errors
    /// As [`SuiteOps::hpke_open`].
    fn hpke_open_with_public_key(
        &self,
        private_key: &HpkePrivateKey,
        public_key: &HpkePublicKey,
        ciphertext: &HpkeCiphertext,
        info: &PreparedInfo,
        aad: &[u8],
    ) -> Result<Secret, CryptoError> {
        let _ = public_key;
        self.hpke_open(private_key, ciphertext, info, aad)
    }

    /// HPKE base-mode sender export (RFC 9180 §5.3, §6.2): `SetupBaseS(recipient, info)`,
    /// then `Export(exporter_context, length)`. Returns the KEM output and the exported
    /// secret. MLS uses it for external joins (RFC 9420 §8.3).
    ///
    /// # Errors
    /// [`CryptoError::InvalidPublicKey`], [`CryptoError::WrongSuite`], and
    /// [`CryptoError::InvalidLength`] for a `length` above 255 hash outputs.
    fn hpke_export_seal(
        &self,
        recipient: &HpkePublicKey,
        info: &PreparedInfo,
        exporter_context: &[u8],
        length: usize,
    ) -> Result<(Vec<u8>, Secret), CryptoError>;

    /// HPKE base-mode receiver export (RFC 9180 §5.3, §6.2): `SetupBaseR(kem_output,
    /// private_key, info)`, then `Export(exporter_context, length)`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPrivateKey`], [`CryptoError::InvalidPublicKey`] for a bad
    /// `kem_output`, [`CryptoError::WrongSuite`], [`CryptoError::InvalidLength`].
    fn hpke_export_open(
        &self,
        private_key: &HpkePrivateKey,
        kem_output: &[u8],
        info: &PreparedInfo,
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Secret, CryptoError>;

    /// `KEM.DeriveKeyPair(ikm)` (RFC 9180 §7.1.3), used for TreeKEM node keys.
    ///
    /// # Errors
    /// [`CryptoError::DeriveKeyPairFailed`] in the astronomically unlikely case that no valid
    /// NIST-curve scalar is found in 256 attempts.
    fn hpke_derive_key_pair(&self, ikm: &[u8]) -> Result<HpkeKeyPair, CryptoError>;

    /// A fresh random HPKE key pair.
    ///
    /// # Errors
    /// [`CryptoError::Random`] if the random generator failed.
    fn hpke_generate_key_pair(&self) -> Result<HpkeKeyPair, CryptoError>;

    /// The public key that belongs to `private_key`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPrivateKey`] if `private_key` is not a valid KEM private key.
    fn hpke_public_key(&self, private_key: &HpkePrivateKey) -> Result<HpkePublicKey, CryptoError>;

    /// Checks that a public key received from a peer is a usable public key of the suite's
    /// KEM: RFC 9180 §7.1.1 `DeserializePublicKey` succeeds, and Diffie-Hellman with it cannot
    /// give the all-zero output that §7.1.4 requires `DH` to refuse. A member whose HPKE key
    /// fails this makes every later encryption to it fail, so keys are checked when they are
    /// accepted (KeyPackages, leaves, UpdatePaths, trees, `external_pub`), not when used.
    ///
    /// - NIST curves (P-256, P-384, P-521): exactly the uncompressed SEC1 form
    ///   (`0x04 || x || y`, of `Npk` bytes), coordinates below the field prime, a point on
    ///   the curve; the identity has no such encoding.
    /// - X25519, X448 (RFC 7748): `Npk` bytes whose u-coordinate is not of low order, that is
    ///   not one of the points for which Diffie-Hellman gives zero for every private key,
    ///   in any encoding the function accepts (u at or above p, and for X25519 the ignored
    ///   top bit). Nothing else can be checked: every string of `Npk` bytes is the
    ///   u-coordinate of a point on the curve or on its twist, and both functions are safe
    ///   with either.
    ///
    /// Required of every backend, so that none accepts keys unchecked by default.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPublicKey`] if the key fails a check.
    fn hpke_validate_public_key(&self, public_key: &HpkePublicKey) -> Result<(), CryptoError>;

    /// Signs `message` with the suite's signature scheme. ECDSA signatures are DER-encoded.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPrivateKey`] if `private_key` is malformed.
    fn sign(
        &self,
        private_key: &SignaturePrivateKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError>;

    /// Verifies `signature` over `message`.
    ///
    /// A backend implements exactly one acceptance rule per signature scheme, whatever the
    /// path (key caches, batches, threads): two members that disagree on whether a signature
    /// is valid fork their group. The rule must be documented by the backend (the rustcrypto
    /// backend's Ed25519 rule is RFC 8032's cofactored group equation with canonical `A`, `R`
    /// and `S`, refusing small-order `A` and `R`).
    ///
    /// # Errors
    /// [`CryptoError::InvalidPublicKey`] if `public_key` is malformed,
    /// [`CryptoError::InvalidSignature`] if the signature does not verify.
    fn verify(
        &self,
        public_key: &SignaturePublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// Verifies many signatures at once: `Ok` exactly when [`SuiteOps::verify`] accepts every
    /// one of them. A failure does not say which signature failed; verify them one by one to
    /// find out.
    ///
    /// A backend may use a batch equation only if it cannot accept a signature that
    /// [`SuiteOps::verify`] refuses: a probabilistic batch whose equation differs from the
    /// single-signature rule (ed25519-dalek's batch against its cofactorless `verify`, for
    /// example) breaks that. Callers treat a failed batch as "verify one by one", so a batch
    /// may fail where every single verification would pass, never the other way. The default
    /// verifies each with [`SuiteOps::verify`]; the rustcrypto backend batches Ed25519 with
    /// the cofactored equation of its single rule.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPublicKey`] or [`CryptoError::InvalidSignature`] if any check
    /// fails.
    fn verify_batch(&self, checks: &[SignatureCheck<'_>]) -> Result<(), CryptoError> {
        checks
            .iter()
            .try_for_each(|c| self.verify(c.public_key, c.message, c.signature))
    }

    /// A fresh random signature key pair.
    ///
    /// # Errors
    /// [`CryptoError::Random`] if the random generator failed.
    fn signature_generate_key_pair(&self) -> Result<SignatureKeyPair, CryptoError>;

    /// The public key that belongs to `private_key`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPrivateKey`] if `private_key` is malformed.
    fn signature_public_key(
        &self,
        private_key: &SignaturePrivateKey,
    ) -> Result<SignaturePublicKey, CryptoError>;
}
