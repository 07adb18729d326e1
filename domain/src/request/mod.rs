//! The Request aggregate (PRODUCT §5): a ticket about a customer, with its message, priority,
//! type, assignee, status (`open`, `pending`, `solved`, `closed`) and due date, and the
//! `due_soon` / `overdue` alerts.
//!
//! The due date comes from the SLA policy in force when the request is opened (a copy travels
//! in the command and is kept in the `RequestOpened` event), or is set explicitly (then it must
//! be in the future). While the due date is the policy's default, changing the priority moves
//! it to the new priority's default counted from the opening time; once set explicitly it only
//! moves explicitly. Any change of the due date re-arms both alerts.
//!
//! Every change records who (`by`, `None` = the system) and when, with the previous and the
//! new value. Closed is final: every command afterwards is rejected with `REQUEST_CLOSED`.
//! Whether the customer, call and assignee exist is checked by the api before the command.

mod aggregate;
mod command;
mod error;
mod event;

#[cfg(test)]
mod tests;

pub use aggregate::{Request, RequestDetails, RequestStatus};
pub use command::RequestCommand;
pub use error::RequestError;
pub use event::{DueDateChange, RequestEvent};
