//! Canopy: a sans-IO implementation of the Messaging Layer Security protocol (RFC 9420).
#![forbid(unsafe_code)]

pub mod codec;
pub mod crypto;
pub mod framing;
pub mod group;
pub mod join;
pub mod key_package;
pub mod schedule;
pub mod tree;
pub mod wire;
