//! The backup watchdog (PRODUCT §6), a process manager: one instance is active per database
//! (session advisory lock). It folds, from the committed log, each customer's plan, last
//! success, runs in progress, overdue state and open follow-up requests, and sleeps until the
//! earliest deadline of the schedule policy (woken early by new events). Then:
//!
//! - status `down` and not yet down → Customer `MarkBackupOverdue`;
//! - the customer's latest finished run failed or timed out (after its last success) and not
//!   yet down → Customer `MarkBackupFailed` at once (woken by the run's event);
//! - down (overdue or failed: one incident until the next success, whichever came first) → a
//!   follow-up Request (incident, high), unless a follow-up is open for the customer; its id
//!   is derived from the overdue or failed event's id, so it is opened at most once;
//! - a success while down → Customer `MarkBackupRecovered` with the downtime;
//! - a run past its timeout → BackupRun `TimeOut`;
//! - a success, or a new plan (its retention policy) → retention for that customer.
//!
//! It reads only its own events (the customer, run and request events below, filtered in SQL:
//! `LogReader::read_filtered`) and keeps what it folded per customer in
//! `process_manager_state` (manager `backup_watchdog`), with its checkpoint in `checkpoints`,
//! both written in one transaction after each pass that moved. A start or a takeover loads
//! them and reads only the events after the checkpoint: it never folds the whole log again
//! (only the very first start, or one that finds a row it cannot read, folds its events from
//! the beginning, without retention).
//!
//! Architecture Invariant: what it keeps is only what it folded; what it sent but has not seen
//! in the log yet is not kept. After a restart it reconciles from the folded state again;
//! every command it sends is idempotent in the domain (or has a derived id), so a restart never
//! duplicates an alert or a request.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::backup_run::{BackupRun, BackupRunCommand, BackupRunEvent};
use domain::customer::{Customer, CustomerCommand, CustomerEvent};
use domain::ids::{BackupRunId, CustomerId, RequestId};
use domain::plan::BackupPlan;
use domain::policy::schedule::{self, BackupStatus, ScheduleInput};
use domain::request::{Request, RequestCommand, RequestError, RequestEvent};
use domain::values::{Priority, RequestMessage, RequestType};
use journal::{Actor, CommandError, LogNotifier, LogPosition, Metadata, StoredEvent};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::retention::apply_retention_with;
use super::BackupState;

/// Namespace of follow-up request ids (v5 of the overdue or failed event id).
const FOLLOW_UP_NAMESPACE: Uuid = Uuid::from_u128(0x7f1c_5a8e_2b7d_4c1e_9a55_3d0e_8b6f_0001);

/// The follow-up request opened for the overdue or failed event `incident_event_id`.
pub fn follow_up_request_id(incident_event_id: Uuid) -> RequestId {
    RequestId(Uuid::new_v5(
        &FOLLOW_UP_NAMESPACE,
        incident_event_id.as_bytes(),
    ))
}

const READ_BATCH: i64 = 1_000;

/// Its name in `checkpoints` and `process_manager_state`.
pub const CHECKPOINT: &str = "backup_watchdog";

/// The aggregate types and event types it folds (everything else is not read).
const AGGREGATE_TYPES: &[&str] = &["customer", "backup_run", "request"];
const EVENT_TYPES: &[&str] = &[
    "CustomerBackupPlanSet",
    "CustomerBackupOverdue",
    "CustomerBackupFailed",
    "CustomerBackupRecovered",
    "CustomerErased",
    "BackupRunStarted",
    "BackupRunSucceeded",
    "BackupRunFailed",
    "BackupRunTimedOut",
    "RequestOpened",
    "RequestReopened",
    "RequestSolved",
    "RequestClosed",
];

