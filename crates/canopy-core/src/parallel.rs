//! When work goes to the rayon pool (the `parallel` feature): the thresholds in one place.
//!
//! A group operation is called from the application's thread, which is not one of the pool's,
//! so every parallel section injects a job, wakes a sleeping worker (which wakes the next),
//! and blocks the caller until the last one finishes. On the 2-vCPU virtual machine the
//! benchmarks run on, one `rayon::join` of two halves costs 30–60 µs more than running them in
//! sequence while the pool is busy, and 150–250 µs once its threads have gone to sleep (waking
//! a halted vCPU takes the hypervisor). A section therefore only pays when each half is worth
//! about half a millisecond: the thresholds below are set from the benchmarks' primitives
//! (HPKE seal ≈ 60 µs, Ed25519 batched verification ≈ 22 µs per signature, SHA-512 of a
//! signed message ≈ 1.8 ms per MiB, a leaf's tree hash ≈ 1–2 µs) so that a section below them
//! would save less than the dispatch costs. At n = 1,000 members, processing a commit (82 KB)
//! on two threads took 990 µs against 830 µs on one with the former 64 KiB threshold; a
//! public group's 0.8 MB commit at n = 10,000, its transcript hash beside the signature, took
//! 3.6 ms against 3.2 ms in sequence (three alternating runs each).

/// HPKE encryptions of one UpdatePath's path secrets (RFC 9420 §7.6) or of one Welcome's
/// GroupSecrets (§12.4.3.1): from this many, they are sealed on the pool (8 × 60 µs).
pub(crate) const SEALS: usize = 8;

/// Tree hashes of one level of the tree (RFC 9420 §7.8): from this many nodes, they are
/// computed on the pool (at n = 100 the leaf level, 100 hashes of about 1 µs, stays on the
/// calling thread).
pub(crate) const TREE_HASHES: usize = 512;

/// Leaf signatures of a received tree (RFC 9420 §7.3, §12.4.3.1): from this many leaves,
/// they are verified in batches on the pool.
pub(crate) const LEAF_SIGNATURES: usize = 16;

/// Application messages of one run of [`crate::group::Group::process_messages`] (RFC 9420
/// §6.1): from this many, once their keys are taken in order, they are decrypted and their
/// signatures verified in one batch per thread, the calling thread taking one. Below it
/// the run is one batch on the calling thread (16 messages of 1 KiB from one sender: about
/// 16 × 3 µs of keys and decryption and a batch of 16 × 12 µs, a fifth of a millisecond).
pub(crate) const CONTENT_SIGNATURES: usize = 16;

/// The signed size from which a member verifies a received PublicMessage's signature on one
/// thread while its membership tag and the commit's transcript hash run on the other
/// (`framing::public::open_public_alongside`): the smaller side, two SHA-256 passes of about
/// 0.7 ms per MiB, must outweigh the dispatch.
pub(crate) const SIGNED_BYTES: usize = 512 * 1024;

/// The same for a public group (`framing::public::open_public_without_membership_key_alongside`),
/// which has no membership tag to check: one SHA-256 pass beside the signature.
pub(crate) const SIGNED_BYTES_WITHOUT_TAG: usize = 1024 * 1024;
