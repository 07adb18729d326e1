//! The BackupRun aggregate (PRODUCT §6): one backup run of a customer, reported with the
//! customer's ingest token (`start`, `success`, `fail`, `log`) and closed by the system when it
//! runs past its grace (`TimeOut`) or when retention lets it go (`Expire`).
//!
//! A client may name its runs (`client_run_id`); [`run_id_for`] turns that name into the run's
//! aggregate id, so a `start` and its `success` land on the same run. A `success` or `fail`
//! without a prior `start` creates the run, its start and duration then unknown.

mod aggregate;
mod command;
mod error;
mod event;
#[cfg(test)]
mod tests;

use uuid::Uuid;

use crate::ids::{BackupRunId, CustomerId};

pub use aggregate::{BackupRun, RunStatus};
pub use command::BackupRunCommand;
pub use error::BackupRunError;
pub use event::{BackupRunEvent, ChangeKind, ChangeStats, ChangedFile, RunResult, ToolStats};

/// The most characters of a log text kept; the rest is cut off.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// The most bytes of a failure message kept: its last 10 KiB (the end of a failing job's
/// output says why it failed), cut at a character boundary.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024;

/// The most changed files listed in [`ChangeStats::largest`]; the rest are dropped.
pub const MAX_LARGEST_CHANGES: usize = 10;

/// The id of the run a customer names `client_run_id`: a UUID v5 with the customer's id as
/// namespace and the client's run id as name. Stable forever (ids in the event log depend on
/// it), and two customers using the same run id get different runs.
pub fn run_id_for(customer: CustomerId, client_run_id: &str) -> BackupRunId {
    BackupRunId(Uuid::new_v5(&customer.as_uuid(), client_run_id.as_bytes()))
}
