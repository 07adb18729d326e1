//! Telephony test support: a simulated Asterisk, the real server (one or more instances on one
//! database) pointed at it with short queue timeouts, agents registered through the event
//! store, and waits and assertions on the log, the domain state and the simulator.

use std::future::Future;
use std::time::Duration;

use api::telephony::QueueConfig;
use api::ServeConfig;
use ari_adapter::sim::{Behaviour, SimAsterisk, SimConfig, SimHandle};
use chrono::Utc;
use domain::call::{Call, CallState};
use domain::ids::{CallId, WorkerId};
use domain::values::{EmailAddress, Endpoint, PersonName, Role};
use domain::worker::{Worker, WorkerCommand};
use journal::{Actor, EventStore, Metadata};
use serde_json::{json, Value};

use crate::graphql::{self, gql, WsClient};
use crate::postgres::TestPostgres;
use crate::TestApp;

/// How long a wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(15);

/// Queue settings short enough for tests (the offer timeout cannot go below ARI's 1 s).
pub fn fast_queue() -> QueueConfig {
    QueueConfig {
        offer_timeout_secs: 1,
        wrap_up_secs: 0,
        max_wait_secs: 60,
        max_queue_length: 100,
        reject_announcement: None,
    }
}

/// Points a server configuration at the simulator.
pub fn use_sim(config: &mut ServeConfig, sim: &SimHandle, queue: &QueueConfig) {
    config.ari_url = Some(sim.base_url());
    config.ari_user = "ari".into();
    config.ari_password = "ari".into();
    config.ari_app = "callcenter".into();
    config.queue = queue.clone();
}

/// A simulator, a server using it, and the log to assert on.
pub struct Telephony {
    pub sim: SimHandle,
    pub app: TestApp,
    pub store: EventStore,
    pub queue: QueueConfig,
    /// An admin of the API, created on first use ([`Telephony::admin`]).
    admin: tokio::sync::OnceCell<graphql::Session>,
}

impl Telephony {
    /// Starts the simulator and a server with `queue`, and waits for the server's socket.
    pub async fn start(queue: QueueConfig) -> Telephony {
        Self::start_in(TestPostgres::get().await, queue).await
    }

    /// Like [`Telephony::start`], on a fresh database of `postgres` (say, a private cluster).
    pub async fn start_in(postgres: &TestPostgres, queue: QueueConfig) -> Telephony {
        Self::start_with(postgres, SimConfig::default(), queue).await
    }

    /// Like [`Telephony::start_in`], with a simulator configured as `sim_config`.
    pub async fn start_with(
        postgres: &TestPostgres,
        sim_config: SimConfig,
        queue: QueueConfig,
    ) -> Telephony {
        crate::init_test_log();
        let sim = SimAsterisk::start(sim_config)
            .await
            .expect("simulator starts");
        let database = postgres.fresh_database().await;
        let app =
            TestApp::spawn_in(postgres, database, |config| use_sim(config, &sim, &queue)).await;
        sim.wait_for_socket("callcenter", WAIT)
            .await
            .expect("the server connects its events socket");
        let store = EventStore::new(app.pool.clone());
        Telephony {
            sim,
            app,
            store,
            queue,
            admin: tokio::sync::OnceCell::new(),
        }
    }

    /// Starts the simulator, a server as a separate process (`binary`, see [`ServerProcess`])
    /// that becomes the telephony leader, then a server in this process on the same database
    /// that stands by (`app`). The process can then be killed for real.
    pub async fn start_behind_a_process(
        binary: &str,
        queue: QueueConfig,
    ) -> (Telephony, ServerProcess) {
        crate::init_test_log();
        let sim = SimAsterisk::start(SimConfig::default())
            .await
            .expect("simulator starts");
        let database = TestPostgres::get().await.fresh_database().await;
        let leader = ServerProcess::spawn(binary, &database, &sim, &queue).await;
        // A process starts slowly on a loaded machine (it migrates first).
        if sim
            .wait_for_socket("callcenter", Duration::from_secs(90))
            .await
            .is_err()
        {
            panic!(
                "the server process never connected; its log:\n{}",
                leader.log_tail(40)
            );
        }
        let app = TestApp::spawn_on(database, |config| use_sim(config, &sim, &queue)).await;
        let store = EventStore::new(app.pool.clone());
        let telephony = Telephony {
            sim,
            app,
            store,
            queue,
            admin: tokio::sync::OnceCell::new(),
        };
        (telephony, leader)
    }

