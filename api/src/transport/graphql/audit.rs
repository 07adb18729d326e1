//! Audit and history (PRODUCT §9, admins): `history(aggregateType, aggregateId)`,
//! `stateAt(aggregateType, aggregateId, version, at)`, `projections` (checkpoint and lag of
//! each read model) and `rebuildProjection(name)`.
//!
//! `rebuildProjection` starts the rebuild in the background and answers at once: a rebuild
//! reads the whole log and can take minutes, longer than an HTTP request should. Progress and
//! the result go to the server log; `projections` shows the checkpoint moving.

use async_graphql::{Context, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use projections::audit::{self, AsOf, AuditError};
use projections::projector;

use super::context::{require_admin, state};
use super::error::ApiError;
use super::events::LogEventView;

/// The most events `history` returns.
const MAX_HISTORY: usize = 10_000;

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
    /// backup_run.
    async fn history(
        &self,
        context: &Context<'_>,
        aggregate_type: String,
        aggregate_id: String,
    ) -> Result<Vec<LogEventView>, ApiError> {
        require_admin(context)?;
        check_id(&aggregate_id)?;
        let events = audit::history(&state(context)?.store, &aggregate_type, &aggregate_id)
            .await
            .map_err(audit_error)?;
        Ok(events
            .into_iter()
            .take(MAX_HISTORY)
            .map(LogEventView::from)
            .collect())
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
        let app = state(context)?;
        let store = app.store.clone();
        let shutdown = app.shutdown.clone();
        let only = name.map(|name| name.trim().to_owned());
        app.tasks.spawn(async move {
            let mut progress = |_: &projections::rebuild::RebuildProgress| {};
            let rebuilt = tokio::select! {
                rebuilt = projections::rebuild::rebuild_named(&store, only.as_deref(), &mut progress) => rebuilt,
                () = shutdown.cancelled() => {
                    // Dropping the rebuild rolls its open transaction back and closes its lock
                    // connection; the live tables were not touched (shadows are swapped in at
                    // the end, in one transaction).
                    tracing::info!("projection rebuild stopped by shutdown");
                    return;
                }
            };
            match rebuilt {
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
