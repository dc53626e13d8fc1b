//! AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 (RFC 9420 §5.1, RFC 9180 §7.3).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use canopy_crypto::{AeadAlgorithm, CryptoError, Secret};
use chacha20poly1305::ChaCha20Poly1305;

/// The nonce length of every supported AEAD.
const NONCE_LEN: usize = 12;

fn check_lengths(alg: AeadAlgorithm, key: &[u8], nonce: &[u8]) -> Result<(), CryptoError> {
    if key.len() != alg.key_len() {
        return Err(CryptoError::InvalidLength {
            what: "AEAD key",
            got: key.len(),
        });
    }
    if nonce.len() != NONCE_LEN {
        return Err(CryptoError::InvalidLength {
            what: "AEAD nonce",
            got: nonce.len(),
        });
    }
    Ok(())
}

/// Encrypts `plaintext`; the 16-byte tag is appended.
pub(crate) fn seal(
    alg: AeadAlgorithm,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    check_lengths(alg, key, nonce)?;
    macro_rules! run {
        ($c:ty) => {{
            let cipher = <$c>::new_from_slice(key).map_err(|_| CryptoError::InvalidLength {
                what: "AEAD key",
                got: key.len(),
            })?;
            let nonce = nonce.try_into().map_err(|_| CryptoError::InvalidLength {
                what: "AEAD nonce",
                got: nonce.len(),
            })?;
            cipher
                .encrypt(
                    nonce,
                    Payload {
                        msg: plaintext,
                        aad,
                    },
                )
                .map_err(|_| CryptoError::InvalidLength {
                    what: "AEAD plaintext",
                    got: plaintext.len(),
                })
        }};
    }
    match alg {
        AeadAlgorithm::Aes256Gcm => run!(Aes256Gcm),
        AeadAlgorithm::ChaCha20Poly1305 => run!(ChaCha20Poly1305),
        _ => run!(Aes128Gcm),
    }
}

/// Decrypts and authenticates `ciphertext` (with its tag appended).
pub(crate) fn open(
    alg: AeadAlgorithm,
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Secret, CryptoError> {
    check_lengths(alg, key, nonce)?;
    macro_rules! run {
        ($c:ty) => {{
            let cipher = <$c>::new_from_slice(key).map_err(|_| CryptoError::InvalidLength {
                what: "AEAD key",
                got: key.len(),
            })?;
            let nonce = nonce.try_into().map_err(|_| CryptoError::InvalidLength {
                what: "AEAD nonce",
                got: nonce.len(),
            })?;
            cipher
                .decrypt(
                    nonce,
                    Payload {
                        msg: ciphertext,
                        aad,
                    },
                )
                .map(Secret::new)
                .map_err(|_| CryptoError::AeadOpenFailed)
        }};
    }
    match alg {
        AeadAlgorithm::Aes256Gcm => run!(Aes256Gcm),
        AeadAlgorithm::ChaCha20Poly1305 => run!(ChaCha20Poly1305),
        _ => run!(Aes128Gcm),
    }
}
