//! A logged-out agent takes no calls (issue 14 §3): when a worker's last session ends, the
//! telephony leader logs them out (Offline, `WorkerLoggedOut`), right away or after their call.

use std::time::Duration;

use ari_adapter::sim::Behaviour;
use domain::call::{CallState, RejectReason};
use domain::ids::WorkerId;
use domain::worker::Presence;
use serde_json::json;
use tests::graphql::gql;
use tests::telephony::{fast_queue, Telephony};

fn answers() -> Behaviour {
    Behaviour::Answer {
        after: Duration::from_millis(30),
    }
}

async fn log_out(tel: &Telephony, access_token: &str) {
    let answer = gql(
        &tel.app,
        Some(access_token),
        "mutation { logout }",
        json!({}),
    )
    .await;
    assert_eq!(answer.data("logout"), &json!(true));
}

async fn wait_logged_out(tel: &Telephony, worker_id: WorkerId) {
    tel.wait_worker(worker_id, "the worker logged out", |worker| {
        *worker.presence() == Presence::Offline
    })
    .await;
    let events = tel.event_types("worker", &worker_id.to_string()).await;
    assert_eq!(
        events.last().map(String::as_str),
        Some("WorkerLoggedOut"),
        "{events:?}"
    );
}

#[tokio::test]
async fn an_agent_who_logs_out_goes_offline_and_the_next_call_goes_to_another_agent() {
    let tel = Telephony::start(fast_queue()).await;
    // The agent who logs out is the one idle the longest: the call would go to them.
    let leaving = tel.add_agent_on_screen(1, answers()).await;
    let staying = tel.add_agent(2, answers()).await;
    log_out(&tel, &leaving.session.access_token).await;
    wait_logged_out(&tel, leaving.worker_id).await;

    let (inbound, call_id) = tel.place_call("+15551260001");
    let call = tel.wait_bridged(call_id).await;
    assert_eq!(*call.state(), CallState::Connected { agent: staying });
    assert!(
        call.offers()
            .iter()
            .all(|offer| offer.agent != leaving.worker_id),
        "{:?}",
        call.offers()
    );
    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    tel.wait_until_idle().await;
    assert_eq!(
        *tel.worker(leaving.worker_id).await.presence(),
        Presence::Offline
    );
}

#[tokio::test]
async fn an_agent_who_logs_out_during_a_call_goes_offline_after_the_call_and_gets_no_more_calls() {
    let tel = Telephony::start(fast_queue()).await;
    let agent = tel.add_agent_on_screen(1, answers()).await;
    let (inbound, call_id) = tel.place_call("+15551260002");
    tel.wait_bridged(call_id).await;
    log_out(&tel, &agent.session.access_token).await;

    // The call goes on: the agent stays on it until the caller hangs up.
    tel.sim.caller_hangs_up(&inbound).expect("caller hangs up");
    tel.wait_call(call_id, "the call to end", |call| call.is_terminal())
        .await;
    wait_logged_out(&tel, agent.worker_id).await;
    let events = tel
        .event_types("worker", &agent.worker_id.to_string())
        .await;
    assert!(
        events.ends_with(&["WorkerCallEnded".to_owned(), "WorkerLoggedOut".to_owned()]),
        "{events:?}"
    );

    // The only agent is logged out: the next caller is not offered to them.
    let (_next_inbound, next_call) = tel.place_call("+15551260003");
    let next = tel
        .wait_call(next_call, "the next call to be rejected", |call| {
            call.is_terminal()
        })
        .await;
    assert_eq!(
        *next.state(),
        CallState::Rejected {
            reason: RejectReason::NoAgentsLoggedIn
        }
    );
    assert!(next.offers().is_empty(), "{:?}", next.offers());
    tel.wait_until_idle().await;
}
