//! The server under measurement for P2–P4 (and P6): `savecorp serve` as a separate process, so
//! that its peak RSS is its own and the bench's clients, generators and direct queries do not
//! count.
//!
//! The process is this very executable started as `bench serve`, which runs `api::cli::main()`
//! exactly like the `savecorp` and `savecorp-under-test` binaries: the server measured is always
//! built from the same sources as the bench (no second binary to build, none that can be stale).

use std::time::Duration;

use serde_json::{json, Value};
use sqlx::PgPool;
use tests::faults::{self, ServerProcess, ServerSpec};
use tests::graphql::{ADMIN_EMAIL, PASSWORD};
use tests::TestPostgres;

/// The first argument that makes the bench executable run the server instead.
pub const SERVE_ARGUMENT: &str = "serve";

/// Connections of the server's pool (its default in production is 10).
const SERVER_DB_CONNECTIONS: &str = "8";

pub struct BenchServer {
    process: ServerProcess,
    /// `host:port` it listens on.
    pub address: String,
    /// An admin's access token.
    pub token: String,
    /// The bench's own pool on the server's database (appends, direct queries, assertions).
    pub pool: PgPool,
    pub http: reqwest::Client,
    _data_dir: tempfile::TempDir,
}

impl BenchServer {
    /// Starts the server on `database` (migrated; its read models already where they should
    /// be), bootstraps an admin and logs in.
    pub async fn spawn(database: &str) -> anyhow::Result<BenchServer> {
        let postgres = TestPostgres::get().await;
        let data_dir = faults::data_dir();
        let mut spec = ServerSpec::new(
            std::env::current_exe()?
                .to_str()
                .ok_or_else(|| anyhow::anyhow!("the bench's path is not UTF-8"))?,
            postgres.url(database),
            data_dir.path(),
        );
        spec.log_filter = "warn,api::app=info".into();
        spec.env.push((
            "SAVECORP_DB_CONNECTIONS".into(),
            SERVER_DB_CONNECTIONS.into(),
        ));
        // Every P2 and P6 subscription is the admin's: lift the per-worker WebSocket cap
        // (default 8, closed 4429) to the server-wide one.
        spec.env.push((
            "SAVECORP_WS_MAX_CONNECTIONS_PER_WORKER".into(),
            "2000".into(),
        ));
        let mut process = tokio::task::spawn_blocking(move || ServerProcess::spawn(&spec)).await?;
        process.wait_ready(Duration::from_secs(120)).await;
        let pool = postgres.pool(database, 16).await;
        api::auth::bootstrap::create_admin(&pool, ADMIN_EMAIL, PASSWORD, true).await?;
        let address = process.address.clone();
        let token = faults::login(&address, ADMIN_EMAIL, PASSWORD).await;
        println!(
            "server: pid {} on {address}, database {database}",
            process.pid()
        );
        Ok(BenchServer {
            process,
            address,
            token,
            pool,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            _data_dir: data_dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The server's peak resident set (VmHWM) in MB since it started.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        status_kib(self.pid(), "VmHWM:").map(|kib| kib as f64 / 1024.0)
    }

    /// POSTs a GraphQL query as the admin; the `data`, or an error naming what came back.
    pub async fn graphql(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("http://{}/graphql", self.address))
            .bearer_auth(&self.token)
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await?;
        let status = response.status();
        let mut body: Value = response.json().await?;
        if !status.is_success() || body.get("errors").is_some() {
            anyhow::bail!("GraphQL answered {status}: {body}");
        }
        Ok(body["data"].take())
    }

    /// SIGTERM and wait for a clean exit; the server's log if it did not exit cleanly.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.pool.close().await;
        let status = tokio::task::spawn_blocking(move || {
            let status = self.process.terminate();
            (status, self.process.log())
        })
        .await?;
        if !status.0.success() {
            anyhow::bail!("the server exited with {}:\n{}", status.0, status.1);
        }
        Ok(())
    }
}

/// A `/proc/<pid>/status` field in KiB.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
