//! Connecting to PostgreSQL: `DATABASE_URL` when given, else the embedded cluster in the data
//! folder. Every subcommand that needs the database goes through [`Database::open`].

use std::path::Path;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::embedded_pg::{EmbeddedError, EmbeddedPostgres};

/// The database the embedded cluster serves.
pub const EMBEDDED_DATABASE: &str = "savecorp";

/// Pool settings shared by every pool of the server. No ping on acquire: a broken connection
/// shows up as an error on use, which the callers turn into `UNAVAILABLE`.
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire(false)
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("cannot connect to DATABASE_URL ({target}): {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// An open database, and the embedded cluster behind it if we started one.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<EmbeddedPostgres>,
    /// A URL `psql` understands.
    pub url: String,
}

impl Database {
    /// Opens `database_url`, or starts the embedded cluster in `<data_dir>/pg`.
    pub async fn open(
        database_url: Option<&str>,
        data_dir: &Path,
        max_connections: u32,
    ) -> Result<Self, DatabaseError> {
        match database_url {
            Some(url) => {
                let pool = pool_options(max_connections)
                    .connect(url)
                    .await
                    .map_err(|source| DatabaseError::Connect {
                        target: redact(url),
                        source,
                    })?;
                Ok(Self {
                    pool,
                    embedded: None,
                    url: url.to_owned(),
                })
            }
            None => {
                let cluster = EmbeddedPostgres::new(&data_dir.join("pg"))?;
                let started = tokio::task::spawn_blocking({
                    let cluster = cluster.clone();
                    move || cluster.start()
                })
                .await;
                match started {
                    Ok(result) => result?,
                    Err(join) => {
                        return Err(EmbeddedError::Command {
                            command: "pg_ctl start".into(),
                            detail: join.to_string(),
                        }
                        .into())
                    }
                }
                let pool = match cluster.pool(EMBEDDED_DATABASE, max_connections).await {
                    Ok(pool) => pool,
                    Err(error) => {
                        let _ = cluster.stop();
                        return Err(error.into());
                    }
                };
                Ok(Self {
                    pool,
                    url: cluster.url(EMBEDDED_DATABASE),
                    embedded: Some(cluster),
                })
            }
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        migrations::run(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool and stops the embedded cluster, if any.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.embedded {
            let stopped = tokio::task::spawn_blocking(move || cluster.stop()).await;
            if let Ok(Err(error)) = stopped {
                tracing::error!(%error, "stopping the embedded PostgreSQL failed");
            }
        }
    }
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "<unparsable URL>".to_owned(),
    }
}
