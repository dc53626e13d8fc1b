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
//! GREASE (§13.5): created leaves and KeyPackages carry random GREASE values in every field
//! that allows them when [`LeafNodeParams::grease`] is set; received ones are processed with
//! the normal rules for unknown values, so GREASE is tolerated without special cases.
//!
//! Invariants: nothing here reads a clock (time is [`LifetimePolicy::now`]) or draws
//! randomness except through the [`CryptoProvider`](canopy_crypto::CryptoProvider); no
//! function panics on any input; a [`ValidatedKeyPackage`] exists only for a KeyPackage that
//! passed every check of [`validate_key_package`].

mod capabilities;
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
pub use credential::{BasicCredentialValidator, CredentialRejected, CredentialValidator};
pub use error::KeyPackageError;
pub use leaf::{LeafNodeParams, NewLeafSource, generate_leaf_node, sign_leaf_node};
pub use package::{
    KeyPackageBundle, KeyPackageParams, KeyPackageRef, ValidatedKeyPackage, create_key_package,
    validate_key_package,
};
pub use validate::{
    GroupRequirements, LeafNodeRole, LifetimePolicy, check_credential_types_supported,
    check_keys_unique, validate_leaf_node,
};
