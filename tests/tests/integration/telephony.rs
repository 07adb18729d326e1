//! Telephony end to end: the real server (dispatcher, call control, recovery) against the
//! simulated Asterisk and a real database. Assertions go through the event log, the domain
//! state and the requests the simulator received.

use std::time::Duration;

use ari_adapter::sim::Behaviour;
use domain::call::{AbandonedDuring, CallState, EndedBy, OfferOutcome, RejectReason};
use domain::worker::Presence;
use journal::Actor;
use tests::telephony::{fast_queue, Telephony};

fn answers() -> Behaviour {
    Behaviour::Answer {
        after: Duration::from_millis(30),
    }
}

fn is_available(presence: &Presence) -> bool {
    *presence == Presence::Available
}

fn paused_for(presence: &Presence, reason: &str) -> bool {
    matches!(presence, Presence::Paused { reason: r } if r.as_str() == reason)
}

#[tokio::test]
async fn an_answered_call_is_bridged_with_the_agent_and_torn_down_when_the_caller_hangs_up() {
    let mut queue = fast_queue();
    queue.wrap_up_secs = 1;
    let tel = Telephony::start(queue).await;
    let mut screen = tel.add_agent_on_screen(1, answers()).await;
    let agent = screen.worker_id;
    let (inbound, call_id) = tel.place_call("+15551230001");
    let mut watch = tel.watch_call(call_id).await;

    let call = tel
        .wait_call(call_id, "the call to connect", |call| {
            matches!(call.state(), CallState::Connected { .. })
        })
        .await;
    assert_eq!(*call.state(), CallState::Connected { agent });
    assert_eq!(call.caller_number(), "+15551230001");
    let leg = api::telephony::agent_leg_id(call_id, 1);
    assert_eq!(call.offers()[0].agent_channel_id, leg);
    tel.wait_worker(agent, "the agent on the call", |worker| {
        *worker.presence() == Presence::OnCall { call_id }
    })
    .await;
    let hold = api::telephony::holding_bridge_id(call_id);
    let mix = api::telephony::mixing_bridge_id(call_id);
    tel.sim
        .wait_until(tests::telephony::WAIT, "both legs bridged", |sim| {
            sim.bridges()
                .iter()
                .any(|bridge| bridge.id == mix && bridge.channel_ids.len() == 2)
        })
        .await
        .expect("bridged");

    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    let call = tel
        .wait_call(call_id, "the call to end", |call| call.is_terminal())
        .await;
    assert_eq!(
        *call.state(),
        CallState::Ended {
            by: EndedBy::Caller
        }
    );
    tel.wait_worker(agent, "the agent in wrap-up", |worker| {
        matches!(worker.presence(), Presence::WrapUp { .. })
    })
    .await;
    tel.wait_worker(agent, "the agent available after wrap-up", |worker| {
        is_available(worker.presence())
    })
    .await;
    tel.wait_until_idle().await;
    // What the agent and an admin saw.
    screen.wait_popped(call_id, "+15551230001").await;
    screen
        .wait_presences(&[
            "OFFLINE",
            "AVAILABLE",
            "OFFERED",
            "ON_CALL",
            "WRAP_UP",
            "AVAILABLE",
        ])
        .await;
    tel.assert_call_seen(&mut watch, "ENDED").await;

    assert_eq!(
        tel.control_requests(),
        [
            format!("POST /channels/{inbound}/answer"),
            format!("POST /bridges type=holding bridgeId={hold}"),
            format!("POST /bridges/{hold}/addChannel channel={inbound}"),
            format!("POST /channels/{inbound}/moh"),
            format!(
                "POST /channels/create endpoint=PJSIP/agent1 appArgs=agent,{inbound} channelId={leg}"
            ),
            format!("POST /channels/{leg}/dial timeout=1"),
            format!("DELETE /channels/{inbound}/moh"),
            format!("DELETE /bridges/{hold}"),
            format!("POST /bridges type=mixing bridgeId={mix}"),
            format!("POST /bridges/{mix}/addChannel channel={inbound},{leg}"),
            format!("DELETE /bridges/{mix}"),
            format!("DELETE /channels/{leg}"),
        ]
    );
    assert_eq!(
        tel.event_types("call", &call_id.to_string()).await,
        ["CallQueued", "CallOffered", "CallConnected", "CallEnded"]
    );
    let queued = &tel
        .store
        .load("call", &call_id.to_string())
        .await
        .expect("events")[0];
    assert_eq!(
        queued.parsed_metadata().map(|metadata| metadata.actor),
        Some(Actor::Ari)
    );
    assert_eq!(
        tel.event_types("worker", &agent.to_string()).await,
        [
            "WorkerRegistered",
            "WorkerWentAvailable",
            "WorkerOffered",
            "WorkerOfferAnswered",
            "WorkerCallEnded",
            "WorkerWrapUpFinished"
        ]
    );
}

