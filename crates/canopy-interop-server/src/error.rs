//! The errors of the interop client, and the gRPC status each becomes.
//!
//! The test runner reports a failed step with the status message, so every message says what
//! failed: the RPC's own checks, or Canopy's error with the RFC 9420 rule it names
//! ([`GroupError::rule`]).

use canopy_core::advanced::codec::CodecError;
use canopy_core::group::GroupError;
use canopy_core::key_package::KeyPackageError;
use canopy_core::rules::Rule;
use canopy_crypto::CryptoError;
use tonic::{Code, Status};

/// Why an RPC failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InteropError {
    /// No state, transaction, signer or reinit of that kind has that id.
    #[error("no {kind} with id {id}")]
    UnknownId {
        /// What the id should name ("state", "transaction", ...).
        kind: &'static str,
        /// The id.
        id: u32,
    },
    /// The request itself is malformed or asks for something impossible.
    #[error("{0}")]
    BadRequest(String),
    /// Canopy refused the operation.
    #[error("{}", describe_group_error(.0))]
    Group(#[from] GroupError),
    /// A KeyPackage could not be created or is invalid.
    #[error("{}", describe_rule(.0, .0.rule()))]
    KeyPackage(#[from] KeyPackageError),
    /// Bytes that should be an MLS structure did not decode.
    #[error("decoding failed: {}", describe_rule(.0, .0.rule()))]
    Codec(#[from] CodecError),
    /// The crypto provider failed (an unsupported cipher suite, for example).
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The server's state lock was poisoned by a panic in another request.
    #[error("the server state is unavailable (an earlier request panicked)")]
    Poisoned,
}

impl InteropError {
    /// A [`InteropError::BadRequest`] with `message`.
    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// The gRPC status code: `NOT_FOUND` for unknown ids, `INVALID_ARGUMENT` for malformed
    /// requests, unsupported cipher suites, undecodable bytes and broken RFC 9420 rules, `FAILED_PRECONDITION` for
    /// operations the state does not allow (no pending commit, a missing PSK), `INTERNAL`
    /// for the rest.
    pub fn code(&self) -> Code {
        match self {
            Self::UnknownId { .. } => Code::NotFound,
            Self::BadRequest(_)
            | Self::Codec(_)
            | Self::Crypto(CryptoError::UnsupportedSuite(_)) => Code::InvalidArgument,
            Self::Group(e) if e.rule().is_some() || from_input(e) => Code::InvalidArgument,
            Self::KeyPackage(e) if e.rule().is_some() => Code::InvalidArgument,
            Self::Group(GroupError::Internal(_)) | Self::Crypto(_) | Self::Poisoned => {
                Code::Internal
            }
            Self::Group(_) | Self::KeyPackage(_) => Code::FailedPrecondition,
        }
    }
}

/// Whether `error` is about bytes the request carried (they do not decode, or are not what
/// the operation takes) rather than about the state.
fn from_input(error: &GroupError) -> bool {
    matches!(
        error,
        GroupError::Codec(_)
            | GroupError::Framing(_)
            | GroupError::Join(_)
            | GroupError::NotAGroupMessage
            | GroupError::WrongGroup
    )
}

impl From<InteropError> for Status {
    fn from(e: InteropError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

/// `error`, prefixed with the rule it reports broken if it does not name it already.
fn describe_rule(error: &dyn core::fmt::Display, rule: Option<Rule>) -> String {
    let text = error.to_string();
    match rule {
        Some(rule) if !text.contains(rule.id()) => format!("rule {rule} broken: {text}"),
        _ => text,
    }
}

fn describe_group_error(error: &GroupError) -> String {
    describe_rule(error, error.rule())
}

#[cfg(test)]
mod tests {
    use canopy_core::rules::Violation;

    use super::*;

    #[test]
    fn statuses_name_the_rule_and_pick_a_code() {
        let e = InteropError::from(GroupError::from(Violation::new(Rule::FramingEpoch)));
        let status = Status::from(e);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.message().matches(Rule::FramingEpoch.id()).count(),
            1,
            "the rule is named once: {status:?}"
        );

        let status = Status::from(InteropError::UnknownId {
            kind: "state",
            id: 7,
        });
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "no state with id 7");

        let status = Status::from(InteropError::from(GroupError::NoPendingCommit));
        assert_eq!(status.code(), Code::FailedPrecondition);
    }
}
