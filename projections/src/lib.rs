//! The event log in PostgreSQL and everything read from it: appending (the command path),
//! gap-safe reading in log order, checkpoints, and the read models projected for the API.
//!
//! This crate owns every table the server writes, except the api's credentials and sessions.
//! Architecture Invariant: read models are derived only from the log; applying a batch and
//! moving the checkpoint happen in one transaction, so replaying is idempotent.

pub mod audit;
pub mod log;
pub mod metadata;
pub mod projector;
pub mod readmodels;
pub mod rebuild;
pub mod store;
pub mod upcast;

pub use log::{LogNotifier, LogReader, LogTail, TailBatch};
pub use metadata::{Actor, Metadata};
pub use store::{
    CommandError, Committed, EventStore, LogPosition, NewEvent, StoreError, StoredEvent,
};