#[tokio::test]
async fn a_caller_hanging_up_while_queued_is_recorded_as_abandoned() {
    let tel = Telephony::start(fast_queue()).await;
    let agent = tel.add_agent(1, answers()).await;
    let (first, first_call) = tel.place_call("+15551230001");
    tel.wait_bridged(first_call).await;
    tel.sim.clear_requests();

    let (waiting, call_id) = tel.place_call("+15551230002");
    let hold = api::telephony::holding_bridge_id(call_id);
    tel.wait_on_hold(call_id, &waiting).await;
    let mut watch = tel.watch_call(call_id).await;

    tel.sim.caller_hangs_up(&waiting).expect("caller hangs up");
    let call = tel
        .wait_call(call_id, "the call to be abandoned", |call| {
            call.is_terminal()
        })
        .await;
    assert_eq!(
        *call.state(),
        CallState::Abandoned {
            during: AbandonedDuring::Queued
        }
    );
    assert!(call.offers().is_empty());
    assert_eq!(
        tel.assert_call_seen(&mut watch, "ABANDONED").await,
        ["QUEUED", "ABANDONED"]
    );
    tel.sim
        .wait_until(tests::telephony::WAIT, "the holding bridge gone", |sim| {
            sim.bridges().iter().all(|bridge| bridge.id != hold)
        })
        .await
        .expect("holding bridge destroyed");
    assert_eq!(
        tel.control_requests(),
        [
            format!("POST /channels/{waiting}/answer"),
            format!("POST /bridges type=holding bridgeId={hold}"),
            format!("POST /bridges/{hold}/addChannel channel={waiting}"),
            format!("POST /channels/{waiting}/moh"),
            format!("DELETE /bridges/{hold}"),
        ]
    );
    // The agent was never disturbed.
    assert_eq!(
        *tel.worker(agent).await.presence(),
        Presence::OnCall {
            call_id: first_call
        }
    );
    tel.sim
        .caller_hangs_up(&first)
        .expect("first caller hangs up");
    tel.wait_until_idle().await;
}

#[tokio::test]
async fn a_caller_hanging_up_while_the_agent_phone_rings_withdraws_the_offer() {
    let mut queue = fast_queue();
    queue.offer_timeout_secs = 10;
    let tel = Telephony::start(queue).await;
    let mut screen = tel.add_agent_on_screen(1, Behaviour::NoAnswer).await;
    let agent = screen.worker_id;
    let (inbound, call_id) = tel.place_call("+15551230001");
    tel.wait_call(call_id, "the offer", |call| {
        matches!(call.state(), CallState::Offered { .. })
    })
    .await;
    let mut watch = tel.watch_call(call_id).await;
    let leg = api::telephony::agent_leg_id(call_id, 1);
    tel.sim
        .wait_until(tests::telephony::WAIT, "the agent phone ringing", |sim| {
            sim.channels()
                .iter()
                .any(|channel| channel.id == leg && channel.state == "Ringing")
        })
        .await
        .expect("ringing");

    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    let call = tel
        .wait_call(call_id, "the call to be abandoned", |call| {
            call.is_terminal()
        })
        .await;
    assert_eq!(
        *call.state(),
        CallState::Abandoned {
            during: AbandonedDuring::Ringing
        }
    );
    assert_eq!(call.offers()[0].outcome, Some(OfferOutcome::Withdrawn));
    // Not the agent's fault: Available again, not paused.
    tel.wait_worker(agent, "the agent released", |worker| {
        is_available(worker.presence())
    })
    .await;
    tel.wait_until_idle().await;
    let requests = tel.control_requests();
    let hold = api::telephony::holding_bridge_id(call_id);
    assert_eq!(
        requests[requests.len() - 2..],
        [
            format!("DELETE /bridges/{hold}"),
            format!("DELETE /channels/{leg}")
        ]
    );
    assert_eq!(
        tel.event_types("worker", &agent.to_string()).await[2..],
        ["WorkerOffered", "WorkerOfferWithdrawn"]
    );
    screen.wait_popped(call_id, "+15551230001").await;
    screen
        .wait_presences(&["OFFLINE", "AVAILABLE", "OFFERED", "AVAILABLE"])
        .await;
    assert_eq!(
        tel.assert_call_seen(&mut watch, "ABANDONED").await,
        ["OFFERED", "ABANDONED"]
    );
}

#[tokio::test]
async fn a_busy_agent_is_paused_and_the_call_goes_to_the_next_agent() {
    let tel = Telephony::start(fast_queue()).await;
    let mut busy_screen = tel
        .add_agent_on_screen(
            1,
            Behaviour::Busy {
                after: Duration::from_millis(30),
            },
        )
        .await;
    let busy = busy_screen.worker_id;
    let next = tel.add_agent(2, answers()).await;
    let (inbound, call_id) = tel.place_call("+15551230001");
    let mut watch = tel.watch_call(call_id).await;
    let call = tel
        .wait_call(call_id, "the call to connect", |call| {
            matches!(call.state(), CallState::Connected { .. })
        })
        .await;
    assert_eq!(*call.state(), CallState::Connected { agent: next });
    let offers: Vec<_> = call
        .offers()
        .iter()
        .map(|offer| (offer.attempt, offer.agent, offer.outcome))
        .collect();
    assert_eq!(
        offers,
        [
            (1, busy, Some(OfferOutcome::Busy)),
            (2, next, Some(OfferOutcome::Answered))
        ]
    );
    assert!(paused_for(
        tel.worker(busy).await.presence(),
        "missed_offer"
    ));
    // Each leg was dialled exactly once.
    let requests = tel.control_requests();
    for attempt in [1, 2] {
        let leg = api::telephony::agent_leg_id(call_id, attempt);
        let dials = requests
            .iter()
            .filter(|line| line.starts_with(&format!("POST /channels/{leg}/dial")))
            .count();
        assert_eq!(dials, 1, "{requests:#?}");
    }
    // The busy agent's screen popped the call, then showed them paused.
    busy_screen.wait_popped(call_id, "+15551230001").await;
    busy_screen
        .wait_presences(&["OFFLINE", "AVAILABLE", "OFFERED", "PAUSED"])
        .await;
    assert_eq!(
        busy_screen
            .states
            .last()
            .map(|state| &state["presence"]["reason"]),
        Some(&serde_json::json!("missed_offer"))
    );
    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    tel.wait_until_idle().await;
    tel.assert_call_seen(&mut watch, "ENDED").await;
}

