use chrono::{NaiveDate, TimeZone};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid rfc3339 in test")
        .with_timezone(&Utc)
}

fn run(n: u128, finished_at: &str, successful: bool) -> RunFacts {
    RunFacts {
        id: BackupRunId(Uuid::from_u128(n)),
        finished_at: utc(finished_at),
        successful,
    }
}

fn rid(n: u128) -> BackupRunId {
    BackupRunId(Uuid::from_u128(n))
}

fn kept_ids(verdicts: &[RunVerdict]) -> Vec<BackupRunId> {
    verdicts
        .iter()
        .filter(|v| v.is_kept())
        .map(|v| v.id)
        .collect()
}

fn reason_count(verdicts: &[RunVerdict], wanted: KeepReason) -> usize {
    verdicts
        .iter()
        .filter(|v| matches!(&v.verdict, Verdict::Keep(reasons) if reasons.contains(&wanted)))
        .count()
}

#[test]
fn restic_doc_example_keep_daily_4_over_twelve_sundays() {
    // restic doc/060_forget.rst: one backup every Sunday at 11:00 for 12 weeks
    // (2019-09-01 .. 2019-11-17); `forget --keep-daily 4` keeps the last four Sundays.
    let sundays = [
        "2019-09-01",
        "2019-09-08",
        "2019-09-15",
        "2019-09-22",
        "2019-09-29",
        "2019-10-06",
        "2019-10-13",
        "2019-10-20",
        "2019-10-27",
        "2019-11-03",
        "2019-11-10",
        "2019-11-17",
    ];
    let runs: Vec<RunFacts> = sundays
        .iter()
        .zip(1u128..)
        .map(|(day, n)| run(n, &format!("{day}T11:00:00Z"), true))
        .collect();
    let policy = RetentionPolicy {
        keep_daily: Some(4),
        ..RetentionPolicy::default()
    };
    let verdicts = apply(&policy, &runs, chrono_tz::UTC);
    assert_eq!(kept_ids(&verdicts), vec![rid(9), rid(10), rid(11), rid(12)]);
    assert_eq!(
        verdicts[11].verdict,
        Verdict::Keep(vec![
            KeepReason::NewestSuccess,
            KeepReason::Rule(CountedRule::Daily)
        ])
    );
    assert_eq!(
        verdicts[8].verdict,
        Verdict::Keep(vec![KeepReason::Rule(CountedRule::Daily)])
    );
    assert_eq!(
        verdicts[0].verdict,
        Verdict::Expire(ExpireReason::NoRuleKeepsIt)
    );
}

#[test]
fn restic_doc_example_keep_last_1() {
    // restic doc/060_forget.rst, `forget --keep-last 1 --prune`: of 10:48:33 and 10:49:18 on
    // 2017-02-21, the later one is kept.
    let runs = [
        run(1, "2017-02-21T10:49:18Z", true),
        run(2, "2017-02-21T10:48:33Z", true),
    ];
    let policy = RetentionPolicy {
        keep_last: Some(1),
        ..RetentionPolicy::default()
    };
    assert_eq!(
        kept_ids(&apply(&policy, &runs, chrono_tz::UTC)),
        vec![rid(1)]
    );
}

#[test]
fn restic_doc_example_a_century_of_daily_backups() {
    // restic doc/060_forget.rst: daily backups for 100 years, `forget --keep-daily 7
    // --keep-weekly 5 --keep-monthly 12 --keep-yearly 75` keeps the 7 last days, 4 more
    // week ends (the dailies hold one), 11 or 12 month ends and 74 or 75 year ends.
    // Ending on Sunday 2019-11-17: the weekly rule adds Nov 10, Nov 3, Oct 27 and Oct 20; the
    // monthly rule adds Oct 31 back to 2018-12-31 (11); the yearly rule adds 2017..1945 (73,
    // as 2019 and 2018 are already kept): 7 + 4 + 11 + 73 = 95.
    let last_day = NaiveDate::from_ymd_opt(2019, 11, 17).unwrap();
    let runs: Vec<RunFacts> = (0..36_525u32)
        .map(|days_back| {
            let day = last_day - chrono::Days::new(u64::from(days_back));
            RunFacts {
                id: BackupRunId(Uuid::from_u128(u128::from(days_back) + 1)),
                finished_at: Utc.from_utc_datetime(&day.and_hms_opt(23, 0, 0).unwrap()),
                successful: true,
            }
        })
        .collect();
    let policy = RetentionPolicy {
        keep_daily: Some(7),
        keep_weekly: Some(5),
        keep_monthly: Some(12),
        keep_yearly: Some(75),
        ..RetentionPolicy::default()
    };
    let verdicts = apply(&policy, &runs, chrono_tz::UTC);
    assert_eq!(kept_ids(&verdicts).len(), 95);
    assert_eq!(
        reason_count(&verdicts, KeepReason::Rule(CountedRule::Daily)),
        7
    );
    assert_eq!(
        reason_count(&verdicts, KeepReason::Rule(CountedRule::Weekly)),
        5
    );
    assert_eq!(
        reason_count(&verdicts, KeepReason::Rule(CountedRule::Monthly)),
        12
    );
    assert_eq!(
        reason_count(&verdicts, KeepReason::Rule(CountedRule::Yearly)),
        75
    );
    let oldest_yearly = verdicts
        .iter()
        .zip(&runs)
        .filter(|(v, _)| v.is_kept())
        .map(|(_, r)| r.finished_at)
        .min();
    assert_eq!(oldest_yearly, Some(utc("1945-12-31T23:00:00Z")));
}

