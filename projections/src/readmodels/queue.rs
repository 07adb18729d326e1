//! Read model `queue`: the calls waiting right now (`queue_calls`), queued or ringing, in FIFO
//! order. A call leaves the table when it is connected or reaches a terminal state.
//!
//! ```sql
//! SELECT queue, count(*), now() - min(queued_at) AS oldest_wait FROM queue_calls GROUP BY queue;
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::call::CallEvent;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{decode, delete_rows, load_rows, micros, unique, upsert_rows, ReadError};
use crate::projector::{Projection, ProjectionError};
use journal::StoredEvent;

/// A row of `queue_calls`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedCallRow {
    pub call_id: Uuid,
    pub queue: String,
    pub caller_number: String,
    pub customer_id: Option<Uuid>,
    pub queued_at: DateTime<Utc>,
    /// The agent whose phone rings for it, if any.
    pub ringing_agent: Option<Uuid>,
    pub attempts: i32,
}

const COLUMNS: &[&str] = &[
    "call_id",
    "queue",
    "caller_number",
    "customer_id",
    "queued_at",
    "ringing_agent",
    "attempts",
];

/// The `queue` projection.
pub struct QueueProjection;

impl Projection for QueueProjection {
    fn name(&self) -> &'static str {
        "queue"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["queue_calls"]
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["call"]
    }

    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(apply(connection, events))
    }
}

async fn apply(
    connection: &mut PgConnection,
    events: &[StoredEvent],
) -> Result<(), ProjectionError> {
    let events = decode::<CallEvent>(events, "call")?;
    let ids = unique(events.iter().map(|(id, _, _)| *id));
    let mut rows: HashMap<Uuid, Option<QueuedCallRow>> =
        load_rows::<QueuedCallRow>(connection, "queue_calls", "call_id", &ids, "")
            .await?
            .into_iter()
            .map(|row| (row.call_id, Some(row)))
            .collect();
    for (id, _, event) in events {
        match event {
            CallEvent::Queued {
                caller_number,
                customer_id,
                queue,
                at,
                ..
            } => {
                rows.insert(
                    id,
                    Some(QueuedCallRow {
                        call_id: id,
                        queue,
                        caller_number,
                        customer_id: customer_id.map(|id| id.as_uuid()),
                        queued_at: micros(at),
                        ringing_agent: None,
                        attempts: 0,
                    }),
                );
            }
            CallEvent::Offered { attempt, agent, .. } => {
                if let Some(Some(row)) = rows.get_mut(&id) {
                    row.ringing_agent = Some(agent.as_uuid());
                    row.attempts = i32::try_from(attempt).unwrap_or(i32::MAX);
                }
            }
            CallEvent::OfferFailed { .. } => {
                if let Some(Some(row)) = rows.get_mut(&id) {
                    row.ringing_agent = None;
                }
            }
            CallEvent::CustomerLinked { customer_id, .. } => {
                if let Some(Some(row)) = rows.get_mut(&id) {
                    row.customer_id = Some(customer_id.as_uuid());
                }
            }
            CallEvent::Connected { .. }
            | CallEvent::Abandoned { .. }
            | CallEvent::Rejected { .. }
            | CallEvent::Ended { .. } => {
                rows.insert(id, None);
            }
        }
    }
    let mut gone = Vec::new();
    let mut waiting = Vec::new();
    for id in ids {
        match rows.remove(&id) {
            Some(Some(row)) => waiting.push(row),
            Some(None) => gone.push(id),
            None => {}
        }
    }
    delete_rows(connection, "queue_calls", "call_id", &gone).await?;
    upsert_rows(connection, "queue_calls", &["call_id"], COLUMNS, &waiting).await
}

/// The waiting calls of every queue, oldest first (`queueStatus`).
pub async fn waiting(pool: &PgPool) -> Result<Vec<QueuedCallRow>, ReadError> {
    let values: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT to_jsonb(t) FROM queue_calls t ORDER BY queued_at, call_id")
            .fetch_all(pool)
            .await?;
    Ok(values
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?)
}

/// The queue at a glance (the wallboard).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueSummary {
    /// Calls waiting, ringing ones included.
    pub waiting: i64,
    /// Calls waiting whose offer is ringing.
    pub ringing: i64,
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

/// How many calls wait and since when.
pub async fn summary(pool: &PgPool) -> Result<QueueSummary, ReadError> {
    let (waiting, ringing, oldest_queued_at): (i64, i64, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT count(*), count(ringing_agent), min(queued_at) FROM queue_calls")
            .fetch_one(pool)
            .await?;
    Ok(QueueSummary {
        waiting,
        ringing,
        oldest_queued_at,
    })
}
