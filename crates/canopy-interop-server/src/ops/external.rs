//! Proposals from outside the group (RFC 9420 §12.1.8): `NewMemberAddProposal` (a joiner's
//! self-signed Add), `CreateExternalSigner` and `ExternalSignerProposal` (an external
//! sender listed in the group's `external_senders`).
//!
//! Both are PublicMessages without a membership tag (§6.2), signed over a FramedContentTBS
//! without the GroupContext (§6.1), built with Canopy's framing functions.

use std::collections::BTreeMap;

use canopy_core::advanced::codec::VarBytes;
use canopy_core::advanced::framing::{protect_public, sign_content};
use canopy_core::wire::{
    Add, ExternalSender, ExternalSenders, FramedContent, FramedContentBody, GroupInfo, MlsMessage,
    Proposal, Sender, WireFormat,
};
use std::sync::Arc;

use canopy_crypto::{CryptoProvider, Signer};

use super::proposals::{ProposalContext, describe};
use crate::client::{CanopyClient, now};
use crate::convert;
use crate::error::InteropError;
use crate::proto;
use crate::state::{Entry, ExternalSigner, Joiner};

/// A proposal from `sender` to the group of `info`, signed with `signer`, as an encoded
/// PublicMessage.
fn external_proposal(
    crypto: &dyn CryptoProvider,
    info: &GroupInfo,
    sender: Sender,
    proposal: Proposal,
    signer: &dyn Signer,
) -> Result<Vec<u8>, InteropError> {
    let context = &info.group_context;
    let ops = crypto.suite(context.cipher_suite)?;
    let content = FramedContent {
        group_id: context.group_id.clone(),
        epoch: context.epoch,
        sender,
        authenticated_data: VarBytes(Vec::new()),
        body: FramedContentBody::Proposal(proposal),
    };
    let signed = sign_content(ops, WireFormat::PublicMessage, content, signer, None)
        .map_err(canopy_core::group::GroupError::from)?;
    let message =
        protect_public(ops, signed, context, None).map_err(canopy_core::group::GroupError::from)?;
    convert::encode(MlsMessage::PublicMessage(Box::new(message)))
}

impl CanopyClient {
    /// RFC 9420 §12.1.8: a KeyPackage for the group of `group_info` and a
    /// `new_member_proposal` Add of it; the joiner waits for the Welcome under the returned
    /// transaction id.
    pub(crate) fn new_member_add_proposal(
        &self,
        req: proto::NewMemberAddProposalRequest,
    ) -> Result<proto::NewMemberAddProposalResponse, InteropError> {
        let info = convert::group_info(&req.group_info)?;
        let suite = info.group_context.cipher_suite;
        let (bundle, signer) =
            convert::new_key_package(&self.provider, suite, &req.identity, now())?;
        let proposal = external_proposal(
            &self.provider,
            &info,
            Sender::NewMemberProposal,
            Proposal::Add(Box::new(Add {
                key_package: bundle.key_package.clone(),
            })),
            &signer,
        )?;
        let init_priv = bundle.init_private.as_bytes().to_vec();
        let encryption_priv = bundle.encryption_private.as_bytes().to_vec();
        let signature_priv = signer.private.as_bytes().to_vec();
        let joiner = Joiner {
            bundle,
            signer: Arc::new(signer),
            identity: req.identity,
            psks: BTreeMap::new(),
        };
        let transaction_id = self.store()?.insert(Entry::Joiner(Box::new(joiner)))?;
        Ok(proto::NewMemberAddProposalResponse {
            transaction_id,
            proposal,
            init_priv,
            encryption_priv,
            signature_priv,
        })
    }

    /// RFC 9420 §12.1.8.1: a signature key and basic credential for an external sender.
    pub(crate) fn create_external_signer(
        &self,
        req: proto::CreateExternalSignerRequest,
    ) -> Result<proto::CreateExternalSignerResponse, InteropError> {
        let suite = convert::suite(req.cipher_suite)?;
        let key = self.provider.suite(suite)?.signature_generate_key_pair()?;
        let sender = ExternalSender {
            signature_key: key.public.clone(),
            credential: convert::credential(&req.identity),
        };
        let external_sender = canopy_core::advanced::codec::encode(&sender)?;
        let signer_id = self
            .store()?
            .insert(Entry::Signer(Box::new(ExternalSigner {
                suite,
                signer: Arc::new(key.clone()),
                public: key.public,
            })))?;
        Ok(proto::CreateExternalSignerResponse {
            signer_id,
            external_sender,
        })
    }

    /// RFC 9420 §12.1.8.1: a proposal from the external sender `signer_id` to the group of
    /// `group_info`. Its `sender_index` is the signer's position in the group's
    /// `external_senders` (found by its key; `signer_index` if the key is not listed).
    pub(crate) fn external_signer_proposal(
        &self,
        req: proto::ExternalSignerProposalRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        let info = convert::group_info(&req.group_info)?;
        let tree = convert::tree_of(&info, &req.ratchet_tree)?;
        let description = req
            .description
            .ok_or_else(|| InteropError::bad("no proposal description"))?;
        let store = self.store()?;
        let signer = store.signer(req.signer_id)?;
        let context = &info.group_context;
        if signer.suite != context.cipher_suite {
            return Err(InteropError::bad(format!(
                "the signer is for cipher suite {}, the group uses {}",
                signer.suite.0, context.cipher_suite.0
            )));
        }
        let index = context
            .extensions
            .typed::<ExternalSenders>()?
            .and_then(|s| {
                s.senders
                    .as_slice()
                    .iter()
                    .position(|e| e.signature_key == signer.public)
            })
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(req.signer_index);
        let proposal = describe(
            &self.provider,
            &ProposalContext {
                group_id: context.group_id.as_slice(),
                suite: context.cipher_suite,
                nodes: tree.nodes().collect(),
            },
            &description,
            true,
        )?;
        let proposal = external_proposal(
            &self.provider,
            &info,
            Sender::External(index),
            proposal,
            signer.signer.as_ref(),
        )?;
        Ok(proto::ProposalResponse { proposal })
    }
}
