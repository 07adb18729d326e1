use super::*;
use crate::plan::RetentionPolicy;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("valid rfc3339 in test")
        .with_timezone(&Utc)
}

fn plan(schedule: Schedule) -> BackupPlan {
    BackupPlan {
        schedule,
        retention: RetentionPolicy::default(),
        report_recipients: vec![],
        paused: false,
    }
}

fn daily_with_hour_grace() -> BackupPlan {
    plan(Schedule::Period {
        period_secs: 86_400,
        grace_secs: 3_600,
    })
}

fn paris_cron(expression: &str, grace_secs: u64) -> BackupPlan {
    plan(Schedule::Cron {
        expression: expression.to_owned(),
        time_zone: "Europe/Paris".to_owned(),
        grace_secs,
    })
}

#[derive(Clone)]
struct Case {
    name: &'static str,
    plan: BackupPlan,
    created: &'static str,
    last_success: Option<&'static str>,
    running_since: Option<&'static str>,
    now: &'static str,
    status: BackupStatus,
    next_deadline: Option<&'static str>,
}

fn check(cases: Vec<Case>) {
    for case in cases {
        let input = ScheduleInput {
            plan: &case.plan,
            plan_created_at: utc(case.created),
            last_success_at: case.last_success.map(utc),
            running_since: case.running_since.map(utc),
            now: utc(case.now),
        };
        let report = evaluate(&input).expect("valid plan");
        assert_eq!(report.status, case.status, "{}", case.name);
        assert_eq!(
            report.next_deadline,
            case.next_deadline.map(utc),
            "{}",
            case.name
        );
    }
}

const CREATED: &str = "2024-01-01T00:00:00Z";
const LAST: &str = "2024-06-10T02:00:00Z";

#[test]
fn period_plans_go_up_grace_down_at_the_exact_second() {
    let up = |now, deadline| Case {
        name: "up",
        plan: daily_with_hour_grace(),
        created: CREATED,
        last_success: Some(LAST),
        running_since: None,
        now,
        status: BackupStatus::Up,
        next_deadline: deadline,
    };
    check(vec![
        up("2024-06-10T02:00:00Z", Some("2024-06-11T02:00:00Z")),
        up("2024-06-11T01:59:59Z", Some("2024-06-11T02:00:00Z")),
        Case {
            name: "grace starts at due",
            status: BackupStatus::Grace,
            now: "2024-06-11T02:00:00Z",
            next_deadline: Some("2024-06-11T03:00:00Z"),
            ..up("", None)
        },
        Case {
            name: "last second of grace",
            status: BackupStatus::Grace,
            now: "2024-06-11T02:59:59Z",
            next_deadline: Some("2024-06-11T03:00:00Z"),
            ..up("", None)
        },
        Case {
            name: "down at due plus grace",
            status: BackupStatus::Down,
            now: "2024-06-11T03:00:00Z",
            next_deadline: None,
            ..up("", None)
        },
        Case {
            name: "zero grace goes from up to down at due",
            plan: plan(Schedule::Period {
                period_secs: 86_400,
                grace_secs: 0,
            }),
            status: BackupStatus::Down,
            now: "2024-06-11T02:00:00Z",
            next_deadline: None,
            ..up("", None)
        },
        Case {
            name: "a new customer with no run is new until the first due time",
            last_success: None,
            status: BackupStatus::New,
            now: "2024-01-01T23:59:59Z",
            next_deadline: Some("2024-01-02T00:00:00Z"),
            ..up("", None)
        },
        Case {
            name: "a new customer whose first run never came goes down",
            last_success: None,
            status: BackupStatus::Down,
            now: "2024-01-02T01:00:00Z",
            next_deadline: None,
            ..up("", None)
        },
        Case {
            name: "paused wins over down",
            plan: BackupPlan {
                paused: true,
                ..daily_with_hour_grace()
            },
            status: BackupStatus::Paused,
            now: "2024-09-01T00:00:00Z",
            next_deadline: None,
            ..up("", None)
        },
        Case {
            name: "a run in progress is running until its timeout",
            running_since: Some("2024-06-11T02:30:00Z"),
            status: BackupStatus::Running,
            now: "2024-06-11T03:10:00Z",
            next_deadline: Some("2024-06-11T03:30:00Z"),
            ..up("", None)
        },
        Case {
            name: "a timed-out run no longer counts",
            running_since: Some("2024-06-11T02:30:00Z"),
            status: BackupStatus::Down,
            now: "2024-06-11T03:30:00Z",
            next_deadline: None,
            ..up("", None)
        },
        Case {
            name: "a first run in progress for a new customer is running",
            last_success: None,
            running_since: Some("2024-01-01T00:00:10Z"),
            status: BackupStatus::Running,
            now: "2024-01-01T00:00:20Z",
            next_deadline: Some("2024-01-01T01:00:10Z"),
            ..up("", None)
        },
    ]);
}

