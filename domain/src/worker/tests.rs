use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::ids::{CallId, WorkerId};
use crate::values::{AvatarUrl, Change, EmailAddress, Endpoint, PauseReason, PersonName, Role};

type WorkerTest = TestFramework<Worker>;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0)
        .single()
        .expect("valid date")
        + TimeDelta::seconds(secs)
}

fn call(n: u128) -> CallId {
    CallId(Uuid::from_u128(n))
}

fn admin_id() -> WorkerId {
    WorkerId(Uuid::from_u128(99))
}

fn name(text: &str) -> PersonName {
    PersonName::parse(text).expect("valid name")
}

fn email(text: &str) -> EmailAddress {
    EmailAddress::parse(text).expect("valid email")
}

fn endpoint(text: &str) -> Endpoint {
    Endpoint::parse(text).expect("valid endpoint")
}

fn avatar(text: &str) -> AvatarUrl {
    AvatarUrl::parse(text).expect("valid avatar URL")
}

fn reason(text: &str) -> PauseReason {
    PauseReason::parse(text).expect("valid reason")
}

fn registered(role: Role) -> WorkerEvent {
    WorkerEvent::Registered {
        name: name("Ada Agent"),
        email: email("ada@example.com"),
        role,
        endpoint: Some(endpoint("PJSIP/2001")),
        at: at(0),
    }
}

fn available() -> Vec<WorkerEvent> {
    vec![
        registered(Role::Agent),
        WorkerEvent::WentAvailable {
            forced_by: None,
            at: at(10),
        },
    ]
}

fn offered(call_id: CallId) -> Vec<WorkerEvent> {
    let mut events = available();
    events.push(WorkerEvent::Offered {
        call_id,
        at: at(20),
    });
    events
}

fn on_call(call_id: CallId) -> Vec<WorkerEvent> {
    let mut events = offered(call_id);
    events.push(WorkerEvent::OfferAnswered {
        call_id,
        at: at(30),
    });
    events
}

fn wrapping_up(call_id: CallId, until: DateTime<Utc>) -> Vec<WorkerEvent> {
    let mut events = on_call(call_id);
    events.push(WorkerEvent::CallEnded {
        call_id,
        wrap_up_until: Some(until),
        at: at(100),
    });
    events
}

fn replay(events: Vec<WorkerEvent>) -> Worker {
    let mut worker = Worker::default();
    for event in events {
        worker.apply(event);
    }
    worker
}

// --- registration and profile

#[test]
fn registering_a_worker_records_their_profile_offline() {
    WorkerTest::with(())
        .given_no_previous_events()
        .when(WorkerCommand::Register {
            name: name("Ada Agent"),
            email: email("ada@example.com"),
            role: Role::Agent,
            endpoint: Some(endpoint("PJSIP/2001")),
            at: at(0),
        })
        .then_expect_events(vec![registered(Role::Agent)]);
    let worker = replay(vec![registered(Role::Agent)]);
    assert!(worker.is_active());
    assert_eq!(worker.role(), Some(Role::Agent));
    assert_eq!(worker.presence(), &Presence::Offline);
    assert_eq!(worker.state_since(), Some(at(0)));
    assert_eq!(worker.idle_since(), None);
}

#[test]
fn registering_a_worker_twice_is_rejected() {
    WorkerTest::with(())
        .given(vec![registered(Role::Agent)])
        .when(WorkerCommand::Register {
            name: name("Other"),
            email: email("other@example.com"),
            role: Role::Agent,
            endpoint: None,
            at: at(5),
        })
        .then_expect_error(WorkerError::AlreadyRegistered);
}

#[test]
fn commands_to_an_unregistered_worker_are_rejected() {
    WorkerTest::with(())
        .given_no_previous_events()
        .when(WorkerCommand::GoAvailable {
            forced_by: None,
            at: at(5),
        })
        .then_expect_error(WorkerError::NotRegistered);
}

#[test]
fn updating_the_profile_records_previous_and_new_values_of_changed_fields_only() {
    WorkerTest::with(())
        .given(vec![registered(Role::Agent)])
        .when(WorkerCommand::UpdateProfile {
            name: Some(name("Ada Agent")),
            email: Some(email("ada.l@example.com")),
            endpoint: Some(None),
            at: at(5),
        })
        .then_expect_events(vec![WorkerEvent::ProfileUpdated {
            name: None,
            email: Some(Change {
                from: email("ada@example.com"),
                to: email("ada.l@example.com"),
            }),
            endpoint: Some(Change {
                from: Some(endpoint("PJSIP/2001")),
                to: None,
            }),
            at: at(5),
        }]);
}

