use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::ids::CustomerId;

type RunTester = TestFramework<BackupRun>;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000 + secs, 0).expect("valid timestamp")
}

fn customer_1() -> CustomerId {
    CustomerId(Uuid::from_u128(0xc1))
}

fn customer_2() -> CustomerId {
    CustomerId(Uuid::from_u128(0xc2))
}

fn tester() -> RunTester {
    RunTester::with(())
}

fn nightly() -> Option<String> {
    Some("nightly-2025-06-15".to_string())
}

fn started() -> BackupRunEvent {
    BackupRunEvent::Started {
        customer_id: customer_1(),
        client_run_id: nightly(),
        at: at(0),
    }
}

fn succeed(customer_id: CustomerId, secs: i64) -> BackupRunCommand {
    BackupRunCommand::Succeed {
        customer_id,
        client_run_id: nightly(),
        at: at(secs),
        result: RunResult::Plain,
    }
}

fn succeeded_after_start(secs: i64) -> BackupRunEvent {
    BackupRunEvent::Succeeded {
        customer_id: customer_1(),
        client_run_id: nightly(),
        started_at: Some(at(0)),
        duration_secs: Some(u64::try_from(secs).expect("positive")),
        result: RunResult::Plain,
        at: at(secs),
    }
}

fn fail(customer_id: CustomerId, secs: i64) -> BackupRunCommand {
    BackupRunCommand::Fail {
        customer_id,
        client_run_id: nightly(),
        at: at(secs),
        exit_status: Some(3),
        message: Some("disk full".to_string()),
    }
}

fn failed_after_start(secs: i64) -> BackupRunEvent {
    BackupRunEvent::Failed {
        customer_id: customer_1(),
        client_run_id: nightly(),
        started_at: Some(at(0)),
        duration_secs: Some(u64::try_from(secs).expect("positive")),
        exit_status: Some(3),
        message: Some("disk full".to_string()),
        at: at(secs),
    }
}

fn timed_out(secs: i64) -> BackupRunEvent {
    BackupRunEvent::TimedOut {
        started_at: at(0),
        at: at(secs),
    }
}

fn run_from(events: Vec<BackupRunEvent>) -> BackupRun {
    let mut run = BackupRun::default();
    for event in events {
        run.apply(event);
    }
    run
}

fn manifest_with_changes(largest: usize) -> RunResult {
    RunResult::Manifest {
        digest: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_string(),
        entries: 1_204,
        bytes: 52_428_800,
        changes: Some(ChangeStats {
            created: 3,
            modified: 2,
            deleted: 1,
            unchanged: 1_198,
            created_bytes: 4_096,
            modified_bytes: 1_048_576,
            deleted_bytes: 512,
            unchanged_bytes: 51_376_128,
            largest: (0..largest)
                .map(|index| ChangedFile {
                    path: format!("/srv/data/file-{index}.db"),
                    kind: ChangeKind::Modified,
                    bytes: 1_000 - u64::try_from(index).expect("small"),
                })
                .collect(),
        }),
    }
}

// --- run ids ---

#[test]
fn a_client_run_id_always_names_the_same_run() {
    assert_eq!(
        run_id_for(customer_1(), "nightly-2025-06-15"),
        run_id_for(customer_1(), "nightly-2025-06-15")
    );
    // Computed independently: Python's uuid.uuid5(UUID(int=0xc1), "nightly-2025-06-15").
    assert_eq!(
        run_id_for(customer_1(), "nightly-2025-06-15").to_string(),
        "23e80f0e-6f75-59ca-9341-8366db7105cd"
    );
}

#[test]
fn two_customers_using_the_same_client_run_id_get_different_runs() {
    assert_ne!(
        run_id_for(customer_1(), "nightly"),
        run_id_for(customer_2(), "nightly")
    );
    assert_ne!(
        run_id_for(customer_1(), "nightly"),
        run_id_for(customer_1(), "weekly")
    );
}

// --- Start ---

#[test]
fn starting_a_run_records_its_customer_and_client_run_id() {
    tester()
        .given_no_previous_events()
        .when(BackupRunCommand::Start {
            customer_id: customer_1(),
            client_run_id: nightly(),
            at: at(0),
        })
        .then_expect_events(vec![started()]);
}

