use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

const T: TimeDelta = DEFAULT_SERVICE_LEVEL_THRESHOLD;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
}

fn answered(queued: i64, connected: i64, ended: Option<i64>, wrap_up_secs: u64) -> CallFacts {
    CallFacts {
        queued_at: at(queued),
        connected_at: Some(at(connected)),
        ended_at: ended.map(at),
        abandoned_at: None,
        wrap_up_secs,
    }
}

fn abandoned(queued: i64, left: i64) -> CallFacts {
    CallFacts {
        queued_at: at(queued),
        connected_at: None,
        ended_at: None,
        abandoned_at: Some(at(left)),
        wrap_up_secs: 0,
    }
}

fn rejected(queued: i64) -> CallFacts {
    CallFacts {
        queued_at: at(queued),
        connected_at: None,
        ended_at: None,
        abandoned_at: None,
        wrap_up_secs: 0,
    }
}

#[test]
fn one_call_contributes_by_its_outcome_and_the_thresholds() {
    let cases = [
        (
            "answered at exactly T is within T",
            answered(0, 20, Some(80), 10),
            KpiTotals {
                offered: 1,
                answered: 1,
                answered_within_threshold: 1,
                answered_wait_ms: 20_000,
                handled: 1,
                handle_ms: 70_000,
                ..KpiTotals::default()
            },
        ),
        (
            "answered one second after T",
            answered(0, 21, None, 10),
            KpiTotals {
                offered: 1,
                answered: 1,
                answered_wait_ms: 21_000,
                ..KpiTotals::default()
            },
        ),
        (
            "abandoned at 4 s is short and before T",
            abandoned(0, 4),
            KpiTotals {
                offered: 1,
                abandoned: 1,
                abandoned_short: 1,
                ..KpiTotals::default()
            },
        ),
        (
            "abandoned at exactly 5 s is not short",
            abandoned(0, 5),
            KpiTotals {
                offered: 1,
                abandoned: 1,
                ..KpiTotals::default()
            },
        ),
        (
            "abandoned at exactly T is not after T",
            abandoned(0, 20),
            KpiTotals {
                offered: 1,
                abandoned: 1,
                ..KpiTotals::default()
            },
        ),
        (
            "abandoned after T",
            abandoned(0, 21),
            KpiTotals {
                offered: 1,
                abandoned: 1,
                abandoned_after_threshold: 1,
                ..KpiTotals::default()
            },
        ),
        (
            "rejected is only offered",
            rejected(0),
            KpiTotals {
                offered: 1,
                ..KpiTotals::default()
            },
        ),
        (
            "a connected call is never an abandon",
            CallFacts {
                abandoned_at: Some(at(3)),
                ..answered(0, 2, Some(3), 0)
            },
            KpiTotals {
                offered: 1,
                answered: 1,
                answered_within_threshold: 1,
                answered_wait_ms: 2_000,
                handled: 1,
                handle_ms: 1_000,
                ..KpiTotals::default()
            },
        ),
        (
            "clock skew never makes a negative wait",
            answered(10, 5, Some(4), 0),
            KpiTotals {
                offered: 1,
                answered: 1,
                answered_within_threshold: 1,
                handled: 1,
                ..KpiTotals::default()
            },
        ),
    ];
    for (name, call, expected) in cases {
        assert_eq!(KpiTotals::of_call(&call, T), expected, "{name}");
    }
}

#[test]
fn the_ratios_follow_the_product_formulas() {
    let calls = [
        answered(0, 10, Some(110), 10), // wait 10, handle 110
        answered(0, 30, Some(60), 0),   // wait 30 (after T), handle 30
        answered(0, 5, None, 0),        // wait 5, still talking
        abandoned(0, 2),                // short
        abandoned(0, 40),               // after T
        rejected(0),
    ];
    let totals = KpiTotals::in_range(&calls, at(0), at(1), T);
    assert_eq!(totals.offered, 6);
    assert_eq!(totals.asa_secs(), Some(15.0));
    assert_eq!(totals.aht_secs(), Some(70.0));
    // answered within T: 2; answered 3 + abandoned after T 1.
    assert_eq!(totals.service_level_percent(), Some(50.0));
    assert_eq!(totals.abandonment_rate_percent(), Some(2.0 * 100.0 / 6.0));
    assert_eq!(totals.abandoned_short, 1);
}

#[test]
fn empty_totals_have_no_ratios() {
    let empty = KpiTotals::default();
    assert_eq!(empty.asa_secs(), None);
    assert_eq!(empty.aht_secs(), None);
    assert_eq!(empty.service_level_percent(), None);
    assert_eq!(empty.abandonment_rate_percent(), None);
    let only_short_abandons = KpiTotals::in_range(&[abandoned(0, 1)], at(0), at(1), T);
    assert_eq!(only_short_abandons.service_level_percent(), None);
    assert_eq!(only_short_abandons.abandonment_rate_percent(), Some(100.0));
}

