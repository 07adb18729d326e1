//! One leader across server instances: a PostgreSQL session-level advisory lock held on a
//! dedicated connection. The lock goes away with the connection, so a leader
//! that dies (or loses its database connection) frees it for a standby.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, PgPool};
use tokio_util::sync::CancellationToken;

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
                match pool.acquire().await {
                    Ok(pooled) => connection = Some(pooled.detach()),
                    Err(error) => tracing::warn!(%error, "no connection to contend for leadership"),
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

    /// Gives the leadership up.
    pub async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut self.connection)
            .await;
        let _ = self.connection.close().await;
    }
}
