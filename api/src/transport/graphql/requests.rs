//! Requests (tickets): `request(id)`, `openRequest`, `updateRequest`, `solveRequest`,
//! `reopenRequest`, `closeRequest`. Any worker may work on any request.

use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::ids::{CallId, CustomerId, RequestId, WorkerId};
use domain::request::{Request, RequestCommand, RequestStatus};
use domain::values::{Priority, RequestMessage, RequestType};
use journal::Committed;
use projections::readmodels::requests::{self as request_model, RequestRow};

use super::calls::{customer_object, visible_call, worker_object, CallView};
use super::common::{read_error, wait_for_aggregate};
use super::context::{execute_as, parse_id, require_worker, state, Me};
use super::customers::{load_customer, CustomerView};
use super::error::ApiError;
use super::workers::WorkerView;
use crate::transport::state::AppState;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "Priority")]
pub enum PriorityValue {
    Low,
    Normal,
    High,
    Urgent,
}

impl From<PriorityValue> for Priority {
    fn from(value: PriorityValue) -> Self {
        match value {
            PriorityValue::Low => Priority::Low,
            PriorityValue::Normal => Priority::Normal,
            PriorityValue::High => Priority::High,
            PriorityValue::Urgent => Priority::Urgent,
        }
    }
}

impl From<Priority> for PriorityValue {
    fn from(value: Priority) -> Self {
        match value {
            Priority::Low => PriorityValue::Low,
            Priority::Normal => PriorityValue::Normal,
            Priority::High => PriorityValue::High,
            Priority::Urgent => PriorityValue::Urgent,
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "RequestType")]
pub enum RequestTypeValue {
    Question,
    Incident,
    Problem,
    Task,
}

impl From<RequestTypeValue> for RequestType {
    fn from(value: RequestTypeValue) -> Self {
        match value {
            RequestTypeValue::Question => RequestType::Question,
            RequestTypeValue::Incident => RequestType::Incident,
            RequestTypeValue::Problem => RequestType::Problem,
            RequestTypeValue::Task => RequestType::Task,
        }
    }
}

impl From<RequestType> for RequestTypeValue {
    fn from(value: RequestType) -> Self {
        match value {
            RequestType::Question => RequestTypeValue::Question,
            RequestType::Incident => RequestTypeValue::Incident,
            RequestType::Problem => RequestTypeValue::Problem,
            RequestType::Task => RequestTypeValue::Task,
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "RequestStatus")]
pub enum RequestStatusValue {
    Open,
    Pending,
    Solved,
    Closed,
}

impl From<RequestStatus> for RequestStatusValue {
    fn from(value: RequestStatus) -> Self {
        match value {
            RequestStatus::Open => RequestStatusValue::Open,
            RequestStatus::Pending => RequestStatusValue::Pending,
            RequestStatus::Solved => RequestStatusValue::Solved,
            RequestStatus::Closed => RequestStatusValue::Closed,
        }
    }
}

/// A request (ticket).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "Request", complex)]
pub struct RequestView {
    pub id: ID,
    pub version: i64,
    pub customer_id: ID,
    pub call_id: Option<ID>,
    pub message: String,
    pub priority: PriorityValue,
    #[graphql(name = "type")]
    pub request_type: RequestTypeValue,
    pub status: RequestStatusValue,
    pub assignee_id: Option<ID>,
    pub due_at: DateTime<Utc>,
    pub opened_by_id: Option<ID>,
    pub opened_at: DateTime<Utc>,
}

#[ComplexObject]
impl RequestView {
    /// The customer (as `customer(id)` shows them; erased ones say so).
    async fn customer(&self, context: &Context<'_>) -> Result<Option<CustomerView>, ApiError> {
        customer_object(context, Some(&self.customer_id)).await
    }

    /// The call it was opened from, as `call(id)` shows it: `null` when there is none or when
    /// the caller may not see it (an agent sees the calls offered to or taken by them).
    async fn call(&self, context: &Context<'_>) -> Result<Option<CallView>, ApiError> {
        let me = require_worker(context)?;
        let Some(id) = &self.call_id else {
            return Ok(None);
        };
        visible_call(context, &me, parse_id(id, "callId")?).await
    }

    /// The assigned worker (email and endpoint `null` unless the caller is an admin or them).
    async fn assignee(&self, context: &Context<'_>) -> Result<Option<WorkerView>, ApiError> {
        worker_object(context, self.assignee_id.as_ref()).await
    }

    /// The worker who opened it (email and endpoint `null` unless the caller is an admin or
    /// them).
    async fn opened_by(&self, context: &Context<'_>) -> Result<Option<WorkerView>, ApiError> {
        worker_object(context, self.opened_by_id.as_ref()).await
    }
}

impl RequestView {
    pub fn from_aggregate(id: RequestId, version: i64, request: &Request) -> Option<Self> {
        let details = request.details()?;
        Some(Self {
            id: ID(id.to_string()),
            version,
            customer_id: ID(details.customer_id.to_string()),
            call_id: details.call_id.map(|call| ID(call.to_string())),
            message: details.message.as_str().to_owned(),
            priority: details.priority.into(),
            request_type: details.request_type.into(),
            status: request.status().into(),
            assignee_id: details.assignee.map(|worker| ID(worker.to_string())),
            due_at: details.due_at,
            opened_by_id: details.opened_by.map(|worker| ID(worker.to_string())),
            opened_at: details.opened_at,
        })
    }

