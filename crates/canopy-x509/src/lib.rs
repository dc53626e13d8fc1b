//! X.509 credentials for Canopy (RFC 9420 §5.3, §5.3.1), validated in Canopy rather than left
//! to an application callback.
//!
//! [`X509Validator`] is a [`CredentialValidator`](canopy_core::key_package::CredentialValidator)
//! that accepts an `x509` credential when:
//!
//! - its chain (end-entity certificate first, each next one the issuer of the one before,
//!   RFC 9420 §5.3) leads to one of the configured [`TrustAnchor`]s, every link's signature
//!   verifying under the issuer's key with the crypto provider's signature schemes;
//! - every certificate of the chain is valid at the [`Env`](canopy_core::group::Env)'s time;
//! - every issuer is a CA (basicConstraints, keyUsage, pathLenConstraint) and no certificate
//!   carries a critical extension this crate does not process (RFC 5280 §4.2);
//! - the end-entity certificate's public key is the LeafNode's `signature_key` (RFC 9420
//!   §5.3.1);
//! - the identity taken from the subject or the subjectAltName, as configured
//!   ([`IdentitySource`]), is present, and the application's own check, if any, accepts it
//!   (the application keeps the last word).
//!
//! What a peer can make it do is bounded before it is done: at most
//! [`ChainLimits::max_certificates`] certificates of at most
//! [`ChainLimits::max_certificate_len`] bytes each, one signature verification per link.
//!
//! ```
//! use canopy_crypto_rustcrypto::RustCryptoProvider;
//! use canopy_x509::{IdentitySource, X509Validator};
//! use std::sync::Arc;
//!
//! let validator = X509Validator::new(Arc::new(RustCryptoProvider::new()), Vec::new())
//!     .identity_from(IdentitySource::SanEmail);
//! # let _ = validator;
//! ```
#![forbid(unsafe_code)]

mod algorithm;
mod anchor;
mod chain;
mod error;
mod identity;
mod validator;

pub use anchor::TrustAnchor;
pub use chain::ChainLimits;
pub use error::X509Error;
pub use identity::{IdentitySource, VerifiedIdentity};
pub use validator::{IdentityCheck, X509Validator};