#[test]
fn runs_time_out_after_grace_but_never_before_one_hour() {
    let started = utc("2024-06-11T02:00:00Z");
    let small_grace = plan(Schedule::Period {
        period_secs: 86_400,
        grace_secs: 60,
    });
    let big_grace = plan(Schedule::Period {
        period_secs: 86_400,
        grace_secs: 7_200,
    });
    assert!(!run_timed_out(
        started,
        &small_grace,
        utc("2024-06-11T02:59:59Z")
    ));
    assert!(run_timed_out(
        started,
        &small_grace,
        utc("2024-06-11T03:00:00Z")
    ));
    assert!(!run_timed_out(
        started,
        &big_grace,
        utc("2024-06-11T03:59:59Z")
    ));
    assert!(run_timed_out(
        started,
        &big_grace,
        utc("2024-06-11T04:00:00Z")
    ));
}

#[test]
fn a_daily_cron_follows_the_paris_wall_clock() {
    let base = Case {
        name: "",
        plan: paris_cron("30 2 * * *", 3_600),
        created: CREATED,
        last_success: None,
        running_since: None,
        now: "",
        status: BackupStatus::Up,
        next_deadline: None,
    };
    check(vec![
        Case {
            name: "winter: 02:30 CET is 01:30 UTC",
            last_success: Some("2024-01-15T01:40:00Z"),
            now: "2024-01-16T01:29:59Z",
            next_deadline: Some("2024-01-16T01:30:00Z"),
            ..base.clone()
        },
        Case {
            name: "summer: 02:30 CEST is 00:30 UTC",
            last_success: Some("2024-06-15T00:40:00Z"),
            now: "2024-06-16T00:30:00Z",
            status: BackupStatus::Grace,
            next_deadline: Some("2024-06-16T01:30:00Z"),
            ..base
        },
    ]);
}

#[test]
fn the_spring_forward_gap_moves_the_run_to_the_end_of_the_gap() {
    // 2024-03-31 in Paris: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 does not exist.
    let zone_plan = paris_cron("30 2 * * *", 3_600);
    let expected = expected_after(&zone_plan.schedule, utc("2024-03-30T01:35:00Z")).unwrap();
    assert_eq!(expected, Some(utc("2024-03-31T01:00:00Z")), "03:00 CEST");
    let after_the_gap_run =
        expected_after(&zone_plan.schedule, utc("2024-03-31T01:05:00Z")).unwrap();
    assert_eq!(
        after_the_gap_run,
        Some(utc("2024-04-01T00:30:00Z")),
        "02:30 CEST next day"
    );
    check(vec![Case {
        name: "late one hour after the end of the gap",
        plan: zone_plan,
        created: CREATED,
        last_success: Some("2024-03-30T01:35:00Z"),
        running_since: None,
        now: "2024-03-31T01:59:59Z",
        status: BackupStatus::Grace,
        next_deadline: Some("2024-03-31T02:00:00Z"),
    }]);
}

#[test]
fn the_fall_back_repeat_is_expected_once() {
    // 2024-10-27 in Paris: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:30 happens at
    // 00:30 UTC and again at 01:30 UTC.
    let zone_plan = paris_cron("30 2 * * *", 3_600);
    let cases = [
        (
            "the day before",
            "2024-10-26T00:40:00Z",
            "2024-10-27T00:30:00Z",
        ),
        (
            "after the first 02:30",
            "2024-10-27T00:35:00Z",
            "2024-10-28T01:30:00Z",
        ),
        (
            "between the two 02:30s, in CET",
            "2024-10-27T01:10:00Z",
            "2024-10-28T01:30:00Z",
        ),
        (
            "just before the first 02:30",
            "2024-10-27T00:29:59Z",
            "2024-10-27T00:30:00Z",
        ),
        (
            "after the second 02:30",
            "2024-10-27T01:31:00Z",
            "2024-10-28T01:30:00Z",
        ),
    ];
    for (name, base, expected) in cases {
        assert_eq!(
            expected_after(&zone_plan.schedule, utc(base)).unwrap(),
            Some(utc(expected)),
            "{name}"
        );
    }
}

