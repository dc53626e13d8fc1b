//! A loaded group, and what the client keeps about each group outside its records: the
//! group index row (the owning identity).

use canopy_core::group::Group;

use crate::ClientError;
use crate::codec::{RowReader, RowWriter};

/// A group in memory, with the store version it was loaded at or last written as.
pub(crate) struct Slot {
    pub(crate) group: Group,
    pub(crate) version: u64,
}

/// The group index row ([`Table::GroupIndex`](canopy_store::Table)) of one group: which
/// identity is the member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IndexRow {
    pub(crate) identity: String,
}

impl IndexRow {
    pub(crate) fn member(identity: &str) -> Self {
        Self {
            identity: identity.to_owned(),
        }
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, ClientError> {
        Ok(RowWriter::new().bytes(self.identity.as_bytes())?.finish())
    }

    pub(crate) fn decode(row: &[u8]) -> Result<Self, ClientError> {
        const WHAT: &str = "group index row";
        let mut r = RowReader::new(row, WHAT)?;
        let identity =
            String::from_utf8(r.bytes()?.to_vec()).map_err(|_| ClientError::Corrupt(WHAT))?;
        r.finish()?;
        Ok(Self { identity })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_rows_round_trip() {
        let row = IndexRow::member("alice");
        let bytes = row.encode().unwrap();
        assert_eq!(IndexRow::decode(&bytes).unwrap(), row);
        let mut long = bytes;
        long.push(0);
        assert!(IndexRow::decode(&long).is_err());
    }
}
