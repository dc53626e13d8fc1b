//! `canopy remove GROUP USER...`: removes every device of each user.

use crate::chat::Out;
use crate::chat::session::{Session, device_name};

/// Runs the command.
pub fn run(
    session: &mut Session,
    group: &str,
    users: &[String],
    out: &mut Out<'_>,
) -> anyhow::Result<()> {
    let id = super::group_id(session, group);
    let mut events = session.catch_up(0, &|_| {})?;
    let mut devices = Vec::new();
    let leaves: Vec<_> = session
        .client
        .roster(&id)?
        .iter()
        .filter_map(|m| {
            let who = device_name(m.credential)?;
            let user = who.split('/').next().unwrap_or_default().to_owned();
            users.contains(&user).then(|| {
                devices.push(who);
                m.leaf
            })
        })
        .collect();
    if leaves.is_empty() {
        anyhow::bail!("none of {} is in {group}", users.join(", "));
    }
    let accepted = session.commit_with_retry(
        &id,
        &devices,
        |c| Ok(c.remove_members(&id, &leaves)?),
        &mut events,
    )?;
    out.events(&events)?;
    out.say(
        &format!("removed {} (epoch {})", devices.join(", "), accepted.epoch),
        &serde_json::json!({"removed": devices, "epoch": accepted.epoch}),
    )
}
