//! [`SqliteStore`]: the embedded store on one SQLite file (bundled SQLite, WAL mode).
//!
//! Schema (`migrations/0001_init.sql`): `canopy_groups(group_id, version)`,
//! `canopy_group_records(group_id, kind, epoch, idx, value)` with one row per record and the
//! primary key (group_id, kind, epoch, idx) (`WITHOUT ROWID`, so a group's records are
//! contiguous in the B-tree and a load is one range scan), `canopy_kv(tbl, key, value)` for
//! the client [`Table`]s, and `canopy_meta` for the store's own settings. Every statement on
//! the write path is a cached prepared statement, so a message's one-record delta costs a
//! version read, a version write and one upsert inside one transaction.
//!
//! Connection settings: `journal_mode=WAL` (readers never block the writer, and a commit is
//! one append to the WAL), `foreign_keys=ON`, a busy timeout ([`StoreOptions::busy_timeout`]),
//! `synchronous` NORMAL or FULL ([`Synchronous`]), and `secure_delete`
//! ([`StoreOptions::secure_delete`]).

pub(crate) mod migrate;
mod rows;

use std::path::Path;
use std::time::Duration;

use canopy_core::group::{Change, RecordKey, RecordKind, StateDelta};
use canopy_crypto::Secret;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};

pub use migrate::SCHEMA_VERSION;

use crate::memory::next_version;
use crate::seal::{self, Cipher, EncryptionKey, STORE_ID_LEN};
use crate::{LoadedGroup, Store, StoreError, StoreTx, Table};

/// The `encryption` metadata values.
const PLAINTEXT: &[u8] = b"none";
const XCHACHA: &[u8] = b"xchacha20poly1305";

/// How SQLite syncs commits to disk (`PRAGMA synchronous`, in WAL mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// `NORMAL`: a commit survives a crash or kill of the application; after a power loss or
    /// an OS crash the last commits may be rolled back (the database stays consistent). The
    /// WAL is synced at checkpoints, not at every commit.
    #[default]
    Normal,
    /// `FULL`: every commit syncs the WAL, so it survives a power loss too.
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::Full => "FULL",
        }
    }
}

/// How to open a [`SqliteStore`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StoreOptions {
    /// Encrypt every value at rest with this key (see the crate docs for what is and is not
    /// protected). Chosen when the database is created: a database created without a key
    /// cannot be opened with one, and the other way round. Default: none.
    pub encryption_key: Option<EncryptionKey>,
    /// How long a writer waits for another connection's write lock before
    /// [`StoreError::Busy`]. Default: 5 s.
    pub busy_timeout: Duration,
    /// `PRAGMA synchronous`. Default: [`Synchronous::Normal`].
    pub synchronous: Synchronous,
    /// `PRAGMA secure_delete`: overwrite deleted rows (used ratchet keys, KeyPackage private
    /// keys) with zeros in the database file, for forward secrecy at rest. Default: on.
    pub secure_delete: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            encryption_key: None,
            busy_timeout: Duration::from_secs(5),
            synchronous: Synchronous::Normal,
            secure_delete: true,
        }
    }
}

impl StoreOptions {
    /// The default options with values encrypted under `key`.
    pub fn encrypted(key: EncryptionKey) -> Self {
        Self {
            encryption_key: Some(key),
            ..Self::default()
        }
    }

    /// These options with busy timeout `timeout`.
    #[must_use]
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// These options with `synchronous`.
    #[must_use]
    pub fn with_synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// These options with `secure_delete` on or off.
    #[must_use]
    pub fn with_secure_delete(mut self, on: bool) -> Self {
        self.secure_delete = on;
        self
    }
}

/// The store on one SQLite database file. Several `SqliteStore`s (in this process or in
/// others) can open the same file: writers take turns (`BEGIN IMMEDIATE` and the busy
/// timeout), and group versions detect lost updates.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    cipher: Option<Cipher>,
}

