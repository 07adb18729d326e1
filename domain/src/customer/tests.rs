use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::ids::{BackupRunId, IngestTokenId};
use crate::plan::{BackupPlan, RetentionPolicy, Schedule};
use crate::values::{Change, EmailAddress, PersonName, PhoneNumber};

type CustomerTest = TestFramework<Customer>;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
        .single()
        .expect("valid date")
        + TimeDelta::seconds(secs)
}

fn name(text: &str) -> PersonName {
    PersonName::parse(text).expect("valid name")
}

fn email(text: &str) -> EmailAddress {
    EmailAddress::parse(text).expect("valid email")
}

fn phone(text: &str) -> PhoneNumber {
    PhoneNumber::parse(text, "33").expect("valid phone")
}

fn token(n: u128) -> IngestTokenId {
    IngestTokenId(Uuid::from_u128(n))
}

fn daily_plan(recipients: &[&str]) -> BackupPlan {
    BackupPlan {
        schedule: Schedule::Period {
            period_secs: 86_400,
            grace_secs: 3600,
        },
        retention: RetentionPolicy {
            keep_last: Some(7),
            ..RetentionPolicy::default()
        },
        report_recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        paused: false,
    }
}

fn cron_plan(expression: &str, time_zone: &str, grace_secs: u64) -> BackupPlan {
    BackupPlan {
        schedule: Schedule::Cron {
            expression: expression.to_owned(),
            time_zone: time_zone.to_owned(),
            grace_secs,
        },
        retention: RetentionPolicy::default(),
        report_recipients: vec![],
        paused: false,
    }
}

fn registered() -> CustomerEvent {
    CustomerEvent::Registered {
        name: name("Acme Bakery"),
        phones: vec![phone("06 12 34 56 78")],
        email: Some(email("boss@acme.example")),
        notes: "Prefers mornings".to_owned(),
        avatar_url: None,
        at: at(0),
    }
}

fn with_token() -> Vec<CustomerEvent> {
    vec![
        registered(),
        CustomerEvent::IngestTokenIssued {
            token_id: token(1),
            hash_prefix: "0a1b2c3d".to_owned(),
            at: at(5),
        },
    ]
}

fn overdue() -> Vec<CustomerEvent> {
    vec![
        registered(),
        CustomerEvent::BackupOverdue {
            expected_at: at(100),
            at: at(3700),
        },
    ]
}

fn erased() -> Vec<CustomerEvent> {
    let mut events = with_token();
    events.push(CustomerEvent::Erased { at: at(9000) });
    events
}

fn replay(events: Vec<CustomerEvent>) -> Customer {
    let mut customer = Customer::default();
    for event in events {
        customer.apply(event);
    }
    customer
}

fn register_command(phones: Vec<PhoneNumber>) -> CustomerCommand {
    CustomerCommand::Register {
        name: name("Acme Bakery"),
        phones,
        email: Some(email("boss@acme.example")),
        notes: "Prefers mornings".to_owned(),
        avatar_url: None,
        at: at(0),
    }
}

fn update_notes(notes: String) -> CustomerCommand {
    CustomerCommand::Update {
        name: None,
        phones: None,
        email: None,
        notes: Some(notes),
        avatar_url: None,
        at: at(10),
    }
}

// --- registration and details

#[test]
fn registering_a_customer_records_their_details() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(register_command(vec![phone("06 12 34 56 78")]))
        .then_expect_events(vec![registered()]);
    let customer = replay(vec![registered()]);
    assert!(customer.is_registered());
    assert!(!customer.is_erased());
    let details = customer.details().expect("details");
    assert_eq!(details.phones, vec![phone("+33612345678")]);
}

#[test]
fn registering_a_customer_twice_is_rejected() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(register_command(vec![phone("06 12 34 56 78")]))
        .then_expect_error(CustomerError::AlreadyRegistered);
}

#[test]
fn a_customer_needs_at_least_one_phone_number() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(register_command(vec![]))
        .then_expect_error(CustomerError::PhoneRequired);
}

#[test]
fn a_phone_number_listed_twice_is_rejected_even_when_written_differently() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(register_command(vec![
            phone("06 12 34 56 78"),
            phone("+33 (0)6 12 34 56 78"),
        ]))
        .then_expect_error(CustomerError::DuplicatePhone {
            phone: phone("+33612345678"),
        });
}

#[test]
fn notes_longer_than_10000_characters_are_rejected() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(update_notes("n".repeat(10_001)))
        .then_expect_error(CustomerError::NotesTooLong);
}

