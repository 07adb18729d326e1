//! What every request handler shares.

use projections::{EventStore, LogReader};
use sqlx::PgPool;

use crate::config::{QueueConfig, ServeConfig};
use crate::telephony::TelephonyConfig;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub store: EventStore,
    pub reader: LogReader,
    /// The call queue's settings.
    pub queue: QueueConfig,
    /// How to reach Asterisk; `None`: no telephony service.
    pub telephony: Option<TelephonyConfig>,
}

impl AppState {
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: EventStore::new(pool.clone()),
            reader: LogReader::new(pool.clone()),
            pool,
            queue: QueueConfig::default(),
            telephony: None,
        }
    }

    /// Takes the queue and telephony settings from the server's configuration.
    pub fn configured(mut self, config: &ServeConfig) -> Self {
        self.queue = config.queue.clone();
        self.telephony = TelephonyConfig::from_serve(config);
        self
    }
}
