//! Fault-injection support (RELIABILITY.md): the real server as a child process that can be
//! SIGKILLed and restarted, its captured log, its RSS; a seeded random source; a GraphQL client
//! with bounded request time; a ledger of what the server acknowledged; and the check that every
//! read model equals a rebuild from the log.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use rand::SeedableRng;
use serde_json::{json, Value};
use sqlx::PgPool;

/// The JWT secret every child server of a test shares, so tokens survive restarts.
pub const JWT_SECRET: &str = "faults-test-secret-not-for-production";

/// The seed of a fault test: `SAVECORP_FAULT_SEED`, else `default`. Printed so a failure can be
/// replayed.
pub fn seed(test: &str, default: u64) -> u64 {
    let seed = std::env::var("SAVECORP_FAULT_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(default);
    println!("{test}: seed {seed} (replay with SAVECORP_FAULT_SEED={seed})");
    seed
}

/// A seeded random source.
pub fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// A data folder the `postgres` user can reach (the server only keeps mail files there).
pub fn data_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("savecorp-faults-")
        .tempdir()
        .expect("temporary folder");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// `savecorp serve` as a child process on `127.0.0.1:0`, its stdout and stderr captured.
pub struct ServerProcess {
    child: Child,
    pub address: String,
    log: Arc<Mutex<String>>,
}

/// How to start a [`ServerProcess`].
#[derive(Clone, Debug)]
pub struct ServerSpec {
    /// The server binary: `env!("CARGO_BIN_EXE_savecorp-under-test")` in the integration tests
    /// (only they see that variable).
    pub binary: PathBuf,
    /// Empty: no `DATABASE_URL`, the embedded cluster of the data folder.
    pub database_url: String,
    pub data_dir: PathBuf,
    /// `RUST_LOG` for the child; it must let `api::app`'s "listening" line through.
    pub log_filter: String,
    pub env: Vec<(String, String)>,
}

impl ServerSpec {
    pub fn new(binary: &str, database_url: String, data_dir: &Path) -> Self {
        Self {
            binary: binary.into(),
            database_url,
            data_dir: data_dir.to_owned(),
            log_filter: "info".into(),
            env: Vec::new(),
        }
    }
}

fn capture(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let mut log = log.lock().expect("log lock");
            log.push_str(&line);
            log.push('\n');
        }
    });
}

impl ServerProcess {
    /// Starts the server and waits (bounded) until it logs the address it listens on.
    pub fn spawn(spec: &ServerSpec) -> ServerProcess {
        let mut command = Command::new(&spec.binary);
        command.arg("serve");
        if spec.database_url.is_empty() {
            command.env_remove("DATABASE_URL");
        } else {
            command.env("DATABASE_URL", &spec.database_url);
        }
        command
            .env("SAVECORP_DATA_DIR", &spec.data_dir)
            .env("SAVECORP_LISTEN", "127.0.0.1:0")
            .env("SAVECORP_DB_CONNECTIONS", "8")
            .env("JWT_SECRET", JWT_SECRET)
            .env("RUST_LOG", &spec.log_filter)
            .env_remove("SAVECORP_LOG_FORMAT")
            .env_remove("ARI_URL")
            .env_remove("SMTP_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in &spec.env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("server process starts");
        let log = Arc::new(Mutex::new(String::new()));
        capture(child.stdout.take().expect("stdout piped"), log.clone());
        capture(child.stderr.take().expect("stderr piped"), log.clone());
        let deadline = Instant::now() + Duration::from_secs(120);
        let address = loop {
            let found = log
                .lock()
                .expect("log lock")
                .lines()
                .find_map(|line| line.split("address=").nth(1).map(str::to_owned));
            if let Some(rest) = found {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the server exited ({status}) before listening:\n{}",
                    log.lock().expect("log lock")
                );
            }
            assert!(
                Instant::now() < deadline,
                "the server never logged its address"
            );
            // sleep-ok: poll interval of a bounded wait (the server logged its address)
            std::thread::sleep(Duration::from_millis(20));
        };
        ServerProcess {
            child,
            address,
            log,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process still runs.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// Resident set size in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Waits (bounded) until `/readyz` answers 200.
    pub async fn wait_ready(&mut self, within: Duration) {
        let client = http_client();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(response) = client.get(self.url("/readyz")).send().await {
                if response.status() == 200 {
                    return;
                }
            }
            assert!(self.is_alive(), "the server died:\n{}", self.log());
            assert!(
                Instant::now() < deadline,
                "/readyz never turned 200 within {within:?}"
            );
            // sleep-ok: poll interval of a bounded wait (/readyz is 200)
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL, and reap the process.
    pub fn kill9(&mut self) {
        let _ = kill(Pid::from_raw(self.pid() as i32), Signal::SIGKILL);
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits (bounded) for the exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let _ = kill(Pid::from_raw(self.pid() as i32), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                self.kill9();
                panic!("the server did not stop within 60 s of SIGTERM");
            }
            // sleep-ok: poll interval of a bounded wait (the process exited)
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.is_alive() {
            self.kill9();
        }
    }
}

/// An HTTP client whose every request is bounded in time (a hang is a failure, not a wait).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client")
}

/// What a GraphQL POST got: the HTTP status and JSON body, or the transport error.
#[derive(Debug)]
pub enum Outcome {
    Answered { status: u16, body: Value },
    Transport(String),
}

impl Outcome {
    /// `data.<field>` when the answer is a success without errors.
    pub fn data(&self, field: &str) -> Option<&Value> {
        match self {
            Outcome::Answered { status: 200, body } if body.get("errors").is_none() => {
                body["data"].get(field).filter(|value| !value.is_null())
            }
            _ => None,
        }
    }

    /// The `extensions.code` of the first error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Outcome::Answered { body, .. } => body["errors"][0]["extensions"]["code"].as_str(),
            Outcome::Transport(_) => None,
        }
    }
}