    /// Stops the server (its events socket closes), then starts a new one on the same database
    /// of `postgres` and the same simulator, and waits for its events socket: a restart.
    /// Returns the simulator and the new server.
    pub async fn restart_in(self, postgres: &TestPostgres) -> (SimHandle, TestApp) {
        let Telephony {
            sim, app, queue, ..
        } = self;
        let database = app.database.clone();
        app.stop().await;
        sim.wait_until(WAIT, "the socket closed", |sim| {
            !sim.is_connected("callcenter")
        })
        .await
        .expect("the socket closes");
        let restarted =
            TestApp::spawn_in(postgres, database, |config| use_sim(config, &sim, &queue)).await;
        sim.wait_for_socket("callcenter", WAIT)
            .await
            .expect("the restarted server connects");
        (sim, restarted)
    }

    /// How many events WebSockets the simulator accepted so far (one per leadership term and
    /// reconnection).
    pub fn events_sockets(&self) -> usize {
        self.sim
            .requests()
            .iter()
            .filter(|request| request.path == "/events")
            .count()
    }

    /// Another server on the same database and simulator (a second node).
    pub async fn spawn_instance(&self) -> TestApp {
        let queue = self.queue.clone();
        TestApp::spawn_on(self.app.database.clone(), |config| {
            use_sim(config, &self.sim, &queue)
        })
        .await
    }

    /// Registers worker `agentN` with phone `PJSIP/agentN` (not yet Available).
    pub async fn register_worker(&self, n: u32) -> WorkerId {
        register_worker(&self.store, n).await
    }

    /// Registers `agentN`, registers their phone with `behaviour`, and makes them Available.
    pub async fn add_agent(&self, n: u32, behaviour: Behaviour) -> WorkerId {
        add_agent(&self.sim, &self.store, n, behaviour).await
    }

    pub async fn go_available(&self, worker_id: WorkerId) {
        go_available(&self.store, worker_id).await;
    }

    /// A worker's own command, as the API will run it.
    pub async fn worker_command(&self, worker_id: WorkerId, command: WorkerCommand) {
        worker_command(&self.store, worker_id, command).await;
    }

    /// A customer calls; returns the channel and the call it becomes.
    pub fn place_call(&self, number: &str) -> (String, CallId) {
        let channel_id = self
            .sim
            .place_call(number, "Customer", "100")
            .expect("call placed");
        let call_id = api::telephony::call_id_for_channel(&channel_id);
        (channel_id, call_id)
    }

    pub async fn call(&self, call_id: CallId) -> Call {
        self.store
            .load_aggregate::<Call>(&call_id.to_string())
            .await
            .expect("call loads")
            .0
    }

    pub async fn worker(&self, worker_id: WorkerId) -> Worker {
        self.store
            .load_aggregate::<Worker>(&worker_id.to_string())
            .await
            .expect("worker loads")
            .0
    }

    /// Waits until the call satisfies `condition`.
    pub async fn wait_call(
        &self,
        call_id: CallId,
        what: &str,
        condition: impl Fn(&Call) -> bool,
    ) -> Call {
        crate::wait::until_explained(
            what,
            WAIT,
            || async {
                let call = self.call(call_id).await;
                condition(&call).then_some(call)
            },
            || async {
                let events = self.event_types("call", &call_id.to_string()).await;
                format!(
                    "call {call_id} is {:?} after {events:?}; the simulator's channels: {:?}",
                    self.call(call_id).await.state(),
                    self.sim.channels()
                )
            },
        )
        .await
    }

