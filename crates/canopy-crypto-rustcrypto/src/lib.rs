//! Canopy's default crypto provider: all seven RFC 9420 cipher suites (0x0001 to 0x0007) in
//! pure Rust, on RustCrypto primitives.
//!
//! | suite | KEM | AEAD | hash | signature |
//! |---|---|---|---|---|
//! | 0x0001 | DHKEM(X25519) | AES-128-GCM | SHA-256 | Ed25519 |
//! | 0x0002 | DHKEM(P-256) | AES-128-GCM | SHA-256 | ECDSA P-256 |
//! | 0x0003 | DHKEM(X25519) | ChaCha20-Poly1305 | SHA-256 | Ed25519 |
//! | 0x0004 | DHKEM(X448) | AES-256-GCM | SHA-512 | Ed448 |
//! | 0x0005 | DHKEM(P-521) | AES-256-GCM | SHA-512 | ECDSA P-521 |
//! | 0x0006 | DHKEM(X448) | ChaCha20-Poly1305 | SHA-512 | Ed448 |
//! | 0x0007 | DHKEM(P-384) | AES-256-GCM | SHA-384 | ECDSA P-384 |
//!
//! With a code-point profile ([`RustCryptoProvider::with_profile`], `canopy_crypto::SuiteProfile`)
//! it also runs post-quantum suites of the PQ cipher-suite draft under a peer's numbering:
//! ML-KEM-768, ML-KEM-1024 (FIPS 203, `ml-kem`) and X-Wing draft 06 (`x-wing`) as HPKE KEMs,
//! with Ed25519, ECDSA or ML-DSA-44/65/87 (FIPS 204, `ml-dsa`) signatures. The default provider
//! runs none of them.
//!
//! Every primitive (curves, signatures, AEADs, hashes, HMAC, HKDF) comes from a RustCrypto or
//! dalek crate. HPKE (RFC 9180 base mode) is composed here from those primitives, because no
//! HPKE crate covers X448 or lets `info` be hashed once for many recipients; it is tested
//! against the `hpke` crate and the MLS test vectors.
//!
//! Randomness comes from a [`RandomSource`]: the operating system by default
//! ([`RustCryptoProvider::new`]), or any source the caller supplies (tests use a seeded one).
//!
//! # One acceptance rule per signature scheme
//!
//! Members of a group must never disagree on whether a signature is valid: a signature one
//! member accepts and another refuses forks the group. So each scheme has exactly one rule,
//! applied by [`SuiteOps::verify`] (with or without its key cache) and by
//! [`SuiteOps::verify_batch`], whose batch may only say "all valid": when it fails, the caller
//! verifies one by one with the same rule.
//!
//! **Ed25519** (RFC 8032 §5.1.7 with its group equation, the cofactored one, and every encoding
//! canonical). A signature `R || S` over `M` under the public key `A` is valid iff:
//! 1. `A` is 32 bytes that decode to a curve point, in that point's canonical encoding
//!    (y < p, and no sign bit on x = 0, RFC 8032 §5.1.3), and the point is not of small order
//!    (not one of the eight points of the torsion subgroup);
//! 2. the signature is 64 bytes and `S < L`;
//! 3. `R` decodes to a curve point, in its canonical encoding, not of small order;
//! 4. `[8][S]B == [8]R + [8][k]A` with `k = SHA-512(R || A || M) mod L`.
//!
//! RFC 8032 states equation 4 and allows the cofactorless `[S]B == R + [k]A` instead; FIPS
//! 186-5 §7.7.2 requires the cofactored one. Only the cofactored equation has a batch form
//! that agrees with it: a random linear combination of cofactored equations holds exactly when
//! each one does (up to 2^-128 over the coefficients; ZIP 215 made the same choice for that
//! reason), while a batch of cofactorless equations accepts a signature whose `R` carries a
//! torsion component one time in two and refuses valid signatures under mixed-order keys. So
//! [`SuiteOps::verify_batch`] checks rules 1 to 3 on every signature and then one batch
//! equation (ed25519-zebra's), which for the 10,000 leaf signatures of a joiner's tree costs
//! about half of verifying them one by one.
//!
//! The cofactored rule accepts a superset of what the cofactorless one does: signatures whose
//! `R`, or whose key, has a torsion component that the cofactorless equation would not cancel.
//! Only the key's own holder can make them (an honest signer never does). Peers that use the
//! cofactorless equation (ed25519-dalek's `verify`, so OpenMLS and mls-rs) refuse them and
//! accept small-order and non-canonical keys that this rule refuses; neither difference can
//! be reached without a member's private key. Of the twelve "Taming the many EdDSAs"
//! edge-case vectors exactly three (3, 4 and 5: mixed-order `A` and `R`) are valid; the
//! tests check all twelve and every path.
//!
//! The verifier keeps up to 64 recently used keys that passed check 1, decompressed; a hit
//! skips only the key parsing, never a check.
//!
//! **Ed448** (RFC 8032 §5.2.7): ed448-goldilocks' `verify_raw`, the only path. `A` and `R`
//! must decode to points without a torsion component (so small-order points are refused and
//! the cofactorless and cofactored equations agree), `A` and `R` must not be the identity,
//! `S` must be canonical and non-zero. The decoder reduces a y coordinate at or above p and
//! ignores the unused bits of the last byte, so non-canonical encodings of `A` and `R` are not
//! refused as such; `k` hashes the bytes as sent, so only the signer can make one verify.
//!
//! **ECDSA** (P-256, P-384, P-521): the `ecdsa` crate's verification of a DER signature, the
//! only path; the public key must be an uncompressed SEC1 point on the curve. Both `s` and
//! `n - s` verify, as FIPS 186-5 specifies.
//!
//! **ML-DSA** (44, 65, 87): FIPS 204 `ML-DSA.Verify` with an empty context string (pure
//! ML-DSA, no pre-hash), the only path; the key and signature must have their parameter
//! set's exact lengths and the signature's hint encoding must be well formed. Signing is the
//! deterministic variant, from the 32-byte seed.
#![forbid(unsafe_code)]