#[test]
fn updating_the_profile_with_the_current_values_emits_nothing() {
    WorkerTest::with(())
        .given(vec![registered(Role::Agent)])
        .when(WorkerCommand::UpdateProfile {
            name: Some(name("Ada Agent")),
            email: None,
            endpoint: Some(Some(endpoint("PJSIP/2001"))),
            at: at(5),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_worker_changes_their_own_name_and_avatar() {
    WorkerTest::with(())
        .given(vec![registered(Role::Agent)])
        .when(WorkerCommand::UpdateOwnProfile {
            name: Some(name("Ada Lovelace")),
            avatar_url: Some(Some(avatar("https://cdn.example.com/ada.png"))),
            at: at(5),
        })
        .then_expect_events(vec![
            WorkerEvent::ProfileUpdated {
                name: Some(Change {
                    from: name("Ada Agent"),
                    to: name("Ada Lovelace"),
                }),
                email: None,
                endpoint: None,
                at: at(5),
            },
            WorkerEvent::AvatarChanged {
                avatar_url: Some(avatar("https://cdn.example.com/ada.png")),
                at: at(5),
            },
        ]);
}

#[test]
fn the_own_profile_change_is_idempotent_and_clears_the_avatar() {
    let with_avatar = vec![
        registered(Role::Agent),
        WorkerEvent::AvatarChanged {
            avatar_url: Some(avatar("https://cdn.example.com/ada.png")),
            at: at(1),
        },
    ];
    WorkerTest::with(())
        .given(with_avatar.clone())
        .when(WorkerCommand::UpdateOwnProfile {
            name: Some(name("Ada Agent")),
            avatar_url: Some(Some(avatar("https://cdn.example.com/ada.png"))),
            at: at(5),
        })
        .then_expect_events(vec![]);
    WorkerTest::with(())
        .given(with_avatar.clone())
        .when(WorkerCommand::UpdateOwnProfile {
            name: None,
            avatar_url: Some(None),
            at: at(5),
        })
        .then_expect_events(vec![WorkerEvent::AvatarChanged {
            avatar_url: None,
            at: at(5),
        }]);
    let mut worker = Worker::default();
    for event in with_avatar {
        worker.apply(event);
    }
    assert_eq!(
        worker.avatar_url(),
        Some(&avatar("https://cdn.example.com/ada.png"))
    );
    WorkerTest::with(())
        .given(vec![
            registered(Role::Agent),
            WorkerEvent::Deactivated { at: at(1) },
        ])
        .when(WorkerCommand::UpdateOwnProfile {
            name: Some(name("Ada L")),
            avatar_url: None,
            at: at(5),
        })
        .then_expect_error(WorkerError::Deactivated);
}

// --- roles and deactivation

#[test]
fn an_agent_can_be_promoted_to_admin() {
    WorkerTest::with(())
        .given(vec![registered(Role::Agent)])
        .when(WorkerCommand::SetRole {
            role: Role::Admin,
            other_active_admins: 0,
            at: at(5),
        })
        .then_expect_events(vec![WorkerEvent::RoleChanged {
            from: Role::Agent,
            to: Role::Admin,
            at: at(5),
        }]);
}

#[test]
fn setting_the_current_role_emits_nothing() {
    WorkerTest::with(())
        .given(vec![registered(Role::Admin)])
        .when(WorkerCommand::SetRole {
            role: Role::Admin,
            other_active_admins: 0,
            at: at(5),
        })
        .then_expect_events(vec![]);
}

#[test]
fn the_last_active_admin_cannot_be_demoted() {
    WorkerTest::with(())
        .given(vec![registered(Role::Admin)])
        .when(WorkerCommand::SetRole {
            role: Role::Agent,
            other_active_admins: 0,
            at: at(5),
        })
        .then_expect_error(WorkerError::LastAdmin);
}

#[test]
fn an_admin_can_be_demoted_while_another_admin_remains() {
    WorkerTest::with(())
        .given(vec![registered(Role::Admin)])
        .when(WorkerCommand::SetRole {
            role: Role::Agent,
            other_active_admins: 1,
            at: at(5),
        })
        .then_expect_events(vec![WorkerEvent::RoleChanged {
            from: Role::Admin,
            to: Role::Agent,
            at: at(5),
        }]);
}

#[test]
fn the_last_active_admin_cannot_be_deactivated() {
    WorkerTest::with(())
        .given(vec![registered(Role::Admin)])
        .when(WorkerCommand::Deactivate {
            other_active_admins: 0,
            at: at(5),
        })
        .then_expect_error(WorkerError::LastAdmin);
}

#[test]
fn a_deactivated_worker_goes_offline_and_rejects_further_commands() {
    WorkerTest::with(())
        .given(available())
        .when(WorkerCommand::Deactivate {
            other_active_admins: 0,
            at: at(50),
        })
        .then_expect_events(vec![WorkerEvent::Deactivated { at: at(50) }]);
    let mut events = available();
    events.push(WorkerEvent::Deactivated { at: at(50) });
    let worker = replay(events.clone());
    assert!(!worker.is_active());
    assert_eq!(worker.presence(), &Presence::Offline);
    WorkerTest::with(())
        .given(events)
        .when(WorkerCommand::GoAvailable {
            forced_by: None,
            at: at(60),
        })
        .then_expect_error(WorkerError::Deactivated);
}

#[test]
fn a_worker_on_a_call_cannot_be_deactivated() {
    WorkerTest::with(())
        .given(on_call(call(1)))
        .when(WorkerCommand::Deactivate {
            other_active_admins: 3,
            at: at(50),
        })
        .then_expect_error(WorkerError::Busy);
}

// --- availability

#[test]
fn going_available_sets_idle_since() {
    WorkerTest::with(())
        .given(vec![registered(Role::Agent)])
        .when(WorkerCommand::GoAvailable {
            forced_by: None,
            at: at(10),
        })
        .then_expect_events(vec![WorkerEvent::WentAvailable {
            forced_by: None,
            at: at(10),
        }]);
    let worker = replay(available());
    assert_eq!(worker.idle_since(), Some(at(10)));
    assert_eq!(worker.state_since(), Some(at(10)));
}

#[test]
fn going_available_when_already_available_emits_nothing() {
    WorkerTest::with(())
        .given(available())
        .when(WorkerCommand::GoAvailable {
            forced_by: None,
            at: at(15),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_worker_without_a_phone_endpoint_cannot_go_available() {
    WorkerTest::with(())
        .given(vec![WorkerEvent::Registered {
            name: name("Phoneless"),
            email: email("p@example.com"),
            role: Role::Agent,
            endpoint: None,
            at: at(0),
        }])
        .when(WorkerCommand::GoAvailable {
            forced_by: None,
            at: at(10),
        })
        .then_expect_error(WorkerError::NoEndpoint);
}

#[test]
fn an_admin_can_force_an_agent_into_pause() {
    WorkerTest::with(())
        .given(available())
        .when(WorkerCommand::Pause {
            reason: reason("meeting"),
            forced_by: Some(admin_id()),
            at: at(15),
        })
        .then_expect_events(vec![WorkerEvent::Paused {
            reason: reason("meeting"),
            forced_by: Some(admin_id()),
            at: at(15),
        }]);
}

#[test]
fn pausing_again_for_the_same_reason_emits_nothing_but_a_new_reason_is_recorded() {
    let mut events = available();
    events.push(WorkerEvent::Paused {
        reason: reason("lunch"),
        forced_by: None,
        at: at(15),
    });
    WorkerTest::with(())
        .given(events.clone())
        .when(WorkerCommand::Pause {
            reason: reason("lunch"),
            forced_by: None,
            at: at(16),
        })
        .then_expect_events(vec![]);
    WorkerTest::with(())
        .given(events)
        .when(WorkerCommand::Pause {
            reason: reason("training"),
            forced_by: None,
            at: at(16),
        })
        .then_expect_events(vec![WorkerEvent::Paused {
            reason: reason("training"),
            forced_by: None,
            at: at(16),
        }]);
}

#[test]
fn a_worker_whose_phone_rings_cannot_pause() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::Pause {
            reason: reason("lunch"),
            forced_by: None,
            at: at(25),
        })
        .then_expect_error(WorkerError::Busy);
}

#[test]
fn an_admin_can_force_a_paused_agent_offline_but_not_one_on_a_call() {
    let mut paused = available();
    paused.push(WorkerEvent::Paused {
        reason: reason("lunch"),
        forced_by: None,
        at: at(15),
    });
    WorkerTest::with(())
        .given(paused)
        .when(WorkerCommand::GoOffline {
            forced_by: Some(admin_id()),
            at: at(20),
        })
        .then_expect_events(vec![WorkerEvent::WentOffline {
            forced_by: Some(admin_id()),
            at: at(20),
        }]);
    WorkerTest::with(())
        .given(on_call(call(1)))
        .when(WorkerCommand::GoOffline {
            forced_by: Some(admin_id()),
            at: at(40),
        })
        .then_expect_error(WorkerError::Busy);
}

#[test]
fn going_offline_when_offline_emits_nothing() {
    WorkerTest::with(())
        .given(vec![registered(Role::Agent)])
        .when(WorkerCommand::GoOffline {
            forced_by: None,
            at: at(5),
        })
        .then_expect_events(vec![]);
}

// --- offers and calls

#[test]
fn offering_a_call_reserves_an_available_worker() {
    WorkerTest::with(())
        .given(available())
        .when(WorkerCommand::Offer {
            call_id: call(1),
            at: at(20),
        })
        .then_expect_events(vec![WorkerEvent::Offered {
            call_id: call(1),
            at: at(20),
        }]);
}

#[test]
fn offering_the_same_call_again_emits_nothing() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::Offer {
            call_id: call(1),
            at: at(21),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_worker_already_ringing_for_a_call_cannot_be_offered_another() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::Offer {
            call_id: call(2),
            at: at(21),
        })
        .then_expect_error(WorkerError::AgentNotAvailable);
}

#[test]
fn a_paused_worker_cannot_be_offered_a_call() {
    WorkerTest::with(())
        .given(vec![
            registered(Role::Agent),
            WorkerEvent::Paused {
                reason: reason("lunch"),
                forced_by: None,
                at: at(5),
            },
        ])
        .when(WorkerCommand::Offer {
            call_id: call(1),
            at: at(20),
        })
        .then_expect_error(WorkerError::AgentNotAvailable);
}

#[test]
fn an_available_worker_whose_endpoint_was_removed_cannot_be_offered_a_call() {
    let mut events = available();
    events.push(WorkerEvent::ProfileUpdated {
        name: None,
        email: None,
        endpoint: Some(Change {
            from: Some(endpoint("PJSIP/2001")),
            to: None,
        }),
        at: at(15),
    });
    WorkerTest::with(())
        .given(events)
        .when(WorkerCommand::Offer {
            call_id: call(1),
            at: at(20),
        })
        .then_expect_error(WorkerError::NoEndpoint);
}

#[test]
fn answering_an_offer_puts_the_worker_on_the_call() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::AnswerOffer {
            call_id: call(1),
            at: at(30),
        })
        .then_expect_events(vec![WorkerEvent::OfferAnswered {
            call_id: call(1),
            at: at(30),
        }]);
    let worker = replay(on_call(call(1)));
    assert_eq!(worker.presence(), &Presence::OnCall { call_id: call(1) });
}

#[test]
fn answering_the_current_call_again_emits_nothing() {
    WorkerTest::with(())
        .given(on_call(call(1)))
        .when(WorkerCommand::AnswerOffer {
            call_id: call(1),
            at: at(31),
        })
        .then_expect_events(vec![]);
}

#[test]
fn answering_another_call_than_the_offered_one_is_a_call_mismatch() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::AnswerOffer {
            call_id: call(2),
            at: at(30),
        })
        .then_expect_error(WorkerError::CallMismatch);
}

