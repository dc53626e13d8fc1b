//! Unit tests of the ratchet tree.
