//! A group's whole state as bytes (STYLE B.4 item 6): [`Group::to_bytes`] and
//! [`Group::from_bytes`], so that a store can keep it as an opaque, versioned record.
//!
//! The record is one format-version byte ([`STATE_FORMAT_VERSION`], 4) followed by a `GroupRecord` in
//! the TLS presentation language of RFC 9420 §2.1 (our codec: `<V>` vectors with varint
//! lengths, `optional<T>` with a strict presence octet, decoded exactly):
//!
//! ```text
//! uint8 format_version;
//! struct {
//!     ConfigRecord config;            // handshake, padding, out-of-order policy, past_epochs, flags
//!     GroupContext context;           // RFC 9420 §8.1, as on the wire
//!     TreeRecord tree;                // { uint64 generation; optional<Node> ratchet_tree<V>; }
//!     PrivateTreeRecord private;      // { uint32 leaf; KeyPair leaf_key; PathKey path<V>; }
//!     opaque signer<V>;               // signature private key
//!     EpochRecord epoch;              // { EpochSecrets (9 x opaque<V>); SecretTreeRecord;
//!                                     //   opaque interim_transcript_hash<V>; }
//!     ProposalRecord proposals<V>;    // { opaque reference<V>; Proposal; Sender; }
//!     PastEpochRecord past<V>;        // { GroupContext; opaque sender_data_secret<V>;
//!                                     //   SecretTreeRecord; opaque resumption_psk<V>; }
//!     PskRecord psks<V>;              // { opaque id<V>; opaque psk<V>; }, ids ascending
//!     optional<PendingCommitRecord> pending;
//! } GroupRecord;
//!
//! struct {                            // our own commit, waiting for the DS (STYLE B.4)
//!     uint64 base_epoch;
//!     GroupContext context;           // of the new epoch
//!     StagedTreeRecord tree;          // { uint64 base_generation; uint32 leaf_count;
//!                                     //   uint64 min_width; NodeChange changes<V>;
//!                                     //   NodeHash hashes<V>; opaque tree_hash<V>; }
//!     PrivateChangeRecord private;    // uint8 select: none(0) | decrypted(1) | own(2)
//!     optional<EpochRecord> epoch;
//!     SummaryRecord summary;
//!     opaque message<V>;              // the MLSMessage bytes that were sent
//! } PendingCommitRecord;
//! ```
//!
//! Version 2 appends `struct { optional<ReInit> ended; optional<SuccessorPskRecord>
//! successor_psk; KeyPair own_updates<V>; }` (a group ended by a ReInit, RFC 9420 §11.2; the
//! resumption PSK of a successor group's first commit, §11.3; the key pairs of our pending
//! Update proposals, §12.1.2). Version 3 then appends `PastExtraRecord past_extra<V>`, one
//! per retained past epoch in the order of `past`: `struct { opaque membership_key<V>;
//! struct { uint32 leaf; opaque signature_key<V>; } replaced<V>; uint32 filled<V>; }`, the
//! epoch's membership key (for late PublicMessage handshake messages; empty if unknown), and
//! the leaves the commit that ended it removed or re-keyed (with the key they had) and the
//! blank leaves it filled, both ascending, so that late messages are verified with their
//! sender's key of the time. Version 4 then appends `ConfigExtraRecord`, the configuration
//! added since version 1 (the maximum leaf lifetime, the creator's leaf lifetime, and the
//! AP-01 override). Records of versions 1 to 3 still load, as groups without the additions.
//!
//! The secret tree's layout is in `schedule::secret_tree::state`.
//!
//! # Secrets
//!
//! The bytes hold every secret of the group (signature key, HPKE keys, epoch secrets,
//! ratchets, PSKs), so [`Group::to_bytes`] returns them in a [`Secret`]: the buffer is sized
//! up front (no reallocation leaves copies behind) and zeroized on drop. Records hold their
//! secrets in zeroizing types too. Encrypting the bytes at rest is the store's job.
//!
//! # Loading
//!
//! Decoding rejects trailing bytes and malformed records with [`GroupError::Codec`], an
//! unknown version with [`GroupError::StateVersion`], and content that contradicts itself
//! with [`GroupError::State`]; it never panics, and never allocates more than a constant
//! times the input. No [`Limits`] apply (the record is our own, and may hold a group larger
//! than a peer's message may carry); the loaded group has the default limits, see
//! [`GroupConfig::limits`]. The ratchet tree is stored in its wire form, so loading rehashes every
//! node (O(n) hashes: a few milliseconds at 10,000 members) and then checks, while we are a
//! member, that the tree hash matches the GroupContext and that our private keys match the
//! tree. Leaf signatures are not verified again: the tree was validated when it was received,
//! and the store is trusted with the secrets anyway.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use canopy_crypto::{
    CryptoProvider, HpkeKeyPair, HpkePrivateKey, HpkePublicKey, Secret, SignatureKeyPair,
    SignaturePrivateKey, SignaturePublicKey, Signer, SuiteOps,
};
use tls_codec::{DeserializeBytes as _, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::commit::PendingCommit;
use super::join::check_signer;
use super::proposals::CachedProposal;
use super::stage::{BaseId, PrivateChange};
use super::{
    CommitSummary, EpochState, Group, GroupConfig, GroupError, HandshakeFormat, PastEpoch,
    PastSenders, StagedCommit,
};
use crate::codec::{CodecError, Limits, VarBytes, VarVec, decode_exact, with_limits};
use crate::framing::Padding;
use crate::schedule::{EpochSecrets, OutOfOrderPolicy, SecretTree, SecretTreeRecord};
use crate::tree::math::{LeafCount, LeafIndex, NodeIndex};
use crate::tree::{
    DecryptedPath, PendingUpdatePath, PrivateTree, RatchetTree, StagedTree, TreeRead,
};
use crate::wire::{self, GroupContext, LeafNode, Node, PreSharedKeyId, Proposal, ReInit, Sender};

/// The format version of group state: [`Group::to_bytes`] writes it as the first byte, and
/// the Meta record of [`Group::records`] starts with it. [`Group::from_bytes`] also reads
/// versions 1 to 4.
pub const STATE_FORMAT_VERSION: u8 = 7;

/// A group's state as every format version decodes it, before it becomes a [`Group`].
pub(super) struct StateParts {
    record: GroupRecord,
    lifecycle: LifecycleRecord,
    past_extra: Option<VarVec<PastExtraRecord>>,
    config_extra: Option<ConfigExtraRecord>,
    /// The tree's leaf count, where the format stores it (versions 5 to 7).
    leaf_count: Option<LeafCount>,
    /// The first epoch we are not a member of, if a commit removed us (versions 6 and 7).
    pub(super) removed: Option<u64>,
    /// The current epoch's safe exporter frontier (version 7; empty before, or when the
    /// state was written without the `extensions` feature).
    pub(super) exporter: Vec<(u32, Secret)>,
}

impl Group {
    /// The group's whole state as one versioned buffer, for backup and migration: every
    /// record of [`Group::records`] (configuration, GroupContext, ratchet tree, our private
    /// keys, the epoch's secrets and ratchets, cached proposals, retained past epochs,
    /// external PSKs and the pending commit), but not the signature private key, which the
    /// group's [`Signer`] holds. Read it back with [`Group::from_bytes`].
    ///
    /// The bytes are secret (they hold every other key of the group) and come in a zeroizing
    /// [`Secret`]. The layout is documented in the source of `group/state/incremental.rs`.
    ///
    /// # Errors
    /// [`GroupError::Codec`] if a field is too long to encode (a vector over 2^30 - 1 bytes).
    pub fn to_bytes(&self) -> Result<Secret, GroupError> {
        self.export_records()
    }

    /// A group from bytes written by [`Group::to_bytes`] (format versions 5 to 7, which
    /// need `signer`: the key of our leaf) or by an earlier version (1 to 4, which held the
    /// signature private key: `signer` may then be `None`). `crypto` must support the
    /// group's cipher suite.
    ///
    /// The group loaded reports every record as changed ([`Group::take_delta`] gives them
    /// all), so that restoring it into a store writes it whole.
    ///
    /// # Errors
    /// [`GroupError::StateVersion`] for an unknown format version,
    /// [`GroupError::Codec`] for bytes that do not decode exactly (trailing bytes included),
    /// [`GroupError::State`] for a record that contradicts itself (a tree that does not match
    /// the GroupContext included, or a version 5 to 7 state without a signer),
    /// [`GroupError::SignerMismatch`] for a signer that is not our leaf's,
    /// [`GroupError::Tree`] for a ratchet tree that cannot be rebuilt, [`GroupError::Crypto`]
    /// for an unsupported suite.
    pub fn from_bytes(
        crypto: &dyn CryptoProvider,
        bytes: &[u8],
        signer: Option<Arc<dyn Signer>>,
    ) -> Result<Self, GroupError> {
        // Our own record, whatever its size: no peer limits (the group's own are the default,
        // see `GroupConfig::limits`).
        with_limits(Limits::UNLIMITED, || {
            let (&version, body) = bytes.split_first().ok_or(CodecError::Truncated)?;
            if matches!(version, 5..=STATE_FORMAT_VERSION) {
                return Self::import_records(crypto, body, signer);
            }
            let parts = legacy_parts(version, body)?;
            let mut group = Self::from_parts(crypto, parts, signer)?;
            group.dirty = Dirty::everything();
            Ok(group)
        })
    }

    /// The group that decoded `parts` describe, checked as the module docs say. The signer
    /// is `signer`, or (formats 1 to 4) the private key the record holds.
    pub(super) fn from_parts(
        crypto: &dyn CryptoProvider,
        parts: StateParts,
        signer: Option<Arc<dyn Signer>>,
    ) -> Result<Self, GroupError> {
        let StateParts {
            record,
            lifecycle,
            past_extra,
            config_extra,
            leaf_count,
            removed,
            exporter,
        } = parts;
        let mut group = Self::from_record(crypto, record, signer)?;
        group.removed = removed;
        #[cfg(feature = "extensions")]
        {
            let nh = crypto
                .suite(group.cipher_suite())
                .map_err(|e| GroupError::Crypto(e.into()))?
                .params()
                .kdf_len();
            group.epoch.exporter =
                crate::extensions::exporter::SafeExporter::from_frontier(exporter, nh)
                    .map_err(GroupError::State)?;
        }
        #[cfg(not(feature = "extensions"))]
        drop(exporter);
        if leaf_count.is_some_and(|n| n != group.tree.leaf_count()) {
            return Err(GroupError::State("the tree's size differs from the record"));
        }
        if let Some(config) = config_extra {
            config.apply(&mut group.config)?;
        }
        if let Some(extra) = past_extra {
            if extra.len() != group.past.len() {
                return Err(GroupError::State(
                    "past-epoch records do not match the past epochs",
                ));
            }
            let nh = crypto
                .suite(group.cipher_suite())
                .map_err(|e| GroupError::Crypto(e.into()))?
                .params()
                .kdf_len();
            for (past, record) in group.past.iter_mut().zip(extra.0) {
                let (membership_key, senders) = record.into_parts(nh)?;
                past.membership_key = membership_key;
                past.senders = senders;
            }
        }
        group.ended = lifecycle.ended;
        group.successor_psk = lifecycle.successor_psk.map(|s| (s.id, s.psk));
        group.own_updates = lifecycle
            .own_updates
            .0
            .into_iter()
            .map(KeyPairRecord::into_pair)
            .collect();
        Ok(group)
    }

    /// How the group's life ends or began (RFC 9420 §11), and our pending Updates.
    fn lifecycle_record(&self) -> LifecycleRecord {
        LifecycleRecord {
            ended: self.ended.clone(),
            successor_psk: self
                .successor_psk
                .as_ref()
                .map(|(id, psk)| SuccessorPskRecord {
                    id: id.clone(),
                    psk: psk.clone(),
                }),
            own_updates: VarVec(self.own_updates.iter().map(KeyPairRecord::of).collect()),
        }
    }

    fn from_record(
        crypto: &dyn CryptoProvider,
        record: GroupRecord,
        signer: Option<Arc<dyn Signer>>,
    ) -> Result<Self, GroupError> {
        let config = record.config.into_config()?;
        let context = record.context;
        let ops = crypto
            .suite(context.cipher_suite)
            .map_err(|e| GroupError::Crypto(e.into()))?;
        let tree = RatchetTree::from_stored(ops, record.tree.nodes, record.tree.generation)?;
        let private = record.private.into_private()?;
        let epoch = record.epoch.into_epoch(ops)?;
        let proposals = record
            .proposals
            .0
            .into_iter()
            .map(|p| CachedProposal {
                reference: p.reference.0,
                proposal: p.proposal,
                sender: p.sender,
            })
            .collect();
        let past = record
            .past
            .0
            .into_iter()
            .map(|p| {
                check_len(&p.sender_data_secret, ops.params().kdf_len())?;
                check_len(&p.resumption_psk, ops.params().kdf_len())?;
                Ok(PastEpoch {
                    context: p.context,
                    sender_data_secret: p.sender_data_secret,
                    secret_tree: SecretTree::from_record(ops, p.secret_tree)
                        .map_err(GroupError::State)?,
                    resumption_psk: p.resumption_psk,
                    membership_key: None,
                    senders: PastSenders::default(),
                })
            })
            .collect::<Result<VecDeque<_>, GroupError>>()?;
        // Retained epochs are newest first and older than the current one (every format;
        // version 5 also checks it record by record).
        let mut previous = context.epoch;
        for p in &past {
            if p.context.epoch >= previous {
                return Err(GroupError::State("past epochs not descending"));
            }
            previous = p.context.epoch;
        }
        let mut psks = BTreeMap::new();
        for p in record.psks.0 {
            if psks.last_key_value().is_some_and(|(id, _)| *id >= p.id.0) {
                return Err(GroupError::State("PSK ids not ascending"));
            }
            psks.insert(p.id.0, p.psk);
        }
        let base = BaseId {
            group_id: context.group_id.0.clone(),
            epoch: context.epoch,
            epoch_authenticator: epoch.secrets.epoch_authenticator.as_bytes().to_vec(),
            own_leaf: private.leaf(),
        };
        let pending = record
            .pending
            .map(|p| p.into_pending(ops, &tree, base).map(Box::new))
            .transpose()?;
        let signer: Arc<dyn Signer> = match signer {
            Some(signer) => signer,
            None if record.signer.is_empty() => {
                return Err(GroupError::State(
                    "the state holds no signature key: give the signer",
                ));
            }
            None => {
                let private = SignaturePrivateKey::from(record.signer);
                let public = ops
                    .signature_public_key(&private)
                    .map_err(|e| GroupError::Crypto(e.into()))?;
                Arc::new(SignatureKeyPair { private, public })
            }
        };
        // While we are a member, the tree, our keys and the epoch agree. (A removed member's
        // group keeps its last epoch with the merged tree, where they need not.)
        if let Some(own) = tree.leaf(private.leaf()) {
            if tree.tree_hash() != context.tree_hash.as_slice() {
                return Err(GroupError::State("the tree does not match the tree hash"));
            }
            private.check(&tree)?;
            if epoch.secret_tree.leaves() != tree.leaf_count() {
                return Err(GroupError::State("secret tree size differs from the tree"));
            }
            check_signer(&*signer, own)?;
        }
        Ok(Self {
            config,
            context,
            tree,
            private,
            signer,
            epoch,
            proposals,
            past,
            psks,
            pending,
            ended: None,
            removed: None,
            successor_psk: None,
            own_updates: Vec::new(),
            credential_types: std::sync::OnceLock::new(),
            #[cfg(feature = "extensions")]
            acks: crate::extensions::AckLog::default(),
            dirty: Dirty::default(),
        })
    }
}

/// The parts of a record of format 1 to 4 (after its version byte).
fn legacy_parts(version: u8, body: &[u8]) -> Result<StateParts, GroupError> {
    let (record, lifecycle, past_extra, config_extra) = match version {
        // Version 1 had no lifecycle record: no ReInit, no successor PSK.
        1 => (
            decode_exact::<GroupRecord>(body)?,
            LifecycleRecord::default(),
            None,
            None,
        ),
        // Version 2 had no record of past epochs' membership keys and senders.
        2 => {
            let (record, rest) =
                GroupRecord::tls_deserialize_bytes(body).map_err(CodecError::from)?;
            (record, decode_exact::<LifecycleRecord>(rest)?, None, None)
        }
        // Version 3 had no configuration beyond the version-1 record.
        3 | 4 => {
            let (record, rest) =
                GroupRecord::tls_deserialize_bytes(body).map_err(CodecError::from)?;
            let (lifecycle, rest) =
                LifecycleRecord::tls_deserialize_bytes(rest).map_err(CodecError::from)?;
            if version == 3 {
                let extra = decode_exact::<VarVec<PastExtraRecord>>(rest)?;
                (record, lifecycle, Some(extra), None)
            } else {
                let (extra, rest) = VarVec::<PastExtraRecord>::tls_deserialize_bytes(rest)
                    .map_err(CodecError::from)?;
                let config = decode_exact::<ConfigExtraRecord>(rest)?;
                (record, lifecycle, Some(extra), Some(config))
            }
        }
        _ => {
            return Err(GroupError::StateVersion {
                found: version,
                supported: STATE_FORMAT_VERSION,
            });
        }
    };
    Ok(StateParts {
        record,
        lifecycle,
        past_extra,
        config_extra,
        leaf_count: None,
        removed: None,
        exporter: Vec::new(),
    })
}

/// Format version 2: `struct { optional<ReInit> ended; optional<SuccessorPskRecord>
/// successor_psk; KeyPair own_updates<V>; }` after the `GroupRecord` (RFC 9420 §11.2, §11.3,
/// §12.1.2).
#[derive(Default, TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct LifecycleRecord {
    #[tls_codec(with = "crate::codec::fields::optional")]
    ended: Option<ReInit>,
    #[tls_codec(with = "crate::codec::fields::optional")]
    successor_psk: Option<SuccessorPskRecord>,
    own_updates: VarVec<KeyPairRecord>,
}