#[test]
fn cron_validation_rejects_bad_expressions_and_zones() {
    assert_eq!(validate_cron("30 2 * * *", "Europe/Paris"), Ok(()));
    assert_eq!(validate_cron("@daily", "UTC"), Ok(()));
    assert_eq!(
        validate_cron("30 2 * * *", "Mars/Olympus"),
        Err(ScheduleError::UnknownTimeZone("Mars/Olympus".to_owned()))
    );
    for bad in ["", "61 * * * *", "* * *", "0 0 * * * *", "a b c d e"] {
        assert!(
            matches!(
                validate_cron(bad, "UTC"),
                Err(ScheduleError::InvalidCron { .. })
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        validate_cron("0 0 30 2 *", "UTC"),
        Err(ScheduleError::CronNeverFires("0 0 30 2 *".to_owned()))
    );
    assert_eq!(
        validate_schedule(&Schedule::Period {
            period_secs: 0,
            grace_secs: 0
        }),
        Err(ScheduleError::ZeroPeriod)
    );
}

#[test]
fn an_invalid_zone_in_a_stored_plan_is_an_error_not_a_panic() {
    let bad_plan = plan(Schedule::Cron {
        expression: "0 0 * * *".to_owned(),
        time_zone: "Nowhere/Land".to_owned(),
        grace_secs: 0,
    });
    let input = ScheduleInput {
        plan: &bad_plan,
        plan_created_at: utc(CREATED),
        last_success_at: None,
        running_since: None,
        now: utc(CREATED),
    };
    assert!(matches!(
        evaluate(&input),
        Err(ScheduleError::UnknownTimeZone(_))
    ));
}

#[test]
fn huge_periods_mean_never_due_rather_than_overflow() {
    let huge = plan(Schedule::Period {
        period_secs: u64::MAX,
        grace_secs: u64::MAX,
    });
    let input = ScheduleInput {
        plan: &huge,
        plan_created_at: utc(CREATED),
        last_success_at: Some(utc(LAST)),
        running_since: None,
        now: utc(LAST),
    };
    let report = evaluate(&input).unwrap();
    assert_eq!(report.status, BackupStatus::Up);
    assert_eq!(report.next_deadline, None);
    assert!(!run_timed_out(
        utc(LAST),
        &huge,
        utc("2999-01-01T00:00:00Z")
    ));
}

#[test]
fn odd_cron_expressions_are_answered_without_panic() {
    let odd = [
        ("*/0 * * * *", false),
        ("0 0 L * *", true),
        ("0 0 * * 5#9", false),
        ("0 0 31 4 *", false),
        ("99999999999 * * * *", false),
        ("0-59/99 * * * *", true),
        ("1-0 * * * *", false),
        ("0 0 ? * ?", true),
        ("0 0 15W * *", true),
        ("@reboot", false),
        ("@", false),
        ("- - - - -", false),
        (", , , , ,", false),
    ];
    for (expression, valid) in odd {
        assert_eq!(
            validate_cron(expression, "Europe/Paris").is_ok(),
            valid,
            "{expression:?}"
        );
    }
}

#[test]
fn cron_error_messages_are_lowercase_without_trailing_period() {
    let message = validate_cron("*/0 * * * *", "UTC").unwrap_err().to_string();
    assert_eq!(
        message,
        "invalid cron expression \"*/0 * * * *\": component error: step cannot be zero"
    );
}

proptest::proptest! {
    #[test]
    fn any_cron_like_text_is_validated_without_panic(
        expression in "[0-9*/,LW#?-]{1,4}( [0-9*/,LW#?-]{1,4}){4}",
    ) {
        let answer = validate_cron(&expression, "UTC");
        if let Err(ScheduleError::InvalidCron { reason, .. }) = answer {
            proptest::prop_assert!(!reason.ends_with('.'));
        }
    }
}
