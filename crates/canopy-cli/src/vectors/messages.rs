//! `messages.json`: every RFC 9420 message struct must decode exactly and re-encode to the
//! same bytes (syntax only; signatures and MACs are not checked).

use canopy_core::advanced::codec::CodecError;
use canopy_core::wire::{
    Add, Commit, ContentType, ExternalInit, GroupContextExtensions, GroupSecrets, MlsMessage,
    PreSharedKey, RatchetTree, ReInit, Remove, Update, WireFormat,
};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, outcome};

#[derive(Deserialize)]
pub(crate) struct Case {
    mls_welcome: Hex,
    mls_group_info: Hex,
    mls_key_package: Hex,
    ratchet_tree: Hex,
    group_secrets: Hex,
    add_proposal: Hex,
    update_proposal: Hex,
    remove_proposal: Hex,
    pre_shared_key_proposal: Hex,
    re_init_proposal: Hex,
    external_init_proposal: Hex,
    group_context_extensions_proposal: Hex,
    commit: Hex,
    public_message_application: Hex,
    public_message_proposal: Hex,
    public_message_commit: Hex,
    private_message: Hex,
}

pub(crate) fn check(c: &Case) -> Outcome {
    outcome(run(c))
}

/// Decodes `bytes` with `decode`, re-encodes with `encode` and compares, naming `field`.
fn round_trip<T>(
    field: &str,
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, CodecError>,
    encode: impl Fn(&T) -> Result<Vec<u8>, CodecError>,
) -> Result<T, String> {
    let value = decode(bytes).map_err(|e| format!("{field}: decode: {e}"))?;
    let again = encode(&value).map_err(|e| format!("{field}: encode: {e}"))?;
    expect_eq(&format!("{field} re-encoded"), bytes, &again)?;
    Ok(value)
}

/// An MLSMessage-wrapped field must also carry the expected wire format.
fn message(field: &str, bytes: &[u8], wire_format: WireFormat) -> Result<MlsMessage, String> {
    let m = round_trip(field, bytes, MlsMessage::from_bytes, MlsMessage::to_bytes)?;
    if m.wire_format() != wire_format {
        return Err(format!(
            "{field}: wire format {:?}, expected {wire_format:?}",
            m.wire_format()
        ));
    }
    Ok(m)
}

/// A `public_message_*` field must be a PublicMessage carrying `content_type`.
fn public(field: &str, bytes: &[u8], content_type: ContentType) -> Result<(), String> {
    match message(field, bytes, WireFormat::PublicMessage)? {
        MlsMessage::PublicMessage(m) if m.content.content_type() == content_type => Ok(()),
        MlsMessage::PublicMessage(m) => Err(format!(
            "{field}: content type {:?}, expected {content_type:?}",
            m.content.content_type()
        )),
        _ => Err(format!("{field}: not a PublicMessage")),
    }
}

fn run(c: &Case) -> Result<(), String> {
    message("mls_welcome", &c.mls_welcome, WireFormat::Welcome)?;
    message("mls_group_info", &c.mls_group_info, WireFormat::GroupInfo)?;
    message(
        "mls_key_package",
        &c.mls_key_package,
        WireFormat::KeyPackage,
    )?;
    round_trip(
        "ratchet_tree",
        &c.ratchet_tree,
        RatchetTree::from_bytes,
        RatchetTree::to_bytes,
    )?;
    round_trip(
        "group_secrets",
        &c.group_secrets,
        GroupSecrets::from_bytes,
        GroupSecrets::to_bytes,
    )?;
    round_trip(
        "add_proposal",
        &c.add_proposal,
        Add::from_bytes,
        Add::to_bytes,
    )?;
    round_trip(
        "update_proposal",
        &c.update_proposal,
        Update::from_bytes,
        Update::to_bytes,
    )?;
    round_trip(
        "remove_proposal",
        &c.remove_proposal,
        Remove::from_bytes,
        Remove::to_bytes,
    )?;
    round_trip(
        "pre_shared_key_proposal",
        &c.pre_shared_key_proposal,
        PreSharedKey::from_bytes,
        PreSharedKey::to_bytes,
    )?;
    round_trip(
        "re_init_proposal",
        &c.re_init_proposal,
        ReInit::from_bytes,
        ReInit::to_bytes,
    )?;
    round_trip(
        "external_init_proposal",
        &c.external_init_proposal,
        ExternalInit::from_bytes,
        ExternalInit::to_bytes,
    )?;
    round_trip(
        "group_context_extensions_proposal",
        &c.group_context_extensions_proposal,
        GroupContextExtensions::from_bytes,
        GroupContextExtensions::to_bytes,
    )?;
    round_trip("commit", &c.commit, Commit::from_bytes, Commit::to_bytes)?;
    public(
        "public_message_application",
        &c.public_message_application,
        ContentType::Application,
    )?;
    public(
        "public_message_proposal",
        &c.public_message_proposal,
        ContentType::Proposal,
    )?;
    public(
        "public_message_commit",
        &c.public_message_commit,
        ContentType::Commit,
    )?;
    message(
        "private_message",
        &c.private_message,
        WireFormat::PrivateMessage,
    )
    .map(drop)
}
