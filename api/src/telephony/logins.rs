//! What the telephony leader knows of the workers' login sessions (`Logins`): held by the
//! session, used by `logout.rs` to log out workers whose last session ended.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use domain::ids::WorkerId;
use tokio::sync::broadcast;
use uuid::Uuid;

/// What the leader knows of the workers' login sessions.
pub(super) struct Logins {
    /// `savecorp_credentials` notifications (`None` once closed).
    pub(super) changes: Option<broadcast::Receiver<Uuid>>,
    /// Workers whose sessions all ended while their phone rang or they were on a call.
    pub(super) after_call: HashSet<WorkerId>,
    /// The earliest end, by expiry, of a worker's last live session.
    pub(super) next_expiry: Option<DateTime<Utc>>,
    /// When every worker is looked at again.
    pub(super) next_scan: DateTime<Utc>,
}

impl Logins {
    pub fn new(changes: Option<broadcast::Receiver<Uuid>>) -> Self {
        Self {
            changes,
            after_call: HashSet::new(),
            next_expiry: None,
            // The first scan runs once the session is connected (see `Session::run`).
            next_scan: Utc::now(),
        }
    }

    /// The next credential change: `Some(worker)`, or `None` for "any worker" (notifications
    /// may have been lost). Pending forever once the notifications are closed.
    pub async fn changed(&mut self) -> Option<Uuid> {
        let Some(changes) = self.changes.as_mut() else {
            return std::future::pending().await;
        };
        match changes.recv().await {
            Ok(worker) if !worker.is_nil() => Some(worker),
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => None,
            Err(broadcast::error::RecvError::Closed) => {
                self.changes = None;
                None
            }
        }
    }

    /// When the next check is due (an expiry or the periodic scan).
    pub fn next_deadline(&self) -> Option<DateTime<Utc>> {
        Some(match self.next_expiry {
            Some(expiry) => expiry.min(self.next_scan),
            None => self.next_scan,
        })
    }
}
