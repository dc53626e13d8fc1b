//! Sending application messages (RFC 9420 §6.3) and processing everything that arrives for
//! a group (§6, §12): each outcome is written to the store, with what the application
//! writes in its callback, in one transaction before it is returned.

use canopy_core::LeafIndex;
use canopy_core::group::{
    CommitSummary, Group, GroupError, MembershipStatus, Merged, ProcessedMessage,
};
use canopy_core::wire::{Credential, MlsMessage, Sender};
use canopy_store::Store;

use crate::join::JoinOptions;
use crate::persist::{AppTx, write};
use crate::routing::{MessageKind, peek};
use crate::{AppError, Client, ClientError};

/// An application message received in a group.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceivedMessage {
    /// The group.
    pub group_id: Vec<u8>,
    /// The epoch it was sent in.
    pub epoch: u64,
    /// The sender's leaf.
    pub sender: LeafIndex,
    /// The sender's credential, as the group has it now (`None` if the leaf is blank now).
    pub sender_credential: Option<Credential>,
    /// The application data.
    pub data: Vec<u8>,
    /// The message's `authenticated_data`.
    pub authenticated_data: Vec<u8>,
}

/// What an incoming message did, once it is durable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming {
    /// Application data (RFC 9420 §6.3); the key it used is deleted.
    Application(ReceivedMessage),
    /// A valid proposal, cached for the next commit (RFC 9420 §12.1).
    Proposal {
        /// The group.
        group_id: Vec<u8>,
        /// Who proposed it.
        sender: Sender,
    },
    /// Another member's commit, validated and merged (RFC 9420 §12.4.2). If we had a commit
    /// pending for the same epoch, it lost and was discarded.
    Commit {
        /// The group.
        group_id: Vec<u8>,
        /// What it changed.
        summary: CommitSummary,
    },
    /// The Delivery Service's echo of our pending commit: it was accepted and is merged.
    OwnCommit {
        /// The group.
        group_id: Vec<u8>,
        /// The new epoch.
        epoch: u64,
    },
    /// A commit that removed us (RFC 9420 §12.1.3): the group's status is now
    /// [`MembershipStatus::Removed`](crate::MembershipStatus::Removed); it keeps only what
    /// reads messages sent before the removal.
    Removed {
        /// The group.
        group_id: Vec<u8>,
        /// The first epoch we are not a member of (the one the commit started).
        epoch: u64,
        /// What the commit changed.
        summary: CommitSummary,
    },
    /// A proposal or commit of a retained past epoch (a duplicate or a lost race); nothing
    /// changed but that epoch's ratchet.
    PastHandshake {
        /// The group.
        group_id: Vec<u8>,
        /// Its epoch.
        epoch: u64,
    },
    /// A Welcome that this client joined from (RFC 9420 §12.4.3.1).
    Joined {
        /// The group joined.
        group_id: Vec<u8>,
        /// Its epoch.
        epoch: u64,
        /// Our leaf.
        own_leaf: LeafIndex,
    },
}

impl Incoming {
    /// The group the message was for (or joined).
    pub fn group_id(&self) -> &[u8] {
        match self {
            Self::Application(m) => &m.group_id,
            Self::Proposal { group_id, .. }
            | Self::Commit { group_id, .. }
            | Self::OwnCommit { group_id, .. }
            | Self::Removed { group_id, .. }
            | Self::PastHandshake { group_id, .. }
            | Self::Joined { group_id, .. } => group_id,
        }
    }
}

/// The callback that never writes anything of the application's.
///
/// # Errors
/// Never.
pub fn no_app_writes(_: &Incoming, _: &mut dyn AppTx) -> Result<(), AppError> {
    Ok(())
}

