//! Groups: creation, the per-group total order of handshake messages (a commit for epoch N
//! is accepted only in epoch N; the first wins, a later one is answered with the winner), and
//! the log every member's device reads from its cursor.
//!
//! Public groups (PublicMessage handshakes) are followed with the core's [`PublicGroup`]:
//! every proposal and commit is checked before anyone receives it, and the members (and so
//! the recipients) come from the tree, mapped to devices by their signature keys. Private
//! groups (PrivateMessage handshakes) are ordered by the clear header fields (group id,
//! epoch, content type); their membership is what the devices declare: the Welcomes the DS
//! routes (by KeyPackageRef) add devices, and a committer lists the devices it removes.

use std::collections::BTreeMap;

use canopy_core::key_package::BasicCredentialValidator;
use canopy_core::public::PublicProcessed;
use canopy_core::wire::{ContentType, FramedContentBody, Proposal, ProposalOrRef, Sender};
use canopy_core::{LeafIndex, MlsMessage, PublicGroup};
use canopy_ds_api::error::Conflict;
use canopy_ds_api::types::{Accepted, GroupMode, GroupStatus, REMOVES_HEADER};
use canopy_ds_api::{DeviceId, ErrorCode, MESSAGE_MLS, hex};
use canopy_store::ds::{DsTx, GroupRow};

use super::{Ctx, Reply, Request};
use crate::ApiError;
use crate::auth::authenticate;

const PUBLIC: u8 = 1;
const PRIVATE: u8 = 2;

/// Application messages of up to this many epochs back are still delivered (their senders
/// had not processed the latest commits yet; receivers keep past epochs' secrets).
const APPLICATION_EPOCH_LAG: u64 = 2;

fn mode_of(row: &GroupRow) -> GroupMode {
    if row.mode == PUBLIC {
        GroupMode::Public
    } else {
        GroupMode::Private
    }
}

fn invalid(e: &canopy_core::public::PublicGroupError) -> ApiError {
    let rule = e
        .rule()
        .map(|r| format!(" ({})", r.id()))
        .unwrap_or_default();
    ApiError::new(ErrorCode::InvalidMessage, format!("{e}{rule}"))
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ErrorCode::MalformedMls, format!("{e}"))
}

fn status(tx: &mut dyn DsTx, row: &GroupRow) -> Result<GroupStatus, ApiError> {
    let members = tx
        .members(&row.id)?
        .iter()
        .filter_map(|d| DeviceId::parse(d).ok())
        .collect();
    Ok(GroupStatus {
        group_id: hex::encode(&row.id),
        mode: mode_of(row),
        epoch: row.epoch,
        next_seq: row.next_seq,
        members,
    })
}

/// The group's public view: the cached one if it is current, else decoded from its row.
fn load_public(tx: &mut dyn DsTx, ctx: &Ctx<'_>, row: &GroupRow) -> Result<PublicGroup, ApiError> {
    if let Ok(mut cache) = ctx.public.lock()
        && let Some((at, group)) = cache.remove(&row.id)
        && at == row.state_seq
    {
        return Ok(group);
    }
    let state = tx
        .group_blobs(&row.id)?
        .state
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "a public group without its state"))?;
    PublicGroup::from_bytes(ctx.crypto, &state).map_err(|e| {
        tracing::error!(error = %e, "a stored public group");
        ApiError::new(ErrorCode::Internal, "a stored public group does not load")
    })
}

fn group_row(tx: &mut dyn DsTx, id: &[u8]) -> Result<GroupRow, ApiError> {
    tx.group(id)?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownGroup,
            format!("no group {}", hex::encode(id)),
        )
    })
}

