//! The outbox feeder, a process manager (one active per database): reads the committed log
//! from its checkpoint and, for each event that calls for mail, renders one message into
//! `mail_outbox` (unique per event id), moving the checkpoint in the same transaction. It reads
//! only the events it mails for or addresses mail with (filtered in SQL), and keeps what it
//! needs to address the mail (customer names and recipients, workers' emails, roles and
//! whether they are active) in `process_manager_state` (manager `mail_outbox`, one row per
//! customer or worker), written in that same transaction: a start or a takeover loads it and
//! reads only the events after the checkpoint. (A database that has a checkpoint but no saved
//! directory yet, from before, folds its events up to the checkpoint once, mailing nothing.)
//!
//! Mail per event: `CustomerIngestTokenIssued` → welcome (customer email + report
//! recipients); `BackupRunSucceeded` → run report (report recipients);
//! `CustomerBackupOverdue` / `CustomerBackupFailed` / `CustomerBackupRecovered` → alert (report
//! recipients, admins in Bcc). An event with nobody to write to makes no row.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::backup_run::BackupRunEvent;
use domain::customer::CustomerEvent;
use domain::ids::{CustomerId, WorkerId};
use domain::values::Role;
use domain::worker::WorkerEvent;
use journal::{LogNotifier, LogPosition, LogReader, StoredEvent};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::templates::{self, Rendered};
use super::MailContext;

const CHECKPOINT: &str = "mail_outbox";
const READ_BATCH: i64 = 500;

/// The aggregate types and event types the feeder reads (everything else is not read).
const AGGREGATE_TYPES: &[&str] = &["worker", "customer", "backup_run"];
const EVENT_TYPES: &[&str] = &[
    "WorkerRegistered",
    "WorkerProfileUpdated",
    "WorkerRoleChanged",
    "WorkerDeactivated",
    "CustomerRegistered",
    "CustomerUpdated",
    "CustomerBackupPlanSet",
    "CustomerErased",
    "CustomerIngestTokenIssued",
    "CustomerBackupOverdue",
    "CustomerBackupFailed",
    "CustomerBackupRecovered",
    "BackupRunSucceeded",
];

#[derive(Default, Serialize, Deserialize)]
struct CustomerInfo {
    name: String,
    email: Option<String>,
    recipients: Vec<String>,
    erased: bool,
}

#[derive(Serialize, Deserialize)]
struct WorkerInfo {
    email: String,
    admin: bool,
    active: bool,
}

/// Who to write to, folded from the log.
#[derive(Default)]
struct Directory {
    customers: HashMap<CustomerId, CustomerInfo>,
    workers: HashMap<WorkerId, WorkerInfo>,
    /// Rows changed since the directory was last saved (`customer:<id>`, `worker:<id>`).
    changed: std::collections::HashSet<String>,
    /// The directory's marker row (key `''`: it is complete) is saved.
    saved: bool,
}

/// A message to put in the outbox.
#[derive(Debug)]
struct NewMessage {
    event_id: Uuid,
    kind: &'static str,
    customer_id: CustomerId,
    to: Vec<String>,
    bcc: Vec<String>,
    rendered: Rendered,
}

impl Directory {
    fn admin_emails(&self) -> Vec<String> {
        let mut emails: Vec<String> = self
            .workers
            .values()
            .filter(|worker| worker.admin && worker.active)
            .map(|worker| worker.email.clone())
            .collect();
        emails.sort();
        emails.dedup();
        emails
    }