mod aead;
mod hash;
mod hpke;
mod kem;
mod ml_dsa;
mod pq_kem;
mod qsf;
mod sig;

use std::sync::Arc;

use canopy_crypto::{
    CipherSuite, CryptoError, CryptoProvider, HpkeCiphertext, HpkeKeyPair, HpkePrivateKey,
    HpkePublicKey, PreparedInfo, Secret, SignatureKeyPair, SignaturePrivateKey, SignaturePublicKey,
    SuiteOps, SuiteParams, SuiteProfile,
};
use zeroize::Zeroizing;

/// A source of cryptographically secure random bytes.
pub trait RandomSource: Send + Sync {
    /// Fills `out` with random bytes.
    ///
    /// # Errors
    /// [`CryptoError::Random`] if no randomness could be obtained.
    fn fill(&self, out: &mut [u8]) -> Result<(), CryptoError>;
}

/// The operating system's random number generator (`getrandom`).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::fill(out).map_err(|_| CryptoError::Random)
    }
}

/// A deterministic "random" source for tests and simulations: SHA-256 in counter mode over a
/// seed, so that a run replays exactly. **Never for real keys**: anyone who knows the seed
/// knows every key.
#[derive(Debug)]
pub struct DeterministicRandom {
    seed: u64,
    state: std::sync::Mutex<(u64, u64)>,
}

impl DeterministicRandom {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            state: std::sync::Mutex::new((seed, 0)),
        }
    }

    /// The seed of the stream.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A provider whose every random byte comes from `seed` (tests only).
    pub fn provider(seed: u64) -> RustCryptoProvider {
        RustCryptoProvider::with_random(Arc::new(Self::new(seed)))
    }

    /// A provider whose every random byte comes from `seed` that also runs the post-quantum
    /// suites of `profile` (tests only).
    pub fn provider_with(seed: u64, profile: SuiteProfile) -> RustCryptoProvider {
        let base = Self::provider(seed);
        // A provider of RFC 9420's suites alone conflicts with no profile.
        base.with_profile(profile)
            .unwrap_or_else(|_| Self::provider(seed))
    }
}

impl RandomSource for DeterministicRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        use sha2::Digest;
        let mut state = self.state.lock().map_err(|_| CryptoError::Random)?;
        for chunk in out.chunks_mut(32) {
            let (seed, counter) = *state;
            let block = sha2::Sha256::new()
                .chain_update(seed.to_be_bytes())
                .chain_update(counter.to_be_bytes())
                .finalize();
            for (o, b) in chunk.iter_mut().zip(block.iter()) {
                *o = *b;
            }
            state.1 = counter.wrapping_add(1);
        }
        Ok(())
    }
}

/// The pure-Rust provider for all seven RFC 9420 cipher suites.
pub struct RustCryptoProvider {
    suites: Vec<Suite>,
    supported: Vec<CipherSuite>,
    rng: Arc<dyn RandomSource>,
}

impl RustCryptoProvider {
    /// A provider that draws randomness from the operating system.
    pub fn new() -> Self {
        Self::with_random(Arc::new(OsRandom))
    }

