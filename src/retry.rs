//! When and how long to wait before sending the idempotent GET again ([`RetryPolicy::delay`] is
//! pure). A 401 "signature expired" re-signed once is `skew`'s business, not a retry.

use std::time::{Duration, SystemTime};

/// How failed requests are retried, all within the call's
/// [`timeout`](crate::ClientBuilder::timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

/// The longest `Retry-After` honoured; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(20);

impl Default for RetryPolicy {
    /// 3 attempts; backoff from 200 ms doubling up to 5 s, with full jitter; `Retry-After` honoured
    /// up to 20 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// The most attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff's upper bound; it doubles with every retry.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The largest backoff upper bound.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait before attempt `attempt + 1` (`attempt` counts from 1), as the builder's docs
    /// (*Retries*) give it; `random` is uniform in [0, 1).
    pub(crate) fn delay(&self, attempt: u32, asked: Asked, random: f64) -> Duration {
        let random = random.clamp(0.0, 1.0);
        match asked {
            Asked { retry_after: Some(wait), .. } => wait.min(MAX_RETRY_AFTER),
            // A window is at most a day when read: no overflow.
            Asked { window: Some(window), .. } => window + window.mul_f64(random / 2.0),
            _ => {
                let exponent = attempt.saturating_sub(1).min(30);
                let ceiling = self.base_delay.saturating_mul(1u32 << exponent).min(self.max_delay);
                Duration::try_from_secs_f64(ceiling.as_secs_f64() * random).unwrap_or(ceiling)
            }
        }
    }
}

/// What an answer asked of the next attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Asked {
    /// `Retry-After`.
    pub(crate) retry_after: Option<Duration>,
    /// The window of the gateway's flow control.
    pub(crate) window: Option<Duration>,
}

/// Statuses worth another attempt.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// A uniform value in [0, 1) from std only: a randomly keyed SipHash of a counter and the clock.
pub(crate) fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(since) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        hasher.write_u128(since.as_nanos());
    }
    // The top 53 bits make an exact f64 in [0, 1).
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_stays_under_the_doubling_ceiling() {
        let policy = RetryPolicy::default();
        let none = Asked::default();
        assert_eq!(policy.delay(1, none, 0.0), Duration::ZERO);
        assert_eq!(policy.delay(1, none, 0.5), Duration::from_millis(100));
        assert_eq!(policy.delay(2, none, 0.5), Duration::from_millis(200));
        assert_eq!(policy.delay(3, none, 0.5), Duration::from_millis(400));
        assert_eq!(policy.delay(60, none, 0.5), Duration::from_millis(2500));
    }

    #[test]
    fn retry_after_wins_up_to_its_cap() {
        let policy = RetryPolicy::default();
        let after = |seconds| Asked {
            retry_after: Some(Duration::from_secs(seconds)),
            window: Some(Duration::from_secs(60)),
        };
        assert_eq!(policy.delay(1, after(2), 0.9), Duration::from_secs(2));
        assert_eq!(policy.delay(1, after(3600), 0.9), Duration::from_secs(20));
        let window = Asked { window: Some(Duration::from_secs(2)), ..Asked::default() };
        assert_eq!(policy.delay(1, window, 0.5), Duration::from_millis(2500));
    }

    #[test]
    fn random_unit_is_in_range_and_varies() {
        let values: Vec<f64> = (0..100).map(|_| random_unit()).collect();
        assert!(values.iter().all(|v| (0.0..1.0).contains(v)));
        assert!(values.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn only_transient_statuses_are_retryable() {
        for status in [429, 502, 503, 504] {
            assert!(is_retryable_status(status));
        }
        for status in [200, 400, 401, 403, 404, 500, 501] {
            assert!(!is_retryable_status(status));
        }
    }
}
