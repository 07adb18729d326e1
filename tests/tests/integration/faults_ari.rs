//! ARI outages (RELIABILITY.md): the simulated Asterisk's events socket stalls mid-call, and
//! Asterisk restarts mid-call (every channel and bridge gone, nothing answering for a while,
//! then a fresh Asterisk on the same port). The adapter recovers by itself; no agent stays
//! stuck, no call stays open, nothing leaks in the simulator.

use std::time::Duration;

use ari_adapter::sim::{Behaviour, SimConfig};
use domain::call::{CallState, EndedBy};
use domain::worker::{Presence, WorkerCommand};
use tests::telephony::{agent_endpoint, fast_queue, Telephony, WAIT};

fn answers() -> Behaviour {
    Behaviour::Answer {
        after: Duration::from_millis(30),
    }
}

fn is_free(presence: &Presence) -> bool {
    !matches!(presence, Presence::Offered { .. } | Presence::OnCall { .. })
}

#[tokio::test]
async fn a_stalled_events_socket_delays_the_events_but_loses_none() {
    let tel = Telephony::start(fast_queue()).await;
    let agent = tel.add_agent(1, answers()).await;
    let (caller, call_id) = tel.place_call("+15551240001");
    tel.wait_bridged(call_id).await;

    // The socket goes quiet for 2 s (frames are held, the TCP connection stays up); the
    // caller hangs up and a second customer calls meanwhile.
    tel.sim.stall_websockets(Duration::from_secs(2));
    tel.sim.caller_hangs_up(&caller).expect("caller hangs up");
    let (second_caller, second_call) = tel.place_call("+15551240002");
    assert!(
        matches!(tel.call(call_id).await.state(), CallState::Connected { .. }),
        "nothing is known before the stall ends"
    );

    // Once the frames flow again both are handled in order: the first call ends by the
    // caller, the agent is released and gets the second call.
    let ended = tel
        .wait_call(call_id, "the first call to end", |call| call.is_terminal())
        .await;
    assert_eq!(
        *ended.state(),
        CallState::Ended {
            by: EndedBy::Caller
        }
    );
    let second = tel.wait_bridged(second_call).await;
    assert_eq!(*second.state(), CallState::Connected { agent });
    tel.sim
        .caller_hangs_up(&second_caller)
        .expect("second caller hangs up");
    tel.wait_call(second_call, "the second call to end", |call| {
        call.is_terminal()
    })
    .await;
    tel.wait_worker(agent, "the agent released", |worker| {
        *worker.presence() == Presence::Available
    })
    .await;
    tel.wait_until_idle().await;
    assert_eq!(
        tel.events_sockets(),
        1,
        "a stall shorter than the stall timeout keeps the socket"
    );
}

#[tokio::test]
async fn an_asterisk_restart_mid_call_ends_the_lost_calls_and_frees_the_agents() {
    let mut tel = Telephony::start(fast_queue()).await;
    let agent = tel.add_agent(1, answers()).await;
    let (_connected_caller, connected_call) = tel.place_call("+15551250001");
    tel.wait_bridged(connected_call).await;
    // A second caller waits on hold: the only agent is busy.
    let (waiting_caller, waiting_call) = tel.place_call("+15551250002");
    tel.wait_on_hold(waiting_call, &waiting_caller).await;

    // Asterisk restarts: both callers are gone with it, nothing answers for 1 s. Like a real
    // Asterisk, the new one's channel ids start from its own start time.
    let restarted = SimConfig {
        uniqueid_epoch: SimConfig::default().uniqueid_epoch + 3_600,
        ..SimConfig::default()
    };
    tel.sim
        .restart(restarted, Duration::from_secs(1))
        .await
        .expect("the simulator restarts on its port");
    tel.sim
        .wait_for_socket("callcenter", WAIT)
        .await
        .expect("the server reconnects to the restarted Asterisk");

    // The server resynchronises from what the new Asterisk has (nothing): both calls end as
    // `system`, the agent is not left on a call that no longer exists.
    for call_id in [connected_call, waiting_call] {
        let call = tel
            .wait_call(call_id, "the lost call to be closed", |call| {
                call.is_terminal()
            })
            .await;
        assert!(
            matches!(
                call.state(),
                CallState::Ended {
                    by: EndedBy::System
                } | CallState::Abandoned { .. }
            ),
            "{call_id}: {:?}",
            call.state()
        );
    }
    tel.wait_worker(agent, "the agent off the lost call", |worker| {
        is_free(worker.presence())
    })
    .await;

    // The agent's phone registers with the new Asterisk; the agent makes themselves available
    // again if the outage paused them, and the next call is served normally.
    let endpoint = agent_endpoint(1);
    tel.sim
        .register_endpoint(&endpoint)
        .expect("the phone registers again");
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
    let (next_caller, next_call) = tel.place_call("+15551250003");
    let next = tel.wait_bridged(next_call).await;
    assert_eq!(*next.state(), CallState::Connected { agent });
    tel.sim
        .caller_hangs_up(&next_caller)
        .expect("caller hangs up");
    tel.wait_call(next_call, "the next call to end", |call| call.is_terminal())
        .await;
    tel.wait_worker(agent, "the agent released", |worker| {
        *worker.presence() == Presence::Available
    })
    .await;
    tel.wait_until_idle().await;
}
