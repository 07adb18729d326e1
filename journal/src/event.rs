//! The log's rows: an event as stored ([`StoredEvent`]), one to append ([`NewEvent`]), what an
//! append committed ([`Appended`]) and the place of an event in log order ([`LogPosition`]).

use chrono::{DateTime, Utc};
use cqrs_es::{Aggregate, DomainEvent};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use crate::metadata::Metadata;
use crate::store::StoreError;

/// The channel every append notifies (a hint only: readers always re-read from their checkpoint).
pub const EVENTS_CHANNEL: &str = "savecorp_events";

/// A place in the log order `(tx_id, position)`. Checkpoints are stored as this pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// The id of the transaction that appended the event (`xid8`, fits in i64 for centuries).
    pub tx_id: i64,
    /// The event's global position.
    pub position: i64,
}

impl LogPosition {
    /// Before the first event.
    pub const START: LogPosition = LogPosition {
        tx_id: 0,
        position: 0,
    };
}

/// An event as stored in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub log_position: LogPosition,
    pub event_id: Uuid,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// The global position.
    pub fn position(&self) -> i64 {
        self.log_position.position
    }

    /// The metadata, parsed; `None` for a row written without it (never by this code).
    pub fn parsed_metadata(&self) -> Option<Metadata> {
        serde_json::from_value(self.metadata.clone()).ok()
    }

    /// The payload as the aggregate's event type.
    pub fn decode<E: DomainEvent>(&self) -> Result<E, serde_json::Error> {
        serde_json::from_value(self.payload.clone())
    }

    /// One event from a row of `events` selected with [`EVENT_COLUMNS`] (`tx_id` as a bigint),
    /// its sealed personal fields opened with the row's `subject_key` (erased when it is gone).
    pub fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        let mut event = Self {
            log_position: LogPosition {
                tx_id: row.try_get("tx_id")?,
                position: row.try_get("position")?,
            },
            event_id: row.try_get("event_id")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            recorded_at: row.try_get("recorded_at")?,
        };
        let key: Option<Vec<u8>> = row.try_get("subject_key").ok().flatten();
        crate::shred::open(
            &event.aggregate_type,
            &event.aggregate_id,
            &event.event_type,
            &event.event_version,
            &mut event.payload,
            key.as_deref(),
        );
        Ok(event)
    }
}

/// The columns [`StoredEvent::from_row`] reads, for every query that returns events.
/// The last, `subject_key`, is the key that opens the event's sealed personal fields
/// ([`crate::shred`]): read in the same statement, used by `from_row`, never kept.
pub const EVENT_COLUMNS: &str = concat!(
    "position, tx_id::text::bigint AS tx_id, event_id, \
     aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, \
     recorded_at, ",
    crate::subject_key_sql!()
);

/// One event to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
}

impl NewEvent {
    /// The rows for `events` of aggregate `A` `aggregate_id`, after its version `version`.
    pub(crate) fn of<A: Aggregate>(
        aggregate_id: &str,
        version: i64,
        events: &[A::Event],
    ) -> Result<Vec<NewEvent>, StoreError> {
        events
            .iter()
            .zip(version + 1..)
            .map(|(event, sequence)| {
                Ok(NewEvent {
                    event_id: Uuid::now_v7(),
                    aggregate_type: A::TYPE.to_owned(),
                    aggregate_id: aggregate_id.to_owned(),
                    sequence,
                    event_type: event.event_type(),
                    event_version: event.event_version(),
                    payload: serde_json::to_value(event).map_err(StoreError::Encode)?,
                })
            })
            .collect()
    }
}

/// What an append committed, one entry per event in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Appended {
    pub event_id: Uuid,
    pub log_position: LogPosition,
    pub recorded_at: DateTime<Utc>,
}