/// POSTs a GraphQL request to `address`.
pub async fn graphql(
    client: &reqwest::Client,
    address: &str,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> Outcome {
    let mut request = client
        .post(format!("http://{address}/graphql"))
        .json(&json!({"query": query, "variables": variables}));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.bytes().await {
                Ok(bytes) => Outcome::Answered {
                    status,
                    body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                },
                Err(error) => Outcome::Transport(error.to_string()),
            }
        }
        Err(error) => Outcome::Transport(error.to_string()),
    }
}

/// Logs in at `address` (bounded retries while the server warms up); the access token.
pub async fn login(address: &str, email: &str, password: &str) -> String {
    let client = http_client();
    for _ in 0..50 {
        let outcome = graphql(
            &client,
            address,
            None,
            "mutation($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }",
            json!({"email": email, "password": password}),
        )
        .await;
        if let Some(login) = outcome.data("login") {
            return login["accessToken"]
                .as_str()
                .expect("access token")
                .to_owned();
        }
        // sleep-ok: retry interval of a bounded login retry (the server is ready)
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("login at {address} never succeeded");
}

/// A command a client sent, with a payload no other command carries.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The text only this command's event carries (a customer name, a request message).
    pub marker: String,
    /// The aggregate id the server answered with, when it acknowledged the command.
    pub acknowledged_id: Option<String>,
}

/// Every command sent during a fault test and whether it was acknowledged.
#[derive(Clone, Default)]
pub struct Ledger(Arc<Mutex<Vec<Sent>>>);

impl Ledger {
    pub fn record(&self, sent: Sent) {
        self.0.lock().expect("ledger lock").push(sent);
    }

    pub fn entries(&self) -> Vec<Sent> {
        self.0.lock().expect("ledger lock").clone()
    }

    pub fn acknowledged(&self) -> usize {
        self.entries()
            .iter()
            .filter(|sent| sent.acknowledged_id.is_some())
            .count()
    }
}

/// How many events of the log carry each marker in their payload (customer name or request
/// message).
pub async fn marker_counts(pool: &PgPool) -> BTreeMap<String, (i64, Vec<String>)> {
    // Read as every reader does (`EVENT_COLUMNS`): a customer's name is sealed in the payload.
    let rows: Vec<(String, String)> = sqlx::query(&format!(
        "SELECT {} FROM events WHERE event_type IN ('CustomerRegistered', 'RequestOpened')",
        journal::EVENT_COLUMNS
    ))
    .fetch_all(pool)
    .await
    .expect("events read")
    .iter()
    .map(|row| journal::StoredEvent::from_row(row).expect("an event row"))
    .filter_map(|event| {
        let marker = event.payload["Registered"]["name"]
            .as_str()
            .or(event.payload["Opened"]["message"].as_str())?
            .to_owned();
        Some((marker, event.aggregate_id))
    })
    .collect();
    let mut counts: BTreeMap<String, (i64, Vec<String>)> = BTreeMap::new();
    for (marker, aggregate_id) in rows {
        let entry = counts.entry(marker).or_default();
        entry.0 += 1;
        entry.1.push(aggregate_id);
    }
    counts
}

