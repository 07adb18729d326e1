//! Backup monitoring (PRODUCT §6): ingest tokens, the healthchecks-style ping API, manifests
//! and their change statistics, the watchdog (overdue / recovered / timed out), retention.
//!
//! - [`tokens`]: issuing, revoking and checking ingest tokens (only a hash is stored).
//! - [`body`]: how a ping's body is received (size, time and rate limits, staged in a file).
//! - [`ingest`]: the HTTP routes `/ping/{token}[/start|/fail|/log|/{exit_status}]`.
//! - [`manifest_store`]: a manifest streamed into a staging table, diffed page by page against
//!   the previous successful run's, then kept as the one the next run is diffed against.
//! - [`service`]: the operations the GraphQL layer calls (`set_backup_plan`, `report_backup_run`,
//!   `backup_status`, …), each with a small error type.
//! - [`watchdog`]: the process manager that sleeps until the next schedule deadline.
//! - [`retention`]: the retention policy applied to a customer's finished runs.
//!
//! Architecture Invariant: decisions are the domain's (schedule, diff, retention policies and
//! aggregates); this module gathers facts, executes commands and never holds a token in clear
//! beyond the request that carries it.

pub mod body;
pub mod manifest_store;
pub mod retention;
pub mod service;
pub mod tokens;
pub mod watchdog;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};
use clap::Args;
use domain::ids::CustomerId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::platform::clock::{Clock, ClockHandle};

pub use service::BackupError;

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

/// What the backup service, retention and the watchdog take (built from the server's handles by
/// `app/` and the transport, so the service takes no `AppState`): the pool, the
/// event store and log reader, the projector (to wait for the `backups` read model), the request
/// settings (the watchdog's requests get their SLA) and the backup context.
#[derive(Clone)]
pub struct BackupState {
    pub pool: sqlx::PgPool,
    pub store: journal::EventStore,
    pub reader: journal::LogReader,
    pub projector: projections::projector::ProjectorHandle,
    pub requests: crate::requests::RequestConfig,
    pub backup: BackupContext,
    /// The request policy in force (the follow-up requests it opens get it).
    pub settings: crate::settings::LiveSettings,
}

/// What the backup services share (in `AppState`).
#[derive(Clone)]
pub struct BackupContext {
    pub clock: Arc<dyn Clock>,
    pub config: BackupConfig,
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
    /// `data_dir`: the server's data folder (ping bodies are staged in `ingest/` there).
    pub fn new(config: BackupConfig, data_dir: &std::path::Path) -> Self {
        let staging_dir = if data_dir.as_os_str().is_empty() {
            std::env::temp_dir().join("savecorp-ingest")
        } else {
            data_dir.join("ingest")
        };
        Self {
            clock: config.clock.clock(),
            config,
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
        Self::new(BackupConfig::default(), std::path::Path::new(""))
    }
}
