//! Calls: `call(id)` (admins: any; agents: calls offered to or taken by them) and
//! `hangUpCall(callId)` (only the connected agent; telephony reacts to the committed event).
//! A `Call` shows its outcome, who ended it, its offer history and its customer, the same
//! whether made from the committed events (`hangUpCall`, the `callUpdates` subscription) or
//! read from the `calls` read model (`call`, `calls`).

use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::call::{
    AbandonedDuring, Call, CallCommand, CallState, EndedBy, OfferOutcome, RejectReason,
};
use domain::ids::{CallId, CustomerId, WorkerId};
use projections::readmodels::calls::{self as call_model, CallOfferRow, CallRow};
use uuid::Uuid;

use super::common::{read_error, wait_for_aggregate};
use super::context::{execute_as, parse_id, require_worker, state, Me};
use super::customers::{read_customer, CustomerView};
use super::error::ApiError;
use super::workers::{read_worker, WorkerView};

/// Where a call is in its lifecycle.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "CallState")]
pub enum CallStateValue {
    Queued,
    Offered,
    Connected,
    Ended,
    Abandoned,
    Rejected,
}

/// How a call ended (`null` while it is live).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "CallOutcome")]
pub enum CallOutcomeValue {
    /// Connected to an agent, then ended.
    Answered,
    /// The caller hung up while waiting in the queue.
    AbandonedQueued,
    /// The caller hung up while an agent's phone rang.
    AbandonedRinging,
    /// Refused by the queue (see `rejectReason`).
    Rejected,
    /// Ended by the system before any agent answered.
    EndedUnanswered,
}

/// Who ended a call that reached `ENDED`.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "CallEndedBy")]
pub enum CallEndedByValue {
    Caller,
    Agent,
    System,
}

/// Why the queue refused a call (PRODUCT §4.2).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "CallRejectReason")]
pub enum CallRejectReasonValue {
    NoAgentsLoggedIn,
    QueueFull,
    MaxWaitExceeded,
}

/// How one offer of a call ended (`null` while the agent's phone rings).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "OfferOutcome")]
pub enum OfferOutcomeValue {
    Answered,
    NoAnswer,
    Busy,
    /// The agent declined.
    Rejected,
    Unreachable,
    /// The system could not ring the agent's phone.
    SystemFailure,
    /// The call went away while the phone rang.
    Withdrawn,
}

impl From<OfferOutcome> for OfferOutcomeValue {
    fn from(value: OfferOutcome) -> Self {
        match value {
            OfferOutcome::Answered => Self::Answered,
            OfferOutcome::NoAnswer => Self::NoAnswer,
            OfferOutcome::Busy => Self::Busy,
            OfferOutcome::Rejected => Self::Rejected,
            OfferOutcome::Unreachable => Self::Unreachable,
            OfferOutcome::SystemFailure => Self::SystemFailure,
            OfferOutcome::Withdrawn => Self::Withdrawn,
        }
    }
}

impl From<RejectReason> for CallRejectReasonValue {
    fn from(value: RejectReason) -> Self {
        match value {
            RejectReason::NoAgentsLoggedIn => Self::NoAgentsLoggedIn,
            RejectReason::QueueFull => Self::QueueFull,
            RejectReason::MaxWaitExceeded => Self::MaxWaitExceeded,
        }
    }
}

impl From<EndedBy> for CallEndedByValue {
    fn from(value: EndedBy) -> Self {
        match value {
            EndedBy::Caller => Self::Caller,
            EndedBy::Agent => Self::Agent,
            EndedBy::System => Self::System,
        }
    }
}

/// The `calls.outcome` values an outcome filter reads (index `calls_outcome`).
pub fn outcome_keywords(outcome: CallOutcomeValue) -> &'static [&'static str] {
    match outcome {
        CallOutcomeValue::Answered => &["answered"],
        CallOutcomeValue::AbandonedQueued => &["abandoned_queued"],
        CallOutcomeValue::AbandonedRinging => &["abandoned_ringing"],
        CallOutcomeValue::Rejected => &[
            "rejected_no_agents_logged_in",
            "rejected_queue_full",
            "rejected_max_wait_exceeded",
        ],
        CallOutcomeValue::EndedUnanswered => &["ended_unanswered"],
    }
}

