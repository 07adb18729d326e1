//! Read model `requests`: one row per request (`requests`) and the audit of every change
//! (`request_changes`: who changed which field when, previous → new, PRODUCT §5).
//!
//! ```sql
//! -- overdue now
//! SELECT * FROM requests WHERE status IN ('open','pending') AND due_at < now();
//! -- history of one request
//! SELECT * FROM request_changes WHERE request_id = $1 ORDER BY sequence, field;
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::request::RequestEvent;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::keyset::{self, Filter, ListSpec, PageQuery, Param, Rows, SortType};
use super::workers::like_pattern;
use super::{decode, get_row, load_rows, micros, unique, upsert_rows, ReadError};
use crate::projector::{Projection, ProjectionError};
use journal::StoredEvent;

/// A row of `requests`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestRow {
    pub request_id: Uuid,
    pub customer_id: Uuid,
    pub call_id: Option<Uuid>,
    pub message: String,
    pub priority: String,
    pub request_type: String,
    /// `open | pending | solved | closed`.
    pub status: String,
    pub assignee: Option<Uuid>,
    pub due_at: DateTime<Utc>,
    pub due_at_explicit: bool,
    /// `none | due_soon | overdue`.
    pub alert: String,
    pub opened_by: Option<Uuid>,
    pub opened_at: DateTime<Utc>,
    pub solved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

const COLUMNS: &[&str] = &[
    "request_id",
    "customer_id",
    "call_id",
    "message",
    "priority",
    "request_type",
    "status",
    "assignee",
    "due_at",
    "due_at_explicit",
    "alert",
    "opened_by",
    "opened_at",
    "solved_at",
    "closed_at",
    "updated_at",
    "version",
];

/// A row of `request_changes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestChangeRow {
    pub request_id: Uuid,
    pub sequence: i64,
    pub field: String,
    pub old_value: Option<Value>,
    pub new_value: Option<Value>,
    pub changed_by: Option<Uuid>,
    pub changed_at: DateTime<Utc>,
}

const CHANGE_COLUMNS: &[&str] = &[
    "request_id",
    "sequence",
    "field",
    "old_value",
    "new_value",
    "changed_by",
    "changed_at",
];

/// The `requests` projection.
pub struct RequestsProjection;

impl Projection for RequestsProjection {
    fn name(&self) -> &'static str {
        "requests"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["requests", "request_changes"]
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["request"]
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
    let events = decode::<RequestEvent>(events, "request")?;
    let ids = unique(events.iter().map(|(id, _, _)| *id));
    let mut rows: HashMap<Uuid, RequestRow> =
        load_rows::<RequestRow>(connection, "requests", "request_id", &ids, "")
            .await?
            .into_iter()
            .map(|row| (row.request_id, row))
            .collect();
    let mut changes = Vec::new();
    for (id, sequence, event) in events {
        if let RequestEvent::Opened {
            customer_id,
            call_id,
            message,
            priority,
            request_type,
            assignee,
            due_at,
            due_at_explicit,
            opened_by,
            at,
            ..
        } = event
        {
            rows.insert(
                id,
                RequestRow {
                    request_id: id,
                    customer_id: customer_id.as_uuid(),
                    call_id: call_id.map(|id| id.as_uuid()),
                    message: message.as_str().to_owned(),
                    priority: priority.as_str().to_owned(),
                    request_type: request_type.as_str().to_owned(),
                    status: "open".to_owned(),
                    assignee: assignee.map(|id| id.as_uuid()),
                    due_at: micros(due_at),
                    due_at_explicit,
                    alert: "none".to_owned(),
                    opened_by: opened_by.map(|id| id.as_uuid()),
                    opened_at: micros(at),
                    solved_at: None,
                    closed_at: None,
                    updated_at: micros(at),
                    version: sequence,
                },
            );
            continue;
        }
        let Some(row) = rows.get_mut(&id) else {
            tracing::warn!(request_id = %id, "request event before it was opened; skipped");
            continue;
        };
        row.version = sequence;
        let mut change = |field: &str, old: Value, new: Value, by: Option<Uuid>, at| {
            changes.push(RequestChangeRow {
                request_id: id,
                sequence,
                field: field.to_owned(),
                old_value: Some(old),
                new_value: Some(new),
                changed_by: by,
                changed_at: micros(at),
            })
        };
        match event {
            RequestEvent::Opened { .. } => {}
            RequestEvent::Updated {
                message,
                priority,
                request_type,
                assignee,
                due_at,
                by,
                at,
            } => {
                let by = by.map(|id| id.as_uuid());
                row.updated_at = micros(at);
                if let Some(message) = message {
                    row.message = message.to.as_str().to_owned();
                    change("message", json!(message.from), json!(message.to), by, at);
                }
                if let Some(priority) = priority {
                    row.priority = priority.to.as_str().to_owned();
                    change("priority", json!(priority.from), json!(priority.to), by, at);
                }
                if let Some(request_type) = request_type {
                    row.request_type = request_type.to.as_str().to_owned();
                    change(
                        "request_type",
                        json!(request_type.from),
                        json!(request_type.to),
                        by,
                        at,
                    );
                }
                if let Some(assignee) = assignee {
                    row.assignee = assignee.to.map(|id| id.as_uuid());
                    change("assignee", json!(assignee.from), json!(assignee.to), by, at);
                }
                if let Some(due) = due_at {
                    row.due_at = micros(due.to);
                    row.due_at_explicit = due.explicit;
                    row.alert = "none".to_owned();
                    change("due_at", json!(due.from), json!(due.to), by, at);
                }
            }
            RequestEvent::MarkedPending { from, by, at } => {
                row.status = "pending".to_owned();
                row.updated_at = micros(at);
                change(
                    "status",
                    json!(from),
                    json!("pending"),
                    by.map(|id| id.as_uuid()),
                    at,
                );
            }
            RequestEvent::Solved { from, by, at } => {
                row.status = "solved".to_owned();
                row.solved_at = Some(micros(at));
                row.updated_at = micros(at);
                change(
                    "status",
                    json!(from),
                    json!("solved"),
                    by.map(|id| id.as_uuid()),
                    at,
                );
            }
            RequestEvent::Reopened { from, by, at } => {
                row.status = "open".to_owned();
                row.solved_at = None;
                row.updated_at = micros(at);
                change(
                    "status",
                    json!(from),
                    json!("open"),
                    by.map(|id| id.as_uuid()),
                    at,
                );
            }
            RequestEvent::Closed { from, by, at } => {
                row.status = "closed".to_owned();
                row.closed_at = Some(micros(at));
                row.updated_at = micros(at);
                change(
                    "status",
                    json!(from),
                    json!("closed"),
                    by.map(|id| id.as_uuid()),
                    at,
                );
            }
            RequestEvent::DueSoonRaised { .. } => row.alert = "due_soon".to_owned(),
            RequestEvent::OverdueRaised { .. } => row.alert = "overdue".to_owned(),
        }
    }
    let changed: Vec<RequestRow> = ids.iter().filter_map(|id| rows.remove(id)).collect();
    upsert_rows(connection, "requests", &["request_id"], COLUMNS, &changed).await?;
    upsert_rows(
        connection,
        "request_changes",
        &["request_id", "sequence", "field"],
        CHANGE_COLUMNS,
        &changes,
    )
    .await
}