/// `struct { PreSharedKeyID id; opaque psk<V>; }`: the resumption PSK a successor group's
/// first commit injects.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct SuccessorPskRecord {
    id: PreSharedKeyId,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    psk: Secret,
}

/// `Err(State)` unless `secret` is `len` bytes long.
fn check_len(secret: &Secret, len: usize) -> Result<(), GroupError> {
    if secret.len() == len {
        Ok(())
    } else {
        Err(GroupError::State("secret length"))
    }
}

/// A stored `u8` flag: 0 or 1.
fn flag(value: u8) -> Result<bool, GroupError> {
    match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(GroupError::State("flag other than 0 or 1")),
    }
}

/// A `u32` leaf index from a record.
fn leaf_index(value: u32) -> Result<LeafIndex, GroupError> {
    LeafIndex::new(value).ok_or(GroupError::State("leaf index"))
}

/// A `u32` node index from a record.
fn node_index(value: u32) -> Result<NodeIndex, GroupError> {
    NodeIndex::new(value).ok_or(GroupError::State("node index"))
}

/// The whole record after the version byte; see the module docs.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct GroupRecord {
    config: ConfigRecord,
    context: GroupContext,
    tree: TreeRecord,
    private: PrivateTreeRecord,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    signer: Secret,
    epoch: EpochRecord,
    proposals: VarVec<ProposalRecord>,
    past: VarVec<PastEpochRecord>,
    psks: VarVec<PskRecord>,
    #[tls_codec(with = "crate::codec::fields::optional")]
    pending: Option<PendingCommitRecord>,
}

