//! What every request handler shares.

use std::sync::Arc;

use projections::{EventStore, LogNotifier, LogReader};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthService;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub store: EventStore,
    pub reader: LogReader,
    /// Keys, settings and throttles of authentication.
    pub auth: Arc<AuthService>,
    /// Wakes live readers (subscriptions) when events are committed.
    pub notifier: LogNotifier,
    /// Cancelled when the server shuts down: live streams end.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(pool: PgPool, auth: AuthService) -> Self {
        Self {
            store: EventStore::new(pool.clone()),
            reader: LogReader::new(pool.clone()),
            pool,
            auth: Arc::new(auth),
            notifier: LogNotifier::disconnected(),
            shutdown: CancellationToken::new(),
        }
    }
}
