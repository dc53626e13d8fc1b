//! The client's one error type.

use canopy_core::advanced::codec::CodecError;
use canopy_core::group::GroupError;
use canopy_core::key_package::KeyPackageError;
use canopy_crypto::{CipherSuite, CryptoError};
use canopy_store::StoreError;

/// An error of the application's own code, returned from a callback that runs inside a
/// store transaction ([`AppTx`](crate::AppTx)).
pub type AppError = Box<dyn std::error::Error + Send + Sync>;

/// Why a client operation failed.
///
/// Whatever the variant, the client's in-memory state is never ahead of its store: an
/// operation that fails after changing a group in memory reloads the group from the store
/// before returning (see the crate's *Persistence contract*).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The group engine refused the operation or the message (RFC 9420 rules, framing,
    /// crypto). The group is unchanged.
    #[error("group: {0}")]
    Group(#[from] GroupError),
    /// Creating or reading a KeyPackage failed.
    #[error("key package: {0}")]
    KeyPackage(#[from] KeyPackageError),
    /// Bytes did not decode as the MLS structure expected.
    #[error("decode: {0}")]
    Codec(#[from] CodecError),
    /// The crypto provider failed (an unsupported suite, randomness, key generation).
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The store failed. Nothing of the operation is durable, and nothing of it was
    /// released (no ciphertext, no plaintext, no commit).
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The application's callback failed; its transaction was rolled back with the rest of
    /// the operation.
    #[error("application callback: {0}")]
    App(AppError),
    /// No identity of this name is known to the client.
    #[error("unknown identity {0:?}")]
    UnknownIdentity(String),
    /// An identity of this name exists already.
    #[error("identity {0:?} exists already")]
    IdentityExists(String),
    /// The identity's signature key is held by the application (an external signer) and
    /// was not registered in this process ([`Client::attach_signer`](crate::Client::attach_signer)).
    #[error("identity {0:?} has an external signer that is not attached")]
    SignerNotAttached(String),
    /// The signer given for an identity does not have the identity's public key.
    #[error("the signer's public key is not identity {0:?}'s")]
    SignerMismatch(String),
    /// The identity's signature scheme is not the one of the cipher suite asked for
    /// (RFC 9420 §5.1: a leaf's signature key is of its suite's scheme).
    #[error("identity {identity:?} cannot sign for suite {suite:?}")]
    SuiteMismatch {
        /// The identity.
        identity: String,
        /// The suite asked for.
        suite: CipherSuite,
    },
    /// No group with this id is stored.
    #[error("unknown group")]
    UnknownGroup,
    /// A group with this id is stored already.
    #[error("the group exists already")]
    GroupExists,
    /// This member was removed from the group (RFC 9420 §12.1.3): it cannot send or commit,
    /// and reads nothing of the group from the epoch the removing commit started.
    #[error("this member was removed from the group in epoch {epoch}")]
    Removed {
        /// The first epoch this client is not a member of.
        epoch: u64,
    },
    /// A Welcome names none of this client's stored KeyPackages (RFC 9420 §12.4.3.1: its
    /// `secrets[].new_member`): it is for another client, or the KeyPackage was used up.
    #[error("the Welcome is for none of this client's KeyPackages")]
    NoMatchingKeyPackage,
    /// The message is not of a kind this operation takes (for example a KeyPackage given
    /// to `process_incoming`).
    #[error("unexpected message: {0}")]
    UnexpectedMessage(&'static str),
    /// A row of a client table does not decode (written by another program, or damaged).
    #[error("corrupt client row: {0}")]
    Corrupt(&'static str),
}
