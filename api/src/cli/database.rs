//! Opening the database for a one-shot command.

use anyhow::Context as _;

use crate::platform::config::DatabaseConfig;
use crate::platform::db::Database;

/// Opens the database `config` names (creating its data folder), with a small pool.
pub(crate) async fn open(config: &DatabaseConfig) -> anyhow::Result<Database> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "data folder {} cannot be created",
            config.data_dir.display()
        )
    })?;
    Ok(Database::open(
        config.database_url.as_deref(),
        &config.data_dir,
        config.db_connections.min(4),
    )
    .await?)
}
