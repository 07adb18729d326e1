use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::ids::{CallId, CustomerId, WorkerId};
use crate::sla::{AlertState, SlaPolicy};
use crate::values::{Change, Priority, RequestMessage, RequestType};

type RequestTest = TestFramework<Request>;

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
        .single()
        .expect("valid date")
        + TimeDelta::hours(hours)
}

fn customer() -> CustomerId {
    CustomerId(Uuid::from_u128(1))
}

fn agent(n: u128) -> WorkerId {
    WorkerId(Uuid::from_u128(100 + n))
}

fn message(text: &str) -> RequestMessage {
    RequestMessage::parse(text).expect("valid message")
}

fn open_command(priority: Priority, due_at: Option<DateTime<Utc>>) -> RequestCommand {
    RequestCommand::Open {
        customer_id: customer(),
        call_id: Some(CallId(Uuid::from_u128(7))),
        message: message("Backup failed last night"),
        priority,
        request_type: RequestType::Incident,
        assignee: None,
        due_at,
        sla: SlaPolicy::default(),
        opened_by: Some(agent(1)),
        at: at(0),
    }
}

/// A normal-priority request opened at hour 0, due by default at hour 72.
fn opened() -> RequestEvent {
    RequestEvent::Opened {
        customer_id: customer(),
        call_id: Some(CallId(Uuid::from_u128(7))),
        message: message("Backup failed last night"),
        priority: Priority::Normal,
        request_type: RequestType::Incident,
        assignee: None,
        due_at: at(72),
        due_at_explicit: false,
        sla: SlaPolicy::default(),
        opened_by: Some(agent(1)),
        at: at(0),
    }
}

fn with_status(status_event: RequestEvent) -> Vec<RequestEvent> {
    vec![opened(), status_event]
}

fn solved() -> Vec<RequestEvent> {
    with_status(RequestEvent::Solved {
        from: RequestStatus::Open,
        by: Some(agent(1)),
        at: at(2),
    })
}

fn closed() -> Vec<RequestEvent> {
    with_status(RequestEvent::Closed {
        from: RequestStatus::Open,
        by: Some(agent(1)),
        at: at(2),
    })
}

fn pending() -> Vec<RequestEvent> {
    with_status(RequestEvent::MarkedPending {
        from: RequestStatus::Open,
        by: Some(agent(1)),
        at: at(2),
    })
}

/// The fields of an update by agent 2, at hour 1 unless `at` says otherwise.
#[derive(Default)]
struct Fields {
    message: Option<RequestMessage>,
    priority: Option<Priority>,
    request_type: Option<RequestType>,
    assignee: Option<Option<WorkerId>>,
    due_at: Option<DateTime<Utc>>,
    at: Option<DateTime<Utc>>,
}

fn update_by_agent(fields: Fields) -> RequestCommand {
    RequestCommand::Update {
        message: fields.message,
        priority: fields.priority,
        request_type: fields.request_type,
        assignee: fields.assignee,
        due_at: fields.due_at,
        by: Some(agent(2)),
        at: fields.at.unwrap_or(at(1)),
    }
}

fn update() -> RequestCommand {
    update_by_agent(Fields::default())
}

fn replay(events: Vec<RequestEvent>) -> Request {
    let mut request = Request::default();
    for event in events {
        request.apply(event);
    }
    request
}

// --- opening

#[test]
fn opening_a_request_takes_the_due_date_from_the_priority() {
    RequestTest::with(())
        .given_no_previous_events()
        .when(open_command(Priority::Normal, None))
        .then_expect_events(vec![opened()]);
    let request = replay(vec![opened()]);
    assert!(request.is_opened());
    assert_eq!(request.status(), RequestStatus::Open);
    assert_eq!(request.due_at(), Some(at(72)));
    assert_eq!(request.customer_id(), Some(customer()));
}

