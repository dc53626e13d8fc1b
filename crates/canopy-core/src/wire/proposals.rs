//! Proposals (RFC 9420 §12.1) and pre-shared key identifiers (§8.4).
//!
//! A [`Proposal`] is a `ProposalType` followed by the body it selects. Only the seven
//! RFC 9420 types can be delimited, so any other type (including GREASE values, which §13.5
//! forbids here) is [`CodecError::InvalidCode`] for [`CodeKind::ProposalType`]. The bodies
//! ([`Add`], [`Update`], ...) also decode on their own, as the `messages` test vectors carry
//! them without the type.
//!
//! Rules that need group state (who may send which type, nonce lengths, reinit/branch usage
//! restrictions) are not checked here.

use std::io::Write;

use canopy_crypto::CipherSuite;
use tls_codec::{DeserializeBytes, Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::extensions::Extensions;
use super::key_package::KeyPackage;
use super::leaf_node::LeafNode;
use super::primitives::{ProposalType, ProtocolVersion, closed_enum};
use crate::codec::{CodeKind, CodecError, VarBytes, charge_box};

closed_enum!(
    /// RFC 9420 §8.4 `PSKType`.
    pub enum PskType: u8, PskType {
        /// `external(1)`: a PSK provisioned by the application.
        External = 1,
        /// `resumption(2)`: the `resumption_psk` of an earlier epoch.
        Resumption = 2,
        /// `application(3)`, draft-ietf-mls-extensions §Pre-Shared Keys: a PSK of an
        /// application component. A `PreSharedKeyID` of this type decodes only with the
        /// `extensions` feature.
        Application = 3,
    }
);

closed_enum!(
    /// RFC 9420 §8.4 `ResumptionPSKUsage`.
    pub enum ResumptionPskUsage: u8, ResumptionPskUsage {
        /// `application(1)`.
        Application = 1,
        /// `reinit(2)`: only valid while reinitializing (§11.2).
        Reinit = 2,
        /// `branch(3)`: only valid while branching (§11.3).
        Branch = 3,
    }
);

/// RFC 9420 §8.4 the `psktype` select of a `PreSharedKeyID`: which PSK is meant.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Psk {
    /// `external`: `opaque psk_id<V>`.
    External {
        /// The application's identifier of the PSK.
        psk_id: VarBytes,
    },
    /// `resumption`: the resumption PSK of `psk_group_id` at `psk_epoch`.
    Resumption {
        /// `ResumptionPSKUsage usage`.
        usage: ResumptionPskUsage,
        /// `opaque psk_group_id<V>`.
        psk_group_id: VarBytes,
        /// `uint64 psk_epoch`.
        psk_epoch: u64,
    },
    /// `application` (draft-ietf-mls-extensions §Pre-Shared Keys): the PSK `psk_id` of the
    /// component `component_id`, whose value the application's
    /// [`AppComponents::psk`](crate::extensions::AppComponents::psk) gives.
    #[cfg(feature = "extensions")]
    Application {
        /// `ComponentID component_id`.
        component_id: u16,
        /// `opaque psk_id<V>`.
        psk_id: VarBytes,
    },
}

impl Psk {
    /// RFC 9420 §8.4: the `psktype` this PSK is encoded with.
    pub fn psk_type(&self) -> PskType {
        match self {
            Self::External { .. } => PskType::External,
            Self::Resumption { .. } => PskType::Resumption,
            #[cfg(feature = "extensions")]
            Self::Application { .. } => PskType::Application,
        }
    }
}

impl Size for Psk {
    fn tls_serialized_len(&self) -> usize {
        let body = match self {
            Self::External { psk_id } => psk_id.tls_serialized_len(),
            Self::Resumption { psk_group_id, .. } => {
                // `usage` (1 byte) and `psk_epoch` (8 bytes) around the group id.
                psk_group_id.tls_serialized_len().saturating_add(9)
            }
            #[cfg(feature = "extensions")]
            Self::Application { psk_id, .. } => psk_id.tls_serialized_len().saturating_add(2),
        };
        body.saturating_add(1)
    }
}

impl Serialize for Psk {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let head = self.psk_type().tls_serialize(writer)?;
        let body = match self {
            Self::External { psk_id } => psk_id.tls_serialize(writer)?,
            Self::Resumption {
                usage,
                psk_group_id,
                psk_epoch,
            } => usage
                .tls_serialize(writer)?
                .saturating_add(psk_group_id.tls_serialize(writer)?)
                .saturating_add(psk_epoch.tls_serialize(writer)?),
            #[cfg(feature = "extensions")]
            Self::Application {
                component_id,
                psk_id,
            } => component_id
                .tls_serialize(writer)?
                .saturating_add(psk_id.tls_serialize(writer)?),
        };
        Ok(head.saturating_add(body))
    }
}

