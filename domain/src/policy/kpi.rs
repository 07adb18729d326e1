//! KPI formulas (PRODUCT §8), over plain facts, so projections, the API and tests share one
//! definition.
//!
//! Every figure is built from additive totals (sums and counts): the totals of hour buckets
//! add up to the day's, and a range's KPIs are computed from the sum of its buckets' totals.
//! The ratios are only derived at the end, from the summed totals.
//!
//! Rules:
//! - Each call counts in the bucket of its `queued_at`, with all its facts (answer, abandon,
//!   talk time), so that buckets add up. Every call given is *offered* (it reached the queue,
//!   rejected ones included).
//! - *answered*: the call has `connected_at`. *abandoned*: it has `abandoned_at` and no
//!   `connected_at` (a connected call is never an abandon). *abandoned short*: abandoned less
//!   than 5 s after `queued_at`.
//! - Queue wait = `connected_at - queued_at` (answered) or `abandoned_at - queued_at`
//!   (abandoned); negative durations count as zero. Durations are summed in milliseconds.
//! - ASA = mean queue wait of answered calls. AHT = mean (talk + wrap-up) of the answered calls
//!   that have ended (`ended_at`), talk = `ended_at - connected_at`; a call still in progress
//!   has no handle time yet.
//! - Service level(T) = answered within T (wait <= T) / (answered + abandoned after T
//!   (wait > T)) × 100; `None` when that denominator is 0. All totals that are added together
//!   must use the same T.
//! - Abandonment rate = abandoned / offered × 100 (`None` when nothing was offered); the short
//!   abandons are a separate count (`abandoned_short`).
//! - Occupancy per agent = time OnCall + WrapUp / time not Offline × 100, over state intervals
//!   clipped to the range (`None` when never logged in).
//! - Requests: *opened* counts in the bucket of `opened_at`, *solved* and *solved within due*
//!   in the bucket of `solved_at`; solved within due means `solved_at <= due_at` (a request
//!   without due date cannot be late and counts as within due). *Overdue now* is a snapshot,
//!   not a bucket sum: open or pending with `due_at < now`.

use std::iter::Sum;
use std::ops::{Add, AddAssign};

use chrono::{DateTime, TimeDelta, Utc};

/// Abandons shorter than this are reported apart.
pub const SHORT_ABANDON: TimeDelta = TimeDelta::seconds(5);

/// The default service level threshold T.
pub const DEFAULT_SERVICE_LEVEL_THRESHOLD: TimeDelta = TimeDelta::seconds(20);

/// What happened to one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallFacts {
    pub queued_at: DateTime<Utc>,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub abandoned_at: Option<DateTime<Utc>>,
    pub wrap_up_secs: u64,
}

/// Additive call totals of a bucket or a range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KpiTotals {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub abandoned_short: u64,
    pub answered_within_threshold: u64,
    pub abandoned_after_threshold: u64,
    /// Sum of the queue waits of answered calls.
    pub answered_wait_ms: u64,
    /// Answered calls that have ended.
    pub handled: u64,
    /// Sum of talk + wrap-up of handled calls.
    pub handle_ms: u64,
}

impl KpiTotals {
    /// The totals of one call, with service level threshold `threshold`.
    pub fn of_call(call: &CallFacts, threshold: TimeDelta) -> Self {
        let mut totals = KpiTotals {
            offered: 1,
            ..KpiTotals::default()
        };
        if let Some(connected_at) = call.connected_at {
            let wait = non_negative(connected_at - call.queued_at);
            totals.answered = 1;
            totals.answered_wait_ms = millis(wait);
            totals.answered_within_threshold = u64::from(wait <= threshold);
            if let Some(ended_at) = call.ended_at {
                let talk_ms = millis(non_negative(ended_at - connected_at));
                totals.handled = 1;
                totals.handle_ms = talk_ms.saturating_add(call.wrap_up_secs.saturating_mul(1000));
            }
        } else if let Some(abandoned_at) = call.abandoned_at {
            let wait = non_negative(abandoned_at - call.queued_at);
            totals.abandoned = 1;
            totals.abandoned_short = u64::from(wait < SHORT_ABANDON);
            totals.abandoned_after_threshold = u64::from(wait > threshold);
        }
        totals
    }

