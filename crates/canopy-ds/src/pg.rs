//! The PostgreSQL backend of the Delivery Service (ADR 0005): the same tables, migrations
//! and [`DsTx`] as the SQLite one, over the synchronous `postgres` client, so that several
//! DS processes can serve the same groups. Ordering: a transaction reads its group's row
//! `FOR UPDATE`, so two commits for one group are serialised by the database. Live
//! delivery across processes: accepting a message `NOTIFY`s the group (and a Welcome the
//! device); every process `LISTEN`s and wakes its own long polls ([`PgDs::listen`]).

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use canopy_store::StoreError;
use canopy_store::ds::{
    DS_MIGRATIONS, DeviceRow, DsStore, DsTx, GroupBlobs, GroupRow, InboxEntry, KeyPackageStock,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Row, Statement};

use crate::live::Live;

/// The notification channel.
const CHANNEL: &str = "canopy_ds";

fn pg(e: postgres::Error) -> StoreError {
    StoreError::Backend {
        backend: "postgres",
        reason: e.to_string(),
    }
}

fn to_i64(v: u64) -> Result<i64, StoreError> {
    i64::try_from(v).map_err(|_| StoreError::corrupt("integer", format!("{v} is out of range")))
}

fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::corrupt("integer", format!("{v} is negative")))
}

/// The DS migrations in PostgreSQL's types.
fn migration_sql(sql: &str) -> String {
    sql.replace("BLOB", "BYTEA").replace("INTEGER", "BIGINT")
}

/// A PostgreSQL Delivery Service database: a pool of connections; a transaction takes a free
/// one, or waits for the first returned. A connection that fails (the server restarted, the
/// backend was terminated) is closed and its slot connects again when a transaction next
/// takes it, so the pool never shrinks.
pub struct PgDs {
    /// Free slots: a connection, or `None` for one to open.
    free: Mutex<Vec<Option<Conn>>>,
    returned: Condvar,
    size: usize,
    url: String,
    schema: Option<String>,
}

/// A connection and the statements prepared on it, by SQL text: each statement is parsed
/// and planned once per connection, and runs in one round trip after that.
struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    fn new(client: Client) -> Self {
        Self {
            client,
            statements: HashMap::new(),
        }
    }

    fn prepared(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(pg)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }
}

impl Drop for PgDs {
    /// The clients close their connections with a runtime of their own, which may not start
    /// on a thread of the server's runtime (where the last reference may go).
    fn drop(&mut self) {
        let conns: Vec<Conn> = self
            .free
            .get_mut()
            .map(std::mem::take)
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .collect();
        let _ = std::thread::spawn(move || drop(conns)).join();
    }
}

impl core::fmt::Debug for PgDs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PgDs")
            .field("connections", &self.size)
            .finish_non_exhaustive()
    }
}

fn connect(url: &str, schema: Option<&str>) -> Result<Client, StoreError> {
    let mut client = Client::connect(url, NoTls).map_err(pg)?;
    // Named for operators (`pg_stat_activity`), with the schema when there is one.
    let name = schema.map_or_else(|| "canopy-ds".to_owned(), |s| format!("canopy-ds {s}"));
    client
        .batch_execute(&format!("SET application_name TO '{name}'"))
        .map_err(pg)?;
    if let Some(s) = schema {
        client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {s}; SET search_path TO {s}"
            ))
            .map_err(pg)?;
    }
    Ok(client)
}

impl PgDs {
    /// Connects `connections` times to `url` (a `postgres://` URL or `key=value` string),
    /// in `schema` if given (tests use one per server), and migrates the schema once (an
    /// advisory lock keeps concurrent processes from migrating twice).
    ///
    /// # Errors
    /// The database cannot be reached, or its schema is newer than this build.
    pub fn connect(
        url: &str,
        schema: Option<&str>,
        connections: usize,
    ) -> Result<Self, StoreError> {
        if let Some(s) = schema
            && !s
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        {
            return Err(StoreError::corrupt("schema", s.to_owned()));
        }
        let mut first = connect(url, schema)?;
        migrate(&mut first)?;
        let mut conns = vec![Some(Conn::new(first))];
        for _ in 1..connections.max(1) {
            conns.push(Some(Conn::new(connect(url, schema)?)));
        }
        Ok(Self {
            size: conns.len(),
            free: Mutex::new(conns),
            returned: Condvar::new(),
            url: url.to_owned(),
            schema: schema.map(str::to_owned),
        })
    }

