//! Retention (PRODUCT §6): which backup runs a [`RetentionPolicy`] keeps and which it marks
//! expired, with restic `forget` semantics.
//!
//! From the restic documentation, "Removing backup snapshots" (`doc/060_forget.rst`), and its
//! implementation (`internal/restic/snapshot_policy.go`, `ApplyPolicy`, restic 0.17):
//! - `--keep-last n`: keep the n last (most recent) snapshots.
//! - `--keep-hourly|daily|weekly|monthly|yearly n`: "for the last n hours/days/weeks/months/years
//!   which have one or more snapshots, keep only the most recent one for each". These work on
//!   natural calendar boundaries in the time zone (weeks are ISO weeks, Monday to Sunday), not
//!   relative to now, and count only periods that have a snapshot.
//! - `--keep-within duration`: keep every snapshot whose time is (strictly) after the newest
//!   snapshot's time minus the duration.
//! - A snapshot only has to match one rule to be kept; each rule counts it (a Sunday's last
//!   snapshot uses one daily *and* one weekly slot).
//! - If a counted rule still has slots left when the oldest snapshot is reached, the oldest is
//!   kept too (restic marks it "oldest"): this maximises the history kept.
//! - A policy without any rule (every count `None` or 0, no duration) keeps everything: restic
//!   refuses to act on an empty policy.
//!
//! Differences, because runs are not snapshots:
//! - Only successful runs are snapshots: rules count and keep successful runs only. A failed run
//!   is kept while no success finished after it (it is still the latest news), and expired
//!   once one did.
//! - The newest successful run is always kept (reason [`KeepReason::NewestSuccess`]), whatever the
//!   rules say.
//! - Ties in time are broken by run id (larger id counts as newer), so the result is
//!   repeatable. restic ignores future snapshots for `keep-within`; runs come from our own clock,
//!   so no such filtering happens here.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;

use crate::ids::BackupRunId;
use crate::plan::RetentionPolicy;

/// A finished run as retention sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunFacts {
    pub id: BackupRunId,
    pub finished_at: DateTime<Utc>,
    pub successful: bool,
}

/// A counted rule of the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CountedRule {
    Last,
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// Why a run is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepReason {
    /// The most recent run of its period (or one of the last n) for this rule.
    Rule(CountedRule),
    /// The oldest successful run, kept because this rule had slots left.
    OldestFor(CountedRule),
    /// Within `keep_within_secs` of the newest successful run.
    Within,
    /// The newest successful run: always kept.
    NewestSuccess,
    /// A failed run with no success after it.
    FailedWithoutLaterSuccess,
    /// The policy has no rule.
    EmptyPolicy,
}

/// Why a run is expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireReason {
    /// A successful run no rule keeps.
    NoRuleKeepsIt,
    /// A failed run followed by a success.
    FailedBeforeLaterSuccess,
}

/// The decision for one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Keep(Vec<KeepReason>),
    Expire(ExpireReason),
}

/// A run and its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunVerdict {
    pub id: BackupRunId,
    pub verdict: Verdict,
}

impl RunVerdict {
    pub fn is_kept(&self) -> bool {
        matches!(self.verdict, Verdict::Keep(_))
    }
}

