//! Workers: `worker(id)`, `registerWorker`, `updateWorker`, `updateMyProfile`, `setWorkerRole`,
//! `deactivateWorker`, `setAvailability`.

use async_graphql::{
    ComplexObject, Context, Enum, InputObject, MaybeUndefined, Object, SimpleObject, ID,
};
use chrono::{DateTime, Utc};
use domain::ids::WorkerId;
use domain::values::{AvatarUrl, EmailAddress, Endpoint, PauseReason, PersonName, Role};
use domain::worker::{Presence, PresenceKind, Worker, WorkerCommand};
use journal::Committed;
use projections::readmodels::workers::{self as worker_model, WorkerRow};

use super::common::{read_error, wait_for_aggregate};
use super::context::{
    execute_as, metadata, parse_id, request, require_admin, require_worker, state,
};
use super::error::ApiError;
use crate::auth::accounts::{email_key, register_worker, NewWorker};
use crate::auth::password::Password;
use crate::auth::sessions;
use crate::claims::{self, with_claims, ClaimKind};
use crate::transport::state::AppState;

/// What a worker may do.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "Role")]
pub enum RoleValue {
    Admin,
    Agent,
}

impl From<RoleValue> for Role {
    fn from(role: RoleValue) -> Self {
        match role {
            RoleValue::Admin => Role::Admin,
            RoleValue::Agent => Role::Agent,
        }
    }
}

impl From<Role> for RoleValue {
    fn from(role: Role) -> Self {
        match role {
            Role::Admin => RoleValue::Admin,
            Role::Agent => RoleValue::Agent,
        }
    }
}

/// Where a worker is in the call-handling cycle.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresenceState {
    Offline,
    Available,
    Paused,
    Offered,
    OnCall,
    WrapUp,
}

impl From<PresenceKind> for PresenceState {
    fn from(kind: PresenceKind) -> Self {
        match kind {
            PresenceKind::Offline => Self::Offline,
            PresenceKind::Available => Self::Available,
            PresenceKind::Paused => Self::Paused,
            PresenceKind::Offered => Self::Offered,
            PresenceKind::OnCall => Self::OnCall,
            PresenceKind::WrapUp => Self::WrapUp,
        }
    }
}

impl From<PresenceState> for PresenceKind {
    fn from(state: PresenceState) -> Self {
        match state {
            PresenceState::Offline => Self::Offline,
            PresenceState::Available => Self::Available,
            PresenceState::Paused => Self::Paused,
            PresenceState::Offered => Self::Offered,
            PresenceState::OnCall => Self::OnCall,
            PresenceState::WrapUp => Self::WrapUp,
        }
    }
}

impl PresenceState {
    /// The state a read model stores as `text` (an unknown keyword reads as offline).
    pub fn from_stored(text: &str) -> Self {
        text.parse::<PresenceKind>()
            .map_or(Self::Offline, Self::from)
    }

    /// The keyword the read models store.
    pub fn as_stored(self) -> &'static str {
        PresenceKind::from(self).as_str()
    }
}

/// A worker's presence.
#[derive(SimpleObject, Clone, Debug)]
pub struct WorkerPresence {
    pub state: PresenceState,
    /// Why paused.
    pub reason: Option<String>,
    /// The call ringing or in progress.
    pub call_id: Option<ID>,
    /// When the wrap-up ends.
    pub wrap_up_until: Option<DateTime<Utc>>,
    /// Since when the worker is in this state.
    pub since: Option<DateTime<Utc>>,
}

/// A worker (admin or agent). Every worker sees every worker's name, role and presence;
/// contact details (`email`, `endpoint`) are `null` unless the caller is an admin or that
/// worker: the same in `workers`, `worker(id)` and everywhere a worker appears.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Worker", complex)]
pub struct WorkerView {
    pub id: ID,
    /// The aggregate's version, for `expectedVersion`.
    pub version: i64,
    pub name: String,
    #[graphql(skip)]
    pub email: String,
    pub role: RoleValue,
    #[graphql(skip)]
    pub endpoint: Option<String>,
    /// The avatar picture the worker chose (`updateMyProfile`): an https URL (http only for
    /// localhost); `null`: none.
    pub avatar_url: Option<String>,
    pub active: bool,
    pub presence: WorkerPresence,
    /// When the worker last became Available.
    pub idle_since: Option<DateTime<Utc>>,
    /// Shown to the worker themself whoever the request's caller is (login and refresh answer
    /// an anonymous request with the worker who just logged in).
    #[graphql(skip)]
    pub shown_to_self: bool,
}

