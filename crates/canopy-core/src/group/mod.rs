//! The group engine (RFC 9420 §8-§12): a member's view of one group, and every operation that
//! moves it from epoch to epoch.
//!
//! ```text
//!   Group::create ──────────────┐
//!   Group::join(Welcome) ───────┤
//!                               v
//!                      ┌──── Group (epoch n) ◄────────────────────────────┐
//!                      │     │  encrypt_application ─> PrivateMessage    │
//!                      │     │  propose_* ─────────> PublicMessage /     │
//!                      │     │                      PrivateMessage       │
//!     process_message ─┤     │                                            │
//!                      │     └─ commit(CommitOptions) ─> CommitOutput     │
//!                      │          (commit + Welcome), commit pending ──┐ │
//!                      v                                                v │
//!   Application / Proposal (cached) / Commit(StagedCommit) / OwnCommit    │
//!                      │                                      │           │
//!                      └── merge_staged_commit(staged) ───────┴── merge_pending_commit
//!                              (or drop it)                       (or discard_pending_commit)
//! ```
//!
//! Processing never changes the group until the caller merges: a commit comes back as a
//! [`StagedCommit`] that can be inspected ([`StagedCommit::summary`]) and then merged with
//! [`Group::merge_staged_commit`] or dropped. The group's own commit waits in the group as a
//! pending commit until the Delivery Service accepts it ([`Group::merge_pending_commit`], also
//! triggered by recognising its echo) or rejects it ([`Group::discard_pending_commit`]).
//!
//! Within an epoch, decrypting and caching (application messages, proposals) take `&mut self`
//! and are all-or-nothing: an error leaves the group exactly as it was.
//!
//! Costs: a commit touches O(log n) tree nodes plus the nodes its proposals change; no
//! operation clones the tree or walks all members except where the RFC requires it (a
//! Welcome's tree, a new member's credential-type check against every member).

#[cfg(feature = "extensions")]
mod app_data;
mod batch;
mod commit;
mod error;
mod external;
#[cfg(test)]
pub(crate) mod forge;
mod join;
mod params;
mod policy;
mod process;
mod proposals;
mod records;
mod roster;
#[cfg(feature = "extensions")]
mod safe;
mod stage;
mod state;
mod successor;
mod transition;

#[cfg(test)]
pub(crate) mod test_world;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use std::collections::{BTreeMap, VecDeque};
use std::sync::OnceLock;

use canopy_crypto::{CipherSuite, CryptoProvider, Secret, SignaturePublicKey, Signer, SuiteOps};

pub use commit::{CommitOptions, CommitOutput};
pub use error::GroupError;
pub(crate) use join::{group_info_signer, received_tree};
pub use params::{CreateParams, JoinParams};
pub use policy::{DefaultPolicy, IncludeAll, PolicyRefusal, ProposalInfo, ProposalPolicy};
pub(crate) use process::sender_key_with;
pub use process::{CommitSummary, Merged, ProcessedMessage, StagedCommit};
pub use proposals::LeftOut;
#[cfg(feature = "extensions")]
pub(crate) use proposals::self_remove_received;
pub(crate) use proposals::{CachedProposal, accept_received};
pub use records::{Change, RecordKey, RecordKind, StateDelta};
pub use roster::{Member, MembershipStatus};
pub(crate) use roster::{member_of, members_of};
#[cfg(feature = "extensions")]
pub use stage::ReceivedEphemeral;
pub(crate) use stage::{committer_of, receive_and_seal, start_commit};
pub use state::STATE_FORMAT_VERSION;
pub(crate) use transition::{Base, Transcript, commit_transcript_hash};

