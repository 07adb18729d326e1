//! A PostgreSQL cluster of our own, for the zero-configuration mode (no `DATABASE_URL`) and for
//! the tests: `initdb` once in `<dir>/data`, started with `pg_ctl`, listening only on a unix
//! socket in `<dir>` (no TCP port), stopped on shutdown and reused on the next start.
//!
//! PostgreSQL refuses to run as root; as root the cluster runs as the `postgres` system user
//! (through `runuser`), and `<dir>` is handed to that user.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
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

    /// Creates the cluster if needed and starts it (a cluster left running is reused). A
    /// postmaster that died leaving its `postmaster.pid` behind (killed, crashed) is replaced once
    /// its last backend has exited.
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
        match self.postmaster() {
            Postmaster::Running(_) => return Ok(()),
            Postmaster::Stopped => {}
            Postmaster::Dead(pid) => self.clear_dead_postmaster(pid)?,
        }
        let mut options = format!(
            "-c listen_addresses='' -c unix_socket_directories='{}' -p {SOCKET_PORT} \
             -c unix_socket_permissions=0700 -c max_connections=200",
            self.dir.display()
        );
        // Crash recovery begins by syncing the data folder: one syncfs instead of an fsync per
        // file (seconds on a busy disk), so a killed postmaster is back within seconds.
        if self.major_version().is_some_and(|version| version >= 14) {
            options.push_str(" -c recovery_init_sync_method=syncfs");
        }
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

    /// The cluster's major version (`PG_VERSION`).
    fn major_version(&self) -> Option<u32> {
        std::fs::read_to_string(self.data_dir().join("PG_VERSION"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Whether a postmaster runs on this data folder.
    pub fn is_running(&self) -> bool {
        matches!(self.postmaster(), Postmaster::Running(_))
    }

    /// What `postmaster.pid` says, checked against `/proc`: `pg_ctl status` takes a zombie
    /// (a killed postmaster nobody reaped, as under a PID 1 that does not reap) for a live one.
    fn postmaster(&self) -> Postmaster {
        let Some(pid) = self.postmaster_pid() else {
            return Postmaster::Stopped;
        };
        if process_alive(pid) {
            Postmaster::Running(pid)
        } else {
            Postmaster::Dead(pid)
        }
    }

    fn postmaster_pid(&self) -> Option<i32> {
        let text = std::fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// After a postmaster died: waits (bounded) until no process works in the data folder any
    /// more (its backends exit when they notice), then removes the stale lock files
    /// (`postmaster.pid`, the socket's), which would stop a new postmaster when they name a zombie.
    fn clear_dead_postmaster(&self, pid: i32) -> Result<(), EmbeddedError> {
        let data = self.data_dir();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while processes_in(&data) > 0 {
            if std::time::Instant::now() > deadline {
                return Err(EmbeddedError::Command {
                    command: "pg_ctl start".into(),
                    detail: format!(
                        "the postmaster (pid {pid}) is gone but PostgreSQL processes still use \
                         {}",
                        data.display()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Both lock files name the dead postmaster.
        for lock in [
            data.join("postmaster.pid"),
            self.dir.join(format!(".s.PGSQL.{SOCKET_PORT}.lock")),
        ] {
            let names_it = std::fs::read_to_string(&lock)
                .ok()
                .and_then(|text| text.lines().next()?.trim().parse::<i32>().ok())
                == Some(pid);
            if names_it {
                let _ = std::fs::remove_file(&lock);
            }
        }
        Ok(())
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

    /// Takes the lock around start and stop decisions (blocking until it is free).
    fn control_lock(&self) -> Result<Flock<File>, EmbeddedError> {
        let path = self.dir.join("savecorp.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|error| self.data_dir_error(&path, error))?;
        Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| EmbeddedError::DataDir {
            path,
            reason: format!("cannot lock it: {errno}"),
        })
    }

    fn data_dir_error(&self, path: &Path, error: std::io::Error) -> EmbeddedError {
        EmbeddedError::DataDir {
            path: path.to_owned(),
            reason: error.to_string(),
        }
    }

    fn users_dir(&self) -> PathBuf {
        self.dir.join("users")
    }

    /// Processes registered as users of the cluster and still alive (each holds a lock on its
    /// file for as long as it lives, so a killed one does not count; its file is removed).
    fn live_users(&self) -> usize {
        let Ok(entries) = std::fs::read_dir(self.users_dir()) else {
            return 0;
        };
        let mut live = 0;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let Ok(file) = OpenOptions::new().write(true).open(&path) else {
                continue;
            };
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(_stale) => {
                    let _ = std::fs::remove_file(&path);
                }
                Err(_) => live += 1,
            }
        }
        live
    }

    /// Registers this process as a user of the cluster.
    fn register(&self) -> Result<(Flock<File>, PathBuf), EmbeddedError> {
        let dir = self.users_dir();
        std::fs::create_dir_all(&dir).map_err(|error| self.data_dir_error(&dir, error))?;
        let path = dir.join(format!("{}.lock", std::process::id()));
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .map_err(|error| self.data_dir_error(&path, error))?;
        let lock = Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| {
            EmbeddedError::DataDir {
                path: path.clone(),
                reason: format!("cannot lock it: {errno}"),
            }
        })?;
        Ok((lock, path))
    }

    fn started_marker(&self) -> PathBuf {
        self.dir.join("started-by-savecorp")
    }

    /// Remembers that a savecorp process started the running postmaster.
    fn mark_started(&self) {
        if let Some(pid) = self.postmaster_pid() {
            let _ = std::fs::write(self.started_marker(), format!("{pid}\n"));
        }
    }

    /// Whether the running postmaster was started by a savecorp process (not by hand).
    fn started_by_savecorp(&self) -> bool {
        let marked = std::fs::read_to_string(self.started_marker())
            .ok()
            .and_then(|text| text.trim().parse::<i32>().ok());
        marked.is_some() && marked == self.postmaster_pid()
    }

    /// Registers this process as a user of the cluster and starts it unless it runs. Blocking.
    /// Release it with [`ClusterUser::detach`].
    pub fn attach(&self) -> Result<ClusterUser, EmbeddedError> {
        let _control = self.control_lock()?;
        let (lock, path) = self.register()?;
        let user = ClusterUser {
            cluster: self.clone(),
            lock: Some(lock),
            path,
        };
        if !self.is_running() {
            self.start()?;
            self.mark_started();
        }
        Ok(user)
    }

    /// Starts the cluster again if it is not running (it crashed, or was stopped by hand while
    /// this process uses it). Whether it had to. Blocking.
    pub fn restart_if_down(&self) -> Result<bool, EmbeddedError> {
        if self.is_running() {
            return Ok(false);
        }
        let _control = self.control_lock()?;
        if self.is_running() {
            return Ok(false);
        }
        self.start()?;
        self.mark_started();
        Ok(true)
    }

    /// Options to connect to `database` over the socket as the `postgres` superuser (for
    /// administration and the tests; the server uses [`APP_ROLE`]).
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        self.connect_options_as(database, "postgres")
    }

    fn connect_options_as(&self, database: &str, user: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.dir)
            .port(SOCKET_PORT)
            .username(user)
            .database(database)
            .log_statements(tracing::log::LevelFilter::Trace)
    }

    /// Creates (or brings up to date) [`APP_ROLE`] and `database`, owned by that role with its
    /// `public` schema and everything in it (a cluster made by an older version had them owned
    /// by `postgres`). Idempotent; one process at a time (an advisory lock).
    pub async fn ensure_database(&self, database: &str) -> Result<(), EmbeddedError> {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(self.connect_options("postgres"))
            .await?;
        let prepared = async {
            let mut connection = admin.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(super::leadership::keys::EMBEDDED_SETUP)
                .execute(&mut *connection)
                .await?;
            let role = quote_ident(APP_ROLE);
            let role_exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_roles WHERE rolname = $1")
                    .bind(APP_ROLE)
                    .fetch_optional(&mut *connection)
                    .await?;
            let verb = if role_exists.is_some() {
                "ALTER"
            } else {
                "CREATE"
            };
            sqlx::query(&format!("{verb} ROLE {role} {APP_ROLE_ATTRIBUTES}"))
                .execute(&mut *connection)
                .await?;
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                    .bind(database)
                    .fetch_optional(&mut *connection)
                    .await?;
            let quoted = quote_ident(database);
            let statement = match exists {
                Some(_) => format!("ALTER DATABASE {quoted} OWNER TO {role}"),
                None => format!("CREATE DATABASE {quoted} OWNER {role}"),
            };
            sqlx::query(&statement).execute(&mut *connection).await?;
            let inside = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(self.connect_options(database))
                .await?;
            let owned = sqlx::query(&OWN_EVERYTHING.replace("{role}", &role))
                .execute(&inside)
                .await;
            inside.close().await;
            owned?;
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(super::leadership::keys::EMBEDDED_SETUP)
                .execute(&mut *connection)
                .await?;
            Ok::<_, sqlx::Error>(())
        }
        .await;
        admin.close().await;
        prepared?;
        Ok(())
    }

    /// A URL for `psql` and humans, as the `postgres` superuser
    /// (`postgres:///db?host=<dir>&port=5432&user=postgres`).
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres:///{database}?host={}&port={SOCKET_PORT}&user=postgres",
            self.dir.display()
        )
    }

    /// A URL for `psql`, as [`APP_ROLE`].
    pub fn app_url(&self, database: &str) -> String {
        format!(
            "postgres:///{database}?host={}&port={SOCKET_PORT}&user={APP_ROLE}",
            self.dir.display()
        )
    }

    /// Connects a pool to `database` (created if missing) as [`APP_ROLE`].
    pub async fn pool(
        &self,
        database: &str,
        max_connections: u32,
    ) -> Result<PgPool, EmbeddedError> {
        self.ensure_database(database).await?;
        Ok(super::pool::pool_options(max_connections)
            .connect_with(self.connect_options_as(database, APP_ROLE))
            .await?)
    }
}

/// The role the server connects to its embedded cluster as: it owns the application's database
/// and what is in it, and nothing more.
pub const APP_ROLE: &str = "savecorp";

const APP_ROLE_ATTRIBUTES: &str =
    "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS";

/// Hands the `public` schema and every table, view, sequence, function and type in it to
/// `{role}` (sequences owned by a column follow their table).
const OWN_EVERYTHING: &str = r#"
DO $$
DECLARE
    item record;
BEGIN
    ALTER SCHEMA public OWNER TO {role};
    FOR item IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                    WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                    ELSE 'TABLE' END AS kind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND c.relowner <> '{role}'::regrole
          AND NOT (c.relkind = 'S' AND EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO {role}', item.kind, item.name);
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner <> '{role}'::regrole
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO {role}', item.name);
    END LOOP;
    FOR item IN
        SELECT t.oid::regtype AS name,
               CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typowner <> '{role}'::regrole
          AND t.typtype IN ('e', 'd')
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO {role}', item.kind, item.name);
    END LOOP;
END
$$
"#;

/// `name` as a quoted SQL identifier.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// What `postmaster.pid` names.
enum Postmaster {
    /// No `postmaster.pid`: stopped cleanly (or never started).
    Stopped,
    Running(#[allow(dead_code)] i32),
    /// `postmaster.pid` names a process that is gone (or a zombie): killed or crashed.
    Dead(i32),
}

/// A process of the cluster's users registry (see [`EmbeddedPostgres::attach`]).
#[derive(Debug)]
pub struct ClusterUser {
    cluster: EmbeddedPostgres,
    lock: Option<Flock<File>>,
    path: PathBuf,
}

impl ClusterUser {
    /// The cluster used.
    pub fn cluster(&self) -> &EmbeddedPostgres {
        &self.cluster
    }

    /// Leaves the registry; stops the cluster when no other process uses it and a savecorp
    /// process started it (a cluster started by hand is left running). Blocking.
    pub fn detach(mut self) -> Result<(), EmbeddedError> {
        let cluster = self.cluster.clone();
        let _control = cluster.control_lock()?;
        let _ = std::fs::remove_file(&self.path);
        drop(self.lock.take());
        if cluster.live_users() == 0 && cluster.started_by_savecorp() {
            cluster.stop()?;
            let _ = std::fs::remove_file(cluster.started_marker());
        }
        Ok(())
    }
}

/// Whether `pid` is a live process (not gone, not a zombie).
fn process_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}

/// Live processes whose working folder is `dir` (PostgreSQL's processes work in their data
/// folder).
fn processes_in(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == dir)
                && process_alive(*pid)
        })
        .count()
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
