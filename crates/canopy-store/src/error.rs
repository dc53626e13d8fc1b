//! The store's one error type.

/// Why a store operation failed.
///
/// A bad row (an unknown kind code, an out-of-range integer, a value that fails to
/// authenticate) is [`Corrupt`](Self::Corrupt), never a panic and never a row silently
/// skipped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error (other than a lock held too long, which is [`Busy`](Self::Busy)).
    #[error("sqlite: {0}")]
    Sqlite(rusqlite::Error),
    /// Another connection (this process or another) held the write lock for longer than the
    /// busy timeout ([`StoreOptions::busy_timeout`](crate::StoreOptions::busy_timeout)).
    /// Nothing was written; the operation can be retried.
    #[error("the database is locked by another writer (busy timeout elapsed)")]
    Busy,
    /// Optimistic concurrency: the group's stored version is not the one the caller loaded, so
    /// another writer changed (or created, or deleted) the group in between. Nothing was
    /// written. The caller must reload the group and redo the operation: applying a delta
    /// computed from a stale state could reuse a ratchet generation (and so a key and nonce,
    /// RFC 9420 §9.1) that the other writer already used.
    #[error("group version conflict: expected {expected:?}, found {found:?}")]
    Conflict {
        /// The version the caller loaded (`None`: the group should not exist).
        expected: Option<u64>,
        /// The version stored (`None`: the group does not exist).
        found: Option<u64>,
    },
    /// Another database backend (the Delivery Service's PostgreSQL one) reported an error.
    #[error("{backend}: {reason}")]
    Backend {
        /// Which backend.
        backend: &'static str,
        /// What it said.
        reason: String,
    },
    /// A stored row is malformed or was tampered with.
    #[error("corrupt store: {what}: {reason}")]
    Corrupt {
        /// Which row or column.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The database was written by a newer version of this crate (its schema version is
    /// higher than the newest migration this build knows). It is not downgraded.
    #[error("database schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew {
        /// `PRAGMA user_version` of the database.
        found: u32,
        /// The newest schema version this build knows.
        supported: u32,
    },
    /// The database is encrypted, and the key given is not the one it was created with.
    #[error("wrong encryption key for this database")]
    WrongKey,
    /// The database is encrypted, and no key was given.
    #[error("the database is encrypted: an encryption key is required")]
    KeyRequired,
    /// An encryption key was given, but the database was created without encryption (its
    /// values are plaintext). Encryption is chosen when a database is created.
    #[error("the database was created without encryption, but a key was given")]
    NotEncrypted,
    /// Sealing a value failed (the OS random number generator failed, or a value is too long
    /// for the AEAD).
    #[error("encryption failed: {reason}")]
    Encryption {
        /// What failed.
        reason: &'static str,
    },
    /// A pragma did not take the value the store sets (for example WAL mode on a file
    /// system without shared memory).
    #[error("pragma {name} is {found:?} (the store needs {wanted:?})")]
    Pragma {
        /// The pragma.
        name: &'static str,
        /// What the store asked for.
        wanted: &'static str,
        /// What SQLite reports.
        found: String,
    },
    /// The store does not know this kind of change (a newer `canopy-core` than the store
    /// was built for). The transaction is aborted.
    #[error("unsupported: {what}")]
    Unsupported {
        /// What is not supported.
        what: &'static str,
    },
    /// An earlier write in this transaction failed, so the transaction can only be rolled
    /// back: it accepts no more writes and [`commit`](crate::StoreTx::commit) refuses.
    #[error("an earlier write in this transaction failed; it can only be rolled back")]
    Aborted,
    /// A failure injected by [`FaultyStore`](crate::FaultyStore) (tests only).
    #[error("injected failure: {operation}")]
    Injected {
        /// The operation that was made to fail.
        operation: &'static str,
    },
}

impl StoreError {
    /// A corrupt-row error.
    pub fn corrupt(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            what,
            reason: reason.into(),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    /// Maps a lock held past the busy timeout to [`StoreError::Busy`], anything else to
    /// [`StoreError::Sqlite`].
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Busy
            }
            _ => Self::Sqlite(e),
        }
    }
}
