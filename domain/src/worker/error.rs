use thiserror::Error;

/// A worker rule that a command would break.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum WorkerError {
    #[error("worker is already registered")]
    AlreadyRegistered,
    #[error("worker is not registered")]
    NotRegistered,
    #[error("worker is deactivated")]
    Deactivated,
    #[error("the last active admin cannot be demoted or deactivated")]
    LastAdmin,
    #[error("worker is handling a call")]
    Busy,
    #[error("worker has no phone endpoint")]
    NoEndpoint,
    #[error("agent is not available")]
    AgentNotAvailable,
    #[error("command is about another call than the worker's")]
    CallMismatch,
    #[error("worker has no offer pending")]
    NoPendingOffer,
    #[error("worker is not on a call")]
    NotOnCall,
    #[error("wrap-up time is not over")]
    WrapUpNotOver,
}

impl WorkerError {
    /// The stable error code (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRegistered => "WORKER_ALREADY_REGISTERED",
            Self::NotRegistered => "WORKER_NOT_FOUND",
            Self::Deactivated => "WORKER_DEACTIVATED",
            Self::LastAdmin => "LAST_ADMIN",
            Self::Busy => "WORKER_BUSY",
            Self::NoEndpoint => "NO_ENDPOINT",
            Self::AgentNotAvailable => "AGENT_NOT_AVAILABLE",
            Self::CallMismatch => "CALL_MISMATCH",
            Self::NoPendingOffer => "NO_PENDING_OFFER",
            Self::NotOnCall => "NOT_ON_CALL",
            Self::WrapUpNotOver => "WRAP_UP_NOT_OVER",
        }
    }
}
