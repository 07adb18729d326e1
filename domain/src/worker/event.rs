use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::command::MissReason;
use crate::ids::{CallId, WorkerId};
use crate::values::{AvatarUrl, Change, EmailAddress, Endpoint, PauseReason, PersonName, Role};

/// What happened to a worker. Names and fields are a stored contract (see the snapshots).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WorkerEvent {
    /// A new worker, Offline.
    Registered {
        name: PersonName,
        email: EmailAddress,
        role: Role,
        endpoint: Option<Endpoint>,
        at: DateTime<Utc>,
    },
    /// Only the changed fields are present.
    ProfileUpdated {
        name: Option<Change<PersonName>>,
        email: Option<Change<EmailAddress>>,
        endpoint: Option<Change<Option<Endpoint>>>,
        at: DateTime<Utc>,
    },
    /// The worker's avatar picture changed; `avatar_url: None` removes it. A variant of its own
    /// (not a field of `ProfileUpdated`), so that no stored event changes shape.
    AvatarChanged {
        avatar_url: Option<AvatarUrl>,
        at: DateTime<Utc>,
    },
    RoleChanged {
        from: Role,
        to: Role,
        at: DateTime<Utc>,
    },
    /// The worker is deactivated and goes Offline; no command is accepted afterwards.
    Deactivated {
        at: DateTime<Utc>,
    },
    WentAvailable {
        forced_by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Also emitted by the system (`forced_by: None`) when the phone is unreachable.
    Paused {
        reason: PauseReason,
        forced_by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    WentOffline {
        forced_by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// The worker's phone rings for this call (the worker is reserved).
    Offered {
        call_id: CallId,
        at: DateTime<Utc>,
    },
    OfferAnswered {
        call_id: CallId,
        at: DateTime<Utc>,
    },
    /// The offer failed; the worker is paused with `pause_reason`.
    OfferMissed {
        call_id: CallId,
        reason: MissReason,
        pause_reason: PauseReason,
        at: DateTime<Utc>,
    },
    /// The offer ended without the agent's doing (the caller left while the phone rang, or the
    /// system could not ring the phone); the worker is Available again.
    OfferWithdrawn {
        call_id: CallId,
        at: DateTime<Utc>,
    },
    /// `wrap_up_until: None` means straight back to Available.
    CallEnded {
        call_id: CallId,
        wrap_up_until: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    },
    WrapUpFinished {
        at: DateTime<Utc>,
    },
    /// The worker's last login session ended (logout, expiry, revocation, password change):
    /// the worker goes Offline, as with `WentOffline`, for reason `logged_out`.
    LoggedOut {
        at: DateTime<Utc>,
    },
    /// An admin (`by`) reset the worker's password to a temporary one, shown to the admin once;
    /// every session of the worker ended. The password itself is never in the event.
    PasswordReset {
        by: WorkerId,
        at: DateTime<Utc>,
    },
}

impl WorkerEvent {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Registered { at, .. }
            | Self::ProfileUpdated { at, .. }
            | Self::AvatarChanged { at, .. }
            | Self::RoleChanged { at, .. }
            | Self::Deactivated { at }
            | Self::WentAvailable { at, .. }
            | Self::Paused { at, .. }
            | Self::WentOffline { at, .. }
            | Self::Offered { at, .. }
            | Self::OfferAnswered { at, .. }
            | Self::OfferMissed { at, .. }
            | Self::OfferWithdrawn { at, .. }
            | Self::CallEnded { at, .. }
            | Self::WrapUpFinished { at }
            | Self::LoggedOut { at }
            | Self::PasswordReset { at, .. } => *at,
        }
    }
}

impl DomainEvent for WorkerEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::Registered { .. } => "WorkerRegistered",
            Self::ProfileUpdated { .. } => "WorkerProfileUpdated",
            Self::AvatarChanged { .. } => "WorkerAvatarChanged",
            Self::RoleChanged { .. } => "WorkerRoleChanged",
            Self::Deactivated { .. } => "WorkerDeactivated",
            Self::WentAvailable { .. } => "WorkerWentAvailable",
            Self::Paused { .. } => "WorkerPaused",
            Self::WentOffline { .. } => "WorkerWentOffline",
            Self::Offered { .. } => "WorkerOffered",
            Self::OfferAnswered { .. } => "WorkerOfferAnswered",
            Self::OfferMissed { .. } => "WorkerOfferMissed",
            Self::OfferWithdrawn { .. } => "WorkerOfferWithdrawn",
            Self::CallEnded { .. } => "WorkerCallEnded",
            Self::WrapUpFinished { .. } => "WorkerWrapUpFinished",
            Self::LoggedOut { .. } => "WorkerLoggedOut",
            Self::PasswordReset { .. } => "WorkerPasswordReset",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}