/// Asserts: every acknowledged command is in the log exactly once, under the id the server
/// answered; no command (acknowledged or not) is there twice. Returns (acknowledged, in the log).
pub async fn assert_nothing_acknowledged_is_lost(pool: &PgPool, ledger: &Ledger) -> (usize, usize) {
    let counts = marker_counts(pool).await;
    let entries = ledger.entries();
    let mut acknowledged = 0;
    let mut present = 0;
    for sent in &entries {
        let found = counts.get(&sent.marker);
        let count = found.map(|(count, _)| *count).unwrap_or(0);
        assert!(count <= 1, "{:?} is in the log {count} times", sent.marker);
        if count == 1 {
            present += 1;
        }
        if let Some(id) = &sent.acknowledged_id {
            acknowledged += 1;
            assert_eq!(
                count, 1,
                "acknowledged command {:?} ({id}) is not in the log",
                sent.marker
            );
            assert_eq!(&found.expect("found").1[0], id, "{:?}", sent.marker);
        }
    }
    let (duplicates,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id HAVING count(*) > 1) d",
    )
    .fetch_one(pool)
    .await
    .expect("duplicate event ids");
    assert_eq!(duplicates, 0, "event ids appear twice in the log");
    (acknowledged, present)
}

/// Waits (bounded) until every projection has applied the whole log.
pub async fn wait_for_projections(pool: &PgPool, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let statuses = projections::projector::status(pool).await.expect("status");
        let lag = statuses.iter().map(|status| status.lag).max().unwrap_or(0);
        if lag == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "projections still {lag} events behind after {within:?}"
        );
        // sleep-ok: poll interval of a bounded wait (no projection lag)
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts that every read model (and `projection_versions`) equals a rebuild from the log.
/// Run it with no server writing to the database.
pub async fn assert_read_models_equal_rebuild(pool: &PgPool) {
    let live = crate::history::read_models(pool)
        .await
        .expect("live read models");
    let store = journal::EventStore::new(pool.clone());
    projections::rebuild::rebuild_named(&store, None, &mut |_| {})
        .await
        .expect("rebuild");
    let rebuilt = crate::history::read_models(pool)
        .await
        .expect("rebuilt read models");
    for (table, rows) in &live {
        assert!(
            rows == &rebuilt[table],
            "read model {table} differs from its rebuild:\nlive    {rows}\nrebuilt {}",
            rebuilt[table]
        );
    }
}

/// Where the load goes: the current server address (`None` while it is down).
pub type Target = Arc<Mutex<Option<String>>>;

const REGISTER_CUSTOMER: &str =
    "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }";
const OPEN_REQUEST: &str =
    "mutation($input: OpenRequestInput!) { openRequest(input: $input) { id } }";

/// What the load generator saw.
#[derive(Clone, Debug, Default)]
pub struct LoadStats {
    pub sent: u64,
    pub acknowledged: u64,
    /// Answers with errors, by `extensions.code` (`NONE` when an error had no code).
    pub error_codes: BTreeMap<String, u64>,
    /// The first error answered with each code.
    pub error_samples: BTreeMap<String, String>,
    /// HTTP statuses of answers that were not 200.
    pub statuses: BTreeMap<u16, u64>,
    pub transport_errors: u64,
    /// The longest a request took (a hang shows up here, bounded by the client's timeout).
    pub slowest: Duration,
}