    fn from_committed(id: RequestId, committed: &Committed<Request>) -> Result<Self, ApiError> {
        Self::from_aggregate(id, committed.version, &committed.aggregate)
            .ok_or(ApiError::NotFound("request"))
    }

    /// A row of the `requests` read model.
    pub fn from_row(row: RequestRow) -> Self {
        let id_of = |uuid: uuid::Uuid| ID(uuid.to_string());
        Self {
            id: id_of(row.request_id),
            version: row.version,
            customer_id: id_of(row.customer_id),
            call_id: row.call_id.map(id_of),
            message: row.message,
            priority: priority_value(&row.priority),
            request_type: request_type_value(&row.request_type),
            status: status_value(&row.status),
            assignee_id: row.assignee.map(id_of),
            due_at: row.due_at,
            opened_by_id: row.opened_by.map(id_of),
            opened_at: row.opened_at,
        }
    }
}

fn priority_value(text: &str) -> PriorityValue {
    match text {
        "low" => PriorityValue::Low,
        "high" => PriorityValue::High,
        "urgent" => PriorityValue::Urgent,
        _ => PriorityValue::Normal,
    }
}

fn request_type_value(text: &str) -> RequestTypeValue {
    match text {
        "incident" => RequestTypeValue::Incident,
        "problem" => RequestTypeValue::Problem,
        "task" => RequestTypeValue::Task,
        _ => RequestTypeValue::Question,
    }
}

fn status_value(text: &str) -> RequestStatusValue {
    match text {
        "pending" => RequestStatusValue::Pending,
        "solved" => RequestStatusValue::Solved,
        "closed" => RequestStatusValue::Closed,
        _ => RequestStatusValue::Open,
    }
}

/// The request `id` as `request(id)` shows it, from the `requests` read model once it holds
/// every event of that request (read-your-writes); `None` when there is none.
pub async fn read_request(
    state: &AppState,
    id: RequestId,
) -> Result<Option<RequestView>, ApiError> {
    wait_for_aggregate(state, "requests", "request", id).await?;
    Ok(request_model::get(&state.pool, id.as_uuid())
        .await
        .map_err(read_error)?
        .map(RequestView::from_row))
}

fn parse_due(text: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|date| crate::platform::clock::to_micros(date.with_timezone(&Utc)))
        .map_err(|_| ApiError::validation("dueAt", "must be an RFC 3339 date and time"))
}

/// An assignee must be an active worker.
async fn check_assignee(context: &Context<'_>, id: &ID) -> Result<WorkerId, ApiError> {
    let worker: WorkerId = parse_id(id, "assigneeId")?;
    let (active,): (bool,) =
        sqlx::query_as("SELECT EXISTS (SELECT 1 FROM credentials WHERE worker_id = $1 AND active)")
            .bind(worker.as_uuid())
            .fetch_one(&state(context)?.pool)
            .await?;
    if !active {
        return Err(ApiError::validation(
            "assigneeId",
            "is not an active worker",
        ));
    }
    Ok(worker)
}

#[derive(InputObject)]
pub struct OpenRequestInput {
    pub customer_id: ID,
    pub call_id: Option<ID>,
    /// 10 to 10 000 characters.
    pub message: String,
    pub priority: PriorityValue,
    #[graphql(name = "type")]
    pub request_type: RequestTypeValue,
    pub assignee_id: Option<ID>,
    /// RFC 3339; in the future. Absent: from the priority.
    pub due_at: Option<String>,
}

#[derive(InputObject)]
pub struct UpdateRequestInput {
    pub message: Option<String>,
    pub priority: Option<PriorityValue>,
    #[graphql(name = "type")]
    pub request_type: Option<RequestTypeValue>,
    pub assignee_id: Option<ID>,
    #[graphql(default)]
    pub unassign: bool,
    /// RFC 3339; in the future.
    pub due_at: Option<String>,
}

async fn run(
    context: &Context<'_>,
    me: &Me,
    id: RequestId,
    command: RequestCommand,
    expected_version: Option<i64>,
) -> Result<RequestView, ApiError> {
    let committed = execute_as::<Request>(context, me, id, command, expected_version).await?;
    if let Some(position) = committed.last_position() {
        // Read-your-writes: the `requests` list and the KPIs show the change once answered.
        super::common::wait_for_read_models(state(context)?, &["requests", "kpis"], position).await;
    }
    RequestView::from_committed(id, &committed)
}

#[derive(Default)]
pub struct RequestQuery;

#[Object]
impl RequestQuery {
    /// A request (any worker).
    async fn request(&self, context: &Context<'_>, id: ID) -> Result<RequestView, ApiError> {
        require_worker(context)?;
        let id: RequestId = parse_id(&id, "id")?;
        read_request(state(context)?, id)
            .await?
            .ok_or(ApiError::NotFound("request"))
    }
}

#[derive(Default)]
pub struct RequestMutation;

#[Object]
impl RequestMutation {
    /// Opens a request for a customer (any worker).
    async fn open_request(
        &self,
        context: &Context<'_>,
        input: OpenRequestInput,
    ) -> Result<RequestView, ApiError> {
        let me = require_worker(context)?;
        let customer_id: CustomerId = parse_id(&input.customer_id, "customerId")?;
        let call_id: Option<CallId> = input
            .call_id
            .as_ref()
            .map(|id| parse_id(id, "callId"))
            .transpose()?;
        let message = RequestMessage::parse(&input.message)?;
        let due_at = input.due_at.as_deref().map(parse_due).transpose()?;
        let assignee = match &input.assignee_id {
            Some(id) => Some(check_assignee(context, id).await?),
            None => None,
        };
        let (customer, _) =
            load_customer(context, customer_id)
                .await
                .map_err(|error| match error {
                    ApiError::NotFound(_) => {
                        ApiError::validation("customerId", "is not a customer")
                    }
                    other => other,
                })?;
        if customer.is_erased() {
            return Err(ApiError::validation(
                "customerId",
                "the customer was erased",
            ));
        }
        let id = RequestId::new();
        let command = RequestCommand::Open {
            customer_id,
            call_id,
            message,
            priority: input.priority.into(),
            request_type: input.request_type.into(),
            assignee,
            due_at,
            sla: state(context)?.settings.snapshot().request_policy(),
            opened_by: Some(me.id),
            at: state(context)?.backup.now(),
        };
        run(context, &me, id, command, Some(0)).await
    }

