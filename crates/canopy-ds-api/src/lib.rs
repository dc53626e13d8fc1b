//! The contract of Canopy's Delivery Service (RFC 9750 §5), shared by the server
//! (`canopy-ds`) and its clients: route paths ([`routes`]), how a request is signed by a
//! device ([`auth`]), the JSON bodies ([`types`]), the machine-readable error codes
//! ([`error`]) and the binary framing of a batch of deliveries ([`delivery`]).
//!
//! MLS objects travel as raw `message/mls` bodies (RFC 9420 §17.10), never wrapped in JSON.
//! A body of several MLS messages (a KeyPackage batch, a commit with its Welcome) is their
//! concatenation: every `MLSMessage` is self-delimiting.
//!
//! The crate depends on `serde` only, so that a client in another codebase can mirror it.
#![forbid(unsafe_code)]

pub mod auth;
pub mod delivery;
pub mod error;
pub mod hex;
pub mod names;
pub mod routes;
pub mod types;

pub use auth::{RequestSignature, SIGNATURE_WINDOW_SECS};
pub use delivery::{Delivery, DeliveryKind};
pub use error::{ErrorBody, ErrorCode};
pub use names::{DeviceId, NameError};

/// The API version, the first segment of every route (`/v1/...`).
pub const API_VERSION: &str = "v1";

/// The media type of MLS bodies (RFC 9420 §17.10).
pub const MESSAGE_MLS: &str = "message/mls";

/// The media type of a batch of deliveries ([`delivery`]).
pub const DELIVERIES: &str = "application/vnd.canopy.deliveries";
