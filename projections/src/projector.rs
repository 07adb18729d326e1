//! The projector: keeps every read model in step with the log, exactly once.
//!
//! One runner per [`Projection`] tails the log from the projection's row in `checkpoints`. A
//! step is ONE transaction: lock the checkpoint row (`FOR UPDATE`), read up to `batch_size`
//! events after it, apply them, move the checkpoint, commit. A crash anywhere before the
//! commit rolls the read models back with the checkpoint, so nothing is applied twice; two
//! runners of the same projection (a lost advisory lock) serialise on the checkpoint row and
//! the second one reads the checkpoint the first one moved.
//!
//! Several server instances: a runner only works while it holds the projection's advisory lock
//! (`pg_try_advisory_lock(PROJECTION_LOCK_SPACE, hashtext(name))`) on a dedicated connection;
//! the others retry every second and take over when that connection dies.
//!
//! Each projection applies a whole batch at once ([`Projection::apply_batch`]): it loads the
//! rows the batch touches, folds the events in memory and writes the rows back in a few
//! statements. One statement per event would make a 100k-event rebuild take minutes. On top of
//! the checkpoint, `projection_versions` remembers the last sequence of every aggregate a
//! projection applied and the runner drops events at or below it, so feeding the same events
//! twice leaves the read models unchanged (idempotent by construction).
//!
//! Batches stay small (500 events): a write transaction holds back the log watermark of every
//! reader while it runs.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use journal::{EventStore, HeldBackoff, LogNotifier, LogPosition, LogReader, StoredEvent};
use sqlx::{Connection, PgConnection, PgPool, Row};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// First key of the projection advisory locks (the second is `hashtext(name)`).
pub const PROJECTION_LOCK_SPACE: i32 = 0x5343_5052; // "SCPR"

/// Events applied per transaction by [`catch_up`] (nobody is waiting for each event).
pub const DEFAULT_BATCH_SIZE: u16 = 500;

/// Events applied per transaction by a live runner. A projection's transaction holds every
/// log reader's watermark from its first write to its commit (events committed meanwhile stay
/// unreadable until it ends), so a live runner keeps its transactions short: with 500 events a
/// transaction, a subscriber of a busy log waited for hundreds of milliseconds.
pub const LIVE_BATCH_SIZE: u16 = 64;

/// Why applying events failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "event {event_type} v{event_version} at position {position} does not decode: {source}"
    )]
    Decode {
        position: i64,
        event_type: String,
        event_version: String,
        source: serde_json::Error,
    },
    #[error("aggregate id {0:?} is not a uuid")]
    AggregateId(String),
    #[error("read-model row does not decode: {0}")]
    Row(serde_json::Error),
}

/// A read model fed from the log.
pub trait Projection: Send + Sync + 'static {
    /// Its stable name: the checkpoint key, the advisory lock and the CLI argument.
    fn name(&self) -> &'static str;

    /// The tables it owns and writes (no other projection writes them), swapped on rebuild.
    fn tables(&self) -> &'static [&'static str];

    /// The aggregate types whose events it reads; the others only move its checkpoint.
    fn aggregate_types(&self) -> &'static [&'static str];

    /// Whether the runner drops events at or below the aggregate's last applied sequence
    /// (`projection_versions`). Only test projections turn it off.
    fn guarded(&self) -> bool {
        true
    }

    /// Applies `events` (in log order, already upcast, only of [`Self::aggregate_types`]) inside
    /// the caller's transaction. Table names are unqualified: a rebuild points `search_path`
    /// at its shadow tables.
    fn apply_batch<'a>(
        &'a self,
        connection: &'a mut PgConnection,
        events: &'a [StoredEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>>;
}

/// Every read model the server maintains.
pub fn all_projections() -> Vec<Arc<dyn Projection>> {
    use crate::readmodels::*;
    vec![
        Arc::new(workers::WorkersProjection),
        Arc::new(customers::CustomersProjection),
        Arc::new(calls::CallsProjection),
        Arc::new(queue::QueueProjection),
        Arc::new(requests::RequestsProjection),
        Arc::new(backups::BackupsProjection),
        Arc::new(kpis::KpisProjection),
    ]
}

/// The projection called `name`.
pub fn projection_named(name: &str) -> Option<Arc<dyn Projection>> {
    all_projections()
        .into_iter()
        .find(|projection| projection.name() == name)
}

