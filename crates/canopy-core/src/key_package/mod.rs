//! KeyPackages, LeafNodes and credentials (RFC 9420 §5.3, §7.2, §7.3, §10, §10.1, §13.5):
//! creating and signing them, and validating what others send.
//!
//! ```text
//!  creating                                   receiving
//!  --------                                   ---------
//!  LeafNodeParams ─┬─ generate_leaf_node      KeyPackage (decoded)
//!   credential,    │   (fresh HPKE key)            │ validate_key_package (§10.1)
//!   capabilities,  ├─ sign_leaf_node               │   version, suite, init_key,
//!   extensions,    │   (given key: Commit          │   KeyPackageTBS signature,
//!   grease         │    after parent hash)         │   validate_leaf_node(KeyPackage),
//!                  │                               │   init_key != encryption_key,
//!  KeyPackageParams└─ create_key_package           │   KeyPackage extensions
//!   lifetime,          │                           v
//!   extensions,        v                      ValidatedKeyPackage (+ KeyPackageRef)
//!   last_resort   KeyPackageBundle
//!                  (KeyPackage, init and      LeafNode in Update / Commit / tree
//!                   encryption private keys)       │ validate_leaf_node (§7.3)
//!                                                  │ + check_credential_types_supported
//!                                                  │ + check_keys_unique (need the members)
//! ```
//!
//! Identity is the application's business (§5.3.1): every validation asks a
//! [`CredentialValidator`] whether the credential is acceptable and, when a member replaces
//! its credential, whether the new one is a valid successor. [`BasicCredentialValidator`] is a
//! minimal policy for basic credentials.
//!
//! GREASE (§13.5): by default created leaves carry one random GREASE value in each of the four
//! capability lists ([`LeafNodeParams::grease`]), and every extension sent is listed in the
//! capabilities. GREASE *extensions* in `LeafNode.extensions` and `KeyPackage.extensions` are
//! a separate switch, [`LeafNodeParams::grease_extensions`], off by default because OpenMLS
//! 0.9.2 refuses them (its issue 2156). Received GREASE is processed with the normal rules for
//! unknown values, so it is tolerated without special cases; unknown extensions in
//! `KeyPackage.extensions` are ignored whether or not the leaf lists them (§10: they "MUST be
//! ignored").
//!
//! ```
//! use canopy_core::key_package::{
//!     BasicCredentialValidator, GroupRequirements, KeyPackageParams, LeafNodeParams,
//!     LifetimePolicy, create_key_package, validate_key_package,
//! };
//! use canopy_core::wire::{Credential, KeyPackage, Lifetime};
//! use canopy_crypto::{CipherSuite, CryptoProvider};
//! use canopy_crypto_rustcrypto::RustCryptoProvider;
//!
//! let provider = RustCryptoProvider::new();
//! let suite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
//! let ops = provider.suite(suite)?;
//! let signer = ops.signature_generate_key_pair()?;
//! let now = 1_700_000_000;
//!
//! // Alice publishes a KeyPackage (with GREASE capabilities, as RFC 9420 §13.5 recommends).
//! let credential = Credential::Basic { identity: b"alice".to_vec().into() };
//! let lifetime = Lifetime { not_before: now - 3_600, not_after: now + 30 * 86_400 };
//! let params = KeyPackageParams::new(LeafNodeParams::new(credential, suite), lifetime);
//! let bundle = create_key_package(&provider, suite, &params, &signer)?;
//! let bytes = bundle.key_package.to_bytes()?;
//!
//! // Bob downloads and validates it before adding Alice.
//! let received = KeyPackage::from_bytes(&bytes)?;
//! let valid = validate_key_package(
//!     ops,
//!     received,
//!     &GroupRequirements::mls10(),
//!     &LifetimePolicy::at(now).with_max_total(90 * 86_400),
//!     &BasicCredentialValidator::new(),
//! )?;
//! assert_eq!(valid.reference(), &bundle.reference(ops)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Invariants: nothing here reads a clock (time is [`LifetimePolicy::now`]) or draws
//! randomness except through the [`CryptoProvider`](canopy_crypto::CryptoProvider); no
//! function panics on any input; a [`ValidatedKeyPackage`] exists only for a KeyPackage that
//! passed every check of [`validate_key_package`].

pub(crate) mod capabilities;
mod credential;
mod error;
mod leaf;
mod package;
mod validate;

#[cfg(test)]
mod tests;

pub use capabilities::{
    GREASE_VALUES, LastResort, default_capabilities, is_default_extension, is_default_proposal,
    strip_grease,
};
pub(crate) use capabilities::{Place, allowed_in};
pub use credential::{BasicCredentialValidator, CredentialRejected, CredentialValidator};
pub use error::KeyPackageError;
pub use leaf::{LeafNodeParams, NewLeafSource, generate_leaf_node, sign_leaf_node};
pub use package::{
    KeyPackageBundle, KeyPackageParams, KeyPackageRef, ValidatedKeyPackage, create_key_package,
    validate_key_package,
};
pub use validate::{GroupRequirements, LeafNodeRole, LifetimePolicy, validate_leaf_node};