#[tokio::test]
async fn an_agent_who_does_not_answer_in_time_is_paused_and_the_next_agent_gets_the_call() {
    let tel = Telephony::start(fast_queue()).await;
    let silent = tel.add_agent(1, Behaviour::NoAnswer).await;
    let mut next_screen = tel.add_agent_on_screen(2, answers()).await;
    let next = next_screen.worker_id;
    let (inbound, call_id) = tel.place_call("+15551230001");
    let mut watch = tel.watch_call(call_id).await;
    let call = tel
        .wait_call(call_id, "the call to connect", |call| {
            matches!(call.state(), CallState::Connected { .. })
        })
        .await;
    assert_eq!(*call.state(), CallState::Connected { agent: next });
    assert_eq!(call.offers()[0].agent, silent);
    assert_eq!(call.offers()[0].outcome, Some(OfferOutcome::NoAnswer));
    let waited = call.offers()[0]
        .ended_at
        .map(|ended| ended - call.offers()[0].offered_at);
    assert!(
        waited.is_some_and(|waited| waited.num_milliseconds() >= 900),
        "the first phone rang for the offer timeout: {waited:?}"
    );
    assert!(paused_for(
        tel.worker(silent).await.presence(),
        "missed_offer"
    ));
    let leg = api::telephony::agent_leg_id(call_id, 1);
    assert!(tel
        .control_requests()
        .contains(&format!("POST /channels/{leg}/dial timeout=1")));
    // The second agent's screen popped the call and showed them on it.
    next_screen.wait_popped(call_id, "+15551230001").await;
    next_screen
        .wait_presences(&["OFFLINE", "AVAILABLE", "OFFERED", "ON_CALL"])
        .await;
    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    tel.wait_until_idle().await;
    let states = tel.assert_call_seen(&mut watch, "ENDED").await;
    assert!(
        states.ends_with(&["CONNECTED".to_owned(), "ENDED".to_owned()]),
        "{states:?}"
    );
}

#[tokio::test]
async fn an_unreachable_agent_phone_pauses_the_agent_and_the_call_goes_to_the_next_agent() {
    let tel = Telephony::start(fast_queue()).await;
    // agent1's phone never registered: Asterisk refuses the leg (500 Allocation failed).
    let unreachable = tel.register_worker(1).await;
    tel.go_available(unreachable).await;
    let next = tel.add_agent(2, answers()).await;
    let (inbound, call_id) = tel.place_call("+15551230001");
    let mut watch = tel.watch_call(call_id).await;
    let call = tel
        .wait_call(call_id, "the call to connect", |call| {
            matches!(call.state(), CallState::Connected { .. })
        })
        .await;
    assert_eq!(*call.state(), CallState::Connected { agent: next });
    assert_eq!(call.offers()[0].outcome, Some(OfferOutcome::Unreachable));
    assert_eq!(
        tel.assert_call_seen(&mut watch, "CONNECTED")
            .await
            .last()
            .map(String::as_str),
        Some("CONNECTED")
    );
    assert!(paused_for(
        tel.worker(unreachable).await.presence(),
        "phone_unreachable"
    ));
    let leg = api::telephony::agent_leg_id(call_id, 1);
    let requests = tel.control_requests();
    assert!(requests.contains(&format!(
        "POST /channels/create endpoint=PJSIP/agent1 appArgs=agent,{inbound} channelId={leg} -> 500"
    )));
    assert!(!requests
        .iter()
        .any(|line| line.contains(&format!("{leg}/dial"))));
    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    tel.wait_until_idle().await;

    // A registered phone going offline pauses its Available agent too.
    tel.wait_worker(next, "the agent available", |worker| {
        is_available(worker.presence())
    })
    .await;
    tel.sim
        .unregister_endpoint("PJSIP/agent2")
        .expect("phone unregisters");
    tel.wait_worker(next, "the agent paused", |worker| {
        paused_for(worker.presence(), "phone_unreachable")
    })
    .await;
}

#[tokio::test]
async fn a_caller_is_told_and_rejected_when_no_agent_is_logged_in() {
    let mut queue = fast_queue();
    queue.reject_announcement = Some("sound:vm-nobodyavail".into());
    let tel = Telephony::start(queue).await;
    // A paused agent does not count.
    let paused = tel.add_agent(1, answers()).await;
    tel.worker_command(
        paused,
        domain::worker::WorkerCommand::Pause {
            reason: domain::values::PauseReason::parse("lunch").expect("reason"),
            forced_by: None,
            at: chrono::Utc::now(),
        },
    )
    .await;
    let (inbound, call_id) = tel.place_call("+15551230001");
    let mut watch = tel.watch_call(call_id).await;
    let call = tel
        .wait_call(call_id, "the rejection", |call| call.is_terminal())
        .await;
    assert_eq!(
        *call.state(),
        CallState::Rejected {
            reason: RejectReason::NoAgentsLoggedIn
        }
    );
    tel.assert_call_seen(&mut watch, "REJECTED").await;
    tel.wait_until_idle().await;
    assert_eq!(
        tel.control_requests(),
        [
            format!("POST /channels/{inbound}/answer"),
            format!("POST /channels/{inbound}/play media=sound:vm-nobodyavail"),
            format!("DELETE /channels/{inbound}"),
        ]
    );
    assert_eq!(
        tel.event_types("call", &call_id.to_string()).await,
        ["CallQueued", "CallRejected"]
    );
}