impl SqliteStore {
    /// Opens (creating it if needed) the database at `path` and migrates it to
    /// [`SCHEMA_VERSION`].
    ///
    /// # Errors
    /// [`StoreError::SchemaTooNew`] if a newer build wrote the database;
    /// [`StoreError::WrongKey`], [`StoreError::KeyRequired`] or [`StoreError::NotEncrypted`]
    /// if the key does not fit the database; [`StoreError::Pragma`] if WAL mode cannot be
    /// set; [`StoreError::Busy`] if another connection held the lock past the busy timeout;
    /// [`StoreError::Corrupt`] if the store's metadata is malformed; [`StoreError::Sqlite`]
    /// if the file cannot be opened.
    pub fn open(path: impl AsRef<Path>, options: StoreOptions) -> Result<Self, StoreError> {
        Self::setup(Connection::open(path)?, options, true)
    }

    /// A new database in memory (gone when the store is dropped; no WAL).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_in_memory(options: StoreOptions) -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?, options, false)
    }

    fn setup(mut conn: Connection, options: StoreOptions, file: bool) -> Result<Self, StoreError> {
        conn.busy_timeout(options.busy_timeout)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        let wanted = if file { "wal" } else { "memory" };
        if !mode.eq_ignore_ascii_case(wanted) {
            return Err(StoreError::Pragma {
                name: "journal_mode",
                wanted,
                found: mode,
            });
        }
        conn.pragma_update(None, "synchronous", options.synchronous.pragma())?;
        conn.pragma_update(
            None,
            "secure_delete",
            if options.secure_delete { "ON" } else { "OFF" },
        )?;
        let key = options.encryption_key.as_ref();
        migrate::run(&mut conn, |tx| init_meta(tx, key))?;
        let cipher = check_key(&conn, key)?;
        Ok(Self { conn, cipher })
    }

    /// The connection, for the application's own tables (create them, read them). Do not
    /// write canopy's tables (`canopy_*`) or `PRAGMA user_version` through it; write the
    /// application's rows that belong to an operation through [`SqliteTx::sql`].
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Whether values are encrypted at rest.
    pub fn is_encrypted(&self) -> bool {
        self.cipher.is_some()
    }

    /// Copies the WAL into the database file and truncates it (`PRAGMA
    /// wal_checkpoint(TRUNCATE)`), so the page images of deleted rows no longer sit in the
    /// WAL file.
    ///
    /// # Errors
    /// [`StoreError::Busy`] if a reader or writer kept the checkpoint from completing;
    /// [`StoreError::Sqlite`] on other errors.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            return Err(StoreError::Busy);
        }
        Ok(())
    }

    /// Runs `f` in a read transaction, so that it sees one snapshot.
    fn read<T>(
        &self,
        f: impl FnOnce(&Connection, Option<&Cipher>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let out = f(&tx, self.cipher.as_ref())?;
        tx.commit()?;
        Ok(out)
    }
}

/// Writes a new database's metadata: its random id, its encryption mode and key check.
fn init_meta(tx: &Transaction<'_>, key: Option<&EncryptionKey>) -> Result<(), StoreError> {
    let mut store_id = [0u8; STORE_ID_LEN];
    getrandom::fill(&mut store_id).map_err(|_| StoreError::Encryption {
        reason: "the OS random number generator failed",
    })?;
    let mut insert = tx.prepare("INSERT INTO canopy_meta (name, value) VALUES (?1, ?2)")?;
    insert.execute(params!["store_id", &store_id[..]])?;
    match key {
        None => {
            insert.execute(params!["encryption", PLAINTEXT])?;
        }
        Some(key) => {
            let check = Cipher::new(key, store_id).key_check()?;
            insert.execute(params!["encryption", XCHACHA])?;
            insert.execute(params!["key_check", check])?;
        }
    }
    Ok(())
}

