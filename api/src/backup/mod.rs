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

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use clap::Args;

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
}

impl BackupContext {
    pub fn new(config: BackupConfig, mail: crate::mail::MailSettings) -> Self {
        Self {
            clock: config.clock.clock(),
            config,
            mail,
            mail_wakeup: Arc::new(tokio::sync::Notify::new()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
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
