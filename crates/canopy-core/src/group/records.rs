//! A group's state as many small records, and what an operation changed in them
//! ([`StateDelta`]), so that a store writes O(what changed) instead of the whole state.
//!
//! A group is stored as records keyed by [`RecordKey`] (a kind, an epoch and an index). The
//! store keeps each record as opaque bytes and never parses them; only `canopy-core` reads
//! them back (when the group is loaded).
//!
//! | kind | epoch | index | holds | written when |
//! |---|---|---|---|---|
//! | [`Meta`](RecordKind::Meta) | 0 | 0 | configuration, GroupContext, our path keys, epoch secrets (not the secret tree), transcript hash, cached proposals, PSKs, the retained epochs' numbers | every epoch change or proposal |
//! | [`Node`](RecordKind::Node) | 0 | node | one non-blank ratchet tree node (RFC 9420 §7.8 array order) | a commit changes it: O(log n) plus the leaves it adds |
//! | [`SecretNode`](RecordKind::SecretNode) | epoch | node | one node secret of the epoch's secret tree frontier (§9) | a sender's first message of the epoch walks down to its leaf: O(log n) |
//! | [`Ratchet`](RecordKind::Ratchet) | epoch | leaf | one sender's two ratchets (§9.1), with their retained keys | every message sent or received: one record |
//! | [`Past`](RecordKind::Past) | epoch | 0 | a retained past epoch: its context, sender-data secret, membership key, resumption PSK and the senders' old keys | the epoch ends |
//! | [`Pending`](RecordKind::Pending) | 0 | 0 | our own commit, waiting for the Delivery Service | we commit; deleted on merge or discard |
//!
//! A past epoch keeps its secret tree records under its own epoch number, so ending an epoch
//! moves nothing; dropping it from the retained window is one
//! [`Change::DropEpoch`].
//!
//! # Applying a delta
//!
//! A store applies a [`StateDelta`]'s changes **in order, in one transaction**, together with
//! whatever else the operation must make durable (RFC 9420 §9.2 forward secrecy and the
//! persistence contract of the client layer). Applying the deltas of a group in the order
//! they were taken, starting from a [`Change::Reset`], reproduces the group's records.

use canopy_crypto::Secret;

/// What a record holds; see the module documentation for the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum RecordKind {
    /// The group's small per-epoch state (one record).
    Meta,
    /// A ratchet tree node, keyed by its node index.
    Node,
    /// A node secret of an epoch's secret tree, keyed by epoch and node index.
    SecretNode,
    /// A sender's ratchets in an epoch, keyed by epoch and leaf index.
    Ratchet,
    /// A retained past epoch, keyed by its epoch.
    Past,
    /// Our pending commit (one record).
    Pending,
}

impl RecordKind {
    /// Every kind, in the order of their codes.
    pub const ALL: [Self; 6] = [
        Self::Meta,
        Self::Node,
        Self::SecretNode,
        Self::Ratchet,
        Self::Past,
        Self::Pending,
    ];

    /// A stable code for the kind, for a store's key column (1 to 6).
    pub const fn code(self) -> u8 {
        match self {
            Self::Meta => 1,
            Self::Node => 2,
            Self::SecretNode => 3,
            Self::Ratchet => 4,
            Self::Past => 5,
            Self::Pending => 6,
        }
    }

    /// The kind with code `code`, if any.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Meta),
            2 => Some(Self::Node),
            3 => Some(Self::SecretNode),
            4 => Some(Self::Ratchet),
            5 => Some(Self::Past),
            6 => Some(Self::Pending),
            _ => None,
        }
    }

    /// Whether records of this kind belong to one epoch (their key's `epoch` is that epoch,
    /// and [`Change::DropEpoch`] deletes them); otherwise the key's epoch is 0.
    pub const fn is_epoch_scoped(self) -> bool {
        matches!(self, Self::SecretNode | Self::Ratchet | Self::Past)
    }
}

