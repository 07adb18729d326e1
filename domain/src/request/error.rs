use thiserror::Error;

use super::aggregate::RequestStatus;

/// A request rule that a command would break.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RequestError {
    #[error("request is already opened")]
    AlreadyOpened,
    #[error("request does not exist")]
    NotFound,
    #[error("request is closed")]
    Closed,
    #[error("due date must be in the future")]
    DueDateInPast,
    #[error("only a solved request can be reopened")]
    NotSolved,
    #[error("a {from} request cannot become {to}")]
    InvalidStatusTransition {
        from: RequestStatus,
        to: RequestStatus,
    },
}

impl RequestError {
    /// The stable error code (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyOpened => "REQUEST_ALREADY_OPENED",
            Self::NotFound => "REQUEST_NOT_FOUND",
            Self::Closed => "REQUEST_CLOSED",
            Self::DueDateInPast => "DUE_DATE_IN_PAST",
            Self::NotSolved => "REQUEST_NOT_SOLVED",
            Self::InvalidStatusTransition { .. } => "INVALID_STATUS_TRANSITION",
        }
    }
}
