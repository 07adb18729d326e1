//! Read model `backups`: every backup run (`backup_runs`) and each customer's monitoring facts
//! (`backup_status`). The stored `status` is what the events alone say (`new`, `up`, `down`,
//! `paused`, `running`; `down` when overdue, or at once when the latest finished run failed or
//! timed out after the last success); `grace` depends on the clock, so [`status_at`] evaluates the plan with
//! the domain's schedule policy at a given instant.
//!
//! ```sql
//! SELECT * FROM backup_runs WHERE customer_id = $1 ORDER BY reported_at DESC LIMIT 20;
//! SELECT * FROM backup_runs WHERE customer_id = $1 AND expired;   -- expiredBackupRuns
//! ```

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::backup_run::{BackupRunEvent, RunResult};
use domain::customer::CustomerEvent;
use domain::plan::BackupPlan;
use domain::policy::schedule::{self, BackupStatus, ScheduleInput};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{decode, load_rows, micros, unique, upsert_rows, ReadError};
use crate::projector::{Projection, ProjectionError};
use journal::StoredEvent;

/// A row of `backup_runs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupRunRow {
    pub run_id: Uuid,
    pub customer_id: Uuid,
    pub client_run_id: Option<String>,
    /// `running | succeeded | failed | timed_out`.
    pub status: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<i64>,
    pub exit_status: Option<i32>,
    pub message: Option<String>,
    /// `manifest | tool_stats | plain`.
    pub result_kind: Option<String>,
    pub result: Option<Value>,
    pub files_created: Option<i64>,
    pub files_modified: Option<i64>,
    pub files_deleted: Option<i64>,
    pub bytes: Option<i64>,
    pub log_entries: i32,
    pub log_truncated: bool,
    pub expired: bool,
    pub expired_at: Option<DateTime<Utc>>,
    pub expire_reason: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub version: i64,
}

const RUN_COLUMNS: &[&str] = &[
    "run_id",
    "customer_id",
    "client_run_id",
    "status",
    "started_at",
    "finished_at",
    "duration_secs",
    "exit_status",
    "message",
    "result_kind",
    "result",
    "files_created",
    "files_modified",
    "files_deleted",
    "bytes",
    "log_entries",
    "log_truncated",
    "expired",
    "expired_at",
    "expire_reason",
    "reported_at",
    "version",
];

/// A row of `backup_status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupStatusRow {
    pub customer_id: Uuid,
    pub plan: Option<Value>,
    pub plan_set_at: Option<DateTime<Utc>>,
    pub paused: bool,
    pub running_run_id: Option<Uuid>,
    pub running_since: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    pub overdue_since: Option<DateTime<Utc>>,
    /// `new | up | down | paused | running` from the events alone.
    pub status: String,
    pub updated_at: DateTime<Utc>,
}

const STATUS_COLUMNS: &[&str] = &[
    "customer_id",
    "plan",
    "plan_set_at",
    "paused",
    "running_run_id",
    "running_since",
    "last_success_at",
    "last_failure_at",
    "overdue_since",
    "status",
    "updated_at",
];

impl BackupStatusRow {
    fn new(customer_id: Uuid, at: DateTime<Utc>) -> Self {
        Self {
            customer_id,
            plan: None,
            plan_set_at: None,
            paused: false,
            running_run_id: None,
            running_since: None,
            last_success_at: None,
            last_failure_at: None,
            overdue_since: None,
            status: "new".to_owned(),
            updated_at: micros(at),
        }
    }

    fn refresh(&mut self, at: DateTime<Utc>) {
        self.updated_at = micros(at);
        self.status = if self.paused {
            "paused"
        } else if self.running_run_id.is_some() {
            "running"
        } else if self.overdue_since.is_some() || self.failed() {
            "down"
        } else if self.last_success_at.is_some() {
            "up"
        } else {
            "new"
        }
        .to_owned();
    }

