//! Read model `workers`: one row per worker with profile, role, active flag and live presence.
//!
//! ```sql
//! -- the wallboard: agents by state with time in state
//! SELECT name, state, now() - state_since AS in_state FROM workers WHERE active ORDER BY state;
//! -- routing order among available agents: longest idle first, then fewest calls today
//! SELECT worker_id FROM workers WHERE active AND state = 'available'
//! ORDER BY idle_since, CASE WHEN calls_day = current_date THEN calls_today ELSE 0 END, worker_id;
//! ```

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::worker::{Presence, PresenceKind, Worker, WorkerEvent};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::keyset::{self, Filter, ListSpec, PageQuery, Param, Rows, SortType};
use super::{decode, get_row, load_rows, micros, unique, upsert_rows, ReadError};
use crate::projector::{Projection, ProjectionError};
use journal::StoredEvent;

/// A row of `workers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerRow {
    pub worker_id: Uuid,
    pub name: String,
    pub email: String,
    pub role: String,
    pub endpoint: Option<String>,
    /// The avatar picture's URL (`WorkerAvatarChanged`); `None`: none.
    #[serde(default)]
    pub avatar_url: Option<String>,
    pub active: bool,
    /// `offline | available | paused | offered | on_call | wrap_up`.
    pub state: String,
    pub pause_reason: Option<String>,
    pub call_id: Option<Uuid>,
    pub wrap_up_until: Option<DateTime<Utc>>,
    pub state_since: DateTime<Utc>,
    pub idle_since: Option<DateTime<Utc>>,
    /// The UTC day `calls_today` counts.
    pub calls_day: Option<NaiveDate>,
    pub calls_today: i32,
    pub registered_at: DateTime<Utc>,
    pub version: i64,
}

impl WorkerRow {
    /// Calls answered on the UTC day of `now`.
    pub fn calls_on(&self, now: DateTime<Utc>) -> i32 {
        if self.calls_day == Some(now.date_naive()) {
            self.calls_today
        } else {
            0
        }
    }

    /// The row in `presence` (the domain's answer for the event) from `at`.
    fn enter(&mut self, presence: &Presence, at: DateTime<Utc>) {
        self.state = presence.kind().as_str().to_owned();
        self.state_since = micros(at);
        self.pause_reason = match presence {
            Presence::Paused { reason } => Some(reason.as_str().to_owned()),
            _ => None,
        };
        self.call_id = presence.call_id().map(|call_id| call_id.as_uuid());
        self.wrap_up_until = match presence {
            Presence::WrapUp { until } => Some(micros(*until)),
            _ => None,
        };
        if *presence == Presence::Available {
            self.idle_since = Some(micros(at));
        }
    }
}

const COLUMNS: &[&str] = &[
    "worker_id",
    "name",
    "email",
    "role",
    "endpoint",
    "avatar_url",
    "active",
    "state",
    "pause_reason",
    "call_id",
    "wrap_up_until",
    "state_since",
    "idle_since",
    "calls_day",
    "calls_today",
    "registered_at",
    "version",
];

/// The `workers` projection.
pub struct WorkersProjection;

impl Projection for WorkersProjection {
    fn name(&self) -> &'static str {
        "workers"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["workers"]
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["worker"]
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
    let events = decode::<WorkerEvent>(events, <Worker as cqrs_es::Aggregate>::TYPE)?;
    let ids = unique(events.iter().map(|(id, _, _)| *id));
    let mut rows: HashMap<Uuid, WorkerRow> =
        load_rows::<WorkerRow>(connection, "workers", "worker_id", &ids, "")
            .await?
            .into_iter()
            .map(|row| (row.worker_id, row))
            .collect();
    for (id, sequence, event) in events {
        apply_event(&mut rows, id, event);
        if let Some(row) = rows.get_mut(&id) {
            row.version = sequence;
        }
    }
    let changed: Vec<WorkerRow> = ids.iter().filter_map(|id| rows.remove(id)).collect();
    upsert_rows(connection, "workers", &["worker_id"], COLUMNS, &changed).await
}