    /// The totals of the calls queued in `[from, to)`.
    pub fn in_range<'a>(
        calls: impl IntoIterator<Item = &'a CallFacts>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        threshold: TimeDelta,
    ) -> Self {
        calls
            .into_iter()
            .filter(|call| from <= call.queued_at && call.queued_at < to)
            .map(|call| KpiTotals::of_call(call, threshold))
            .sum()
    }

    /// Average speed of answer, in seconds.
    pub fn asa_secs(&self) -> Option<f64> {
        mean_secs(self.answered_wait_ms, self.answered)
    }

    /// Average handle time (talk + wrap-up), in seconds.
    pub fn aht_secs(&self) -> Option<f64> {
        mean_secs(self.handle_ms, self.handled)
    }

    /// Service level for the threshold these totals were built with, in percent.
    pub fn service_level_percent(&self) -> Option<f64> {
        percent(
            self.answered_within_threshold,
            self.answered.saturating_add(self.abandoned_after_threshold),
        )
    }

    /// Abandoned / offered, in percent.
    pub fn abandonment_rate_percent(&self) -> Option<f64> {
        percent(self.abandoned, self.offered)
    }
}

impl Add for KpiTotals {
    type Output = KpiTotals;
    fn add(self, other: KpiTotals) -> KpiTotals {
        KpiTotals {
            offered: self.offered.saturating_add(other.offered),
            answered: self.answered.saturating_add(other.answered),
            abandoned: self.abandoned.saturating_add(other.abandoned),
            abandoned_short: self.abandoned_short.saturating_add(other.abandoned_short),
            answered_within_threshold: self
                .answered_within_threshold
                .saturating_add(other.answered_within_threshold),
            abandoned_after_threshold: self
                .abandoned_after_threshold
                .saturating_add(other.abandoned_after_threshold),
            answered_wait_ms: self.answered_wait_ms.saturating_add(other.answered_wait_ms),
            handled: self.handled.saturating_add(other.handled),
            handle_ms: self.handle_ms.saturating_add(other.handle_ms),
        }
    }
}

impl AddAssign for KpiTotals {
    fn add_assign(&mut self, other: KpiTotals) {
        *self = *self + other;
    }
}

impl Sum for KpiTotals {
    fn sum<I: Iterator<Item = KpiTotals>>(iter: I) -> KpiTotals {
        iter.fold(KpiTotals::default(), Add::add)
    }
}

/// An agent state, as occupancy sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentActivity {
    Available,
    Offered,
    OnCall,
    WrapUp,
    Paused,
    Offline,
}

impl From<crate::worker::PresenceKind> for AgentActivity {
    fn from(kind: crate::worker::PresenceKind) -> Self {
        use crate::worker::PresenceKind;
        match kind {
            PresenceKind::Offline => Self::Offline,
            PresenceKind::Available => Self::Available,
            PresenceKind::Paused => Self::Paused,
            PresenceKind::Offered => Self::Offered,
            PresenceKind::OnCall => Self::OnCall,
            PresenceKind::WrapUp => Self::WrapUp,
        }
    }
}

/// An agent spent `[start, end)` in `activity` (the current state ends at `now`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateInterval {
    pub activity: AgentActivity,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Additive occupancy totals of one agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OccupancyTotals {
    /// Time OnCall or in WrapUp.
    pub busy_ms: u64,
    /// Time not Offline.
    pub logged_in_ms: u64,
}

