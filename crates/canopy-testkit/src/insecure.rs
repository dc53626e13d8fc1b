//! A deterministic, cheap and **insecure** provider for fuzzing (STYLE.md B.5, the
//! `rustls-fuzzing-provider` idea).
//!
//! A fuzzer that must get past real signatures, AEAD tags and HPKE never reaches the group
//! logic behind them, and spends its time in curve arithmetic. This provider keeps the
//! *checks* of every primitive (a wrong key, a changed byte, a wrong label still fail) but
//! makes them cheap, and makes signatures forgeable by the harness (not by the fuzzer), so
//! that the stateful target can play a malicious member who signs whatever it likes:
//!
//! | primitive | here | why |
//! |---|---|---|
//! | hash, HKDF, HMAC | the real ones (RustCrypto) | cheap already; tree hashes, transcripts, the key schedule and the membership and confirmation tags stay exact, so "who knows which key" is as in the protocol |
//! | signature | `sig = H("sig" ‖ pk ‖ msg)`, 64 bytes; the private key *is* the public key (32 bytes) | verification accepts exactly what the fake signer produced for that key and message, so a mutated signed byte is still rejected and the target can check that nothing is accepted with other content than was signed; anyone who knows a public key can sign for it, which lets the harness re-sign mutated content as its sender (an insider) |
//! | AEAD | identity ciphertext, then a tag `HMAC(key, "aead" ‖ nonce ‖ aad ‖ plaintext)` truncated to the AEAD's tag length | integrity and the key binding are kept (a ratchet key of the wrong generation fails), confidentiality is not |
//! | HPKE | `pk = H("hpke-pk" ‖ sk)`; `enc` and the key are hashes of `pk`, the prepared `info` and the input; then the AEAD above | deterministic (no ephemeral randomness), opening still needs the private key of `pk`, and `enc`, `info` and `aad` are bound |
//! | randomness | a [`DeterministicRandom`](canopy_crypto_rustcrypto::DeterministicRandom) stream | a run replays exactly |
//!
//! Key, nonce, `enc` and public-key lengths are the suite's, and wrong lengths are errors as
//! in the real backend. Nothing here is secure, and nothing here is reachable from a library
//! crate (`tests/architecture.rs`).

use std::sync::Arc;

use canopy_crypto::{
    CipherSuite, CryptoError, CryptoProvider, HpkeCiphertext, HpkeKeyPair, HpkePrivateKey,
    HpkePublicKey, PreparedInfo, Secret, SignatureKeyPair, SignaturePrivateKey, SignaturePublicKey,
    SuiteOps, SuiteParams,
};
use canopy_crypto_rustcrypto::{RandomSource, RustCryptoProvider};

use canopy_crypto_rustcrypto::DeterministicRandom as SeededRandom;

/// The fake signature length.
const SIGNATURE_LEN: usize = 64;
/// The fake signature key length (private and public: they are the same bytes).
const SIGNATURE_KEY_LEN: usize = 32;

/// The fuzzing provider: see the module documentation for what each primitive does.
pub struct InsecureFuzzProvider {
    suites: Vec<FakeSuite>,
    supported: Vec<CipherSuite>,
    rng: Arc<SeededRandom>,
}

impl InsecureFuzzProvider {
    /// A provider whose random stream is the one of `seed`.
    pub fn seeded(seed: u64) -> Self {
        let rng = Arc::new(SeededRandom::new(seed));
        // The real hash, HMAC and HKDF come from the RustCrypto backend; it never draws
        // randomness for them.
        let real = Arc::new(RustCryptoProvider::with_random(rng.clone()));
        let suites: Vec<FakeSuite> = CipherSuite::ALL
            .iter()
            .filter_map(|s| s.params())
            .map(|params| FakeSuite {
                params,
                real: Arc::clone(&real),
                rng: Arc::clone(&rng),
            })
            .collect();
        let supported = suites.iter().map(|s| s.params.suite).collect();
        Self {
            suites,
            supported,
            rng,
        }
    }

