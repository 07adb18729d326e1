use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CallId, WorkerId};
use crate::values::{AvatarUrl, EmailAddress, Endpoint, PauseReason, PersonName, Role};

/// Why an offered call was not answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissReason {
    /// The phone was busy.
    Busy,
    /// Nobody answered within the offer timeout.
    NoAnswer,
    /// The agent declined the call.
    Rejected,
    /// The phone could not be reached (endpoint offline, originate refused).
    Unreachable,
}

/// What can be asked of a worker. `forced_by` is the admin forcing a presence change on
/// someone else (`None`: the worker themself).
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerCommand {
    Register {
        name: PersonName,
        email: EmailAddress,
        role: Role,
        endpoint: Option<Endpoint>,
        at: DateTime<Utc>,
    },
    /// Each `None` leaves the field unchanged; `endpoint: Some(None)` removes the endpoint.
    /// Idempotent: nothing changes, no event.
    UpdateProfile {
        name: Option<PersonName>,
        email: Option<EmailAddress>,
        endpoint: Option<Option<Endpoint>>,
        at: DateTime<Utc>,
    },
    /// The worker's own profile (name, avatar): `ProfileUpdated` for the name, `AvatarChanged`
    /// for the avatar. Each `None` leaves the field unchanged; `avatar_url: Some(None)` removes
    /// the avatar. Idempotent: nothing changes, no event.
    UpdateOwnProfile {
        name: Option<PersonName>,
        avatar_url: Option<Option<AvatarUrl>>,
        at: DateTime<Utc>,
    },
    /// `other_active_admins`: active admins other than this worker (looked up by the caller).
    /// Idempotent: the same role, no event.
    SetRole {
        role: Role,
        other_active_admins: u32,
        at: DateTime<Utc>,
    },
    /// `other_active_admins`: active admins other than this worker (looked up by the caller).
    Deactivate {
        other_active_admins: u32,
        at: DateTime<Utc>,
    },
    /// Idempotent when already Available.
    GoAvailable {
        forced_by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Idempotent when already paused for the same reason.
    Pause {
        reason: PauseReason,
        forced_by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Idempotent when already Offline.
    GoOffline {
        forced_by: Option<WorkerId>,
        at: DateTime<Utc>,
    },
    /// Reserves an Available worker for a call. Idempotent when this call is already offered.
    Offer { call_id: CallId, at: DateTime<Utc> },
    /// Idempotent when already on this call.
    AnswerOffer { call_id: CallId, at: DateTime<Utc> },
    MissOffer {
        call_id: CallId,
        reason: MissReason,
        at: DateTime<Utc>,
    },
    /// The caller left while the worker's phone rang: not the worker's fault.
    WithdrawOffer { call_id: CallId, at: DateTime<Utc> },
    EndCall {
        call_id: CallId,
        wrap_up_secs: u32,
        at: DateTime<Utc>,
    },
    /// Ends the wrap-up once its time is up. A no-op in any state but WrapUp (the timer may
    /// fire after the worker moved on).
    FinishWrapUp { at: DateTime<Utc> },
    /// The phone went unreachable: an Available worker is paused with `phone_unreachable`;
    /// a no-op in any other state.
    PhoneUnreachable { at: DateTime<Utc> },
    /// The worker's last login session ended: Offline (`LoggedOut`). Refused with `Busy` while
    /// the phone rings or a call is in progress (retry after the call); idempotent when
    /// already Offline.
    LogOut { at: DateTime<Utc> },
    /// An admin (`by`) resets the worker's password (the credentials are the api's; this
    /// records who did it and when). Refused for a deactivated worker.
    ResetPassword { by: WorkerId, at: DateTime<Utc> },
}
