//! Rows to values and back: integer mappings, column type checks, sealing and opening, and
//! the reads shared by [`SqliteStore`](super::SqliteStore) and [`SqliteTx`](super::SqliteTx).
//!
//! Every column read is checked: a wrong type, a kind code that is not a
//! [`RecordKind`], an index outside `u32`, a version outside `1..=i64::MAX`, or a value that
//! does not authenticate is [`StoreError::Corrupt`].

use std::borrow::Cow;

use canopy_core::group::{RecordKey, RecordKind};
use canopy_crypto::Secret;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row};

use crate::seal::{self, Cipher};
use crate::{LoadedGroup, StoreError, Table};

/// A u64 epoch as the SQLite INTEGER with the same 64 bits (two's complement): lossless,
/// and never out of range. Epochs up to 2^63-1 are stored as themselves.
pub(crate) fn epoch_to_sql(epoch: u64) -> i64 {
    i64::from_ne_bytes(epoch.to_ne_bytes())
}

/// The inverse of [`epoch_to_sql`].
pub(crate) fn epoch_from_sql(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

/// A group version as an INTEGER.
pub(crate) fn version_to_sql(version: u64) -> Result<i64, StoreError> {
    i64::try_from(version)
        .map_err(|_| StoreError::corrupt("group version", "above the INTEGER range"))
}

/// A stored group version; versions start at 1.
pub(crate) fn version_from_sql(v: i64) -> Result<u64, StoreError> {
    match u64::try_from(v) {
        Ok(version) if version > 0 => Ok(version),
        _ => Err(StoreError::corrupt(
            "group version",
            format!("{v} is not a version"),
        )),
    }
}

fn kind_from_sql(v: i64) -> Result<RecordKind, StoreError> {
    u8::try_from(v)
        .ok()
        .and_then(RecordKind::from_code)
        .ok_or_else(|| StoreError::corrupt("group record kind", format!("unknown code {v}")))
}

fn index_from_sql(v: i64) -> Result<u32, StoreError> {
    u32::try_from(v)
        .map_err(|_| StoreError::corrupt("group record index", format!("{v} is outside u32")))
}

fn type_name(v: ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "INTEGER",
        ValueRef::Real(_) => "REAL",
        ValueRef::Text(_) => "TEXT",
        ValueRef::Blob(_) => "BLOB",
    }
}

/// Column `i` of `row`, which must be an INTEGER.
pub(crate) fn int(row: &Row<'_>, i: usize, what: &'static str) -> Result<i64, StoreError> {
    match row.get_ref(i)? {
        ValueRef::Integer(v) => Ok(v),
        other => Err(StoreError::corrupt(
            what,
            format!("{} where an INTEGER belongs", type_name(other)),
        )),
    }
}

/// Column `i` of `row`, which must be a BLOB.
pub(crate) fn blob<'r>(
    row: &'r Row<'_>,
    i: usize,
    what: &'static str,
) -> Result<&'r [u8], StoreError> {
    match row.get_ref(i)? {
        ValueRef::Blob(b) => Ok(b),
        other => Err(StoreError::corrupt(
            what,
            format!("{} where a BLOB belongs", type_name(other)),
        )),
    }
}

/// The bytes to store for `plaintext` in `row`: sealed, or as they are without encryption.
pub(crate) fn seal<'v>(
    cipher: Option<&Cipher>,
    row: seal::Row<'_>,
    plaintext: &'v [u8],
) -> Result<Cow<'v, [u8]>, StoreError> {
    match cipher {
        Some(c) => c.seal(row, plaintext).map(Cow::Owned),
        None => Ok(Cow::Borrowed(plaintext)),
    }
}

/// The value stored as `stored` in `row`.
pub(crate) fn open(
    cipher: Option<&Cipher>,
    row: seal::Row<'_>,
    stored: &[u8],
) -> Result<Secret, StoreError> {
    match cipher {
        Some(c) => c.open(row, stored),
        None => Ok(Secret::from_slice(stored)),
    }
}

/// The version of `group_id`.
pub(crate) fn read_version(conn: &Connection, group_id: &[u8]) -> Result<Option<u64>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT version FROM canopy_groups WHERE group_id = ?1")?;
    let v = stmt
        .query_row([group_id], |r| Ok(int(r, 0, "group version")))
        .optional()?;
    v.transpose()?.map(version_from_sql).transpose()
}