    /// Whether the latest finished run failed (or timed out) after the last success, under a
    /// plan: down (reason `failed`) until the next success.
    pub fn failed(&self) -> bool {
        self.plan.is_some()
            && self.last_failure_at.is_some_and(|failed_at| {
                self.last_success_at
                    .is_none_or(|success_at| success_at < failed_at)
            })
    }

    fn finish(&mut self, run_id: Uuid) {
        if self.running_run_id == Some(run_id) {
            self.running_run_id = None;
            self.running_since = None;
        }
    }
}

/// The `backups` projection.
pub struct BackupsProjection;

impl Projection for BackupsProjection {
    fn name(&self) -> &'static str {
        "backups"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["backup_runs", "backup_status"]
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["backup_run", "customer"]
    }

    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(apply(connection, events))
    }
}

enum Decoded {
    Run(BackupRunEvent),
    Customer(CustomerEvent),
}

async fn apply(
    connection: &mut PgConnection,
    events: &[StoredEvent],
) -> Result<(), ProjectionError> {
    let run_events = decode::<BackupRunEvent>(events, "backup_run")?;
    let customer_events = decode::<CustomerEvent>(events, "customer")?;
    let run_ids = unique(run_events.iter().map(|(id, _, _)| *id));
    let mut runs: HashMap<Uuid, BackupRunRow> =
        load_rows::<BackupRunRow>(connection, "backup_runs", "run_id", &run_ids, "")
            .await?
            .into_iter()
            .map(|row| (row.run_id, row))
            .collect();
    let mut customer_ids: Vec<Uuid> = customer_events.iter().map(|(id, _, _)| *id).collect();
    for (_, _, event) in &run_events {
        if let BackupRunEvent::Started { customer_id, .. }
        | BackupRunEvent::Succeeded { customer_id, .. }
        | BackupRunEvent::Failed { customer_id, .. } = event
        {
            customer_ids.push(customer_id.as_uuid());
        }
    }
    customer_ids.extend(runs.values().map(|run| run.customer_id));
    let customer_ids = unique(customer_ids);
    let mut statuses: HashMap<Uuid, BackupStatusRow> = load_rows::<BackupStatusRow>(
        connection,
        "backup_status",
        "customer_id",
        &customer_ids,
        "",
    )
    .await?
    .into_iter()
    .map(|row| (row.customer_id, row))
    .collect();

    // Apply in log order across both aggregate types.
    let mut ordered: Vec<(usize, Uuid, i64, Decoded)> = Vec::new();
    let positions: HashMap<(String, i64), usize> = events
        .iter()
        .enumerate()
        .map(|(index, event)| ((event.aggregate_id.clone(), event.sequence), index))
        .collect();
    let index_of = |id: &Uuid, sequence: i64| {
        positions
            .get(&(id.to_string(), sequence))
            .copied()
            .unwrap_or(usize::MAX)
    };
    for (id, sequence, event) in run_events {
        ordered.push((index_of(&id, sequence), id, sequence, Decoded::Run(event)));
    }
    for (id, sequence, event) in customer_events {
        ordered.push((
            index_of(&id, sequence),
            id,
            sequence,
            Decoded::Customer(event),
        ));
    }
    ordered.sort_by_key(|(index, ..)| *index);

    for (_, id, sequence, event) in ordered {
        match event {
            Decoded::Run(event) => apply_run(&mut runs, &mut statuses, id, sequence, event),
            Decoded::Customer(event) => apply_customer(&mut statuses, id, event),
        }
    }
    let run_rows: Vec<BackupRunRow> = run_ids.iter().filter_map(|id| runs.remove(id)).collect();
    upsert_rows(
        connection,
        "backup_runs",
        &["run_id"],
        RUN_COLUMNS,
        &run_rows,
    )
    .await?;
    let status_rows: Vec<BackupStatusRow> = customer_ids
        .iter()
        .filter_map(|id| statuses.remove(id))
        .collect();
    upsert_rows(
        connection,
        "backup_status",
        &["customer_id"],
        STATUS_COLUMNS,
        &status_rows,
    )
    .await
}

