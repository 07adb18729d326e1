//! The one error of the API and its GraphQL form: a message and `extensions.code` (plus
//! `extensions.field` for invalid input). Internal causes are logged once, with their chain,
//! when the error is turned into its GraphQL form, and never shown.
//!
//! `ApiError` deliberately has no `Display`: async-graphql converts anything displayable into
//! an error without a code, so only this type's own conversion can reach the client.

use async_graphql::ErrorExtensions as _;
use domain::values::ValueError;
use journal::{CommandError, StoreError};

use crate::auth::setup::SetupRefusal;
use crate::auth::AuthError;
use crate::claims::{ClaimError, ClaimKind};
pub use crate::platform::db::{is_unavailable, is_unstorable_text};

/// Why an API operation failed.
#[derive(Debug)]
pub enum ApiError {
    /// No valid credentials (or a login that failed: the message never says which part).
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed.
    Forbidden,
    /// No such object (also answered for objects the caller may not know about).
    NotFound(&'static str),
    /// An input value is invalid.
    Validation { field: String, message: String },
    /// `expectedVersion` is stale, or the object changed concurrently.
    Conflict(String),
    /// A rule was broken: the domain's code (e.g. `LAST_ADMIN`), or a uniqueness claim.
    Rule {
        code: &'static str,
        message: String,
        field: Option<&'static str>,
    },
    /// Too many attempts; try later.
    RateLimited,
    /// The database is out of reach.
    Unavailable,
    /// Anything else: logged, never shown.
    Internal(anyhow::Error),
}

impl ApiError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// The stable code clients branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::Validation { .. } => "VALIDATION",
            Self::Conflict(_) => "CONFLICT",
            Self::Rule { code, .. } => code,
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The message shown to the client.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(message) => (*message).to_owned(),
            Self::Forbidden => "not allowed".to_owned(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::Validation { field, message } => format!("{field}: {message}"),
            Self::Conflict(message) => message.clone(),
            Self::Rule { message, .. } => message.clone(),
            Self::RateLimited => "too many attempts, try again later".to_owned(),
            Self::Unavailable => "the service is temporarily unavailable".to_owned(),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// Renames the field of a validation error (the domain's name → the GraphQL argument).
    pub fn for_field(self, field: &str) -> Self {
        match self {
            Self::Validation { message, .. } => Self::Validation {
                field: field.to_owned(),
                message,
            },
            other => other,
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        match &error {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error")
            }
            ApiError::Unavailable => tracing::warn!("database unavailable"),
            _ => {}
        }
        let code = error.code();
        let field = match &error {
            ApiError::Validation { field, .. } => Some(field.clone()),
            ApiError::Rule {
                field: Some(field), ..
            } => Some((*field).to_owned()),
            _ => None,
        };
        async_graphql::Error::new(error.message()).extend_with(|_, extensions| {
            extensions.set("code", code);
            if let Some(field) = field {
                extensions.set("field", field);
            }
        })
    }
}

impl From<ValueError> for ApiError {
    fn from(error: ValueError) -> Self {
        Self::Validation {
            field: error.field.to_owned(),
            message: error.message,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            Self::Unavailable
        } else if is_unstorable_text(&error) {
            Self::validation("input", "contains a character that cannot be stored (NUL)")
        } else {
            Self::Internal(anyhow::Error::new(error).context("database query failed"))
        }
    }
}

impl From<ClaimError> for ApiError {
    fn from(error: ClaimError) -> Self {
        match error {
            ClaimError::Taken { kind, value } => {
                let (code, field) = match kind {
                    ClaimKind::WorkerEmail => ("EMAIL_TAKEN", "email"),
                    ClaimKind::WorkerEndpoint => ("ENDPOINT_TAKEN", "endpoint"),
                    ClaimKind::CustomerPhone => ("PHONE_TAKEN", "phones"),
                };
                Self::Rule {
                    code,
                    message: kind.taken_message(&value),
                    field: Some(field),
                }
            }
            ClaimError::Database(error) => error.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Unauthenticated(message) => Self::Unauthenticated(message),
            AuthError::RateLimited => Self::RateLimited,
            AuthError::WrongPassword => Self::Rule {
                code: "WRONG_PASSWORD",
                message: "the current password is wrong".into(),
                field: Some("currentPassword"),
            },
            AuthError::Setup(refusal) => Self::Rule {
                code: refusal.code(),
                message: refusal.message().into(),
                field: (refusal != SetupRefusal::AdminExists).then_some("token"),
            },
            AuthError::Claim(error) => error.into(),
            AuthError::Worker(error) => error.into(),
            AuthError::Database(error) => error.into(),
            AuthError::Internal(error) => Self::Internal(error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict => Self::Conflict("the object was changed concurrently".into()),
            StoreError::Database(error) => error.into(),
            other => Self::Internal(anyhow::Error::new(other).context("event store failed")),
        }
    }
}

/// A domain error with a stable code.
pub trait RuleError: std::error::Error {
    fn rule_code(&self) -> &'static str;
}

macro_rules! rule_error {
    ($($error:ty),+) => {$(
        impl RuleError for $error {
            fn rule_code(&self) -> &'static str {
                self.code()
            }
        }
    )+};
}

rule_error!(
    domain::worker::WorkerError,
    domain::customer::CustomerError,
    domain::request::RequestError,
    domain::call::CallError
);

impl<E: RuleError> From<CommandError<E>> for ApiError {
    fn from(error: CommandError<E>) -> Self {
        match error {
            CommandError::Rejected(rule) => Self::Rule {
                code: rule.rule_code(),
                message: rule.to_string(),
                field: None,
            },
            CommandError::Conflict { expected, actual } => Self::Conflict(format!(
                "expected version {expected}, the object is at version {actual}"
            )),
            CommandError::Store(store) => store.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extensions(error: ApiError) -> serde_json::Value {
        let error: async_graphql::Error = error.into();
        serde_json::to_value(error.extensions).expect("serialises")
    }

    #[test]
    fn every_error_carries_its_code_and_internal_causes_stay_hidden() {
        let internal: async_graphql::Error =
            ApiError::internal(anyhow::anyhow!("secret detail")).into();
        assert_eq!(internal.message, "internal error");
        assert_eq!(
            extensions(ApiError::validation("email", "must contain @")),
            serde_json::json!({"code": "VALIDATION", "field": "email"})
        );
        assert_eq!(
            extensions(domain::worker::WorkerError::LastAdmin.into_api()),
            serde_json::json!({"code": "LAST_ADMIN"})
        );
        assert_eq!(
            extensions(ApiError::from(sqlx::Error::PoolTimedOut)),
            serde_json::json!({"code": "UNAVAILABLE"})
        );
    }

    #[test]
    fn capability_errors_keep_their_codes() {
        assert_eq!(
            extensions(ApiError::from(AuthError::WrongPassword)),
            serde_json::json!({"code": "WRONG_PASSWORD", "field": "currentPassword"})
        );
        assert_eq!(
            extensions(ApiError::from(AuthError::RateLimited)),
            serde_json::json!({"code": "RATE_LIMITED"})
        );
        let taken = ApiError::from(AuthError::Claim(ClaimError::Taken {
            kind: ClaimKind::WorkerEmail,
            value: "a@example.com".into(),
        }));
        assert_eq!(taken.message(), "the email is already in use");
        assert_eq!(
            extensions(taken),
            serde_json::json!({"code": "EMAIL_TAKEN", "field": "email"})
        );
        let phone = ApiError::from(ClaimError::Taken {
            kind: ClaimKind::CustomerPhone,
            value: "+3312345678".into(),
        });
        assert_eq!(
            phone.message(),
            "the phone number +3312345678 is already in use"
        );
        assert_eq!(
            extensions(phone),
            serde_json::json!({"code": "PHONE_TAKEN", "field": "phones"})
        );
        assert_eq!(
            extensions(ApiError::from(AuthError::Database(
                sqlx::Error::PoolTimedOut
            ))),
            serde_json::json!({"code": "UNAVAILABLE"})
        );
    }

    trait IntoApi {
        fn into_api(self) -> ApiError;
    }

    impl IntoApi for domain::worker::WorkerError {
        fn into_api(self) -> ApiError {
            CommandError::Rejected(self).into()
        }
    }
}
