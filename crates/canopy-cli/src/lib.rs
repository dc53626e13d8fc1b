//! The `canopy` command-line client.
//!
//! `canopy demo` runs a whole group life in one process; `canopy vectors` runs the IETF MLS
//! conformance vectors; `canopy interop-server` serves the MLS working group's interop client
//! (the `MLSClient` gRPC service of its test runner). The chat commands (`init`, `register`,
//! `device`, `create`, `invite`, `send`, `read`, `chat`, `members`, `remove`, `leave`,
//! `history`) talk to a Delivery Service that `canopy serve` runs.
#![forbid(unsafe_code)]

pub mod chat;
pub mod demo;
pub mod demo_ds;
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
    /// The home of this device (its store and configuration). Default: `$CANOPY_HOME`, else
    /// `.canopy` in the current directory.
    #[arg(long, global = true)]
    pub home: Option<PathBuf>,
    /// Machine-readable output: one JSON value per line.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `canopy device ...`.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// On a new device (after `canopy init` with the same user): print the request an existing
    /// device approves.
    Request,
    /// On an existing device: approve a request, printing the endorsement for the new device.
    Approve {
        /// What `canopy device request` printed.
        request: String,
    },
    /// On the new device: register with the endorsement, publish KeyPackages.
    Add {
        /// What `canopy device approve` printed.
        endorsement: String,
        /// KeyPackages to publish.
        #[arg(long, default_value_t = 20)]
        key_packages: usize,
    },
    /// On an existing device: add the user's other devices to every group it is in.
    Sync,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a whole group life on the real stack (the Delivery Service on loopback, a SQLite
    /// store per client; `--in-process` for the engine alone): N members, an add-everyone
    /// commit, joins from
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
        /// Run the engine alone in this process, without the Delivery Service and stores.
        #[arg(long)]
        in_process: bool,
    },
    /// Create the home of a device: its store, a signature key, the server to use.
    Init {
        /// The user name (a-z, 0-9, '.', '_', '-').
        #[arg(long)]
        user: String,
        /// This device's name.
        #[arg(long, default_value = "main")]
        device: String,
        /// The Delivery Service.
        #[arg(long, default_value = "http://127.0.0.1:7420")]
        server: String,
        /// Cipher suite (1 to 7).
        #[arg(long, default_value_t = 1)]
        suite: u16,
    },
    /// Run the Delivery Service (until interrupted).
    Serve {
        /// The database: a SQLite file path, or a `postgres://` URL.
        #[arg(long, default_value = "canopy-ds.db")]
        db: String,
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:7420")]
        listen: SocketAddr,
        /// Serve HTTPS with this certificate chain (PEM, leaf first); needs `--tls-key`.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
    },
    /// Register the user with this device, and publish KeyPackages.
    Register {
        /// KeyPackages to publish.
        #[arg(long, default_value_t = 20)]
        key_packages: usize,
    },
    /// Devices of the same user.
    Device {
        /// What to do.
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Create a group `USER/NAME`.
    Create {
        /// The group's name.
        name: String,
    },
    /// Add every device of each user to a group.
    Invite {
        /// The group (`NAME` for ours, or `USER/NAME`).
        group: String,
        /// The users.
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Send a message.
    Send {
        /// The group.
        group: String,
        /// The text.
        text: String,
    },
    /// Read everything new, in every group.
    Read {
        /// Wait up to this many seconds for something to arrive.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Chat interactively in a group: lines typed are sent, messages shown as they arrive.
    Chat {
        /// The group.
        group: String,
    },
    /// List a group's members.
    Members {
        /// The group.
        group: String,
    },
    /// Remove every device of each user from a group.
    Remove {
        /// The group.
        group: String,
        /// The users.
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Leave a group (the next member who reads commits it).
    Leave {
        /// The group.
        group: String,
    },
    /// Show what this device read and sent.
    History {
        /// Only this group.
        group: Option<String>,
    },
    /// Run IETF MLS test-vector files and report passes and failures per file.
    Vectors {
        /// The vector kind of every FILE (default: inferred from each file name, e.g.
        /// `tree-math.json` is `tree-math`).
        #[arg(long)]
        kind: Option<String>,
        /// Also run the post-quantum suites of this code-point profile (`openmls`,
        /// `openmls-ml-dsa`, `ts-mls`; repeatable): a vector's `cipher_suite` above 0x0007 is
        /// read in that numbering.
        #[arg(long)]
        profile: Vec<String>,
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
    let home = cli
        .home
        .clone()
        .or_else(|| std::env::var_os("CANOPY_HOME").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(".canopy"));
    let json = cli.json;
    let progress = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut o = chat::Out {
        json,
        w: out,
        progress,
    };
    let out = &mut o;
    use chat::cmd;
    let open = || chat::session::Session::open(&home);
    match cli.command {
        Command::Init {
            user,
            device,
            server,
            suite,
        } => cmd::init::run(&home, &user, &device, &server, suite, out)?,
        Command::Serve {
            db,
            listen,
            tls_cert,
            tls_key,
        } => {
            let tls = tls_cert
                .zip(tls_key)
                .map(|(cert, key)| canopy_ds::TlsFiles { cert, key });
            cmd::serve::run(listen, &db, tls.as_ref(), out)?
        }
        Command::Register { key_packages } => cmd::register::run(&mut open()?, key_packages, out)?,
        Command::Device { command } => match command {
            DeviceCommand::Request => cmd::device::request(&open()?, out)?,
            DeviceCommand::Approve { request } => cmd::device::approve(&open()?, &request, out)?,
            DeviceCommand::Add {
                endorsement,
                key_packages,
            } => cmd::device::add(&mut open()?, &endorsement, key_packages, out)?,
            DeviceCommand::Sync => cmd::device::sync(&mut open()?, out)?,
        },
        Command::Create { name } => cmd::create::run(&mut open()?, &name, out)?,
        Command::Invite { group, users } => cmd::invite::run(&mut open()?, &group, &users, out)?,
        Command::Send { group, text } => cmd::send::run(&mut open()?, &group, &text, out)?,
        Command::Read { wait } => cmd::read::run(&mut open()?, wait, out)?,
        Command::Chat { group } => cmd::chat::run(
            &mut open()?,
            &group,
            Box::new(std::io::BufReader::new(std::io::stdin())),
            out,
        )?,
        Command::Members { group } => cmd::members::run(&mut open()?, &group, out)?,
        Command::Remove { group, users } => cmd::remove::run(&mut open()?, &group, &users, out)?,
        Command::Leave { group } => cmd::leave::run(&mut open()?, &group, out)?,
        Command::History { group } => cmd::history::run(&mut open()?, group.as_deref(), out)?,
        _ => return run_engine(cli.command, out.w),
    }
    Ok(ExitCode::SUCCESS)
}

/// The commands that need no home: `vectors`, `demo`, `interop-server`.
fn run_engine(command: Command, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match command {
        Command::Vectors {
            kind,
            profile,
            files,
        } => run_vectors(kind.as_deref(), &profile, &files, out),
        Command::Demo {
            members,
            messages,
            active,
            suite,
            in_process: false,
        } => {
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            demo_ds::run(
                demo_ds::DsDemoOptions {
                    members,
                    messages,
                    active,
                    suite,
                },
                out,
                progress,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo {
            members,
            messages,
            active,
            suite,
            in_process: true,
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
        _ => Ok(ExitCode::FAILURE),
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
    profiles: &[String],
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
    let mut provider = canopy_crypto_rustcrypto::RustCryptoProvider::new();
    for name in profiles {
        let Some(p) = canopy_crypto::SuiteProfile::by_name(name) else {
            let known: Vec<&str> = canopy_crypto::SuiteProfile::ALL
                .iter()
                .map(|p| p.name())
                .collect();
            writeln!(
                out,
                "unknown profile `{name}`; known profiles: {}",
                known.join(", ")
            )?;
            return Ok(ExitCode::FAILURE);
        };
        provider = provider
            .with_profile(p)
            .map_err(|s| anyhow::anyhow!("profile {name} redefines suite {s}"))?;
    }
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
