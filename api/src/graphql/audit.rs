//! Audit and history (PRODUCT §9, admins): `history(aggregateType, aggregateId)` and
//! `actorActivity(actor, from, until)` (Relay connections over the log, keyset on the event
//! table's indexes), `stateAt(aggregateType, aggregateId, version, at)`, `projections`
//! (checkpoint and lag of each read model) and `rebuildProjection(name)`.
//!
//! `rebuildProjection` starts the rebuild in the background and answers at once: a rebuild
//! reads the whole log and can take minutes, longer than an HTTP request should. Progress and
//! the result go to the server log; `projections` shows the checkpoint moving.

use std::sync::Arc;

use async_graphql::{Context, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use projections::audit::{self, AsOf, AuditError};
use projections::{projector, Actor, EventStore, StoreError, StoredEvent};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

use super::connection::{page, CursorKey, Direction, Page, PageRequest};
use super::context::{require_admin, state};
use super::error::ApiError;
use super::events::LogEventView;

/// The columns `StoredEvent::from_row` reads.
const EVENT_COLUMNS: &str = "position, tx_id::text::bigint AS tx_id, event_id, \
     aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, \
     recorded_at";

/// Reads a page of events (`limit + 1` rows in the request's direction), upcast.
async fn fetch_events(
    store: &EventStore,
    query: Query<'_, Postgres, PgArguments>,
) -> Result<Vec<StoredEvent>, ApiError> {
    let rows = query
        .fetch_all(store.pool())
        .await
        .map_err(StoreError::Database)?;
    rows.iter()
        .map(|row| {
            StoredEvent::from_row(row)
                .map(|event| store.upcast(event))
                .map_err(|error| StoreError::Database(error).into())
        })
        .collect()
}

fn cursor_number(cursor: &CursorKey, field: &str) -> Result<(i64, i64), ApiError> {
    let invalid = || ApiError::validation(field, "is not a valid cursor");
    Ok((
        cursor.sort.parse().map_err(|_| invalid())?,
        cursor.id.parse().map_err(|_| invalid())?,
    ))
}

fn cursor_time(cursor: &CursorKey, field: &str) -> Result<(DateTime<Utc>, i64), ApiError> {
    let invalid = || ApiError::validation(field, "is not a valid cursor");
    Ok((
        DateTime::parse_from_rfc3339(&cursor.sort)
            .map_err(|_| invalid())?
            .with_timezone(&Utc),
        cursor.id.parse().map_err(|_| invalid())?,
    ))
}

fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn audit_error(error: AuditError) -> ApiError {
    match error {
        AuditError::UnknownAggregateType(_) => ApiError::validation(
            "aggregateType",
            format!("must be one of {}", audit::AGGREGATE_TYPES.join(", ")),
        ),
        AuditError::Store(error) => error.into(),
        other => ApiError::internal(other),
    }
}

fn check_id(aggregate_id: &str) -> Result<(), ApiError> {
    if aggregate_id.is_empty() || aggregate_id.len() > 200 {
        return Err(ApiError::validation(
            "aggregateId",
            "must be 1 to 200 characters",
        ));
    }
    Ok(())
}

/// An aggregate's state at a point of its history.
#[derive(SimpleObject, Clone, Debug)]
pub struct AggregateStateView {
    /// The sequence of the last event folded (0: the aggregate did not exist yet).
    pub version: i64,
    pub recorded_at: Option<DateTime<Utc>>,
    /// The domain aggregate, serialised.
    pub state: Json<serde_json::Value>,
}

/// Where one projection stands.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProjectionStatusView {
    pub name: String,
    /// The global position of the last event applied.
    pub position: i64,
    /// Readable events not applied yet.
    pub lag: i64,
}

