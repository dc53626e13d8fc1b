//! Routing (RFC 9420 §6): what an incoming MLSMessage is and where it goes, read from its
//! unencrypted header without processing it: the wire format, and for a PublicMessage or
//! PrivateMessage the group id, epoch and content type; for a GroupInfo its group and epoch;
//! for a Welcome the KeyPackageRefs it is addressed to (§12.4.3.1, `secrets[].new_member`).

use canopy_core::key_package::KeyPackageRef;
use canopy_core::wire::{ContentType, MlsMessage};

/// The wire format of a message (RFC 9420 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageKind {
    /// `mls_public_message`.
    PublicMessage,
    /// `mls_private_message`.
    PrivateMessage,
    /// `mls_welcome`.
    Welcome,
    /// `mls_group_info`.
    GroupInfo,
    /// `mls_key_package`.
    KeyPackage,
}

/// What [`Client::peek`](crate::Client::peek) reads of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Peeked {
    /// The wire format.
    pub kind: MessageKind,
    /// The group, for group messages and GroupInfos.
    pub group_id: Option<Vec<u8>>,
    /// The epoch, for group messages and GroupInfos.
    pub epoch: Option<u64>,
    /// The content type, for group messages (a PrivateMessage carries it in the clear).
    pub content_type: Option<ContentType>,
    /// For a Welcome: the KeyPackageRefs it is addressed to, in order.
    pub recipients: Vec<KeyPackageRef>,
    /// For a Welcome: the first of `recipients` that this client holds the private keys of.
    pub key_package: Option<KeyPackageRef>,
}

/// The header of `message`.
pub(crate) fn peek(message: &MlsMessage) -> Peeked {
    let mut out = Peeked {
        kind: MessageKind::KeyPackage,
        group_id: None,
        epoch: None,
        content_type: None,
        recipients: Vec::new(),
        key_package: None,
    };
    match message {
        MlsMessage::PublicMessage(m) => {
            out.kind = MessageKind::PublicMessage;
            out.group_id = Some(m.content.group_id.as_slice().to_vec());
            out.epoch = Some(m.content.epoch);
            out.content_type = Some(m.content.content_type());
        }
        MlsMessage::PrivateMessage(m) => {
            out.kind = MessageKind::PrivateMessage;
            out.group_id = Some(m.group_id.as_slice().to_vec());
            out.epoch = Some(m.epoch);
            out.content_type = Some(m.content_type);
        }
        MlsMessage::Welcome(w) => {
            out.kind = MessageKind::Welcome;
            out.recipients = w
                .secrets
                .as_slice()
                .iter()
                .map(|s| KeyPackageRef::from_bytes(s.new_member.as_slice().to_vec()))
                .collect();
        }
        MlsMessage::GroupInfo(g) => {
            out.kind = MessageKind::GroupInfo;
            out.group_id = Some(g.group_context.group_id.as_slice().to_vec());
            out.epoch = Some(g.group_context.epoch);
        }
        _ => {}
    }
    out
}