#[test]
fn answering_without_an_offer_is_rejected() {
    WorkerTest::with(())
        .given(available())
        .when(WorkerCommand::AnswerOffer {
            call_id: call(1),
            at: at(30),
        })
        .then_expect_error(WorkerError::NoPendingOffer);
}

#[test]
fn a_missed_offer_pauses_the_worker_with_missed_offer() {
    for miss in [MissReason::Busy, MissReason::NoAnswer, MissReason::Rejected] {
        WorkerTest::with(())
            .given(offered(call(1)))
            .when(WorkerCommand::MissOffer {
                call_id: call(1),
                reason: miss,
                at: at(40),
            })
            .then_expect_events(vec![WorkerEvent::OfferMissed {
                call_id: call(1),
                reason: miss,
                pause_reason: PauseReason::missed_offer(),
                at: at(40),
            }]);
    }
}

#[test]
fn an_unreachable_phone_during_an_offer_pauses_the_worker_with_phone_unreachable() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::MissOffer {
            call_id: call(1),
            reason: MissReason::Unreachable,
            at: at(40),
        })
        .then_expect_events(vec![WorkerEvent::OfferMissed {
            call_id: call(1),
            reason: MissReason::Unreachable,
            pause_reason: PauseReason::phone_unreachable(),
            at: at(40),
        }]);
}

