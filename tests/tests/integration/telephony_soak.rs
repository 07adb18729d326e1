//! Randomised soak of the telephony service: 500 callers and 20 agents with seeded random
//! behaviour (answer, busy, no answer, decline; caller, agent phone or API hang-up; impatient
//! callers), against server instances sharing one database and one simulated Asterisk, with
//! the active dispatcher killed with SIGKILL a third of the way through and the next one stopped
//! gracefully at two thirds. Replay a run with `SOAK_SEED=<seed>` (printed at the start and on
//! failure).
//!
//! Afterwards, from the log, the read models, the GraphQL API and the simulator: every call
//! ended in exactly one terminal state, no agent ever held two calls at once, nothing leaked in
//! Asterisk, no agent is left Offered or OnCall, and the `kpis` counts equal the log's.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use api::telephony::QueueConfig;
use ari_adapter::sim::{Behaviour, SimAsterisk, SimChannel, SimConfig, SimHandle};
use chrono::Utc;
use domain::call::{CallCommand, CallEvent};
use domain::ids::{CallId, WorkerId};
use domain::worker::WorkerEvent;
use journal::{Actor, EventStore, Metadata};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::json;
use tests::graphql::{gql, login, ADMIN_EMAIL, PASSWORD};
use tests::telephony::{add_agent, agent_endpoint, use_sim, ServerProcess};
use tests::{TestApp, TestPostgres};
use tokio::time::Instant;

const CALLS: usize = 500;
const AGENTS: u32 = 20;
/// Callers on the line at once, at most: about what a 20-agent queue sees at its busiest.
const IN_FLIGHT: usize = 25;
/// Callers the server has not answered yet (put on hold), at most: new callers wait while the
/// dispatcher is behind, so that a debug build on a loaded machine is stressed, not swamped
/// (a growing backlog would only turn every call into an abandoned one).
const UNANSWERED: usize = 8;
/// The whole run (calls placed and ended) must fit in this, or the soak fails.
const RUN_LIMIT: Duration = Duration::from_secs(240);
/// Bounded waits for the system to settle after the last caller left.
const SETTLE: Duration = Duration::from_secs(60);
const BINARY: &str = env!("CARGO_BIN_EXE_savecorp-under-test");

/// Prints the seed when the test fails, so the run can be replayed.
struct SeedOnFailure(u64);

impl Drop for SeedOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("telephony soak failed; replay with SOAK_SEED={}", self.0);
        }
    }
}

fn queue() -> QueueConfig {
    QueueConfig {
        offer_timeout_secs: 1,
        wrap_up_secs: 0,
        max_wait_secs: 5,
        max_queue_length: 100,
        reject_announcement: None,
    }
}

fn random_behaviour(rng: &mut StdRng) -> Behaviour {
    let after = |rng: &mut StdRng, most: u64| Duration::from_millis(rng.gen_range(10..most));
    match rng.gen_range(0..100) {
        0..=64 => Behaviour::Answer {
            after: after(rng, 300),
        },
        65..=76 => Behaviour::Busy {
            after: after(rng, 150),
        },
        77..=84 => Behaviour::NoAnswer,
        _ => Behaviour::Reject {
            after: after(rng, 150),
        },
    }
}

/// How a connected call ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    CallerHangsUp,
    AgentPhoneHangsUp,
    /// `hangUpCall` (the command the mutation runs).
    AgentHangsUpInTheApi,
}

/// What one caller will do.
#[derive(Clone, Copy, Debug)]
struct Script {
    /// How long they wait for an agent before hanging up.
    patience: Duration,
    talk: Duration,
    ending: Ending,
}

