//! The schema migrator: applies `migrations/NNNN_*.sql` in order, in one transaction, and
//! records the schema version in `PRAGMA user_version` (STYLE.md B.7).
//!
//! Migration `i` (0-based in [`MIGRATIONS`]) takes the schema from version `i` to `i + 1`. A
//! database whose `user_version` is above [`SCHEMA_VERSION`] was written by a newer build and
//! is refused ([`StoreError::SchemaTooNew`]) before anything is written, never downgraded.
//! The transaction is `BEGIN IMMEDIATE`, so two processes opening a new database at once
//! migrate it once: the second waits, then finds it up to date.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::StoreError;

/// The migrations, oldest first.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/0001_init.sql")];

/// The schema version this build writes: the number of migrations it knows.
pub const SCHEMA_VERSION: u32 = 1;

/// Migrates the database to [`SCHEMA_VERSION`]. `init` runs in the same transaction when the
/// database is new (schema version 0), after the migrations, to write the store's metadata.
pub(crate) fn run(
    conn: &mut Connection,
    init: impl FnOnce(&Transaction<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    run_list(conn, MIGRATIONS, init)
}

/// Migrates the database with `migrations` (migration `i` takes version `i` to `i + 1`), the
/// client store's or the Delivery Service's.
pub(crate) fn run_list(
    conn: &mut Connection,
    migrations: &[&str],
    init: impl FnOnce(&Transaction<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let supported = u32::try_from(migrations.len()).unwrap_or(u32::MAX);
    let tx = Transaction::new(conn, TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    if found == supported {
        return Ok(());
    }
    let done = usize::try_from(found).unwrap_or(usize::MAX);
    for sql in migrations.iter().skip(done) {
        tx.execute_batch(sql)?;
    }
    if found == 0 {
        init(&tx)?;
    }
    tx.pragma_update(None, "user_version", supported)?;
    tx.commit()?;
    Ok(())
}

/// `PRAGMA user_version` (a signed 32-bit field of the database header).
pub(crate) fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    u32::try_from(v).map_err(|_| StoreError::corrupt("PRAGMA user_version", format!("{v}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_version_counts_the_migrations() {
        assert_eq!(usize::try_from(SCHEMA_VERSION).unwrap(), MIGRATIONS.len());
    }

    #[test]
    fn migrating_twice_applies_once_and_a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        let mut inits = 0;
        run(&mut conn, |_| {
            inits += 1;
            Ok(())
        })
        .unwrap();
        run(&mut conn, |_| {
            inits += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(inits, 1);
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);

        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        assert!(matches!(
            run(&mut conn, |_| Ok(())),
            Err(StoreError::SchemaTooNew { found, supported })
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
        ));
    }

    #[test]
    fn a_failed_init_leaves_the_database_unmigrated() {
        let mut conn = Connection::open_in_memory().unwrap();
        let err = run(&mut conn, |_| {
            Err(StoreError::Injected { operation: "init" })
        });
        assert!(matches!(err, Err(StoreError::Injected { .. })));
        assert_eq!(user_version(&conn).unwrap(), 0);
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name LIKE 'canopy_%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
    }
}
