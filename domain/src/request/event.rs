use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::aggregate::RequestStatus;
use crate::ids::{CallId, CustomerId, WorkerId};
use crate::sla::SlaPolicy;
use crate::values::{Change, Priority, RequestMessage, RequestType};

/// A due date moving from `from` to `to`; `explicit` says whether it was set by hand (true)
/// or follows the SLA default of a new priority (false).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueDateChange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub explicit: bool,
}

/// What happened to a request. Names and fields are a stored contract (see the snapshots).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RequestEvent {
    /// A new request, status open. `due_at_explicit`: false when `due_at` is the default of
    /// `sla` for the priority.
    Opened {
        customer_id: CustomerId,
        call_id: Option<CallId>,
        message: RequestMessage,
        priority: Priority,
        request_type: RequestType,
        assignee: Option<WorkerId>,
        due_at: DateTime<Utc>,
        due_at_explicit: bool,
        sla: SlaPolicy,
        opened_by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Only the changed fields are present, each with its previous and new value. A due-date
    /// change re-arms the `due_soon` and `overdue` alerts.
    Updated {
        message: Option<Change<RequestMessage>>,
        priority: Option<Change<Priority>>,
        request_type: Option<Change<RequestType>>,
        assignee: Option<Change<Option<WorkerId>>>,
        due_at: Option<DueDateChange>,
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    MarkedPending {
        from: RequestStatus,
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    Solved {
        from: RequestStatus,
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    Reopened {
        from: RequestStatus,
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    Closed {
        from: RequestStatus,
        by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    DueSoonRaised {
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    OverdueRaised {
        due_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for RequestEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::Opened { .. } => "RequestOpened",
            Self::Updated { .. } => "RequestUpdated",
            Self::MarkedPending { .. } => "RequestMarkedPending",
            Self::Solved { .. } => "RequestSolved",
            Self::Reopened { .. } => "RequestReopened",
            Self::Closed { .. } => "RequestClosed",
            Self::DueSoonRaised { .. } => "RequestDueSoonRaised",
            Self::OverdueRaised { .. } => "RequestOverdueRaised",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
