//! The X.509 target: a peer's `x509` credential through [`X509Validator`], the way every
//! credential that enters a group is checked.
//!
//! Input: one mode byte (its value modulo 3 is how many certificates from the end of the
//! chain are also trusted as anchors, so that chains can be accepted), a TLS-encoded
//! `Certificate certificates<V>` (the credential body, RFC 9420 §5.3), and the rest as the
//! LeafNode's `signature_key`.

use std::sync::Arc;

use canopy_core::advanced::codec::VarVec;
use canopy_core::key_package::CredentialValidator;
use canopy_core::wire::{Certificate, Credential};
use canopy_crypto::SignaturePublicKey;
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_x509::{TrustAnchor, X509Validator};
use tls_codec::DeserializeBytes;

/// The times the chain is checked at: the epoch, 2026-06-01 and the far future.
const TIMES: [u64; 3] = [0, 1_780_272_000, u64::MAX];

/// Validates the credential of `data`. Findings: a panic, or an accepted chain that is
/// longer than the limit, whose end-entity certificate is not the first one, or that
/// presents no identity.
pub fn validate_x509(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok((chain, key)) = VarVec::<Certificate>::tls_deserialize_bytes(rest) else {
        return;
    };
    let certs = chain.as_slice();
    let anchors: Vec<TrustAnchor> = certs
        .iter()
        .rev()
        .take(usize::from(mode % 3))
        .filter_map(|c| TrustAnchor::from_der(&c.cert_data.0).ok())
        .collect();
    let validator = X509Validator::new(Arc::new(RustCryptoProvider::new()), anchors);
    let key = SignaturePublicKey::new(key.to_vec());
    let credential = Credential::X509 {
        certificates: chain.clone(),
    };
    for now in TIMES {
        if let Ok(id) = validator.verify(certs, &key, now) {
            assert!(
                certs.len() <= 8,
                "an accepted chain of {} certificates",
                certs.len()
            );
            assert!(
                certs
                    .first()
                    .is_some_and(|c| c.cert_data.0 == id.end_entity),
                "the end-entity certificate is not the first"
            );
            assert!(
                !id.identity.is_empty(),
                "an accepted chain without identity"
            );
        }
        let _ = validator.validate_at(&credential, &key, Some(now));
    }
    let _ = validator.valid_successor(&credential, &credential);
    let _ = validator.client_identity(&credential);
}