    /// The fake signature of `message` under `public_key` in `suite`, as
    /// [`SuiteOps::sign`] makes it with the (identical) private key. For harnesses that
    /// forge messages.
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedSuite`].
    pub fn forge_signature(
        &self,
        suite: CipherSuite,
        public_key: &SignaturePublicKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let ops = self.fake(suite)?;
        ops.fake_signature(public_key.as_bytes(), message)
    }

    fn fake(&self, suite: CipherSuite) -> Result<&FakeSuite, CryptoError> {
        self.suites
            .iter()
            .find(|s| s.params.suite == suite)
            .ok_or(CryptoError::UnsupportedSuite(suite))
    }
}

impl Default for InsecureFuzzProvider {
    fn default() -> Self {
        Self::seeded(0)
    }
}

impl core::fmt::Debug for InsecureFuzzProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InsecureFuzzProvider")
            .field("seed", &self.rng.seed())
            .finish_non_exhaustive()
    }
}

impl CryptoProvider for InsecureFuzzProvider {
    fn supported(&self) -> &[CipherSuite] {
        &self.supported
    }

    fn suite(&self, suite: CipherSuite) -> Result<&dyn SuiteOps, CryptoError> {
        self.fake(suite).map(|s| s as &dyn SuiteOps)
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        self.rng.fill(out)
    }
}

struct FakeSuite {
    params: SuiteParams,
    real: Arc<RustCryptoProvider>,
    rng: Arc<SeededRandom>,
}

impl FakeSuite {
    fn real(&self) -> Result<&dyn SuiteOps, CryptoError> {
        self.real.suite(self.params.suite)
    }

    /// `len` bytes that depend on `label` and every part (each length-prefixed).
    fn derive(&self, label: &str, parts: &[&[u8]], len: usize) -> Result<Vec<u8>, CryptoError> {
        let real = self.real()?;
        let mut input = Vec::new();
        for part in core::iter::once(&label.as_bytes()).chain(parts) {
            input.extend_from_slice(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            input.extend_from_slice(part);
        }
        let prk = real.hash(&input);
        Ok(real
            .kdf_expand(&prk, b"canopy insecure fuzz provider", len)?
            .into_bytes())
    }

    fn fake_signature(&self, public_key: &[u8], message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if public_key.len() != SIGNATURE_KEY_LEN {
            return Err(CryptoError::InvalidPublicKey);
        }
        self.derive("sig", &[public_key, message], SIGNATURE_LEN)
    }

    fn tag(&self, key: &[u8], nonce: &[u8], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut data = Vec::with_capacity(nonce.len() + aad.len() + plaintext.len() + 24);
        for part in [b"aead".as_slice(), nonce, aad] {
            data.extend_from_slice(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            data.extend_from_slice(part);
        }
        data.extend_from_slice(plaintext);
        let mut tag = self
            .real
            .suite(self.params.suite)
            .map_or_else(|_| Vec::new(), |real| real.mac(key, &data));
        tag.truncate(self.params.aead.tag_len());
        tag
    }

    fn check_aead_inputs(&self, key: &[u8], nonce: &[u8]) -> Result<(), CryptoError> {
        if key.len() != self.params.aead_key_len() {
            return Err(CryptoError::InvalidLength {
                what: "AEAD key",
                got: key.len(),
            });
        }
        if nonce.len() != self.params.aead_nonce_len() {
            return Err(CryptoError::InvalidLength {
                what: "AEAD nonce",
                got: nonce.len(),
            });
        }
        Ok(())
    }

    fn hpke_public(&self, private_key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        if private_key.len() != self.params.kem.private_key_len() {
            return Err(CryptoError::InvalidPrivateKey);
        }
        self.derive("hpke-pk", &[private_key], self.params.kem.public_key_len())
    }

    fn check_hpke_public(&self, public_key: &[u8]) -> Result<(), CryptoError> {
        if public_key.len() == self.params.kem.public_key_len() {
            Ok(())
        } else {
            Err(CryptoError::InvalidPublicKey)
        }
    }

    fn check_info(&self, info: &PreparedInfo) -> Result<(), CryptoError> {
        if info.suite() == self.params.suite {
            Ok(())
        } else {
            Err(CryptoError::WrongSuite {
                prepared: info.suite(),
                used: self.params.suite,
            })
        }
    }

    /// The AEAD key and nonce of an HPKE context with `pk`, `enc` and `info`.
    fn hpke_key(
        &self,
        pk: &[u8],
        enc: &[u8],
        info: &PreparedInfo,
    ) -> Result<(Vec<u8>, Vec<u8>), CryptoError> {
        let ctx = info.key_schedule_context();
        let key = self.derive("hpke-key", &[pk, enc, ctx], self.params.aead_key_len())?;
        let nonce = self.derive("hpke-nonce", &[pk, enc, ctx], self.params.aead_nonce_len())?;
        Ok((key, nonce))
    }

    fn random(&self, len: usize) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; len];
        self.rng.fill(&mut out)?;
        Ok(out)
    }
}

impl SuiteOps for FakeSuite {
    fn suite(&self) -> CipherSuite {
        self.params.suite
    }

    fn params(&self) -> SuiteParams {
        self.params
    }

    fn hash(&self, data: &[u8]) -> Vec<u8> {
        self.real().map_or_else(|_| Vec::new(), |r| r.hash(data))
    }

    fn hash_parts(&self, parts: &[&[u8]]) -> Vec<u8> {
        self.real()
            .map_or_else(|_| Vec::new(), |r| r.hash_parts(parts))
    }

    fn mac(&self, key: &[u8], data: &[u8]) -> Vec<u8> {
        self.real()
            .map_or_else(|_| Vec::new(), |r| r.mac(key, data))
    }

    fn kdf_extract(&self, salt: &[u8], ikm: &[u8]) -> Secret {
        self.real()
            .map_or_else(|_| Secret::default(), |r| r.kdf_extract(salt, ikm))
    }

    fn kdf_expand(&self, prk: &[u8], info: &[u8], len: usize) -> Result<Secret, CryptoError> {
        self.real()?.kdf_expand(prk, info, len)
    }

    fn aead_seal(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        self.check_aead_inputs(key, nonce)?;
        let mut out = plaintext.to_vec();
        out.extend_from_slice(&self.tag(key, nonce, aad, plaintext));
        Ok(out)
    }

    fn aead_open(
        &self,
        key: &[u8],
        nonce: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret, CryptoError> {
        self.check_aead_inputs(key, nonce)?;
        let split = ciphertext
            .len()
            .checked_sub(self.params.aead.tag_len())
            .ok_or(CryptoError::AeadOpenFailed)?;
        let (plaintext, tag) = ciphertext.split_at(split);
        if self.tag(key, nonce, aad, plaintext) != tag {
            return Err(CryptoError::AeadOpenFailed);
        }
        Ok(Secret::from_slice(plaintext))
    }

    fn hpke_prepare_info(&self, info: &[u8]) -> PreparedInfo {
        match self.real() {
            Ok(r) => r.hpke_prepare_info(info),
            Err(_) => PreparedInfo::new(self.params.suite, Vec::new()),
        }
    }

    fn hpke_seal(
        &self,
        recipient: &HpkePublicKey,
        info: &PreparedInfo,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<HpkeCiphertext, CryptoError> {
        self.check_info(info)?;
        let pk = recipient.as_bytes();
        self.check_hpke_public(pk)?;
        let enc = self.derive(
            "hpke-enc",
            &[pk, info.key_schedule_context(), aad, plaintext],
            self.params.kem.public_key_len(),
        )?;
        let (key, nonce) = self.hpke_key(pk, &enc, info)?;
        let ciphertext = self.aead_seal(&key, &nonce, aad, plaintext)?;
        Ok(HpkeCiphertext {
            kem_output: enc,
            ciphertext,
        })
    }

    fn hpke_open(
        &self,
        private_key: &HpkePrivateKey,
        ciphertext: &HpkeCiphertext,
        info: &PreparedInfo,
        aad: &[u8],
    ) -> Result<Secret, CryptoError> {
        self.check_info(info)?;
        let pk = self.hpke_public(private_key.as_bytes())?;
        self.check_hpke_public(&ciphertext.kem_output)?;
        let (key, nonce) = self.hpke_key(&pk, &ciphertext.kem_output, info)?;
        self.aead_open(&key, &nonce, aad, &ciphertext.ciphertext)
    }

    fn hpke_export_seal(
        &self,
        recipient: &HpkePublicKey,
        info: &PreparedInfo,
        exporter_context: &[u8],
        length: usize,
    ) -> Result<(Vec<u8>, Secret), CryptoError> {
        self.check_info(info)?;
        let pk = recipient.as_bytes();
        self.check_hpke_public(pk)?;
        let enc = self.derive(
            "hpke-export-enc",
            &[pk, info.key_schedule_context(), exporter_context],
            self.params.kem.public_key_len(),
        )?;
        let secret = self.derive(
            "hpke-export",
            &[pk, &enc, info.key_schedule_context(), exporter_context],
            length,
        )?;
        Ok((enc, Secret::new(secret)))
    }

    fn hpke_export_open(
        &self,
        private_key: &HpkePrivateKey,
        kem_output: &[u8],
        info: &PreparedInfo,
        exporter_context: &[u8],
        length: usize,
    ) -> Result<Secret, CryptoError> {
        self.check_info(info)?;
        let pk = self.hpke_public(private_key.as_bytes())?;
        self.check_hpke_public(kem_output)?;
        let secret = self.derive(
            "hpke-export",
            &[
                &pk,
                kem_output,
                info.key_schedule_context(),
                exporter_context,
            ],
            length,
        )?;
        Ok(Secret::new(secret))
    }

    fn hpke_derive_key_pair(&self, ikm: &[u8]) -> Result<HpkeKeyPair, CryptoError> {
        let private = self.derive("hpke-sk", &[ikm], self.params.kem.private_key_len())?;
        let public = self.hpke_public(&private)?;
        Ok(HpkeKeyPair {
            private: HpkePrivateKey::new(private),
            public: HpkePublicKey::new(public),
        })
    }

    fn hpke_generate_key_pair(&self) -> Result<HpkeKeyPair, CryptoError> {
        let ikm = self.random(self.params.kem.private_key_len())?;
        self.hpke_derive_key_pair(&ikm)
    }

    /// Any key of the suite's public-key length: the fake KEM has no invalid points.
    fn hpke_validate_public_key(&self, key: &HpkePublicKey) -> Result<(), CryptoError> {
        if key.as_bytes().len() == self.params.kem.public_key_len() {
            Ok(())
        } else {
            Err(CryptoError::InvalidPublicKey)
        }
    }

    fn hpke_public_key(&self, private_key: &HpkePrivateKey) -> Result<HpkePublicKey, CryptoError> {
        self.hpke_public(private_key.as_bytes())
            .map(HpkePublicKey::new)
    }

    fn sign(
        &self,
        private_key: &SignaturePrivateKey,
        message: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        if private_key.as_bytes().len() != SIGNATURE_KEY_LEN {
            return Err(CryptoError::InvalidPrivateKey);
        }
        self.fake_signature(private_key.as_bytes(), message)
    }

    fn verify(
        &self,
        public_key: &SignaturePublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        if self.fake_signature(public_key.as_bytes(), message)? == signature {
            Ok(())
        } else {
            Err(CryptoError::InvalidSignature)
        }
    }

    fn signature_generate_key_pair(&self) -> Result<SignatureKeyPair, CryptoError> {
        let key = self.random(SIGNATURE_KEY_LEN)?;
        Ok(SignatureKeyPair {
            private: SignaturePrivateKey::from_slice(&key),
            public: SignaturePublicKey::new(key),
        })
    }

    fn signature_public_key(
        &self,
        private_key: &SignaturePrivateKey,
    ) -> Result<SignaturePublicKey, CryptoError> {
        if private_key.as_bytes().len() != SIGNATURE_KEY_LEN {
            return Err(CryptoError::InvalidPrivateKey);
        }
        Ok(SignaturePublicKey::new(private_key.as_bytes().to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

    #[test]
    fn signatures_verify_exactly_what_was_signed() {
        let p = InsecureFuzzProvider::seeded(1);
        let ops = p.suite(SUITE).unwrap();
        let kp = ops.signature_generate_key_pair().unwrap();
        let other = ops.signature_generate_key_pair().unwrap();
        let sig = ops.sign(&kp.private, b"m").unwrap();
        ops.verify(&kp.public, b"m", &sig).unwrap();
        assert_eq!(
            ops.verify(&kp.public, b"n", &sig),
            Err(CryptoError::InvalidSignature)
        );
        assert_eq!(
            ops.verify(&other.public, b"m", &sig),
            Err(CryptoError::InvalidSignature)
        );
        assert_eq!(p.forge_signature(SUITE, &kp.public, b"m").unwrap(), sig);
    }

    #[test]
    fn aead_checks_key_nonce_aad_and_every_byte() {
        let p = InsecureFuzzProvider::seeded(1);
        let ops = p.suite(SUITE).unwrap();
        let (key, nonce) = ([1u8; 16], [2u8; 12]);
        let ct = ops.aead_seal(&key, &nonce, b"aad", b"plaintext").unwrap();
        assert_eq!(
            ops.aead_open(&key, &nonce, b"aad", &ct).unwrap().as_bytes(),
            b"plaintext"
        );
        assert!(ops.aead_open(&[3u8; 16], &nonce, b"aad", &ct).is_err());
        assert!(ops.aead_open(&key, &[3u8; 12], b"aad", &ct).is_err());
        assert!(ops.aead_open(&key, &nonce, b"aaD", &ct).is_err());
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            assert!(ops.aead_open(&key, &nonce, b"aad", &bad).is_err());
        }
        assert!(ops.aead_open(&key, &nonce, b"aad", &ct[..10]).is_err());
        assert!(ops.aead_seal(&key[..15], &nonce, b"", b"").is_err());
    }

    #[test]
    fn hpke_opens_only_with_the_private_key_and_the_same_inputs() {
        let p = InsecureFuzzProvider::seeded(1);
        let ops = p.suite(SUITE).unwrap();
        let kp = ops.hpke_derive_key_pair(b"ikm").unwrap();
        assert_eq!(ops.hpke_public_key(&kp.private).unwrap(), kp.public);
        let other = ops.hpke_generate_key_pair().unwrap();
        let info = ops.hpke_prepare_info(b"info");
        let ct = ops.hpke_seal(&kp.public, &info, b"aad", b"secret").unwrap();
        assert_eq!(
            ops.hpke_open(&kp.private, &ct, &info, b"aad")
                .unwrap()
                .as_bytes(),
            b"secret"
        );
        assert!(ops.hpke_open(&other.private, &ct, &info, b"aad").is_err());
        assert!(
            ops.hpke_open(&kp.private, &ct, &ops.hpke_prepare_info(b"x"), b"aad")
                .is_err()
        );
        assert!(ops.hpke_open(&kp.private, &ct, &info, b"aaD").is_err());
        let (enc, secret) = ops.hpke_export_seal(&kp.public, &info, b"ctx", 32).unwrap();
        let opened = ops
            .hpke_export_open(&kp.private, &enc, &info, b"ctx", 32)
            .unwrap();
        assert_eq!(opened, secret);
        let wrong = ops
            .hpke_export_open(&other.private, &enc, &info, b"ctx", 32)
            .unwrap();
        assert_ne!(wrong, secret);
    }

    #[test]
    fn the_same_seed_gives_the_same_keys() {
        let key = |seed| {
            let p = InsecureFuzzProvider::seeded(seed);
            let ops = p.suite(SUITE).unwrap();
            ops.signature_generate_key_pair().unwrap().public
        };
        assert_eq!(key(5), key(5));
        assert_ne!(key(5), key(6));
    }
}
