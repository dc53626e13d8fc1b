//! The embedded Delivery Service backend: one SQLite file (WAL, `synchronous=NORMAL`,
//! foreign keys on), one connection behind a mutex. Every transaction is `BEGIN IMMEDIATE`,
//! so requests that write are serialised by the database.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    DS_MIGRATIONS, DeviceRow, DsStore, DsTx, GroupBlobs, GroupRow, InboxEntry, KeyPackageStock,
};
use crate::StoreError;

/// The embedded Delivery Service database.
#[derive(Debug)]
pub struct SqliteDs {
    conn: Mutex<Connection>,
}

impl SqliteDs {
    /// Opens (creating and migrating if needed) the database at `path`.
    ///
    /// # Errors
    /// [`StoreError::SchemaTooNew`] for a database of a newer build, or a SQLite error.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::setup(Connection::open(path)?, true)
    }

    /// A database in memory (tests).
    ///
    /// # Errors
    /// A SQLite error.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?, false)
    }

    fn setup(mut conn: Connection, file: bool) -> Result<Self, StoreError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(64);
        // Plans that do not depend on bound values: without this, a cached statement whose
        // plan could (a bound LIMIT, a bound range) is compiled again whenever a value
        // changes, which was a fifth of the writer's time under load.
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        if file {
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::corrupt("journal_mode", mode));
            }
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            // Checkpoint every 16 MiB of log rather than every 4 MiB: a page written by
            // many transactions in between is copied back once.
            conn.pragma_update(None, "wal_autocheckpoint", 4096)?;
        }
        crate::sqlite::migrate::run_list(&mut conn, DS_MIGRATIONS, |_| Ok(()))?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }
}

impl DsStore for SqliteDs {
    fn begin(&self) -> Result<Box<dyn DsTx + '_>, StoreError> {
        let conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::corrupt("connection", "a writer panicked".to_owned()))?;
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(Box::new(SqliteDsTx { conn, done: false }))
    }

    fn single_writer(&self) -> bool {
        true
    }
}

/// A [`SqliteDs`] transaction; rolls back on drop unless committed.
pub struct SqliteDsTx<'a> {
    conn: MutexGuard<'a, Connection>,
    done: bool,
}

