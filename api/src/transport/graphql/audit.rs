//! Audit and history (PRODUCT §9, admins): `history(aggregateType, aggregateId)` and
//! `actorActivity(actor, from, until)` (Relay connections over the log, keyset on the event
//! table's indexes), `stateAt(aggregateType, aggregateId, version, at)`, `projections`
//! (checkpoint and lag of each read model) and `rebuildProjection(name)`.
//!
//! `rebuildProjection` starts the rebuild in the background and answers at once: a rebuild
//! reads the whole log and can take minutes, longer than an HTTP request should. Progress
//! (events done / total, every 250 ms at most) and the end are recorded in
//! `projection_rebuilds`, so `projections { rebuild { … } }` shows them on every instance.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use journal::audit::{self, AsOf, AuditError};
use journal::{Actor, EventStore, StoreError, StoredEvent, EVENT_COLUMNS};
use projections::projector;
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::Postgres;

use super::connection::{page, CursorKey, Direction, Page, PageRequest};
use super::context::{require_admin, state};
use super::error::ApiError;
use super::events::LogEventView;

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

/// The `after` and `before` cursors of `request`, each read by `parse`.
type Cursors<T> = (Option<T>, Option<T>);

fn cursors<T>(
    request: &PageRequest,
    parse: fn(&CursorKey, &str) -> Result<T, ApiError>,
) -> Result<Cursors<T>, ApiError> {
    let after = request
        .after
        .as_ref()
        .map(|cursor| parse(cursor, "after"))
        .transpose()?;
    let before = request
        .before
        .as_ref()
        .map(|cursor| parse(cursor, "before"))
        .transpose()?;
    Ok((after, before))
}

/// The Relay page of log `events` (`total` matching), each cursor its `sort` key and position.
fn event_page(
    request: &PageRequest,
    events: Vec<StoredEvent>,
    total: i64,
    sort: fn(&StoredEvent) -> String,
) -> Page<LogEventView> {
    let rows = events
        .into_iter()
        .map(|event| {
            let key = CursorKey {
                sort: sort(&event),
                id: event.position().to_string(),
            };
            (key, LogEventView(Arc::new(event)))
        })
        .collect();
    page(request, rows, total)
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
    /// The latest rebuild of this read model (`rebuildProjection`), from whichever instance
    /// runs it: progress while it runs, its end after; none before the first rebuild.
    pub rebuild: Option<RebuildStatusView>,
}

