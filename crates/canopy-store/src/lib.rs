//! Crash-safe incremental storage of MLS client state: a group's records and the client's
//! tables, written one transaction per operation.
//!
//! `canopy-core` reports what an operation changed in a group as a
//! [`StateDelta`] of records keyed by [`RecordKey`]
//! (see [`canopy_core::group::StateDelta`] for the record layout). A store keeps each record
//! as an opaque value and never parses it: a commit writes O(log n) rows, an application
//! message one row, and loading a group reads its rows in one call.
//!
//! | store | for | durability |
//! |---|---|---|
//! | [`SqliteStore`] | applications: one SQLite file (bundled SQLite, WAL), several processes | `synchronous=NORMAL` (default) or `FULL`, see [`Synchronous`] |
//! | [`MemoryStore`] | tests: same semantics, `Clone` to snapshot | none |
//! | [`FaultyStore`] | tests: wraps either, makes a chosen begin, write or commit fail | as the wrapped store |
//!
//! # The model
//!
//! - **One transaction per operation.** [`Store::begin`] opens a write transaction
//!   ([`StoreTx`]); everything the operation must make durable (the group's delta, the deleted
//!   KeyPackage, the application's plaintext) goes into it, and [`StoreTx::commit`] makes it
//!   durable at once. Dropping the transaction without committing rolls everything back.
//! - **Versions for optimistic concurrency.** Every group has a version, bumped by each
//!   [`StoreTx::apply`]. The caller passes the version it loaded; if another writer (another
//!   process, or another handle in this one) changed the group since, `apply` fails with
//!   [`StoreError::Conflict`] before writing anything. This is what keeps two processes that
//!   loaded the same group from both using one ratchet generation (the same key and nonce,
//!   RFC 9420 §9.1): the second one's transaction fails before its ciphertext is released.
//! - **Opaque values.** Group records and table values are bytes the store does not parse.
//!   Values come back as [`Secret`]s (zeroized on drop), because most hold key material.
//! - **Client tables** ([`Table`]): identities, KeyPackages (keyed by KeyPackageRef), the group
//!   index, and [`Table::App`] for the application's own data when it has no SQL access.
//!   With SQLite the application can also write its own tables in the same transaction
//!   through [`SqliteTx::sql`].
//!
//! # Several processes
//!
//! [`SqliteStore`] relies on SQLite's file locking: a write transaction starts with
//! `BEGIN IMMEDIATE`, so a second writer waits up to the busy timeout and then gets
//! [`StoreError::Busy`]; readers are never blocked (WAL). The version check turns a lost
//! update into a [`StoreError::Conflict`].
//!
//! # Durability
//!
//! With `synchronous=FULL` a committed transaction survives a power loss. With the default
//! `synchronous=NORMAL` (in WAL mode) it survives a crash or kill of the application, but the
//! last transactions may roll back after a power loss or an OS crash. An application that
//! must never reuse a ratchet generation even across a power loss uses
//! [`Synchronous::Full`].
//!
//! # Secrets at rest
//!
//! With [`StoreOptions::encryption_key`] (32 bytes the application supplies, for example from
//! the platform keystore) every **value**, group records and table values alike, is sealed with
//! XChaCha20-Poly1305 under a random 192-bit nonce. The associated data binds the value to its
//! row: the database's random id, the table (or the record's kind), the group id, the epoch,
//! the index or the key. A value copied to another row, another group, another epoch or
//! another database does not open, and neither does a truncated or altered one: each is
//! [`StoreError::Corrupt`]. A key-check row makes a wrong key [`StoreError::WrongKey`] at
//! open; an encrypted database opened without a key is [`StoreError::KeyRequired`], a plain
//! one opened with a key [`StoreError::NotEncrypted`].
//!
//! What is **protected**: the contents of every value (tree nodes, epoch secrets, ratchets,
//! pending commits, identities' private keys, KeyPackage private keys, the group index's
//! values, the application's [`Table::App`] values), against reading and against undetected
//! modification, swapping or moving.
//!
//! What is **not protected**:
//! - the row keys: group ids, record kinds, epochs, node and leaf indexes, KeyPackageRefs and
//!   the other tables' keys, and each group's version;
//! - sizes, counts and timing: how many groups, members (node rows), senders (ratchet rows)
//!   and KeyPackages there are, value lengths, and when rows change;
//! - freshness: someone who can write the file can replace a value with an **older** value of
//!   the same row, or delete rows (the store cannot tell an old sealed value from a new one);
//! - the application's own SQL tables written through [`SqliteTx::sql`];
//! - anything in memory: values are plaintext in the process while in use.
//!
//! Deleted rows (used ratchet keys, KeyPackage private keys) are overwritten in the database
//! file with `PRAGMA secure_delete` ([`StoreOptions::secure_delete`], on by default), but old
//! page images can stay in the WAL file until a checkpoint overwrites them;
//! [`SqliteStore::checkpoint`] truncates it.
//!
//! # Errors
//!
//! [`StoreError`] is the one error type. Rows that do not decode are typed errors
//! ([`StoreError::Corrupt`]), never panics, and never a group silently reset.
//!
//! The design is recorded in `docs/adr/0002-client-store.md`.
#![forbid(unsafe_code)]

