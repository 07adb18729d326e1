//! The backup operations of PRODUCT §6, as plain async functions for the GraphQL layer and the
//! ping routes: `set_backup_plan`, `issue_ingest_token`, `revoke_ingest_token`,
//! `report_backup_run`, `backup_status`, `backup_runs`, `expired_backup_runs` (and
//! `apply_retention` in [`super::retention`]). Each returns a [`BackupError`] with a stable
//! `code()`.

use std::collections::HashMap;

pub use axum::body::Bytes;
use chrono::{DateTime, Utc};
use domain::backup_run::{
    run_id_for, BackupRun, BackupRunCommand, BackupRunError, BackupRunEvent, RunResult, RunStatus,
    ToolStats,
};
use domain::customer::{Customer, CustomerCommand, CustomerError, CustomerEvent};
use domain::ids::{BackupRunId, CustomerId, IngestTokenId};
use domain::plan::BackupPlan;
use domain::policy::manifest::ManifestEntry;
use domain::policy::schedule::{self, BackupStatus, ScheduleInput};
use futures::Stream;
use journal::{Actor, CommandError, LogPosition, Metadata, StoreError};
use projections::readmodels::backups::{self, BackupRunRow, RunKey};
use projections::readmodels::ReadError;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use super::body::{read_tail, read_text, BodyError, BodyLimits, LineReader, StagedBody};
use super::manifest_store::{self, Upload};
use super::tokens::{self, AuthenticateError, IngestIdentity, NewToken};
use super::BackupState;

/// The customer of a `backup_run` event, as the `events_backup_run_customer` index has it.
const RUN_CUSTOMER: &str = "COALESCE(payload #>> '{Started,customer_id}', \
     payload #>> '{Succeeded,customer_id}', payload #>> '{Failed,customer_id}')";

/// Most bytes of a log text read from a ping body.
pub const MAX_TEXT_BODY_BYTES: usize = 256 * 1024;

/// What a failure keeps of its body: the last 10 KiB.
pub use domain::backup_run::MAX_MESSAGE_BYTES;

/// Why a backup operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the ingest token is not valid")]
    Unauthenticated,
    #[error("customer not found")]
    CustomerNotFound,
    #[error("no backup run to attach this to")]
    RunNotFound,
    #[error(transparent)]
    Customer(CustomerError),
    #[error(transparent)]
    Run(BackupRunError),
    /// A malformed body; `line` is the 1-based line for a manifest or restic output.
    #[error("{message}")]
    InvalidBody { line: Option<u64>, message: String },
    #[error("{0}")]
    TooLarge(String),
    #[error("expected version {expected}, the customer is at version {actual}")]
    Conflict { expected: i64, actual: i64 },
    /// Another ping of the customer is being received or processed: try again after it.
    #[error("another report of this customer is in progress")]
    UploadInProgress,
    /// The body stalled (read timeout) or trickled in below the minimum rate.
    #[error("{0}")]
    BodyTimeout(String),
    /// A manifest lists this path twice (turned into `InvalidBody` naming the line before it
    /// leaves this module).
    #[error("the manifest lists the path {0:?} more than once")]
    DuplicatePath(String),
    /// The database is out of reach (down, restarting, refusing connections).
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// The database failed (the cause is for the log, never for the client).
    #[error("internal error: {0}")]
    Internal(String),
}