use crate::codec::{Limits, VarBytes};
use crate::framing::Padding;
use crate::key_package::{
    CredentialValidator, GroupRequirements, LifetimePolicy, NewLeafSource, generate_leaf_node,
};
use crate::rules::leaf::CredentialTypes;
use crate::rules::{Rule, Violation};
use crate::schedule::{EpochSecrets, OutOfOrderPolicy, SecretTree, interim_transcript_hash};
use crate::tree::math::LeafIndex;
use crate::tree::{PrivateTree, RatchetTree, TreeChecks, TreeRead};
use crate::wire::{
    self, Credential, ExtensionView, Extensions, GroupContext, PreSharedKeyId, ProtocolVersion,
    Psk, ResumptionPskUsage,
};

/// What every group operation needs from its caller: the crypto provider (which is also the
/// source of randomness), the application's credential validator and proposal policy, and
/// the current time.
///
/// ```
/// # use canopy_core::group::Env;
/// # use canopy_core::key_package::BasicCredentialValidator;
/// # use canopy_crypto_rustcrypto::RustCryptoProvider;
/// let provider = RustCryptoProvider::new();
/// let validator = BasicCredentialValidator::new();
/// let env = Env::new(&provider, &validator).at(1_700_000_000);
/// assert_eq!(env.now, Some(1_700_000_000));
/// ```
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The crypto provider.
    pub crypto: &'a dyn CryptoProvider,
    /// Decides whether credentials are acceptable (RFC 9420 §5.3.1).
    pub credentials: &'a dyn CredentialValidator,
    /// The application's rules for proposals (RFC 9420 §12.2, §12.4); [`DefaultPolicy`] by
    /// default.
    pub policy: &'a dyn ProposalPolicy,
    /// The current time in seconds since the Unix epoch, for lifetime checks (RFC 9420
    /// §7.2); `None` skips them (and [`Group::create`] then refuses to run: its leaf needs a
    /// lifetime).
    pub now: Option<u64>,
    /// The application's components (draft-ietf-mls-extensions §AppDataUpdate,
    /// §AppEphemeral); none by default.
    #[cfg(feature = "extensions")]
    pub components: &'a dyn crate::extensions::AppComponents,
}

impl<'a> Env<'a> {
    /// An environment with `crypto`, `credentials`, the [`DefaultPolicy`] and no clock.
    pub fn new(crypto: &'a dyn CryptoProvider, credentials: &'a dyn CredentialValidator) -> Self {
        Self {
            crypto,
            credentials,
            policy: &policy::DEFAULT_POLICY,
            now: None,
            #[cfg(feature = "extensions")]
            components: &crate::extensions::registry::NO_COMPONENTS,
        }
    }

    /// The same environment at time `now` (seconds since the Unix epoch).
    #[must_use]
    pub fn at(self, now: u64) -> Self {
        Self {
            now: Some(now),
            ..self
        }
    }

    /// The same environment with the application's proposal `policy`.
    #[must_use]
    pub fn with_policy(self, policy: &'a dyn ProposalPolicy) -> Self {
        Self { policy, ..self }
    }

    /// The same environment with the application's `components`.
    #[cfg(feature = "extensions")]
    #[must_use]
    pub fn with_components(self, components: &'a dyn crate::extensions::AppComponents) -> Self {
        Self { components, ..self }
    }

    pub(crate) fn ops(&self, suite: CipherSuite) -> Result<&'a dyn SuiteOps, GroupError> {
        self.crypto
            .suite(suite)
            .map_err(|e| GroupError::Crypto(e.into()))
    }

    /// How leaf lifetimes are checked in a group with `config` (RFC 9420 §7.2, §7.3).
    pub(crate) fn lifetime(&self, config: &GroupConfig) -> LifetimePolicy {
        LifetimePolicy {
            now: self.now,
            max_total: config.max_leaf_lifetime,
        }
    }

    /// What a tree received for the group of `context` is validated against.
    fn tree_checks<'c>(
        &'c self,
        config: &GroupConfig,
        context: &'c GroupContext,
    ) -> TreeChecks<'c> {
        TreeChecks {
            group_id: context.group_id.as_slice(),
            group: GroupRequirements::from_context(context).with_provider(self.crypto),
            lifetime: self.lifetime(config),
            validator: self.credentials,
        }
    }

    fn random(&self, len: usize) -> Result<Vec<u8>, GroupError> {
        let mut out = vec![0u8; len];
        self.crypto
            .fill_random(&mut out)
            .map_err(|e| GroupError::Crypto(e.into()))?;
        Ok(out)
    }
}

