//! Unit, rule and property tests of the ratchet tree and TreeKEM.

mod props;
mod rules;
mod sim;
mod treekem;
