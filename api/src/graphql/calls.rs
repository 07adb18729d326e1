//! Calls: `call(id)` (admins: any; agents: calls offered to or taken by them) and
//! `hangUpCall(callId)` (only the connected agent; telephony reacts to the committed event).

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::call::{Call, CallCommand, CallState};
use domain::ids::CallId;

use super::context::{metadata, parse_id, require_worker, state};
use super::error::ApiError;

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

/// One inbound call.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Call")]
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
}

impl CallView {
    pub fn from_aggregate(id: CallId, version: i64, call: &Call) -> Option<Self> {
        let state = match call.state() {
            CallState::New => return None,
            CallState::Queued => CallStateValue::Queued,
            CallState::Offered { .. } => CallStateValue::Offered,
            CallState::Connected { .. } => CallStateValue::Connected,
            CallState::Ended { .. } => CallStateValue::Ended,
            CallState::Abandoned { .. } => CallStateValue::Abandoned,
            CallState::Rejected { .. } => CallStateValue::Rejected,
        };
        let secs = |value: Option<u64>| value.map(|secs| i64::try_from(secs).unwrap_or(i64::MAX));
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
        })
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
        let (call, version) = state(context)?
            .store
            .load_aggregate::<Call>(&id.to_string())
            .await?;
        let view =
            CallView::from_aggregate(id, version, &call).ok_or(ApiError::NotFound("call"))?;
        let involved =
            call.agent() == Some(me.id) || call.offers().iter().any(|offer| offer.agent == me.id);
        if !me.is_admin() && !involved {
            return Err(ApiError::Forbidden);
        }
        Ok(view)
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
            at: Utc::now(),
        };
        let committed = state(context)?
            .store
            .execute::<Call>(
                &id.to_string(),
                command,
                &(),
                &metadata(context, &me),
                expected_version,
            )
            .await?;
        CallView::from_aggregate(id, committed.version, &committed.aggregate)
            .ok_or(ApiError::NotFound("call"))
    }
}