/// Every group id.
pub(crate) fn read_group_ids(conn: &Connection) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT group_id FROM canopy_groups ORDER BY group_id")?;
    let mut rows = stmt.query([])?;
    let mut ids = Vec::new();
    while let Some(row) = rows.next()? {
        ids.push(blob(row, 0, "group id")?.to_vec());
    }
    Ok(ids)
}

/// The group's version and records (the caller holds a transaction, so both are one
/// snapshot).
pub(crate) fn read_group(
    conn: &Connection,
    cipher: Option<&Cipher>,
    group_id: &[u8],
) -> Result<Option<LoadedGroup>, StoreError> {
    let Some(version) = read_version(conn, group_id)? else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT kind, epoch, idx, value FROM canopy_group_records WHERE group_id = ?1 \
         ORDER BY kind, epoch, idx",
    )?;
    let mut rows = stmt.query([group_id])?;
    let mut records = Vec::new();
    while let Some(row) = rows.next()? {
        let key = RecordKey {
            kind: kind_from_sql(int(row, 0, "group record kind")?)?,
            epoch: epoch_from_sql(int(row, 1, "group record epoch")?),
            index: index_from_sql(int(row, 2, "group record index")?)?,
        };
        let stored = blob(row, 3, "group record value")?;
        let value = open(cipher, seal::Row::Record { group_id, key }, stored)?;
        records.push((key, value));
    }
    // SQLite orders epochs as signed integers: only epochs above 2^63-1 can be out of place.
    if !records.is_sorted_by(|a, b| a.0 <= b.0) {
        records.sort_by_key(|r| r.0);
    }
    Ok(Some(LoadedGroup { version, records }))
}

/// The value of `key` in `table`.
pub(crate) fn read_row(
    conn: &Connection,
    cipher: Option<&Cipher>,
    table: Table,
    key: &[u8],
) -> Result<Option<Secret>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT value FROM canopy_kv WHERE tbl = ?1 AND key = ?2")?;
    let mut rows = stmt.query(rusqlite::params![table.code(), key])?;
    match rows.next()? {
        Some(row) => {
            let stored = blob(row, 0, "table value")?;
            open(cipher, seal::Row::Table { table, key }, stored).map(Some)
        }
        None => Ok(None),
    }
}

/// Every (key, value) of `table`.
pub(crate) fn read_rows(
    conn: &Connection,
    cipher: Option<&Cipher>,
    table: Table,
) -> Result<Vec<(Vec<u8>, Secret)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM canopy_kv WHERE tbl = ?1 ORDER BY key")?;
    let mut rows = stmt.query([table.code()])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let key = blob(row, 0, "table key")?;
        let stored = blob(row, 1, "table value")?;
        let value = open(cipher, seal::Row::Table { table, key }, stored)?;
        out.push((key.to_vec(), value));
    }
    Ok(out)
}

/// A row of `canopy_meta`.
pub(crate) fn read_meta(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT value FROM canopy_meta WHERE name = ?1")?;
    let mut rows = stmt.query([name])?;
    match rows.next()? {
        Some(row) => Ok(Some(blob(row, 0, "store metadata")?.to_vec())),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_u64_epoch_maps_to_an_integer_and_back() {
        for e in [
            0,
            1,
            41,
            i64::MAX as u64,
            i64::MAX as u64 + 1,
            u64::MAX - 1,
            u64::MAX,
        ] {
            assert_eq!(epoch_from_sql(epoch_to_sql(e)), e);
        }
        assert_eq!(epoch_to_sql(7), 7);
        assert!(epoch_to_sql(u64::MAX) < 0);
    }

    #[test]
    fn out_of_range_integers_are_corrupt() {
        assert!(version_from_sql(0).is_err());
        assert!(version_from_sql(-1).is_err());
        assert_eq!(version_from_sql(3).unwrap(), 3);
        assert!(version_to_sql(u64::MAX).is_err());
        assert!(kind_from_sql(0).is_err());
        assert!(kind_from_sql(7).is_err());
        assert!(kind_from_sql(256 + 1).is_err());
        assert_eq!(kind_from_sql(2).unwrap(), RecordKind::Node);
        assert!(index_from_sql(-1).is_err());
        assert!(index_from_sql(i64::from(u32::MAX) + 1).is_err());
        assert_eq!(index_from_sql(i64::from(u32::MAX)).unwrap(), u32::MAX);
    }
}
