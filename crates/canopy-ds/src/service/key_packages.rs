//! The KeyPackage directory (RFC 9750 §5.1): devices publish batches per suite; a claim takes
//! one of each of a user's devices and consumes it, except a device's last-resort KeyPackage,
//! which is kept; claims are rate-limited (KeyPackage exhaustion, RFC 9750 §8).

use canopy_core::key_package::{
    BasicCredentialValidator, GroupRequirements, LifetimePolicy, validate_key_package,
};
use canopy_core::wire::ProtocolVersion;
use canopy_core::{Credential, MlsMessage};
use canopy_crypto::CryptoProvider;
use canopy_ds_api::types::{KeyPackageCount, KeyPackageCounts, Published};
use canopy_ds_api::{ErrorCode, MESSAGE_MLS};
use canopy_store::ds::DsTx;

use super::{Ctx, Reply, Request};
use crate::ApiError;
use crate::auth::authenticate;
use crate::rate::Class;

/// `POST /v1/key-packages[?last_resort=true]`: every KeyPackage of the body, each valid
/// (RFC 9420 §10.1, with the KeyPackage's own suite), signed by this device's key and with a
/// Basic credential naming it. All or none are stored.
///
/// # Errors
/// The authentication errors; [`ErrorCode::TooLarge`] (a KeyPackage or the batch);
/// [`ErrorCode::MalformedMls`] (not KeyPackages); [`ErrorCode::InvalidMessage`] (a rule of
/// §10.1, or a key or credential that is not the device's);
/// [`ErrorCode::TooManyKeyPackages`].
pub fn publish_key_packages(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
) -> Result<Reply, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    let last_resort = match req.query("last_resort") {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "last_resort is true or false",
            ));
        }
    };
    let validator = BasicCredentialValidator::new();
    let mut rest = req.body.as_slice();
    let mut batch = Vec::new();
    while !rest.is_empty() {
        if batch.len() >= ctx.limits.max_key_package_batch {
            return Err(ApiError::new(
                ErrorCode::TooLarge,
                format!(
                    "at most {} KeyPackages per request",
                    ctx.limits.max_key_package_batch
                ),
            ));
        }
        let (message, own, after) = MlsMessage::split_first(rest).map_err(|e| {
            ApiError::new(
                ErrorCode::MalformedMls,
                format!("KeyPackage {}: {e}", batch.len()),
            )
        })?;
        rest = after;
        if own.len() > ctx.limits.max_key_package {
            return Err(ApiError::new(
                ErrorCode::TooLarge,
                format!(
                    "a KeyPackage has at most {} bytes",
                    ctx.limits.max_key_package
                ),
            ));
        }
        let MlsMessage::KeyPackage(kp) = message else {
            return Err(ApiError::new(
                ErrorCode::MalformedMls,
                "the body holds KeyPackages only",
            ));
        };
        let suite = kp.cipher_suite;
        let ours = kp.leaf_node.signature_key.as_bytes() == device.signature_key.as_slice()
            && matches!(&kp.leaf_node.credential, Credential::Basic { identity } if identity.as_slice() == device.id.as_bytes());
        if !ours {
            return Err(ApiError::new(
                ErrorCode::InvalidMessage,
                "a KeyPackage must carry this device's signature key and a Basic credential with its id",
            ));
        }
        let ops = ctx.crypto.suite(suite).map_err(|_| {
            ApiError::new(
                ErrorCode::InvalidMessage,
                format!("cipher suite {} is not supported", suite.0),
            )
        })?;
        let requirements = GroupRequirements {
            version: ProtocolVersion::MLS10,
            extensions: None,
            provider: None,
        };
        let lifetime = LifetimePolicy {
            now: Some(ctx.now),
            max_total: None,
        };
        let valid =
            validate_key_package(ops, *kp, &requirements, &lifetime, &validator).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidMessage,
                    format!("KeyPackage {}: {e}", batch.len()),
                )
            })?;
        batch.push((suite.0, valid.reference().as_bytes().to_vec(), own.to_vec()));
    }
    if batch.is_empty() {
        return Err(ApiError::new(
            ErrorCode::MalformedMls,
            "no KeyPackage in the body",
        ));
    }
    let mut accepted = 0u32;
    for (suite, reference, body) in &batch {
        if tx.insert_key_package(&device.id, *suite, reference, last_resort, body)? {
            accepted = accepted.saturating_add(1);
        }
    }
    for stock in tx.key_package_stock(&device.id)? {
        if stock.remaining > ctx.limits.max_key_packages_per_device {
            return Err(ApiError::new(
                ErrorCode::TooManyKeyPackages,
                format!(
                    "a device holds at most {} KeyPackages per suite",
                    ctx.limits.max_key_packages_per_device
                ),
            ));
        }
    }
    Reply::json(&Published { accepted })
}

/// `GET /v1/key-packages/count`.
///
/// # Errors
/// The authentication errors.
pub fn count_key_packages(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
) -> Result<Reply, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    let suites = tx
        .key_package_stock(&device.id)?
        .into_iter()
        .map(|s| KeyPackageCount {
            suite: s.suite,
            remaining: s.remaining,
            last_resort: s.last_resort,
        })
        .collect();
    Reply::json(&KeyPackageCounts { suites })
}

/// `POST /v1/users/{user}/key-packages/claim?suite=N`: one KeyPackage of each of the user's
/// devices that has one of suite N, consumed unless last-resort, concatenated.
///
/// # Errors
/// The authentication errors; [`ErrorCode::RateLimited`]; [`ErrorCode::BadRequest`] (no
/// suite); [`ErrorCode::UnknownUser`]; [`ErrorCode::NoKeyPackages`] (no device has one).
pub fn claim_key_packages(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    user: &str,
) -> Result<Reply, ApiError> {
    let device = authenticate(tx, ctx, req, None)?;
    let per_second = f64::from(ctx.limits.claims_per_minute) / 60.0;
    if !ctx.rate.allow(
        &device.id,
        Class::Claim,
        per_second,
        f64::from(ctx.limits.claims_per_minute),
    ) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many KeyPackage claims; retry in a minute",
        ));
    }
    let suite: u16 = req
        .query("suite")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "?suite=N is required"))?;
    let devices = tx.devices_of(user)?;
    if devices.is_empty() {
        return Err(ApiError::new(
            ErrorCode::UnknownUser,
            format!("no user {user}"),
        ));
    }
    let mut body = Vec::new();
    for d in &devices {
        if let Some(kp) = tx.take_key_package(&d.id, suite)? {
            body.extend_from_slice(&kp);
        }
    }
    if body.is_empty() {
        return Err(ApiError::new(
            ErrorCode::NoKeyPackages,
            format!("no device of {user} has a KeyPackage of suite {suite}"),
        ));
    }
    Ok(Reply::bytes(MESSAGE_MLS, body))
}
