//! The read models: one module per projection, each with its row types, its batch `apply`
//! and its read functions (plain SQL, keyset pagination on allow-listed sort keys).
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

/// A page request: at most `first` rows (capped at 100) after the `after` cursor, ordered by an
/// allow-listed sort key.
#[derive(Clone, Debug, Default)]
pub struct Page {
    pub first: i64,
    /// The cursor of the last row of the previous page ([`Cursor::encode`]).
    pub after: Option<String>,
}

impl Page {
    pub(crate) fn limit(&self) -> i64 {
        self.first.clamp(1, 100)
    }
}

/// A keyset cursor: the sort value and id of a row, as opaque text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub value: String,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}|{}", self.id, self.value)
    }

    /// `None` for text that is not a cursor.
    pub fn decode(text: &str) -> Option<Self> {
        let (id, value) = text.split_once('|')?;
        Some(Self {
            id: id.parse().ok()?,
            value: value.to_owned(),
        })
    }
}

/// Why a list read failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("read-model row does not decode: {0}")]
    Row(#[from] serde_json::Error),
}

/// Runs a keyset-paginated list of `table` ordered by the allow-listed `sort_column` (its text
/// form compared as `sort_cast`), then `id_column`, with a WHERE `filter` whose parameters
/// start at `$3`. Rows come back as their JSON form decoded into `R`, with their cursors.
pub(crate) async fn list_page<R: DeserializeOwned>(
    pool: &sqlx::PgPool,
    query: ListQuery<'_>,
    page: &Page,
    bind: impl FnOnce(
        sqlx::query::QueryScalar<'_, sqlx::Postgres, serde_json::Value, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryScalar<
        '_,
        sqlx::Postgres,
        serde_json::Value,
        sqlx::postgres::PgArguments,
    >,
) -> Result<Vec<(R, String)>, ReadError> {
    let cursor = match &page.after {
        Some(text) => Some(Cursor::decode(text).ok_or(ReadError::InvalidCursor)?),
        None => None,
    };
    let ListQuery {
        table,
        id_column,
        sort_column,
        sort_cast,
        filter,
    } = query;
    // Two shapes, so neither holds a `$1 IS NULL OR …` that a cached generic plan could not
    // turn into an index condition: the first page (both keys NULL, a one-time filter), and a
    // later page whose row comparison is the start of an index range on (sort key, id).
    let keyset = match cursor {
        None => "$1::text IS NULL AND $2::uuid IS NULL".to_owned(),
        Some(_) => {
            format!("({sort_column}, {id_column}) > ($1::text::{sort_cast}, $2::uuid)")
        }
    };
    let sql = format!(
        "SELECT to_jsonb(t) FROM {table} t \
         WHERE ({filter}) AND {keyset} \
         ORDER BY {sort_column}, {id_column} LIMIT {limit}",
        limit = page.limit()
    );
    let statement = sqlx::query_scalar::<_, serde_json::Value>(&sql)
        .bind(cursor.as_ref().map(|cursor| cursor.value.clone()))
        .bind(cursor.as_ref().map(|cursor| cursor.id));
    let values = bind(statement).fetch_all(pool).await?;
    values
        .into_iter()
        .map(|value| {
            let cursor = Cursor {
                value: json_text(&value[sort_column]),
                id: value[id_column]
                    .as_str()
                    .and_then(|text| text.parse().ok())
                    .unwrap_or_default(),
            }
            .encode();
            Ok((serde_json::from_value(value)?, cursor))
        })
        .collect()
}

/// What [`list_page`] lists.
pub(crate) struct ListQuery<'a> {
    pub table: &'a str,
    pub id_column: &'a str,
    pub sort_column: &'a str,
    pub sort_cast: &'a str,
    pub filter: &'a str,
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