    /// Starts the thread that turns this database's notifications into wake-ups of `live`.
    ///
    /// # Errors
    /// The listening connection cannot be opened.
    pub fn listen(&self, live: Arc<Live>) -> Result<(), StoreError> {
        listen(&self.url, self.schema.as_deref(), live)
    }

    /// Returns a slot to the pool and wakes a transaction waiting for one.
    fn give_back(&self, slot: Option<Conn>) {
        if let Ok(mut free) = self.free.lock() {
            free.push(slot);
            self.returned.notify_one();
        }
    }
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(pg)?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(7420); CREATE TABLE IF NOT EXISTS ds_schema (version BIGINT NOT NULL)",
    )
    .map_err(pg)?;
    let found: i64 = tx
        .query_opt("SELECT version FROM ds_schema", &[])
        .map_err(pg)?
        .map_or(0, |r| r.get(0));
    let supported = i64::try_from(DS_MIGRATIONS.len()).unwrap_or(i64::MAX);
    if found > supported {
        return Err(StoreError::SchemaTooNew {
            found: u32::try_from(found).unwrap_or(u32::MAX),
            supported: u32::try_from(supported).unwrap_or(u32::MAX),
        });
    }
    for sql in DS_MIGRATIONS
        .iter()
        .skip(usize::try_from(found).unwrap_or(usize::MAX))
    {
        tx.batch_execute(&migration_sql(sql)).map_err(pg)?;
    }
    tx.execute("DELETE FROM ds_schema", &[]).map_err(pg)?;
    tx.execute("INSERT INTO ds_schema (version) VALUES ($1)", &[&supported])
        .map_err(pg)?;
    tx.commit().map_err(pg)
}

/// What the listening connection heard in one wait.
enum Heard {
    /// A notification (handled).
    Notification,
    /// Nothing for 30 s.
    Quiet,
    /// The connection failed.
    Failed(postgres::Error),
}

/// Listens on the notification channel and wakes `live`: `g<hex>` a group, `d<id>` a device.
/// If the listening connection fails, it connects again (every second until it can) and
/// wakes every waiter, whose notifications may have been missed meanwhile.
fn listen(url: &str, schema: Option<&str>, live: Arc<Live>) -> Result<(), StoreError> {
    let open = |url: &str, schema: Option<&str>| -> Result<Client, StoreError> {
        let mut client = connect(url, schema)?;
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .map_err(pg)?;
        Ok(client)
    };
    let mut client = open(url, schema)?;
    let (url, schema) = (url.to_owned(), schema.map(str::to_owned));
    std::thread::Builder::new()
        .name("canopy-ds-listen".into())
        .spawn(move || {
            loop {
                let heard = {
                    let mut notifications = client.notifications();
                    let mut iter = notifications.timeout_iter(Duration::from_secs(30));
                    match iter.next() {
                        Ok(Some(n)) => {
                            let payload = n.payload();
                            if let Some(hex) = payload.strip_prefix('g') {
                                if let Some(id) = canopy_ds_api::hex::decode(hex) {
                                    live.wake_group(&id);
                                }
                            } else if let Some(device) = payload.strip_prefix('d') {
                                live.wake_device(device);
                            }
                            Heard::Notification
                        }
                        Ok(None) => Heard::Quiet,
                        Err(e) => Heard::Failed(e),
                    }
                };
                let failed = match heard {
                    Heard::Notification => None,
                    // Quiet: check that the connection is alive (a network that drops it
                    // without closing it would leave long polls unwoken for good).
                    Heard::Quiet => client.is_valid(Duration::from_secs(5)).err(),
                    Heard::Failed(e) => Some(e),
                };
                let Some(e) = failed else { continue };
                tracing::error!(error = %e, "the notification connection failed; reconnecting");
                client = loop {
                    std::thread::sleep(Duration::from_secs(1));
                    match open(&url, schema.as_deref()) {
                        Ok(c) => break c,
                        Err(e) => tracing::warn!(error = %e, "reconnecting to PostgreSQL"),
                    }
                };
                live.wake_all();
            }
        })
        .map_err(|e| StoreError::corrupt("listener thread", e.to_string()))?;
    Ok(())
}

