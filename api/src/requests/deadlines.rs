//! Request deadline alerts (PRODUCT §5), a process manager: one instance is active per
//! database (session advisory lock, as the backup watchdog). It folds every request that is
//! not closed from the committed log with the domain's own `apply`, and sleeps until the
//! earliest deadline still ahead: the start of a request's due-soon window (a quarter of its
//! allowance before the due date, at most the cap of the SLA policy it was opened with: the
//! domain's `Request::due_soon_from`) or its due date. New events wake it early
//! (a new request, a changed due date, a solved request). Then it sends Request
//! `RaiseDueSoon` / `RaiseOverdue`.
//!
//! The domain decides: the alerts apply only while the request is open or pending, each is
//! raised once (until the due date changes), and `due_soon` is not raised once the request is
//! overdue. The manager reads only Request events (filtered in SQL) and keeps each request not
//! closed, as folded, in `process_manager_state` (manager `request_deadlines`), with its
//! checkpoint in `checkpoints`, written in one transaction: a restart or a takeover loads them
//! and reads only the events after the checkpoint, never the whole log. What it sent and has
//! not seen in the log yet is not kept, so an alert is at worst sent again, and the domain
//! makes it a no-op: an alert already raised is never raised twice.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use cqrs_es::Aggregate;
use domain::ids::RequestId;
use domain::request::{Request, RequestCommand, RequestEvent};
use domain::sla::AlertState;
use journal::{Actor, EventStore, LogNotifier, LogPosition, LogReader, Metadata, StoredEvent};
use sqlx::PgPool;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

use crate::platform::clock::Clock;
use crate::requests::RequestConfig;

const READ_BATCH: i64 = 1_000;

/// Its name in `checkpoints` and `process_manager_state`.
pub const CHECKPOINT: &str = "request_deadlines";

/// The events it folds: every Request event (the aggregate's own `apply`).
const EVENT_TYPES: &[&str] = &[
    "RequestOpened",
    "RequestUpdated",
    "RequestMarkedPending",
    "RequestSolved",
    "RequestReopened",
    "RequestClosed",
    "RequestDueSoonRaised",
    "RequestOverdueRaised",
];

/// What the deadline alerts need: the database, the log, their settings, the leadership
/// retry and the clock (built by the composition root).
#[derive(Clone)]
pub struct DeadlineContext {
    pub pool: PgPool,
    pub store: EventStore,
    pub reader: LogReader,
    /// How soon a follower tries to take leadership again.
    pub leader_retry: Duration,
    pub clock: Arc<dyn Clock>,
    pub settings: RequestConfig,
}

/// After a failed command, look again this soon.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// An alert the manager raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alert {
    DueSoon,
    Overdue,
}

#[derive(Default)]
struct Tracked {
    request: Request,
    /// Sent by this manager since the request's last event in the log.
    due_soon_sent: bool,
    overdue_sent: bool,
}

/// The manager's folded view of the log: every request not closed.
#[derive(Default)]
struct Deadlines {
    requests: HashMap<RequestId, Tracked>,
    /// Requests changed (or closed) since they were last saved.
    changed: std::collections::HashSet<RequestId>,
}

impl Deadlines {
    fn apply(&mut self, stored: &StoredEvent) {
        if stored.aggregate_type != Request::TYPE {
            return;
        }
        let (Ok(event), Ok(id)) = (
            stored.decode::<RequestEvent>(),
            stored.aggregate_id.parse::<RequestId>(),
        ) else {
            return;
        };
        self.changed.insert(id);
        if matches!(event, RequestEvent::Closed { .. }) {
            // Closed is final: no alert will ever apply.
            self.requests.remove(&id);
            return;
        }
        let tracked = self.requests.entry(id).or_default();
        tracked.request.apply(event);
        // From here the folded request is the authority again (a due date changed, a solved
        // request reopened, or the raised alert itself came back): at worst a command is sent
        // again, and the domain makes it a no-op.
        tracked.due_soon_sent = false;
        tracked.overdue_sent = false;
    }

    fn mark_sent(&mut self, id: RequestId, alert: Alert) {
        if let Some(tracked) = self.requests.get_mut(&id) {
            match alert {
                Alert::DueSoon => tracked.due_soon_sent = true,
                Alert::Overdue => tracked.overdue_sent = true,
            }
        }
    }