impl BackupError {
    /// The stable code (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::CustomerNotFound => "CUSTOMER_NOT_FOUND",
            Self::RunNotFound => "RUN_NOT_FOUND",
            Self::Customer(error) => error.code(),
            Self::Run(error) => error.code(),
            Self::InvalidBody { .. } => "VALIDATION",
            Self::TooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::Conflict { .. } => "CONFLICT",
            Self::UploadInProgress => "UPLOAD_IN_PROGRESS",
            Self::BodyTimeout(_) => "BODY_TIMEOUT",
            Self::DuplicatePath(_) => "VALIDATION",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<sqlx::Error> for BackupError {
    fn from(error: sqlx::Error) -> Self {
        if crate::platform::db::is_unavailable(&error) {
            Self::Unavailable
        } else if crate::platform::db::is_unstorable_text(&error) {
            Self::InvalidBody {
                line: None,
                message: "contains a character that cannot be stored (NUL)".into(),
            }
        } else {
            Self::Internal(error.to_string())
        }
    }
}

impl From<StoreError> for BackupError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(error) => error.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<CommandError<CustomerError>> for BackupError {
    fn from(error: CommandError<CustomerError>) -> Self {
        match error {
            CommandError::Rejected(CustomerError::NotRegistered) => Self::CustomerNotFound,
            CommandError::Rejected(error) => Self::Customer(error),
            CommandError::Conflict { expected, actual } => Self::Conflict { expected, actual },
            CommandError::Store(error) => error.into(),
        }
    }
}

impl From<CommandError<BackupRunError>> for BackupError {
    fn from(error: CommandError<BackupRunError>) -> Self {
        match error {
            CommandError::Rejected(BackupRunError::NotFound) => Self::RunNotFound,
            CommandError::Rejected(error) => Self::Run(error),
            CommandError::Conflict { expected, actual } => Self::Conflict { expected, actual },
            CommandError::Store(error) => error.into(),
        }
    }
}

// ---- plan and tokens (admins) ----

/// `setBackupPlan`: validated and normalised by the Customer aggregate. Returns the customer's
/// version after the command.
pub async fn set_backup_plan(
    state: &BackupState,
    actor: Actor,
    customer_id: CustomerId,
    plan: BackupPlan,
    expected_version: Option<i64>,
) -> Result<i64, BackupError> {
    let at = state.backup.now();
    let committed = state
        .store
        .execute::<Customer>(
            &customer_id.to_string(),
            CustomerCommand::SetBackupPlan { plan, at },
            &(),
            &Metadata::new(actor),
            expected_version,
        )
        .await?;
    wait_for_backups(state, committed.last_position()).await;
    Ok(committed.version)
}

/// A token as `issueIngestToken` returns it: the only time the token is visible.
#[derive(Clone, Serialize)]
pub struct IssuedToken {
    pub token_id: IngestTokenId,
    pub token: String,
    pub hash_prefix: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token_id", &self.token_id)
            .field("hash_prefix", &self.hash_prefix)
            .finish_non_exhaustive()
    }
}

/// `issueIngestToken`: a new random token; only its hash is stored.
pub async fn issue_ingest_token(
    state: &BackupState,
    actor: Actor,
    customer_id: CustomerId,
) -> Result<IssuedToken, BackupError> {
    let token = NewToken::generate();
    tokens::store(&state.pool, customer_id, &token).await?;
    let command = CustomerCommand::IssueIngestToken {
        token_id: token.token_id,
        hash_prefix: token.hash_prefix(),
        at: state.backup.now(),
    };
    let result = state
        .store
        .execute::<Customer>(
            &customer_id.to_string(),
            command,
            &(),
            &Metadata::new(actor),
            None,
        )
        .await;
    if let Err(error) = result {
        tokens::forget(&state.pool, token.token_id).await?;
        return Err(error.into());
    }
    Ok(IssuedToken {
        token_id: token.token_id,
        hash_prefix: token.hash_prefix(),
        token: token.token,
    })
}

/// `revokeIngestToken`: idempotent.
pub async fn revoke_ingest_token(
    state: &BackupState,
    actor: Actor,
    customer_id: CustomerId,
    token_id: IngestTokenId,
) -> Result<(), BackupError> {
    state
        .store
        .execute::<Customer>(
            &customer_id.to_string(),
            CustomerCommand::RevokeIngestToken {
                token_id,
                at: state.backup.now(),
            },
            &(),
            &Metadata::new(actor),
            None,
        )
        .await?;
    tokens::mark_revoked(&state.pool, token_id).await?;
    Ok(())
}

/// Who presents `token` (wrong, revoked or erased → `Unauthenticated`).
pub async fn authenticate(state: &BackupState, token: &str) -> Result<IngestIdentity, BackupError> {
    tokens::authenticate(&state.store, token)
        .await
        .map_err(|error| match error {
            AuthenticateError::Unauthenticated => BackupError::Unauthenticated,
            AuthenticateError::Store(error) => error.into(),
        })
}

// ---- reporting runs (backup clients) ----

/// What a ping reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PingKind {
    Start,
    /// Body: optional manifest (JSON lines) or restic `backup --json` output.
    Success,
    /// Body: optional message.
    Fail {
        exit_status: Option<i32>,
    },
    /// Body: log text.
    Log,
}

/// The answer to a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunOutcome {
    pub run_id: BackupRunId,
    /// False when the report repeated one already recorded (nothing new in the log).
    pub recorded: bool,
    pub status: Option<RunStatus>,
    /// What the success recorded (change stats included).
    pub result: Option<RunResult>,
    /// Where the report's last event is in the log (none when nothing was recorded).
    #[serde(skip)]
    pub position: Option<LogPosition>,
}

/// A ping's body once received (before any database work).
enum Received {
    /// `start`: the body is not read.
    Nothing,
    /// A log text, or the last [`MAX_MESSAGE_BYTES`] of a failure's output.
    Text(String),
    /// A success body (manifest or restic output), staged in a file.
    Staged(StagedBody),
}

