//! `canopy leave GROUP`: proposes our own removal (RFC 9420 §12.1.3: a member cannot
//! commit its own removal); the next member who reads commits it.

use canopy_core::wire::{Proposal, Remove};

use crate::chat::Out;
use crate::chat::session::Session;

/// Runs the command.
pub fn run(session: &mut Session, group: &str, out: &mut Out<'_>) -> anyhow::Result<()> {
    let id = super::group_id(session, group);
    let events = session.catch_up(0, &|_| {})?;
    out.events(&events)?;
    let own = session.client.group(&id)?.own_leaf();
    let proposal = session.client.propose(
        &id,
        Proposal::Remove(Remove {
            removed: own.value(),
        }),
    )?;
    session.ds.call(
        "POST",
        &format!("/v1/groups/{}/messages", canopy_ds_api::hex::encode(&id)),
        &proposal,
        &[],
    )?;
    out.say(
        &format!("asked to leave {group}; the others remove you when they next read"),
        &serde_json::json!({"group": group, "left": true}),
    )
}
