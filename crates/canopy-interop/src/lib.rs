//! Live interop between Canopy, OpenMLS 0.9.2 and mls-rs 0.57 (RFC 9420), in one process.
//!
//! Every implementation is wrapped in a [`Member`]: a client with one signature key and at most
//! one group, that exchanges nothing but wire bytes with the others (KeyPackages, Welcomes,
//! GroupInfos, commits, proposals and application messages, each an encoded `MLSMessage`)
//! and reports its epoch, epoch authenticator and roster. [`harness::Mixed`] drives a group of
//! such members, delivering each message to everyone, and checks after every step that all
//! agree. [`scenarios`] are the interop scenarios; [`table`] runs them for every ordered pair
//! (and three-implementation group) on every shared cipher suite and prints the table.
//!
//! The adapters are `canopy.rs`, `openmls.rs` and `mlsrs.rs`: all use of each library's API
//! is there, so an API change touches one file.
//!
//! This crate is `publish = false` and only for tests: OpenMLS and mls-rs are never
//! dependencies of Canopy's library crates.
#![allow(
    clippy::missing_errors_doc,
    reason = "test-only crate: every fallible fn returns the peer's error as text"
)]

pub mod canopy;
pub mod harness;
mod mlsrs;
mod openmls;
pub mod scenarios;
pub mod table;

use std::fmt;

pub use canopy::CanopyOptions;

/// What went wrong, as text (each library has its own error types; the text names the
/// implementation and the operation).
pub type Error = String;

/// The result of an adapter operation.
pub type Result<T> = std::result::Result<T, Error>;

/// Formats `e` as an [`Error`] for `what` (an implementation and an operation).
pub(crate) fn err(what: &str) -> impl FnOnce(&dyn fmt::Debug) -> Error + '_ {
    move |e| format!("{what}: {e:?}")
}

/// One of the three implementations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Impl {
    /// Canopy (this repository).
    Canopy,
    /// OpenMLS 0.9.2 with `openmls_rust_crypto` 0.6.
    OpenMls,
    /// mls-rs 0.57 with `mls-rs-crypto-rustcrypto` 0.23.
    MlsRs,
}

impl Impl {
    /// The three implementations.
    pub const ALL: [Self; 3] = [Self::Canopy, Self::OpenMls, Self::MlsRs];

    /// The cipher suites this implementation's pure-Rust provider runs; with the `pq`
    /// feature also the post-quantum suites of OpenMLS's numbering that OpenMLS's
    /// `openmls_rust_crypto` and Canopy (`SuiteProfile::OPENMLS`) both run.
    pub fn suites(self) -> &'static [u16] {
        match self {
            #[cfg(not(feature = "pq"))]
            Self::Canopy => &[1, 2, 3, 4, 5, 6, 7],
            #[cfg(feature = "pq")]
            Self::Canopy => &[
                1, 2, 3, 4, 5, 6, 7, 0x0042, 0x004D, 0x004E, 0x004F, 0x0050, 0xF042, 0x0051,
                0x0052, 0x0906, 0x0907,
            ],
            #[cfg(not(feature = "pq"))]
            Self::OpenMls => &[1, 2, 3],
            #[cfg(feature = "pq")]
            Self::OpenMls => &[
                1, 2, 3, 0x0042, 0x004E, 0x004F, 0x0050, 0xF042, 0x0051, 0x0052, 0x0906, 0x0907,
            ],
            Self::MlsRs => &[1, 2, 3, 7],
        }
    }

    /// The post-quantum suites (OpenMLS's numbering) that Canopy and OpenMLS both run, with
    /// classical signatures (`SuiteProfile::OPENMLS`).
    #[cfg(feature = "pq")]
    pub const PQ_SUITES: [u16; 5] = [0x004F, 0x004E, 0x0050, 0x0042, 0xF042];

    /// The post-quantum suites that also sign with ML-DSA (`SuiteProfile::OPENMLS_ML_DSA`).
    #[cfg(feature = "pq")]
    pub const PQ_ML_DSA_SUITES: [u16; 4] = [0x0052, 0x0051, 0x0907, 0x0906];

    /// A one-letter tag for tables.
    pub fn letter(self) -> char {
        match self {
            Self::Canopy => 'C',
            Self::OpenMls => 'O',
            Self::MlsRs => 'M',
        }
    }
}

impl fmt::Display for Impl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Canopy => "Canopy",
            Self::OpenMls => "OpenMLS",
            Self::MlsRs => "mls-rs",
        })
    }
}

/// The cipher suites every implementation in `impls` runs, ascending.
pub fn shared_suites(impls: &[Impl]) -> Vec<u16> {
    (1..=7)
        .filter(|s| impls.iter().all(|i| i.suites().contains(s)))
        .collect()
}