#[test]
fn an_avatar_url_must_be_http_or_https() {
    for bad in [
        "javascript:alert(1)",
        "https://",
        "https://a b",
        "ftp://x.example/a.png",
    ] {
        CustomerTest::with(())
            .given(vec![registered()])
            .when(CustomerCommand::Update {
                name: None,
                phones: None,
                email: None,
                notes: None,
                avatar_url: Some(Some(bad.to_owned())),
                at: at(10),
            })
            .then_expect_error(CustomerError::InvalidAvatarUrl);
    }
}

#[test]
fn commands_to_an_unregistered_customer_are_rejected() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(update_notes("hello".to_owned()))
        .then_expect_error(CustomerError::NotRegistered);
}

#[test]
fn updating_a_customer_records_previous_and_new_values_of_changed_fields_only() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(CustomerCommand::Update {
            name: Some(name("Acme Bakery")),
            phones: Some(vec![phone("06 12 34 56 78"), phone("01 23 45 67 89")]),
            email: Some(None),
            notes: None,
            avatar_url: Some(Some("https://cdn.example/acme.png".to_owned())),
            at: at(10),
        })
        .then_expect_events(vec![CustomerEvent::Updated {
            name: None,
            phones: Some(Change {
                from: vec![phone("06 12 34 56 78")],
                to: vec![phone("06 12 34 56 78"), phone("01 23 45 67 89")],
            }),
            email: Some(Change {
                from: Some(email("boss@acme.example")),
                to: None,
            }),
            notes: None,
            avatar_url: Some(Change {
                from: None,
                to: Some("https://cdn.example/acme.png".to_owned()),
            }),
            at: at(10),
        }]);
}

#[test]
fn updating_a_customer_with_the_current_values_emits_nothing() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(update_notes("Prefers mornings".to_owned()))
        .then_expect_events(vec![]);
}

// --- backup plan

#[test]
fn setting_a_backup_plan_normalises_and_deduplicates_recipients() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(CustomerCommand::SetBackupPlan {
            plan: daily_plan(&[" it@ACME.example", "it@acme.example", "boss@acme.example"]),
            at: at(10),
        })
        .then_expect_events(vec![CustomerEvent::BackupPlanSet {
            plan: daily_plan(&["it@acme.example", "boss@acme.example"]),
            at: at(10),
        }]);
}

