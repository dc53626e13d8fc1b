//! [`X509Validator`]: the Authentication Service for `x509` credentials.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use canopy_core::key_package::{CredentialRejected, CredentialValidator};
use canopy_core::wire::{Certificate, Credential};
use canopy_crypto::{CryptoProvider, SignaturePublicKey};

use x509_cert::der::Encode;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::chain::{ChainLimits, Parsed};
use crate::{IdentitySource, TrustAnchor, VerifiedIdentity, X509Error};

/// The application's own check of a verified identity: the last word on who may join.
pub trait IdentityCheck: Send + Sync {
    /// Whether `identity` is acceptable.
    ///
    /// # Errors
    /// [`CredentialRejected`] with the application's reason.
    fn check(&self, identity: &VerifiedIdentity) -> Result<(), CredentialRejected>;
}

impl<F> IdentityCheck for F
where
    F: Fn(&VerifiedIdentity) -> Result<(), CredentialRejected> + Send + Sync,
{
    fn check(&self, identity: &VerifiedIdentity) -> Result<(), CredentialRejected> {
        self(identity)
    }
}

/// Validates `x509` credentials against trust anchors (see the [crate] documentation for the
/// checks). Basic credentials are refused unless [`Self::also_accept_basic`] was called.
///
/// Validity periods are checked at the [`Env`](canopy_core::group::Env)'s time; without one,
/// every X.509 credential is refused ([`X509Error::NoClock`]).
pub struct X509Validator {
    provider: Arc<dyn CryptoProvider>,
    anchors: Vec<TrustAnchor>,
    /// Anchor positions by subject name (DER), so a chain's last issuer is found directly.
    by_subject: HashMap<Vec<u8>, Vec<usize>>,
    identity: IdentitySource,
    limits: ChainLimits,
    check: Option<Arc<dyn IdentityCheck>>,
    basic: bool,
    /// Links from a CA certificate to its issuer whose signature verified: the same
    /// intermediates sit in every member's chain, so a tree of n members costs n
    /// verifications of leaf certificates plus one per distinct intermediate. The key is the
    /// certificate's DER and the issuer's key (all the signature check depends on); at most
    /// [`LINK_CACHE`] entries, emptied when full.
    links: Mutex<HashSet<(Vec<u8>, Vec<u8>)>>,
}

/// How many verified CA links [`X509Validator`] remembers.
const LINK_CACHE: usize = 256;

impl fmt::Debug for X509Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X509Validator")
            .field("anchors", &self.anchors.len())
            .field("identity", &self.identity)
            .field("limits", &self.limits)
            .field("identity_check", &self.check.is_some())
            .field("basic", &self.basic)
            .finish_non_exhaustive()
    }
}

impl X509Validator {
    /// A validator trusting `anchors`, verifying signatures with `provider`, reading the
    /// identity from the subject's commonName.
    pub fn new(provider: Arc<dyn CryptoProvider>, anchors: Vec<TrustAnchor>) -> Self {
        let mut by_subject: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
        for (i, a) in anchors.iter().enumerate() {
            by_subject
                .entry(a.parsed.subject.clone())
                .or_default()
                .push(i);
        }
        Self {
            provider,
            anchors,
            by_subject,
            identity: IdentitySource::default(),
            limits: ChainLimits::default(),
            check: None,
            basic: false,
            links: Mutex::new(HashSet::new()),
        }
    }

    /// Reads the identity from `source`.
    #[must_use]
    pub fn identity_from(self, source: IdentitySource) -> Self {
        Self {
            identity: source,
            ..self
        }
    }

    /// Bounds what one credential may carry.
    #[must_use]
    pub fn limits(self, limits: ChainLimits) -> Self {
        Self { limits, ..self }
    }

    /// Asks `check` about every identity that passed the X.509 checks.
    #[must_use]
    pub fn with_identity_check(self, check: impl IdentityCheck + 'static) -> Self {
        Self {
            check: Some(Arc::new(check)),
            ..self
        }
    }

    /// Also accepts basic credentials, as [`BasicCredentialValidator`] does (groups that mix
    /// the two credential types).
    ///
    /// [`BasicCredentialValidator`]: canopy_core::key_package::BasicCredentialValidator
    #[must_use]
    pub fn also_accept_basic(self) -> Self {
        Self {
            basic: true,
            ..self
        }
    }

    /// Checks the chain `certificates` (end-entity first) for `signature_key` at time `now`,
    /// without the application's [`IdentityCheck`].
    ///
    /// Cheap checks come first (sizes, decoding, validity, extensions, names, the key
    /// binding); signatures last, one per link.
    ///
    /// # Errors
    /// The first [`X509Error`] found.
    pub fn verify(
        &self,
        certificates: &[Certificate],
        signature_key: &SignaturePublicKey,
        now: u64,
    ) -> Result<VerifiedIdentity, X509Error> {
        if certificates.is_empty() {
            return Err(X509Error::EmptyChain);
        }
        if certificates.len() > self.limits.max_certificates {
            return Err(X509Error::TooManyCertificates {
                count: certificates.len(),
                max: self.limits.max_certificates,
            });
        }
        let chain = certificates
            .iter()
            .enumerate()
            .map(|(i, c)| Parsed::decode(&c.cert_data.0, i, &self.limits))
            .collect::<Result<Vec<_>, _>>()?;
        let (leaf, _) = chain.split_first().ok_or(X509Error::EmptyChain)?;
        for (i, cert) in chain.iter().enumerate() {
            cert.check_validity(i, now)?;
            cert.check_extensions(i)?;
        }
        if leaf.public_key() != Some(signature_key.as_bytes()) {
            return Err(X509Error::KeyMismatch);
        }
        leaf.check_end_entity()?;
        let identity = self.identity.of(&leaf.cert)?;
        for (i, pair) in chain.windows(2).enumerate() {
            let [child, issuer] = pair else { continue };
            let index = i + 1;
            if issuer.subject != child.issuer {
                return Err(X509Error::NotTheIssuer { index });
            }
            issuer.check_issuer(index, i)?;
        }
        let last_index = chain.len().saturating_sub(1);
        let last = chain.last().ok_or(X509Error::EmptyChain)?;
        // The chain ends with an anchor itself, or with a certificate an anchor issued.
        let ends_at_anchor = self
            .candidates(&last.subject)
            .find(|a| a.parsed.der == last.der);
        let anchor = match ends_at_anchor {
            Some(a) => a,
            None => self.issuing_anchor(last, last_index)?,
        };
        for (i, pair) in chain.windows(2).enumerate() {
            let [child, issuer] = pair else { continue };
            self.verify_link(child, i, issuer.spki())?;
        }
        Ok(VerifiedIdentity {
            identity,
            end_entity: leaf.der.clone(),
            anchor_subject: anchor.parsed.subject.clone(),
            chain_len: chain.len(),
        })
    }