#[ComplexObject]
impl WorkerView {
    /// The worker's email: `null` unless the caller is an admin or this worker.
    async fn email(&self, context: &Context<'_>) -> Option<&str> {
        self.contact_visible(context).then_some(self.email.as_str())
    }

    /// `PJSIP/2001` style: `null` when the worker has none, or unless the caller is an admin
    /// or this worker.
    async fn endpoint(&self, context: &Context<'_>) -> Option<&str> {
        self.endpoint
            .as_deref()
            .filter(|_| self.contact_visible(context))
    }
}

impl WorkerView {
    /// Whether the caller may see this worker's contact details.
    fn contact_visible(&self, context: &Context<'_>) -> bool {
        if self.shown_to_self {
            return true;
        }
        match request(context).caller {
            crate::auth::Caller::Worker { id, role, .. } => {
                role == Role::Admin || id.0.to_string() == self.id.as_str()
            }
            _ => false,
        }
    }
}

impl WorkerView {
    pub fn from_aggregate(id: WorkerId, version: i64, worker: &Worker) -> Option<Self> {
        let profile = worker.profile()?;
        let (state, reason, call_id, wrap_up_until) = match worker.presence() {
            Presence::Offline => (PresenceState::Offline, None, None, None),
            Presence::Available => (PresenceState::Available, None, None, None),
            Presence::Paused { reason } => {
                (PresenceState::Paused, Some(reason.to_string()), None, None)
            }
            Presence::Offered { call_id } => (
                PresenceState::Offered,
                None,
                Some(ID(call_id.to_string())),
                None,
            ),
            Presence::OnCall { call_id } => (
                PresenceState::OnCall,
                None,
                Some(ID(call_id.to_string())),
                None,
            ),
            Presence::WrapUp { until } => (PresenceState::WrapUp, None, None, Some(*until)),
        };
        Some(Self {
            id: ID(id.to_string()),
            version,
            name: profile.name.to_string(),
            email: profile.email.to_string(),
            role: profile.role.into(),
            endpoint: profile.endpoint.as_ref().map(ToString::to_string),
            avatar_url: worker.avatar_url().map(ToString::to_string),
            active: worker.is_active(),
            presence: WorkerPresence {
                state,
                reason,
                call_id,
                wrap_up_until,
                since: worker.state_since(),
            },
            idle_since: worker.idle_since(),
            shown_to_self: false,
        })
    }

    fn from_committed(id: WorkerId, committed: &Committed<Worker>) -> Result<Self, ApiError> {
        Self::from_aggregate(id, committed.version, &committed.aggregate)
            .ok_or(ApiError::NotFound("worker"))
    }

    /// A row of the `workers` read model.
    pub fn from_row(row: WorkerRow) -> Self {
        let id_of = |uuid: uuid::Uuid| ID(uuid.to_string());
        Self {
            id: id_of(row.worker_id),
            version: row.version,
            name: row.name,
            email: row.email,
            role: Role::parse(&row.role)
                .map(RoleValue::from)
                .unwrap_or(RoleValue::Agent),
            endpoint: row.endpoint,
            avatar_url: row.avatar_url,
            active: row.active,
            presence: WorkerPresence {
                state: PresenceState::from_stored(&row.state),
                reason: row.pause_reason,
                call_id: row.call_id.map(id_of),
                wrap_up_until: row.wrap_up_until,
                since: Some(row.state_since),
            },
            idle_since: row.idle_since,
            shown_to_self: false,
        }
    }
}

