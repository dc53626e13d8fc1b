//! The JSON bodies. Keys, signatures and group ids are lower-case hex strings.

use serde::{Deserialize, Serialize};

use crate::DeviceId;

/// `POST /v1/users`: a user and its first device. The request is signed by that device (the
/// key below), which proves it holds the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The first device, `user/device`.
    pub device: DeviceId,
    /// The cipher suite whose signature scheme the device's key belongs to.
    pub suite: u16,
    /// The device's MLS signature public key, hex.
    pub signature_key: String,
}

/// `POST /v1/users/{user}/devices`: a further device, signed by the new device and endorsed by
/// an existing device of the user ([`crate::auth::endorsement_content`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddDeviceRequest {
    /// The new device.
    pub device: DeviceId,
    /// Its cipher suite.
    pub suite: u16,
    /// Its signature public key, hex.
    pub signature_key: String,
    /// The existing device that admits it.
    pub endorsed_by: DeviceId,
    /// That device's signature over the endorsement, hex.
    pub endorsement: String,
}

/// A registered device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// `user/device`.
    pub device: DeviceId,
    /// Its cipher suite.
    pub suite: u16,
    /// Its signature public key, hex.
    pub signature_key: String,
}

/// `GET /v1/users/{user}/devices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// In registration order.
    pub devices: Vec<DeviceInfo>,
}

/// `POST /v1/key-packages`: how many were stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// KeyPackages stored.
    pub accepted: u32,
}

/// KeyPackages a device has left for one suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPackageCount {
    /// The suite.
    pub suite: u16,
    /// Ordinary KeyPackages left (each used once).
    pub remaining: u32,
    /// Whether a last-resort KeyPackage is stored.
    pub last_resort: bool,
}

/// `GET /v1/key-packages/count`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPackageCounts {
    /// One entry per suite the device published for.
    pub suites: Vec<KeyPackageCount>,
}

/// How a group's handshake messages travel, and so what the DS can check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupMode {
    /// PublicMessage handshakes: the DS follows the group with a public view, refuses invalid
    /// commits and derives the members from the tree.
    Public,
    /// PrivateMessage handshakes: the DS orders by epoch and uses the membership the devices
    /// declare (Welcomes it routes, removals the committer lists).
    Private,
}

/// `GET /v1/groups/{group}`, and the answer to creating one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupStatus {
    /// The group id, hex.
    pub group_id: String,
    /// Its mode.
    pub mode: GroupMode,
    /// Its current epoch at the DS.
    pub epoch: u64,
    /// The next position of its log.
    pub next_seq: u64,
    /// The devices that receive its messages.
    pub members: Vec<DeviceId>,
}

/// `POST /v1/groups/{group}/messages`: where the message went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// Its position in the group's log.
    pub seq: u64,
    /// The group's epoch after it.
    pub epoch: u64,
}

/// A cursor: everything of `group_id` up to `seq` was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The group id, hex.
    pub group_id: String,
    /// The last position read.
    pub seq: u64,
}

/// `POST /v1/inbox/ack`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckRequest {
    /// Group cursors to advance (a cursor never moves back).
    #[serde(default)]
    pub groups: Vec<Cursor>,
    /// Welcomes up to this position of the personal queue were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub welcomes: Option<u64>,
}

/// The header of `POST /v1/groups/{group}/messages` with which the committer of a private
/// group declares the devices its commit removes (comma-separated `user/device`).
pub const REMOVES_HEADER: &str = "canopy-removes";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shapes() {
        let r = RegisterRequest {
            device: DeviceId::parse("alice/laptop").unwrap(),
            suite: 1,
            signature_key: "ab".into(),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"device":"alice/laptop","suite":1,"signature_key":"ab"}"#
        );
        assert_eq!(
            serde_json::to_string(&GroupMode::Private).unwrap(),
            "\"private\""
        );
        let ack: AckRequest = serde_json::from_str("{}").unwrap();
        assert_eq!(ack, AckRequest::default());
    }
}
