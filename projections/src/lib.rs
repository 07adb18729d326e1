//! The read models projected from the event log (`journal`) for the API, the projector that
//! keeps them up to date, and their rebuild.
//!
//! This crate owns every read-model table and the projection checkpoints; the log itself (and
//! every write to it) belongs to `journal`.
//! Architecture Invariant: read models are derived only from the log; applying a batch and
//! moving the checkpoint happen in one transaction, so replaying is idempotent.

pub mod projector;
pub mod readmodels;
pub mod rebuild;