/// `POST /v1/groups?mode=public|private` with the group's GroupInfo.
///
/// # Errors
/// The authentication errors; [`ErrorCode::BadRequest`], [`ErrorCode::MalformedMls`],
/// [`ErrorCode::InvalidMessage`] (a public group's GroupInfo or tree breaks a rule),
/// [`ErrorCode::Forbidden`] (the device is not in the tree), [`ErrorCode::TooManyGroups`],
/// [`ErrorCode::GroupExists`].
pub fn create_group(tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request) -> Result<Reply, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    let mode = match req.query("mode").unwrap_or("public") {
        "public" => PUBLIC,
        "private" => PRIVATE,
        other => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                format!("unknown mode {other}"),
            ));
        }
    };
    if tx.group_count(&device.id)? >= ctx.limits.max_groups_per_device {
        return Err(ApiError::new(
            ErrorCode::TooManyGroups,
            "this device is in the maximum number of groups",
        ));
    }
    let (message, own, rest) = MlsMessage::split_first(&req.body).map_err(malformed)?;
    let MlsMessage::GroupInfo(info) = message else {
        return Err(ApiError::new(
            ErrorCode::MalformedMls,
            "the body is the group's GroupInfo",
        ));
    };
    if !rest.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MalformedMls,
            "bytes after the GroupInfo",
        ));
    }
    let id = info.group_context.group_id.as_slice().to_vec();
    let mut members = Vec::new();
    let (state, epoch, cache) = if mode == PUBLIC {
        let validator = BasicCredentialValidator::new();
        let env = ctx.env(&validator);
        let group = PublicGroup::from_group_info(&env, &ctx.group_config(), own, None)
            .map_err(|e| invalid(&e))?;
        for member in group.roster() {
            if let Some(d) = tx.device_by_key(member.signature_key.as_bytes())? {
                members.push(d);
            }
        }
        let epoch = group.epoch();
        let state = group.to_bytes().map_err(|e| invalid(&e))?;
        (Some(state), epoch, Some(group))
    } else {
        members.push(device.id.clone());
        (None, info.group_context.epoch, None)
    };
    if !members.contains(&device.id) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "the creating device must be a member of the group",
        ));
    }
    let row = GroupRow {
        id: id.clone(),
        mode,
        epoch,
        next_seq: 1,
        state,
        state_seq: 0,
        group_info: Some(own.to_vec()),
    };
    if !tx.insert_group(&row, ctx.now)? {
        return Err(ApiError::new(
            ErrorCode::GroupExists,
            format!("group {} exists", hex::encode(&id)),
        ));
    }
    for m in &members {
        tx.add_member(&id, m, 0)?;
    }
    let mut reply = Reply::json(&status(tx, &row)?)?;
    reply.cache = cache.map(|g| (id, 0, g));
    Ok(reply)
}

/// `GET /v1/groups/{group}`.
///
/// # Errors
/// The authentication errors, [`ErrorCode::UnknownGroup`].
pub fn group_status(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    id: &[u8],
) -> Result<Reply, ApiError> {
    authenticate(tx, ctx, req, None)?;
    let row = group_row(tx, id)?;
    Reply::json(&status(tx, &row)?)
}

/// `GET /v1/groups/{group}/messages/{seq}`: for a member's device.
///
/// # Errors
/// The authentication errors, [`ErrorCode::UnknownGroup`], [`ErrorCode::Forbidden`],
/// [`ErrorCode::UnknownMessage`].
pub fn get_message(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    id: &[u8],
    seq: u64,
) -> Result<Reply, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    group_row(tx, id)?;
    if !tx.groups_of(&device.id)?.iter().any(|g| g == id) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only members' devices read a group's log",
        ));
    }
    let body = tx
        .message(id, seq)?
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownMessage, format!("no message {seq}")))?;
    Ok(Reply::bytes(MESSAGE_MLS, body))
}

/// `GET /v1/groups/{group}/group-info`: the latest GroupInfo a member published (for external
/// joins: any registered device may ask).
///
/// # Errors
/// The authentication errors, [`ErrorCode::UnknownGroup`], [`ErrorCode::UnknownMessage`].
pub fn get_group_info(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    id: &[u8],
) -> Result<Reply, ApiError> {
    authenticate(tx, ctx, req, None)?;
    group_row(tx, id)?;
    let info = tx
        .group_blobs(id)?
        .group_info
        .ok_or_else(|| ApiError::new(ErrorCode::UnknownMessage, "no GroupInfo was published"))?;
    Ok(Reply::bytes(MESSAGE_MLS, info))
}

