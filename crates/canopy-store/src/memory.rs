//! [`MemoryStore`]: the store's semantics without a disk, for tests.
//!
//! A transaction writes into the maps directly and keeps an undo log; dropping it without
//! committing replays the log backwards. So a transaction costs O(what it changes), like
//! SQLite's, and `MemoryStore` can stand in for [`SqliteStore`](crate::SqliteStore) in the
//! client's tests.

use std::collections::BTreeMap;

use canopy_core::group::{Change, RecordKey, RecordKind, StateDelta};
use canopy_crypto::Secret;

use crate::{LoadedGroup, Store, StoreError, StoreTx, Table};

/// An in-memory store with the same semantics as [`SqliteStore`](crate::SqliteStore):
/// versions, conflicts, rollback on drop, tables. `Clone` takes a snapshot.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    groups: BTreeMap<Vec<u8>, MemGroup>,
    tables: BTreeMap<Table, BTreeMap<Vec<u8>, Secret>>,
}

#[derive(Clone, Debug)]
struct MemGroup {
    version: u64,
    records: BTreeMap<RecordKey, Secret>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Store for MemoryStore {
    type Tx<'a> = MemoryTx<'a>;

    fn begin(&mut self) -> Result<MemoryTx<'_>, StoreError> {
        Ok(MemoryTx {
            store: self,
            undo: Vec::new(),
            committed: false,
            aborted: false,
        })
    }

    fn group_ids(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self.groups.keys().cloned().collect())
    }

    fn group_version(&self, group_id: &[u8]) -> Result<Option<u64>, StoreError> {
        Ok(self.groups.get(group_id).map(|g| g.version))
    }

    fn load_group(&self, group_id: &[u8]) -> Result<Option<LoadedGroup>, StoreError> {
        Ok(self.groups.get(group_id).map(|g| LoadedGroup {
            version: g.version,
            records: g.records.iter().map(|(k, v)| (*k, v.clone())).collect(),
        }))
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Secret>, StoreError> {
        Ok(self.row(table, key))
    }

    fn list(&self, table: Table) -> Result<Vec<(Vec<u8>, Secret)>, StoreError> {
        Ok(self.rows(table))
    }
}

impl MemoryStore {
    fn row(&self, table: Table, key: &[u8]) -> Option<Secret> {
        self.tables.get(&table).and_then(|t| t.get(key)).cloned()
    }

    fn rows(&self, table: Table) -> Vec<(Vec<u8>, Secret)> {
        self.tables
            .get(&table)
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }
}

/// What a [`MemoryTx`] changed, to undo on rollback (replayed last to first).
#[derive(Debug)]
enum Undo {
    /// The group's version was `prev` (`None`: the group did not exist).
    Version { group: Vec<u8>, prev: Option<u64> },
    /// One record was `prev`.
    Record {
        group: Vec<u8>,
        key: RecordKey,
        prev: Option<Secret>,
    },
    /// A [`Change::Reset`] removed these records.
    Reset {
        group: Vec<u8>,
        prev: BTreeMap<RecordKey, Secret>,
    },
    /// The group was deleted.
    Group { group: Vec<u8>, prev: MemGroup },
    /// A table row was `prev`.
    Row {
        table: Table,
        key: Vec<u8>,
        prev: Option<Secret>,
    },
}

/// A [`MemoryStore`] write transaction; rolls back on drop unless committed.
#[derive(Debug)]
pub struct MemoryTx<'a> {
    store: &'a mut MemoryStore,
    undo: Vec<Undo>,
    committed: bool,
    aborted: bool,
}

impl MemoryTx<'_> {
    fn check_open(&self) -> Result<(), StoreError> {
        if self.aborted {
            return Err(StoreError::Aborted);
        }
        Ok(())
    }

    fn rollback(&mut self) {
        let groups = &mut self.store.groups;
        let tables = &mut self.store.tables;
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Version { group, prev: None } => {
                    groups.remove(&group);
                }
                Undo::Version {
                    group,
                    prev: Some(version),
                } => {
                    if let Some(g) = groups.get_mut(&group) {
                        g.version = version;
                    }
                }
                Undo::Record { group, key, prev } => {
                    if let Some(g) = groups.get_mut(&group) {
                        match prev {
                            Some(value) => g.records.insert(key, value),
                            None => g.records.remove(&key),
                        };
                    }
                }
                Undo::Reset { group, prev } => {
                    if let Some(g) = groups.get_mut(&group) {
                        g.records = prev;
                    }
                }
                Undo::Group { group, prev } => {
                    groups.insert(group, prev);
                }
                Undo::Row { table, key, prev } => {
                    let rows = tables.entry(table).or_default();
                    match prev {
                        Some(value) => rows.insert(key, value),
                        None => rows.remove(&key),
                    };
                }
            }
        }
    }
}

