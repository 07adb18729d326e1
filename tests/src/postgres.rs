//! One PostgreSQL cluster per test process, a fresh database per test.
//!
//! Without `DATABASE_URL` the cluster is our own embedded one, in a temporary folder, started
//! on first use. A detached reaper process stops it and removes the folder as soon as this
//! process has exited, however it exits (success, failed assertion, panic or kill), so a test
//! run leaves no processes or temporary folders behind.
//!
//! With `DATABASE_URL` (a role that may create databases), the databases are made there.
//!
//! Databases are cloned from a template that already has every migration applied.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use api::platform::embedded_pg::EmbeddedPostgres;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use tokio::sync::OnceCell;

const TEMPLATE: &str = "savecorp_test_template";

/// Where the test databases live.
pub struct TestPostgres {
    /// The embedded cluster, when we started one.
    pub embedded: Option<EmbeddedPostgres>,
    admin_options: PgConnectOptions,
    /// The folder holding the embedded cluster.
    pub dir: Option<PathBuf>,
}

static POSTGRES: OnceCell<TestPostgres> = OnceCell::const_new();

impl TestPostgres {
    /// The process-wide cluster, started (and the template migrated) on first use.
    pub async fn get() -> &'static TestPostgres {
        POSTGRES
            .get_or_init(|| async {
                let postgres = match std::env::var("DATABASE_URL") {
                    Ok(url) => TestPostgres::external(&url),
                    Err(_) => TestPostgres::embedded(),
                };
                postgres.create_template().await;
                postgres
            })
            .await
    }

    fn external(url: &str) -> TestPostgres {
        let admin_options: PgConnectOptions = url.parse().expect("DATABASE_URL parses");
        TestPostgres {
            embedded: None,
            admin_options,
            dir: None,
        }
    }

    /// A cluster of the caller's own (not the process-wide one), for tests that stop and start
    /// PostgreSQL ([`TestPostgres::stop_cluster`], [`TestPostgres::start_cluster`]). It is always
    /// embedded, whatever `DATABASE_URL` says, and reaped like the shared one.
    pub async fn private() -> TestPostgres {
        let postgres = tokio::task::spawn_blocking(TestPostgres::embedded)
            .await
            .expect("cluster start");
        postgres.create_template().await;
        postgres
    }

    fn cluster(&self) -> &EmbeddedPostgres {
        self.embedded
            .as_ref()
            .expect("only an embedded cluster can be stopped and started")
    }

    /// Stops the cluster with `pg_ctl stop -m <mode>` (`smart`, `fast` or `immediate`) and waits.
    /// Only for a [`TestPostgres::private`] cluster: other tests use the shared one.
    pub fn stop_cluster(&self, mode: &str) {
        assert!(
            matches!(mode, "smart" | "fast" | "immediate"),
            "unknown shutdown mode {mode}"
        );
        let cluster = self.cluster();
        let command = format!(
            "{} -D '{}' -m {mode} -w -t 60 stop",
            cluster.pg_ctl_command(),
            cluster.dir().join("data").display()
        );
        let output = Command::new("sh")
            .args(["-c", &command])
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl stop runs");
        assert!(
            output.status.success(),
            "pg_ctl stop -m {mode}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts the cluster again after [`TestPostgres::stop_cluster`] (crash recovery included).
    pub fn start_cluster(&self) {
        self.cluster().start().expect("cluster starts again");
    }

    fn embedded() -> TestPostgres {
        let dir = tempfile::Builder::new()
            .prefix("savecorp-test-pg-")
            .tempdir()
            .expect("temporary folder")
            .keep();
        // The `postgres` user (when we are root) must reach the folder.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .expect("folder permissions");
        let cluster = EmbeddedPostgres::new(&dir.join("pg")).expect("embedded PostgreSQL usable");
        spawn_reaper(&dir, &cluster);
        cluster.start().expect("embedded PostgreSQL starts");
        let admin_options = cluster.connect_options("postgres");
        TestPostgres {
            embedded: Some(cluster),
            admin_options,
            dir: Some(dir),
        }
    }

    /// Options for `database` on this server.
    pub fn options(&self, database: &str) -> PgConnectOptions {
        self.admin_options
            .clone()
            .database(database)
            .disable_statement_logging()
    }

    /// A URL for `database` that the server's configuration accepts.
    pub fn url(&self, database: &str) -> String {
        match &self.embedded {
            Some(cluster) => cluster.url(database),
            None => {
                let mut url =
                    url::Url::parse(&std::env::var("DATABASE_URL").expect("DATABASE_URL is set"))
                        .expect("DATABASE_URL parses");
                url.set_path(&format!("/{database}"));
                url.to_string()
            }
        }
    }

    async fn admin(&self) -> PgPool {
        PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.options("postgres"))
            .await
            .expect("admin connection")
    }

    async fn create_template(&self) {
        let admin = self.admin().await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
            .execute(&admin)
            .await
            .expect("drop old template");
        sqlx::query(&format!("CREATE DATABASE {TEMPLATE}"))
            .execute(&admin)
            .await
            .expect("create template");
        let template = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.options(TEMPLATE))
            .await
            .expect("template connection");
        migrations::run(&template).await.expect("migrations apply");
        template.close().await;
        admin.close().await;
    }

    /// A new database with every migration applied; its name is returned.
    pub async fn fresh_database(&self) -> String {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let admin = self.admin().await;
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        name
    }

    /// A write transaction left open in a database of its own. Until it is dropped it holds
    /// back the log readers' watermark in every database of the cluster
    /// (`pg_snapshot_xmin(pg_current_snapshot())` is cluster-wide), as any long write
    /// transaction would: use it on a [`TestPostgres::private`] cluster only.
    pub async fn hold_watermark(&self) -> sqlx::Transaction<'static, sqlx::Postgres> {
        let database = self.fresh_database().await;
        let pool = self.pool(&database, 1).await;
        let mut transaction = pool.begin().await.expect("begin");
        sqlx::query("SELECT pg_current_xact_id()")
            .execute(&mut *transaction)
            .await
            .expect("a transaction id is assigned");
        transaction
    }

    /// A pool on `database`.
    pub async fn pool(&self, database: &str, max_connections: u32) -> PgPool {
        PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(self.options(database))
            .await
            .expect("test pool")
    }
}

/// Starts `sh` in its own session: it waits for this process to end, then stops the cluster
/// (immediate mode: it only held test data) and deletes the folder.
#[allow(clippy::zombie_processes)] // it must outlive this process: nobody here waits for it
fn spawn_reaper(dir: &std::path::Path, cluster: &EmbeddedPostgres) {
    let pid = std::process::id();
    let data = cluster.dir().join("data");
    let pg_ctl = cluster.pg_ctl_command();
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; \
         {pg_ctl} -D '{data}' -m immediate -w stop >/dev/null 2>&1; \
         rm -rf '{dir}'",
        data = data.display(),
        dir = dir.display(),
    );
    Command::new("setsid")
        .args(["sh", "-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("reaper process starts");
}
