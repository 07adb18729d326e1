//! Why an authentication operation failed. The GraphQL layer turns it into an
//! `extensions.code` (`transport/graphql/error.rs`); like `ApiError`, it has no `Display`, so
//! it cannot reach a client without that mapping.

use domain::worker::WorkerError;
use journal::CommandError;

use crate::claims::ClaimError;

#[derive(Debug)]
pub enum AuthError {
    /// No valid credentials, or a login that failed (the message never says which part).
    Unauthenticated(&'static str),
    /// Too many attempts; try later.
    RateLimited,
    /// The current password given to a password change is wrong.
    WrongPassword,
    /// A setup link was refused (first admin, issue 16).
    Setup(super::setup::SetupRefusal),
    /// A value the new worker needs is taken (email, endpoint).
    Claim(ClaimError),
    /// The worker's command failed (registration).
    Worker(CommandError<WorkerError>),
    /// The database failed.
    Database(sqlx::Error),
    /// Anything else (hashing, signing, a stored value out of range): logged, never shown.
    Internal(anyhow::Error),
}

impl AuthError {
    /// A line for a log or the command line (not for a client).
    pub fn describe(&self) -> String {
        match self {
            Self::Unauthenticated(message) => (*message).to_owned(),
            Self::RateLimited => "too many attempts, try again later".to_owned(),
            Self::WrongPassword => "the current password is wrong".to_owned(),
            Self::Setup(refusal) => refusal.message().to_owned(),
            Self::Claim(ClaimError::Taken { kind, value }) => kind.taken_message(value),
            Self::Claim(ClaimError::Database(error)) | Self::Database(error) => {
                format!("database: {error}")
            }
            Self::Worker(CommandError::Rejected(rule)) => format!("{rule} ({})", rule.code()),
            Self::Worker(error) => format!("{error:?}"),
            Self::Internal(error) => format!("{error:#}"),
        }
    }
}

impl From<sqlx::Error> for AuthError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

impl From<ClaimError> for AuthError {
    fn from(error: ClaimError) -> Self {
        Self::Claim(error)
    }
}

impl From<CommandError<WorkerError>> for AuthError {
    fn from(error: CommandError<WorkerError>) -> Self {
        Self::Worker(error)
    }
}
