//! The fuzz entry points (STYLE.md B.5, issue 10 "Fuzzing in the repo").
//!
//! Each cargo-fuzz target in `fuzz/fuzz_targets/` is a one-line call of one function here;
//! `tests/fuzz_corpus.rs` replays every file of `fuzz/corpus/<target>/` and
//! `fuzz/artifacts/<target>/` through the same functions on stable. A function panics when
//! an invariant breaks (that is the finding) and returns normally otherwise; inputs the
//! library rejects with an error are fine.
//!
//! | target | input | checks |
//! |---|---|---|
//! | [`decode_message`] | MLSMessage | exact round trip; a KeyPackage is validated |
//! | [`decode_key_package`] | KeyPackage | exact round trip; validation as is and re-signed |
//! | [`decode_welcome`] | Welcome | exact round trip |
//! | [`decode_group_info`] | GroupInfo | exact round trip; tree views; an external join, re-signed |
//! | [`decode_ratchet_tree`] | RatchetTree | exact round trip; tree built, its wire form unchanged, validation with re-signed leaves |
//! | [`decode_group_state`] | state record | loading; the record written back is the one read; sending and committing do not panic |
//! | [`join_from_welcome`] | mode byte + Welcome or GroupInfo | joining; a mutated Welcome joins only to the original group |
//! | [`process_message`] | snapshot byte + steps | see [`process`](self::process_message): state unchanged on error, accepted content was signed |
//! | [`pq_kem`] | mode byte + key, KEM output and ciphertext, or ikm | on every post-quantum KEM: an accepted key can be sealed to, opening never panics, a derived pair fits together, seal then open round-trips |
//! | [`validate_x509`] | mode byte + x509 credential body + key | `X509Validator` at three times: no panic; an accepted chain is within the limit, starts with its end-entity certificate, has an identity |
//!
//! The inputs are built with the [`InsecureFuzzProvider`](crate::InsecureFuzzProvider);
//! [`seeds`] writes valid inputs for every target.

mod decode;
mod join;
mod mutate;
mod pq;
mod process;
pub mod seeds;
mod x509;

pub use decode::{
    decode_group_info, decode_group_state, decode_key_package, decode_message, decode_ratchet_tree,
    decode_welcome,
};
pub use join::{FIX_CONFIRMATION_TAG, FIX_SIGNATURE, FIX_TREE_HASH, join_from_welcome};
pub use pq::pq_kem;
pub use process::{AS_IS, MAX_STEPS, MERGE, MUTATE, RAW, RESIGN, process_message};
pub use x509::validate_x509;

/// A fuzz entry point.
pub type Target = fn(&[u8]);

/// Every target: its name (the cargo-fuzz target and corpus directory) and entry point.
pub const TARGETS: &[(&str, Target)] = &[
    ("decode_message", decode_message),
    ("decode_key_package", decode_key_package),
    ("decode_welcome", decode_welcome),
    ("decode_group_info", decode_group_info),
    ("decode_ratchet_tree", decode_ratchet_tree),
    ("decode_group_state", decode_group_state),
    ("join_from_welcome", join_from_welcome),
    ("process_message", process_message),
    ("validate_x509", validate_x509),
    ("pq_kem", pq_kem),
];
