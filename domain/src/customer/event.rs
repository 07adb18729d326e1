use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{BackupRunId, IngestTokenId};
use crate::plan::BackupPlan;
use crate::values::{Change, EmailAddress, PersonName, PhoneNumber};

/// What happened to a customer. Names and fields are a stored contract (see the snapshots).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CustomerEvent {
    Registered {
        name: PersonName,
        phones: Vec<PhoneNumber>,
        email: Option<EmailAddress>,
        notes: String,
        avatar_url: Option<String>,
        at: DateTime<Utc>,
    },
    /// Only the changed fields are present, each with its previous and new value.
    Updated {
        name: Option<Change<PersonName>>,
        phones: Option<Change<Vec<PhoneNumber>>>,
        email: Option<Change<Option<EmailAddress>>>,
        notes: Option<Change<String>>,
        avatar_url: Option<Change<Option<String>>>,
        at: DateTime<Utc>,
    },
    BackupPlanSet {
        plan: BackupPlan,
        at: DateTime<Utc>,
    },
    IngestTokenIssued {
        token_id: IngestTokenId,
        hash_prefix: String,
        at: DateTime<Utc>,
    },
    IngestTokenRevoked {
        token_id: IngestTokenId,
        at: DateTime<Utc>,
    },
    /// The backup expected at `expected_at` (plus grace) did not come: status `down`.
    BackupOverdue {
        expected_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The run `run_id` failed (or timed out) at `failed_at`: status `down` (reason
    /// `failed`). Once per incident: not while already down.
    BackupFailed {
        run_id: BackupRunId,
        exit_status: Option<i32>,
        /// The run's message (the end of its output), at most 10 KiB.
        message: Option<String>,
        failed_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// A success after being down (overdue or failed), `downtime_secs` after going down.
    BackupRecovered {
        downtime_secs: u64,
        at: DateTime<Utc>,
    },
    /// Personal data must be dropped by every read model. Carries none itself.
    Erased {
        at: DateTime<Utc>,
    },
}

impl DomainEvent for CustomerEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::Registered { .. } => "CustomerRegistered",
            Self::Updated { .. } => "CustomerUpdated",
            Self::BackupPlanSet { .. } => "CustomerBackupPlanSet",
            Self::IngestTokenIssued { .. } => "CustomerIngestTokenIssued",
            Self::IngestTokenRevoked { .. } => "CustomerIngestTokenRevoked",
            Self::BackupOverdue { .. } => "CustomerBackupOverdue",
            Self::BackupFailed { .. } => "CustomerBackupFailed",
            Self::BackupRecovered { .. } => "CustomerBackupRecovered",
            Self::Erased { .. } => "CustomerErased",
        };
        name.to_owned()
    }

    /// Version 2 of `Registered`, `Updated` and `BackupPlanSet`: their personal fields are
    /// stored sealed with the customer's key (the journal's `shred`); the shape the domain sees
    /// is version 1's.
    fn event_version(&self) -> String {
        match self {
            Self::Registered { .. } | Self::Updated { .. } | Self::BackupPlanSet { .. } => "2",
            _ => "1",
        }
        .to_owned()
    }
}
