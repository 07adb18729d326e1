use std::fmt;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::command::RequestCommand;
use super::error::RequestError;
use super::event::{DueDateChange, RequestEvent};
use crate::ids::{CallId, CustomerId, WorkerId};
use crate::sla::{AlertState, SlaPolicy};
use crate::values::{Change, Priority, RequestMessage, RequestType};

/// Where a request is in its life (PRODUCT §5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    #[default]
    Open,
    Pending,
    Solved,
    /// Final.
    Closed,
}

impl RequestStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Pending => "pending",
            Self::Solved => "solved",
            Self::Closed => "closed",
        }
    }

    /// Open or pending: the request is being worked on, and alerts apply.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Open | Self::Pending)
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDetails {
    pub customer_id: CustomerId,
    pub call_id: Option<CallId>,
    pub message: RequestMessage,
    pub priority: Priority,
    pub request_type: RequestType,
    pub assignee: Option<WorkerId>,
    pub due_at: DateTime<Utc>,
    /// False while the due date is the SLA default of the priority.
    pub due_at_explicit: bool,
    /// Where the due date's allowance starts: when it was set by hand, else when the request
    /// was opened (a default due date is the priority's allowance from the opening). The
    /// due-soon window is a quarter of `due_at - due_at_set_at`, at most the SLA's cap.
    pub due_at_set_at: DateTime<Utc>,
    /// The SLA policy in force when the request was opened.
    pub sla: SlaPolicy,
    pub opened_by: Option<WorkerId>,
    pub opened_at: DateTime<Utc>,
}

/// A request (ticket).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    details: Option<RequestDetails>,
    status: RequestStatus,
    due_soon_raised: bool,
    overdue_raised: bool,
}

impl Request {
    pub fn is_opened(&self) -> bool {
        self.details.is_some()
    }

    /// What the request is about; `None` before it is opened.
    pub fn details(&self) -> Option<&RequestDetails> {
        self.details.as_ref()
    }

    /// The status (`Open` before the request exists: check [`Request::is_opened`]).
    pub fn status(&self) -> RequestStatus {
        self.status
    }

    pub fn customer_id(&self) -> Option<CustomerId> {
        self.details.as_ref().map(|details| details.customer_id)
    }

