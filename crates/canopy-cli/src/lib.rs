//! The `canopy` command-line client.
//!
//! `canopy demo` runs a whole group life in one process; `canopy vectors` runs the IETF MLS
//! conformance vectors; `canopy interop-server` serves the MLS working group's interop client
//! (the `MLSClient` gRPC service of its test runner).
#![forbid(unsafe_code)]

pub mod demo;
pub mod vectors;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Command-line arguments of `canopy`.
#[derive(Debug, Parser)]
#[command(
    name = "canopy",
    version,
    about = "Canopy: Messaging Layer Security (RFC 9420)"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a whole group life in one process: N members, an add-everyone commit, joins from
    /// the Welcome, application messages, updates and removals, with timings per operation.
    Demo {
        /// Members of the group, creator included.
        #[arg(long, default_value_t = 100)]
        members: u32,
        /// Application messages each active member sends.
        #[arg(long, default_value_t = 3)]
        messages: u32,
        /// Members simulated with full state (the rest are in the tree only).
        #[arg(long, default_value_t = 8)]
        active: u32,
        /// Cipher suite (1 to 7).
        #[arg(long, default_value_t = 1)]
        suite: u16,
    },
    /// Run IETF MLS test-vector files and report passes and failures per file.
    Vectors {
        /// The vector kind of every FILE (default: inferred from each file name, e.g.
        /// `tree-math.json` is `tree-math`).
        #[arg(long)]
        kind: Option<String>,
        /// Test-vector JSON files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Serve the MLS working group's interop client: the `MLSClient` gRPC service that its
    /// test runner (github.com/mlswg/mls-implementations, `interop/test-runner`) drives, so
    /// that other implementations can be tested against Canopy. Runs until interrupted.
    InteropServer {
        /// TCP port to listen on (0: one the system picks, printed at start).
        #[arg(long)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
        host: IpAddr,
    },
}

/// Runs `cli`, writing the report to `out`. Returns the process exit code: failure if any case
/// failed or any file could not be run.
///
/// # Errors
/// If writing to `out` fails.
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Vectors { kind, files } => run_vectors(kind.as_deref(), &files, out),
        Command::Demo {
            members,
            messages,
            active,
            suite,
        } => {
            demo::run(
                demo::DemoOptions {
                    members,
                    messages,
                    active,
                    suite: canopy_crypto::CipherSuite(suite),
                },
                out,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::InteropServer { port, host } => {
            run_interop_server(SocketAddr::new(host, port), out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `canopy interop-server`: blocks serving the `MLSClient` service on `addr`, after writing
/// the bound address to `out`. Only this subcommand starts an async runtime (inside
/// `canopy-interop-server`); the rest of the CLI is synchronous.
fn run_interop_server(addr: SocketAddr, out: &mut dyn Write) -> anyhow::Result<()> {
    let mut written = Ok(());
    canopy_interop_server::serve(addr, |bound| {
        written = writeln!(
            out,
            "{} interop client (MLSClient gRPC service) listening on {bound}",
            canopy_interop_server::NAME
        )
        .and_then(|()| out.flush());
    })
    .with_context(|| format!("serving the interop client on {addr}"))?;
    written.context("writing the listening address")
}

fn run_vectors(
    kind: Option<&str>,
    files: &[PathBuf],
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let forced = match kind {
        Some(name) => match vectors::Kind::from_name(name) {
            Some(k) => Some(k),
            None => {
                writeln!(
                    out,
                    "unknown vector kind `{name}`; known kinds: {}",
                    vectors::Kind::names()
                )?;
                return Ok(ExitCode::FAILURE);
            }
        },
        None => None,
    };
    let provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
    let mut total = vectors::Tally::default();
    let mut ok = true;
    for path in files {
        let name = path.display();
        let Some(kind) = forced.or_else(|| vectors::Kind::infer(path)) else {
            writeln!(
                out,
                "{name}: cannot infer the vector kind from the file name; use --kind"
            )?;
            ok = false;
            continue;
        };
        let report = std::fs::read(path)
            .with_context(|| format!("reading {name}"))
            .and_then(|bytes| {
                vectors::run_file(kind, &bytes, &provider).map_err(anyhow::Error::from)
            });
        match report {
            Ok(report) => {
                for failure in &report.failures {
                    writeln!(
                        out,
                        "  FAIL {name} case {}: {}",
                        failure.case, failure.reason
                    )?;
                }
                writeln!(out, "{name} ({kind}): {}", report.tally)?;
                ok &= report.tally.failed == 0;
                total.add(&report.tally);
            }
            Err(e) => {
                writeln!(out, "{name} ({kind}): error: {e:#}")?;
                ok = false;
            }
        }
    }
    writeln!(out, "total: {total}")?;
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