    /// Folds the event in; returns the message it calls for (when `public_url` is given, i.e.
    /// the event is new to the outbox).
    fn apply(&mut self, stored: &StoredEvent, public_url: Option<&str>) -> Option<NewMessage> {
        if matches!(stored.aggregate_type.as_str(), "worker" | "customer") {
            self.changed
                .insert(format!("{}:{}", stored.aggregate_type, stored.aggregate_id));
        }
        match stored.aggregate_type.as_str() {
            "worker" => {
                let id: WorkerId = stored.aggregate_id.parse().ok()?;
                match stored.decode::<WorkerEvent>().ok()? {
                    WorkerEvent::Registered { email, role, .. } => {
                        self.workers.insert(
                            id,
                            WorkerInfo {
                                email: email.to_string(),
                                admin: role == Role::Admin,
                                active: true,
                            },
                        );
                    }
                    WorkerEvent::ProfileUpdated {
                        email: Some(change),
                        ..
                    } => {
                        if let Some(worker) = self.workers.get_mut(&id) {
                            worker.email = change.to.to_string();
                        }
                    }
                    WorkerEvent::RoleChanged { to, .. } => {
                        if let Some(worker) = self.workers.get_mut(&id) {
                            worker.admin = to == Role::Admin;
                        }
                    }
                    WorkerEvent::Deactivated { .. } => {
                        if let Some(worker) = self.workers.get_mut(&id) {
                            worker.active = false;
                        }
                    }
                    _ => {}
                }
                None
            }
            "customer" => {
                let id: CustomerId = stored.aggregate_id.parse().ok()?;
                let event = stored.decode::<CustomerEvent>().ok()?;
                let admins = self.admin_emails();
                let customer = self.customers.entry(id).or_default();
                match event {
                    CustomerEvent::Registered { name, email, .. } => {
                        customer.name = name.to_string();
                        customer.email = email.map(|email| email.to_string());
                        None
                    }
                    CustomerEvent::Updated { name, email, .. } => {
                        if let Some(name) = name {
                            customer.name = name.to.to_string();
                        }
                        if let Some(email) = email {
                            customer.email = email.to.map(|email| email.to_string());
                        }
                        None
                    }
                    CustomerEvent::BackupPlanSet { plan, .. } => {
                        customer.recipients = plan.report_recipients;
                        None
                    }
                    CustomerEvent::Erased { .. } => {
                        *customer = CustomerInfo {
                            erased: true,
                            ..CustomerInfo::default()
                        };
                        None
                    }
                    CustomerEvent::IngestTokenIssued { hash_prefix, .. } => {
                        let public_url = public_url?;
                        let mut to: Vec<String> = customer.email.iter().cloned().collect();
                        to.extend(customer.recipients.iter().cloned());
                        to.dedup();
                        message_for(
                            stored,
                            "welcome",
                            id,
                            customer,
                            to,
                            Vec::new(),
                            templates::welcome(&customer.name, public_url, &hash_prefix),
                        )
                    }
                    CustomerEvent::BackupOverdue { expected_at, at } => {
                        public_url?;
                        let rendered = templates::overdue(&customer.name, expected_at, at);
                        let to = customer.recipients.clone();
                        message_for(stored, "overdue", id, customer, to, admins, rendered)
                    }
                    CustomerEvent::BackupFailed {
                        exit_status,
                        message,
                        failed_at,
                        ..
                    } => {
                        public_url?;
                        let rendered = templates::failed(
                            &customer.name,
                            failed_at,
                            exit_status,
                            message.as_deref(),
                        );
                        let to = customer.recipients.clone();
                        message_for(stored, "failed", id, customer, to, admins, rendered)
                    }
                    CustomerEvent::BackupRecovered { downtime_secs, at } => {
                        public_url?;
                        let rendered = templates::recovered(&customer.name, downtime_secs, at);
                        let to = customer.recipients.clone();
                        message_for(stored, "recovered", id, customer, to, admins, rendered)
                    }
                    CustomerEvent::IngestTokenRevoked { .. } => None,
                }
            }
            "backup_run" => {
                public_url?;
                let BackupRunEvent::Succeeded {
                    customer_id,
                    duration_secs,
                    result,
                    at,
                    ..
                } = stored.decode::<BackupRunEvent>().ok()?
                else {
                    return None;
                };
                let customer = self.customers.get(&customer_id)?;
                let rendered = templates::run_report(&customer.name, at, duration_secs, &result);
                let to = customer.recipients.clone();
                message_for(
                    stored,
                    "run_report",
                    customer_id,
                    customer,
                    to,
                    Vec::new(),
                    rendered,
                )
            }
            _ => None,
        }
    }
}

fn message_for(
    stored: &StoredEvent,
    kind: &'static str,
    customer_id: CustomerId,
    customer: &CustomerInfo,
    to: Vec<String>,
    bcc: Vec<String>,
    rendered: Rendered,
) -> Option<NewMessage> {
    if customer.erased {
        return None;
    }
    let (to, bcc) = if to.is_empty() {
        (bcc, Vec::new())
    } else {
        let bcc = bcc
            .into_iter()
            .filter(|email| !to.contains(email))
            .collect();
        (to, bcc)
    };
    if to.is_empty() {
        return None;
    }
    Some(NewMessage {
        event_id: stored.event_id,
        kind,
        customer_id,
        to,
        bcc,
        rendered,
    })
}

/// The Message-ID of the mail caused by `event_id`.
pub fn message_id(event_id: Uuid) -> String {
    format!("<{event_id}@savecorp.mail>")
}

/// What the feeder needs: the database, the log, the mail settings and the sender's wake-up,
/// and how often a standby tries to take over.
#[derive(Clone)]
pub struct Feeder {
    pub pool: PgPool,
    pub reader: LogReader,
    pub mail: MailContext,
    pub leader_retry: Duration,
}

