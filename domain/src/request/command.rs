use chrono::{DateTime, Utc};

use crate::ids::{CallId, CustomerId, WorkerId};
use crate::sla::SlaPolicy;
use crate::values::{Priority, RequestMessage, RequestType};

/// What can be asked of a request. `by` / `opened_by` is the worker acting (`None`: the
/// system, e.g. the request opened for an overdue backup).
#[derive(Clone, Debug, PartialEq)]
pub enum RequestCommand {
    /// `due_at`: explicit due date (must be after `at`); `None` takes the default of `sla`
    /// for the priority.
    Open {
        customer_id: CustomerId,
        call_id: Option<CallId>,
        message: RequestMessage,
        priority: Priority,
        request_type: RequestType,
        assignee: Option<WorkerId>,
        due_at: Option<DateTime<Utc>>,
        sla: SlaPolicy,
        opened_by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Each `None` leaves the field unchanged; `assignee: Some(None)` unassigns. An explicit
    /// `due_at` must be after `at`. Idempotent: nothing changes, no event.
    Update {
        message: Option<RequestMessage>,
        priority: Option<Priority>,
        request_type: Option<RequestType>,
        assignee: Option<Option<WorkerId>>,
        due_at: Option<DateTime<Utc>>,
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Open → pending. Idempotent when pending.
    SetPending {
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Open or pending → solved. Idempotent when solved.
    Solve {
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Solved → open.
    Reopen {
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Any status → closed, for good.
    Close {
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Raises `due_soon` if the request is open or pending, less than the policy's threshold
    /// remains before the due date (and it has not passed), and it was not raised since the
    /// due date last changed; otherwise a no-op (safe for a periodic scan to send).
    RaiseDueSoon { at: DateTime<Utc> },
    /// Raises `overdue` if the request is open or pending, `at` is at or after the due date,
    /// and it was not raised since the due date last changed; otherwise a no-op.
    RaiseOverdue { at: DateTime<Utc> },
}