impl DsStore for PgDs {
    fn begin(&self) -> Result<Box<dyn DsTx + '_>, StoreError> {
        let poisoned = || StoreError::corrupt("postgres", "a transaction panicked".to_owned());
        let mut free = self.free.lock().map_err(|_| poisoned())?;
        let slot = loop {
            if let Some(c) = free.pop() {
                break c;
            }
            free = self.returned.wait(free).map_err(|_| poisoned())?;
        };
        drop(free);
        // A kept connection that cannot begin (the server closed it) is replaced at once:
        // nothing ran on it yet, so the transaction begins on a new one instead.
        let mut conn = slot.filter(|c| !c.client.is_closed());
        if let Some(c) = &mut conn
            && c.client.batch_execute("BEGIN").is_err()
        {
            tracing::warn!("a PostgreSQL connection failed; it is reopened");
            conn = None;
        }
        let conn = match conn {
            Some(c) => c,
            None => {
                let begun = connect(&self.url, self.schema.as_deref()).and_then(|mut client| {
                    client.batch_execute("BEGIN").map_err(pg)?;
                    Ok(client)
                });
                match begun {
                    Ok(client) => Conn::new(client),
                    Err(e) => {
                        self.give_back(None);
                        return Err(e);
                    }
                }
            }
        };
        Ok(Box::new(PgDsTx {
            pool: self,
            conn: Some(conn),
            done: false,
        }))
    }
}

/// A [`PgDs`] transaction; rolls back on drop unless committed, and gives its connection
/// back to the pool.
pub struct PgDsTx<'a> {
    pool: &'a PgDs,
    conn: Option<Conn>,
    done: bool,
}

impl Drop for PgDsTx<'_> {
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let failed = conn.client.is_closed()
            || (!self.done && conn.client.batch_execute("ROLLBACK").is_err());
        if failed {
            // A connection that failed, or cannot roll back, is closed; its slot connects
            // again when a transaction next takes it.
            tracing::error!("a PostgreSQL connection failed; it is closed and will be reopened");
            drop(conn);
            self.pool.give_back(None);
        } else {
            self.pool.give_back(Some(conn));
        }
    }
}

fn device_of(r: &Row) -> Result<DeviceRow, StoreError> {
    let suite: i64 = r.get(2);
    Ok(DeviceRow {
        id: r.get(0),
        user: r.get(1),
        suite: u16::try_from(suite)
            .map_err(|_| StoreError::corrupt("ds_devices.suite", format!("{suite}")))?,
        signature_key: r.get(3),
    })
}

impl PgDsTx<'_> {
    fn conn(&mut self) -> Result<&mut Conn, StoreError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::corrupt("postgres", "the transaction ended".to_owned()))
    }

    fn exec(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let conn = self.conn()?;
        let statement = conn.prepared(sql)?;
        conn.client.execute(&statement, params).map_err(pg)
    }

    fn opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let conn = self.conn()?;
        let statement = conn.prepared(sql)?;
        conn.client.query_opt(&statement, params).map_err(pg)
    }

    fn all(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let conn = self.conn()?;
        let statement = conn.prepared(sql)?;
        conn.client.query(&statement, params).map_err(pg)
    }

    fn notify(&mut self, payload: &str) -> Result<(), StoreError> {
        self.exec("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
            .map(|_| ())
    }
}