/// `POST /v1/groups/{group}/group-info`: a member publishes the GroupInfo of the group's
/// current epoch (after merging its commit), for external joins. A public group checks it
/// against its view (context, tree, signature); a private group checks its epoch.
///
/// # Errors
/// The authentication errors, [`ErrorCode::UnknownGroup`], [`ErrorCode::Forbidden`],
/// [`ErrorCode::MalformedMls`], [`ErrorCode::InvalidMessage`].
pub fn put_group_info(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    id: &[u8],
) -> Result<Reply, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    let row = group_row(tx, id)?;
    if !tx.is_member(id, &device.id)? {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only members publish the GroupInfo",
        ));
    }
    let mut cache = None;
    if row.mode == PUBLIC {
        let group = load_public(tx, ctx, &row)?;
        let validator = BasicCredentialValidator::new();
        group
            .check_group_info(&ctx.env(&validator), &req.body)
            .map_err(|e| invalid(&e))?;
        cache = Some((id.to_vec(), row.state_seq, group));
    } else {
        let Ok(MlsMessage::GroupInfo(gi)) = MlsMessage::from_bytes(&req.body) else {
            return Err(ApiError::new(
                ErrorCode::MalformedMls,
                "the body is a GroupInfo",
            ));
        };
        if gi.group_context.group_id.as_slice() != id || gi.group_context.epoch != row.epoch {
            return Err(ApiError::new(
                ErrorCode::InvalidMessage,
                "the GroupInfo is not of the current epoch",
            ));
        }
    }
    tx.update_group(id, row.epoch, row.next_seq, None, Some(&req.body))?;
    let mut reply = Reply {
        status: 204,
        content_type: "application/json",
        ..Reply::default()
    };
    reply.cache = cache;
    Ok(reply)
}

/// The answer to a handshake message for `epoch` when the group is in `current`.
fn stale(
    tx: &mut dyn DsTx,
    id: &[u8],
    epoch: u64,
    current: u64,
    commit: bool,
) -> Result<ApiError, ApiError> {
    let winner = tx.epoch_winner(id, epoch)?;
    let conflict = Conflict {
        epoch: current,
        winner,
    };
    Ok(if commit && winner.is_some() {
        ApiError::conflict(
            ErrorCode::CommitConflict,
            format!("another commit won epoch {epoch}"),
            conflict,
        )
    } else {
        ApiError::conflict(
            ErrorCode::WrongEpoch,
            format!("the group is in epoch {current}, not {epoch}"),
            conflict,
        )
    })
}

/// What accepting a message changes, besides the log entry.
#[derive(Default)]
struct Effects {
    epoch: u64,
    commit: bool,
    state: Option<Vec<u8>>,
    group: Option<PublicGroup>,
    added: Vec<String>,
    removed: Vec<String>,
}

