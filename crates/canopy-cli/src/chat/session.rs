//! A CLI home (a directory with `config.json` and the client's SQLite store) and the
//! session that runs commands: the client, the Delivery Service client, and the ordering
//! of STYLE.md B.4 (a received message is processed and made durable, with its history row,
//! before it is acknowledged; a commit is merged only after the DS accepted it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use canopy_client::{AppTx, Client, CommitOutput, Incoming, JoinOptions, MergeOutcome};
use canopy_core::advanced::codec::VarBytes;
use canopy_core::wire::Credential;
use canopy_crypto::CipherSuite;
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_ds_api::types::{Accepted, AckRequest, Cursor, REMOVES_HEADER};
use canopy_ds_api::{Delivery, DeliveryKind, ErrorCode, hex};
use canopy_store::{SqliteStore, Store, StoreOptions, StoreTx, Table};
use serde::{Deserialize, Serialize};

use super::ds::{DsClient, refusal};

/// The name of the device's identity in the client store.
pub const IDENTITY: &str = "device";

/// What `canopy init` writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HomeConfig {
    /// The Delivery Service (`http://host:port`).
    pub server: String,
    /// The user.
    pub user: String,
    /// This device's name.
    pub device: String,
    /// The cipher suite.
    pub suite: u16,
}

impl HomeConfig {
    /// `user/device`.
    pub fn device_id(&self) -> String {
        format!("{}/{}", self.user, self.device)
    }
}

/// One entry of a group's history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The group.
    pub group: String,
    /// Its position in the group's log at the DS.
    pub seq: u64,
    /// Who sent it (`user/device`), or `*` for an event.
    pub from: String,
    /// The text.
    pub text: String,
}

/// What processing a delivery showed.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A message.
    Message(HistoryEntry),
    /// We joined a group.
    Joined {
        /// The group.
        group: String,
    },
    /// A commit changed the group.
    Changed {
        /// The group.
        group: String,
        /// The new epoch.
        epoch: u64,
    },
    /// We were removed.
    Removed {
        /// The group.
        group: String,
    },
    /// A member proposed a change (committed by us at once).
    Proposed {
        /// The group.
        group: String,
    },
    /// A delivery this device could not use (for an epoch it never had, a group it left); it
    /// is not retried.
    Skipped {
        /// The group.
        group: String,
        /// Why.
        reason: String,
    },
}

/// The `user/device` a Basic credential names (`None` for other credential types).
pub fn device_name(credential: &Credential) -> Option<String> {
    match credential {
        Credential::Basic { identity } => {
            Some(String::from_utf8_lossy(identity.as_slice()).into_owned())
        }
        _ => None,
    }
}

/// A group's display name: its id as text.
pub fn group_name(id: &[u8]) -> String {
    String::from_utf8_lossy(id).into_owned()
}

fn seen_key(group: &[u8]) -> Vec<u8> {
    [b"seen/".as_slice(), group].concat()
}

const SEEN_WELCOME: &[u8] = b"seen-welcome";

fn history_key(group: &[u8], seq: u64) -> Vec<u8> {
    [
        b"h/".as_slice(),
        hex::encode(group).as_bytes(),
        b"/",
        format!("{seq:016x}").as_bytes(),
    ]
    .concat()
}

fn seen(app: &dyn AppTx, key: &[u8]) -> Result<u64, canopy_store::StoreError> {
    Ok(app
        .get(key)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_bytes()).ok())
        .map_or(0, u64::from_be_bytes))
}

/// A running session in a home.
pub struct Session {
    /// The home directory.
    pub home: PathBuf,
    /// Its configuration.
    pub config: HomeConfig,
    /// The MLS client over the home's store.
    pub client: Client<SqliteStore>,
    /// The Delivery Service.
    pub ds: DsClient,
    /// The acknowledgement of the last batch read (an `AckRequest`, JSON), sent with the next
    /// read of the inbox, whichever reads it (a commit's retry catches up too).
    ack_pending: Option<Vec<u8>>,
}

