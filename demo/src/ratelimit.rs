//! Per-key token-bucket rate limiter for the search endpoint (the demo's
//! stand-in for DRF throttling), so load tests can exercise 429 responses.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// Keys longer than this are truncated (bounds memory per bucket).
const MAX_KEY_LEN: usize = 128;
/// Above this many buckets, idle (full) buckets are dropped.
const PRUNE_ABOVE: usize = 10_000;

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A token bucket per key: `rate` tokens per second, holding at most `burst`.
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(rate: f64, burst: f64) -> Self {
        RateLimiter {
            rate,
            burst,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from `key`'s bucket; false when the bucket is empty.
    pub(crate) fn try_acquire(&self, key: &str, now: Instant) -> bool {
        let key = truncate(key, MAX_KEY_LEN);
        // A poisoned lock only means another request panicked mid-update;
        // the map is still usable.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > PRUNE_ABOVE && !buckets.contains_key(key) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * rate < burst
            });
        }
        if !buckets.contains_key(key) {
            buckets.insert(
                key.to_owned(),
                Bucket {
                    tokens: self.burst,
                    updated: now,
                },
            );
        }
        let Some(bucket) = buckets.get_mut(key) else {
            return true;
        };
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The longest prefix of `s` of at most `max` bytes on a char boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refill() {
        let limiter = RateLimiter::new(20.0, 20.0);
        let t0 = Instant::now();
        assert!((0..20).all(|_| limiter.try_acquire("k", t0)));
        assert!(!limiter.try_acquire("k", t0));
        // Another key has its own bucket.
        assert!(limiter.try_acquire("other", t0));
        // 100 ms at 20/s refills two tokens.
        let t1 = t0 + Duration::from_millis(100);
        assert!(limiter.try_acquire("k", t1));
        assert!(limiter.try_acquire("k", t1));
        assert!(!limiter.try_acquire("k", t1));
        // Never more than the burst after a long pause.
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!((0..40).filter(|_| limiter.try_acquire("k", t2)).count(), 20);
    }

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate("abc", 2), "ab");
        assert_eq!(truncate("é", 1), "");
        assert_eq!(truncate("short", 128), "short");
    }
}
