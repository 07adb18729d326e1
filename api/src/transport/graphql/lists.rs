//! The list queries (PRODUCT §10, §11): `workers`, `customers`, `customerByNumber`, `calls`,
//! `requests`, `requestAlerts`, `queueStatus`. They read the read models (so they can lag the
//! log by a moment; mutations wait for them, see [`super::common::wait_for_read_models`]).
//!
//! Every list is a Relay connection paged by keyset over `(sort key, id)` in both directions,
//! with a `totalCount` of the rows matching the filters, read through the read models' list
//! functions (`projections::readmodels::*::list`, one keyset engine:
//! `projections::readmodels::keyset`). Sort keys are allow-listed enums; searches are
//! case-insensitive substrings with the LIKE wildcards escaped.

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::values::PhoneNumber;
use projections::readmodels::keyset::{self, Key, PageQuery, Rows};
use projections::readmodels::{
    calls as call_model, customers as customer_model, queue, requests as request_model,
    workers as worker_model,
};
use uuid::Uuid;

use super::calls::{outcome_keywords, CallOutcomeValue, CallStateValue, CallView};
use super::common::read_error;
use super::connection::{page, CursorKey, Direction, Page, PageRequest};
use super::context::{parse_id, require_worker, state};
use super::customers::CustomerView;
use super::error::ApiError;
use super::requests::{PriorityValue, RequestStatusValue, RequestView};
use super::workers::{PresenceState, WorkerView};

// ---- pages of the read models' one keyset engine ----

/// The read models' page for a Relay page request (the total count only when the query
/// selected `totalCount`: counting reads every matching row).
fn page_query(context: &Context<'_>, request: &PageRequest) -> PageQuery {
    let key = |cursor: &CursorKey| Key {
        sort: cursor.sort.clone(),
        id: cursor.id.clone(),
    };
    PageQuery {
        direction: match request.direction {
            Direction::Forward => keyset::Direction::Forward,
            Direction::Backward => keyset::Direction::Backward,
        },
        limit: request.limit,
        after: request.after.as_ref().map(key),
        before: request.before.as_ref().map(key),
        count: context.look_ahead().field("totalCount").exists(),
    }
}

/// The Relay page of `rows`, each row made a view by `view`.
fn connection<R, T: async_graphql::OutputType>(
    request: &PageRequest,
    rows: Rows<R>,
    mut view: impl FnMut(R) -> T,
) -> Page<T> {
    let total = rows.total;
    let rows = rows
        .rows
        .into_iter()
        .map(|(key, row)| {
            let cursor = CursorKey {
                sort: key.sort,
                id: key.id,
            };
            (cursor, view(row))
        })
        .collect();
    page(request, rows, total)
}

// ---- rows to views ----

fn id_of(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

fn call_keyword(state: CallStateValue) -> &'static str {
    match state {
        CallStateValue::Queued => "queued",
        CallStateValue::Offered => "offered",
        CallStateValue::Connected => "connected",
        CallStateValue::Ended => "ended",
        CallStateValue::Abandoned => "abandoned",
        CallStateValue::Rejected => "rejected",
    }
}

fn priority_keyword(value: PriorityValue) -> &'static str {
    match value {
        PriorityValue::Low => "low",
        PriorityValue::Normal => "normal",
        PriorityValue::High => "high",
        PriorityValue::Urgent => "urgent",
    }
}

fn status_keyword(value: RequestStatusValue) -> &'static str {
    match value {
        RequestStatusValue::Open => "open",
        RequestStatusValue::Pending => "pending",
        RequestStatusValue::Solved => "solved",
        RequestStatusValue::Closed => "closed",
    }
}

/// The search term, trimmed (`None` when empty).
fn search_term(search: Option<String>) -> Result<Option<String>, ApiError> {
    match search.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) if text.chars().count() > 200 => Err(ApiError::validation(
            "search",
            "must be at most 200 characters",
        )),
        Some(text) => Ok(Some(text.to_owned())),
    }
}

fn uuid_arg(id: Option<&ID>, field: &str) -> Result<Option<Uuid>, ApiError> {
    id.map(|id| parse_id::<Uuid>(id, field)).transpose()
}

fn range(
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    field: &str,
) -> Result<(), ApiError> {
    match (from, until) {
        (Some(from), Some(until)) if until < from => {
            Err(ApiError::validation(field, "must not be before the start"))
        }
        _ => Ok(()),
    }
}

