//! What the GraphQL areas share, below all of them (so the area files import it and not each
//! other): the read-your-writes waits of a mutation and of a lookup by id, and the error of a
//! failed read-model read.

use std::time::Duration;

use journal::LogPosition;

use super::error::ApiError;
use crate::transport::state::AppState;

/// How long a mutation waits for the read models to show its events before answering anyway.
pub const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(2);

/// Waits (at most [`READ_YOUR_WRITES_TIMEOUT`]) until the read models `names` (all when empty)
/// have applied `position`, so a list read right after a mutation shows it. A timeout or a
/// database error is logged and ignored: the mutation has been committed either way.
pub async fn wait_for_read_models(state: &AppState, names: &[&str], position: LogPosition) {
    if let Err(error) = state
        .projector
        .wait_for(names, position, READ_YOUR_WRITES_TIMEOUT)
        .await
    {
        tracing::debug!(%error, "read models did not catch up in time");
    }
}

/// How long a lookup by id waits for its read model to show every event of the object before
/// answering `UNAVAILABLE` (longer than a mutation's wait: a lookup has no committed answer of
/// its own to fall back on).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Waits (at most [`LOOKUP_TIMEOUT`]) until the read model `name` has applied the last event of
/// the aggregate `aggregate_type`/`id` committed so far, so a lookup by id served from the read
/// model answers what a fold of the aggregate's events answers. `UNAVAILABLE` when the read
/// model is still behind then (never a stale answer, nor a `NOT_FOUND` for an object that
/// exists).
pub async fn wait_for_aggregate(
    state: &AppState,
    name: &str,
    aggregate_type: &str,
    id: impl std::fmt::Display,
) -> Result<(), ApiError> {
    let Some(position) = state
        .reader
        .last_of(aggregate_type, &id.to_string())
        .await?
    else {
        return Ok(());
    };
    match state
        .projector
        .wait_for(&[name], position, LOOKUP_TIMEOUT)
        .await
    {
        Ok(()) => Ok(()),
        Err(projections::projector::WaitError::Timeout) => {
            tracing::warn!(
                read_model = name,
                "a lookup's read model did not catch up in time"
            );
            Err(ApiError::Unavailable)
        }
        Err(projections::projector::WaitError::Database(error)) => Err(error.into()),
    }
}

/// A read-model read that failed.
pub fn read_error(error: projections::readmodels::ReadError) -> ApiError {
    match error {
        projections::readmodels::ReadError::InvalidCursor(field) => {
            ApiError::validation(field, "is not a valid cursor")
        }
        projections::readmodels::ReadError::Database(error) => error.into(),
        other => ApiError::internal(other),
    }
}
