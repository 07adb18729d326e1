use thiserror::Error;

use crate::values::PhoneNumber;

/// A customer rule that a command would break.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CustomerError {
    #[error("customer is already registered")]
    AlreadyRegistered,
    #[error("customer is not registered")]
    NotRegistered,
    #[error("customer was erased")]
    Erased,
    #[error("a customer needs at least one phone number")]
    PhoneRequired,
    #[error("phone number {phone} is listed twice")]
    DuplicatePhone { phone: PhoneNumber },
    #[error("notes must be at most 10000 characters")]
    NotesTooLong,
    #[error("avatar url must be an http or https url of at most 2048 characters")]
    InvalidAvatarUrl,
    #[error("invalid backup plan: {reason}")]
    InvalidBackupPlan { reason: String },
    #[error("hash prefix must be 8 lowercase hex characters")]
    InvalidHashPrefix,
    #[error("ingest token was already issued")]
    TokenAlreadyIssued,
    #[error("ingest token does not belong to this customer")]
    TokenNotFound,
}

impl CustomerError {
    /// The stable error code (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRegistered => "CUSTOMER_ALREADY_REGISTERED",
            Self::NotRegistered => "CUSTOMER_NOT_FOUND",
            Self::Erased => "CUSTOMER_ERASED",
            Self::PhoneRequired => "PHONE_REQUIRED",
            Self::DuplicatePhone { .. } => "DUPLICATE_PHONE",
            Self::NotesTooLong => "NOTES_TOO_LONG",
            Self::InvalidAvatarUrl => "INVALID_AVATAR_URL",
            Self::InvalidBackupPlan { .. } => "INVALID_BACKUP_PLAN",
            Self::InvalidHashPrefix => "INVALID_HASH_PREFIX",
            Self::TokenAlreadyIssued => "TOKEN_ALREADY_ISSUED",
            Self::TokenNotFound => "TOKEN_NOT_FOUND",
        }
    }
}