/// `reportBackupRun` (and every ping). The body is received first, within the read timeout
/// and minimum rate, holding no database connection and no lock: a success body is staged in
/// a file of the data folder, a failure keeps its last [`MAX_MESSAGE_BYTES`]. Only then is one
/// of ingest's database permits taken for the records. One ping with a body per customer at a
/// time: a second one answers [`BackupError::UploadInProgress`] at once. A success is recorded
/// all-or-nothing: a malformed line records nothing.
pub async fn report_backup_run<S, E>(
    state: &BackupState,
    identity: IngestIdentity,
    kind: PingKind,
    client_run_id: Option<String>,
    body: S,
) -> Result<RunOutcome, BackupError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let customer_id = identity.customer_id;
    let client_run_id = client_run_id.filter(|rid| !rid.trim().is_empty());
    if client_run_id.as_ref().is_some_and(|rid| rid.len() > 200) {
        return Err(BackupError::InvalidBody {
            line: None,
            message: "rid must be at most 200 bytes".into(),
        });
    }
    let config = &state.backup.config;
    let (_slot, received) = match kind {
        PingKind::Start => (None, Received::Nothing),
        _ => {
            let slot = state
                .backup
                .uploads
                .claim(customer_id)
                .ok_or(BackupError::UploadInProgress)?;
            let received = match kind {
                PingKind::Log => {
                    let limits = BodyLimits::of(config, MAX_TEXT_BODY_BYTES as u64);
                    Received::Text(read_text(body, limits).await?)
                }
                PingKind::Fail { .. } => {
                    let limits = BodyLimits::of(config, config.ingest_max_body_bytes);
                    Received::Text(read_tail(body, MAX_MESSAGE_BYTES, limits).await?)
                }
                _ => {
                    let limits = BodyLimits::of(config, config.ingest_max_body_bytes);
                    let staged =
                        StagedBody::receive(&state.backup.staging_dir, body, limits).await?;
                    Received::Staged(staged)
                }
            };
            (Some(slot), received)
        }
    };
    let outcome = {
        let _permit = state.backup.ingest_permit(&state.pool).await;
        record_report(state, identity, kind, client_run_id, received).await?
    };
    wait_for_backups(state, outcome.position).await;
    Ok(outcome)
}

/// Records a received report (under an ingest permit).
async fn record_report(
    state: &BackupState,
    identity: IngestIdentity,
    kind: PingKind,
    client_run_id: Option<String>,
    received: Received,
) -> Result<RunOutcome, BackupError> {
    let customer_id = identity.customer_id;
    let metadata = Metadata::new(Actor::IngestToken(identity.token_id));
    let at = state.backup.now();
    let text = match &received {
        Received::Text(text) => Some(text.clone()),
        _ => None,
    };
    let (run_id, command) = match kind {
        PingKind::Start => {
            let run_id = match &client_run_id {
                Some(rid) => run_id_for(customer_id, rid),
                None => BackupRunId::new(),
            };
            let command = BackupRunCommand::Start {
                customer_id,
                client_run_id,
                at,
            };
            (run_id, command)
        }
        PingKind::Log => {
            let run_id = match &client_run_id {
                Some(rid) => run_id_for(customer_id, rid),
                None => latest_running_run(state, customer_id)
                    .await?
                    .ok_or(BackupError::RunNotFound)?,
            };
            let command = BackupRunCommand::AppendLog {
                customer_id,
                at,
                text: text.unwrap_or_default(),
            };
            (run_id, command)
        }
        PingKind::Fail { exit_status } => {
            let run_id = run_to_finish(state, customer_id, client_run_id.as_deref()).await?;
            let command = BackupRunCommand::Fail {
                customer_id,
                client_run_id,
                at,
                exit_status,
                message: text.filter(|text| !text.trim().is_empty()),
            };
            (run_id, command)
        }
        PingKind::Success => {
            let run_id = run_to_finish(state, customer_id, client_run_id.as_deref()).await?;
            let Received::Staged(staged) = received else {
                return Err(BackupError::Internal("a success without its body".into()));
            };
            let outcome =
                record_success(state, customer_id, run_id, client_run_id, &staged, metadata).await;
            return match outcome {
                Err(BackupError::DuplicatePath(path)) => {
                    Err(duplicate_path_error(state, &staged, path).await)
                }
                other => other,
            };
        }
    };
    let committed = state
        .store
        .execute::<BackupRun>(&run_id.to_string(), command, &(), &metadata, None)
        .await?;
    Ok(RunOutcome {
        run_id,
        recorded: !committed.events.is_empty(),
        status: committed.aggregate.status(),
        result: None,
        position: committed.last_position(),
    })
}

/// The run a success or failure ends: the named one, else the latest still running, else new.
async fn run_to_finish(
    state: &BackupState,
    customer_id: CustomerId,
    client_run_id: Option<&str>,
) -> Result<BackupRunId, BackupError> {
    Ok(match client_run_id {
        Some(rid) => run_id_for(customer_id, rid),
        None => latest_running_run(state, customer_id)
            .await?
            .unwrap_or_else(BackupRunId::new),
    })
}