    pub fn assignee(&self) -> Option<WorkerId> {
        self.details.as_ref().and_then(|details| details.assignee)
    }

    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.details.as_ref().map(|details| details.due_at)
    }

    /// Whether `due_soon` was raised since the due date last changed.
    pub fn due_soon_raised(&self) -> bool {
        self.due_soon_raised
    }

    /// Whether `overdue` was raised since the due date last changed.
    pub fn overdue_raised(&self) -> bool {
        self.overdue_raised
    }

    /// Where the due date stands at `now` by the request's policy; `None` when the request
    /// does not exist or is solved or closed (alerts apply only while open or pending).
    pub fn alert_state(&self, now: DateTime<Utc>) -> Option<AlertState> {
        let details = self.details.as_ref()?;
        self.status.is_active().then(|| {
            details
                .sla
                .alert_state(details.due_at_set_at, details.due_at, now)
        })
    }

    /// The instant after which the request is due soon (its due-soon window opens strictly
    /// after it); `None` before it is opened.
    pub fn due_soon_from(&self) -> Option<DateTime<Utc>> {
        let details = self.details.as_ref()?;
        Some(
            details
                .sla
                .due_soon_from(details.due_at_set_at, details.due_at),
        )
    }

    fn decide(&self, command: RequestCommand) -> Result<Vec<RequestEvent>, RequestError> {
        if let RequestCommand::Open {
            customer_id,
            call_id,
            message,
            priority,
            request_type,
            assignee,
            due_at,
            sla,
            opened_by,
            at,
        } = command
        {
            if self.details.is_some() {
                return Err(RequestError::AlreadyOpened);
            }
            if due_at.is_some_and(|due_at| due_at <= at) {
                return Err(RequestError::DueDateInPast);
            }
            return Ok(vec![RequestEvent::Opened {
                customer_id,
                call_id,
                message,
                priority,
                request_type,
                assignee,
                due_at: due_at.unwrap_or_else(|| sla.default_due(priority, at)),
                due_at_explicit: due_at.is_some(),
                sla,
                opened_by,
                at,
            }]);
        }
        let Some(details) = &self.details else {
            return Err(RequestError::NotFound);
        };
        if self.status == RequestStatus::Closed {
            return Err(RequestError::Closed);
        }
        let from = self.status;
        let event = match command {
            RequestCommand::Open { .. } => return Err(RequestError::AlreadyOpened),
            RequestCommand::Update {
                message,
                priority,
                request_type,
                assignee,
                due_at,
                by,
                at,
            } => {
                if due_at.is_some_and(|due_at| due_at <= at) {
                    return Err(RequestError::DueDateInPast);
                }
                let priority =
                    priority.and_then(|priority| Change::between(details.priority, priority));
                let due_at = match (due_at, &priority) {
                    (Some(explicit), _) => (explicit != details.due_at).then_some(DueDateChange {
                        from: details.due_at,
                        to: explicit,
                        explicit: true,
                    }),
                    (None, Some(priority)) if !details.due_at_explicit => {
                        let default = details.sla.default_due(priority.to, details.opened_at);
                        (default != details.due_at).then_some(DueDateChange {
                            from: details.due_at,
                            to: default,
                            explicit: false,
                        })
                    }
                    (None, _) => None,
                };
                let message =
                    message.and_then(|message| Change::between(details.message.clone(), message));
                let request_type = request_type
                    .and_then(|request_type| Change::between(details.request_type, request_type));
                let assignee =
                    assignee.and_then(|assignee| Change::between(details.assignee, assignee));
                if message.is_none()
                    && priority.is_none()
                    && request_type.is_none()
                    && assignee.is_none()
                    && due_at.is_none()
                {
                    return Ok(vec![]);
                }
                RequestEvent::Updated {
                    message,
                    priority,
                    request_type,
                    assignee,
                    due_at,
                    by,
                    at,
                }
            }
            RequestCommand::SetPending { by, at } => match from {
                RequestStatus::Open => RequestEvent::MarkedPending { from, by, at },
                RequestStatus::Pending => return Ok(vec![]),
                RequestStatus::Solved | RequestStatus::Closed => {
                    return Err(RequestError::InvalidStatusTransition {
                        from,
                        to: RequestStatus::Pending,
                    })
                }
            },
            RequestCommand::Solve { by, at } => match from {
                RequestStatus::Solved => return Ok(vec![]),
                _ => RequestEvent::Solved { from, by, at },
            },
            RequestCommand::Reopen { by, at } => match from {
                RequestStatus::Solved => RequestEvent::Reopened { from, by, at },
                _ => return Err(RequestError::NotSolved),
            },
            RequestCommand::Close { by, at } => RequestEvent::Closed { from, by, at },
            RequestCommand::RaiseDueSoon { at } => {
                if self.due_soon_raised
                    || self.alert_state(at) != Some(AlertState::DueSoon)
                    || self.overdue_raised
                {
                    return Ok(vec![]);
                }
                RequestEvent::DueSoonRaised {
                    due_at: details.due_at,
                    at,
                }
            }
            RequestCommand::RaiseOverdue { at } => {
                if self.overdue_raised || self.alert_state(at) != Some(AlertState::Overdue) {
                    return Ok(vec![]);
                }
                RequestEvent::OverdueRaised {
                    due_at: details.due_at,
                    at,
                }
            }
        };
        Ok(vec![event])
    }
}

impl Aggregate for Request {
    const TYPE: &'static str = "request";
    type Command = RequestCommand;
    type Event = RequestEvent;
    type Error = RequestError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            RequestEvent::Opened {
                customer_id,
                call_id,
                message,
                priority,
                request_type,
                assignee,
                due_at,
                due_at_explicit,
                sla,
                opened_by,
                at,
            } => {
                self.details = Some(RequestDetails {
                    customer_id,
                    call_id,
                    message,
                    priority,
                    request_type,
                    assignee,
                    due_at,
                    due_at_explicit,
                    due_at_set_at: at,
                    sla,
                    opened_by,
                    opened_at: at,
                });
                self.status = RequestStatus::Open;
            }
            RequestEvent::Updated {
                message,
                priority,
                request_type,
                assignee,
                due_at,
                by: _,
                at,
            } => {
                let Some(details) = &mut self.details else {
                    return;
                };
                if let Some(message) = message {
                    details.message = message.to;
                }
                if let Some(priority) = priority {
                    details.priority = priority.to;
                }
                if let Some(request_type) = request_type {
                    details.request_type = request_type.to;
                }
                if let Some(assignee) = assignee {
                    details.assignee = assignee.to;
                }
                if let Some(due_at) = due_at {
                    details.due_at = due_at.to;
                    details.due_at_explicit = due_at.explicit;
                    details.due_at_set_at = if due_at.explicit {
                        at
                    } else {
                        details.opened_at
                    };
                    self.due_soon_raised = false;
                    self.overdue_raised = false;
                }
            }
            RequestEvent::MarkedPending { .. } => self.status = RequestStatus::Pending,
            RequestEvent::Solved { .. } => self.status = RequestStatus::Solved,
            RequestEvent::Reopened { .. } => self.status = RequestStatus::Open,
            RequestEvent::Closed { .. } => self.status = RequestStatus::Closed,
            RequestEvent::DueSoonRaised { .. } => self.due_soon_raised = true,
            RequestEvent::OverdueRaised { .. } => self.overdue_raised = true,
        }
    }
}
