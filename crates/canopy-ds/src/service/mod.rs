//! The service layer: synchronous functions, each one request in one database transaction
//! (STYLE.md B.7). The HTTP layer ([`crate::http`]) extracts a [`Request`], runs the function
//! on a blocking thread with [`Service::run`], and sends back the [`Reply`].

mod groups;
mod inbox;
mod key_packages;
mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use canopy_core::key_package::BasicCredentialValidator;
use canopy_core::{Env, GroupConfig, PublicGroup};
use canopy_crypto_rustcrypto::RustCryptoProvider;
use canopy_ds_api::ErrorCode;
use canopy_store::ds::{DsStore, DsTx};

pub use groups::{
    create_group, get_group_info, get_message, group_status, post_message, put_group_info,
};
pub use inbox::{InboxRead, ack, read_inbox, read_inbox_of};
pub use key_packages::{claim_key_packages, count_key_packages, publish_key_packages};
pub use users::{add_device, list_devices, register};

use crate::auth::SignedHeaders;
pub use crate::group_commit::GroupCommitStats;
use crate::group_commit::{Finish, GroupCommit};
use crate::rate::RateLimiter;
use crate::{ApiError, Limits};

/// A request as the service layer sees it.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The HTTP method, upper case.
    pub method: String,
    /// The path and query as sent (what the signature covers).
    pub path_and_query: String,
    /// The signature headers, if present and well-formed.
    pub signed: Option<SignedHeaders>,
    /// A header's parse failure, reported if the route needs authentication.
    pub signed_error: Option<String>,
    /// The query parameters.
    pub query: HashMap<String, String>,
    /// The `canopy-removes` header.
    pub removes: Option<String>,
    /// The body.
    pub body: Vec<u8>,
    /// The key the signature was checked under before the transaction, if it was
    /// ([`Service::check_signature_early`]).
    pub verified_key: Option<Vec<u8>>,
}

impl Request {
    /// The query parameter `name`.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// The answer to a request, and what to do once its transaction committed.
#[derive(Debug, Default)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Media type of `body`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
    /// Groups whose waiters to wake.
    pub wake_groups: Vec<Vec<u8>>,
    /// Devices whose long polls to wake.
    pub wake_devices: Vec<String>,
    /// A public group to cache, by group id, current at the position given.
    pub cache: Option<(Vec<u8>, u64, PublicGroup)>,
}

impl Reply {
    /// `200` with a JSON body.
    pub fn json(value: &impl serde::Serialize) -> Result<Self, ApiError> {
        Ok(Self {
            status: 200,
            content_type: "application/json",
            body: serde_json::to_vec(value)
                .map_err(|_| ApiError::new(ErrorCode::Internal, "encoding the answer"))?,
            ..Self::default()
        })
    }

    /// `200` with a body of `content_type`.
    pub fn bytes(content_type: &'static str, body: Vec<u8>) -> Self {
        Self {
            status: 200,
            content_type,
            body,
            ..Self::default()
        }
    }
}

/// What every service function may use besides the transaction.
pub struct Ctx<'a> {
    /// The crypto provider (signatures of requests, MLS checks).
    pub crypto: &'a RustCryptoProvider,
    /// The limits.
    pub limits: &'a Limits,
    /// Now, in seconds since the Unix epoch.
    pub now: u64,
    /// Rate limits.
    pub rate: &'a RateLimiter,
    /// Public groups of this process, by group id, with the position they are current at.
    pub public: &'a Mutex<HashMap<Vec<u8>, (u64, PublicGroup)>>,
    /// The keys of devices seen, by device id (to check signatures before the transaction).
    pub devices: &'a DeviceKeys,
}

impl Ctx<'_> {
    /// The environment for MLS checks: Basic credentials, the default policy, now.
    pub fn env<'v>(&'v self, validator: &'v BasicCredentialValidator) -> Env<'v> {
        Env::new(self.crypto, validator).at(self.now)
    }

    /// The configuration of the public groups the DS follows.
    pub fn group_config(&self) -> GroupConfig {
        GroupConfig::default()
    }
}