fn apply_customer(statuses: &mut HashMap<Uuid, BackupStatusRow>, id: Uuid, event: CustomerEvent) {
    let at = match &event {
        CustomerEvent::BackupPlanSet { at, .. }
        | CustomerEvent::BackupOverdue { at, .. }
        | CustomerEvent::BackupRecovered { at, .. }
        | CustomerEvent::Erased { at } => *at,
        _ => return,
    };
    let row = statuses
        .entry(id)
        .or_insert_with(|| BackupStatusRow::new(id, at));
    match event {
        CustomerEvent::BackupPlanSet { plan, at } => {
            row.paused = plan.paused;
            row.plan = serde_json::to_value(&plan).ok();
            row.plan_set_at = Some(micros(at));
        }
        CustomerEvent::BackupOverdue { at, .. } => row.overdue_since = Some(micros(at)),
        CustomerEvent::BackupRecovered { .. } => row.overdue_since = None,
        // The plan names report recipients: personal data goes.
        CustomerEvent::Erased { .. } => {
            row.plan = None;
            row.paused = false;
        }
        _ => {}
    }
    row.refresh(at);
}

fn apply_run(
    runs: &mut HashMap<Uuid, BackupRunRow>,
    statuses: &mut HashMap<Uuid, BackupStatusRow>,
    id: Uuid,
    sequence: i64,
    event: BackupRunEvent,
) {
    let new_run =
        |customer_id: Uuid, client_run_id: Option<String>, at: DateTime<Utc>| BackupRunRow {
            run_id: id,
            customer_id,
            client_run_id,
            status: "running".to_owned(),
            started_at: None,
            finished_at: None,
            duration_secs: None,
            exit_status: None,
            message: None,
            result_kind: None,
            result: None,
            files_created: None,
            files_modified: None,
            files_deleted: None,
            bytes: None,
            log_entries: 0,
            log_truncated: false,
            expired: false,
            expired_at: None,
            expire_reason: None,
            reported_at: micros(at),
            version: 0,
        };
    match event {
        BackupRunEvent::Started {
            customer_id,
            client_run_id,
            at,
        } => {
            let mut run = new_run(customer_id.as_uuid(), client_run_id, at);
            run.started_at = Some(micros(at));
            runs.insert(id, run);
            let status = statuses
                .entry(customer_id.as_uuid())
                .or_insert_with(|| BackupStatusRow::new(customer_id.as_uuid(), at));
            status.running_run_id = Some(id);
            status.running_since = Some(micros(at));
            status.refresh(at);
        }
        BackupRunEvent::Succeeded {
            customer_id,
            client_run_id,
            started_at,
            duration_secs,
            result,
            at,
        } => {
            let run = runs
                .entry(id)
                .or_insert_with(|| new_run(customer_id.as_uuid(), client_run_id, at));
            run.status = "succeeded".to_owned();
            run.started_at = started_at.map(micros);
            run.finished_at = Some(micros(at));
            run.duration_secs = duration_secs.map(|secs| i64::try_from(secs).unwrap_or(i64::MAX));
            let to_i64 = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
            match &result {
                RunResult::Manifest { bytes, changes, .. } => {
                    run.result_kind = Some("manifest".to_owned());
                    run.bytes = Some(to_i64(*bytes));
                    if let Some(changes) = changes {
                        run.files_created = Some(to_i64(changes.created));
                        run.files_modified = Some(to_i64(changes.modified));
                        run.files_deleted = Some(to_i64(changes.deleted));
                    }
                }
                RunResult::ToolStats(stats) => {
                    run.result_kind = Some("tool_stats".to_owned());
                    run.bytes = Some(to_i64(stats.total_bytes_processed));
                    run.files_created = Some(to_i64(stats.files_new));
                    run.files_modified = Some(to_i64(stats.files_changed));
                }
                RunResult::Plain => run.result_kind = Some("plain".to_owned()),
            }
            run.result = serde_json::to_value(&result).ok();
            let status = statuses
                .entry(customer_id.as_uuid())
                .or_insert_with(|| BackupStatusRow::new(customer_id.as_uuid(), at));
            status.finish(id);
            status.last_success_at = Some(micros(at));
            status.refresh(at);
        }
        BackupRunEvent::Failed {
            customer_id,
            client_run_id,
            started_at,
            duration_secs,
            exit_status,
            message,
            at,
        } => {
            let run = runs
                .entry(id)
                .or_insert_with(|| new_run(customer_id.as_uuid(), client_run_id, at));
            run.status = "failed".to_owned();
            run.started_at = started_at.map(micros);
            run.finished_at = Some(micros(at));
            run.duration_secs = duration_secs.map(|secs| i64::try_from(secs).unwrap_or(i64::MAX));
            run.exit_status = exit_status;
            run.message = message;
            let status = statuses
                .entry(customer_id.as_uuid())
                .or_insert_with(|| BackupStatusRow::new(customer_id.as_uuid(), at));
            status.finish(id);
            status.last_failure_at = Some(micros(at));
            status.refresh(at);
        }
        BackupRunEvent::LogAppended { truncated, .. } => {
            if let Some(run) = runs.get_mut(&id) {
                run.log_entries += 1;
                run.log_truncated |= truncated;
            }
        }
        BackupRunEvent::TimedOut { at, .. } => {
            if let Some(run) = runs.get_mut(&id) {
                run.status = "timed_out".to_owned();
                run.finished_at = Some(micros(at));
                if let Some(status) = statuses.get_mut(&run.customer_id) {
                    status.finish(id);
                    status.last_failure_at = Some(micros(at));
                    status.refresh(at);
                }
            }
        }
        BackupRunEvent::Expired { reason, at } => {
            if let Some(run) = runs.get_mut(&id) {
                run.expired = true;
                run.expired_at = Some(micros(at));
                run.expire_reason = Some(reason);
            }
        }
    }
    if let Some(run) = runs.get_mut(&id) {
        run.version = sequence;
    }
}