/// Applies `events` to `projection` inside `connection`'s transaction, skipping the events of
/// other aggregate types and, when guarded, the events already applied. Does not move the
/// checkpoint (see [`step`]).
pub async fn apply_events(
    connection: &mut PgConnection,
    projection: &dyn Projection,
    events: &[StoredEvent],
) -> Result<usize, ProjectionError> {
    let types = projection.aggregate_types();
    let relevant: Vec<&StoredEvent> = events
        .iter()
        .filter(|event| types.contains(&event.aggregate_type.as_str()))
        .collect();
    if relevant.is_empty() {
        return Ok(0);
    }
    if !projection.guarded() {
        let owned: Vec<StoredEvent> = relevant.into_iter().cloned().collect();
        projection.apply_batch(connection, &owned).await?;
        return Ok(owned.len());
    }
    let mut types_param = Vec::new();
    let mut ids_param = Vec::new();
    for event in &relevant {
        types_param.push(event.aggregate_type.clone());
        ids_param.push(event.aggregate_id.clone());
    }
    let rows = sqlx::query(
        "SELECT k.aggregate_type, k.aggregate_id, v.sequence \
         FROM (SELECT DISTINCT * FROM UNNEST($2::text[], $3::text[])) AS k(aggregate_type, aggregate_id) \
         CROSS JOIN LATERAL (SELECT sequence FROM projection_versions v \
             WHERE v.projection = $1 AND v.aggregate_type = k.aggregate_type \
               AND v.aggregate_id = k.aggregate_id) v",
    )
    .bind(projection.name())
    .bind(&types_param)
    .bind(&ids_param)
    .fetch_all(&mut *connection)
    .await?;
    let mut versions: HashMap<(String, String), i64> = HashMap::new();
    for row in rows {
        versions.insert(
            (row.try_get("aggregate_type")?, row.try_get("aggregate_id")?),
            row.try_get("sequence")?,
        );
    }
    let mut fresh = Vec::new();
    for event in relevant {
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let last = versions.get(&key).copied().unwrap_or(0);
        if event.sequence > last {
            versions.insert(key, event.sequence);
            fresh.push(event.clone());
        }
    }
    if fresh.is_empty() {
        return Ok(0);
    }
    projection.apply_batch(connection, &fresh).await?;
    let rows: Vec<(&(String, String), &i64)> = versions.iter().collect();
    upsert_versions(connection, projection, &rows).await?;
    Ok(fresh.len())
}

/// Raises the guard of `projection` in `projection_versions` to `rows` (aggregate type and id,
/// last applied sequence), never lowering it.
async fn upsert_versions(
    connection: &mut PgConnection,
    projection: &dyn Projection,
    rows: &[(&(String, String), &i64)],
) -> Result<(), sqlx::Error> {
    let (mut types_param, mut ids_param, mut sequences) = (Vec::new(), Vec::new(), Vec::new());
    for ((aggregate_type, aggregate_id), sequence) in rows {
        types_param.push(aggregate_type.as_str());
        ids_param.push(aggregate_id.as_str());
        sequences.push(**sequence);
    }
    sqlx::query(
        "INSERT INTO projection_versions (projection, aggregate_type, aggregate_id, sequence) \
         SELECT $1, t, i, s FROM UNNEST($2::text[], $3::text[], $4::bigint[]) AS k(t, i, s) \
         ON CONFLICT (projection, aggregate_type, aggregate_id) \
         DO UPDATE SET sequence = GREATEST(projection_versions.sequence, EXCLUDED.sequence)",
    )
    .bind(projection.name())
    .bind(&types_param)
    .bind(&ids_param)
    .bind(&sequences)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// The guard of a rebuild, in memory: the last applied sequence of every aggregate. A rebuild
/// is the only writer of its shadow tables, so it need not read and write `projection_versions`
/// per batch ([`apply_events`] does, 2 statements and a row per aggregate per batch); it writes
/// the table once, at the end of its pass ([`store_versions`]).
#[derive(Debug, Default)]
pub struct Versions(HashMap<(String, String), i64>);

/// [`apply_events`] with the guard kept in `versions` instead of `projection_versions`.
pub async fn apply_events_tracked(
    connection: &mut PgConnection,
    projection: &dyn Projection,
    events: &[StoredEvent],
    versions: &mut Versions,
) -> Result<usize, ProjectionError> {
    let types = projection.aggregate_types();
    let guarded = projection.guarded();
    let mut fresh = Vec::new();
    for event in events {
        if !types.contains(&event.aggregate_type.as_str()) {
            continue;
        }
        if guarded {
            let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
            if event.sequence <= versions.0.get(&key).copied().unwrap_or(0) {
                continue;
            }
            versions.0.insert(key, event.sequence);
        }
        fresh.push(event.clone());
    }
    if fresh.is_empty() {
        return Ok(0);
    }
    projection.apply_batch(connection, &fresh).await?;
    Ok(fresh.len())
}

/// Writes `versions` into `projection_versions` (unqualified: a rebuild's shadow table) as
/// [`apply_events`] would have left it.
pub async fn store_versions(
    connection: &mut PgConnection,
    projection: &dyn Projection,
    versions: &Versions,
) -> Result<(), sqlx::Error> {
    let mut rows: Vec<(&(String, String), &i64)> = versions.0.iter().collect();
    rows.sort();
    for chunk in rows.chunks(20_000) {
        upsert_versions(connection, projection, chunk).await?;
    }
    Ok(())
}

/// The checkpoint of `name` (`START` when it has none).
pub async fn checkpoint(pool: &PgPool, name: &str) -> Result<LogPosition, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT tx_id::text::bigint, position FROM checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(row
        .map(|(tx_id, position)| LogPosition { tx_id, position })
        .unwrap_or(LogPosition::START))
}

