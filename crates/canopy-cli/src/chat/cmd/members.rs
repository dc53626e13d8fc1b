//! `canopy members GROUP`: who is in the group (one line per device).

use canopy_core::wire::Credential;

use crate::chat::Out;
use crate::chat::session::Session;

/// Runs the command.
pub fn run(session: &mut Session, group: &str, out: &mut Out<'_>) -> anyhow::Result<()> {
    let id = super::group_id(session, group);
    let events = session.catch_up(0, &|_| {})?;
    out.events(&events)?;
    let members: Vec<String> = session
        .client
        .roster(&id)?
        .iter()
        .map(|m| match m.credential {
            Credential::Basic { identity } => {
                String::from_utf8_lossy(identity.as_slice()).into_owned()
            }
            _ => format!("leaf {} (not a basic credential)", m.leaf.value()),
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