impl Drop for MemoryTx<'_> {
    fn drop(&mut self) {
        if !self.committed {
            self.rollback();
        }
    }
}

/// The version after `found` (1 for a new group).
pub(crate) fn next_version(found: Option<u64>) -> Result<u64, StoreError> {
    match found {
        None => Ok(1),
        Some(v) => v
            .checked_add(1)
            .ok_or_else(|| StoreError::corrupt("group version", "at its maximum")),
    }
}

/// The (inclusive) key range of `kind`'s records in `epoch`.
fn epoch_range(kind: RecordKind, epoch: u64) -> std::ops::RangeInclusive<RecordKey> {
    RecordKey {
        kind,
        epoch,
        index: 0,
    }..=RecordKey {
        kind,
        epoch,
        index: u32::MAX,
    }
}

impl StoreTx for MemoryTx<'_> {
    fn apply(&mut self, delta: &StateDelta, expected: Option<u64>) -> Result<u64, StoreError> {
        self.check_open()?;
        let group_id = delta.group_id();
        let found = self.store.groups.get(group_id).map(|g| g.version);
        if found != expected {
            return Err(StoreError::Conflict { expected, found });
        }
        let version = next_version(found)?;
        self.undo.push(Undo::Version {
            group: group_id.to_vec(),
            prev: found,
        });
        let g = self
            .store
            .groups
            .entry(group_id.to_vec())
            .or_insert_with(|| MemGroup {
                version,
                records: BTreeMap::new(),
            });
        g.version = version;
        for change in delta.changes() {
            match change {
                Change::Reset => self.undo.push(Undo::Reset {
                    group: group_id.to_vec(),
                    prev: std::mem::take(&mut g.records),
                }),
                Change::Put { key, value } => {
                    let prev = g.records.insert(*key, value.clone());
                    self.undo.push(Undo::Record {
                        group: group_id.to_vec(),
                        key: *key,
                        prev,
                    });
                }
                Change::Delete(key) => {
                    if let Some(prev) = g.records.remove(key) {
                        self.undo.push(Undo::Record {
                            group: group_id.to_vec(),
                            key: *key,
                            prev: Some(prev),
                        });
                    }
                }
                Change::DropEpoch(epoch) => {
                    for kind in RecordKind::ALL.into_iter().filter(|k| k.is_epoch_scoped()) {
                        let keys: Vec<RecordKey> = g
                            .records
                            .range(epoch_range(kind, *epoch))
                            .map(|(k, _)| *k)
                            .collect();
                        for key in keys {
                            let prev = g.records.remove(&key);
                            self.undo.push(Undo::Record {
                                group: group_id.to_vec(),
                                key,
                                prev,
                            });
                        }
                    }
                }
                _ => {
                    self.aborted = true;
                    return Err(StoreError::Unsupported {
                        what: "a kind of change this store does not know",
                    });
                }
            }
        }
        Ok(version)
    }

    fn delete_group(&mut self, group_id: &[u8]) -> Result<bool, StoreError> {
        self.check_open()?;
        Ok(match self.store.groups.remove(group_id) {
            Some(prev) => {
                self.undo.push(Undo::Group {
                    group: group_id.to_vec(),
                    prev,
                });
                true
            }
            None => false,
        })
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.check_open()?;
        let prev = self
            .store
            .tables
            .entry(table)
            .or_default()
            .insert(key.to_vec(), Secret::from_slice(value));
        self.undo.push(Undo::Row {
            table,
            key: key.to_vec(),
            prev,
        });
        Ok(())
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<bool, StoreError> {
        self.check_open()?;
        let prev = self
            .store
            .tables
            .get_mut(&table)
            .and_then(|t| t.remove(key));
        let existed = prev.is_some();
        if existed {
            self.undo.push(Undo::Row {
                table,
                key: key.to_vec(),
                prev,
            });
        }
        Ok(existed)
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Secret>, StoreError> {
        Ok(self.store.row(table, key))
    }

    fn list(&self, table: Table) -> Result<Vec<(Vec<u8>, Secret)>, StoreError> {
        Ok(self.store.rows(table))
    }

    fn group_version(&self, group_id: &[u8]) -> Result<Option<u64>, StoreError> {
        Ok(self.store.groups.get(group_id).map(|g| g.version))
    }

    fn commit(mut self) -> Result<(), StoreError> {
        self.check_open()?;
        self.committed = true;
        self.undo.clear();
        Ok(())
    }
}
