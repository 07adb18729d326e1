//! The event log in PostgreSQL: the only way events are written and the way they are read
//! back. Commands run here ([`EventStore::execute`]: load or cached state, the domain's pure
//! `handle`, one appending statement that also notifies readers); readers follow the log in
//! gap-safe order ([`LogReader`], [`LogNotifier`], [`LogTail`]); every event carries its
//! [`Metadata`]; old event versions are upcast on read ([`upcast`]); personal fields are
//! sealed per customer and shredded on erasure ([`shred`]); audit reads fold an aggregate's
//! history ([`audit`]); long-lived aggregates load from a snapshot plus the events after it
//! ([`snapshot`]). cqrs-es works over the same log ([`repository`]).
//!
//! Architecture Invariant: the log is append-only. This crate never updates or deletes an
//! event, never writes a read model or any table but `events` and `snapshots` (a cache of
//! the log's folds, [`snapshot`]; read models belong to `projections`), and never decides a business rule (the domain does). A reader never skips
//! an event: it reads only below the watermark of transactions still in progress.

/// The `subject_key` column of [`EVENT_COLUMNS`] (see [`shred::SUBJECT_KEY`]).
macro_rules! subject_key_sql {
    () => {
        "(SELECT customer_keys.key FROM customer_keys \
          WHERE customer_keys.subject_id = events.aggregate_id \
            AND events.aggregate_type IN ('customer', 'call')) AS subject_key"
    };
}
pub(crate) use subject_key_sql;

pub mod append;
pub mod audit;
mod cache;
pub mod event;
pub mod execute;
mod group_commit;
pub mod log;
pub mod metadata;
pub mod repository;
pub mod shred;
pub mod snapshot;
pub mod store;
pub mod upcast;

pub use event::{Appended, LogPosition, NewEvent, StoredEvent, EVENTS_CHANNEL, EVENT_COLUMNS};
pub use execute::{CommandError, Committed, PairCommand, PairError};
pub use log::{
    HeldBackoff, LogNotifier, LogReader, LogTail, Pace, TailBatch, HELD_MAX, PROCESS_MANAGER_GAP,
};
pub use metadata::{Actor, Metadata};
pub use snapshot::SnapshotPolicy;
pub use store::{EventStore, StoreError};