fn random_script(rng: &mut StdRng) -> Script {
    let patience = if rng.gen_range(0..10) < 3 {
        Duration::from_millis(rng.gen_range(100..2_000))
    } else {
        Duration::from_millis(rng.gen_range(2_000..6_000))
    };
    let ending = match rng.gen_range(0..10) {
        0..=4 => Ending::CallerHangsUp,
        5..=7 => Ending::AgentPhoneHangsUp,
        _ => Ending::AgentHangsUpInTheApi,
    };
    Script {
        patience,
        talk: Duration::from_millis(rng.gen_range(50..1_000)),
        ending,
    }
}

/// A caller on the line.
struct Caller {
    channel_id: String,
    call_id: CallId,
    script: Script,
    placed_at: Instant,
    /// When the caller was first seen in a mixing bridge, and the agent's phone.
    connected: Option<(Instant, String)>,
    /// When the ending was acted out (the server must then tear the call down).
    ended_at: Option<Instant>,
}

/// The instances running at each stage of the soak.
struct Cluster {
    /// The first leader, a separate process (killed with SIGKILL).
    first: Option<ServerProcess>,
    /// The first standby, in this process (becomes the leader, then is stopped gracefully).
    second: Option<TestApp>,
    /// Started after the kill, in this process (leads at the end; answers GraphQL).
    third_starting: Option<tokio::task::JoinHandle<TestApp>>,
    third: Option<TestApp>,
    stopping: Option<tokio::task::JoinHandle<()>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_call_random_soak_with_a_killed_and_a_stopped_leader_ends_every_call_once() {
    tests::init_test_log();
    let seed: u64 = std::env::var("SOAK_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("telephony soak seed {seed} (SOAK_SEED={seed} replays the same script)");
    let _report = SeedOnFailure(seed);
    let mut rng = StdRng::seed_from_u64(seed);

    let sim = SimAsterisk::start(SimConfig::default())
        .await
        .expect("simulator starts");
    let postgres = TestPostgres::get().await;
    let database = postgres.fresh_database().await;
    let store = EventStore::new(postgres.pool(&database, 4).await);
    let queue = queue();

    // The first leader is a separate process, so that it can be killed for real.
    let mut first = ServerProcess::spawn(BINARY, &database, &sim, &queue).await;
    if sim
        .wait_for_socket("callcenter", Duration::from_secs(90))
        .await
        .is_err()
    {
        panic!(
            "the server process never connected; its log:\n{}",
            first.log_tail(40)
        );
    }
    let second = TestApp::spawn_on(database.clone(), |config| use_sim(config, &sim, &queue)).await;
    let mut agents: Vec<(u32, WorkerId)> = Vec::new();
    for n in 1..=AGENTS {
        let behaviour = random_behaviour(&mut rng);
        agents.push((n, add_agent(&sim, &store, n, behaviour).await));
    }
    let worker_of: HashMap<String, WorkerId> = agents
        .iter()
        .map(|(n, worker_id)| (agent_endpoint(*n), *worker_id))
        .collect();
    let range_start = Utc::now() - chrono::Duration::minutes(1);
    let started = Instant::now();
    assert!(first.is_running());

    let mut cluster = Cluster {
        first: Some(first),
        second: Some(second),
        third_starting: None,
        third: None,
        stopping: None,
    };
    let mut sockets_before_kill = 0;
    // What happened when (offsets from the start), for failure messages.
    let mut timeline: Vec<(Duration, String)> = Vec::new();
    let mut placed: Vec<(CallId, Script)> = Vec::new();
    let mut on_line: Vec<Caller> = Vec::new();
    let mut next_arrival = Instant::now();
    let mut next_supervision = Instant::now();
    // API hang-ups the server did not carry out (the caller was still there long after).
    let mut ignored_hang_ups: Vec<CallId> = Vec::new();
    // When impatient callers hung up.
    let mut gave_up: HashMap<CallId, std::time::Instant> = HashMap::new();
    let mut placed_at: HashMap<CallId, (usize, std::time::Instant)> = HashMap::new();
    // When each leader went away (killed, then stopped).
    let mut failovers: Vec<std::time::Instant> = Vec::new();
    let mut placed_utc: HashMap<CallId, chrono::DateTime<Utc>> = HashMap::new();

    while placed.len() < CALLS || !on_line.is_empty() {
        let now = Instant::now();
        assert!(
            now - started < RUN_LIMIT,
            "the soak did not finish in {RUN_LIMIT:?}: {} placed, {} on the line",
            placed.len(),
            on_line.len()
        );

        // Fail-overs: SIGKILL of the leader at a third, graceful stop of the next at two thirds.
        if placed.len() >= CALLS / 3 {
            if let Some(mut process) = cluster.first.take() {
                sockets_before_kill = events_sockets(&sim);
                process.kill_hard();
                failovers.push(std::time::Instant::now());
                timeline.push((
                    started.elapsed(),
                    format!("leader killed at call {}", placed.len()),
                ));
                let (database, queue, base_url) = (database.clone(), queue.clone(), sim.base_url());
                cluster.third_starting = Some(tokio::spawn(async move {
                    TestApp::spawn_on(database, |config| {
                        use_sim_url(config, &base_url, &queue);
                    })
                    .await
                }));
            }
        }
        if placed.len() >= 2 * CALLS / 3 && cluster.second.is_some() {
            // The next leader must be up before the current one goes.
            if let Some(starting) = cluster.third_starting.take() {
                cluster.third = Some(starting.await.expect("third instance starts"));
            }
            if let Some(second) = cluster.second.take() {
                failovers.push(std::time::Instant::now());
                timeline.push((
                    started.elapsed(),
                    format!("leader stopping at call {}", placed.len()),
                ));
                cluster.stopping = Some(tokio::spawn(second.stop()));
            }
        }

        // Callers act out their scripts.
        let channels: HashMap<String, SimChannel> = sim
            .channels()
            .into_iter()
            .map(|channel| (channel.id.clone(), channel))
            .collect();
        let mut still_on_line = Vec::with_capacity(on_line.len());
        for mut caller in on_line.drain(..) {
            let Some(channel) = channels.get(&caller.channel_id) else {
                continue; // hung up (by us or by the server)
            };
            if caller.connected.is_none() {
                let mixed = channel
                    .bridge_id
                    .as_ref()
                    .filter(|bridge| bridge.starts_with("savecorp-mix-"));
                if let Some(bridge) = mixed {
                    let agent_phone = channels
                        .values()
                        .find(|other| {
                            other.id != caller.channel_id
                                && other.bridge_id.as_ref() == Some(bridge)
                        })
                        .map(|other| other.endpoint.clone());
                    if let Some(agent_phone) = agent_phone {
                        caller.connected = Some((now, agent_phone));
                    }
                }
            }
            match (&caller.connected, caller.ended_at) {
                (None, _) => {
                    if now - caller.placed_at >= caller.script.patience {
                        let _ = sim.caller_hangs_up(&caller.channel_id);
                        gave_up.insert(caller.call_id, std::time::Instant::now());
                        continue;
                    }
                }
                (Some((connected_at, agent_phone)), None) => {
                    if now - *connected_at >= caller.script.talk {
                        caller.ended_at = Some(now);
                        match caller.script.ending {
                            Ending::CallerHangsUp => {
                                let _ = sim.caller_hangs_up(&caller.channel_id);
                                continue;
                            }
                            Ending::AgentPhoneHangsUp => {
                                sim.agent_hangs_up(agent_phone);
                            }
                            Ending::AgentHangsUpInTheApi => {
                                let agent = worker_of[agent_phone];
                                if !hang_up_in_the_api(&store, caller.call_id, agent).await {
                                    // Not connected in the log (yet or any more): hang up.
                                    let _ = sim.caller_hangs_up(&caller.channel_id);
                                    continue;
                                }
                            }
                        }
                    }
                }
                (Some(_), Some(ended_at)) => {
                    if now - ended_at >= Duration::from_secs(10) {
                        ignored_hang_ups.push(caller.call_id);
                        let _ = sim.caller_hangs_up(&caller.channel_id);
                        continue;
                    }
                }
            }
            still_on_line.push(caller);
        }
        on_line = still_on_line;

        // New callers, while the line has room (and a dispatcher's socket takes them).
        let mut unanswered = on_line
            .iter()
            .filter(|caller| {
                channels
                    .get(&caller.channel_id)
                    .is_some_and(|channel| channel.state == "Ring")
            })
            .count();
        while placed.len() < CALLS
            && on_line.len() < IN_FLIGHT
            && unanswered < UNANSWERED
            && next_arrival <= now
        {
            let number = format!("+1555{:07}", placed.len());
            let Ok(channel_id) = sim.place_call(&number, "Soak", "100") else {
                if timeline.last().is_none_or(|(_, what)| what != "no socket") {
                    timeline.push((started.elapsed(), "no socket".to_owned()));
                }
                break; // no socket during a fail-over: try again next tick
            };
            let script = random_script(&mut rng);
            let call_id = api::telephony::call_id_for_channel(&channel_id);
            placed.push((call_id, script));
            unanswered += 1;
            placed_at.insert(call_id, (placed.len(), std::time::Instant::now()));
            placed_utc.insert(call_id, Utc::now());
            if timeline.last().is_some_and(|(_, what)| what == "no socket") {
                timeline.push((
                    started.elapsed(),
                    format!("socket back at call {}", placed.len()),
                ));
            }
            on_line.push(Caller {
                channel_id,
                call_id,
                script,
                placed_at: now,
                connected: None,
                ended_at: None,
            });
            next_arrival = now + Duration::from_millis(rng.gen_range(0..30));
            if placed.len().is_multiple_of(50) {
                // Some phones change behaviour.
                for _ in 0..4 {
                    let (n, _) = agents[rng.gen_range(0..agents.len())];
                    sim.set_agent_behaviour(&agent_endpoint(n), random_behaviour(&mut rng));
                }
            }
        }

        // A supervisor puts auto-paused agents back to work (racing the dispatcher).
        if next_supervision <= now {
            next_supervision = now + Duration::from_millis(250);
            let paused: Vec<uuid::Uuid> =
                sqlx::query_scalar("SELECT worker_id FROM workers WHERE state = 'paused'")
                    .fetch_all(store.pool())
                    .await
                    .expect("paused workers");
            for worker_id in paused {
                let worker_id = WorkerId::from(worker_id);
                let command = domain::worker::WorkerCommand::GoAvailable {
                    forced_by: None,
                    at: Utc::now(),
                };
                let metadata = Metadata::new(Actor::Worker(worker_id));
                let _ = store
                    .execute::<domain::worker::Worker>(
                        &worker_id.to_string(),
                        command,
                        &(),
                        &metadata,
                        None,
                    )
                    .await;
            }
        }
        // sleep-ok: soak pacing: callers act every 10 ms
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let run_time = started.elapsed();
    if let Some(stopping) = cluster.stopping.take() {
        stopping.await.expect("second instance stopped");
    }
    let last = cluster
        .third
        .take()
        .expect("the third instance leads at the end");
    assert!(cluster.second.is_none() && cluster.first.is_none());
    assert_eq!(sockets_before_kill, 1, "only the leader connects to ARI");

    // Nothing leaked in Asterisk.
    let idle = sim
        .wait_until(SETTLE, "no channel and no bridge left", |sim| {
            sim.channels().is_empty() && sim.bridges().is_empty()
        })
        .await;
    assert!(
        idle.is_ok(),
        "leaked: channels {:#?} bridges {:#?}",
        sim.channels(),
        sim.bridges()
    );
    assert!(
        ignored_hang_ups.is_empty(),
        "API hang-ups never carried out: {ignored_hang_ups:?}"
    );

    // Every call ends in exactly one terminal state, and no agent is left with a call.
    let (settled, unrecorded) = settle(&store, &placed, &agents, &timeline).await;
    // A caller the leader had not recorded when it was killed (their StasisStart still in its
    // backlog) and who hung up before the next leader listed Asterisk's channels left no trace
    // anywhere: that is the only way a call may be missing from the log.
    let resyncs: Vec<std::time::Instant> = sim
        .requests()
        .iter()
        .filter(|request| request.method == "GET" && request.path == "/channels")
        .map(|request| request.received_at)
        .collect();
    for call_id in &unrecorded {
        let (n, placed) = placed_at[call_id];
        let gave_up = gave_up.get(call_id).copied();
        let excused = failovers.iter().any(|failover| {
            let next_resync = resyncs.iter().find(|at| *at > failover);
            placed < *failover
                && gave_up
                    .zip(next_resync)
                    .is_some_and(|(left, resync)| left < *resync)
        });
        assert!(
            excused,
            "call {call_id} (caller {n}) never recorded, though Asterisk still had it when a \
             leader listed the channels; timeline {timeline:#?}"
        );
    }
    let log = CallLog::read(&store).await;
    log.assert_one_call_per_agent_at_a_time();
    let mut to_queued_ms: Vec<i64> = log
        .queued_at
        .iter()
        .filter_map(|(call_id, queued)| {
            Some((*queued - *placed_utc.get(call_id)?).num_milliseconds())
        })
        .collect();
    assert_eq!(settled.len() + unrecorded.len(), CALLS);
    for call_id in settled.keys() {
        let terminals = log.terminal_events.get(call_id).copied().unwrap_or(0);
        assert_eq!(terminals, 1, "call {call_id}: {terminals} terminal events");
    }

    // The calls read model agrees with the log.
    let statuses = wait_for_read_model(&store, &settled).await;
    assert_eq!(statuses, settled, "calls read model vs the log");

    // KPIs over the test's range equal the counts from the log.
    let expected = json!({
        "offered": log.count("CallQueued"),
        "answered": log.count("CallConnected"),
        "abandoned": log.count("CallAbandoned"),
    });
    api::auth::bootstrap::create_admin(store.pool(), ADMIN_EMAIL, PASSWORD, true)
        .await
        .expect("admin");
    let admin = login(&last, ADMIN_EMAIL, PASSWORD).await;
    let range_end = Utc::now() + chrono::Duration::minutes(1);
    let deadline = Instant::now() + SETTLE;
    let kpis = loop {
        let answer = gql(
            &last,
            Some(&admin.access_token),
            "query($from: DateTime!, $until: DateTime!) { kpis(from: $from, until: $until, \
             bucket: DAY, timeZone: \"UTC\") { buckets { offered answered abandoned } } }",
            json!({"from": range_start, "until": range_end}),
        )
        .await;
        let buckets = answer.data("kpis")["buckets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let sum = |field: &str| -> i64 {
            buckets
                .iter()
                .map(|bucket| bucket[field].as_i64().unwrap_or(0))
                .sum()
        };
        let kpis = json!({
            "offered": sum("offered"),
            "answered": sum("answered"),
            "abandoned": sum("abandoned"),
        });
        if kpis == expected || Instant::now() > deadline {
            break kpis;
        }
        // sleep-ok: poll interval of a bounded wait (the KPIs match)
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(kpis, expected, "kpis vs the call log");

    // Enough of everything happened for the soak to mean something.
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for call_id in settled.keys() {
        let (call, _) = store
            .load_aggregate::<domain::call::Call>(&call_id.to_string())
            .await
            .expect("call loads");
        *outcomes.entry(format!("{:?}", call.state())).or_default() += 1;
    }
    eprintln!(
        "telephony soak seed {seed}: {CALLS} calls, {AGENTS} agents, {run_time:?}; \
         recorded outcomes {outcomes:?}; call events {:?}; failed offers {:?}",
        log.event_counts, log.offer_outcomes
    );
    eprintln!(
        "telephony soak: {} callers hung up unrecorded in a killed leader's backlog; \
         placed -> queued (median, p90) {:?} ms; queued -> first offer {:?} ms; \
         offer -> connected {:?} ms",
        unrecorded.len(),
        median_p90(&mut to_queued_ms),
        median_p90(&mut log.to_first_offer_ms.clone()),
        median_p90(&mut log.to_connect_ms.clone()),
    );
    assert!(log.count("CallConnected") > 0, "{outcomes:?}");
    assert!(log.count("CallAbandoned") > 0, "{outcomes:?}");
    assert!(log.count("CallOfferFailed") > 0, "{:?}", log.offer_outcomes);
    last.stop().await;
    sim.shutdown().await;
}

/// [`use_sim`] for a task that cannot borrow the simulator.
fn use_sim_url(config: &mut api::ServeConfig, base_url: &str, queue: &QueueConfig) {
    config.ari_url = Some(base_url.to_owned());
    config.ari_user = "ari".into();
    config.ari_password = "ari".into();
    config.ari_app = "callcenter".into();
    config.queue = queue.clone();
}

/// How many events WebSockets the simulator accepted so far.
fn events_sockets(sim: &SimHandle) -> usize {
    sim.requests()
        .iter()
        .filter(|request| request.path == "/events")
        .count()
}

/// The agent hangs up in the API; `false` when the call is not theirs to hang up.
async fn hang_up_in_the_api(store: &EventStore, call_id: CallId, agent: WorkerId) -> bool {
    let metadata = Metadata::new(Actor::Worker(agent));
    let command = CallCommand::AgentHangUp {
        agent,
        at: Utc::now(),
    };
    store
        .execute::<domain::call::Call>(&call_id.to_string(), command, &(), &metadata, None)
        .await
        .is_ok()
}

/// Waits (bounded) until every placed call is terminal and no agent holds a call; returns
/// each call's terminal status as the read model spells it.
async fn settle(
    store: &EventStore,
    placed: &[(CallId, Script)],
    agents: &[(u32, WorkerId)],
    timeline: &[(Duration, String)],
) -> (BTreeMap<CallId, String>, Vec<CallId>) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let mut statuses = BTreeMap::new();
        let mut open = Vec::new();
        let mut unrecorded = Vec::new();
        for (call_id, _) in placed {
            let (call, _) = store
                .load_aggregate::<domain::call::Call>(&call_id.to_string())
                .await
                .expect("call loads");
            match terminal_status(call.state()) {
                Some(status) => {
                    statuses.insert(*call_id, status.to_owned());
                }
                None if *call.state() == domain::call::CallState::New => unrecorded.push(*call_id),
                None => open.push((*call_id, format!("{:?}", call.state()))),
            }
        }
        let mut busy = Vec::new();
        for (_, worker_id) in agents {
            let (worker, _) = store
                .load_aggregate::<domain::worker::Worker>(&worker_id.to_string())
                .await
                .expect("worker loads");
            if worker.presence().call_id().is_some() {
                busy.push((*worker_id, format!("{:?}", worker.presence())));
            }
        }
        if open.is_empty() && busy.is_empty() {
            return (statuses, unrecorded);
        }
        assert!(
            Instant::now() < deadline,
            "calls never ended: {open:#?}; agents left with a call: {busy:?}; timeline {timeline:#?}"
        );
        // sleep-ok: poll interval of a bounded wait (every call ended)
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn terminal_status(state: &domain::call::CallState) -> Option<&'static str> {
    use domain::call::CallState;
    match state {
        CallState::Ended { .. } => Some("ended"),
        CallState::Abandoned { .. } => Some("abandoned"),
        CallState::Rejected { .. } => Some("rejected"),
        _ => None,
    }
}

/// Waits (bounded) until the `calls` read model shows every call as `expected` does.
async fn wait_for_read_model(
    store: &EventStore,
    expected: &BTreeMap<CallId, String>,
) -> BTreeMap<CallId, String> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as("SELECT call_id, status FROM calls")
            .fetch_all(store.pool())
            .await
            .expect("calls rows");
        let statuses: BTreeMap<CallId, String> = rows
            .into_iter()
            .map(|(id, status)| (CallId::from(id), status))
            .collect();
        if &statuses == expected || Instant::now() > deadline {
            return statuses;
        }
        // sleep-ok: poll interval of a bounded wait (the read model matches)
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The Call and Worker events of the whole log, in log order.
struct CallLog {
    events: Vec<LoggedEvent>,
    terminal_events: HashMap<CallId, usize>,
    event_counts: BTreeMap<String, usize>,
    offer_outcomes: BTreeMap<String, usize>,
    /// When each call was queued.
    queued_at: HashMap<CallId, chrono::DateTime<Utc>>,
    /// Queued → first offer, and offer → connected, in milliseconds.
    to_first_offer_ms: Vec<i64>,
    to_connect_ms: Vec<i64>,
}

/// The median and the 90th percentile of `values` (sorted in place), for the summary.
fn median_p90(values: &mut [i64]) -> (Option<i64>, Option<i64>) {
    values.sort_unstable();
    let at = |q: f64| {
        values
            .get(((values.len() as f64 - 1.0) * q).round() as usize)
            .copied()
    };
    (at(0.5), at(0.9))
}

enum LoggedEvent {
    Call(CallId, CallEvent),
    Worker(WorkerId, WorkerEvent),
}

impl CallLog {
    async fn read(store: &EventStore) -> CallLog {
        // Read as every reader does (`EVENT_COLUMNS`): a call's caller number is sealed.
        let rows: Vec<(String, String, String, serde_json::Value)> = sqlx::query(&format!(
            "SELECT {} FROM events \
             WHERE aggregate_type IN ('call', 'worker') ORDER BY tx_id, position",
            journal::EVENT_COLUMNS
        ))
        .fetch_all(store.pool())
        .await
        .expect("log")
        .iter()
        .map(|row| {
            let event = journal::StoredEvent::from_row(row).expect("event");
            (
                event.aggregate_type,
                event.aggregate_id,
                event.event_type,
                event.payload,
            )
        })
        .collect();
        let mut log = CallLog {
            events: Vec::new(),
            terminal_events: HashMap::new(),
            event_counts: BTreeMap::new(),
            offer_outcomes: BTreeMap::new(),
            to_first_offer_ms: Vec::new(),
            to_connect_ms: Vec::new(),
            queued_at: HashMap::new(),
        };
        let mut queued_at = HashMap::new();
        let mut offered_at = HashMap::new();
        for (aggregate_type, aggregate_id, event_type, payload) in rows {
            if aggregate_type == "call" {
                let call_id: CallId = aggregate_id.parse().expect("call id");
                let event: CallEvent = serde_json::from_value(payload).expect("call event");
                *log.event_counts.entry(event_type.clone()).or_default() += 1;
                if matches!(
                    event,
                    CallEvent::Ended { .. }
                        | CallEvent::Abandoned { .. }
                        | CallEvent::Rejected { .. }
                ) {
                    *log.terminal_events.entry(call_id).or_default() += 1;
                }
                match &event {
                    CallEvent::Queued { at, .. } => {
                        queued_at.insert(call_id, *at);
                        log.queued_at.insert(call_id, *at);
                    }
                    CallEvent::Offered { attempt, at, .. } => {
                        if let (1, Some(queued)) = (*attempt, queued_at.get(&call_id)) {
                            log.to_first_offer_ms
                                .push((*at - *queued).num_milliseconds());
                        }
                        offered_at.insert(call_id, *at);
                    }
                    CallEvent::Connected { at, .. } => {
                        if let Some(offered) = offered_at.get(&call_id) {
                            log.to_connect_ms.push((*at - *offered).num_milliseconds());
                        }
                    }
                    _ => {}
                }
                if let CallEvent::OfferFailed { outcome, .. } = &event {
                    *log.offer_outcomes
                        .entry(format!("{outcome:?}"))
                        .or_default() += 1;
                }
                log.events.push(LoggedEvent::Call(call_id, event));
            } else {
                let worker_id: WorkerId = aggregate_id.parse().expect("worker id");
                let event: WorkerEvent = serde_json::from_value(payload).expect("worker event");
                log.events.push(LoggedEvent::Worker(worker_id, event));
            }
        }
        log
    }

    fn count(&self, event_type: &str) -> usize {
        self.event_counts.get(event_type).copied().unwrap_or(0)
    }

    /// Folds offers, answers and ends in log order, per agent, on both sides: the worker's
    /// reservation (`WorkerOffered` … `WorkerCallEnded`) and the calls' offers (`CallOffered`
    /// … the offer's failure or the call's end). Neither may hold two calls, and a call is
    /// only offered to an agent reserved for it.
    fn assert_one_call_per_agent_at_a_time(&self) {
        let mut reserved: HashMap<WorkerId, CallId> = HashMap::new();
        let mut ringing_or_talking: HashMap<WorkerId, CallId> = HashMap::new();
        let release = |held: &mut HashMap<WorkerId, CallId>, agent: WorkerId, call: CallId| {
            let released = held.remove(&agent);
            assert_eq!(
                released,
                Some(call),
                "agent {agent} released call {call} holding {released:?}"
            );
        };
        for event in &self.events {
            match event {
                LoggedEvent::Worker(agent, event) => match event {
                    WorkerEvent::Offered { call_id, .. } => {
                        let before = reserved.insert(*agent, *call_id);
                        assert_eq!(
                            before, None,
                            "agent {agent} reserved for {call_id} while holding {before:?}"
                        );
                    }
                    WorkerEvent::OfferAnswered { call_id, .. } => {
                        assert_eq!(reserved.get(agent), Some(call_id), "agent {agent}");
                    }
                    WorkerEvent::OfferMissed { call_id, .. }
                    | WorkerEvent::OfferWithdrawn { call_id, .. }
                    | WorkerEvent::CallEnded { call_id, .. } => {
                        release(&mut reserved, *agent, *call_id);
                    }
                    _ => {}
                },
                LoggedEvent::Call(call_id, event) => match event {
                    CallEvent::Offered { agent, .. } => {
                        assert_eq!(
                            reserved.get(agent),
                            Some(call_id),
                            "call {call_id} offered to agent {agent} not reserved for it"
                        );
                        let before = ringing_or_talking.insert(*agent, *call_id);
                        assert_eq!(
                            before, None,
                            "call {call_id} offered to agent {agent} while they had {before:?}"
                        );
                    }
                    CallEvent::Connected { agent, .. } => {
                        assert_eq!(ringing_or_talking.get(agent), Some(call_id));
                    }
                    CallEvent::OfferFailed { agent, .. } => {
                        release(&mut ringing_or_talking, *agent, *call_id);
                    }
                    CallEvent::Abandoned {
                        withdrawn_offer: Some(offer),
                        ..
                    } => {
                        release(&mut ringing_or_talking, offer.agent, *call_id);
                    }
                    CallEvent::Ended {
                        agent,
                        withdrawn_offer,
                        ..
                    } => {
                        if let Some(agent) = agent {
                            release(&mut ringing_or_talking, *agent, *call_id);
                        }
                        if let Some(offer) = withdrawn_offer {
                            release(&mut ringing_or_talking, offer.agent, *call_id);
                        }
                    }
                    _ => {}
                },
            }
        }
        assert!(reserved.is_empty(), "agents still reserved: {reserved:?}");
        assert!(
            ringing_or_talking.is_empty(),
            "offers never closed: {ringing_or_talking:?}"
        );
    }
}