#[test]
fn setting_the_current_backup_plan_again_emits_nothing() {
    CustomerTest::with(())
        .given(vec![
            registered(),
            CustomerEvent::BackupPlanSet {
                plan: daily_plan(&["it@acme.example"]),
                at: at(10),
            },
        ])
        .when(CustomerCommand::SetBackupPlan {
            plan: daily_plan(&["it@acme.example"]),
            at: at(20),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_cron_plan_in_a_known_time_zone_is_accepted() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(CustomerCommand::SetBackupPlan {
            plan: cron_plan("30 2 * * 1-5", "Europe/Paris", 3600),
            at: at(10),
        })
        .then_expect_events(vec![CustomerEvent::BackupPlanSet {
            plan: cron_plan("30 2 * * 1-5", "Europe/Paris", 3600),
            at: at(10),
        }]);
}

#[test]
fn invalid_backup_plans_are_rejected_with_the_reason() {
    let too_short = BackupPlan {
        schedule: Schedule::Period {
            period_secs: 59,
            grace_secs: 0,
        },
        ..daily_plan(&[])
    };
    let too_much_grace = BackupPlan {
        schedule: Schedule::Period {
            period_secs: 86_400,
            grace_secs: 7 * 86_400 + 1,
        },
        ..daily_plan(&[])
    };
    let cases = [
        (too_short, "period must be at least 60 seconds"),
        (too_much_grace, "grace must be at most 7 days"),
        (
            cron_plan("", "Europe/Paris", 60),
            "cron expression must have 5 fields",
        ),
        (
            cron_plan("0 2 * *", "Europe/Paris", 60),
            "cron expression must have 5 fields",
        ),
        (
            cron_plan("99 2 * * *", "Europe/Paris", 60),
            "cron expression is not valid",
        ),
        (
            cron_plan("0 2 * * *", "Mars/Olympus", 60),
            "time zone is not a known iana time zone",
        ),
        (
            cron_plan("0 2 * * *", "UTC", 8 * 86_400),
            "grace must be at most 7 days",
        ),
        (
            daily_plan(&["not-an-email"]),
            "recipient \"not-an-email\" is not an email address",
        ),
    ];
    for (plan, reason) in cases {
        CustomerTest::with(())
            .given(vec![registered()])
            .when(CustomerCommand::SetBackupPlan { plan, at: at(10) })
            .then_expect_error(CustomerError::InvalidBackupPlan {
                reason: reason.to_owned(),
            });
    }
}

// --- ingest tokens

#[test]
fn issuing_an_ingest_token_records_only_its_id_and_hash_prefix() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(CustomerCommand::IssueIngestToken {
            token_id: token(1),
            hash_prefix: "0a1b2c3d".to_owned(),
            at: at(5),
        })
        .then_expect_events(vec![CustomerEvent::IngestTokenIssued {
            token_id: token(1),
            hash_prefix: "0a1b2c3d".to_owned(),
            at: at(5),
        }]);
    assert!(replay(with_token()).accepts_ingest_token(token(1)));
}

#[test]
fn a_hash_prefix_must_be_8_lowercase_hex_characters() {
    for bad in ["0a1b2c3", "0a1b2c3d4", "0A1B2C3D", "secret!!"] {
        CustomerTest::with(())
            .given(vec![registered()])
            .when(CustomerCommand::IssueIngestToken {
                token_id: token(1),
                hash_prefix: bad.to_owned(),
                at: at(5),
            })
            .then_expect_error(CustomerError::InvalidHashPrefix);
    }
}

#[test]
fn issuing_the_same_token_id_twice_is_rejected() {
    CustomerTest::with(())
        .given(with_token())
        .when(CustomerCommand::IssueIngestToken {
            token_id: token(1),
            hash_prefix: "ffffffff".to_owned(),
            at: at(6),
        })
        .then_expect_error(CustomerError::TokenAlreadyIssued);
}

#[test]
fn revoking_a_token_stops_it_being_accepted_and_revoking_it_again_emits_nothing() {
    CustomerTest::with(())
        .given(with_token())
        .when(CustomerCommand::RevokeIngestToken {
            token_id: token(1),
            at: at(7),
        })
        .then_expect_events(vec![CustomerEvent::IngestTokenRevoked {
            token_id: token(1),
            at: at(7),
        }]);
    let mut events = with_token();
    events.push(CustomerEvent::IngestTokenRevoked {
        token_id: token(1),
        at: at(7),
    });
    assert!(!replay(events.clone()).accepts_ingest_token(token(1)));
    CustomerTest::with(())
        .given(events)
        .when(CustomerCommand::RevokeIngestToken {
            token_id: token(1),
            at: at(8),
        })
        .then_expect_events(vec![]);
}

#[test]
fn revoking_a_token_of_someone_else_is_rejected() {
    CustomerTest::with(())
        .given(with_token())
        .when(CustomerCommand::RevokeIngestToken {
            token_id: token(2),
            at: at(7),
        })
        .then_expect_error(CustomerError::TokenNotFound);
}

// --- overdue and recovered

#[test]
fn a_missed_backup_marks_the_customer_overdue_once() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(CustomerCommand::MarkBackupOverdue {
            expected_at: at(100),
            at: at(3700),
        })
        .then_expect_events(vec![CustomerEvent::BackupOverdue {
            expected_at: at(100),
            at: at(3700),
        }]);
    CustomerTest::with(())
        .given(overdue())
        .when(CustomerCommand::MarkBackupOverdue {
            expected_at: at(200),
            at: at(4000),
        })
        .then_expect_events(vec![]);
    assert_eq!(replay(overdue()).backup_overdue_since(), Some(at(100)));
}

#[test]
fn a_success_after_being_overdue_marks_the_backup_recovered() {
    CustomerTest::with(())
        .given(overdue())
        .when(CustomerCommand::MarkBackupRecovered {
            downtime_secs: 5000,
            at: at(8700),
        })
        .then_expect_events(vec![CustomerEvent::BackupRecovered {
            downtime_secs: 5000,
            at: at(8700),
        }]);
}

fn failed_command(secs: i64) -> CustomerCommand {
    CustomerCommand::MarkBackupFailed {
        run_id: BackupRunId(Uuid::from_u128(0xb1)),
        exit_status: Some(3),
        message: Some("restic: repository locked".to_owned()),
        failed_at: at(secs),
        at: at(secs + 1),
    }
}

fn failed_event(secs: i64) -> CustomerEvent {
    CustomerEvent::BackupFailed {
        run_id: BackupRunId(Uuid::from_u128(0xb1)),
        exit_status: Some(3),
        message: Some("restic: repository locked".to_owned()),
        failed_at: at(secs),
        at: at(secs + 1),
    }
}

