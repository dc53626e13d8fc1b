//! Ceilings on what a peer's bytes can make us allocate, hash or iterate over: [`Limits`],
//! the [`Limit`] each check names, and the decoding scope that carries them to the decoders.
//!
//! # How the limits reach the decoders
//!
//! tls_codec's `DeserializeBytes` takes no context, and the wire structs derive it, so the
//! limits cannot be passed down as an argument. Instead an entry point that decodes for a
//! caller with limits (`MlsMessage::from_bytes_with_limits`, `Group::process_message` with
//! its [`GroupConfig`](crate::group::GroupConfig)'s limits, ...) runs the decoding inside
//! [`with_limits`], which sets them for the current thread and restores the previous ones
//! when it returns (or unwinds). Outside any scope the limits are [`Limits::default`]. The
//! scope is a value for the duration of one call, not state carried between calls: the same
//! call with the same limits always decodes the same way.
//!
//! Each outermost [`decoding`] call also opens an allocation budget, `max_alloc_per_byte *
//! input + ALLOC_SLACK` bytes, that the decoders charge before every allocation whose size
//! depends on the input (vector capacity, copied byte strings, boxed nodes and proposals):
//! see the bound in the [`codec`](super) module docs.
//!
//! Work sent to another thread (the rayon pool) runs under the default limits unless the
//! code that sends it re-enters the scope with [`active`]'s value.
#![warn(clippy::arithmetic_side_effects)]

use core::cell::Cell;
use core::fmt;

use super::CodecError;

/// Bytes every decoding may allocate besides `max_alloc_per_byte` per input byte: room for
/// the fixed-size parts of one message (its boxed body, a few empty vectors' first
/// capacity).
pub const ALLOC_SLACK: usize = 4096;

/// Which ceiling of [`Limits`] a value went over (see [`CodecError::LimitExceeded`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_message_len`]: the bytes given to one decoder.
    MessageLen,
    /// [`Limits::max_alloc_per_byte`]: the bytes decoding would allocate.
    DecodedBytes,
    /// [`Limits::max_tree_leaves`]: the leaves of a ratchet tree (RFC 9420 §7.1), or of the
    /// tree a commit would leave.
    TreeLeaves,
    /// [`Limits::max_extensions`]: the extensions of one list (RFC 9420 §13.4).
    Extensions,
    /// [`Limits::max_vector_len`]: the elements of any other `<V>` list (RFC 9420 §2.1.2).
    VectorLen,
    /// [`Limits::max_credential_len`]: the encoded body of one credential (RFC 9420 §5.3).
    CredentialLen,
    /// [`Limits::max_credential_bindings`]: the bindings of one multi-credential
    /// (draft-ietf-mls-extensions §Multi-Credentials).
    CredentialBindings,
}

/// Every [`Limit`] with the name used in messages and tls_codec tags.
const LIMIT_NAMES: [(Limit, &str); 7] = [
    (Limit::MessageLen, "message-len"),
    (Limit::DecodedBytes, "decoded-bytes"),
    (Limit::TreeLeaves, "tree-leaves"),
    (Limit::Extensions, "extensions"),
    (Limit::VectorLen, "vector-len"),
    (Limit::CredentialLen, "credential-len"),
    (Limit::CredentialBindings, "credential-bindings"),
];

