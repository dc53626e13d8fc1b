//! State format versions 5 to 7: the group as records ([`RecordKey`], see `group::records`), and
//! what changed since they were last taken ([`Group::take_delta`]).
//!
//! Records (each the TLS presentation of a struct, RFC 9420 §2.1):
//!
//! ```text
//! Meta:        struct {
//!                  uint8 format_version;              // 7 (or 5, 6)
//!                  ConfigRecord config; ConfigExtraRecord config_extra;
//!                  GroupContext context;
//!                  uint64 tree_generation; uint32 leaf_count;
//!                  PrivateTreeRecord private;         // our leaf and path keys: O(log n)
//!                  EpochSecretsRecord secrets;
//!                  SecretTreeHeader secret_tree;      // { uint32 leaves; uint32
//!                                                     //   max_forward_distance;
//!                                                     //   uint32 max_retained_keys; }
//!                  opaque interim_transcript_hash<V>;
//!                  ProposalRecord proposals<V>;
//!                  PskRecord psks<V>;
//!                  LifecycleRecord lifecycle;
//!                  uint64 past<V>;                    // retained epochs, newest first
//!              } MetaRecord;
//!              followed, in versions 6 and 7, by
//!              struct { optional<uint64> removed; } MetaTail;  // first epoch we are
//!                                                               // not a member of
//!              and, in version 7, by
//!              struct { ExporterNodeRecord frontier<V>; } ExporterTail;
//!                  // the safe exporter (extensions draft §Exported Secrets):
//!                  // struct { uint32 node; opaque secret<V>; }, empty without the
//!                  // `extensions` feature
//! Node:        Node (RFC 9420 §7.8), only for non-blank nodes
//! SecretNode:  struct { uint32 node; opaque secret<V>; }   // the key's index
//! Ratchet:     LeafRatchetsRecord                         // its leaf is the key's index
//! Past:        struct { GroupContext context; opaque sender_data_secret<V>;
//!                       opaque resumption_psk<V>; SecretTreeHeader secret_tree;
//!                       PastExtraRecord extra; } PastRecord;
//! Pending:     PendingCommitRecord
//! ```
//!
//! The signature private key is in none of them: the group holds a [`Signer`], which the
//! caller gives again when loading.
//!
//! [`Group::to_bytes`] writes version 7 as all the records in one buffer:
//! `uint8 format_version; struct { uint8 kind; uint64 epoch; uint32 index; opaque
//! value<V>; } records<V>;`, in key order.
//!
//! Loading checks that the records fit together: exactly one Meta, every node inside the
//! tree and of the right type, secret tree records only for the current and the retained
//! epochs (each where the epoch's tree has room for it), a Past record for each retained
//! epoch and for no other; then the checks of every other version (the tree matches the
//! GroupContext, our keys match the tree). Leaf signatures are not verified again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use canopy_crypto::{CryptoProvider, Secret, Signer};
use tls_codec::{
    DeserializeBytes as _, Serialize as _, Size as _, TlsDeserializeBytes, TlsSerialize, TlsSize,
};
use zeroize::Zeroizing;

use super::{
    ConfigExtraRecord, ConfigRecord, EpochRecord, EpochSecretsRecord, GroupRecord, LifecycleRecord,
    PastEpochRecord, PastExtraRecord, PendingCommitRecord, PrivateTreeRecord, ProposalRecord,
    PskRecord, STATE_FORMAT_VERSION, StateParts, TreeRecord,
};
use crate::codec::{CodecError, Limits, VarBytes, VarVec, decode_exact, with_limits};
use crate::group::records::{Change, RecordKey, RecordKind, StateDelta};
use crate::group::{Group, GroupError, PastEpoch};
use crate::schedule::{FrontierSecret, LeafRatchetsRecord, SecretTreeHeader, SecretTreeRecord};
use crate::tree::TreeRead;
use crate::tree::math::LeafCount;
use crate::wire::{self, GroupContext, Node};

/// What changed in a group's records since they were last taken. The secret trees keep
/// their own account (`SecretTree::changes`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Dirty {
    /// Every record: the group is new, or was restored from a whole-state export.
    all: bool,
    meta: bool,
    /// Tree nodes, written or deleted as the tree now has them.
    nodes: BTreeSet<u32>,
    /// Past epochs whose Past record is new.
    past: BTreeSet<u64>,
    /// Epochs no longer retained: every record of theirs goes.
    dropped: BTreeSet<u64>,
    pending: bool,
}