#[test]
fn a_failed_run_puts_the_backups_down_once_per_incident() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(failed_command(500))
        .then_expect_events(vec![failed_event(500)]);
    // A second failure in the same incident raises nothing.
    CustomerTest::with(())
        .given(vec![registered(), failed_event(500)])
        .when(failed_command(900))
        .then_expect_events(vec![]);
    // Nor does a failure while overdue, or a missed deadline while failed: one incident.
    CustomerTest::with(())
        .given(overdue())
        .when(failed_command(4000))
        .then_expect_events(vec![]);
    CustomerTest::with(())
        .given(vec![registered(), failed_event(500)])
        .when(CustomerCommand::MarkBackupOverdue {
            expected_at: at(100),
            at: at(3700),
        })
        .then_expect_events(vec![]);
    let customer = replay(vec![registered(), failed_event(500)]);
    assert_eq!(customer.backup_failed_since(), Some(at(500)));
    assert!(customer.is_backup_down());
}

#[test]
fn a_success_after_a_failure_recovers_and_the_next_failure_is_a_new_incident() {
    let recovered = CustomerEvent::BackupRecovered {
        downtime_secs: 99,
        at: at(600),
    };
    CustomerTest::with(())
        .given(vec![registered(), failed_event(500)])
        .when(CustomerCommand::MarkBackupRecovered {
            downtime_secs: 99,
            at: at(600),
        })
        .then_expect_events(vec![recovered.clone()]);
    CustomerTest::with(())
        .given(vec![registered(), failed_event(500), recovered.clone()])
        .when(failed_command(700))
        .then_expect_events(vec![failed_event(700)]);
    assert!(!replay(vec![registered(), failed_event(500), recovered]).is_backup_down());
}

#[test]
fn marking_a_backup_recovered_when_not_overdue_emits_nothing() {
    CustomerTest::with(())
        .given(vec![registered()])
        .when(CustomerCommand::MarkBackupRecovered {
            downtime_secs: 5000,
            at: at(8700),
        })
        .then_expect_events(vec![]);
}

// --- erasure

#[test]
fn erasing_a_customer_drops_personal_data_and_tokens() {
    CustomerTest::with(())
        .given(with_token())
        .when(CustomerCommand::Erase { at: at(9000) })
        .then_expect_events(vec![CustomerEvent::Erased { at: at(9000) }]);
    let customer = replay(erased());
    assert!(customer.is_erased());
    assert_eq!(customer.details(), None);
    assert!(!customer.accepts_ingest_token(token(1)));
}

#[test]
fn every_command_to_an_erased_customer_is_rejected() {
    let commands = vec![
        register_command(vec![phone("06 12 34 56 78")]),
        update_notes("hello".to_owned()),
        CustomerCommand::SetBackupPlan {
            plan: daily_plan(&[]),
            at: at(9001),
        },
        CustomerCommand::RevokeIngestToken {
            token_id: token(1),
            at: at(9001),
        },
        CustomerCommand::MarkBackupOverdue {
            expected_at: at(9000),
            at: at(9001),
        },
        CustomerCommand::Erase { at: at(9001) },
    ];
    for command in commands {
        CustomerTest::with(())
            .given(erased())
            .when(command)
            .then_expect_error(CustomerError::Erased);
    }
}

#[test]
fn error_codes_are_distinct_screaming_snake_case() {
    let errors = [
        CustomerError::AlreadyRegistered,
        CustomerError::NotRegistered,
        CustomerError::Erased,
        CustomerError::PhoneRequired,
        CustomerError::DuplicatePhone {
            phone: phone("0612345678"),
        },
        CustomerError::NotesTooLong,
        CustomerError::InvalidAvatarUrl,
        CustomerError::InvalidBackupPlan {
            reason: String::new(),
        },
        CustomerError::InvalidHashPrefix,
        CustomerError::TokenAlreadyIssued,
        CustomerError::TokenNotFound,
    ];
    let mut codes: Vec<&str> = errors.iter().map(CustomerError::code).collect();
    assert!(codes
        .iter()
        .all(|code| code.chars().all(|c| c.is_ascii_uppercase() || c == '_')));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), errors.len());
}

// --- the stored contract

