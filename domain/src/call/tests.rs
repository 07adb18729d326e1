use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::ids::{CustomerId, WorkerId};

type CallTester = TestFramework<Call>;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000 + secs, 0).expect("valid timestamp")
}

fn agent_a() -> WorkerId {
    WorkerId(Uuid::from_u128(0xa))
}

fn agent_b() -> WorkerId {
    WorkerId(Uuid::from_u128(0xb))
}

fn customer_1() -> CustomerId {
    CustomerId(Uuid::from_u128(0xc1))
}

fn customer_2() -> CustomerId {
    CustomerId(Uuid::from_u128(0xc2))
}

fn tester() -> CallTester {
    CallTester::with(())
}

fn queue_command(channel_id: &str) -> CallCommand {
    CallCommand::Queue {
        caller_number: "+33612345678".to_string(),
        caller_name: Some("Alice".to_string()),
        customer_id: Some(customer_1()),
        channel_id: channel_id.to_string(),
        queue: "default".to_string(),
        at: at(0),
    }
}

fn queued() -> CallEvent {
    CallEvent::Queued {
        caller_number: "+33612345678".to_string(),
        caller_name: Some("Alice".to_string()),
        customer_id: Some(customer_1()),
        channel_id: "caller-1".to_string(),
        queue: "default".to_string(),
        at: at(0),
    }
}

fn offered(attempt: u32, agent: WorkerId, secs: i64) -> CallEvent {
    CallEvent::Offered {
        attempt,
        agent,
        agent_channel_id: format!("agent-leg-{attempt}"),
        at: at(secs),
    }
}

fn connected(attempt: u32, agent: WorkerId, secs: i64) -> CallEvent {
    CallEvent::Connected {
        attempt,
        agent,
        queued_at: at(0),
        at: at(secs),
    }
}

fn offer_failed(attempt: u32, agent: WorkerId, outcome: OfferFailure, secs: i64) -> CallEvent {
    CallEvent::OfferFailed {
        attempt,
        agent,
        outcome,
        at: at(secs),
    }
}

fn ended(by: EndedBy, agent: WorkerId, connected_secs: i64, secs: i64) -> CallEvent {
    CallEvent::Ended {
        by,
        reason: None,
        agent: Some(agent),
        withdrawn_offer: None,
        queued_at: at(0),
        connected_at: Some(at(connected_secs)),
        at: at(secs),
    }
}

fn connected_history() -> Vec<CallEvent> {
    vec![
        queued(),
        offered(1, agent_a(), 5),
        connected(1, agent_a(), 12),
    ]
}

fn call_from(events: Vec<CallEvent>) -> Call {
    let mut call = Call::default();
    for event in events {
        call.apply(event);
    }
    call
}

// --- Queue ---

#[test]
fn an_incoming_call_is_queued_with_its_caller_and_channel() {
    tester()
        .given_no_previous_events()
        .when(queue_command("caller-1"))
        .then_expect_events(vec![queued()]);
}

#[test]
fn queueing_the_same_channel_again_changes_nothing() {
    tester()
        .given(vec![queued()])
        .when(queue_command("caller-1"))
        .then_expect_events(vec![]);
}

#[test]
fn queueing_an_existing_call_on_another_channel_is_refused() {
    tester()
        .given(vec![queued()])
        .when(queue_command("caller-2"))
        .then_expect_error(CallError::AlreadyQueued);
}

// --- Offer ---

#[test]
fn offering_a_queued_call_rings_the_agent_as_attempt_one() {
    tester()
        .given(vec![queued()])
        .when(CallCommand::Offer {
            agent: agent_a(),
            agent_channel_id: "agent-leg-1".to_string(),
            at: at(5),
        })
        .then_expect_events(vec![offered(1, agent_a(), 5)]);
}