/// One offer of a call to an agent.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "CallOffer", complex)]
pub struct CallOfferView {
    /// 1 for the first offer.
    pub attempt: i32,
    pub agent_id: ID,
    pub offered_at: DateTime<Utc>,
    /// `null` while ringing.
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<OfferOutcomeValue>,
}

#[ComplexObject]
impl CallOfferView {
    /// The agent offered (email and endpoint `null` unless the caller is an admin or them).
    async fn agent(&self, context: &Context<'_>) -> Result<Option<WorkerView>, ApiError> {
        worker_object(context, Some(&self.agent_id)).await
    }
}

impl CallOfferView {
    fn from_row(row: CallOfferRow) -> Self {
        let outcome = row.outcome.as_deref().and_then(|text| {
            Some(match text {
                "answered" => OfferOutcomeValue::Answered,
                "no_answer" => OfferOutcomeValue::NoAnswer,
                "busy" => OfferOutcomeValue::Busy,
                "rejected" => OfferOutcomeValue::Rejected,
                "unreachable" => OfferOutcomeValue::Unreachable,
                "system_failure" => OfferOutcomeValue::SystemFailure,
                "withdrawn" => OfferOutcomeValue::Withdrawn,
                _ => return None,
            })
        });
        Self {
            attempt: row.attempt,
            agent_id: ID(row.agent_id.to_string()),
            offered_at: row.offered_at,
            ended_at: row.ended_at,
            outcome,
        }
    }
}

/// The worker `id` as `worker(id)` shows them (contact details for admins and themself only);
/// `null` when there is none.
pub async fn worker_object(
    context: &Context<'_>,
    id: Option<&ID>,
) -> Result<Option<WorkerView>, ApiError> {
    require_worker(context)?;
    let Some(id) = id else { return Ok(None) };
    let id: WorkerId = parse_id(id, "id")?;
    read_worker(state(context)?, id).await
}

/// The customer `id` as `customer(id)` shows them; `null` when there is none.
pub async fn customer_object(
    context: &Context<'_>,
    id: Option<&ID>,
) -> Result<Option<CustomerView>, ApiError> {
    require_worker(context)?;
    let Some(id) = id else { return Ok(None) };
    let id: CustomerId = parse_id(id, "customerId")?;
    read_customer(state(context)?, id).await
}

/// One inbound call.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Call", complex)]
pub struct CallView {
    pub id: ID,
    pub version: i64,
    pub state: CallStateValue,
    /// The agent offered, connected, or who took the call.
    pub agent_id: Option<ID>,
    pub caller_number: String,
    pub caller_name: Option<String>,
    pub customer_id: Option<ID>,
    pub queued_at: Option<DateTime<Utc>>,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// How many offers were made.
    pub attempts: i32,
    pub wait_secs: Option<i64>,
    pub talk_secs: Option<i64>,
    /// How it ended; `null` while live.
    pub outcome: Option<CallOutcomeValue>,
    /// Who ended it (`ENDED` calls only).
    pub ended_by: Option<CallEndedByValue>,
    /// Why the queue refused it (`REJECTED` calls only).
    pub reject_reason: Option<CallRejectReasonValue>,
    /// Why the system ended it (`endedBy: SYSTEM` only), e.g. after a restart.
    pub end_reason: Option<String>,
    /// The offers when read from the log (else read from `call_offers` when asked).
    #[graphql(skip)]
    pub offer_list: Option<Vec<CallOfferView>>,
}

#[ComplexObject]
impl CallView {
    /// The customer the call belongs to, as `customer(id)` shows them.
    async fn customer(&self, context: &Context<'_>) -> Result<Option<CustomerView>, ApiError> {
        customer_object(context, self.customer_id.as_ref()).await
    }