#[test]
fn missing_an_offer_of_another_call_is_a_call_mismatch() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::MissOffer {
            call_id: call(2),
            reason: MissReason::NoAnswer,
            at: at(40),
        })
        .then_expect_error(WorkerError::CallMismatch);
}

#[test]
fn missing_an_offer_already_answered_is_rejected() {
    WorkerTest::with(())
        .given(on_call(call(1)))
        .when(WorkerCommand::MissOffer {
            call_id: call(1),
            reason: MissReason::NoAnswer,
            at: at(40),
        })
        .then_expect_error(WorkerError::NoPendingOffer);
}

#[test]
fn a_caller_leaving_while_the_phone_rings_makes_the_worker_available_again() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::WithdrawOffer {
            call_id: call(1),
            at: at(25),
        })
        .then_expect_events(vec![WorkerEvent::OfferWithdrawn {
            call_id: call(1),
            at: at(25),
        }]);
    let mut events = offered(call(1));
    events.push(WorkerEvent::OfferWithdrawn {
        call_id: call(1),
        at: at(25),
    });
    let worker = replay(events);
    assert_eq!(worker.presence(), &Presence::Available);
    assert_eq!(worker.idle_since(), Some(at(25)));
}

#[test]
fn ending_a_call_starts_the_wrap_up() {
    WorkerTest::with(())
        .given(on_call(call(1)))
        .when(WorkerCommand::EndCall {
            call_id: call(1),
            wrap_up_secs: 10,
            at: at(100),
        })
        .then_expect_events(vec![WorkerEvent::CallEnded {
            call_id: call(1),
            wrap_up_until: Some(at(110)),
            at: at(100),
        }]);
}