    /// The alerts due at `now`, and the next moment something will be due (after `now`).
    fn due(&self, now: DateTime<Utc>) -> (Vec<(RequestId, Alert)>, Option<DateTime<Utc>>) {
        let mut alerts = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        let mut consider = |candidate: DateTime<Utc>| {
            if candidate > now {
                next = Some(next.map_or(candidate, |current| current.min(candidate)));
            }
        };
        for (id, tracked) in &self.requests {
            let request = &tracked.request;
            let (Some(details), Some(state), Some(due_soon_from)) = (
                request.details(),
                request.alert_state(now),
                request.due_soon_from(),
            ) else {
                // Not opened, or solved: nothing applies until it is reopened (an event).
                continue;
            };
            let overdue_done = request.overdue_raised() || tracked.overdue_sent;
            let due_soon_done = overdue_done || request.due_soon_raised() || tracked.due_soon_sent;
            match state {
                AlertState::Overdue if !overdue_done => alerts.push((*id, Alert::Overdue)),
                AlertState::Overdue => {}
                AlertState::DueSoon => {
                    if !due_soon_done {
                        alerts.push((*id, Alert::DueSoon));
                    }
                    if !overdue_done {
                        consider(details.due_at);
                    }
                }
                AlertState::None => {
                    if !due_soon_done {
                        // The window opens strictly after `due_soon_from`.
                        consider(due_soon_from + TimeDelta::milliseconds(1));
                    }
                    if !overdue_done {
                        consider(details.due_at);
                    }
                }
            }
        }
        (alerts, next)
    }
}

/// Runs the manager until `shutdown` (does nothing when request alerts are turned off).
pub async fn run(state: DeadlineContext, notifier: LogNotifier, shutdown: CancellationToken) {
    if !state.settings.request_alerts {
        return;
    }
    let retry = state.leader_retry;
    crate::platform::leadership::lead(
        &state.pool,
        crate::platform::leadership::keys::REQUEST_DEADLINES,
        "request deadline alerts",
        retry,
        &shutdown,
        |mut lock| {
            let (state, notifier, shutdown) = (state.clone(), notifier.clone(), shutdown.clone());
            async move { watch(&state, &mut lock, notifier, &shutdown).await }
        },
    )
    .await;
}

/// Watches while `lock`'s session lives: a lost session (e.g. PostgreSQL restarted) means the
/// lock is gone and another instance may lead, so it ends with an error and leadership is
/// taken again.
async fn watch(
    state: &DeadlineContext,
    lock: &mut sqlx::PgConnection,
    mut notifier: LogNotifier,
    shutdown: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let (mut deadlines, mut position) = load(state).await?;
    let max_sleep = Duration::from_millis(state.settings.request_alerts_max_sleep_ms.max(10));
    let mut pace = journal::Pace::new(journal::PROCESS_MANAGER_GAP);
    loop {
        let head = state.reader.head().await?;
        let before = position;
        loop {
            let events = state
                .reader
                .read_filtered(position, head, &[Request::TYPE], EVENT_TYPES, READ_BATCH)
                .await?;
            for event in &events {
                deadlines.apply(event);
                position = event.log_position;
            }
            if (events.len() as i64) < READ_BATCH {
                position = position.max(head);
                break;
            }
        }
        if position != before {
            save(state, &mut deadlines, position).await?;
        }
        let now = state.clock.now();
        let (alerts, next_deadline) = deadlines.due(now);
        let mut failed = false;
        for (request_id, alert) in alerts {
            let command = match alert {
                Alert::DueSoon => RequestCommand::RaiseDueSoon { at: now },
                Alert::Overdue => RequestCommand::RaiseOverdue { at: now },
            };
            let result = state
                .store
                .execute::<Request>(
                    &request_id.to_string(),
                    command,
                    &(),
                    &Metadata::new(Actor::System),
                    None,
                )
                .await;
            match result {
                // No event: the domain found nothing to raise (already raised, or the request
                // changed meanwhile; its events will come through the log).
                Ok(_) => deadlines.mark_sent(request_id, alert),
                Err(error) => {
                    failed = true;
                    tracing::warn!(%request_id, ?alert, %error, "raising a request alert failed");
                }
            }
        }
        let mut sleep = next_deadline
            .and_then(|deadline| (deadline - now).to_std().ok())
            .map_or(max_sleep, |until| until.min(max_sleep));
        if failed {
            sleep = sleep.min(RETRY_AFTER);
        }
        sqlx::Connection::ping(lock).await?;
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = notifier.wait_paced(sleep, &mut pace) => {}
        }
    }
}

/// The saved requests and their checkpoint; nothing at `START` when there is none (or a row
/// cannot be read: the requests are then folded from the log again).
async fn load(state: &DeadlineContext) -> Result<(Deadlines, LogPosition), sqlx::Error> {
    let checkpoint = projections::projector::checkpoint(&state.pool, CHECKPOINT).await?;
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT key, state FROM process_manager_state WHERE manager = $1 AND key <> ''",
    )
    .bind(CHECKPOINT)
    .fetch_all(&state.pool)
    .await?;
    let mut deadlines = Deadlines::default();
    for (key, request) in rows {
        match (
            key.parse::<RequestId>(),
            serde_json::from_value::<Request>(request),
        ) {
            (Ok(id), Ok(request)) => {
                deadlines.requests.insert(
                    id,
                    Tracked {
                        request,
                        ..Tracked::default()
                    },
                );
            }
            _ => {
                tracing::warn!(%key, "request deadlines: unreadable saved state; folding the log again");
                return Ok((Deadlines::default(), LogPosition::START));
            }
        }
    }
    Ok((deadlines, checkpoint))
}

