//! Per-device rate limits: a token bucket per device and class of request, in memory (each
//! DS process limits what reaches it).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// What a bucket limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// Any authenticated request.
    Request,
    /// KeyPackage claims.
    Claim,
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets. Each holds up to `burst` tokens and refills at `per_second`.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<(String, Class), Bucket>>,
}

/// Buckets kept before idle ones are dropped.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// Takes one token of `device`'s `class` bucket; `false` if it is empty.
    pub fn allow(&self, device: &str, class: Class, per_second: f64, burst: f64) -> bool {
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return true;
        };
        if buckets.len() >= MAX_BUCKETS {
            // Full buckets are the ones nobody is using: forget them.
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.at).as_secs_f64() * per_second < burst
            });
        }
        let bucket = buckets.entry((device.to_owned(), class)).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refill = now.duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusals_per_device_and_class() {
        let r = RateLimiter::default();
        for _ in 0..5 {
            assert!(r.allow("a/x", Class::Claim, 0.001, 5.0));
        }
        assert!(!r.allow("a/x", Class::Claim, 0.001, 5.0));
        assert!(r.allow("a/x", Class::Request, 0.001, 5.0));
        assert!(r.allow("b/x", Class::Claim, 0.001, 5.0));
    }
}