#[test]
fn ending_a_call_without_wrap_up_time_makes_the_worker_available() {
    WorkerTest::with(())
        .given(on_call(call(1)))
        .when(WorkerCommand::EndCall {
            call_id: call(1),
            wrap_up_secs: 0,
            at: at(100),
        })
        .then_expect_events(vec![WorkerEvent::CallEnded {
            call_id: call(1),
            wrap_up_until: None,
            at: at(100),
        }]);
    let mut events = on_call(call(1));
    events.push(WorkerEvent::CallEnded {
        call_id: call(1),
        wrap_up_until: None,
        at: at(100),
    });
    let worker = replay(events);
    assert_eq!(worker.presence(), &Presence::Available);
    assert_eq!(worker.idle_since(), Some(at(100)));
}

#[test]
fn ending_a_call_while_not_on_one_is_rejected() {
    WorkerTest::with(())
        .given(offered(call(1)))
        .when(WorkerCommand::EndCall {
            call_id: call(1),
            wrap_up_secs: 10,
            at: at(100),
        })
        .then_expect_error(WorkerError::NotOnCall);
}

#[test]
fn ending_another_call_than_the_current_one_is_a_call_mismatch() {
    WorkerTest::with(())
        .given(on_call(call(1)))
        .when(WorkerCommand::EndCall {
            call_id: call(2),
            wrap_up_secs: 10,
            at: at(100),
        })
        .then_expect_error(WorkerError::CallMismatch);
}

#[test]
fn wrap_up_finishes_once_its_time_is_up() {
    WorkerTest::with(())
        .given(wrapping_up(call(1), at(110)))
        .when(WorkerCommand::FinishWrapUp { at: at(110) })
        .then_expect_events(vec![WorkerEvent::WrapUpFinished { at: at(110) }]);
}

#[test]
fn wrap_up_cannot_finish_early() {
    WorkerTest::with(())
        .given(wrapping_up(call(1), at(110)))
        .when(WorkerCommand::FinishWrapUp { at: at(109) })
        .then_expect_error(WorkerError::WrapUpNotOver);
}

