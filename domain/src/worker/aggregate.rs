use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::command::{MissReason, WorkerCommand};
use super::error::WorkerError;
use super::event::WorkerEvent;
use crate::ids::CallId;
use crate::sla::add_secs_saturating;
use crate::values::{AvatarUrl, Change, EmailAddress, Endpoint, PauseReason, PersonName, Role};

/// Where a worker is in the call-handling cycle (PRODUCT §2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Presence {
    #[default]
    Offline,
    Available,
    Paused {
        reason: PauseReason,
    },
    /// The worker's phone rings for this call.
    Offered {
        call_id: CallId,
    },
    OnCall {
        call_id: CallId,
    },
    /// After a call, not offered calls until `until`.
    WrapUp {
        until: DateTime<Utc>,
    },
}

/// A presence without its details: what the read models store (`workers.state`,
/// `agent_state_intervals.activity`) and what KPIs count occupancy by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PresenceKind {
    Offline,
    Available,
    Paused,
    Offered,
    OnCall,
    WrapUp,
}

/// A stored presence keyword that is not one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown presence state {0:?}")]
pub struct UnknownPresence(pub String);

impl PresenceKind {
    pub const ALL: [PresenceKind; 6] = [
        Self::Offline,
        Self::Available,
        Self::Paused,
        Self::Offered,
        Self::OnCall,
        Self::WrapUp,
    ];

    /// The stored keyword: `offline | available | paused | offered | on_call | wrap_up`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Offline => "offline",
            Self::Available => "available",
            Self::Paused => "paused",
            Self::Offered => "offered",
            Self::OnCall => "on_call",
            Self::WrapUp => "wrap_up",
        }
    }
}

impl std::fmt::Display for PresenceKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl std::str::FromStr for PresenceKind {
    type Err = UnknownPresence;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| UnknownPresence(text.to_owned()))
    }
}

impl Presence {
    /// Which presence this is.
    pub fn kind(&self) -> PresenceKind {
        match self {
            Self::Offline => PresenceKind::Offline,
            Self::Available => PresenceKind::Available,
            Self::Paused { .. } => PresenceKind::Paused,
            Self::Offered { .. } => PresenceKind::Offered,
            Self::OnCall { .. } => PresenceKind::OnCall,
            Self::WrapUp { .. } => PresenceKind::WrapUp,
        }
    }

    /// The presence a worker event leads to (`None`: the event changes no presence): the one
    /// answer the aggregate, the `workers` read model and the KPIs' state intervals use.
    pub fn after(event: &WorkerEvent) -> Option<Presence> {
        Some(match event {
            WorkerEvent::Registered { .. }
            | WorkerEvent::Deactivated { .. }
            | WorkerEvent::WentOffline { .. }
            | WorkerEvent::LoggedOut { .. } => Presence::Offline,
            WorkerEvent::WentAvailable { .. }
            | WorkerEvent::OfferWithdrawn { .. }
            | WorkerEvent::WrapUpFinished { .. }
            | WorkerEvent::CallEnded {
                wrap_up_until: None,
                ..
            } => Presence::Available,
            WorkerEvent::Paused { reason, .. } => Presence::Paused {
                reason: reason.clone(),
            },
            WorkerEvent::OfferMissed { pause_reason, .. } => Presence::Paused {
                reason: pause_reason.clone(),
            },
            WorkerEvent::Offered { call_id, .. } => Presence::Offered { call_id: *call_id },
            WorkerEvent::OfferAnswered { call_id, .. } => Presence::OnCall { call_id: *call_id },
            WorkerEvent::CallEnded {
                wrap_up_until: Some(until),
                ..
            } => Presence::WrapUp { until: *until },
            WorkerEvent::ProfileUpdated { .. }
            | WorkerEvent::AvatarChanged { .. }
            | WorkerEvent::RoleChanged { .. }
            | WorkerEvent::PasswordReset { .. } => return None,
        })
    }

    /// The call the worker is ringing for or talking on.
    pub fn call_id(&self) -> Option<CallId> {
        match self {
            Self::Offered { call_id } | Self::OnCall { call_id } => Some(*call_id),
            _ => None,
        }
    }

    /// Whether the worker can take a call soon (Available, Offered, OnCall or WrapUp): routing
    /// rejects callers with `no_agents_logged_in` when no worker can (PRODUCT §4.2).
    pub fn can_take_calls_soon(&self) -> bool {
        matches!(
            self,
            Self::Available | Self::Offered { .. } | Self::OnCall { .. } | Self::WrapUp { .. }
        )
    }
}

/// Who the worker is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerProfile {
    pub name: PersonName,
    pub email: EmailAddress,
    pub role: Role,
    pub endpoint: Option<Endpoint>,
}

/// A worker (admin or agent). Deactivated, never deleted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    profile: Option<WorkerProfile>,
    active: bool,
    presence: Presence,
    idle_since: Option<DateTime<Utc>>,
    state_since: Option<DateTime<Utc>>,
    #[serde(default)]
    avatar_url: Option<AvatarUrl>,
}

