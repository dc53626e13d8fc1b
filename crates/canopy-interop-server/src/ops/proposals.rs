//! Members' proposals (RFC 9420 §12.1): `AddProposal`, `UpdateProposal`, `RemoveProposal`,
//! `ExternalPSKProposal`, `ResumptionPSKProposal`, `GroupContextExtensionsProposal`,
//! `ReInitProposal`, `AddExternalSigner`; and the runner's `ProposalDescription`s, turned
//! into proposals for commits by value and for external senders.

use canopy_core::advanced::codec::VarBytes;
use canopy_core::group::Group;
use canopy_core::wire::{
    self, Add, ExtensionView, Extensions, ExternalSender, ExternalSenders, GroupContextExtensions,
    PreSharedKey, PreSharedKeyId, Proposal, ProtocolVersion, ReInit, Remove,
};
use canopy_crypto::{CipherSuite, CryptoProvider};

use crate::client::{ANY, CanopyClient};
use crate::convert;
use crate::error::InteropError;
use crate::proto;

/// What a proposal description is resolved against: the group's id, suite and tree, as a
/// member has them or as a GroupInfo shows them to an external sender.
pub(crate) struct ProposalContext<'a> {
    pub(crate) group_id: &'a [u8],
    pub(crate) suite: CipherSuite,
    /// The tree's nodes in array order.
    pub(crate) nodes: Vec<Option<&'a wire::Node>>,
}

impl<'a> ProposalContext<'a> {
    /// The context of a member's `group`.
    pub(crate) fn of(group: &'a Group) -> Self {
        Self {
            group_id: group.group_id(),
            suite: group.cipher_suite(),
            nodes: group.tree().nodes().iter().map(Option::as_ref).collect(),
        }
    }
}

/// The proposal a runner's description asks for. `reinit` is allowed only where
/// `allow_reinit` (external senders; a member proposes a ReInit with `ReInitProposal`).
pub(crate) fn describe(
    crypto: &dyn CryptoProvider,
    context: &ProposalContext<'_>,
    description: &proto::ProposalDescription,
    allow_reinit: bool,
) -> Result<Proposal, InteropError> {
    let d = description;
    Ok(match d.proposal_type.as_slice() {
        b"add" => Proposal::Add(Box::new(Add {
            key_package: convert::key_package(&d.key_package)?,
        })),
        b"remove" => Proposal::Remove(Remove {
            removed: convert::member_leaf(context.nodes.iter().copied(), &d.removed_id)?.value(),
        }),
        b"externalPSK" => psk(convert::external_psk(crypto, context.suite, &d.psk_id)?),
        b"resumptionPSK" => psk(convert::resumption_psk(
            crypto,
            context.suite,
            context.group_id,
            d.epoch_id,
        )?),
        b"groupContextExtensions" => Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions: convert::extensions(&d.extensions)?,
        }),
        b"reinit" if allow_reinit => Proposal::ReInit(ReInit {
            group_id: VarBytes(d.group_id.clone()),
            version: ProtocolVersion::MLS10,
            cipher_suite: convert::suite(d.cipher_suite)?,
            extensions: convert::extensions(&d.extensions)?,
        }),
        other => {
            return Err(InteropError::bad(format!(
                "unsupported proposal type {:?} here",
                String::from_utf8_lossy(other)
            )));
        }
    })
}

fn psk(psk: PreSharedKeyId) -> Proposal {
    Proposal::PreSharedKey(PreSharedKey { psk })
}

/// RFC 9420 §12.1.8.1: `extensions` with `sender` appended to its `external_senders` list
/// (created if absent).
pub(crate) fn with_external_sender(
    extensions: &Extensions,
    sender: ExternalSender,
) -> Result<Extensions, InteropError> {
    let mut senders: Vec<ExternalSender> = extensions
        .typed::<ExternalSenders>()?
        .map(|s| s.senders.0)
        .unwrap_or_default();
    senders.push(sender);
    let updated = ExternalSenders {
        senders: senders.into(),
    }
    .to_extension()?;
    let mut list: Vec<wire::Extension> = extensions
        .as_slice()
        .iter()
        .filter(|e| e.extension_type != ExternalSenders::EXTENSION_TYPE)
        .cloned()
        .collect();
    list.push(updated);
    Ok(Extensions::new(list)?)
}

impl CanopyClient {
    /// Sends `proposal` from the member `state_id` and remembers it for the commit.
    fn propose(&self, state_id: u32, proposal: Proposal) -> Result<Vec<u8>, InteropError> {
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let member = store.member_mut(state_id)?;
        let message = member.group.propose(&env, proposal.clone())?;
        member.sent(&message, proposal);
        Ok(message)
    }