#[test]
fn occupancy_is_busy_time_over_logged_in_time_within_the_range() {
    let intervals = [
        StateInterval {
            activity: AgentActivity::Offline,
            start: at(0),
            end: at(100),
        },
        StateInterval {
            activity: AgentActivity::Available,
            start: at(100),
            end: at(200),
        },
        StateInterval {
            activity: AgentActivity::Offered,
            start: at(200),
            end: at(210),
        },
        StateInterval {
            activity: AgentActivity::OnCall,
            start: at(210),
            end: at(290),
        },
        StateInterval {
            activity: AgentActivity::WrapUp,
            start: at(290),
            end: at(300),
        },
        StateInterval {
            activity: AgentActivity::Paused,
            start: at(300),
            end: at(400),
        },
    ];
    let whole = OccupancyTotals::in_range(&intervals, at(0), at(400));
    assert_eq!(
        whole,
        OccupancyTotals {
            busy_ms: 90_000,
            logged_in_ms: 300_000
        }
    );
    assert_eq!(whole.occupancy_percent(), Some(30.0));
    let clipped = OccupancyTotals::in_range(&intervals, at(250), at(350));
    assert_eq!(
        clipped,
        OccupancyTotals {
            busy_ms: 50_000,
            logged_in_ms: 100_000
        }
    );
    assert_eq!(
        OccupancyTotals::in_range(&intervals, at(0), at(100)).occupancy_percent(),
        None
    );
}

#[test]
fn request_figures_count_opened_solved_on_time_and_overdue() {
    let requests = [
        RequestFacts {
            opened_at: at(0),
            due_at: Some(at(100)),
            solved_at: Some(at(100)),
            open_or_pending: false,
        },
        RequestFacts {
            opened_at: at(10),
            due_at: Some(at(100)),
            solved_at: Some(at(101)),
            open_or_pending: false,
        },
        RequestFacts {
            opened_at: at(20),
            due_at: None,
            solved_at: Some(at(50)),
            open_or_pending: false,
        },
        RequestFacts {
            opened_at: at(30),
            due_at: Some(at(150)),
            solved_at: None,
            open_or_pending: true,
        },
        RequestFacts {
            opened_at: at(500),
            due_at: Some(at(90)),
            solved_at: None,
            open_or_pending: false,
        },
    ];
    assert_eq!(
        RequestTotals::in_range(&requests, at(0), at(200)),
        RequestTotals {
            opened: 4,
            solved: 3,
            solved_within_due: 2
        }
    );
    assert_eq!(overdue_now(&requests, at(150)), 0);
    assert_eq!(overdue_now(&requests, at(151)), 1);
}

fn call_strategy() -> impl Strategy<Value = CallFacts> {
    (
        0i64..1_000,
        0u8..3,
        0i64..60,
        0i64..300,
        any::<bool>(),
        0u64..30,
    )
        .prop_map(
            |(queued, outcome, wait, talk, ended, wrap_up_secs)| match outcome {
                0 => answered(
                    queued,
                    queued + wait,
                    ended.then_some(queued + wait + talk),
                    wrap_up_secs,
                ),
                1 => abandoned(queued, queued + wait),
                _ => rejected(queued),
            },
        )
}

fn interval_strategy() -> impl Strategy<Value = StateInterval> {
    (0u8..6, 0i64..1_000, 0i64..200).prop_map(|(kind, start, length)| StateInterval {
        activity: [
            AgentActivity::Available,
            AgentActivity::Offered,
            AgentActivity::OnCall,
            AgentActivity::WrapUp,
            AgentActivity::Paused,
            AgentActivity::Offline,
        ][usize::from(kind)],
        start: at(start),
        end: at(start + length),
    })
}

fn request_strategy() -> impl Strategy<Value = RequestFacts> {
    (
        0i64..1_000,
        prop::option::of(0i64..1_200),
        prop::option::of(0i64..1_200),
        any::<bool>(),
    )
        .prop_map(|(opened, due, solved, open_or_pending)| RequestFacts {
            opened_at: at(opened),
            due_at: due.map(at),
            solved_at: solved.map(at),
            open_or_pending,
        })
}

/// Bucket boundaries covering [0, 1200): sorted distinct cut points.
fn buckets_strategy() -> impl Strategy<Value = Vec<i64>> {
    prop::collection::btree_set(1i64..1_200, 0..8).prop_map(|cuts| {
        let mut bounds = vec![0];
        bounds.extend(cuts);
        bounds.push(1_200);
        bounds
    })
}

proptest! {
    #[test]
    fn bucket_totals_add_up_to_the_direct_range_computation(
        calls in prop::collection::vec(call_strategy(), 0..40),
        intervals in prop::collection::vec(interval_strategy(), 0..20),
        requests in prop::collection::vec(request_strategy(), 0..20),
        bounds in buckets_strategy(),
    ) {
        let (from, to) = (at(0), at(1_200));
        let call_buckets: KpiTotals = bounds
            .windows(2)
            .map(|w| KpiTotals::in_range(&calls, at(w[0]), at(w[1]), T))
            .sum();
        prop_assert_eq!(call_buckets, KpiTotals::in_range(&calls, from, to, T));
        prop_assert_eq!(call_buckets.offered, calls.len() as u64);

        let occupancy_buckets: OccupancyTotals = bounds
            .windows(2)
            .map(|w| OccupancyTotals::in_range(&intervals, at(w[0]), at(w[1])))
            .sum();
        prop_assert_eq!(occupancy_buckets, OccupancyTotals::in_range(&intervals, from, to));

        let request_buckets: RequestTotals = bounds
            .windows(2)
            .map(|w| RequestTotals::in_range(&requests, at(w[0]), at(w[1])))
            .sum();
        prop_assert_eq!(request_buckets, RequestTotals::in_range(&requests, from, to));
    }

    #[test]
    fn ratios_stay_between_zero_and_one_hundred(calls in prop::collection::vec(call_strategy(), 0..40)) {
        let totals: KpiTotals = calls.iter().map(|c| KpiTotals::of_call(c, T)).sum();
        for ratio in [totals.service_level_percent(), totals.abandonment_rate_percent()].into_iter().flatten() {
            prop_assert!((0.0..=100.0).contains(&ratio));
        }
    }
}