/// The clock: seconds since the Unix epoch.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// The registered keys of devices this process has authenticated: `(suite, key)` by device
/// id. A device's key never changes once registered, so an entry is never stale; it only
/// lets a request's signature be checked before its transaction (outside the database's
/// writer), and the transaction still compares the key with the device's row.
#[derive(Debug, Default)]
pub struct DeviceKeys {
    keys: Mutex<HashMap<String, (u16, Vec<u8>)>>,
}

/// How many device keys a process keeps (a full cache is emptied and refilled).
const DEVICE_KEYS: usize = 262_144;

impl DeviceKeys {
    /// The key of `device`, if seen.
    pub fn get(&self, device: &str) -> Option<(u16, Vec<u8>)> {
        self.keys.lock().ok()?.get(device).cloned()
    }

    /// Remembers `device`'s key.
    pub fn insert(&self, device: &str, suite: u16, key: &[u8]) {
        if let Ok(mut keys) = self.keys.lock() {
            if keys.len() >= DEVICE_KEYS {
                keys.clear();
            }
            if keys
                .get(device)
                .is_none_or(|(s, k)| *s != suite || k != key)
            {
                keys.insert(device.to_owned(), (suite, key.to_vec()));
            }
        }
    }
}

/// What the service functions share, apart from the database.
struct Shared {
    crypto: RustCryptoProvider,
    limits: Limits,
    rate: RateLimiter,
    clock: Clock,
    public: Mutex<HashMap<Vec<u8>, (u64, PublicGroup)>>,
    devices: DeviceKeys,
}

impl Shared {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            crypto: &self.crypto,
            limits: &self.limits,
            now: (self.clock)(),
            rate: &self.rate,
            public: &self.public,
            devices: &self.devices,
        }
    }
}

/// Everything a request needs: the database, the provider, the limits, the caches.
pub struct Service {
    store: Arc<dyn DsStore>,
    shared: Arc<Shared>,
    /// The writer thread of a single-writer database ([`DsStore::single_writer`]).
    group_commit: Option<GroupCommit>,
}

/// How many public groups a process keeps decoded.
const PUBLIC_CACHE: usize = 1_024;