impl OccupancyTotals {
    /// The totals of the intervals, clipped to `[from, to)`.
    pub fn in_range<'a>(
        intervals: impl IntoIterator<Item = &'a StateInterval>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Self {
        intervals
            .into_iter()
            .map(|interval| {
                let start = interval.start.max(from);
                let end = interval.end.min(to);
                let clipped_ms = if start < end { millis(end - start) } else { 0 };
                let busy = matches!(
                    interval.activity,
                    AgentActivity::OnCall | AgentActivity::WrapUp
                );
                let logged_in = interval.activity != AgentActivity::Offline;
                OccupancyTotals {
                    busy_ms: if busy { clipped_ms } else { 0 },
                    logged_in_ms: if logged_in { clipped_ms } else { 0 },
                }
            })
            .sum()
    }

    /// Busy time / logged-in time, in percent.
    pub fn occupancy_percent(&self) -> Option<f64> {
        percent(self.busy_ms, self.logged_in_ms)
    }
}

impl Add for OccupancyTotals {
    type Output = OccupancyTotals;
    fn add(self, other: OccupancyTotals) -> OccupancyTotals {
        OccupancyTotals {
            busy_ms: self.busy_ms.saturating_add(other.busy_ms),
            logged_in_ms: self.logged_in_ms.saturating_add(other.logged_in_ms),
        }
    }
}

impl Sum for OccupancyTotals {
    fn sum<I: Iterator<Item = OccupancyTotals>>(iter: I) -> OccupancyTotals {
        iter.fold(OccupancyTotals::default(), Add::add)
    }
}

/// What happened to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestFacts {
    pub opened_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    /// When it was (last) solved; None while never solved or reopened.
    pub solved_at: Option<DateTime<Utc>>,
    /// Status is open or pending.
    pub open_or_pending: bool,
}

/// Additive request totals of a bucket or a range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestTotals {
    pub opened: u64,
    pub solved: u64,
    pub solved_within_due: u64,
}

impl RequestTotals {
    /// The requests opened, and solved, in `[from, to)`.
    pub fn in_range<'a>(
        requests: impl IntoIterator<Item = &'a RequestFacts>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Self {
        let within = |instant: DateTime<Utc>| from <= instant && instant < to;
        requests
            .into_iter()
            .map(|request| {
                let solved_here = request.solved_at.filter(|solved_at| within(*solved_at));
                let on_time = solved_here.is_some_and(|solved_at| {
                    request.due_at.is_none_or(|due_at| solved_at <= due_at)
                });
                RequestTotals {
                    opened: u64::from(within(request.opened_at)),
                    solved: u64::from(solved_here.is_some()),
                    solved_within_due: u64::from(on_time),
                }
            })
            .sum()
    }
}

impl Add for RequestTotals {
    type Output = RequestTotals;
    fn add(self, other: RequestTotals) -> RequestTotals {
        RequestTotals {
            opened: self.opened.saturating_add(other.opened),
            solved: self.solved.saturating_add(other.solved),
            solved_within_due: self
                .solved_within_due
                .saturating_add(other.solved_within_due),
        }
    }
}

impl Sum for RequestTotals {
    fn sum<I: Iterator<Item = RequestTotals>>(iter: I) -> RequestTotals {
        iter.fold(RequestTotals::default(), Add::add)
    }
}

/// How many requests are overdue at `now`: open or pending, with a due date already passed.
pub fn overdue_now<'a>(
    requests: impl IntoIterator<Item = &'a RequestFacts>,
    now: DateTime<Utc>,
) -> u64 {
    requests
        .into_iter()
        .filter(|request| {
            request.open_or_pending && request.due_at.is_some_and(|due_at| due_at < now)
        })
        .count() as u64
}

fn non_negative(duration: TimeDelta) -> TimeDelta {
    duration.max(TimeDelta::zero())
}

fn millis(duration: TimeDelta) -> u64 {
    u64::try_from(duration.num_milliseconds()).unwrap_or(0)
}

fn mean_secs(total_ms: u64, count: u64) -> Option<f64> {
    (count > 0).then(|| total_ms as f64 / 1000.0 / count as f64)
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
#[path = "kpi_tests.rs"]
mod tests;