#[test]
fn starting_a_running_run_again_changes_nothing() {
    tester()
        .given(vec![started()])
        .when(BackupRunCommand::Start {
            customer_id: customer_1(),
            client_run_id: nightly(),
            at: at(5),
        })
        .then_expect_events(vec![]);
}

#[test]
fn starting_a_finished_run_again_is_refused() {
    tester()
        .given(vec![started(), succeeded_after_start(60)])
        .when(BackupRunCommand::Start {
            customer_id: customer_1(),
            client_run_id: nightly(),
            at: at(100),
        })
        .then_expect_error(BackupRunError::AlreadyFinished);
}

#[test]
fn another_customer_cannot_start_a_run_that_is_not_theirs() {
    tester()
        .given(vec![started()])
        .when(BackupRunCommand::Start {
            customer_id: customer_2(),
            client_run_id: nightly(),
            at: at(5),
        })
        .then_expect_error(BackupRunError::CustomerMismatch);
}

// --- Succeed ---

#[test]
fn a_started_run_that_succeeds_gets_its_duration() {
    tester()
        .given(vec![started()])
        .when(succeed(customer_1(), 90))
        .then_expect_events(vec![succeeded_after_start(90)]);

    let run = run_from(vec![started(), succeeded_after_start(90)]);
    assert_eq!(run.status(), Some(RunStatus::Succeeded));
    assert_eq!(run.duration_secs(), Some(90));
    assert_eq!(run.started_at(), Some(at(0)));
    assert_eq!(run.finished_at(), Some(at(90)));
    assert_eq!(run.client_run_id(), Some("nightly-2025-06-15"));
    assert_eq!(run.customer_id(), Some(customer_1()));
    assert_eq!(run.result(), Some(&RunResult::Plain));
    assert!(run.is_finished());
}

#[test]
fn a_success_without_a_start_creates_the_run_with_no_duration() {
    let event = BackupRunEvent::Succeeded {
        customer_id: customer_1(),
        client_run_id: None,
        started_at: None,
        duration_secs: None,
        result: manifest_with_changes(2),
        at: at(90),
    };
    tester()
        .given_no_previous_events()
        .when(BackupRunCommand::Succeed {
            customer_id: customer_1(),
            client_run_id: None,
            at: at(90),
            result: manifest_with_changes(2),
        })
        .then_expect_events(vec![event.clone()]);

    let run = run_from(vec![event]);
    assert_eq!(run.status(), Some(RunStatus::Succeeded));
    assert_eq!(run.started_at(), None);
    assert_eq!(run.duration_secs(), None);
}

#[test]
fn a_success_keeps_at_most_ten_largest_changes() {
    let events = tester()
        .given_no_previous_events()
        .when(BackupRunCommand::Succeed {
            customer_id: customer_1(),
            client_run_id: None,
            at: at(90),
            result: manifest_with_changes(25),
        })
        .inspect_result()
        .expect("succeeds");
    assert_eq!(
        events,
        vec![BackupRunEvent::Succeeded {
            customer_id: customer_1(),
            client_run_id: None,
            started_at: None,
            duration_secs: None,
            result: manifest_with_changes(MAX_LARGEST_CHANGES),
            at: at(90),
        }]
    );
}

#[test]
fn a_repeated_success_changes_nothing() {
    tester()
        .given(vec![started(), succeeded_after_start(60)])
        .when(succeed(customer_1(), 61))
        .then_expect_events(vec![]);
}

#[test]
fn a_success_for_a_failed_run_is_refused() {
    tester()
        .given(vec![started(), failed_after_start(60)])
        .when(succeed(customer_1(), 61))
        .then_expect_error_message("backup run has already finished");
}

#[test]
fn a_success_for_a_timed_out_run_is_refused() {
    tester()
        .given(vec![started(), timed_out(7_200)])
        .when(succeed(customer_1(), 7_300))
        .then_expect_error(BackupRunError::AlreadyFinished);
}

#[test]
fn another_customer_cannot_finish_a_run_that_is_not_theirs() {
    tester()
        .given(vec![started()])
        .when(succeed(customer_2(), 60))
        .then_expect_error_message("backup run belongs to another customer");
}

// --- Fail ---