    /// A provider that draws randomness from `rng` (for example a seeded generator in tests).
    pub fn with_random(rng: Arc<dyn RandomSource>) -> Self {
        let mut provider = Self {
            suites: Vec::new(),
            supported: Vec::new(),
            rng,
        };
        for params in CipherSuite::ALL.iter().filter_map(|s| s.params()) {
            provider.add_suite(params);
        }
        provider
    }

    fn add_suite(&mut self, params: SuiteParams) {
        self.suites.push(Suite {
            signer: sig::SignerCache::default(),
            verifiers: sig::VerifierCache::default(),
            params,
            rng: Arc::clone(&self.rng),
        });
        self.supported.push(params.suite);
    }

    /// The same provider, also running the post-quantum suites of `profile` under its code
    /// points (after the suites it already runs, in the profile's order).
    ///
    /// # Errors
    /// The first code point of `profile` that this provider already runs as another suite
    /// (two profiles that number differently cannot share a provider: use one provider per
    /// numbering). A suite it already runs identically is kept once.
    pub fn with_profile(mut self, profile: SuiteProfile) -> Result<Self, CipherSuite> {
        for params in profile.suites() {
            match self.suites.iter().find(|s| s.params.suite == params.suite) {
                Some(s) if s.params == *params => {}
                Some(_) => return Err(params.suite),
                None => self.add_suite(*params),
            }
        }
        Ok(self)
    }

    /// The parameters of `suite` as this provider runs it (RFC 9420's, or a profile's).
    pub fn params(&self, suite: CipherSuite) -> Option<SuiteParams> {
        self.suites
            .iter()
            .find(|s| s.params.suite == suite)
            .map(|s| s.params)
    }
}

impl Default for RustCryptoProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for RustCryptoProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RustCryptoProvider")
            .field("supported", &self.supported)
            .finish()
    }
}

impl CryptoProvider for RustCryptoProvider {
    fn supported(&self) -> &[CipherSuite] {
        &self.supported
    }

    fn suite(&self, suite: CipherSuite) -> Result<&dyn SuiteOps, CryptoError> {
        self.suites
            .iter()
            .find(|s| s.params.suite == suite)
            .map(|s| s as &dyn SuiteOps)
            .ok_or(CryptoError::UnsupportedSuite(suite))
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        self.rng.fill(out)
    }
}

/// The primitives of one suite.
struct Suite {
    params: SuiteParams,
    rng: Arc<dyn RandomSource>,
    /// The last Ed25519 signing key used, expanded: expanding one (SHA-512 and a basepoint
    /// multiplication for the public key) costs about 40% of a signature, and a client signs
    /// with the same key again and again. Zeroized on replacement and drop.
    signer: sig::SignerCache,
    /// Recently used Ed25519 verifying keys, decompressed and checked (see the crate docs).
    verifiers: sig::VerifierCache,
}

impl Suite {
    fn random(&self, len: usize) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mut out = Zeroizing::new(vec![0u8; len]);
        self.rng.fill(&mut out)?;
        Ok(out)
    }

    fn kem(&self) -> kem::Kem {
        kem::Kem::for_suite(&self.params)
    }
}

impl SuiteOps for Suite {
    fn suite(&self) -> CipherSuite {
        self.params.suite
    }

    fn params(&self) -> SuiteParams {
        self.params
    }

    fn hash(&self, data: &[u8]) -> Vec<u8> {
        hash::hash(self.params.hash, &[data])
    }

