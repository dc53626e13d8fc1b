//! An MLS client (RFC 9420) over the sans-IO engine `canopy-core` and the crash-safe store
//! `canopy-store`: it supplies what the engine leaves to its caller (a clock, OS randomness,
//! a store, the ordering of writes) so that an application gets state that survives a crash
//! at any instant without reusing a key.
//!
//! A [`Client`] holds one [`Store`](canopy_store::Store) (SQLite for applications, memory
//! for tests), a crypto provider (RustCrypto with OS randomness by default), a [`Clock`]
//! ([`SystemClock`] by default) and several [`Identity`]s. It
//! - generates **KeyPackages** in batches per identity and suite, and one **last-resort**
//!   KeyPackage (RFC 9420 §16.8, with the `last_resort` extension), keeping their private
//!   keys in the store until a Welcome uses them;
//! - **routes** incoming bytes ([`Client::peek`]: kind, group, epoch, content type, the
//!   Welcome's KeyPackage) and **processes** them ([`Client::process_incoming`]): to the
//!   right group, or a join;
//! - creates groups, adds, removes, updates, encrypts and decrypts, merges or discards its
//!   pending commit, and loads groups from the store when first used;
//! - keeps a **membership status** per group: the commit that removes us yields
//!   [`Incoming::Removed`], the group's status stays [`MembershipStatus::Removed`] (after a
//!   restart too), and later messages give [`ClientError::Removed`], not an unknown epoch.
//!
//! ```
//! use canopy_client::{Client, Incoming, no_app_writes};
//! use canopy_core::advanced::codec::VarBytes;
//! use canopy_core::wire::Credential;
//! use canopy_crypto::CipherSuite;
//! use canopy_store::MemoryStore;
//!
//! # fn main() -> Result<(), canopy_client::ClientError> {
//! const SUITE: CipherSuite = CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;
//! let basic = |name: &str| Credential::Basic { identity: VarBytes(name.as_bytes().to_vec()) };
//!
//! let mut alice = Client::open(MemoryStore::new())?;
//! let mut bob = Client::open(MemoryStore::new())?;
//! alice.create_identity("alice", basic("alice"), SUITE)?;
//! bob.create_identity("bob", basic("bob"), SUITE)?;
//!
//! let group = alice.create_group("alice", SUITE, None)?;
//! let kp = bob.generate_key_packages("bob", SUITE, 1)?.remove(0);
//! let out = alice.add_members(&group, &[&kp])?; // durable, pending
//! alice.merge_pending_commit(&group)?; // the Delivery Service accepted it
//! bob.process_incoming(&out.welcome.unwrap(), no_app_writes)?;
//!
//! let ct = alice.encrypt(&group, b"hi bob", b"")?;
//! let (message, ()) = bob.decrypt(&ct, |_, _| Ok(()))?;
//! assert_eq!(message.data, b"hi bob");
//! # Ok(())
//! # }
//! ```
//!
//! # Persistence contract
//!
//! Every operation that changes a group writes the change (the group's
//! [`take_delta`](canopy_core::group::Group::take_delta)) to the store in **one
//! transaction** and only then returns its result. In detail:
//!
//! 1. **Encrypt** ([`Client::encrypt`]): the ratchet advance is committed before the
//!    ciphertext is returned. If the write fails, the ciphertext is dropped, an error is
//!    returned, and the in-memory group is discarded (it is reloaded from the store on next
//!    use), so memory never runs ahead of disk and the generation is never used for another
//!    ciphertext (RFC 9420 §9.1: a key and nonce are used once).
//! 2. **Decrypt** ([`Client::decrypt`], [`Client::process_incoming`]): the consumed key's
//!    deletion (RFC 9420 §9.2) is committed in the same transaction as whatever the
//!    application's callback writes through [`AppTx`], typically the plaintext. The
//!    callback is the choice here (rather than a transaction handle returned to the
//!    application), so that the client decides when the transaction commits and the
//!    application cannot forget to; the plaintext is *returned* only after the commit.
//!    If the store or the callback fails, nothing is durable, no plaintext is returned,
//!    the group is reloaded from the store, and the message can be decrypted again.
//!    The callback must not act on the plaintext outside the transaction.
//! 3. **Commit** ([`Client::commit`] and its shortcuts): the pending commit is durable
//!    before the commit's bytes are returned. After a restart it is still pending: merge it
//!    ([`Client::merge_pending_commit`], or process its echo) when the Delivery Service
//!    accepted it, discard it ([`Client::discard_pending_commit`]) if another commit won
//!    (processing the winner discards it too).
//! 4. **Join** ([`Client::join`], or a Welcome through [`Client::process_incoming`]): the
//!    KeyPackage's private keys are deleted in the transaction that stores the joined group
//!    (a last-resort KeyPackage is kept). A failed join keeps the KeyPackage.
//! 5. **One generation, one writer.** Each write passes the group's store version
//!    ([`StoreTx::apply`](canopy_store::StoreTx::apply)); two handles (two processes, two
//!    `Client`s on one database) that loaded the same version cannot both write: the
//!    second gets [`StoreError::Conflict`](canopy_store::StoreError::Conflict) and no
//!    ciphertext, and its group is reloaded with the winner's state.
//! 6. Everything else that writes (identities, KeyPackage batches, group creation, PSKs,
//!    proposals, the commit that removes us) is one transaction too.
//!
//! Durability across a power loss needs [`Synchronous::Full`](canopy_store::Synchronous);
//! the default `NORMAL` survives the application being killed (the crash test in
//! `tests/crash.rs` kills it hundreds of times).
//!
//! # Time
//!
//! Every operation runs at the client's [`Clock`]'s now
//! ([`Env::at`](canopy_core::group::Env::at)), so leaf and KeyPackage lifetimes
//! (RFC 9420 §7.2, §10.1) are always checked; tests use [`FixedClock`].
//!
//! The design is recorded in `docs/adr/0003-client-layer.md`.
#![forbid(unsafe_code)]

mod client;
mod clock;
mod codec;
mod commits;
mod error;
mod group_handle;
mod identity;
mod join;
mod key_packages;
mod messages;
mod persist;
mod routing;

pub use client::{Client, ClientBuilder, ClientConfig};
pub use clock::{Clock, FixedClock, SystemClock};
pub use commits::MergeOutcome;
pub use error::{AppError, ClientError};
pub use identity::Identity;
pub use join::JoinOptions;
pub use key_packages::KeyPackageInfo;
pub use messages::{Incoming, ReceivedMessage, no_app_writes};
pub use persist::AppTx;
pub use routing::{MessageKind, Peeked};

/// The engine's types an application of the client needs.
pub use canopy_core::LeafIndex;
pub use canopy_core::group::{
    CommitOptions, CommitOutput, CommitSummary, GroupConfig, Member, MembershipStatus,
};
pub use canopy_core::key_package::KeyPackageRef;