/// Applies `policy` to `runs`, evaluating calendar periods in `zone`. The verdicts come in the
/// order of `runs`.
pub fn apply(policy: &RetentionPolicy, runs: &[RunFacts], zone: Tz) -> Vec<RunVerdict> {
    let counted_rules: Vec<(CountedRule, u32)> = [
        (CountedRule::Last, policy.keep_last),
        (CountedRule::Hourly, policy.keep_hourly),
        (CountedRule::Daily, policy.keep_daily),
        (CountedRule::Weekly, policy.keep_weekly),
        (CountedRule::Monthly, policy.keep_monthly),
        (CountedRule::Yearly, policy.keep_yearly),
    ]
    .into_iter()
    .filter_map(|(rule, count)| count.filter(|n| *n > 0).map(|n| (rule, n)))
    .collect();
    let within = policy.keep_within_secs.filter(|secs| *secs > 0);

    if counted_rules.is_empty() && within.is_none() {
        return runs
            .iter()
            .map(|run| RunVerdict {
                id: run.id,
                verdict: Verdict::Keep(vec![KeepReason::EmptyPolicy]),
            })
            .collect();
    }

    // Successful runs, newest first, with their position in `runs`.
    let mut successes: Vec<(usize, &RunFacts)> = runs
        .iter()
        .enumerate()
        .filter(|(_, run)| run.successful)
        .collect();
    successes.sort_by_key(|(_, run)| std::cmp::Reverse((run.finished_at, run.id)));
    let newest_success = successes.first().map(|(_, run)| (run.finished_at, run.id));

    let mut reasons_by_position: Vec<Vec<KeepReason>> = vec![Vec::new(); runs.len()];
    if let Some((latest, _)) = newest_success {
        let within_cutoff = within.map(|secs| cutoff_before(latest, secs));
        let mut slots: Vec<(CountedRule, u32, Option<i64>)> = counted_rules
            .iter()
            .map(|(rule, count)| (*rule, *count, None))
            .collect();
        let oldest_index = successes.len() - 1;
        for (index, (position, run)) in successes.iter().enumerate() {
            let mut reasons = Vec::new();
            if index == 0 {
                reasons.push(KeepReason::NewestSuccess);
            }
            if let Some(cutoff) = within_cutoff {
                if cutoff.is_none_or(|cutoff| run.finished_at > cutoff) {
                    reasons.push(KeepReason::Within);
                }
            }
            let local = run.finished_at.with_timezone(&zone);
            for (rule, slots_left, last_period) in slots.iter_mut() {
                if *slots_left == 0 {
                    continue;
                }
                let period = period_key(*rule, &local, index);
                let new_period = *last_period != Some(period);
                if new_period || index == oldest_index {
                    *last_period = Some(period);
                    *slots_left -= 1;
                    reasons.push(if new_period {
                        KeepReason::Rule(*rule)
                    } else {
                        KeepReason::OldestFor(*rule)
                    });
                }
            }
            reasons_by_position[*position] = reasons;
        }
    }

    runs.iter()
        .zip(reasons_by_position)
        .map(|(run, reasons)| {
            let verdict = if run.successful {
                if reasons.is_empty() {
                    Verdict::Expire(ExpireReason::NoRuleKeepsIt)
                } else {
                    Verdict::Keep(reasons)
                }
            } else {
                match newest_success {
                    Some(newest) if newest >= (run.finished_at, run.id) => {
                        Verdict::Expire(ExpireReason::FailedBeforeLaterSuccess)
                    }
                    _ => Verdict::Keep(vec![KeepReason::FailedWithoutLaterSuccess]),
                }
            };
            RunVerdict {
                id: run.id,
                verdict,
            }
        })
        .collect()
}

/// `latest - secs`, or `None` when that is before the representable range (everything is
/// within).
fn cutoff_before(latest: DateTime<Utc>, secs: u64) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(secs).ok()?;
    latest.checked_sub_signed(TimeDelta::try_seconds(secs)?)
}

/// The calendar period of a run for a rule, as restic's `ymdh`, `ymd`, `yw`, `ym`, `y` and
/// `always` (for keep-last, every run is its own period).
fn period_key(rule: CountedRule, local: &DateTime<Tz>, index: usize) -> i64 {
    let year = i64::from(local.year());
    let month = i64::from(local.month());
    let day = i64::from(local.day());
    match rule {
        CountedRule::Last => i64::try_from(index).unwrap_or(i64::MAX),
        CountedRule::Hourly => {
            year * 1_000_000 + month * 10_000 + day * 100 + i64::from(local.hour())
        }
        CountedRule::Daily => year * 10_000 + month * 100 + day,
        CountedRule::Weekly => {
            let week = local.iso_week();
            i64::from(week.year()) * 100 + i64::from(week.week())
        }
        CountedRule::Monthly => year * 100 + month,
        CountedRule::Yearly => year,
    }
}

#[cfg(test)]
#[path = "retention_tests.rs"]
mod tests;
