//! Users and devices: registration binds a user name to its first device's signature key; a
//! further device needs a statement signed by an existing device of the user.

use canopy_crypto::{CipherSuite, CryptoProvider};
use canopy_ds_api::types::{AddDeviceRequest, DeviceInfo, DeviceList, RegisterRequest};
use canopy_ds_api::{ErrorCode, hex, names};
use canopy_store::ds::{DeviceRow, DsTx};

use super::{Ctx, Reply, Request};
use crate::ApiError;
use crate::auth::{authenticate, verify};

fn json<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::new(ErrorCode::BadRequest, format!("the JSON body: {e}")))
}

/// A device row from a request's fields, the key decoded and its suite supported.
fn new_device(
    ctx: &Ctx<'_>,
    device: &names::DeviceId,
    suite: u16,
    key: &str,
) -> Result<DeviceRow, ApiError> {
    ctx.crypto.suite(CipherSuite(suite)).map_err(|_| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("cipher suite {suite} is not supported"),
        )
    })?;
    let signature_key = hex::decode(key)
        .filter(|k| !k.is_empty() && k.len() <= 256)
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "signature_key is not a hex key"))?;
    Ok(DeviceRow {
        id: device.to_string(),
        user: device.user().to_owned(),
        suite,
        signature_key,
    })
}

fn info(d: &DeviceRow) -> Result<DeviceInfo, ApiError> {
    Ok(DeviceInfo {
        device: names::DeviceId::parse(&d.id)
            .map_err(|_| ApiError::new(ErrorCode::Internal, "a stored device id"))?,
        suite: d.suite,
        signature_key: hex::encode(&d.signature_key),
    })
}

/// `POST /v1/users`.
///
/// # Errors
/// [`ErrorCode::BadRequest`], the authentication errors, [`ErrorCode::UserExists`],
/// [`ErrorCode::DeviceExists`] (its key is another device's).
pub fn register(tx: &mut dyn DsTx, ctx: &Ctx<'_>, req: &Request) -> Result<Reply, ApiError> {
    let body: RegisterRequest = json(req)?;
    let device = new_device(ctx, &body.device, body.suite, &body.signature_key)?;
    authenticate(tx, ctx, req, Some(&device))?;
    if !tx.insert_user(&device.user, ctx.now)? {
        return Err(ApiError::new(
            ErrorCode::UserExists,
            format!("user {} exists", device.user),
        ));
    }
    if !tx.insert_device(&device, ctx.now)? {
        return Err(ApiError::new(
            ErrorCode::DeviceExists,
            "this signature key belongs to another device",
        ));
    }
    Reply::json(&info(&device)?)
}

/// `POST /v1/users/{user}/devices`.
///
/// # Errors
/// [`ErrorCode::BadRequest`], [`ErrorCode::Forbidden`] (a device of another user, or an
/// endorsement by one), [`ErrorCode::UnknownDevice`], [`ErrorCode::BadSignature`] (request or
/// endorsement), [`ErrorCode::TooManyDevices`], [`ErrorCode::DeviceExists`].
pub fn add_device(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    user: &str,
) -> Result<Reply, ApiError> {
    let body: AddDeviceRequest = json(req)?;
    if body.device.user() != user || body.endorsed_by.user() != user {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "a device is added to its own user by a device of that user",
        ));
    }
    let device = new_device(ctx, &body.device, body.suite, &body.signature_key)?;
    authenticate(tx, ctx, req, Some(&device))?;
    let endorser = tx.device(&body.endorsed_by.to_string())?.ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownDevice,
            format!("no device {}", body.endorsed_by),
        )
    })?;
    let statement =
        canopy_ds_api::auth::endorsement_content(&device.id, device.suite, &device.signature_key);
    let signature = hex::decode(&body.endorsement)
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "endorsement is not hex"))?;
    verify(
        ctx.crypto,
        endorser.suite,
        &endorser.signature_key,
        &statement,
        &signature,
    )
    .map_err(|_| {
        ApiError::new(
            ErrorCode::BadSignature,
            "the endorsement does not verify under the endorsing device's key",
        )
    })?;
    if tx.devices_of(user)?.len() >= ctx.limits.max_devices_per_user {
        return Err(ApiError::new(
            ErrorCode::TooManyDevices,
            format!(
                "a user has at most {} devices",
                ctx.limits.max_devices_per_user
            ),
        ));
    }
    if !tx.insert_device(&device, ctx.now)? {
        return Err(ApiError::new(
            ErrorCode::DeviceExists,
            format!(
                "device {} exists, or its key is another device's",
                device.id
            ),
        ));
    }
    Reply::json(&info(&device)?)
}

/// `GET /v1/users/{user}/devices` (any registered device may ask: inviting a user adds all of
/// its devices).
///
/// # Errors
/// The authentication errors, [`ErrorCode::UnknownUser`].
pub fn list_devices(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    user: &str,
) -> Result<Reply, ApiError> {
    authenticate(tx, ctx, req, None)?;
    let devices = tx.devices_of(user)?;
    if devices.is_empty() {
        return Err(ApiError::new(
            ErrorCode::UnknownUser,
            format!("no user {user}"),
        ));
    }
    Reply::json(&DeviceList {
        devices: devices.iter().map(info).collect::<Result<_, _>>()?,
    })
}