pub mod ds;
mod error;
mod faulty;
mod memory;
mod seal;
mod sqlite;

pub use canopy_core::group::{Change, RecordKey, RecordKind, StateDelta};
pub use canopy_crypto::Secret;
/// The rusqlite this crate links, for applications that use [`SqliteTx::sql`] and
/// [`SqliteStore::connection`].
pub use rusqlite;

pub use error::StoreError;
pub use faulty::{Faults, FaultyStore, FaultyTx};
pub use memory::{MemoryStore, MemoryTx};
pub use seal::EncryptionKey;
pub use sqlite::{SCHEMA_VERSION, SqliteStore, SqliteTx, StoreOptions, Synchronous};

/// A client-level table: opaque values keyed by bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Table {
    /// The client's identities (credential, signature key or a reference to it).
    Identity,
    /// KeyPackages' private keys, keyed by KeyPackageRef (RFC 9420 §5.2), kept until a
    /// Welcome that uses them is processed.
    KeyPackage,
    /// The group index: group id to the owning identity and whatever else the client keeps
    /// per group outside its records.
    GroupIndex,
    /// The application's own data, written in the same transaction as the group's changes
    /// (for applications that have no SQL access; with SQLite see [`SqliteTx::sql`]).
    App,
}

impl Table {
    /// Every table, in the order of their codes.
    pub const ALL: [Self; 4] = [
        Self::Identity,
        Self::KeyPackage,
        Self::GroupIndex,
        Self::App,
    ];

    /// A stable code for the table, for a store's key column (1 to 4).
    pub const fn code(self) -> u8 {
        match self {
            Self::Identity => 1,
            Self::KeyPackage => 2,
            Self::GroupIndex => 3,
            Self::App => 4,
        }
    }

    /// The table with code `code`, if any.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Identity),
            2 => Some(Self::KeyPackage),
            3 => Some(Self::GroupIndex),
            4 => Some(Self::App),
            _ => None,
        }
    }
}

/// A group read from a store: its records in key order and its version.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoadedGroup {
    /// The group's version: pass it to [`StoreTx::apply`] with the next delta.
    pub version: u64,
    /// Every record of the group, in [`RecordKey`] order.
    pub records: Vec<(RecordKey, Secret)>,
}

/// A store of groups' records and client tables.
///
/// Reads outside a transaction see the last committed state. Writes go through a
/// transaction: [`begin`](Self::begin), then the [`StoreTx`] methods, then
/// [`StoreTx::commit`].
pub trait Store {
    /// The store's write transaction.
    type Tx<'a>: StoreTx
    where
        Self: 'a;

    /// Starts a write transaction. With SQLite it takes the database's write lock at once
    /// (`BEGIN IMMEDIATE`), waiting up to the busy timeout for another writer.
    ///
    /// # Errors
    /// [`StoreError::Busy`] if another writer held the lock past the busy timeout;
    /// [`StoreError::Sqlite`] on other database errors.
    fn begin(&mut self) -> Result<Self::Tx<'_>, StoreError>;

    /// The ids of every stored group, in byte order.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] on a database error.
    fn group_ids(&self) -> Result<Vec<Vec<u8>>, StoreError>;

    /// The version of group `group_id`, or `None` if it is not stored.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the stored version is out of range; [`StoreError::Sqlite`]
    /// on a database error.
    fn group_version(&self, group_id: &[u8]) -> Result<Option<u64>, StoreError>;