/// The customer's most recently started run, if it is still running.
async fn latest_running_run(
    state: &BackupState,
    customer_id: CustomerId,
) -> Result<Option<BackupRunId>, BackupError> {
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT aggregate_id FROM events \
         WHERE aggregate_type = 'backup_run' AND event_type = 'BackupRunStarted' \
           AND {RUN_CUSTOMER} = $1 \
         ORDER BY position DESC LIMIT 1"
    ))
    .bind(customer_id.to_string())
    .fetch_optional(&state.pool)
    .await?;
    let Some((aggregate_id,)) = row else {
        return Ok(None);
    };
    let (run, _) = state
        .store
        .load_aggregate::<BackupRun>(&aggregate_id)
        .await?;
    if run.status() != Some(RunStatus::Running) {
        return Ok(None);
    }
    Ok(aggregate_id.parse().ok().map(BackupRunId))
}

/// restic `backup --json` lines: only `message_type` matters to tell them apart.
#[derive(Deserialize)]
struct ResticProbe {
    message_type: Option<String>,
}

/// restic's summary message (fields missing in older versions count as 0).
#[derive(Deserialize)]
struct ResticSummary {
    #[serde(default)]
    files_new: u64,
    #[serde(default)]
    files_changed: u64,
    #[serde(default)]
    files_unmodified: u64,
    #[serde(default)]
    dirs_new: u64,
    #[serde(default)]
    dirs_changed: u64,
    #[serde(default)]
    dirs_unmodified: u64,
    #[serde(default)]
    data_added: u64,
    #[serde(default)]
    total_files_processed: u64,
    #[serde(default)]
    total_bytes_processed: u64,
    #[serde(default)]
    total_duration: f64,
    snapshot_id: Option<String>,
}

impl From<ResticSummary> for ToolStats {
    fn from(summary: ResticSummary) -> Self {
        ToolStats {
            files_new: summary.files_new,
            files_changed: summary.files_changed,
            files_unmodified: summary.files_unmodified,
            dirs_new: summary.dirs_new,
            dirs_changed: summary.dirs_changed,
            dirs_unmodified: summary.dirs_unmodified,
            data_added: summary.data_added,
            total_files_processed: summary.total_files_processed,
            total_bytes_processed: summary.total_bytes_processed,
            total_duration: summary.total_duration,
            snapshot_id: summary.snapshot_id,
        }
    }
}

/// What a success body turned out to be.
enum SuccessBody {
    Plain,
    Tool(ToolStats),
    /// A staged manifest.
    Manifest(Uuid),
}

/// Opens a staged body for reading.
async fn staged_stream(
    staged: &StagedBody,
) -> Result<impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin, BackupError> {
    staged
        .stream()
        .await
        .map_err(|error| BackupError::Internal(format!("reading a staged body: {error}")))
}

/// The answer for a manifest that lists `path` twice: the staged body is read again to name
/// the line of its second listing (the key violation that found it names no line).
async fn duplicate_path_error(
    state: &BackupState,
    staged: &StagedBody,
    path: String,
) -> BackupError {
    let config = &state.backup.config;
    let mut line = None;
    if let Ok(body) = staged_stream(staged).await {
        let mut lines = LineReader::new(
            body,
            config.ingest_max_body_bytes,
            config.ingest_max_line_bytes,
        );
        let mut seen = false;
        while let Ok(Some((number, text))) = lines.next_line().await {
            if text.trim().is_empty() {
                continue;
            }
            if parse_manifest_line(&text).is_ok_and(|entry| entry.path == path) {
                if seen {
                    line = Some(number);
                    break;
                }
                seen = true;
            }
        }
    }
    let mut shown: String = path.chars().take(200).collect();
    if shown.len() < path.len() {
        shown.push('…');
    }
    match line {
        Some(line) => BackupError::from(BodyError::Invalid {
            line,
            message: format!("the path {shown:?} is already listed on an earlier line"),
        }),
        None => BackupError::InvalidBody {
            line: None,
            message: format!("the manifest lists the path {shown:?} more than once"),
        },
    }
}