impl Session {
    /// Creates a home: the directory, its store, a device identity with a fresh signature key.
    pub fn init(home: &Path, config: HomeConfig) -> anyhow::Result<Self> {
        if home.join("config.json").exists() {
            bail!(
                "{} is already a canopy home (delete it to start over)",
                home.display()
            );
        }
        canopy_ds_api::DeviceId::new(&config.user, &config.device).map_err(|e| anyhow!("{e}"))?;
        std::fs::create_dir_all(home).with_context(|| format!("creating {}", home.display()))?;
        let store = SqliteStore::open(home.join("store.db"), StoreOptions::default())?;
        let mut client = Client::open(store)?;
        let credential = Credential::Basic {
            identity: VarBytes(config.device_id().into_bytes()),
        };
        client.create_identity(IDENTITY, credential, CipherSuite(config.suite))?;
        std::fs::write(
            home.join("config.json"),
            serde_json::to_vec_pretty(&config)?,
        )?;
        Self::open(home)
    }

    /// Opens a home made by [`Self::init`].
    pub fn open(home: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read(home.join("config.json")).with_context(|| {
            format!(
                "{} is not a canopy home: run `canopy init` first",
                home.display()
            )
        })?;
        let config: HomeConfig = serde_json::from_slice(&text).context("config.json")?;
        let store = SqliteStore::open(home.join("store.db"), StoreOptions::default())?;
        let client = Client::open(store)?;
        let identity = client
            .identity(IDENTITY)
            .ok_or_else(|| anyhow!("the store has no device identity"))?;
        let signer = identity.signer()?;
        let ds = DsClient::new(
            &config.server,
            &config.device_id(),
            CipherSuite(config.suite),
            signer,
            Arc::new(RustCryptoProvider::new()),
        )?;
        Ok(Self {
            home: home.to_owned(),
            config,
            client,
            ds,
            ack_pending: None,
        })
    }

    /// The suite.
    pub fn suite(&self) -> CipherSuite {
        CipherSuite(self.config.suite)
    }