#[test]
fn opening_a_request_with_an_explicit_due_date_keeps_it() {
    let events = RequestTest::with(())
        .given_no_previous_events()
        .when(open_command(Priority::Urgent, Some(at(10))))
        .inspect_result()
        .expect("opens");
    let request = replay(events);
    assert_eq!(request.due_at(), Some(at(10)));
    assert!(request.details().expect("details").due_at_explicit);
}

#[test]
fn an_explicit_due_date_must_be_in_the_future() {
    RequestTest::with(())
        .given_no_previous_events()
        .when(open_command(Priority::Normal, Some(at(0))))
        .then_expect_error(RequestError::DueDateInPast);
}

#[test]
fn opening_a_request_twice_is_rejected() {
    RequestTest::with(())
        .given(vec![opened()])
        .when(open_command(Priority::Normal, None))
        .then_expect_error(RequestError::AlreadyOpened);
}

#[test]
fn commands_to_a_request_that_does_not_exist_are_rejected() {
    RequestTest::with(())
        .given_no_previous_events()
        .when(RequestCommand::Solve {
            by: None,
            at: at(1),
        })
        .then_expect_error(RequestError::NotFound);
}

// --- updates

#[test]
fn an_update_records_who_when_and_previous_and_new_values_of_changed_fields() {
    RequestTest::with(())
        .given(vec![opened()])
        .when(update_by_agent(Fields {
            message: Some(message("Backup failed two nights in a row")),
            request_type: Some(RequestType::Incident),
            assignee: Some(Some(agent(3))),
            ..Fields::default()
        }))
        .then_expect_events(vec![RequestEvent::Updated {
            message: Some(Change {
                from: message("Backup failed last night"),
                to: message("Backup failed two nights in a row"),
            }),
            priority: None,
            request_type: None,
            assignee: Some(Change {
                from: None,
                to: Some(agent(3)),
            }),
            due_at: None,
            by: Some(agent(2)),
            at: at(1),
        }]);
}

#[test]
fn an_update_that_changes_nothing_emits_nothing() {
    RequestTest::with(())
        .given(vec![opened()])
        .when(update_by_agent(Fields {
            priority: Some(Priority::Normal),
            due_at: Some(at(72)),
            ..Fields::default()
        }))
        .then_expect_events(vec![]);
}

#[test]
fn raising_the_priority_moves_a_default_due_date_to_the_new_priority_default() {
    RequestTest::with(())
        .given(vec![opened()])
        .when(update_by_agent(Fields {
            priority: Some(Priority::Urgent),
            ..Fields::default()
        }))
        .then_expect_events(vec![RequestEvent::Updated {
            message: None,
            priority: Some(Change {
                from: Priority::Normal,
                to: Priority::Urgent,
            }),
            request_type: None,
            assignee: None,
            due_at: Some(DueDateChange {
                from: at(72),
                to: at(4),
                explicit: false,
            }),
            by: Some(agent(2)),
            at: at(1),
        }]);
}

#[test]
fn raising_the_priority_keeps_an_explicit_due_date() {
    let events = vec![
        opened(),
        RequestEvent::Updated {
            message: None,
            priority: None,
            request_type: None,
            assignee: None,
            due_at: Some(DueDateChange {
                from: at(72),
                to: at(30),
                explicit: true,
            }),
            by: None,
            at: at(1),
        },
    ];
    RequestTest::with(())
        .given(events)
        .when(update_by_agent(Fields {
            priority: Some(Priority::Urgent),
            at: Some(at(2)),
            ..Fields::default()
        }))
        .then_expect_events(vec![RequestEvent::Updated {
            message: None,
            priority: Some(Change {
                from: Priority::Normal,
                to: Priority::Urgent,
            }),
            request_type: None,
            assignee: None,
            due_at: None,
            by: Some(agent(2)),
            at: at(2),
        }]);
}