    fn hash_parts(&self, parts: &[&[u8]]) -> Vec<u8> {
        hash::hash(self.params.hash, parts)
    }

    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        hash::mac(self.params.hash, key, &[data])
    }

    fn kdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Secret {
        hash::extract(self.params.kdf, salt, &[ikm])
    }

    fn kdf_expand(&self, prk: &[u8], info: &[u8], len: usize) -> Result<Secret, CryptoError> {
        hash::expand(self.params.kdf, prk, &[info], len)
    }

    fn aead_seal(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        aead::seal(self.params.aead, key, nonce, aad, plaintext)
    }

    fn aead_open(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        aead::open(self.params.aead, key, nonce, aad, ciphertext)
    }

    fn hpke_prepare_info(&self, info: &[u8]) -> PreparedInfo {
        hpke::prepare_info(&self.params, info)
    }

    fn hpke_seal(
        &self,
        recipient: &HpkePublicKey,
        info: &PreparedInfo,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<HpkeCiphertext, CryptoError> {
        // A DHKEM's ephemeral key is DeriveKeyPair(random(Nsk)), a uniformly random key pair;
        // a post-quantum KEM encapsulates with its own amount of randomness.
        let ikm = self.random(self.params.kem.encap_randomness_len())?;
        hpke::seal(
            &self.params,
            recipient.as_bytes(),
            info,
            aad,
            plaintext,
            &ikm,
        )
    }

    fn hpke_open(
        &self,
        private_key: &HpkePrivateKey,
        ciphertext: &HpkeCiphertext,
        info: &PreparedInfo,
        aad: &[u8],
    ) -> Result<Secret, CryptoError> {
        hpke::open(
            &self.params,
            private_key.as_bytes(),
            None,
            ciphertext,
            info,
            aad,
        )
    }

    fn hpke_open_with_public_key(
        &self,
        private_key: &HpkePrivateKey,
        public_key: &HpkePublicKey,
        ciphertext: &HpkeCiphertext,
        info: &PreparedInfo,
        aad: &[u8],
    ) -> Result<Secret, CryptoError> {
        hpke::open(
            &self.params,
            private_key.as_bytes(),
            Some(public_key.as_bytes()),
            ciphertext,
            info,
            aad,
        )
    }

    fn hpke_export_seal(
        &self,
        recipient: &HpkePublicKey,
        info: &PreparedInfo,
        exporter_context: &[u8],
        length: usize,
    ) -> Result<(Vec<u8>, Secret), CryptoError> {
        let ikm = self.random(self.params.kem.encap_randomness_len())?;
        hpke::export_seal(
            &self.params,
            recipient.as_bytes(),
            info,
            exporter_context,
            length,
            &ikm,
        )
    }

    fn hpke_export_open(
        &self,
        private_key: &HpkePrivateKey,
        kem_output: &[u8],
        info: &PreparedInfo,
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Secret, CryptoError> {
        hpke::export_open(
            &self.params,
            private_key.as_bytes(),
            kem_output,
            info,
            exporter_context,
            length,
        )
    }

    fn hpke_derive_key_pair(&self, ikm: &[u8]) -> Result<HpkeKeyPair, CryptoError> {
        self.kem().derive_key_pair(ikm)
    }

    fn hpke_generate_key_pair(&self) -> Result<HpkeKeyPair, CryptoError> {
        let ikm = self.random(self.params.kem.private_key_len())?;
        self.kem().derive_key_pair(&ikm)
    }

    fn hpke_public_key(&self, private_key: &HpkePrivateKey) -> Result<HpkePublicKey, CryptoError> {
        self.kem()
            .public_key(private_key.as_bytes())
            .map(HpkePublicKey::new)
    }

    fn hpke_validate_public_key(&self, public_key: &HpkePublicKey) -> Result<(), CryptoError> {
        self.kem().validate_public_key(public_key.as_bytes())
    }

    fn sign(
        &self,
        private_key: &SignaturePrivateKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if self.params.signature == canopy_crypto::SignatureScheme::ED25519 {
            return self.signer.sign_ed25519(private_key.as_bytes(), message);
        }
        sig::sign(self.params.signature, private_key.as_bytes(), message)
    }

    fn verify_batch(
        &self,
        checks: &[canopy_crypto::SignatureCheck<'_>],
    ) -> Result<(), CryptoError> {
        sig::verify_all(self.params.signature, checks)
    }

    fn verify(
        &self,
        public_key: &SignaturePublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        if self.params.signature == canopy_crypto::SignatureScheme::ED25519 {
            return self
                .verifiers
                .verify_ed25519(public_key.as_bytes(), message, signature);
        }
        sig::verify(
            self.params.signature,
            public_key.as_bytes(),
            message,
            signature,
        )
    }

    fn signature_generate_key_pair(&self) -> Result<SignatureKeyPair, CryptoError> {
        let scheme = self.params.signature;
        let len = sig::private_key_len(scheme)?;
        // Rejection sampling: EdDSA seeds are always valid; an ECDSA candidate is rejected
        // only if it is zero or not below the group order (P-521: top bits are masked first).
        for _ in 0..64 {
            let mut candidate = self.random(len)?;
            if scheme == canopy_crypto::SignatureScheme::ECDSA_SECP521R1_SHA512
                && let Some(first) = candidate.first_mut()
            {
                *first &= 0x01;
            }
            if sig::is_valid_private_key(scheme, &candidate) {
                let private = SignaturePrivateKey::from_slice(&candidate);
                let public = SignaturePublicKey::new(sig::public_key(scheme, &candidate)?);
                return Ok(SignatureKeyPair { private, public });
            }
        }
        Err(CryptoError::Random)
    }

    fn signature_public_key(
        &self,
        private_key: &SignaturePrivateKey,
    ) -> Result<SignaturePublicKey, CryptoError> {
        sig::public_key(self.params.signature, private_key.as_bytes()).map(SignaturePublicKey::new)
    }
}

#[cfg(test)]
mod tests;