#[test]
fn finishing_wrap_up_when_already_available_emits_nothing() {
    WorkerTest::with(())
        .given(available())
        .when(WorkerCommand::FinishWrapUp { at: at(200) })
        .then_expect_events(vec![]);
}

#[test]
fn an_unreachable_phone_pauses_an_available_worker() {
    WorkerTest::with(())
        .given(available())
        .when(WorkerCommand::PhoneUnreachable { at: at(15) })
        .then_expect_events(vec![WorkerEvent::Paused {
            reason: PauseReason::phone_unreachable(),
            forced_by: None,
            at: at(15),
        }]);
}

#[test]
fn an_unreachable_phone_changes_nothing_for_a_worker_who_is_not_available() {
    WorkerTest::with(())
        .given(wrapping_up(call(1), at(110)))
        .when(WorkerCommand::PhoneUnreachable { at: at(105) })
        .then_expect_events(vec![]);
}

#[test]
fn only_available_offered_on_call_and_wrap_up_workers_can_take_calls_soon() {
    assert!(!Presence::Offline.can_take_calls_soon());
    assert!(!Presence::Paused {
        reason: reason("lunch")
    }
    .can_take_calls_soon());
    assert!(Presence::Available.can_take_calls_soon());
    assert!(replay(wrapping_up(call(1), at(110)))
        .presence()
        .can_take_calls_soon());
}

#[test]
fn error_codes_are_distinct_screaming_snake_case() {
    let errors = [
        WorkerError::AlreadyRegistered,
        WorkerError::NotRegistered,
        WorkerError::Deactivated,
        WorkerError::LastAdmin,
        WorkerError::Busy,
        WorkerError::NoEndpoint,
        WorkerError::AgentNotAvailable,
        WorkerError::CallMismatch,
        WorkerError::NoPendingOffer,
        WorkerError::NotOnCall,
        WorkerError::WrapUpNotOver,
    ];
    let mut codes: Vec<&str> = errors.iter().map(WorkerError::code).collect();
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
        registered(Role::Agent),
        WorkerEvent::ProfileUpdated {
            name: Some(Change {
                from: name("Ada Agent"),
                to: name("Ada Lovelace"),
            }),
            email: None,
            endpoint: Some(Change {
                from: None,
                to: Some(endpoint("PJSIP/2002")),
            }),
            at: at(1),
        },
        WorkerEvent::RoleChanged {
            from: Role::Agent,
            to: Role::Admin,
            at: at(2),
        },
        WorkerEvent::Deactivated { at: at(3) },
        WorkerEvent::WentAvailable {
            forced_by: Some(admin_id()),
            at: at(4),
        },
        WorkerEvent::Paused {
            reason: reason("lunch"),
            forced_by: None,
            at: at(5),
        },
        WorkerEvent::WentOffline {
            forced_by: None,
            at: at(6),
        },
        WorkerEvent::Offered {
            call_id: call(1),
            at: at(7),
        },
        WorkerEvent::OfferAnswered {
            call_id: call(1),
            at: at(8),
        },
        WorkerEvent::OfferMissed {
            call_id: call(1),
            reason: MissReason::NoAnswer,
            pause_reason: PauseReason::missed_offer(),
            at: at(9),
        },
        WorkerEvent::OfferWithdrawn {
            call_id: call(1),
            at: at(10),
        },
        WorkerEvent::CallEnded {
            call_id: call(1),
            wrap_up_until: Some(at(21)),
            at: at(11),
        },
        WorkerEvent::WrapUpFinished { at: at(21) },
        WorkerEvent::LoggedOut { at: at(22) },
        WorkerEvent::AvatarChanged {
            avatar_url: Some(avatar("https://cdn.example.com/ada.png")),
            at: at(23),
        },
        WorkerEvent::AvatarChanged {
            avatar_url: None,
            at: at(24),
        },
        WorkerEvent::PasswordReset {
            by: admin_id(),
            at: at(25),
        },
    ];
    let typed: Vec<(String, String, &WorkerEvent)> = events
        .iter()
        .map(|event| (event.event_type(), event.event_version(), event))
        .collect();
    insta::assert_json_snapshot!(typed);
    for event in events {
        let json = serde_json::to_string(&event).expect("serialises");
        let back: WorkerEvent = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, event);
    }
    assert_eq!(Worker::TYPE, "worker");
}