/// [`GroupConfig`]: `handshake` is 1 (public) or 2 (private); `padding` is 0 (none, with
/// `padding_block` 0) or 1 (blocks of `padding_block` bytes); flags are 0 or 1.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct ConfigRecord {
    handshake: u8,
    padding: u8,
    padding_block: u16,
    max_forward_distance: u32,
    max_retained_keys: u32,
    past_epochs: u64,
    ratchet_tree_in_welcome: u8,
    external_pub: u8,
}

impl ConfigRecord {
    fn of(config: &GroupConfig) -> Self {
        let (padding, padding_block) = match config.padding {
            Padding::None => (0, 0),
            Padding::Block(n) => (1, n),
        };
        Self {
            handshake: match config.handshake {
                HandshakeFormat::Public => 1,
                HandshakeFormat::Private => 2,
            },
            padding,
            padding_block,
            max_forward_distance: config.out_of_order.max_forward_distance,
            max_retained_keys: config.out_of_order.max_retained_keys,
            past_epochs: u64::try_from(config.past_epochs).unwrap_or(u64::MAX),
            ratchet_tree_in_welcome: config.ratchet_tree_in_welcome.into(),
            external_pub: config.external_pub.into(),
        }
    }

    fn into_config(self) -> Result<GroupConfig, GroupError> {
        let handshake = match self.handshake {
            1 => HandshakeFormat::Public,
            2 => HandshakeFormat::Private,
            _ => return Err(GroupError::State("handshake format")),
        };
        let padding = match (self.padding, self.padding_block) {
            (0, 0) => Padding::None,
            (1, n) => Padding::Block(n),
            _ => return Err(GroupError::State("padding")),
        };
        Ok(GroupConfig {
            handshake,
            padding,
            out_of_order: OutOfOrderPolicy {
                max_forward_distance: self.max_forward_distance,
                max_retained_keys: self.max_retained_keys,
            },
            // Beyond `usize` (a 32-bit target) it means "all of them" just the same.
            past_epochs: usize::try_from(self.past_epochs).unwrap_or(usize::MAX),
            ratchet_tree_in_welcome: flag(self.ratchet_tree_in_welcome)?,
            external_pub: flag(self.external_pub)?,
            ..GroupConfig::default()
        })
    }
}