/// `POST /v1/groups/{group}/messages`: a handshake or application message, then for a commit
/// its Welcome (if it adds members), then the new epoch's GroupInfo (optional).
///
/// # Errors
/// The authentication errors; [`ErrorCode::UnknownGroup`]; [`ErrorCode::MalformedMls`];
/// [`ErrorCode::TooLarge`]; [`ErrorCode::Forbidden`] (not a member); [`ErrorCode::WrongMode`];
/// [`ErrorCode::CommitConflict`] and [`ErrorCode::WrongEpoch`] with the group's epoch and the
/// winner; [`ErrorCode::InvalidMessage`] with the RFC 9420 rule broken.
pub fn post_message(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    id: &[u8],
) -> Result<Reply, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    let row = group_row(tx, id)?;
    let (message, own, rest) = MlsMessage::split_first(&req.body).map_err(malformed)?;
    let member = tx.is_member(id, &device.id)?;
    let not_member = || {
        ApiError::new(
            ErrorCode::Forbidden,
            "this device is not a member of the group",
        )
    };
    let seq = row.next_seq;
    let fx = match &message {
        MlsMessage::PublicMessage(pm) => {
            if row.mode != PUBLIC {
                return Err(ApiError::new(
                    ErrorCode::WrongMode,
                    "this group's handshake messages are PrivateMessages",
                ));
            }
            if pm.content.group_id.as_slice() != id {
                return Err(ApiError::new(
                    ErrorCode::InvalidMessage,
                    "the message is for another group",
                ));
            }
            let commit = match &pm.content.body {
                FramedContentBody::Commit(_) => true,
                FramedContentBody::Proposal(_) => false,
                FramedContentBody::Application(_) => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidMessage,
                        "application data travels as PrivateMessage (RFC 9420 §6.2)",
                    ));
                }
            };
            let external = matches!(
                pm.content.sender,
                Sender::NewMemberCommit | Sender::NewMemberProposal | Sender::External(_)
            );
            if !member && !external {
                return Err(not_member());
            }
            if pm.content.epoch != row.epoch {
                return Err(stale(tx, id, pm.content.epoch, row.epoch, commit)?);
            }
            let mut group = load_public(tx, ctx, &row)?;
            // The devices of the leaves this commit may remove, looked up before the tree changes.
            let mut leaving: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
            if let FramedContentBody::Commit(c) = &pm.content.body {
                for p in c.proposals.as_slice() {
                    let removed = match p {
                        ProposalOrRef::Proposal(Proposal::Remove(r)) => Some(r.removed),
                        ProposalOrRef::Reference(r) => {
                            group
                                .pending_proposals()
                                .find_map(|(_, p, reference)| match p {
                                    Proposal::Remove(rm) if reference == r.as_slice() => {
                                        Some(rm.removed)
                                    }
                                    _ => None,
                                })
                        }
                        ProposalOrRef::Proposal(_) => None,
                    };
                    if let Some(leaf) = removed
                        && let Some(m) = LeafIndex::new(leaf).and_then(|l| group.member(l))
                    {
                        leaving.insert(leaf, m.signature_key.as_bytes().to_vec());
                    }
                }
            }
            let validator = BasicCredentialValidator::new();
            let env = ctx.env(&validator);
            let processed = group.process_message(&env, own).map_err(|e| invalid(&e))?;
            let mut fx = Effects {
                epoch: group.epoch(),
                ..Effects::default()
            };
            if let PublicProcessed::Commit(summary) = processed {
                fx.commit = true;
                for leaf in &summary.removed {
                    if let Some(key) = leaving.get(&leaf.value())
                        && let Some(d) = tx.device_by_key(key)?
                    {
                        fx.removed.push(d);
                    }
                }
                for leaf in &summary.added {
                    if let Some(m) = group.member(*leaf)
                        && let Some(d) = tx.device_by_key(m.signature_key.as_bytes())?
                    {
                        fx.added.push(d);
                    }
                }
                if matches!(summary.committer, Some(Sender::NewMemberCommit)) {
                    fx.added.push(device.id.clone());
                }
            }
            fx.state = Some(group.to_bytes().map_err(|e| invalid(&e))?);
            fx.group = Some(group);
            fx
        }
        MlsMessage::PrivateMessage(pm) => {
            if pm.group_id.as_slice() != id {
                return Err(ApiError::new(
                    ErrorCode::InvalidMessage,
                    "the message is for another group",
                ));
            }
            if !member {
                return Err(not_member());
            }
            let content = pm.content_type;
            if content == ContentType::Application {
                if own.len() > ctx.limits.max_application_message {
                    return Err(ApiError::new(
                        ErrorCode::TooLarge,
                        format!(
                            "an application message has at most {} bytes",
                            ctx.limits.max_application_message
                        ),
                    ));
                }
                if pm.epoch > row.epoch
                    || pm.epoch.saturating_add(APPLICATION_EPOCH_LAG) < row.epoch
                {
                    return Err(stale(tx, id, pm.epoch, row.epoch, false)?);
                }
                Effects {
                    epoch: row.epoch,
                    ..Effects::default()
                }
            } else {
                if row.mode != PRIVATE {
                    return Err(ApiError::new(
                        ErrorCode::WrongMode,
                        "this group's handshake messages are PublicMessages",
                    ));
                }
                let commit = content == ContentType::Commit;
                if pm.epoch != row.epoch {
                    return Err(stale(tx, id, pm.epoch, row.epoch, commit)?);
                }
                let mut fx = Effects {
                    epoch: row.epoch,
                    commit,
                    ..Effects::default()
                };
                if commit {
                    fx.epoch = row.epoch.saturating_add(1);
                    for d in req
                        .removes
                        .as_deref()
                        .unwrap_or_default()
                        .split(',')
                        .filter(|s| !s.is_empty())
                    {
                        let d = DeviceId::parse(d.trim()).map_err(|e| {
                            ApiError::new(ErrorCode::BadRequest, format!("{REMOVES_HEADER}: {e}"))
                        })?;
                        fx.removed.push(d.to_string());
                    }
                }
                fx
            }
        }
        _ => {
            return Err(ApiError::new(
                ErrorCode::MalformedMls,
                "the body starts with a group message (PublicMessage or PrivateMessage)",
            ));
        }
    };

    // What follows a commit: its Welcome, then the new GroupInfo.
    let mut rest = rest;
    let mut welcome = None;
    let mut group_info = None;
    while !rest.is_empty() {
        let (next, bytes, after) = MlsMessage::split_first(rest).map_err(malformed)?;
        rest = after;
        match next {
            MlsMessage::Welcome(w) if fx.commit && welcome.is_none() && group_info.is_none() => {
                welcome = Some((w, bytes))
            }
            MlsMessage::GroupInfo(_) if fx.commit && group_info.is_none() => {
                group_info = Some(bytes)
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::MalformedMls,
                    "after a commit: at most its Welcome, then a GroupInfo",
                ));
            }
        }
    }
    if let Some(info) = group_info {
        match &fx.group {
            Some(group) => {
                let validator = BasicCredentialValidator::new();
                group
                    .check_group_info(&ctx.env(&validator), info)
                    .map_err(|e| invalid(&e))?;
            }
            None => {
                let Ok(MlsMessage::GroupInfo(gi)) = MlsMessage::from_bytes(info) else {
                    return Err(ApiError::new(ErrorCode::MalformedMls, "the GroupInfo"));
                };
                if gi.group_context.group_id.as_slice() != id || gi.group_context.epoch != fx.epoch
                {
                    return Err(ApiError::new(
                        ErrorCode::InvalidMessage,
                        "the GroupInfo is not of the new epoch",
                    ));
                }
            }
        }
    }
    // Each new member's device once (a set: a Welcome may name 50,000 of them).
    let mut welcomed = Vec::new();
    if let Some((w, bytes)) = &welcome {
        tx.store_welcome(id, seq, bytes, ctx.now)?;
        let mut seen = std::collections::BTreeSet::new();
        for secret in w.secrets.as_slice() {
            if let Some(d) = tx.key_package_owner(secret.new_member.as_slice())?
                && seen.insert(d.clone())
            {
                tx.push_welcome(&d, id, seq, ctx.now)?;
                welcomed.push(d);
            }
        }
    }
    let handshake = !matches!(&message, MlsMessage::PrivateMessage(pm) if pm.content_type == ContentType::Application);
    tx.append_message(id, seq, &device.id, handshake, fx.epoch, own, ctx.now)?;
    if fx.commit {
        tx.set_epoch_winner(id, row.epoch, seq)?;
    }
    for d in &fx.removed {
        tx.end_member(id, d, seq)?;
    }
    // Members joining at this commit read from the next message on (the Welcome brings them in).
    let removed: std::collections::BTreeSet<&String> = fx.removed.iter().collect();
    let mut added = std::collections::BTreeSet::new();
    for d in fx.added.iter().chain(&welcomed) {
        if !removed.contains(d) && added.insert(d) {
            tx.add_member(id, d, seq)?;
        }
    }
    let next_seq = seq.saturating_add(1);
    tx.update_group(id, fx.epoch, next_seq, fx.state.as_deref(), group_info)?;
    let mut reply = Reply::json(&Accepted {
        seq,
        epoch: fx.epoch,
    })?;
    reply.wake_groups.push(id.to_vec());
    reply.wake_devices = welcomed;
    reply.wake_devices.extend(fx.added);
    reply.cache = fx.group.map(|g| (id.to_vec(), seq, g));
    Ok(reply)
}