#[test]
fn every_event_variant_keeps_its_stored_shape() {
    let events = vec![
        registered(),
        CustomerEvent::Updated {
            name: Some(Change {
                from: name("Acme Bakery"),
                to: name("Acme Bakeries"),
            }),
            phones: Some(Change {
                from: vec![phone("0612345678")],
                to: vec![phone("0612345678"), phone("0123456789")],
            }),
            email: Some(Change {
                from: Some(email("boss@acme.example")),
                to: None,
            }),
            notes: Some(Change {
                from: String::new(),
                to: "VIP".to_owned(),
            }),
            avatar_url: Some(Change {
                from: None,
                to: Some("https://cdn.example/a.png".to_owned()),
            }),
            at: at(1),
        },
        CustomerEvent::BackupPlanSet {
            plan: daily_plan(&["it@acme.example"]),
            at: at(2),
        },
        CustomerEvent::IngestTokenIssued {
            token_id: token(1),
            hash_prefix: "0a1b2c3d".to_owned(),
            at: at(3),
        },
        CustomerEvent::IngestTokenRevoked {
            token_id: token(1),
            at: at(4),
        },
        CustomerEvent::BackupOverdue {
            expected_at: at(5),
            at: at(6),
        },
        CustomerEvent::BackupRecovered {
            downtime_secs: 3600,
            at: at(7),
        },
        CustomerEvent::BackupFailed {
            run_id: BackupRunId(Uuid::from_u128(0xb1)),
            exit_status: Some(1),
            message: Some("restic: repository locked".to_owned()),
            failed_at: at(7),
            at: at(8),
        },
        CustomerEvent::Erased { at: at(8) },
    ];
    let typed: Vec<(String, String, &CustomerEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
    for event in events {
        let json = serde_json::to_string(&event).expect("serialises");
        let back: CustomerEvent = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, event);
    }
    assert_eq!(Customer::TYPE, "customer");
}

// --- replay

fn command_strategy() -> impl Strategy<Value = CustomerCommand> {
    let t = || (0i64..100_000).prop_map(at);
    let phones = || {
        proptest::collection::vec(
            prop_oneof![
                Just(phone("0612345678")),
                Just(phone("0123456789")),
                Just(phone("0987654321")),
            ],
            0..3,
        )
    };
    let token_id = || (1u128..3).prop_map(token);
    prop_oneof![
        8 => (phones(), t()).prop_map(|(phones, at)| CustomerCommand::Register {
            name: name("Acme"),
            phones,
            email: None,
            notes: String::new(),
            avatar_url: None,
            at,
        }),
        8 => (
            proptest::option::of(phones()),
            proptest::option::of(proptest::option::of(Just(email("a@b.example")))),
            proptest::option::of(prop_oneof![Just(String::new()), Just("VIP".to_owned())]),
            t()
        )
            .prop_map(|(phones, email, notes, at)| CustomerCommand::Update {
                name: None,
                phones,
                email,
                notes,
                avatar_url: None,
                at,
            }),
        8 => (0u64..200, t()).prop_map(|(period_secs, at)| CustomerCommand::SetBackupPlan {
            plan: BackupPlan {
                schedule: Schedule::Period {
                    period_secs,
                    grace_secs: 60,
                },
                ..daily_plan(&["it@acme.example"])
            },
            at,
        }),
        8 => (token_id(), t()).prop_map(|(token_id, at)| CustomerCommand::IssueIngestToken {
            token_id,
            hash_prefix: "0a1b2c3d".to_owned(),
            at,
        }),
        8 => (token_id(), t())
            .prop_map(|(token_id, at)| CustomerCommand::RevokeIngestToken { token_id, at }),
        8 => (t(), t()).prop_map(|(expected_at, at)| CustomerCommand::MarkBackupOverdue {
            expected_at,
            at
        }),
        8 => (0u64..10_000, t()).prop_map(|(downtime_secs, at)| {
            CustomerCommand::MarkBackupRecovered { downtime_secs, at }
        }),
        8 => (t(), t()).prop_map(|(failed_at, at)| CustomerCommand::MarkBackupFailed {
            run_id: BackupRunId(Uuid::from_u128(0xb1)),
            exit_status: Some(1),
            message: None,
            failed_at,
            at,
        }),
        1 => t().prop_map(|at| CustomerCommand::Erase { at }),
    ]
}

proptest! {
    #[test]
    fn replaying_the_emitted_events_rebuilds_the_same_customer(
        commands in proptest::collection::vec(command_strategy(), 1..40)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut live = Customer::default();
        let mut emitted = Vec::new();
        let registration = register_command(vec![phone("06 12 34 56 78")]);
        for command in std::iter::once(registration).chain(commands) {
            let before = live.clone();
            let sink = EventSink::default();
            match runtime.block_on(live.handle(command, &(), &sink)) {
                Ok(()) => emitted.extend(runtime.block_on(sink.collect())),
                Err(_) => prop_assert_eq!(&live, &before),
            }
            if live.is_erased() {
                prop_assert_eq!(live.details(), None);
            }
        }
        prop_assert_eq!(replay(emitted), live);
    }
}
