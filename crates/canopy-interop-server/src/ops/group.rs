//! Operations on a group state that do not change the epoch: `GroupInfo`, `StateAuth`,
//! `Export`, `Protect`, `Unprotect`, `StorePSK`, `Free`.

use canopy_core::group::ProcessedMessage;
use canopy_crypto::Secret;

use crate::client::{ANY, CanopyClient, kind_of};
use crate::error::InteropError;
use crate::proto;
use crate::state::Entry;

impl CanopyClient {
    /// RFC 9420 §12.4.3: a GroupInfo with `external_pub`, and the ratchet tree in it or
    /// beside it (`external_tree`).
    pub(crate) fn group_info(
        &self,
        req: proto::GroupInfoRequest,
    ) -> Result<proto::GroupInfoResponse, InteropError> {
        let env = self.env(&ANY);
        let store = self.store()?;
        let group = &store.member(req.state_id)?.group;
        let group_info = group.group_info(&env, !req.external_tree)?;
        let ratchet_tree = if req.external_tree {
            crate::convert::tree_bytes(group.tree())?
        } else {
            Vec::new()
        };
        Ok(proto::GroupInfoResponse {
            group_info,
            ratchet_tree,
        })
    }

    /// RFC 9420 §8.7: the epoch authenticator.
    pub(crate) fn state_auth(
        &self,
        req: proto::StateAuthRequest,
    ) -> Result<proto::StateAuthResponse, InteropError> {
        let store = self.store()?;
        let group = &store.member(req.state_id)?.group;
        Ok(proto::StateAuthResponse {
            state_auth_secret: group.epoch_authenticator().to_vec(),
        })
    }

    /// RFC 9420 §8.5: `MLS-Exporter(label, context, key_length)`.
    pub(crate) fn export(
        &self,
        req: proto::ExportRequest,
    ) -> Result<proto::ExportResponse, InteropError> {
        let env = self.env(&ANY);
        let store = self.store()?;
        let group = &store.member(req.state_id)?.group;
        let length = usize::try_from(req.key_length)
            .map_err(|_| InteropError::bad("key_length does not fit"))?;
        let secret = group.export_secret(&env, req.label.as_bytes(), &req.context, length)?;
        Ok(proto::ExportResponse {
            exported_secret: secret.as_bytes().to_vec(),
        })
    }

    /// RFC 9420 §6.3: application data as a PrivateMessage.
    pub(crate) fn protect(
        &self,
        req: proto::ProtectRequest,
    ) -> Result<proto::ProtectResponse, InteropError> {
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let group = &mut store.member_mut(req.state_id)?.group;
        let ciphertext =
            group.encrypt_application(&env, &req.plaintext, &req.authenticated_data)?;
        Ok(proto::ProtectResponse { ciphertext })
    }

    /// RFC 9420 §6.3: the application data and authenticated data of a PrivateMessage of
    /// the current or a retained past epoch.
    pub(crate) fn unprotect(
        &self,
        req: proto::UnprotectRequest,
    ) -> Result<proto::UnprotectResponse, InteropError> {
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let group = &mut store.member_mut(req.state_id)?.group;
        match group.process_message(&env, &req.ciphertext)? {
            ProcessedMessage::Application {
                data,
                authenticated_data,
                ..
            } => Ok(proto::UnprotectResponse {
                authenticated_data,
                plaintext: data,
            }),
            other => Err(InteropError::bad(format!(
                "expected application data, got {}",
                kind_of(&other)
            ))),
        }
    }

    /// RFC 9420 §8.4: stores an external PSK with a group state or a pending joiner.
    pub(crate) fn store_psk(&self, req: proto::StorePskRequest) -> Result<(), InteropError> {
        let mut store = self.store()?;
        let id = req.state_or_transaction_id;
        let secret = Secret::new(req.psk_secret);
        match store.entry_mut(id) {
            Some(Entry::Member(m)) => m.group.add_external_psk(req.psk_id, secret),
            Some(Entry::Joiner(j)) => {
                j.psks.insert(req.psk_id, secret);
            }
            Some(Entry::Reinit(r)) => {
                r.joiner.psks.insert(req.psk_id, secret);
            }
            Some(Entry::Signer(_)) | None => {
                return Err(InteropError::UnknownId {
                    kind: "state or transaction",
                    id,
                });
            }
        }
        Ok(())
    }

    /// Forgets a state (or any other object the client handed out an id for).
    pub(crate) fn free(&self, req: proto::FreeRequest) -> Result<(), InteropError> {
        if self.store()?.remove(req.state_id) {
            Ok(())
        } else {
            Err(InteropError::UnknownId {
                kind: "state",
                id: req.state_id,
            })
        }
    }
}
