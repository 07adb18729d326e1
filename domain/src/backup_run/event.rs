use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::CustomerId;

/// What happened to a backup run. Names and fields are a stored contract (see the snapshots).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BackupRunEvent {
    Started {
        customer_id: CustomerId,
        client_run_id: Option<String>,
        at: DateTime<Utc>,
    },
    /// The run succeeded at `at`. `started_at` and `duration_secs` are `None` when the run was
    /// never reported as started.
    Succeeded {
        customer_id: CustomerId,
        client_run_id: Option<String>,
        started_at: Option<DateTime<Utc>>,
        duration_secs: Option<u64>,
        result: RunResult,
        at: DateTime<Utc>,
    },
    /// The run failed at `at`, as reported by the customer.
    Failed {
        customer_id: CustomerId,
        client_run_id: Option<String>,
        started_at: Option<DateTime<Utc>>,
        duration_secs: Option<u64>,
        exit_status: Option<i32>,
        /// The last [`MAX_MESSAGE_BYTES`](super::MAX_MESSAGE_BYTES) of what the client sent
        /// (events recorded before 2026-12-07 kept the first 10 000 characters instead).
        message: Option<String>,
        at: DateTime<Utc>,
    },
    /// Log text for the run (at most [`MAX_TEXT_CHARS`](super::MAX_TEXT_CHARS) characters).
    ///
    /// Version 2 added `truncated`: whether the client sent more than that and the rest was
    /// cut off. Stored version-1 payloads are upcast (`journal::upcast`) with `truncated`
    /// true exactly when the text is `MAX_TEXT_CHARS` long (v1 cut texts to that length).
    LogAppended {
        text: String,
        truncated: bool,
        at: DateTime<Utc>,
    },
    /// The run was still running past its grace; it counts as failed.
    TimedOut {
        started_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// Retention let this run go; the storage side may delete it.
    Expired { reason: String, at: DateTime<Utc> },
}

impl DomainEvent for BackupRunEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::Started { .. } => "BackupRunStarted",
            Self::Succeeded { .. } => "BackupRunSucceeded",
            Self::Failed { .. } => "BackupRunFailed",
            Self::LogAppended { .. } => "BackupRunLogAppended",
            Self::TimedOut { .. } => "BackupRunTimedOut",
            Self::Expired { .. } => "BackupRunExpired",
        };
        name.to_string()
    }

    fn event_version(&self) -> String {
        match self {
            Self::LogAppended { .. } => "2",
            _ => "1",
        }
        .to_string()
    }
}

/// What a successful run reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunResult {
    /// A manifest of the backed-up files, summarised outside the domain.
    Manifest {
        /// Hex digest of the manifest.
        digest: String,
        entries: u64,
        bytes: u64,
        /// Changes against the previous successful run; `None` for the first run.
        changes: Option<ChangeStats>,
    },
    /// The backup tool's own statistics (restic `backup --json` summary).
    ToolStats(ToolStats),
    /// No details.
    Plain,
}

/// The fields of restic's `backup --json` summary message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolStats {
    pub files_new: u64,
    pub files_changed: u64,
    pub files_unmodified: u64,
    pub dirs_new: u64,
    pub dirs_changed: u64,
    pub dirs_unmodified: u64,
    pub data_added: u64,
    pub total_files_processed: u64,
    pub total_bytes_processed: u64,
    /// Seconds.
    pub total_duration: f64,
    pub snapshot_id: Option<String>,
}

/// Files created, modified, deleted and unchanged since the previous successful run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeStats {
    pub created: u64,
    pub modified: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub created_bytes: u64,
    pub modified_bytes: u64,
    pub deleted_bytes: u64,
    pub unchanged_bytes: u64,
    /// The largest changes, biggest first, at most
    /// [`MAX_LARGEST_CHANGES`](super::MAX_LARGEST_CHANGES).
    pub largest: Vec<ChangedFile>,
}

/// One changed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFile {
    pub path: String,
    pub kind: ChangeKind,
    pub bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Modified,
    Deleted,
}
