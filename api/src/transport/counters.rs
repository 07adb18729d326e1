//! The counters one server keeps for `/metrics` (requests, GraphQL errors, live
//! subscriptions, the mutation latency histogram, the database gauges' cache), held in
//! `AppState`; `metrics.rs` renders them.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Upper bounds (seconds) of the mutation latency histogram's buckets.
pub(super) const MUTATION_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A Prometheus histogram with the fixed [`MUTATION_BUCKETS`] (cumulative counts).
#[derive(Debug, Default)]
pub(super) struct Histogram {
    pub(super) buckets: [u64; MUTATION_BUCKETS.len()],
    pub(super) count: u64,
    pub(super) sum: f64,
}

/// The counters of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (method, route template, status) → requests.
    pub(super) http: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// GraphQL error code → errors answered.
    pub(super) graphql_errors: Mutex<BTreeMap<String, u64>>,
    /// Subscription name → live subscriptions.
    pub(super) subscriptions: Mutex<BTreeMap<&'static str, i64>>,
    /// The gauges read from the database, and when (one reader at a time: concurrent scrapes
    /// wait for it and share its text).
    pub(super) database_gauges: tokio::sync::Mutex<Option<(std::time::Instant, String)>>,
    /// Database reads made for `/metrics` (to see the cache work).
    pub(super) database_reads: std::sync::atomic::AtomicU64,
    /// How long GraphQL mutations took to execute.
    pub(super) mutations: Mutex<Histogram>,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut map) = map.lock() {
        *map.entry(key).or_default() += 1;
    }
}

impl Metrics {
    pub fn count_request(&self, method: &str, route: &str, status: u16) {
        bump(&self.http, (method.to_owned(), route.to_owned(), status));
    }

    pub fn count_graphql_error(&self, code: &str) {
        bump(&self.graphql_errors, code.to_owned());
    }

    /// Records one mutation's execution time.
    pub fn observe_mutation(&self, elapsed: std::time::Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Ok(mut histogram) = self.mutations.lock() {
            for (bound, bucket) in MUTATION_BUCKETS.iter().zip(histogram.buckets.iter_mut()) {
                if seconds <= *bound {
                    *bucket += 1;
                }
            }
            histogram.count += 1;
            histogram.sum += seconds;
        }
    }

    fn add_subscription(&self, name: &'static str, delta: i64) {
        if let Ok(mut map) = self.subscriptions.lock() {
            *map.entry(name).or_default() += delta;
        }
    }

    /// Counts a live subscription until the guard is dropped.
    pub fn subscription(self: &std::sync::Arc<Self>, name: &'static str) -> SubscriptionGuard {
        self.add_subscription(name, 1);
        SubscriptionGuard {
            metrics: self.clone(),
            name,
        }
    }
}

/// Held by a live subscription's stream.
pub struct SubscriptionGuard {
    metrics: std::sync::Arc<Metrics>,
    name: &'static str,
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.metrics.add_subscription(self.name, -1);
    }
}