    /// Waits until the worker satisfies `condition`.
    pub async fn wait_worker(
        &self,
        worker_id: WorkerId,
        what: &str,
        condition: impl Fn(&Worker) -> bool,
    ) -> Worker {
        wait_for(what, || async {
            let worker = self.worker(worker_id).await;
            condition(&worker).then_some(worker)
        })
        .await
    }

    /// Waits until the call is connected and both legs are in its mixing bridge.
    pub async fn wait_bridged(&self, call_id: CallId) -> Call {
        let call = self
            .wait_call(call_id, "the call to connect", |call| {
                matches!(call.state(), CallState::Connected { .. })
            })
            .await;
        let mix = api::telephony::mixing_bridge_id(call_id);
        let bridged = self
            .sim
            .wait_until(WAIT, "both legs bridged", |sim| {
                sim.bridges()
                    .iter()
                    .any(|bridge| bridge.id == mix && bridge.channel_ids.len() == 2)
            })
            .await;
        assert!(
            bridged.is_ok(),
            "call {call_id} not bridged: {:?}",
            self.sim.bridges()
        );
        call
    }

    /// Waits until the call is Queued and its caller alone in the call's holding bridge.
    pub async fn wait_on_hold(&self, call_id: CallId, channel_id: &str) {
        self.wait_call(call_id, "the call queued", |call| {
            *call.state() == CallState::Queued
        })
        .await;
        let hold = api::telephony::holding_bridge_id(call_id);
        let on_hold = self
            .sim
            .wait_until(WAIT, "the caller on hold", |sim| {
                sim.bridges()
                    .iter()
                    .any(|bridge| bridge.id == hold && bridge.channel_ids == [channel_id])
            })
            .await;
        assert!(
            on_hold.is_ok(),
            "call {call_id} not on hold: {:?}",
            self.sim.bridges()
        );
    }

    /// The types of an aggregate's events, in order.
    pub async fn event_types(&self, aggregate_type: &str, id: &str) -> Vec<String> {
        self.store
            .load(aggregate_type, id)
            .await
            .expect("events load")
            .into_iter()
            .map(|event| event.event_type)
            .collect()
    }

    /// Waits until the simulator holds no channel and no bridge, then until the leading
    /// session has handled everything (see [`Telephony::wait_session_settled`]), so that a
    /// late request would be seen.
    pub async fn wait_until_idle(&self) {
        let idle = self
            .sim
            .wait_until(WAIT, "no channel and no bridge left", |sim| {
                sim.channels().is_empty() && sim.bridges().is_empty()
            })
            .await;
        assert!(
            idle.is_ok(),
            "leaked: channels {:?} bridges {:?}",
            self.sim.channels(),
            self.sim.bridges()
        );
        self.wait_session_settled().await;
    }

    /// Waits until the telephony session of `self.app` (the leader) finished two steps after
    /// this call (the first one may have begun before), the last one with the whole log
    /// readable now folded and reacted to and none of its call-control requests in flight:
    /// nothing it has seen so far can still lead to a request.
    pub async fn wait_session_settled(&self) {
        let link = &self.app.state.ari_link;
        let before = link.last_step().count;
        crate::wait::until_explained(
            "the telephony session settled",
            WAIT,
            || async {
                // The step first: what it committed is in the head read after it.
                let step = link.last_step();
                let head = self.app.state.reader.head().await.expect("log head");
                (step.count >= before + 2 && step.position >= head && step.requests_done)
                    .then_some(())
            },
            || async {
                let head = self.app.state.reader.head().await;
                format!(
                    "steps before {before}, the last step {:?}, the readable head {head:?}",
                    link.last_step()
                )
            },
        )
        .await;
    }

    /// Call-control requests (POST/DELETE on channels and bridges), as
    /// `METHOD /path key=value…` with the parameters that matter, and ` -> status` for errors.
    pub fn control_requests(&self) -> Vec<String> {
        control_requests(&self.sim)
    }
}

const CALL_UPDATES: &str = "subscription($id: ID!) { callUpdates(callId: $id) { position \
    eventType call { id version state agentId attempts } } }";
