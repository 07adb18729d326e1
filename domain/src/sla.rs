//! The service-level policy of requests (PRODUCT §5): the default due date per priority and
//! when a request's due date raises `due_soon` and `overdue` alerts.
//!
//! The policy is admin-configurable; a request keeps a copy of the policy in force when it was
//! opened (in its `RequestOpened` event), so changing the policy never rewrites history.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::values::Priority;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// How long each priority gets, and how early `due_soon` is raised. All durations in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicy {
    pub urgent_secs: u64,
    pub high_secs: u64,
    pub normal_secs: u64,
    pub low_secs: u64,
    /// `due_soon` is raised when less than this remains before the due date.
    pub due_soon_threshold_secs: u64,
}

impl Default for SlaPolicy {
    /// PRODUCT §5: urgent 4 h, high 24 h, normal 72 h, low 7 days; due soon under 24 h.
    fn default() -> Self {
        Self {
            urgent_secs: 4 * HOUR,
            high_secs: 24 * HOUR,
            normal_secs: 72 * HOUR,
            low_secs: 7 * DAY,
            due_soon_threshold_secs: 24 * HOUR,
        }
    }
}

/// Where a due date stands at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// More than the threshold remains.
    None,
    /// The due date is ahead, strictly less than the threshold away.
    DueSoon,
    /// The due date has passed (or is now).
    Overdue,
}

impl SlaPolicy {
    /// How long a request of this priority gets by default.
    pub fn allowance_secs(&self, priority: Priority) -> u64 {
        match priority {
            Priority::Urgent => self.urgent_secs,
            Priority::High => self.high_secs,
            Priority::Normal => self.normal_secs,
            Priority::Low => self.low_secs,
        }
    }

    /// The default due date of a request of this priority opened at `opened_at`. Saturates at
    /// the latest representable time for absurdly large allowances instead of failing.
    pub fn default_due(&self, priority: Priority, opened_at: DateTime<Utc>) -> DateTime<Utc> {
        add_secs_saturating(opened_at, self.allowance_secs(priority))
    }

    /// Whether a request due at `due_at` is, at `now`, comfortably ahead, due soon or overdue.
    pub fn alert_state(&self, due_at: DateTime<Utc>, now: DateTime<Utc>) -> AlertState {
        if now >= due_at {
            AlertState::Overdue
        } else if now > subtract_secs_saturating(due_at, self.due_soon_threshold_secs) {
            AlertState::DueSoon
        } else {
            AlertState::None
        }
    }
}

fn delta_secs(secs: u64) -> Option<TimeDelta> {
    i64::try_from(secs).ok().and_then(TimeDelta::try_seconds)
}

pub(crate) fn add_secs_saturating(at: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    delta_secs(secs)
        .and_then(|delta| at.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn subtract_secs_saturating(at: DateTime<Utc>, secs: u64) -> DateTime<Utc> {
    delta_secs(secs)
        .and_then(|delta| at.checked_sub_signed(delta))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(hour_offset: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0)
            .single()
            .expect("valid date")
            + TimeDelta::hours(hour_offset)
    }

    #[test]
    fn default_due_dates_follow_the_priority() {
        let policy = SlaPolicy::default();
        let cases = [
            (Priority::Urgent, at(4)),
            (Priority::High, at(24)),
            (Priority::Normal, at(72)),
            (Priority::Low, at(7 * 24)),
        ];
        for (priority, expected) in cases {
            assert_eq!(policy.default_due(priority, at(0)), expected, "{priority}");
        }
    }

    #[test]
    fn a_configured_policy_sets_its_own_due_dates() {
        let policy = SlaPolicy {
            urgent_secs: 3600,
            ..SlaPolicy::default()
        };
        assert_eq!(policy.default_due(Priority::Urgent, at(0)), at(1));
    }

    #[test]
    fn an_absurd_allowance_saturates_instead_of_failing() {
        let policy = SlaPolicy {
            low_secs: u64::MAX,
            ..SlaPolicy::default()
        };
        assert_eq!(
            policy.default_due(Priority::Low, at(0)),
            DateTime::<Utc>::MAX_UTC
        );
        let huge_threshold = SlaPolicy {
            due_soon_threshold_secs: u64::MAX,
            ..SlaPolicy::default()
        };
        assert_eq!(
            huge_threshold.alert_state(at(1000), at(0)),
            AlertState::DueSoon
        );
    }

    #[test]
    fn alert_state_depends_on_the_time_left_before_the_due_date() {
        let policy = SlaPolicy::default();
        let due = at(48);
        let cases = [
            (at(0), AlertState::None),
            (at(23), AlertState::None),
            (at(24), AlertState::None),
            (at(25), AlertState::DueSoon),
            (at(47), AlertState::DueSoon),
            (at(48), AlertState::Overdue),
            (at(100), AlertState::Overdue),
        ];
        for (now, expected) in cases {
            assert_eq!(policy.alert_state(due, now), expected, "now {now}");
        }
    }

    #[test]
    fn a_zero_threshold_never_raises_due_soon() {
        let policy = SlaPolicy {
            due_soon_threshold_secs: 0,
            ..SlaPolicy::default()
        };
        assert_eq!(policy.alert_state(at(1), at(0)), AlertState::None);
        assert_eq!(policy.alert_state(at(1), at(1)), AlertState::Overdue);
    }
}