    /// This device's signature public key.
    pub fn public_key(&self) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .client
            .identity(IDENTITY)
            .ok_or_else(|| anyhow!("no device identity"))?
            .public_key()
            .as_bytes()
            .to_vec())
    }

    /// Generates and publishes `count` KeyPackages and a last-resort one.
    pub fn publish_key_packages(
        &mut self,
        count: usize,
        progress: &dyn Fn(u64),
    ) -> anyhow::Result<()> {
        let suite = self.suite();
        let mut done = 0usize;
        while done < count {
            let n = (count - done).min(100);
            let batch = self.client.generate_key_packages(IDENTITY, suite, n)?;
            self.ds
                .call("POST", "/v1/key-packages", &batch.concat(), &[])?;
            done += n;
            progress(u64::try_from(done).unwrap_or(u64::MAX));
        }
        let last = self.client.last_resort_key_package(IDENTITY, suite)?;
        self.ds
            .call("POST", "/v1/key-packages?last_resort=true", &last, &[])?;
        Ok(())
    }

    /// Posts a commit (with its Welcome), merges it once accepted and publishes the new
    /// GroupInfo. A lost race discards it and catches up; the caller may retry.
    pub fn post_commit(
        &mut self,
        group: &[u8],
        out: &CommitOutput,
        removes: &[String],
    ) -> anyhow::Result<Accepted> {
        let mut body = out.commit.clone();
        if let Some(w) = &out.welcome {
            body.extend_from_slice(w);
        }
        let path = format!("/v1/groups/{}/messages", hex::encode(group));
        let header = removes.join(",");
        let extra: Vec<(&str, &str)> = if removes.is_empty() {
            vec![]
        } else {
            vec![(REMOVES_HEADER, header.as_str())]
        };
        match self.ds.call("POST", &path, &body, &extra) {
            Ok(answer) => {
                let accepted: Accepted = serde_json::from_slice(&answer.body)?;
                match self.client.merge_pending_commit(group)? {
                    MergeOutcome::Removed { .. } => {}
                    _ => {
                        let info = self.client.group_info(group, true)?;
                        self.ds.call(
                            "POST",
                            &format!("/v1/groups/{}/group-info", hex::encode(group)),
                            &info,
                            &[],
                        )?;
                    }
                }
                Ok(accepted)
            }
            Err(e) => {
                if refusal(&e).is_some_and(|r| {
                    matches!(r.code, ErrorCode::CommitConflict | ErrorCode::WrongEpoch)
                }) {
                    self.client.discard_pending_commit(group)?;
                }
                Err(e)
            }
        }
    }

    /// Runs `commit` (which stages a commit in `group`) and posts it, retrying up to three
    /// times after catching up when another commit won the epoch.
    pub fn commit_with_retry(
        &mut self,
        group: &[u8],
        removes: &[String],
        mut commit: impl FnMut(&mut Client<SqliteStore>) -> anyhow::Result<CommitOutput>,
        events: &mut Vec<Event>,
    ) -> anyhow::Result<Accepted> {
        let mut last = None;
        for _ in 0..3 {
            let out = commit(&mut self.client)?;
            match self.post_commit(group, &out, removes) {
                Ok(a) => return Ok(a),
                Err(e)
                    if refusal(&e).is_some_and(|r| {
                        matches!(r.code, ErrorCode::CommitConflict | ErrorCode::WrongEpoch)
                    }) =>
                {
                    events.extend(self.catch_up(0, &|_| {})?);
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow!("the commit did not go through")))
    }

    /// Sends `text` to `group`, and keeps it in the history.
    pub fn send(
        &mut self,
        group: &[u8],
        text: &str,
        events: &mut Vec<Event>,
    ) -> anyhow::Result<Accepted> {
        let path = format!("/v1/groups/{}/messages", hex::encode(group));
        for attempt in 0..2 {
            let message = self.client.encrypt(group, text.as_bytes(), b"")?;
            match self.ds.call("POST", &path, &message, &[]) {
                Ok(answer) => {
                    let accepted: Accepted = serde_json::from_slice(&answer.body)?;
                    let entry = HistoryEntry {
                        group: group_name(group),
                        seq: accepted.seq,
                        from: self.config.device_id(),
                        text: text.to_owned(),
                    };
                    let mut tx = self.client.store_mut().begin()?;
                    tx.put(
                        Table::App,
                        &history_key(group, accepted.seq),
                        &serde_json::to_vec(&entry)?,
                    )?;
                    tx.commit()?;
                    return Ok(accepted);
                }
                Err(e)
                    if attempt == 0
                        && refusal(&e).is_some_and(|r| r.code == ErrorCode::WrongEpoch) =>
                {
                    events.extend(self.catch_up(0, &|_| {})?);
                }
                Err(e) => return Err(e),
            }
        }
        Err(anyhow!("the message could not be sent"))
    }

    /// Reads the inbox (waiting up to `wait` seconds for the first delivery), processes every
    /// delivery and acknowledges it, until the inbox is empty. Returns what happened.
    ///
    /// Each batch is acknowledged by the request that reads the next one (`POST /v1/inbox`),
    /// the last by the read that finds the inbox empty: one request per batch. A batch
    /// delivered again after a crash before its acknowledgement is harmless, since every
    /// delivery is processed at most once (`Session::process`).
    pub fn catch_up(&mut self, wait: u64, progress: &dyn Fn(u64)) -> anyhow::Result<Vec<Event>> {
        let mut events = Vec::new();
        let mut wait = wait;
        let mut total = 0u64;
        loop {
            let ack = self.ack_pending.take();
            let batch = match self.ds.inbox(wait, 500, ack.as_deref()) {
                Ok(batch) => batch,
                Err(e) => {
                    // Sent again with the next read (an acknowledgement applied twice is
                    // harmless: cursors only move forward).
                    self.ack_pending = ack;
                    return Err(e);
                }
            };
            wait = 0;
            if batch.is_empty() {
                return Ok(events);
            }
            let mut ack = AckRequest::default();
            let mut cursors: std::collections::BTreeMap<Vec<u8>, u64> =
                std::collections::BTreeMap::new();
            for d in &batch {
                if let Some(e) = self.process(d)? {
                    events.push(e);
                }
                match d.kind {
                    DeliveryKind::Welcome => ack.welcomes = Some(d.seq),
                    DeliveryKind::Group => {
                        cursors.insert(d.group_id.clone(), d.seq);
                    }
                }
                total += 1;
                progress(total);
            }
            ack.groups = cursors
                .into_iter()
                .map(|(g, seq)| Cursor {
                    group_id: hex::encode(&g),
                    seq,
                })
                .collect();
            self.ack_pending = Some(serde_json::to_vec(&ack)?);
            // Proposals of others (a member leaving) are committed at once.
            let proposed: Vec<String> = events
                .iter()
                .filter_map(|e| match e {
                    Event::Proposed { group } => Some(group.clone()),
                    _ => None,
                })
                .collect();
            for g in proposed {
                let id = g.into_bytes();
                let mut sub = Vec::new();
                if self
                    .client
                    .status(&id)
                    .is_ok_and(|s| s == canopy_client::MembershipStatus::Member)
                {
                    let _ = self.commit_with_retry(
                        &id,
                        &[],
                        |c| Ok(c.commit(&id, canopy_client::CommitOptions::default())?),
                        &mut sub,
                    );
                }
                events.extend(sub);
            }
            events.retain(|e| !matches!(e, Event::Proposed { .. }));
        }
    }

    /// Processes one delivery, durably, at most once.
    fn process(&mut self, d: &Delivery) -> anyhow::Result<Option<Event>> {
        let seq = d.seq;
        let me = self.config.device_id();
        let result = match d.kind {
            DeliveryKind::Welcome => {
                self.client
                    .join(&d.message, &JoinOptions::default(), |incoming, app| {
                        if seen(app, SEEN_WELCOME)? >= seq {
                            return Ok(None);
                        }
                        app.put(SEEN_WELCOME, &seq.to_be_bytes())?;
                        let group = incoming.group_id().to_vec();
                        let entry = HistoryEntry {
                            group: group_name(&group),
                            seq: 0,
                            from: "*".into(),
                            text: format!("{me} joined"),
                        };
                        app.put(&history_key(&group, 0), &serde_json::to_vec(&entry)?)?;
                        Ok(Some(None))
                    })
            }
            DeliveryKind::Group => {
                let group = d.group_id.clone();
                let key = seen_key(&group);
                if self
                    .client
                    .store()
                    .get(Table::App, &key)?
                    .and_then(|v| <[u8; 8]>::try_from(v.as_bytes()).ok())
                    .map_or(0, u64::from_be_bytes)
                    >= seq
                {
                    return Ok(None);
                }
                self.client.process_incoming(&d.message, |incoming, app| {
                    app.put(&key, &seq.to_be_bytes())?;
                    let Incoming::Application(m) = incoming else {
                        return Ok(Some(None));
                    };
                    let from = match &m.sender_credential {
                        Some(c) => device_name(c),
                        None => None,
                    }
                    .unwrap_or_else(|| format!("leaf {}", m.sender.value()));
                    let entry = HistoryEntry {
                        group: group_name(&group),
                        seq,
                        from,
                        text: String::from_utf8_lossy(&m.data).into_owned(),
                    };
                    app.put(&history_key(&group, seq), &serde_json::to_vec(&entry)?)?;
                    Ok(Some(Some(entry)))
                })
            }
        };
        match result {
            // The callback returned `None` for a delivery it had already seen, and the
            // history entry of an application message.
            Ok((_, Some(Some(entry)))) => Ok(Some(Event::Message(entry))),
            Ok((incoming, Some(None))) => Ok(Some(match incoming {
                Incoming::Joined { group_id, .. } => Event::Joined {
                    group: group_name(&group_id),
                },
                Incoming::Removed { group_id, .. } => Event::Removed {
                    group: group_name(&group_id),
                },
                Incoming::Proposal { group_id, .. } => Event::Proposed {
                    group: group_name(&group_id),
                },
                Incoming::Commit { group_id, summary } => Event::Changed {
                    group: group_name(&group_id),
                    epoch: summary.new_epoch,
                },
                _ => return Ok(None),
            })),
            Ok((_, None)) => Ok(None),
            Err(e) => {
                // A message this device cannot use (for an epoch it never had, our own echo,
                // a group we left): recorded as seen so that it is not retried forever.
                if d.kind == DeliveryKind::Group {
                    let mut tx = self.client.store_mut().begin()?;
                    tx.put(Table::App, &seen_key(&d.group_id), &seq.to_be_bytes())?;
                    tx.commit()?;
                }
                // Our own handshake messages come back from the DS (so that a crash after
                // posting is recovered); once merged they are nothing new.
                if matches!(
                    &e,
                    canopy_client::ClientError::Group(canopy_core::GroupError::OwnMessage)
                ) {
                    return Ok(None);
                }
                Ok(Some(Event::Skipped {
                    group: group_name(&d.group_id),
                    reason: e.to_string(),
                }))
            }
        }
    }

    /// The history of `group` (or of every group), in log order.
    pub fn history(&self, group: Option<&[u8]>) -> anyhow::Result<Vec<HistoryEntry>> {
        let prefix = match group {
            Some(g) => [b"h/".as_slice(), hex::encode(g).as_bytes(), b"/"].concat(),
            None => b"h/".to_vec(),
        };
        let mut rows = self.client.store().list(Table::App)?;
        rows.retain(|(k, _)| k.starts_with(&prefix));
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows.iter()
            .map(|(_, v)| Ok(serde_json::from_slice(v.as_bytes())?))
            .collect()
    }
}