/// Concurrent clients sending `registerCustomer` and `openRequest` (for a customer the client
/// registered) with unique payloads, recording every attempt in `ledger`; one attempt per
/// marker, never a retry. Runs until `stop` is cancelled.
pub fn spawn_load(
    clients: usize,
    seed: u64,
    token: String,
    target: Target,
    ledger: Ledger,
    stop: tokio_util::sync::CancellationToken,
) -> Vec<tokio::task::JoinHandle<LoadStats>> {
    (0..clients)
        .map(|client| {
            let (token, target, ledger, stop) =
                (token.clone(), target.clone(), ledger.clone(), stop.clone());
            tokio::spawn(async move {
                use rand::Rng as _;
                let mut rng = rng(seed ^ ((client as u64 + 1) * 0x9E37_79B9));
                let http = http_client();
                let mut stats = LoadStats::default();
                let mut customers: Vec<String> = Vec::new();
                let mut n = 0u64;
                while !stop.is_cancelled() {
                    let address = target.lock().expect("target lock").clone();
                    let Some(address) = address else {
                        // sleep-ok: load pacing: no server to send to yet
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    n += 1;
                    let open_request = !customers.is_empty() && rng.gen_bool(0.4);
                    let (marker, query, variables, field) = if open_request {
                        let customer = &customers[rng.gen_range(0..customers.len())];
                        let marker = format!("fault request {seed}-{client}-{n}");
                        let variables = json!({"input": {"customerId": customer, "message": marker,
                            "priority": "NORMAL", "type": "QUESTION"}});
                        (marker, OPEN_REQUEST, variables, "openRequest")
                    } else {
                        let marker = format!("Fault Customer {seed} {client} {n}");
                        let digits = rng.gen_range(0..1_000_000_000u64);
                        let variables = json!({"input": {"name": marker,
                            "phones": [format!("+337{digits:09}")]}});
                        (marker, REGISTER_CUSTOMER, variables, "registerCustomer")
                    };
                    let started = Instant::now();
                    let outcome = graphql(&http, &address, Some(&token), query, variables).await;
                    stats.slowest = stats.slowest.max(started.elapsed());
                    stats.sent += 1;
                    let acknowledged_id = outcome
                        .data(field)
                        .and_then(|object| object["id"].as_str())
                        .map(str::to_owned);
                    match &outcome {
                        Outcome::Transport(_) => stats.transport_errors += 1,
                        Outcome::Answered { status, body } => {
                            if *status != 200 {
                                *stats.statuses.entry(*status).or_default() += 1;
                            }
                            if body.get("errors").is_some() {
                                let code = outcome.code().unwrap_or("NONE").to_owned();
                                stats
                                    .error_samples
                                    .entry(code.clone())
                                    .or_insert_with(|| body["errors"].to_string());
                                *stats.error_codes.entry(code).or_default() += 1;
                            }
                        }
                    }
                    if let Some(id) = &acknowledged_id {
                        stats.acknowledged += 1;
                        if !open_request {
                            customers.push(id.clone());
                        }
                    }
                    let failed = acknowledged_id.is_none();
                    ledger.record(Sent {
                        marker,
                        acknowledged_id,
                    });
                    if failed {
                        // sleep-ok: load pacing after a failed request
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
                stats
            })
        })
        .collect()
}

/// Sums the clients' statistics.
pub async fn join_load(tasks: Vec<tokio::task::JoinHandle<LoadStats>>) -> LoadStats {
    let mut total = LoadStats::default();
    for task in tasks {
        let stats = task.await.expect("load client");
        total.sent += stats.sent;
        total.acknowledged += stats.acknowledged;
        total.transport_errors += stats.transport_errors;
        total.slowest = total.slowest.max(stats.slowest);
        for (code, count) in stats.error_codes {
            *total.error_codes.entry(code).or_default() += count;
        }
        for (code, sample) in stats.error_samples {
            total.error_samples.entry(code).or_insert(sample);
        }
        for (status, count) in stats.statuses {
            *total.statuses.entry(status).or_default() += count;
        }
    }
    total
}

/// Creates the first admin directly in the database; (email, password).
pub async fn bootstrap_admin(pool: &PgPool) -> (&'static str, &'static str) {
    api::auth::bootstrap::create_admin(
        pool,
        crate::graphql::ADMIN_EMAIL,
        crate::graphql::PASSWORD,
        true,
    )
    .await
    .expect("admin bootstrapped");
    (crate::graphql::ADMIN_EMAIL, crate::graphql::PASSWORD)
}

/// Asserts that the server log shows no panic.
pub fn assert_no_panic(log: &str) {
    assert!(
        !log.contains("panicked"),
        "the server panicked:\n{}",
        log.lines()
            .filter(|line| line.contains("panicked"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
