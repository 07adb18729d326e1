use chrono::{DateTime, Utc};

use crate::ids::{CustomerId, WorkerId};

use super::event::{OfferFailure, RejectReason};

/// What can be asked of a call. Time comes in `at`; facts from outside (the matching customer,
/// the chosen agent) are decided by the caller.
#[derive(Clone, Debug, PartialEq)]
pub enum CallCommand {
    /// Put a call Asterisk just handed over into the queue. Only on a new call. Idempotent: a
    /// repeat on the same call with the same `channel_id` emits nothing.
    Queue {
        /// The caller's number exactly as Asterisk gave it.
        caller_number: String,
        /// The caller id name, when Asterisk has one.
        caller_name: Option<String>,
        /// The customer whose phone number matches, looked up by the caller.
        customer_id: Option<CustomerId>,
        /// The caller's telephony channel id (opaque text).
        channel_id: String,
        /// The queue's name (`"default"`).
        queue: String,
        at: DateTime<Utc>,
    },
    /// Ring `agent` for this call. Only when the call is `Queued`; the aggregate numbers the
    /// attempt. Idempotent: a repeat to the same agent on the same agent channel emits nothing.
    Offer {
        agent: WorkerId,
        agent_channel_id: String,
        at: DateTime<Utc>,
    },
    /// The offered agent answered: the call is `Connected`. Only when offered to that agent.
    /// Idempotent: a repeat by the connected agent emits nothing.
    AnswerOffer { agent: WorkerId, at: DateTime<Utc> },
    /// The offer to `agent` failed: the call goes back to `Queued`, keeping its `queued_at`.
    /// Idempotent: a repeat with the same outcome for that agent's latest offer emits nothing.
    FailOffer {
        agent: WorkerId,
        outcome: OfferFailure,
        at: DateTime<Utc>,
    },
    /// The caller hung up: `Abandoned` while queued or ringing, `Ended { by: Caller }` when
    /// connected. Idempotent: a repeat after the caller left emits nothing.
    CallerHangUp { at: DateTime<Utc> },
    /// The connected agent hung up (also from the API): `Ended { by: Agent }`. Only that agent
    /// may. Idempotent: a repeat by the same agent emits nothing.
    AgentHangUp { agent: WorkerId, at: DateTime<Utc> },
    /// The system closes the call whatever its live state (restart reconciliation: Asterisk no
    /// longer has the channel): `Ended { by: System }`, also for a call that was never
    /// connected (its wait then runs to `at`, and a ringing offer is withdrawn). Idempotent: a
    /// repeat, whatever its reason text, emits nothing.
    EndBySystem { reason: String, at: DateTime<Utc> },
    /// Refuse a waiting call. Only when `Queued`. Idempotent: a repeat with the same reason
    /// emits nothing.
    Reject {
        reason: RejectReason,
        at: DateTime<Utc>,
    },
    /// Link the call to a customer registered after it arrived. Allowed in any state, also
    /// after the call ended. Idempotent: emits nothing when already linked to that customer.
    LinkCustomer {
        customer_id: CustomerId,
        at: DateTime<Utc>,
    },
}