impl Dirty {
    /// Every record is to be written.
    pub(crate) fn everything() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// The Meta record changed.
    pub(crate) fn meta(&mut self) {
        self.meta = true;
    }

    /// The pending commit was made, merged or discarded.
    pub(crate) fn pending(&mut self) {
        self.pending = true;
    }

    /// These tree nodes changed.
    pub(crate) fn nodes(&mut self, nodes: impl IntoIterator<Item = u32>) {
        if !self.all {
            self.nodes.extend(nodes);
        }
    }

    /// Epoch `epoch` became a retained past epoch.
    pub(crate) fn past(&mut self, epoch: u64) {
        self.past.insert(epoch);
    }

    /// Epoch `epoch` is no longer retained.
    pub(crate) fn dropped(&mut self, epoch: u64) {
        self.past.remove(&epoch);
        self.dropped.insert(epoch);
    }
}

/// The Meta record; see the module docs.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct MetaRecord {
    format_version: u8,
    config: ConfigRecord,
    config_extra: ConfigExtraRecord,
    context: GroupContext,
    tree_generation: u64,
    leaf_count: u32,
    private: PrivateTreeRecord,
    secrets: EpochSecretsRecord,
    secret_tree: SecretTreeHeader,
    interim_transcript_hash: VarBytes,
    proposals: VarVec<ProposalRecord>,
    psks: VarVec<PskRecord>,
    lifecycle: LifecycleRecord,
    past: VarVec<u64>,
}

/// The Meta record as version 7 writes it.
#[derive(TlsSerialize, TlsSize)]
struct MetaRecordV7 {
    meta: MetaRecord,
    tail: MetaTail,
    exporter: ExporterTail,
}

/// What version 7 adds after the `MetaTail`; see the module docs.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct ExporterTail {
    frontier: VarVec<ExporterNodeRecord>,
}

/// One node of the safe exporter's frontier.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct ExporterNodeRecord {
    node: u32,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    secret: Secret,
}

/// What versions 6 and 7 add after the `MetaRecord`; see the module docs.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct MetaTail {
    #[tls_codec(with = "crate::codec::fields::optional")]
    removed: Option<u64>,
}

/// A Past record; see the module docs.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
pub(super) struct PastRecord {
    context: GroupContext,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    sender_data_secret: Secret,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    resumption_psk: Secret,
    secret_tree: SecretTreeHeader,
    pub(super) extra: PastExtraRecord,
}

#[cfg(test)]
pub(super) type PastRecordForTests = PastRecord;

/// One record of a whole-state export.
#[derive(TlsSerialize, TlsDeserializeBytes, TlsSize)]
struct ExportedRecord {
    kind: u8,
    epoch: u64,
    index: u32,
    #[tls_codec(with = "crate::codec::fields::opaque")]
    value: Secret,
}

/// `value` encoded into a buffer of its exact size, zeroized on drop.
fn secret_encoding<T: tls_codec::Serialize + tls_codec::Size>(
    value: &T,
) -> Result<Secret, GroupError> {
    let mut out = Zeroizing::new(Vec::with_capacity(value.tls_serialized_len()));
    value.tls_serialize(&mut *out).map_err(CodecError::from)?;
    Ok(Secret::new(core::mem::take(&mut *out)))
}