/// The cipher for the database, after checking that `key` fits it.
fn check_key(conn: &Connection, key: Option<&EncryptionKey>) -> Result<Option<Cipher>, StoreError> {
    let missing = |name: &str| StoreError::corrupt("store metadata", format!("no {name} row"));
    let mode = rows::read_meta(conn, "encryption")?.ok_or_else(|| missing("encryption"))?;
    let store_id = rows::read_meta(conn, "store_id")?.ok_or_else(|| missing("store_id"))?;
    let store_id = <[u8; STORE_ID_LEN]>::try_from(store_id.as_slice())
        .map_err(|_| StoreError::corrupt("store metadata", "store_id is not 16 bytes"))?;
    match (mode.as_slice(), key) {
        (PLAINTEXT, None) => Ok(None),
        (PLAINTEXT, Some(_)) => Err(StoreError::NotEncrypted),
        (XCHACHA, None) => Err(StoreError::KeyRequired),
        (XCHACHA, Some(key)) => {
            let cipher = Cipher::new(key, store_id);
            let check = rows::read_meta(conn, "key_check")?.ok_or_else(|| missing("key_check"))?;
            if cipher.verify_key_check(&check) {
                Ok(Some(cipher))
            } else {
                Err(StoreError::WrongKey)
            }
        }
        _ => Err(StoreError::corrupt(
            "store metadata",
            "unknown encryption mode",
        )),
    }
}

impl Store for SqliteStore {
    type Tx<'a> = SqliteTx<'a>;

    fn begin(&mut self) -> Result<SqliteTx<'_>, StoreError> {
        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        Ok(SqliteTx {
            tx,
            cipher: self.cipher.as_ref(),
            aborted: false,
        })
    }

    fn group_ids(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        rows::read_group_ids(&self.conn)
    }

    fn group_version(&self, group_id: &[u8]) -> Result<Option<u64>, StoreError> {
        rows::read_version(&self.conn, group_id)
    }

    fn load_group(&self, group_id: &[u8]) -> Result<Option<LoadedGroup>, StoreError> {
        self.read(|conn, cipher| rows::read_group(conn, cipher, group_id))
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Secret>, StoreError> {
        rows::read_row(&self.conn, self.cipher.as_ref(), table, key)
    }

    fn list(&self, table: Table) -> Result<Vec<(Vec<u8>, Secret)>, StoreError> {
        self.read(|conn, cipher| rows::read_rows(conn, cipher, table))
    }
}

/// A [`SqliteStore`] write transaction (`BEGIN IMMEDIATE`); rolls back on drop unless
/// committed.
#[derive(Debug)]
pub struct SqliteTx<'a> {
    tx: Transaction<'a>,
    cipher: Option<&'a Cipher>,
    aborted: bool,
}

impl<'a> SqliteTx<'a> {
    /// The SQLite transaction, so the application can write its own tables (for example a
    /// decrypted message's plaintext) in the same transaction as the group's changes: both
    /// are durable at [`commit`](StoreTx::commit), or neither is.
    ///
    /// Do not write canopy's tables (`canopy_*`) through it, and do not commit or roll it
    /// back (the store does).
    pub fn sql(&self) -> &Transaction<'a> {
        &self.tx
    }

    /// Runs a write; an error aborts the transaction.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'a>, Option<&Cipher>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.aborted {
            return Err(StoreError::Aborted);
        }
        let out = f(&self.tx, self.cipher);
        if out.is_err() {
            self.aborted = true;
        }
        out
    }
}

fn put_record(
    tx: &Transaction<'_>,
    cipher: Option<&Cipher>,
    group_id: &[u8],
    key: RecordKey,
    value: &[u8],
) -> Result<(), StoreError> {
    let stored = rows::seal(cipher, seal::Row::Record { group_id, key }, value)?;
    tx.prepare_cached(
        "INSERT INTO canopy_group_records (group_id, kind, epoch, idx, value) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (group_id, kind, epoch, idx) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![
        group_id,
        key.kind.code(),
        rows::epoch_to_sql(key.epoch),
        key.index,
        stored.as_ref()
    ])?;
    Ok(())
}