impl Worker {
    /// The profile, once registered.
    pub fn profile(&self) -> Option<&WorkerProfile> {
        self.profile.as_ref()
    }

    pub fn is_registered(&self) -> bool {
        self.profile.is_some()
    }

    /// The role, once registered.
    pub fn role(&self) -> Option<Role> {
        self.profile.as_ref().map(|profile| profile.role)
    }

    /// Registered and not deactivated.
    pub fn is_active(&self) -> bool {
        self.active
    }

    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    /// The moment the worker last became Available (any cause): routing prefers the longest idle.
    pub fn idle_since(&self) -> Option<DateTime<Utc>> {
        self.idle_since
    }

    /// The avatar picture the worker chose, if any.
    pub fn avatar_url(&self) -> Option<&AvatarUrl> {
        self.avatar_url.as_ref()
    }

    /// The moment the current presence began.
    pub fn state_since(&self) -> Option<DateTime<Utc>> {
        self.state_since
    }

    /// Decides the events a command produces, without changing anything.
    fn decide(&self, command: WorkerCommand) -> Result<Vec<WorkerEvent>, WorkerError> {
        if let WorkerCommand::Register {
            name,
            email,
            role,
            endpoint,
            at,
        } = command
        {
            if self.profile.is_some() {
                return Err(WorkerError::AlreadyRegistered);
            }
            return Ok(vec![WorkerEvent::Registered {
                name,
                email,
                role,
                endpoint,
                at,
            }]);
        }
        let Some(profile) = &self.profile else {
            return Err(WorkerError::NotRegistered);
        };
        if !self.active {
            return Err(WorkerError::Deactivated);
        }
        let current_call = self.presence.call_id();
        let busy = current_call.is_some();
        let event = match command {
            WorkerCommand::Register { .. } => return Err(WorkerError::AlreadyRegistered),
            WorkerCommand::UpdateOwnProfile {
                name,
                avatar_url,
                at,
            } => {
                let mut events = Vec::new();
                if let Some(name) =
                    name.and_then(|name| Change::between(profile.name.clone(), name))
                {
                    events.push(WorkerEvent::ProfileUpdated {
                        name: Some(name),
                        email: None,
                        endpoint: None,
                        at,
                    });
                }
                if let Some(avatar_url) = avatar_url.filter(|wanted| *wanted != self.avatar_url) {
                    events.push(WorkerEvent::AvatarChanged { avatar_url, at });
                }
                return Ok(events);
            }
            WorkerCommand::UpdateProfile {
                name,
                email,
                endpoint,
                at,
            } => {
                let name = name.and_then(|name| Change::between(profile.name.clone(), name));
                let email = email.and_then(|email| Change::between(profile.email.clone(), email));
                let endpoint = endpoint
                    .and_then(|endpoint| Change::between(profile.endpoint.clone(), endpoint));
                if name.is_none() && email.is_none() && endpoint.is_none() {
                    return Ok(vec![]);
                }
                WorkerEvent::ProfileUpdated {
                    name,
                    email,
                    endpoint,
                    at,
                }
            }
            WorkerCommand::SetRole {
                role,
                other_active_admins,
                at,
            } => {
                if role == profile.role {
                    return Ok(vec![]);
                }
                if profile.role == Role::Admin && other_active_admins == 0 {
                    return Err(WorkerError::LastAdmin);
                }
                WorkerEvent::RoleChanged {
                    from: profile.role,
                    to: role,
                    at,
                }
            }
            WorkerCommand::Deactivate {
                other_active_admins,
                at,
            } => {
                if busy {
                    return Err(WorkerError::Busy);
                }
                if profile.role == Role::Admin && other_active_admins == 0 {
                    return Err(WorkerError::LastAdmin);
                }
                WorkerEvent::Deactivated { at }
            }
            WorkerCommand::GoAvailable { forced_by, at } => {
                if self.presence == Presence::Available {
                    return Ok(vec![]);
                }
                if busy {
                    return Err(WorkerError::Busy);
                }
                if profile.endpoint.is_none() {
                    return Err(WorkerError::NoEndpoint);
                }
                WorkerEvent::WentAvailable { forced_by, at }
            }
            WorkerCommand::Pause {
                reason,
                forced_by,
                at,
            } => {
                if matches!(&self.presence, Presence::Paused { reason: current } if *current == reason)
                {
                    return Ok(vec![]);
                }
                if busy {
                    return Err(WorkerError::Busy);
                }
                WorkerEvent::Paused {
                    reason,
                    forced_by,
                    at,
                }
            }
            WorkerCommand::GoOffline { forced_by, at } => {
                if self.presence == Presence::Offline {
                    return Ok(vec![]);
                }
                if busy {
                    return Err(WorkerError::Busy);
                }
                WorkerEvent::WentOffline { forced_by, at }
            }
            WorkerCommand::Offer { call_id, at } => match &self.presence {
                Presence::Offered { call_id: offered } if *offered == call_id => return Ok(vec![]),
                Presence::Available if profile.endpoint.is_none() => {
                    return Err(WorkerError::NoEndpoint)
                }
                Presence::Available => WorkerEvent::Offered { call_id, at },
                _ => return Err(WorkerError::AgentNotAvailable),
            },
            WorkerCommand::AnswerOffer { call_id, at } => match &self.presence {
                Presence::Offered { call_id: offered } if *offered == call_id => {
                    WorkerEvent::OfferAnswered { call_id, at }
                }
                Presence::OnCall { call_id: talking } if *talking == call_id => return Ok(vec![]),
                _ if busy => return Err(WorkerError::CallMismatch),
                _ => return Err(WorkerError::NoPendingOffer),
            },
            WorkerCommand::MissOffer {
                call_id,
                reason,
                at,
            } => {
                self.check_offered(call_id)?;
                let pause_reason = match reason {
                    MissReason::Unreachable => PauseReason::phone_unreachable(),
                    MissReason::Busy | MissReason::NoAnswer | MissReason::Rejected => {
                        PauseReason::missed_offer()
                    }
                };
                WorkerEvent::OfferMissed {
                    call_id,
                    reason,
                    pause_reason,
                    at,
                }
            }
            WorkerCommand::WithdrawOffer { call_id, at } => {
                self.check_offered(call_id)?;
                WorkerEvent::OfferWithdrawn { call_id, at }
            }
            WorkerCommand::EndCall {
                call_id,
                wrap_up_secs,
                at,
            } => match &self.presence {
                Presence::OnCall { call_id: talking } if *talking == call_id => {
                    let wrap_up_until =
                        (wrap_up_secs > 0).then(|| add_secs_saturating(at, wrap_up_secs.into()));
                    WorkerEvent::CallEnded {
                        call_id,
                        wrap_up_until,
                        at,
                    }
                }
                _ if current_call.is_some_and(|current| current != call_id) => {
                    return Err(WorkerError::CallMismatch)
                }
                _ => return Err(WorkerError::NotOnCall),
            },
            WorkerCommand::FinishWrapUp { at } => match &self.presence {
                Presence::WrapUp { until } if at >= *until => WorkerEvent::WrapUpFinished { at },
                Presence::WrapUp { .. } => return Err(WorkerError::WrapUpNotOver),
                _ => return Ok(vec![]),
            },
            WorkerCommand::PhoneUnreachable { at } => match &self.presence {
                Presence::Available => WorkerEvent::Paused {
                    reason: PauseReason::phone_unreachable(),
                    forced_by: None,
                    at,
                },
                _ => return Ok(vec![]),
            },
            WorkerCommand::LogOut { at } => {
                if self.presence == Presence::Offline {
                    return Ok(vec![]);
                }
                if busy {
                    return Err(WorkerError::Busy);
                }
                WorkerEvent::LoggedOut { at }
            }
            WorkerCommand::ResetPassword { by, at } => WorkerEvent::PasswordReset { by, at },
        };
        Ok(vec![event])
    }

