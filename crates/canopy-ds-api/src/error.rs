//! Every refusal is an HTTP status with a JSON [`ErrorBody`] whose `code` is one of the stable
//! strings of [`ErrorCode`]; `message` is for people and may change.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($variant:ident = $text:literal, $status:literal, $doc:literal;)*) => {
        /// A machine-readable reason for a refusal.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable string of the code (its JSON form).
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $text,)* }
            }

            /// The HTTP status that carries it.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* }
            }
        }
    };
}

codes! {
    BadRequest = "bad_request", 400, "The request is not what the route takes (JSON, query, names).";
    MalformedMls = "malformed_mls", 400, "The body is not the MLS messages the route takes.";
    TooLarge = "too_large", 413, "The body, or a list in it, is over the server's limit.";
    Unauthenticated = "unauthenticated", 401, "The signature headers are missing or malformed.";
    BadSignature = "bad_signature", 401, "The request's signature does not verify under the device's key.";
    Expired = "expired", 401, "The request's timestamp is outside the server's window.";
    Replayed = "replayed", 401, "The device already used this nonce.";
    Forbidden = "forbidden", 403, "The device may not do this (another user's resource, not a member).";
    UnknownUser = "unknown_user", 404, "No such user.";
    UnknownDevice = "unknown_device", 404, "No such device.";
    UnknownGroup = "unknown_group", 404, "No such group.";
    UnknownMessage = "unknown_message", 404, "No such message in the group's log (or already deleted).";
    UserExists = "user_exists", 409, "The user name is taken.";
    DeviceExists = "device_exists", 409, "The device name is taken, or its key belongs to another device.";
    GroupExists = "group_exists", 409, "A group with this id exists.";
    CommitConflict = "commit_conflict", 409, "Another commit won this epoch; `winner` names it.";
    WrongEpoch = "wrong_epoch", 409, "The message is for an epoch the group is not in.";
    InvalidMessage = "invalid_message", 422, "The DS checked the handshake message and it breaks an RFC 9420 rule.";
    WrongMode = "wrong_mode", 422, "The group's handshake messages travel in the other wire format.";
    NoKeyPackages = "no_key_packages", 404, "The user has no device with a KeyPackage of that suite.";
    TooManyDevices = "too_many_devices", 409, "The user has the maximum number of devices.";
    TooManyGroups = "too_many_groups", 409, "The device is in the maximum number of groups.";
    TooManyKeyPackages = "too_many_key_packages", 409, "The device holds the maximum number of KeyPackages.";
    RateLimited = "rate_limited", 429, "Too many requests of this kind; retry later.";
    Internal = "internal", 500, "The server failed; nothing was changed.";
}

/// The body of every refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What was wrong, for programs.
    pub code: ErrorCode,
    /// What was wrong, for people.
    pub message: String,
    /// For [`ErrorCode::CommitConflict`] and [`ErrorCode::WrongEpoch`]: where the group is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
}

/// Where the group is when a commit lost or a message came for another epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The group's current epoch at the DS.
    pub epoch: u64,
    /// The sequence number in the group's log of the commit that won the epoch the request
    /// was for, when there is one: fetch it, process it, drop the pending commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub winner: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_their_json_strings_and_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(seen.insert(code.as_str()));
            assert!((400..600).contains(&code.status()));
        }
    }

    #[test]
    fn a_conflict_names_its_winner() {
        let body = ErrorBody {
            code: ErrorCode::CommitConflict,
            message: "lost".into(),
            conflict: Some(Conflict {
                epoch: 4,
                winner: Some(17),
            }),
        };
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json,
            r#"{"code":"commit_conflict","message":"lost","conflict":{"epoch":4,"winner":17}}"#
        );
        assert_eq!(serde_json::from_str::<ErrorBody>(&json).unwrap(), body);
    }
}