/// The answer of `rebuildProjection`.
#[derive(SimpleObject, Clone, Debug)]
pub struct RebuildStarted {
    /// The projections being rebuilt, in order.
    pub projections: Vec<String>,
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Every event of one aggregate, oldest first (admins): who (metadata.actor) changed what
    /// (payload), when (recordedAt). `aggregateType`: worker, customer, call, request,
    /// backup_run. A Relay connection in sequence order (`first`/`after` forward in time,
    /// `last`/`before` back), at most 100 a page.
    #[allow(clippy::too_many_arguments)]
    async fn history(
        &self,
        context: &Context<'_>,
        aggregate_type: String,
        aggregate_id: String,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<LogEventView>, ApiError> {
        require_admin(context)?;
        check_id(&aggregate_id)?;
        if !audit::AGGREGATE_TYPES.contains(&aggregate_type.as_str()) {
            return Err(audit_error(AuditError::UnknownAggregateType(
                aggregate_type,
            )));
        }
        let request = PageRequest::parse(first, after, last, before)?;
        let after = request
            .after
            .as_ref()
            .map(|cursor| cursor_number(cursor, "after"))
            .transpose()?;
        let before = request
            .before
            .as_ref()
            .map(|cursor| cursor_number(cursor, "before"))
            .transpose()?;
        let order = match request.direction {
            Direction::Forward => "ASC",
            Direction::Backward => "DESC",
        };
        let store = &state(context)?.store;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
               AND ($3::bigint IS NULL OR sequence > $3) AND ($4::bigint IS NULL OR sequence < $4) \
             ORDER BY sequence {order} LIMIT $5"
        );
        let events = fetch_events(
            store,
            sqlx::query(&sql)
                .bind(&aggregate_type)
                .bind(&aggregate_id)
                .bind(after.map(|(sequence, _)| sequence))
                .bind(before.map(|(sequence, _)| sequence))
                .bind(request.fetch_limit()),
        )
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM events WHERE aggregate_type = $1 AND aggregate_id = $2",
        )
        .bind(&aggregate_type)
        .bind(&aggregate_id)
        .fetch_one(store.pool())
        .await?;
        let rows = events
            .into_iter()
            .map(|event| {
                let key = CursorKey {
                    sort: event.sequence.to_string(),
                    id: event.position().to_string(),
                };
                (key, LogEventView(Arc::new(event)))
            })
            .collect();
        Ok(page(&request, rows, total))
    }

    /// What one actor did in `[from, until)` (admins), oldest first: `actor` is
    /// `worker:<id>`, `ingest_token:<id>`, `ari` or `system` (as `metadata.actor` holds it).
    /// A Relay connection in `(recordedAt, position)` order over the `events_actor` index.
    #[allow(clippy::too_many_arguments)]
    async fn actor_activity(
        &self,
        context: &Context<'_>,
        actor: String,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<LogEventView>, ApiError> {
        require_admin(context)?;
        let actor: Actor = actor.trim().parse().map_err(|_| {
            ApiError::validation(
                "actor",
                "must be worker:<id>, ingest_token:<id>, ari or system",
            )
        })?;
        if until <= from {
            return Err(ApiError::validation("until", "must be after from"));
        }
        let request = PageRequest::parse(first, after, last, before)?;
        let after = request
            .after
            .as_ref()
            .map(|cursor| cursor_time(cursor, "after"))
            .transpose()?;
        let before = request
            .before
            .as_ref()
            .map(|cursor| cursor_time(cursor, "before"))
            .transpose()?;
        let order = match request.direction {
            Direction::Forward => "recorded_at ASC, position ASC",
            Direction::Backward => "recorded_at DESC, position DESC",
        };
        let store = &state(context)?.store;
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE metadata ->> 'actor' = $1 AND recorded_at >= $2 AND recorded_at < $3 \
               AND ($4::timestamptz IS NULL OR (recorded_at, position) > ($4, $5::bigint)) \
               AND ($6::timestamptz IS NULL OR (recorded_at, position) < ($6, $7::bigint)) \
             ORDER BY {order} LIMIT $8"
        );
        let events = fetch_events(
            store,
            sqlx::query(&sql)
                .bind(actor.to_string())
                .bind(from)
                .bind(until)
                .bind(after.map(|(at, _)| at))
                .bind(after.map(|(_, position)| position))
                .bind(before.map(|(at, _)| at))
                .bind(before.map(|(_, position)| position))
                .bind(request.fetch_limit()),
        )
        .await?;
        let (total,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM events \
             WHERE metadata ->> 'actor' = $1 AND recorded_at >= $2 AND recorded_at < $3",
        )
        .bind(actor.to_string())
        .bind(from)
        .bind(until)
        .fetch_one(store.pool())
        .await?;
        let rows = events
            .into_iter()
            .map(|event| {
                let key = CursorKey {
                    sort: time_text(event.recorded_at),
                    id: event.position().to_string(),
                };
                (key, LogEventView(Arc::new(event)))
            })
            .collect();
        Ok(page(&request, rows, total))
    }

    /// An aggregate's state after event `version`, or as of instant `at`, or now (admins).
    async fn state_at(
        &self,
        context: &Context<'_>,
        aggregate_type: String,
        aggregate_id: String,
        version: Option<i64>,
        at: Option<DateTime<Utc>>,
    ) -> Result<AggregateStateView, ApiError> {
        require_admin(context)?;
        check_id(&aggregate_id)?;
        let as_of = match (version, at) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "at",
                    "cannot be combined with version",
                ))
            }
            (Some(version), None) if version < 0 => {
                return Err(ApiError::validation("version", "must not be negative"))
            }
            (Some(version), None) => AsOf::Version(version),
            (None, Some(at)) => AsOf::Time(at),
            (None, None) => AsOf::Latest,
        };
        let found = audit::state_at(
            &state(context)?.store,
            &aggregate_type,
            &aggregate_id,
            as_of,
        )
        .await
        .map_err(audit_error)?;
        Ok(AggregateStateView {
            version: found.version,
            recorded_at: found.recorded_at,
            state: Json(found.state),
        })
    }

    /// The checkpoint and lag of every read model (admins).
    async fn projections(
        &self,
        context: &Context<'_>,
    ) -> Result<Vec<ProjectionStatusView>, ApiError> {
        require_admin(context)?;
        let statuses = projector::status(&state(context)?.pool).await?;
        Ok(statuses
            .into_iter()
            .map(|status| ProjectionStatusView {
                name: status.name.to_owned(),
                position: status.checkpoint.position,
                lag: status.lag,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct AuditMutation;

#[Object]
impl AuditMutation {
    /// Rebuilds a read model (every one when `name` is absent) from the log, in the
    /// background, without stopping the service (admins). Answers at once; unknown names are
    /// `VALIDATION`.
    async fn rebuild_projection(
        &self,
        context: &Context<'_>,
        name: Option<String>,
    ) -> Result<RebuildStarted, ApiError> {
        require_admin(context)?;
        let names: Vec<String> = match name.as_deref().map(str::trim) {
            Some(name) => {
                let projection = projector::projection_named(name)
                    .ok_or_else(|| ApiError::validation("name", "is not a projection"))?;
                vec![projection.name().to_owned()]
            }
            None => projector::all_projections()
                .iter()
                .map(|projection| projection.name().to_owned())
                .collect(),
        };
        let store = state(context)?.store.clone();
        let only = name.map(|name| name.trim().to_owned());
        tokio::spawn(async move {
            let mut progress = |_: &projections::rebuild::RebuildProgress| {};
            match projections::rebuild::rebuild_named(&store, only.as_deref(), &mut progress).await
            {
                Ok(reports) => {
                    for report in reports {
                        tracing::info!(
                            projection = report.projection,
                            events = report.events,
                            "projection rebuilt"
                        );
                    }
                }
                Err(error) => tracing::error!(%error, "projection rebuild failed"),
            }
        });
        Ok(RebuildStarted { projections: names })
    }
}