impl<S: Store> Client<S> {
    /// Encrypts `data` as a PrivateMessage of group `group_id` (RFC 9420 §6.3).
    ///
    /// The ratchet advance is committed to the store **before** the ciphertext is returned
    /// (a generation is never used twice, RFC 9420 §9.1). If the write fails, no ciphertext
    /// is returned and the group is reloaded from the store on next use.
    ///
    /// # Errors
    /// [`ClientError::Group`] (the group is unchanged); [`ClientError::Store`], including
    /// [`StoreError::Conflict`](canopy_store::StoreError::Conflict) if another handle of the
    /// group wrote it since this one loaded it; the errors of [`Client::group`].
    pub fn encrypt(
        &mut self,
        group_id: &[u8],
        data: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        self.change(group_id, |env, group| {
            Ok(group.encrypt_application(env, data, authenticated_data)?)
        })
    }

    /// Processes an incoming message: a PublicMessage or PrivateMessage goes to its group
    /// (loaded from the store if needed), a Welcome is joined ([`Client::join`] with the
    /// default [`JoinOptions`]). Commits of other members are merged at once (the client
    /// accepts what canopy-core validates and the credential validator accepts); our own
    /// commit's echo merges our pending commit.
    ///
    /// `app` runs inside the transaction that makes the outcome durable (the consumed key's
    /// deletion, the new epoch, the joined group) and gets the application's table
    /// ([`AppTx`]): store the plaintext there, or whatever must never be lost or
    /// duplicated. Everything is committed together, or nothing: if the store or `app`
    /// fails, no outcome is returned, the group is as it was on disk, and the same message
    /// can be processed again. `app` must not act on the message outside the transaction
    /// (for example show it): do that with the returned [`Incoming`].
    ///
    /// # Errors
    /// [`ClientError::Codec`] for bytes that are not one MLSMessage;
    /// [`ClientError::UnexpectedMessage`] for a KeyPackage or GroupInfo;
    /// [`ClientError::Removed`] for a message of a group we were removed from;
    /// [`ClientError::Group`] for a message the group rejects (unchanged);
    /// [`ClientError::App`], [`ClientError::Store`] (nothing durable); the errors of
    /// [`Client::group`] and [`Client::join`].
    pub fn process_incoming<T>(
        &mut self,
        bytes: &[u8],
        app: impl FnOnce(&Incoming, &mut dyn AppTx) -> Result<T, AppError>,
    ) -> Result<(Incoming, T), ClientError> {
        let message = MlsMessage::from_bytes_with_limits(bytes, &self.ctx.config.group.limits)?;
        let peeked = peek(&message);
        match (peeked.kind, message) {
            (MessageKind::Welcome, MlsMessage::Welcome(welcome)) => {
                self.join_welcome(&welcome, &JoinOptions::default(), app)
            }
            (MessageKind::PublicMessage | MessageKind::PrivateMessage, _) => {
                let group_id = peeked
                    .group_id
                    .ok_or(ClientError::UnexpectedMessage("no group id"))?;
                self.process_group_message(&group_id, bytes, app)
            }
            _ => Err(ClientError::UnexpectedMessage(
                "a KeyPackage or GroupInfo is not processed by a group",
            )),
        }
    }

    /// Decrypts an application message ([`Client::process_incoming`] for a message that
    /// must be application data), with `app` run in its transaction. Returns the message
    /// and `app`'s value.
    ///
    /// # Errors
    /// As [`Client::process_incoming`]; [`ClientError::UnexpectedMessage`] if the message
    /// is not application data (checked from its header before anything is processed).
    pub fn decrypt<T>(
        &mut self,
        bytes: &[u8],
        app: impl FnOnce(&ReceivedMessage, &mut dyn AppTx) -> Result<T, AppError>,
    ) -> Result<(ReceivedMessage, T), ClientError> {
        let peeked = self.peek(bytes)?;
        if peeked.kind != MessageKind::PrivateMessage
            || peeked.content_type != Some(canopy_core::wire::ContentType::Application)
        {
            return Err(ClientError::UnexpectedMessage("not application data"));
        }
        let group_id = peeked
            .group_id
            .ok_or(ClientError::UnexpectedMessage("no group id"))?;
        let (incoming, out) =
            self.process_group_message(&group_id, bytes, |incoming, tx| match incoming {
                Incoming::Application(m) => app(m, tx).map(Some),
                _ => Ok(None),
            })?;
        match (incoming, out) {
            (Incoming::Application(m), Some(out)) => Ok((m, out)),
            _ => Err(ClientError::UnexpectedMessage("not application data")),
        }
    }

