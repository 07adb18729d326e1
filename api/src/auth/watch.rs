//! Credential changes as they happen, for connections that authenticated once (GraphQL
//! WebSockets): a trigger notifies `savecorp_credentials` with the worker id whenever a
//! session is revoked or a worker's role, activity or session epoch changes (migration
//! `…0600_credential_notifications`), whoever made the change. One listener per server
//! broadcasts the ids in memory.

use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The notification channel the triggers use.
const CHANNEL: &str = "savecorp_credentials";

/// Workers whose credentials changed. [`Uuid::nil`] means "any worker": the listener was
/// reconnected and notifications may have been lost, so every connection checks again.
#[derive(Clone)]
pub struct CredentialChanges {
    sender: broadcast::Sender<Uuid>,
}

impl Default for CredentialChanges {
    /// Not listening (nothing is ever announced).
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1).0,
        }
    }
}

impl CredentialChanges {
    /// Listens until `shutdown`.
    pub async fn start(pool: &PgPool, shutdown: CancellationToken) -> Result<Self, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        let (sender, _) = broadcast::channel(256);
        let changes = Self { sender };
        let announce = changes.sender.clone();
        tokio::spawn(async move {
            loop {
                let received = tokio::select! {
                    () = shutdown.cancelled() => return,
                    received = listener.try_recv() => received,
                };
                let worker = match received {
                    Ok(Some(notification)) => {
                        Uuid::parse_str(notification.payload()).unwrap_or(Uuid::nil())
                    }
                    // The connection was lost and is re-established on the next call:
                    // whatever was notified meanwhile is unknown.
                    Ok(None) => Uuid::nil(),
                    Err(error) => {
                        tracing::warn!(%error, "credential change notifications interrupted");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Uuid::nil()
                    }
                };
                let _ = announce.send(worker);
            }
        });
        Ok(changes)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.sender.subscribe()
    }
}
