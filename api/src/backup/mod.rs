//! Backup monitoring (PRODUCT §6): ingest tokens, the healthchecks-style ping API, manifests
//! and their change statistics, the watchdog (overdue / recovered / timed out), retention.
//!
//! - [`tokens`]: issuing, revoking and checking ingest tokens (only a hash is stored).
//! - [`ingest`]: the HTTP routes `/ping/{token}[/start|/fail|/log|/{exit_status}]`.
//! - [`manifest_store`]: a manifest streamed into a staging table, diffed page by page against
//!   the previous successful run's, then kept as the one the next run is diffed against.
//! - [`service`]: the operations the GraphQL layer calls (`set_backup_plan`, `report_backup_run`,
//!   `backup_status`, …), each with a small error type.
//! - [`watchdog`]: the process manager that sleeps until the next schedule deadline.
//! - [`retention`]: the retention policy applied to a customer's finished runs.
//! - [`purge`]: the periodic purge of spent tokens (revoked ingest tokens, expired refresh
//!   tokens, ended sessions) after a retention period.
//!
//! Architecture Invariant: decisions are the domain's (schedule, diff, retention policies and
//! aggregates); this module gathers facts, executes commands and never holds a token in clear
//! beyond the request that carries it.

pub mod ingest;
pub mod manifest_store;
pub mod purge;
pub mod retention;
pub mod service;
pub mod tokens;
pub mod watchdog;

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;
use domain::ids::CustomerId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub use service::BackupError;

/// Where "now" comes from: the system clock in production, a clock tests move by hand.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that follows the system clock plus an offset that tests move forward, or, once
/// [`set`](ManualClock::set), stands still at a given instant until moved.
#[derive(Debug, Default)]
pub struct ManualClock {
    offset: Mutex<TimeDelta>,
    frozen: Mutex<Option<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::zero());
        if let Some(frozen) = self
            .frozen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .as_mut()
        {
            *frozen += by;
            return;
        }
        let mut offset = self
            .offset
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        *offset += by;
    }
}

impl ManualClock {
    /// Stops the clock at `at` (exact instants for the test); [`advance`](Self::advance) and
    /// `set` move it from there.
    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .frozen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(at);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        if let Some(frozen) = *self
            .frozen
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
        {
            return frozen;
        }
        let offset = *self
            .offset
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        Utc::now() + offset
    }
}

/// A shareable clock for the configuration (`None`: the system clock).
#[derive(Clone, Default)]
pub struct ClockHandle(pub Option<Arc<dyn Clock>>);

impl ClockHandle {
    pub fn of(clock: Arc<dyn Clock>) -> Self {
        Self(Some(clock))
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.0.clone().unwrap_or_else(|| Arc::new(SystemClock))
    }
}

impl fmt::Debug for ClockHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "ClockHandle(custom)"
        } else {
            "ClockHandle(system)"
        })
    }
}

/// Backup monitoring settings.
#[derive(Args, Clone, Debug)]
pub struct BackupConfig {
    /// Largest ping body (manifest or restic output), in bytes.
    #[arg(long, env = "SAVECORP_INGEST_MAX_BODY_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub ingest_max_body_bytes: u64,

    /// Longest manifest line, in bytes.
    #[arg(long, env = "SAVECORP_INGEST_MAX_LINE_BYTES", default_value_t = 64 * 1024)]
    pub ingest_max_line_bytes: usize,

