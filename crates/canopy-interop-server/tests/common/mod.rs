//! Canopy interop servers on loopback for the tests, each on a port the system picks, with a
//! connected tonic client.

#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use canopy_interop_server::proto::mls_client_client::MlsClientClient;
use canopy_interop_server::serve_incoming;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic::transport::server::TcpIncoming;

/// A gRPC client of one server.
pub(crate) type Client = MlsClientClient<Channel>;

/// A running server and its client.
pub(crate) struct Server {
    pub(crate) client: Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server on `127.0.0.1:0` and connects to it.
    pub(crate) async fn start() -> Self {
        let incoming = TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = incoming.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            serve_incoming(incoming, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        let client = MlsClientClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        Self {
            client,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops the server and waits for it.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// Runs `test` with a time limit, so that a hung server fails the test instead of CI.
pub(crate) async fn bounded<F: Future<Output = ()>>(seconds: u64, test: F) {
    tokio::time::timeout(Duration::from_secs(seconds), test)
        .await
        .expect("the test took too long");
}
