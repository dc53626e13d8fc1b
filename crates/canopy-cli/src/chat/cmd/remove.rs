//! `canopy remove GROUP USER...`: removes every device of each user.

use canopy_core::wire::Credential;

use crate::chat::Out;
use crate::chat::session::Session;

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
        .filter_map(|m| match m.credential {
            Credential::Basic { identity } => {
                let who = String::from_utf8_lossy(identity.as_slice()).into_owned();
                let user = who.split('/').next().unwrap_or_default().to_owned();
                users.contains(&user).then(|| {
                    devices.push(who);
                    m.leaf
                })
            }
            _ => None,
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