/// The worker `id` as `worker(id)` shows them, from the `workers` read model once it holds
/// every event of that worker (read-your-writes); `None` when there is none.
pub async fn read_worker(state: &AppState, id: WorkerId) -> Result<Option<WorkerView>, ApiError> {
    wait_for_aggregate(state, "workers", "worker", id).await?;
    Ok(worker_model::get(&state.pool, id.as_uuid())
        .await
        .map_err(read_error)?
        .map(WorkerView::from_row))
}

/// Loads a worker from the log.
pub async fn load_worker(context: &Context<'_>, id: WorkerId) -> Result<(Worker, i64), ApiError> {
    let (worker, version) = state(context)?
        .store
        .load_aggregate::<Worker>(&id.to_string())
        .await?;
    if !worker.is_registered() {
        return Err(ApiError::NotFound("worker"));
    }
    Ok((worker, version))
}

/// A worker as shown to that worker themself (`login`, `refreshSession`, `me`): contact details
/// included.
pub async fn worker_view(context: &Context<'_>, id: WorkerId) -> Result<WorkerView, ApiError> {
    let mut view = read_worker(state(context)?, id)
        .await?
        .ok_or(ApiError::NotFound("worker"))?;
    view.shown_to_self = true;
    Ok(view)
}

#[derive(Default)]
pub struct WorkerQuery;

#[Object]
impl WorkerQuery {
    /// A worker (any worker): as in `workers`, contact details are `null` unless the caller
    /// is an admin or that worker.
    async fn worker(&self, context: &Context<'_>, id: ID) -> Result<WorkerView, ApiError> {
        require_worker(context)?;
        let id: WorkerId = parse_id(&id, "id")?;
        read_worker(state(context)?, id)
            .await?
            .ok_or(ApiError::NotFound("worker"))
    }
}

#[derive(InputObject)]
pub struct RegisterWorkerInput {
    pub name: String,
    pub email: String,
    pub role: RoleValue,
    /// `PJSIP/2001` style; unique among active workers.
    pub endpoint: Option<String>,
    /// The initial password (10 to 128 printable characters).
    pub password: String,
}

#[derive(InputObject)]
pub struct UpdateWorkerInput {
    pub name: Option<String>,
    pub email: Option<String>,
    pub endpoint: Option<String>,
    /// Removes the endpoint (`endpoint` must then be absent).
    #[graphql(default)]
    pub clear_endpoint: bool,
}

/// What a worker may change about themself (`updateMyProfile`): each absent field is left
/// unchanged.
#[derive(InputObject)]
pub struct UpdateMyProfileInput {
    pub name: Option<String>,
    /// An https URL (http only for localhost), at most 2000 characters; `null` removes the
    /// avatar.
    pub avatar_url: MaybeUndefined<String>,
}

/// The presence a worker asks for.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AvailabilityState {
    Available,
    Paused,
    Offline,
}

fn parse_endpoint(text: &str) -> Result<Endpoint, ApiError> {
    Endpoint::parse(text).map_err(|error| ApiError::from(error).for_field("endpoint"))
}

/// A password reset: the temporary password, shown once.
#[derive(SimpleObject)]
pub struct PasswordResetView {
    pub worker: WorkerView,
    /// Give it to the worker; they should change it (`changePassword`).
    pub temporary_password: String,
}

#[derive(Default)]
pub struct WorkerMutation;

#[Object]
impl WorkerMutation {
    /// Registers a worker who can log in with the given password (admin).
    async fn register_worker(
        &self,
        context: &Context<'_>,
        input: RegisterWorkerInput,
    ) -> Result<WorkerView, ApiError> {
        let me = require_admin(context)?;
        let new = NewWorker {
            name: PersonName::parse(&input.name)?,
            email: EmailAddress::parse(&input.email)?,
            role: input.role.into(),
            endpoint: input.endpoint.as_deref().map(parse_endpoint).transpose()?,
            password: Password::parse(&input.password)
                .map_err(|rule| ApiError::validation("password", rule.message()))?,
        };
        let state = state(context)?;
        let (id, committed) =
            register_worker(&state.pool, &state.store, new, &metadata(context, &me)).await?;
        WorkerView::from_committed(id, &committed)
    }

