//! Joining from a Welcome (RFC 9420 §12.4.3.1): the Welcome names the KeyPackage it is for
//! by KeyPackageRef (`secrets[].new_member`); the client finds it among its stored ones,
//! joins with its private keys and the owning identity's signer, and in **one** transaction
//! stores the group and deletes the KeyPackage's private keys (a last-resort KeyPackage,
//! §16.8, is kept).

use std::collections::BTreeMap;

use canopy_core::group::{Group, JoinParams};
use canopy_core::wire::{self, MlsMessage, Welcome};
use canopy_crypto::Secret;
use canopy_store::{Store, Table};

use crate::group_handle::{IndexRow, Slot};
use crate::key_packages::StoredKeyPackage;
use crate::persist::{AppTx, TableOp, write};
use crate::{AppError, Client, ClientError, Incoming};

/// What a join may need besides the Welcome.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct JoinOptions {
    /// The ratchet tree (an encoded RFC 9420 §12.4.3.3 `ratchet_tree`), when the Welcome's
    /// GroupInfo does not carry it.
    pub ratchet_tree: Option<Vec<u8>>,
    /// External PSKs (RFC 9420 §8.4) the Welcome may name, by PSK id.
    pub psks: BTreeMap<Vec<u8>, Secret>,
}

impl JoinOptions {
    /// Options with the ratchet tree `tree`.
    #[must_use]
    pub fn with_ratchet_tree(mut self, tree: Vec<u8>) -> Self {
        self.ratchet_tree = Some(tree);
        self
    }

    /// Options with the external PSK `psk` under `id`.
    #[must_use]
    pub fn with_psk(mut self, id: Vec<u8>, psk: Secret) -> Self {
        self.psks.insert(id, psk);
        self
    }
}

impl<S: Store> Client<S> {
    /// Joins the group of the Welcome `welcome` (an encoded MLSMessage), with `options`, and
    /// runs `app` in the transaction that stores the group and deletes the KeyPackage's
    /// private keys. If anything fails, nothing is stored and the KeyPackage is kept.
    ///
    /// # Errors
    /// [`ClientError::Codec`] or [`ClientError::UnexpectedMessage`] for bytes that are not a
    /// Welcome; [`ClientError::NoMatchingKeyPackage`]; [`ClientError::GroupExists`];
    /// [`ClientError::Group`] for a Welcome the engine rejects (with `MissingPsk` when it
    /// names a PSK not in `options`); [`ClientError::App`], [`ClientError::Store`].
    pub fn join<T>(
        &mut self,
        welcome: &[u8],
        options: &JoinOptions,
        app: impl FnOnce(&Incoming, &mut dyn AppTx) -> Result<T, AppError>,
    ) -> Result<(Incoming, T), ClientError> {
        match MlsMessage::from_bytes_with_limits(welcome, &self.ctx.config.group.limits)? {
            MlsMessage::Welcome(w) => self.join_welcome(&w, options, app),
            _ => Err(ClientError::UnexpectedMessage("not a Welcome")),
        }
    }

    pub(crate) fn join_welcome<T>(
        &mut self,
        welcome: &Welcome,
        options: &JoinOptions,
        app: impl FnOnce(&Incoming, &mut dyn AppTx) -> Result<T, AppError>,
    ) -> Result<(Incoming, T), ClientError> {
        let mut found = None;
        for secrets in welcome.secrets.as_slice() {
            let reference = secrets.new_member.as_slice();
            if let Some(row) = self.store.get(Table::KeyPackage, reference)? {
                found = Some(StoredKeyPackage::from_row(reference, row.as_bytes())?);
                break;
            }
        }
        let stored = found.ok_or(ClientError::NoMatchingKeyPackage)?;
        let (_, signer) = self.signer_for(&stored.info.identity, stored.info.suite)?;
        let tree = options
            .ratchet_tree
            .as_deref()
            .map(|t| wire::RatchetTree::from_bytes_with_limits(t, &self.ctx.config.group.limits))
            .transpose()?;
        let params = JoinParams::new(welcome, &stored.bundle, signer)
            .config(self.ctx.config.group)
            .ratchet_tree(tree)
            .external_psks(&options.psks);
        let mut group = Group::join(&self.ctx.env(), params)?;
        let group_id = group.group_id().to_vec();
        if self.store.get(Table::GroupIndex, &group_id)?.is_some() {
            return Err(ClientError::GroupExists);
        }
        let delta = group.take_delta()?;
        let mut ops = vec![TableOp::Put(
            Table::GroupIndex,
            group_id.clone(),
            IndexRow::member(&stored.info.identity).encode()?,
        )];
        if !stored.info.last_resort {
            ops.push(TableOp::Delete(
                Table::KeyPackage,
                stored.info.reference.as_bytes().to_vec(),
            ));
        }
        let incoming = Incoming::Joined {
            group_id: group_id.clone(),
            epoch: group.epoch(),
            own_leaf: group.own_leaf(),
        };
        let (version, out) = write(&mut self.store, Some((&delta, None)), &ops, |tx| {
            app(&incoming, tx)
        })?;
        let version = version.ok_or(ClientError::Corrupt("no version"))?;
        self.groups.insert(group_id, Slot { group, version });
        Ok((incoming, out))
    }
}
