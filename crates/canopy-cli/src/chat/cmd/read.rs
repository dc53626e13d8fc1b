//! `canopy read [--wait S]`: everything new, in every group, then exits.

use crate::chat::Out;
use crate::chat::session::Session;

/// Runs the command.
pub fn run(session: &mut Session, wait: u64, out: &mut Out<'_>) -> anyhow::Result<()> {
    let bar = out.bar(0, "catching up");
    let events = session.catch_up(wait, &|n| {
        if n == 200 {
            bar.set_length(n);
        }
        bar.set_position(n);
    })?;
    bar.finish_and_clear();
    out.events(&events)
}