/// Format version 4: the configuration added since version 1, `struct { optional<uint64>
/// max_leaf_lifetime; uint64 own_leaf_lifetime; uint8 dangerous_application_before_commit; }`
/// (older records load with the defaults).
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct ConfigExtraRecord {
    #[tls_codec(with = "crate::codec::fields::optional")]
    max_leaf_lifetime: Option<u64>,
    own_leaf_lifetime: u64,
    dangerous_application_before_commit: u8,
}

impl ConfigExtraRecord {
    fn of(config: &GroupConfig) -> Self {
        Self {
            max_leaf_lifetime: config.max_leaf_lifetime,
            own_leaf_lifetime: config.own_leaf_lifetime,
            dangerous_application_before_commit: config.dangerous_application_before_commit.into(),
        }
    }

    fn apply(self, config: &mut GroupConfig) -> Result<(), GroupError> {
        config.max_leaf_lifetime = self.max_leaf_lifetime;
        config.own_leaf_lifetime = self.own_leaf_lifetime;
        config.dangerous_application_before_commit =
            flag(self.dangerous_application_before_commit)?;
        Ok(())
    }
}

/// The ratchet tree in its wire form (RFC 9420 §12.4.3.3), and the merge counter that a
/// stored pending commit's diff refers to.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct TreeRecord {
    generation: u64,
    nodes: wire::RatchetTree,
}

