//! The spent-token purge, a periodic task: credentials that can no longer be used are kept for
//! a retention period (what was presented stays explainable for a while, and a reused refresh
//! token still revokes its session while it could have been valid), then deleted from the
//! lookup tables, so they do not pile up forever.
//!
//! What is spent, and purged once it has been spent for longer than the retention:
//! - an ingest token revoked (or rotated out by its revocation) — `ingest_tokens.revoked_at`;
//! - a refresh token past its expiry (used or not: a used one is kept until it expires, so
//!   its reuse is still detected) — `refresh_tokens.expires_at`;
//! - a login session revoked (logout, password change, reuse), or whose every refresh token
//!   has expired — with its refresh tokens.
//!
//! Deleting is safe everywhere: a missing row refuses the credential just as a spent one does
//! (an unknown ingest token or refresh token, an access token of an unknown session). Events
//! are never touched; they hold no secret. The cutoff is the database's clock, as the
//! timestamps are. Every instance may run it: the deletes are idempotent.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// How many rows one pass deleted, per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub ingest_tokens: u64,
    pub refresh_tokens: u64,
    pub sessions: u64,
}

/// Deletes what was spent more than `retention` ago.
pub async fn purge_spent_tokens(pool: &PgPool, retention: Duration) -> Result<Purged, sqlx::Error> {
    let secs = retention.as_secs_f64();
    let mut transaction = pool.begin().await?;
    let ingest_tokens = sqlx::query(
        "DELETE FROM ingest_tokens \
         WHERE revoked_at < now() - make_interval(secs => $1)",
    )
    .bind(secs)
    .execute(&mut *transaction)
    .await?
    .rows_affected();
    let sessions = sqlx::query(
        "DELETE FROM sessions s \
         WHERE s.revoked_at < now() - make_interval(secs => $1) \
            OR (s.created_at < now() - make_interval(secs => $1) \
                AND NOT EXISTS (SELECT 1 FROM refresh_tokens r \
                                WHERE r.session_id = s.session_id \
                                  AND r.expires_at >= now() - make_interval(secs => $1)))",
    )
    .bind(secs)
    .execute(&mut *transaction)
    .await?
    .rows_affected();
    let refresh_tokens = sqlx::query(
        "DELETE FROM refresh_tokens WHERE expires_at < now() - make_interval(secs => $1)",
    )
    .bind(secs)
    .execute(&mut *transaction)
    .await?
    .rows_affected();
    transaction.commit().await?;
    Ok(Purged {
        ingest_tokens,
        refresh_tokens,
        sessions,
    })
}

/// Runs the purge every `interval` (tokens spent for longer than `retention` go) until
/// `shutdown`; `passes` counts the finished passes (observable progress, nothing decides on it).
pub async fn run(
    pool: PgPool,
    interval: Duration,
    retention: Duration,
    passes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    shutdown: CancellationToken,
) {
    let interval = interval.max(Duration::from_millis(10));
    loop {
        match purge_spent_tokens(&pool, retention).await {
            Ok(purged) if purged != Purged::default() => {
                tracing::info!(
                    ingest_tokens = purged.ingest_tokens,
                    refresh_tokens = purged.refresh_tokens,
                    sessions = purged.sessions,
                    "spent tokens purged"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "purging spent tokens failed"),
        }
        passes.send_modify(|passes| *passes += 1);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