// ---- sort keys and the queries ----

/// Sort keys of `workers`.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WorkerSort {
    #[default]
    Name,
    StateSince,
}

/// Sort keys of `customers`.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CustomerSort {
    #[default]
    RegisteredAt,
    UpdatedAt,
    /// Case-insensitive.
    Name,
}

/// Sort keys of `requests`.
#[derive(Enum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestSort {
    #[default]
    OpenedAt,
    DueAt,
    UpdatedAt,
}

/// A request with an alert raised (due soon or overdue) that is still open or pending.
#[derive(SimpleObject, Clone, Debug)]
pub struct RequestAlert {
    /// `DUE_SOON` or `OVERDUE`.
    pub alert: RequestAlertKind,
    pub request: RequestView,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestAlertKind {
    DueSoon,
    Overdue,
}

/// A call waiting in the queue now.
#[derive(SimpleObject, Clone, Debug)]
pub struct WaitingCall {
    pub call_id: ID,
    pub queue: String,
    /// The caller's number: `null` unless the caller of `queueStatus` is an admin or the agent
    /// the call is ringing (agents not involved see that someone waits, not who).
    pub caller_number: Option<String>,
    pub customer_id: Option<ID>,
    pub queued_at: DateTime<Utc>,
    /// Seconds waited so far.
    pub wait_secs: i64,
    /// The agent being offered the call, if one is.
    pub ringing_agent_id: Option<ID>,
    pub attempts: i32,
}

/// How many active agents are in one presence state.
#[derive(SimpleObject, Clone, Debug)]
pub struct AgentsInState {
    pub state: PresenceState,
    pub count: i64,
}

/// The queue's settings.
#[derive(SimpleObject, Clone, Debug)]
pub struct QueueSettings {
    pub offer_timeout_secs: i64,
    pub wrap_up_secs: i64,
    pub max_wait_secs: i64,
    pub max_queue_length: i64,
}

/// The queue now (`queueStatus`).
#[derive(SimpleObject, Clone, Debug)]
pub struct QueueStatus {
    pub waiting: Vec<WaitingCall>,
    /// The longest current wait, in seconds (0 when nobody waits).
    pub oldest_wait_secs: i64,
    pub agents: Vec<AgentsInState>,
    pub settings: QueueSettings,
}

#[derive(Default)]
pub struct ListQuery;

#[Object]
impl ListQuery {
    /// Workers (any worker), sorted by name or time in state; `search` matches name or email.
    #[allow(clippy::too_many_arguments)]
    async fn workers(
        &self,
        context: &Context<'_>,
        #[graphql(name = "state")] state_filter: Option<PresenceState>,
        active: Option<bool>,
        search: Option<String>,
        #[graphql(default)] sort_by: WorkerSort,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<WorkerView>, ApiError> {
        require_worker(context)?;
        let request = PageRequest::parse(first, after, last, before)?;
        let sort = match sort_by {
            WorkerSort::Name => worker_model::WorkerSort::Name,
            WorkerSort::StateSince => worker_model::WorkerSort::StateSince,
        };
        let filter = worker_model::WorkerFilter {
            state: state_filter.map(|s| s.as_stored().to_owned()),
            active,
            search: search_term(search)?,
        };
        let app = state(context)?;
        let rows = worker_model::list(&app.pool, &filter, sort, &page_query(context, &request))
            .await
            .map_err(read_error)?;
        Ok(connection(&request, rows, WorkerView::from_row))
    }

    /// Live customers (any worker), by registration (default), last update or name
    /// (case-insensitive). `search` matches the name or email (case-insensitive substring)
    /// or, when written like a phone number (digits, spaces and `+ ( ) . - /`, at least 3
    /// digits), the customers with a number holding those digits (`+33 6 12`, `06 12 34`).
    #[allow(clippy::too_many_arguments)]
    async fn customers(
        &self,
        context: &Context<'_>,
        search: Option<String>,
        #[graphql(default)] sort_by: CustomerSort,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<CustomerView>, ApiError> {
        require_worker(context)?;
        let request = PageRequest::parse(first, after, last, before)?;
        let sort = match sort_by {
            CustomerSort::RegisteredAt => customer_model::CustomerSort::RegisteredAt,
            CustomerSort::UpdatedAt => customer_model::CustomerSort::UpdatedAt,
            CustomerSort::Name => customer_model::CustomerSort::Name,
        };
        let search = search_term(search)?;
        let app = state(context)?;
        let rows = customer_model::list(
            &app.pool,
            search.as_deref(),
            sort,
            &page_query(context, &request),
        )
        .await
        .map_err(read_error)?;
        let ids: Vec<Uuid> = rows.rows.iter().map(|(_, row)| row.customer_id).collect();
        let mut phones = customer_model::phones_of(&app.pool, &ids)
            .await
            .map_err(read_error)?;
        Ok(connection(&request, rows, |row| {
            let numbers = phones.remove(&row.customer_id).unwrap_or_default();
            CustomerView::from_row(row, numbers)
        }))
    }

