//! `TestApp`: the real server, in this process, on `127.0.0.1:0`, against a fresh database.

use std::net::SocketAddr;

use api::{Application, ServeConfig};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::postgres::TestPostgres;

pub struct TestApp {
    pub address: SocketAddr,
    pub database: String,
    /// A pool of the test's own on the server's database (for assertions on tables).
    pub pool: PgPool,
    pub http: reqwest::Client,
    /// The server's shared state (service functions, clock, store).
    pub state: api::transport::state::AppState,
    /// The one-time setup link the server issued at start (no admin yet), as logged.
    pub setup_link: Option<String>,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _data_dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts a server against a fresh, migrated database.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server against a fresh database, with the test's changes to the configuration.
    pub async fn spawn_with(configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
        let postgres = TestPostgres::get().await;
        let database = postgres.fresh_database().await;
        Self::spawn_on(database, configure).await
    }

    /// Starts a server against an existing database (e.g. the one of a stopped `TestApp`, to
    /// test a restart), with a fresh data folder.
    pub async fn spawn_on(database: String, configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
        Self::spawn_in(TestPostgres::get().await, database, configure).await
    }

    /// Like [`TestApp::spawn_on`], on a database of `postgres` (say, a private cluster).
    pub async fn spawn_in(
        postgres: &TestPostgres,
        database: String,
        configure: impl FnOnce(&mut ServeConfig),
    ) -> TestApp {
        let data_dir = tempfile::tempdir().expect("data folder");
        let mut config =
            ServeConfig::for_tests(postgres.url(&database), data_dir.path().to_owned());
        configure(&mut config);
        let application = Application::build(&config).await.expect("server builds");
        let address = application.local_addr();
        let state = application.state().clone();
        let setup_link = application.setup_link().map(str::to_owned);
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(application.run_until_stopped(shutdown.clone()));
        TestApp {
            address,
            pool: postgres.pool(&database, 4).await,
            database,
            http: reqwest::Client::new(),
            state,
            setup_link,
            shutdown,
            server: Some(server),
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// POSTs a GraphQL request; returns the HTTP status and the JSON body.
    pub async fn graphql(&self, query: &str, variables: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({"query": query, "variables": variables}))
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Stops the server gracefully and waits for it.
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

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