    /// Changes a worker's name, email or endpoint (admin).
    async fn update_worker(
        &self,
        context: &Context<'_>,
        id: ID,
        input: UpdateWorkerInput,
        expected_version: Option<i64>,
    ) -> Result<WorkerView, ApiError> {
        let me = require_admin(context)?;
        let id: WorkerId = parse_id(&id, "id")?;
        let name = input.name.as_deref().map(PersonName::parse).transpose()?;
        let email = input
            .email
            .as_deref()
            .map(EmailAddress::parse)
            .transpose()?;
        let endpoint = match (input.endpoint.as_deref(), input.clear_endpoint) {
            (Some(_), true) => {
                return Err(ApiError::validation(
                    "clearEndpoint",
                    "cannot be combined with endpoint",
                ))
            }
            (Some(text), false) => Some(Some(parse_endpoint(text)?)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let state = state(context)?;
        let (before, _) = load_worker(context, id).await?;
        let profile = before.profile().ok_or(ApiError::NotFound("worker"))?;
        let old_email_key = email_key(&profile.email);
        let old_endpoint = profile.endpoint.clone();
        let owner = id.to_string();
        let mut wanted = Vec::new();
        if let Some(email) = &email {
            wanted.push((ClaimKind::WorkerEmail, email_key(email)));
        }
        if let Some(Some(endpoint)) = &endpoint {
            wanted.push((ClaimKind::WorkerEndpoint, endpoint.to_string()));
        }
        let new_email_key = email.as_ref().map(email_key);
        let new_endpoint = endpoint.clone();
        let command = WorkerCommand::UpdateProfile {
            name,
            email,
            endpoint,
            at: crate::platform::clock::now(),
        };
        let metadata = metadata(context, &me);
        let committed = with_claims::<_, ApiError, _>(&state.pool, &owner, &wanted, async {
            Ok(state
                .store
                .execute::<Worker>(&owner, command, &(), &metadata, expected_version)
                .await?)
        })
        .await?;
        if let Some(key) = new_email_key.filter(|key| *key != old_email_key) {
            sessions::set_email(&state.pool, id, &key).await?;
            claims::release(&state.pool, ClaimKind::WorkerEmail, &owner, &old_email_key).await?;
        }
        if let (Some(new), Some(old)) = (new_endpoint, old_endpoint) {
            if new.as_ref() != Some(&old) {
                claims::release(&state.pool, ClaimKind::WorkerEndpoint, &owner, old.as_str())
                    .await?;
            }
        }
        WorkerView::from_committed(id, &committed)
    }

    /// Changes one's own name and avatar (any logged-in worker, on themself only; role, email,
    /// endpoint and active stay with the admins' `updateWorker`, `setWorkerRole`,
    /// `deactivateWorker`). Nothing to change: no event, the same version.
    async fn update_my_profile(
        &self,
        context: &Context<'_>,
        input: UpdateMyProfileInput,
        expected_version: Option<i64>,
    ) -> Result<WorkerView, ApiError> {
        let me = require_worker(context)?;
        let name = input.name.as_deref().map(PersonName::parse).transpose()?;
        let avatar_url = match input.avatar_url {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(text) => Some(Some(AvatarUrl::parse(&text)?)),
        };
        let command = WorkerCommand::UpdateOwnProfile {
            name,
            avatar_url,
            at: crate::platform::clock::now(),
        };
        let committed =
            execute_as::<Worker>(context, &me, me.id, command, expected_version).await?;
        let mut view = WorkerView::from_committed(me.id, &committed)?;
        view.shown_to_self = true;
        Ok(view)
    }

    /// Makes a worker an admin or an agent (admin). The last active admin cannot be demoted.
    async fn set_worker_role(
        &self,
        context: &Context<'_>,
        id: ID,
        role: RoleValue,
        expected_version: Option<i64>,
    ) -> Result<WorkerView, ApiError> {
        let me = require_admin(context)?;
        let id: WorkerId = parse_id(&id, "id")?;
        let state = state(context)?;
        let _serialised = state.auth.admin_changes.lock().await;
        let other_active_admins = sessions::other_active_admins(&state.pool, id).await?;
        let command = WorkerCommand::SetRole {
            role: role.into(),
            other_active_admins,
            at: crate::platform::clock::now(),
        };
        let committed = execute_as::<Worker>(context, &me, id, command, expected_version).await?;
        sessions::set_role(&state.pool, id, role.into()).await?;
        WorkerView::from_committed(id, &committed)
    }

    /// Deactivates a worker (admin): they can no longer log in, their tokens stop working and
    /// their endpoint is freed. The last active admin cannot be deactivated.
    async fn deactivate_worker(
        &self,
        context: &Context<'_>,
        id: ID,
        expected_version: Option<i64>,
    ) -> Result<WorkerView, ApiError> {
        let me = require_admin(context)?;
        let id: WorkerId = parse_id(&id, "id")?;
        let state = state(context)?;
        let _serialised = state.auth.admin_changes.lock().await;
        let other_active_admins = sessions::other_active_admins(&state.pool, id).await?;
        let command = WorkerCommand::Deactivate {
            other_active_admins,
            at: crate::platform::clock::now(),
        };
        let committed = execute_as::<Worker>(context, &me, id, command, expected_version).await?;
        sessions::deactivate(&state.pool, id).await?;
        if let Some(endpoint) = committed
            .aggregate
            .profile()
            .and_then(|profile| profile.endpoint.as_ref())
        {
            claims::release(
                &state.pool,
                ClaimKind::WorkerEndpoint,
                &id.to_string(),
                endpoint.as_str(),
            )
            .await?;
        }
        WorkerView::from_committed(id, &committed)
    }

    /// Resets a worker's password (admin): the answer carries a temporary password, shown this
    /// once (never stored or logged in clear; give it to the worker, who changes it with
    /// `changePassword`). Every session of the worker ends. The audit records
    /// `WorkerPasswordReset` with the admin, never the password.
    async fn reset_worker_password(
        &self,
        context: &Context<'_>,
        id: ID,
    ) -> Result<PasswordResetView, ApiError> {
        let me = require_admin(context)?;
        let id: WorkerId = parse_id(&id, "id")?;
        let state = state(context)?;
        let command = WorkerCommand::ResetPassword {
            by: me.id,
            at: crate::platform::clock::now(),
        };
        let committed = state
            .store
            .execute::<Worker>(&id.to_string(), command, &(), &metadata(context, &me), None)
            .await?;
        let temporary_password = sessions::reset_password(&state.pool, id)
            .await?
            .ok_or(ApiError::NotFound("worker"))?;
        Ok(PasswordResetView {
            worker: WorkerView::from_committed(id, &committed)?,
            temporary_password,
        })
    }

    /// Goes Available, Paused (with a reason) or Offline: one's own presence, or anyone's for
    /// an admin (`workerId`).
    async fn set_availability(
        &self,
        context: &Context<'_>,
        #[graphql(name = "state")] state_wanted: AvailabilityState,
        reason: Option<String>,
        worker_id: Option<ID>,
        expected_version: Option<i64>,
    ) -> Result<WorkerView, ApiError> {
        let me = require_worker(context)?;
        let target: WorkerId = match &worker_id {
            Some(id) => parse_id(id, "workerId")?,
            None => me.id,
        };
        if target != me.id && !me.is_admin() {
            return Err(ApiError::Forbidden);
        }
        let forced_by = (target != me.id).then_some(me.id);
        let at = crate::platform::clock::now();
        let command = match state_wanted {
            AvailabilityState::Available => WorkerCommand::GoAvailable { forced_by, at },
            AvailabilityState::Offline => WorkerCommand::GoOffline { forced_by, at },
            AvailabilityState::Paused => {
                let reason = reason
                    .as_deref()
                    .ok_or_else(|| ApiError::validation("reason", "is required to pause"))?;
                WorkerCommand::Pause {
                    reason: PauseReason::parse(reason)?,
                    forced_by,
                    at,
                }
            }
        };
        let committed =
            execute_as::<Worker>(context, &me, target, command, expected_version).await?;
        WorkerView::from_committed(target, &committed)
    }
}