const MY_STATE: &str = "subscription { myState { id version presence { state reason callId } } }";
const OFFERS: &str = "subscription { offers { position offer { callId callerNumber } } }";

impl Telephony {
    /// An admin of the API (bootstrapped and logged in on first use).
    pub async fn admin(&self) -> &graphql::Session {
        self.admin
            .get_or_init(|| graphql::bootstrap_admin(&self.app))
            .await
    }

    /// Subscribes, as an admin, to one call's updates (`callUpdates`). Check what it received
    /// with [`Telephony::assert_call_seen`].
    pub async fn watch_call(&self, call_id: CallId) -> CallWatch {
        // `callUpdates` answers NOT_FOUND for a call not queued yet.
        self.wait_call(call_id, "the call queued", |call| {
            *call.state() != CallState::New
        })
        .await;
        let token = self.admin().await.access_token.clone();
        let mut client = WsClient::connect_as(&self.app, Some(&token)).await;
        client
            .subscribe("c", CALL_UPDATES, json!({"id": call_id.to_string()}))
            .await;
        let mut watch = CallWatch {
            call_id,
            client,
            messages: Vec::new(),
        };
        // Subscribed once the first message (the call as it is) came: what happens next is
        // sent as updates.
        watch.read_one().await;
        watch
    }

    /// What an admin sees of a call once it reached the state `expected` (GraphQL spelling,
    /// `ENDED`): the `call` query shows that state at the log's version, and `callUpdates` sent
    /// the call as it was, then exactly the call's later events of the log, in order, each with
    /// the call's version after it, the last one in that state. Returns the states it showed.
    pub async fn assert_call_seen(&self, watch: &mut CallWatch, expected: &str) -> Vec<String> {
        let call_id = watch.call_id;
        let events = self
            .store
            .load("call", &call_id.to_string())
            .await
            .expect("call events");
        let version = events.last().map_or(0, |event| event.sequence);
        watch.read_until(version).await;
        let first = &watch.messages[0];
        assert!(first["eventType"].is_null(), "{first}");
        let first_version = first["call"]["version"].as_i64().expect("version");
        let sent: Vec<(String, i64)> = watch.messages[1..]
            .iter()
            .map(|message| {
                (
                    message["eventType"].as_str().unwrap_or_default().to_owned(),
                    message["call"]["version"].as_i64().unwrap_or_default(),
                )
            })
            .collect();
        let logged: Vec<(String, i64)> = events
            .iter()
            .filter(|event| event.sequence > first_version)
            .map(|event| (event.event_type.clone(), event.sequence))
            .collect();
        assert_eq!(sent, logged, "callUpdates of {call_id} vs the log");
        let states = watch.states();
        assert_eq!(states.last().map(String::as_str), Some(expected));
        let answer = gql(
            &self.app,
            Some(&self.admin().await.access_token),
            "query($id: ID!) { call(id: $id) { state version } }",
            json!({"id": call_id.to_string()}),
        )
        .await;
        assert_eq!(
            answer.data("call"),
            &json!({"state": expected, "version": version}),
            "the call query"
        );
        states
    }

    /// Agent `n` as a person: registered through the API by the admin (with a password and
    /// phone `PJSIP/agentN`, registered in the simulator with `behaviour`), logged in, their
    /// `myState` and `offers` subscriptions open, then Available through `setAvailability`.
    pub async fn add_agent_on_screen(&self, n: u32, behaviour: Behaviour) -> AgentScreen {
        let endpoint = agent_endpoint(n);
        self.sim
            .register_endpoint(&endpoint)
            .expect("phone registers");
        self.sim.set_agent_behaviour(&endpoint, behaviour);
        let admin = self.admin().await.clone();
        let session = graphql::register_worker(
            &self.app,
            &admin,
            &format!("agent{n}@example.com"),
            "AGENT",
            Some(&endpoint),
        )
        .await;
        let mut client = WsClient::connect_as(&self.app, Some(&session.access_token)).await;
        client.subscribe("s", MY_STATE, json!({})).await;
        client.subscribe("o", OFFERS, json!({})).await;
        let mut screen = AgentScreen {
            worker_id: session.worker_id.parse().expect("worker id"),
            session,
            client,
            states: Vec::new(),
            offers: Vec::new(),
        };
        // Both subscriptions answer first (the state now; the position followed from).
        screen
            .wait("the first messages", |screen| {
                !screen.states.is_empty() && !screen.offers.is_empty()
            })
            .await;
        let answer = gql(
            &self.app,
            Some(&screen.session.access_token),
            "mutation { setAvailability(state: AVAILABLE) { presence { state } } }",
            json!({}),
        )
        .await;
        assert_eq!(
            answer.data("setAvailability")["presence"]["state"],
            "AVAILABLE"
        );
        screen
    }
}

