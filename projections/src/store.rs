//! Appending to the event log and loading aggregates from it; the command path.
//!
//! A command runs as: load the aggregate's events (one SELECT), fold them with the domain's
//! `apply`, let the domain `handle` the command (pure), then append every event it emitted in
//! ONE statement that also issues the `NOTIFY` readers wake on. The primary key
//! `(aggregate_type, aggregate_id, sequence)` makes a concurrent append to the same aggregate
//! fail with [`StoreError::Conflict`] instead of interleaving.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use cqrs_es::persist::{
    EventUpcaster, PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent,
    SerializedSnapshot,
};
use cqrs_es::{Aggregate, DomainEvent, EventEnvelope};
use serde_json::Value;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::metadata::Metadata;

/// The channel every append notifies (a hint only: readers always re-read from their checkpoint).
pub const EVENTS_CHANNEL: &str = "savecorp_events";

/// A place in the log order `(tx_id, position)`. Checkpoints are stored as this pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPosition {
    /// The id of the transaction that appended the event (`xid8`, fits in i64 for centuries).
    pub tx_id: i64,
    /// The event's global position.
    pub position: i64,
}

impl LogPosition {
    /// Before the first event.
    pub const START: LogPosition = LogPosition {
        tx_id: 0,
        position: 0,
    };
}

/// An event as stored in the log.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub log_position: LogPosition,
    pub event_id: Uuid,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// The global position.
    pub fn position(&self) -> i64 {
        self.log_position.position
    }

    /// The metadata, parsed; `None` for a row written without it (never by this code).
    pub fn parsed_metadata(&self) -> Option<Metadata> {
        serde_json::from_value(self.metadata.clone()).ok()
    }

    /// The payload as the aggregate's event type.
    pub fn decode<E: DomainEvent>(&self) -> Result<E, serde_json::Error> {
        serde_json::from_value(self.payload.clone())
    }

    /// One event from a row of `events` selected with every column (`tx_id` as a bigint).
    pub fn from_row(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            log_position: LogPosition {
                tx_id: row.try_get("tx_id")?,
                position: row.try_get("position")?,
            },
            event_id: row.try_get("event_id")?,
            aggregate_type: row.try_get("aggregate_type")?,
            aggregate_id: row.try_get("aggregate_id")?,
            sequence: row.try_get("sequence")?,
            event_type: row.try_get("event_type")?,
            event_version: row.try_get("event_version")?,
            payload: row.try_get("payload")?,
            metadata: row.try_get("metadata")?,
            recorded_at: row.try_get("recorded_at")?,
        })
    }
}

/// The columns [`StoredEvent::from_row`] reads, for every query that returns events.
pub(crate) const EVENT_COLUMNS: &str = "position, tx_id::text::bigint AS tx_id, event_id, \
     aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, \
     recorded_at";

/// One event to append.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
}

impl NewEvent {
    /// The rows for `events` of aggregate `A` `aggregate_id`, after its version `version`.
    fn of<A: Aggregate>(
        aggregate_id: &str,
        version: i64,
        events: &[A::Event],
    ) -> Result<Vec<NewEvent>, StoreError> {
        events
            .iter()
            .zip(version + 1..)
            .map(|(event, sequence)| {
                Ok(NewEvent {
                    event_id: Uuid::now_v7(),
                    aggregate_type: A::TYPE.to_owned(),
                    aggregate_id: aggregate_id.to_owned(),
                    sequence,
                    event_type: event.event_type(),
                    event_version: event.event_version(),
                    payload: serde_json::to_value(event).map_err(StoreError::Encode)?,
                })
            })
            .collect()
    }
}

/// What an append committed, one entry per event in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Appended {
    pub event_id: Uuid,
    pub log_position: LogPosition,
    pub recorded_at: DateTime<Utc>,
}