#[tokio::test]
async fn when_every_agent_is_busy_the_queue_drains_in_order_as_soon_as_one_frees_up() {
    let tel = Telephony::start(fast_queue()).await;
    let agent = tel.add_agent(1, answers()).await;
    let mut wallboard = tel.watch_wallboard().await;
    let (first, first_call) = tel.place_call("+15551230001");
    tel.wait_bridged(first_call).await;
    let (second, second_call) = tel.place_call("+15551230002");
    let (third, third_call) = tel.place_call("+15551230003");
    // Both wait on hold (however long the server takes to get there under load) …
    tel.wait_on_hold(second_call, &second).await;
    tel.wait_on_hold(third_call, &third).await;
    // … and keep waiting while the only agent talks; the wallboard shows it.
    assert_eq!(*tel.call(second_call).await.state(), CallState::Queued);
    assert_eq!(*tel.call(third_call).await.state(), CallState::Queued);
    wallboard
        .wait("two callers waiting, the agent on a call", |board| {
            board["callsWaiting"] == 2
                && board["oldestWaitSecs"].is_i64()
                && board["agentsByState"].as_array().is_some_and(|counts| {
                    counts.contains(&serde_json::json!({"state": "ON_CALL", "count": 1}))
                })
        })
        .await;

    tel.sim
        .caller_hangs_up(&first)
        .expect("first caller hangs up");
    let second_state = tel
        .wait_call(second_call, "the second call to connect", |call| {
            matches!(call.state(), CallState::Connected { .. })
        })
        .await;
    assert_eq!(*second_state.state(), CallState::Connected { agent });
    assert_eq!(*tel.call(third_call).await.state(), CallState::Queued);

    tel.sim
        .caller_hangs_up(&second)
        .expect("second caller hangs up");
    tel.wait_call(third_call, "the third call to connect", |call| {
        matches!(call.state(), CallState::Connected { .. })
    })
    .await;
    tel.sim
        .caller_hangs_up(&third)
        .expect("third caller hangs up");
    tel.wait_until_idle().await;
    wallboard
        .wait("nobody waiting, three calls answered today", |board| {
            board["callsWaiting"] == 0
                && board["today"]["offered"] == 3
                && board["today"]["answered"] == 3
        })
        .await;
}

#[tokio::test]
async fn a_caller_waiting_longer_than_the_max_wait_is_rejected_and_hung_up() {
    let mut queue = fast_queue();
    queue.max_wait_secs = 1;
    let tel = Telephony::start(queue).await;
    tel.add_agent(1, answers()).await;
    // The first call must reach the agent within the one-second max wait: let the session
    // know the agent is available first (its log tail can trail the commit under load).
    tel.wait_session_settled().await;
    let (first, first_call) = tel.place_call("+15551230001");
    tel.wait_bridged(first_call).await;
    let (waiting, call_id) = tel.place_call("+15551230002");
    let mut watch = tel.watch_call(call_id).await;
    let call = tel
        .wait_call(call_id, "the rejection", |call| call.is_terminal())
        .await;
    let states = tel.assert_call_seen(&mut watch, "REJECTED").await;
    assert!(!states.contains(&"OFFERED".to_owned()), "{states:?}");
    assert_eq!(
        *call.state(),
        CallState::Rejected {
            reason: RejectReason::MaxWaitExceeded
        }
    );
    let waited = call.wait_secs();
    assert_eq!(waited, Some(1), "rejected after the max wait");
    let hold = api::telephony::holding_bridge_id(call_id);
    tel.sim
        .wait_until(tests::telephony::WAIT, "the caller hung up", |sim| {
            sim.channels().iter().all(|channel| channel.id != waiting)
                && sim.bridges().iter().all(|bridge| bridge.id != hold)
        })
        .await
        .expect("caller hung up and bridge destroyed");
    let requests = tel.control_requests();
    assert!(requests.contains(&format!("DELETE /channels/{waiting}")));
    assert!(requests.contains(&format!("DELETE /bridges/{hold}")));
    tel.sim
        .caller_hangs_up(&first)
        .expect("first caller hangs up");
    tel.wait_until_idle().await;
}

