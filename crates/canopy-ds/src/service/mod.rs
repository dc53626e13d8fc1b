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

/// Everything a request needs: the database, the provider, the limits, the caches.
pub struct Service {
    store: Arc<dyn DsStore>,
    crypto: RustCryptoProvider,
    limits: Limits,
    rate: RateLimiter,
    clock: Clock,
    public: Mutex<HashMap<Vec<u8>, (u64, PublicGroup)>>,
}

/// How many public groups a process keeps decoded.
const PUBLIC_CACHE: usize = 1_024;

impl Service {
    /// A service over `store`.
    pub fn new(store: Arc<dyn DsStore>, limits: Limits, clock: Clock) -> Self {
        Self {
            store,
            crypto: RustCryptoProvider::new(),
            limits,
            rate: RateLimiter::default(),
            clock,
            public: Mutex::new(HashMap::new()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Now, by the service's clock.
    pub fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Runs `f` in one transaction, committed if it succeeds (rolled back otherwise), then
    /// updates the public-group cache.
    ///
    /// # Errors
    /// `f`'s, or [`ErrorCode::Internal`] if the database fails.
    pub fn run(
        &self,
        f: impl FnOnce(&mut dyn DsTx, &Ctx<'_>) -> Result<Reply, ApiError>,
    ) -> Result<Reply, ApiError> {
        let mut reply = self.run_with(f)?;
        if let Some((id, at, group)) = reply.cache.take()
            && let Ok(mut cache) = self.public.lock()
        {
            if cache.len() >= PUBLIC_CACHE {
                cache.clear();
            }
            cache.insert(id, (at, group));
        }
        Ok(reply)
    }

    /// Runs `f` in one transaction, committed if it succeeds, rolled back otherwise.
    ///
    /// # Errors
    /// `f`'s, or [`ErrorCode::Internal`] if the database fails.
    pub fn run_with<R>(
        &self,
        f: impl FnOnce(&mut dyn DsTx, &Ctx<'_>) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let ctx = Ctx {
            crypto: &self.crypto,
            limits: &self.limits,
            now: self.now(),
            rate: &self.rate,
            public: &self.public,
        };
        let mut tx = self.store.begin()?;
        let out = f(tx.as_mut(), &ctx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Deletes what every member read and what is older than the retention period.
    ///
    /// # Errors
    /// [`ErrorCode::Internal`] if the database fails.
    pub fn prune(&self) -> Result<u64, ApiError> {
        let older_than = self.now().saturating_sub(self.limits.retention.as_secs());
        let mut tx = self.store.begin()?;
        let n = tx.prune(older_than)?;
        tx.commit()?;
        Ok(n)
    }
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
