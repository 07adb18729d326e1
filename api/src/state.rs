//! What every request handler shares.

use projections::{EventStore, LogReader};
use sqlx::PgPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub store: EventStore,
    pub reader: LogReader,
}

impl AppState {
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: EventStore::new(pool.clone()),
            reader: LogReader::new(pool.clone()),
            pool,
        }
    }
}