/// The key of one record within a group: a store keys rows by (group id, kind, epoch, index).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKey {
    /// What the record holds.
    pub kind: RecordKind,
    /// The epoch, for [epoch-scoped](RecordKind::is_epoch_scoped) kinds; 0 otherwise.
    pub epoch: u64,
    /// The node or leaf index, where the kind has one; 0 otherwise.
    pub index: u32,
}

impl RecordKey {
    /// The [`RecordKind::Meta`] record.
    pub const META: Self = Self {
        kind: RecordKind::Meta,
        epoch: 0,
        index: 0,
    };

    /// The [`RecordKind::Pending`] record.
    pub const PENDING: Self = Self {
        kind: RecordKind::Pending,
        epoch: 0,
        index: 0,
    };

    /// Tree node `node`.
    pub const fn node(node: u32) -> Self {
        Self {
            kind: RecordKind::Node,
            epoch: 0,
            index: node,
        }
    }

    /// Secret tree node `node` of `epoch`.
    pub const fn secret_node(epoch: u64, node: u32) -> Self {
        Self {
            kind: RecordKind::SecretNode,
            epoch,
            index: node,
        }
    }

    /// The ratchets of `leaf` in `epoch`.
    pub const fn ratchet(epoch: u64, leaf: u32) -> Self {
        Self {
            kind: RecordKind::Ratchet,
            epoch,
            index: leaf,
        }
    }

    /// The retained past epoch `epoch`.
    pub const fn past(epoch: u64) -> Self {
        Self {
            kind: RecordKind::Past,
            epoch,
            index: 0,
        }
    }
}

/// One change to a group's records.
#[derive(Debug)]
#[non_exhaustive]
pub enum Change {
    /// Delete every record of the group (a group written from scratch follows).
    Reset,
    /// Insert the record, or replace it.
    Put {
        /// Which record.
        key: RecordKey,
        /// Its bytes. They may hold secrets, so they are zeroized on drop.
        value: Secret,
    },
    /// Delete the record if it exists.
    Delete(RecordKey),
    /// Delete every [epoch-scoped](RecordKind::is_epoch_scoped) record of this epoch.
    DropEpoch(u64),
}

/// What one or more operations changed in a group's records since they were last taken
/// (taken from the group after each operation): apply its [`changes`](Self::changes)
/// in order, in one transaction.
#[derive(Debug)]
pub struct StateDelta {
    pub(crate) group_id: Vec<u8>,
    pub(crate) changes: Vec<Change>,
}

impl StateDelta {
    /// A delta of `changes` to the records of group `group_id` (for stores' own tests and
    /// tools; groups make theirs).
    pub fn new(group_id: Vec<u8>, changes: Vec<Change>) -> Self {
        Self { group_id, changes }
    }

    /// The group whose records change.
    pub fn group_id(&self) -> &[u8] {
        &self.group_id
    }

    /// The changes, to apply in order.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The number of bytes the changes write (the sum of the records put).
    pub fn written_bytes(&self) -> usize {
        self.changes
            .iter()
            .map(|c| match c {
                Change::Put { value, .. } => value.len(),
                _ => 0,
            })
            .sum()
    }

    /// The changes, to apply in order.
    pub fn into_changes(self) -> Vec<Change> {
        self.changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_codes_round_trip_and_are_distinct() {
        for (i, kind) in RecordKind::ALL.iter().enumerate() {
            assert_eq!(RecordKind::from_code(kind.code()), Some(*kind));
            assert_eq!(usize::from(kind.code()), i + 1);
        }
        assert_eq!(RecordKind::from_code(0), None);
        assert_eq!(RecordKind::from_code(7), None);
    }

    #[test]
    fn only_secret_tree_and_past_records_belong_to_an_epoch() {
        let scoped: Vec<_> = RecordKind::ALL
            .iter()
            .filter(|k| k.is_epoch_scoped())
            .collect();
        assert_eq!(
            scoped,
            [
                &RecordKind::SecretNode,
                &RecordKind::Ratchet,
                &RecordKind::Past
            ]
        );
    }
}