impl Limit {
    /// A short stable name, e.g. `"tree-leaves"`.
    pub fn name(self) -> &'static str {
        LIMIT_NAMES
            .iter()
            .find(|(l, _)| *l == self)
            .map_or("?", |(_, n)| n)
    }

    /// Inverse of [`Self::name`].
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        LIMIT_NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(l, _)| *l)
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Ceilings on what received bytes can make this implementation allocate, hash or iterate
/// over, each checked before the work it bounds; a breach is
/// [`CodecError::LimitExceeded`] naming the [`Limit`], the value and the ceiling.
///
/// The defaults ([`Limits::DEFAULT`]) admit groups of 2^17 = 131,072 leaves, room for
/// 50,000-member groups after churn:
///
/// | limit | default | what it bounds | a 50,000-member group needs |
/// |---|---|---|---|
/// | `max_message_len` | 32 MiB | one MLSMessage, KeyPackage, Welcome, GroupInfo or tree | the tree: about 13 MB with basic credentials; a commit adding everyone: about 15 MB; its Welcome, with the tree: about 19 MB |
/// | `max_alloc_per_byte` | 8 | heap per input byte while decoding | about 3.2 for the messages Canopy sends (measured) |
/// | `max_tree_leaves` | 131,072 | leaves of a received tree, and of the tree after a commit | 65,536 (the next power of two) |
/// | `max_extensions` | 1,024 | extensions in one list | a handful |
/// | `max_vector_len` | 131,072 | elements of any other list: capabilities, unmerged leaves, proposals of a commit, PSKs, HPKE ciphertexts of an UpdatePath node, Welcome secrets, certificates | 50,000 (Adds of one commit, unmerged leaves of the root, ciphertexts to a mostly blank tree) |
/// | `max_credential_len` | 64 KiB | the encoded body of one credential (an identity or a certificate chain) | tens of bytes (basic) to a few KiB (X.509) |
/// | `max_credential_bindings` | 16 | bindings of one multi-credential (extensions draft), each a signature and an Authentication Service check | one per credential the member presents, usually 2 |
///
/// Sizes (measured on suite 0x0001 with basic credentials): a member's leaf is about 195
/// bytes on the wire and a parent node about 70, so the tree of 50,000 members is 10 to 13
/// MB; an Add of a KeyPackage is about 305 bytes, so a commit of 50,000 Adds is about 15 MB,
/// and its Welcome about 120 bytes per new member plus the GroupInfo with the tree; a commit
/// with a path to a mostly blank 50,000-member tree carries about 50,000 HPKE ciphertexts of
/// about 90 bytes, 4.5 MB. Groups with X.509 credentials need a larger `max_message_len`.
///
/// At the defaults, decoding one hostile message can take at most 8 × 32 MiB = 256 MiB
/// (plus the moves of growing vectors, see the [`codec`](super) module docs); lower
/// `max_message_len` where the groups are smaller.
///
/// Fields are public; start from the default and change what you need:
/// ```
/// let mut limits = canopy_core::advanced::codec::Limits::default();
/// limits.max_tree_leaves = 1 << 20;
/// limits.max_message_len = 256 << 20;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest input, in bytes, one decoder accepts, checked before reading it.
    pub max_message_len: usize,
    /// How many bytes decoding may allocate per input byte (plus [`ALLOC_SLACK`]), counted
    /// before each allocation whose size depends on the input.
    pub max_alloc_per_byte: usize,
    /// The most leaves a received ratchet tree may cover (RFC 9420 §7.1; a tree of `n` leaf
    /// positions has `2n - 1` nodes), checked while decoding it and before it is padded and
    /// hashed; also the most leaves a commit may leave the tree with.
    pub max_tree_leaves: usize,
    /// The most extensions in one list (RFC 9420 §13.4), checked while decoding it.
    pub max_extensions: usize,
    /// The most elements of any other `<V>` list a peer sends (RFC 9420 §2.1.2), checked
    /// while decoding it.
    pub max_vector_len: usize,
    /// The longest encoded credential body (RFC 9420 §5.3: a basic identity or an X.509
    /// chain), checked before it is copied.
    pub max_credential_len: usize,
    /// The most credential bindings of one multi-credential (draft-ietf-mls-extensions
    /// §Multi-Credentials, feature `extensions`), checked while decoding it: each costs a
    /// signature verification and an Authentication Service check.
    pub max_credential_bindings: usize,
}

impl Limits {
    /// The default limits (see the table above).
    pub const DEFAULT: Self = Self {
        max_message_len: 32 << 20,
        max_alloc_per_byte: 8,
        max_tree_leaves: 1 << 17,
        max_extensions: 1024,
        max_vector_len: 1 << 17,
        max_credential_len: 64 << 10,
        max_credential_bindings: 16,
    };

    /// No limit at all, for records this implementation wrote itself (group state).
    pub(crate) const UNLIMITED: Self = Self {
        max_message_len: usize::MAX,
        max_alloc_per_byte: usize::MAX,
        max_tree_leaves: usize::MAX,
        max_extensions: usize::MAX,
        max_vector_len: usize::MAX,
        max_credential_len: usize::MAX,
        max_credential_bindings: usize::MAX,
    };

    /// The ceiling of `limit`.
    pub fn max(&self, limit: Limit) -> usize {
        match limit {
            Limit::MessageLen => self.max_message_len,
            Limit::DecodedBytes => self.max_alloc_per_byte,
            Limit::TreeLeaves => self.max_tree_leaves,
            Limit::Extensions => self.max_extensions,
            Limit::VectorLen => self.max_vector_len,
            Limit::CredentialLen => self.max_credential_len,
            Limit::CredentialBindings => self.max_credential_bindings,
        }
    }

