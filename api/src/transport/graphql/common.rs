//! What the GraphQL areas share, below all of them (so the area files import it and not each
//! other): the read-your-writes wait of a mutation and the error of a failed read-model read.

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