/// Why the log refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another writer appended to the aggregate first (optimistic concurrency).
    #[error("the aggregate was changed concurrently")]
    Conflict,
    /// A stored payload does not decode as the aggregate's event type.
    #[error("stored event {event_type} v{event_version} does not decode: {source}")]
    Corrupt {
        event_type: String,
        event_version: String,
        source: serde_json::Error,
    },
    /// An event could not be encoded.
    #[error("event does not encode: {0}")]
    Encode(serde_json::Error),
    /// The database failed or is out of reach.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    fn from_append(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.constraint() == Some("events_pkey") => {
                StoreError::Conflict
            }
            _ => StoreError::Database(error),
        }
    }
}

/// The event log.
#[derive(Clone)]
pub struct EventStore {
    pool: PgPool,
    upcasters: std::sync::Arc<Vec<Box<dyn EventUpcaster>>>,
    group_commit: Option<mpsc::UnboundedSender<(AppendRequest, AppendReply)>>,
    cache: std::sync::Arc<AggregateCache>,
}

/// Writer tasks of the group commit: how many batches may be in flight at once.
const GROUP_COMMIT_WRITERS: usize = 4;
/// The most appends gathered into one statement.
const GROUP_COMMIT_MAX_APPENDS: usize = 256;

struct AppendRequest {
    events: Vec<NewEvent>,
    metadata: String,
}

type AppendReply = oneshot::Sender<Result<Vec<Appended>, StoreError>>;

impl EventStore {
    /// A store over `pool`. Inside a tokio runtime it starts the group-commit writers (they end
    /// when the last clone of the store is dropped); outside one, every append is its own commit.
    pub fn new(pool: PgPool) -> Self {
        let group_commit = tokio::runtime::Handle::try_current()
            .ok()
            .map(|runtime| start_group_commit(&runtime, pool.clone()));
        Self {
            pool,
            upcasters: Default::default(),
            group_commit,
            cache: Default::default(),
        }
    }

    /// Adds the upcasters applied to every event read through this store.
    pub fn with_upcasters(mut self, upcasters: Vec<Box<dyn EventUpcaster>>) -> Self {
        self.upcasters = std::sync::Arc::new(upcasters);
        self
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Appends `events` (all with the same `metadata`) atomically, in one statement that also
    /// notifies [`EVENTS_CHANNEL`]. Fails with [`StoreError::Conflict`] if any
    /// `(aggregate, sequence)` is taken.
    ///
    /// Group commit: appends that arrive while others are being written are gathered into one
    /// statement (one commit, one fsync) by a few writer tasks. Each caller's events stay atomic;
    /// if a gathered batch fails, its appends are retried one by one so that only the one that
    /// conflicts gets the conflict.
    pub async fn append(
        &self,
        events: &[NewEvent],
        metadata: &Metadata,
    ) -> Result<Vec<Appended>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let metadata = serde_json::to_string(metadata).map_err(StoreError::Encode)?;
        let request = AppendRequest {
            events: events.to_vec(),
            metadata,
        };
        match &self.group_commit {
            Some(sender) => {
                let (reply, answer) = oneshot::channel();
                if sender.send((request, reply)).is_err() {
                    return Err(StoreError::Database(sqlx::Error::PoolClosed));
                }
                answer
                    .await
                    .unwrap_or(Err(StoreError::Database(sqlx::Error::PoolClosed)))
            }
            None => insert_batch(&self.pool, std::slice::from_ref(&request))
                .await
                .map(|mut results| results.pop().unwrap_or_default()),
        }
    }

    /// Every event of one aggregate, in sequence order, upcast to the current versions.
    pub async fn load(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.load_after(aggregate_type, aggregate_id, 0).await
    }

