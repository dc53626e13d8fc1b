//! `canopy interop-server` listens on loopback and answers the working group's test runner:
//! the binary started on a port the system picks, then asked its name and cipher suites over
//! gRPC.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use canopy_cli::{Cli, Command as Sub};
use canopy_interop_server::proto::mls_client_client::MlsClientClient;
use canopy_interop_server::proto::{NameRequest, SupportedCiphersuitesRequest};
use clap::Parser;

/// Kills the server when the test ends, whatever happens.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_host_defaults_to_loopback() {
    let cli = Cli::try_parse_from(["canopy", "interop-server", "--port", "50051"]).unwrap();
    let Sub::InteropServer { port, host } = cli.command else {
        panic!("not interop-server");
    };
    assert_eq!(port, 50051);
    assert_eq!(host, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert!(
        Cli::try_parse_from(["canopy", "interop-server"]).is_err(),
        "--port is required"
    );
    let cli =
        Cli::try_parse_from(["canopy", "interop-server", "--port", "1", "--host", "::1"]).unwrap();
    assert!(matches!(cli.command, Sub::InteropServer { host, .. } if host.is_ipv6()));
}

#[test]
fn the_server_answers_over_grpc() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_canopy"))
        .args(["interop-server", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs canopy");
    let stdout = child.stdout.take().unwrap();
    let server = Running(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("the address ends the line")
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), async {
            let mut client = MlsClientClient::connect(format!("http://{addr}"))
                .await
                .unwrap();
            let name = client.name(NameRequest {}).await.unwrap().into_inner().name;
            assert_eq!(name, "Canopy");
            let suites = client
                .supported_ciphersuites(SupportedCiphersuitesRequest {})
                .await
                .unwrap()
                .into_inner()
                .ciphersuites;
            assert!(suites.contains(&1), "{suites:?}");
        })
        .await
        .expect("the server answers in time");
    });
    drop(server);
}