    /// Checks `value` against the ceiling of `limit`.
    ///
    /// # Errors
    /// [`CodecError::LimitExceeded`] if `value` is above it.
    pub fn check(&self, limit: Limit, value: usize) -> Result<(), CodecError> {
        let max = self.max(limit);
        if value > max {
            return Err(CodecError::LimitExceeded { limit, value, max });
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// An open allocation budget: bytes charged so far and the ceiling.
#[derive(Clone, Copy, Debug)]
struct Budget {
    used: usize,
    max: usize,
}

thread_local! {
    /// The limits of the innermost [`with_limits`] scope on this thread.
    static ACTIVE: Cell<Limits> = const { Cell::new(Limits::DEFAULT) };
    /// The budget of the outermost [`decoding`] call running on this thread, if any.
    static BUDGET: Cell<Option<Budget>> = const { Cell::new(None) };
}

/// Restores the previous limits when a [`with_limits`] scope ends, unwinding included.
struct RestoreLimits(Limits);

impl Drop for RestoreLimits {
    fn drop(&mut self) {
        ACTIVE.set(self.0);
    }
}

/// Closes the budget when the outermost [`decoding`] call ends, unwinding included.
struct CloseBudget;

impl Drop for CloseBudget {
    fn drop(&mut self) {
        BUDGET.set(None);
    }
}

/// Runs `f` with `limits` as the active limits of this thread.
pub(crate) fn with_limits<R>(limits: Limits, f: impl FnOnce() -> R) -> R {
    let _restore = RestoreLimits(ACTIVE.replace(limits));
    f()
}

/// The active limits: those of the innermost [`with_limits`] scope, or the default.
pub(crate) fn active() -> Limits {
    ACTIVE.get()
}

/// Runs the decoding `f` of `input_len` bytes under the active limits: checks the input
/// length, and, unless a decoding is already running on this thread (whose budget then also
/// covers this one), opens the allocation budget for it.
pub(crate) fn decoding<R>(
    input_len: usize,
    f: impl FnOnce() -> Result<R, CodecError>,
) -> Result<R, CodecError> {
    let limits = active();
    limits.check(Limit::MessageLen, input_len)?;
    if BUDGET.get().is_some() {
        return f();
    }
    let max = limits
        .max_alloc_per_byte
        .saturating_mul(input_len)
        .saturating_add(ALLOC_SLACK);
    BUDGET.set(Some(Budget { used: 0, max }));
    let _close = CloseBudget;
    f()
}

/// Charges `bytes` about to be allocated to the open budget (a no-op outside [`decoding`]).
///
/// # Errors
/// [`CodecError::LimitExceeded`] for [`Limit::DecodedBytes`] if the budget would be
/// exceeded, as a tls_codec error.
pub(crate) fn charge(bytes: usize) -> Result<(), tls_codec::Error> {
    let Some(budget) = BUDGET.get() else {
        return Ok(());
    };
    let used = budget.used.saturating_add(bytes);
    if used > budget.max {
        return Err(CodecError::LimitExceeded {
            limit: Limit::DecodedBytes,
            value: used,
            max: budget.max,
        }
        .into_tls_decoding());
    }
    BUDGET.set(Some(Budget { used, ..budget }));
    Ok(())
}

/// Charges the allocation of one boxed `T`.
pub(crate) fn charge_box<T>() -> Result<(), tls_codec::Error> {
    charge(size_of::<T>())
}

/// Makes room for one more element in `items`, growing it as a `Vec` does (doubling, at least
/// four) but charging the new capacity to the budget first.
pub(crate) fn reserve_one<T>(items: &mut Vec<T>) -> Result<(), tls_codec::Error> {
    if items.len() < items.capacity() {
        return Ok(());
    }
    let extra = items.capacity().max(4);
    charge(extra.saturating_mul(size_of::<T>()))?;
    items.reserve_exact(extra);
    Ok(())
}

/// Checks that a list about to get its `count`-th element stays within `limit`.
pub(crate) fn check_count(limit: Limit, count: usize) -> Result<(), tls_codec::Error> {
    active()
        .check(limit, count)
        .map_err(CodecError::into_tls_decoding)
}