#[test]
fn an_updated_due_date_must_be_in_the_future() {
    RequestTest::with(())
        .given(vec![opened()])
        .when(update_by_agent(Fields {
            due_at: Some(at(1)),
            ..Fields::default()
        }))
        .then_expect_error(RequestError::DueDateInPast);
}

#[test]
fn changing_the_due_date_re_arms_the_alerts() {
    let mut events = vec![
        opened(),
        RequestEvent::DueSoonRaised {
            due_at: at(72),
            at: at(50),
        },
        RequestEvent::OverdueRaised {
            due_at: at(72),
            at: at(72),
        },
    ];
    assert!(replay(events.clone()).overdue_raised());
    events.push(RequestEvent::Updated {
        message: None,
        priority: None,
        request_type: None,
        assignee: None,
        due_at: Some(DueDateChange {
            from: at(72),
            to: at(100),
            explicit: true,
        }),
        by: Some(agent(1)),
        at: at(73),
    });
    let request = replay(events.clone());
    assert!(!request.due_soon_raised());
    assert!(!request.overdue_raised());
    // Set at hour 73 for hour 100: due soon for the last quarter of those 27 h (after 93¼).
    RequestTest::with(())
        .given(events.clone())
        .when(RequestCommand::RaiseDueSoon { at: at(93) })
        .then_expect_events(vec![]);
    RequestTest::with(())
        .given(events)
        .when(RequestCommand::RaiseDueSoon { at: at(94) })
        .then_expect_events(vec![RequestEvent::DueSoonRaised {
            due_at: at(100),
            at: at(94),
        }]);
}

// --- status

