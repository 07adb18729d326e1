use chrono::{DateTime, Utc};

use crate::ids::{BackupRunId, IngestTokenId};
use crate::plan::BackupPlan;
use crate::values::{EmailAddress, PersonName, PhoneNumber};

/// What can be asked of a customer.
#[derive(Clone, Debug, PartialEq)]
pub enum CustomerCommand {
    /// `phones`: at least one, no duplicates. `notes`: at most 10 000 characters.
    /// `avatar_url`: an `http(s)://` URL of at most 2048 characters.
    Register {
        name: PersonName,
        phones: Vec<PhoneNumber>,
        email: Option<EmailAddress>,
        notes: String,
        avatar_url: Option<String>,
        at: DateTime<Utc>,
    },
    /// Each `None` leaves the field unchanged; `Some(None)` clears an optional field.
    /// Idempotent: nothing changes, no event.
    Update {
        name: Option<PersonName>,
        phones: Option<Vec<PhoneNumber>>,
        email: Option<Option<EmailAddress>>,
        notes: Option<String>,
        avatar_url: Option<Option<String>>,
        at: DateTime<Utc>,
    },
    /// Validated (period at least 60 s, grace at most 7 days, a 5-field cron expression in a
    /// known IANA time zone, recipients that are email addresses) and stored with normalised,
    /// de-duplicated recipients. Idempotent: the same plan, no event.
    SetBackupPlan {
        plan: BackupPlan,
        at: DateTime<Utc>,
    },
    /// `hash_prefix`: the first 8 hex characters of the token's hash, never the token.
    IssueIngestToken {
        token_id: IngestTokenId,
        hash_prefix: String,
        at: DateTime<Utc>,
    },
    /// Idempotent: revoking a revoked token emits nothing.
    RevokeIngestToken {
        token_id: IngestTokenId,
        at: DateTime<Utc>,
    },
    /// Raised once per incident: a no-op while already down (overdue or failed).
    MarkBackupOverdue {
        expected_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The run `run_id` failed (or timed out) at `failed_at`: status `down`, reason `failed`.
    /// Raised once per incident: a no-op while already down (overdue or failed). `message` is
    /// the run's (at most [`MAX_MESSAGE_BYTES`](crate::backup_run::MAX_MESSAGE_BYTES), kept
    /// from its end).
    MarkBackupFailed {
        run_id: BackupRunId,
        exit_status: Option<i32>,
        message: Option<String>,
        failed_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// A no-op unless down (overdue or failed).
    MarkBackupRecovered {
        downtime_secs: u64,
        at: DateTime<Utc>,
    },
    Erase {
        at: DateTime<Utc>,
    },
}