impl DeserializeBytes for Psk {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (psk_type, rest) = PskType::tls_deserialize_bytes(bytes)?;
        match psk_type {
            PskType::External => {
                let (psk_id, rest) = VarBytes::tls_deserialize_bytes(rest)?;
                Ok((Self::External { psk_id }, rest))
            }
            PskType::Resumption => {
                let (usage, rest) = ResumptionPskUsage::tls_deserialize_bytes(rest)?;
                let (psk_group_id, rest) = VarBytes::tls_deserialize_bytes(rest)?;
                let (psk_epoch, rest) = u64::tls_deserialize_bytes(rest)?;
                let psk = Self::Resumption {
                    usage,
                    psk_group_id,
                    psk_epoch,
                };
                Ok((psk, rest))
            }
            #[cfg(feature = "extensions")]
            PskType::Application => {
                let (component_id, rest) = u16::tls_deserialize_bytes(rest)?;
                let (psk_id, rest) = VarBytes::tls_deserialize_bytes(rest)?;
                Ok((
                    Self::Application {
                        component_id,
                        psk_id,
                    },
                    rest,
                ))
            }
            #[cfg(not(feature = "extensions"))]
            PskType::Application => Err(CodecError::InvalidCode {
                kind: CodeKind::PskType,
                value: PskType::Application.value().into(),
            }
            .into_tls_decoding()),
        }
    }
}

/// RFC 9420 §8.4 `PreSharedKeyID`: which PSK, and the fresh nonce it is injected with.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, TlsDeserializeBytes, TlsSerialize, TlsSize,
)]
pub struct PreSharedKeyId {
    /// `PSKType psktype` and its select.
    pub psk: Psk,
    /// `opaque psk_nonce<V>`.
    pub psk_nonce: VarBytes,
}

/// RFC 9420 §12.1.1 `Add`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Add {
    /// `KeyPackage key_package`: the client to add.
    pub key_package: KeyPackage,
}

/// RFC 9420 §12.1.2 `Update`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Update {
    /// `LeafNode leaf_node`: the sender's new leaf.
    pub leaf_node: LeafNode,
}

/// RFC 9420 §12.1.3 `Remove`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Remove {
    /// `uint32 removed`: the leaf index of the member to remove.
    pub removed: u32,
}

/// RFC 9420 §12.1.4 `PreSharedKey`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct PreSharedKey {
    /// `PreSharedKeyID psk`.
    pub psk: PreSharedKeyId,
}

/// RFC 9420 §12.1.5 `ReInit`: the parameters of the group that replaces this one.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ReInit {
    /// `opaque group_id<V>`.
    pub group_id: VarBytes,
    /// `ProtocolVersion version`: may be a version this implementation does not know.
    pub version: ProtocolVersion,
    /// `CipherSuite cipher_suite`.
    #[tls_codec(with = "super::primitives::cipher_suite")]
    pub cipher_suite: CipherSuite,
    /// `Extension extensions<V>`.
    pub extensions: Extensions,
}

/// RFC 9420 §12.1.6 `ExternalInit`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ExternalInit {
    /// `opaque kem_output<V>`: the KEM output of §8.3.
    pub kem_output: VarBytes,
}

/// RFC 9420 §12.1.7 `GroupContextExtensions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct GroupContextExtensions {
    /// `Extension extensions<V>`: the group's complete new extension list.
    pub extensions: Extensions,
}

/// draft-ietf-mls-extensions §SelfRemove: `struct {} SelfRemove`, under the code point it
/// was sent with ([`ProposalType::SELF_REMOVE`] or [`ProposalType::SELF_REMOVE_F003`]).
#[cfg(feature = "extensions")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SelfRemove {
    /// The proposal type it is encoded with.
    pub code: ProposalType,
}

/// draft-ietf-mls-extensions §AppDataUpdate `AppDataUpdateOperation` and the body it
/// selects.
#[cfg(feature = "extensions")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppDataOp {
    /// `update(1)`: `opaque update<V>`, interpreted by the component's application logic.
    Update(VarBytes),
    /// `remove(2)`: the component's entry is removed.
    Remove,
}

/// draft-ietf-mls-extensions §AppDataUpdate: a change to one component's entry of the
/// GroupContext's `app_data_dictionary`.
#[cfg(feature = "extensions")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppDataUpdate {
    /// `ComponentID component_id`.
    pub component_id: u16,
    /// `AppDataUpdateOperation op` and its body.
    pub op: AppDataOp,
}

