//! The read models: one module per projection, each with its row types, its batch `apply`
//! and its read functions (plain SQL; lists through the one keyset engine of [`keyset`], on
//! allow-listed, indexed sort keys). Every list, lookup, CSV export page and the wallboard read
//! through these functions.
//!
//! | projection | tables | what for |
//! |---|---|---|
//! | `workers` | `workers` | profile, role, active, presence, time in state, idle since, calls today |
//! | `customers` | `customers`, `customer_phones`, `customer_requests` | customer details, `customerByNumber`, open request count |
//! | `calls` | `calls`, `call_offers` | every call and each of its offers |
//! | `queue` | `queue_calls` | calls waiting now |
//! | `requests` | `requests`, `request_changes` | tickets and their audit of changes |
//! | `backups` | `backup_runs`, `backup_status` | runs and per-customer monitoring status |
//! | `kpis` | `kpi_call_facts`, `kpi_call_buckets`, `kpi_request_facts`, `kpi_request_buckets`, `agent_state_intervals`, `kpi_slot_totals` | PRODUCT §8 |
//!
//! How a batch is applied: load the rows the batch touches (`to_jsonb` of the row, decoded into
//! the row struct whose fields are the columns), fold the events in memory, and write the rows
//! back with one `jsonb_populate_recordset` upsert per table.

pub mod backups;
pub mod calls;
pub mod customers;
pub mod keyset;
pub mod kpis;
pub mod queue;
pub mod requests;
pub mod workers;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use cqrs_es::DomainEvent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::projector::ProjectionError;
use journal::StoredEvent;

/// Decodes the events of `aggregate_type` in `events`, with their aggregate id.
pub(crate) fn decode<E: DomainEvent>(
    events: &[StoredEvent],
    aggregate_type: &str,
) -> Result<Vec<(Uuid, i64, E)>, ProjectionError> {
    events
        .iter()
        .filter(|event| event.aggregate_type == aggregate_type)
        .map(|event| {
            let id = event
                .aggregate_id
                .parse::<Uuid>()
                .map_err(|_| ProjectionError::AggregateId(event.aggregate_id.clone()))?;
            // From the borrowed payload (`StoredEvent::decode` clones it first).
            let payload =
                E::deserialize(&event.payload).map_err(|source| ProjectionError::Decode {
                    position: event.position(),
                    event_type: event.event_type.clone(),
                    event_version: event.event_version.clone(),
                    source,
                })?;
            Ok((id, event.sequence, payload))
        })
        .collect()
}

/// The rows of `table` whose `column` is one of `keys`.
pub(crate) async fn load_rows<R: DeserializeOwned>(
    connection: &mut PgConnection,
    table: &str,
    column: &str,
    keys: &[Uuid],
    extra_condition: &str,
) -> Result<Vec<R>, ProjectionError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let values: Vec<serde_json::Value> = sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) FROM {table} t WHERE {column} = ANY($1) {extra_condition}"
    ))
    .bind(keys)
    .fetch_all(&mut *connection)
    .await?;
    values
        .into_iter()
        .map(|value| serde_json::from_value(value).map_err(ProjectionError::Row))
        .collect()
}

/// The row of `table` whose `column` is `key` (a lookup by id: `customer(id)`, `worker(id)`…).
pub(crate) async fn get_row<R: DeserializeOwned>(
    pool: &sqlx::PgPool,
    table: &str,
    column: &str,
    key: Uuid,
) -> Result<Option<R>, ReadError> {
    let value: Option<serde_json::Value> = sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) FROM {table} t WHERE {column} = $1"
    ))
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(value.map(serde_json::from_value).transpose()?)
}

/// Inserts or replaces `rows` of `table` (row fields = columns), keyed by `keys`.
pub(crate) async fn upsert_rows<R: Serialize>(
    connection: &mut PgConnection,
    table: &str,
    keys: &[&str],
    columns: &[&str],
    rows: &[R],
) -> Result<(), ProjectionError> {
    if rows.is_empty() {
        return Ok(());
    }
    let json = serde_json::to_value(rows).map_err(ProjectionError::Row)?;
    let updates: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|column| !keys.contains(column))
        .collect();
    let conflict = if updates.is_empty() {
        "DO NOTHING".to_owned()
    } else {
        format!(
            "DO UPDATE SET ({}) = ROW({})",
            updates.join(", "),
            updates
                .iter()
                .map(|column| format!("EXCLUDED.{column}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let column_list = columns.join(", ");
    sqlx::query(&format!(
        "INSERT INTO {table} ({column_list}) \
         SELECT {column_list} FROM jsonb_populate_recordset(NULL::{table}, $1) \
         ON CONFLICT ({}) {conflict}",
        keys.join(", ")
    ))
    .bind(json)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Deletes the rows of `table` whose `column` is one of `keys`.
pub(crate) async fn delete_rows(
    connection: &mut PgConnection,
    table: &str,
    column: &str,
    keys: &[Uuid],
) -> Result<(), ProjectionError> {
    if keys.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!("DELETE FROM {table} WHERE {column} = ANY($1)"))
        .bind(keys)
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Unique ids, in first-seen order.
pub(crate) fn unique<T: Copy + Eq + std::hash::Hash>(ids: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// PostgreSQL keeps microseconds: every instant a read model stores or computes with is cut
/// to them, so a value read back equals the value computed in memory.
pub(crate) fn micros(instant: DateTime<Utc>) -> DateTime<Utc> {
    instant
        .duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(instant)
}

/// The snake_case keyword serde gives a fieldless enum value.
pub(crate) fn keyword<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Whole seconds from `from` to `to` (0 when negative).
pub(crate) fn secs_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_seconds().max(0)
}

/// Why a list read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The cursor given as this argument (`after`, `before`) is not one of the list's.
    #[error("{0}: invalid cursor")]
    InvalidCursor(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("read-model row does not decode: {0}")]
    Row(#[from] serde_json::Error),
}