/// A finished pass of the watchdog (see [`super::Progress`]): everything it reconciled and
/// every deadline it checked was decided on the log up to `position`, at `evaluated_at` or
/// later, and the commands it sent are committed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    /// Passes this server's watchdog finished since it started.
    pub count: u64,
    /// The last log position the pass had folded.
    pub position: LogPosition,
    /// The backup clock's time when the pass began deciding.
    pub evaluated_at: Option<DateTime<Utc>>,
    /// Where the current term resumed: the checkpoint it loaded (`START` on a first start).
    pub resumed_from: LogPosition,
    /// Events the current term has read from the log (its own event types only).
    pub events_read: u64,
}

/// Why the customer's backups are down.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum IncidentCause {
    /// The backup expected at this time did not arrive within its grace.
    Overdue { expected_at: DateTime<Utc> },
    /// A run failed (or timed out) at `failed_at`.
    Failed {
        failed_at: DateTime<Utc>,
        exit_status: Option<i32>,
        message: Option<String>,
    },
}

/// An open incident (the customer's `BackupOverdue` or `BackupFailed`), until a success.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Incident {
    cause: IncidentCause,
    at: DateTime<Utc>,
    event_id: Uuid,
    metadata: Metadata,
    #[serde(skip)]
    follow_up_done: bool,
    #[serde(skip)]
    recovery_sent: bool,
}

impl Incident {
    /// A success after this instant ends the incident.
    fn ends_after(&self) -> DateTime<Utc> {
        match &self.cause {
            IncidentCause::Overdue { expected_at } => *expected_at,
            IncidentCause::Failed { failed_at, .. } => *failed_at,
        }
    }
}

/// The customer's latest failed (or timed-out) run.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Failure {
    run_id: BackupRunId,
    at: DateTime<Utc>,
    exit_status: Option<i32>,
    message: Option<String>,
    event_id: Uuid,
    metadata: Metadata,
}

/// What the watchdog folded of one customer (kept in `process_manager_state`, except what it
/// sent and has not seen in the log yet).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct CustomerFacts {
    plan: Option<BackupPlan>,
    plan_set_at: Option<DateTime<Utc>>,
    erased: bool,
    last_success_at: Option<DateTime<Utc>>,
    running: HashMap<BackupRunId, DateTime<Utc>>,
    #[serde(skip)]
    timeouts_sent: HashSet<BackupRunId>,
    last_failure: Option<Failure>,
    incident: Option<Incident>,
    /// An overdue or failed mark was sent and its event is not folded yet.
    #[serde(skip)]
    incident_sent: bool,
    open_follow_ups: HashSet<RequestId>,
    /// Every follow-up request opened for the customer (a solved one may be reopened).
    #[serde(default)]
    follow_ups: BTreeSet<RequestId>,
}

impl CustomerFacts {
    fn record_failure(&mut self, failure: Failure) {
        if self
            .last_failure
            .as_ref()
            .is_none_or(|last| last.at <= failure.at)
        {
            self.last_failure = Some(failure);
        }
    }

    /// The latest failure when it is newer than the latest success, the plan is active and
    /// no incident is open (or about to be): the backups are to be marked failed.
    fn failure_to_raise(&self) -> Option<&Failure> {
        let monitored = self.plan.as_ref().is_some_and(|plan| !plan.paused);
        if !monitored || self.erased || self.incident.is_some() || self.incident_sent {
            return None;
        }
        self.last_failure.as_ref().filter(|failure| {
            self.last_success_at
                .is_none_or(|success| success < failure.at)
        })
    }
}

/// The watchdog's folded view of the log.
#[derive(Default)]
struct Watchdog {
    customers: HashMap<CustomerId, CustomerFacts>,
    run_customer: HashMap<BackupRunId, CustomerId>,
    follow_up_customer: HashMap<RequestId, CustomerId>,
    /// Customers with a success seen live, whose retention is to be applied (with the cause).
    retention_due: HashMap<CustomerId, Metadata>,
    /// Customers whose facts changed since they were last saved.
    changed: HashSet<CustomerId>,
}

