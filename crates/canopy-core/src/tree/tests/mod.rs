//! Unit, rule and property tests of the ratchet tree and TreeKEM.
//!
//! Test code indexes and counts freely: the tree module's arithmetic lint is for library code.
#![allow(clippy::arithmetic_side_effects, clippy::cast_possible_truncation)]

mod props;
mod rules;
mod sim;
mod treekem;