/// How the group's own messages are framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HandshakeFormat {
    /// Proposals and commits as PublicMessage (a Delivery Service can read and check them).
    #[default]
    Public,
    /// Proposals and commits as PrivateMessage.
    Private,
}

/// A member's configuration of a group. None of it is shared with other members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupConfig {
    /// How our proposals and commits are framed.
    pub handshake: HandshakeFormat,
    /// Padding of our PrivateMessages.
    pub padding: Padding,
    /// How far out of order PrivateMessages may arrive (RFC 9420 §9.2).
    pub out_of_order: OutOfOrderPolicy,
    /// How many past epochs keep their keys for late application messages, and their
    /// resumption PSK for resumption and branching (RFC 9420 §8.6, §11).
    pub past_epochs: usize,
    /// Whether our Welcomes carry the ratchet tree in the GroupInfo (RFC 9420 §12.4.3.3).
    pub ratchet_tree_in_welcome: bool,
    /// Whether our GroupInfos carry the `external_pub` extension, so that anyone holding one
    /// can join externally (RFC 9420 §12.4.3.2).
    pub external_pub: bool,
    /// The longest total lifetime (`not_after - not_before`, seconds) a `key_package` leaf may
    /// have to be accepted in this group (RFC 9420 §7.2: "Applications MUST define a maximum
    /// total lifetime"); `None` accepts any. Checked in KeyPackages to add, in Updates and
    /// commits, and in the trees of Welcomes and GroupInfos.
    pub max_leaf_lifetime: Option<u64>,
    /// The lifetime (seconds from now) of the leaf [`Group::create`] gives the creator, and of
    /// a successor group's creator (RFC 9420 §7.2). It starts an hour before now, for clocks
    /// that run behind.
    pub own_leaf_lifetime: u64,
    /// RFC 9420 §12.4: "A group member that has observed one or more valid proposals within
    /// an epoch MUST send a Commit message before sending application data", so
    /// [`Group::encrypt_application`] refuses with rule AP-01 while the group holds
    /// proposals the policy would commit. Setting this sends anyway (for an application that
    /// orders commits itself, for example through its Delivery Service).
    pub dangerous_application_before_commit: bool,
    /// Ceilings on what received messages may make us allocate and hash, applied by
    /// [`Group::process_message`], [`Group::process_messages`], [`Group::join`],
    /// [`Group::join_external`] and [`Group::join_successor`] to every message they decode
    /// and to the ratchet tree they receive (before it is padded and hashed) or a commit
    /// would leave. Not part of the saved state: [`Group::from_bytes`] gives the default
    /// limits, [`Group::set_limits`] changes them.
    pub limits: Limits,
}

/// The default lifetime of a creator's leaf: 12 weeks, the default of other MLS libraries'
/// KeyPackages.
pub const DEFAULT_LEAF_LIFETIME: u64 = 12 * 7 * 24 * 3_600;

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            handshake: HandshakeFormat::Public,
            padding: Padding::default(),
            out_of_order: OutOfOrderPolicy::default(),
            past_epochs: 3,
            ratchet_tree_in_welcome: true,
            external_pub: true,
            max_leaf_lifetime: None,
            own_leaf_lifetime: DEFAULT_LEAF_LIFETIME,
            dangerous_application_before_commit: false,
            limits: Limits::DEFAULT,
        }
    }
}

/// The secrets of the current epoch: the key schedule outputs, the secret tree and the
/// interim transcript hash.
#[derive(Clone, Debug)]
pub(crate) struct EpochState {
    secrets: EpochSecrets,
    secret_tree: SecretTree,
    interim_transcript_hash: Vec<u8>,
    /// The epoch's safe exporter (draft-ietf-mls-extensions §Exported Secrets).
    #[cfg(feature = "extensions")]
    exporter: crate::extensions::exporter::SafeExporter,
}