#[test]
fn an_admin_resets_a_password_and_a_deactivated_worker_has_none_to_reset() {
    WorkerTest::with(())
        .given(vec![registered(Role::Agent)])
        .when(WorkerCommand::ResetPassword {
            by: admin_id(),
            at: at(5),
        })
        .then_expect_events(vec![WorkerEvent::PasswordReset {
            by: admin_id(),
            at: at(5),
        }]);
    WorkerTest::with(())
        .given(vec![
            registered(Role::Agent),
            WorkerEvent::Deactivated { at: at(2) },
        ])
        .when(WorkerCommand::ResetPassword {
            by: admin_id(),
            at: at(5),
        })
        .then_expect_error(WorkerError::Deactivated);
}

// --- replay

fn command_strategy() -> impl Strategy<Value = WorkerCommand> {
    let t = || (0i64..10_000).prop_map(at);
    let call_id = || (1u128..3).prop_map(call);
    let role = || prop_oneof![Just(Role::Admin), Just(Role::Agent)];
    let forced = || proptest::option::of(Just(admin_id()));
    prop_oneof![
        (role(), proptest::bool::ANY, t()).prop_map(|(role, has_endpoint, at)| {
            WorkerCommand::Register {
                name: name("Ada"),
                email: email("ada@example.com"),
                role,
                endpoint: has_endpoint.then(|| endpoint("PJSIP/2001")),
                at,
            }
        }),
        (proptest::option::of(proptest::bool::ANY), t()).prop_map(|(endpoint_change, at)| {
            WorkerCommand::UpdateProfile {
                name: Some(name("Ada L")),
                email: None,
                endpoint: endpoint_change.map(|present| present.then(|| endpoint("PJSIP/2002"))),
                at,
            }
        }),
        (proptest::option::of(proptest::bool::ANY), t()).prop_map(|(avatar_change, at)| {
            WorkerCommand::UpdateOwnProfile {
                name: Some(name("Ada O")),
                avatar_url: avatar_change
                    .map(|present| present.then(|| avatar("https://cdn.example.com/o.png"))),
                at,
            }
        }),
        (role(), 0u32..2, t()).prop_map(|(role, other_active_admins, at)| {
            WorkerCommand::SetRole {
                role,
                other_active_admins,
                at,
            }
        }),
        (0u32..2, t()).prop_map(|(other_active_admins, at)| WorkerCommand::Deactivate {
            other_active_admins,
            at
        }),
        (forced(), t()).prop_map(|(forced_by, at)| WorkerCommand::GoAvailable { forced_by, at }),
        (forced(), t(), prop_oneof![Just("lunch"), Just("training")]).prop_map(
            |(forced_by, at, text)| WorkerCommand::Pause {
                reason: reason(text),
                forced_by,
                at
            }
        ),
        (forced(), t()).prop_map(|(forced_by, at)| WorkerCommand::GoOffline { forced_by, at }),
        (call_id(), t()).prop_map(|(call_id, at)| WorkerCommand::Offer { call_id, at }),
        (call_id(), t()).prop_map(|(call_id, at)| WorkerCommand::AnswerOffer { call_id, at }),
        (
            call_id(),
            t(),
            prop_oneof![
                Just(MissReason::Busy),
                Just(MissReason::NoAnswer),
                Just(MissReason::Rejected),
                Just(MissReason::Unreachable)
            ]
        )
            .prop_map(|(call_id, at, reason)| WorkerCommand::MissOffer {
                call_id,
                reason,
                at
            }),
        (call_id(), t()).prop_map(|(call_id, at)| WorkerCommand::WithdrawOffer { call_id, at }),
        (call_id(), 0u32..20, t()).prop_map(|(call_id, wrap_up_secs, at)| {
            WorkerCommand::EndCall {
                call_id,
                wrap_up_secs,
                at,
            }
        }),
        t().prop_map(|at| WorkerCommand::FinishWrapUp { at }),
        t().prop_map(|at| WorkerCommand::PhoneUnreachable { at }),
    ]
}

