//! Settings that admins change while the server runs (PRODUCT §1, §4.2, §5, §8), as
//! aggregates like every other state: changed by commands, stored as events, audited.
//!
//! - [`QueueSettings`] (`queue_settings`), one per queue, keyed by the queue's id
//!   ([`DEFAULT_QUEUE`] today; several queues fit later): offer timeout, wrap-up, max wait,
//!   max queue length, reject announcement.
//! - [`CenterSettings`] (`center_settings`), one for the call center ([`CENTER_SETTINGS_ID`]):
//!   the request due allowances per priority with the due-soon cap ([`SlaPolicy`]), and the
//!   service-level threshold T of the KPIs.
//!
//! The server's environment gives the initial values; nothing is written at start. Each
//! event carries the whole group of values it sets, so the effective value is the last
//! event's, else the environment's. Setting the values already in force records nothing.

mod aggregate;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::sla::SlaPolicy;

pub use aggregate::{CenterSettings, QueueSettings};

/// The id of the one queue there is today.
pub const DEFAULT_QUEUE: &str = "default";

/// The id of the call center's [`CenterSettings`].
pub const CENTER_SETTINGS_ID: &str = "default";

/// Longest offer timeout, in seconds (ARI's dial timeout is in whole seconds).
pub const MAX_OFFER_TIMEOUT_SECS: u32 = 600;
/// Longest wrap-up, in seconds.
pub const MAX_WRAP_UP_SECS: u32 = 3600;
/// Longest max wait, in seconds (a day).
pub const MAX_MAX_WAIT_SECS: u32 = 24 * 3600;
/// Largest max queue length.
pub const MAX_QUEUE_LENGTH: u32 = 100_000;
/// Longest reject announcement media URI, in characters.
pub const MAX_ANNOUNCEMENT_CHARS: usize = 256;
/// The ARI media URI schemes a reject announcement may use.
pub const ANNOUNCEMENT_SCHEMES: &[&str] = &[
    "sound",
    "recording",
    "number",
    "digits",
    "characters",
    "tone",
];
/// Shortest due allowance of a priority, in seconds (a minute).
pub const MIN_ALLOWANCE_SECS: u64 = 60;
/// Longest due allowance of a priority, or due-soon cap, in seconds (a year).
pub const MAX_ALLOWANCE_SECS: u64 = 365 * 24 * 3600;
/// Longest service-level threshold T, in seconds.
pub const MAX_SERVICE_LEVEL_THRESHOLD_SECS: u32 = 3600;

/// One queue's settings (PRODUCT §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueValues {
    /// How long an agent's phone rings before the offer counts as missed (1..=600 s).
    pub offer_timeout_secs: u32,
    /// Wrap-up after each call before the agent is Available again (0 = none).
    pub wrap_up_secs: u32,
    /// How long a caller waits at most before being rejected `max_wait_exceeded` (≥ 1 s).
    pub max_wait_secs: u32,
    /// Calls waiting (queued or ringing) above which new callers are rejected `queue_full`.
    pub max_queue_length: u32,
    /// ARI media played to a rejected caller before hanging up (`sound:vm-nobodyavail`);
    /// `None`: hung up at once.
    pub reject_announcement: Option<String>,
}