impl EpochState {
    /// A new epoch's state; its `application_export_secret` moves into the safe exporter.
    #[cfg_attr(not(feature = "extensions"), allow(unused_mut))]
    pub(crate) fn new(
        mut secrets: EpochSecrets,
        secret_tree: SecretTree,
        interim_transcript_hash: Vec<u8>,
    ) -> Self {
        #[cfg(feature = "extensions")]
        let exporter = crate::extensions::exporter::SafeExporter::new(core::mem::replace(
            &mut secrets.application_export_secret,
            Secret::new(Vec::new()),
        ));
        Self {
            secrets,
            secret_tree,
            interim_transcript_hash,
            #[cfg(feature = "extensions")]
            exporter,
        }
    }
}

/// What is kept of a past epoch: enough to read late application messages and to inject its
/// resumption PSK.
#[derive(Clone, Debug)]
pub(crate) struct PastEpoch {
    context: GroupContext,
    sender_data_secret: Secret,
    secret_tree: SecretTree,
    resumption_psk: Secret,
    /// For PublicMessage proposals and commits arriving late; `None` in records saved before
    /// state format 3.
    membership_key: Option<Secret>,
    /// The leaves the commit that ended this epoch changed, as they were in it, so that a
    /// late message is verified with the key its sender had when sending (RFC 9420 §6.1).
    senders: PastSenders,
}

/// What a commit changed about who could send (RFC 9420 §6.1): the signature keys of the
/// leaves it removed or gave a new signature key, as they were before, and the blank leaves
/// it filled. Leaves it left alone have the same key in the next epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PastSenders {
    replaced: BTreeMap<u32, SignaturePublicKey>,
    /// Ascending.
    filled: Vec<u32>,
}

/// A member's state of one MLS group (RFC 9420 §8): the GroupContext, the ratchet tree, this
/// member's private keys, the epoch's secrets, cached proposals and a few past epochs.
pub struct Group {
    config: GroupConfig,
    context: GroupContext,
    tree: RatchetTree,
    private: PrivateTree,
    signer: Arc<dyn Signer>,
    epoch: EpochState,
    proposals: Vec<CachedProposal>,
    past: VecDeque<PastEpoch>,
    psks: BTreeMap<Vec<u8>, Secret>,
    pending: Option<Box<commit::PendingCommit>>,
    /// RFC 9420 §11.2: the ReInit this group ended with; nothing more may be sent.
    ended: Option<wire::ReInit>,
    /// RFC 9420 §12.1.3: the epoch whose commit removed us; the group stays at the epoch
    /// before it (tree and secrets), and nothing more may be sent.
    removed: Option<u64>,
    /// RFC 9420 §11.2, §11.3: the resumption PSK (usage `reinit` or `branch`) that the first
    /// commit of a successor group injects, with its value from the old group.
    successor_psk: Option<(PreSharedKeyId, Secret)>,
    /// RFC 9420 §12.1.2: the key pairs of our Update proposals of this epoch, until a commit
    /// applies one of them (or the epoch ends).
    own_updates: Vec<canopy_crypto::HpkeKeyPair>,
    /// RFC 9420 §7.3: the members' credential types, computed once per epoch when a proposal
    /// needs them.
    credential_types: OnceLock<CredentialTypes>,
    /// draft-ietf-mls-extensions §AppAck: the application messages received this epoch
    /// (kept in memory only: a group loaded from its records starts an empty log).
    #[cfg(feature = "extensions")]
    acks: crate::extensions::AckLog,
    /// What changed since the records were last taken ([`Group::take_delta`]).
    dirty: state::Dirty,
}

impl core::fmt::Debug for Group {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Group")
            .field("group_id", &self.context.group_id)
            .field("epoch", &self.context.epoch)
            .field("own_leaf", &self.own_leaf())
            .field("members", &self.tree.member_count())
            .finish_non_exhaustive()
    }
}

