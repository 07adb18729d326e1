//! Backup schedule (PRODUCT §6): a plan's status at `now` and the next instant that status
//! changes by the mere passage of time, so the watchdog sleeps until then instead of polling.
//!
//! Rules:
//! - `paused` when the plan is paused, whatever else is true. Nothing changes by time.
//! - `running` while a run has started and not timed out (see [`run_timed_out`]); it changes at
//!   the timeout instant. A timed-out run no longer counts: the status is then what it would be
//!   without it, and the caller fails the run as timed out.
//! - Otherwise the *expected* time is computed from the base, which is the finish time of the
//!   last successful run, or the plan's creation when there is none:
//!   - period schedule: expected = base + period (an absolute duration: 24 h is 86 400 s even
//!     across a DST change);
//!   - cron schedule: expected = the first cron time strictly after base, read in the plan's
//!     IANA time zone.
//!
//!   Late at expected + grace. With `now < expected` the status is `up` (`new` without any
//!   successful run); with `expected <= now < late` it is `grace`; from `late` on it is `down`.
//!   A plan that never got a run therefore goes `new` → `grace` → `down` like any other.
//! - Cron and DST, read in the plan's zone (tested to the second for `30 2 * * *` in
//!   Europe/Paris):
//!   - a wall-clock time skipped by spring-forward (02:30 on 2024-03-31) is expected at the
//!     first instant after the gap (03:00 CEST), as Vixie cron runs jobs of a skipped hour right
//!     after the change;
//!   - a wall-clock time repeated by fall-back (02:30 on 2024-10-27) is expected once, at its
//!     first occurrence (02:30 CEST = 00:30 UTC); the repeat (02:30 CET) is not a second
//!     expected run. Generally, every cron time is expected at most once per wall-clock value.
//! - `next_deadline` is `None` when nothing will change by time alone (`paused`, `down`, or a
//!   cron that never fires again).

use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use croner::Cron;
use thiserror::Error;

use crate::plan::{BackupPlan, Schedule};

/// A plan's monitoring status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupStatus {
    /// No successful run yet and the first one is not due yet.
    New,
    /// The last success is recent enough.
    Up,
    /// The expected run is late, within grace.
    Grace,
    /// Past grace without a success.
    Down,
    /// Monitoring is paused.
    Paused,
    /// A run has started and has not finished nor timed out.
    Running,
}

/// The status at `now` and when it will next change by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusReport {
    pub status: BackupStatus,
    /// When the next run is expected (None when paused or when a cron never fires again).
    pub expected_at: Option<DateTime<Utc>>,
    /// When the plan goes down without a success (expected_at + grace).
    pub late_at: Option<DateTime<Utc>>,
    /// The instant the status changes by the passage of time alone (the watchdog's wake-up).
    pub next_deadline: Option<DateTime<Utc>>,
}

/// The facts the status depends on.
#[derive(Clone, Copy, Debug)]
pub struct ScheduleInput<'a> {
    pub plan: &'a BackupPlan,
    pub plan_created_at: DateTime<Utc>,
    /// Finish time of the last successful run.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Start time of the run in progress.
    pub running_since: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// A schedule that cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScheduleError {
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("invalid cron expression {expression:?}: {reason}")]
    InvalidCron { expression: String, reason: String },
    #[error("cron expression {0:?} never fires")]
    CronNeverFires(String),
    #[error("a backup period must be at least one second")]
    ZeroPeriod,
}

/// The minimum time a run may take before it counts as timed out.
pub const MIN_RUN_TIMEOUT_SECS: u64 = 3600;

/// Whether a run started at `started_at` has timed out at `now`: it has when
/// `now >= started_at + max(grace, 1 h)`. PRODUCT §6 says a run not finished within grace is
/// failed; the one-hour floor keeps a plan with a small (or zero) grace from failing every run
/// the moment it starts.
pub fn run_timed_out(started_at: DateTime<Utc>, plan: &BackupPlan, now: DateTime<Utc>) -> bool {
    run_timeout_at(started_at, plan).is_some_and(|timeout_at| now >= timeout_at)
}

/// The instant a run started at `started_at` times out (None if beyond the representable range).
pub fn run_timeout_at(started_at: DateTime<Utc>, plan: &BackupPlan) -> Option<DateTime<Utc>> {
    add_secs(
        started_at,
        grace_secs(&plan.schedule).max(MIN_RUN_TIMEOUT_SECS),
    )
}

/// Checks a 5-field cron expression (or `@daily`-style nickname) and an IANA time zone name,
/// and that the expression fires at least once.
pub fn validate_cron(expression: &str, time_zone: &str) -> Result<(), ScheduleError> {
    let zone = parse_zone(time_zone)?;
    let cron = parse_cron(expression)?;
    match next_cron_after(&cron, zone, DateTime::<Utc>::UNIX_EPOCH)? {
        Some(_) => Ok(()),
        None => Err(ScheduleError::CronNeverFires(expression.to_owned())),
    }
}

