//! Logged-out agents take no calls: when a worker's last login session ends (logout, expiry,
//! revocation, deactivation, a password change that ends the sessions), the leader sends
//! `LogOut` and the worker goes Offline (`WorkerLoggedOut`, reason `logged_out`). A worker whose
//! phone rings or who is on a call is logged out right after that call, by the reaction that
//! ends it, before any routing round could offer them another.
//!
//! Sessions live in the `sessions` table (`auth/sessions.rs`); a session is live while it is
//! not revoked and its newest refresh token has not expired. The leader learns of revocations
//! from the `savecorp_credentials` notifications (`auth/watch.rs`), of expiries from a timer on
//! the earliest end of a worker's last live session, and scans every worker at the start of
//! its term and every [`SCAN_INTERVAL`] (a lost notification, a session opened or refreshed
//! since: those are not notified).
//!
//! Restart-safe and idempotent without a record of its own: a worker is logged out when their
//! sessions have all ended and they have not chosen to go Available since (a `WentAvailable`,
//! theirs or an admin's, after the last session ended is left alone; becoming Available again
//! at the end of a call is no such choice), and a second `LogOut` on an Offline worker is a
//! no-op.

use chrono::{DateTime, TimeDelta, Utc};
use domain::ids::WorkerId;
use domain::worker::{Presence, WorkerCommand, WorkerError};
use journal::{Actor, Metadata};
use uuid::Uuid;

use super::session::{Refusal, Session};

/// How often every worker's sessions are looked at again.
const SCAN_INTERVAL: TimeDelta = TimeDelta::seconds(60);

/// One worker's sessions: whether one is live, when the last live one expires, and when the
/// last one ended.
type SessionRow = (Uuid, bool, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Per worker with sessions (all, or `$1`): a session counts as live while not revoked and its
/// newest refresh token is unexpired (one just opened, not yet given its token, for a minute).
const SESSIONS: &str = "\
    WITH s AS ( \
        SELECT s.worker_id, s.revoked_at, \
               COALESCE(t.until, s.created_at + interval '1 minute') AS until \
        FROM sessions s \
        LEFT JOIN LATERAL ( \
            SELECT max(expires_at) AS until FROM refresh_tokens r \
            WHERE r.session_id = s.session_id \
        ) t ON true \
        WHERE $1::uuid IS NULL OR s.worker_id = $1 \
    ) \
    SELECT worker_id, \
           bool_or(revoked_at IS NULL AND until > now()) AS live, \
           max(until) FILTER (WHERE revoked_at IS NULL AND until > now()) AS live_until, \
           max(LEAST(revoked_at, until)) AS ended_at \
    FROM s GROUP BY worker_id";

impl Session {
    /// Looks at the sessions of `worker` (`None`: of every worker) and logs out those whose
    /// last session ended.
    pub(super) async fn check_logins(&mut self, worker: Option<Uuid>) -> anyhow::Result<()> {
        let rows: Vec<SessionRow> = sqlx::query_as(SESSIONS)
            .bind(worker)
            .fetch_all(self.store.pool())
            .await?;
        let now = crate::platform::clock::now();
        if worker.is_none() {
            self.logins.next_scan = now + SCAN_INTERVAL;
            self.logins.next_expiry = None;
        }
        for (worker_id, live, live_until, ended_at) in rows {
            let worker_id = WorkerId(worker_id);
            if live {
                self.logins.after_call.remove(&worker_id);
                if let Some(until) = live_until {
                    let next = self.logins.next_expiry.get_or_insert(until);
                    *next = (*next).min(until);
                }
            } else if let Some(ended_at) = ended_at {
                self.sessions_ended(worker_id, ended_at).await?;
            }
        }
        Ok(())
    }

    /// Runs the checks that are due (an expiry, the periodic scan).
    pub(super) async fn on_login_timers(&mut self) -> anyhow::Result<()> {
        let now = crate::platform::clock::now();
        let expired = self.logins.next_expiry.is_some_and(|expiry| expiry <= now);
        if expired || self.logins.next_scan <= now {
            self.check_logins(None).await?;
        }
        Ok(())
    }

    /// The worker's sessions have all ended (the last one at `ended_at`).
    async fn sessions_ended(
        &mut self,
        worker_id: WorkerId,
        ended_at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let Some(worker) = self.view.worker(worker_id) else {
            return Ok(());
        };
        let presence = worker.state.presence().clone();
        match presence {
            Presence::Offline => {
                self.logins.after_call.remove(&worker_id);
            }
            Presence::Offered { .. } | Presence::OnCall { .. } => {
                self.logins.after_call.insert(worker_id);
            }
            _ if self
                .view
                .went_available_at(worker_id)
                .is_none_or(|chosen| chosen <= ended_at) =>
            {
                self.log_out(worker_id).await?;
            }
            // Made Available again (by an admin) after the last session ended: left alone.
            _ => {}
        }
        Ok(())
    }

    async fn log_out(&mut self, worker_id: WorkerId) -> anyhow::Result<()> {
        let metadata = Metadata::new(Actor::System);
        let command = WorkerCommand::LogOut {
            at: crate::platform::clock::now(),
        };
        match self
            .worker_command(worker_id, command, &metadata, None)
            .await?
        {
            Ok(_) => {
                tracing::info!(%worker_id, "last session ended: worker logged out");
                self.logins.after_call.remove(&worker_id);
            }
            Err(Refusal::Rule(WorkerError::Busy)) => {
                self.logins.after_call.insert(worker_id);
            }
            Err(refusal) => {
                tracing::debug!(%worker_id, ?refusal, "worker not logged out");
                self.logins.after_call.remove(&worker_id);
            }
        }
        Ok(())
    }

    /// After a Worker command that follows a call: a worker whose sessions ended during the
    /// call is logged out now (unless they logged in again meanwhile).
    pub(super) async fn after_call(&mut self, worker_id: WorkerId) -> anyhow::Result<()> {
        if self.logins.after_call.contains(&worker_id) {
            self.check_logins(Some(worker_id.as_uuid())).await?;
        }
        Ok(())
    }
}
