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

mod batch;
mod commit;
mod error;
mod external;
mod process;
mod proposals;
mod state;
mod successor;

#[cfg(test)]
mod test_world;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};

use canopy_crypto::{
    CipherSuite, CryptoProvider, Secret, SignaturePrivateKey, SignaturePublicKey, SuiteOps,
};

pub use commit::{CommitOptions, CommitOutput};
pub use error::{GroupError, ProposalRule};
pub use process::{CommitSummary, Merged, ProcessedMessage, StagedCommit};
use proposals::CachedProposal;
pub use state::STATE_FORMAT_VERSION;

use crate::codec::VarBytes;
use crate::framing::Padding;
use crate::join::{
    open_group_info, open_group_secrets, verify_confirmation_tag, verify_group_info,
};
use crate::key_package::{
    CredentialValidator, KeyPackageBundle, LeafNodeParams, LifetimePolicy, NewLeafSource,
    generate_leaf_node,
};
use crate::schedule::{EpochSecrets, OutOfOrderPolicy, SecretTree, interim_transcript_hash};
use crate::tree::math::{LeafIndex, common_ancestor};
use crate::tree::{PrivateTree, RatchetTree, TreeRead, ValidationPolicy};
use crate::wire::{
    self, Credential, ExtensionView, Extensions, GroupContext, LeafNode, PreSharedKeyId,
    ProtocolVersion, Psk, ResumptionPskUsage, Welcome,
};

/// What every group operation needs from its caller: the crypto provider (which is also the
/// source of randomness), the application's credential validator, and the current time.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// The crypto provider.
    pub crypto: &'a dyn CryptoProvider,
    /// Decides whether credentials are acceptable (RFC 9420 §5.3.1).
    pub credentials: &'a dyn CredentialValidator,
    /// The current time in seconds since the Unix epoch, for lifetime checks (RFC 9420
    /// §7.2); `None` skips them.
    pub now: Option<u64>,
}

