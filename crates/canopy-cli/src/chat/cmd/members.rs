//! `canopy members GROUP`: who is in the group (one line per device).

use crate::chat::Out;
use crate::chat::session::{Session, device_name};

/// Runs the command.
pub fn run(session: &mut Session, group: &str, out: &mut Out<'_>) -> anyhow::Result<()> {
    let id = super::group_id(session, group);
    let events = session.catch_up(0, &|_| {})?;
    out.events(&events)?;
    let members: Vec<String> = session
        .client
        .roster(&id)?
        .iter()
        .map(|m| {
            device_name(m.credential)
                .unwrap_or_else(|| format!("leaf {} (not a basic credential)", m.leaf.value()))
        })
        .collect();
    if out.json {
        out.say("", &serde_json::json!({"group": group, "members": members}))
    } else {
        for m in &members {
            out.say(m, &())?;
        }
        Ok(())
    }
}