#[test]
fn an_open_request_can_be_set_pending_and_setting_it_again_emits_nothing() {
    RequestTest::with(())
        .given(vec![opened()])
        .when(RequestCommand::SetPending {
            by: Some(agent(1)),
            at: at(2),
        })
        .then_expect_events(pending()[1..].to_vec());
    RequestTest::with(())
        .given(pending())
        .when(RequestCommand::SetPending {
            by: Some(agent(1)),
            at: at(3),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_solved_request_cannot_be_set_pending() {
    RequestTest::with(())
        .given(solved())
        .when(RequestCommand::SetPending {
            by: Some(agent(1)),
            at: at(3),
        })
        .then_expect_error(RequestError::InvalidStatusTransition {
            from: RequestStatus::Solved,
            to: RequestStatus::Pending,
        });
}

#[test]
fn a_pending_request_can_be_solved_and_solving_it_again_emits_nothing() {
    RequestTest::with(())
        .given(pending())
        .when(RequestCommand::Solve {
            by: Some(agent(2)),
            at: at(3),
        })
        .then_expect_events(vec![RequestEvent::Solved {
            from: RequestStatus::Pending,
            by: Some(agent(2)),
            at: at(3),
        }]);
    RequestTest::with(())
        .given(solved())
        .when(RequestCommand::Solve {
            by: Some(agent(2)),
            at: at(3),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_solved_request_can_be_reopened() {
    RequestTest::with(())
        .given(solved())
        .when(RequestCommand::Reopen {
            by: Some(agent(2)),
            at: at(3),
        })
        .then_expect_events(vec![RequestEvent::Reopened {
            from: RequestStatus::Solved,
            by: Some(agent(2)),
            at: at(3),
        }]);
}

#[test]
fn only_a_solved_request_can_be_reopened() {
    RequestTest::with(())
        .given(pending())
        .when(RequestCommand::Reopen {
            by: Some(agent(2)),
            at: at(3),
        })
        .then_expect_error(RequestError::NotSolved);
}

#[test]
fn closing_is_final_and_every_later_command_is_rejected() {
    RequestTest::with(())
        .given(solved())
        .when(RequestCommand::Close {
            by: None,
            at: at(3),
        })
        .then_expect_events(vec![RequestEvent::Closed {
            from: RequestStatus::Solved,
            by: None,
            at: at(3),
        }]);
    let commands = vec![
        update(),
        RequestCommand::SetPending {
            by: None,
            at: at(4),
        },
        RequestCommand::Solve {
            by: None,
            at: at(4),
        },
        RequestCommand::Reopen {
            by: None,
            at: at(4),
        },
        RequestCommand::Close {
            by: None,
            at: at(4),
        },
        RequestCommand::RaiseDueSoon { at: at(60) },
        RequestCommand::RaiseOverdue { at: at(80) },
    ];
    for command in commands {
        RequestTest::with(())
            .given(closed())
            .when(command)
            .then_expect_error(RequestError::Closed);
    }
}

// --- alerts

#[test]
fn due_soon_is_raised_once_when_a_quarter_of_the_allowance_remains() {
    // Normal: 72 h, due soon for the last 18 h (after hour 54).
    RequestTest::with(())
        .given(vec![opened()])
        .when(RequestCommand::RaiseDueSoon { at: at(54) })
        .then_expect_events(vec![]);
    RequestTest::with(())
        .given(vec![opened()])
        .when(RequestCommand::RaiseDueSoon { at: at(55) })
        .then_expect_events(vec![RequestEvent::DueSoonRaised {
            due_at: at(72),
            at: at(55),
        }]);
    RequestTest::with(())
        .given(vec![
            opened(),
            RequestEvent::DueSoonRaised {
                due_at: at(72),
                at: at(55),
            },
        ])
        .when(RequestCommand::RaiseDueSoon { at: at(56) })
        .then_expect_events(vec![]);
}

/// A request of `priority` opened at hour 0 with its default due date (policy: `sla`).
fn opened_with(priority: Priority, sla: SlaPolicy) -> RequestEvent {
    RequestEvent::Opened {
        customer_id: customer(),
        call_id: None,
        message: message("Backup failed last night"),
        priority,
        request_type: RequestType::Incident,
        assignee: None,
        due_at: sla.default_due(priority, at(0)),
        due_at_explicit: false,
        sla,
        opened_by: None,
        at: at(0),
    }
}

#[test]
fn a_high_or_urgent_request_is_not_due_soon_the_moment_it_opens() {
    let minutes = |m: i64| at(0) + TimeDelta::minutes(m);
    // (priority, last minute not due soon, due date in minutes)
    let cases = [
        (Priority::Urgent, 3 * 60, 4 * 60),
        (Priority::High, 18 * 60, 24 * 60),
        (Priority::Normal, 54 * 60, 72 * 60),
        (Priority::Low, 6 * 24 * 60, 7 * 24 * 60),
    ];
    for (priority, calm_until, due) in cases {
        let request = replay(vec![opened_with(priority, SlaPolicy::default())]);
        assert_eq!(
            request.alert_state(at(0)),
            Some(AlertState::None),
            "{priority}"
        );
        assert_eq!(
            request.alert_state(minutes(calm_until)),
            Some(AlertState::None),
            "{priority}"
        );
        assert_eq!(
            request.alert_state(minutes(calm_until + 1)),
            Some(AlertState::DueSoon),
            "{priority}"
        );
        assert_eq!(
            request.due_soon_from(),
            Some(minutes(calm_until)),
            "{priority}"
        );
        assert_eq!(
            request.alert_state(minutes(due)),
            Some(AlertState::Overdue),
            "{priority}"
        );
        RequestTest::with(())
            .given(vec![opened_with(priority, SlaPolicy::default())])
            .when(RequestCommand::RaiseDueSoon { at: at(0) })
            .then_expect_events(vec![]);
    }
}

#[test]
fn the_stored_cap_of_a_request_still_limits_its_window() {
    // Opened when the window was a fixed 2 h: the quarter (18 h) is capped at 2 h.
    let sla = SlaPolicy {
        due_soon_threshold_secs: 2 * 3600,
        ..SlaPolicy::default()
    };
    let request = replay(vec![opened_with(Priority::Normal, sla)]);
    assert_eq!(request.alert_state(at(70)), Some(AlertState::None));
    assert_eq!(
        request.alert_state(at(70) + TimeDelta::seconds(1)),
        Some(AlertState::DueSoon)
    );
}

#[test]
fn a_new_priority_s_default_due_date_gets_that_priority_s_window_from_the_opening() {
    let events = vec![
        opened(),
        RequestEvent::Updated {
            message: None,
            priority: Some(Change {
                from: Priority::Normal,
                to: Priority::Urgent,
            }),
            request_type: None,
            assignee: None,
            due_at: Some(DueDateChange {
                from: at(72),
                to: at(4),
                explicit: false,
            }),
            by: Some(agent(1)),
            at: at(1),
        },
    ];
    // Urgent: 4 h from the opening, due soon for the last hour.
    assert_eq!(replay(events).due_soon_from(), Some(at(3)));
}

#[test]
fn an_explicit_due_date_at_opening_is_due_soon_for_its_last_quarter() {
    let mut opening = opened();
    if let RequestEvent::Opened {
        due_at,
        due_at_explicit,
        ..
    } = &mut opening
    {
        *due_at = at(8);
        *due_at_explicit = true;
    }
    let request = replay(vec![opening]);
    assert_eq!(request.due_soon_from(), Some(at(6)));
}

#[test]
fn due_soon_is_not_raised_once_the_request_is_overdue() {
    RequestTest::with(())
        .given(vec![opened()])
        .when(RequestCommand::RaiseDueSoon { at: at(72) })
        .then_expect_events(vec![]);
}

#[test]
fn overdue_is_raised_once_when_the_due_date_passes() {
    RequestTest::with(())
        .given(pending())
        .when(RequestCommand::RaiseOverdue { at: at(71) })
        .then_expect_events(vec![]);
    RequestTest::with(())
        .given(pending())
        .when(RequestCommand::RaiseOverdue { at: at(72) })
        .then_expect_events(vec![RequestEvent::OverdueRaised {
            due_at: at(72),
            at: at(72),
        }]);
    let mut events = pending();
    events.push(RequestEvent::OverdueRaised {
        due_at: at(72),
        at: at(72),
    });
    RequestTest::with(())
        .given(events)
        .when(RequestCommand::RaiseOverdue { at: at(80) })
        .then_expect_events(vec![]);
}

#[test]
fn no_alert_is_raised_for_a_solved_request() {
    RequestTest::with(())
        .given(solved())
        .when(RequestCommand::RaiseOverdue { at: at(80) })
        .then_expect_events(vec![]);
    assert_eq!(replay(solved()).alert_state(at(80)), None);
    assert_eq!(
        replay(vec![opened()]).alert_state(at(80)),
        Some(AlertState::Overdue)
    );
}

#[test]
fn error_codes_are_distinct_screaming_snake_case() {
    let errors = [
        RequestError::AlreadyOpened,
        RequestError::NotFound,
        RequestError::Closed,
        RequestError::DueDateInPast,
        RequestError::NotSolved,
        RequestError::InvalidStatusTransition {
            from: RequestStatus::Solved,
            to: RequestStatus::Pending,
        },
    ];
    let mut codes: Vec<&str> = errors.iter().map(RequestError::code).collect();
    assert!(codes
        .iter()
        .all(|code| code.chars().all(|c| c.is_ascii_uppercase() || c == '_')));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
    assert_eq!(
        errors[5].to_string(),
        "a solved request cannot become pending"
    );
}

// --- the stored contract

#[test]
fn every_event_variant_keeps_its_stored_shape() {
    let events = vec![
        opened(),
        RequestEvent::Updated {
            message: Some(Change {
                from: message("Backup failed last night"),
                to: message("Backup failed twice"),
            }),
            priority: Some(Change {
                from: Priority::Normal,
                to: Priority::High,
            }),
            request_type: Some(Change {
                from: RequestType::Incident,
                to: RequestType::Problem,
            }),
            assignee: Some(Change {
                from: None,
                to: Some(agent(2)),
            }),
            due_at: Some(DueDateChange {
                from: at(72),
                to: at(24),
                explicit: false,
            }),
            by: Some(agent(1)),
            at: at(1),
        },
        RequestEvent::MarkedPending {
            from: RequestStatus::Open,
            by: Some(agent(1)),
            at: at(2),
        },
        RequestEvent::Solved {
            from: RequestStatus::Pending,
            by: Some(agent(1)),
            at: at(3),
        },
        RequestEvent::Reopened {
            from: RequestStatus::Solved,
            by: None,
            at: at(4),
        },
        RequestEvent::Closed {
            from: RequestStatus::Open,
            by: Some(agent(1)),
            at: at(5),
        },
        RequestEvent::DueSoonRaised {
            due_at: at(24),
            at: at(6),
        },
        RequestEvent::OverdueRaised {
            due_at: at(24),
            at: at(24),
        },
    ];
    let typed: Vec<(String, String, &RequestEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
    for event in events {
        let json = serde_json::to_string(&event).expect("serialises");
        let back: RequestEvent = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, event);
    }
    assert_eq!(Request::TYPE, "request");
}

// --- replay

fn command_strategy() -> impl Strategy<Value = RequestCommand> {
    let t = || (0i64..200).prop_map(at);
    let by = || proptest::option::of((1u128..3).prop_map(agent));
    let priority = || {
        prop_oneof![
            Just(Priority::Low),
            Just(Priority::Normal),
            Just(Priority::High),
            Just(Priority::Urgent),
        ]
    };
    prop_oneof![
        (priority(), proptest::option::of(t())).prop_map(|(priority, due_at)| {
            RequestCommand::Open {
                customer_id: customer(),
                call_id: None,
                message: message("Please call me back"),
                priority,
                request_type: RequestType::Question,
                assignee: None,
                due_at,
                sla: SlaPolicy::default(),
                opened_by: None,
                at: at(0),
            }
        }),
        (
            proptest::option::of(priority()),
            proptest::option::of(proptest::option::of((1u128..3).prop_map(agent))),
            proptest::option::of(t()),
            by(),
            t()
        )
            .prop_map(
                |(priority, assignee, due_at, by, at)| RequestCommand::Update {
                    message: None,
                    priority,
                    request_type: None,
                    assignee,
                    due_at,
                    by,
                    at,
                }
            ),
        (by(), t()).prop_map(|(by, at)| RequestCommand::SetPending { by, at }),
        (by(), t()).prop_map(|(by, at)| RequestCommand::Solve { by, at }),
        (by(), t()).prop_map(|(by, at)| RequestCommand::Reopen { by, at }),
        (by(), t()).prop_map(|(by, at)| RequestCommand::Close { by, at }),
        t().prop_map(|at| RequestCommand::RaiseDueSoon { at }),
        t().prop_map(|at| RequestCommand::RaiseOverdue { at }),
    ]
}

proptest! {
    #[test]
    fn replaying_the_emitted_events_rebuilds_the_same_request(
        commands in proptest::collection::vec(command_strategy(), 1..40)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut live = Request::default();
        let mut emitted = Vec::new();
        let opening = open_command(Priority::Normal, None);
        for command in std::iter::once(opening).chain(commands) {
            let before = live.clone();
            let closed_before = live.status() == RequestStatus::Closed;
            let sink = EventSink::default();
            match runtime.block_on(live.handle(command, &(), &sink)) {
                Ok(()) => emitted.extend(runtime.block_on(sink.collect())),
                Err(_) => prop_assert_eq!(&live, &before),
            }
            if closed_before {
                prop_assert_eq!(&live, &before);
            }
        }
        prop_assert_eq!(replay(emitted), live);
    }
}