/// Saves the requests that changed (removing the closed ones) and the checkpoint, in one
/// statement.
async fn save(
    state: &DeadlineContext,
    deadlines: &mut Deadlines,
    position: LogPosition,
) -> Result<(), sqlx::Error> {
    let (mut upserts, mut deletes) = (Vec::new(), Vec::new());
    for id in deadlines.changed.drain() {
        match deadlines.requests.get(&id) {
            Some(tracked) => {
                let request = serde_json::to_value(&tracked.request)
                    .map_err(|error| sqlx::Error::Protocol(format!("request state: {error}")))?;
                upserts.push((id.to_string(), request));
            }
            None => deletes.push(id.to_string()),
        }
    }
    let mut connection = state.pool.acquire().await?;
    projections::projector::save_manager_state(
        &mut connection,
        CHECKPOINT,
        &upserts,
        &deletes,
        position,
    )
    .await
}

#[cfg(test)]
mod tests {
    use domain::ids::CustomerId;
    use domain::sla::SlaPolicy;
    use domain::values::{Priority, RequestMessage, RequestType};
    use uuid::Uuid;

    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("time")
    }

    /// A tracked request opened at `at(0)`, due at `at(due)` (explicitly), with a due-soon
    /// cap of `window` seconds, after `later` events.
    fn deadlines_with(due: i64, window: u64, later: Vec<RequestEvent>) -> (Deadlines, RequestId) {
        let id = RequestId(Uuid::from_u128(7));
        let mut request = Request::default();
        request.apply(RequestEvent::Opened {
            customer_id: CustomerId(Uuid::from_u128(1)),
            call_id: None,
            message: RequestMessage::parse("A request with a deadline").expect("message"),
            priority: Priority::Normal,
            request_type: RequestType::Task,
            assignee: None,
            due_at: at(due),
            due_at_explicit: true,
            sla: SlaPolicy {
                due_soon_threshold_secs: window,
                ..SlaPolicy::default()
            },
            opened_by: None,
            at: at(0),
        });
        for event in later {
            request.apply(event);
        }
        let mut deadlines = Deadlines::default();
        deadlines.requests.insert(
            id,
            Tracked {
                request,
                ..Tracked::default()
            },
        );
        (deadlines, id)
    }

    #[test]
    fn it_sleeps_until_the_window_opens_then_until_the_due_date() {
        let (mut deadlines, id) = deadlines_with(100, 20, Vec::new());
        let (alerts, next) = deadlines.due(at(10));
        assert!(alerts.is_empty());
        assert_eq!(next, Some(at(80) + TimeDelta::milliseconds(1)));

        let (alerts, next) = deadlines.due(at(81));
        assert_eq!(alerts, vec![(id, Alert::DueSoon)]);
        assert_eq!(next, Some(at(100)));
        deadlines.mark_sent(id, Alert::DueSoon);
        let (alerts, next) = deadlines.due(at(82));
        assert!(alerts.is_empty(), "raised once");
        assert_eq!(next, Some(at(100)));

        let (alerts, next) = deadlines.due(at(100));
        assert_eq!(alerts, vec![(id, Alert::Overdue)]);
        assert_eq!(next, None);
        deadlines.mark_sent(id, Alert::Overdue);
        assert_eq!(deadlines.due(at(500)), (Vec::new(), None));
    }

    #[test]
    fn a_request_found_overdue_gets_only_the_overdue_alert() {
        let (deadlines, id) = deadlines_with(100, 20, Vec::new());
        assert_eq!(deadlines.due(at(150)), (vec![(id, Alert::Overdue)], None));
    }

    #[test]
    fn alerts_raised_in_the_log_are_not_raised_again() {
        let (deadlines, _) = deadlines_with(
            100,
            20,
            vec![
                RequestEvent::DueSoonRaised {
                    due_at: at(100),
                    at: at(75),
                },
                RequestEvent::OverdueRaised {
                    due_at: at(100),
                    at: at(100),
                },
            ],
        );
        assert_eq!(deadlines.due(at(80)), (Vec::new(), None));
        assert_eq!(deadlines.due(at(200)), (Vec::new(), None));
    }

    #[test]
    fn a_solved_request_has_no_deadline() {
        let (deadlines, _) = deadlines_with(
            100,
            20,
            vec![RequestEvent::Solved {
                from: domain::request::RequestStatus::Open,
                by: None,
                at: at(5),
            }],
        );
        assert_eq!(deadlines.due(at(80)), (Vec::new(), None));
        assert_eq!(deadlines.due(at(200)), (Vec::new(), None));
    }
}