const WALLBOARD: &str = "subscription { wallboard { callsWaiting oldestWaitSecs \
    agentsByState { state count } today { offered answered abandoned } } }";

impl Telephony {
    /// Subscribes, as an admin, to the wallboard.
    pub async fn watch_wallboard(&self) -> WallboardWatch {
        let token = self.admin().await.access_token.clone();
        let mut client = WsClient::connect_as(&self.app, Some(&token)).await;
        client.subscribe("w", WALLBOARD, json!({})).await;
        WallboardWatch { client }
    }
}

/// An admin's `wallboard` subscription.
pub struct WallboardWatch {
    client: WsClient,
}

impl WallboardWatch {
    /// Reads snapshots until one satisfies `condition` (fails the test after [`WAIT`]);
    /// returns it.
    pub async fn wait(&mut self, what: &str, condition: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut last = Value::Null;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(message) = self.client.next_within(left).await else {
                panic!("wallboard: timed out waiting for {what}; last snapshot {last}");
            };
            assert_eq!(message["type"], "next", "{message}");
            assert!(message["payload"]["errors"].is_null(), "{message}");
            last = message["payload"]["data"]["wallboard"].clone();
            if condition(&last) {
                return last;
            }
        }
    }
}

/// An admin's `callUpdates` subscription to one call.
pub struct CallWatch {
    call_id: CallId,
    client: WsClient,
    /// The `callUpdates` payloads received so far.
    pub messages: Vec<Value>,
}

impl CallWatch {
    /// Reads until a message shows the call at `version` (fails the test after [`WAIT`]).
    async fn read_until(&mut self, version: i64) {
        while self
            .messages
            .last()
            .is_none_or(|message| message["call"]["version"].as_i64() != Some(version))
        {
            self.read_one().await;
        }
    }

    /// Reads the next message (fails the test after [`WAIT`]).
    async fn read_one(&mut self) {
        let Some(message) = self.client.next_within(WAIT).await else {
            panic!(
                "callUpdates of {} stopped: {:#?}",
                self.call_id, self.messages
            );
        };
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"]["errors"].is_null(), "{message}");
        self.messages
            .push(message["payload"]["data"]["callUpdates"].clone());
    }

    /// The states the messages showed, repeats removed.
    pub fn states(&self) -> Vec<String> {
        let mut states: Vec<String> = self
            .messages
            .iter()
            .filter_map(|message| message["call"]["state"].as_str().map(ToOwned::to_owned))
            .collect();
        states.dedup();
        states
    }
}

/// An agent logged in to the API, with their `myState` and `offers` subscriptions.
pub struct AgentScreen {
    pub worker_id: WorkerId,
    pub session: graphql::Session,
    client: WsClient,
    /// `myState` payloads so far.
    pub states: Vec<Value>,
    /// `offers` payloads so far (the first has no offer).
    pub offers: Vec<Value>,
}

