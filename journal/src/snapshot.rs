//! Aggregate snapshots: the folded state of a long-lived aggregate at one sequence, in the
//! `snapshots` table, so that loading it reads the snapshot and only the events after it
//! ([`EventStore::load_aggregate`]).
//!
//! When: a command whose events take a snapshotted aggregate across a multiple of
//! [`SnapshotPolicy::every`] writes one (the state after the command, which the append just
//! validated); a load that folded at least `every` events past the snapshot it found (none, an
//! old one, or one of another version) writes one; an event type of
//! [`SnapshotPolicy::rewrite_on`] (a customer's erasure) rewrites it at once, so that no older
//! state outlives it; and on demand ([`EventStore::snapshot_all`], `savecorp projections
//! snapshot`).
//!
//! Versioned with the event contract: a row records the aggregate's state version
//! ([`STATE_VERSIONS`]) and the number of upcasters registered on the store; a row written
//! under other numbers, or whose state no longer decodes, is ignored (the load folds from the
//! log) and replaced.
//!
//! Architecture Invariant: a snapshot is a cache of the log, never a source of truth. Any row
//! may be deleted at any time; loading with or without it gives the same state.
//!
//! [`EventStore::load_aggregate`]: crate::EventStore::load_aggregate
//! [`EventStore::snapshot_all`]: crate::EventStore::snapshot_all

use std::sync::atomic::{AtomicU64, Ordering};

use cqrs_es::Aggregate;
use serde_json::Value;
use sqlx::Row as _;

use crate::store::{EventStore, StoreError};

/// The aggregates snapshotted, with the version of their state's serde form. Bump a version
/// when that aggregate's fields change (name, type or meaning): its old snapshots are then
/// ignored and rebuilt from the log. `the_snapshotted_states_keep_their_shape` (below) fails
/// when a field list changes, as a reminder.
///
/// Calls are not snapshotted: they live for a few dozen events, and their state holds the
/// caller's number and name in clear, which a customer's erasure must not leave behind (the
/// log seals them per call, see [`crate::shred`]).
pub const STATE_VERSIONS: [(&str, i32); 3] = [("worker", 1), ("customer", 1), ("request", 1)];

/// Event types after which the aggregate's snapshot is rewritten at once (not at the next
/// multiple of `every`): a customer's erasure must not leave the erased fields in an older
/// snapshot.
pub const REWRITE_ON: [&str; 1] = ["CustomerErased"];

/// When snapshots are taken and of which aggregates.
#[derive(Clone, Debug)]
pub struct SnapshotPolicy {
    /// A snapshot every this many events (≥ 1).
    pub every: i64,
    /// `(Aggregate::TYPE, state version)` of the snapshotted aggregates.
    pub state_versions: Vec<(&'static str, i32)>,
    /// Event types that rewrite the snapshot at once.
    pub rewrite_on: Vec<&'static str>,
}

impl SnapshotPolicy {
    /// Every `every` events, for the aggregates of [`STATE_VERSIONS`]; `None` (no snapshots)
    /// when `every` is 0.
    pub fn every(every: u32) -> Option<Self> {
        (every > 0).then(|| Self {
            every: i64::from(every),
            state_versions: STATE_VERSIONS.to_vec(),
            rewrite_on: REWRITE_ON.to_vec(),
        })
    }

    /// The state version of `aggregate_type`, if it is snapshotted.
    pub fn state_version(&self, aggregate_type: &str) -> Option<i32> {
        self.state_versions
            .iter()
            .find(|(name, _)| *name == aggregate_type)
            .map(|(_, version)| *version)
    }
}

/// What the loads of one store did (shared by its clones): observable in tests and metrics.
#[derive(Debug, Default)]
pub struct LoadCounters {
    /// Events folded by aggregate loads.
    pub events_folded: AtomicU64,
    /// Loads that started from a snapshot.
    pub snapshots_used: AtomicU64,
    /// Snapshots written.
    pub snapshots_written: AtomicU64,
}

impl LoadCounters {
    pub fn events_folded(&self) -> u64 {
        self.events_folded.load(Ordering::Relaxed)
    }

    pub fn snapshots_used(&self) -> u64 {
        self.snapshots_used.load(Ordering::Relaxed)
    }