impl Service {
    /// A service over `store` (with group commit if the store has a single writer and the
    /// writer thread starts).
    pub fn new(store: Arc<dyn DsStore>, limits: Limits, clock: Clock) -> Self {
        let group_commit = if store.single_writer() {
            GroupCommit::start(Arc::clone(&store))
                .map_err(|e| tracing::warn!("no group commit (one transaction per request): {e}"))
                .ok()
        } else {
            None
        };
        Self {
            store,
            shared: Arc::new(Shared {
                crypto: RustCryptoProvider::new(),
                limits,
                rate: RateLimiter::default(),
                clock,
                public: Mutex::new(HashMap::new()),
                devices: DeviceKeys::default(),
            }),
            group_commit,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// What the group-commit writer did, if the store has one.
    pub fn group_commit_stats(&self) -> Option<GroupCommitStats> {
        self.group_commit.as_ref().map(GroupCommit::stats)
    }

    /// Now, by the service's clock.
    pub fn now(&self) -> u64 {
        (self.shared.clock)()
    }

    /// Checks `req`'s signature before its transaction, if the signing device's key is known:
    /// on success, [`Request::verified_key`] is the key it verified under (the transaction
    /// then only compares it with the device's row). Anything else is left to the
    /// transaction, which decides and answers.
    pub fn check_signature_early(&self, req: &mut Request) {
        let Some(headers) = &req.signed else { return };
        let Some((suite, key)) = self.shared.devices.get(&headers.device.to_string()) else {
            return;
        };
        let content = crate::auth::signed_content(req, headers);
        if crate::auth::verify(
            &self.shared.crypto,
            suite,
            &key,
            &content,
            &headers.signature,
        )
        .is_ok()
        {
            req.verified_key = Some(key);
        }
    }

    /// Runs `f` in one transaction, committed if it succeeds (rolled back otherwise), then
    /// updates the public-group cache.
    ///
    /// # Errors
    /// `f`'s, or [`ErrorCode::Internal`] if the database fails.
    pub fn run(
        &self,
        f: impl FnOnce(&mut dyn DsTx, &Ctx<'_>) -> Result<Reply, ApiError> + Send + 'static,
    ) -> Result<Reply, ApiError> {
        let mut reply = self.run_with(f)?;
        self.remember(&mut reply);
        Ok(reply)
    }

    /// Keeps the public group a committed reply carries ([`Reply::cache`]).
    pub fn remember(&self, reply: &mut Reply) {
        if let Some((id, at, group)) = reply.cache.take()
            && let Ok(mut cache) = self.shared.public.lock()
        {
            if cache.len() >= PUBLIC_CACHE {
                cache.clear();
            }
            cache.insert(id, (at, group));
        }
    }

    /// Whether requests go to a group-commit writer ([`DsStore::single_writer`]): then
    /// [`Service::run_queued`] needs no thread of its own.
    pub fn group_commits(&self) -> bool {
        self.group_commit.is_some()
    }

    /// Runs `f` in a transaction, committed if it succeeds, rolled back otherwise; answers
    /// once the transaction committed. With group commit, the transaction is shared with the
    /// requests queued beside it and `f` runs in a savepoint of it.
    ///
    /// # Errors
    /// `f`'s, or [`ErrorCode::Internal`] if the database fails.
    pub fn run_with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn DsTx, &Ctx<'_>) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let Some(group_commit) = &self.group_commit else {
            let ctx = self.shared.ctx();
            let mut tx = self.store.begin()?;
            let out = f(tx.as_mut(), &ctx)?;
            tx.commit()?;
            return Ok(out);
        };
        let (answer, answered) = std::sync::mpsc::sync_channel::<Result<R, ApiError>>(1);
        self.queue(group_commit, f, move |out| {
            let _ = answer.send(out);
        })?;
        answered.recv().map_err(|_| lost())?
    }

    /// [`Service::run_with`] for a caller on the async runtime, with group commit: waits
    /// without holding a thread. Without group commit, runs `f` on the calling thread.
    ///
    /// # Errors
    /// `f`'s, or [`ErrorCode::Internal`] if the database fails.
    pub async fn run_queued<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn DsTx, &Ctx<'_>) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let Some(group_commit) = &self.group_commit else {
            return self.run_with(f);
        };
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<R, ApiError>>();
        self.queue(group_commit, f, move |out| {
            let _ = answer.send(out);
        })?;
        answered.await.map_err(|_| lost())?
    }

    /// Queues `f` for the writer; `deliver` gets its answer once its transaction ended.
    fn queue<R: Send + 'static>(
        &self,
        group_commit: &GroupCommit,
        f: impl FnOnce(&mut dyn DsTx, &Ctx<'_>) -> Result<R, ApiError> + Send + 'static,
        deliver: impl FnOnce(Result<R, ApiError>) + Send + 'static,
    ) -> Result<(), ApiError> {
        let shared = Arc::clone(&self.shared);
        group_commit.submit(Box::new(move |tx: &mut dyn DsTx| {
            let out = f(tx, &shared.ctx());
            let ok = out.is_ok();
            let finish: Finish = Box::new(move |committed: Result<(), ApiError>| {
                deliver(out.and_then(|v| committed.map(|()| v)));
            });
            (ok, finish)
        }))
    }

    /// Deletes what every member read and what is older than the retention period.
    ///
    /// # Errors
    /// [`ErrorCode::Internal`] if the database fails.
    pub fn prune(&self) -> Result<u64, ApiError> {
        let retention = self.shared.limits.retention.as_secs();
        self.run_with(move |tx, ctx| Ok(tx.prune(ctx.now.saturating_sub(retention), ctx.now)?))
    }
}

/// The answer when a request's transaction was lost (the writer is gone).
fn lost() -> ApiError {
    ApiError::new(ErrorCode::Internal, "the request's transaction failed")
}

/// A hex path segment, decoded.
///
/// # Errors
/// [`ErrorCode::BadRequest`].
pub fn hex_segment(text: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    canopy_ds_api::hex::decode(text)
        .filter(|b| !b.is_empty() && b.len() <= 256)
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, format!("{what} is not hex")))
}