/// The changes of a request, oldest first.
pub async fn changes(pool: &PgPool, request_id: Uuid) -> Result<Vec<RequestChangeRow>, ReadError> {
    let values: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT to_jsonb(t) FROM request_changes t WHERE request_id = $1 ORDER BY sequence, field",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    Ok(values
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?)
}

/// Sort keys of [`list`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestSort {
    #[default]
    OpenedAt,
    DueAt,
    UpdatedAt,
}

/// Filters of [`list`] (each only in the SQL when given).
#[derive(Clone, Debug, Default)]
pub struct RequestFilter {
    pub customer_id: Option<Uuid>,
    pub assignee: Option<Uuid>,
    /// A status keyword (`open`, `pending`, `solved`, `closed`).
    pub status: Option<String>,
    /// A priority keyword (`low`, `normal`, `high`, `urgent`).
    pub priority: Option<String>,
    /// Inclusive.
    pub opened_from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub opened_until: Option<DateTime<Utc>>,
    /// Inclusive.
    pub due_from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub due_until: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the message (LIKE wildcards are escaped).
    pub search: Option<String>,
    /// Only open or pending requests with an alert raised (`requestAlerts`).
    pub alerted: bool,
}

/// The request `id` (`request(id)`); `None` when the read model has no such request.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<RequestRow>, ReadError> {
    get_row(pool, "requests", "request_id", id).await
}

/// A page of requests (`requests`, `requestAlerts`, the CSV export); each sort key has its
/// `requests_by_<key>` index.
pub async fn list(
    pool: &PgPool,
    filter: &RequestFilter,
    sort: RequestSort,
    page: &PageQuery,
) -> Result<Rows<RequestRow>, ReadError> {
    let sort = match sort {
        RequestSort::OpenedAt => "opened_at",
        RequestSort::DueAt => "due_at",
        RequestSort::UpdatedAt => "updated_at",
    };
    let mut conditions = Filter::new()
        .maybe("customer_id = ?::uuid", filter.customer_id, Param::Uuid)
        .maybe("assignee = ?::uuid", filter.assignee, Param::Uuid)
        .maybe("status = ?::text", filter.status.clone(), Param::Text)
        .maybe("priority = ?::text", filter.priority.clone(), Param::Text)
        .maybe(
            "opened_at >= ?::timestamptz",
            filter.opened_from,
            Param::Time,
        )
        .maybe(
            "opened_at < ?::timestamptz",
            filter.opened_until,
            Param::Time,
        )
        .maybe("due_at >= ?::timestamptz", filter.due_from, Param::Time)
        .maybe("due_at < ?::timestamptz", filter.due_until, Param::Time)
        .maybe(
            "message ILIKE ?::text",
            filter.search.as_deref().map(like_pattern),
            Param::Text,
        );
    if filter.alerted {
        conditions = conditions.fixed("alert <> 'none' AND status IN ('open', 'pending')");
    }
    keyset::read(
        pool,
        ListSpec {
            table: "requests",
            id_column: "request_id",
            sort,
            sort_type: SortType::Time,
        },
        &conditions,
        page,
    )
    .await
}

/// The open or pending requests of a customer, oldest due first (the screen pop).
pub async fn active_of_customer(
    pool: &PgPool,
    customer_id: Uuid,
    limit: i64,
) -> Result<Vec<RequestRow>, ReadError> {
    let values: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT to_jsonb(t) FROM requests t WHERE customer_id = $1 \
         AND status IN ('open', 'pending') ORDER BY due_at, request_id LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(values
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?)
}

/// How many open or pending requests are past their due date now (the wallboard).
pub async fn overdue_count(pool: &PgPool) -> Result<i64, ReadError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM requests WHERE status IN ('open', 'pending') AND due_at < now()",
    )
    .fetch_one(pool)
    .await?)
}