/// How a member frames its own proposals and commits (RFC 9420 §6). Application messages are
/// always PrivateMessage; every member accepts both forms on receipt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Handshake {
    /// PublicMessage (mls-rs's default; OpenMLS's mixed-plaintext policy).
    #[default]
    Public,
    /// PrivateMessage (Canopy `HandshakeFormat::Private`, OpenMLS mixed-ciphertext, mls-rs
    /// `encrypt_control_messages`).
    Private,
}

/// What a member puts in a commit.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitSpec {
    /// KeyPackages to add (encoded `MLSMessage`s).
    pub add: Vec<Vec<u8>>,
    /// Leaves to remove.
    pub remove: Vec<u32>,
    /// Whether to include an UpdatePath even when none is required (an "update" commit).
    /// Without it, each implementation does what it does by default for the proposals:
    /// OpenMLS adds a path to add-only commits, Canopy and mls-rs do not.
    pub force_path: bool,
    /// Whether to leave the UpdatePath out of an add-only commit (as mls-rs does); only
    /// OpenMLS needs to be told.
    pub no_path: bool,
}

/// A commit's messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitOut {
    /// The commit, an encoded `MLSMessage`.
    pub commit: Vec<u8>,
    /// The Welcome for the added members, an encoded `MLSMessage`, if any were added.
    pub welcome: Option<Vec<u8>>,
}

/// What processing a message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    /// Application data.
    Application(Vec<u8>),
    /// A proposal, now cached for the next commit.
    Proposal,
    /// A commit, merged: the member is in the next epoch.
    Commit,
    /// A commit that removed this member, merged: the member is no longer in the group.
    Removed,
}

/// A client of one implementation with one signature key and at most one group, driven
/// through wire bytes only.
pub trait Member {
    /// Which implementation this is.
    fn kind(&self) -> Impl;
    /// The identity in its basic credential.
    fn identity(&self) -> &[u8];
    /// A fresh KeyPackage, an encoded `MLSMessage`; its private keys are kept for joining.
    fn key_package(&mut self) -> Result<Vec<u8>>;
    /// Creates a group with id `group_id` on this member's suite.
    fn create_group(&mut self, group_id: &[u8]) -> Result<()>;
    /// Joins from a Welcome (an encoded `MLSMessage`) carrying the ratchet tree.
    fn join(&mut self, welcome: &[u8]) -> Result<()>;
    /// Joins with an external commit from a GroupInfo (an encoded `MLSMessage` with
    /// `external_pub` and the tree); returns the commit to send, already merged here.
    fn join_external(&mut self, group_info: &[u8]) -> Result<Vec<u8>>;
    /// Commits `spec` and every proposal received in this epoch (by reference). The commit
    /// stays pending until [`Member::merge_pending`].
    fn commit(&mut self, spec: &CommitSpec) -> Result<CommitOut>;
    /// Merges this member's pending commit (the Delivery Service accepted it).
    fn merge_pending(&mut self) -> Result<()>;
    /// Proposes to remove `leaf` (cached for this member's next commit too).
    fn propose_remove(&mut self, leaf: u32) -> Result<Vec<u8>>;
    /// Proposes to remove this member with a SelfRemove (draft-ietf-mls-extensions), sent as
    /// a PublicMessage; another member's next commit removes it.
    #[cfg(feature = "extensions")]
    fn propose_self_remove(&mut self) -> Result<Vec<u8>>;
    /// Encrypts application data.
    fn encrypt(&mut self, data: &[u8]) -> Result<Vec<u8>>;
    /// Processes a message from another member; a commit is merged at once.
    fn process(&mut self, message: &[u8]) -> Result<Received>;
    /// A GroupInfo of the current epoch with `external_pub` and the ratchet tree.
    fn group_info(&mut self) -> Result<Vec<u8>>;
    /// The current epoch.
    fn epoch(&self) -> u64;
    /// The epoch authenticator of the current epoch (RFC 9420 §8.7).
    fn epoch_authenticator(&self) -> Vec<u8>;
    /// The members, as (leaf index, identity), ascending by leaf.
    fn roster(&self) -> Vec<(u32, Vec<u8>)>;
    /// This member's own leaf index.
    fn own_leaf(&self) -> u32;
}

/// A new member of implementation `kind` named `identity` on `suite`, with `handshake`
/// framing and, for Canopy, `canopy` options.
pub fn new_member(
    kind: Impl,
    identity: &[u8],
    suite: u16,
    handshake: Handshake,
    canopy: CanopyOptions,
) -> Result<Box<dyn Member>> {
    Ok(match kind {
        Impl::Canopy => Box::new(canopy::CanopyMember::new(
            identity, suite, handshake, canopy,
        )?),
        Impl::OpenMls => Box::new(openmls::OpenMlsMember::new(identity, suite, handshake)?),
        Impl::MlsRs => mlsrs::new(identity, suite, handshake)?,
    })
}
