//! `canopy device request|approve|add|sync`: a further device of the same user. The new
//! device prints a request; an existing device approves it (signs an endorsement); the new
//! device registers with it; the existing device then adds it to every group (`sync`).

use canopy_ds_api::types::{AddDeviceRequest, DeviceInfo};
use canopy_ds_api::{DeviceId, hex};
use serde::{Deserialize, Serialize};

use crate::chat::Out;
use crate::chat::session::Session;

/// What the new device shows the existing one.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeviceRequest {
    /// The new device.
    pub device: String,
    /// Its suite.
    pub suite: u16,
    /// Its signature key, hex.
    pub signature_key: String,
}

/// What the existing device gives the new one.
#[derive(Debug, Serialize, Deserialize)]
pub struct Endorsement {
    /// The endorsing device.
    pub by: String,
    /// Its signature over the endorsement, hex.
    pub signature: String,
}

/// `canopy device request` (on the new device).
pub fn request(session: &Session, out: &mut Out<'_>) -> anyhow::Result<()> {
    let r = DeviceRequest {
        device: session.config.device_id(),
        suite: session.config.suite,
        signature_key: hex::encode(&session.public_key()?),
    };
    let token = hex::encode(&serde_json::to_vec(&r)?);
    out.say(
        &format!(
            "on a device of {} run: canopy device approve {token}",
            session.config.user
        ),
        &serde_json::json!({"request": token}),
    )
}

/// `canopy device approve REQUEST` (on an existing device): prints the endorsement.
pub fn approve(session: &Session, token: &str, out: &mut Out<'_>) -> anyhow::Result<()> {
    let bytes = hex::decode(token)
        .ok_or_else(|| anyhow::anyhow!("the request is not what `canopy device request` prints"))?;
    let r: DeviceRequest = serde_json::from_slice(&bytes)?;
    let id = DeviceId::parse(&r.device).map_err(|e| anyhow::anyhow!("{e}"))?;
    if id.user() != session.config.user {
        anyhow::bail!("{} is not a device of {}", r.device, session.config.user);
    }
    let key = hex::decode(&r.signature_key).ok_or_else(|| anyhow::anyhow!("bad key"))?;
    let signature = session.ds.sign(&canopy_ds_api::auth::endorsement_content(
        &r.device, r.suite, &key,
    ))?;
    let token = hex::encode(&serde_json::to_vec(
        &serde_json::json!({"by": session.config.device_id(), "signature": hex::encode(&signature)}),
    )?);
    out.say(
        &format!("on {} run: canopy device add {token}", r.device),
        &serde_json::json!({"endorsement": token}),
    )
}

/// `canopy device add ENDORSEMENT` (on the new device): registers it, publishes
/// KeyPackages.
pub fn add(
    session: &mut Session,
    token: &str,
    key_packages: usize,
    out: &mut Out<'_>,
) -> anyhow::Result<()> {
    let bytes = hex::decode(token).ok_or_else(|| {
        anyhow::anyhow!("the endorsement is not what `canopy device approve` prints")
    })?;
    let e: Endorsement = serde_json::from_slice(&bytes)?;
    let by = e.by.as_str();
    let request = AddDeviceRequest {
        device: DeviceId::new(&session.config.user, &session.config.device)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        suite: session.config.suite,
        signature_key: hex::encode(&session.public_key()?),
        endorsed_by: DeviceId::parse(by).map_err(|e| anyhow::anyhow!("{e}"))?,
        endorsement: e.signature,
    };
    let info: DeviceInfo = session.ds.json(
        "POST",
        &format!("/v1/users/{}/devices", session.config.user),
        &request,
    )?;
    super::register::publish(session, key_packages, out)?;
    out.say(
        &format!(
            "added {}; an existing device adds it to its groups with `canopy device sync`",
            info.device
        ),
        &info,
    )
}

/// `canopy device sync` (on an existing device): adds the user's other devices to every
/// group this device is in.
pub fn sync(session: &mut Session, out: &mut Out<'_>) -> anyhow::Result<()> {
    let user = session.config.user.clone();
    for id in session.client.group_ids()? {
        if session.client.status(&id)? != canopy_client::MembershipStatus::Member {
            continue;
        }
        let name = String::from_utf8_lossy(&id).into_owned();
        super::invite::invite(session, &id, std::slice::from_ref(&user), out)
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    Ok(())
}