async fn record_success(
    state: &BackupState,
    customer_id: CustomerId,
    run_id: BackupRunId,
    client_run_id: Option<String>,
    staged: &StagedBody,
    metadata: Metadata,
) -> Result<RunOutcome, BackupError> {
    let (run, _) = state
        .store
        .load_aggregate::<BackupRun>(&run_id.to_string())
        .await?;
    match run.status() {
        Some(RunStatus::Succeeded) => {
            return Ok(RunOutcome {
                run_id,
                recorded: false,
                status: run.status(),
                result: run.result().cloned(),
                position: None,
            })
        }
        Some(RunStatus::Failed | RunStatus::TimedOut) => {
            return Err(BackupError::Run(BackupRunError::AlreadyFinished))
        }
        Some(RunStatus::Running) | None => {}
    }
    // One manifest per customer at a time, across servers: the diff base must not move under
    // us. The body is already staged locally, so the lock is held only while the manifest is
    // copied in, diffed and committed; a server already doing it for the customer makes this
    // one answer 409 at once rather than queue. The transaction only holds the lock (no writes,
    // no transaction id), so log readers are not held back.
    let mut lock = state.pool.begin().await?;
    let (locked,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_xact_lock($1, hashtext($2))")
        .bind(crate::platform::leadership::keys::MANIFEST_UPLOAD)
        .bind(customer_id.to_string())
        .fetch_one(&mut *lock)
        .await?;
    if !locked {
        return Err(BackupError::UploadInProgress);
    }

    let body = staged_stream(staged).await?;
    let parsed = read_success_body(state, customer_id, run_id, body).await;
    let body = match parsed {
        Ok(body) => body,
        Err((error, staged)) => {
            if let Some(manifest_id) = staged {
                manifest_store::discard(&state.pool, manifest_id).await?;
            }
            return Err(error);
        }
    };
    let staged = match &body {
        SuccessBody::Manifest(manifest_id) => Some(*manifest_id),
        _ => None,
    };
    let outcome = async {
        let result = match body {
            SuccessBody::Plain => RunResult::Plain,
            SuccessBody::Tool(stats) => RunResult::ToolStats(stats),
            SuccessBody::Manifest(manifest_id) => {
                let previous = manifest_store::current(&state.pool, customer_id).await?;
                let summary = manifest_store::summarise(&state.pool, previous, manifest_id).await?;
                RunResult::Manifest {
                    digest: summary.digest,
                    entries: summary.entries,
                    bytes: summary.bytes,
                    changes: previous.map(|_| manifest_store::change_stats(&summary.diff)),
                }
            }
        };
        let command = BackupRunCommand::Succeed {
            customer_id,
            client_run_id,
            at: state.backup.now(),
            result,
        };
        let committed = state
            .store
            .execute::<BackupRun>(&run_id.to_string(), command, &(), &metadata, None)
            .await?;
        Ok::<_, BackupError>(committed)
    }
    .await;
    let outcome = match outcome {
        Ok(committed) if !committed.events.is_empty() => {
            manifest_store::promote(&state.pool, customer_id, staged).await?;
            Ok(RunOutcome {
                run_id,
                recorded: true,
                status: committed.aggregate.status(),
                result: committed.aggregate.result().cloned(),
                position: committed.last_position(),
            })
        }
        Ok(committed) => {
            if let Some(manifest_id) = staged {
                manifest_store::discard(&state.pool, manifest_id).await?;
            }
            Ok(RunOutcome {
                run_id,
                recorded: false,
                status: committed.aggregate.status(),
                result: committed.aggregate.result().cloned(),
                position: None,
            })
        }
        Err(error) => {
            if let Some(manifest_id) = staged {
                manifest_store::discard(&state.pool, manifest_id).await?;
            }
            Err(error)
        }
    };
    lock.commit().await?;
    outcome
}

type BodyFailure = (BackupError, Option<Uuid>);

/// Reads a success body line by line: restic output (first line has a `message_type`) or a
/// manifest (staged as it arrives). On failure, the staged manifest (if any) is returned with
/// the error for the caller to discard.
async fn read_success_body<S, E>(
    state: &BackupState,
    customer_id: CustomerId,
    run_id: BackupRunId,
    body: S,
) -> Result<SuccessBody, BodyFailure>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let config = &state.backup.config;
    let mut lines = LineReader::new(
        body,
        config.ingest_max_body_bytes,
        config.ingest_max_line_bytes,
    );
    let mut restic: Option<Option<ToolStats>> = None;
    let mut upload: Option<Upload> = None;
    let staged = |upload: &Option<Upload>| upload.as_ref().map(|upload| upload.manifest_id);
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(error) => return Err((error.into(), staged(&upload))),
        };
        let (number, text) = line;
        if text.trim().is_empty() {
            continue;
        }
        if restic.is_none() && upload.is_none() {
            let is_restic = serde_json::from_str::<ResticProbe>(&text)
                .is_ok_and(|probe| probe.message_type.is_some());
            if is_restic {
                restic = Some(None);
            }
        }
        if let Some(summary) = restic.as_mut() {
            let invalid = |message: String| {
                BackupError::from(BodyError::Invalid {
                    line: number,
                    message,
                })
            };
            let probe: ResticProbe = serde_json::from_str(&text)
                .map_err(|error| (invalid(format!("not restic JSON output: {error}")), None))?;
            if probe.message_type.as_deref() == Some("summary") {
                let parsed: ResticSummary = serde_json::from_str(&text)
                    .map_err(|error| (invalid(format!("bad restic summary: {error}")), None))?;
                *summary = Some(parsed.into());
            }
            continue;
        }
        let entry = match parse_manifest_line(&text) {
            Ok(entry) => entry,
            Err(message) => {
                let error = BodyError::Invalid {
                    line: number,
                    message,
                };
                return Err((error.into(), staged(&upload)));
            }
        };
        if upload.is_none() {
            match Upload::begin(&state.pool, customer_id, run_id).await {
                Ok(started) => upload = Some(started),
                Err(error) => return Err((error.into(), None)),
            }
        }
        if let Some(upload) = upload.as_mut() {
            if upload.entries() >= config.ingest_max_entries {
                let error = BackupError::TooLarge(format!(
                    "the manifest has more than {} entries",
                    config.ingest_max_entries
                ));
                return Err((error, Some(upload.manifest_id)));
            }
            if let Err(error) = upload.push(&entry).await {
                return Err((manifest_write_error(error), Some(upload.manifest_id)));
            }
        }
    }
    if let Some(summary) = restic {
        return Ok(match summary {
            Some(stats) => SuccessBody::Tool(stats),
            None => SuccessBody::Plain,
        });
    }
    match upload {
        None => Ok(SuccessBody::Plain),
        Some(upload) => {
            let manifest_id = upload.manifest_id;
            match upload.finish().await {
                Ok(manifest_id) => Ok(SuccessBody::Manifest(manifest_id)),
                Err(error) => Err((manifest_write_error(error), Some(manifest_id))),
            }
        }
    }
}