    /// The customer owning a phone number (any worker), written in any usual form: it is
    /// normalised to E.164 with the default country code. `null` when nobody owns it.
    async fn customer_by_number(
        &self,
        context: &Context<'_>,
        number: String,
    ) -> Result<Option<CustomerView>, ApiError> {
        require_worker(context)?;
        let app = state(context)?;
        let number = PhoneNumber::parse(&number, &app.auth.config.default_country_code)
            .map_err(|error| ApiError::from(error).for_field("number"))?;
        let row = customer_model::by_number(&app.pool, &number.to_string())
            .await
            .map_err(read_error)?;
        let Some(row) = row.filter(|row| !row.erased) else {
            return Ok(None);
        };
        let phones = customer_model::phones(&app.pool, row.customer_id)
            .await
            .map_err(read_error)?;
        Ok(Some(CustomerView::from_row(row, phones)))
    }

    /// Calls by queue time (admins: all; agents: the calls they were connected to, i.e.
    /// `agentId` is always themselves). `callerNumber` is normalised to E.164 with the default
    /// country code (as `customerByNumber`); `queuedFrom` is inclusive, `queuedUntil`
    /// exclusive.
    #[allow(clippy::too_many_arguments)]
    async fn calls(
        &self,
        context: &Context<'_>,
        #[graphql(name = "state")] state_filter: Option<CallStateValue>,
        customer_id: Option<ID>,
        agent_id: Option<ID>,
        caller_number: Option<String>,
        outcome: Option<CallOutcomeValue>,
        queued_from: Option<DateTime<Utc>>,
        queued_until: Option<DateTime<Utc>>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<CallView>, ApiError> {
        let me = require_worker(context)?;
        let request = PageRequest::parse(first, after, last, before)?;
        let mut agent = uuid_arg(agent_id.as_ref(), "agentId")?;
        if !me.is_admin() {
            match agent {
                Some(agent) if agent != me.id.as_uuid() => return Err(ApiError::Forbidden),
                _ => agent = Some(me.id.as_uuid()),
            }
        }
        range(queued_from, queued_until, "queuedUntil")?;
        let caller_number = match caller_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                let country = &state(context)?.auth.config.default_country_code;
                let number = PhoneNumber::parse(text, country)
                    .map_err(|error| ApiError::from(error).for_field("callerNumber"))?;
                Some(number.to_string())
            }
        };
        let filter = call_model::CallFilter {
            customer_id: uuid_arg(customer_id.as_ref(), "customerId")?,
            agent_id: agent,
            status: state_filter.map(|state| call_keyword(state).to_owned()),
            caller_number,
            outcomes: outcome.map(|outcome| {
                outcome_keywords(outcome)
                    .iter()
                    .map(|keyword| (*keyword).to_owned())
                    .collect()
            }),
            queued_from,
            queued_until,
        };
        let app = state(context)?;
        let rows = call_model::list(&app.pool, &filter, &page_query(context, &request))
            .await
            .map_err(read_error)?;
        Ok(connection(&request, rows, CallView::from_row))
    }