impl DsTx for PgDsTx<'_> {
    fn insert_user(&mut self, name: &str, now: u64) -> Result<bool, StoreError> {
        Ok(self.exec(
            "INSERT INTO ds_users (name, created) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&name, &to_i64(now)?],
        )? == 1)
    }

    fn insert_device(&mut self, d: &DeviceRow, now: u64) -> Result<bool, StoreError> {
        Ok(self.exec(
            "INSERT INTO ds_devices (id, user_name, suite, signature_key, created, welcome_next, welcome_cursor)
             VALUES ($1, $2, $3, $4, $5, 1, 0) ON CONFLICT DO NOTHING",
            &[&d.id, &d.user, &i64::from(d.suite), &d.signature_key, &to_i64(now)?],
        )? == 1)
    }

    fn device(&mut self, id: &str) -> Result<Option<DeviceRow>, StoreError> {
        self.opt(
            "SELECT id, user_name, suite, signature_key FROM ds_devices WHERE id = $1",
            &[&id],
        )?
        .as_ref()
        .map(device_of)
        .transpose()
    }

    fn device_by_key(&mut self, key: &[u8]) -> Result<Option<String>, StoreError> {
        Ok(self
            .opt(
                "SELECT id FROM ds_devices WHERE signature_key = $1",
                &[&key],
            )?
            .map(|r| r.get(0)))
    }

    fn devices_of(&mut self, user: &str) -> Result<Vec<DeviceRow>, StoreError> {
        self.all("SELECT id, user_name, suite, signature_key FROM ds_devices WHERE user_name = $1 ORDER BY created, id", &[&user])?
            .iter()
            .map(device_of)
            .collect()
    }

    fn use_nonce(&mut self, device: &str, nonce: &[u8], expires: u64) -> Result<bool, StoreError> {
        Ok(self.exec(
            "INSERT INTO ds_nonces (device, nonce, expires) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&device, &nonce, &to_i64(expires)?],
        )? == 1)
    }

    fn insert_key_package(
        &mut self,
        device: &str,
        suite: u16,
        reference: &[u8],
        last_resort: bool,
        body: &[u8],
    ) -> Result<bool, StoreError> {
        let suite = i64::from(suite);
        if last_resort {
            self.exec(
                "DELETE FROM ds_key_packages WHERE device = $1 AND suite = $2 AND last_resort = 1",
                &[&device, &suite],
            )?;
        }
        let published: i64 = self
            .opt(
                "SELECT COALESCE(MAX(published), 0) + 1 FROM ds_key_packages WHERE device = $1",
                &[&device],
            )?
            .map_or(1, |r| r.get(0));
        Ok(self.exec(
            "INSERT INTO ds_key_packages (ref, device, suite, last_resort, claimed, published, body)
             VALUES ($1, $2, $3, $4, 0, $5, $6) ON CONFLICT DO NOTHING",
            &[&reference, &device, &suite, &i64::from(last_resort), &published, &body],
        )? == 1)
    }

    fn key_package_stock(&mut self, device: &str) -> Result<Vec<KeyPackageStock>, StoreError> {
        self.all(
            "SELECT suite, SUM(CASE WHEN last_resort = 0 THEN 1 ELSE 0 END)::BIGINT, MAX(last_resort)
             FROM ds_key_packages WHERE device = $1 AND claimed = 0 GROUP BY suite ORDER BY suite",
            &[&device],
        )?
        .iter()
        .map(|r| {
            let (suite, remaining, last): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
            Ok(KeyPackageStock {
                suite: u16::try_from(suite).map_err(|_| StoreError::corrupt("ds_key_packages.suite", format!("{suite}")))?,
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
        let Some(row) = self.opt(
            "SELECT ref, last_resort, body FROM ds_key_packages
             WHERE device = $1 AND suite = $2 AND claimed = 0
             ORDER BY last_resort, published LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[&device, &i64::from(suite)],
        )?
        else {
            return Ok(None);
        };
        let (reference, last_resort, body): (Vec<u8>, i64, Vec<u8>) =
            (row.get(0), row.get(1), row.get(2));
        if last_resort == 0 {
            self.exec(
                "UPDATE ds_key_packages SET claimed = 1, body = ''::bytea WHERE ref = $1",
                &[&reference],
            )?;
        }
        Ok(Some(body))
    }

    fn key_package_owner(&mut self, reference: &[u8]) -> Result<Option<String>, StoreError> {
        Ok(self
            .opt(
                "SELECT device FROM ds_key_packages WHERE ref = $1",
                &[&reference],
            )?
            .map(|r| r.get(0)))
    }

    fn insert_group(&mut self, g: &GroupRow, now: u64) -> Result<bool, StoreError> {
        let n = self.exec(
            "INSERT INTO ds_groups (id, mode, epoch, next_seq, state_seq, created)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            &[
                &g.id,
                &i64::from(g.mode),
                &to_i64(g.epoch)?,
                &to_i64(g.next_seq)?,
                &to_i64(g.state_seq)?,
                &to_i64(now)?,
            ],
        )?;
        if n == 1 {
            self.exec(
                "INSERT INTO ds_group_blobs (group_id, state, group_info) VALUES ($1, $2, $3)",
                &[&g.id, &g.state, &g.group_info],
            )?;
        }
        Ok(n == 1)
    }

    fn group(&mut self, id: &[u8]) -> Result<Option<GroupRow>, StoreError> {
        // FOR UPDATE: a request that reads a group's row holds it until it commits, which is
        // what orders the group's messages across connections and processes.
        let Some(r) = self.opt(
            "SELECT mode, epoch, next_seq, state_seq FROM ds_groups WHERE id = $1 FOR UPDATE",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let mode: i64 = r.get(0);
        Ok(Some(GroupRow {
            id: id.to_vec(),
            mode: u8::try_from(mode)
                .map_err(|_| StoreError::corrupt("ds_groups.mode", format!("{mode}")))?,
            epoch: to_u64(r.get(1))?,
            next_seq: to_u64(r.get(2))?,
            state: None,
            state_seq: to_u64(r.get(3))?,
            group_info: None,
        }))
    }

    fn group_blobs(&mut self, id: &[u8]) -> Result<GroupBlobs, StoreError> {
        Ok(self
            .opt(
                "SELECT state, group_info FROM ds_group_blobs WHERE group_id = $1",
                &[&id],
            )?
            .map_or_else(GroupBlobs::default, |r| GroupBlobs {
                state: r.get(0),
                group_info: r.get(1),
            }))
    }

    fn update_group(
        &mut self,
        id: &[u8],
        epoch: u64,
        next_seq: u64,
        state: Option<&[u8]>,
        group_info: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        let next = to_i64(next_seq)?;
        self.exec(
            "UPDATE ds_groups SET epoch = $2::bigint, next_seq = $3::bigint,
             state_seq = CASE WHEN $4::boolean THEN $3::bigint - 1 ELSE state_seq END WHERE id = $1",
            &[&id, &to_i64(epoch)?, &next, &state.is_some()],
        )?;
        if state.is_some() || group_info.is_some() {
            self.exec(
                "UPDATE ds_group_blobs SET state = COALESCE($2, state),
                 group_info = COALESCE($3, group_info) WHERE group_id = $1",
                &[&id, &state, &group_info],
            )?;
        }
        Ok(())
    }

    fn epoch_winner(&mut self, id: &[u8], epoch: u64) -> Result<Option<u64>, StoreError> {
        self.opt(
            "SELECT seq FROM ds_epoch_winners WHERE group_id = $1 AND epoch = $2",
            &[&id, &to_i64(epoch)?],
        )?
        .map(|r| to_u64(r.get(0)))
        .transpose()
    }

    fn set_epoch_winner(&mut self, id: &[u8], epoch: u64, seq: u64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO ds_epoch_winners (group_id, epoch, seq) VALUES ($1, $2, $3)",
            &[&id, &to_i64(epoch)?, &to_i64(seq)?],
        )?;
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
        self.exec(
            "INSERT INTO ds_messages (group_id, seq, sender, handshake, epoch, body, created) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&id, &to_i64(seq)?, &sender, &i64::from(handshake), &to_i64(epoch)?, &body, &to_i64(now)?],
        )?;
        self.notify(&format!("g{}", canopy_ds_api::hex::encode(id)))
    }

    fn message(&mut self, id: &[u8], seq: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .opt(
                "SELECT body FROM ds_messages WHERE group_id = $1 AND seq = $2",
                &[&id, &to_i64(seq)?],
            )?
            .map(|r| r.get(0)))
    }

    fn add_member(&mut self, id: &[u8], device: &str, cursor: u64) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO ds_members (group_id, device, cursor, until_seq) VALUES ($1, $2, $3, NULL)
             ON CONFLICT (group_id, device) DO UPDATE SET cursor = excluded.cursor, until_seq = NULL",
            &[&id, &device, &to_i64(cursor)?],
        )?;
        self.notify(&format!("d{device}"))
    }

    fn end_member(&mut self, id: &[u8], device: &str, until_seq: u64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE ds_members SET until_seq = $3 WHERE group_id = $1 AND device = $2",
            &[&id, &device, &to_i64(until_seq)?],
        )?;
        Ok(())
    }

    fn members(&mut self, id: &[u8]) -> Result<Vec<String>, StoreError> {
        Ok(self
            .all("SELECT device FROM ds_members WHERE group_id = $1 AND until_seq IS NULL ORDER BY device", &[&id])?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn is_member(&mut self, id: &[u8], device: &str) -> Result<bool, StoreError> {
        Ok(self.opt("SELECT 1 FROM ds_members WHERE group_id = $1 AND device = $2 AND until_seq IS NULL", &[&id, &device])?.is_some())
    }

    fn group_count(&mut self, device: &str) -> Result<u64, StoreError> {
        let n: i64 = self
            .opt(
                "SELECT COUNT(*) FROM ds_members WHERE device = $1 AND until_seq IS NULL",
                &[&device],
            )?
            .map_or(0, |r| r.get(0));
        to_u64(n)
    }

    fn groups_of(&mut self, device: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self
            .all(
                "SELECT group_id FROM ds_members WHERE device = $1",
                &[&device],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn store_welcome(
        &mut self,
        id: &[u8],
        seq: u64,
        body: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO ds_welcome_bodies (group_id, seq, body, created) VALUES ($1, $2, $3, $4)",
            &[&id, &to_i64(seq)?, &body, &to_i64(now)?],
        )?;
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
            .opt(
                "UPDATE ds_devices SET welcome_next = welcome_next + 1 WHERE id = $1 RETURNING welcome_next - 1",
                &[&device],
            )?
            .map(|r| r.get(0))
            .ok_or_else(|| StoreError::corrupt("ds_devices", format!("no device {device}")))?;
        self.exec(
            "INSERT INTO ds_welcomes (device, seq, group_id, commit_seq, created) VALUES ($1, $2, $3, $4, $5)",
            &[&device, &position, &id, &to_i64(seq)?, &to_i64(now)?],
        )?;
        self.notify(&format!("d{device}"))?;
        to_u64(position)
    }

    fn inbox(&mut self, device: &str, max: u32) -> Result<Vec<InboxEntry>, StoreError> {
        let mut out = Vec::new();
        for r in self.all(
            "SELECT w.seq, b.body FROM ds_welcomes AS w JOIN ds_welcome_bodies AS b ON b.group_id = w.group_id AND b.seq = w.commit_seq WHERE w.device = $1 ORDER BY w.seq LIMIT $2",
            &[&device, &i64::from(max)],
        )? {
            out.push(InboxEntry::Welcome {
                seq: to_u64(r.get(0))?,
                body: r.get(1),
            });
        }
        let left = u32::try_from(out.len()).map_or(0, |n| max.saturating_sub(n));
        if left == 0 {
            return Ok(out);
        }
        for r in self.all(
            // Per membership, the log from the cursor in order and at most the limit
            // (`LATERAL`): a join sorted as a whole read a group's whole backlog per request
            // (163 ms for a device 10,000 messages behind, 1.2 ms this way).
            "SELECT m.group_id, m.seq, m.body FROM ds_members AS mb
             CROSS JOIN LATERAL (
                 SELECT x.group_id, x.seq, x.body FROM ds_messages AS x
                 WHERE x.group_id = mb.group_id AND x.seq > mb.cursor
                     AND (mb.until_seq IS NULL OR x.seq <= mb.until_seq)
                     AND (x.sender <> $1 OR x.handshake = 1)
                 ORDER BY x.seq LIMIT $2
             ) AS m
             WHERE mb.device = $1
             ORDER BY m.group_id, m.seq LIMIT $2",
            &[&device, &i64::from(left)],
        )? {
            out.push(InboxEntry::Group {
                group_id: r.get(0),
                seq: to_u64(r.get(1))?,
                body: r.get(2),
            });
        }
        Ok(out)
    }

    fn ack_group(&mut self, device: &str, id: &[u8], seq: u64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE ds_members SET cursor = GREATEST(cursor, LEAST($3, (SELECT next_seq - 1 FROM ds_groups WHERE id = $1)))
             WHERE group_id = $1 AND device = $2",
            &[&id, &device, &to_i64(seq)?],
        )?;
        self.exec(
            "DELETE FROM ds_members WHERE group_id = $1 AND device = $2 AND until_seq IS NOT NULL AND cursor >= until_seq",
            &[&id, &device],
        )?;
        Ok(())
    }

    fn ack_welcomes(&mut self, device: &str, seq: u64) -> Result<(), StoreError> {
        let seq = to_i64(seq)?;
        self.exec(
            "DELETE FROM ds_welcomes WHERE device = $1 AND seq <= $2",
            &[&device, &seq],
        )?;
        self.exec(
            "UPDATE ds_devices SET welcome_cursor = GREATEST(welcome_cursor, $2) WHERE id = $1",
            &[&device, &seq],
        )?;
        Ok(())
    }

    fn prune(&mut self, older_than: u64, now: u64) -> Result<u64, StoreError> {
        self.exec("DELETE FROM ds_nonces WHERE expires < $1", &[&to_i64(now)?])?;
        let read = self.exec(
            "DELETE FROM ds_messages WHERE seq <= COALESCE(
                 (SELECT MIN(cursor) FROM ds_members WHERE ds_members.group_id = ds_messages.group_id), seq)",
            &[],
        )?;
        let t = to_i64(older_than)?;
        let old = self.exec("DELETE FROM ds_messages WHERE created < $1", &[&t])?;
        self.exec("DELETE FROM ds_welcomes WHERE created < $1", &[&t])?;
        self.exec(
            "DELETE FROM ds_welcome_bodies AS b WHERE NOT EXISTS (SELECT 1 FROM ds_welcomes AS w
                 WHERE w.group_id = b.group_id AND w.commit_seq = b.seq)",
            &[],
        )?;
        Ok(read.saturating_add(old))
    }

    fn savepoint(&mut self) -> Result<(), StoreError> {
        self.conn()?
            .client
            .batch_execute("SAVEPOINT request")
            .map_err(pg)
    }

    fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.conn()?
            .client
            .batch_execute("RELEASE SAVEPOINT request")
            .map_err(pg)
    }

    fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.conn()?
            .client
            .batch_execute("ROLLBACK TO SAVEPOINT request; RELEASE SAVEPOINT request")
            .map_err(pg)
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.conn()?.client.batch_execute("COMMIT").map_err(pg)?;
        self.done = true;
        Ok(())
    }
}
