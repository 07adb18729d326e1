//! One leader across server instances: a PostgreSQL session-level advisory lock held on a
//! dedicated connection ([`Lease`]), and [`lead`], the loop of a service that runs once per
//! database. Every advisory lock key of the server is in [`keys`]. The lock goes away with the connection, so a leader
//! that dies (or loses its database connection) frees it for a standby.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, PgPool};
use tokio_util::sync::CancellationToken;

/// The advisory lock keys, all in one place (a key used twice would make two services share one
/// leader). The projector's and rebuild's locks are two-key spaces in `projections`
/// (`projector::PROJECTION_LOCK_SPACE`, `rebuild::REBUILD_LOCK_SPACE`, second key
/// `hashtext(name)`); the embedded cluster's setup lock is [`keys::EMBEDDED_SETUP`].
pub mod keys {
    /// The backup watchdog.
    pub const WATCHDOG: i64 = 0x5341_5645_0001;
    /// The mail outbox feeder.
    pub const OUTBOX_FEEDER: i64 = 0x5341_5645_0002;
    /// The request deadline alerts.
    pub const REQUEST_DEADLINES: i64 = 0x5341_5645_0003;
    /// The call linker.
    pub const CALL_LINKER: i64 = 0x5341_5645_0005;
    /// The telephony service ("SaveCorp telephony").
    pub const TELEPHONY: i64 = 0x5a7e_c0a1_7e1e_0001;
    /// First key of the per-customer lock a manifest upload takes in its transaction
    /// (`pg_try_advisory_xact_lock(MANIFEST_UPLOAD, hashtext(customer_id))`).
    pub const MANIFEST_UPLOAD: i32 = 8311;
    /// Creating the embedded cluster's role and database (one process at a time).
    pub const EMBEDDED_SETUP: i64 = 0x5341_5645_524f_4c45;
}

/// How often the leader checks that its lock connection is alive.
const HEALTH_CHECK: Duration = Duration::from_secs(1);

/// Held leadership.
pub struct Lease {
    connection: PgConnection,
    key: i64,
}

impl Lease {
    /// Waits until this instance holds the lock `key` (trying again every `poll`); `None` once
    /// `shutdown` fires. `what` names the leadership in the logs.
    pub async fn acquire(
        pool: &PgPool,
        key: i64,
        what: &str,
        poll: Duration,
        shutdown: &CancellationToken,
    ) -> Option<Lease> {
        let mut connection: Option<PgConnection> = None;
        let mut waiting_logged = false;
        loop {
            if connection.is_none() {
                match PgConnection::connect_with(&pool.connect_options()).await {
                    Ok(opened) => connection = Some(opened),
                    Err(error) => {
                        tracing::warn!(%error, key, "no connection to contend for leadership")
                    }
                }
            }
            if let Some(mut held) = connection.take() {
                match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut held)
                    .await
                {
                    Ok(true) => {
                        return Some(Lease {
                            connection: held,
                            key,
                        })
                    }
                    Ok(false) => {
                        if !waiting_logged {
                            tracing::info!("another instance leads {what}; standing by");
                            waiting_logged = true;
                        }
                        connection = Some(held);
                    }
                    Err(error) => tracing::warn!(%error, "leadership attempt failed"),
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => {
                    if let Some(held) = connection {
                        let _ = held.close().await;
                    }
                    return None;
                }
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Completes when the lock connection stops answering (the lock is then gone too).
    pub async fn lost(&mut self) {
        loop {
            tokio::time::sleep(HEALTH_CHECK).await;
            let alive = tokio::time::timeout(HEALTH_CHECK * 5, self.connection.ping()).await;
            if !matches!(alive, Ok(Ok(()))) {
                return;
            }
        }
    }

    /// The lock's connection: the lock lives as long as it does.
    pub fn into_connection(self) -> PgConnection {
        self.connection
    }

    /// Gives the leadership up.
    pub async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.connection)
            .await;
        let _ = self.connection.close().await;
    }
}

/// Runs `body` as the one active instance of `name` per database: waits for the session
/// advisory lock `key`, runs `body` with the lock's connection (it holds the lock as long as
/// it keeps the connection; a `body` must end with an error when that session is lost, e.g. by
/// pinging it each round: a restarted database drops the lock, and another instance may then
/// lead), and after an error waits `retry` and leads again. Returns on shutdown or when `body`
/// returns `Ok`.
pub async fn lead<F, Fut>(
    pool: &PgPool,
    key: i64,
    name: &'static str,
    retry: Duration,
    shutdown: &CancellationToken,
    mut body: F,
) where
    F: FnMut(sqlx::PgConnection) -> Fut,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>>,
{
    loop {
        let Some(lease) = Lease::acquire(pool, key, name, retry, shutdown).await else {
            return;
        };
        let lock = lease.into_connection();
        tracing::info!("{name} active");
        let result = body(lock).await;
        match result {
            Ok(()) => return,
            Err(error) => {
                tracing::error!(%error, "{name} failed; restarting");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(retry) => {}
                }
            }
        }
    }
}