#[cfg(feature = "extensions")]
impl Size for AppDataUpdate {
    fn tls_serialized_len(&self) -> usize {
        let body = match &self.op {
            AppDataOp::Update(update) => update.tls_serialized_len(),
            AppDataOp::Remove => 0,
        };
        body.saturating_add(3)
    }
}

#[cfg(feature = "extensions")]
impl Serialize for AppDataUpdate {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let mut written = self.component_id.tls_serialize(writer)?;
        match &self.op {
            AppDataOp::Update(update) => {
                written = written.saturating_add(1u8.tls_serialize(writer)?);
                written = written.saturating_add(update.tls_serialize(writer)?);
            }
            AppDataOp::Remove => written = written.saturating_add(2u8.tls_serialize(writer)?),
        }
        Ok(written)
    }
}

#[cfg(feature = "extensions")]
impl DeserializeBytes for AppDataUpdate {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (component_id, rest) = u16::tls_deserialize_bytes(bytes)?;
        let (op, rest) = u8::tls_deserialize_bytes(rest)?;
        let (op, rest) = match op {
            1 => body(rest, AppDataOp::Update)?,
            2 => (AppDataOp::Remove, rest),
            value => {
                return Err(CodecError::InvalidCode {
                    kind: CodeKind::AppDataUpdateOperation,
                    value: value.into(),
                }
                .into_tls_decoding());
            }
        };
        Ok((Self { component_id, op }, rest))
    }
}

/// draft-ietf-mls-extensions §AppEphemeral: application data for one component, bound to
/// the commit that carries it.
#[cfg(feature = "extensions")]
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct AppEphemeral {
    /// `ComponentID component_id`.
    pub component_id: u16,
    /// `opaque data<V>`.
    pub data: VarBytes,
}

/// RFC 9420 §12.1 `Proposal`: a `ProposalType` and the body it selects.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Proposal {
    /// `add` (0x0001).
    Add(Box<Add>),
    /// `update` (0x0002).
    Update(Box<Update>),
    /// `remove` (0x0003).
    Remove(Remove),
    /// `psk` (0x0004).
    PreSharedKey(PreSharedKey),
    /// `reinit` (0x0005).
    ReInit(ReInit),
    /// `external_init` (0x0006).
    ExternalInit(ExternalInit),
    /// `group_context_extensions` (0x0007).
    GroupContextExtensions(GroupContextExtensions),
    /// `self_remove` (draft-ietf-mls-extensions): the sender leaves the group.
    #[cfg(feature = "extensions")]
    SelfRemove(SelfRemove),
    /// `app_data_update` (draft-ietf-mls-extensions, 0x0008).
    #[cfg(feature = "extensions")]
    AppDataUpdate(AppDataUpdate),
    /// `app_ephemeral` (draft-ietf-mls-extensions, 0x0009).
    #[cfg(feature = "extensions")]
    AppEphemeral(AppEphemeral),
}

impl Proposal {
    /// RFC 9420 §12.1: the `proposal_type` this proposal is encoded with.
    pub fn proposal_type(&self) -> ProposalType {
        match self {
            Self::Add(_) => ProposalType::ADD,
            Self::Update(_) => ProposalType::UPDATE,
            Self::Remove(_) => ProposalType::REMOVE,
            Self::PreSharedKey(_) => ProposalType::PSK,
            Self::ReInit(_) => ProposalType::REINIT,
            Self::ExternalInit(_) => ProposalType::EXTERNAL_INIT,
            Self::GroupContextExtensions(_) => ProposalType::GROUP_CONTEXT_EXTENSIONS,
            #[cfg(feature = "extensions")]
            Self::SelfRemove(s) => s.code,
            #[cfg(feature = "extensions")]
            Self::AppDataUpdate(_) => ProposalType::APP_DATA_UPDATE,
            #[cfg(feature = "extensions")]
            Self::AppEphemeral(_) => ProposalType::APP_EPHEMERAL,
        }
    }
}

impl Size for Proposal {
    fn tls_serialized_len(&self) -> usize {
        let body = match self {
            Self::Add(p) => p.tls_serialized_len(),
            Self::Update(p) => p.tls_serialized_len(),
            Self::Remove(p) => p.tls_serialized_len(),
            Self::PreSharedKey(p) => p.tls_serialized_len(),
            Self::ReInit(p) => p.tls_serialized_len(),
            Self::ExternalInit(p) => p.tls_serialized_len(),
            Self::GroupContextExtensions(p) => p.tls_serialized_len(),
            #[cfg(feature = "extensions")]
            Self::SelfRemove(_) => 0,
            #[cfg(feature = "extensions")]
            Self::AppDataUpdate(p) => p.tls_serialized_len(),
            #[cfg(feature = "extensions")]
            Self::AppEphemeral(p) => p.tls_serialized_len(),
        };
        body.saturating_add(2)
    }
}

