//! The event store: the handle every command and reader of the log goes through, and loading
//! an aggregate's events from it (one `SELECT`, upcast to the current versions).
//!
//! Appending is in [`crate::append`] (with its group commit in `group_commit.rs`), the
//! command path in [`crate::execute`], the cqrs-es repository in [`crate::repository`].

use std::sync::Arc;

use cqrs_es::persist::EventUpcaster;
use cqrs_es::Aggregate;
use sqlx::PgPool;
use tokio::sync::mpsc;

use crate::append::{AppendReply, AppendRequest};
use crate::cache::AggregateCache;
use crate::event::{StoredEvent, EVENT_COLUMNS};
use crate::group_commit::start_group_commit;
use crate::snapshot::{LoadCounters, SnapshotPolicy};
use crate::upcast::upcast_with;

/// Why the log refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to the aggregate first (optimistic concurrency).
    #[error("the aggregate was changed concurrently")]
    Conflict,
    /// A stored payload does not decode as the aggregate's event type.
    #[error("stored event {event_type} v{event_version} does not decode: {source}")]
    Corrupt {
        event_type: String,
        event_version: String,
        source: serde_json::Error,
    },
    /// An event could not be encoded.
    #[error("event does not encode: {0}")]
    Encode(serde_json::Error),
    /// The database failed or is out of reach.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    pub(crate) fn from_append(error: sqlx::Error) -> Self {
        match &error {
            // `customer_keys_pkey`: two appends made a key for the same new subject.
            sqlx::Error::Database(db)
                if matches!(db.constraint(), Some("events_pkey" | "customer_keys_pkey")) =>
            {
                StoreError::Conflict
            }
            _ => StoreError::Database(error),
        }
    }
}

/// The event log.
#[derive(Clone)]
pub struct EventStore {
    pub(crate) pool: PgPool,
    upcasters: Arc<Vec<Box<dyn EventUpcaster>>>,
    pub(crate) group_commit: Option<mpsc::UnboundedSender<(AppendRequest, AppendReply)>>,
    pub(crate) cache: Arc<AggregateCache>,
    /// `None`: no snapshot is read or written.
    pub(crate) snapshots: Option<Arc<SnapshotPolicy>>,
    pub(crate) counters: Arc<LoadCounters>,
}

/// Events an aggregate load reads per `SELECT`: the fold never holds more than this many
/// events in memory, however long the history.
const LOAD_CHUNK: i64 = 1_000;

impl EventStore {
    /// A store over `pool`. Inside a tokio runtime it starts the group-commit writers (they end
    /// when the last clone of the store is dropped); outside one, every append is its own commit.
    pub fn new(pool: PgPool) -> Self {
        let group_commit = tokio::runtime::Handle::try_current()
            .ok()
            .map(|runtime| start_group_commit(&runtime, pool.clone()));
        Self {
            pool,
            upcasters: Default::default(),
            group_commit,
            cache: Default::default(),
            snapshots: None,
            counters: Default::default(),
        }
    }

    /// Takes and uses aggregate snapshots under `policy` (`None`: none, the default).
    pub fn with_snapshots(mut self, policy: Option<SnapshotPolicy>) -> Self {
        self.snapshots = policy.map(Arc::new);
        self
    }

    /// What this store's aggregate loads did (shared by its clones).
    pub fn load_counters(&self) -> &LoadCounters {
        &self.counters
    }

    /// The version of the upcasters registered: their number (upcasters are only ever added).
    pub(crate) fn upcaster_version(&self) -> i32 {
        i32::try_from(self.upcasters.len()).unwrap_or(i32::MAX)
    }

    /// Adds the upcasters applied to every event read through this store.
    pub fn with_upcasters(mut self, upcasters: Vec<Box<dyn EventUpcaster>>) -> Self {
        self.upcasters = Arc::new(upcasters);
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Every event of one aggregate, in sequence order, upcast to the current versions.
    pub async fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.load_after(aggregate_type, aggregate_id, 0).await
    }

    /// The events of one aggregate with a sequence above `after_sequence`.
    pub async fn load_after(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 \
             ORDER BY sequence"
        ))
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after_sequence)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(self.upcast(StoredEvent::from_row(row)?)))
            .collect()
    }

    /// Applies the registered upcasters to one stored event.
    pub fn upcast(&self, event: StoredEvent) -> StoredEvent {
        upcast_with(&self.upcasters, event)
    }

    /// Loads an aggregate: its state and its version (the last sequence, 0 when new). Starts
    /// from its snapshot when one is usable ([`crate::snapshot`]) and folds the events after
    /// it, [`LOAD_CHUNK`] at a time; writes a new snapshot when it folded enough events.
    pub async fn load_aggregate<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<(A, i64), StoreError> {
        let (mut aggregate, mut version, from_snapshot) =
            match self.read_snapshot::<A>(aggregate_id).await? {
                Some(snapshot) => (snapshot.aggregate, snapshot.sequence, true),
                None => (A::default(), 0, false),
            };
        if from_snapshot {
            self.counters
                .snapshots_used
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let start = version;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {EVENT_COLUMNS} FROM events \
                 WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 \
                 ORDER BY sequence LIMIT $4"
            ))
            .bind(A::TYPE)
            .bind(aggregate_id)
            .bind(version)
            .bind(LOAD_CHUNK)
            .fetch_all(&self.pool)
            .await?;
            let count = rows.len();
            for row in rows {
                let stored = self.upcast(StoredEvent::from_row(&row)?);
                let event: A::Event = stored.decode().map_err(|source| StoreError::Corrupt {
                    event_type: stored.event_type.clone(),
                    event_version: stored.event_version.clone(),
                    source,
                })?;
                aggregate.apply(event);
                version = stored.sequence;
            }
            self.counters
                .events_folded
                .fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
            if (count as i64) < LOAD_CHUNK {
                break;
            }
        }
        if self.snapshot_due_after_load(A::TYPE, version - start) {
            self.write_snapshot(aggregate_id, &aggregate, version).await;
        }
        Ok((aggregate, version))
    }
}
