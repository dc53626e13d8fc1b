//! Errors of the key schedule and secret tree.

use crate::crypto::MlsCryptoError;

/// What went wrong while deriving or using epoch secrets.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// A cryptographic function failed (bad lengths, backend error).
    #[error(transparent)]
    Crypto(#[from] MlsCryptoError),
    /// RFC 9420 §9: the sender's leaf index is outside the secret tree.
    #[error("leaf {leaf} is outside a secret tree of {leaves} leaves")]
    LeafOutOfRange {
        /// The leaf index asked for.
        leaf: u32,
        /// The number of leaves of the tree.
        leaves: u32,
    },
    /// RFC 9420 §9.2: the generation was already used (or its key deleted): a replay.
    #[error("generation {generation} was already used or its key was deleted")]
    GenerationConsumed {
        /// The generation asked for.
        generation: u32,
    },
    /// RFC 9420 §9.2: the generation is further ahead than the out-of-order policy allows.
    #[error("generation {generation} is {distance} ahead of the ratchet; the policy allows {max}")]
    GenerationTooFarAhead {
        /// The generation asked for.
        generation: u32,
        /// How far ahead of the next expected generation it is.
        distance: u32,
        /// The policy's maximum.
        max: u32,
    },
    /// The ratchet reached the last generation a `uint32` can number.
    #[error("sender ratchet exhausted")]
    RatchetExhausted,
    /// An internal invariant failed: a bug in Canopy, never caused by peer input.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// A pending decryption was made from another state of this secret tree.
    #[error("pending decryption does not match the secret tree state")]
    StalePending,
}

impl ScheduleError {
    /// The rule of [`crate::rules`] this error reports as broken, if any.
    pub fn rule(&self) -> Option<crate::rules::Rule> {
        match self {
            Self::GenerationConsumed { .. } | Self::GenerationTooFarAhead { .. } => {
                Some(crate::rules::Rule::FramingGeneration)
            }
            _ => None,
        }
    }
}
