//! `canopy register`: the user and this first device at the Delivery Service, then
//! KeyPackages.

use canopy_ds_api::types::{DeviceInfo, RegisterRequest};

use crate::chat::Out;
use crate::chat::session::Session;

/// Registers and publishes `key_packages` KeyPackages.
pub fn run(session: &mut Session, key_packages: usize, out: &mut Out<'_>) -> anyhow::Result<()> {
    let request = RegisterRequest {
        device: canopy_ds_api::DeviceId::new(&session.config.user, &session.config.device)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        suite: session.config.suite,
        signature_key: canopy_ds_api::hex::encode(&session.public_key()?),
    };
    let info: DeviceInfo = session.ds.json("POST", "/v1/users", &request)?;
    publish(session, key_packages, out)?;
    out.say(
        &format!("registered {} at {}", info.device, session.ds.base()),
        &info,
    )
}

/// Publishes `count` KeyPackages and a last-resort one, with a progress bar.
pub fn publish(session: &mut Session, count: usize, out: &mut Out<'_>) -> anyhow::Result<()> {
    let bar = out.bar(u64::try_from(count).unwrap_or(0), "KeyPackages");
    session.publish_key_packages(count, &|n| bar.set_position(n))?;
    bar.finish_and_clear();
    Ok(())
}
