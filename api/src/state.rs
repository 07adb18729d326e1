//! What every request handler shares.

use projections::{EventStore, LogReader};
use sqlx::PgPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub store: EventStore,
    pub reader: LogReader,
    /// Backup monitoring and mail: clock, limits, mail settings.
    pub backup: crate::backup::BackupContext,
}

impl AppState {
    pub fn new(pool: PgPool) -> Self {
        Self {
            store: EventStore::new(pool.clone()),
            reader: LogReader::new(pool.clone()),
            backup: crate::backup::BackupContext::default(),
            pool,
        }
    }

    /// The backup and mail settings of `config`; `address` is where the server listens (the
    /// default public URL).
    pub fn with_backup(
        mut self,
        config: &crate::config::ServeConfig,
        address: std::net::SocketAddr,
    ) -> Self {
        let mut mail = crate::mail::MailSettings::from_config(config);
        if config.backup.public_url.is_none() {
            mail.public_url = format!("http://{address}");
        }
        self.backup = crate::backup::BackupContext::new((*config.backup).clone(), mail);
        self
    }
}
