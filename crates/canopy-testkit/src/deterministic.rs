//! The real algorithms with a seeded random generator (STYLE.md B.5).

use std::sync::Arc;

use canopy_crypto::{CipherSuite, CryptoError, CryptoProvider, SuiteOps};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use canopy_crypto_rustcrypto::DeterministicRandom;

/// `canopy-crypto-rustcrypto`'s provider with every random byte (the [`CryptoProvider::
/// fill_random`] the core draws from, and the backend's own HPKE ephemeral keys, HPKE and
/// signature key generation) taken from a [`DeterministicRandom`]: a test built on it replays
/// exactly, keys included.
///
/// The backend draws all its randomness from the source it is built with
/// ([`RustCryptoProvider::with_random`]), so no OS randomness is left.
pub struct DeterministicProvider {
    inner: RustCryptoProvider,
    seed: u64,
}

impl DeterministicProvider {
    /// A provider whose random stream is the one of `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self {
            inner: RustCryptoProvider::with_random(Arc::new(DeterministicRandom::new(seed))),
            seed,
        }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

impl core::fmt::Debug for DeterministicProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeterministicProvider")
            .field("seed", &self.seed)
            .finish()
    }
}

impl CryptoProvider for DeterministicProvider {
    fn supported(&self) -> &[CipherSuite] {
        self.inner.supported()
    }

    fn suite(&self, suite: CipherSuite) -> Result<&dyn SuiteOps, CryptoError> {
        self.inner.suite(suite)
    }

    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        self.inner.fill_random(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

    fn keys(seed: u64) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let p = DeterministicProvider::seeded(seed);
        let ops = p.suite(SUITE).unwrap();
        let sig = ops.signature_generate_key_pair().unwrap();
        let hpke = ops.hpke_generate_key_pair().unwrap();
        let mut random = vec![0u8; 16];
        p.fill_random(&mut random).unwrap();
        (sig.public.into_bytes(), hpke.public.into_bytes(), random)
    }

    #[test]
    fn key_generation_and_randomness_replay_from_the_seed() {
        assert_eq!(keys(1), keys(1));
        let (a, b) = (keys(1), keys(2));
        assert_ne!(a.0, b.0);
        assert_ne!(a.1, b.1);
        assert_ne!(a.2, b.2);
    }

    #[test]
    fn every_suite_signs_and_verifies_deterministically() {
        let p = DeterministicProvider::seeded(3);
        for suite in CipherSuite::ALL {
            let ops = p.suite(suite).unwrap();
            let kp = ops.signature_generate_key_pair().unwrap();
            let sig = ops.sign(&kp.private, b"message").unwrap();
            ops.verify(&kp.public, b"message", &sig).unwrap();
            assert!(ops.verify(&kp.public, b"messagE", &sig).is_err());
        }
    }
}