    /// A proposal described by `description`, resolved in the member's group.
    fn propose_described(
        &self,
        state_id: u32,
        description: &proto::ProposalDescription,
    ) -> Result<proto::ProposalResponse, InteropError> {
        let proposal = {
            let store = self.store()?;
            let group = &store.member(state_id)?.group;
            describe(
                &self.provider,
                &ProposalContext::of(group),
                description,
                false,
            )?
        };
        let proposal = self.propose(state_id, proposal)?;
        Ok(proto::ProposalResponse { proposal })
    }

    /// RFC 9420 §12.1.1.
    pub(crate) fn add_proposal(
        &self,
        req: proto::AddProposalRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        self.propose_described(
            req.state_id,
            &proto::ProposalDescription {
                proposal_type: b"add".to_vec(),
                key_package: req.key_package,
                ..Default::default()
            },
        )
    }

    /// RFC 9420 §12.1.2: a new leaf with a fresh encryption key.
    pub(crate) fn update_proposal(
        &self,
        req: proto::UpdateProposalRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        let env = self.env(&ANY);
        let mut store = self.store()?;
        let member = store.member_mut(req.state_id)?;
        let proposal = member.group.propose_update(&env, None)?;
        // The runner passes our Update back when it is committed; what it proposed is in
        // the message, which we cannot decrypt (PrivateMessage) but have sent.
        let sender = wire::Sender::Member(member.group.own_leaf().value());
        let update = member
            .group
            .pending_proposals()
            .filter(|(s, p)| **s == sender && matches!(p, Proposal::Update(_)))
            .map(|(_, p)| p.clone())
            .last()
            .ok_or(InteropError::Group(
                canopy_core::group::GroupError::Internal("our Update is not cached"),
            ))?;
        member.sent(&proposal, update);
        Ok(proto::ProposalResponse { proposal })
    }

    /// RFC 9420 §12.1.3: removes the member with basic identity `removed_id`.
    pub(crate) fn remove_proposal(
        &self,
        req: proto::RemoveProposalRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        self.propose_described(
            req.state_id,
            &proto::ProposalDescription {
                proposal_type: b"remove".to_vec(),
                removed_id: req.removed_id,
                ..Default::default()
            },
        )
    }

    /// RFC 9420 §12.1.4: an external PSK.
    pub(crate) fn external_psk_proposal(
        &self,
        req: proto::ExternalPskProposalRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        self.propose_described(
            req.state_id,
            &proto::ProposalDescription {
                proposal_type: b"externalPSK".to_vec(),
                psk_id: req.psk_id,
                ..Default::default()
            },
        )
    }

    /// RFC 9420 §12.1.4: the resumption PSK of this group's epoch `epoch_id`.
    pub(crate) fn resumption_psk_proposal(
        &self,
        req: proto::ResumptionPskProposalRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        self.propose_described(
            req.state_id,
            &proto::ProposalDescription {
                proposal_type: b"resumptionPSK".to_vec(),
                epoch_id: req.epoch_id,
                ..Default::default()
            },
        )
    }

    /// RFC 9420 §12.1.7: replaces the GroupContext extensions.
    pub(crate) fn group_context_extensions_proposal(
        &self,
        req: proto::GroupContextExtensionsProposalRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        self.propose_described(
            req.state_id,
            &proto::ProposalDescription {
                proposal_type: b"groupContextExtensions".to_vec(),
                extensions: req.extensions,
                ..Default::default()
            },
        )
    }

    /// RFC 9420 §12.1.5: ends the group in favour of one with `group_id`, `cipher_suite`
    /// and `extensions`.
    pub(crate) fn reinit_proposal(
        &self,
        req: proto::ReInitProposalRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        let proposal = Proposal::ReInit(ReInit {
            group_id: VarBytes(req.group_id),
            version: ProtocolVersion::MLS10,
            cipher_suite: convert::suite(req.cipher_suite)?,
            extensions: convert::extensions(&req.extensions)?,
        });
        let proposal = self.propose(req.state_id, proposal)?;
        Ok(proto::ProposalResponse { proposal })
    }

    /// RFC 9420 §12.1.7, §12.1.8.1: a GroupContextExtensions proposal that adds
    /// `external_sender` to the group's `external_senders`.
    pub(crate) fn add_external_signer(
        &self,
        req: proto::AddExternalSignerRequest,
    ) -> Result<proto::ProposalResponse, InteropError> {
        let sender: ExternalSender =
            canopy_core::advanced::codec::decode_exact(&req.external_sender).map_err(|e| {
                InteropError::bad(format!("external_sender is not an ExternalSender: {e}"))
            })?;
        let extensions = {
            let store = self.store()?;
            let group = &store.member(req.state_id)?.group;
            with_external_sender(&group.context().extensions, sender)?
        };
        let proposal = self.propose(
            req.state_id,
            Proposal::GroupContextExtensions(GroupContextExtensions { extensions }),
        )?;
        Ok(proto::ProposalResponse { proposal })
    }
}
