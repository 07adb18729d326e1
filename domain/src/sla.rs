//! The service-level policy of requests (PRODUCT §5): the default due date per priority and
//! when a request's due date raises `due_soon` and `overdue` alerts.
//!
//! The policy is admin-configurable; a request keeps a copy of the policy in force when it was
//! opened (in its `RequestOpened` event), so changing the policy never rewrites history.
//!
//! A request is due soon when a quarter of its allowance remains, at most the policy's cap
//! (24 h by default): urgent 1 h, high 6 h, normal 18 h, low 24 h; a due date set by hand gets a
//! quarter of the time from when it was set. The window is computed from the stored due date
//! and the moment it was set, so requests stored before this rule follow it too (their stored
//! `due_soon_threshold_secs`, the old fixed window, is now the cap).

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
    /// The longest due-soon window: `due_soon` is raised when a quarter of the allowance
    /// remains, but never earlier than this before the due date. (Stored name kept: it was
    /// the fixed window before.)
    pub due_soon_threshold_secs: u64,
}

impl Default for SlaPolicy {
    /// PRODUCT §5: urgent 4 h, high 24 h, normal 72 h, low 7 days; due-soon window at most 24 h.
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
    /// More than the due-soon window remains.
    None,
    /// The due date is ahead, strictly less than the due-soon window away.
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

    /// How long before `due_at` a due date set at `set_at` becomes due soon: a quarter of the
    /// time between them (the allowance), at most the cap, in whole seconds.
    pub fn due_soon_window_secs(&self, set_at: DateTime<Utc>, due_at: DateTime<Utc>) -> u64 {
        let allowance =
            u64::try_from(due_at.signed_duration_since(set_at).num_seconds()).unwrap_or(0);
        (allowance / 4).min(self.due_soon_threshold_secs)
    }

    /// When a due date set at `set_at` for `due_at` enters its due-soon window: the window
    /// opens strictly after this instant.
    pub fn due_soon_from(&self, set_at: DateTime<Utc>, due_at: DateTime<Utc>) -> DateTime<Utc> {
        subtract_secs_saturating(due_at, self.due_soon_window_secs(set_at, due_at))
    }

    /// Whether a request due at `due_at` (set at `set_at`) is, at `now`, comfortably ahead,
    /// due soon or overdue.
    pub fn alert_state(
        &self,
        set_at: DateTime<Utc>,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> AlertState {
        if now >= due_at {
            AlertState::Overdue
        } else if now > self.due_soon_from(set_at, due_at) {
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
        let huge_cap = SlaPolicy {
            due_soon_threshold_secs: u64::MAX,
            ..SlaPolicy::default()
        };
        // Only the quarter counts: 1000 h set at 0 → due soon after 750 h.
        assert_eq!(
            huge_cap.alert_state(at(0), at(1000), at(750)),
            AlertState::None
        );
        assert_eq!(
            huge_cap.alert_state(at(0), at(1000), at(751)),
            AlertState::DueSoon
        );
        assert_eq!(
            huge_cap.alert_state(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, at(0)),
            AlertState::None
        );
    }

    #[test]
    fn a_request_is_due_soon_when_a_quarter_of_its_allowance_remains_at_most_24_hours() {
        let policy = SlaPolicy::default();
        // (priority, hours before the due date the window opens)
        let cases = [
            (Priority::Urgent, 1),
            (Priority::High, 6),
            (Priority::Normal, 18),
            (Priority::Low, 24),
        ];
        for (priority, window_hours) in cases {
            let due = policy.default_due(priority, at(0));
            let window_opens = due - TimeDelta::hours(window_hours);
            assert_eq!(
                policy.due_soon_window_secs(at(0), due),
                window_hours as u64 * HOUR,
                "{priority}"
            );
            assert_eq!(
                policy.alert_state(at(0), due, at(0)),
                AlertState::None,
                "{priority}"
            );
            assert_eq!(
                policy.alert_state(at(0), due, window_opens),
                AlertState::None,
                "{priority}"
            );
            assert_eq!(
                policy.alert_state(at(0), due, window_opens + TimeDelta::seconds(1)),
                AlertState::DueSoon,
                "{priority}"
            );
            assert_eq!(
                policy.alert_state(at(0), due, due),
                AlertState::Overdue,
                "{priority}"
            );
        }
    }

    #[test]
    fn an_explicit_due_date_is_due_soon_for_the_last_quarter_of_the_time_from_when_it_was_set() {
        let policy = SlaPolicy::default();
        let cases = [
            // (set at, due at, window in seconds)
            (at(0), at(8), 2 * HOUR),
            (at(10), at(14), HOUR),
            (at(0), at(400), 24 * HOUR),
            (at(0), at(0) + TimeDelta::minutes(2), 30),
        ];
        for (set_at, due_at, window_secs) in cases {
            assert_eq!(
                policy.due_soon_window_secs(set_at, due_at),
                window_secs,
                "{set_at} → {due_at}"
            );
        }
        // A due date in the past of when it was set (never stored: refused by the aggregate)
        // has no window.
        assert_eq!(policy.due_soon_window_secs(at(5), at(1)), 0);
    }

    #[test]
    fn the_cap_is_configurable() {
        let policy = SlaPolicy {
            due_soon_threshold_secs: 2 * HOUR,
            ..SlaPolicy::default()
        };
        assert_eq!(
            policy.due_soon_window_secs(at(0), policy.default_due(Priority::Urgent, at(0))),
            HOUR
        );
        assert_eq!(
            policy.due_soon_window_secs(at(0), policy.default_due(Priority::High, at(0))),
            2 * HOUR
        );
    }

    #[test]
    fn a_zero_cap_never_raises_due_soon() {
        let policy = SlaPolicy {
            due_soon_threshold_secs: 0,
            ..SlaPolicy::default()
        };
        assert_eq!(policy.alert_state(at(0), at(1), at(0)), AlertState::None);
        assert_eq!(policy.alert_state(at(0), at(1), at(1)), AlertState::Overdue);
    }
}