impl Group {
    /// Every record of the group's state, in key order (see [`RecordKey`]). A store that
    /// writes them all holds the group; [`Group::take_delta`] then says what to change.
    ///
    /// # Errors
    /// [`GroupError::Codec`] if a field is too long to encode.
    pub fn records(&self) -> Result<Vec<(RecordKey, Secret)>, GroupError> {
        let mut out = Vec::new();
        out.push((RecordKey::META, self.meta_record()?));
        for (x, node) in self.tree.nodes().iter().enumerate() {
            if let Some(node) = node {
                let index = u32::try_from(x).map_err(|_| GroupError::Internal("node index"))?;
                out.push((RecordKey::node(index), secret_encoding(node)?));
            }
        }
        let epochs = core::iter::once((self.context.epoch, &self.epoch.secret_tree))
            .chain(self.past.iter().map(|p| (p.context.epoch, &p.secret_tree)));
        for (epoch, tree) in epochs {
            for f in tree.frontier_records() {
                out.push((
                    RecordKey::secret_node(epoch, f.node()),
                    secret_encoding(&f)?,
                ));
            }
            for r in tree.ratchet_records() {
                out.push((RecordKey::ratchet(epoch, r.leaf()), secret_encoding(&r)?));
            }
        }
        for past in &self.past {
            out.push((RecordKey::past(past.context.epoch), past_record(past)?));
        }
        if let Some(pending) = self.pending.as_deref() {
            out.push((
                RecordKey::PENDING,
                secret_encoding(&PendingCommitRecord::of(pending)?)?,
            ));
        }
        out.sort_by_key(|(key, _)| *key);
        Ok(out)
    }

    /// What changed in the group's records since the last call (or since the group was
    /// made: then a [`Change::Reset`] and every record), to apply in one transaction. A
    /// commit changes the Meta record, O(log n) tree nodes plus the leaves it adds, the new
    /// epoch's secret tree root and the old epoch's Past record; an application message
    /// changes one sender's ratchets (and, for a sender's first message of the epoch,
    /// O(log n) secret tree nodes).
    ///
    /// Taking the delta forgets the changes: if the store fails to write it, load the group
    /// again from the store rather than going on with this value (whose changes would be
    /// missing from the next delta).
    ///
    /// # Errors
    /// [`GroupError::Codec`] if a field is too long to encode; nothing is forgotten then.
    pub fn take_delta(&mut self) -> Result<StateDelta, GroupError> {
        let changes = self.delta_changes()?;
        self.dirty = Dirty::default();
        self.epoch.secret_tree.forget_changes();
        for past in &mut self.past {
            past.secret_tree.forget_changes();
        }
        Ok(StateDelta {
            group_id: self.context.group_id.0.clone(),
            changes,
        })
    }

    /// Whether the group changed since its delta was last taken.
    pub fn has_changes(&self) -> bool {
        let d = &self.dirty;
        d.all
            || d.meta
            || d.pending
            || !d.nodes.is_empty()
            || !d.past.is_empty()
            || !d.dropped.is_empty()
            || self.epoch.secret_tree.has_changes()
            || self.past.iter().any(|p| p.secret_tree.has_changes())
    }

    fn delta_changes(&self) -> Result<Vec<Change>, GroupError> {
        let d = &self.dirty;
        if d.all {
            let mut changes = vec![Change::Reset];
            changes.extend(
                self.records()?
                    .into_iter()
                    .map(|(key, value)| Change::Put { key, value }),
            );
            return Ok(changes);
        }
        let mut changes = Vec::new();
        if d.meta {
            changes.push(Change::Put {
                key: RecordKey::META,
                value: self.meta_record()?,
            });
        }
        let nodes = self.tree.nodes();
        for &x in &d.nodes {
            let key = RecordKey::node(x);
            let node = usize::try_from(x)
                .ok()
                .and_then(|i| nodes.get(i))
                .and_then(Option::as_ref);
            changes.push(match node {
                Some(node) => Change::Put {
                    key,
                    value: secret_encoding(node)?,
                },
                None => Change::Delete(key),
            });
        }
        let epochs = core::iter::once((self.context.epoch, &self.epoch.secret_tree))
            .chain(self.past.iter().map(|p| (p.context.epoch, &p.secret_tree)));
        for (epoch, tree) in epochs {
            let c = tree.changes();
            for (node, secret) in c.nodes {
                let key = RecordKey::secret_node(epoch, node);
                changes.push(match secret {
                    Some(secret) => Change::Put {
                        key,
                        value: secret_encoding(&secret)?,
                    },
                    None => Change::Delete(key),
                });
            }
            for r in c.leaves {
                changes.push(Change::Put {
                    key: RecordKey::ratchet(epoch, r.leaf()),
                    value: secret_encoding(&r)?,
                });
            }
        }
        for past in self
            .past
            .iter()
            .filter(|p| d.past.contains(&p.context.epoch))
        {
            changes.push(Change::Put {
                key: RecordKey::past(past.context.epoch),
                value: past_record(past)?,
            });
        }
        changes.extend(d.dropped.iter().map(|&e| Change::DropEpoch(e)));
        if d.pending {
            changes.push(match self.pending.as_deref() {
                Some(pending) => Change::Put {
                    key: RecordKey::PENDING,
                    value: secret_encoding(&PendingCommitRecord::of(pending)?)?,
                },
                None => Change::Delete(RecordKey::PENDING),
            });
        }
        Ok(changes)
    }