    /// Checks that the worker's phone rings for `call_id`.
    fn check_offered(&self, call_id: CallId) -> Result<(), WorkerError> {
        match &self.presence {
            Presence::Offered { call_id: offered } if *offered == call_id => Ok(()),
            presence if presence.call_id().is_some_and(|current| current != call_id) => {
                Err(WorkerError::CallMismatch)
            }
            _ => Err(WorkerError::NoPendingOffer),
        }
    }

    fn enter(&mut self, presence: Presence, at: DateTime<Utc>) {
        if presence == Presence::Available {
            self.idle_since = Some(at);
        }
        self.presence = presence;
        self.state_since = Some(at);
    }
}

impl Aggregate for Worker {
    const TYPE: &'static str = "worker";
    type Command = WorkerCommand;
    type Event = WorkerEvent;
    type Error = WorkerError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        let presence = Presence::after(&event).map(|presence| (presence, event.at()));
        match event {
            WorkerEvent::Registered {
                name,
                email,
                role,
                endpoint,
                ..
            } => {
                self.profile = Some(WorkerProfile {
                    name,
                    email,
                    role,
                    endpoint,
                });
                self.active = true;
            }
            WorkerEvent::ProfileUpdated {
                name,
                email,
                endpoint,
                at: _,
            } => {
                if let Some(profile) = &mut self.profile {
                    if let Some(name) = name {
                        profile.name = name.to;
                    }
                    if let Some(email) = email {
                        profile.email = email.to;
                    }
                    if let Some(endpoint) = endpoint {
                        profile.endpoint = endpoint.to;
                    }
                }
            }
            WorkerEvent::AvatarChanged { avatar_url, .. } => self.avatar_url = avatar_url,
            WorkerEvent::RoleChanged { to, .. } => {
                if let Some(profile) = &mut self.profile {
                    profile.role = to;
                }
            }
            WorkerEvent::Deactivated { .. } => self.active = false,
            _ => {}
        }
        if let Some((presence, at)) = presence {
            self.enter(presence, at);
        }
    }
}