impl Serialize for Proposal {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let head = self.proposal_type().tls_serialize(writer)?;
        let body = match self {
            Self::Add(p) => p.tls_serialize(writer)?,
            Self::Update(p) => p.tls_serialize(writer)?,
            Self::Remove(p) => p.tls_serialize(writer)?,
            Self::PreSharedKey(p) => p.tls_serialize(writer)?,
            Self::ReInit(p) => p.tls_serialize(writer)?,
            Self::ExternalInit(p) => p.tls_serialize(writer)?,
            Self::GroupContextExtensions(p) => p.tls_serialize(writer)?,
            #[cfg(feature = "extensions")]
            Self::SelfRemove(_) => 0,
            #[cfg(feature = "extensions")]
            Self::AppDataUpdate(p) => p.tls_serialize(writer)?,
            #[cfg(feature = "extensions")]
            Self::AppEphemeral(p) => p.tls_serialize(writer)?,
        };
        Ok(head.saturating_add(body))
    }
}

/// Decodes a `T` and wraps it with `wrap`.
fn body<T: DeserializeBytes, U>(
    bytes: &[u8],
    wrap: impl FnOnce(T) -> U,
) -> Result<(U, &[u8]), tls_codec::Error> {
    let (value, rest) = T::tls_deserialize_bytes(bytes)?;
    Ok((wrap(value), rest))
}

impl DeserializeBytes for Proposal {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (proposal_type, rest) = ProposalType::tls_deserialize_bytes(bytes)?;
        match proposal_type {
            ProposalType::ADD => {
                charge_box::<Add>()?;
                body(rest, |p| Self::Add(Box::new(p)))
            }
            ProposalType::UPDATE => {
                charge_box::<Update>()?;
                body(rest, |p| Self::Update(Box::new(p)))
            }
            ProposalType::REMOVE => body(rest, Self::Remove),
            ProposalType::PSK => body(rest, Self::PreSharedKey),
            ProposalType::REINIT => body(rest, Self::ReInit),
            ProposalType::EXTERNAL_INIT => body(rest, Self::ExternalInit),
            ProposalType::GROUP_CONTEXT_EXTENSIONS => body(rest, Self::GroupContextExtensions),
            #[cfg(feature = "extensions")]
            code @ (ProposalType::SELF_REMOVE | ProposalType::SELF_REMOVE_F003) => {
                Ok((Self::SelfRemove(SelfRemove { code }), rest))
            }
            #[cfg(feature = "extensions")]
            ProposalType::APP_DATA_UPDATE => body(rest, Self::AppDataUpdate),
            #[cfg(feature = "extensions")]
            ProposalType::APP_EPHEMERAL => body(rest, Self::AppEphemeral),
            ProposalType(value) => Err(CodecError::InvalidCode {
                kind: CodeKind::ProposalType,
                value,
            }
            .into_tls_decoding()),
        }
    }
}

/// RFC 9420 §12.4 `ProposalOrRef`: a proposal in a Commit, by value or by reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalOrRef {
    /// `proposal(1)`: the proposal itself.
    Proposal(Proposal),
    /// `reference(2)`: `ProposalRef reference`, the §5.2 hash of the AuthenticatedContent that
    /// carried the proposal (`opaque HashReference<V>`).
    Reference(VarBytes),
}

impl Size for ProposalOrRef {
    fn tls_serialized_len(&self) -> usize {
        let body = match self {
            Self::Proposal(p) => p.tls_serialized_len(),
            Self::Reference(r) => r.tls_serialized_len(),
        };
        body.saturating_add(1)
    }
}

impl Serialize for ProposalOrRef {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        let (head, body) = match self {
            Self::Proposal(p) => (1u8.tls_serialize(writer)?, p.tls_serialize(writer)?),
            Self::Reference(r) => (2u8.tls_serialize(writer)?, r.tls_serialize(writer)?),
        };
        Ok(head.saturating_add(body))
    }
}

impl DeserializeBytes for ProposalOrRef {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (kind, rest) = u8::tls_deserialize_bytes(bytes)?;
        match kind {
            1 => body(rest, Self::Proposal),
            2 => body(rest, Self::Reference),
            value => Err(CodecError::InvalidCode {
                kind: CodeKind::ProposalOrRefType,
                value: u16::from(value),
            }
            .into_tls_decoding()),
        }
    }
}
