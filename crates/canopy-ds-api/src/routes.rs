//! Route paths. `{user}` is a user name, `{group}` a group id in hex, `{seq}` a position in a
//! group's log. Bodies: JSON ([`crate::types`]) or `message/mls`.

/// `GET`: the OpenAPI document of this API (unauthenticated).
pub const OPENAPI: &str = "/v1/openapi.json";
/// `POST` [`crate::types::RegisterRequest`]: a new user with its first device.
pub const USERS: &str = "/v1/users";
/// `POST` [`crate::types::AddDeviceRequest`]: a further device; `GET`: the user's devices.
pub const USER_DEVICES: &str = "/v1/users/{user}/devices";
/// `POST` `message/mls` KeyPackages (`?last_resort=true` for the one kept when fetched).
pub const KEY_PACKAGES: &str = "/v1/key-packages";
/// `GET`: how many KeyPackages the device has left, per suite.
pub const KEY_PACKAGE_COUNT: &str = "/v1/key-packages/count";
/// `POST ?suite=N`: one KeyPackage of each of the user's devices, consumed (`message/mls`).
pub const CLAIM_KEY_PACKAGES: &str = "/v1/users/{user}/key-packages/claim";
/// `POST ?mode=public|private` `message/mls` GroupInfo: a new group with its creator.
pub const GROUPS: &str = "/v1/groups";
/// `GET`: [`crate::types::GroupStatus`].
pub const GROUP: &str = "/v1/groups/{group}";
/// `POST` `message/mls`: a handshake or application message, then for a commit that adds
/// members its Welcome, then optionally the new epoch's GroupInfo.
pub const GROUP_MESSAGES: &str = "/v1/groups/{group}/messages";
/// `GET`: one message of the log (`message/mls`), for example the commit that won an epoch.
pub const GROUP_MESSAGE: &str = "/v1/groups/{group}/messages/{seq}";
/// `GET`: the group's latest GroupInfo (`message/mls`), for external joins; `POST`: a member
/// publishes the current epoch's GroupInfo.
pub const GROUP_INFO: &str = "/v1/groups/{group}/group-info";
/// `GET ?wait=S&max=N`: the device's deliveries after its cursors ([`crate::DELIVERIES`]);
/// waits up to `S` seconds for one (long poll).
pub const INBOX: &str = "/v1/inbox";
/// `POST` [`crate::types::AckRequest`]: advances the device's cursors.
pub const INBOX_ACK: &str = "/v1/inbox/ack";

/// `template` with its `{name}` segments replaced, in order, by `values`.
pub fn fill(template: &str, values: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut values = values.iter();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start..).unwrap_or_default();
        let end = after.find('}').map_or(after.len(), |e| e.saturating_add(1));
        out.push_str(values.next().copied().unwrap_or_default());
        rest = after.get(end..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_templates() {
        assert_eq!(
            super::fill(super::GROUP_MESSAGE, &["abcd", "7"]),
            "/v1/groups/abcd/messages/7"
        );
        assert_eq!(super::fill(super::INBOX, &[]), "/v1/inbox");
    }
}