fn apply_event(rows: &mut HashMap<Uuid, WorkerRow>, id: Uuid, event: WorkerEvent) {
    if let WorkerEvent::Registered {
        name,
        email,
        role,
        endpoint,
        at,
    } = &event
    {
        rows.insert(
            id,
            WorkerRow {
                worker_id: id,
                name: name.as_str().to_owned(),
                email: email.as_str().to_owned(),
                role: role.as_str().to_owned(),
                endpoint: endpoint
                    .as_ref()
                    .map(|endpoint| endpoint.as_str().to_owned()),
                avatar_url: None,
                active: true,
                state: PresenceKind::Offline.as_str().to_owned(),
                pause_reason: None,
                call_id: None,
                wrap_up_until: None,
                state_since: micros(*at),
                idle_since: None,
                calls_day: None,
                calls_today: 0,
                registered_at: micros(*at),
                version: 0,
            },
        );
        return;
    }
    let Some(row) = rows.get_mut(&id) else {
        tracing::warn!(worker_id = %id, "worker event before registration; skipped");
        return;
    };
    if let Some(presence) = Presence::after(&event) {
        row.enter(&presence, event.at());
    }
    match event {
        WorkerEvent::ProfileUpdated {
            name,
            email,
            endpoint,
            ..
        } => {
            if let Some(name) = name {
                row.name = name.to.as_str().to_owned();
            }
            if let Some(email) = email {
                row.email = email.to.as_str().to_owned();
            }
            if let Some(endpoint) = endpoint {
                row.endpoint = endpoint.to.map(|endpoint| endpoint.as_str().to_owned());
            }
        }
        WorkerEvent::AvatarChanged { avatar_url, .. } => {
            row.avatar_url = avatar_url.map(|url| url.as_str().to_owned());
        }
        WorkerEvent::RoleChanged { to, .. } => row.role = to.as_str().to_owned(),
        WorkerEvent::Deactivated { .. } => row.active = false,
        WorkerEvent::OfferAnswered { at, .. } => {
            let day = at.date_naive();
            if row.calls_day == Some(day) {
                row.calls_today += 1;
            } else {
                row.calls_day = Some(day);
                row.calls_today = 1;
            }
        }
        _ => {}
    }
}

/// Sort keys of [`list`] (indexes `workers_by_name`, `workers_by_state_since`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WorkerSort {
    #[default]
    Name,
    StateSince,
}

/// Filters of [`list`] (each only in the SQL when given).
#[derive(Clone, Debug, Default)]
pub struct WorkerFilter {
    /// A presence state keyword (`offline`, `available`, …).
    pub state: Option<String>,
    pub active: Option<bool>,
    /// Case-insensitive substring of the name or email (LIKE wildcards are escaped).
    pub search: Option<String>,
}

/// The worker `id` (`worker(id)`); `None` when the read model has no such worker.
pub async fn get(pool: &PgPool, id: Uuid) -> Result<Option<WorkerRow>, ReadError> {
    get_row(pool, "workers", "worker_id", id).await
}

/// A page of workers (`workers`).
pub async fn list(
    pool: &PgPool,
    filter: &WorkerFilter,
    sort: WorkerSort,
    page: &PageQuery,
) -> Result<Rows<WorkerRow>, ReadError> {
    let (sort, sort_type) = match sort {
        WorkerSort::Name => ("name", SortType::Text),
        WorkerSort::StateSince => ("state_since", SortType::Time),
    };
    let conditions = Filter::new()
        .maybe("state = ?::text", filter.state.clone(), Param::Text)
        .maybe("active = ?::bool", filter.active, Param::Bool)
        .maybe(
            "name ILIKE ?::text OR email ILIKE ?::text",
            filter.search.as_deref().map(like_pattern),
            Param::Text,
        );
    keyset::read(
        pool,
        ListSpec {
            table: "workers",
            id_column: "worker_id",
            sort,
            sort_type,
        },
        &conditions,
        page,
    )
    .await
}

/// The active workers by name, then id (the wallboard).
pub async fn active_by_name(pool: &PgPool) -> Result<Vec<WorkerRow>, ReadError> {
    let values: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT to_jsonb(t) FROM workers t WHERE active ORDER BY name, worker_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(values
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?)
}

/// How many active workers are in each presence state (states nobody is in are absent).
pub async fn active_by_state(pool: &PgPool) -> Result<Vec<(String, i64)>, ReadError> {
    Ok(sqlx::query_as(
        "SELECT state, count(*) FROM workers WHERE active GROUP BY state ORDER BY state",
    )
    .fetch_all(pool)
    .await?)
}

/// The names of `workers` (the CSV exports).
pub async fn names(pool: &PgPool, workers: &[Uuid]) -> Result<HashMap<Uuid, String>, ReadError> {
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT worker_id, name FROM workers WHERE worker_id = ANY($1)")
            .bind(workers)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

/// `%text%` with `%`, `_` and `\` escaped, for ILIKE.
pub fn like_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern.push('%');
    pattern
}