    /// [`Client::process_incoming`] for a message of group `group_id`.
    pub(crate) fn process_group_message<T>(
        &mut self,
        group_id: &[u8],
        bytes: &[u8],
        app: impl FnOnce(&Incoming, &mut dyn AppTx) -> Result<T, AppError>,
    ) -> Result<(Incoming, T), ClientError> {
        self.ensure_loaded(group_id)?;
        let env = self.ctx.env();
        let slot = self
            .groups
            .get_mut(group_id)
            .ok_or(ClientError::UnknownGroup)?;
        // On error the group is unchanged (canopy-core's all-or-nothing rule).
        let processed = slot.group.process_message(&env, bytes).map_err(removed)?;
        let settled = settle(&mut slot.group, processed).and_then(|incoming| {
            let delta = slot.group.take_delta()?;
            let (version, out) = write(
                &mut self.store,
                Some((&delta, Some(slot.version))),
                &[],
                |tx| app(&incoming, tx),
            )?;
            Ok((incoming, out, version))
        });
        match settled {
            Ok((incoming, out, Some(version))) => {
                slot.version = version;
                Ok((incoming, out))
            }
            Ok((_, _, None)) => {
                self.groups.remove(group_id);
                Err(ClientError::Corrupt("no version"))
            }
            Err(e) => {
                self.groups.remove(group_id);
                Err(e)
            }
        }
    }
}

/// A message of an epoch the commit that removed us started is [`ClientError::Removed`].
pub(crate) fn removed(e: GroupError) -> ClientError {
    match e {
        GroupError::Removed { epoch } => ClientError::Removed { epoch },
        e => ClientError::Group(e),
    }
}

/// The first epoch `group` does not have us, if we were removed.
fn removed_epoch(group: &Group) -> u64 {
    match group.status() {
        MembershipStatus::Removed { epoch } => epoch,
        _ => group.epoch().saturating_add(1),
    }
}

/// Finishes what `process_message` returned: merges commits.
fn settle(group: &mut Group, processed: ProcessedMessage) -> Result<Incoming, ClientError> {
    let group_id = group.group_id().to_vec();
    Ok(match processed {
        ProcessedMessage::Application {
            sender,
            epoch,
            data,
            authenticated_data,
        } => Incoming::Application(ReceivedMessage {
            sender_credential: group.member_credential(sender).cloned(),
            group_id,
            epoch,
            sender,
            data,
            authenticated_data,
        }),
        ProcessedMessage::Proposal { sender, .. } => Incoming::Proposal { group_id, sender },
        ProcessedMessage::Commit(staged) => {
            let summary = staged.summary().clone();
            match group.merge_staged_commit(*staged)? {
                Merged::Member { .. } => Incoming::Commit { group_id, summary },
                Merged::Removed => Incoming::Removed {
                    group_id,
                    epoch: removed_epoch(group),
                    summary,
                },
            }
        }
        ProcessedMessage::OwnCommit => match group.merge_pending_commit()? {
            Merged::Member { epoch } => Incoming::OwnCommit { group_id, epoch },
            Merged::Removed => Incoming::Removed {
                group_id,
                epoch: removed_epoch(group),
                summary: CommitSummary::default(),
            },
        },
        ProcessedMessage::PastHandshake { epoch, .. } => {
            Incoming::PastHandshake { group_id, epoch }
        }
        _ => return Err(ClientError::UnexpectedMessage("unknown processing outcome")),
    })
}