proptest! {
    #[test]
    fn replaying_the_emitted_events_rebuilds_the_same_worker(
        commands in proptest::collection::vec(command_strategy(), 1..40)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut live = Worker::default();
        let mut emitted = Vec::new();
        let registration = WorkerCommand::Register {
            name: name("Ada"),
            email: email("ada@example.com"),
            role: Role::Agent,
            endpoint: Some(endpoint("PJSIP/2001")),
            at: at(0),
        };
        for command in std::iter::once(registration).chain(commands) {
            let before = live.clone();
            let sink = EventSink::default();
            match runtime.block_on(live.handle(command, &(), &sink)) {
                Ok(()) => emitted.extend(runtime.block_on(sink.collect())),
                Err(_) => prop_assert_eq!(&live, &before),
            }
            if !live.is_active() {
                prop_assert_eq!(live.presence(), &Presence::Offline);
            }
        }
        prop_assert_eq!(replay(emitted), live);
    }

    /// What an aggregate snapshot relies on (journal's `snapshot.rs`): the state folded up to
    /// any event, through its serde form, then the events after it, is the full fold.
    #[test]
    fn a_snapshot_at_any_event_then_the_events_after_it_rebuilds_the_same_worker(
        commands in proptest::collection::vec(command_strategy(), 1..60),
        split in 0.0..=1.0f64,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut live = Worker::default();
        let mut emitted = Vec::new();
        let registration = WorkerCommand::Register {
            name: name("Ada"),
            email: email("ada@example.com"),
            role: Role::Agent,
            endpoint: Some(endpoint("PJSIP/2001")),
            at: at(0),
        };
        for command in std::iter::once(registration).chain(commands) {
            let sink = EventSink::default();
            if runtime.block_on(live.handle(command, &(), &sink)).is_ok() {
                emitted.extend(runtime.block_on(sink.collect()));
            }
        }
        let at_snapshot = ((emitted.len() as f64) * split) as usize;
        let snapshot = serde_json::to_value(replay(emitted[..at_snapshot].to_vec()))
            .expect("the state encodes");
        let mut loaded: Worker = serde_json::from_value(snapshot).expect("the state decodes");
        for event in emitted[at_snapshot..].iter().cloned() {
            loaded.apply(event);
        }
        prop_assert_eq!(&loaded, &replay(emitted));
        prop_assert_eq!(loaded, live);
    }
}

#[test]
fn a_logged_out_worker_goes_offline_but_only_after_their_call() {
    WorkerTest::with(())
        .given(available())
        .when(WorkerCommand::LogOut { at: at(15) })
        .then_expect_events(vec![WorkerEvent::LoggedOut { at: at(15) }]);
    WorkerTest::with(())
        .given(wrapping_up(call(1), at(110)))
        .when(WorkerCommand::LogOut { at: at(105) })
        .then_expect_events(vec![WorkerEvent::LoggedOut { at: at(105) }]);
    for busy in [offered(call(1)), on_call(call(1))] {
        WorkerTest::with(())
            .given(busy)
            .when(WorkerCommand::LogOut { at: at(35) })
            .then_expect_error(WorkerError::Busy);
    }
    let mut offline = available();
    offline.push(WorkerEvent::LoggedOut { at: at(15) });
    WorkerTest::with(())
        .given(offline.clone())
        .when(WorkerCommand::LogOut { at: at(16) })
        .then_expect_events(vec![]);
    let mut worker = Worker::default();
    for event in offline {
        worker.apply(event);
    }
    assert_eq!(*worker.presence(), Presence::Offline);
    assert_eq!(worker.state_since(), Some(at(15)));
}

#[test]
fn presence_after_an_event_is_the_presence_the_aggregate_enters_and_its_keyword_round_trips() {
    let mut histories = vec![available(), offered(call(1)), on_call(call(1))];
    histories.push(wrapping_up(call(2), at(110)));
    let mut missed = offered(call(3));
    missed.push(WorkerEvent::OfferMissed {
        call_id: call(3),
        reason: MissReason::NoAnswer,
        pause_reason: reason("missed call"),
        at: at(40),
    });
    histories.push(missed);
    let mut updated = available();
    updated.push(WorkerEvent::RoleChanged {
        from: Role::Agent,
        to: Role::Admin,
        at: at(50),
    });
    histories.push(updated);
    for history in histories {
        let mut worker = Worker::default();
        let mut expected = Presence::Offline;
        for event in history {
            if let Some(presence) = Presence::after(&event) {
                expected = presence;
            }
            worker.apply(event);
            assert_eq!(*worker.presence(), expected);
        }
    }
    for kind in PresenceKind::ALL {
        assert_eq!(kind.as_str().parse::<PresenceKind>(), Ok(kind));
    }
    assert_eq!(Presence::Offline.kind().as_str(), "offline");
    assert!("sleeping".parse::<PresenceKind>().is_err());
}