    /// Most entries in one manifest.
    #[arg(
        long,
        env = "SAVECORP_INGEST_MAX_ENTRIES",
        default_value_t = 10_000_000
    )]
    pub ingest_max_entries: u64,

    /// Longest wait for the next bytes of a ping body, in milliseconds; a body that stalls
    /// longer is refused (408) and its connection closed.
    #[arg(
        long,
        env = "SAVECORP_INGEST_READ_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub ingest_read_timeout_ms: u64,

    /// Slowest average rate a ping body may arrive at, after a first read timeout's worth of
    /// time, in bytes per second (0: no minimum): a body trickling in slower is refused (408).
    #[arg(
        long,
        env = "SAVECORP_INGEST_MIN_BYTES_PER_SEC",
        default_value_t = 1024
    )]
    pub ingest_min_bytes_per_sec: u64,

    /// Pings processed at once (each holds at most two database connections while it stages,
    /// diffs and commits; bodies are received without any). Capped so that ingest leaves at
    /// least half the pool to the rest of the server.
    #[arg(long, env = "SAVECORP_INGEST_CONCURRENCY", default_value_t = 4)]
    pub ingest_concurrency: u32,

    /// Longest the watchdog sleeps without looking again (a safety net: it normally sleeps
    /// until the next deadline and is woken by new events), in milliseconds.
    #[arg(long, env = "SAVECORP_WATCHDOG_MAX_SLEEP_MS", default_value_t = 60_000)]
    pub watchdog_max_sleep_ms: u64,

    /// How often a standby instance tries to take over the watchdog and the mail outbox
    /// feeder, in milliseconds.
    #[arg(long, env = "SAVECORP_LEADER_RETRY_MS", default_value_t = 5_000)]
    pub leader_retry_ms: u64,

    /// How long a spent credential (a revoked ingest token, an expired refresh token, an ended
    /// session) is kept before it is purged, in seconds.
    #[arg(long, env = "SAVECORP_SPENT_TOKEN_RETENTION_SECS", default_value_t = 30 * 24 * 3600)]
    pub spent_token_retention_secs: u64,

    /// How often spent credentials are purged, in milliseconds.
    #[arg(
        long,
        env = "SAVECORP_TOKEN_PURGE_INTERVAL_MS",
        default_value_t = 3_600_000
    )]
    pub token_purge_interval_ms: u64,

    /// The server's public base URL, for the instructions mailed to backup customers.
    /// Absent: `http://` + the listen address.
    #[arg(long, env = "SAVECORP_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// The clock (tests only; the system clock otherwise).
    #[arg(skip)]
    pub clock: ClockHandle,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            ingest_max_body_bytes: 512 * 1024 * 1024,
            ingest_max_line_bytes: 64 * 1024,
            ingest_max_entries: 10_000_000,
            ingest_read_timeout_ms: 30_000,
            ingest_min_bytes_per_sec: 1024,
            ingest_concurrency: 4,
            watchdog_max_sleep_ms: 60_000,
            leader_retry_ms: 5_000,
            spent_token_retention_secs: 30 * 24 * 3600,
            token_purge_interval_ms: 3_600_000,
            public_url: None,
            clock: ClockHandle::default(),
        }
    }
}

/// What the backup and mail services share (in `AppState`).
#[derive(Clone)]
pub struct BackupContext {
    pub clock: Arc<dyn Clock>,
    pub config: BackupConfig,
    pub mail: crate::mail::MailSettings,
    /// Wakes the mail sender when the outbox got new rows.
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    /// The customers whose ping body is being received or processed by this server.
    pub uploads: UploadSlots,
    /// Where ping bodies are staged while they arrive (`<data_dir>/ingest`, mode 0700).
    pub staging_dir: PathBuf,
    /// Ingest's share of the database pool (sized at first use from the pool's size).
    ingest_permits: Arc<OnceLock<Arc<Semaphore>>>,
    /// How far the watchdog and the token purge got (a test waits on it instead of sleeping).
    pub progress: Progress,
}

/// The last finished pass of this server's watchdog and how many passes its token purge
/// finished: observable progress of the periodic tasks (nothing decides on it).
#[derive(Clone)]
pub struct Progress {
    pub watchdog: Arc<tokio::sync::watch::Sender<watchdog::Pass>>,
    pub token_purges: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            watchdog: Arc::new(tokio::sync::watch::channel(watchdog::Pass::default()).0),
            token_purges: Arc::new(tokio::sync::watch::channel(0).0),
        }
    }
}

