//! Backup monitoring over GraphQL (PRODUCT §6): `backupStatus`, `backupRuns`,
//! `expiredBackupRuns` (admins, agents, and the customer's own ingest token), `setBackupPlan`,
//! `issueIngestToken`, `revokeIngestToken` (admins), `reportBackupRun` (ingest token only,
//! `Authorization: Bearer sci_…`). The work is done by [`crate::backup::service`]; runs and
//! status are folded from the log, so they show a report at once.

use async_graphql::{Context, Enum, InputObject, Json, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::backup_run::{RunResult, RunStatus};
use domain::ids::{CustomerId, IngestTokenId};
use domain::plan::{BackupPlan, RetentionPolicy, Schedule};
use journal::Actor;

use super::connection::{page, CursorKey, Direction, Page, PageRequest};
use super::context::{
    parse_id, require_admin, require_ingest_token, require_worker_or_token_of, state,
};
use super::error::ApiError;
use crate::backup::service::{self, BackupError, Bytes, PingKind, RunList, RunView, StatusView};
use projections::readmodels::backups::RunKey;

impl From<BackupError> for ApiError {
    fn from(error: BackupError) -> Self {
        match error {
            BackupError::Unauthenticated => Self::Unauthenticated("the ingest token is not valid"),
            BackupError::CustomerNotFound => Self::NotFound("customer"),
            BackupError::InvalidBody { line, message } => Self::Validation {
                field: "body".into(),
                message: match line {
                    Some(line) => format!("line {line}: {message}"),
                    None => message,
                },
            },
            BackupError::Conflict { expected, actual } => Self::Conflict(format!(
                "expected version {expected}, the customer is at version {actual}"
            )),
            BackupError::Unavailable => Self::Unavailable,
            BackupError::Internal(cause) => Self::Internal(anyhow::anyhow!(cause)),
            other => Self::Rule {
                code: other.code(),
                message: other.to_string(),
                field: None,
            },
        }
    }
}

/// Where a run is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "BackupRunStatus")]
pub enum RunStatusValue {
    Running,
    Succeeded,
    Failed,
    TimedOut,
}

impl From<RunStatus> for RunStatusValue {
    fn from(value: RunStatus) -> Self {
        match value {
            RunStatus::Running => Self::Running,
            RunStatus::Succeeded => Self::Succeeded,
            RunStatus::Failed => Self::Failed,
            RunStatus::TimedOut => Self::TimedOut,
        }
    }
}

/// What a successful run backed up, and its changes against the previous success (from a
/// manifest), or the backup tool's own counts (restic).
#[derive(SimpleObject, Clone, Debug, Default)]
pub struct BackupRunStats {
    pub files: Option<i64>,
    pub bytes: Option<i64>,
    pub created: Option<i64>,
    pub modified: Option<i64>,
    pub deleted: Option<i64>,
    pub unchanged: Option<i64>,
    pub created_bytes: Option<i64>,
    pub modified_bytes: Option<i64>,
    pub deleted_bytes: Option<i64>,
    pub unchanged_bytes: Option<i64>,
}

fn int(value: u64) -> Option<i64> {
    Some(i64::try_from(value).unwrap_or(i64::MAX))
}

fn stats_of(result: &RunResult) -> Option<BackupRunStats> {
    match result {
        RunResult::Manifest {
            entries,
            bytes,
            changes,
            ..
        } => {
            let mut stats = BackupRunStats {
                files: int(*entries),
                bytes: int(*bytes),
                ..BackupRunStats::default()
            };
            if let Some(changes) = changes {
                stats.created = int(changes.created);
                stats.modified = int(changes.modified);
                stats.deleted = int(changes.deleted);
                stats.unchanged = int(changes.unchanged);
                stats.created_bytes = int(changes.created_bytes);
                stats.modified_bytes = int(changes.modified_bytes);
                stats.deleted_bytes = int(changes.deleted_bytes);
                stats.unchanged_bytes = int(changes.unchanged_bytes);
            }
            Some(stats)
        }
        RunResult::ToolStats(tool) => Some(BackupRunStats {
            files: int(tool.total_files_processed),
            bytes: int(tool.total_bytes_processed),
            created: int(tool.files_new),
            modified: int(tool.files_changed),
            unchanged: int(tool.files_unmodified),
            created_bytes: int(tool.data_added),
            ..BackupRunStats::default()
        }),
        _ => None,
    }
}

fn result_json(result: &Option<RunResult>) -> Option<Json<serde_json::Value>> {
    result
        .as_ref()
        .and_then(|result| serde_json::to_value(result).ok())
        .map(Json)
}

/// One backup run.
#[derive(SimpleObject, Clone, Debug)]
pub struct BackupRunView {
    pub id: ID,
    /// The client's run id (`rid`), if it gave one.
    pub client_run_id: Option<String>,
    pub status: RunStatusValue,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<i64>,
    pub exit_status: Option<i32>,
    /// What a failed run reported: the last 10 KiB of its body (`/fail`, a non-zero exit
    /// status), or why the system failed it (timed out).
    pub message: Option<String>,
    /// Marked by the retention policy: the storage side may delete it.
    pub expired: bool,
    /// When the run's first report arrived (its start, or its end when never started): the
    /// order of `backupRuns`.
    pub reported_at: Option<DateTime<Utc>>,
    pub stats: Option<BackupRunStats>,
    /// The recorded result in full (manifest summary or tool statistics).
    pub result: Option<Json<serde_json::Value>>,
}

impl From<RunView> for BackupRunView {
    fn from(run: RunView) -> Self {
        Self {
            id: ID(run.run_id.to_string()),
            client_run_id: run.client_run_id.clone(),
            status: run.status.into(),
            started_at: run.started_at,
            finished_at: run.finished_at,
            duration_secs: run.duration_secs.and_then(int),
            exit_status: run.exit_status,
            message: run.message.clone().or_else(|| {
                (run.status == RunStatus::TimedOut)
                    .then(|| "the run timed out: no end was reported".to_owned())
            }),
            expired: run.expired,
            reported_at: run.reported_at,
            stats: run.result.as_ref().and_then(stats_of),
            result: result_json(&run.result),
        }
    }
}

/// A customer's backup monitoring status.
#[derive(SimpleObject, Clone, Debug)]
pub struct BackupStatusView {
    pub customer_id: ID,
    /// `new`, `up`, `grace`, `down`, `paused`, `running`, or `unmonitored` without a plan.
    pub status: String,
    /// The plan (schedule, retention, recipients, paused), as stored.
    pub plan: Option<Json<serde_json::Value>>,
    pub expected_at: Option<DateTime<Utc>>,
    pub late_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub running_since: Option<DateTime<Utc>>,
    pub overdue_since: Option<DateTime<Utc>>,
    /// Why the status is `down`: `failed` (the latest run failed or timed out, until the next
    /// success) or `overdue` (no success within the schedule and its grace).
    pub down_reason: Option<String>,
    /// While down for reason `failed`: when the first failed run after the last success ended.
    pub failing_since: Option<DateTime<Utc>>,
    /// The latest run (by its first report) with its statistics; none before any report.
    pub last_run: Option<BackupRunView>,
}

impl From<StatusView> for BackupStatusView {
    fn from(view: StatusView) -> Self {
        Self {
            customer_id: ID(view.customer_id.to_string()),
            status: view.status.to_owned(),
            plan: view
                .plan
                .as_ref()
                .and_then(|plan| serde_json::to_value(plan).ok())
                .map(Json),
            expected_at: view.expected_at,
            late_at: view.late_at,
            last_success_at: view.last_success_at,
            running_since: view.running_since,
            overdue_since: view.overdue_since,
            down_reason: view.down_reason.map(str::to_owned),
            failing_since: view.failing_since,
            last_run: view.last_run.map(Into::into),
        }
    }
}

/// A backup plan: a period (`periodSecs`) or a cron expression with its time zone, the grace,
/// retention rules, mail recipients, and whether monitoring is paused.
#[derive(InputObject)]
pub struct BackupPlanInput {
    pub period_secs: Option<i64>,
    /// 5 fields, read in `timeZone`.
    pub cron: Option<String>,
    /// IANA name, with `cron`.
    pub time_zone: Option<String>,
    pub grace_secs: i64,
    pub keep_last: Option<i32>,
    pub keep_hourly: Option<i32>,
    pub keep_daily: Option<i32>,
    pub keep_weekly: Option<i32>,
    pub keep_monthly: Option<i32>,
    pub keep_yearly: Option<i32>,
    pub keep_within_secs: Option<i64>,
    #[graphql(default)]
    pub report_recipients: Vec<String>,
    #[graphql(default)]
    pub paused: bool,
}

fn unsigned<T: TryFrom<i64>>(value: i64, field: &str) -> Result<T, ApiError> {
    T::try_from(value).map_err(|_| ApiError::validation(field, "must not be negative"))
}

fn keep(value: Option<i32>, field: &str) -> Result<Option<u32>, ApiError> {
    value
        .map(|value| unsigned::<u32>(i64::from(value), field))
        .transpose()
}

impl BackupPlanInput {
    fn into_plan(self) -> Result<BackupPlan, ApiError> {
        let grace_secs = unsigned::<u64>(self.grace_secs, "graceSecs")?;
        let schedule = match (self.period_secs, self.cron) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "cron",
                    "cannot be combined with periodSecs",
                ))
            }
            (Some(period), None) => Schedule::Period {
                period_secs: unsigned(period, "periodSecs")?,
                grace_secs,
            },
            (None, Some(expression)) => Schedule::Cron {
                expression,
                time_zone: self
                    .time_zone
                    .ok_or_else(|| ApiError::validation("timeZone", "is required with cron"))?,
                grace_secs,
            },
            (None, None) => {
                return Err(ApiError::validation(
                    "periodSecs",
                    "a period or a cron expression is required",
                ))
            }
        };
        Ok(BackupPlan {
            schedule,
            retention: RetentionPolicy {
                keep_last: keep(self.keep_last, "keepLast")?,
                keep_hourly: keep(self.keep_hourly, "keepHourly")?,
                keep_daily: keep(self.keep_daily, "keepDaily")?,
                keep_weekly: keep(self.keep_weekly, "keepWeekly")?,
                keep_monthly: keep(self.keep_monthly, "keepMonthly")?,
                keep_yearly: keep(self.keep_yearly, "keepYearly")?,
                keep_within_secs: self
                    .keep_within_secs
                    .map(|secs| unsigned(secs, "keepWithinSecs"))
                    .transpose()?,
            },
            report_recipients: self.report_recipients,
            paused: self.paused,
        })
    }
}

