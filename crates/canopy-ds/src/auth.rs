//! Request authentication ([`canopy_ds_api::auth`]): the signature of the device named by the
//! headers, under its registered key, a timestamp within the window, and a nonce it has not
//! used within the window.

use canopy_crypto::{CipherSuite, CryptoProvider, SignaturePublicKey};
use canopy_ds_api::auth::{NONCE_LEN, RequestSignature, SIGNATURE_WINDOW_SECS};
use canopy_ds_api::{DeviceId, ErrorCode};
use canopy_store::ds::{DeviceRow, DsTx};

use crate::ApiError;
use crate::service::{Ctx, Request};

/// The signature headers of a request, parsed.
#[derive(Clone, Debug)]
pub struct SignedHeaders {
    /// `user/device`.
    pub device: DeviceId,
    /// Seconds since the Unix epoch.
    pub timestamp: u64,
    /// The nonce, as sent (hex).
    pub nonce: String,
    /// The signature.
    pub signature: Vec<u8>,
}

impl SignedHeaders {
    /// Parses the four headers (`get` looks one up by name).
    ///
    /// # Errors
    /// [`ErrorCode::Unauthenticated`] if one is missing or malformed.
    pub fn parse<'h>(get: impl Fn(&str) -> Option<&'h str>) -> Result<Self, ApiError> {
        use canopy_ds_api::auth::{DEVICE, NONCE, SIGNATURE, TIMESTAMP};
        let missing = |h: &str| {
            ApiError::new(
                ErrorCode::Unauthenticated,
                format!("missing or malformed {h} header"),
            )
        };
        let device = get(DEVICE)
            .and_then(|d| DeviceId::parse(d).ok())
            .ok_or_else(|| missing(DEVICE))?;
        let timestamp = get(TIMESTAMP)
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| missing(TIMESTAMP))?;
        let nonce = get(NONCE)
            .filter(|n| canopy_ds_api::hex::decode(n).is_some_and(|b| b.len() == NONCE_LEN))
            .ok_or_else(|| missing(NONCE))?
            .to_ascii_lowercase();
        let signature = get(SIGNATURE)
            .and_then(canopy_ds_api::hex::decode)
            .filter(|s| !s.is_empty() && s.len() <= 512)
            .ok_or_else(|| missing(SIGNATURE))?;
        Ok(Self {
            device,
            timestamp,
            nonce,
            signature,
        })
    }
}

/// Verifies `signature` over `content` with `key` of `suite`'s signature scheme.
///
/// # Errors
/// [`ErrorCode::BadSignature`].
pub fn verify(
    crypto: &dyn CryptoProvider,
    suite: u16,
    key: &[u8],
    content: &[u8],
    signature: &[u8],
) -> Result<(), ApiError> {
    let ops = crypto
        .suite(CipherSuite(suite))
        .map_err(|_| ApiError::new(ErrorCode::BadSignature, "unsupported cipher suite"))?;
    ops.verify(&SignaturePublicKey::new(key.to_vec()), content, signature)
        .map_err(|_| {
            ApiError::new(
                ErrorCode::BadSignature,
                "the request's signature does not verify",
            )
        })
}

/// What the request's signature covers ([`RequestSignature::signed_content`]).
pub fn signed_content(req: &Request, headers: &SignedHeaders) -> Vec<u8> {
    RequestSignature {
        method: &req.method,
        path_and_query: &req.path_and_query,
        device: &headers.device.to_string(),
        timestamp: headers.timestamp,
        nonce: &headers.nonce,
        body: &req.body,
    }
    .signed_content()
}

/// Authenticates `req` as the device its headers name: registered (or `claimed`, for a
/// registration, whose key is in the body), signature valid, timestamp within the window,
/// nonce fresh. The nonce is recorded in `tx`.
///
/// # Errors
/// [`ErrorCode::Unauthenticated`], [`ErrorCode::Expired`], [`ErrorCode::UnknownDevice`],
/// [`ErrorCode::BadSignature`], [`ErrorCode::Replayed`].
pub fn authenticate(
    tx: &mut dyn DsTx,
    ctx: &Ctx<'_>,
    req: &Request,
    claimed: Option<&DeviceRow>,
) -> Result<DeviceRow, ApiError> {
    let headers = req.signed.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unauthenticated,
            req.signed_error
                .clone()
                .unwrap_or_else(|| "the request is not signed".into()),
        )
    })?;
    if headers.timestamp.abs_diff(ctx.now) > SIGNATURE_WINDOW_SECS {
        return Err(ApiError::new(
            ErrorCode::Expired,
            format!("the request's time is more than {SIGNATURE_WINDOW_SECS} s from the server's"),
        ));
    }
    let id = headers.device.to_string();
    let device = match claimed {
        Some(d) if d.id == id => d.clone(),
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "the request must be signed by the device it registers",
            ));
        }
        None => tx
            .device(&id)?
            .ok_or_else(|| ApiError::new(ErrorCode::UnknownDevice, format!("no device {id}")))?,
    };
    // Checked before the transaction under this very key, or checked now.
    if req.verified_key.as_deref() != Some(device.signature_key.as_slice()) {
        verify(
            ctx.crypto,
            device.suite,
            &device.signature_key,
            &signed_content(req, headers),
            &headers.signature,
        )?;
    }
    if claimed.is_none() {
        ctx.devices
            .insert(&device.id, device.suite, &device.signature_key);
    }
    let rps = f64::from(ctx.limits.requests_per_second);
    if !ctx.rate.allow(&id, crate::rate::Class::Request, rps, rps) {
        return Err(ApiError::new(
            ErrorCode::RateLimited,
            "too many requests from this device",
        ));
    }
    let expires = headers.timestamp.saturating_add(SIGNATURE_WINDOW_SECS);
    if !tx.use_nonce(&id, headers.nonce.as_bytes(), expires)? {
        return Err(ApiError::new(
            ErrorCode::Replayed,
            "this nonce was already used",
        ));
    }
    Ok(device)
}