/// Sets the checkpoint of `name` (creating its row): for the process managers that keep their
/// position in `checkpoints` (the mail outbox feeder, the call linker).
pub async fn save_checkpoint(
    connection: &mut PgConnection,
    name: &str,
    position: LogPosition,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO checkpoints (name, tx_id, position, updated_at) \
         VALUES ($1, $2::text::xid8, $3, now()) \
         ON CONFLICT (name) DO UPDATE \
         SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()",
    )
    .bind(name)
    .bind(position.tx_id.to_string())
    .bind(position.position)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Saves a process manager's changed state rows (`upserts`: key and state; `deletes`: keys) in
/// `process_manager_state` and its checkpoint, in **one statement**: atomic without a
/// transaction around it, and one round trip. (A write transaction holds every log reader's
/// watermark until it ends: the managers' former row-by-row saves, one round trip per row,
/// kept events unreadable for hundreds of milliseconds on a busy log.) A key must not be in
/// both lists, nor twice in one.
pub async fn save_manager_state(
    connection: &mut PgConnection,
    manager: &str,
    upserts: &[(String, serde_json::Value)],
    deletes: &[String],
    position: LogPosition,
) -> Result<(), sqlx::Error> {
    let (keys, states): (Vec<&str>, Vec<&serde_json::Value>) = upserts
        .iter()
        .map(|(key, state)| (key.as_str(), state))
        .unzip();
    sqlx::query(
        "WITH upserted AS ( \
            INSERT INTO process_manager_state (manager, key, state, updated_at) \
            SELECT $1, u.key, u.state, now() FROM UNNEST($2::text[], $3::jsonb[]) AS u(key, state) \
            ON CONFLICT (manager, key) DO UPDATE SET state = excluded.state, updated_at = now() \
         ), deleted AS ( \
            DELETE FROM process_manager_state WHERE manager = $1 AND key = ANY($4::text[]) \
         ) \
         INSERT INTO checkpoints (name, tx_id, position, updated_at) \
         VALUES ($1, $5::text::xid8, $6, now()) \
         ON CONFLICT (name) DO UPDATE \
         SET tx_id = excluded.tx_id, position = excluded.position, updated_at = now()",
    )
    .bind(manager)
    .bind(&keys)
    .bind(&states)
    .bind(deletes)
    .bind(position.tx_id.to_string())
    .bind(position.position)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Locks the checkpoint row of `name` in `connection`'s transaction (creating it) and returns it.
pub(crate) async fn lock_checkpoint(
    connection: &mut PgConnection,
    name: &str,
) -> Result<LogPosition, sqlx::Error> {
    sqlx::query("INSERT INTO checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .execute(&mut *connection)
        .await?;
    let (tx_id, position): (i64, i64) = sqlx::query_as(
        "SELECT tx_id::text::bigint, position FROM checkpoints WHERE name = $1 FOR UPDATE",
    )
    .bind(name)
    .fetch_one(&mut *connection)
    .await?;
    Ok(LogPosition { tx_id, position })
}

pub(crate) async fn store_checkpoint(
    connection: &mut PgConnection,
    name: &str,
    position: LogPosition,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE checkpoints SET tx_id = $2::text::xid8, position = $3, updated_at = now() \
         WHERE name = $1",
    )
    .bind(name)
    .bind(position.tx_id.to_string())
    .bind(position.position)
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// Events read from the log per query. A query costs tens of milliseconds on a large log
/// whatever its size, so the runner reads ahead and applies what it read in transactions of
/// `batch_size`.
pub const READ_AHEAD: u16 = 2000;

/// One exactly-once step: read up to [`READ_AHEAD`] events after the checkpoint, then apply
/// them in transactions of `batch_size`, each of which locks the checkpoint row, checks that it
/// is still where the events were read from (else another runner moved it: the rest is
/// dropped and read again), applies, moves the checkpoint and commits. Returns how many events
/// were read (0: caught up).
pub async fn step(
    pool: &PgPool,
    store: &EventStore,
    projection: &dyn Projection,
    batch_size: u16,
) -> Result<usize, ProjectionError> {
    Ok(step_from(pool, store, projection, batch_size).await?.0)
}

/// [`step`], also returning the checkpoint it started from.
async fn step_from(
    pool: &PgPool,
    store: &EventStore,
    projection: &dyn Projection,
    batch_size: u16,
) -> Result<(usize, LogPosition), ProjectionError> {
    let start = checkpoint(pool, projection.name()).await?;
    let events = LogReader::new(pool.clone())
        .read_batch_after(start, READ_AHEAD.max(batch_size))
        .await?;
    let read = events.len();
    let mut expected = start;
    for chunk in events.chunks(usize::from(batch_size.max(1))) {
        let Some(last) = chunk.last().map(|event| event.log_position) else {
            break;
        };
        let mut transaction = pool.begin().await?;
        // A read model is derived: a commit lost in a crash is lost with its checkpoint and
        // applied again, so the commit need not wait for the WAL flush (shorter transactions,
        // and the appends' own flushes are not queued behind the projections').
        sqlx::query("SET LOCAL synchronous_commit = off")
            .execute(&mut *transaction)
            .await?;
        if lock_checkpoint(&mut transaction, projection.name()).await? != expected {
            transaction.rollback().await?;
            break;
        }
        let chunk: Vec<StoredEvent> = chunk
            .iter()
            .cloned()
            .map(|event| store.upcast(event))
            .collect();
        apply_events(&mut transaction, projection, &chunk).await?;
        store_checkpoint(&mut transaction, projection.name(), last).await?;
        transaction.commit().await?;
        expected = last;
    }
    Ok((read, start))
}

/// Applies everything readable now, in steps. Returns the number of events read.
pub async fn catch_up(
    pool: &PgPool,
    store: &EventStore,
    projection: &dyn Projection,
) -> Result<u64, ProjectionError> {
    let mut total = 0u64;
    loop {
        let read = step(pool, store, projection, DEFAULT_BATCH_SIZE).await?;
        if read == 0 {
            return Ok(total);
        }
        total += read as u64;
    }
}

/// Where one projection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectionStatus {
    pub name: &'static str,
    pub checkpoint: LogPosition,
    /// Readable events after the checkpoint.
    pub lag: i64,
}

/// The checkpoint and lag of every projection (for `/metrics`, `/readyz`, `projections` and the
/// CLI `projections status`).
pub async fn status(pool: &PgPool) -> Result<Vec<ProjectionStatus>, sqlx::Error> {
    let reader = LogReader::new(pool.clone());
    let mut statuses = Vec::new();
    for projection in all_projections() {
        let checkpoint = checkpoint(pool, projection.name()).await?;
        let lag = reader.count_after(checkpoint).await?;
        statuses.push(ProjectionStatus {
            name: projection.name(),
            checkpoint,
            lag,
        });
    }
    Ok(statuses)
}

/// Why waiting for a position failed.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("the read models did not reach the position in time")]
    Timeout,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What the api holds to wait for read models (read-your-writes). Cheap to clone. It reads the
/// checkpoints table, so it also sees progress made by another server instance.
#[derive(Clone)]
pub struct ProjectorHandle {
    pool: PgPool,
    progressed: Arc<watch::Sender<u64>>,
    held: Arc<AtomicU64>,
}

impl ProjectorHandle {
    pub fn new(pool: PgPool) -> Self {
        let (sender, _) = watch::channel(0);
        Self {
            pool,
            progressed: Arc::new(sender),
            held: Arc::default(),
        }
    }

    /// How many times a runner of this process found nothing readable while committed events
    /// waited above the watermark, and so looked again within milliseconds instead of waiting
    /// for a notification or its poll.
    pub fn held_looks(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    fn notify(&self) {
        self.progressed
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Waits until every projection in `names` (all when empty) has applied `position`, or
    /// `timeout` passed.
    pub async fn wait_for(
        &self,
        names: &[&str],
        position: LogPosition,
        timeout: Duration,
    ) -> Result<(), WaitError> {
        let names: Vec<String> = if names.is_empty() {
            all_projections()
                .iter()
                .map(|projection| projection.name().to_owned())
                .collect()
        } else {
            names.iter().map(|name| (*name).to_owned()).collect()
        };
        let deadline = tokio::time::Instant::now() + timeout;
        let mut progressed = self.progressed.subscribe();
        loop {
            let (reached,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM checkpoints WHERE name = ANY($1) \
                   AND (tx_id, position) >= ($2::text::xid8, $3)",
            )
            .bind(&names)
            .bind(position.tx_id.to_string())
            .bind(position.position)
            .fetch_one(&self.pool)
            .await?;
            if reached as usize >= names.len() {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(WaitError::Timeout);
            }
            let pause = (deadline - now).min(Duration::from_millis(50));
            let _ = tokio::time::timeout(pause, progressed.changed()).await;
        }
    }
}

/// How the runners behave.
#[derive(Clone, Debug)]
pub struct ProjectorConfig {
    pub batch_size: u16,
    /// Re-read the log at least this often without a notification.
    pub poll: Duration,
    /// How often a waiting instance tries to take a projection's lock.
    pub lock_retry: Duration,
}

impl Default for ProjectorConfig {
    fn default() -> Self {
        Self {
            batch_size: LIVE_BATCH_SIZE,
            poll: Duration::from_secs(1),
            lock_retry: Duration::from_secs(1),
        }
    }
}

/// Runs projections until shut down.
pub struct Projector {
    pool: PgPool,
    store: EventStore,
    projections: Vec<Arc<dyn Projection>>,
    handle: ProjectorHandle,
    config: ProjectorConfig,
}

impl Projector {
    /// Every read model of [`all_projections`].
    pub fn new(store: EventStore, handle: ProjectorHandle) -> Self {
        Self::with_projections(store, handle, all_projections())
    }

    pub fn with_projections(
        store: EventStore,
        handle: ProjectorHandle,
        projections: Vec<Arc<dyn Projection>>,
    ) -> Self {
        Self {
            pool: store.pool().clone(),
            store,
            projections,
            handle,
            config: ProjectorConfig::default(),
        }
    }

    pub fn with_config(mut self, config: ProjectorConfig) -> Self {
        self.config = config;
        self
    }

    /// Runs one runner per projection until `shutdown` is cancelled.
    pub async fn run(self, notifier: LogNotifier, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        for projection in self.projections {
            let runner = Runner {
                pool: self.pool.clone(),
                store: self.store.clone(),
                projection,
                handle: self.handle.clone(),
                config: self.config.clone(),
            };
            tasks.spawn(runner.run(notifier.clone(), shutdown.clone()));
        }
        while let Some(result) = tasks.join_next().await {
            if let Err(error) = result {
                tracing::error!(%error, "a projection runner panicked");
            }
        }
    }
}

/// The api's background service: LISTEN for appends (polling only if that fails) and run every
/// projection until shut down.
pub async fn serve(store: EventStore, handle: ProjectorHandle, shutdown: CancellationToken) {
    let notifier = match LogNotifier::start(store.pool(), shutdown.clone()).await {
        Ok(notifier) => notifier,
        Err(error) => {
            tracing::warn!(%error, "cannot LISTEN for events; projections poll");
            LogNotifier::disconnected()
        }
    };
    Projector::new(store, handle).run(notifier, shutdown).await;
}

struct Runner {
    pool: PgPool,
    store: EventStore,
    projection: Arc<dyn Projection>,
    handle: ProjectorHandle,
    config: ProjectorConfig,
}

impl Runner {
    async fn run(self, mut notifier: LogNotifier, shutdown: CancellationToken) {
        let name = self.projection.name();
        while !shutdown.is_cancelled() {
            let mut lock = match self.acquire_lock(&shutdown).await {
                Ok(Some(lock)) => lock,
                Ok(None) => break,
                Err(error) => {
                    tracing::warn!(projection = name, %error, "projection lock failed; retrying");
                    sleep_or_cancel(self.config.lock_retry, &shutdown).await;
                    continue;
                }
            };
            tracing::info!(projection = name, "projection runner started");
            self.tail(&mut lock, &mut notifier, &shutdown).await;
            // Closing the session releases the advisory lock.
            let _ = lock.close().await;
        }
    }

    /// Takes the advisory lock on a dedicated connection; `None` when shut down first.
    async fn acquire_lock(
        &self,
        shutdown: &CancellationToken,
    ) -> Result<Option<PgConnection>, sqlx::Error> {
        let options = self.pool.connect_options();
        let mut connection = PgConnection::connect_with(&options).await?;
        loop {
            let (locked,): (bool,) =
                sqlx::query_as("SELECT pg_try_advisory_lock($1, hashtext($2))")
                    .bind(PROJECTION_LOCK_SPACE)
                    .bind(self.projection.name())
                    .fetch_one(&mut connection)
                    .await?;
            if locked {
                return Ok(Some(connection));
            }
            if !sleep_or_cancel(self.config.lock_retry, shutdown).await {
                return Ok(None);
            }
        }
    }

    /// Applies batches while the lock's session lives.
    async fn tail(
        &self,
        lock: &mut PgConnection,
        notifier: &mut LogNotifier,
        shutdown: &CancellationToken,
    ) {
        let name = self.projection.name();
        let reader = LogReader::new(self.pool.clone());
        let mut failures = 0u32;
        let mut held = HeldBackoff::default();
        let mut held_in_row = 0u32;
        while !shutdown.is_cancelled() {
            match step_from(
                &self.pool,
                &self.store,
                self.projection.as_ref(),
                self.config.batch_size,
            )
            .await
            {
                Ok((read, start)) => {
                    failures = 0;
                    if read > 0 {
                        held.reset();
                        held_in_row = 0;
                        self.handle.notify();
                        continue;
                    }
                    // Nothing readable, but committed events wait above the watermark (an
                    // older transaction is still open): no notification comes when it ends,
                    // so look again within milliseconds, not after the poll.
                    if reader.held_after(start).await.unwrap_or(false) {
                        self.handle.held.fetch_add(1, Ordering::Relaxed);
                        held_in_row = held_in_row.wrapping_add(1);
                        // Held for long (a long transaction): still check the lock now and then.
                        if held_in_row.is_multiple_of(HELD_LOCK_CHECK) && lock.ping().await.is_err()
                        {
                            tracing::warn!(
                                projection = name,
                                "lost the projection lock's connection"
                            );
                            return;
                        }
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            _ = notifier.wait(held.pause()) => {}
                        }
                        continue;
                    }
                    held.reset();
                    held_in_row = 0;
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::error!(projection = name, %error, "projection step failed");
                    let backoff = Duration::from_millis(200 * u64::from(failures.min(25)));
                    sleep_or_cancel(backoff, shutdown).await;
                }
            }
            // Caught up (or failing): make sure we still hold the lock, then wait.
            if lock.ping().await.is_err() {
                tracing::warn!(projection = name, "lost the projection lock's connection");
                return;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = notifier.wait(self.config.poll) => {}
            }
        }
    }
}

/// While held by the watermark, a runner checks its lock's connection every this many looks
/// (about a second at the longest pause).
const HELD_LOCK_CHECK: u32 = 128;

/// Sleeps; false when shut down first.
async fn sleep_or_cancel(duration: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(duration) => true,
    }
}