impl Env<'_> {
    fn ops(&self, suite: CipherSuite) -> Result<&dyn SuiteOps, GroupError> {
        self.crypto
            .suite(suite)
            .map_err(|e| GroupError::Crypto(e.into()))
    }

    fn lifetime(&self) -> LifetimePolicy {
        self.now
            .map_or_else(LifetimePolicy::unchecked, LifetimePolicy::at)
    }

    fn tree_policy(&self, context: &GroupContext) -> Result<ValidationPolicy, GroupError> {
        Ok(ValidationPolicy {
            lifetime: self.lifetime(),
            required_capabilities: context.extensions.typed()?,
        })
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
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            handshake: HandshakeFormat::Public,
            padding: Padding::default(),
            out_of_order: OutOfOrderPolicy::default(),
            past_epochs: 3,
            ratchet_tree_in_welcome: true,
            external_pub: true,
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
    signer: SignaturePrivateKey,
    epoch: EpochState,
    proposals: Vec<CachedProposal>,
    past: VecDeque<PastEpoch>,
    psks: BTreeMap<Vec<u8>, Secret>,
    pending: Option<Box<commit::PendingCommit>>,
    /// RFC 9420 §11.2: the ReInit this group ended with; nothing more may be sent.
    ended: Option<wire::ReInit>,
    /// RFC 9420 §11.2, §11.3: the resumption PSK (usage `reinit` or `branch`) that the first
    /// commit of a successor group injects, with its value from the old group.
    successor_psk: Option<(PreSharedKeyId, Secret)>,
    /// RFC 9420 §12.1.2: the key pairs of our Update proposals of this epoch, until a commit
    /// applies one of them (or the epoch ends).
    own_updates: Vec<canopy_crypto::HpkeKeyPair>,
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
    /// our leaf built from `leaf` and signed with `signer`.
    ///
    /// # Errors
    /// Crypto errors, an invalid `leaf`.
    pub fn create(
        env: &Env<'_>,
        config: GroupConfig,
        suite: CipherSuite,
        group_id: Vec<u8>,
        leaf: &LeafNodeParams,
        signer: SignaturePrivateKey,
        extensions: Extensions,
    ) -> Result<Self, GroupError> {
        let ops = env.ops(suite)?;
        let nh = ops.params().hash_len();
        let lifetime = wire::Lifetime {
            not_before: env.now.unwrap_or(0),
            not_after: u64::MAX,
        };
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
        Ok(Self {
            config,
            context,
            tree,
            private,
            signer,
            epoch: EpochState {
                secrets,
                secret_tree,
                interim_transcript_hash: interim,
            },
            proposals: Vec::new(),
            past: VecDeque::new(),
            psks: BTreeMap::new(),
            pending: None,
            ended: None,
            successor_psk: None,
            own_updates: Vec::new(),
        })
    }

    /// Joins a group from a Welcome (RFC 9420 §12.4.3.1): opens our GroupSecrets with
    /// `bundle`'s init key, decrypts the GroupInfo (with the PSKs it names, from
    /// `external_psks` or `resumption_psks`), validates the ratchet tree (from the GroupInfo's
    /// `ratchet_tree` extension or `ratchet_tree`), verifies the GroupInfo's signature and
    /// confirmation tag, finds our leaf and installs the path secret.
    ///
    /// `resumption_psks` lists `(group_id, epoch, psk)` for the resumption PSKs of a ReInit or
    /// branch (RFC 9420 §11).
    ///
    /// # Errors
    /// [`GroupError::Join`] for the Welcome and GroupInfo checks, [`GroupError::Tree`] for
    /// an invalid tree, [`GroupError::TreeHashMismatch`], [`GroupError::OwnLeafNotFound`],
    /// [`GroupError::MissingPsk`], [`GroupError::MissingRatchetTree`].
    pub fn join(
        env: &Env<'_>,
        config: GroupConfig,
        welcome: &Welcome,
        bundle: &KeyPackageBundle,
        signer: SignaturePrivateKey,
        ratchet_tree: Option<wire::RatchetTree>,
        external_psks: &BTreeMap<Vec<u8>, Secret>,
        resumption_psks: &[(Vec<u8>, u64, Secret)],
    ) -> Result<Self, GroupError> {
        Self::join_inner(
            env,
            config,
            welcome,
            bundle,
            signer,
            ratchet_tree,
            external_psks,
            resumption_psks,
        )
        .map(|(group, _)| group)
    }

    /// [`Group::join`], also returning the PSKs the Welcome named.
    fn join_inner(
        env: &Env<'_>,
        config: GroupConfig,
        welcome: &Welcome,
        bundle: &KeyPackageBundle,
        signer: SignaturePrivateKey,
        ratchet_tree: Option<wire::RatchetTree>,
        external_psks: &BTreeMap<Vec<u8>, Secret>,
        resumption_psks: &[(Vec<u8>, u64, Secret)],
    ) -> Result<(Self, Vec<PreSharedKeyId>), GroupError> {
        let suite = welcome.cipher_suite;
        let ops = env.ops(suite)?;
        if bundle.key_package.cipher_suite != suite {
            return Err(crate::join::JoinError::CipherSuiteMismatch.into());
        }
        let reference = bundle.reference(ops)?;
        let secrets = open_group_secrets(ops, welcome, reference.as_bytes(), &bundle.init_private)?;
        let psk_values = secrets
            .psks
            .as_slice()
            .iter()
            .map(|id| lookup_psk(id, external_psks, resumption_psks, None))
            .collect::<Result<Vec<_>, _>>()?;
        let (group_info, joiner) = open_group_info(ops, welcome, &secrets, &psk_values)?;
        let context = group_info.group_context.clone();

        let wire_tree = match group_info.extensions.typed::<wire::RatchetTree>()? {
            Some(t) => t,
            None => ratchet_tree.ok_or(GroupError::MissingRatchetTree)?,
        };
        let tree = RatchetTree::from_wire(ops, wire_tree)?;
        if tree.tree_hash() != context.tree_hash.as_slice() {
            return Err(GroupError::TreeHashMismatch);
        }
        tree.validate(
            ops,
            context.group_id.as_slice(),
            &env.tree_policy(&context)?,
        )?;
        let signer_leaf = LeafIndex::new(group_info.signer)
            .and_then(|l| tree.leaf(l))
            .ok_or(GroupError::UnknownSender)?;
        verify_group_info(ops, &group_info, &signer_leaf.signature_key)?;
        let secrets_epoch = verify_confirmation_tag(ops, &group_info, &joiner)?;

        let own = find_own_leaf(&tree, &bundle.key_package.leaf_node)?;
        let mut private = PrivateTree::new(ops, own, bundle.encryption_private.clone())?;
        if let Some(path_secret) = &secrets.path_secret {
            let signer_index =
                LeafIndex::new(group_info.signer).ok_or(GroupError::UnknownSender)?;
            let node = common_ancestor(own.node(), signer_index.node());
            private.insert_path_secret_chain(
                ops,
                &tree,
                node,
                path_secret.path_secret.as_bytes(),
            )?;
        }
        private.check(&tree)?;

        let interim = interim_transcript_hash(
            ops,
            context.confirmed_transcript_hash.as_slice(),
            group_info.confirmation_tag.as_slice(),
        )?;
        let secret_tree = SecretTree::new(
            secrets_epoch.encryption_secret.clone(),
            tree.leaf_count(),
            config.out_of_order,
        );
        let group = Self {
            config,
            context,
            tree,
            private,
            signer,
            epoch: EpochState {
                secrets: secrets_epoch,
                secret_tree,
                interim_transcript_hash: interim,
            },
            proposals: Vec::new(),
            past: VecDeque::new(),
            psks: external_psks.clone(),
            pending: None,
            ended: None,
            successor_psk: None,
            own_updates: Vec::new(),
        };
        Ok((group, secrets.psks.0))
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
    }

    /// The configuration.
    pub fn config(&self) -> &GroupConfig {
        &self.config
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
    fn psk_value(&self, id: &PreSharedKeyId) -> Result<Secret, GroupError> {
        let own = self.resumption_psks();
        if let Some((successor, value)) = &self.successor_psk
            && successor == id
        {
            return Ok(value.clone());
        }
        lookup_psk(id, &self.psks, &own, Some(ResumptionPskUsage::Application))
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

/// RFC 9420 §8.4: the value of the PSK `id`. A resumption PSK must have `usage` when given.
fn lookup_psk(
    id: &PreSharedKeyId,
    external: &BTreeMap<Vec<u8>, Secret>,
    resumption: &[(Vec<u8>, u64, Secret)],
    usage: Option<ResumptionPskUsage>,
) -> Result<Secret, GroupError> {
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
                return Err(ProposalRule::InvalidPsk.into());
            }
            resumption
                .iter()
                .find(|(g, e, _)| g.as_slice() == psk_group_id.as_slice() && e == psk_epoch)
                .map(|(_, _, s)| s.clone())
                .ok_or(GroupError::MissingPsk)
        }
    }
}

/// RFC 9420 §12.4.3.1: the leaf whose LeafNode is our KeyPackage's.
fn find_own_leaf(tree: &RatchetTree, leaf: &LeafNode) -> Result<LeafIndex, GroupError> {
    let node = tree
        .find_encryption_key(&leaf.encryption_key)
        .ok_or(GroupError::OwnLeafNotFound)?;
    let index = node.leaf().ok_or(GroupError::OwnLeafNotFound)?;
    if tree.leaf(index) != Some(leaf) {
        return Err(GroupError::OwnLeafNotFound);
    }
    Ok(index)
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