/// A rebuild's progress: a progress bar is `done / total`.
#[derive(SimpleObject, Clone, Debug)]
pub struct RebuildStatusView {
    /// True from the request until it ends (queued behind another rebuild included).
    pub running: bool,
    pub requested_at: DateTime<Utc>,
    /// When reading the log began; none while queued.
    pub started_at: Option<DateTime<Utc>>,
    /// Events read from the log and applied so far.
    pub done: i64,
    /// Events in the log when the rebuild began (more may come: `done` may pass it).
    pub total: Option<i64>,
    /// `done / total` between 0 and 1; 1 once finished without error.
    pub fraction: Option<f64>,
    /// Events per second so far.
    pub rate: Option<f64>,
    /// Seconds left at the current rate, while running.
    pub eta_secs: Option<f64>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed (the live tables are then untouched).
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RebuildRow {
    name: String,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    done: i64,
    total: Option<i64>,
    finished_at: Option<DateTime<Utc>>,
    error: Option<String>,
}

impl From<RebuildRow> for RebuildStatusView {
    fn from(row: RebuildRow) -> Self {
        let running = row.finished_at.is_none();
        let rate = match (row.started_at, row.updated_at) {
            (Some(started), Some(updated)) if updated > started => {
                let secs = (updated - started).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
                Some(row.done as f64 / secs)
            }
            _ => None,
        };
        let fraction = if !running && row.error.is_none() {
            Some(1.0)
        } else {
            row.total.map(|total| {
                if total > 0 {
                    (row.done as f64 / total as f64).min(1.0)
                } else {
                    0.0
                }
            })
        };
        let eta_secs = match (running, rate, row.total) {
            (true, Some(rate), Some(total)) if rate > 0.0 => {
                Some((total - row.done).max(0) as f64 / rate)
            }
            _ => None,
        };
        Self {
            running,
            requested_at: row.requested_at,
            started_at: row.started_at,
            done: row.done,
            total: row.total,
            fraction,
            rate,
            eta_secs,
            finished_at: row.finished_at,
            error: row.error,
        }
    }
}

/// Records a rebuild's progress in `projection_rebuilds` at most every
/// [`PROGRESS_EVERY`], from the rebuild's (synchronous) progress callback.
#[derive(Clone, Default)]
struct ProgressBoard(Arc<std::sync::Mutex<HashMap<&'static str, (u64, u64)>>>);

const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl ProgressBoard {
    fn note(&self, progress: &projections::rebuild::RebuildProgress) {
        if let Ok(mut board) = self.0.lock() {
            board.insert(progress.projection, (progress.done, progress.total));
        }
    }

    fn take(&self) -> Vec<(&'static str, (u64, u64))> {
        self.0
            .lock()
            .map(|mut board| board.drain().collect())
            .unwrap_or_default()
    }

    async fn flush(&self, pool: &sqlx::PgPool) {
        for (name, (done, total)) in self.take() {
            let result = sqlx::query(
                "UPDATE projection_rebuilds SET done = $2, total = $3, updated_at = now(), \
                   started_at = COALESCE(started_at, now()) \
                 WHERE name = $1 AND finished_at IS NULL",
            )
            .bind(name)
            .bind(i64::try_from(done).unwrap_or(i64::MAX))
            .bind(i64::try_from(total).unwrap_or(i64::MAX))
            .execute(pool)
            .await;
            if let Err(error) = result {
                tracing::warn!(%error, projection = name, "rebuild progress not recorded");
            }
        }
    }
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
        let (after, before) = cursors(&request, cursor_number)?;
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
        Ok(event_page(&request, events, total, |event| {
            event.sequence.to_string()
        }))
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
        let (after, before) = cursors(&request, cursor_time)?;
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
        Ok(event_page(&request, events, total, |event| {
            time_text(event.recorded_at)
        }))
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
        let pool = &state(context)?.pool;
        let statuses = projector::status(pool).await?;
        let mut rebuilds: HashMap<String, RebuildRow> =
            sqlx::query_as::<_, RebuildRow>("SELECT * FROM projection_rebuilds")
                .fetch_all(pool)
                .await?
                .into_iter()
                .map(|row| (row.name.clone(), row))
                .collect();
        Ok(statuses
            .into_iter()
            .map(|status| ProjectionStatusView {
                name: status.name.to_owned(),
                position: status.checkpoint.position,
                lag: status.lag,
                rebuild: rebuilds.remove(status.name).map(Into::into),
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
        let app = state(context)?;
        let store = app.store.clone();
        let pool = app.pool.clone();
        let shutdown = app.shutdown.clone();
        // A fresh row per projection: queued until the rebuild reports progress.
        sqlx::query(
            "INSERT INTO projection_rebuilds (name, requested_at) SELECT unnest($1::text[]), now() \
             ON CONFLICT (name) DO UPDATE SET requested_at = now(), started_at = NULL, \
               updated_at = NULL, done = 0, total = NULL, finished_at = NULL, error = NULL",
        )
        .bind(&names)
        .execute(&pool)
        .await?;
        let only = name.map(|name| name.trim().to_owned());
        let rebuilt = names.clone();
        app.tasks.spawn(async move {
            let board = ProgressBoard::default();
            let finished = tokio_util::sync::CancellationToken::new();
            let recorder = {
                let (board, finished, pool) = (board.clone(), finished.clone(), pool.clone());
                tokio::spawn(async move {
                    let mut every = tokio::time::interval(PROGRESS_EVERY);
                    while !finished.is_cancelled() {
                        tokio::select! {
                            _ = every.tick() => board.flush(&pool).await,
                            () = finished.cancelled() => {}
                        }
                    }
                    board.flush(&pool).await;
                })
            };
            let mut progress = |progress: &projections::rebuild::RebuildProgress| {
                board.note(progress);
            };
            let outcome = tokio::select! {
                outcome = projections::rebuild::rebuild_named(&store, only.as_deref(), &mut progress) => Some(outcome),
                () = shutdown.cancelled() => {
                    // Dropping the rebuild rolls its open transaction back and closes its lock
                    // connection; the live tables were not touched (shadows are swapped in at
                    // the end, in one transaction).
                    tracing::info!("projection rebuild stopped by shutdown");
                    None
                }
            };
            finished.cancel();
            let _ = recorder.await;
            let error = match &outcome {
                None => Some("stopped by shutdown".to_owned()),
                Some(Ok(reports)) => {
                    for report in reports {
                        tracing::info!(
                            projection = report.projection,
                            events = report.events,
                            "projection rebuilt"
                        );
                    }
                    None
                }
                Some(Err(error)) => {
                    tracing::error!(%error, "projection rebuild failed");
                    Some(error.to_string())
                }
            };
            let ended = sqlx::query(
                "UPDATE projection_rebuilds SET finished_at = now(), error = $2, \
                   started_at = COALESCE(started_at, now()), updated_at = COALESCE(updated_at, now()) \
                 WHERE name = ANY($1) AND finished_at IS NULL",
            )
            .bind(&rebuilt)
            .bind(error)
            .execute(&pool)
            .await;
            if let Err(error) = ended {
                tracing::warn!(%error, "rebuild end not recorded");
            }
        });
        Ok(RebuildStarted { projections: names })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("an instant")
    }

    fn row(done: i64, finished: bool, error: Option<&str>) -> RebuildRow {
        RebuildRow {
            name: "customers".into(),
            requested_at: at(0),
            started_at: Some(at(1)),
            updated_at: Some(at(11)),
            done,
            total: Some(1_000),
            finished_at: finished.then(|| at(12)),
            error: error.map(str::to_owned),
        }
    }

    #[test]
    fn a_running_rebuild_shows_its_fraction_rate_and_time_left() {
        let view = RebuildStatusView::from(row(250, false, None));
        assert!(view.running);
        assert_eq!(view.fraction, Some(0.25));
        assert_eq!(view.rate, Some(25.0));
        assert_eq!(view.eta_secs, Some(30.0));
    }

    #[test]
    fn a_queued_rebuild_has_no_rate_and_a_finished_one_no_time_left() {
        let mut queued = row(0, false, None);
        queued.started_at = None;
        queued.updated_at = None;
        queued.total = None;
        let view = RebuildStatusView::from(queued);
        assert!(view.running);
        assert_eq!(
            (view.fraction, view.rate, view.eta_secs),
            (None, None, None)
        );

        let done = RebuildStatusView::from(row(1_000, true, None));
        assert!(!done.running);
        assert_eq!((done.fraction, done.eta_secs), (Some(1.0), None));
        let failed = RebuildStatusView::from(row(400, true, Some("disk full")));
        assert_eq!(failed.fraction, Some(0.4));
        assert_eq!(failed.error.as_deref(), Some("disk full"));
    }
}
