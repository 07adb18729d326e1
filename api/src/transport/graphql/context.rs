//! What a resolver knows about its request: the caller, the correlation id, the client
//! address; and the checks every resolver starts with.

use std::net::IpAddr;

use async_graphql::{Context, ID};
use domain::ids::{CustomerId, WorkerId};
use domain::values::Role;
use journal::{Actor, Metadata};
use uuid::Uuid;

use super::error::ApiError;
use crate::auth::Caller;
use crate::backup::tokens::IngestIdentity;
use crate::transport::state::AppState;

/// Put in the data of every request (HTTP) or connection (WebSocket).
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub caller: Caller,
    pub correlation_id: Uuid,
    pub client_address: Option<IpAddr>,
}

impl RequestContext {
    pub fn anonymous() -> Self {
        Self {
            caller: Caller::Anonymous,
            correlation_id: Uuid::now_v7(),
            client_address: None,
        }
    }
}

/// A logged-in worker.
#[derive(Clone, Copy, Debug)]
pub struct Me {
    pub id: WorkerId,
    pub role: Role,
    pub session_id: Uuid,
}

impl Me {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

pub fn state<'a>(context: &Context<'a>) -> Result<&'a AppState, ApiError> {
    context
        .data::<AppState>()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("the schema has no AppState")))
}

pub fn request<'a>(context: &Context<'a>) -> RequestContext {
    context
        .data_opt::<RequestContext>()
        .cloned()
        .unwrap_or_else(RequestContext::anonymous)
}

/// Any logged-in worker, else `UNAUTHENTICATED`.
pub fn require_worker(context: &Context<'_>) -> Result<Me, ApiError> {
    match request(context).caller {
        Caller::Worker {
            id,
            role,
            session_id,
        } => Ok(Me {
            id,
            role,
            session_id,
        }),
        Caller::Anonymous => Err(ApiError::Unauthenticated("authentication required")),
        Caller::IngestToken { .. } => Err(ApiError::Forbidden),
    }
}

/// The ingest token presented, else `UNAUTHENTICATED` (anonymous) / `FORBIDDEN` (a worker).
pub fn require_ingest_token(context: &Context<'_>) -> Result<IngestIdentity, ApiError> {
    match request(context).caller {
        Caller::IngestToken {
            token_id,
            customer_id,
        } => Ok(IngestIdentity {
            token_id,
            customer_id,
        }),
        Caller::Anonymous => Err(ApiError::Unauthenticated("authentication required")),
        Caller::Worker { .. } => Err(ApiError::Forbidden),
    }
}

/// Any worker, or the ingest token of `customer` (another customer's token: `FORBIDDEN`).
pub fn require_worker_or_token_of(
    context: &Context<'_>,
    customer: CustomerId,
) -> Result<(), ApiError> {
    match request(context).caller {
        Caller::Worker { .. } => Ok(()),
        Caller::IngestToken { customer_id, .. } if customer_id == customer => Ok(()),
        Caller::IngestToken { .. } => Err(ApiError::Forbidden),
        Caller::Anonymous => Err(ApiError::Unauthenticated("authentication required")),
    }
}

/// An admin, else `UNAUTHENTICATED` / `FORBIDDEN`.
pub fn require_admin(context: &Context<'_>) -> Result<Me, ApiError> {
    let me = require_worker(context)?;
    if me.is_admin() {
        Ok(me)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The metadata of the events a worker's command writes.
pub fn metadata(context: &Context<'_>, me: &Me) -> Metadata {
    Metadata {
        actor: Actor::Worker(me.id),
        correlation_id: request(context).correlation_id,
        causation_id: None,
    }
}

/// Runs `command` on the aggregate `id` as `me` (this request's metadata), at
/// `expected_version` when given: what every mutation that changes one aggregate does.
pub async fn execute_as<A>(
    context: &Context<'_>,
    me: &Me,
    id: impl std::fmt::Display,
    command: A::Command,
    expected_version: Option<i64>,
) -> Result<journal::Committed<A>, ApiError>
where
    A: cqrs_es::Aggregate<Services = ()>,
    A::Command: Clone,
    A::Error: super::error::RuleError,
{
    Ok(state(context)?
        .store
        .execute::<A>(
            &id.to_string(),
            command,
            &(),
            &metadata(context, me),
            expected_version,
        )
        .await?)
}

/// Parses an id argument (`VALIDATION` on the named field when it is not a UUID).
pub fn parse_id<T: From<Uuid>>(id: &ID, field: &str) -> Result<T, ApiError> {
    Uuid::parse_str(id.as_str())
        .map(T::from)
        .map_err(|_| ApiError::validation(field, "must be a UUID"))
}