#[test]
fn the_oldest_run_is_kept_while_a_rule_has_slots_left() {
    let runs = [
        run(1, "2024-05-01T08:00:00Z", true),
        run(2, "2024-05-01T09:00:00Z", true),
        run(3, "2024-05-01T10:00:00Z", true),
    ];
    let policy = RetentionPolicy {
        keep_daily: Some(7),
        ..RetentionPolicy::default()
    };
    let verdicts = apply(&policy, &runs, chrono_tz::UTC);
    assert_eq!(
        verdicts[0].verdict,
        Verdict::Keep(vec![KeepReason::OldestFor(CountedRule::Daily)])
    );
    assert_eq!(
        verdicts[1].verdict,
        Verdict::Expire(ExpireReason::NoRuleKeepsIt)
    );
    assert!(verdicts[2].is_kept());
}

#[test]
fn keep_within_counts_back_from_the_newest_success_strictly() {
    let runs = [
        run(1, "2024-05-10T00:00:00Z", true),
        run(2, "2024-05-09T00:00:00Z", true),
        run(3, "2024-05-09T00:00:01Z", true),
        run(4, "2024-05-10T06:00:00Z", false),
    ];
    let policy = RetentionPolicy {
        keep_within_secs: Some(86_400),
        ..RetentionPolicy::default()
    };
    let verdicts = apply(&policy, &runs, chrono_tz::UTC);
    assert_eq!(
        verdicts[0].verdict,
        Verdict::Keep(vec![KeepReason::NewestSuccess, KeepReason::Within])
    );
    assert_eq!(
        verdicts[1].verdict,
        Verdict::Expire(ExpireReason::NoRuleKeepsIt)
    );
    assert_eq!(verdicts[2].verdict, Verdict::Keep(vec![KeepReason::Within]));
    assert_eq!(
        verdicts[3].verdict,
        Verdict::Keep(vec![KeepReason::FailedWithoutLaterSuccess])
    );
}

#[test]
fn failed_runs_are_never_counted_and_expire_once_a_success_follows() {
    let runs = [
        run(1, "2024-05-01T00:00:00Z", true),
        run(2, "2024-05-02T00:00:00Z", false),
        run(3, "2024-05-03T00:00:00Z", true),
        run(4, "2024-05-04T00:00:00Z", false),
    ];
    let policy = RetentionPolicy {
        keep_last: Some(2),
        ..RetentionPolicy::default()
    };
    let verdicts = apply(&policy, &runs, chrono_tz::UTC);
    assert_eq!(kept_ids(&verdicts), vec![rid(1), rid(3), rid(4)]);
    assert_eq!(
        verdicts[1].verdict,
        Verdict::Expire(ExpireReason::FailedBeforeLaterSuccess)
    );

    let only_failures = [
        run(1, "2024-05-01T00:00:00Z", false),
        run(2, "2024-05-02T00:00:00Z", false),
    ];
    assert_eq!(
        kept_ids(&apply(&policy, &only_failures, chrono_tz::UTC)),
        vec![rid(1), rid(2)]
    );
}

