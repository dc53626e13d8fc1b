//! What the interop client remembers between RPCs: the objects the test runner refers to by
//! the `u32` ids this client hands out.
//!
//! One counter numbers every object (group states, pending joiners, external signers,
//! ReInits), so an id never names two things: the runner's `StorePSK` passes "a state or a
//! transaction id" without saying which.

use std::collections::BTreeMap;

use canopy_core::group::Group;
use canopy_core::key_package::KeyPackageBundle;
use canopy_core::wire::{Proposal, Sender};
use std::sync::Arc;

use canopy_crypto::{CipherSuite, Secret, SignaturePublicKey, Signer};

use crate::error::InteropError;

/// A member's state of one group, and what the interop protocol needs besides it.
pub(crate) struct Member {
    /// Canopy's group state.
    pub(crate) group: Group,
    /// The member's basic-credential identity.
    pub(crate) identity: Vec<u8>,
    /// The member's signature key in this group (kept to create branches and successors).
    pub(crate) signer: Arc<dyn Signer>,
    /// The proposal messages of the current epoch that this member sent or processed, with
    /// their sender and content. The runner passes proposals again when they are committed
    /// (to the committer and to every receiver, the proposer included); a message seen once
    /// is not processed twice (a PrivateMessage cannot be: its key is consumed).
    pub(crate) known: BTreeMap<Vec<u8>, (Sender, Proposal)>,
}

impl Member {
    /// A member state for `group`.
    pub(crate) fn new(group: Group, identity: Vec<u8>, signer: Arc<dyn Signer>) -> Self {
        Self {
            group,
            identity,
            signer,
            known: BTreeMap::new(),
        }
    }
}

/// A client waiting to join: the KeyPackage it published, with its private keys, and the
/// external PSKs stored for it before the Welcome arrives.
pub(crate) struct Joiner {
    pub(crate) bundle: KeyPackageBundle,
    pub(crate) signer: Arc<dyn Signer>,
    pub(crate) identity: Vec<u8>,
    pub(crate) psks: BTreeMap<Vec<u8>, Secret>,
}

/// An external sender (RFC 9420 §12.1.8.1) created by `CreateExternalSigner`.
pub(crate) struct ExternalSigner {
    pub(crate) suite: CipherSuite,
    pub(crate) signer: Arc<dyn Signer>,
    pub(crate) public: SignaturePublicKey,
}

/// A member whose group ended with a ReInit (RFC 9420 §11.2): the old group's state id, and
/// the KeyPackage (in the new cipher suite) it gave for the successor group.
pub(crate) struct Reinit {
    pub(crate) old_state: u32,
    pub(crate) joiner: Joiner,
}

/// One object named by an id.
pub(crate) enum Entry {
    Member(Box<Member>),
    Joiner(Box<Joiner>),
    Signer(Box<ExternalSigner>),
    Reinit(Box<Reinit>),
}

/// Every object of the client, by id.
#[derive(Default)]
pub(crate) struct Store {
    last: u32,
    entries: BTreeMap<u32, Entry>,
}

impl Store {
    /// Stores `entry` under a fresh id (ids start at 1: the runner sends 0 for "none").
    pub(crate) fn insert(&mut self, entry: Entry) -> Result<u32, InteropError> {
        let id = self
            .last
            .checked_add(1)
            .ok_or_else(|| InteropError::bad("out of ids"))?;
        self.last = id;
        self.entries.insert(id, entry);
        Ok(id)
    }

    /// Stores a member state under a fresh id.
    pub(crate) fn insert_member(&mut self, member: Member) -> Result<u32, InteropError> {
        self.insert(Entry::Member(Box::new(member)))
    }

    /// Forgets `id`; returns whether it named something.
    pub(crate) fn remove(&mut self, id: u32) -> bool {
        self.entries.remove(&id).is_some()
    }

    pub(crate) fn entry_mut(&mut self, id: u32) -> Option<&mut Entry> {
        self.entries.get_mut(&id)
    }

    pub(crate) fn member(&self, id: u32) -> Result<&Member, InteropError> {
        match self.entries.get(&id) {
            Some(Entry::Member(m)) => Ok(m),
            _ => Err(unknown("state", id)),
        }
    }

    pub(crate) fn member_mut(&mut self, id: u32) -> Result<&mut Member, InteropError> {
        match self.entries.get_mut(&id) {
            Some(Entry::Member(m)) => Ok(m),
            _ => Err(unknown("state", id)),
        }
    }

    pub(crate) fn joiner(&self, id: u32) -> Result<&Joiner, InteropError> {
        match self.entries.get(&id) {
            Some(Entry::Joiner(j)) => Ok(j),
            _ => Err(unknown("transaction", id)),
        }
    }

    pub(crate) fn signer(&self, id: u32) -> Result<&ExternalSigner, InteropError> {
        match self.entries.get(&id) {
            Some(Entry::Signer(s)) => Ok(s),
            _ => Err(unknown("external signer", id)),
        }
    }

    pub(crate) fn reinit(&self, id: u32) -> Result<&Reinit, InteropError> {
        match self.entries.get(&id) {
            Some(Entry::Reinit(r)) => Ok(r),
            _ => Err(unknown("reinit", id)),
        }
    }

    /// How many objects are stored.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

fn unknown(kind: &'static str, id: u32) -> InteropError {
    InteropError::UnknownId { kind, id }
}
