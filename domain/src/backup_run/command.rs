use chrono::{DateTime, Utc};

use crate::ids::CustomerId;

use super::event::RunResult;

/// What can be asked of a backup run. The customer comes from the ingest token, looked up by
/// the caller; time comes in `at`.
#[derive(Clone, Debug, PartialEq)]
pub enum BackupRunCommand {
    /// The customer's backup started. Idempotent: a repeat while the run is running emits
    /// nothing.
    Start {
        customer_id: CustomerId,
        client_run_id: Option<String>,
        at: DateTime<Utc>,
    },
    /// The run succeeded. Creates the run when it was never started. Idempotent: a repeat for a
    /// run that already succeeded emits nothing (whatever its result).
    Succeed {
        customer_id: CustomerId,
        client_run_id: Option<String>,
        at: DateTime<Utc>,
        result: RunResult,
    },
    /// The run failed. Creates the run when it was never started; `message` keeps its last
    /// [`MAX_MESSAGE_BYTES`](super::MAX_MESSAGE_BYTES). Idempotent: a repeat for a run that already
    /// failed or timed out emits nothing.
    Fail {
        customer_id: CustomerId,
        client_run_id: Option<String>,
        at: DateTime<Utc>,
        exit_status: Option<i32>,
        message: Option<String>,
    },
    /// Attach log text to an existing run, in any state; `text` is cut to
    /// [`MAX_TEXT_CHARS`](super::MAX_TEXT_CHARS).
    AppendLog {
        customer_id: CustomerId,
        at: DateTime<Utc>,
        text: String,
    },
    /// The system gives up on a run still running past its grace. Only while running.
    /// Idempotent: a repeat on a timed-out run emits nothing.
    TimeOut { at: DateTime<Utc> },
    /// Retention lets this finished run go. Only for finished runs. Idempotent: emits nothing
    /// when already expired.
    Expire { at: DateTime<Utc>, reason: String },
}