impl Group {
    /// Creates a one-member group (RFC 9420 §11): epoch 0, a fresh random epoch secret, and
    /// our leaf built from `leaf` and signed with `signer`, valid from an hour before `now`
    /// for [`GroupConfig::own_leaf_lifetime`] (within [`GroupConfig::max_leaf_lifetime`]).
    ///
    /// # Errors
    /// [`GroupError::ClockRequired`] without [`Env::now`]; crypto errors, an invalid `leaf`.
    pub fn create(env: &Env<'_>, params: CreateParams<'_>) -> Result<Self, GroupError> {
        let CreateParams {
            suite,
            group_id,
            leaf,
            signer,
            config,
            extensions,
        } = params;
        let ops = env.ops(suite)?;
        let nh = ops.params().kdf_len();
        let lifetime = own_lifetime(env, &config)?;
        // RFC 9420 §5.3.1: the external senders a group starts with are validated too.
        crate::rules::proposal::external_senders(
            ops,
            env.crypto,
            env.credentials,
            &extensions,
            env.now,
        )?;
        let (leaf_node, encryption_private) = generate_leaf_node(
            env.crypto,
            suite,
            leaf,
            NewLeafSource::KeyPackage { lifetime },
            &signer,
        )?;
        let tree = RatchetTree::new(ops, leaf_node)?;
        let own = LeafIndex::new(0).ok_or(GroupError::Internal("leaf 0"))?;
        let private = PrivateTree::new(ops, own, encryption_private)?;
        let context = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite,
            group_id: VarBytes(group_id),
            epoch: 0,
            tree_hash: VarBytes(tree.tree_hash().to_vec()),
            confirmed_transcript_hash: VarBytes(Vec::new()),
            extensions,
        };
        let epoch_secret = Secret::new(env.random(nh)?);
        let secrets = EpochSecrets::from_epoch_secret(ops, &epoch_secret)?;
        // RFC 9420 §8.2: the interim transcript hash of epoch 0 follows from an empty
        // confirmed transcript hash and a confirmation tag over it.
        let tag = crate::schedule::confirmation_tag(ops, &secrets.confirmation_key, &[]);
        let interim = interim_transcript_hash(ops, &[], &tag)?;
        let secret_tree = SecretTree::new(
            secrets.encryption_secret.clone(),
            tree.leaf_count(),
            config.out_of_order,
        );
        Ok(Self::from_epoch(
            config,
            context,
            tree,
            private,
            signer,
            EpochState::new(secrets, secret_tree, interim),
            BTreeMap::new(),
        ))
    }

    /// A group in the epoch `epoch` (of `context`), with nothing cached, pending or retained.
    pub(crate) fn from_epoch(
        config: GroupConfig,
        context: GroupContext,
        tree: RatchetTree,
        private: PrivateTree,
        signer: Arc<dyn Signer>,
        epoch: EpochState,
        psks: BTreeMap<Vec<u8>, Secret>,
    ) -> Self {
        Self {
            config,
            context,
            tree,
            private,
            signer,
            epoch,
            proposals: Vec::new(),
            past: VecDeque::new(),
            psks,
            pending: None,
            ended: None,
            removed: None,
            successor_psk: None,
            own_updates: Vec::new(),
            credential_types: OnceLock::new(),
            #[cfg(feature = "extensions")]
            acks: crate::extensions::AckLog::default(),
            dirty: state::Dirty::everything(),
        }
    }

    /// The signer that signs for us in this group.
    pub fn signer(&self) -> &Arc<dyn Signer> {
        &self.signer
    }

    /// The group's id.
    pub fn group_id(&self) -> &[u8] {
        self.context.group_id.as_slice()
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.context.epoch
    }

    /// The cipher suite.
    pub fn cipher_suite(&self) -> CipherSuite {
        self.context.cipher_suite
    }

    /// The current GroupContext (RFC 9420 §8.1).
    pub fn context(&self) -> &GroupContext {
        &self.context
    }

    /// The ratchet tree.
    pub fn tree(&self) -> &RatchetTree {
        &self.tree
    }

    /// Our leaf index.
    pub fn own_leaf(&self) -> LeafIndex {
        self.private.leaf()
    }

    /// The number of members.
    pub fn member_count(&self) -> u32 {
        self.tree.member_count()
    }

    /// What a Delivery Service may know of this group: a [`PublicGroup`] in the current epoch
    /// (GroupContext, ratchet tree, interim transcript hash and the epoch's cached
    /// proposals), with this group's limits and maximum leaf lifetime. It holds no secret.
    /// Copies the tree: O(n).
    ///
    /// [`PublicGroup`]: crate::public::PublicGroup
    pub fn public_view(&self) -> crate::public::PublicGroup {
        crate::public::PublicGroup::from_parts(
            &self.config,
            self.context.clone(),
            self.tree.clone(),
            self.epoch.interim_transcript_hash.clone(),
            self.proposals.clone(),
        )
    }

    /// The credential of the member at `leaf`, if the leaf is not blank.
    pub fn member_credential(&self, leaf: LeafIndex) -> Option<&Credential> {
        self.tree.leaf(leaf).map(|l| &l.credential)
    }

    /// RFC 9420 §8.7: the epoch authenticator, which all members of the epoch share.
    pub fn epoch_authenticator(&self) -> &[u8] {
        self.epoch.secrets.epoch_authenticator.as_bytes()
    }

    /// RFC 9420 §8.5: `MLS-Exporter(label, context, length)` of the current epoch.
    ///
    /// # Errors
    /// Crypto errors (a length above 255 hash outputs).
    pub fn export_secret(
        &self,
        env: &Env<'_>,
        label: &[u8],
        context: &[u8],
        length: usize,
    ) -> Result<Secret, GroupError> {
        let ops = env.ops(self.cipher_suite())?;
        Ok(self.epoch.secrets.export(ops, label, context, length)?)
    }

    /// RFC 9420 §8.6: the resumption PSK of the current epoch.
    pub fn resumption_psk(&self) -> &Secret {
        &self.epoch.secrets.resumption_psk
    }

    /// Stores an external PSK (RFC 9420 §8.4) under `psk_id`, for commits and Welcomes that
    /// name it.
    pub fn add_external_psk(&mut self, psk_id: Vec<u8>, psk: Secret) {
        self.psks.insert(psk_id, psk);
        self.dirty.meta();
    }

    /// The configuration.
    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// Sets the limits applied to the messages this group receives from now on (they are
    /// not saved with the state: see [`GroupConfig::limits`]).
    pub fn set_limits(&mut self, limits: Limits) {
        self.config.limits = limits;
    }

    /// Sets [`GroupConfig::ratchet_tree_in_welcome`] for our next commits: whether their
    /// Welcome carries the ratchet tree in its GroupInfo, or the joiners get it out of band
    /// (RFC 9420 §12.4.3.3), commit by commit. It changes nothing in the group's state that
    /// other members see.
    pub fn set_ratchet_tree_in_welcome(&mut self, in_welcome: bool) {
        self.config.ratchet_tree_in_welcome = in_welcome;
        self.dirty.meta();
    }

    /// Whether a commit of ours is waiting for the Delivery Service's verdict.
    pub fn has_pending_commit(&self) -> bool {
        self.pending.is_some()
    }

    /// The proposals received in this epoch and not yet committed, with their senders.
    pub fn pending_proposals(&self) -> impl Iterator<Item = (&wire::Sender, &wire::Proposal)> {
        self.proposals.iter().map(|p| (&p.sender, &p.proposal))
    }

    /// The value of a PSK for this group: external from the store, resumption from this
    /// group's current or retained epochs.
    fn psk_value(&self, env: &Env<'_>, id: &PreSharedKeyId) -> Result<Secret, GroupError> {
        let own = self.resumption_psks();
        if let Some((successor, value)) = &self.successor_psk
            && successor == id
        {
            return Ok(value.clone());
        }
        lookup_psk(
            env,
            id,
            &self.psks,
            &own,
            Some(ResumptionPskUsage::Application),
        )
    }

    /// RFC 9420 §8.6: `(group_id, epoch, resumption_psk)` of the current and the retained
    /// past epochs.
    fn resumption_psks(&self) -> Vec<(Vec<u8>, u64, Secret)> {
        core::iter::once((
            self.context.group_id.0.clone(),
            self.context.epoch,
            self.epoch.secrets.resumption_psk.clone(),
        ))
        .chain(self.past.iter().map(|p| {
            (
                p.context.group_id.0.clone(),
                p.context.epoch,
                p.resumption_psk.clone(),
            )
        }))
        .collect()
    }

    /// RFC 9420 §11.2: the ReInit this group ended with, if a commit with a ReInit proposal
    /// was merged. The group can then only be used to create or join its successor.
    pub fn reinit(&self) -> Option<&wire::ReInit> {
        self.ended.as_ref()
    }
}

