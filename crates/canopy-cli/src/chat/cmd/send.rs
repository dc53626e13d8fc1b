//! `canopy send GROUP TEXT`.

use crate::chat::Out;
use crate::chat::session::Session;

/// Runs the command.
pub fn run(
    session: &mut Session,
    group: &str,
    text: &str,
    out: &mut Out<'_>,
) -> anyhow::Result<()> {
    let id = super::group_id(session, group);
    let mut events = session.catch_up(0, &|_| {})?;
    let accepted = session.send(&id, text, &mut events)?;
    out.events(&events)?;
    out.say(
        &format!(
            "sent to {} (#{})",
            String::from_utf8_lossy(&id),
            accepted.seq
        ),
        &accepted,
    )
}
