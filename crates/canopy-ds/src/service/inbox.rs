//! A device's inbox: its Welcomes, then its groups' messages after its cursors; an ack moves
//! the cursors forward.

use canopy_ds_api::types::AckRequest;
use canopy_ds_api::{DELIVERIES, Delivery, DeliveryKind, ErrorCode};
use canopy_store::ds::{DsTx, InboxEntry};

use super::{Ctx, Reply, Request, hex_segment};
use crate::ApiError;
use crate::auth::authenticate;

/// An inbox read: the reply, and what a long poll waits on when it is empty.
#[derive(Debug)]
pub struct InboxRead {
    /// The deliveries (possibly none).
    pub reply: Reply,
    /// How many deliveries.
    pub count: usize,
    /// The device.
    pub device: String,
    /// Its groups.
    pub groups: Vec<Vec<u8>>,
    /// How many deliveries at most.
    pub max: u32,
}

/// The deliveries of `device`, encoded.
///
/// # Errors
/// [`ErrorCode::Internal`] if the database fails.
pub fn read_inbox_of(
    tx: &mut dyn DsTx,
    device: &str,
    max: u32,
) -> Result<(Reply, usize), ApiError> {
    let entries = tx.inbox(device, max)?;
    let mut body = Vec::new();
    for e in &entries {
        let d = match e {
            InboxEntry::Welcome { seq, body } => Delivery {
                kind: DeliveryKind::Welcome,
                group_id: Vec::new(),
                seq: *seq,
                message: body.clone(),
            },
            InboxEntry::Group {
                group_id,
                seq,
                body,
            } => Delivery {
                kind: DeliveryKind::Group,
                group_id: group_id.clone(),
                seq: *seq,
                message: body.clone(),
            },
        };
        d.encode(&mut body);
    }
    Ok((Reply::bytes(DELIVERIES, body), entries.len()))
}

/// `GET /v1/inbox?max=N`: authenticated, then [`read_inbox_of`]. `POST /v1/inbox` with an
/// [`AckRequest`] body acknowledges first, in the same transaction.
///
/// # Errors
/// The authentication errors; [`ErrorCode::BadRequest`] for a bad `max`.
pub fn read_inbox(tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request) -> Result<InboxRead, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    if req.method == "POST" {
        // Acknowledge, then read: one request per batch for a device that keeps up.
        apply_ack(tx, ctx, &device.id, &req.body)?;
    }
    let max = match req.query("max") {
        None => ctx.limits.max_inbox_batch,
        Some(m) => m
            .parse::<u32>()
            .ok()
            .filter(|m| *m > 0)
            .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "max is a positive number"))?
            .min(ctx.limits.max_inbox_batch),
    };
    let (reply, count) = read_inbox_of(tx, &device.id, max)?;
    let groups = tx.groups_of(&device.id)?;
    Ok(InboxRead {
        reply,
        count,
        device: device.id,
        groups,
        max,
    })
}

/// `POST /v1/inbox/ack`.
///
/// # Errors
/// The authentication errors; [`ErrorCode::BadRequest`] (JSON, group ids, too many cursors).
pub fn ack(tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request) -> Result<Reply, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    apply_ack(tx, ctx, &device.id, &req.body)?;
    Ok(Reply {
        status: 204,
        content_type: "application/json",
        ..Reply::default()
    })
}

/// Moves `device`'s cursors as the [`AckRequest`] in `body` says.
fn apply_ack(tx: &mut dyn DsTx, ctx: &Ctx<'_>, device: &str, body: &[u8]) -> Result<(), ApiError> {
    let body: AckRequest = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("the JSON body: {e}")))?;
    if body.groups.len() > usize::try_from(ctx.limits.max_groups_per_device).unwrap_or(usize::MAX) {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            "more cursors than groups a device may be in",
        ));
    }
    for c in &body.groups {
        let id = hex_segment(&c.group_id, "group_id")?;
        tx.ack_group(device, &id, c.seq)?;
    }
    if let Some(w) = body.welcomes {
        tx.ack_welcomes(device, w)?;
    }
    Ok(())
}