/// A path listed twice shows up as a key violation when a batch is written; PostgreSQL's
/// detail names it: `Key (manifest_id, path)=(<uuid>, <path>) already exists.`
fn manifest_write_error(error: sqlx::Error) -> BackupError {
    match &error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            let path = db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| pg.detail())
                .and_then(|detail| detail.strip_prefix("Key (manifest_id, path)=("))
                .and_then(|rest| rest.strip_suffix(") already exists."))
                .and_then(|values| values.split_once(", "))
                .map(|(_, path)| path.to_owned());
            match path {
                Some(path) => BackupError::DuplicatePath(path),
                None => BackupError::InvalidBody {
                    line: None,
                    message: "the manifest lists a path more than once".into(),
                },
            }
        }
        _ => error.into(),
    }
}

fn parse_manifest_line(text: &str) -> Result<ManifestEntry, String> {
    let entry = ManifestEntry::parse_json_line(text).map_err(|error| error.to_string())?;
    if entry.path.contains('\0') || entry.hash.as_deref().is_some_and(|h| h.contains('\0')) {
        return Err("a path or hash contains a NUL character".into());
    }
    if i64::try_from(entry.size).is_err() {
        return Err("size is too large".into());
    }
    Ok(entry)
}

// ---- reading runs and status ----

/// One run as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunView {
    pub run_id: BackupRunId,
    pub client_run_id: Option<String>,
    pub status: RunStatus,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<u64>,
    pub exit_status: Option<i32>,
    /// A failed run's message: the last 10 KiB of its body.
    pub message: Option<String>,
    pub result: Option<RunResult>,
    pub expired: bool,
    /// When the first report of the run arrived (the read model's list order).
    pub reported_at: Option<DateTime<Utc>>,
}

impl RunView {
    /// When the run last changed state (finish, else start).
    pub fn sort_time(&self) -> Option<DateTime<Utc>> {
        self.finished_at.or(self.started_at)
    }
}

/// Every run of the customer, newest first, folded from the log: the write side's view
/// (retention decides on it); queries read the `backups` read model ([`run_page`]).
pub async fn backup_runs(
    state: &BackupState,
    customer_id: CustomerId,
) -> Result<Vec<RunView>, BackupError> {
    let rows = sqlx::query(&format!(
        "SELECT aggregate_id, payload FROM events \
         WHERE aggregate_type = 'backup_run' AND aggregate_id IN ( \
             SELECT aggregate_id FROM events \
             WHERE aggregate_type = 'backup_run' \
               AND event_type IN ('BackupRunStarted', 'BackupRunSucceeded', 'BackupRunFailed') \
               AND {RUN_CUSTOMER} = $1) \
         ORDER BY aggregate_id, sequence"
    ))
    .bind(customer_id.to_string())
    .fetch_all(&state.pool)
    .await?;
    let mut runs: HashMap<String, BackupRun> = HashMap::new();
    for row in rows {
        let aggregate_id: String = row.try_get("aggregate_id")?;
        let payload: serde_json::Value = row.try_get("payload")?;
        let event: BackupRunEvent = serde_json::from_value(payload)
            .map_err(|error| BackupError::Internal(format!("stored run event: {error}")))?;
        cqrs_es::Aggregate::apply(runs.entry(aggregate_id).or_default(), event);
    }
    let mut views: Vec<RunView> = runs
        .into_iter()
        .filter(|(_, run)| run.customer_id() == Some(customer_id))
        .filter_map(|(id, run)| {
            Some(RunView {
                run_id: BackupRunId(id.parse().ok()?),
                client_run_id: run.client_run_id().map(str::to_owned),
                status: run.status()?,
                started_at: run.started_at(),
                finished_at: run.finished_at(),
                duration_secs: run.duration_secs(),
                exit_status: run.exit_status(),
                message: run.message().map(str::to_owned),
                result: run.result().cloned(),
                expired: run.expired(),
                reported_at: None,
            })
        })
        .collect();
    views.sort_by_key(|view| std::cmp::Reverse((view.sort_time(), view.run_id)));
    Ok(views)
}