/// A customer's backup monitoring facts.
pub async fn status(
    pool: &PgPool,
    customer_id: Uuid,
) -> Result<Option<BackupStatusRow>, ReadError> {
    let value: Option<Value> =
        sqlx::query_scalar("SELECT to_jsonb(t) FROM backup_status t WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_optional(pool)
            .await?;
    Ok(value.map(serde_json::from_value).transpose()?)
}

/// The status at `now` with the domain's schedule policy (adds `grace`, and `down` before the
/// watchdog marked it); falls back to the stored status when there is no valid plan.
pub fn status_at(row: &BackupStatusRow, now: DateTime<Utc>) -> BackupStatus {
    let stored = match row.status.as_str() {
        "paused" => BackupStatus::Paused,
        "running" => BackupStatus::Running,
        "down" => BackupStatus::Down,
        "up" => BackupStatus::Up,
        _ => BackupStatus::New,
    };
    let Some(plan) = row
        .plan
        .clone()
        .and_then(|plan| serde_json::from_value::<BackupPlan>(plan).ok())
    else {
        return stored;
    };
    let input = ScheduleInput {
        plan: &plan,
        plan_created_at: row.plan_set_at.unwrap_or(row.updated_at),
        last_success_at: row.last_success_at,
        running_since: row.running_since,
        now,
    };
    match schedule::evaluate(&input) {
        Ok(report)
            if (row.overdue_since.is_some() || row.failed())
                && report.status != BackupStatus::Paused =>
        {
            if report.status == BackupStatus::Running {
                BackupStatus::Running
            } else {
                BackupStatus::Down
            }
        }
        Ok(report) => report.status,
        Err(_) => stored,
    }
}

/// Runs of a customer, newest first (`backupRuns`, `expiredBackupRuns` with `expired_only`).
pub async fn runs(
    pool: &PgPool,
    customer_id: Uuid,
    expired_only: bool,
    limit: i64,
    before: Option<DateTime<Utc>>,
) -> Result<Vec<BackupRunRow>, ReadError> {
    let values: Vec<Value> = sqlx::query_scalar(
        "SELECT to_jsonb(t) FROM backup_runs t WHERE customer_id = $1 AND (NOT $2 OR expired) \
           AND ($3::timestamptz IS NULL OR reported_at < $3) \
         ORDER BY reported_at DESC, run_id LIMIT $4",
    )
    .bind(customer_id)
    .bind(expired_only)
    .bind(before)
    .bind(limit.clamp(1, 100))
    .fetch_all(pool)
    .await?;
    Ok(values
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?)
}

/// Where a keyset page of runs starts: after (or before) this `(reported_at, run_id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunKey {
    pub reported_at: DateTime<Utc>,
    pub run_id: Uuid,
}