#[test]
fn a_started_run_that_fails_records_its_exit_status_and_message() {
    tester()
        .given(vec![started()])
        .when(fail(customer_1(), 30))
        .then_expect_events(vec![failed_after_start(30)]);

    let run = run_from(vec![started(), failed_after_start(30)]);
    assert_eq!(run.status(), Some(RunStatus::Failed));
    assert_eq!(run.exit_status(), Some(3));
    assert_eq!(run.duration_secs(), Some(30));
}

#[test]
fn a_failure_without_a_start_creates_the_run() {
    tester()
        .given_no_previous_events()
        .when(fail(customer_1(), 30))
        .then_expect_events(vec![BackupRunEvent::Failed {
            customer_id: customer_1(),
            client_run_id: nightly(),
            started_at: None,
            duration_secs: None,
            exit_status: Some(3),
            message: Some("disk full".to_string()),
            at: at(30),
        }]);
}

#[test]
fn a_long_failure_message_keeps_its_last_ten_kib_without_splitting_a_character() {
    // "é" is two bytes: an odd cut point would fall inside one.
    let text = format!(
        "start{}{}",
        "é".repeat(MAX_MESSAGE_BYTES),
        "restic: repository locked"
    );
    let events = tester()
        .given(vec![started()])
        .when(BackupRunCommand::Fail {
            customer_id: customer_1(),
            client_run_id: nightly(),
            at: at(30),
            exit_status: None,
            message: Some(text),
        })
        .inspect_result()
        .expect("fails the run");
    let [BackupRunEvent::Failed {
        message: Some(message),
        ..
    }] = events.as_slice()
    else {
        panic!("expected one failure with a message, got {events:?}");
    };
    assert!(message.len() <= MAX_MESSAGE_BYTES);
    assert!(message.len() >= MAX_MESSAGE_BYTES - 1);
    assert!(message.ends_with("restic: repository locked"));
    assert!(message.starts_with('é'));
}

#[test]
fn a_repeated_failure_changes_nothing() {
    tester()
        .given(vec![started(), failed_after_start(30)])
        .when(fail(customer_1(), 31))
        .then_expect_events(vec![]);
}

#[test]
fn a_failure_reported_after_the_run_timed_out_changes_nothing() {
    tester()
        .given(vec![started(), timed_out(7_200)])
        .when(fail(customer_1(), 7_300))
        .then_expect_events(vec![]);
}

#[test]
fn a_failure_for_a_succeeded_run_is_refused() {
    tester()
        .given(vec![started(), succeeded_after_start(60)])
        .when(fail(customer_1(), 61))
        .then_expect_error(BackupRunError::AlreadyFinished);
}

#[test]
fn a_failure_from_another_customer_is_refused() {
    tester()
        .given(vec![started()])
        .when(fail(customer_2(), 61))
        .then_expect_error(BackupRunError::CustomerMismatch);
}

// --- AppendLog ---

#[test]
fn log_text_is_appended_to_a_run_even_after_it_finished() {
    tester()
        .given(vec![started(), succeeded_after_start(60)])
        .when(BackupRunCommand::AppendLog {
            customer_id: customer_1(),
            at: at(61),
            text: "processed 1204 files".to_string(),
        })
        .then_expect_events(vec![BackupRunEvent::LogAppended {
            text: "processed 1204 files".to_string(),
            truncated: false,
            at: at(61),
        }]);
}

#[test]
fn long_log_text_is_cut_to_ten_thousand_characters() {
    let events = tester()
        .given(vec![started()])
        .when(BackupRunCommand::AppendLog {
            customer_id: customer_1(),
            at: at(1),
            text: "x".repeat(MAX_TEXT_CHARS * 2),
        })
        .inspect_result()
        .expect("appends");
    assert_eq!(
        events,
        vec![BackupRunEvent::LogAppended {
            text: "x".repeat(MAX_TEXT_CHARS),
            truncated: true,
            at: at(1),
        }]
    );
}

#[test]
fn log_text_for_a_run_never_reported_is_refused() {
    tester()
        .given_no_previous_events()
        .when(BackupRunCommand::AppendLog {
            customer_id: customer_1(),
            at: at(1),
            text: "hello".to_string(),
        })
        .then_expect_error(BackupRunError::NotFound);
}