impl Watchdog {
    /// The watchdog as saved: each customer's facts (the run and follow-up indexes are
    /// derived from them).
    fn from_saved(customers: HashMap<CustomerId, CustomerFacts>) -> Self {
        let mut watchdog = Watchdog::default();
        for (customer_id, facts) in &customers {
            for run_id in facts.running.keys() {
                watchdog.run_customer.insert(*run_id, *customer_id);
            }
            for request_id in &facts.follow_ups {
                watchdog
                    .follow_up_customer
                    .insert(*request_id, *customer_id);
            }
        }
        watchdog.customers = customers;
        watchdog
    }

    fn apply(&mut self, stored: &StoredEvent, live: bool) {
        if let Some(customer_id) = self.customer_of(stored) {
            self.changed.insert(customer_id);
        }
        self.fold(stored, live);
    }

    /// The customer an event is about, when the watchdog keeps something of it.
    fn customer_of(&self, stored: &StoredEvent) -> Option<CustomerId> {
        match stored.aggregate_type.as_str() {
            "customer" => stored.aggregate_id.parse().ok(),
            "backup_run" => {
                let run_id = stored.aggregate_id.parse::<BackupRunId>().ok()?;
                match stored.decode::<BackupRunEvent>().ok()? {
                    BackupRunEvent::Started { customer_id, .. }
                    | BackupRunEvent::Succeeded { customer_id, .. }
                    | BackupRunEvent::Failed { customer_id, .. } => Some(customer_id),
                    _ => self.run_customer.get(&run_id).copied(),
                }
            }
            "request" => {
                let request_id = stored.aggregate_id.parse::<RequestId>().ok()?;
                match stored.decode::<RequestEvent>().ok()? {
                    RequestEvent::Opened { customer_id, .. } => Some(customer_id),
                    _ => self.follow_up_customer.get(&request_id).copied(),
                }
            }
            _ => None,
        }
    }