/// `expiredBackupRuns`: what the storage side may delete, newest first.
pub async fn expired_backup_runs(
    state: &BackupState,
    customer_id: CustomerId,
) -> Result<Vec<RunView>, BackupError> {
    let mut runs = backup_runs(state, customer_id).await?;
    runs.retain(|run| run.expired);
    Ok(runs)
}

/// A customer's backup status (`backupStatus`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusView {
    pub customer_id: CustomerId,
    /// `new`, `up`, `grace`, `down`, `paused`, `running`, or `unmonitored` without a plan.
    pub status: &'static str,
    pub plan: Option<BackupPlan>,
    pub expected_at: Option<DateTime<Utc>>,
    pub late_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub running_since: Option<DateTime<Utc>>,
    /// Set while the customer is overdue (the expected time of the missed backup).
    pub overdue_since: Option<DateTime<Utc>>,
    /// Why the status is `down`: `failed` (the latest run failed or timed out) or `overdue`.
    pub down_reason: Option<&'static str>,
    /// While the latest finished runs failed: when the first of them (after the last success)
    /// finished.
    pub failing_since: Option<DateTime<Utc>>,
    /// The latest run (by its first report), with its statistics.
    pub last_run: Option<RunView>,
}

pub fn status_name(status: BackupStatus) -> &'static str {
    match status {
        BackupStatus::New => "new",
        BackupStatus::Up => "up",
        BackupStatus::Grace => "grace",
        BackupStatus::Down => "down",
        BackupStatus::Paused => "paused",
        BackupStatus::Running => "running",
    }
}

/// The customer, and when its current plan was set (the schedule's base before any success).
pub(crate) async fn load_customer(
    state: &BackupState,
    customer_id: CustomerId,
) -> Result<(Customer, Option<DateTime<Utc>>), BackupError> {
    let events = state
        .store
        .load(
            <Customer as cqrs_es::Aggregate>::TYPE,
            &customer_id.to_string(),
        )
        .await?;
    let mut customer = Customer::default();
    let mut plan_set_at = None;
    for stored in events {
        let event: CustomerEvent = stored
            .decode()
            .map_err(|error| BackupError::Internal(format!("stored customer event: {error}")))?;
        if let CustomerEvent::BackupPlanSet { at, .. } = &event {
            plan_set_at = Some(*at);
        }
        cqrs_es::Aggregate::apply(&mut customer, event);
    }
    if !customer.is_registered() {
        return Err(BackupError::CustomerNotFound);
    }
    Ok((customer, plan_set_at))
}

/// `backupStatus`: the `backups` read model's facts with the schedule policy evaluated now.
/// Writers of backup facts (`setBackupPlan`, every report) wait for the read model before
/// answering (read-your-writes), so this shows their effect at once.
pub async fn backup_status(
    state: &BackupState,
    customer_id: CustomerId,
) -> Result<StatusView, BackupError> {
    let known: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM customers WHERE customer_id = $1)")
            .bind(customer_id.as_uuid())
            .fetch_one(&state.pool)
            .await?;
    if !known {
        return Err(BackupError::CustomerNotFound);
    }
    let row = backups::status(&state.pool, customer_id.as_uuid())
        .await
        .map_err(read_error)?;
    let mut view = StatusView {
        customer_id,
        status: "unmonitored",
        plan: None,
        expected_at: None,
        late_at: None,
        last_success_at: None,
        running_since: None,
        overdue_since: None,
        down_reason: None,
        failing_since: None,
        last_run: None,
    };
    let Some(row) = row else {
        return Ok(view);
    };
    view.plan = row
        .plan
        .clone()
        .map(serde_json::from_value::<BackupPlan>)
        .transpose()
        .map_err(|error| BackupError::Internal(format!("stored plan: {error}")))?;
    view.last_success_at = row.last_success_at;
    view.running_since = row.running_since;
    view.overdue_since = row.overdue_since;
    view.last_run = backups::last_run(&state.pool, customer_id.as_uuid())
        .await
        .map_err(read_error)?
        .map(RunView::try_from)
        .transpose()?;
    if let Some(plan) = &view.plan {
        let report = schedule::evaluate(&ScheduleInput {
            plan,
            plan_created_at: row.plan_set_at.unwrap_or(row.updated_at),
            last_success_at: row.last_success_at,
            running_since: row.running_since,
            now: state.backup.now(),
        })
        .map_err(|error| BackupError::Internal(format!("stored plan: {error}")))?;
        view.status = status_name(report.status);
        view.expected_at = report.expected_at;
        view.late_at = report.late_at;
        // The latest finished run failed after the last success: down at once, before the
        // watchdog records the incident (`BackupFailed`), until the next success.
        let can_be_down = !matches!(report.status, BackupStatus::Paused | BackupStatus::Running);
        if row.failed() {
            view.failing_since = backups::failing_since(&state.pool, &row)
                .await
                .map_err(read_error)?;
        }
        if row.failed() && can_be_down {
            view.status = status_name(BackupStatus::Down);
            view.down_reason = Some("failed");
        } else if report.status == BackupStatus::Down {
            view.down_reason = Some("overdue");
        }
    }
    Ok(view)
}