/// An HPKE key pair.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct KeyPairRecord {
    #[tls_codec(with = "crate::codec::fields::opaque")]
    private: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    public: HpkePublicKey,
}

impl KeyPairRecord {
    fn of(pair: &HpkeKeyPair) -> Self {
        Self {
            private: Secret::from_slice(pair.private.as_bytes()),
            public: pair.public.clone(),
        }
    }

    fn into_pair(self) -> HpkeKeyPair {
        HpkeKeyPair {
            private: HpkePrivateKey::from(self.private),
            public: self.public,
        }
    }
}

/// The key pair of a node.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct PathKeyRecord {
    node: u32,
    key: KeyPairRecord,
}

impl PathKeyRecord {
    fn of(node: NodeIndex, pair: &HpkeKeyPair) -> Self {
        Self {
            node: node.value(),
            key: KeyPairRecord::of(pair),
        }
    }
}

/// Key pairs of nodes, ascending, from a record.
fn path_keys(
    records: VarVec<PathKeyRecord>,
    ascending: bool,
) -> Result<Vec<(NodeIndex, HpkeKeyPair)>, GroupError> {
    let mut keys: Vec<(NodeIndex, HpkeKeyPair)> = Vec::with_capacity(records.len());
    for r in records.0 {
        let node = node_index(r.node)?;
        if ascending && keys.last().is_some_and(|(x, _)| *x >= node) {
            return Err(GroupError::State("path keys not ascending"));
        }
        keys.push((node, r.key.into_pair()));
    }
    Ok(keys)
}

/// [`PrivateTree`]: our leaf, its key pair, and the key pairs of direct-path nodes (ascending).
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct PrivateTreeRecord {
    leaf: u32,
    leaf_key: KeyPairRecord,
    path: VarVec<PathKeyRecord>,
}

impl PrivateTreeRecord {
    fn of(private: &PrivateTree) -> Self {
        Self {
            leaf: private.leaf().value(),
            leaf_key: KeyPairRecord::of(private.leaf_key()),
            path: VarVec(
                private
                    .path_keys()
                    .iter()
                    .map(|(&x, pair)| PathKeyRecord::of(x, pair))
                    .collect(),
            ),
        }
    }

    fn into_private(self) -> Result<PrivateTree, GroupError> {
        let mut private =
            PrivateTree::from_key_pair(leaf_index(self.leaf)?, self.leaf_key.into_pair());
        private.insert_keys(path_keys(self.path, true)?.into_iter());
        Ok(private)
    }
}

/// [`EpochSecrets`], in the order of RFC 9420 §8, Table 4 (then `init_secret`).
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct EpochSecretsRecord {
    #[tls_codec(with = "crate::codec::fields::opaque")]
    sender_data_secret: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    encryption_secret: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    exporter_secret: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    external_secret: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    confirmation_key: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    membership_key: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    resumption_psk: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    epoch_authenticator: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    init_secret: Secret,
}

/// [`EpochState`]: the key schedule outputs, the secret tree, the interim transcript hash.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct EpochRecord {
    secrets: EpochSecretsRecord,
    secret_tree: SecretTreeRecord,
    interim_transcript_hash: VarBytes,
}

impl EpochRecord {
    fn of(epoch: &EpochState) -> Self {
        Self {
            secrets: Self::of_secrets(epoch),
            secret_tree: epoch.secret_tree.to_record(),
            interim_transcript_hash: VarBytes(epoch.interim_transcript_hash.clone()),
        }
    }

    fn of_secrets(epoch: &EpochState) -> EpochSecretsRecord {
        let s = &epoch.secrets;
        EpochSecretsRecord {
            sender_data_secret: s.sender_data_secret.clone(),
            encryption_secret: s.encryption_secret.clone(),
            exporter_secret: s.exporter_secret.clone(),
            external_secret: s.external_secret.clone(),
            confirmation_key: s.confirmation_key.clone(),
            membership_key: s.membership_key.clone(),
            resumption_psk: s.resumption_psk.clone(),
            epoch_authenticator: s.epoch_authenticator.clone(),
            init_secret: s.init_secret.clone(),
        }
    }