impl RunKey {
    pub fn of(row: &BackupRunRow) -> Self {
        Self {
            reported_at: row.reported_at,
            run_id: row.run_id,
        }
    }
}

/// A page of a customer's runs in list order (newest first: `reported_at DESC, run_id DESC`),
/// by keyset on the `backup_runs_customer` index. `newer_first` walks the list forward (rows
/// after `after` and before `before` in list order); otherwise backward from `before` (rows
/// are then returned oldest first, as fetched). At most `limit` rows (clamped to 1..=101).
pub async fn runs_page(
    pool: &PgPool,
    customer_id: Uuid,
    expired_only: bool,
    forward: bool,
    after: Option<RunKey>,
    before: Option<RunKey>,
    limit: i64,
) -> Result<Vec<BackupRunRow>, ReadError> {
    let order = if forward {
        "reported_at DESC, run_id DESC"
    } else {
        "reported_at ASC, run_id ASC"
    };
    let values: Vec<Value> = sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) FROM backup_runs t WHERE customer_id = $1 AND (NOT $2 OR expired) \
           AND ($3::timestamptz IS NULL OR (reported_at, run_id) < ($3, $4::uuid)) \
           AND ($5::timestamptz IS NULL OR (reported_at, run_id) > ($5, $6::uuid)) \
         ORDER BY {order} LIMIT $7"
    ))
    .bind(customer_id)
    .bind(expired_only)
    .bind(after.map(|key| key.reported_at))
    .bind(after.map(|key| key.run_id))
    .bind(before.map(|key| key.reported_at))
    .bind(before.map(|key| key.run_id))
    .bind(limit.clamp(1, 101))
    .fetch_all(pool)
    .await?;
    Ok(values
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()?)
}

/// How many runs the customer has (only expired ones with `expired_only`).
pub async fn runs_count(
    pool: &PgPool,
    customer_id: Uuid,
    expired_only: bool,
) -> Result<i64, ReadError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM backup_runs WHERE customer_id = $1 AND (NOT $2 OR expired)",
    )
    .bind(customer_id)
    .bind(expired_only)
    .fetch_one(pool)
    .await?)
}

/// The customer's latest run (by first report), if any.
pub async fn last_run(pool: &PgPool, customer_id: Uuid) -> Result<Option<BackupRunRow>, ReadError> {
    Ok(runs_page(pool, customer_id, false, true, None, None, 1)
        .await?
        .into_iter()
        .next())
}

/// When the current failure incident began: the first run that failed (or timed out) after
/// the last success; `None` when the latest finished run succeeded or none failed.
pub async fn failing_since(
    pool: &PgPool,
    row: &BackupStatusRow,
) -> Result<Option<DateTime<Utc>>, ReadError> {
    if !row.failed() {
        return Ok(None);
    }
    Ok(sqlx::query_scalar(
        "SELECT min(finished_at) FROM backup_runs WHERE customer_id = $1 \
           AND status IN ('failed', 'timed_out') \
           AND ($2::timestamptz IS NULL OR finished_at > $2)",
    )
    .bind(row.customer_id)
    .bind(row.last_success_at)
    .fetch_one(pool)
    .await?)
}
