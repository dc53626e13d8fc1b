//! The layers below [`group`](crate::group), for what the paved path does not cover:
//! test-vector runners, interop harnesses, tools that build trees or messages by hand. Their
//! APIs follow the RFC closely and change more often than the group API; an application does
//! not need them.

#[path = "codec/mod.rs"]
pub mod codec;
#[path = "crypto.rs"]
pub mod crypto;
#[path = "framing/mod.rs"]
pub mod framing;
#[path = "schedule/mod.rs"]
pub mod schedule;
#[path = "tree/mod.rs"]
pub mod tree;