#[test]
fn log_text_from_another_customer_is_refused() {
    tester()
        .given(vec![started()])
        .when(BackupRunCommand::AppendLog {
            customer_id: customer_2(),
            at: at(1),
            text: "hello".to_string(),
        })
        .then_expect_error(BackupRunError::CustomerMismatch);
}

// --- TimeOut ---

#[test]
fn a_run_still_running_past_its_grace_times_out() {
    tester()
        .given(vec![started()])
        .when(BackupRunCommand::TimeOut { at: at(7_200) })
        .then_expect_events(vec![timed_out(7_200)]);

    let run = run_from(vec![started(), timed_out(7_200)]);
    assert_eq!(run.status(), Some(RunStatus::TimedOut));
    assert_eq!(run.duration_secs(), Some(7_200));
}

#[test]
fn timing_out_a_timed_out_run_again_changes_nothing() {
    tester()
        .given(vec![started(), timed_out(7_200)])
        .when(BackupRunCommand::TimeOut { at: at(7_300) })
        .then_expect_events(vec![]);
}

#[test]
fn a_run_that_already_succeeded_cannot_time_out() {
    tester()
        .given(vec![started(), succeeded_after_start(60)])
        .when(BackupRunCommand::TimeOut { at: at(7_200) })
        .then_expect_error(BackupRunError::AlreadyFinished);
}

#[test]
fn a_run_never_reported_cannot_time_out() {
    tester()
        .given_no_previous_events()
        .when(BackupRunCommand::TimeOut { at: at(7_200) })
        .then_expect_error_message("backup run has not been reported");
}

// --- Expire ---

#[test]
fn retention_expires_a_finished_run_once() {
    let expired = BackupRunEvent::Expired {
        reason: "beyond keep_daily 7".to_string(),
        at: at(900_000),
    };
    tester()
        .given(vec![started(), succeeded_after_start(60)])
        .when(BackupRunCommand::Expire {
            at: at(900_000),
            reason: "beyond keep_daily 7".to_string(),
        })
        .then_expect_events(vec![expired.clone()]);

    tester()
        .given(vec![started(), succeeded_after_start(60), expired.clone()])
        .when(BackupRunCommand::Expire {
            at: at(900_100),
            reason: "beyond keep_daily 7".to_string(),
        })
        .then_expect_events(vec![]);

    assert!(run_from(vec![started(), succeeded_after_start(60), expired]).expired());
}

#[test]
fn a_timed_out_run_can_expire() {
    tester()
        .given(vec![started(), timed_out(7_200)])
        .when(BackupRunCommand::Expire {
            at: at(900_000),
            reason: "beyond keep_last 3".to_string(),
        })
        .then_expect_events(vec![BackupRunEvent::Expired {
            reason: "beyond keep_last 3".to_string(),
            at: at(900_000),
        }]);
}

#[test]
fn a_running_run_cannot_expire() {
    tester()
        .given(vec![started()])
        .when(BackupRunCommand::Expire {
            at: at(60),
            reason: "beyond keep_last 3".to_string(),
        })
        .then_expect_error(BackupRunError::NotFinished);
}

#[test]
fn every_error_has_a_distinct_stable_code() {
    let errors = [
        BackupRunError::NotFound,
        BackupRunError::CustomerMismatch,
        BackupRunError::AlreadyFinished,
        BackupRunError::NotFinished,
    ];
    let codes: Vec<&str> = errors.iter().map(BackupRunError::code).collect();
    assert_eq!(
        codes,
        [
            "RUN_NOT_FOUND",
            "CUSTOMER_MISMATCH",
            "RUN_ALREADY_FINISHED",
            "RUN_NOT_FINISHED",
        ]
    );
}

// --- event contract ---

fn one_of_every_event() -> Vec<BackupRunEvent> {
    vec![
        started(),
        BackupRunEvent::Succeeded {
            customer_id: customer_1(),
            client_run_id: nightly(),
            started_at: Some(at(0)),
            duration_secs: Some(90),
            result: manifest_with_changes(2),
            at: at(90),
        },
        failed_after_start(30),
        BackupRunEvent::LogAppended {
            text: "processed 1204 files".to_string(),
            truncated: false,
            at: at(31),
        },
        timed_out(7_200),
        BackupRunEvent::Expired {
            reason: "beyond keep_daily 7".to_string(),
            at: at(900_000),
        },
    ]
}

