//! The `canopy` command. Argument parsing only; the work is in [`canopy_cli`].
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = canopy_cli::Cli::parse();
    match canopy_cli::run(cli, &mut std::io::stdout()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("canopy: {e:#}");
            ExitCode::FAILURE
        }
    }
}
