//! The interop client: Canopy's provider and validator, the store of objects by id, and the
//! operations every RPC shares (processing the proposals a request passes, finishing a
//! commit).
//!
//! Every RPC runs synchronously under the store's lock: the test runner drives one step at
//! a time, and each step is a few milliseconds of crypto.

use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use canopy_core::group::{
    Env, GroupConfig, HandshakeFormat, Merged, ProcessedMessage, ProposalInfo, ProposalPolicy,
};
use canopy_core::key_package::BasicCredentialValidator;
use canopy_core::wire::{Proposal, Sender};
use canopy_crypto_rustcrypto::RustCryptoProvider;

use crate::error::InteropError;
use crate::state::{Member, Store};

/// The MLS working group's interop client for Canopy: the state behind the `MLSClient`
/// service.
///
/// Groups use Canopy's defaults with three changes the protocol asks for: handshake
/// messages as PrivateMessage when the runner sets `encrypt_handshake`; application data is
/// sent even while proposals are pending (the runner orders commits itself); and a commit
/// includes exactly the proposals the runner passes by reference, whoever sent them
/// (members, external senders, new members), which Canopy's default policy would leave out
/// for non-members.
pub struct CanopyClient {
    pub(crate) provider: RustCryptoProvider,
    pub(crate) credentials: BasicCredentialValidator,
    store: Mutex<Store>,
}

impl Default for CanopyClient {
    fn default() -> Self {
        Self::new()
    }
}

impl CanopyClient {
    /// A client with no state, using the RustCrypto provider (every RFC 9420 cipher suite)
    /// and basic credentials.
    pub fn new() -> Self {
        Self {
            provider: RustCryptoProvider::new(),
            credentials: BasicCredentialValidator::new(),
            store: Mutex::new(Store::default()),
        }
    }

    /// How many objects (group states, pending joiners, external signers, ReInits) the
    /// client holds.
    ///
    /// # Errors
    /// [`InteropError::Poisoned`] if a request panicked while holding the state.
    pub fn object_count(&self) -> Result<usize, InteropError> {
        Ok(self.store()?.len())
    }

    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Store>, InteropError> {
        self.store.lock().map_err(|_| InteropError::Poisoned)
    }

    /// The environment of one operation: now, with `policy`.
    pub(crate) fn env<'a>(&'a self, policy: &'a dyn ProposalPolicy) -> Env<'a> {
        Env::new(&self.provider, &self.credentials)
            .with_policy(policy)
            .at(now())
    }
}

/// The current time, seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The group configuration of a member: Canopy's defaults, handshakes as the runner asks,
/// application data whenever asked, and enough past epochs for the runner's resumption PSK
/// and late-message steps.
pub(crate) fn config(encrypt_handshake: bool) -> GroupConfig {
    GroupConfig {
        handshake: if encrypt_handshake {
            HandshakeFormat::Private
        } else {
            HandshakeFormat::Public
        },
        past_epochs: 8,
        dangerous_application_before_commit: true,
        ..GroupConfig::default()
    }
}

/// The policy of the runner's commits: include exactly the cached proposals it passed by
/// reference, whoever sent them (RFC 9420 §12.4: "according to application policy").
pub(crate) struct Requested(pub(crate) Vec<(Sender, Proposal)>);

impl ProposalPolicy for Requested {
    fn include(&self, proposal: &ProposalInfo<'_>) -> bool {
        self.0
            .iter()
            .any(|(s, p)| s == proposal.sender && p == proposal.proposal)
    }
}

/// Accepts and commits every proposal: the policy of operations that do not commit.
pub(crate) const ANY: canopy_core::group::IncludeAll = canopy_core::group::IncludeAll;

impl Member {
    /// Processes the proposal `messages` the runner passes with a commit (or for a commit),
    /// unless this member sent or processed them already, and returns who proposed what, in
    /// order.
    pub(crate) fn take_proposals(
        &mut self,
        env: &Env<'_>,
        messages: &[Vec<u8>],
    ) -> Result<Vec<(Sender, Proposal)>, InteropError> {
        messages
            .iter()
            .map(|bytes| {
                if let Some(known) = self.known.get(bytes) {
                    return Ok(known.clone());
                }
                match self.group.process_message(env, bytes)? {
                    ProcessedMessage::Proposal { sender, proposal } => {
                        self.known.insert(bytes.clone(), (sender, proposal.clone()));
                        Ok((sender, proposal))
                    }
                    other => Err(InteropError::bad(format!(
                        "expected a proposal, got {}",
                        kind_of(&other)
                    ))),
                }
            })
            .collect()
    }

    /// Remembers a proposal this member sent.
    pub(crate) fn sent(&mut self, message: &[u8], proposal: Proposal) {
        let sender = Sender::Member(self.group.own_leaf().value());
        self.known.insert(message.to_vec(), (sender, proposal));
    }

    /// Processes a commit of another member (or the echo of our own) and merges it.
    pub(crate) fn handle_commit(
        &mut self,
        env: &Env<'_>,
        commit: &[u8],
    ) -> Result<Merged, InteropError> {
        let merged = match self.group.process_message(env, commit)? {
            ProcessedMessage::Commit(staged) => self.group.merge_staged_commit(*staged)?,
            ProcessedMessage::OwnCommit => self.group.merge_pending_commit()?,
            other => {
                return Err(InteropError::bad(format!(
                    "expected a commit, got {}",
                    kind_of(&other)
                )));
            }
        };
        self.known.clear();
        Ok(merged)
    }

    /// Merges our pending commit.
    pub(crate) fn merge_pending(&mut self) -> Result<Merged, InteropError> {
        let merged = self.group.merge_pending_commit()?;
        self.known.clear();
        Ok(merged)
    }

    /// The epoch authenticator after a merge: empty if this member was removed.
    pub(crate) fn authenticator_after(&self, merged: Merged) -> Vec<u8> {
        match merged {
            Merged::Member { .. } => self.group.epoch_authenticator().to_vec(),
            Merged::Removed => Vec::new(),
        }
    }
}

/// A short name of what a processed message was, for error messages.
pub(crate) fn kind_of(processed: &ProcessedMessage) -> &'static str {
    match processed {
        ProcessedMessage::Application { .. } => "application data",
        ProcessedMessage::Proposal { .. } => "a proposal",
        ProcessedMessage::Commit(_) => "a commit",
        ProcessedMessage::OwnCommit => "our own commit",
        ProcessedMessage::PastHandshake { .. } => "a handshake message of a past epoch",
        _ => "another message",
    }
}