/// RFC 9420 §8.4: the value of the PSK `id`. A resumption PSK must have `usage` when given;
/// an application PSK (draft-ietf-mls-extensions) comes from the application's components.
fn lookup_psk(
    env: &Env<'_>,
    id: &PreSharedKeyId,
    external: &BTreeMap<Vec<u8>, Secret>,
    resumption: &[(Vec<u8>, u64, Secret)],
    usage: Option<ResumptionPskUsage>,
) -> Result<Secret, GroupError> {
    #[cfg(not(feature = "extensions"))]
    let _ = env;
    match &id.psk {
        Psk::External { psk_id } => external
            .get(psk_id.as_slice())
            .cloned()
            .ok_or(GroupError::MissingPsk),
        Psk::Resumption {
            usage: got,
            psk_group_id,
            psk_epoch,
        } => {
            if usage.is_some_and(|u| u != *got) {
                return Err(Violation::new(Rule::ProposalPskUsage).into());
            }
            resumption
                .iter()
                .find(|(g, e, _)| g.as_slice() == psk_group_id.as_slice() && e == psk_epoch)
                .map(|(_, _, s)| s.clone())
                .ok_or(GroupError::MissingPsk)
        }
        #[cfg(feature = "extensions")]
        Psk::Application {
            component_id,
            psk_id,
        } => env
            .components
            .psk(*component_id, psk_id.as_slice())
            .ok_or(GroupError::MissingPsk),
    }
}