    /// Every record of group `group_id` and its version, read in one consistent snapshot,
    /// or `None` if the group is not stored.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if a row does not decode or (encrypted) does not
    /// authenticate; [`StoreError::Sqlite`] on a database error.
    fn load_group(&self, group_id: &[u8]) -> Result<Option<LoadedGroup>, StoreError>;

    /// The value stored under `key` in `table`.
    ///
    /// # Errors
    /// As [`load_group`](Self::load_group).
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Secret>, StoreError>;

    /// Every (key, value) of `table`, in key byte order.
    ///
    /// # Errors
    /// As [`load_group`](Self::load_group).
    fn list(&self, table: Table) -> Result<Vec<(Vec<u8>, Secret)>, StoreError>;
}

/// A write transaction. Nothing it writes is visible to other connections, or durable,
/// before [`commit`](Self::commit); dropping it without committing rolls it back.
///
/// If a write fails after it started changing rows, the transaction is aborted: later
/// writes and `commit` return [`StoreError::Aborted`], so a half-applied delta can never be
/// committed. A [`StoreError::Conflict`] is detected before anything is written and does
/// not abort the transaction.
pub trait StoreTx {
    /// Applies `delta`'s changes in order and bumps the group's version.
    ///
    /// `expected` is the group's version the caller loaded (`None`: the group must not
    /// exist yet, and this creates it). Returns the new version (1 for a new group).
    ///
    /// [`Change::Reset`] deletes every record of the group; [`Change::Put`] inserts or
    /// replaces one; [`Change::Delete`] deletes one if present; [`Change::DropEpoch`] deletes
    /// the records of that epoch whose kind is
    /// [epoch-scoped](RecordKind::is_epoch_scoped) and nothing else.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the stored version is not `expected`: nothing was
    /// written. [`StoreError::Aborted`] if an earlier write of this transaction failed;
    /// [`StoreError::Encryption`] if sealing a value failed; [`StoreError::Sqlite`] on a
    /// database error (these abort the transaction).
    fn apply(&mut self, delta: &StateDelta, expected: Option<u64>) -> Result<u64, StoreError>;

    /// Deletes group `group_id` with all its records. Returns whether it existed.
    ///
    /// A writer that loaded the group before gets [`StoreError::Conflict`] (found `None`)
    /// on its next [`apply`](Self::apply).
    ///
    /// # Errors
    /// As [`apply`](Self::apply), without the conflict.
    fn delete_group(&mut self, group_id: &[u8]) -> Result<bool, StoreError>;

    /// Stores `value` under `key` in `table`, replacing any value there.
    ///
    /// # Errors
    /// As [`delete_group`](Self::delete_group).
    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError>;

    /// Deletes `key` from `table`. Returns whether it existed.
    ///
    /// # Errors
    /// As [`delete_group`](Self::delete_group).
    fn delete(&mut self, table: Table, key: &[u8]) -> Result<bool, StoreError>;

    /// The value under `key` in `table`, as this transaction sees it (its own writes
    /// included).
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] if the row does not decode or authenticate;
    /// [`StoreError::Sqlite`] on a database error.
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Secret>, StoreError>;

    /// Every (key, value) of `table` as this transaction sees it, in key byte order.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    fn list(&self, table: Table) -> Result<Vec<(Vec<u8>, Secret)>, StoreError>;

    /// The version of group `group_id` as this transaction sees it.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    fn group_version(&self, group_id: &[u8]) -> Result<Option<u64>, StoreError>;

    /// Makes every write of this transaction durable (as far as the store's durability
    /// setting goes) and visible to other connections, at once.
    ///
    /// # Errors
    /// [`StoreError::Aborted`] if a write of this transaction failed (it is rolled back);
    /// [`StoreError::Busy`] or [`StoreError::Sqlite`] if the commit failed (it is rolled
    /// back, nothing of it is durable).
    fn commit(self) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_codes_round_trip_and_are_distinct() {
        for (i, table) in Table::ALL.iter().enumerate() {
            assert_eq!(Table::from_code(table.code()), Some(*table));
            assert_eq!(usize::from(table.code()), i + 1);
        }
        assert_eq!(Table::from_code(0), None);
        assert_eq!(Table::from_code(5), None);
    }
}