/// Runs the feeder until `shutdown`.
pub async fn run(feeder: Feeder, notifier: LogNotifier, shutdown: CancellationToken) {
    let state = feeder;
    let retry = state.leader_retry;
    crate::platform::leadership::lead(
        &state.pool,
        crate::platform::leadership::keys::OUTBOX_FEEDER,
        "mail outbox feeder",
        retry,
        &shutdown,
        |mut lock| {
            let (state, notifier, shutdown) = (state.clone(), notifier.clone(), shutdown.clone());
            async move { feed(&state, &mut lock, notifier, &shutdown).await }
        },
    )
    .await;
}

/// Feeds while `lock`'s session lives (see the watchdog: a lost session is a lost lock).
async fn feed(
    state: &Feeder,
    lock: &mut sqlx::PgConnection,
    mut notifier: LogNotifier,
    shutdown: &CancellationToken,
) -> Result<(), sqlx::Error> {
    let checkpoint = projections::projector::checkpoint(&state.pool, CHECKPOINT).await?;
    let mut directory = match load_directory(&state.pool).await? {
        Some(directory) => directory,
        None => {
            // No saved directory (a database from before it was kept): fold what was already
            // mailed for, mailing nothing, and save it.
            let mut directory = Directory::default();
            let mut position = LogPosition::START;
            loop {
                let events = state
                    .reader
                    .read_filtered(
                        position,
                        checkpoint,
                        AGGREGATE_TYPES,
                        EVENT_TYPES,
                        READ_BATCH,
                    )
                    .await?;
                for event in &events {
                    directory.apply(event, None);
                    position = event.log_position;
                }
                if (events.len() as i64) < READ_BATCH {
                    break;
                }
            }
            store_batch(&state.pool, &[], &mut directory, checkpoint).await?;
            directory
        }
    };
    let mut position = checkpoint;
    let poll = Duration::from_millis(state.mail.settings.config.mail_poll_ms.max(10));
    let public_url = state.mail.settings.public_url.clone();
    let mut pace = journal::Pace::new(journal::PROCESS_MANAGER_GAP);
    loop {
        let head = state.reader.head().await?;
        loop {
            let events = state
                .reader
                .read_filtered(position, head, AGGREGATE_TYPES, EVENT_TYPES, READ_BATCH)
                .await?;
            let full = (events.len() as i64) == READ_BATCH;
            let last = match events.last() {
                Some(event) if full => event.log_position,
                _ => head,
            };
            if last == position {
                break;
            }
            let messages: Vec<NewMessage> = events
                .iter()
                .filter_map(|event| directory.apply(event, Some(&public_url)))
                .collect();
            let inserted = store_batch(&state.pool, &messages, &mut directory, last).await?;
            position = last;
            if inserted > 0 {
                state.mail.wakeup.notify_one();
            }
            if !full {
                break;
            }
        }
        sqlx::Connection::ping(lock).await?;
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = notifier.wait_paced(poll, &mut pace) => {}
        }
    }
}

/// The saved directory, `None` when it was never saved (its marker row, key `''`, is missing)
/// or a row cannot be read (it is then folded from the log again).
async fn load_directory(pool: &PgPool) -> Result<Option<Directory>, sqlx::Error> {
    let rows: Vec<(String, serde_json::Value)> =
        sqlx::query_as("SELECT key, state FROM process_manager_state WHERE manager = $1")
            .bind(CHECKPOINT)
            .fetch_all(pool)
            .await?;
    let mut directory = Directory::default();
    let mut complete = false;
    for (key, state) in rows {
        let read = match key.split_once(':') {
            None if key.is_empty() => {
                complete = true;
                Some(())
            }
            Some(("customer", id)) => id.parse::<CustomerId>().ok().and_then(|id| {
                let info = serde_json::from_value::<CustomerInfo>(state).ok()?;
                directory.customers.insert(id, info);
                Some(())
            }),
            Some(("worker", id)) => id.parse::<WorkerId>().ok().and_then(|id| {
                let info = serde_json::from_value::<WorkerInfo>(state).ok()?;
                directory.workers.insert(id, info);
                Some(())
            }),
            _ => None,
        };
        if read.is_none() {
            tracing::warn!(%key, "mail outbox: unreadable saved directory; folding the log again");
            return Ok(None);
        }
    }
    directory.saved = complete;
    Ok(complete.then_some(directory))
}