    /// The events of one aggregate with a sequence above `after_sequence`.
    pub async fn load_after(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        after_sequence: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 \
             ORDER BY sequence"
        ))
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after_sequence)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(self.upcast(StoredEvent::from_row(row)?)))
            .collect()
    }

    /// Applies the registered upcasters to one stored event.
    pub fn upcast(&self, event: StoredEvent) -> StoredEvent {
        upcast_with(&self.upcasters, event)
    }

    /// Loads an aggregate: its state and its version (the last sequence, 0 when new).
    pub async fn load_aggregate<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<(A, i64), StoreError> {
        let events = self.load(A::TYPE, aggregate_id).await?;
        let mut aggregate = A::default();
        let mut version = 0;
        for stored in events {
            let event: A::Event = stored.decode().map_err(|source| StoreError::Corrupt {
                event_type: stored.event_type.clone(),
                event_version: stored.event_version.clone(),
                source,
            })?;
            aggregate.apply(event);
            version = stored.sequence;
        }
        Ok((aggregate, version))
    }

    /// Runs one command against one aggregate: load, handle (pure), append. With
    /// `expected_version`, fails with [`CommandError::Conflict`] unless the aggregate is at that
    /// version. Without it, a concurrent writer's conflict is retried a few times (the command
    /// is handled again against the new state, so its rules are checked again).
    pub async fn execute<A: Aggregate>(
        &self,
        aggregate_id: &str,
        command: A::Command,
        services: &A::Services,
        metadata: &Metadata,
        expected_version: Option<i64>,
    ) -> Result<Committed<A>, CommandError<A::Error>>
    where
        A::Command: Clone,
    {
        const ATTEMPTS: usize = 5;
        let mut attempt = 0;
        // The cache is only trusted for a decision the log then validates: an append at
        // `version + 1` fails on the primary key if the cached state is stale. A rejection, a
        // command that changed nothing, or an expected version that differs are answered only
        // from a fresh load.
        let mut use_cache = true;
        // On a cache miss the first attempt assumes a new aggregate (version 0) instead of
        // loading it, under the same rule: the primary key refuses the append at sequence 1 if
        // the aggregate exists after all. This saves the `SELECT` of every command that creates
        // an aggregate; a command that a new aggregate refuses or ignores then loads as before.
        let mut speculate = expected_version.is_none_or(|expected| expected == 0);
        loop {
            attempt += 1;
            let cached = if use_cache {
                self.cache.get::<A>(aggregate_id)
            } else {
                None
            };
            // A state not read from the log in this attempt (cached, or assumed new).
            let unverified = cached.is_some() || speculate;
            let (mut aggregate, version) = match cached {
                Some(cached) => cached,
                None if speculate => (A::default(), 0),
                None => self.load_aggregate::<A>(aggregate_id).await?,
            };
            speculate = false;
            if let Some(expected) = expected_version {
                if expected != version {
                    if unverified {
                        self.cache.evict::<A>(aggregate_id);
                        use_cache = false;
                        attempt -= 1;
                        continue;
                    }
                    return Err(CommandError::Conflict {
                        expected,
                        actual: version,
                    });
                }
            }
            let sink = cqrs_es::event_sink::EventSink::default();
            let handled = aggregate.handle(command.clone(), services, &sink).await;
            let events = sink.collect().await;
            if unverified && (handled.is_err() || events.is_empty()) {
                self.cache.evict::<A>(aggregate_id);
                use_cache = false;
                attempt -= 1;
                continue;
            }
            handled.map_err(CommandError::Rejected)?;
            let new_events = NewEvent::of::<A>(aggregate_id, version, &events)?;
            match self.append(&new_events, metadata).await {
                Ok(appended) => {
                    let version = version + events.len() as i64;
                    self.cache.put(aggregate_id, &aggregate, version);
                    return Ok(Committed {
                        version,
                        events,
                        appended,
                        aggregate,
                    });
                }
                Err(StoreError::Conflict) => {
                    self.cache.evict::<A>(aggregate_id);
                    use_cache = false;
                    if expected_version.is_none() && attempt < ATTEMPTS {
                        continue;
                    }
                    let (_, actual) = self.load_aggregate::<A>(aggregate_id).await?;
                    return Err(CommandError::Conflict {
                        expected: expected_version.unwrap_or(version),
                        actual,
                    });
                }
                Err(other) => return Err(other.into()),
            }
        }
    }

    /// Two commands on two different aggregates, each decided against its state at the
    /// version the caller expects, appended together in one statement: both or neither. (The
    /// call dispatcher reserves an agent and offers them the call in one commit.) The states
    /// come from the cache under the same rule as [`Self::execute`]; a conflict is not retried.
    pub async fn execute_pair<A: Aggregate, B: Aggregate>(
        &self,
        first: PairCommand<'_, A>,
        second: PairCommand<'_, B>,
        metadata: &Metadata,
    ) -> Result<(Committed<A>, Committed<B>), PairError<A::Error, B::Error>>
    where
        A::Command: Clone,
        B::Command: Clone,
    {
        let (first_id, second_id) = (first.aggregate_id, second.aggregate_id);
        let first = self.decide(first).await.map_err(PairError::First)?;
        let second = self.decide(second).await.map_err(PairError::Second)?;
        let first_count = first.new_events.len();
        let mut new_events = first.new_events;
        new_events.extend(second.new_events);
        match self.append(&new_events, metadata).await {
            Ok(mut appended) => {
                let second_appended = appended.split_off(first_count);
                self.cache.put(first_id, &first.aggregate, first.version);
                self.cache.put(second_id, &second.aggregate, second.version);
                Ok((
                    Committed {
                        version: first.version,
                        events: first.events,
                        appended,
                        aggregate: first.aggregate,
                    },
                    Committed {
                        version: second.version,
                        events: second.events,
                        appended: second_appended,
                        aggregate: second.aggregate,
                    },
                ))
            }
            Err(StoreError::Conflict) => {
                self.cache.evict::<A>(first_id);
                self.cache.evict::<B>(second_id);
                Err(PairError::Conflict)
            }
            Err(other) => Err(PairError::Store(other)),
        }
    }

    /// One command of a pair: the aggregate at the expected version (cached, else loaded),
    /// handled, its events numbered after it. Not appended.
    async fn decide<A: Aggregate>(
        &self,
        command: PairCommand<'_, A>,
    ) -> Result<Decided<A>, CommandError<A::Error>>
    where
        A::Command: Clone,
    {
        let PairCommand {
            aggregate_id,
            command,
            services,
            expected_version,
        } = command;
        let mut cached = self.cache.get::<A>(aggregate_id);
        loop {
            let from_cache = cached.is_some();
            let (mut aggregate, version) = match cached.take() {
                Some(cached) => cached,
                None => self.load_aggregate::<A>(aggregate_id).await?,
            };
            let sink = cqrs_es::event_sink::EventSink::default();
            let handled = if version == expected_version {
                aggregate.handle(command.clone(), services, &sink).await
            } else if from_cache {
                self.cache.evict::<A>(aggregate_id);
                continue;
            } else {
                return Err(CommandError::Conflict {
                    expected: expected_version,
                    actual: version,
                });
            };
            let events = sink.collect().await;
            if from_cache && (handled.is_err() || events.is_empty()) {
                self.cache.evict::<A>(aggregate_id);
                continue;
            }
            handled.map_err(CommandError::Rejected)?;
            let new_events = NewEvent::of::<A>(aggregate_id, version, &events)?;
            return Ok(Decided {
                version: version + events.len() as i64,
                aggregate,
                events,
                new_events,
            });
        }
    }
}