    /// Requests (any worker); `search` matches the message.
    #[allow(clippy::too_many_arguments)]
    async fn requests(
        &self,
        context: &Context<'_>,
        status: Option<RequestStatusValue>,
        priority: Option<PriorityValue>,
        customer_id: Option<ID>,
        assignee_id: Option<ID>,
        opened_from: Option<DateTime<Utc>>,
        opened_until: Option<DateTime<Utc>>,
        due_from: Option<DateTime<Utc>>,
        due_until: Option<DateTime<Utc>>,
        search: Option<String>,
        #[graphql(default)] sort_by: RequestSort,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<RequestView>, ApiError> {
        require_worker(context)?;
        let request = PageRequest::parse(first, after, last, before)?;
        range(opened_from, opened_until, "openedUntil")?;
        range(due_from, due_until, "dueUntil")?;
        let sort = match sort_by {
            RequestSort::OpenedAt => request_model::RequestSort::OpenedAt,
            RequestSort::DueAt => request_model::RequestSort::DueAt,
            RequestSort::UpdatedAt => request_model::RequestSort::UpdatedAt,
        };
        let filter = request_model::RequestFilter {
            customer_id: uuid_arg(customer_id.as_ref(), "customerId")?,
            assignee: uuid_arg(assignee_id.as_ref(), "assigneeId")?,
            status: status.map(|s| status_keyword(s).to_owned()),
            priority: priority.map(|p| priority_keyword(p).to_owned()),
            opened_from,
            opened_until,
            due_from,
            due_until,
            search: search_term(search)?,
            alerted: false,
        };
        let app = state(context)?;
        let rows = request_model::list(&app.pool, &filter, sort, &page_query(context, &request))
            .await
            .map_err(read_error)?;
        Ok(connection(&request, rows, RequestView::from_row))
    }

    /// Open or pending requests with an alert raised (due soon or overdue), by due date.
    async fn request_alerts(
        &self,
        context: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Page<RequestAlert>, ApiError> {
        require_worker(context)?;
        let request = PageRequest::parse(first, after, last, before)?;
        let filter = request_model::RequestFilter {
            alerted: true,
            ..Default::default()
        };
        let app = state(context)?;
        let rows = request_model::list(
            &app.pool,
            &filter,
            request_model::RequestSort::DueAt,
            &page_query(context, &request),
        )
        .await
        .map_err(read_error)?;
        Ok(connection(&request, rows, |row| {
            let alert = if row.alert == "overdue" {
                RequestAlertKind::Overdue
            } else {
                RequestAlertKind::DueSoon
            };
            RequestAlert {
                alert,
                request: RequestView::from_row(row),
            }
        }))
    }

    /// The calls waiting now, the active agents by state, and the queue's settings (any
    /// worker).
    async fn queue_status(&self, context: &Context<'_>) -> Result<QueueStatus, ApiError> {
        let me = require_worker(context)?;
        let app = state(context)?;
        let now = Utc::now();
        let waiting: Vec<WaitingCall> = queue::waiting(&app.pool)
            .await
            .map_err(read_error)?
            .into_iter()
            .map(|row| WaitingCall {
                call_id: id_of(row.call_id),
                queue: row.queue,
                caller_number: (me.is_admin() || row.ringing_agent == Some(me.id.0))
                    .then_some(row.caller_number),
                customer_id: row.customer_id.map(id_of),
                queued_at: row.queued_at,
                wait_secs: (now - row.queued_at).num_seconds().max(0),
                ringing_agent_id: row.ringing_agent.map(id_of),
                attempts: row.attempts,
            })
            .collect();
        let counts = worker_model::active_by_state(&app.pool)
            .await
            .map_err(read_error)?;
        let agents = [
            PresenceState::Available,
            PresenceState::Offered,
            PresenceState::OnCall,
            PresenceState::WrapUp,
            PresenceState::Paused,
            PresenceState::Offline,
        ]
        .into_iter()
        .map(|state| AgentsInState {
            state,
            count: counts
                .iter()
                .find(|(text, _)| text == state.as_stored())
                .map_or(0, |(_, count)| *count),
        })
        .collect();
        let settings = app
            .settings
            .snapshot()
            .queue(domain::settings::DEFAULT_QUEUE);
        Ok(QueueStatus {
            oldest_wait_secs: waiting.iter().map(|call| call.wait_secs).max().unwrap_or(0),
            waiting,
            agents,
            settings: QueueSettings {
                offer_timeout_secs: secs(settings.offer_timeout_secs),
                wrap_up_secs: secs(settings.wrap_up_secs),
                max_wait_secs: secs(settings.max_wait_secs),
                max_queue_length: secs(settings.max_queue_length),
            },
        })
    }
}

fn secs(value: impl TryInto<i64>) -> i64 {
    value.try_into().unwrap_or(i64::MAX)
}