    fn meta_record(&self) -> Result<Secret, GroupError> {
        let e = EpochRecord::of_secrets(&self.epoch);
        let meta = MetaRecord {
            format_version: STATE_FORMAT_VERSION,
            config: ConfigRecord::of(&self.config),
            config_extra: ConfigExtraRecord::of(&self.config),
            context: self.context.clone(),
            tree_generation: self.tree.generation(),
            leaf_count: self.tree.leaf_count().value(),
            private: PrivateTreeRecord::of(&self.private),
            secrets: e,
            secret_tree: self.epoch.secret_tree.header(),
            interim_transcript_hash: VarBytes(self.epoch.interim_transcript_hash.clone()),
            proposals: VarVec(self.proposals.iter().map(ProposalRecord::of).collect()),
            psks: VarVec(
                self.psks
                    .iter()
                    .map(|(id, psk)| PskRecord {
                        id: VarBytes(id.clone()),
                        psk: psk.clone(),
                    })
                    .collect(),
            ),
            lifecycle: self.lifecycle_record(),
            past: VarVec(self.past.iter().map(|p| p.context.epoch).collect()),
        };
        #[cfg(feature = "extensions")]
        let frontier = self
            .epoch
            .exporter
            .frontier()
            .map(|(node, secret)| ExporterNodeRecord {
                node,
                secret: secret.clone(),
            })
            .collect();
        #[cfg(not(feature = "extensions"))]
        let frontier = Vec::new();
        secret_encoding(&MetaRecordV7 {
            meta,
            tail: MetaTail {
                removed: self.removed,
            },
            exporter: ExporterTail {
                frontier: VarVec(frontier),
            },
        })
    }

    /// The whole state as version-6 bytes: every record of [`Group::records`].
    pub(super) fn export_records(&self) -> Result<Secret, GroupError> {
        let records = self
            .records()?
            .into_iter()
            .map(|(key, value)| ExportedRecord {
                kind: key.kind.code(),
                epoch: key.epoch,
                index: key.index,
                value,
            })
            .collect();
        let records = VarVec(records);
        let mut out = Zeroizing::new(Vec::with_capacity(
            records.tls_serialized_len().saturating_add(1),
        ));
        out.push(STATE_FORMAT_VERSION);
        records.tls_serialize(&mut *out).map_err(CodecError::from)?;
        Ok(Secret::new(core::mem::take(&mut *out)))
    }

    /// Loads a group from its records, as a store returns them (in any order): the records
    /// [`Group::records`] gave, changed by every [`StateDelta`] taken since. `signer` signs
    /// for us; it must be the key of our leaf. `crypto` must support the group's suite.
    ///
    /// Costs O(n) to rebuild the tree's hashes and indexes; signatures are not verified
    /// again (the tree was validated when it was received).
    ///
    /// # Errors
    /// [`GroupError::StateVersion`] for a Meta record of another format version,
    /// [`GroupError::Codec`] for a record that does not decode exactly,
    /// [`GroupError::State`] for records that do not fit together (see the module docs of
    /// `group::records`), [`GroupError::SignerMismatch`] for a signer that is not our
    /// leaf's, [`GroupError::Tree`] for a tree that cannot be rebuilt,
    /// [`GroupError::Crypto`] for an unsupported suite.
    pub fn from_records<I, B>(
        crypto: &dyn CryptoProvider,
        records: I,
        signer: Arc<dyn Signer>,
    ) -> Result<Self, GroupError>
    where
        I: IntoIterator<Item = (RecordKey, B)>,
        B: AsRef<[u8]>,
    {
        with_limits(Limits::UNLIMITED, || {
            let parts = assemble(records)?;
            let mut group = Self::from_parts(crypto, parts, Some(signer))?;
            group.dirty = Dirty::default();
            Ok(group)
        })
    }

