//! Test support for Canopy (STYLE.md B.1, B.5): never a normal dependency of another crate.
//!
//! - [`DeterministicProvider`]: the real algorithms of `canopy-crypto-rustcrypto` with a
//!   seeded random generator, so that a test (key generation included) replays exactly.
//! - [`InsecureFuzzProvider`]: cheap, deterministic stand-ins for signatures, AEAD and HPKE
//!   that keep every integrity check meaningful, so that a fuzzer reaches deep protocol
//!   states. It is insecure by design; `tests/architecture.rs` checks that no library crate
//!   depends on this crate.
//! - [`fuzz`]: the entry points of the cargo-fuzz targets in `fuzz/`, also replayed on
//!   stable by `tests/fuzz_corpus.rs`.
//! - [`world`]: the deterministic groups and messages the fuzz targets start from.
#![forbid(unsafe_code)]

mod deterministic;
pub mod fuzz;
mod insecure;
pub mod world;

pub use deterministic::DeterministicProvider;
pub use insecure::InsecureFuzzProvider;
