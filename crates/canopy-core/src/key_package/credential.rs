//! Credential validation (RFC 9420 §5.3.1): the Authentication Service as an
//! application-supplied [`CredentialValidator`], and [`BasicCredentialValidator`], a small
//! policy for basic credentials.
//!
//! MLS itself cannot know who is who. It asks the validator two questions: is this credential
//! acceptable for this signature key (every time a credential enters the group), and may this
//! new credential replace that old one (Update, Commit, external-join resync).

use canopy_crypto::SignaturePublicKey;

use crate::wire::Credential;

/// Why the application's Authentication Service rejected a credential (RFC 9420 §5.3.1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("credential rejected: {reason}")]
pub struct CredentialRejected {
    reason: String,
}

impl CredentialRejected {
    /// A rejection with a human-readable `reason` (logged, never parsed).
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// The reason given by the validator.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// The application's Authentication Service (RFC 9420 §5.3.1, RFC 9750 §4).
///
/// Object-safe: validation functions take `&dyn CredentialValidator`. Implementations should
/// be deterministic for a given input and must not panic; they may consult application state
/// (a contact list, a certificate store) but canopy-core calls them synchronously.
pub trait CredentialValidator: Send + Sync {
    /// RFC 9420 §5.3.1: whether `credential` legitimately binds its presented identities to
    /// `signature_key` and those identities are acceptable to the application. Called for
    /// every credential that enters a group: KeyPackages, Add, Update and Commit leaves, and
    /// every leaf of a tree being joined.
    ///
    /// # Errors
    /// [`CredentialRejected`] with the application's reason.
    fn validate(
        &self,
        credential: &Credential,
        signature_key: &SignaturePublicKey,
    ) -> Result<(), CredentialRejected>;

    /// [`Self::validate`] at the time `now` (seconds since the Unix epoch): the [`Env`]'s
    /// clock, `None` when the environment has none. canopy-core calls this method; validators
    /// whose answer depends on the time (X.509 validity periods) override it. The default
    /// ignores the time.
    ///
    /// [`Env`]: crate::group::Env
    ///
    /// # Errors
    /// [`CredentialRejected`] with the application's reason.
    fn validate_at(
        &self,
        credential: &Credential,
        signature_key: &SignaturePublicKey,
        now: Option<u64>,
    ) -> Result<(), CredentialRejected> {
        let _ = now;
        self.validate(credential, signature_key)
    }

    /// RFC 9420 §5.3.1: whether `new` is a valid successor of `old` for the same member
    /// ("the AS MUST also verify that the set of presented identifiers in the new credential
    /// is valid as a successor"). Called only when an Update or Commit leaf replaces a leaf
    /// with a different credential.
    fn valid_successor(&self, old: &Credential, new: &Credential) -> bool;

    /// RFC 9420 §11.2, §11.3: the identity by which the application recognises one client in
    /// two groups, for the membership checks of successor groups (every member of a group
    /// re-initialized by a ReInit is in the new group; every member of a branch was in the
    /// old one). Two credentials name the same client exactly when their identities are
    /// equal. By default: a basic credential's identity, an X.509 credential's end-entity
    /// certificate.
    fn client_identity(&self, credential: &Credential) -> Vec<u8> {
        match credential {
            Credential::Basic { identity } => identity.0.clone(),
            Credential::X509 { certificates } => certificates
                .as_slice()
                .first()
                .map(|c| c.cert_data.0.clone())
                .unwrap_or_default(),
            // Each binding's identity, length-prefixed, in the credential's order.
            #[cfg(feature = "extensions")]
            Credential::Multi { bindings } | Credential::WeakMulti { bindings } => {
                let mut out = Vec::new();
                for b in bindings.as_slice() {
                    let id = self.client_identity(&b.credential);
                    out.extend_from_slice(
                        &u32::try_from(id.len()).unwrap_or(u32::MAX).to_be_bytes(),
                    );
                    out.extend_from_slice(&id);
                }
                out
            }
        }
    }
}

/// A minimal Authentication Service: accepts any basic credential, and a successor only if
/// it presents the same identity. Rejects X.509 credentials unless
/// [`dangerous_accept_unverified_x509`](Self::dangerous_accept_unverified_x509) was called.
///
/// Basic credentials are bare assertions (§5.3): this validator authenticates nobody. It suits
/// tests and applications that authenticate identities out of band (e.g. by comparing
/// signature-key fingerprints).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BasicCredentialValidator {
    accept_x509: bool,
}

impl BasicCredentialValidator {
    /// Accepts basic credentials only.
    pub const fn new() -> Self {
        Self { accept_x509: false }
    }

    /// Also accepts X.509 credentials with a non-empty chain, **without** verifying the chain,
    /// its validity period, or that the end-entity key equals the leaf's `signature_key`
    /// (§5.3 requires that; canopy-core has no X.509 parser: the `canopy-x509` crate's
    /// `X509Validator` does it). A successor X.509 credential is accepted only if it is
    /// identical to the old one.
    pub const fn dangerous_accept_unverified_x509(self) -> Self {
        Self { accept_x509: true }
    }
}

impl CredentialValidator for BasicCredentialValidator {
    fn validate(
        &self,
        credential: &Credential,
        _signature_key: &SignaturePublicKey,
    ) -> Result<(), CredentialRejected> {
        match credential {
            Credential::Basic { .. } => Ok(()),
            Credential::X509 { certificates } if self.accept_x509 => {
                if certificates.as_slice().is_empty() {
                    Err(CredentialRejected::new(
                        "x509 credential without certificates",
                    ))
                } else {
                    Ok(())
                }
            }
            Credential::X509 { .. } => Err(CredentialRejected::new(
                "x509 credentials are not accepted by this validator",
            )),
            // canopy-core checks a multi-credential binding by binding and asks the
            // validator about each binding's credential, never about the whole.
            #[cfg(feature = "extensions")]
            Credential::Multi { .. } | Credential::WeakMulti { .. } => Err(
                CredentialRejected::new("a multi-credential is validated binding by binding"),
            ),
        }
    }

    fn valid_successor(&self, old: &Credential, new: &Credential) -> bool {
        match (old, new) {
            (Credential::Basic { identity: a }, Credential::Basic { identity: b }) => a == b,
            (Credential::X509 { .. }, Credential::X509 { .. }) => self.accept_x509 && old == new,
            // The same bindings' credentials, each a valid successor of its own.
            #[cfg(feature = "extensions")]
            (Credential::Multi { bindings: a }, Credential::Multi { bindings: b })
            | (Credential::WeakMulti { bindings: a }, Credential::WeakMulti { bindings: b }) => {
                a.as_slice().len() == b.as_slice().len()
                    && a.as_slice()
                        .iter()
                        .zip(b.as_slice())
                        .all(|(x, y)| self.valid_successor(&x.credential, &y.credential))
            }
            _ => false,
        }
    }
}