/// One command of [`EventStore::execute_pair`].
pub struct PairCommand<'a, A: Aggregate> {
    pub aggregate_id: &'a str,
    pub command: A::Command,
    pub services: &'a A::Services,
    /// The version the aggregate must be at.
    pub expected_version: i64,
}

/// Why [`EventStore::execute_pair`] committed nothing.
#[derive(Debug, thiserror::Error)]
pub enum PairError<E1: std::error::Error, E2: std::error::Error> {
    #[error("first command: {0}")]
    First(CommandError<E1>),
    #[error("second command: {0}")]
    Second(CommandError<E2>),
    /// One of the aggregates moved on while the commands were decided.
    #[error("an aggregate moved on meanwhile")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A command decided, not yet appended.
struct Decided<A: Aggregate> {
    /// The version after its events.
    version: i64,
    aggregate: A,
    events: Vec<A::Event>,
    new_events: Vec<NewEvent>,
}

/// Aggregates this store recently committed to, by type and id, with their version: a command
/// on one of them skips the load (one `SELECT`). Bounded; shared by the store's clones.
///
/// Architecture Invariant: a cached state only ever leads to an append at `version + 1`, which
/// the primary key refuses if anybody else appended meanwhile (another process, another
/// store); the command then runs again from a fresh load. Held as the aggregate's own serde
/// form, so no bound beyond `Aggregate` is needed.
#[derive(Default)]
struct AggregateCache {
    entries: std::sync::Mutex<HashMap<CacheKey, CachedAggregate>>,
}

/// `(Aggregate::TYPE, aggregate id)`.
type CacheKey = (&'static str, String);
/// The aggregate's serde JSON and its version.
type CachedAggregate = (Vec<u8>, i64);

/// The most aggregates [`AggregateCache`] holds.
const CACHED_AGGREGATES: usize = 4_096;

impl AggregateCache {
    fn get<A: Aggregate>(&self, aggregate_id: &str) -> Option<(A, i64)> {
        let entries = self.entries.lock().ok()?;
        let (state, version) = entries.get(&(A::TYPE, aggregate_id.to_owned()))?;
        let aggregate = serde_json::from_slice(state).ok()?;
        Some((aggregate, *version))
    }

    fn put<A: Aggregate>(&self, aggregate_id: &str, aggregate: &A, version: i64) {
        let Ok(state) = serde_json::to_vec(aggregate) else {
            self.evict::<A>(aggregate_id);
            return;
        };
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHED_AGGREGATES {
                // Crude but bounded: start over (a miss costs one SELECT).
                entries.clear();
            }
            entries.insert((A::TYPE, aggregate_id.to_owned()), (state, version));
        }
    }

    fn evict<A: Aggregate>(&self, aggregate_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&(A::TYPE, aggregate_id.to_owned()));
        }
    }
}