    fn candidates<'a>(&'a self, subject: &[u8]) -> impl Iterator<Item = &'a TrustAnchor> + 'a {
        self.by_subject
            .get(subject)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.anchors.get(i))
    }

    /// The anchor named as `last`'s issuer whose key verifies `last`'s signature.
    fn issuing_anchor(&self, last: &Parsed, index: usize) -> Result<&TrustAnchor, X509Error> {
        let mut failure = X509Error::UnknownRoot;
        for anchor in self.candidates(&last.issuer) {
            match self.verify_link(last, index, anchor.parsed.spki()) {
                Ok(()) => return Ok(anchor),
                Err(e) => failure = e,
            }
        }
        Err(failure)
    }

    /// Certificate `index`'s signature under `issuer`, from the cache for CA certificates
    /// (`index` above 0) already verified under the same key.
    fn verify_link(
        &self,
        cert: &Parsed,
        index: usize,
        issuer: &SubjectPublicKeyInfoOwned,
    ) -> Result<(), X509Error> {
        if index == 0 {
            return cert.verify_signature(index, issuer, self.provider.as_ref());
        }
        // An issuer key that cannot be encoded is not cached: an empty stand-in would let
        // two such issuers share an entry.
        let Ok(issuer_der) = issuer.to_der() else {
            return cert.verify_signature(index, issuer, self.provider.as_ref());
        };
        let key = (cert.der.clone(), issuer_der);
        // A poisoned lock only means another thread panicked: verify without the cache.
        if self.links.lock().is_ok_and(|links| links.contains(&key)) {
            return Ok(());
        }
        cert.verify_signature(index, issuer, self.provider.as_ref())?;
        if let Ok(mut links) = self.links.lock() {
            if links.len() >= LINK_CACHE {
                links.clear();
            }
            links.insert(key);
        }
        Ok(())
    }

    /// The identity `credential` presents under the configured source, unverified: for
    /// successor and client-identity comparisons of credentials already validated.
    fn identity_of(&self, credential: &Credential) -> Option<Vec<u8>> {
        match credential {
            Credential::Basic { identity } => Some(identity.0.clone()),
            Credential::X509 { certificates } => {
                let first = certificates.as_slice().first()?;
                let parsed = Parsed::decode(&first.cert_data.0, 0, &self.limits).ok()?;
                self.identity.of(&parsed.cert).ok()
            }
            _ => None,
        }
    }
}

impl CredentialValidator for X509Validator {
    fn validate(
        &self,
        credential: &Credential,
        signature_key: &SignaturePublicKey,
    ) -> Result<(), CredentialRejected> {
        self.validate_at(credential, signature_key, None)
    }

    fn validate_at(
        &self,
        credential: &Credential,
        signature_key: &SignaturePublicKey,
        now: Option<u64>,
    ) -> Result<(), CredentialRejected> {
        match credential {
            Credential::Basic { .. } if self.basic => Ok(()),
            Credential::Basic { .. } => Err(CredentialRejected::new(
                "basic credentials are not accepted by this validator",
            )),
            Credential::X509 { certificates } => {
                let now =
                    now.ok_or_else(|| CredentialRejected::new(X509Error::NoClock.to_string()))?;
                let verified = self
                    .verify(certificates.as_slice(), signature_key, now)
                    .map_err(|e| CredentialRejected::new(e.to_string()))?;
                match &self.check {
                    Some(check) => check.check(&verified),
                    None => Ok(()),
                }
            }
            _ => Err(CredentialRejected::new(
                "only x509 (and, if enabled, basic) credentials are accepted",
            )),
        }
    }

    /// RFC 9420 §5.3.1: a successor presents the same identity (under the configured
    /// source) with a credential of the same type.
    fn valid_successor(&self, old: &Credential, new: &Credential) -> bool {
        let same_type = matches!(
            (old, new),
            (Credential::Basic { .. }, Credential::Basic { .. })
                | (Credential::X509 { .. }, Credential::X509 { .. })
        );
        same_type
            && self
                .identity_of(old)
                .zip(self.identity_of(new))
                .is_some_and(|(a, b)| a == b)
    }

    /// The identity under the configured source (so a member who renews its certificate is
    /// the same client in a successor group), or the end-entity certificate if it has none.
    fn client_identity(&self, credential: &Credential) -> Vec<u8> {
        self.identity_of(credential)
            .unwrap_or_else(|| match credential {
                Credential::Basic { identity } => identity.0.clone(),
                Credential::X509 { certificates } => certificates
                    .as_slice()
                    .first()
                    .map(|c| c.cert_data.0.clone())
                    .unwrap_or_default(),
                _ => Vec::new(),
            })
    }
}
