//! Becoming a member (RFC 9420 §11, §12.4.3): `CreateGroup`, `CreateKeyPackage`,
//! `JoinGroup`, `ExternalJoin`, and the client's description (`Name`,
//! `SupportedCiphersuites`).

use canopy_core::group::CreateParams;
use canopy_core::group::JoinParams;
use std::collections::BTreeMap;
use std::sync::Arc;

use canopy_core::group::Group;
use canopy_core::wire::MlsMessage;
use canopy_crypto::{CryptoProvider, Secret, Signer};

use crate::client::{ANY, CanopyClient, config, now};
use crate::convert;
use crate::error::InteropError;
use crate::proto;
use crate::state::{Entry, Joiner, Member};

/// The name this client reports.
pub const NAME: &str = "Canopy";

impl CanopyClient {
    pub(crate) fn supported_ciphersuites(&self) -> proto::SupportedCiphersuitesResponse {
        proto::SupportedCiphersuitesResponse {
            ciphersuites: self
                .provider
                .supported()
                .iter()
                .map(|s| u32::from(s.0))
                .collect(),
        }
    }

    /// RFC 9420 §11: a one-member group.
    pub(crate) fn create_group(
        &self,
        req: proto::CreateGroupRequest,
    ) -> Result<proto::CreateGroupResponse, InteropError> {
        let suite = convert::suite(req.cipher_suite)?;
        let env = self.env(&ANY);
        let signer: Arc<dyn Signer> =
            Arc::new(self.provider.suite(suite)?.signature_generate_key_pair()?);
        let group = Group::create(
            &env,
            CreateParams::new(
                suite,
                req.group_id,
                &convert::leaf(&req.identity, suite),
                signer.clone(),
            )
            .config(config(req.encrypt_handshake)),
        )?;
        let member = Member::new(group, req.identity, signer);
        let state_id = self.store()?.insert_member(member)?;
        Ok(proto::CreateGroupResponse { state_id })
    }

    /// RFC 9420 §10: a KeyPackage, kept with its private keys until the Welcome.
    pub(crate) fn create_key_package(
        &self,
        req: proto::CreateKeyPackageRequest,
    ) -> Result<proto::CreateKeyPackageResponse, InteropError> {
        let suite = convert::suite(req.cipher_suite)?;
        let (bundle, signer) =
            convert::new_key_package(&self.provider, suite, &req.identity, now())?;
        let key_package =
            convert::encode(MlsMessage::KeyPackage(Box::new(bundle.key_package.clone())))?;
        let signature_priv = signer.private.as_bytes().to_vec();
        let response = |transaction_id| proto::CreateKeyPackageResponse {
            transaction_id,
            key_package,
            init_priv: bundle.init_private.as_bytes().to_vec(),
            encryption_priv: bundle.encryption_private.as_bytes().to_vec(),
            signature_priv,
        };
        let joiner = Joiner {
            bundle: bundle.clone(),
            signer: Arc::new(signer),
            identity: req.identity,
            psks: BTreeMap::new(),
        };
        let id = self.store()?.insert(Entry::Joiner(Box::new(joiner)))?;
        Ok(response(id))
    }

    /// RFC 9420 §12.4.3.1: joins from a Welcome with the KeyPackage of `transaction_id`
    /// and the PSKs stored for it, the ratchet tree from the Welcome or `ratchet_tree`.
    pub(crate) fn join_group(
        &self,
        req: proto::JoinGroupRequest,
    ) -> Result<proto::JoinGroupResponse, InteropError> {
        let welcome = convert::welcome(&req.welcome)?;
        let tree = convert::ratchet_tree(&req.ratchet_tree)?;
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let joiner = store.joiner(req.transaction_id)?;
        let group = Group::join(
            &env,
            JoinParams::new(&welcome, &joiner.bundle, joiner.signer.clone())
                .config(config(req.encrypt_handshake))
                .ratchet_tree(tree)
                .external_psks(&joiner.psks),
        )?;
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        let member = Member::new(group, joiner.identity.clone(), joiner.signer.clone());
        let state_id = store.insert_member(member)?;
        Ok(proto::JoinGroupResponse {
            state_id,
            epoch_authenticator,
        })
    }

    /// RFC 9420 §12.4.3.2: joins with an external commit, removing our prior leaf (found by
    /// identity) if asked, and injecting the given external PSKs.
    pub(crate) fn external_join(
        &self,
        req: proto::ExternalJoinRequest,
    ) -> Result<proto::ExternalJoinResponse, InteropError> {
        let info = convert::group_info(&req.group_info)?;
        let suite = info.group_context.cipher_suite;
        let tree = convert::tree_of(&info, &req.ratchet_tree)?;
        let resync = if req.remove_prior {
            Some(convert::member_leaf(tree.nodes(), &req.identity)?)
        } else {
            None
        };
        let mut psks = Vec::with_capacity(req.psks.len());
        for psk in &req.psks {
            let id = convert::external_psk(&self.provider, suite, &psk.psk_id)?;
            psks.push((id, Secret::new(psk.psk_secret.clone())));
        }
        let env = self.env(&ANY);
        let signer: Arc<dyn Signer> =
            Arc::new(self.provider.suite(suite)?.signature_generate_key_pair()?);
        let (mut group, commit) = Group::join_external(
            &env,
            config(req.encrypt_handshake),
            &info,
            Some(tree),
            &convert::leaf(&req.identity, suite),
            signer.clone(),
            resync,
            &psks,
        )?;
        for psk in req.psks {
            group.add_external_psk(psk.psk_id, Secret::new(psk.psk_secret));
        }
        let epoch_authenticator = group.epoch_authenticator().to_vec();
        let member = Member::new(group, req.identity, signer);
        let state_id = self.store()?.insert_member(member)?;
        Ok(proto::ExternalJoinResponse {
            state_id,
            commit,
            epoch_authenticator,
        })
    }
}
