//! Connecting to PostgreSQL: `DATABASE_URL` when given, else the embedded cluster in the data
//! folder. Every subcommand that needs the database goes through [`Database::open`].

use std::path::Path;
use std::time::Duration;

use sqlx::PgPool;

use crate::platform::embedded_pg::{ClusterUser, EmbeddedError, EmbeddedPostgres};

/// The database the embedded cluster serves.
pub const EMBEDDED_DATABASE: &str = "savecorp";

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error(transparent)]
    Embedded(#[from] EmbeddedError),
    #[error("cannot connect to DATABASE_URL ({target}): {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("sealing the personal fields of older events failed: {0}")]
    Reseal(sqlx::Error),
}

/// An open database, and this process's registration as a user of the embedded cluster, if
/// the database is the embedded one.
pub struct Database {
    pub pool: PgPool,
    pub embedded: Option<ClusterUser>,
    /// A URL `psql` understands.
    pub url: String,
}

impl Database {
    /// Opens `database_url`, or attaches to the embedded cluster in `<data_dir>/pg` (started
    /// unless another savecorp process runs it already).
    pub async fn open(
        database_url: Option<&str>,
        data_dir: &Path,
        max_connections: u32,
    ) -> Result<Self, DatabaseError> {
        match database_url {
            Some(url) => {
                let pool = super::pool::pool_options(max_connections)
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
                let user = blocking("pg_ctl start", {
                    let cluster = cluster.clone();
                    move || cluster.attach()
                })
                .await?;
                let pool = match cluster.pool(EMBEDDED_DATABASE, max_connections).await {
                    Ok(pool) => pool,
                    Err(error) => {
                        let _ = blocking("pg_ctl stop", move || user.detach()).await;
                        return Err(error.into());
                    }
                };
                Ok(Self {
                    pool,
                    url: cluster.app_url(EMBEDDED_DATABASE),
                    embedded: Some(user),
                })
            }
        }
    }

    /// Applies pending migrations, then seals the personal fields of events stored before
    /// crypto-shredding (once; idempotent and crash-safe: [`journal::shred::reseal_legacy`]).
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        migrations::run(&self.pool).await?;
        let resealed = journal::shred::reseal_legacy(&self.pool)
            .await
            .map_err(DatabaseError::Reseal)?;
        if resealed > 0 {
            tracing::info!(resealed, "personal fields of older events sealed");
        }
        Ok(())
    }

    /// Closes the pool and leaves the embedded cluster, stopping it when this process was its
    /// last user (see [`ClusterUser::detach`]).
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(user) = self.embedded {
            if let Err(error) = blocking("pg_ctl stop", move || user.detach()).await {
                tracing::error!(%error, "stopping the embedded PostgreSQL failed");
            }
        }
    }
}

/// Watches the embedded cluster while the server runs: when its postmaster is gone (crashed,
/// killed, stopped by hand), starts it again (the pool and listeners reconnect by themselves).
/// Ends when `shutdown` is cancelled.
pub async fn supervise(cluster: EmbeddedPostgres, shutdown: tokio_util::sync::CancellationToken) {
    let mut down_since: Option<std::time::Instant> = None;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(SUPERVISION_INTERVAL) => {}
        }
        if cluster.is_running() {
            continue;
        }
        let since = *down_since.get_or_insert_with(|| {
            tracing::warn!("embedded PostgreSQL is not running: starting it again");
            std::time::Instant::now()
        });
        let restarted = blocking("pg_ctl start", {
            let cluster = cluster.clone();
            move || cluster.restart_if_down()
        })
        .await;
        match restarted {
            Ok(_) => {
                tracing::info!(
                    down_ms = since.elapsed().as_millis() as u64,
                    "embedded PostgreSQL is running again"
                );
                down_since = None;
            }
            Err(error) => tracing::error!(%error, "embedded PostgreSQL could not be restarted"),
        }
    }
}

/// How often the supervisor looks at the embedded cluster's postmaster (a read of
/// `postmaster.pid` and `/proc`).
const SUPERVISION_INTERVAL: Duration = Duration::from_millis(250);

/// Runs a blocking cluster operation off the async threads.
async fn blocking<T: Send + 'static>(
    what: &str,
    operation: impl FnOnce() -> Result<T, EmbeddedError> + Send + 'static,
) -> Result<T, EmbeddedError> {
    match tokio::task::spawn_blocking(operation).await {
        Ok(result) => result,
        Err(join) => Err(EmbeddedError::Command {
            command: what.into(),
            detail: join.to_string(),
        }),
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

/// Whether a database error means "out of reach" (rather than a bug): transport failures, and
/// the server refusing or ending sessions (SQLSTATE class 08 connection exception, 53
/// insufficient resources, 57P01..57P03 shutdown or starting up, 55000 for a database that does
/// not accept connections, 3D000 for one that is gone).
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "55000"
                || code == "3D000"
        }),
        _ => false,
    }
}

/// Whether PostgreSQL refused a value the client sent as text it cannot store: a NUL
/// character (22021) or one the encoding lacks (22P05).
pub fn is_unstorable_text(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(database)
        if database.code().is_some_and(|code| code == "22021" || code == "22P05"))
}