impl AgentScreen {
    /// Reads the agent's subscriptions until `condition` holds (fails the test after [`WAIT`]).
    pub async fn wait(&mut self, what: &str, condition: impl Fn(&AgentScreen) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !condition(self) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(message) = self.client.next_within(left).await else {
                panic!(
                    "agent {}: timed out waiting for {what}; states {:?}, offers {:?}",
                    self.worker_id,
                    self.presences(),
                    self.offers
                );
            };
            assert_eq!(message["type"], "next", "{message}");
            assert!(message["payload"]["errors"].is_null(), "{message}");
            match message["id"].as_str() {
                Some("s") => self
                    .states
                    .push(message["payload"]["data"]["myState"].clone()),
                _ => self
                    .offers
                    .push(message["payload"]["data"]["offers"].clone()),
            }
        }
    }

    /// Waits until `myState` showed `presences` (GraphQL spelling), in that order, as the
    /// last states it sent (repeats removed).
    pub async fn wait_presences(&mut self, presences: &[&str]) {
        let what = format!("the presences {presences:?}");
        let presences: Vec<String> = presences.iter().map(|state| (*state).to_owned()).collect();
        self.wait(&what, |screen| screen.presences().ends_with(&presences))
            .await;
    }

    /// The presence states `myState` sent, repeats removed.
    pub fn presences(&self) -> Vec<String> {
        let mut states: Vec<String> = self
            .states
            .iter()
            .filter_map(|state| state["presence"]["state"].as_str().map(ToOwned::to_owned))
            .collect();
        states.dedup();
        states
    }

    /// The calls the screen popped: (call id, caller number).
    pub fn popped(&self) -> Vec<(String, String)> {
        self.offers
            .iter()
            .filter(|message| !message["offer"].is_null())
            .map(|message| {
                let offer = &message["offer"];
                (
                    offer["callId"].as_str().unwrap_or_default().to_owned(),
                    offer["callerNumber"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                )
            })
            .collect()
    }

    /// Waits until the screen popped `call_id` from `caller_number`.
    pub async fn wait_popped(&mut self, call_id: CallId, caller_number: &str) {
        let expected = (call_id.to_string(), caller_number.to_owned());
        self.wait("the screen pop", |screen| {
            screen.popped().contains(&expected)
        })
        .await;
    }
}

/// The endpoint of agent `n`'s phone.
pub fn agent_endpoint(n: u32) -> String {
    format!("PJSIP/agent{n}")
}

/// Registers worker `agentN` with phone `PJSIP/agentN` through `store` (not yet Available).
pub async fn register_worker(store: &EventStore, n: u32) -> WorkerId {
    let worker_id = WorkerId::new();
    let command = WorkerCommand::Register {
        name: PersonName::parse(&format!("Agent {n}")).expect("name"),
        email: EmailAddress::parse(&format!("agent{n}@example.com")).expect("email"),
        role: Role::Agent,
        endpoint: Some(Endpoint::parse(&agent_endpoint(n)).expect("endpoint")),
        at: Utc::now(),
    };
    worker_command(store, worker_id, command).await;
    worker_id
}

/// Registers `agentN`, registers their phone with `behaviour`, and makes them Available.
pub async fn add_agent(
    sim: &SimHandle,
    store: &EventStore,
    n: u32,
    behaviour: Behaviour,
) -> WorkerId {
    let endpoint = agent_endpoint(n);
    sim.register_endpoint(&endpoint).expect("phone registers");
    sim.set_agent_behaviour(&endpoint, behaviour);
    let worker_id = register_worker(store, n).await;
    go_available(store, worker_id).await;
    worker_id
}

pub async fn go_available(store: &EventStore, worker_id: WorkerId) {
    let command = WorkerCommand::GoAvailable {
        forced_by: None,
        at: Utc::now(),
    };
    worker_command(store, worker_id, command).await;
}

/// A worker's own command, as the API will run it.
pub async fn worker_command(store: &EventStore, worker_id: WorkerId, command: WorkerCommand) {
    let metadata = Metadata::new(Actor::Worker(worker_id));
    store
        .execute::<Worker>(&worker_id.to_string(), command, &(), &metadata, None)
        .await
        .expect("worker command succeeds");
}

/// A server as a separate process (the `savecorp-under-test` binary, whose path only the
/// integration tests know: `env!("CARGO_BIN_EXE_savecorp-under-test")`), on an existing
/// database and the simulator, so that a test can kill it with SIGKILL. Its log goes to
/// `server.log` in its data folder ([`ServerProcess::log_tail`]).
pub struct ServerProcess {
    child: std::process::Child,
    data_dir: tempfile::TempDir,
}