    fn fold(&mut self, stored: &StoredEvent, live: bool) {
        let metadata = stored
            .parsed_metadata()
            .unwrap_or_else(|| Metadata::new(Actor::System));
        match stored.aggregate_type.as_str() {
            "customer" => {
                let (Ok(event), Ok(id)) = (
                    stored.decode::<CustomerEvent>(),
                    stored.aggregate_id.parse::<CustomerId>(),
                ) else {
                    return;
                };
                let facts = self.customers.entry(id).or_default();
                match event {
                    CustomerEvent::BackupPlanSet { plan, at } => {
                        facts.plan = Some(plan);
                        facts.plan_set_at = Some(at);
                        if live {
                            // A new retention policy applies at once, not at the next run.
                            self.retention_due.insert(
                                id,
                                Metadata::caused_by(Actor::System, &metadata, stored.event_id),
                            );
                        }
                    }
                    CustomerEvent::BackupOverdue { expected_at, at } => {
                        facts.incident = Some(Incident {
                            cause: IncidentCause::Overdue { expected_at },
                            at,
                            event_id: stored.event_id,
                            metadata,
                            follow_up_done: false,
                            recovery_sent: false,
                        });
                        facts.incident_sent = false;
                    }
                    CustomerEvent::BackupFailed {
                        exit_status,
                        message,
                        failed_at,
                        at,
                        ..
                    } => {
                        facts.incident = Some(Incident {
                            cause: IncidentCause::Failed {
                                failed_at,
                                exit_status,
                                message,
                            },
                            at,
                            event_id: stored.event_id,
                            metadata,
                            follow_up_done: false,
                            recovery_sent: false,
                        });
                        facts.incident_sent = false;
                    }
                    CustomerEvent::BackupRecovered { .. } => {
                        facts.incident = None;
                        facts.incident_sent = false;
                    }
                    CustomerEvent::Erased { .. } => {
                        facts.erased = true;
                        facts.plan = None;
                        facts.incident = None;
                    }
                    _ => {}
                }
            }
            "backup_run" => {
                let (Ok(event), Ok(run_id)) = (
                    stored.decode::<BackupRunEvent>(),
                    stored.aggregate_id.parse::<BackupRunId>(),
                ) else {
                    return;
                };
                match event {
                    BackupRunEvent::Started {
                        customer_id, at, ..
                    } => {
                        self.run_customer.insert(run_id, customer_id);
                        let facts = self.customers.entry(customer_id).or_default();
                        facts.running.insert(run_id, at);
                    }
                    BackupRunEvent::Succeeded {
                        customer_id, at, ..
                    } => {
                        self.run_customer.remove(&run_id);
                        let facts = self.customers.entry(customer_id).or_default();
                        facts.running.remove(&run_id);
                        facts.last_success_at = facts.last_success_at.max(Some(at));
                        if live {
                            self.retention_due.insert(
                                customer_id,
                                Metadata::caused_by(Actor::System, &metadata, stored.event_id),
                            );
                        }
                    }
                    BackupRunEvent::Failed {
                        customer_id,
                        exit_status,
                        message,
                        at,
                        ..
                    } => {
                        self.run_customer.remove(&run_id);
                        let facts = self.customers.entry(customer_id).or_default();
                        facts.running.remove(&run_id);
                        facts.record_failure(Failure {
                            run_id,
                            at,
                            exit_status,
                            message,
                            event_id: stored.event_id,
                            metadata,
                        });
                    }
                    BackupRunEvent::TimedOut { at, .. } => {
                        if let Some(customer_id) = self.run_customer.remove(&run_id) {
                            let facts = self.customers.entry(customer_id).or_default();
                            facts.running.remove(&run_id);
                            facts.timeouts_sent.remove(&run_id);
                            facts.record_failure(Failure {
                                run_id,
                                at,
                                exit_status: None,
                                message: Some("the run timed out: no end was reported".into()),
                                event_id: stored.event_id,
                                metadata,
                            });
                        }
                    }
                    BackupRunEvent::LogAppended { .. } | BackupRunEvent::Expired { .. } => {}
                }
            }
            "request" => {
                let (Ok(event), Ok(request_id)) = (
                    stored.decode::<RequestEvent>(),
                    stored.aggregate_id.parse::<RequestId>(),
                ) else {
                    return;
                };
                let reopened = match event {
                    RequestEvent::Opened {
                        customer_id,
                        request_type: RequestType::Incident,
                        opened_by: None,
                        ..
                    } => {
                        self.follow_up_customer.insert(request_id, customer_id);
                        self.customers
                            .entry(customer_id)
                            .or_default()
                            .follow_ups
                            .insert(request_id);
                        Some(true)
                    }
                    RequestEvent::Reopened { .. } => Some(true),
                    RequestEvent::Solved { .. } | RequestEvent::Closed { .. } => Some(false),
                    _ => None,
                };
                if let (Some(open), Some(customer_id)) =
                    (reopened, self.follow_up_customer.get(&request_id))
                {
                    let facts = self.customers.entry(*customer_id).or_default();
                    if open {
                        facts.open_follow_ups.insert(request_id);
                    } else {
                        facts.open_follow_ups.remove(&request_id);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Runs the watchdog until `shutdown`: waits to be the active instance, then watches.
pub async fn run(state: BackupState, notifier: LogNotifier, shutdown: CancellationToken) {
    let retry = Duration::from_millis(state.backup.config.leader_retry_ms);
    crate::platform::leadership::lead(
        &state.pool,
        crate::platform::leadership::keys::WATCHDOG,
        "backup watchdog",
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
    state: &BackupState,
    lock: &mut sqlx::PgConnection,
    mut notifier: LogNotifier,
    shutdown: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let (mut watchdog, mut position) = load(state).await?;
    let resumed_from = position;
    let mut events_read = 0u64;
    if position == LogPosition::START {
        // A first start: what was done is done (no retention for past successes).
        events_read += read_new_events(state, &mut watchdog, &mut position, false).await?;
        save(state, &mut watchdog, position).await?;
    }
    let max_sleep = Duration::from_millis(state.backup.config.watchdog_max_sleep_ms.max(10));
    let mut pace = journal::Pace::new(journal::PROCESS_MANAGER_GAP);
    loop {
        let before = position;
        events_read += read_new_events(state, &mut watchdog, &mut position, true).await?;
        if position != before {
            save(state, &mut watchdog, position).await?;
        }
        let evaluated_at = state.backup.now();
        reconcile(state, &mut watchdog).await;
        let next_deadline = check_deadlines(state, &mut watchdog, position).await;
        state.backup.progress.watchdog.send_modify(|pass| {
            pass.count += 1;
            pass.position = position;
            pass.evaluated_at = Some(evaluated_at);
            pass.resumed_from = resumed_from;
            pass.events_read = events_read;
        });
        let now = state.backup.now();
        let sleep = next_deadline
            .and_then(|deadline| (deadline - now).to_std().ok())
            .map_or(max_sleep, |until| until.min(max_sleep));
        sqlx::Connection::ping(lock).await?;
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = notifier.wait_paced(sleep, &mut pace) => {}
        }
    }
}

/// Folds its own events up to the readable head and moves `position` there; returns how many
/// it read.
async fn read_new_events(
    state: &BackupState,
    watchdog: &mut Watchdog,
    position: &mut LogPosition,
    live: bool,
) -> Result<u64, sqlx::Error> {
    let head = state.reader.head().await?;
    let mut read = 0u64;
    loop {
        let events = state
            .reader
            .read_filtered(*position, head, AGGREGATE_TYPES, EVENT_TYPES, READ_BATCH)
            .await?;
        read += events.len() as u64;
        for event in &events {
            watchdog.apply(event, live);
            *position = event.log_position;
        }
        if (events.len() as i64) < READ_BATCH {
            *position = (*position).max(head);
            return Ok(read);
        }
    }
}

/// The saved state and its checkpoint; an empty watchdog at `START` when there is none (or a
/// row cannot be read: it is then rebuilt from the log).
async fn load(state: &BackupState) -> Result<(Watchdog, LogPosition), sqlx::Error> {
    let checkpoint = projections::projector::checkpoint(&state.pool, CHECKPOINT).await?;
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT key, state FROM process_manager_state WHERE manager = $1 AND key <> ''",
    )
    .bind(CHECKPOINT)
    .fetch_all(&state.pool)
    .await?;
    let mut customers = HashMap::with_capacity(rows.len());
    for (key, facts) in rows {
        match (
            key.parse::<CustomerId>(),
            serde_json::from_value::<CustomerFacts>(facts),
        ) {
            (Ok(customer_id), Ok(facts)) => {
                customers.insert(customer_id, facts);
            }
            _ => {
                tracing::warn!(%key, "backup watchdog: unreadable saved state; folding the log again");
                return Ok((Watchdog::default(), LogPosition::START));
            }
        }
    }
    Ok((Watchdog::from_saved(customers), checkpoint))
}

/// Saves the customers whose facts changed and the checkpoint, in one transaction.
async fn save(
    state: &BackupState,
    watchdog: &mut Watchdog,
    position: LogPosition,
) -> Result<(), sqlx::Error> {
    let mut upserts = Vec::with_capacity(watchdog.changed.len());
    for customer_id in watchdog.changed.drain() {
        let Some(facts) = watchdog.customers.get(&customer_id) else {
            continue;
        };
        let facts = serde_json::to_value(facts)
            .map_err(|error| sqlx::Error::Protocol(format!("watchdog state: {error}")))?;
        upserts.push((customer_id.to_string(), facts));
    }
    let mut connection = state.pool.acquire().await?;
    projections::projector::save_manager_state(&mut connection, CHECKPOINT, &upserts, &[], position)
        .await
}

/// Failures to raise, follow-ups for customers down, recoveries after a success, retention
/// after a success.
async fn reconcile(state: &BackupState, watchdog: &mut Watchdog) {
    let now = state.backup.now();
    for (customer_id, facts) in watchdog.customers.iter_mut() {
        if let Some(failure) = facts.failure_to_raise() {
            let cause = Metadata::caused_by(Actor::System, &failure.metadata, failure.event_id);
            let command = CustomerCommand::MarkBackupFailed {
                run_id: failure.run_id,
                exit_status: failure.exit_status,
                message: failure.message.clone(),
                failed_at: failure.at,
                at: now.max(failure.at),
            };
            match state
                .store
                .execute::<Customer>(&customer_id.to_string(), command, &(), &cause, None)
                .await
            {
                Ok(committed) => facts.incident_sent = !committed.events.is_empty(),
                Err(error) => tracing::warn!(%customer_id, %error, "marking failed failed"),
            }
        }
        let last_success_at = facts.last_success_at;
        let has_open_follow_up = !facts.open_follow_ups.is_empty();
        let Some(incident) = facts.incident.as_mut() else {
            continue;
        };
        let cause = Metadata::caused_by(Actor::System, &incident.metadata, incident.event_id);
        if let Some(success_at) = last_success_at.filter(|at| *at > incident.ends_after()) {
            if !incident.recovery_sent {
                let downtime_secs =
                    u64::try_from((success_at - incident.at).num_seconds()).unwrap_or(0);
                let command = CustomerCommand::MarkBackupRecovered {
                    downtime_secs,
                    at: success_at.max(now),
                };
                match state
                    .store
                    .execute::<Customer>(&customer_id.to_string(), command, &(), &cause, None)
                    .await
                {
                    Ok(_) => incident.recovery_sent = true,
                    Err(error) => tracing::warn!(%customer_id, %error, "marking recovered failed"),
                }
            }
            continue;
        }
        if incident.follow_up_done || facts.erased {
            continue;
        }
        if has_open_follow_up {
            incident.follow_up_done = true;
            continue;
        }
        let request_id = follow_up_request_id(incident.event_id);
        let message = follow_up_message(&incident.cause);
        let Ok(message) = RequestMessage::parse(&message) else {
            continue;
        };
        let command = RequestCommand::Open {
            customer_id: *customer_id,
            call_id: None,
            message,
            priority: Priority::High,
            request_type: RequestType::Incident,
            assignee: None,
            due_at: None,
            sla: state.settings.snapshot().request_policy(),
            opened_by: None,
            at: now,
        };
        match state
            .store
            .execute::<Request>(&request_id.to_string(), command, &(), &cause, None)
            .await
        {
            Ok(_) | Err(CommandError::Rejected(RequestError::AlreadyOpened)) => {
                incident.follow_up_done = true;
            }
            Err(error) => tracing::warn!(%customer_id, %error, "opening the follow-up failed"),
        }
    }
    for (customer_id, cause) in std::mem::take(&mut watchdog.retention_due) {
        if let Err(error) = apply_retention_with(state, customer_id, cause.clone()).await {
            tracing::warn!(%customer_id, %error, "retention failed");
            watchdog.retention_due.insert(customer_id, cause);
        }
    }
}

/// Most characters of a failed run's message quoted in its follow-up request.
const FOLLOW_UP_QUOTE_CHARS: usize = 2_000;

/// The text of the follow-up request opened for an incident.
fn follow_up_message(cause: &IncidentCause) -> String {
    match cause {
        IncidentCause::Overdue { expected_at } => format!(
            "Backups are overdue: the backup expected at {} did not arrive within its grace. \
             Check the customer's backup client and contact the customer.",
            expected_at.format("%Y-%m-%d %H:%M UTC")
        ),
        IncidentCause::Failed {
            failed_at,
            exit_status,
            message,
        } => {
            let mut text = format!(
                "Backups failed: a run reported failure at {}",
                failed_at.format("%Y-%m-%d %H:%M UTC")
            );
            if let Some(status) = exit_status {
                text.push_str(&format!(" (exit status {status})"));
            }
            text.push_str(". Check the customer's backup client and contact the customer.");
            if let Some(message) = message.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
                let skip = message
                    .chars()
                    .count()
                    .saturating_sub(FOLLOW_UP_QUOTE_CHARS);
                let quoted: String = message.chars().skip(skip).collect();
                text.push_str("\n\nEnd of the run's output:\n");
                text.push_str(&quoted);
            }
            text
        }
    }
}

/// Sends what is due now (overdue, timeouts) and returns the next deadline.
async fn check_deadlines(
    state: &BackupState,
    watchdog: &mut Watchdog,
    position: LogPosition,
) -> Option<DateTime<Utc>> {
    let now = state.backup.now();
    let mut next: Option<DateTime<Utc>> = None;
    let mut earliest = |candidate: Option<DateTime<Utc>>| {
        if let Some(candidate) = candidate {
            next = Some(next.map_or(candidate, |current| current.min(candidate)));
        }
    };
    for (customer_id, facts) in watchdog.customers.iter_mut() {
        if facts.erased {
            continue;
        }
        let (Some(plan), Some(plan_set_at)) = (&facts.plan, facts.plan_set_at) else {
            continue;
        };
        for (run_id, started_at) in &facts.running {
            if facts.timeouts_sent.contains(run_id) {
                continue;
            }
            if schedule::run_timed_out(*started_at, plan, now) {
                let result = state
                    .store
                    .execute::<BackupRun>(
                        &run_id.to_string(),
                        BackupRunCommand::TimeOut { at: now },
                        &(),
                        &Metadata::new(Actor::System),
                        None,
                    )
                    .await;
                match result {
                    Ok(_) => {
                        facts.timeouts_sent.insert(*run_id);
                    }
                    Err(error) => tracing::warn!(%run_id, %error, "timing out a run failed"),
                }
            } else {
                earliest(schedule::run_timeout_at(*started_at, plan));
            }
        }
        let running_since = facts
            .running
            .iter()
            .filter(|(run_id, _)| !facts.timeouts_sent.contains(run_id))
            .map(|(_, started_at)| *started_at)
            .min();
        let evaluate = |last_success_at| {
            schedule::evaluate(&ScheduleInput {
                plan,
                plan_created_at: plan_set_at,
                last_success_at,
                running_since,
                now,
            })
        };
        let report = match evaluate(facts.last_success_at) {
            Ok(report) => report,
            Err(error) => {
                tracing::warn!(%customer_id, %error, "cannot evaluate the backup plan");
                continue;
            }
        };
        earliest(report.next_deadline);
        if report.status == BackupStatus::Down && facts.incident.is_none() && !facts.incident_sent {
            let Some(expected_at) = report.expected_at else {
                continue;
            };
            // The ordered fold lacks what was committed past the readers' watermark (a long
            // write transaction elsewhere holds it back): a success there may say otherwise.
            match latest_success_past(state, position, *customer_id).await {
                Ok(None) => {}
                Ok(Some(hidden)) => {
                    let latest = facts.last_success_at.max(Some(hidden));
                    if evaluate(latest).is_ok_and(|report| report.status != BackupStatus::Down) {
                        continue; // folded once the log tail returns it
                    }
                }
                Err(error) => {
                    tracing::warn!(%customer_id, %error, "cannot check for newer successes");
                    continue;
                }
            }
            let result = state
                .store
                .execute::<Customer>(
                    &customer_id.to_string(),
                    CustomerCommand::MarkBackupOverdue {
                        expected_at,
                        at: now,
                    },
                    &(),
                    &Metadata::new(Actor::System),
                    None,
                )
                .await;
            match result {
                Ok(committed) => facts.incident_sent = !committed.events.is_empty(),
                Err(error) => tracing::warn!(%customer_id, %error, "marking overdue failed"),
            }
        }
    }
    next
}

/// The latest success of `customer_id` committed after `position`, read from the log without
/// the watermark (so possibly ahead of the ordered fold).
async fn latest_success_past(
    state: &BackupState,
    position: LogPosition,
    customer_id: CustomerId,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT max((payload->'Succeeded'->>'at')::timestamptz) FROM events \
         WHERE (tx_id, position) > ($1::text::xid8, $2) \
           AND aggregate_type = 'backup_run' \
           AND payload->'Succeeded'->>'customer_id' = $3",
    )
    .bind(position.tx_id.to_string())
    .bind(position.position)
    .bind(customer_id.to_string())
    .fetch_one(&state.pool)
    .await
}