fn start_group_commit(
    runtime: &tokio::runtime::Handle,
    pool: PgPool,
) -> mpsc::UnboundedSender<(AppendRequest, AppendReply)> {
    let (sender, receiver) = mpsc::unbounded_channel::<(AppendRequest, AppendReply)>();
    let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
    for _ in 0..GROUP_COMMIT_WRITERS {
        let receiver = receiver.clone();
        let pool = pool.clone();
        runtime.spawn(async move {
            loop {
                // Take what is waiting (at least one), then let another writer gather the next.
                let batch = {
                    let mut receiver = receiver.lock().await;
                    let Some(first) = receiver.recv().await else {
                        return;
                    };
                    let mut batch = vec![first];
                    while batch.len() < GROUP_COMMIT_MAX_APPENDS {
                        match receiver.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    batch
                };
                write_batch(&pool, batch).await;
            }
        });
    }
    sender
}

async fn write_batch(pool: &PgPool, batch: Vec<(AppendRequest, AppendReply)>) {
    let (requests, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    if requests.len() > 1 {
        if let Ok(results) = insert_batch(pool, &requests).await {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
            return;
        }
    }
    // One by one: each append gets its own answer (a conflict only where there is one).
    for (request, reply) in requests.iter().zip(replies) {
        let result = insert_batch(pool, std::slice::from_ref(request))
            .await
            .map(|mut results| results.pop().unwrap_or_default());
        let _ = reply.send(result);
    }
}

/// Inserts the events of several appends in one statement (one transaction), returning each
/// append's results in order.
async fn insert_batch(
    pool: &PgPool,
    requests: &[AppendRequest],
) -> Result<Vec<Vec<Appended>>, StoreError> {
    let total: usize = requests.iter().map(|request| request.events.len()).sum();
    let mut event_ids = Vec::with_capacity(total);
    let mut aggregate_types = Vec::with_capacity(total);
    let mut aggregate_ids = Vec::with_capacity(total);
    let mut sequences = Vec::with_capacity(total);
    let mut event_types = Vec::with_capacity(total);
    let mut event_versions = Vec::with_capacity(total);
    let mut payloads = Vec::with_capacity(total);
    let mut metadata = Vec::with_capacity(total);
    for request in requests {
        for event in &request.events {
            event_ids.push(event.event_id);
            aggregate_types.push(event.aggregate_type.as_str());
            aggregate_ids.push(event.aggregate_id.as_str());
            sequences.push(event.sequence);
            event_types.push(event.event_type.as_str());
            event_versions.push(event.event_version.as_str());
            payloads.push(serde_json::to_string(&event.payload).map_err(StoreError::Encode)?);
            metadata.push(request.metadata.as_str());
        }
    }
    let rows = sqlx::query(
        "WITH inserted AS ( \
            INSERT INTO events (event_id, aggregate_type, aggregate_id, sequence, event_type, \
                                event_version, payload, metadata) \
            SELECT e.event_id, e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, \
                   e.event_version, e.payload::jsonb, e.metadata::jsonb \
            FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::bigint[], $5::text[], \
                        $6::text[], $7::text[], $8::text[]) WITH ORDINALITY \
                 AS e(event_id, aggregate_type, aggregate_id, sequence, event_type, \
                      event_version, payload, metadata, ord) \
            ORDER BY e.ord \
            RETURNING event_id, position, tx_id::text::bigint AS tx_id, recorded_at \
         ) \
         SELECT inserted.* FROM inserted, (SELECT pg_notify($9, '')) AS notified \
         ORDER BY position",
    )
    .bind(&event_ids)
    .bind(&aggregate_types)
    .bind(&aggregate_ids)
    .bind(&sequences)
    .bind(&event_types)
    .bind(&event_versions)
    .bind(&payloads)
    .bind(&metadata)
    .bind(EVENTS_CHANNEL)
    .fetch_all(pool)
    .await
    .map_err(StoreError::from_append)?;
    let mut by_id = HashMap::with_capacity(rows.len());
    for row in &rows {
        let event_id: Uuid = row.try_get("event_id")?;
        by_id.insert(
            event_id,
            Appended {
                event_id,
                log_position: LogPosition {
                    tx_id: row.try_get("tx_id")?,
                    position: row.try_get("position")?,
                },
                recorded_at: row.try_get("recorded_at")?,
            },
        );
    }
    requests
        .iter()
        .map(|request| {
            request
                .events
                .iter()
                .map(|event| {
                    by_id.remove(&event.event_id).ok_or_else(|| {
                        StoreError::Database(sqlx::Error::Protocol(
                            "an appended event was not returned".into(),
                        ))
                    })
                })
                .collect()
        })
        .collect()
}

fn upcast_with(upcasters: &[Box<dyn EventUpcaster>], mut event: StoredEvent) -> StoredEvent {
    for upcaster in upcasters {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            let serialized = SerializedEvent::new(
                event.aggregate_id.clone(),
                usize::try_from(event.sequence).unwrap_or_default(),
                event.aggregate_type.clone(),
                event.event_type.clone(),
                event.event_version.clone(),
                event.payload.clone(),
                event.metadata.clone(),
            );
            let upcast = upcaster.upcast(serialized);
            event.event_type = upcast.event_type;
            event.event_version = upcast.event_version;
            event.payload = upcast.payload;
        }
    }
    event
}

/// What a successful command committed.
#[derive(Debug)]
pub struct Committed<A: Aggregate> {
    /// The events, in order (empty when the command changed nothing).
    pub events: Vec<A::Event>,
    /// Their ids and log positions.
    pub appended: Vec<Appended>,
    /// The aggregate's version after the command.
    pub version: i64,
    /// The aggregate's state after the command.
    pub aggregate: A,
}

impl<A: Aggregate> Committed<A> {
    /// The log position of the last event written, for read-your-writes waits.
    pub fn last_position(&self) -> Option<LogPosition> {
        self.appended.last().map(|appended| appended.log_position)
    }
}

/// Why a command did not commit.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The domain refused it (a rule was broken).
    #[error(transparent)]
    Rejected(E),
    /// The aggregate is not at the version the caller expected.
    #[error("expected version {expected}, the aggregate is at version {actual}")]
    Conflict { expected: i64, actual: i64 },
    /// The log failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

// ---- cqrs-es persistence, so `PersistedEventStore` / `CqrsFramework` work over the same log ----

fn to_serialized(event: StoredEvent) -> SerializedEvent {
    SerializedEvent::new(
        event.aggregate_id,
        usize::try_from(event.sequence).unwrap_or_default(),
        event.aggregate_type,
        event.event_type,
        event.event_version,
        event.payload,
        event.metadata,
    )
}

fn persistence(error: StoreError) -> PersistenceError {
    match error {
        StoreError::Conflict => PersistenceError::OptimisticLockError,
        StoreError::Database(error) => PersistenceError::ConnectionError(Box::new(error)),
        StoreError::Corrupt { source, .. } => {
            PersistenceError::DeserializationError(Box::new(source))
        }
        StoreError::Encode(error) => PersistenceError::UnknownError(Box::new(error)),
    }
}

/// cqrs-es metadata (a string map) as ours; a map without our keys is recorded as `system`.
fn metadata_from_value(value: &Value) -> Metadata {
    let map: HashMap<String, String> = serde_json::from_value(value.clone()).unwrap_or_default();
    Metadata::from_map(&map).unwrap_or_else(|| Metadata::new(crate::metadata::Actor::System))
}

impl PersistedEventRepository for EventStore {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self
            .load(A::TYPE, aggregate_id)
            .await
            .map_err(persistence)?;
        Ok(events.into_iter().map(to_serialized).collect())
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let after = i64::try_from(last_sequence).unwrap_or(i64::MAX);
        let events = self
            .load_after(A::TYPE, aggregate_id, after)
            .await
            .map_err(persistence)?;
        Ok(events.into_iter().map(to_serialized).collect())
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        _aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        Ok(None)
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if snapshot_update.is_some() {
            return Err(PersistenceError::UnknownError(
                "snapshots are not stored: use PersistedEventStore::new_event_store".into(),
            ));
        }
        let Some(first) = events.first() else {
            return Ok(());
        };
        let metadata = metadata_from_value(&first.metadata);
        let new_events = events
            .iter()
            .map(|event| NewEvent {
                event_id: Uuid::now_v7(),
                aggregate_type: event.aggregate_type.clone(),
                aggregate_id: event.aggregate_id.clone(),
                sequence: i64::try_from(event.sequence).unwrap_or(i64::MAX),
                event_type: event.event_type.clone(),
                event_version: event.event_version.clone(),
                payload: event.payload.clone(),
            })
            .collect::<Vec<_>>();
        self.append(&new_events, &metadata)
            .await
            .map(|_| ())
            .map_err(persistence)
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.get_events::<A>(aggregate_id).await?;
        Ok(replay_stream(events).await)
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE aggregate_type = $1 \
             ORDER BY events.tx_id, events.position"
        ))
        .bind(A::TYPE)
        .fetch_all(&self.pool)
        .await
        .map_err(|error| PersistenceError::ConnectionError(Box::new(error)))?;
        let events = rows
            .iter()
            .map(|row| StoredEvent::from_row(row).map(|event| to_serialized(self.upcast(event))))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| PersistenceError::ConnectionError(Box::new(error)))?;
        Ok(replay_stream(events).await)
    }
}

async fn replay_stream(events: Vec<SerializedEvent>) -> ReplayStream {
    let (mut feed, stream) = ReplayStream::new(events.len().max(1));
    for event in events {
        // The channel holds them all, so this never waits; a closed stream just drops the rest.
        if feed.push(Ok(event)).await.is_err() {
            break;
        }
    }
    stream
}

/// Builds an envelope for cqrs-es queries from a stored event.
pub fn envelope<A: Aggregate>(event: &StoredEvent) -> Result<EventEnvelope<A>, serde_json::Error> {
    let metadata = metadata_from_value(&event.metadata).to_map();
    Ok(EventEnvelope {
        aggregate_id: event.aggregate_id.clone(),
        sequence: usize::try_from(event.sequence).unwrap_or_default(),
        payload: event.decode()?,
        metadata,
    })
}
