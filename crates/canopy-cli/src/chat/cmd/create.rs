//! `canopy create NAME`: a group `user/NAME` with this device alone, registered at the DS.

use canopy_ds_api::types::GroupStatus;

use crate::chat::Out;
use crate::chat::session::{IDENTITY, Session};

/// Runs the command (`private`: handshake messages as PrivateMessage; the DS then orders
/// by epoch only).
pub fn run(session: &mut Session, name: &str, out: &mut Out<'_>) -> anyhow::Result<()> {
    let id = super::group_id(session, name);
    let suite = session.suite();
    session
        .client
        .create_group(IDENTITY, suite, Some(id.clone()))?;
    let info = session.client.group_info(&id, true)?;
    let status: GroupStatus = match session
        .ds
        .call("POST", "/v1/groups?mode=public", &info, &[])
    {
        Ok(a) => serde_json::from_slice(&a.body)?,
        Err(e) => {
            // Not registered: forget the local group so that the name can be used again.
            let _ = session.client.unload_group(&id);
            return Err(e);
        }
    };
    out.say(
        &format!(
            "created {}; add people with `canopy invite {} USER...`",
            String::from_utf8_lossy(&id),
            String::from_utf8_lossy(&id)
        ),
        &status,
    )
}