/// Puts `messages` in the outbox, saves the directory rows that changed and moves the
/// checkpoint, in one transaction.
async fn store_batch(
    pool: &PgPool,
    messages: &[NewMessage],
    directory: &mut Directory,
    checkpoint: LogPosition,
) -> Result<u64, sqlx::Error> {
    let changed: Vec<String> = directory.changed.drain().collect();
    let marker = (!directory.saved).then(String::new);
    let mut upserts = Vec::with_capacity(changed.len() + 1);
    for key in marker.into_iter().chain(changed) {
        let state = match key.split_once(':') {
            None => Some(serde_json::json!({ "complete": true })),
            Some(("customer", id)) => id
                .parse::<CustomerId>()
                .ok()
                .and_then(|id| directory.customers.get(&id))
                .and_then(|info| serde_json::to_value(info).ok()),
            Some(("worker", id)) => id
                .parse::<WorkerId>()
                .ok()
                .and_then(|id| directory.workers.get(&id))
                .and_then(|info| serde_json::to_value(info).ok()),
            Some(_) => None,
        };
        if let Some(state) = state {
            upserts.push((key, state));
        }
    }
    // Three statements in one short transaction (a write transaction holds the log readers'
    // watermark until it ends): the messages in one multi-row insert, then the directory's
    // rows and the checkpoint in one statement.
    let mut transaction = pool.begin().await?;
    let mut inserted = 0;
    if !messages.is_empty() {
        let event_ids: Vec<uuid::Uuid> = messages.iter().map(|m| m.event_id).collect();
        let kinds: Vec<&str> = messages.iter().map(|m| m.kind).collect();
        let customers: Vec<uuid::Uuid> = messages.iter().map(|m| m.customer_id.as_uuid()).collect();
        let to: Vec<serde_json::Value> = messages.iter().map(|m| serde_json::json!(m.to)).collect();
        let bcc: Vec<serde_json::Value> =
            messages.iter().map(|m| serde_json::json!(m.bcc)).collect();
        let subjects: Vec<&str> = messages
            .iter()
            .map(|m| m.rendered.subject.as_str())
            .collect();
        let texts: Vec<&str> = messages.iter().map(|m| m.rendered.text.as_str()).collect();
        let htmls: Vec<&str> = messages.iter().map(|m| m.rendered.html.as_str()).collect();
        let message_ids: Vec<String> = messages.iter().map(|m| message_id(m.event_id)).collect();
        inserted = sqlx::query(
            "INSERT INTO mail_outbox (event_id, kind, customer_id, to_addresses, bcc_addresses, \
                                      subject, text_body, html_body, message_id) \
             SELECT m.event_id, m.kind, m.customer_id, \
                    ARRAY(SELECT jsonb_array_elements_text(m.to_addresses)), \
                    ARRAY(SELECT jsonb_array_elements_text(m.bcc_addresses)), \
                    m.subject, m.text_body, m.html_body, m.message_id \
             FROM UNNEST($1::uuid[], $2::text[], $3::uuid[], $4::jsonb[], $5::jsonb[], $6::text[], \
                         $7::text[], $8::text[], $9::text[]) \
                  AS m(event_id, kind, customer_id, to_addresses, bcc_addresses, subject, \
                       text_body, html_body, message_id) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(&event_ids)
        .bind(&kinds)
        .bind(&customers)
        .bind(&to)
        .bind(&bcc)
        .bind(&subjects)
        .bind(&texts)
        .bind(&htmls)
        .bind(&message_ids)
        .execute(&mut *transaction)
        .await?
        .rows_affected();
    }
    projections::projector::save_manager_state(
        &mut transaction,
        CHECKPOINT,
        &upserts,
        &[],
        checkpoint,
    )
    .await?;
    transaction.commit().await?;
    directory.saved = true;
    Ok(inserted)
}

/// One outbox message as admins see it (no bodies).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: i64,
    pub event_id: Uuid,
    pub kind: String,
    pub customer_id: Option<Uuid>,
    pub to_addresses: Vec<String>,
    pub bcc_addresses: Vec<String>,
    pub subject: String,
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub gave_up_at: Option<DateTime<Utc>>,
}

/// The newest outbox messages, for admins: delivery state, attempts and last error.
pub async fn outbox_entries(pool: &PgPool, limit: i64) -> Result<Vec<OutboxEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_id, kind, customer_id, to_addresses, bcc_addresses, subject, \
                message_id, created_at, attempts, last_error, next_attempt_at, sent_at, \
                gave_up_at \
         FROM mail_outbox ORDER BY id DESC LIMIT $1",
    )
    .bind(limit.clamp(1, 1000))
    .fetch_all(pool)
    .await
}
