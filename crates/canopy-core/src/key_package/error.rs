//! Errors of KeyPackage and LeafNode creation and validation.

use canopy_crypto::CryptoError;

use crate::codec::CodecError;
use crate::crypto::MlsCryptoError;
use crate::rules::Violation;

/// Why a KeyPackage or LeafNode could not be created, or is invalid (RFC 9420 §5.3, §7.2,
/// §7.3, §10, §10.1).
///
/// A broken validity rule is [`KeyPackageError::Invalid`], whose [`Violation`] names the rule
/// ([`crate::rules::Rule`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyPackageError {
    /// A structure did not encode or decode (including a malformed `required_capabilities` or
    /// `last_resort` extension body).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A cryptographic function failed for a reason other than a bad signature (key
    /// generation, signing, an unsupported suite).
    #[error(transparent)]
    Crypto(#[from] MlsCryptoError),

    /// A rule of RFC 9420 §5.3.1, §7.3, §10.1 (or the application's validator) was broken.
    #[error(transparent)]
    Invalid(#[from] Violation),
}

impl From<CryptoError> for KeyPackageError {
    fn from(e: CryptoError) -> Self {
        Self::Crypto(MlsCryptoError::Crypto(e))
    }
}

impl KeyPackageError {
    /// The rule this error reports as broken, if it is a [`Violation`].
    pub fn rule(&self) -> Option<crate::rules::Rule> {
        match self {
            Self::Invalid(v) => Some(v.rule()),
            _ => None,
        }
    }
}