/// A new ingest token: `token` is shown this once and never again.
#[derive(SimpleObject, Clone)]
pub struct IssuedIngestToken {
    pub token_id: ID,
    pub token: String,
    pub hash_prefix: String,
}

/// What a backup client reports.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupReportKind {
    Start,
    Success,
    Fail,
    Log,
}

/// The answer to `reportBackupRun`.
#[derive(SimpleObject, Clone, Debug)]
pub struct BackupReport {
    pub run_id: ID,
    /// False when the report repeated one already recorded.
    pub recorded: bool,
    pub status: Option<RunStatusValue>,
    pub stats: Option<BackupRunStats>,
}

#[derive(Default)]
pub struct BackupQuery;

#[Object]
impl BackupQuery {
    /// A customer's backup status (workers, or the customer's ingest token).
    async fn backup_status(
        &self,
        context: &Context<'_>,
        customer_id: ID,
    ) -> Result<BackupStatusView, ApiError> {
        let customer: CustomerId = parse_id(&customer_id, "customerId")?;
        require_worker_or_token_of(context, customer)?;
        Ok(
            service::backup_status(&state(context)?.backup_state(), customer)
                .await?
                .into(),
        )
    }

    /// A customer's runs, newest first (workers, or the customer's ingest token): a Relay
    /// connection (`first`/`after` walk towards older runs, `last`/`before` towards newer).
    async fn backup_runs(
        &self,
        context: &Context<'_>,
        customer_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<BackupRunView>, ApiError> {
        run_connection(
            context,
            customer_id,
            RunList::All,
            PageRequest::parse(first, after, last, before)?,
        )
        .await
    }

    /// The runs retention marked expired: what the storage side may delete, newest first; a
    /// Relay connection like `backupRuns`.
    async fn expired_backup_runs(
        &self,
        context: &Context<'_>,
        customer_id: ID,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<BackupRunView>, ApiError> {
        run_connection(
            context,
            customer_id,
            RunList::Expired,
            PageRequest::parse(first, after, last, before)?,
        )
        .await
    }
}

fn run_key(cursor: &CursorKey, field: &str) -> Result<RunKey, ApiError> {
    let invalid = || ApiError::validation(field, "is not a valid cursor");
    Ok(RunKey {
        reported_at: DateTime::parse_from_rfc3339(&cursor.sort)
            .map_err(|_| invalid())?
            .with_timezone(&Utc),
        run_id: cursor.id.parse().map_err(|_| invalid())?,
    })
}

fn run_cursor(run: &RunView) -> CursorKey {
    CursorKey {
        sort: run
            .reported_at
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .unwrap_or_default(),
        id: run.run_id.to_string(),
    }
}

/// A page of the customer's runs from the `backups` read model (keyset over
/// `(reportedAt, id)`, newest first).
async fn run_connection(
    context: &Context<'_>,
    customer_id: ID,
    list: RunList,
    request: PageRequest,
) -> Result<Page<BackupRunView>, ApiError> {
    let customer: CustomerId = parse_id(&customer_id, "customerId")?;
    require_worker_or_token_of(context, customer)?;
    let after = request
        .after
        .as_ref()
        .map(|cursor| run_key(cursor, "after"))
        .transpose()?;
    let before = request
        .before
        .as_ref()
        .map(|cursor| run_key(cursor, "before"))
        .transpose()?;
    let (runs, total) = service::run_page(
        &state(context)?.backup_state(),
        customer,
        list,
        request.direction == Direction::Forward,
        after,
        before,
        request.fetch_limit(),
    )
    .await?;
    let rows = runs
        .into_iter()
        .map(|run| (run_cursor(&run), BackupRunView::from(run)))
        .collect();
    Ok(page(&request, rows, total))
}

#[derive(Default)]
pub struct BackupMutation;

#[Object]
impl BackupMutation {
    /// Sets a customer's backup plan (admins); answers the status under the new plan.
    async fn set_backup_plan(
        &self,
        context: &Context<'_>,
        customer_id: ID,
        plan: BackupPlanInput,
        expected_version: Option<i64>,
    ) -> Result<BackupStatusView, ApiError> {
        let me = require_admin(context)?;
        let customer: CustomerId = parse_id(&customer_id, "customerId")?;
        let plan = plan.into_plan()?;
        let app = state(context)?.backup_state();
        service::set_backup_plan(&app, Actor::Worker(me.id), customer, plan, expected_version)
            .await?;
        Ok(service::backup_status(&app, customer).await?.into())
    }

    /// Issues a new ingest token for a customer (admins). The token is in this answer only.
    async fn issue_ingest_token(
        &self,
        context: &Context<'_>,
        customer_id: ID,
    ) -> Result<IssuedIngestToken, ApiError> {
        let me = require_admin(context)?;
        let customer: CustomerId = parse_id(&customer_id, "customerId")?;
        let issued = service::issue_ingest_token(
            &state(context)?.backup_state(),
            Actor::Worker(me.id),
            customer,
        )
        .await?;
        Ok(IssuedIngestToken {
            token_id: ID(issued.token_id.to_string()),
            token: issued.token,
            hash_prefix: issued.hash_prefix,
        })
    }

    /// Revokes an ingest token (admins; idempotent).
    async fn revoke_ingest_token(
        &self,
        context: &Context<'_>,
        customer_id: ID,
        token_id: ID,
    ) -> Result<bool, ApiError> {
        let me = require_admin(context)?;
        let customer: CustomerId = parse_id(&customer_id, "customerId")?;
        let token: IngestTokenId = parse_id(&token_id, "tokenId")?;
        service::revoke_ingest_token(
            &state(context)?.backup_state(),
            Actor::Worker(me.id),
            customer,
            token,
        )
        .await?;
        Ok(true)
    }

    /// Reports a run (the customer's ingest token only): `START`, `SUCCESS` (body: optional
    /// manifest, JSON lines of path/size/mtime/hash, or restic `backup --json` output), `FAIL`
    /// (body: optional message), `LOG` (body: text). `runId` pairs a start with its end.
    async fn report_backup_run(
        &self,
        context: &Context<'_>,
        kind: BackupReportKind,
        run_id: Option<String>,
        exit_status: Option<i32>,
        body: Option<String>,
    ) -> Result<BackupReport, ApiError> {
        let identity = require_ingest_token(context)?;
        let kind = match kind {
            BackupReportKind::Start => PingKind::Start,
            BackupReportKind::Success => PingKind::Success,
            BackupReportKind::Fail => PingKind::Fail { exit_status },
            BackupReportKind::Log => PingKind::Log,
        };
        let chunks: Vec<Result<Bytes, std::convert::Infallible>> =
            body.map(|text| Ok(Bytes::from(text))).into_iter().collect();
        let outcome = service::report_backup_run(
            &state(context)?.backup_state(),
            identity,
            kind,
            run_id,
            futures::stream::iter(chunks),
        )
        .await?;
        Ok(BackupReport {
            run_id: ID(outcome.run_id.to_string()),
            recorded: outcome.recorded,
            status: outcome.status.map(Into::into),
            stats: outcome.result.as_ref().and_then(stats_of),
        })
    }
}
