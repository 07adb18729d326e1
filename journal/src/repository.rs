//! cqrs-es persistence, so `PersistedEventStore` / `CqrsFramework` work over the same log.

use std::collections::HashMap;

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use cqrs_es::{Aggregate, EventEnvelope};
use serde_json::Value;
use uuid::Uuid;

use crate::event::{NewEvent, StoredEvent, EVENT_COLUMNS};
use crate::metadata::{Actor, Metadata};
use crate::store::{EventStore, StoreError};

fn to_serialized(event: StoredEvent) -> SerializedEvent {
    SerializedEvent::new(
        event.aggregate_id,
        usize::try_from(event.sequence).unwrap_or_default(),
        event.aggregate_type,
        event.event_type,
        event.event_version,
        event.payload,
        event.metadata,
    )
}

fn persistence(error: StoreError) -> PersistenceError {
    match error {
        StoreError::Conflict => PersistenceError::OptimisticLockError,
        StoreError::Database(error) => PersistenceError::ConnectionError(Box::new(error)),
        StoreError::Corrupt { source, .. } => {
            PersistenceError::DeserializationError(Box::new(source))
        }
        StoreError::Encode(error) => PersistenceError::UnknownError(Box::new(error)),
    }
}

/// cqrs-es metadata (a string map) as ours; a map without our keys is recorded as `system`.
fn metadata_from_value(value: &Value) -> Metadata {
    let map: HashMap<String, String> = serde_json::from_value(value.clone()).unwrap_or_default();
    Metadata::from_map(&map).unwrap_or_else(|| Metadata::new(Actor::System))
}

impl PersistedEventRepository for EventStore {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self
            .load(A::TYPE, aggregate_id)
            .await
            .map_err(persistence)?;
        Ok(events.into_iter().map(to_serialized).collect())
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let after = i64::try_from(last_sequence).unwrap_or(i64::MAX);
        let events = self
            .load_after(A::TYPE, aggregate_id, after)
            .await
            .map_err(persistence)?;
        Ok(events.into_iter().map(to_serialized).collect())
    }

    /// The snapshot of [`crate::snapshot`] (none unless the store has a snapshot policy for
    /// `A`); `current_snapshot` is its sequence.
    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        let snapshot = self
            .read_snapshot_value(A::TYPE, aggregate_id)
            .await
            .map_err(persistence)?;
        Ok(snapshot.map(|(sequence, aggregate)| {
            let sequence = usize::try_from(sequence).unwrap_or_default();
            SerializedSnapshot {
                aggregate_id: aggregate_id.to_owned(),
                aggregate,
                current_sequence: sequence,
                current_snapshot: sequence,
            }
        }))
    }

    /// Appends the events. `snapshot_update` is ignored: it does not say which sequence its
    /// state is at; snapshots are written by the store's own policy ([`crate::snapshot`]), and
    /// [`Self::get_snapshot`] serves them to `PersistedEventStore::new_snapshot_store` (not to
    /// `new_aggregate_store`, which would not read the events after them).
    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        _snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        let Some(first) = events.first() else {
            return Ok(());
        };

        let metadata = metadata_from_value(&first.metadata);
        let new_events = events
            .iter()
            .map(|event| NewEvent {
                event_id: Uuid::now_v7(),
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                sequence: i64::try_from(event.sequence).unwrap_or(i64::MAX),
                event_type: event.event_type.clone(),
                event_version: event.event_version.clone(),
                payload: event.payload.clone(),
            })
            .collect::<Vec<_>>();
        self.append(&new_events, &metadata)
            .await
            .map(|_| ())
            .map_err(persistence)
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.get_events::<A>(aggregate_id).await?;
        Ok(replay_stream(events).await)
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE aggregate_type = $1 \
             ORDER BY events.tx_id, events.position"
        ))
        .bind(A::TYPE)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| PersistenceError::ConnectionError(Box::new(error)))?;
        let events = rows
            .iter()
            .map(|row| StoredEvent::from_row(row).map(|event| to_serialized(self.upcast(event))))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| PersistenceError::ConnectionError(Box::new(error)))?;
        Ok(replay_stream(events).await)
    }
}

async fn replay_stream(events: Vec<SerializedEvent>) -> ReplayStream {
    let (mut feed, stream) = ReplayStream::new(events.len().max(1));
    for event in events {
        // The channel holds them all, so this never waits; a closed stream just drops the rest.
        if feed.push(Ok(event)).await.is_err() {
            break;
        }
    }
    stream
}

/// Builds an envelope for cqrs-es queries from a stored event.
pub fn envelope<A: Aggregate>(event: &StoredEvent) -> Result<EventEnvelope<A>, serde_json::Error> {
    let metadata = metadata_from_value(&event.metadata).to_map();
    Ok(EventEnvelope {
        aggregate_id: event.aggregate_id.clone(),
        sequence: usize::try_from(event.sequence).unwrap_or_default(),
        payload: event.decode()?,
        metadata,
    })
}