impl Drop for SqliteDsTx<'_> {
    fn drop(&mut self) {
        if !self.done {
            // Nothing to do if the rollback fails: the connection's next BEGIN fails loudly.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

fn to_i64(v: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::corrupt(what, format!("{v} is out of range")))
}

fn to_u64(v: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::corrupt(what, format!("{v} is negative")))
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64, Vec<u8>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_device(
    (id, user, suite, signature_key): (String, String, i64, Vec<u8>),
) -> Result<DeviceRow, StoreError> {
    Ok(DeviceRow {
        id,
        user,
        suite: u16::try_from(suite)
            .map_err(|_| StoreError::corrupt("ds_devices.suite", format!("{suite}")))?,
        signature_key,
    })
}

impl DsTx for SqliteDsTx<'_> {
    fn insert_user(&mut self, name: &str, now: u64) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO ds_users (name, created) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![name, to_i64(now, "time")?],
        )?;
        Ok(n == 1)
    }

    fn insert_device(&mut self, d: &DeviceRow, now: u64) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO ds_devices (id, user_name, suite, signature_key, created, welcome_next, welcome_cursor)
             VALUES (?1, ?2, ?3, ?4, ?5, 1, 0) ON CONFLICT DO NOTHING",
            params![d.id, d.user, i64::from(d.suite), d.signature_key, to_i64(now, "time")?],
        )?;
        Ok(n == 1)
    }

    fn device(&mut self, id: &str) -> Result<Option<DeviceRow>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT id, user_name, suite, signature_key FROM ds_devices WHERE id = ?1",
            )?
            .query_row([id], device_row)
            .optional()?
            .map(to_device)
            .transpose()
    }

    fn device_by_key(&mut self, key: &[u8]) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM ds_devices WHERE signature_key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn devices_of(&mut self, user: &str) -> Result<Vec<DeviceRow>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, user_name, suite, signature_key FROM ds_devices
             WHERE user_name = ?1 ORDER BY created, id",
        )?;
        let rows = stmt.query_map([user], device_row)?;
        rows.map(|r| to_device(r?)).collect()
    }

    fn use_nonce(&mut self, device: &str, nonce: &[u8], expires: u64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO ds_nonces (device, nonce, expires) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![device, nonce, to_i64(expires, "time")?])?;
        Ok(n == 1)
    }

    fn insert_key_package(
        &mut self,
        device: &str,
        suite: u16,
        reference: &[u8],
        last_resort: bool,
        body: &[u8],
    ) -> Result<bool, StoreError> {
        if last_resort {
            self.conn
                .prepare_cached(
                    "DELETE FROM ds_key_packages WHERE device = ?1 AND suite = ?2 AND last_resort = 1",
                )?
                .execute(params![device, i64::from(suite)])?;
        }
        // Per device (an index range of the device's rows, bounded by the directory's limit).
        let published: i64 = self
            .conn
            .prepare_cached(
                "SELECT COALESCE(MAX(published), 0) + 1 FROM ds_key_packages WHERE device = ?1",
            )?
            .query_row([device], |r| r.get(0))?;
        let n = self
            .conn
            .prepare_cached(
                "INSERT INTO ds_key_packages (ref, device, suite, last_resort, claimed, published, body)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6) ON CONFLICT DO NOTHING",
            )?
            .execute(params![reference, device, i64::from(suite), i64::from(last_resort), published, body])?;
        Ok(n == 1)
    }

    fn key_package_stock(&mut self, device: &str) -> Result<Vec<KeyPackageStock>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT suite, SUM(CASE WHEN last_resort = 0 THEN 1 ELSE 0 END), MAX(last_resort)
             FROM ds_key_packages WHERE device = ?1 AND claimed = 0 GROUP BY suite ORDER BY suite",
        )?;
        let rows = stmt.query_map([device], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        rows.map(|r| {
            let (suite, remaining, last) = r?;
            Ok(KeyPackageStock {
                suite: u16::try_from(suite).map_err(|_| {
                    StoreError::corrupt("ds_key_packages.suite", format!("{suite}"))
                })?,
                remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
                last_resort: last != 0,
            })
        })
        .collect()
    }

    fn take_key_package(
        &mut self,
        device: &str,
        suite: u16,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let found: Option<(Vec<u8>, i64, Vec<u8>)> = self
            .conn
            .prepare_cached(
                "SELECT ref, last_resort, body FROM ds_key_packages
                 WHERE device = ?1 AND suite = ?2 AND claimed = 0
                 ORDER BY last_resort, published LIMIT 1",
            )?
            .query_row(params![device, i64::from(suite)], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((reference, last_resort, body)) = found else {
            return Ok(None);
        };
        if last_resort == 0 {
            self.conn
                .prepare_cached(
                    "UPDATE ds_key_packages SET claimed = 1, body = x'' WHERE ref = ?1",
                )?
                .execute([reference])?;
        }
        Ok(Some(body))
    }

    fn key_package_owner(&mut self, reference: &[u8]) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT device FROM ds_key_packages WHERE ref = ?1")?
            .query_row([reference], |r| r.get(0))
            .optional()?)
    }

    fn insert_group(&mut self, g: &GroupRow, now: u64) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO ds_groups (id, mode, epoch, next_seq, state_seq, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            params![
                g.id,
                i64::from(g.mode),
                to_i64(g.epoch, "epoch")?,
                to_i64(g.next_seq, "seq")?,
                to_i64(g.state_seq, "seq")?,
                to_i64(now, "time")?
            ],
        )?;
        if n == 1 {
            self.conn.execute(
                "INSERT INTO ds_group_blobs (group_id, state, group_info) VALUES (?1, ?2, ?3)",
                params![g.id, g.state, g.group_info],
            )?;
        }
        Ok(n == 1)
    }

    fn group(&mut self, id: &[u8]) -> Result<Option<GroupRow>, StoreError> {
        let row: Option<(i64, i64, i64, i64)> = self
            .conn
            .prepare_cached("SELECT mode, epoch, next_seq, state_seq FROM ds_groups WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        row.map(|(mode, epoch, next_seq, state_seq)| {
            Ok(GroupRow {
                id: id.to_vec(),
                mode: u8::try_from(mode)
                    .map_err(|_| StoreError::corrupt("ds_groups.mode", format!("{mode}")))?,
                epoch: to_u64(epoch, "ds_groups.epoch")?,
                next_seq: to_u64(next_seq, "ds_groups.next_seq")?,
                state: None,
                state_seq: to_u64(state_seq, "ds_groups.state_seq")?,
                group_info: None,
            })
        })
        .transpose()
    }

    fn group_blobs(&mut self, id: &[u8]) -> Result<GroupBlobs, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT state, group_info FROM ds_group_blobs WHERE group_id = ?1")?
            .query_row([id], |r| {
                Ok(GroupBlobs {
                    state: r.get(0)?,
                    group_info: r.get(1)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    fn update_group(
        &mut self,
        id: &[u8],
        epoch: u64,
        next_seq: u64,
        state: Option<&[u8]>,
        group_info: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let next_seq = to_i64(next_seq, "seq")?;
        self.conn
            .prepare_cached(
                "UPDATE ds_groups SET epoch = ?2, next_seq = ?3,
                 state_seq = CASE WHEN ?4 THEN ?3 - 1 ELSE state_seq END WHERE id = ?1",
            )?
            .execute(params![
                id,
                to_i64(epoch, "epoch")?,
                next_seq,
                state.is_some()
            ])?;
        if state.is_some() || group_info.is_some() {
            self.conn
                .prepare_cached(
                    "UPDATE ds_group_blobs SET state = COALESCE(?2, state),
                     group_info = COALESCE(?3, group_info) WHERE group_id = ?1",
                )?
                .execute(params![id, state, group_info])?;
        }
        Ok(())
    }

    fn epoch_winner(&mut self, id: &[u8], epoch: u64) -> Result<Option<u64>, StoreError> {
        self.conn
            .prepare_cached("SELECT seq FROM ds_epoch_winners WHERE group_id = ?1 AND epoch = ?2")?
            .query_row(params![id, to_i64(epoch, "epoch")?], |r| r.get::<_, i64>(0))
            .optional()?
            .map(|s| to_u64(s, "ds_epoch_winners.seq"))
            .transpose()
    }

    fn set_epoch_winner(&mut self, id: &[u8], epoch: u64, seq: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO ds_epoch_winners (group_id, epoch, seq) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id, to_i64(epoch, "epoch")?, to_i64(seq, "seq")?])?;
        Ok(())
    }

    fn append_message(
        &mut self,
        id: &[u8],
        seq: u64,
        sender: &str,
        handshake: bool,
        epoch: u64,
        body: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO ds_messages (group_id, seq, sender, handshake, epoch, body, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                id,
                to_i64(seq, "seq")?,
                sender,
                i64::from(handshake),
                to_i64(epoch, "epoch")?,
                body,
                to_i64(now, "time")?
            ])?;
        Ok(())
    }

    fn message(&mut self, id: &[u8], seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT body FROM ds_messages WHERE group_id = ?1 AND seq = ?2")?
            .query_row(params![id, to_i64(seq, "seq")?], |r| r.get(0))
            .optional()?)
    }

    fn add_member(&mut self, id: &[u8], device: &str, cursor: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO ds_members (group_id, device, cursor, until_seq) VALUES (?1, ?2, ?3, NULL)
                 ON CONFLICT (group_id, device) DO UPDATE SET cursor = excluded.cursor, until_seq = NULL",
            )?
            .execute(params![id, device, to_i64(cursor, "seq")?])?;
        Ok(())
    }

    fn end_member(&mut self, id: &[u8], device: &str, until_seq: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE ds_members SET until_seq = ?3 WHERE group_id = ?1 AND device = ?2",
            )?
            .execute(params![id, device, to_i64(until_seq, "seq")?])?;
        Ok(())
    }

    fn members(&mut self, id: &[u8]) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT device FROM ds_members WHERE group_id = ?1 AND until_seq IS NULL ORDER BY device",
        )?;
        let rows = stmt.query_map([id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn is_member(&mut self, id: &[u8], device: &str) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM ds_members WHERE group_id = ?1 AND device = ?2 AND until_seq IS NULL",
            )?
            .query_row(params![id, device], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn group_count(&mut self, device: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM ds_members WHERE device = ?1 AND until_seq IS NULL",
            )?
            .query_row([device], |r| r.get(0))?;
        to_u64(n, "count")
    }

    fn groups_of(&mut self, device: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT group_id FROM ds_members WHERE device = ?1")?;
        let rows = stmt.query_map([device], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn store_welcome(
        &mut self,
        id: &[u8],
        seq: u64,
        body: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO ds_welcome_bodies (group_id, seq, body, created) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, to_i64(seq, "seq")?, body, to_i64(now, "time")?])?;
        Ok(())
    }

    fn push_welcome(
        &mut self,
        device: &str,
        id: &[u8],
        seq: u64,
        now: u64,
    ) -> Result<u64, StoreError> {
        let position: i64 = self
            .conn
            .prepare_cached(
                "UPDATE ds_devices SET welcome_next = welcome_next + 1 WHERE id = ?1
                 RETURNING welcome_next - 1",
            )?
            .query_row([device], |r| r.get(0))?;
        self.conn
            .prepare_cached(
                "INSERT INTO ds_welcomes (device, seq, group_id, commit_seq, created)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                device,
                position,
                id,
                to_i64(seq, "seq")?,
                to_i64(now, "time")?
            ])?;
        to_u64(position, "ds_devices.welcome_next")
    }

    fn inbox(&mut self, device: &str, max: u32) -> Result<Vec<InboxEntry>, StoreError> {
        let mut out = Vec::new();
        {
            let mut stmt = self.conn.prepare_cached(
                "SELECT w.seq, b.body FROM ds_welcomes AS w
                 JOIN ds_welcome_bodies AS b ON b.group_id = w.group_id AND b.seq = w.commit_seq
                 WHERE w.device = ?1 ORDER BY w.seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![device, i64::from(max)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            for r in rows {
                let (seq, body) = r?;
                out.push(InboxEntry::Welcome {
                    seq: to_u64(seq, "ds_welcomes.seq")?,
                    body,
                });
            }
        }
        let left = u32::try_from(out.len()).map_or(0, |n| max.saturating_sub(n));
        if left == 0 {
            return Ok(out);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.group_id, m.seq, m.body FROM ds_members AS mb
             JOIN ds_messages AS m ON m.group_id = mb.group_id AND m.seq > mb.cursor
                 AND (mb.until_seq IS NULL OR m.seq <= mb.until_seq)
             WHERE mb.device = ?1 AND (m.sender <> ?1 OR m.handshake = 1)
             ORDER BY m.group_id, m.seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![device, i64::from(left)], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        for r in rows {
            let (group_id, seq, body) = r?;
            out.push(InboxEntry::Group {
                group_id,
                seq: to_u64(seq, "ds_messages.seq")?,
                body,
            });
        }
        Ok(out)
    }

    fn ack_group(&mut self, device: &str, id: &[u8], seq: u64) -> Result<(), StoreError> {
        let seq = to_i64(seq, "seq")?;
        self.conn
            .prepare_cached(
                "UPDATE ds_members SET cursor = MAX(cursor, MIN(?3,
                     (SELECT next_seq - 1 FROM ds_groups WHERE id = ?1)))
                 WHERE group_id = ?1 AND device = ?2",
            )?
            .execute(params![id, device, seq])?;
        self.conn
            .prepare_cached(
                "DELETE FROM ds_members WHERE group_id = ?1 AND device = ?2
                 AND until_seq IS NOT NULL AND cursor >= until_seq",
            )?
            .execute(params![id, device])?;
        Ok(())
    }

    fn ack_welcomes(&mut self, device: &str, seq: u64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM ds_welcomes WHERE device = ?1 AND seq <= ?2")?
            .execute(params![device, to_i64(seq, "seq")?])?;
        self.conn
            .prepare_cached(
                "UPDATE ds_devices SET welcome_cursor = MAX(welcome_cursor, ?2) WHERE id = ?1",
            )?
            .execute(params![device, to_i64(seq, "seq")?])?;
        Ok(())
    }

    fn prune(&mut self, older_than: u64, now: u64) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM ds_nonces WHERE expires < ?1")?
            .execute([to_i64(now, "time")?])?;
        let read = self.conn.execute(
            "DELETE FROM ds_messages WHERE seq <= COALESCE(
                 (SELECT MIN(cursor) FROM ds_members WHERE ds_members.group_id = ds_messages.group_id),
                 seq)",
            [],
        )?;
        let old = self.conn.execute(
            "DELETE FROM ds_messages WHERE created < ?1",
            [to_i64(older_than, "time")?],
        )?;
        self.conn.execute(
            "DELETE FROM ds_welcomes WHERE created < ?1",
            [to_i64(older_than, "time")?],
        )?;
        self.conn.execute(
            "DELETE FROM ds_welcome_bodies WHERE NOT EXISTS (SELECT 1 FROM ds_welcomes AS w
                 WHERE w.group_id = ds_welcome_bodies.group_id AND w.commit_seq = ds_welcome_bodies.seq)",
            [],
        )?;
        Ok(u64::try_from(read.saturating_add(old)).unwrap_or(u64::MAX))
    }

    fn savepoint(&mut self) -> Result<(), StoreError> {
        self.conn.prepare_cached("SAVEPOINT request")?.execute([])?;
        Ok(())
    }

    fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.conn.prepare_cached("RELEASE request")?.execute([])?;
        Ok(())
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("ROLLBACK TO request")?
            .execute([])?;
        self.release_savepoint()
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.conn.prepare_cached("COMMIT")?.execute([])?;
        self.done = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn group(id: &[u8], state: &[u8]) -> GroupRow {
        GroupRow {
            id: id.to_vec(),
            mode: 1,
            epoch: 0,
            next_seq: 1,
            state: Some(state.to_vec()),
            state_seq: 0,
            group_info: Some(b"info".to_vec()),
        }
    }

    #[test]
    fn schema_1_migrates_with_the_groups_blobs_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ds.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            crate::sqlite::migrate::run_list(&mut conn, &DS_MIGRATIONS[..1], |_| Ok(())).unwrap();
            conn.execute(
                "INSERT INTO ds_groups (id, mode, epoch, next_seq, state, state_seq, group_info, created)
                 VALUES (x'01', 1, 3, 7, x'aabb', 5, x'cc', 0)",
                [],
            )
            .unwrap();
        }
        let ds = SqliteDs::open(&path).unwrap();
        let mut tx = ds.begin().unwrap();
        let row = tx.group(&[1]).unwrap().unwrap();
        assert_eq!((row.epoch, row.next_seq, row.state_seq), (3, 7, 5));
        let blobs = tx.group_blobs(&[1]).unwrap();
        assert_eq!(blobs.state.as_deref(), Some(&[0xaa, 0xbb][..]));
        assert_eq!(blobs.group_info.as_deref(), Some(&[0xcc][..]));
    }

    #[test]
    fn a_message_moves_the_counters_and_leaves_the_blobs() {
        let ds = SqliteDs::in_memory().unwrap();
        let mut tx = ds.begin().unwrap();
        assert!(tx.insert_group(&group(b"g", b"state-0"), 0).unwrap());
        // An application message: counters only.
        tx.update_group(b"g", 0, 2, None, None).unwrap();
        let row = tx.group(b"g").unwrap().unwrap();
        assert_eq!((row.next_seq, row.state_seq), (2, 0));
        assert_eq!(
            tx.group_blobs(b"g").unwrap().state.as_deref(),
            Some(&b"state-0"[..])
        );
        // A commit: a new state at its position, the GroupInfo kept when none is given.
        tx.update_group(b"g", 1, 3, Some(b"state-2"), None).unwrap();
        let row = tx.group(b"g").unwrap().unwrap();
        assert_eq!((row.epoch, row.next_seq, row.state_seq), (1, 3, 2));
        let blobs = tx.group_blobs(b"g").unwrap();
        assert_eq!(blobs.state.as_deref(), Some(&b"state-2"[..]));
        assert_eq!(blobs.group_info.as_deref(), Some(&b"info"[..]));
    }

    #[test]
    fn a_rolled_back_savepoint_undoes_only_its_writes() {
        let ds = SqliteDs::in_memory().unwrap();
        let mut tx = ds.begin().unwrap();
        tx.savepoint().unwrap();
        assert!(tx.insert_user("kept", 0).unwrap());
        tx.release_savepoint().unwrap();
        tx.savepoint().unwrap();
        assert!(tx.insert_user("undone", 0).unwrap());
        tx.rollback_to_savepoint().unwrap();
        tx.commit().unwrap();
        let mut tx = ds.begin().unwrap();
        assert!(!tx.insert_user("kept", 1).unwrap());
        assert!(tx.insert_user("undone", 1).unwrap());
    }
}
