use thiserror::Error;

/// A backup run rule that a command would break.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BackupRunError {
    #[error("backup run has not been reported")]
    NotFound,
    #[error("backup run belongs to another customer")]
    CustomerMismatch,
    #[error("backup run has already finished")]
    AlreadyFinished,
    #[error("backup run has not finished")]
    NotFinished,
}

impl BackupRunError {
    /// A stable code for clients (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "RUN_NOT_FOUND",
            Self::CustomerMismatch => "CUSTOMER_MISMATCH",
            Self::AlreadyFinished => "RUN_ALREADY_FINISHED",
            Self::NotFinished => "RUN_NOT_FINISHED",
        }
    }
}
