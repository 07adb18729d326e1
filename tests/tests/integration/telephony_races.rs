//! What a real Asterisk does that a friendly simulator would not: a `POST /channels/create`
//! that answers before the leg entered Stasis (a dial sent at once is refused 409), a leg that
//! never enters Stasis, and channel ids that only stay unique across runs if each run starts
//! from its own epoch (issue 14 §2 and §5).

use std::collections::HashSet;
use std::time::Duration;

use api::telephony::simulate::{self, SimulateConfig};
use ari_adapter::sim::Behaviour;
use chrono::TimeDelta;
use domain::call::{CallState, OfferOutcome};
use domain::ids::{CallId, WorkerId};
use domain::worker::{Presence, WorkerCommand};
use tests::postgres::TestPostgres;
use tests::telephony::{agent_endpoint, fast_queue, Telephony, WAIT};

fn answers() -> Behaviour {
    Behaviour::Answer {
        after: Duration::from_millis(30),
    }
}

/// Events that say the worker was blamed for an offer.
async fn blamed(tel: &Telephony, worker_id: WorkerId) -> Vec<String> {
    tel.event_types("worker", &worker_id.to_string())
        .await
        .into_iter()
        .filter(|kind| kind == "WorkerOfferMissed" || kind == "WorkerPaused")
        .collect()
}

/// Places a call, waits until it is bridged with an agent, then the caller hangs up.
async fn answered_call(tel: &Telephony, number: &str) -> CallId {
    let (inbound, call_id) = tel.place_call(number);
    tel.wait_bridged(call_id).await;
    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    tel.wait_call(call_id, "the call to end", |call| call.is_terminal())
        .await;
    call_id
}

#[tokio::test]
async fn a_leg_whose_create_answers_before_its_stasis_start_is_dialled_after_it_and_nobody_is_paused(
) {
    let tel = Telephony::start(fast_queue()).await;
    // Every create answers 200 before its leg entered Stasis: a dial sent at once is a 409.
    tel.sim.set_late_stasis_probability(1.0);
    let agents = [
        tel.add_agent(1, answers()).await,
        tel.add_agent(2, answers()).await,
    ];
    for n in 0..4 {
        let call_id = answered_call(&tel, &format!("+1555124000{n}")).await;
        let call = tel.call(call_id).await;
        assert_eq!(call.offers().len(), 1, "{:?}", call.offers());
        assert_eq!(call.offers()[0].outcome, Some(OfferOutcome::Answered));
    }
    tel.wait_until_idle().await;
    let refused: Vec<String> = tel
        .sim
        .requests()
        .into_iter()
        .filter(|request| request.path.ends_with("/dial") && request.status != 204)
        .map(|request| format!("{} {}", request.path, request.status))
        .collect();
    assert!(refused.is_empty(), "dials refused: {refused:?}");
    for agent in agents {
        assert!(blamed(&tel, agent).await.is_empty(), "{agent} was blamed");
        assert_eq!(*tel.worker(agent).await.presence(), Presence::Available);
    }
}

#[tokio::test]
async fn a_leg_that_never_enters_stasis_fails_the_offer_as_a_system_failure_without_pausing_the_agent(
) {
    let tel = Telephony::start(fast_queue()).await;
    // agent1's legs are created (200) but never enter Stasis: they can never be dialled.
    tel.sim.hold_legs_out_of_stasis(&agent_endpoint(1), true);
    let stuck = tel.add_agent(1, answers()).await;
    let next = tel.add_agent(2, answers()).await;
    let (inbound, call_id) = tel.place_call("+15551241000");
    let call = tel.wait_bridged(call_id).await;
    assert_eq!(*call.state(), CallState::Connected { agent: next });
    let offers = call.offers();
    assert_eq!(offers.len(), 2, "{offers:?}");
    assert_eq!(offers[0].agent, stuck);
    assert_eq!(offers[0].outcome, Some(OfferOutcome::SystemFailure));
    let failed_at = offers[0].ended_at.expect("the first offer ended");
    // Given up after the Stasis wait (1 s), not after the offer timeout plus grace (6 s).
    assert!(
        failed_at - offers[0].offered_at < TimeDelta::seconds(3),
        "{offers:?}"
    );
    // The call went to the next agent within a second.
    assert!(
        offers[1].offered_at - failed_at < TimeDelta::seconds(1),
        "{offers:?}"
    );
    // The agent whose phone never rang is not blamed, and is Available again.
    assert!(blamed(&tel, stuck).await.is_empty());
    assert!(tel
        .event_types("worker", &stuck.to_string())
        .await
        .contains(&"WorkerOfferWithdrawn".to_owned()));
    assert_eq!(*tel.worker(stuck).await.presence(), Presence::Available);
    // The undialled leg was hung up at once: nothing is left once the caller hangs up.
    let leg = api::telephony::agent_leg_id(call_id, 1);
    assert!(tel
        .control_requests()
        .iter()
        .any(|request| request.starts_with(&format!("DELETE /channels/{leg}"))));
    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    tel.wait_until_idle().await;
}

#[tokio::test]
async fn two_simulator_runs_against_one_server_record_every_call_placed() {
    let args = SimulateConfig {
        agents: 1,
        calls: 2,
        interval_ms: 0,
        max_call_secs: 1,
        app: "callcenter".to_owned(),
    };
    let mut tel = Telephony::start_with(
        TestPostgres::get().await,
        simulate::sim_config(&args),
        fast_queue(),
    )
    .await;
    let agent = tel.add_agent(1, answers()).await;
    let mut placed = Vec::new();
    for n in 0..2 {
        placed.push(answered_call(&tel, &format!("+1555125000{n}")).await);
    }
    // `savecorp simulate` runs again: a new simulated Asterisk (here on the same port, so the
    // server reconnects to it by itself).
    tel.sim
        .restart(simulate::sim_config(&args), Duration::from_millis(100))
        .await
        .expect("the second run starts");
    tel.sim
        .wait_for_socket("callcenter", WAIT)
        .await
        .expect("the server connects to the second run");
    let endpoint = agent_endpoint(1);
    tel.sim
        .register_endpoint(&endpoint)
        .expect("phone registers");
    tel.sim.set_agent_behaviour(&endpoint, answers());
    if *tel.worker(agent).await.presence() != Presence::Available {
        tel.worker_command(
            agent,
            WorkerCommand::GoAvailable {
                forced_by: None,
                at: chrono::Utc::now(),
            },
        )
        .await;
    }
    for n in 2..4 {
        placed.push(answered_call(&tel, &format!("+1555125000{n}")).await);
    }
    let distinct: HashSet<CallId> = placed.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        placed.len(),
        "a call id repeated: {placed:?}"
    );
    let (recorded,): (i64,) = sqlx::query_as(
        "SELECT count(DISTINCT aggregate_id) FROM events WHERE aggregate_type = 'call'",
    )
    .fetch_one(&tel.app.pool)
    .await
    .expect("calls counted");
    assert_eq!(recorded, 4);
}