    pub fn snapshots_written(&self) -> u64 {
        self.snapshots_written.load(Ordering::Relaxed)
    }
}

/// A usable snapshot: its state and the sequence it was folded up to.
pub(crate) struct Snapshot<A> {
    pub(crate) aggregate: A,
    pub(crate) sequence: i64,
}

impl EventStore {
    /// `(state version, upcaster version)` of `aggregate_type` under this store, if snapshotted.
    pub(crate) fn snapshot_versions(&self, aggregate_type: &str) -> Option<(i32, i32)> {
        let state_version = self.snapshots.as_ref()?.state_version(aggregate_type)?;
        Some((state_version, self.upcaster_version()))
    }

    /// The aggregate's snapshot, if one exists under this store's versions and decodes.
    pub(crate) async fn read_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<Snapshot<A>>, StoreError> {
        let Some((sequence, state)) = self.read_snapshot_value(A::TYPE, aggregate_id).await? else {
            return Ok(None);
        };
        match serde_json::from_value(state) {
            Ok(aggregate) => Ok(Some(Snapshot {
                aggregate,
                sequence,
            })),
            Err(error) => {
                tracing::warn!(
                    aggregate_type = A::TYPE,
                    aggregate_id,
                    %error,
                    "a snapshot does not decode: deleted, the aggregate is folded from the log"
                );
                self.forget_snapshot(A::TYPE, aggregate_id).await?;
                Ok(None)
            }
        }
    }

    /// Writes the aggregate's state at `sequence` as its snapshot, unless a snapshot of the
    /// same versions at or after that sequence exists. A failure is logged, not returned: a
    /// snapshot is only a cache.
    pub(crate) async fn write_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
        aggregate: &A,
        sequence: i64,
    ) {
        if self.snapshot_versions(A::TYPE).is_none() {
            return;
        }
        match serde_json::to_value(aggregate) {
            Ok(state) => {
                self.write_snapshot_value(A::TYPE, aggregate_id, sequence, state)
                    .await
            }
            Err(error) => {
                tracing::warn!(aggregate_type = A::TYPE, aggregate_id, %error, "a snapshot does not encode");
            }
        }
    }

    /// [`Self::write_snapshot`] of a state already in its serde form.
    pub(crate) async fn write_snapshot_value(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: i64,
        state: Value,
    ) {
        let Some((state_version, upcaster_version)) = self.snapshot_versions(aggregate_type) else {
            return;
        };
        if sequence < 1 {
            return;
        }
        let written = sqlx::query(
            "INSERT INTO snapshots \
               (aggregate_type, aggregate_id, sequence, state_version, upcaster_version, state) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET \
               sequence = EXCLUDED.sequence, state_version = EXCLUDED.state_version, \
               upcaster_version = EXCLUDED.upcaster_version, state = EXCLUDED.state, \
               taken_at = now() \
             WHERE snapshots.sequence < EXCLUDED.sequence \
                OR snapshots.state_version <> EXCLUDED.state_version \
                OR snapshots.upcaster_version <> EXCLUDED.upcaster_version",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(sequence)
        .bind(state_version)
        .bind(upcaster_version)
        .bind(state)
        .execute(&self.pool)
        .await;
        match written {
            Ok(done) if done.rows_affected() == 0 => {}
            Ok(_) => {
                self.counters
                    .snapshots_written
                    .fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                tracing::warn!(aggregate_type, aggregate_id, %error, "a snapshot was not written");
            }
        }
    }

    /// The aggregate's usable snapshot in cqrs-es' form (`current_snapshot` is its sequence).
    pub(crate) async fn read_snapshot_value(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Option<(i64, Value)>, StoreError> {
        let Some((state_version, upcaster_version)) = self.snapshot_versions(aggregate_type) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT sequence, state FROM snapshots \
             WHERE aggregate_type = $1 AND aggregate_id = $2 \
               AND state_version = $3 AND upcaster_version = $4",
        )
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(state_version)
        .bind(upcaster_version)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((row.try_get("sequence")?, row.try_get("state")?)))
            .transpose()
    }

    /// After a command took the aggregate from `before` to `after` with `event_types`: writes
    /// its snapshot when it crossed a multiple of `every` or one of the events rewrites it.
    pub(crate) async fn snapshot_after_command<A: Aggregate>(
        &self,
        aggregate_id: &str,
        aggregate: &A,
        (before, after): (i64, i64),
        event_types: impl Iterator<Item = String>,
    ) {
        let Some(policy) = &self.snapshots else {
            return;
        };
        if policy.state_version(A::TYPE).is_none() {
            return;
        }
        let crossed = before / policy.every != after / policy.every;
        let mut event_types = event_types;
        if crossed || event_types.any(|event_type| policy.rewrite_on.contains(&event_type.as_str()))
        {
            self.write_snapshot(aggregate_id, aggregate, after).await;
        }
    }

