//! The error type shared by every crypto backend.

use crate::CipherSuite;

/// What went wrong in a cryptographic operation.
///
/// Peer-controlled failures ([`CryptoError::InvalidSignature`], [`CryptoError::AeadOpenFailed`],
/// [`CryptoError::InvalidPublicKey`]) are distinct from local ones so that the protocol layer
/// can map them to protocol violations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The cipher suite is not one of RFC 9420's, or this provider does not implement it.
    #[error("unsupported cipher suite {0:?}")]
    UnsupportedSuite(CipherSuite),
    /// A value handed to a primitive has the wrong length.
    #[error("invalid length for {what}: got {got}")]
    InvalidLength {
        /// Which input was wrong (for example "AEAD key").
        what: &'static str,
        /// Its length in bytes.
        got: usize,
    },
    /// A public key (KEM or signature) does not decode to a valid point or is a low-order point.
    #[error("invalid public key")]
    InvalidPublicKey,
    /// A private key does not decode to a valid scalar or seed.
    #[error("invalid private key")]
    InvalidPrivateKey,
    /// A signature did not verify, or is not well-formed for the scheme.
    #[error("signature verification failed")]
    InvalidSignature,
    /// AEAD decryption failed: the ciphertext, nonce, AAD or key do not match.
    #[error("AEAD decryption failed")]
    AeadOpenFailed,
    /// A Diffie-Hellman computation produced the all-zero value (RFC 9180 §7.1.4).
    #[error("Diffie-Hellman output is all zero")]
    ZeroSharedSecret,
    /// DeriveKeyPair found no valid scalar (RFC 9180 §7.1.3, probability below 2^-256).
    #[error("DeriveKeyPair failed to find a valid scalar")]
    DeriveKeyPairFailed,
    /// A prepared HPKE `info` was made by another cipher suite.
    #[error("prepared HPKE info belongs to suite {prepared:?}, used with {used:?}")]
    WrongSuite {
        /// The suite that prepared the info.
        prepared: CipherSuite,
        /// The suite it was used with.
        used: CipherSuite,
    },
    /// The random number generator failed.
    #[error("random number generator failure")]
    Random,
}