    fn into_epoch(self, ops: &dyn SuiteOps) -> Result<EpochState, GroupError> {
        let s = self.secrets;
        let secrets = EpochSecrets {
            sender_data_secret: s.sender_data_secret,
            encryption_secret: s.encryption_secret,
            exporter_secret: s.exporter_secret,
            external_secret: s.external_secret,
            confirmation_key: s.confirmation_key,
            membership_key: s.membership_key,
            resumption_psk: s.resumption_psk,
            epoch_authenticator: s.epoch_authenticator,
            init_secret: s.init_secret,
            // Moved into the safe exporter when the epoch started; the record keeps the
            // exporter's frontier instead (format 7).
            #[cfg(feature = "extensions")]
            application_export_secret: Secret::new(Vec::new()),
        };
        let nh = ops.params().kdf_len();
        for secret in [
            &secrets.sender_data_secret,
            &secrets.encryption_secret,
            &secrets.exporter_secret,
            &secrets.external_secret,
            &secrets.confirmation_key,
            &secrets.membership_key,
            &secrets.resumption_psk,
            &secrets.epoch_authenticator,
            &secrets.init_secret,
        ] {
            check_len(secret, nh)?;
        }
        Ok(EpochState {
            secrets,
            secret_tree: SecretTree::from_record(ops, self.secret_tree)
                .map_err(GroupError::State)?,
            interim_transcript_hash: self.interim_transcript_hash.0,
            #[cfg(feature = "extensions")]
            exporter: crate::extensions::exporter::SafeExporter::default(),
        })
    }
}

/// A [`CachedProposal`].
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct ProposalRecord {
    reference: VarBytes,
    proposal: Proposal,
    sender: Sender,
}

impl ProposalRecord {
    fn of(p: &CachedProposal) -> Self {
        Self {
            reference: VarBytes(p.reference.clone()),
            proposal: p.proposal.clone(),
            sender: p.sender,
        }
    }
}

/// A [`PastEpoch`].
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct PastEpochRecord {
    context: GroupContext,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    sender_data_secret: Secret,
    secret_tree: SecretTreeRecord,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    resumption_psk: Secret,
}

/// What format 3 adds to a [`PastEpoch`]: `struct { opaque membership_key<V>; LeafKeyRecord
/// replaced<V>; uint32 filled<V>; }`, the key empty when unknown (a record loaded from an
/// older format) and the [`PastSenders`] leaves ascending.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct PastExtraRecord {
    #[tls_codec(with = "crate::codec::fields::opaque")]
    membership_key: Secret,
    replaced: VarVec<LeafKeyRecord>,
    filled: VarVec<u32>,
}

/// `struct { uint32 leaf; opaque signature_key<V>; }`.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct LeafKeyRecord {
    leaf: u32,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    key: SignaturePublicKey,
}

impl PastExtraRecord {
    fn of(p: &PastEpoch) -> Self {
        Self {
            membership_key: p
                .membership_key
                .clone()
                .unwrap_or_else(|| Secret::new(Vec::new())),
            replaced: VarVec(
                p.senders
                    .replaced
                    .iter()
                    .map(|(&leaf, key)| LeafKeyRecord {
                        leaf,
                        key: key.clone(),
                    })
                    .collect(),
            ),
            filled: VarVec(p.senders.filled.clone()),
        }
    }

    fn into_parts(self, hash_len: usize) -> Result<(Option<Secret>, PastSenders), GroupError> {
        let membership_key = if self.membership_key.as_bytes().is_empty() {
            None
        } else {
            check_len(&self.membership_key, hash_len)?;
            Some(self.membership_key)
        };
        if !self
            .filled
            .0
            .windows(2)
            .all(|w| matches!(w, [a, b] if a < b))
        {
            return Err(GroupError::State("past filled leaves not ascending"));
        }
        let mut replaced = BTreeMap::new();
        for r in self.replaced.0 {
            if replaced.last_key_value().is_some_and(|(&l, _)| l >= r.leaf) {
                return Err(GroupError::State("past replaced leaves not ascending"));
            }
            replaced.insert(r.leaf, r.key);
        }
        Ok((
            membership_key,
            PastSenders {
                replaced,
                filled: self.filled.0,
            },
        ))
    }
}

/// An external PSK.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct PskRecord {
    id: VarBytes,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    psk: Secret,
}

/// A node set (or blanked) by a staged diff.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct NodeChange {
    node: u32,
    #[tls_codec(with = "crate::codec::fields::optional")]
    value: Option<Node>,
}

/// A tree hash recomputed by a staged diff.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct NodeHash {
    node: u32,
    hash: VarBytes,
}

/// A [`StagedTree`] (its suite is the group's).
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct StagedTreeRecord {
    base_generation: u64,
    leaf_count: u32,
    min_width: u64,
    changes: VarVec<NodeChange>,
    hashes: VarVec<NodeHash>,
    tree_hash: VarBytes,
}