#[test]
fn a_policy_without_rules_keeps_everything() {
    let runs = [
        run(1, "2024-05-01T00:00:00Z", true),
        run(2, "2024-04-01T00:00:00Z", false),
    ];
    let zeros = RetentionPolicy {
        keep_last: Some(0),
        keep_daily: Some(0),
        keep_within_secs: Some(0),
        ..RetentionPolicy::default()
    };
    for policy in [RetentionPolicy::default(), zeros] {
        let verdicts = apply(&policy, &runs, chrono_tz::UTC);
        assert!(verdicts
            .iter()
            .all(|v| v.verdict == Verdict::Keep(vec![KeepReason::EmptyPolicy])));
    }
    assert!(apply(
        &RetentionPolicy {
            keep_last: Some(1),
            ..Default::default()
        },
        &[],
        chrono_tz::UTC
    )
    .is_empty());
}

#[test]
fn calendar_days_are_read_in_the_given_zone() {
    // 22:30, 23:30 and 00:30 UTC are 23:30 (Jan 10), 00:30 and 01:30 (Jan 11) in Paris.
    let runs = [
        run(1, "2024-01-10T22:30:00Z", true),
        run(2, "2024-01-10T23:30:00Z", true),
        run(3, "2024-01-11T00:30:00Z", true),
    ];
    let policy = RetentionPolicy {
        keep_daily: Some(2),
        ..RetentionPolicy::default()
    };
    assert_eq!(
        kept_ids(&apply(&policy, &runs, chrono_tz::Europe::Paris)),
        vec![rid(1), rid(3)]
    );
    assert_eq!(
        kept_ids(&apply(&policy, &runs, chrono_tz::UTC)),
        vec![rid(2), rid(3)]
    );
}

#[test]
fn weeks_are_iso_weeks_monday_to_sunday() {
    // Sunday 2024-12-29 is in ISO week 2024-52, Monday 2024-12-30 in 2025-01.
    let runs = [
        run(1, "2024-12-28T12:00:00Z", true),
        run(2, "2024-12-29T12:00:00Z", true),
        run(3, "2024-12-30T12:00:00Z", true),
    ];
    let policy = RetentionPolicy {
        keep_weekly: Some(2),
        ..RetentionPolicy::default()
    };
    assert_eq!(
        kept_ids(&apply(&policy, &runs, chrono_tz::UTC)),
        vec![rid(2), rid(3)]
    );
}

fn runs_strategy() -> impl Strategy<Value = Vec<RunFacts>> {
    prop::collection::vec((0i64..2_000_000, any::<bool>()), 0..25).prop_map(|rows| {
        rows.into_iter()
            .zip(1u128..)
            .map(|((secs, successful), n)| RunFacts {
                id: BackupRunId(Uuid::from_u128(n)),
                finished_at: Utc.timestamp_opt(1_700_000_000 + secs * 97, 0).unwrap(),
                successful,
            })
            .collect()
    })
}

fn policy_strategy() -> impl Strategy<Value = RetentionPolicy> {
    let count = || prop::option::of(0u32..4);
    (
        count(),
        count(),
        count(),
        count(),
        count(),
        count(),
        prop::option::of(0u64..500_000),
    )
        .prop_map(
            |(
                keep_last,
                keep_hourly,
                keep_daily,
                keep_weekly,
                keep_monthly,
                keep_yearly,
                keep_within_secs,
            )| {
                RetentionPolicy {
                    keep_last,
                    keep_hourly,
                    keep_daily,
                    keep_weekly,
                    keep_monthly,
                    keep_yearly,
                    keep_within_secs,
                }
            },
        )
}

proptest! {
    #[test]
    fn the_newest_success_is_never_expired_and_keep_last_is_honoured(
        runs in runs_strategy(),
        policy in policy_strategy(),
    ) {
        let verdicts = apply(&policy, &runs, chrono_tz::Europe::Paris);
        prop_assert_eq!(verdicts.len(), runs.len());
        let newest = runs.iter().filter(|r| r.successful).max_by_key(|r| (r.finished_at, r.id));
        if let Some(newest) = newest {
            let verdict = verdicts.iter().find(|v| v.id == newest.id).unwrap();
            prop_assert!(verdict.is_kept());
        }
        let successes = runs.iter().filter(|r| r.successful).count();
        let kept_successes = verdicts
            .iter()
            .zip(&runs)
            .filter(|(v, r)| r.successful && v.is_kept())
            .count();
        let keep_last = policy.keep_last.unwrap_or(0) as usize;
        prop_assert!(kept_successes >= keep_last.min(successes));
    }
}
