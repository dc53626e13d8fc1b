//! When work goes to the rayon pool (the `parallel` feature): the thresholds in one place.
//!
//! A group operation is called from the application's thread, which is not one of the pool's,
//! so a parallel section injects a job, wakes a sleeping worker (which wakes the next), and
//! blocks the caller until the last one finishes, unless the caller takes a share itself
//! ([`here_and_there`], the batches of `Group::process_messages`). On the 2-vCPU virtual machine the
//! benchmarks run on, one `rayon::join` of two halves costs 30–60 µs more than running them in
//! sequence while the pool is busy, and 150–250 µs once its threads have gone to sleep (waking
//! a halted vCPU takes the hypervisor). A section therefore only pays when each half is worth
//! about half a millisecond: the thresholds below are set from the benchmarks' primitives
//! (HPKE seal ≈ 60 µs, Ed25519 batched verification ≈ 22 µs per signature, SHA-512 of a
//! signed message ≈ 1.8 ms per MiB, a leaf's tree hash ≈ 1–2 µs) so that a section below them
//! would save less than the dispatch costs. At n = 1,000 members, processing a commit (82 KB)
//! on two threads took 990 µs against 830 µs on one with the former 64 KiB threshold; a
//! public group's 0.8 MB commit at n = 10,000, its transcript hash beside the signature with
//! `rayon::join`, took 3.6 ms against 3.2 ms in sequence (three alternating runs each).
//! [`here_and_there`] keeps the calling thread on the longer half and wakes one worker for
//! the other, which hides the wake-up: with it the same commit took 2.40–2.44 ms against
//! 2.53–2.76 ms in sequence, and a member's 2.33–2.36 ms against 2.53–2.61 ms with
//! `rayon::join` (two alternating runs each, 2026-12-04).

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

/// The signed size from which a member verifies a received PublicMessage's signature on the
/// calling thread while its membership tag and the commit's transcript hash run on the pool
/// (`framing::public::open_public_alongside`, [`here_and_there`]). The saving is the smaller
/// of the pool's side (two SHA-256 passes, 0.6 ms per MiB each) and the signature's pass
/// (1.7 ms per MiB) less a worker's wake-up (up to 0.25 ms): at 256 KiB, about 0.2 ms.
pub(crate) const SIGNED_BYTES: usize = 256 * 1024;

/// The same for a public group (`framing::public::open_public_without_membership_key_alongside`),
/// which has no membership tag to check: one SHA-256 pass beside the signature, which saves
/// about 0.15 ms at 256 KiB.
pub(crate) const SIGNED_BYTES_WITHOUT_TAG: usize = 256 * 1024;

/// Runs `here` on the calling thread while `there` runs on the rayon pool, and returns both
/// results.
///
/// [`rayon::join`] called from outside the pool queues both halves there and blocks the
/// caller until the pool's threads have woken for them, one after the other. Here the
/// caller starts on `here` at once and one worker wakes for `there`: with `here` the longer
/// half, the wake-up is hidden behind it. When the scope returns, `there` has run (a panic
/// in it is re-raised by the scope); the call of `there` here if its result is missing only
/// keeps the function total without a panic path.
#[cfg(feature = "parallel")]
pub(crate) fn here_and_there<RA, RB: Send>(
    here: impl FnOnce() -> RA,
    there: &(impl Fn() -> RB + Sync),
) -> (RA, RB) {
    let mut slot = None;
    let out = &mut slot;
    let ra = rayon::in_place_scope(|scope| {
        scope.spawn(move |_| *out = Some(there()));
        here()
    });
    let rb = match slot {
        Some(rb) => rb,
        None => there(),
    };
    (ra, rb)
}