impl QueueValues {
    /// The rules every stored queue setting obeys.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(1..=MAX_OFFER_TIMEOUT_SECS).contains(&self.offer_timeout_secs) {
            return Err(SettingsError::invalid(
                "offerTimeoutSecs",
                format!("must be 1 to {MAX_OFFER_TIMEOUT_SECS} seconds"),
            ));
        }
        if self.wrap_up_secs > MAX_WRAP_UP_SECS {
            return Err(SettingsError::invalid(
                "wrapUpSecs",
                format!("must be 0 to {MAX_WRAP_UP_SECS} seconds"),
            ));
        }
        if !(1..=MAX_MAX_WAIT_SECS).contains(&self.max_wait_secs) {
            return Err(SettingsError::invalid(
                "maxWaitSecs",
                format!("must be 1 to {MAX_MAX_WAIT_SECS} seconds"),
            ));
        }
        if self.max_queue_length > MAX_QUEUE_LENGTH {
            return Err(SettingsError::invalid(
                "maxQueueLength",
                format!("must be 0 to {MAX_QUEUE_LENGTH}"),
            ));
        }
        if let Some(media) = &self.reject_announcement {
            let scheme_ok = media.split_once(':').is_some_and(|(scheme, rest)| {
                ANNOUNCEMENT_SCHEMES.contains(&scheme) && !rest.is_empty()
            });
            if !scheme_ok
                || media.chars().count() > MAX_ANNOUNCEMENT_CHARS
                || media.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(SettingsError::invalid(
                    "rejectAnnouncement",
                    format!(
                        "must be an ARI media URI (sound:, recording:, number:, digits:, \
                         characters:, tone:) of at most {MAX_ANNOUNCEMENT_CHARS} characters \
                         without spaces"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The rules every stored request policy obeys: each allowance a minute to a year, the
/// due-soon cap at most a year (0: no due-soon alert).
pub fn validate_sla(policy: &SlaPolicy) -> Result<(), SettingsError> {
    for (field, value) in [
        ("urgentSecs", policy.urgent_secs),
        ("highSecs", policy.high_secs),
        ("normalSecs", policy.normal_secs),
        ("lowSecs", policy.low_secs),
    ] {
        if !(MIN_ALLOWANCE_SECS..=MAX_ALLOWANCE_SECS).contains(&value) {
            return Err(SettingsError::invalid(
                field,
                format!("must be {MIN_ALLOWANCE_SECS} to {MAX_ALLOWANCE_SECS} seconds"),
            ));
        }
    }
    if policy.due_soon_threshold_secs > MAX_ALLOWANCE_SECS {
        return Err(SettingsError::invalid(
            "dueSoonCapSecs",
            format!("must be 0 to {MAX_ALLOWANCE_SECS} seconds"),
        ));
    }
    Ok(())
}

/// The rule of the service-level threshold T: 1 s to an hour.
pub fn validate_service_level_threshold(secs: u32) -> Result<(), SettingsError> {
    if !(1..=MAX_SERVICE_LEVEL_THRESHOLD_SECS).contains(&secs) {
        return Err(SettingsError::invalid(
            "thresholdSecs",
            format!("must be 1 to {MAX_SERVICE_LEVEL_THRESHOLD_SECS} seconds"),
        ));
    }
    Ok(())
}

/// A settings value refused: which field (its GraphQL input name) and why.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SettingsError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

impl SettingsError {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A stable code for clients (GraphQL `extensions.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { .. } => "VALIDATION",
        }
    }

    /// The input field refused.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Invalid { field, .. } => field,
        }
    }

    /// Why, without the field's name.
    pub fn reason(&self) -> &str {
        match self {
            Self::Invalid { message, .. } => message,
        }
    }
}

/// A change of one queue's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueSettingsCommand {
    /// Sets all of the queue's settings at once.
    Update {
        values: QueueValues,
        at: DateTime<Utc>,
    },
}

/// What happened to a queue's settings. Names and fields are a stored contract (snapshots).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueSettingsEvent {
    /// The queue's settings from `at` on (all of them).
    Updated {
        values: QueueValues,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for QueueSettingsEvent {
    fn event_type(&self) -> String {
        match self {
            Self::Updated { .. } => "QueueSettingsUpdated",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}

/// A change of the call center's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CenterSettingsCommand {
    /// Sets the due allowances per priority and the due-soon cap given to new requests.
    UpdateRequestSettings {
        policy: SlaPolicy,
        at: DateTime<Utc>,
    },
    /// Sets the service-level threshold T of the KPIs.
    UpdateServiceLevelThreshold {
        threshold_secs: u32,
        at: DateTime<Utc>,
    },
}

/// What happened to the call center's settings. Names and fields are a stored contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CenterSettingsEvent {
    /// The request policy given to requests opened from `at` on (a request keeps the policy
    /// it was opened with).
    RequestSettingsUpdated {
        policy: SlaPolicy,
        at: DateTime<Utc>,
    },
    /// The KPIs' service level counts calls answered within `threshold_secs` from `at` on
    /// (for every range asked from then, past calls included).
    ServiceLevelThresholdUpdated {
        threshold_secs: u32,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for CenterSettingsEvent {
    fn event_type(&self) -> String {
        match self {
            Self::RequestSettingsUpdated { .. } => "RequestSettingsUpdated",
            Self::ServiceLevelThresholdUpdated { .. } => "ServiceLevelThresholdUpdated",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1".to_string()
    }
}