#[tokio::test]
async fn an_agent_hanging_up_through_the_api_hangs_up_the_caller_and_destroys_the_bridge() {
    let tel = Telephony::start(fast_queue()).await;
    let mut screen = tel.add_agent_on_screen(1, answers()).await;
    let agent = screen.worker_id;
    let (inbound, call_id) = tel.place_call("+15551230001");
    let mut watch = tel.watch_call(call_id).await;
    tel.wait_bridged(call_id).await;
    let mix = api::telephony::mixing_bridge_id(call_id);
    tel.sim.clear_requests();

    let answer = tests::graphql::gql(
        &tel.app,
        Some(&screen.session.access_token),
        "mutation($id: ID!) { hangUpCall(callId: $id) { state agentId } }",
        serde_json::json!({"id": call_id.to_string()}),
    )
    .await;
    assert_eq!(
        answer.data("hangUpCall"),
        &serde_json::json!({"state": "ENDED", "agentId": agent.to_string()})
    );

    tel.wait_until_idle().await;
    let leg = api::telephony::agent_leg_id(call_id, 1);
    assert_eq!(
        tel.control_requests(),
        [
            format!("DELETE /bridges/{mix}"),
            format!("DELETE /channels/{leg}"),
            format!("DELETE /channels/{inbound}"),
        ]
    );
    let call = tel.call(call_id).await;
    assert_eq!(*call.state(), CallState::Ended { by: EndedBy::Agent });
    tel.wait_worker(agent, "the agent released", |worker| {
        is_available(worker.presence())
    })
    .await;
    assert_eq!(
        tel.event_types("call", &call_id.to_string()).await,
        ["CallQueued", "CallOffered", "CallConnected", "CallEnded"]
    );
    screen
        .wait("the agent back to Available", |screen| {
            let presences = screen.presences();
            presences.contains(&"ON_CALL".to_owned())
                && presences.last().map(String::as_str) == Some("AVAILABLE")
        })
        .await;
    tel.assert_call_seen(&mut watch, "ENDED").await;
}

/// The same hang-up while a write transaction elsewhere in the cluster stays open: the ordered
/// log tail cannot return the `CallEnded`, yet the phones are hung up and the agent freed now,
/// not when that transaction ends.
#[tokio::test]
async fn a_hang_up_through_the_api_takes_effect_while_a_long_transaction_holds_the_log_tail() {
    let postgres = tests::TestPostgres::private().await;
    let tel = Telephony::start_in(&postgres, fast_queue()).await;
    let screen = tel.add_agent_on_screen(1, answers()).await;
    let agent = screen.worker_id;
    let (inbound, call_id) = tel.place_call("+15551230001");
    tel.wait_bridged(call_id).await;
    let long_transaction = postgres.hold_watermark().await;

    let answer = tests::graphql::gql(
        &tel.app,
        Some(&screen.session.access_token),
        "mutation($id: ID!) { hangUpCall(callId: $id) { state } }",
        serde_json::json!({"id": call_id.to_string()}),
    )
    .await;
    assert_eq!(
        answer.data("hangUpCall"),
        &serde_json::json!({"state": "ENDED"})
    );
    tel.sim
        .wait_until(tests::telephony::WAIT, "both phones hung up", |sim| {
            sim.channels().is_empty() && sim.bridges().is_empty()
        })
        .await
        .expect("hung up while the transaction is open");
    tel.wait_worker(agent, "the agent released", |worker| {
        !matches!(worker.presence(), Presence::OnCall { .. })
    })
    .await;
    let requests = tel.control_requests();
    assert!(requests.contains(&format!("DELETE /channels/{inbound}")));
    long_transaction.rollback().await.expect("rollback");
    tel.wait_until_idle().await;
}

#[tokio::test]
async fn calls_finish_consistently_when_the_events_socket_drops_mid_call() {
    let tel = Telephony::start(fast_queue()).await;
    let first_agent = tel.add_agent(1, answers()).await;
    let (gone_caller, gone_call) = tel.place_call("+15551230001");
    let mut gone_watch = tel.watch_call(gone_call).await;
    tel.wait_bridged(gone_call).await;
    let second_agent = tel.add_agent(2, answers()).await;
    let (staying_caller, staying_call) = tel.place_call("+15551230002");
    let mut staying_watch = tel.watch_call(staying_call).await;
    tel.wait_bridged(staying_call).await;

    // The socket drops and, before it is back, one caller hangs up: those events are lost.
    tel.sim.drop_websockets();
    tel.sim
        .caller_hangs_up(&gone_caller)
        .expect("caller hangs up while we are away");
    tel.sim
        .wait_for_socket("callcenter", tests::telephony::WAIT)
        .await
        .expect("the server reconnects");

    let call = tel
        .wait_call(gone_call, "the lost call to be closed", |call| {
            call.is_terminal()
        })
        .await;
    assert_eq!(
        *call.state(),
        CallState::Ended {
            by: EndedBy::System
        }
    );
    assert!(call.system_end_reason().is_some());
    tel.wait_worker(
        first_agent,
        "the agent of the lost call released",
        |worker| is_available(worker.presence()),
    )
    .await;
    // Its agent leg was hung up and its bridge destroyed.
    let leg = api::telephony::agent_leg_id(gone_call, 1);
    let mix = api::telephony::mixing_bridge_id(gone_call);
    tel.sim
        .wait_until(tests::telephony::WAIT, "the lost call torn down", |sim| {
            sim.channels().iter().all(|channel| channel.id != leg)
                && sim.bridges().iter().all(|bridge| bridge.id != mix)
        })
        .await
        .expect("torn down");

    // The other call went on untouched and ends normally.
    assert_eq!(
        *tel.call(staying_call).await.state(),
        CallState::Connected {
            agent: second_agent
        }
    );
    tel.sim
        .caller_hangs_up(&staying_caller)
        .expect("caller hangs up");
    let call = tel
        .wait_call(staying_call, "the other call to end", |call| {
            call.is_terminal()
        })
        .await;
    assert_eq!(
        *call.state(),
        CallState::Ended {
            by: EndedBy::Caller
        }
    );
    tel.wait_worker(second_agent, "the other agent released", |worker| {
        is_available(worker.presence())
    })
    .await;
    tel.wait_until_idle().await;
    // Subscribers saw both ends, the lost one included.
    tel.assert_call_seen(&mut gone_watch, "ENDED").await;
    tel.assert_call_seen(&mut staying_watch, "ENDED").await;
}

