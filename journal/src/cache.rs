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
    entries: std::sync::Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<CacheKey, CachedAggregate>,
    /// The sum of the states' lengths in `map`.
    bytes: usize,
}

/// `(Aggregate::TYPE, aggregate id)`.
type CacheKey = (&'static str, String);
/// The aggregate's serde JSON and its version.
type CachedAggregate = (Vec<u8>, i64);

/// The most aggregates [`AggregateCache`] holds.
const CACHED_AGGREGATES: usize = 4_096;
/// The most state bytes it holds (serde JSON), whatever the aggregates' sizes.
const CACHED_BYTES: usize = 16 << 20;
/// A state larger than this is not cached (its commands load it, from its snapshot).
const LARGEST_CACHED: usize = CACHED_BYTES / 64;

impl AggregateCache {
    pub(crate) fn get<A: Aggregate>(&self, aggregate_id: &str) -> Option<(A, i64)> {
        let entries = self.entries.lock().ok()?;
        let (state, version) = entries.map.get(&(A::TYPE, aggregate_id.to_owned()))?;
        let aggregate = serde_json::from_slice(state).ok()?;
        Some((aggregate, *version))
    }

    pub(crate) fn put<A: Aggregate>(&self, aggregate_id: &str, aggregate: &A, version: i64) {
        let state = match serde_json::to_vec(aggregate) {
            Ok(state) if state.len() <= LARGEST_CACHED => state,
            _ => {
                self.evict::<A>(aggregate_id);
                return;
            }
        };
        if let Ok(mut entries) = self.entries.lock() {
            let key = (A::TYPE, aggregate_id.to_owned());
            entries.remove(&key);
            if entries.map.len() >= CACHED_AGGREGATES || entries.bytes + state.len() > CACHED_BYTES
            {
                // Crude but bounded: start over (a miss costs one SELECT).
                entries.clear();
            }
            entries.bytes += state.len();
            entries.map.insert(key, (state, version));
        }
    }

    pub(crate) fn evict<A: Aggregate>(&self, aggregate_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&(A::TYPE, aggregate_id.to_owned()));
        }
    }

    /// `(entries, bytes)` held now.
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let entries = self.entries.lock().expect("not poisoned");
        (entries.map.len(), entries.bytes)
    }
}

impl Entries {
    fn remove(&mut self, key: &CacheKey) {
        if let Some((state, _)) = self.map.remove(key) {
            self.bytes -= state.len();
        }
    }

    fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An aggregate whose state is as large as asked.
    #[derive(Default, serde::Serialize, serde::Deserialize)]
    struct Blob {
        data: String,
    }

    #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Grew;

    impl cqrs_es::DomainEvent for Grew {
        fn event_type(&self) -> String {
            "Grew".into()
        }
        fn event_version(&self) -> String {
            "1".into()
        }
    }

    impl Aggregate for Blob {
        const TYPE: &'static str = "blob";
        type Command = ();
        type Event = Grew;
        type Error = std::io::Error;
        type Services = ();

        async fn handle(
            &mut self,
            _: (),
            _: &(),
            _: &cqrs_es::event_sink::EventSink<Self>,
        ) -> Result<(), std::io::Error> {
            Ok(())
        }

        fn apply(&mut self, _: Grew) {}
    }

    fn blob(bytes: usize) -> Blob {
        Blob {
            data: "x".repeat(bytes),
        }
    }

    #[test]
    fn the_cache_stays_under_its_entry_and_byte_bounds() {
        let cache = AggregateCache::default();
        let small = blob(10);
        for n in 0..CACHED_AGGREGATES * 2 {
            cache.put(&n.to_string(), &small, 1);
            let (entries, bytes) = cache.size();
            assert!(entries <= CACHED_AGGREGATES && bytes <= CACHED_BYTES);
        }
        let big = blob(LARGEST_CACHED - 100);
        for n in 0..(CACHED_BYTES / LARGEST_CACHED) * 4 {
            cache.put(&format!("big-{n}"), &big, 1);
            let (entries, bytes) = cache.size();
            assert!(
                entries <= CACHED_AGGREGATES && bytes <= CACHED_BYTES,
                "{bytes}"
            );
        }
        // Replacing an entry counts its bytes once.
        let (_, before) = cache.size();
        cache.put("big-0", &big, 2);
        cache.put("big-0", &big, 3);
        assert!(cache.size().1 <= before + LARGEST_CACHED);
        assert_eq!(
            cache.get::<Blob>("big-0").map(|(_, version)| version),
            Some(3)
        );
        // A state over the largest cached size is not held (and no older one is).
        cache.put("big-0", &blob(LARGEST_CACHED + 1), 4);
        assert!(cache.get::<Blob>("big-0").is_none());
    }
}
