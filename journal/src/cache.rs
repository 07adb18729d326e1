//! The aggregate cache of the command path.

use std::collections::HashMap;

use cqrs_es::Aggregate;

/// Aggregates this store recently committed to, by type and id, with their version: a command
/// on one of them skips the load (one `SELECT`). Bounded; shared by the store's clones.
///
/// Architecture Invariant: a cached state only ever leads to an append at `version + 1`, which
/// the primary key refuses if anybody else appended meanwhile (another process, another
/// store); the command then runs again from a fresh load. Held as the aggregate's own serde
/// form, so no bound beyond `Aggregate` is needed.
#[derive(Default)]
pub(crate) struct AggregateCache {
    entries: std::sync::Mutex<HashMap<CacheKey, CachedAggregate>>,
}

/// `(Aggregate::TYPE, aggregate id)`.
type CacheKey = (&'static str, String);
/// The aggregate's serde JSON and its version.
type CachedAggregate = (Vec<u8>, i64);

/// The most aggregates [`AggregateCache`] holds.
const CACHED_AGGREGATES: usize = 4_096;

impl AggregateCache {
    pub(crate) fn get<A: Aggregate>(&self, aggregate_id: &str) -> Option<(A, i64)> {
        let entries = self.entries.lock().ok()?;
        let (state, version) = entries.get(&(A::TYPE, aggregate_id.to_owned()))?;
        let aggregate = serde_json::from_slice(state).ok()?;
        Some((aggregate, *version))
    }

    pub(crate) fn put<A: Aggregate>(&self, aggregate_id: &str, aggregate: &A, version: i64) {
        let Ok(state) = serde_json::to_vec(aggregate) else {
            self.evict::<A>(aggregate_id);
            return;
        };
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHED_AGGREGATES {
                // Crude but bounded: start over (a miss costs one SELECT).
                entries.clear();
            }
            entries.insert((A::TYPE, aggregate_id.to_owned()), (state, version));
        }
    }

    pub(crate) fn evict<A: Aggregate>(&self, aggregate_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&(A::TYPE, aggregate_id.to_owned()));
        }
    }
}