impl ServerProcess {
    pub async fn spawn(
        binary: &str,
        database: &str,
        sim: &SimHandle,
        queue: &QueueConfig,
    ) -> ServerProcess {
        let postgres = TestPostgres::get().await;
        let data_dir = tempfile::tempdir().expect("data folder");
        let log = std::fs::File::create(data_dir.path().join("server.log")).expect("log file");
        let child = std::process::Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", postgres.url(database))
            .env("SAVECORP_DATA_DIR", data_dir.path())
            .env("SAVECORP_LISTEN", "127.0.0.1:0")
            .env("SAVECORP_DB_CONNECTIONS", "8")
            .env("JWT_SECRET", api::auth::TEST_JWT_SECRET)
            .env("ARI_URL", sim.base_url())
            .env("ARI_USER", "ari")
            .env("ARI_PASSWORD", "ari")
            .env("ARI_APP", "callcenter")
            .env(
                "SAVECORP_OFFER_TIMEOUT_SECS",
                queue.offer_timeout_secs.to_string(),
            )
            .env("SAVECORP_WRAP_UP_SECS", queue.wrap_up_secs.to_string())
            .env("SAVECORP_MAX_WAIT_SECS", queue.max_wait_secs.to_string())
            .env(
                "SAVECORP_MAX_QUEUE_LENGTH",
                queue.max_queue_length.to_string(),
            )
            .env("RUST_LOG", "info")
            .env_remove("SAVECORP_REJECT_ANNOUNCEMENT")
            .env_remove("SMTP_URL")
            .env_remove("SAVECORP_ADMIN_EMAIL")
            .env_remove("SAVECORP_ADMIN_PASSWORD")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the server process starts");
        ServerProcess { child, data_dir }
    }

    /// The operating-system process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9`: no shutdown of any kind, then reaps the process.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's log file.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.data_dir.path().join("server.log")
    }

    /// The last `lines` lines of the server's log (for failure messages).
    pub fn log_tail(&self, lines: usize) -> String {
        let text =
            std::fs::read_to_string(self.data_dir.path().join("server.log")).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// See [`Telephony::control_requests`].
pub fn control_requests(sim: &SimHandle) -> Vec<String> {
    const KEYS: [&str; 8] = [
        "type",
        "bridgeId",
        "endpoint",
        "appArgs",
        "channelId",
        "channel",
        "timeout",
        "media",
    ];
    sim.requests()
        .into_iter()
        .filter(|request| request.method != "GET")
        .filter(|request| {
            request.path.starts_with("/channels") || request.path.starts_with("/bridges")
        })
        .map(|request| {
            let mut line = format!("{} {}", request.method, request.path);
            for key in KEYS {
                if let Some(value) = request.param(key) {
                    line.push_str(&format!(" {key}={value}"));
                }
            }
            if request.status >= 400 {
                line.push_str(&format!(" -> {}", request.status));
            }
            line
        })
        .collect()
}

/// Polls `probe` until it yields a value; fails the test after [`WAIT`].
/// A caller calls `sim` from `number`; waits until the call, loaded from `store`, gives
/// `outcome` (within [`WAIT`]), and returns it.
pub async fn call_and_wait<T>(
    sim: &SimHandle,
    store: &EventStore,
    number: &str,
    what: &str,
    outcome: impl Fn(&Call) -> Option<T>,
) -> (String, T) {
    let channel = sim
        .place_call(number, "Customer", "100")
        .expect("call placed");
    let call_id = api::telephony::call_id_for_channel(&channel).to_string();
    let found = wait_for(what, || async {
        let (call, _) = store
            .load_aggregate::<Call>(&call_id)
            .await
            .expect("call loads");
        outcome(&call)
    })
    .await;
    (channel, found)
}

pub async fn wait_for<T, F, Fut>(what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    crate::wait::until(what, WAIT, probe).await
}
