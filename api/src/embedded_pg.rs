//! A PostgreSQL cluster of our own, for the zero-configuration mode (no `DATABASE_URL`) and for
//! the tests: `initdb` once in `<dir>/data`, started with `pg_ctl`, listening only on a unix
//! socket in `<dir>` (no TCP port), stopped on shutdown and reused on the next start.
//!
//! PostgreSQL refuses to run as root; as root the cluster runs as the `postgres` system user
//! (through `runuser`), and `<dir>` is handed to that user.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

/// The system user that runs the cluster when we are root.
const SERVICE_USER: &str = "postgres";
/// The port only names the socket file (`.s.PGSQL.5432`): no TCP listener is opened.
const SOCKET_PORT: u16 = 5432;
/// Unix socket paths are limited to 107 bytes.
const MAX_SOCKET_PATH: usize = 100;

/// Why the embedded cluster could not be used. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no PostgreSQL server binaries found (looked for pg_ctl and initdb on PATH and in \
         /usr/lib/postgresql/*/bin): install them (Debian: apt-get install postgresql) or set \
         DATABASE_URL to an existing database"
    )]
    BinariesNotFound,
    #[error("data folder {path} is not usable: {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error("{command} failed: {detail}")]
    Command { command: String, detail: String },
    #[error("embedded PostgreSQL did not accept connections: {0}")]
    Connect(#[from] sqlx::Error),
}

/// A cluster in a folder of ours.
#[derive(Debug, Clone)]
pub struct EmbeddedPostgres {
    dir: PathBuf,
    bin_dir: PathBuf,
    run_as_service_user: bool,
}

impl EmbeddedPostgres {
    /// Prepares (does not start) a cluster in `dir` (created if missing).
    pub fn new(dir: &Path) -> Result<Self, EmbeddedError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedError::BinariesNotFound)?;
        std::fs::create_dir_all(dir).map_err(|error| EmbeddedError::DataDir {
            path: dir.to_owned(),
            reason: error.to_string(),
        })?;
        let dir = dir.canonicalize().map_err(|error| EmbeddedError::DataDir {
            path: dir.to_owned(),
            reason: error.to_string(),
        })?;
        let socket = dir.join(format!(".s.PGSQL.{SOCKET_PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(EmbeddedError::DataDir {
                path: dir,
                reason: format!(
                    "the path is too long for a unix socket (at most {} bytes); choose a shorter \
                     SAVECORP_DATA_DIR",
                    MAX_SOCKET_PATH - 13
                ),
            });
        }
        let run_as_service_user = nix::unistd::geteuid().is_root();
        let cluster = Self {
            dir,
            bin_dir,
            run_as_service_user,
        };
        cluster.prepare_permissions()?;
        Ok(cluster)
    }

    /// The folder holding the cluster (`data/`), its log and its socket.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    /// As root, the service user must own the folder and reach it through its parents.
    fn prepare_permissions(&self) -> Result<(), EmbeddedError> {
        if !self.run_as_service_user {
            return Ok(());
        }
        let user = nix::unistd::User::from_name(SERVICE_USER)
            .ok()
            .flatten()
            .ok_or_else(|| EmbeddedError::DataDir {
                path: self.dir.clone(),
                reason: format!(
                    "running as root, but there is no '{SERVICE_USER}' system user to run \
                     PostgreSQL as (PostgreSQL refuses to run as root)"
                ),
            })?;
        nix::unistd::chown(&self.dir, Some(user.uid), Some(user.gid)).map_err(|error| {
            EmbeddedError::DataDir {
                path: self.dir.clone(),
                reason: format!("cannot hand it to the {SERVICE_USER} user: {error}"),
            }
        })?;
        let probe = self.run(Command::new("test").arg("-w").arg(&self.dir))?;
        if !probe.status.success() {
            return Err(EmbeddedError::DataDir {
                path: self.dir.clone(),
                reason: format!(
                    "the {SERVICE_USER} user cannot write there (a parent folder is closed to \
                     it?); choose a SAVECORP_DATA_DIR it can reach, e.g. under /var/lib or /tmp"
                ),
            });
        }
        Ok(())
    }

    /// Runs a command as the cluster's user.
    fn run(&self, command: &mut Command) -> Result<Output, EmbeddedError> {
        let mut command = if self.run_as_service_user {
            let mut wrapped = Command::new("runuser");
            wrapped
                .args(["-u", SERVICE_USER, "--"])
                .arg(command.get_program())
                .args(command.get_args());
            wrapped
        } else {
            std::mem::replace(command, Command::new("true"))
        };
        let rendered = format!("{:?}", command.get_program());
        command
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|error| EmbeddedError::Command {
                command: rendered,
                detail: error.to_string(),
            })
    }

    fn run_checked(&self, what: &str, command: &mut Command) -> Result<(), EmbeddedError> {
        let output = self.run(command)?;
        if output.status.success() {
            return Ok(());
        }
        let mut detail = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if detail.is_empty() {
            detail = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        }
        if let Ok(log) = std::fs::read_to_string(self.log_file()) {
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            detail = format!("{detail}; postgres.log: {}", tail.join(" | "));
        }
        Err(EmbeddedError::Command {
            command: what.to_owned(),
            detail,
        })
    }

    /// `pg_ctl` as a shell command line, run as the cluster's user (for scripts that outlive us).
    pub fn pg_ctl_command(&self) -> String {
        let pg_ctl = self.bin_dir.join("pg_ctl");
        if self.run_as_service_user {
            format!("runuser -u {SERVICE_USER} -- '{}'", pg_ctl.display())
        } else {
            format!("'{}'", pg_ctl.display())
        }
    }

    fn bin(&self, name: &str) -> OsString {
        self.bin_dir.join(name).into_os_string()
    }

    /// Whether `initdb` has run here.
    pub fn is_initialised(&self) -> bool {
        self.data_dir().join("PG_VERSION").exists()
    }

    /// Creates the cluster if needed and starts it (a cluster left running is reused).
    pub fn start(&self) -> Result<(), EmbeddedError> {
        if !self.is_initialised() {
            self.run_checked(
                "initdb",
                Command::new(self.bin("initdb"))
                    .arg("-D")
                    .arg(self.data_dir())
                    .args(["-U", "postgres", "-A", "trust", "-E", "UTF8"])
                    .args(["--locale=C.UTF-8", "--no-sync"]),
            )?;
        }
        if self.is_running() {
            return Ok(());
        }
        let options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -p {SOCKET_PORT} \
             -c unix_socket_permissions=0700 -c max_connections=200",
            self.dir.display()
        );
        self.run_checked(
            "pg_ctl start",
            Command::new(self.bin("pg_ctl"))
                .arg("-D")
                .arg(self.data_dir())
                .arg("-l")
                .arg(self.log_file())
                .args(["-o", &options, "-w", "-t", "60", "start"]),
        )
    }

    /// Whether a postmaster runs on this data folder.
    pub fn is_running(&self) -> bool {
        self.run(
            Command::new(self.bin("pg_ctl"))
                .arg("-D")
                .arg(self.data_dir())
                .arg("status"),
        )
        .map(|output| output.status.success())
        .unwrap_or(false)
    }

    /// Stops the cluster (fast shutdown: open sessions are ended, nothing committed is lost).
    pub fn stop(&self) -> Result<(), EmbeddedError> {
        if !self.is_running() {
            return Ok(());
        }
        self.run_checked(
            "pg_ctl stop",
            Command::new(self.bin("pg_ctl"))
                .arg("-D")
                .arg(self.data_dir())
                .args(["-m", "fast", "-w", "-t", "60", "stop"]),
        )
    }

    /// Options to connect to `database` over the socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.dir)
            .port(SOCKET_PORT)
            .username("postgres")
            .database(database)
            .log_statements(tracing::log::LevelFilter::Trace)
    }

    /// Creates `database` unless it exists.
    pub async fn ensure_database(&self, database: &str) -> Result<(), EmbeddedError> {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(self.connect_options("postgres"))
            .await?;
        let exists: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
            .bind(database)
            .fetch_optional(&admin)
            .await?;
        if exists.is_none() {
            let quoted = database.replace('"', "\"\"");
            sqlx::query(&format!("CREATE DATABASE \"{quoted}\""))
                .execute(&admin)
                .await?;
        }
        admin.close().await;
        Ok(())
    }

    /// A URL for `psql` and humans (`postgres:///db?host=<dir>&port=5432&user=postgres`).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres:///{database}?host={}&port={SOCKET_PORT}&user=postgres",
            self.dir.display()
        )
    }

    /// Connects a pool to `database` (created if missing).
    pub async fn pool(
        &self,
        database: &str,
        max_connections: u32,
    ) -> Result<PgPool, EmbeddedError> {
        self.ensure_database(database).await?;
        Ok(crate::db::pool_options(max_connections)
            .connect_with(self.connect_options(database))
            .await?)
    }
}

/// `pg_ctl` and `initdb` on PATH, else the newest `/usr/lib/postgresql/*/bin`.
fn find_bin_dir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("pg_ctl").is_file() && dir.join("initdb").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                return Some(dir);
            }
        }
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, bin)| bin)
}
