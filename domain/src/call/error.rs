use thiserror::Error;

/// A call rule that a command would break.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CallError {
    #[error("call has not been queued")]
    NotFound,
    #[error("call is already queued on another channel")]
    AlreadyQueued,
    #[error("call is not waiting in the queue")]
    NotWaiting,
    #[error("call has no offer pending")]
    NoOfferPending,
    #[error("call is not offered to or connected with this agent")]
    NotYourCall,
    #[error("call is not connected")]
    NotConnected,
    #[error("call has ended")]
    Ended,
}

impl CallError {
    /// A stable code for clients (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "CALL_NOT_FOUND",
            Self::AlreadyQueued => "CALL_ALREADY_QUEUED",
            Self::NotWaiting => "CALL_NOT_WAITING",
            Self::NoOfferPending => "NO_OFFER_PENDING",
            Self::NotYourCall => "NOT_YOUR_CALL",
            Self::NotConnected => "CALL_NOT_CONNECTED",
            Self::Ended => "CALL_ENDED",
        }
    }
}
