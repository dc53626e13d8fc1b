//! `canopy invite GROUP USER...`: every device of each user (one KeyPackage each, claimed
//! from the directory) added in one commit; their Welcome goes to each device's queue.

use canopy_core::MlsMessage;

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
    out.events(&events)?;
    events.clear();
    invite(session, &id, users, out)
}

/// Adds every device of `users` that is not in the group yet.
pub fn invite(
    session: &mut Session,
    id: &[u8],
    users: &[String],
    out: &mut Out<'_>,
) -> anyhow::Result<()> {
    let members: std::collections::BTreeSet<String> = session
        .client
        .roster(id)?
        .iter()
        .filter_map(|m| device_name(m.credential))
        .collect();
    let bar = out.bar(
        u64::try_from(users.len()).unwrap_or(0),
        "claiming KeyPackages",
    );
    let mut key_packages: Vec<Vec<u8>> = Vec::new();
    for user in users {
        let answer = session.ds.call(
            "POST",
            &format!(
                "/v1/users/{user}/key-packages/claim?suite={}",
                session.config.suite
            ),
            b"",
            &[],
        );
        let body = match answer {
            Ok(a) => a.body,
            Err(e)
                if crate::chat::ds::refusal(&e)
                    .is_some_and(|r| r.code == canopy_ds_api::ErrorCode::NoKeyPackages) =>
            {
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut rest = body.as_slice();
        while !rest.is_empty() {
            let (message, own, after) = MlsMessage::split_first(rest)?;
            rest = after;
            if let MlsMessage::KeyPackage(kp) = message
                && device_name(&kp.leaf_node.credential).is_some_and(|d| !members.contains(&d))
            {
                key_packages.push(own.to_vec());
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let name = String::from_utf8_lossy(id).into_owned();
    if key_packages.is_empty() {
        return out.say(
            &format!("{name}: nobody new to add"),
            &serde_json::json!({"group": name, "added": 0}),
        );
    }
    let mut events = Vec::new();
    let count = key_packages.len();
    let accepted = session.commit_with_retry(
        id,
        &[],
        |c| {
            let refs: Vec<&[u8]> = key_packages.iter().map(Vec::as_slice).collect();
            Ok(c.add_members(id, &refs)?)
        },
        &mut events,
    )?;
    out.events(&events)?;
    out.say(
        &format!("{name}: added {count} devices (epoch {})", accepted.epoch),
        &serde_json::json!({"group": name, "added": count, "epoch": accepted.epoch}),
    )
}