/// Checks a whole schedule: a period of at least one second, or a valid cron and zone.
pub fn validate_schedule(schedule: &Schedule) -> Result<(), ScheduleError> {
    match schedule {
        Schedule::Period { period_secs: 0, .. } => Err(ScheduleError::ZeroPeriod),
        Schedule::Period { .. } => Ok(()),
        Schedule::Cron {
            expression,
            time_zone,
            ..
        } => validate_cron(expression, time_zone),
    }
}

/// The plan's status at `input.now` (see the module rules).
pub fn evaluate(input: &ScheduleInput<'_>) -> Result<StatusReport, ScheduleError> {
    if input.plan.paused {
        return Ok(StatusReport {
            status: BackupStatus::Paused,
            expected_at: None,
            late_at: None,
            next_deadline: None,
        });
    }
    let base = input.last_success_at.unwrap_or(input.plan_created_at);
    let expected_at = expected_after(&input.plan.schedule, base)?;
    let late_at =
        expected_at.and_then(|expected| add_secs(expected, grace_secs(&input.plan.schedule)));

    if let Some(started_at) = input.running_since {
        if !run_timed_out(started_at, input.plan, input.now) {
            return Ok(StatusReport {
                status: BackupStatus::Running,
                expected_at,
                late_at,
                next_deadline: run_timeout_at(started_at, input.plan),
            });
        }
    }

    let fresh_status = if input.last_success_at.is_some() {
        BackupStatus::Up
    } else {
        BackupStatus::New
    };
    let (status, next_deadline) = match (expected_at, late_at) {
        (Some(expected), _) if input.now < expected => (fresh_status, Some(expected)),
        (Some(_), Some(late)) if input.now < late => (BackupStatus::Grace, Some(late)),
        (Some(_), Some(_)) => (BackupStatus::Down, None),
        // Expected, but late beyond the representable range: grace forever.
        (Some(_), None) => (BackupStatus::Grace, None),
        // Never expected again.
        (None, _) => (fresh_status, None),
    };
    Ok(StatusReport {
        status,
        expected_at,
        late_at,
        next_deadline,
    })
}

/// When the next run is expected after `base` (None if never).
pub fn expected_after(
    schedule: &Schedule,
    base: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ScheduleError> {
    match schedule {
        Schedule::Period { period_secs, .. } => Ok(add_secs(base, *period_secs)),
        Schedule::Cron {
            expression,
            time_zone,
            ..
        } => {
            let zone = parse_zone(time_zone)?;
            let cron = parse_cron(expression)?;
            next_cron_after(&cron, zone, base)
        }
    }
}

fn grace_secs(schedule: &Schedule) -> u64 {
    match schedule {
        Schedule::Period { grace_secs, .. } | Schedule::Cron { grace_secs, .. } => *grace_secs,
    }
}

fn add_secs(instant: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(secs).ok()?;
    instant.checked_add_signed(TimeDelta::try_seconds(secs)?)
}

fn parse_zone(time_zone: &str) -> Result<Tz, ScheduleError> {
    Tz::from_str(time_zone).map_err(|_| ScheduleError::UnknownTimeZone(time_zone.to_owned()))
}

fn parse_cron(expression: &str) -> Result<Cron, ScheduleError> {
    Cron::new(expression)
        .parse()
        .map_err(|error| ScheduleError::InvalidCron {
            expression: expression.to_owned(),
            reason: tidy_reason(&error),
        })
}

/// croner's messages are capitalised sentences; ours are lowercase without a trailing period.
fn tidy_reason(error: &croner::errors::CronError) -> String {
    error.to_string().trim_end_matches('.').to_lowercase()
}

/// The first cron time strictly after `after`, read in `zone`.
///
/// croner searches wall-clock time and maps a repeated wall-clock time to its first occurrence,
/// which may lie before `after` (after = 02:10 CET on the fall-back day, cron 02:30: its first
/// occurrence, 02:30 CEST, is earlier). Such a time was already due before `after`, so the
/// search continues past it: this is what makes a repeated wall-clock time expected once.
fn next_cron_after(
    cron: &Cron,
    zone: Tz,
    after: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ScheduleError> {
    let mut from = after.with_timezone(&zone);
    // A handful of retries covers any overlap (at most a few hours of repeated wall-clock time).
    for _ in 0..8 {
        match cron.find_next_occurrence(&from, false) {
            Ok(found) => {
                let found_utc = found.with_timezone(&Utc);
                if found_utc > after {
                    return Ok(Some(found_utc));
                }
                from = found;
            }
            Err(croner::errors::CronError::TimeSearchLimitExceeded) => return Ok(None),
            Err(error) => {
                return Err(ScheduleError::InvalidCron {
                    expression: cron.pattern.to_string(),
                    reason: tidy_reason(&error),
                })
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
