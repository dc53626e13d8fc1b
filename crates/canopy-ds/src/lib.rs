//! Canopy's Delivery Service (RFC 9750 §5): it stores KeyPackages, orders each group's
//! handshake messages, and delivers every message to every member's devices, without ever
//! seeing plaintext.
//!
//! - **Users and devices**: a user has devices, each an MLS client with its own signature key;
//!   every request is signed by a device ([`canopy_ds_api::auth`]), with a timestamp window
//!   and single-use nonces; a further device is admitted by an existing one.
//! - **KeyPackage directory**: batches per suite, claims that consume one per device (the
//!   last-resort one is kept), counts to replenish, rate-limited claims.
//! - **Ordering**: per group one total order; a commit for epoch N is accepted only in epoch
//!   N, the first wins, a later one gets [`canopy_ds_api::ErrorCode::CommitConflict`] naming
//!   the winner's position.
//! - **Public groups** are followed with [`canopy_core::PublicGroup`]: invalid proposals and
//!   commits are refused before anyone receives them and the recipients come from the tree.
//!   **Private groups** are ordered by their clear header fields, with declared membership.
//! - **Delivery**: a message is stored once in its group's log; each device reads from its
//!   cursor per group (and its personal Welcome queue) and acknowledges by moving it, so
//!   accepting a message costs the same whatever the group's size. Long polls wait for new
//!   messages.
//!
//! The service layer ([`service`]) is synchronous and runs each request in one transaction of
//! a [`canopy_store::ds::DsStore`] (SQLite by default); [`router`] is the axum layer.
#![forbid(unsafe_code)]

pub mod auth;
mod error;
mod group_commit;
pub mod http;
mod limits;
pub mod live;
pub mod pg;
pub mod pool;
pub mod rate;
pub mod service;
pub mod tls;

use std::sync::Arc;

pub use error::ApiError;
pub use http::{AppState, OPENAPI_JSON, router};
pub use limits::Limits;
pub use service::{Clock, Service, system_clock};
pub use tls::TlsFiles;

/// Serves the Delivery Service on `listener` (plain HTTP) until `shutdown` resolves, pruning
/// the logs once a minute.
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pruner = spawn_pruner(&state);
    let result = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    pruner.abort();
    result
}

/// [`serve`] over TLS with `tls` ([`TlsFiles::server_config`]).
///
/// # Errors
/// An I/O error of the listener.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pruner = spawn_pruner(&state);
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    let stop = tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    let result = axum_server::from_tcp_rustls(
        listener.into_std()?,
        axum_server::tls_rustls::RustlsConfig::from_config(tls),
    )?
    .handle(handle)
    .serve(router(state).into_make_service())
    .await;
    stop.abort();
    pruner.abort();
    result
}

/// Prunes the logs once a minute.
fn spawn_pruner(state: &AppState) -> tokio::task::JoinHandle<()> {
    let service = Arc::clone(&state.service);
    let pool = Arc::clone(&state.pool);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let service = Arc::clone(&service);
            if let Some(Err(e)) = pool.run(move || service.prune()).await {
                tracing::warn!(error = %e, "pruning the logs");
            }
        }
    })
}

/// Where the Delivery Service keeps its data.
#[derive(Clone, Debug)]
pub enum Database {
    /// A SQLite file (created if needed).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL connection string (`postgres://...` or `host=... user=...`); several DS
    /// processes may share it.
    Postgres(String),
}

impl Database {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; anything else is a SQLite path.
    pub fn parse(text: &str) -> Self {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Self::Postgres(text.to_owned())
        } else {
            Self::Sqlite(text.into())
        }
    }
}

/// Runs the Delivery Service on `listen` over `db` (with TLS if `tls` is given) until the
/// process is interrupted (Ctrl-C), on a runtime of its own: what `canopy serve` calls, so that the command-line
/// client stays synchronous. `on_bound` is told the bound address (the port may be 0).
///
/// # Errors
/// The database does not open, or the address cannot be bound.
pub fn serve_blocking(
    listen: std::net::SocketAddr,
    db: &Database,
    tls: Option<&TlsFiles>,
    limits: Limits,
    on_bound: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    let tls = tls.map(TlsFiles::server_config).transpose()?;
    let (store, pg): (Arc<dyn canopy_store::ds::DsStore>, Option<Arc<pg::PgDs>>) = match db {
        Database::Sqlite(path) => (
            Arc::new(canopy_store::ds::SqliteDs::open(path).map_err(std::io::Error::other)?),
            None,
        ),
        Database::Postgres(url) => {
            let pg = Arc::new(pg::PgDs::connect(url, None, 8).map_err(std::io::Error::other)?);
            (pg.clone(), Some(pg))
        }
    };
    let service = Service::new(store, limits, system_clock());
    let state = AppState::new(service);
    if let Some(pg) = pg {
        pg.listen(Arc::clone(&state.live))
            .map_err(std::io::Error::other)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        on_bound(listener.local_addr()?);
        let interrupted = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match tls {
            Some(tls) => serve_tls(listener, state, tls, interrupted).await,
            None => serve(listener, state, interrupted).await,
        }
    })
}

/// A Delivery Service running on a thread of its own (for `canopy demo` and tests): stopped
/// when dropped.
pub struct RunningDs {
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl RunningDs {
    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningDs {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the Delivery Service on `listen` over the SQLite database at `db` on a new thread,
/// and returns once it listens.
///
/// # Errors
/// The database does not open, or the address cannot be bound.
pub fn spawn_sqlite(
    listen: std::net::SocketAddr,
    db: &std::path::Path,
    limits: Limits,
) -> std::io::Result<RunningDs> {
    let store = canopy_store::ds::SqliteDs::open(db).map_err(std::io::Error::other)?;
    let service = Service::new(Arc::new(store), limits, system_clock());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (bound_tx, bound_rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("canopy-ds".into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind(listen).await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = bound_tx.send(Err(e));
                        return Ok(());
                    }
                };
                let _ = bound_tx.send(listener.local_addr());
                serve(listener, AppState::new(service), async move {
                    let _ = stopped.await;
                })
                .await
            })
        })?;
    let addr = bound_rx
        .recv()
        .map_err(|_| std::io::Error::other("the delivery service did not start"))??;
    Ok(RunningDs {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}
