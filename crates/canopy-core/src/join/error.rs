//! Errors of joining a group from a Welcome.

use crate::codec::CodecError;
use crate::crypto::MlsCryptoError;

/// Why a Welcome or GroupInfo was rejected (RFC 9420 §12.4.3).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// A structure did not decode, or could not be encoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A cryptographic function failed for another reason than those below.
    #[error(transparent)]
    Crypto(#[from] MlsCryptoError),
    /// RFC 9420 §12.4.3.1: no `EncryptedGroupSecrets` names our KeyPackageRef.
    #[error("the Welcome has no secrets for this KeyPackage")]
    NotForUs,
    /// RFC 9420 §12.4.3.1: the Welcome's cipher suite is not our KeyPackage's.
    #[error("the Welcome's cipher suite is not the KeyPackage's")]
    CipherSuiteMismatch,
    /// RFC 9420 §12.4.3.1: our GroupSecrets do not decrypt with the init key.
    #[error("the GroupSecrets do not decrypt")]
    GroupSecretsUndecryptable,
    /// RFC 9420 §12.4.3.1: the GroupInfo does not decrypt with the welcome key.
    #[error("the GroupInfo does not decrypt")]
    GroupInfoUndecryptable,
    /// RFC 9420 §12.4.3.1: the caller gave a different number of PSKs than the GroupSecrets
    /// list.
    #[error("{expected} PSKs are needed, {given} were given")]
    PskCount {
        /// How many the GroupSecrets list.
        expected: usize,
        /// How many were given.
        given: usize,
    },
    /// RFC 9420 §12.4.3: the GroupInfo signature does not verify under the signer's key.
    #[error("the GroupInfo signature does not verify")]
    BadGroupInfoSignature,
    /// RFC 9420 §12.4.3.1: the GroupInfo's confirmation tag does not match the one computed
    /// from the joiner secret.
    #[error("the GroupInfo confirmation tag does not verify")]
    BadConfirmationTag,
    /// RFC 9420 §12.4.3: the GroupInfo's cipher suite differs from the Welcome's.
    #[error("the GroupInfo's cipher suite is not the Welcome's")]
    GroupInfoSuiteMismatch,
}

impl JoinError {
    /// The rule of [`crate::rules`] this error reports as broken, if any.
    pub fn rule(&self) -> Option<crate::rules::Rule> {
        use crate::rules::Rule;
        match self {
            Self::NotForUs | Self::CipherSuiteMismatch => Some(Rule::WelcomeForUs),
            Self::GroupSecretsUndecryptable | Self::GroupInfoUndecryptable => {
                Some(Rule::WelcomeDecrypt)
            }
            Self::BadGroupInfoSignature => Some(Rule::GroupInfoSignature),
            Self::BadConfirmationTag => Some(Rule::GroupInfoConfirmationTag),
            Self::GroupInfoSuiteMismatch => Some(Rule::GroupInfoSuite),
            Self::Codec(e) => e.rule(),
            Self::Crypto(_) | Self::PskCount { .. } => None,
        }
    }
}
