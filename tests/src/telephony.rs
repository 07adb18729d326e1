//! Telephony test support: a simulated Asterisk, the real server (one or more instances on one
//! database) pointed at it with short queue timeouts, agents registered through the event
//! store, and waits and assertions on the log, the domain state and the simulator.

use std::future::Future;
use std::time::Duration;

use api::config::QueueConfig;
use api::{Application, ServeConfig};
use ari_adapter::sim::{Behaviour, SimAsterisk, SimConfig, SimHandle};
use chrono::Utc;
use domain::call::{Call, CallState};
use domain::ids::{CallId, WorkerId};
use domain::values::{EmailAddress, Endpoint, PersonName, Role};
use domain::worker::{Worker, WorkerCommand};
use projections::{Actor, EventStore, Metadata};
use tokio_util::sync::CancellationToken;

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

/// Another server instance on an existing database (a second node, or a restart).
pub struct Instance {
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data_dir: tempfile::TempDir,
}

impl Instance {
    pub async fn spawn(database: &str, configure: impl FnOnce(&mut ServeConfig)) -> Instance {
        let postgres = TestPostgres::get().await;
        let data_dir = tempfile::tempdir().expect("data folder");
        let mut config = ServeConfig::for_tests(postgres.url(database), data_dir.path().into());
        configure(&mut config);
        let application = Application::build(&config).await.expect("server builds");
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(application.run_until_stopped(shutdown.clone()));
        Instance {
            shutdown,
            server: Some(server),
            _data_dir: data_dir,
        }
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A simulator, a server using it, and the log to assert on.
pub struct Telephony {
    pub sim: SimHandle,
    pub app: TestApp,
    pub store: EventStore,
    pub queue: QueueConfig,
}

impl Telephony {
    /// Starts the simulator and a server with `queue`, and waits for the server's socket.
    pub async fn start(queue: QueueConfig) -> Telephony {
        crate::init_test_log();
        let sim = SimAsterisk::start(SimConfig::default())
            .await
            .expect("simulator starts");
        let app = TestApp::spawn_with(|config| use_sim(config, &sim, &queue)).await;
        sim.wait_for_socket("callcenter", WAIT)
            .await
            .expect("the server connects its events socket");
        let store = EventStore::new(app.pool.clone());
        Telephony {
            sim,
            app,
            store,
            queue,
        }
    }

    /// Another server instance on the same database and simulator.
    pub async fn spawn_instance(&self) -> Instance {
        let queue = self.queue.clone();
        Instance::spawn(&self.app.database, |config| {
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
        wait_for(what, || async {
            let call = self.call(call_id).await;
            condition(&call).then_some(call)
        })
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

    /// Waits until the simulator holds no channel and no bridge, then a little longer so that
    /// a late request would be seen.
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
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    /// Call-control requests (POST/DELETE on channels and bridges), as
    /// `METHOD /path key=value…` with the parameters that matter, and ` -> status` for errors.
    pub fn control_requests(&self) -> Vec<String> {
        control_requests(&self.sim)
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
            .env("JWT_SECRET", "test-secret-not-for-production")
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
pub async fn wait_for<T, F, Fut>(what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