#[tokio::test]
async fn a_restarted_server_restores_the_waiting_calls_and_ends_the_calls_asterisk_no_longer_has() {
    restart_while_callers_leave(false).await;
}

/// The same restart while a write transaction elsewhere in the cluster stays open from before
/// the last two calls arrived until the end: the log tail cannot return their events, yet the
/// restarted leader must know them (it once left such a call live, its caller long gone).
#[tokio::test]
async fn a_restarted_server_knows_the_calls_a_long_transaction_elsewhere_hides_from_the_log_tail() {
    restart_while_callers_leave(true).await;
}

async fn restart_while_callers_leave(hold_watermark: bool) {
    let private = if hold_watermark {
        Some(tests::TestPostgres::private().await)
    } else {
        None
    };
    let postgres = match &private {
        Some(private) => private,
        None => tests::TestPostgres::get().await,
    };
    let tel = Telephony::start_in(postgres, fast_queue()).await;
    let agent = tel.add_agent(1, answers()).await;
    let (talking, talking_call) = tel.place_call("+15551230001");
    tel.wait_bridged(talking_call).await;
    let long_transaction = match hold_watermark {
        true => Some(postgres.hold_watermark().await),
        false => None,
    };
    let (waiting, waiting_call) = tel.place_call("+15551230002");
    let (leaving, leaving_call) = tel.place_call("+15551230003");
    let hold = api::telephony::holding_bridge_id(waiting_call);
    let leaving_hold = api::telephony::holding_bridge_id(leaving_call);
    tel.sim
        .wait_until(tests::telephony::WAIT, "both callers on hold", |sim| {
            let bridges = sim.bridges();
            bridges
                .iter()
                .any(|bridge| bridge.id == hold && bridge.channel_ids.len() == 1)
                && bridges
                    .iter()
                    .any(|bridge| bridge.id == leaving_hold && bridge.channel_ids.len() == 1)
        })
        .await
        .expect("on hold");

    // The server stops; meanwhile two callers hang up.
    let Telephony {
        sim,
        app,
        store,
        queue,
        ..
    } = tel;
    let database = app.database.clone();
    let pool = app.pool.clone();
    app.stop().await;
    // The simulator notices the closed socket on its own time.
    sim.wait_until(
        tests::telephony::WAIT,
        "the stopped server's socket closed",
        |sim| !sim.is_connected("callcenter"),
    )
    .await
    .expect("the socket closes");
    sim.caller_hangs_up(&talking).expect("caller hangs up");
    sim.caller_hangs_up(&leaving).expect("caller hangs up");
    sim.clear_requests();

    let restarted = tests::TestApp::spawn_in(postgres, database, |config| {
        tests::telephony::use_sim(config, &sim, &queue)
    })
    .await;
    sim.wait_for_socket("callcenter", tests::telephony::WAIT)
        .await
        .expect("the restarted server connects");
    let load = |call_id: domain::ids::CallId| {
        let store = store.clone();
        async move {
            store
                .load_aggregate::<domain::call::Call>(&call_id.to_string())
                .await
                .expect("call loads")
                .0
        }
    };
    // What Asterisk no longer has is closed as ended by the system …
    for call_id in [talking_call, leaving_call] {
        let call = tests::telephony::wait_for("the gone call closed", || async {
            let call = load(call_id).await;
            call.is_terminal().then_some(call)
        })
        .await;
        assert_eq!(
            *call.state(),
            CallState::Ended {
                by: EndedBy::System
            }
        );
    }
    // … the waiting caller is still on hold (not put on hold twice) and goes to the agent, who
    // was released from the closed call.
    let call = tests::telephony::wait_for("the restored call connected", || async {
        let call = load(waiting_call).await;
        matches!(call.state(), CallState::Connected { .. }).then_some(call)
    })
    .await;
    assert_eq!(*call.state(), CallState::Connected { agent });
    let requests = tests::telephony::control_requests(&sim);
    assert!(!requests.contains(&format!(
        "POST /bridges/{hold}/addChannel channel={waiting}"
    )));
    assert!(requests.contains(&format!("DELETE /bridges/{leaving_hold}")));
    let talking_leg = api::telephony::agent_leg_id(talking_call, 1);
    assert!(requests.contains(&format!("DELETE /channels/{talking_leg}")));
    assert_eq!(
        journal::EventStore::new(pool)
            .load("call", &talking_call.to_string())
            .await
            .expect("events")
            .last()
            .and_then(|event| event.parsed_metadata())
            .map(|metadata| metadata.actor),
        Some(Actor::System)
    );

    sim.caller_hangs_up(&waiting).expect("caller hangs up");
    sim.wait_until(tests::telephony::WAIT, "nothing left", |sim| {
        sim.channels().is_empty() && sim.bridges().is_empty()
    })
    .await
    .expect("no leak");
    restarted.stop().await;
    if let Some(long_transaction) = long_transaction {
        long_transaction.rollback().await.expect("rollback");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_leader_is_killed_the_standby_takes_over_and_reconciles_the_calls_in_flight() {
    let mut queue = fast_queue();
    queue.offer_timeout_secs = 3;
    let (tel, mut leader) =
        Telephony::start_behind_a_process(env!("CARGO_BIN_EXE_savecorp-under-test"), queue).await;
    let talker = tel.add_agent(1, answers()).await;
    let (gone, gone_call) = tel.place_call("+15551230001");
    tel.wait_bridged(gone_call).await;
    let third = tel.add_agent(3, answers()).await;
    let (hung_up, hung_up_call) = tel.place_call("+15551230003");
    tel.wait_bridged(hung_up_call).await;
    let silent = tel.add_agent(2, Behaviour::NoAnswer).await;
    let (ringing, ringing_call) = tel.place_call("+15551230002");
    tel.wait_call(ringing_call, "the offer to agent 2", |call| {
        call.agent() == Some(silent)
    })
    .await;
    let leg = api::telephony::agent_leg_id(ringing_call, 1);
    tel.sim
        .wait_until(tests::telephony::WAIT, "agent 2's phone ringing", |sim| {
            sim.channels()
                .iter()
                .any(|channel| channel.id == leg && channel.state == "Ringing")
        })
        .await
        .expect("ringing");
    assert_eq!(tel.events_sockets(), 1, "only the leader connects");
    // The standby serves the API throughout.
    let mut watch = tel.watch_call(ringing_call).await;

    // kill -9; while nobody leads, a caller hangs up (that StasisEnd is lost) and an agent
    // hangs up in the API (no leader reacts to that CallEnded).
    leader.kill_hard();
    tel.sim.caller_hangs_up(&gone).expect("caller hangs up");
    tel.store
        .execute::<domain::call::Call>(
            &hung_up_call.to_string(),
            domain::call::CallCommand::AgentHangUp {
                agent: third,
                at: chrono::Utc::now(),
            },
            &(),
            &journal::Metadata::new(Actor::Worker(third)),
            None,
        )
        .await
        .expect("agent hangs up in the API");

    // (The simulator may not have noticed the dead socket yet: wait for the standby's own.)
    tel.sim
        .wait_until(Duration::from_secs(30), "the standby's socket", |sim| {
            sim.is_connected("callcenter")
                && sim
                    .requests()
                    .iter()
                    .filter(|request| request.path == "/events")
                    .count()
                    == 2
        })
        .await
        .expect("the standby takes over");
    // The call that ended in the gap is closed by the system; its agent is released …
    let call = tel
        .wait_call(gone_call, "the lost call closed", |call| call.is_terminal())
        .await;
    assert_eq!(
        *call.state(),
        CallState::Ended {
            by: EndedBy::System
        }
    );
    // … the caller whose agent hung up in the gap is hung up too …
    tel.sim
        .wait_until(tests::telephony::WAIT, "the caller hung up", |sim| {
            sim.channels().iter().all(|channel| channel.id != hung_up)
        })
        .await
        .expect("the new leader hangs up the caller of the ended call");
    // … the ringing offer is followed again and times out; the call goes to a freed agent.
    let call = tel
        .wait_call(ringing_call, "the ringing call connected", |call| {
            matches!(call.state(), CallState::Connected { .. })
        })
        .await;
    assert!(
        [talker, third].contains(&call.agent().expect("an agent")),
        "{:?}",
        call.state()
    );
    assert_eq!(
        (call.offers()[0].agent, call.offers()[0].outcome),
        (silent, Some(OfferOutcome::NoAnswer))
    );
    assert!(paused_for(
        tel.worker(silent).await.presence(),
        "missed_offer"
    ));
    tel.wait_bridged(ringing_call).await;

    tel.sim.caller_hangs_up(&ringing).expect("caller hangs up");
    tel.wait_call(ringing_call, "the call to end", |call| call.is_terminal())
        .await;
    let states = tel.assert_call_seen(&mut watch, "ENDED").await;
    assert_eq!(
        states,
        ["OFFERED", "QUEUED", "OFFERED", "CONNECTED", "ENDED"]
    );
    for agent in [talker, third] {
        tel.wait_worker(agent, "the agent available", |worker| {
            is_available(worker.presence())
        })
        .await;
    }
    tel.wait_until_idle().await;
    for call_id in [gone_call, hung_up_call, ringing_call] {
        let types = tel.event_types("call", &call_id.to_string()).await;
        let terminals = types
            .iter()
            .filter(|kind| {
                matches!(
                    kind.as_str(),
                    "CallEnded" | "CallAbandoned" | "CallRejected"
                )
            })
            .count();
        assert_eq!(terminals, 1, "{types:?}");
    }
}

/// Issue 20: a restart reads what is live, not every call ever made. With hundreds of ended
/// calls in the log (copied in SQL from a real one), the restarted leader's restore reads only
/// the calls the `calls` read model has not ended (none) and those it has not applied yet,
/// and the restarted server still takes calls.
#[tokio::test]
async fn a_restart_restores_only_the_live_calls_not_the_history() {
    const COPIES: i64 = 300;
    let postgres = tests::TestPostgres::get().await;
    let tel = Telephony::start_in(postgres, fast_queue()).await;
    let (_, call_id) = tel.place_call("+15551230001");
    tel.wait_call(call_id, "the rejection", |call| call.is_terminal())
        .await;
    tel.wait_until_idle().await;
    let pool = tel.app.pool.clone();
    sqlx::query(
        "INSERT INTO events (event_id, aggregate_type, aggregate_id, sequence, event_type, \
                             event_version, payload, metadata) \
         SELECT gen_random_uuid(), aggregate_type, md5(copy::text || aggregate_id)::uuid::text, \
                sequence, event_type, event_version, payload, metadata \
         FROM events, generate_series(1, $2) copy \
         WHERE aggregate_type = 'call' AND aggregate_id = $1 \
         ORDER BY copy, sequence",
    )
    .bind(call_id.to_string())
    .bind(COPIES)
    .execute(&pool)
    .await
    .expect("copies");
    tests::telephony::wait_for("the calls read model has every copy", || {
        let pool = pool.clone();
        async move {
            let (count,): (i64,) =
                sqlx::query_as("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL")
                    .fetch_one(&pool)
                    .await
                    .expect("count");
            (count == COPIES + 1).then_some(())
        }
    })
    .await;

    let (sim, restarted) = tel.restart_in(postgres).await;
    let restored = tests::telephony::wait_for("the restore", || {
        let link = restarted.state.ari_link.clone();
        async move { link.last_step().restored }
    })
    .await;
    assert_eq!(restored.live_calls, 0, "{restored:?}");
    assert!(
        restored.calls < 5 && restored.call_events < 10,
        "the restore read history: {restored:?} ({} calls in the log)",
        COPIES + 1
    );

    // The restarted leader takes calls as before: a new caller, nobody logged in, is rejected.
    let store = journal::EventStore::new(pool.clone());
    let (_, call) = tests::telephony::call_and_wait(
        &sim,
        &store,
        "+15551230002",
        "the next call rejected",
        |call| call.is_terminal().then(|| call.clone()),
    )
    .await;
    assert_eq!(
        *call.state(),
        CallState::Rejected {
            reason: RejectReason::NoAgentsLoggedIn
        }
    );
    restarted.stop().await;
}

/// Issue 20: a restarted leader takes each agent's calls answered today from the `workers` read
/// model (and the agent's events after its row), not from their whole day in the log, and
/// routes with it: of two agents idle since the same instant, the one with fewer calls today
/// gets the next call, though the other has the smaller id (the last tie-break, PRODUCT §4.2).
#[tokio::test]
async fn a_restarted_leader_knows_each_agents_calls_today_and_routes_by_them() {
    let postgres = tests::TestPostgres::get().await;
    let tel = Telephony::start_in(postgres, fast_queue()).await;
    let first = tel.add_agent(1, answers()).await;
    let second = tel.add_agent(2, answers()).await;
    let (busy, fresh) = if first < second {
        (first, second)
    } else {
        (second, first)
    };
    let pause = |at| domain::worker::WorkerCommand::Pause {
        reason: domain::values::PauseReason::parse("lunch").expect("reason"),
        forced_by: None,
        at,
    };
    // The agent with the smaller id answers one call today (the other is paused meanwhile).
    tel.worker_command(fresh, pause(chrono::Utc::now())).await;
    let (channel, call_id) = tel.place_call("+15551230001");
    let call = tel.wait_bridged(call_id).await;
    assert_eq!(call.agent(), Some(busy));
    tel.sim.caller_hangs_up(&channel).expect("caller hangs up");
    tel.wait_worker(busy, "the agent back from the call", |worker| {
        is_available(worker.presence())
    })
    .await;
    tel.wait_until_idle().await;
    // Both idle since the same instant.
    let since = chrono::Utc::now();
    tel.worker_command(busy, pause(since)).await;
    for agent in [busy, fresh] {
        tel.worker_command(
            agent,
            domain::worker::WorkerCommand::GoAvailable {
                forced_by: None,
                at: since,
            },
        )
        .await;
    }
    let pool = tel.app.pool.clone();
    let version = |agent: domain::ids::WorkerId| {
        let store = tel.store.clone();
        async move {
            store
                .load_aggregate::<domain::worker::Worker>(&agent.to_string())
                .await
                .expect("worker loads")
                .1
        }
    };
    let busy_version = version(busy).await;
    tests::telephony::wait_for("the workers read model has the agent's events", || {
        let pool = pool.clone();
        async move {
            let row: Option<(i64, i32)> =
                sqlx::query_as("SELECT version, calls_today FROM workers WHERE worker_id = $1")
                    .bind(busy.as_uuid())
                    .fetch_optional(&pool)
                    .await
                    .expect("row");
            row.filter(|(version, _)| *version == busy_version)
                .map(|(_, calls)| assert_eq!(calls, 1))
        }
    })
    .await;

    let (sim, restarted) = tel.restart_in(postgres).await;
    let store = journal::EventStore::new(pool.clone());
    let (next, offered) = tests::telephony::call_and_wait(
        &sim,
        &store,
        "+15551230002",
        "the next call offered",
        domain::call::Call::agent,
    )
    .await;
    assert_eq!(
        offered, fresh,
        "the agent with no call today gets it ({busy} answered one)"
    );
    let _ = sim.caller_hangs_up(&next);
    restarted.stop().await;
}