    /// A version-5 or 6 whole-state export (after its version byte).
    pub(super) fn import_records(
        crypto: &dyn CryptoProvider,
        body: &[u8],
        signer: Option<Arc<dyn Signer>>,
    ) -> Result<Self, GroupError> {
        let signer = signer.ok_or(GroupError::State(
            "a version-5 or 6 state holds no signature key: give the signer",
        ))?;
        let records = decode_exact::<VarVec<ExportedRecord>>(body)?;
        let mut keyed = Vec::with_capacity(records.len());
        let mut last: Option<RecordKey> = None;
        for r in records.0 {
            let key = record_key(r.kind, r.epoch, r.index)?;
            if last.is_some_and(|l| l >= key) {
                return Err(GroupError::State("exported records not in key order"));
            }
            last = Some(key);
            keyed.push((key, r.value));
        }
        let parts = assemble(keyed.iter().map(|(k, v)| (*k, v.as_bytes())))?;
        let mut group = Self::from_parts(crypto, parts, Some(signer))?;
        group.dirty = Dirty::everything();
        Ok(group)
    }
}

/// A record key from its stored parts.
fn record_key(kind: u8, epoch: u64, index: u32) -> Result<RecordKey, GroupError> {
    let kind = RecordKind::from_code(kind).ok_or(GroupError::State("record kind"))?;
    if !kind.is_epoch_scoped() && epoch != 0 {
        return Err(GroupError::State("an epoch on a record of no epoch"));
    }
    let indexed = matches!(
        kind,
        RecordKind::Node | RecordKind::SecretNode | RecordKind::Ratchet
    );
    if !indexed && index != 0 {
        return Err(GroupError::State("an index on a record of no index"));
    }
    Ok(RecordKey { kind, epoch, index })
}

fn past_record(past: &PastEpoch) -> Result<Secret, GroupError> {
    secret_encoding(&PastRecord {
        context: past.context.clone(),
        sender_data_secret: past.sender_data_secret.clone(),
        resumption_psk: past.resumption_psk.clone(),
        secret_tree: past.secret_tree.header(),
        extra: PastExtraRecord::of(past),
    })
}

/// The secret tree records of one epoch.
#[derive(Default)]
struct EpochSecrets {
    frontier: Vec<FrontierSecret>,
    ratchets: Vec<LeafRatchetsRecord>,
}