#[test]
fn an_offer_after_a_failed_one_is_numbered_as_the_next_attempt() {
    tester()
        .given(vec![
            queued(),
            offered(1, agent_a(), 5),
            offer_failed(1, agent_a(), OfferFailure::NoAnswer, 25),
        ])
        .when(CallCommand::Offer {
            agent: agent_b(),
            agent_channel_id: "agent-leg-2".to_string(),
            at: at(26),
        })
        .then_expect_events(vec![offered(2, agent_b(), 26)]);
}

#[test]
fn repeating_an_offer_to_the_same_agent_leg_changes_nothing() {
    tester()
        .given(vec![queued(), offered(1, agent_a(), 5)])
        .when(CallCommand::Offer {
            agent: agent_a(),
            agent_channel_id: "agent-leg-1".to_string(),
            at: at(6),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_call_already_ringing_an_agent_cannot_be_offered_to_another() {
    tester()
        .given(vec![queued(), offered(1, agent_a(), 5)])
        .when(CallCommand::Offer {
            agent: agent_b(),
            agent_channel_id: "agent-leg-2".to_string(),
            at: at(6),
        })
        .then_expect_error(CallError::NotWaiting);
}

#[test]
fn a_call_that_was_never_queued_cannot_be_offered() {
    tester()
        .given_no_previous_events()
        .when(CallCommand::Offer {
            agent: agent_a(),
            agent_channel_id: "agent-leg-1".to_string(),
            at: at(5),
        })
        .then_expect_error(CallError::NotFound);
}

#[test]
fn an_ended_call_cannot_be_offered() {
    let mut history = connected_history();
    history.push(ended(EndedBy::Caller, agent_a(), 12, 100));
    tester()
        .given(history)
        .when(CallCommand::Offer {
            agent: agent_b(),
            agent_channel_id: "agent-leg-2".to_string(),
            at: at(101),
        })
        .then_expect_error_message("call has ended");
}

// --- AnswerOffer ---

#[test]
fn the_offered_agent_answering_connects_the_call() {
    tester()
        .given(vec![queued(), offered(1, agent_a(), 5)])
        .when(CallCommand::AnswerOffer {
            agent: agent_a(),
            at: at(12),
        })
        .then_expect_events(vec![connected(1, agent_a(), 12)]);
}

#[test]
fn an_answer_repeated_by_the_connected_agent_changes_nothing() {
    tester()
        .given(connected_history())
        .when(CallCommand::AnswerOffer {
            agent: agent_a(),
            at: at(13),
        })
        .then_expect_events(vec![]);
}

#[test]
fn another_agent_cannot_answer_an_offer_made_to_someone_else() {
    tester()
        .given(vec![queued(), offered(1, agent_a(), 5)])
        .when(CallCommand::AnswerOffer {
            agent: agent_b(),
            at: at(12),
        })
        .then_expect_error(CallError::NotYourCall);
}

#[test]
fn answering_a_call_whose_offer_already_failed_is_refused() {
    tester()
        .given(vec![
            queued(),
            offered(1, agent_a(), 5),
            offer_failed(1, agent_a(), OfferFailure::NoAnswer, 25),
        ])
        .when(CallCommand::AnswerOffer {
            agent: agent_a(),
            at: at(26),
        })
        .then_expect_error(CallError::NoOfferPending);
}

// --- FailOffer ---

#[test]
fn a_failed_offer_puts_the_call_back_in_the_queue_keeping_its_queued_at() {
    let history = vec![queued(), offered(1, agent_a(), 5)];
    tester()
        .given(history.clone())
        .when(CallCommand::FailOffer {
            agent: agent_a(),
            outcome: OfferFailure::Busy,
            at: at(7),
        })
        .then_expect_events(vec![offer_failed(1, agent_a(), OfferFailure::Busy, 7)]);

    let mut after = history;
    after.push(offer_failed(1, agent_a(), OfferFailure::Busy, 7));
    let call = call_from(after);
    assert_eq!(call.state(), &CallState::Queued);
    assert_eq!(call.queued_at(), Some(at(0)));
    assert_eq!(call.current_offer(), None);
    assert_eq!(call.offers()[0].outcome, Some(OfferOutcome::Busy));
    assert_eq!(call.offers()[0].ended_at, Some(at(7)));
}

#[test]
fn a_repeated_offer_failure_with_the_same_outcome_changes_nothing() {
    tester()
        .given(vec![
            queued(),
            offered(1, agent_a(), 5),
            offer_failed(1, agent_a(), OfferFailure::Unreachable, 6),
        ])
        .when(CallCommand::FailOffer {
            agent: agent_a(),
            outcome: OfferFailure::Unreachable,
            at: at(7),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_failure_reported_for_an_agent_not_ringing_is_refused() {
    tester()
        .given(vec![queued(), offered(1, agent_a(), 5)])
        .when(CallCommand::FailOffer {
            agent: agent_b(),
            outcome: OfferFailure::NoAnswer,
            at: at(25),
        })
        .then_expect_error(CallError::NotYourCall);
}

#[test]
fn a_failure_reported_while_no_offer_is_pending_is_refused() {
    tester()
        .given(vec![queued()])
        .when(CallCommand::FailOffer {
            agent: agent_a(),
            outcome: OfferFailure::Rejected,
            at: at(25),
        })
        .then_expect_error_message("call has no offer pending");
}

// --- CallerHangUp ---

#[test]
fn caller_hanging_up_while_queued_is_recorded_as_abandoned() {
    tester()
        .given(vec![queued()])
        .when(CallCommand::CallerHangUp { at: at(40) })
        .then_expect_events(vec![CallEvent::Abandoned {
            during: AbandonedDuring::Queued,
            withdrawn_offer: None,
            queued_at: at(0),
            at: at(40),
        }]);
}

#[test]
fn caller_hanging_up_while_an_agent_phone_rings_withdraws_the_offer() {
    let history = vec![queued(), offered(1, agent_a(), 5)];
    let abandoned = CallEvent::Abandoned {
        during: AbandonedDuring::Ringing,
        withdrawn_offer: Some(OfferRef {
            attempt: 1,
            agent: agent_a(),
        }),
        queued_at: at(0),
        at: at(9),
    };
    tester()
        .given(history.clone())
        .when(CallCommand::CallerHangUp { at: at(9) })
        .then_expect_events(vec![abandoned.clone()]);

    let mut after = history;
    after.push(abandoned);
    let call = call_from(after);
    assert_eq!(call.offers()[0].outcome, Some(OfferOutcome::Withdrawn));
    assert_eq!(call.wait_secs(), Some(9));
    assert_eq!(call.talk_secs(), None);
}

#[test]
fn caller_hanging_up_a_connected_call_ends_it_by_the_caller() {
    tester()
        .given(connected_history())
        .when(CallCommand::CallerHangUp { at: at(100) })
        .then_expect_events(vec![ended(EndedBy::Caller, agent_a(), 12, 100)]);
}

#[test]
fn caller_hanging_up_twice_emits_nothing_the_second_time() {
    tester()
        .given(vec![
            queued(),
            CallEvent::Abandoned {
                during: AbandonedDuring::Queued,
                withdrawn_offer: None,
                queued_at: at(0),
                at: at(40),
            },
        ])
        .when(CallCommand::CallerHangUp { at: at(41) })
        .then_expect_events(vec![]);
}

#[test]
fn caller_hanging_up_after_the_agent_ended_the_call_is_refused() {
    let mut history = connected_history();
    history.push(ended(EndedBy::Agent, agent_a(), 12, 100));
    tester()
        .given(history)
        .when(CallCommand::CallerHangUp { at: at(101) })
        .then_expect_error(CallError::Ended);
}

// --- AgentHangUp ---

#[test]
fn the_connected_agent_hanging_up_ends_the_call_by_the_agent() {
    tester()
        .given(connected_history())
        .when(CallCommand::AgentHangUp {
            agent: agent_a(),
            at: at(100),
        })
        .then_expect_events(vec![ended(EndedBy::Agent, agent_a(), 12, 100)]);
}

#[test]
fn another_agent_cannot_hang_up_a_call_that_is_not_theirs() {
    tester()
        .given(connected_history())
        .when(CallCommand::AgentHangUp {
            agent: agent_b(),
            at: at(100),
        })
        .then_expect_error_message("call is not offered to or connected with this agent");
}

#[test]
fn an_agent_cannot_hang_up_a_call_that_is_still_ringing() {
    tester()
        .given(vec![queued(), offered(1, agent_a(), 5)])
        .when(CallCommand::AgentHangUp {
            agent: agent_a(),
            at: at(6),
        })
        .then_expect_error(CallError::NotConnected);
}

#[test]
fn the_agent_hanging_up_twice_emits_nothing_the_second_time() {
    let mut history = connected_history();
    history.push(ended(EndedBy::Agent, agent_a(), 12, 100));
    tester()
        .given(history)
        .when(CallCommand::AgentHangUp {
            agent: agent_a(),
            at: at(101),
        })
        .then_expect_events(vec![]);
}

// --- EndBySystem ---

#[test]
fn the_system_ends_a_connected_call_keeping_its_talk_time() {
    tester()
        .given(connected_history())
        .when(CallCommand::EndBySystem {
            reason: "channel gone after restart".to_string(),
            at: at(300),
        })
        .then_expect_events(vec![CallEvent::Ended {
            by: EndedBy::System,
            reason: Some("channel gone after restart".to_string()),
            agent: Some(agent_a()),
            withdrawn_offer: None,
            queued_at: at(0),
            connected_at: Some(at(12)),
            at: at(300),
        }]);
}

#[test]
fn the_system_ends_a_ringing_call_and_withdraws_its_offer() {
    tester()
        .given(vec![queued(), offered(1, agent_a(), 5)])
        .when(CallCommand::EndBySystem {
            reason: "channel gone after restart".to_string(),
            at: at(300),
        })
        .then_expect_events(vec![CallEvent::Ended {
            by: EndedBy::System,
            reason: Some("channel gone after restart".to_string()),
            agent: None,
            withdrawn_offer: Some(OfferRef {
                attempt: 1,
                agent: agent_a(),
            }),
            queued_at: at(0),
            connected_at: None,
            at: at(300),
        }]);
}

#[test]
fn a_never_connected_call_ended_by_the_system_waited_until_its_end() {
    let history = vec![queued()];
    let end = CallEvent::Ended {
        by: EndedBy::System,
        reason: Some("channel gone".to_string()),
        agent: None,
        withdrawn_offer: None,
        queued_at: at(0),
        connected_at: None,
        at: at(70),
    };
    tester()
        .given(history.clone())
        .when(CallCommand::EndBySystem {
            reason: "channel gone".to_string(),
            at: at(70),
        })
        .then_expect_events(vec![end.clone()]);

    let mut after = history;
    after.push(end);
    let call = call_from(after);
    assert_eq!(call.wait_secs(), Some(70));
    assert_eq!(call.talk_secs(), None);
    assert_eq!(call.system_end_reason(), Some("channel gone"));
    assert!(call.is_terminal());
}

#[test]
fn the_system_ending_a_call_twice_emits_nothing_the_second_time() {
    tester()
        .given(vec![
            queued(),
            CallEvent::Ended {
                by: EndedBy::System,
                reason: Some("channel gone".to_string()),
                agent: None,
                withdrawn_offer: None,
                queued_at: at(0),
                connected_at: None,
                at: at(70),
            },
        ])
        .when(CallCommand::EndBySystem {
            reason: "another restart".to_string(),
            at: at(90),
        })
        .then_expect_events(vec![]);
}

#[test]
fn the_system_cannot_end_a_call_the_caller_already_abandoned() {
    tester()
        .given(vec![
            queued(),
            CallEvent::Abandoned {
                during: AbandonedDuring::Queued,
                withdrawn_offer: None,
                queued_at: at(0),
                at: at(40),
            },
        ])
        .when(CallCommand::EndBySystem {
            reason: "channel gone".to_string(),
            at: at(90),
        })
        .then_expect_error(CallError::Ended);
}

// --- Reject ---

#[test]
fn a_waiting_call_can_be_rejected_for_max_wait_exceeded() {
    tester()
        .given(vec![queued()])
        .when(CallCommand::Reject {
            reason: RejectReason::MaxWaitExceeded,
            at: at(600),
        })
        .then_expect_events(vec![CallEvent::Rejected {
            reason: RejectReason::MaxWaitExceeded,
            queued_at: at(0),
            at: at(600),
        }]);
}

#[test]
fn rejecting_twice_for_the_same_reason_emits_nothing_the_second_time() {
    tester()
        .given(vec![
            queued(),
            CallEvent::Rejected {
                reason: RejectReason::QueueFull,
                queued_at: at(0),
                at: at(0),
            },
        ])
        .when(CallCommand::Reject {
            reason: RejectReason::QueueFull,
            at: at(1),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_rejected_call_cannot_be_rejected_again_for_another_reason() {
    tester()
        .given(vec![
            queued(),
            CallEvent::Rejected {
                reason: RejectReason::QueueFull,
                queued_at: at(0),
                at: at(0),
            },
        ])
        .when(CallCommand::Reject {
            reason: RejectReason::NoAgentsLoggedIn,
            at: at(1),
        })
        .then_expect_error(CallError::Ended);
}

#[test]
fn a_connected_call_cannot_be_rejected() {
    tester()
        .given(connected_history())
        .when(CallCommand::Reject {
            reason: RejectReason::NoAgentsLoggedIn,
            at: at(20),
        })
        .then_expect_error(CallError::NotWaiting);
}

// --- LinkCustomer ---

#[test]
fn an_ended_call_can_still_be_linked_to_a_customer_registered_later() {
    let mut history = vec![CallEvent::Queued {
        caller_number: "0612345678".to_string(),
        caller_name: None,
        customer_id: None,
        channel_id: "caller-1".to_string(),
        queue: "default".to_string(),
        at: at(0),
    }];
    history.push(CallEvent::Abandoned {
        during: AbandonedDuring::Queued,
        withdrawn_offer: None,
        queued_at: at(0),
        at: at(3),
    });
    tester()
        .given(history)
        .when(CallCommand::LinkCustomer {
            customer_id: customer_2(),
            at: at(500),
        })
        .then_expect_events(vec![CallEvent::CustomerLinked {
            customer_id: customer_2(),
            at: at(500),
        }]);
}

#[test]
fn linking_a_call_to_the_customer_it_already_has_changes_nothing() {
    tester()
        .given(vec![queued()])
        .when(CallCommand::LinkCustomer {
            customer_id: customer_1(),
            at: at(5),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_call_that_was_never_queued_cannot_be_linked() {
    tester()
        .given_no_previous_events()
        .when(CallCommand::LinkCustomer {
            customer_id: customer_1(),
            at: at(5),
        })
        .then_expect_error_message("call has not been queued");
}

// --- accessors ---

#[test]
fn a_completed_call_reports_its_wait_talk_attempts_and_agent() {
    let call = call_from(vec![
        queued(),
        offered(1, agent_b(), 2),
        offer_failed(1, agent_b(), OfferFailure::NoAnswer, 22),
        offered(2, agent_a(), 23),
        connected(2, agent_a(), 30),
        ended(EndedBy::Agent, agent_a(), 30, 150),
    ]);
    assert_eq!(call.wait_secs(), Some(30));
    assert_eq!(call.talk_secs(), Some(120));
    assert_eq!(call.attempts(), 2);
    assert_eq!(call.agent(), Some(agent_a()));
    assert_eq!(call.queued_at(), Some(at(0)));
    assert_eq!(call.channel_id(), "caller-1");
    assert_eq!(call.caller_number(), "+33612345678");
    assert_eq!(call.customer_id(), Some(customer_1()));
    assert_eq!(call.offers()[1].outcome, Some(OfferOutcome::Answered));
    assert!(call.is_terminal());
}

#[test]
fn a_ringing_call_reports_its_current_offer_and_no_wait_yet() {
    let call = call_from(vec![queued(), offered(1, agent_a(), 5)]);
    let offer = call.current_offer().expect("an offer rings");
    assert_eq!(offer.agent, agent_a());
    assert_eq!(offer.agent_channel_id, "agent-leg-1");
    assert_eq!(offer.offered_at, at(5));
    assert_eq!(call.agent(), Some(agent_a()));
    assert_eq!(call.wait_secs(), None);
    assert!(!call.is_terminal());
}

#[test]
fn every_error_has_a_distinct_stable_code() {
    let errors = [
        CallError::NotFound,
        CallError::AlreadyQueued,
        CallError::NotWaiting,
        CallError::NoOfferPending,
        CallError::NotYourCall,
        CallError::NotConnected,
        CallError::Ended,
    ];
    let codes: Vec<&str> = errors.iter().map(CallError::code).collect();
    assert_eq!(
        codes,
        [
            "CALL_NOT_FOUND",
            "CALL_ALREADY_QUEUED",
            "CALL_NOT_WAITING",
            "NO_OFFER_PENDING",
            "NOT_YOUR_CALL",
            "CALL_NOT_CONNECTED",
            "CALL_ENDED",
        ]
    );
}

// --- event contract ---

fn one_of_every_event() -> Vec<CallEvent> {
    vec![
        queued(),
        offered(1, agent_a(), 5),
        connected(1, agent_a(), 12),
        offer_failed(1, agent_a(), OfferFailure::NoAnswer, 25),
        CallEvent::Abandoned {
            during: AbandonedDuring::Ringing,
            withdrawn_offer: Some(OfferRef {
                attempt: 2,
                agent: agent_b(),
            }),
            queued_at: at(0),
            at: at(40),
        },
        CallEvent::Rejected {
            reason: RejectReason::NoAgentsLoggedIn,
            queued_at: at(0),
            at: at(1),
        },
        CallEvent::Ended {
            by: EndedBy::System,
            reason: Some("channel gone after restart".to_string()),
            agent: Some(agent_a()),
            withdrawn_offer: None,
            queued_at: at(0),
            connected_at: Some(at(12)),
            at: at(300),
        },
        CallEvent::CustomerLinked {
            customer_id: customer_2(),
            at: at(500),
        },
    ]
}

#[test]
fn every_event_keeps_its_stored_name_and_fields() {
    assert_eq!(Call::TYPE, "call");
    for event in one_of_every_event() {
        // `CallQueued` v2: the caller's number and name are stored sealed (journal's `shred`).
        let version = if matches!(event, CallEvent::Queued { .. }) {
            "2"
        } else {
            "1"
        };
        assert_eq!(event.event_version(), version);
        let stored = serde_json::to_string(&event).expect("serialises");
        let read_back: CallEvent = serde_json::from_str(&stored).expect("deserialises");
        assert_eq!(read_back, event);
        let name = event.event_type();
        insta::assert_json_snapshot!(
            name.clone(),
            serde_json::json!({ "type": name, "payload": event })
        );
    }
}

// --- replay ---

fn any_agent() -> impl Strategy<Value = WorkerId> {
    prop_oneof![Just(agent_a()), Just(agent_b())]
}

fn any_command() -> impl Strategy<Value = CallCommand> {
    let failure = prop_oneof![
        Just(OfferFailure::NoAnswer),
        Just(OfferFailure::Busy),
        Just(OfferFailure::Rejected),
        Just(OfferFailure::Unreachable),
        Just(OfferFailure::SystemFailure),
    ];
    let reason = prop_oneof![
        Just(RejectReason::NoAgentsLoggedIn),
        Just(RejectReason::QueueFull),
        Just(RejectReason::MaxWaitExceeded),
    ];
    let secs = 0_i64..1_000;
    prop_oneof![
        (
            prop_oneof![Just("caller-1"), Just("caller-2")],
            secs.clone()
        )
            .prop_map(|(channel, secs)| CallCommand::Queue {
                caller_number: "100".to_string(),
                caller_name: None,
                customer_id: None,
                channel_id: channel.to_string(),
                queue: "default".to_string(),
                at: at(secs),
            }),
        (any_agent(), 1_u8..3, secs.clone()).prop_map(|(agent, leg, secs)| CallCommand::Offer {
            agent,
            agent_channel_id: format!("leg-{leg}"),
            at: at(secs),
        }),
        (any_agent(), secs.clone()).prop_map(|(agent, secs)| CallCommand::AnswerOffer {
            agent,
            at: at(secs)
        }),
        (any_agent(), failure, secs.clone()).prop_map(|(agent, outcome, secs)| {
            CallCommand::FailOffer {
                agent,
                outcome,
                at: at(secs),
            }
        }),
        secs.clone()
            .prop_map(|secs| CallCommand::CallerHangUp { at: at(secs) }),
        (any_agent(), secs.clone()).prop_map(|(agent, secs)| CallCommand::AgentHangUp {
            agent,
            at: at(secs)
        }),
        secs.clone().prop_map(|secs| CallCommand::EndBySystem {
            reason: "gone".to_string(),
            at: at(secs),
        }),
        (reason, secs.clone()).prop_map(|(reason, secs)| CallCommand::Reject {
            reason,
            at: at(secs),
        }),
        (prop_oneof![Just(customer_1()), Just(customer_2())], secs).prop_map(
            |(customer_id, secs)| CallCommand::LinkCustomer {
                customer_id,
                at: at(secs),
            }
        ),
    ]
}

proptest! {
    #[test]
    fn replaying_the_emitted_events_rebuilds_the_same_call(
        commands in proptest::collection::vec(any_command(), 0..25)
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut call = Call::default();
        let mut emitted = Vec::new();
        for command in commands {
            let sink = EventSink::default();
            let before = call.clone();
            let result = runtime.block_on(call.handle(command, &(), &sink));
            let events = runtime.block_on(sink.collect());
            if result.is_err() {
                prop_assert!(events.is_empty());
                prop_assert_eq!(&call, &before);
            }
            emitted.extend(events);
        }
        let terminal_events = emitted
            .iter()
            .filter(|event| {
                matches!(
                    event,
                    CallEvent::Abandoned { .. } | CallEvent::Rejected { .. } | CallEvent::Ended { .. }
                )
            })
            .count();
        prop_assert!(terminal_events <= 1);
        let queued_events = emitted
            .iter()
            .filter(|event| matches!(event, CallEvent::Queued { .. }))
            .count();
        prop_assert!(queued_events <= 1);
        let attempts: Vec<u32> = emitted
            .iter()
            .filter_map(|event| match event {
                CallEvent::Offered { attempt, .. } => Some(*attempt),
                _ => None,
            })
            .collect();
        let consecutive: Vec<u32> = (1..).take(attempts.len()).collect();
        prop_assert_eq!(attempts, consecutive);
        prop_assert_eq!(call_from(emitted), call);
    }
}

#[test]
fn a_system_failure_requeues_the_call_and_keeps_its_stored_value() {
    let failed = offer_failed(1, agent_a(), OfferFailure::SystemFailure, 6);
    tester()
        .given(vec![queued(), offered(1, agent_a(), 5)])
        .when(CallCommand::FailOffer {
            agent: agent_a(),
            outcome: OfferFailure::SystemFailure,
            at: at(6),
        })
        .then_expect_events(vec![failed.clone()]);
    let call = call_from(vec![queued(), offered(1, agent_a(), 5), failed.clone()]);
    assert_eq!(*call.state(), CallState::Queued);
    assert_eq!(call.offers()[0].outcome, Some(OfferOutcome::SystemFailure));
    insta::assert_json_snapshot!(
        "CallOfferFailed_system_failure",
        serde_json::json!({ "type": failed.event_type(), "payload": failed })
    );
}