    /// Changes a request's message, priority, type, assignee or due date (any worker).
    async fn update_request(
        &self,
        context: &Context<'_>,
        id: ID,
        input: UpdateRequestInput,
        expected_version: Option<i64>,
    ) -> Result<RequestView, ApiError> {
        let me = require_worker(context)?;
        let id: RequestId = parse_id(&id, "id")?;
        let assignee = match (&input.assignee_id, input.unassign) {
            (Some(_), true) => {
                return Err(ApiError::validation(
                    "unassign",
                    "cannot be combined with assigneeId",
                ))
            }
            (Some(worker), false) => Some(Some(check_assignee(context, worker).await?)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let command = RequestCommand::Update {
            message: input
                .message
                .as_deref()
                .map(RequestMessage::parse)
                .transpose()?,
            priority: input.priority.map(Into::into),
            request_type: input.request_type.map(Into::into),
            assignee,
            due_at: input.due_at.as_deref().map(parse_due).transpose()?,
            by: Some(me.id),
            at: state(context)?.backup.now(),
        };
        run(context, &me, id, command, expected_version).await
    }

    /// Open → pending (waiting on the customer or a third party; the due date still runs).
    async fn set_request_pending(
        &self,
        context: &Context<'_>,
        id: ID,
        expected_version: Option<i64>,
    ) -> Result<RequestView, ApiError> {
        change_status(context, id, expected_version, |by, at| {
            RequestCommand::SetPending { by, at }
        })
        .await
    }

    /// Open or pending → solved.
    async fn solve_request(
        &self,
        context: &Context<'_>,
        id: ID,
        expected_version: Option<i64>,
    ) -> Result<RequestView, ApiError> {
        change_status(context, id, expected_version, |by, at| {
            RequestCommand::Solve { by, at }
        })
        .await
    }

    /// Solved → open.
    async fn reopen_request(
        &self,
        context: &Context<'_>,
        id: ID,
        expected_version: Option<i64>,
    ) -> Result<RequestView, ApiError> {
        change_status(context, id, expected_version, |by, at| {
            RequestCommand::Reopen { by, at }
        })
        .await
    }

    /// Any status → closed, for good.
    async fn close_request(
        &self,
        context: &Context<'_>,
        id: ID,
        expected_version: Option<i64>,
    ) -> Result<RequestView, ApiError> {
        change_status(context, id, expected_version, |by, at| {
            RequestCommand::Close { by, at }
        })
        .await
    }
}

/// A status change (`pending`, `solved`, reopened, `closed`) by the caller, now.
async fn change_status(
    context: &Context<'_>,
    id: ID,
    expected_version: Option<i64>,
    command: fn(Option<WorkerId>, DateTime<Utc>) -> RequestCommand,
) -> Result<RequestView, ApiError> {
    let me = require_worker(context)?;
    let id: RequestId = parse_id(&id, "id")?;
    let command = command(Some(me.id), state(context)?.backup.now());
    run(context, &me, id, command, expected_version).await
}
