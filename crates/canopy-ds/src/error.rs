//! [`ApiError`]: every refusal, as an HTTP status and a JSON [`ErrorBody`] with a stable code.
//! Internal failures are logged and answered with [`ErrorCode::Internal`] only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use canopy_ds_api::error::Conflict;
use canopy_ds_api::{ErrorBody, ErrorCode};
use canopy_store::StoreError;

/// A refusal (or a failure) of a request.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ApiError {
    /// The machine-readable reason.
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// Where the group is, for epoch conflicts.
    pub conflict: Option<Conflict>,
}

impl ApiError {
    /// A refusal with `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            conflict: None,
        }
    }

    /// A refusal naming the group's epoch and the epoch's winning commit.
    pub fn conflict(code: ErrorCode, message: impl Into<String>, conflict: Conflict) -> Self {
        Self {
            conflict: Some(conflict),
            ..Self::new(code, message)
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code,
            message: self.message.clone(),
            conflict: self.conflict,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage");
        Self::new(ErrorCode::Internal, "storage failure")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
