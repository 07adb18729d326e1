//! P5: ARI event → dial request latency with the simulated Asterisk.
//!
//! Callers arrive paced (never more than a fraction of the agents busy, so every call finds a
//! free agent at once) and hang up 300 ms after arriving. Latency = the instant the simulator
//! received `POST /channels/{agent leg}/dial` for the call − the instant just before the
//! simulator emitted the call's StasisStart (`SimHandle::place_call` emits it synchronously).
//! Both instants come from the same process's monotonic clock.
//!
//! A call whose first dial comes after its caller hung up (300 ms) is never dialled: the count
//! of calls "dialled on the first attempt" is printed beside the quantiles. (It was 27 of 50
//! while the dispatcher reacted to its own Call events only when the ordered log tail returned
//! them, which a concurrent projector transaction could hold back until the next 250 ms poll,
//! once for the hold and once for the dial.)

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use api::telephony::QueueConfig;
use ari_adapter::sim::Behaviour;
use tests::telephony::Telephony;

use super::{Figure, Latencies};

pub async fn run(quick: bool, figures: &mut Vec<Figure>) -> anyhow::Result<()> {
    let (callers, agents) = if quick { (50, 25) } else { (200, 100) };
    let tel = Telephony::start(QueueConfig {
        offer_timeout_secs: 5,
        wrap_up_secs: 0,
        max_wait_secs: 60,
        max_queue_length: 1_000,
        reject_announcement: None,
    })
    .await;
    for n in 1..=agents {
        tel.add_agent(
            n,
            Behaviour::Answer {
                after: Duration::from_millis(20),
            },
        )
        .await;
    }
    // Let the server see every agent available.
    // sleep-ok: benchmark scenario timing
    tokio::time::sleep(Duration::from_secs(1)).await;
    tel.sim.clear_requests();

    let hold = Duration::from_millis(300);
    let arrivals = Duration::from_millis(20);
    let mut placed = Vec::new();
    let mut hang_ups: VecDeque<(String, Instant)> = VecDeque::new();
    let mut tick = tokio::time::interval(arrivals);
    for n in 0..callers {
        tick.tick().await;
        while hang_ups
            .front()
            .is_some_and(|(_, due)| *due <= Instant::now())
        {
            if let Some((channel, _)) = hang_ups.pop_front() {
                let _ = tel.sim.caller_hangs_up(&channel);
            }
        }
        let before = Instant::now();
        let Ok(channel) = tel
            .sim
            .place_call(&format!("+3361{n:07}"), "Customer", "100")
        else {
            continue;
        };
        let call_id = api::telephony::call_id_for_channel(&channel);
        placed.push((api::telephony::agent_leg_id(call_id, 1), before));
        hang_ups.push_back((channel, before + hold));
    }
    // sleep-ok: benchmark scenario timing (calls held)
    tokio::time::sleep(hold + Duration::from_millis(500)).await;
    for (channel, _) in hang_ups {
        let _ = tel.sim.caller_hangs_up(&channel);
    }
    // sleep-ok: benchmark scenario timing
    tokio::time::sleep(Duration::from_millis(500)).await;

    let dials: HashMap<String, Instant> = tel
        .sim
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST" && request.path.ends_with("/dial"))
        .map(|request| (request.path, request.received_at))
        .collect();
    let samples: Vec<Duration> = placed
        .iter()
        .filter_map(|(leg, before)| {
            dials
                .get(&format!("/channels/{leg}/dial"))
                .map(|at| at.saturating_duration_since(*before))
        })
        .collect();
    println!(
        "P5 {} calls placed, {} dialled to an agent on the first attempt",
        placed.len(),
        samples.len()
    );
    let latencies = Latencies::new(samples);
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        let value = latencies.quantile_ms(q);
        println!("P5 {name} {value:>8.3} ms (goal 5 ms)");
        figures.push(Figure {
            id: format!("P5 {name}"),
            description: format!(
                "StasisStart emitted -> POST /channels/{{leg}}/dial received by the simulator, \
                 {callers} callers every {} ms, {agents} agents; limit column = the goal",
                arrivals.as_millis()
            ),
            value,
            unit: "ms".into(),
            limit: 5.0,
            ratio: if value > 0.0 { 5.0 / value } else { 0.0 },
            goal: "p99 <= 5 ms".into(),
        });
    }
    idle(&tel, if quick { 20 } else { 100 }, callers, figures).await?;
    tel.app.stop().await;
    tel.sim.shutdown().await;
    Ok(())
}

/// P5-idle (issue 17): the same latency with one caller at a time, so nothing queues behind
/// another call: the dispatcher's own latency. Each caller waits for its dial (the instant is
/// the simulator's, so how often this loop looks does not count), hangs up, and the next one
/// comes 200 ms later (the agent back from its call).
async fn idle(
    tel: &Telephony,
    callers: usize,
    first_number: usize,
    figures: &mut Vec<Figure>,
) -> anyhow::Result<()> {
    let mut samples = Vec::new();
    for n in first_number..first_number + callers {
        let before = Instant::now();
        let Ok(channel) = tel
            .sim
            .place_call(&format!("+3361{n:07}"), "Customer", "100")
        else {
            continue;
        };
        let leg = api::telephony::agent_leg_id(api::telephony::call_id_for_channel(&channel), 1);
        let path = format!("/channels/{leg}/dial");
        let deadline = before + Duration::from_secs(10);
        let dialled = loop {
            if let Some(request) = tel
                .sim
                .requests()
                .into_iter()
                .find(|request| request.method == "POST" && request.path == path)
            {
                break Some(request.received_at);
            }
            if Instant::now() >= deadline {
                break None;
            }
            // sleep-ok: poll interval of a bounded wait (the dial request arrived)
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        if let Some(at) = dialled {
            samples.push(at.saturating_duration_since(before));
        }
        let _ = tel.sim.caller_hangs_up(&channel);
        // sleep-ok: benchmark scenario timing (the agent is back before the next caller)
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "P5-idle {callers} callers one at a time, {} dialled",
        samples.len()
    );
    let latencies = Latencies::new(samples);
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        let value = latencies.quantile_ms(q);
        println!("P5-idle {name} {value:>8.3} ms (goal 3 ms)");
        figures.push(Figure {
            id: format!("P5-idle {name}"),
            description: format!(
                "StasisStart emitted -> POST /channels/{{leg}}/dial received by the simulator, \
                 {callers} callers one at a time (200 ms apart after each hang-up); limit \
                 column = the goal"
            ),
            value,
            unit: "ms".into(),
            limit: 3.0,
            ratio: if value > 0.0 { 3.0 / value } else { 0.0 },
            goal: "p99 <= 3 ms".into(),
        });
    }
    Ok(())
}
