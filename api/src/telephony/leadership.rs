//! One active telephony service across server instances: a PostgreSQL session-level advisory
//! lock held on a dedicated connection. The lock goes away with the connection, so a leader
//! that dies (or loses its database connection) frees it for a standby.

use std::time::Duration;

use sqlx::postgres::PgConnection;
use sqlx::{Connection as _, PgPool};
use tokio_util::sync::CancellationToken;

use super::STANDBY_POLL;

/// The advisory lock key of the telephony leader ("SaveCorp telephony").
const LOCK_KEY: i64 = 0x5a7e_c0a1_7e1e_0001;
/// How often the leader checks that its lock connection is alive.
const HEALTH_CHECK: Duration = Duration::from_secs(1);

/// Held leadership.
pub(super) struct Lease {
    connection: PgConnection,
}

impl Lease {
    /// Waits until this instance holds the lock; `None` once `shutdown` fires.
    pub(super) async fn acquire(pool: &PgPool, shutdown: &CancellationToken) -> Option<Lease> {
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
                    .bind(LOCK_KEY)
                    .fetch_one(&mut held)
                    .await
                {
                    Ok(true) => return Some(Lease { connection: held }),
                    Ok(false) => {
                        if !waiting_logged {
                            tracing::info!("another instance leads telephony; standing by");
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
                () = tokio::time::sleep(STANDBY_POLL) => {}
            }
        }
    }

    /// Completes when the lock connection stops answering (the lock is then gone too).
    pub(super) async fn lost(&mut self) {
        loop {
            tokio::time::sleep(HEALTH_CHECK).await;
            let alive = tokio::time::timeout(HEALTH_CHECK * 5, self.connection.ping()).await;
            if !matches!(alive, Ok(Ok(()))) {
                return;
            }
        }
    }

    /// Gives the leadership up.
    pub(super) async fn release(mut self) {
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(LOCK_KEY)
            .execute(&mut self.connection)
            .await;
        let _ = self.connection.close().await;
    }
}
