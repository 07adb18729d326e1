//! What every request handler shares.

use projections::projector::ProjectorHandle;
use projections::{EventStore, LogReader};
use sqlx::PgPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub store: EventStore,
    pub reader: LogReader,
    /// Waits for read models to reach a log position (read-your-writes).
    pub projector: ProjectorHandle,
}

impl AppState {
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: EventStore::new(pool.clone()).with_upcasters(projections::upcast::upcasters()),
            reader: LogReader::new(pool.clone()),
            projector: ProjectorHandle::new(pool.clone()),
            pool,
        }
    }
}
