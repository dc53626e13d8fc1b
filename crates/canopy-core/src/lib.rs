//! Canopy: a sans-IO implementation of the Messaging Layer Security protocol (RFC 9420).
//!
//! Canopy never does I/O: messages go in and come out as bytes, time and randomness are
//! supplied by the caller (the [`group::Env`]: a crypto provider, a credential validator and
//! the current time), and group state is a value the caller persists
//! ([`group::Group::to_bytes`]).
//!
//! # A two-member group
//!
//! ```
//! use std::sync::Arc;
//!
//! use canopy_core::advanced::codec::VarBytes;
//! use canopy_core::group::{CommitOptions, CreateParams, Env, Group, JoinParams, ProcessedMessage};
//! use canopy_core::key_package::{
//!     BasicCredentialValidator, KeyPackageParams, LeafNodeParams, create_key_package,
//! };
//! use canopy_core::wire::{Credential, Lifetime, MlsMessage};
//! use canopy_crypto::{CipherSuite, CryptoProvider};
//! use canopy_crypto_rustcrypto::RustCryptoProvider;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let suite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
//! let provider = RustCryptoProvider::new();
//! let credentials = BasicCredentialValidator::new();
//! let env = Env::new(&provider, &credentials).at(1_700_000_000);
//! let ops = provider.suite(suite)?;
//! let identity = |name: &str| {
//!     LeafNodeParams::new(Credential::Basic { identity: VarBytes(name.into()) }, suite)
//! };
//!
//! // Alice creates a group.
//! let alice_key = Arc::new(ops.signature_generate_key_pair()?);
//! let alice_leaf = identity("alice");
//! let mut alice =
//!     Group::create(&env, CreateParams::new(suite, b"example".to_vec(), &alice_leaf, alice_key))?;
//!
//! // Bob publishes a KeyPackage; Alice adds him and merges her commit once it is sent.
//! let bob_key = Arc::new(ops.signature_generate_key_pair()?);
//! let lifetime = Lifetime { not_before: 0, not_after: u64::MAX };
//! let bob_kp = create_key_package(
//!     &provider,
//!     suite,
//!     &KeyPackageParams::new(identity("bob"), lifetime),
//!     &bob_key,
//! )?;
//! let out = alice.commit(
//!     &env,
//!     CommitOptions { add: vec![bob_kp.key_package.clone()], ..CommitOptions::default() },
//! )?;
//! let _merged = alice.merge_pending_commit()?;
//!
//! // Bob joins from the Welcome.
//! let MlsMessage::Welcome(welcome) = MlsMessage::from_bytes(&out.welcome.unwrap())? else {
//!     unreachable!()
//! };
//! let mut bob = Group::join(&env, JoinParams::new(&welcome, &bob_kp, bob_key))?;
//! assert_eq!(alice.epoch_authenticator(), bob.epoch_authenticator());
//!
//! // Messages.
//! let hello = alice.encrypt_application(&env, b"hello bob", b"")?;
//! match bob.process_message(&env, &hello)? {
//!     ProcessedMessage::Application { data, .. } => assert_eq!(data, b"hello bob"),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Modules
//!
//! | module | RFC 9420 | what |
//! |---|---|---|
//! | [`group`] | §8–§12 | the group engine: [`group::Group`], commits, proposals, joins, state |
//! | [`key_package`] | §5.3, §7.2–§7.3, §10 | KeyPackages, LeafNodes, credential validation |
//! | [`lifetime`] | §7.2–§7.3 | the lifetime policy KeyPackages and received trees are checked with |
//! | [`rules`] | §5–§13 | every validity rule, with its id; [`rules::Violation`] names the rule a peer broke |
//! | [`join`] | §12.4.3 | Welcome and GroupInfo |
//! | [`public`] | §6.1, §7, §8.2, §12 | [`PublicGroup`]: a group followed without its secrets (a Delivery Service) |
//! | [`advanced::framing`] | §6 | PublicMessage and PrivateMessage protection |
//! | [`advanced::tree`] | §4, §7, Appendix C | the ratchet tree and TreeKEM |
//! | [`advanced::schedule`] | §8, §9 | key schedule, PSKs, transcript hashes, secret tree |
//! | [`advanced::crypto`] | §5 | labelled MLS cryptographic functions |
//! | [`wire`] | §5–§13 | every message struct, byte-exact codecs |
//! | [`advanced::codec`] | §2.1 | the TLS presentation language helpers |
#![forbid(unsafe_code)]

#[cfg(feature = "extensions")]
pub mod extensions;
pub mod group;
pub mod join;
pub mod key_package;
pub mod lifetime;
pub mod public;
pub mod rules;
pub mod wire;

pub mod advanced;
#[cfg(feature = "parallel")]
mod parallel;
pub(crate) use advanced::{codec, crypto, framing, schedule, tree};

// The paved path: what an application needs to create, join and use groups.
pub use group::{
    CommitOptions, CommitOutput, CreateParams, Env, Group, GroupConfig, GroupError, JoinParams,
    Member, MembershipStatus, Merged, ProcessedMessage, StagedCommit, StateDelta,
};
pub use key_package::{
    BasicCredentialValidator, CredentialValidator, KeyPackageBundle, KeyPackageParams,
    LeafNodeParams, create_key_package,
};
pub use public::PublicGroup;
pub use tree::math::LeafIndex;
pub use wire::{Credential, Extensions, KeyPackage, Lifetime, MlsMessage, Welcome};
