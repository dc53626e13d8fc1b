//! Prints the interop table (scenario × lineup × suite × handshake framing) at Canopy's
//! defaults: `cargo run -p canopy-interop --example table`. With an argument (a suite number,
//! e.g. `1`), only that suite.

use canopy_interop::CanopyOptions;
use canopy_interop::table::{lineups, render, rows_for};

fn main() {
    let suite = std::env::args().nth(1).and_then(|a| a.parse::<u16>().ok());
    let mut rows = Vec::new();
    for lineup in lineups() {
        rows.extend(rows_for(lineup, suite, CanopyOptions::default()));
    }
    print!("{}", render(&rows));
}
