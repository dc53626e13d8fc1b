//! A loaded group and what the client keeps about each group outside its records: the
//! group index row (owning identity, membership status), the roster.

use canopy_core::group::Group;
use canopy_core::tree::math::LeafIndex;
use canopy_core::wire::{Credential, Node};
use canopy_crypto::SignaturePublicKey;

use crate::ClientError;
use crate::codec::{RowReader, RowWriter};

/// A group in memory, with the store version it was loaded at or last written as.
pub(crate) struct Slot {
    pub(crate) group: Group,
    pub(crate) version: u64,
    /// The identity that is the member.
    pub(crate) identity: String,
}

/// Whether this client is still a member of a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MembershipStatus {
    /// A member, in this epoch.
    Member {
        /// The group's current epoch.
        epoch: u64,
    },
    /// Removed by the commit that ended `epoch` (RFC 9420 §12.1.3). The group's secrets are
    /// deleted; only this status remains.
    Removed {
        /// Our last epoch in the group.
        epoch: u64,
    },
}

/// One member of a group: its leaf and credential (RFC 9420 §7.1, §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Member {
    /// Its leaf index.
    pub leaf: LeafIndex,
    /// Its credential.
    pub credential: Credential,
    /// Its signature public key.
    pub signature_key: SignaturePublicKey,
}

/// The members of `group`, in leaf order.
pub(crate) fn roster(group: &Group) -> Vec<Member> {
    group
        .tree()
        .nodes()
        .iter()
        .step_by(2)
        .enumerate()
        .filter_map(|(i, node)| match node {
            Some(Node::Leaf(leaf)) => {
                let leaf_index = LeafIndex::new(u32::try_from(i).ok()?)?;
                Some(Member {
                    leaf: leaf_index,
                    credential: leaf.credential.clone(),
                    signature_key: leaf.signature_key.clone(),
                })
            }
            _ => None,
        })
        .collect()
}

const MEMBER: u8 = 0;
const REMOVED: u8 = 1;

/// The group index row ([`Table::GroupIndex`](canopy_store::Table)) of one group: which
/// identity is the member, and whether it still is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IndexRow {
    pub(crate) identity: String,
    /// `Some(epoch)` once removed.
    pub(crate) removed_in: Option<u64>,
}

impl IndexRow {
    pub(crate) fn member(identity: &str) -> Self {
        Self {
            identity: identity.to_owned(),
            removed_in: None,
        }
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, ClientError> {
        let (status, epoch) = match self.removed_in {
            None => (MEMBER, 0),
            Some(e) => (REMOVED, e),
        };
        Ok(RowWriter::new()
            .bytes(self.identity.as_bytes())?
            .u8(status)
            .u64(epoch)
            .finish())
    }

    pub(crate) fn decode(row: &[u8]) -> Result<Self, ClientError> {
        const WHAT: &str = "group index row";
        let mut r = RowReader::new(row, WHAT)?;
        let identity =
            String::from_utf8(r.bytes()?.to_vec()).map_err(|_| ClientError::Corrupt(WHAT))?;
        let status = r.u8()?;
        let epoch = r.u64()?;
        r.finish()?;
        let removed_in = match status {
            MEMBER => None,
            REMOVED => Some(epoch),
            _ => return Err(ClientError::Corrupt(WHAT)),
        };
        Ok(Self {
            identity,
            removed_in,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_rows_round_trip() {
        for row in [
            IndexRow::member("alice"),
            IndexRow {
                identity: "bob".into(),
                removed_in: Some(7),
            },
        ] {
            assert_eq!(IndexRow::decode(&row.encode().unwrap()).unwrap(), row);
        }
        let mut bad = IndexRow::member("x").encode().unwrap();
        let status = bad.len() - 9;
        bad[status] = 9;
        assert!(IndexRow::decode(&bad).is_err());
    }
}