fn apply_change(
    tx: &Transaction<'_>,
    cipher: Option<&Cipher>,
    group_id: &[u8],
    change: &Change,
) -> Result<(), StoreError> {
    match change {
        Change::Reset => {
            tx.prepare_cached("DELETE FROM canopy_group_records WHERE group_id = ?1")?
                .execute([group_id])?;
        }
        Change::Put { key, value } => put_record(tx, cipher, group_id, *key, value.as_bytes())?,
        Change::Delete(key) => {
            tx.prepare_cached(
                "DELETE FROM canopy_group_records \
                 WHERE group_id = ?1 AND kind = ?2 AND epoch = ?3 AND idx = ?4",
            )?
            .execute(params![
                group_id,
                key.kind.code(),
                rows::epoch_to_sql(key.epoch),
                key.index
            ])?;
        }
        Change::DropEpoch(epoch) => {
            let mut stmt = tx.prepare_cached(
                "DELETE FROM canopy_group_records \
                 WHERE group_id = ?1 AND kind = ?2 AND epoch = ?3",
            )?;
            for kind in RecordKind::ALL.into_iter().filter(|k| k.is_epoch_scoped()) {
                stmt.execute(params![group_id, kind.code(), rows::epoch_to_sql(*epoch)])?;
            }
        }
        _ => {
            return Err(StoreError::Unsupported {
                what: "a kind of change this store does not know",
            });
        }
    }
    Ok(())
}

impl StoreTx for SqliteTx<'_> {
    fn apply(&mut self, delta: &StateDelta, expected: Option<u64>) -> Result<u64, StoreError> {
        if self.aborted {
            return Err(StoreError::Aborted);
        }
        let group_id = delta.group_id();
        let found = rows::read_version(&self.tx, group_id)?;
        if found != expected {
            return Err(StoreError::Conflict { expected, found });
        }
        let version = next_version(found)?;
        self.write(|tx, cipher| {
            let v = rows::version_to_sql(version)?;
            if found.is_some() {
                tx.prepare_cached("UPDATE canopy_groups SET version = ?2 WHERE group_id = ?1")?
                    .execute(params![group_id, v])?;
            } else {
                tx.prepare_cached("INSERT INTO canopy_groups (group_id, version) VALUES (?1, ?2)")?
                    .execute(params![group_id, v])?;
            }
            for change in delta.changes() {
                apply_change(tx, cipher, group_id, change)?;
            }
            Ok(version)
        })
    }

    fn delete_group(&mut self, group_id: &[u8]) -> Result<bool, StoreError> {
        self.write(|tx, _| {
            tx.prepare_cached("DELETE FROM canopy_group_records WHERE group_id = ?1")?
                .execute([group_id])?;
            let n = tx
                .prepare_cached("DELETE FROM canopy_groups WHERE group_id = ?1")?
                .execute([group_id])?;
            Ok(n > 0)
        })
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.write(|tx, cipher| {
            let stored = rows::seal(cipher, seal::Row::Table { table, key }, value)?;
            tx.prepare_cached(
                "INSERT INTO canopy_kv (tbl, key, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (tbl, key) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![table.code(), key, stored.as_ref()])?;
            Ok(())
        })
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<bool, StoreError> {
        self.write(|tx, _| {
            let n = tx
                .prepare_cached("DELETE FROM canopy_kv WHERE tbl = ?1 AND key = ?2")?
                .execute(params![table.code(), key])?;
            Ok(n > 0)
        })
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Secret>, StoreError> {
        rows::read_row(&self.tx, self.cipher, table, key)
    }

    fn list(&self, table: Table) -> Result<Vec<(Vec<u8>, Secret)>, StoreError> {
        rows::read_rows(&self.tx, self.cipher, table)
    }

    fn group_version(&self, group_id: &[u8]) -> Result<Option<u64>, StoreError> {
        rows::read_version(&self.tx, group_id)
    }

    fn commit(self) -> Result<(), StoreError> {
        if self.aborted {
            return Err(StoreError::Aborted);
        }
        self.tx.commit()?;
        Ok(())
    }
}
