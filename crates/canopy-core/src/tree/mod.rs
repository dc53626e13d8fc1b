//! The ratchet tree (RFC 9420 §4, §7): for now, the array-based tree math of Appendix C.
//!
//! Invariants: node and leaf indices are newtypes that bound their values at construction,
//! so no tree computation can overflow or panic (`clippy::arithmetic_side_effects` is on for
//! this module and everything below it).
#![warn(clippy::arithmetic_side_effects)]

pub mod math;
