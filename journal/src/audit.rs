//! Audit reads (PRODUCT §9): an aggregate's events in order, its state as of a version or an
//! instant (the events folded with the domain's `apply`), and what an actor did in a range.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::backup_run::BackupRun;
use domain::call::Call;
use domain::customer::Customer;
use domain::request::Request;
use domain::settings::{CenterSettings, QueueSettings};
use domain::worker::Worker;
use serde_json::Value;

use crate::event::{StoredEvent, EVENT_COLUMNS};
use crate::metadata::Actor;
use crate::store::{EventStore, StoreError};

/// Why an audit read failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("unknown aggregate type {0:?}")]
    UnknownAggregateType(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("state does not encode: {0}")]
    Encode(serde_json::Error),
}

/// Which state [`state_at`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// After the event with this sequence.
    Version(i64),
    /// After every event recorded at or before this instant.
    Time(DateTime<Utc>),
    Latest,
}

/// The state of an aggregate at some point, as the domain folds it.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateState {
    /// The sequence of the last event folded (0: none, the aggregate did not exist yet).
    pub version: i64,
    pub recorded_at: Option<DateTime<Utc>>,
    /// The domain aggregate, serialised.
    pub state: Value,
}

/// The aggregate types [`state_at`] knows.
pub const AGGREGATE_TYPES: &[&str] = &[
    "worker",
    "customer",
    "call",
    "request",
    "backup_run",
    "queue_settings",
    "center_settings",
];

/// Every event of one aggregate, in sequence order, upcast.
pub async fn history(
    store: &EventStore,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<StoredEvent>, AuditError> {
    if !AGGREGATE_TYPES.contains(&aggregate_type) {
        return Err(AuditError::UnknownAggregateType(
            aggregate_type.chars().take(40).collect(),
        ));
    }
    Ok(store.load(aggregate_type, aggregate_id).await?)
}

/// The aggregate's state as of a version or an instant.
pub async fn state_at(
    store: &EventStore,
    aggregate_type: &str,
    aggregate_id: &str,
    as_of: AsOf,
) -> Result<AggregateState, AuditError> {
    let events = history(store, aggregate_type, aggregate_id).await?;
    let events: Vec<StoredEvent> = events
        .into_iter()
        .take_while(|event| match as_of {
            AsOf::Version(version) => event.sequence <= version,
            AsOf::Time(instant) => event.recorded_at <= instant,
            AsOf::Latest => true,
        })
        .collect();
    match aggregate_type {
        "worker" => fold::<Worker>(&events),
        "customer" => fold::<Customer>(&events),
        "call" => fold::<Call>(&events),
        "request" => fold::<Request>(&events),
        "backup_run" => fold::<BackupRun>(&events),
        "queue_settings" => fold::<QueueSettings>(&events),
        "center_settings" => fold::<CenterSettings>(&events),
        other => Err(AuditError::UnknownAggregateType(
            other.chars().take(40).collect(),
        )),
    }
}

fn fold<A: Aggregate + serde::Serialize>(
    events: &[StoredEvent],
) -> Result<AggregateState, AuditError> {
    let mut aggregate = A::default();
    for stored in events {
        let event: A::Event = stored.decode().map_err(|source| StoreError::Corrupt {
            event_type: stored.event_type.clone(),
            event_version: stored.event_version.clone(),
            source,
        })?;
        aggregate.apply(event);
    }
    Ok(AggregateState {
        version: events.last().map_or(0, |event| event.sequence),
        recorded_at: events.last().map(|event| event.recorded_at),
        state: serde_json::to_value(&aggregate).map_err(AuditError::Encode)?,
    })
}

/// What `actor` did in `[from, until)`, oldest first, at most `limit` (≤ 1000) events after
/// the `after` cursor (`recorded_at` and position of the last event of the previous page).
/// Uses the `events_actor` index.
pub async fn actor_events(
    store: &EventStore,
    actor: &Actor,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    after: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> Result<Vec<StoredEvent>, AuditError> {
    let rows = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM events \
         WHERE metadata ->> 'actor' = $1 AND recorded_at >= $2 AND recorded_at < $3 \
           AND ($4::timestamptz IS NULL OR (recorded_at, position) > ($4, $5)) \
         ORDER BY recorded_at, position LIMIT $6"
    ))
    .bind(actor.to_string())
    .bind(from)
    .bind(until)
    .bind(after.map(|(recorded_at, _)| recorded_at))
    .bind(after.map_or(0, |(_, position)| position))
    .bind(limit.clamp(1, 1000))
    .fetch_all(store.pool())
    .await
    .map_err(StoreError::Database)?;
    rows.iter()
        .map(|row| Ok(store.upcast(StoredEvent::from_row(row).map_err(StoreError::Database)?)))
        .collect()
}