    /// A load folded `folded` events past its snapshot: true when that is enough to write a
    /// new one.
    pub(crate) fn snapshot_due_after_load(&self, aggregate_type: &str, folded: i64) -> bool {
        self.snapshots.as_ref().is_some_and(|policy| {
            policy.state_version(aggregate_type).is_some() && folded >= policy.every
        })
    }

    /// Takes a snapshot of every aggregate of type `A` whose events go past its snapshot (or
    /// that has none, or one of other versions): `savecorp projections snapshot`. Returns how
    /// many were written. Nothing when `A` is not snapshotted by this store.
    pub async fn snapshot_all<A: Aggregate>(&self) -> Result<u64, StoreError> {
        let Some((state_version, upcaster_version)) = self.snapshot_versions(A::TYPE) else {
            return Ok(0);
        };
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT e.aggregate_id FROM events e \
             LEFT JOIN snapshots s ON s.aggregate_type = e.aggregate_type \
              AND s.aggregate_id = e.aggregate_id \
              AND s.state_version = $2 AND s.upcaster_version = $3 \
             WHERE e.aggregate_type = $1 \
             GROUP BY e.aggregate_id \
             HAVING max(e.sequence) > coalesce(max(s.sequence), 0) \
             ORDER BY e.aggregate_id",
        )
        .bind(A::TYPE)
        .bind(state_version)
        .bind(upcaster_version)
        .fetch_all(&self.pool)
        .await?;
        let before = self.counters.snapshots_written();
        for aggregate_id in ids {
            let (aggregate, version) = self.load_aggregate::<A>(&aggregate_id).await?;
            self.write_snapshot(&aggregate_id, &aggregate, version)
                .await;
        }
        Ok(self.counters.snapshots_written() - before)
    }

    /// Deletes the aggregate's snapshot (whatever its versions): the next load folds from the
    /// log. For whoever makes stored data unreadable (erasure, crypto-shredding).
    pub async fn forget_snapshot(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM snapshots WHERE aggregate_type = $1 AND aggregate_id = $2")
            .bind(aggregate_type)
            .bind(aggregate_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::customer::Customer;
    use domain::request::Request;
    use domain::worker::Worker;

    fn fields<A: Aggregate>() -> Vec<String> {
        match serde_json::to_value(A::default()).expect("encodes") {
            Value::Object(map) => map.keys().cloned().collect(),
            other => panic!("{} state is not an object: {other}", A::TYPE),
        }
    }

    #[test]
    fn every_aggregate_type_of_the_policy_is_snapshotted_once() {
        let policy = SnapshotPolicy::every(100).expect("on");
        for name in ["worker", "customer", "request"] {
            assert!(policy.state_version(name).is_some(), "{name}");
        }
        assert_eq!(policy.state_version("backup_run"), None);
        assert_eq!(policy.state_version("call"), None);
        assert!(SnapshotPolicy::every(0).is_none());
    }

    /// A reminder, not a proof: when one of these lists changes, bump the aggregate's entry in
    /// `STATE_VERSIONS` (its old snapshots are then ignored and rebuilt), then update the list.
    #[test]
    fn the_snapshotted_states_keep_their_shape() {
        let shapes = [
            (
                "worker",
                fields::<Worker>(),
                &[
                    "active",
                    "avatar_url",
                    "idle_since",
                    "presence",
                    "profile",
                    "state_since",
                ][..],
            ),
            (
                "customer",
                fields::<Customer>(),
                &[
                    "backup_plan",
                    "details",
                    "erased",
                    "failed_since",
                    "ingest_tokens",
                    "overdue_since",
                    "registered",
                ][..],
            ),
            (
                "request",
                fields::<Request>(),
                &["details", "due_soon_raised", "overdue_raised", "status"][..],
            ),
        ];
        let versions: std::collections::HashMap<_, _> = STATE_VERSIONS.into_iter().collect();
        for (name, fields, expected) in shapes {
            assert_eq!(
                (versions[name], fields),
                (1, expected.iter().map(|field| field.to_string()).collect()),
                "{name}'s state changed shape: bump its STATE_VERSIONS entry (its old snapshots \
                 are then ignored and rebuilt), then update this list and this version"
            );
        }
    }
}
