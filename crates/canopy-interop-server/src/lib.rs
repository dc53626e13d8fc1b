//! Canopy's client for the MLS working group's interop test runner.
//!
//! The working group's runner (`interop/test-runner` in `github.com/mlswg/mls-implementations`)
//! drives MLS implementations through one gRPC service, `MLSClient`
//! (`proto/mls_client.proto`, copied unchanged): it creates groups and KeyPackages in one
//! implementation, joins them from another, and checks after every step that all members
//! agree on the epoch authenticator and read each other's messages. This crate serves that
//! service with Canopy:
//!
//! ```no_run
//! # fn main() -> Result<(), canopy_interop_server::ServeError> {
//! let addr = "127.0.0.1:50051".parse().expect("an address");
//! canopy_interop_server::serve(addr, |bound| println!("listening on {bound}"))?;
//! # Ok(())
//! # }
//! ```
//!
//! `canopy interop-server --port 50051` does the same from the command line. Every RPC of the
//! service is implemented ([`MlsClientService`]); the objects it refers to by `u32` ids
//! (group states, pending joiners, external signers, ReInits) live in a [`CanopyClient`].
//!
//! | RPCs | RFC 9420 |
//! |---|---|
//! | `CreateGroup`, `CreateKeyPackage`, `JoinGroup`, `ExternalJoin` | §11, §10, §12.4.3.1, §12.4.3.2 |
//! | `GroupInfo`, `StateAuth`, `Export`, `Protect`, `Unprotect`, `StorePSK`, `Free` | §12.4.3, §8.7, §8.5, §6.3, §8.4 |
//! | `AddProposal`, `UpdateProposal`, `RemoveProposal`, `ExternalPSKProposal`, `ResumptionPSKProposal`, `GroupContextExtensionsProposal` | §12.1 |
//! | `Commit`, `HandleCommit`, `HandlePendingCommit` | §12.4 |
//! | `ReInitProposal`, `ReInitCommit`, `HandlePendingReInitCommit`, `HandleReInitCommit`, `ReInitWelcome`, `HandleReInitWelcome` | §11.2 |
//! | `CreateBranch`, `HandleBranch` | §11.3 |
//! | `NewMemberAddProposal`, `CreateExternalSigner`, `AddExternalSigner`, `ExternalSignerProposal` | §12.1.8 |
//!
//! Wire conventions (those of the other implementations' clients): MLS objects travel as
//! `MLSMessage` encodings, a ratchet tree as the TLS encoding of the node vector, an
//! external sender as the TLS encoding of `ExternalSender`, members are named by their basic
//! credential's identity, and an RPC that fails returns a status whose message names the RFC
//! 9420 rule Canopy found broken.
#![forbid(unsafe_code)]

mod client;
mod convert;
mod error;
mod ops;
mod service;
mod state;

use std::future::Future;
use std::net::SocketAddr;

pub use client::CanopyClient;
pub use error::InteropError;
pub use ops::join::NAME;
pub use service::MlsClientService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

/// The messages and the client and server stubs generated from `proto/mls_client.proto`
/// (package `mls_client`) by `tonic-prost-build`, compiled with protox.
#[allow(
    missing_docs,
    unreachable_pub,
    unused_qualifications,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::use_self
)]
pub mod proto {
    tonic::include_proto!("mls_client");
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The tokio runtime could not start, or the address could not be bound.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// The `MLSClient` service of a fresh [`CanopyClient`], to add to a tonic server.
pub fn service() -> proto::mls_client_server::MlsClientServer<MlsClientService> {
    proto::mls_client_server::MlsClientServer::new(MlsClientService::default())
}

/// Serves the `MLSClient` service on `incoming` until `shutdown` completes. Runs inside the
/// caller's tokio runtime.
///
/// # Errors
/// [`ServeError::Transport`] if the server fails.
pub async fn serve_incoming(
    incoming: TcpIncoming,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    Server::builder()
        .add_service(service())
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}

/// Binds `addr`, calls `on_bound` with the bound address (the port is the one the system
/// chose if `addr`'s port is 0), and serves the `MLSClient` service until the process ends.
/// Starts (and blocks on) a tokio runtime: call it from synchronous code.
///
/// # Errors
/// [`ServeError::Io`] if the runtime cannot start or `addr` cannot be bound;
/// [`ServeError::Transport`] if the server fails.
pub fn serve(addr: SocketAddr, on_bound: impl FnOnce(SocketAddr)) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let incoming = TcpIncoming::bind(addr)?;
        on_bound(incoming.local_addr()?);
        serve_incoming(incoming, std::future::pending()).await
    })
}