    /// Every offer of the call to an agent, in attempt order.
    async fn offers(&self, context: &Context<'_>) -> Result<Vec<CallOfferView>, ApiError> {
        require_worker(context)?;
        if let Some(offers) = &self.offer_list {
            return Ok(offers.clone());
        }
        let id: Uuid = parse_id(&self.id, "id")?;
        let rows = call_model::offers(&state(context)?.pool, id)
            .await
            .map_err(read_error)?;
        Ok(rows.into_iter().map(CallOfferView::from_row).collect())
    }
}

/// The `CallState` of a `calls.status` value.
pub fn call_state(text: &str) -> CallStateValue {
    match text {
        "offered" => CallStateValue::Offered,
        "connected" => CallStateValue::Connected,
        "ended" => CallStateValue::Ended,
        "abandoned" => CallStateValue::Abandoned,
        "rejected" => CallStateValue::Rejected,
        _ => CallStateValue::Queued,
    }
}

impl CallView {
    pub fn from_aggregate(id: CallId, version: i64, call: &Call) -> Option<Self> {
        let (mut outcome, mut ended_by, mut reject_reason) = (None, None, None);
        let state = match call.state() {
            CallState::New => return None,
            CallState::Queued => CallStateValue::Queued,
            CallState::Offered { .. } => CallStateValue::Offered,
            CallState::Connected { .. } => CallStateValue::Connected,
            CallState::Ended { by } => {
                ended_by = Some((*by).into());
                outcome = Some(if call.connected_at().is_some() {
                    CallOutcomeValue::Answered
                } else {
                    CallOutcomeValue::EndedUnanswered
                });
                CallStateValue::Ended
            }
            CallState::Abandoned { during } => {
                outcome = Some(match during {
                    AbandonedDuring::Queued => CallOutcomeValue::AbandonedQueued,
                    AbandonedDuring::Ringing => CallOutcomeValue::AbandonedRinging,
                });
                CallStateValue::Abandoned
            }
            CallState::Rejected { reason } => {
                outcome = Some(CallOutcomeValue::Rejected);
                reject_reason = Some((*reason).into());
                CallStateValue::Rejected
            }
        };
        let secs = |value: Option<u64>| value.map(|secs| i64::try_from(secs).unwrap_or(i64::MAX));
        let offers = call
            .offers()
            .iter()
            .map(|offer| CallOfferView {
                attempt: i32::try_from(offer.attempt).unwrap_or(i32::MAX),
                agent_id: ID(offer.agent.to_string()),
                offered_at: offer.offered_at,
                ended_at: offer.ended_at,
                outcome: offer.outcome.map(Into::into),
            })
            .collect();
        Some(Self {
            id: ID(id.to_string()),
            version,
            state,
            agent_id: call.agent().map(|agent| ID(agent.to_string())),
            caller_number: call.caller_number().to_owned(),
            caller_name: call.caller_name().map(ToOwned::to_owned),
            customer_id: call.customer_id().map(|customer| ID(customer.to_string())),
            queued_at: call.queued_at(),
            connected_at: call.connected_at(),
            ended_at: call.ended_at(),
            attempts: i32::try_from(call.attempts()).unwrap_or(i32::MAX),
            wait_secs: secs(call.wait_secs()),
            talk_secs: secs(call.talk_secs()),
            outcome,
            ended_by,
            reject_reason,
            end_reason: call.system_end_reason().map(ToOwned::to_owned),
            offer_list: Some(offers),
        })
    }