/// RFC 9420 §13.5: a random GREASE extension (empty data) for a GroupInfo, which joiners
/// must ignore; sending one keeps them honest.
fn grease_extension(env: &Env<'_>) -> Result<wire::Extension, GroupError> {
    let pick = env.random(1)?;
    let values = crate::key_package::GREASE_VALUES;
    let index = usize::from(pick.first().copied().unwrap_or(0)) % values.len();
    let value = values.get(index).copied().unwrap_or(0x0A0A);
    Ok(wire::Extension::new(wire::ExtensionType(value), Vec::new()))
}

/// The value of an `ExtensionView` in `extensions`, if present.
fn typed<T: ExtensionView>(extensions: &Extensions) -> Result<Option<T>, GroupError> {
    Ok(extensions.typed::<T>()?)
}

/// RFC 9420 §7.2: the lifetime of a leaf this member creates for itself (a group's creator):
/// from an hour before now, for [`GroupConfig::own_leaf_lifetime`], within the group's
/// maximum.
fn own_lifetime(env: &Env<'_>, config: &GroupConfig) -> Result<wire::Lifetime, GroupError> {
    const SKEW: u64 = 3_600;
    let now = env.now.ok_or(GroupError::ClockRequired)?;
    let mut total = config.own_leaf_lifetime.saturating_add(SKEW);
    if let Some(max) = config.max_leaf_lifetime {
        total = total.min(max);
    }
    let not_before = now.saturating_sub(SKEW);
    Ok(wire::Lifetime {
        not_before,
        not_after: not_before.saturating_add(total),
    })
}
