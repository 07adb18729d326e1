//! The platform's settings (database, data folder) and what every settings struct shares
//! (the refusal of a setting, the `Debug` of a secret), read once from flags and the
//! environment (PRODUCT §11); `app/settings.rs` assembles them with each capability's own
//! settings struct (next to the capability) into `ServeConfig`.

use std::path::PathBuf;

use clap::Args;

/// Where the database is. Shared by every subcommand that needs it. Its `Debug` hides the
/// URL's password.
#[derive(Args, Clone)]
pub struct DatabaseConfig {
    /// PostgreSQL URL. Absent: an embedded cluster in the `pg/` folder of the data folder,
    /// started with the PostgreSQL binaries found on this machine.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// The data folder: embedded PostgreSQL cluster, generated JWT secret, mail files.
    #[arg(long, env = "SAVECORP_DATA_DIR", default_value = "./var")]
    pub data_dir: PathBuf,

    /// Connections in the server's pool.
    #[arg(long, env = "SAVECORP_DB_CONNECTIONS", default_value_t = 16)]
    pub db_connections: u32,

    /// Aggregate snapshots: a worker, customer, call or request is snapshotted every this many
    /// events, so that loading it reads its snapshot and the events after it (0: none).
    #[arg(long, env = "SAVECORP_SNAPSHOT_EVERY", default_value_t = 100)]
    pub snapshot_every: u32,
}

/// A setting refused before anything starts: [`std::fmt::Display`] is the one line printed,
/// naming the setting (never its value, which may hold a password).
#[derive(Debug, thiserror::Error)]
#[error("invalid {setting}: {reason}")]
pub struct InvalidSetting {
    pub setting: &'static str,
    pub reason: String,
}

pub(crate) fn invalid(setting: &'static str, reason: impl Into<String>) -> InvalidSetting {
    InvalidSetting {
        setting,
        reason: reason.into(),
    }
}

impl DatabaseConfig {
    /// Checks what can be checked without connecting.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        if let Some(url) = &self.database_url {
            let parsed = url::Url::parse(url).map_err(|error| {
                invalid(
                    "DATABASE_URL",
                    format!("not a URL ({error}); expected postgres://user:password@host/database"),
                )
            })?;
            if !matches!(parsed.scheme(), "postgres" | "postgresql") {
                return Err(invalid(
                    "DATABASE_URL",
                    "expected postgres://user:password@host/database",
                ));
            }
        }
        if self.db_connections == 0 {
            return Err(invalid("SAVECORP_DB_CONNECTIONS", "must be at least 1"));
        }
        Ok(())
    }
}

/// What a secret looks like in `Debug` output: whether it is set, never its value.
pub(crate) fn secret(value: Option<&str>) -> &'static str {
    match value {
        Some(_) => "<redacted>",
        None => "<unset>",
    }
}

impl std::fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field(
                "database_url",
                &self
                    .database_url
                    .as_deref()
                    .map(crate::platform::db::redact),
            )
            .field("data_dir", &self.data_dir)
            .field("db_connections", &self.db_connections)
            .field("snapshot_every", &self.snapshot_every)
            .finish()
    }
}