    /// A row of the `calls` read model (offers read when asked).
    pub fn from_row(row: CallRow) -> Self {
        let outcome = row.outcome.as_deref().and_then(|text| {
            Some(match text {
                "answered" => CallOutcomeValue::Answered,
                "abandoned_queued" => CallOutcomeValue::AbandonedQueued,
                "abandoned_ringing" => CallOutcomeValue::AbandonedRinging,
                "ended_unanswered" => CallOutcomeValue::EndedUnanswered,
                text if text.starts_with("rejected_") => CallOutcomeValue::Rejected,
                _ => return None,
            })
        });
        let reject_reason = row.outcome.as_deref().and_then(|text| {
            Some(match text.strip_prefix("rejected_")? {
                "no_agents_logged_in" => CallRejectReasonValue::NoAgentsLoggedIn,
                "queue_full" => CallRejectReasonValue::QueueFull,
                "max_wait_exceeded" => CallRejectReasonValue::MaxWaitExceeded,
                _ => return None,
            })
        });
        let ended_by = row.ended_by.as_deref().and_then(|text| {
            Some(match text {
                "caller" => CallEndedByValue::Caller,
                "agent" => CallEndedByValue::Agent,
                "system" => CallEndedByValue::System,
                _ => return None,
            })
        });
        let id_of = |uuid: Uuid| ID(uuid.to_string());
        Self {
            id: id_of(row.call_id),
            version: row.version,
            state: call_state(&row.status),
            agent_id: row.agent_id.map(id_of),
            caller_number: row.caller_number,
            caller_name: row.caller_name,
            customer_id: row.customer_id.map(id_of),
            queued_at: Some(row.queued_at),
            connected_at: row.connected_at,
            ended_at: row.ended_at,
            attempts: row.attempts,
            wait_secs: row.wait_secs,
            talk_secs: row.talk_secs,
            outcome,
            ended_by,
            reject_reason,
            end_reason: row.end_reason,
            offer_list: None,
        }
    }
}

/// The call `id` if `me` may see it (admins: any; agents: the calls offered to or taken by
/// them): `NOT_FOUND` / `FORBIDDEN` otherwise.
/// Read from the `calls` read model once it holds every event of that call (read-your-writes).
async fn load_visible(context: &Context<'_>, me: &Me, id: CallId) -> Result<CallView, ApiError> {
    let state = state(context)?;
    wait_for_aggregate(state, "calls", "call", id).await?;
    let row = call_model::get(&state.pool, id.as_uuid())
        .await
        .map_err(read_error)?
        .ok_or(ApiError::NotFound("call"))?;
    let offers = call_model::offers(&state.pool, id.as_uuid())
        .await
        .map_err(read_error)?;
    let me_id = me.id.as_uuid();
    let involved =
        row.agent_id == Some(me_id) || offers.iter().any(|offer| offer.agent_id == me_id);
    if !me.is_admin() && !involved {
        return Err(ApiError::Forbidden);
    }
    let mut view = CallView::from_row(row);
    view.offer_list = Some(offers.into_iter().map(CallOfferView::from_row).collect());
    Ok(view)
}

/// The call `id` as `call(id)` shows it to `me`; `null` when there is none or `me` may not see
/// it.
pub async fn visible_call(
    context: &Context<'_>,
    me: &Me,
    id: CallId,
) -> Result<Option<CallView>, ApiError> {
    match load_visible(context, me, id).await {
        Ok(view) => Ok(Some(view)),
        Err(ApiError::NotFound(_) | ApiError::Forbidden) => Ok(None),
        Err(error) => Err(error),
    }
}

#[derive(Default)]
pub struct CallQuery;

#[Object]
impl CallQuery {
    /// A call: admins see every call, agents the calls offered to or taken by them.
    async fn call(&self, context: &Context<'_>, id: ID) -> Result<CallView, ApiError> {
        let me = require_worker(context)?;
        let id: CallId = parse_id(&id, "id")?;
        load_visible(context, &me, id).await
    }
}

#[derive(Default)]
pub struct CallMutation;

#[Object]
impl CallMutation {
    /// Hangs up the caller's own connected call (`NOT_YOUR_CALL` for anyone else).
    async fn hang_up_call(
        &self,
        context: &Context<'_>,
        call_id: ID,
        expected_version: Option<i64>,
    ) -> Result<CallView, ApiError> {
        let me = require_worker(context)?;
        let id: CallId = parse_id(&call_id, "callId")?;
        let command = CallCommand::AgentHangUp {
            agent: me.id,
            at: crate::platform::clock::now(),
        };
        let committed = execute_as::<Call>(context, &me, id, command, expected_version).await?;
        CallView::from_aggregate(id, committed.version, &committed.aggregate)
            .ok_or(ApiError::NotFound("call"))
    }
}