fn read_error(error: ReadError) -> BackupError {
    match error {
        ReadError::Database(error) => error.into(),
        other => BackupError::Internal(format!("backups read model: {other}")),
    }
}

impl TryFrom<BackupRunRow> for RunView {
    type Error = BackupError;

    fn try_from(row: BackupRunRow) -> Result<Self, BackupError> {
        let status = match row.status.as_str() {
            "running" => RunStatus::Running,
            "succeeded" => RunStatus::Succeeded,
            "failed" => RunStatus::Failed,
            "timed_out" => RunStatus::TimedOut,
            other => {
                return Err(BackupError::Internal(format!(
                    "backups read model: run status {other}"
                )))
            }
        };
        let result = row
            .result
            .map(serde_json::from_value::<RunResult>)
            .transpose()
            .map_err(|error| BackupError::Internal(format!("stored run result: {error}")))?;
        Ok(Self {
            run_id: BackupRunId(row.run_id),
            client_run_id: row.client_run_id,
            status,
            started_at: row.started_at,
            finished_at: row.finished_at,
            duration_secs: row.duration_secs.and_then(|secs| u64::try_from(secs).ok()),
            exit_status: row.exit_status,
            message: row.message,
            result,
            expired: row.expired,
            reported_at: Some(row.reported_at),
        })
    }
}

/// Which runs a page lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunList {
    All,
    Expired,
}

/// A page of runs from the `backups` read model, newest first (`backupRuns`,
/// `expiredBackupRuns`): see [`backups::runs_page`] for the keyset; also the total count.
pub async fn run_page(
    state: &BackupState,
    customer_id: CustomerId,
    list: RunList,
    forward: bool,
    after: Option<RunKey>,
    before: Option<RunKey>,
    limit: i64,
) -> Result<(Vec<RunView>, i64), BackupError> {
    let expired_only = list == RunList::Expired;
    let rows = backups::runs_page(
        &state.pool,
        customer_id.as_uuid(),
        expired_only,
        forward,
        after,
        before,
        limit,
    )
    .await
    .map_err(read_error)?;
    let total = backups::runs_count(&state.pool, customer_id.as_uuid(), expired_only)
        .await
        .map_err(read_error)?;
    let runs = rows
        .into_iter()
        .map(RunView::try_from)
        .collect::<Result<_, _>>()?;
    Ok((runs, total))
}

/// How long a writer of backup facts waits for the `backups` read model to show them.
const READ_YOUR_WRITES_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Waits (bounded) until the `backups` read model has applied `position`; a timeout is logged
/// and ignored (the write is committed either way).
pub(crate) async fn wait_for_backups(state: &BackupState, position: Option<LogPosition>) {
    let Some(position) = position else {
        return;
    };
    if let Err(error) = state
        .projector
        .wait_for(&["backups"], position, READ_YOUR_WRITES_TIMEOUT)
        .await
    {
        tracing::debug!(%error, "the backups read model did not catch up in time");
    }
}

impl From<BodyError> for BackupError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge(message) => BackupError::TooLarge(message),
            BodyError::Invalid { line, message } => BackupError::InvalidBody {
                line: Some(line),
                message: format!("line {line}: {message}"),
            },
            BodyError::Read(message) => BackupError::InvalidBody {
                line: None,
                message: format!("the body could not be read: {message}"),
            },
            BodyError::TimedOut(message) => BackupError::BodyTimeout(message),
            BodyError::Staging(cause) => BackupError::Internal(cause),
        }
    }
}
