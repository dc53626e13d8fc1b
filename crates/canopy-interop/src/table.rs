//! The interop table: every scenario for every ordered pair of implementations and every
//! ordering of the three, on every cipher suite they share, with both handshake framings.

use std::fmt::Write as _;

use crate::scenarios::Scenario;
use crate::{CanopyOptions, Handshake, Impl, shared_suites};

/// One row of the table: a lineup on a suite with a handshake framing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Creator, then the two members it adds. A pair (X, Y) is the lineup (X, Y, Y).
    pub lineup: [Impl; 3],
    /// The cipher suite.
    pub suite: u16,
    /// Handshake framing of every member.
    pub handshake: Handshake,
    /// Each scenario's outcome, in [`Scenario::ALL`] order: `Ok` or the first error.
    pub results: Vec<Result<(), String>>,
}

/// The lineups: each ordered pair (X, Y) of distinct implementations as (X, Y, Y), then each
/// ordering of the three.
pub fn lineups() -> Vec<[Impl; 3]> {
    let mut out = Vec::new();
    for x in Impl::ALL {
        for y in Impl::ALL {
            if x != y {
                out.push([x, y, y]);
            }
        }
    }
    for x in Impl::ALL {
        for y in Impl::ALL {
            for z in Impl::ALL {
                if x != y && y != z && x != z {
                    out.push([x, y, z]);
                }
            }
        }
    }
    out
}

/// Runs every scenario for `lineup` on every suite it shares (or only `suite`, if given and
/// shared) and both framings.
pub fn rows_for(lineup: [Impl; 3], suite: Option<u16>, canopy: CanopyOptions) -> Vec<Row> {
    let mut rows = Vec::new();
    let suites = shared_suites(&lineup)
        .into_iter()
        .filter(|&s| suite.is_none_or(|x| x == s));
    for suite in suites {
        for handshake in [Handshake::Public, Handshake::Private] {
            let results = Scenario::ALL
                .iter()
                .map(|s| s.run(lineup, suite, handshake, canopy))
                .collect();
            rows.push(Row {
                lineup,
                suite,
                handshake,
                results,
            });
        }
    }
    rows
}

/// The table as Markdown, and the failures (row, scenario, error) below it.
pub fn render(rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = write!(s, "| lineup (creator, added, added) | suite | handshake |");
    for sc in Scenario::ALL {
        let _ = write!(s, " {} |", sc.label());
    }
    s.push('\n');
    s.push_str("|---|---|---|");
    for _ in Scenario::ALL {
        s.push_str("---|");
    }
    s.push('\n');
    let mut failures = String::new();
    for r in rows {
        let lineup = format!("{}, {}, {}", r.lineup[0], r.lineup[1], r.lineup[2]);
        let _ = write!(s, "| {lineup} | 0x{:04X} | {:?} |", r.suite, r.handshake);
        for (sc, res) in Scenario::ALL.iter().zip(&r.results) {
            match res {
                Ok(()) => s.push_str(" pass |"),
                Err(e) => {
                    s.push_str(" FAIL |");
                    let _ = writeln!(
                        failures,
                        "- {lineup}, 0x{:04X}, {:?}, {}: {e}",
                        r.suite,
                        r.handshake,
                        sc.label()
                    );
                }
            }
        }
        s.push('\n');
    }
    let cells: usize = rows.iter().map(|r| r.results.len()).sum();
    let failed: usize = rows
        .iter()
        .map(|r| r.results.iter().filter(|x| x.is_err()).count())
        .sum();
    let _ = writeln!(
        s,
        "\n{} cells, {} passed, {failed} failed",
        cells,
        cells - failed
    );
    if !failures.is_empty() {
        s.push_str("\nFailures:\n");
        s.push_str(&failures);
    }
    s
}