impl StagedTreeRecord {
    fn of(staged: &StagedTree) -> Self {
        Self {
            base_generation: staged.base_generation,
            leaf_count: staged.leaf_count.value(),
            min_width: u64::try_from(staged.min_width).unwrap_or(u64::MAX),
            changes: VarVec(
                staged
                    .changes
                    .iter()
                    .map(|(x, node)| NodeChange {
                        node: x.value(),
                        value: node.clone(),
                    })
                    .collect(),
            ),
            hashes: VarVec(
                staged
                    .hashes
                    .iter()
                    .map(|(x, hash)| NodeHash {
                        node: x.value(),
                        hash: VarBytes(hash.clone()),
                    })
                    .collect(),
            ),
            tree_hash: VarBytes(staged.tree_hash.clone()),
        }
    }

    /// The staged diff, checked: nodes ascending and inside the new tree, leaves at even
    /// indices, and a new size that the changes could have produced (growing past 4x the
    /// larger of the base size and the number of changes is impossible, since a tree only
    /// doubles when every leaf is taken), so merging cannot allocate beyond the input.
    fn into_staged(self, ops: &dyn SuiteOps, base: &RatchetTree) -> Result<StagedTree, GroupError> {
        let leaf_count =
            LeafCount::new(self.leaf_count).ok_or(GroupError::State("staged leaf count"))?;
        let limit = base
            .leaf_count()
            .value()
            .max(u32::try_from(self.changes.len()).unwrap_or(u32::MAX))
            .saturating_mul(4);
        if leaf_count.value() > limit {
            return Err(GroupError::State(
                "staged tree larger than its changes allow",
            ));
        }
        let width = leaf_count.width();
        let mut changes = BTreeMap::new();
        for c in self.changes.0 {
            let x = node_index(c.node)?;
            if x.value() >= width {
                return Err(GroupError::State("staged node outside the tree"));
            }
            let misplaced = match &c.value {
                Some(Node::Leaf(_)) => !x.is_leaf(),
                Some(Node::Parent(_)) => x.is_leaf(),
                None => false,
            };
            if misplaced {
                return Err(GroupError::State("staged node of the wrong type"));
            }
            if changes.last_key_value().is_some_and(|(&y, _)| y >= x) {
                return Err(GroupError::State("staged nodes not ascending"));
            }
            changes.insert(x, c.value);
        }
        let mut hashes = BTreeMap::new();
        for h in self.hashes.0 {
            let x = node_index(h.node)?;
            if x.value() >= width {
                return Err(GroupError::State("staged hash outside the tree"));
            }
            if hashes.last_key_value().is_some_and(|(&y, _)| y >= x) {
                return Err(GroupError::State("staged hashes not ascending"));
            }
            hashes.insert(x, h.hash.0);
        }
        Ok(StagedTree {
            suite: ops.suite(),
            base_generation: self.base_generation,
            leaf_count,
            min_width: usize::try_from(self.min_width).unwrap_or(usize::MAX),
            changes,
            hashes,
            tree_hash: self.tree_hash.0,
        })
    }
}

/// A node of our new path: where it is, its path secret and its key pair.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct PathNodeRecord {
    node: u32,
    copath: u32,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    path_secret: Secret,
    key: KeyPairRecord,
}

/// A [`PendingUpdatePath`]: our new leaf and the nodes of our filtered direct path.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct OwnPathRecord {
    sender: u32,
    leaf_node: LeafNode,
    nodes: VarVec<PathNodeRecord>,
    leaf_key: KeyPairRecord,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    commit_secret: Secret,
}

impl OwnPathRecord {
    fn of(path: &PendingUpdatePath) -> Result<Self, GroupError> {
        let n = path.filtered.len();
        if path.path_secrets.len() != n || path.node_keys.len() != n {
            return Err(GroupError::Internal("pending path lengths"));
        }
        let nodes = path
            .filtered
            .iter()
            .zip(&path.path_secrets)
            .zip(&path.node_keys)
            .map(|((&(x, copath), secret), pair)| PathNodeRecord {
                node: x.value(),
                copath: copath.value(),
                path_secret: secret.clone(),
                key: KeyPairRecord::of(pair),
            })
            .collect();
        Ok(Self {
            sender: path.sender.value(),
            leaf_node: path.leaf_node.clone(),
            nodes: VarVec(nodes),
            leaf_key: KeyPairRecord::of(&path.leaf_key),
            commit_secret: path.commit_secret.clone(),
        })
    }

    fn into_path(self) -> Result<PendingUpdatePath, GroupError> {
        let mut filtered = Vec::with_capacity(self.nodes.len());
        let mut path_secrets = Vec::with_capacity(self.nodes.len());
        let mut node_keys = Vec::with_capacity(self.nodes.len());
        for n in self.nodes.0 {
            filtered.push((node_index(n.node)?, node_index(n.copath)?));
            path_secrets.push(n.path_secret);
            node_keys.push(n.key.into_pair());
        }
        Ok(PendingUpdatePath {
            sender: leaf_index(self.sender)?,
            leaf_node: self.leaf_node,
            filtered,
            path_secrets,
            node_keys,
            leaf_key: self.leaf_key.into_pair(),
            commit_secret: self.commit_secret,
        })
    }
}

/// A [`DecryptedPath`] (a staged commit of another member; a pending commit of ours never
/// has one, but the record covers every [`PrivateChange`]).
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct DecryptedRecord {
    #[tls_codec(with = "crate::codec::fields::opaque")]
    path_secret: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    commit_secret: Secret,
    keys: VarVec<PathKeyRecord>,
}

/// A [`PrivateChange`].
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
#[repr(u8)]
enum PrivateChangeRecord {
    #[tls_codec(discriminant = 0)]
    None,
    #[tls_codec(discriminant = 1)]
    Decrypted(DecryptedRecord),
    #[tls_codec(discriminant = 2)]
    Own(Box<OwnPathRecord>),
}