impl BackupContext {
    pub fn new(config: BackupConfig, mail: crate::mail::MailSettings) -> Self {
        let staging_dir = if mail.data_dir.as_os_str().is_empty() {
            std::env::temp_dir().join("savecorp-ingest")
        } else {
            mail.data_dir.join("ingest")
        };
        Self {
            clock: config.clock.clock(),
            config,
            mail,
            mail_wakeup: Arc::new(tokio::sync::Notify::new()),
            uploads: UploadSlots::default(),
            staging_dir,
            ingest_permits: Arc::default(),
            progress: Progress::default(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Waits for one of ingest's database permits: at most `ingest_concurrency` pings use the
    /// database at once, and never more than a quarter of the pool's connections (each ping
    /// holds at most two), so ingest cannot starve logins, GraphQL and the projector.
    pub async fn ingest_permit(&self, pool: &sqlx::PgPool) -> OwnedSemaphorePermit {
        let semaphore = self.ingest_permits.get_or_init(|| {
            let pool_size = pool.options().get_max_connections();
            let share = (pool_size / 4).max(1);
            let permits = self.config.ingest_concurrency.clamp(1, share);
            Arc::new(Semaphore::new(permits as usize))
        });
        semaphore
            .clone()
            .acquire_owned()
            .await
            .expect("the ingest semaphore is never closed")
    }
}

/// The customers with a ping body in progress on this server: one at a time per customer, a
/// second one is refused at once (409) instead of queueing behind the first.
#[derive(Clone, Debug, Default)]
pub struct UploadSlots(Arc<Mutex<HashSet<CustomerId>>>);

impl UploadSlots {
    /// The customer's slot, or `None` while another ping of the customer holds it.
    pub fn claim(&self, customer_id: CustomerId) -> Option<UploadSlot> {
        let mut busy = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        busy.insert(customer_id).then(|| UploadSlot {
            slots: self.clone(),
            customer_id,
        })
    }

    /// How many customers have a ping in progress (for tests and metrics).
    pub fn in_progress(&self) -> usize {
        self.0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .len()
    }
}

/// A held upload slot; released when dropped (whatever ends the ping).
#[derive(Debug)]
pub struct UploadSlot {
    slots: UploadSlots,
    customer_id: CustomerId,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        self.slots
            .0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .remove(&self.customer_id);
    }
}

impl Default for BackupContext {
    fn default() -> Self {
        Self::new(
            BackupConfig::default(),
            crate::mail::MailSettings::default(),
        )
    }
}

/// A per-process advisory lock key (the watchdog and the outbox feeder run once per database).
pub(crate) const WATCHDOG_LOCK_KEY: i64 = 0x5341_5645_0001;
pub(crate) const OUTBOX_FEEDER_LOCK_KEY: i64 = 0x5341_5645_0002;

/// Runs `body` as the one active instance of `name` per database: waits for the session
/// advisory lock `key`, runs `body` with the lock's connection (it holds the lock as long as
/// it keeps the connection; a `body` must end with an error when that session is lost, e.g. by
/// pinging it each round: a restarted database drops the lock, and another instance may then
/// lead), and after an error waits `retry` and leads again. Returns on shutdown or when `body`
/// returns `Ok`.
pub(crate) async fn lead<F, Fut>(
    pool: &sqlx::PgPool,
    key: i64,
    name: &'static str,
    retry: Duration,
    shutdown: &tokio_util::sync::CancellationToken,
    mut body: F,
) where
    F: FnMut(sqlx::PgConnection) -> Fut,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>>,
{
    loop {
        let Some(lock) = wait_for_leadership(pool, key, retry, shutdown).await else {
            return;
        };
        tracing::info!("{name} active");
        let result = body(lock).await;
        match result {
            Ok(()) => return,
            Err(error) => {
                tracing::error!(%error, "{name} failed; restarting");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(retry) => {}
                }
            }
        }
    }
}

/// Waits until this instance holds the session advisory lock `key` (one active watchdog or
/// outbox feeder per database); the lock lives as long as the returned connection. `None` when
/// shut down first.
pub(crate) async fn wait_for_leadership(
    pool: &sqlx::PgPool,
    key: i64,
    retry: Duration,
    shutdown: &tokio_util::sync::CancellationToken,
) -> Option<sqlx::PgConnection> {
    use sqlx::Connection as _;
    loop {
        let attempt = async {
            let mut connection = sqlx::PgConnection::connect_with(&pool.connect_options()).await?;
            let (locked,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                .bind(key)
                .fetch_one(&mut connection)
                .await?;
            if locked {
                Ok::<_, sqlx::Error>(Some(connection))
            } else {
                let _ = connection.close().await;
                Ok(None)
            }
        };
        match attempt.await {
            Ok(Some(connection)) => return Some(connection),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, key, "cannot try the leader lock"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            _ = tokio::time::sleep(retry) => {}
        }
    }
}
