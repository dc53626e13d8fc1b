//! AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305 (RFC 9420 §5.1, RFC 9180 §7.3).

use aes_gcm::aead::{Aead, AeadCore, KeyInit, Nonce, Payload};
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

/// Builds the cipher and nonce of one AEAD operation, checking both lengths.
fn cipher<C: KeyInit + AeadCore>(key: &[u8], nonce: &[u8]) -> Result<(C, Nonce<C>), CryptoError> {
    let cipher = C::new_from_slice(key).map_err(|_| CryptoError::InvalidLength {
        what: "AEAD key",
        got: key.len(),
    })?;
    let nonce = Nonce::<C>::try_from(nonce).map_err(|_| CryptoError::InvalidLength {
        what: "AEAD nonce",
        got: nonce.len(),
    })?;
    Ok((cipher, nonce))
}

fn seal_with<C: KeyInit + Aead>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (cipher, nonce) = cipher::<C>(key, nonce)?;
    cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CryptoError::InvalidLength {
            what: "AEAD plaintext",
            got: plaintext.len(),
        })
}

fn open_with<C: KeyInit + Aead>(
    key: &[u8],
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Secret, CryptoError> {
    let (cipher, nonce) = cipher::<C>(key, nonce)?;
    cipher
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map(Secret::new)
        .map_err(|_| CryptoError::AeadOpenFailed)
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
    match alg {
        AeadAlgorithm::Aes256Gcm => seal_with::<Aes256Gcm>(key, nonce, aad, plaintext),
        AeadAlgorithm::ChaCha20Poly1305 => {
            seal_with::<ChaCha20Poly1305>(key, nonce, aad, plaintext)
        }
        _ => seal_with::<Aes128Gcm>(key, nonce, aad, plaintext),
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
    match alg {
        AeadAlgorithm::Aes256Gcm => open_with::<Aes256Gcm>(key, nonce, aad, ciphertext),
        AeadAlgorithm::ChaCha20Poly1305 => {
            open_with::<ChaCha20Poly1305>(key, nonce, aad, ciphertext)
        }
        _ => open_with::<Aes128Gcm>(key, nonce, aad, ciphertext),
    }
}
