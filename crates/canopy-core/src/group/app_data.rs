//! A group's application components (draft-ietf-mls-extensions §Updating Application Data in
//! the GroupContext, §Attaching Application Data to a Commit, §AppAck): the components'
//! data in the GroupContext, the proposals that change it or ride on a commit, and the
//! acknowledgement of the messages received this epoch.

use super::{Env, Group, GroupError};
use crate::codec::VarBytes;
use crate::extensions::media_types::group_media_types;
use crate::extensions::{
    APP_ACK, AppAck, AppDataDictionary, ApplicationFraming, ComponentId, MediaType,
};
use crate::rules::{Rule, Violation};
use crate::wire::{AppDataOp, AppDataUpdate, AppEphemeral, Proposal};

impl Group {
    /// `SafeExportSecret(component)` of the current epoch (draft-ietf-mls-extensions
    /// §Exported Secrets): the leaf of the epoch's Exporter Tree for `component`, a secret of
    /// `KDF.Nh` bytes every member derives alike. It is consumed: the state keeps neither it
    /// nor what it was derived from, so asking again in the same epoch is an error. Persist
    /// the change ([`Group::take_delta`]) before relying on that across restarts.
    ///
    /// # Errors
    /// [`GroupError::SafeExport`] if it was exported already this epoch, or the state was
    /// restored from a format without the Exporter Tree (until the next epoch);
    /// [`GroupError::Crypto`] for an unsupported suite.
    pub fn safe_export_secret(
        &mut self,
        env: &Env<'_>,
        component: ComponentId,
    ) -> Result<canopy_crypto::Secret, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        let secret = self.epoch.exporter.export(ops, component)?;
        self.dirty.meta();
        Ok(secret)
    }

    /// Encrypts `content` of `media_type` as an `ApplicationFraming`
    /// (draft-ietf-mls-extensions §Framing of application_data), the form application data
    /// takes in a group whose GroupContext lists media types; an empty `media_type` means the
    /// group's first one.
    ///
    /// # Errors
    /// As [`Group::encrypt_application`].
    pub fn encrypt_media(
        &mut self,
        env: &Env<'_>,
        media_type: MediaType,
        content: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>, GroupError> {
        let framed = ApplicationFraming::new(media_type, content.to_vec()).to_bytes()?;
        self.encrypt_application(env, &framed, authenticated_data)
    }

    /// The media type and content of received `application_data` framed as an
    /// `ApplicationFraming`: an empty type is the group's first media type.
    ///
    /// # Errors
    /// XT-06 if it is not an `ApplicationFraming`, or the framing's type is empty and the
    /// GroupContext lists no media types.
    pub fn open_media(&self, application_data: &[u8]) -> Result<(MediaType, Vec<u8>), GroupError> {
        let broken = || GroupError::from(Violation::new(Rule::ApplicationFramed));
        let framing = ApplicationFraming::from_bytes(application_data).map_err(|_| broken())?;
        let list = group_media_types(&self.context().extensions)?;
        let media_type = if framing.media_type.media_type.as_slice().is_empty() {
            list.and_then(|l| l.types().first().cloned())
                .ok_or_else(broken)?
        } else {
            framing.media_type
        };
        Ok((media_type, framing.inner_application_content.0))
    }

    /// The GroupContext's `app_data_dictionary` (empty if the group has none).
    ///
    /// # Errors
    /// [`GroupError::Codec`] if the extension does not decode (it was checked when it
    /// entered the GroupContext, so only a corrupted state gets here).
    pub fn app_data(&self) -> Result<AppDataDictionary, GroupError> {
        Ok(self
            .context()
            .extensions
            .typed::<AppDataDictionary>()?
            .unwrap_or_default())
    }

    /// Sends an AppDataUpdate proposal setting `component`'s data through `update`, for its
    /// logic to apply when the proposal is committed.
    ///
    /// # Errors
    /// As [`Group::propose`]: AD-01 for a component the application does not know, AD-06 if
    /// a member does not support AppDataUpdate.
    pub fn propose_app_data_update(
        &mut self,
        env: &Env<'_>,
        component: ComponentId,
        update: Vec<u8>,
    ) -> Result<Vec<u8>, GroupError> {
        self.propose(
            env,
            Proposal::AppDataUpdate(AppDataUpdate {
                component_id: component,
                op: AppDataOp::Update(VarBytes(update)),
            }),
        )
    }

    /// Sends an AppDataUpdate proposal removing `component`'s data.
    ///
    /// # Errors
    /// As [`Group::propose_app_data_update`].
    pub fn propose_app_data_remove(
        &mut self,
        env: &Env<'_>,
        component: ComponentId,
    ) -> Result<Vec<u8>, GroupError> {
        self.propose(
            env,
            Proposal::AppDataUpdate(AppDataUpdate {
                component_id: component,
                op: AppDataOp::Remove,
            }),
        )
    }

    /// Sends an AppEphemeral proposal with `data` for `component`.
    ///
    /// # Errors
    /// As [`Group::propose`]: AE-01, AE-02, AD-06.
    pub fn propose_app_ephemeral(
        &mut self,
        env: &Env<'_>,
        component: ComponentId,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, GroupError> {
        self.propose(
            env,
            Proposal::AppEphemeral(AppEphemeral {
                component_id: component,
                data: VarBytes(data),
            }),
        )
    }

    /// The AppAck of the application messages this member received in the current epoch
    /// (by sender leaf and generation; its own are not included).
    pub fn app_ack(&self) -> AppAck {
        self.acks.to_ack()
    }

    /// Sends [`Self::app_ack`] as an AppEphemeral proposal of the `app_ack` component.
    ///
    /// # Errors
    /// As [`Group::propose_app_ephemeral`].
    pub fn propose_app_ack(&mut self, env: &Env<'_>) -> Result<Vec<u8>, GroupError> {
        let ack = self.app_ack().to_bytes()?;
        self.propose_app_ephemeral(env, APP_ACK, ack)
    }
}
