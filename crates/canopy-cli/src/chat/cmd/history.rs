//! `canopy history [GROUP]`: what this device read and sent, from its store.

use crate::chat::Out;
use crate::chat::session::Session;

/// Runs the command.
pub fn run(session: &mut Session, group: Option<&str>, out: &mut Out<'_>) -> anyhow::Result<()> {
    let id = group.map(|g| super::group_id(session, g));
    for entry in session.history(id.as_deref())? {
        out.say(
            &format!("[{}] {}: {}", entry.group, entry.from, entry.text),
            &entry,
        )?;
    }
    Ok(())
}