#[test]
fn every_event_keeps_its_stored_name_and_fields() {
    assert_eq!(BackupRun::TYPE, "backup_run");
    for event in one_of_every_event() {
        let expected_version = match event {
            BackupRunEvent::LogAppended { .. } => "2",
            _ => "1",
        };
        assert_eq!(event.event_version(), expected_version);
        let stored = serde_json::to_string(&event).expect("serialises");
        let read_back: BackupRunEvent = serde_json::from_str(&stored).expect("deserialises");
        assert_eq!(read_back, event);
        let name = event.event_type();
        insta::assert_json_snapshot!(
            name.clone(),
            serde_json::json!({ "type": name, "payload": event })
        );
    }
}

#[test]
fn every_run_result_keeps_its_stored_shape() {
    let results = [
        (
            "result_manifest_first_run",
            RunResult::Manifest {
                digest: "ab12".to_string(),
                entries: 10,
                bytes: 2_048,
                changes: None,
            },
        ),
        (
            "result_tool_stats",
            RunResult::ToolStats(ToolStats {
                files_new: 3,
                files_changed: 2,
                files_unmodified: 1_199,
                dirs_new: 0,
                dirs_changed: 1,
                dirs_unmodified: 40,
                data_added: 1_052_672,
                total_files_processed: 1_204,
                total_bytes_processed: 52_428_800,
                total_duration: 12.5,
                snapshot_id: Some("1f2e3d4c".to_string()),
            }),
        ),
        ("result_plain", RunResult::Plain),
    ];
    for (name, result) in results {
        insta::assert_json_snapshot!(name, result);
    }
}

// --- replay ---

fn any_command() -> impl Strategy<Value = BackupRunCommand> {
    let customer = prop_oneof![Just(customer_1()), Just(customer_2())];
    let client_run_id = prop_oneof![Just(None), Just(nightly())];
    let secs = 0_i64..10_000;
    prop_oneof![
        (customer.clone(), client_run_id.clone(), secs.clone()).prop_map(
            |(customer_id, client_run_id, secs)| BackupRunCommand::Start {
                customer_id,
                client_run_id,
                at: at(secs),
            }
        ),
        (
            customer.clone(),
            client_run_id.clone(),
            secs.clone(),
            0_usize..12
        )
            .prop_map(|(customer_id, client_run_id, secs, largest)| {
                BackupRunCommand::Succeed {
                    customer_id,
                    client_run_id,
                    at: at(secs),
                    result: manifest_with_changes(largest),
                }
            }),
        (
            customer.clone(),
            client_run_id,
            secs.clone(),
            proptest::option::of(any::<i32>())
        )
            .prop_map(|(customer_id, client_run_id, secs, exit_status)| {
                BackupRunCommand::Fail {
                    customer_id,
                    client_run_id,
                    at: at(secs),
                    exit_status,
                    message: None,
                }
            }),
        (customer, secs.clone(), ".{0,20}").prop_map(|(customer_id, secs, text)| {
            BackupRunCommand::AppendLog {
                customer_id,
                at: at(secs),
                text,
            }
        }),
        secs.clone()
            .prop_map(|secs| BackupRunCommand::TimeOut { at: at(secs) }),
        secs.prop_map(|secs| BackupRunCommand::Expire {
            at: at(secs),
            reason: "retention".to_string(),
        }),
    ]
}

proptest! {
    #[test]
    fn replaying_the_emitted_events_rebuilds_the_same_run(
        commands in proptest::collection::vec(any_command(), 0..20)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut run = BackupRun::default();
        let mut emitted = Vec::new();
        for command in commands {
            let sink = EventSink::default();
            let before = run.clone();
            let result = runtime.block_on(run.handle(command, &(), &sink));
            let events = runtime.block_on(sink.collect());
            if result.is_err() {
                prop_assert!(events.is_empty());
                prop_assert_eq!(&run, &before);
            }
            emitted.extend(events);
        }
        let finishing_events = emitted
            .iter()
            .filter(|event| {
                matches!(
                    event,
                    BackupRunEvent::Succeeded { .. }
                        | BackupRunEvent::Failed { .. }
                        | BackupRunEvent::TimedOut { .. }
                )
            })
            .count();
        prop_assert!(finishing_events <= 1);
        prop_assert_eq!(run_from(emitted), run);
    }
}