impl PrivateChangeRecord {
    fn of(change: &PrivateChange) -> Result<Self, GroupError> {
        Ok(match change {
            PrivateChange::None => Self::None,
            PrivateChange::Decrypted(d) => Self::Decrypted(DecryptedRecord {
                path_secret: d.path_secret.clone(),
                commit_secret: d.commit_secret.clone(),
                keys: VarVec(
                    d.keys
                        .iter()
                        .map(|(x, pair)| PathKeyRecord::of(*x, pair))
                        .collect(),
                ),
            }),
            PrivateChange::Own(p) => Self::Own(Box::new(OwnPathRecord::of(p)?)),
        })
    }

    fn into_change(self) -> Result<PrivateChange, GroupError> {
        Ok(match self {
            Self::None => PrivateChange::None,
            Self::Decrypted(d) => PrivateChange::Decrypted(DecryptedPath {
                path_secret: d.path_secret,
                commit_secret: d.commit_secret,
                keys: path_keys(d.keys, false)?,
            }),
            Self::Own(p) => PrivateChange::Own(Box::new(p.into_path()?)),
        })
    }
}

/// A [`CommitSummary`]; flags are 0 or 1.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct SummaryRecord {
    #[tls_codec(with = "crate::codec::fields::optional")]
    committer: Option<Sender>,
    added: VarVec<u32>,
    removed: VarVec<u32>,
    updated: VarVec<u32>,
    psks: VarVec<PreSharedKeyId>,
    #[tls_codec(with = "crate::codec::fields::optional")]
    reinit: Option<ReInit>,
    extensions_changed: u8,
    has_path: u8,
    self_removed: u8,
    new_epoch: u64,
}

/// Leaf indices from a record.
fn leaves(values: VarVec<u32>) -> Result<Vec<LeafIndex>, GroupError> {
    values.0.into_iter().map(leaf_index).collect()
}

/// Leaf indices for a record.
fn leaf_values(leaves: &[LeafIndex]) -> VarVec<u32> {
    VarVec(leaves.iter().map(|l| l.value()).collect())
}

impl SummaryRecord {
    fn of(s: &CommitSummary) -> Self {
        Self {
            committer: s.committer,
            added: leaf_values(&s.added),
            removed: leaf_values(&s.removed),
            updated: leaf_values(&s.updated),
            psks: VarVec(s.psks.clone()),
            reinit: s.reinit.clone(),
            extensions_changed: s.extensions_changed.into(),
            has_path: s.has_path.into(),
            self_removed: s.self_removed.into(),
            new_epoch: s.new_epoch,
        }
    }

    fn into_summary(self) -> Result<CommitSummary, GroupError> {
        Ok(CommitSummary {
            committer: self.committer,
            added: leaves(self.added)?,
            removed: leaves(self.removed)?,
            updated: leaves(self.updated)?,
            psks: self.psks.0,
            reinit: self.reinit,
            extensions_changed: flag(self.extensions_changed)?,
            has_path: flag(self.has_path)?,
            self_removed: flag(self.self_removed)?,
            new_epoch: self.new_epoch,
            // Not recorded: the record is our own pending commit, whose proposals we made.
            #[cfg(feature = "extensions")]
            app_ephemeral: Vec::new(),
            #[cfg(feature = "extensions")]
            app_data_updated: Vec::new(),
        })
    }
}

/// Our [`PendingCommit`]: the staged commit and the message that was sent.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct PendingCommitRecord {
    base_epoch: u64,
    context: GroupContext,
    tree: StagedTreeRecord,
    private: PrivateChangeRecord,
    #[tls_codec(with = "crate::codec::fields::optional")]
    epoch: Option<EpochRecord>,
    summary: SummaryRecord,
    message: VarBytes,
}

impl PendingCommitRecord {
    fn of(pending: &PendingCommit) -> Result<Self, GroupError> {
        let s = &pending.staged;
        // Our own commit never applies our own Update (RFC 9420 §12.2), so it has no new
        // leaf key to store.
        if s.leaf_key.is_some() {
            return Err(GroupError::Internal("an own commit with a new leaf key"));
        }
        Ok(Self {
            base_epoch: s.base.epoch,
            context: s.context.clone(),
            tree: StagedTreeRecord::of(&s.tree),
            private: PrivateChangeRecord::of(&s.private)?,
            epoch: s.epoch.as_ref().map(EpochRecord::of),
            summary: SummaryRecord::of(&s.summary),
            message: VarBytes(pending.message.clone()),
        })
    }

    fn into_pending(
        self,
        ops: &dyn SuiteOps,
        tree: &RatchetTree,
        base: BaseId,
    ) -> Result<PendingCommit, GroupError> {
        if self.base_epoch != base.epoch {
            return Err(GroupError::State("the pending commit is for another epoch"));
        }
        Ok(PendingCommit {
            staged: StagedCommit {
                base,
                context: self.context,
                tree: self.tree.into_staged(ops, tree)?,
                private: self.private.into_change()?,
                epoch: self.epoch.map(|e| e.into_epoch(ops)).transpose()?,
                summary: self.summary.into_summary()?,
                leaf_key: None,
                decryption: None,
            },
            message: self.message.0,
        })
    }
}

mod incremental;

pub(crate) use incremental::Dirty;

#[cfg(test)]
mod delta_tests;
#[cfg(test)]
mod tests;
