//! `canopy init`: a home with its store and a device identity.

use std::path::Path;

use crate::chat::Out;
use crate::chat::session::{HomeConfig, Session};

/// Runs the command.
pub fn run(
    home: &Path,
    user: &str,
    device: &str,
    server: &str,
    suite: u16,
    out: &mut Out<'_>,
) -> anyhow::Result<()> {
    let config = HomeConfig {
        server: server.to_owned(),
        user: user.to_owned(),
        device: device.to_owned(),
        suite,
    };
    let session = Session::init(home, config)?;
    let key = canopy_ds_api::hex::encode(&session.public_key()?);
    out.say(
        &format!("{} is ready in {}; next: `canopy register` (or `canopy device add` for a further device)", session.config.device_id(), home.display()),
        &serde_json::json!({"device": session.config.device_id(), "home": home, "signature_key": key}),
    )
}
