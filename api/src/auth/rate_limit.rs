//! Login throttling: failures counted per key (an account, a client address) in a sliding
//! window, in memory. A success clears the account's failures. Memory stays bounded: old
//! entries are dropped as the map is used.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures per key within `window`; more than `limit` refuses further attempts.
pub struct FailureLimiter {
    limit: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Keys at most, before stale ones are swept.
const SWEEP_ABOVE: usize = 10_000;

impl FailureLimiter {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` has used up its failures in the window.
    pub fn is_blocked(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get_mut(key) {
            Some(times) => {
                prune(times, now, self.window);
                times.len() >= self.limit as usize
            }
            None => false,
        }
    }

    pub fn record_failure(&self, key: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > SWEEP_ABOVE {
            let window = self.window;
            failures.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
        }
        let times = failures.entry(key.to_owned()).or_default();
        prune(times, now, self.window);
        times.push_back(now);
    }

    pub fn clear(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(key);
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|first| now.duration_since(*first) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_its_limit_of_failures_and_cleared_by_a_success() {
        let limiter = FailureLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(!limiter.is_blocked("jane@example.com"));
            limiter.record_failure("jane@example.com");
        }
        assert!(limiter.is_blocked("jane@example.com"));
        assert!(!limiter.is_blocked("other@example.com"));
        limiter.clear("jane@example.com");
        assert!(!limiter.is_blocked("jane@example.com"));
    }

    #[test]
    fn failures_older_than_the_window_no_longer_count() {
        let limiter = FailureLimiter::new(1, Duration::from_millis(20));
        limiter.record_failure("addr");
        assert!(limiter.is_blocked("addr"));
        std::thread::sleep(Duration::from_millis(30));
        assert!(!limiter.is_blocked("addr"));
    }
}
