//! What the X.509 tests share: the time they run at, the suite, and a member's key as
//! rcgen's subject key.

use canopy_crypto::CipherSuite;
use rcgen::{PKCS_ED25519, PublicKeyData, SignatureAlgorithm};

/// 2026-06-01T00:00:00Z.
pub(crate) const NOW: u64 = 1_780_272_000;
pub(crate) const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

/// A member's Ed25519 public key from Canopy's provider, as rcgen's subject key.
pub(crate) struct MemberKey(pub(crate) Vec<u8>);

impl PublicKeyData for MemberKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ED25519
    }
}