/// The records of a group, put back together as the parts every format version loads
/// through.
fn assemble<I, B>(records: I) -> Result<StateParts, GroupError>
where
    I: IntoIterator<Item = (RecordKey, B)>,
    B: AsRef<[u8]>,
{
    let mut meta = None;
    let mut nodes = Vec::new();
    let mut secrets: BTreeMap<u64, EpochSecrets> = BTreeMap::new();
    let mut past = BTreeMap::new();
    let mut pending = None;
    let mut seen = BTreeSet::new();
    for (key, value) in records {
        let value = value.as_ref();
        record_key(key.kind.code(), key.epoch, key.index)?;
        if !seen.insert(key) {
            return Err(GroupError::State("a record given twice"));
        }
        match key.kind {
            RecordKind::Meta => meta = Some(decode_meta(value)?),
            RecordKind::Node => nodes.push((key.index, decode_exact::<Node>(value)?)),
            RecordKind::SecretNode => {
                let f = decode_exact::<FrontierSecret>(value)?;
                if f.node() != key.index {
                    return Err(GroupError::State("a secret node record under another node"));
                }
                secrets.entry(key.epoch).or_default().frontier.push(f);
            }
            RecordKind::Ratchet => {
                let r = decode_exact::<LeafRatchetsRecord>(value)?;
                if r.leaf() != key.index {
                    return Err(GroupError::State("a ratchet record under another leaf"));
                }
                secrets.entry(key.epoch).or_default().ratchets.push(r);
            }
            RecordKind::Past => {
                past.insert(key.epoch, decode_exact::<PastRecord>(value)?);
            }
            RecordKind::Pending => pending = Some(decode_exact::<PendingCommitRecord>(value)?),
        }
    }
    let (meta, MetaTail { removed }, exporter): (MetaRecord, MetaTail, ExporterTail) =
        meta.ok_or(GroupError::State("no Meta record"))?;
    let leaf_count = LeafCount::new(meta.leaf_count).ok_or(GroupError::State("leaf count"))?;
    nodes.sort_by_key(|(x, _)| *x);
    if nodes.last().is_some_and(|(x, _)| *x >= leaf_count.width()) {
        return Err(GroupError::State("a node outside the tree"));
    }
    let tree = wire::RatchetTree::from_indexed(nodes)?;
    let current = meta.context.epoch;
    let mut take_tree = |epoch: u64, header: SecretTreeHeader| {
        let EpochSecrets {
            mut frontier,
            mut ratchets,
        } = secrets.remove(&epoch).unwrap_or_default();
        frontier.sort_by_key(FrontierSecret::node);
        ratchets.sort_by_key(LeafRatchetsRecord::leaf);
        SecretTreeRecord::assemble(header, frontier, ratchets)
    };
    let secret_tree = take_tree(current, meta.secret_tree);
    let mut past_epochs = Vec::with_capacity(meta.past.len());
    let mut past_extra = Vec::with_capacity(meta.past.len());
    let mut previous = current;
    for &epoch in &meta.past.0 {
        if epoch >= previous {
            return Err(GroupError::State("past epochs not descending"));
        }
        previous = epoch;
        let p = past.remove(&epoch).ok_or(GroupError::State(
            "a retained epoch without its Past record",
        ))?;
        if p.context.epoch != epoch {
            return Err(GroupError::State("a Past record of another epoch"));
        }
        past_epochs.push(PastEpochRecord {
            context: p.context,
            sender_data_secret: p.sender_data_secret,
            secret_tree: take_tree(epoch, p.secret_tree),
            resumption_psk: p.resumption_psk,
        });
        past_extra.push(p.extra);
    }
    if !past.is_empty() {
        return Err(GroupError::State("a Past record of an epoch not retained"));
    }
    if !secrets.is_empty() {
        return Err(GroupError::State(
            "secret tree records of an epoch not retained",
        ));
    }
    Ok(StateParts {
        record: GroupRecord {
            config: meta.config,
            context: meta.context,
            tree: TreeRecord {
                generation: meta.tree_generation,
                nodes: tree,
            },
            private: meta.private,
            signer: Secret::new(Vec::new()),
            epoch: EpochRecord {
                secrets: meta.secrets,
                secret_tree,
                interim_transcript_hash: meta.interim_transcript_hash,
            },
            proposals: meta.proposals,
            past: VarVec(past_epochs),
            psks: meta.psks,
            pending,
        },
        lifecycle: meta.lifecycle,
        past_extra: Some(VarVec(past_extra)),
        config_extra: Some(meta.config_extra),
        leaf_count: Some(leaf_count),
        removed,
        exporter: exporter
            .frontier
            .0
            .into_iter()
            .map(|r| (r.node, r.secret))
            .collect(),
    })
}

/// A Meta record: version 5 is the `MetaRecord` alone, version 6 adds the `MetaTail`,
/// version 7 the `ExporterTail`.
fn decode_meta(value: &[u8]) -> Result<(MetaRecord, MetaTail, ExporterTail), GroupError> {
    let no_exporter = || ExporterTail {
        frontier: VarVec(Vec::new()),
    };
    match value.first() {
        Some(&5) => Ok((
            decode_exact::<MetaRecord>(value)?,
            MetaTail { removed: None },
            no_exporter(),
        )),
        Some(&6) => {
            let (meta, rest) =
                MetaRecord::tls_deserialize_bytes(value).map_err(CodecError::from)?;
            Ok((meta, decode_exact::<MetaTail>(rest)?, no_exporter()))
        }
        Some(&STATE_FORMAT_VERSION) => {
            let (meta, rest) =
                MetaRecord::tls_deserialize_bytes(value).map_err(CodecError::from)?;
            let (tail, rest) = MetaTail::tls_deserialize_bytes(rest).map_err(CodecError::from)?;
            Ok((meta, tail, decode_exact::<ExporterTail>(rest)?))
        }
        Some(&found) => Err(GroupError::StateVersion {
            found,
            supported: STATE_FORMAT_VERSION,
        }),
        None => Err(CodecError::Truncated.into()),
    }
}
