//! The command path: run a command against an aggregate and append what it decided.
//!
//! A command runs as: load the aggregate's events (one SELECT, skipped when the aggregate is
//! cached or assumed new), fold them with the domain's `apply`, let the domain `handle` the
//! command (pure), then append every event it emitted in one statement ([`crate::append`]).
//! A concurrent append to the same aggregate fails on the primary key instead of interleaving.
//! A command that takes a snapshotted aggregate across a multiple of the snapshot interval
//! writes its snapshot after the append ([`crate::snapshot`]).

use cqrs_es::{Aggregate, DomainEvent as _};

use crate::event::{Appended, LogPosition, NewEvent};
use crate::metadata::Metadata;
use crate::store::{EventStore, StoreError};

impl EventStore {
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
                    let before = version;
                    let version = version + events.len() as i64;
                    self.cache.put(aggregate_id, &aggregate, version);
                    self.snapshot_after_command(
                        aggregate_id,
                        &aggregate,
                        (before, version),
                        events.iter().map(|event| event.event_type()),
                    )
                    .await;
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
                self.snapshot_after_command(
                    first_id,
                    &first.aggregate,
                    (first.version - first.events.len() as i64, first.version),
                    first.events.iter().map(|event| event.event_type()),
                )
                .await;
                self.snapshot_after_command(
                    second_id,
                    &second.aggregate,
                    (second.version - second.events.len() as i64, second.version),
                    second.events.iter().map(|event| event.event_type()),
                )
                .await;
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
