//! A customer's backup plan (PRODUCT §6): when backups are expected, how long past that they may
//! be late (grace), which runs retention keeps, who gets the mails, and whether monitoring is
//! paused. Shared by the Customer aggregate and the schedule and retention policies.

use serde::{Deserialize, Serialize};

/// When a customer's backups are expected.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// One run every `period_secs`, late after `grace_secs` more.
    Period { period_secs: u64, grace_secs: u64 },
    /// Runs at the times of a cron expression (5 fields) read in an IANA time zone
    /// (`Europe/Paris`), late `grace_secs` after each expected time.
    Cron {
        expression: String,
        time_zone: String,
        grace_secs: u64,
    },
}

/// Which runs to keep (restic `forget` semantics). `None` means the rule is not used; a policy
/// with no rule keeps everything. The newest successful run is always kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    pub keep_last: Option<u32>,
    pub keep_hourly: Option<u32>,
    pub keep_daily: Option<u32>,
    pub keep_weekly: Option<u32>,
    pub keep_monthly: Option<u32>,
    pub keep_yearly: Option<u32>,
    /// Keep every run younger than this many seconds, counted back from the newest run.
    pub keep_within_secs: Option<u64>,
}

/// A customer's backup plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupPlan {
    pub schedule: Schedule,
    pub retention: RetentionPolicy,
    /// Validated email addresses (the Customer aggregate checks them).
    pub report_recipients: Vec<String>,
    pub paused: bool,
}
