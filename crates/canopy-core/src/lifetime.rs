//! How the `lifetime` of a `key_package` leaf is checked (RFC 9420 §7.2, §7.3): one policy
//! for KeyPackages ([`crate::key_package`]) and for the leaves of a received ratchet tree
//! ([`crate::tree`]).
//!
//! A sender MUST check `now` against the lifetime of leaves in messages it sends; a receiver
//! is RECOMMENDED to (test vectors contain expired leaves, so the check can be skipped). The
//! application MUST define a maximum total lifetime. Nothing here reads a clock: the caller
//! supplies `now`.

use crate::wire::Lifetime;

/// How to check a `key_package` leaf's lifetime (RFC 9420 §7.2, §7.3). The two checks are
/// independent: either can be skipped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifetimePolicy {
    /// The current time (seconds since the Unix epoch), or `None` to skip the range check.
    pub now: Option<u64>,
    /// The longest acceptable `not_after - not_before`, or `None` for no limit.
    pub max_total: Option<u64>,
}

/// Why a lifetime fails a [`LifetimePolicy`]; each layer reports it as its own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LifetimeError {
    /// RFC 9420 §7.3: `now` is outside `not_before..=not_after`.
    #[error("time {now} is outside the lifetime {not_before}..={not_after}")]
    Outside {
        /// The time checked against.
        now: u64,
        /// `lifetime.not_before`.
        not_before: u64,
        /// `lifetime.not_after`.
        not_after: u64,
    },
    /// RFC 9420 §7.2: the lifetime is longer than the application's maximum.
    #[error("lifetime of {total} s exceeds the maximum of {max} s")]
    TooLong {
        /// `not_after - not_before`.
        total: u64,
        /// The application's maximum.
        max: u64,
    },
    /// `not_before` is after `not_after`, so the lifetime is empty.
    #[error("lifetime ends before it begins")]
    Inverted,
}

impl LifetimePolicy {
    /// Check that `now` is within the lifetime, with no maximum total.
    pub fn at(now: u64) -> Self {
        Self {
            now: Some(now),
            max_total: None,
        }
    }

    /// Check nothing (a leaf that may have expired in transit, §7.3; test vectors).
    pub fn unchecked() -> Self {
        Self::default()
    }

    /// Also reject lifetimes longer than `seconds`.
    pub fn with_max_total(self, seconds: u64) -> Self {
        Self {
            max_total: Some(seconds),
            ..self
        }
    }

    /// RFC 9420 §7.2, §7.3: checks `lifetime` against this policy, the maximum first.
    ///
    /// # Errors
    /// [`LifetimeError::Inverted`] (when a maximum is set), [`LifetimeError::TooLong`],
    /// [`LifetimeError::Outside`].
    pub fn check(&self, lifetime: &Lifetime) -> Result<(), LifetimeError> {
        let Lifetime {
            not_before,
            not_after,
        } = *lifetime;
        if let Some(max) = self.max_total {
            let total = not_after
                .checked_sub(not_before)
                .ok_or(LifetimeError::Inverted)?;
            if total > max {
                return Err(LifetimeError::TooLong { total, max });
            }
        }
        if let Some(now) = self.now
            && !(not_before..=not_after).contains(&now)
        {
            return Err(LifetimeError::Outside {
                now,
                not_before,
                not_after,
            });
        }
        Ok(())
    }
}
