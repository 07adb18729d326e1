use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, WorkerId};

/// What happened to a call. Names and fields are a stored contract (see the snapshots).
///
/// Every `Offered` is closed by exactly one later event: `Connected` (answered),
/// `OfferFailed`, or `Abandoned` / `Ended` naming it in `withdrawn_offer`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CallEvent {
    /// The call entered the queue.
    Queued {
        caller_number: String,
        caller_name: Option<String>,
        customer_id: Option<CustomerId>,
        channel_id: String,
        queue: String,
        at: DateTime<Utc>,
    },
    /// An agent's phone started ringing for the call (`attempt` counts from 1).
    Offered {
        attempt: u32,
        agent: WorkerId,
        agent_channel_id: String,
        at: DateTime<Utc>,
    },
    /// The agent answered offer `attempt`. Queue wait = `at - queued_at`.
    Connected {
        attempt: u32,
        agent: WorkerId,
        queued_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// Offer `attempt` failed; the call is waiting again, keeping its `queued_at`.
    OfferFailed {
        attempt: u32,
        agent: WorkerId,
        outcome: OfferFailure,
        at: DateTime<Utc>,
    },
    /// The caller left before being connected. Wait = `at - queued_at`.
    Abandoned {
        during: AbandonedDuring,
        /// The offer that was ringing, now ended as withdrawn.
        withdrawn_offer: Option<OfferRef>,
        queued_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The call was refused while waiting. Wait = `at - queued_at`.
    Rejected {
        reason: RejectReason,
        queued_at: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    /// The call ended. Talk time = `at - connected_at` when it was connected; otherwise (only
    /// `by: System`) the wait ran to `at`.
    Ended {
        by: EndedBy,
        /// Why the system ended it (`by: System` only).
        reason: Option<String>,
        /// The connected agent, if the call was connected.
        agent: Option<WorkerId>,
        /// The offer that was ringing, now ended as withdrawn (`by: System` only).
        withdrawn_offer: Option<OfferRef>,
        queued_at: DateTime<Utc>,
        connected_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    },
    /// The call now belongs to this customer.
    CustomerLinked {
        customer_id: CustomerId,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for CallEvent {
    fn event_type(&self) -> String {
        let name = match self {
            Self::Queued { .. } => "CallQueued",
            Self::Offered { .. } => "CallOffered",
            Self::Connected { .. } => "CallConnected",
            Self::OfferFailed { .. } => "CallOfferFailed",
            Self::Abandoned { .. } => "CallAbandoned",
            Self::Rejected { .. } => "CallRejected",
            Self::Ended { .. } => "CallEnded",
            Self::CustomerLinked { .. } => "CallCustomerLinked",
        };
        name.to_string()
    }

    /// Version 2 of `Queued`: the caller's number and name are stored sealed with the call's
    /// key (the journal's `shred`); the shape the domain sees is version 1's.
    fn event_version(&self) -> String {
        match self {
            Self::Queued { .. } => "2",
            _ => "1",
        }
        .to_string()
    }
}

/// Why an offer did not connect, as reported by telephony or the routing timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferFailure {
    /// Nobody answered within the offer timeout.
    NoAnswer,
    Busy,
    /// The agent declined.
    Rejected,
    /// The agent's phone could not be reached.
    Unreachable,
    /// The system could not ring the phone (Asterisk refused to dial the leg, or the leg never
    /// entered our Stasis application): not the agent's doing, so the agent is not paused.
    SystemFailure,
}

/// How an offer attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfferOutcome {
    Answered,
    NoAnswer,
    Busy,
    Rejected,
    Unreachable,
    /// The system could not ring the agent's phone (see [`OfferFailure::SystemFailure`]).
    SystemFailure,
    /// The call went away while the agent's phone rang (the caller left, or the system ended
    /// the call).
    Withdrawn,
}

impl From<OfferFailure> for OfferOutcome {
    fn from(failure: OfferFailure) -> Self {
        match failure {
            OfferFailure::NoAnswer => Self::NoAnswer,
            OfferFailure::Busy => Self::Busy,
            OfferFailure::Rejected => Self::Rejected,
            OfferFailure::Unreachable => Self::Unreachable,
            OfferFailure::SystemFailure => Self::SystemFailure,
        }
    }
}

/// Where the caller was when they left.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbandonedDuring {
    Queued,
    /// An agent's phone was ringing.
    Ringing,
}

/// Who ended a connected call (or `System` for any call closed by reconciliation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndedBy {
    Caller,
    Agent,
    System,
}

/// Why a waiting call was refused (PRODUCT §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    NoAgentsLoggedIn,
    QueueFull,
    MaxWaitExceeded,
}

/// Names one offer attempt of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferRef {
    pub attempt: u32,
    pub agent: WorkerId,
}
