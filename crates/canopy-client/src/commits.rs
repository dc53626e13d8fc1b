//! Our own commits (RFC 9420 §12.4): add, remove, update, or any [`CommitOptions`]. The
//! pending commit is durable before the commit's bytes are returned; after a restart it is
//! still pending, to merge once the Delivery Service accepts it or to discard if another
//! commit won the epoch.

use canopy_core::LeafIndex;
use canopy_core::group::{CommitOptions, CommitOutput, Group, Merged};
use canopy_core::wire::{MlsMessage, Proposal};
use canopy_store::Store;

use crate::persist::write;
use crate::{Client, ClientError};

/// The result of merging our pending commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MergeOutcome {
    /// The group is in this epoch now.
    Member {
        /// The new epoch.
        epoch: u64,
    },
    /// The commit removed us (it cannot, for a commit of our own; kept for completeness).
    Removed {
        /// The first epoch we are not a member of.
        epoch: u64,
    },
}

impl<S: Store> Client<S> {
    /// Makes a commit with `options` (RFC 9420 §12.4.1) and, if it adds members, their
    /// Welcome. The commit is pending in the group, and **durable**, when this returns:
    /// send it, then call [`Client::merge_pending_commit`] when the Delivery Service accepts
    /// it (or process its echo with [`Client::process_incoming`]), or
    /// [`Client::discard_pending_commit`] if another commit won the epoch.
    ///
    /// # Errors
    /// [`ClientError::Group`] (for example a commit already pending); [`ClientError::Store`]
    /// (then nothing is returned, and the group is reloaded from the store on next use); the
    /// errors of [`Client::group`].
    pub fn commit(
        &mut self,
        group_id: &[u8],
        options: CommitOptions,
    ) -> Result<CommitOutput, ClientError> {
        self.change(group_id, |env, group| Ok(group.commit(env, options)?))
    }

    /// Commits adding the members whose KeyPackages (encoded `MLSMessage`s, as published)
    /// are `key_packages` (RFC 9420 §12.1.1), with the epoch's pending proposals.
    ///
    /// # Errors
    /// [`ClientError::Codec`] or [`ClientError::UnexpectedMessage`] for bytes that are not a
    /// KeyPackage message; as [`Client::commit`].
    pub fn add_members(
        &mut self,
        group_id: &[u8],
        key_packages: &[&[u8]],
    ) -> Result<CommitOutput, ClientError> {
        let limits = self.ctx.config.group.limits;
        let add = key_packages
            .iter()
            .map(
                |bytes| match MlsMessage::from_bytes_with_limits(bytes, &limits)? {
                    MlsMessage::KeyPackage(kp) => Ok(*kp),
                    _ => Err(ClientError::UnexpectedMessage("not a KeyPackage")),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        self.commit(
            group_id,
            CommitOptions {
                add,
                ..CommitOptions::default()
            },
        )
    }

    /// Commits removing the members at `leaves` (RFC 9420 §12.1.3).
    ///
    /// # Errors
    /// As [`Client::commit`].
    pub fn remove_members(
        &mut self,
        group_id: &[u8],
        leaves: &[LeafIndex],
    ) -> Result<CommitOutput, ClientError> {
        self.commit(
            group_id,
            CommitOptions {
                remove: leaves.to_vec(),
                ..CommitOptions::default()
            },
        )
    }

    /// Commits an update of our leaf (a commit with a path, RFC 9420 §12.4.1), with the
    /// epoch's pending proposals.
    ///
    /// # Errors
    /// As [`Client::commit`].
    pub fn update(&mut self, group_id: &[u8]) -> Result<CommitOutput, ClientError> {
        self.commit(
            group_id,
            CommitOptions {
                force_path: true,
                ..CommitOptions::default()
            },
        )
    }

    /// Sends a proposal (RFC 9420 §12.1) in group `group_id`, cached (durably) for our next
    /// commit. Returns the message to send.
    ///
    /// # Errors
    /// As [`Client::commit`].
    pub fn propose(&mut self, group_id: &[u8], proposal: Proposal) -> Result<Vec<u8>, ClientError> {
        self.change(group_id, |env, group| Ok(group.propose(env, proposal)?))
    }

    /// Stores the external PSK `psk` under `psk_id` in group `group_id` (RFC 9420 §8.4), for
    /// commits that inject it, durably.
    ///
    /// # Errors
    /// [`ClientError::Store`]; as [`Client::group`].
    pub fn add_external_psk(
        &mut self,
        group_id: &[u8],
        psk_id: Vec<u8>,
        psk: canopy_crypto::Secret,
    ) -> Result<(), ClientError> {
        self.change(group_id, |_, group| {
            group.add_external_psk(psk_id, psk);
            Ok(())
        })
    }

    /// Whether group `group_id` has a commit of ours pending.
    ///
    /// # Errors
    /// As [`Client::group`].
    pub fn has_pending_commit(&mut self, group_id: &[u8]) -> Result<bool, ClientError> {
        Ok(self.group(group_id)?.has_pending_commit())
    }

    /// Merges our pending commit (the Delivery Service accepted it), durably.
    ///
    /// # Errors
    /// [`ClientError::Group`] with `NoPendingCommit`; [`ClientError::Store`]; as
    /// [`Client::group`].
    pub fn merge_pending_commit(&mut self, group_id: &[u8]) -> Result<MergeOutcome, ClientError> {
        self.change(group_id, |_, group| {
            Ok(match group.merge_pending_commit()? {
                Merged::Member { epoch } => MergeOutcome::Member { epoch },
                Merged::Removed => MergeOutcome::Removed {
                    epoch: group.epoch().saturating_add(1),
                },
            })
        })
    }

    /// Discards our pending commit (another commit won the epoch, or the Delivery Service
    /// refused it), durably. Returns whether there was one.
    ///
    /// # Errors
    /// [`ClientError::Store`]; as [`Client::group`].
    pub fn discard_pending_commit(&mut self, group_id: &[u8]) -> Result<bool, ClientError> {
        self.change(group_id, |_, group| Ok(group.discard_pending_commit()))
    }

    /// Runs `f` on group `group_id`, then writes the group's delta before returning `f`'s
    /// value. If `f` fails the group is unchanged (canopy-core's rule); if the write fails
    /// the in-memory group is dropped, to be reloaded from the store.
    pub(crate) fn change<T>(
        &mut self,
        group_id: &[u8],
        f: impl FnOnce(&canopy_core::group::Env<'_>, &mut Group) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        self.ensure_loaded(group_id)?;
        let env = self.ctx.env();
        let slot = self
            .groups
            .get_mut(group_id)
            .ok_or(ClientError::UnknownGroup)?;
        if let canopy_core::group::MembershipStatus::Removed { epoch } = slot.group.status() {
            return Err(ClientError::Removed { epoch });
        }
        let out = f(&env, &mut slot.group)?;
        if !slot.group.has_changes() {
            return Ok(out);
        }
        let written = slot
            .group
            .take_delta()
            .map_err(ClientError::from)
            .and_then(|delta| {
                write(
                    &mut self.store,
                    Some((&delta, Some(slot.version))),
                    &[],
                    |_| Ok(()),
                )
            });
        match written {
            Ok((Some(version), ())) => {
                slot.version = version;
                Ok(out)
            }
            Ok((None, ())) => Err(ClientError::Corrupt("no version")),
            Err(e) => {
                self.groups.remove(group_id);
                Err(e)
            }
        }
    }
}
