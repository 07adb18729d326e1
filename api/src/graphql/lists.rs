//! The list queries (PRODUCT §10, §11): `workers`, `customers`, `customerByNumber`, `calls`,
//! `requests`, `requestAlerts`, `queueStatus`. They read the read models (so they can lag the
//! log by a moment; mutations wait for them, see [`wait_for_read_models`]).
//!
//! Every list is a Relay connection paged by keyset over `(sort key, id)` in both directions,
//! with a `totalCount` of the rows matching the filters. Sort keys are allow-listed enums;
//! searches are case-insensitive substrings with the LIKE wildcards escaped.

use std::time::Duration;

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use domain::values::{PhoneNumber, Role};
use journal::LogPosition;
use projections::readmodels::calls::CallRow;
use projections::readmodels::customers::CustomerRow;
use projections::readmodels::requests::RequestRow;
use projections::readmodels::workers::{like_pattern, WorkerRow};
use projections::readmodels::{customers as customer_model, queue};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::calls::{outcome_keywords, CallOutcomeValue, CallStateValue, CallView};
use super::connection::{page, CursorKey, Direction, Page, PageRequest};
use super::context::{parse_id, require_worker, state};
use super::customers::CustomerView;
use super::error::ApiError;
use super::requests::{PriorityValue, RequestStatusValue, RequestTypeValue, RequestView};
use super::workers::{PresenceState, RoleValue, WorkerPresence, WorkerView};
use crate::state::AppState;

/// How long a mutation waits for the read models to show its events before answering anyway.
pub const READ_YOUR_WRITES_TIMEOUT: Duration = Duration::from_secs(2);

/// Waits (at most [`READ_YOUR_WRITES_TIMEOUT`]) until the read models `names` (all when empty)
/// have applied `position`, so a list read right after a mutation shows it. A timeout or a
/// database error is logged and ignored: the mutation has been committed either way.
pub async fn wait_for_read_models(state: &AppState, names: &[&str], position: LogPosition) {
    if let Err(error) = state
        .projector
        .wait_for(names, position, READ_YOUR_WRITES_TIMEOUT)
        .await
    {
        tracing::debug!(%error, "read models did not catch up in time");
    }
}

// ---- keyset paging over a read-model table ----

/// A bound value of a list filter.
#[derive(Clone, Debug)]
enum Param {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    Time(Option<DateTime<Utc>>),
    Bool(Option<bool>),
    TextList(Vec<String>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortType {
    Text,
    Time,
}

/// What a list reads: `filter` refers to its parameters as `?1`, `?2`, … (renumbered here).
struct ListSpec<'a> {
    table: &'a str,
    id_column: &'a str,
    sort_column: &'a str,
    sort_type: SortType,
    filter: &'a str,
}

type PgQuery<'q> =
    sqlx::query::QueryScalar<'q, sqlx::Postgres, serde_json::Value, sqlx::postgres::PgArguments>;

fn bind_param<'q>(query: PgQuery<'q>, param: &Param) -> PgQuery<'q> {
    match param.clone() {
        Param::Uuid(value) => query.bind(value),
        Param::Text(value) => query.bind(value),
        Param::Time(value) => query.bind(value),
        Param::Bool(value) => query.bind(value),
        Param::TextList(value) => query.bind(value),
    }
}

/// `filter` with `?n` replaced by `$(n + offset)` (highest first, so `?1` never eats `?10`).
fn renumber(filter: &str, count: usize, offset: usize) -> String {
    let mut sql = filter.to_owned();
    for index in (1..=count).rev() {
        sql = sql.replace(&format!("?{index}"), &format!("${}", index + offset));
    }
    sql
}

/// A cursor's sort value, checked against the type of the sort key.
fn cursor_bound(
    key: &Option<CursorKey>,
    sort_type: SortType,
    field: &str,
) -> Result<(Param, Option<Uuid>), ApiError> {
    let Some(key) = key else {
        let empty = match sort_type {
            SortType::Text => Param::Text(None),
            SortType::Time => Param::Time(None),
        };
        return Ok((empty, None));
    };
    let invalid = || ApiError::validation(field, "is not a valid cursor");
    let id = Uuid::parse_str(&key.id).map_err(|_| invalid())?;
    let sort = match sort_type {
        SortType::Text => Param::Text(Some(key.sort.clone())),
        SortType::Time => Param::Time(Some(
            DateTime::parse_from_rfc3339(&key.sort)
                .map_err(|_| invalid())?
                .with_timezone(&Utc),
        )),
    };
    Ok((sort, Some(id)))
}

fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// One page of `spec` (rows decoded into `R`, in ascending order) and the total count (0
/// unless the query selected `totalCount`: counting reads every matching row).
///
/// The SQL has one shape per cursor combination (a bound only when its cursor is given), so
/// that the keyset comparison is an index range condition even under a cached generic plan
/// (`$1 IS NULL OR (key, id) > …` is not).
async fn fetch_page<R: DeserializeOwned>(
    context: &Context<'_>,
    spec: &ListSpec<'_>,
    request: &PageRequest,
    params: &[Param],
) -> Result<(Vec<(CursorKey, R)>, i64), ApiError> {
    let state = state(context)?;
    let ListSpec {
        table,
        id_column,
        sort_column,
        sort_type,
        filter,
    } = spec;
    let cast = match sort_type {
        SortType::Text => "text",
        SortType::Time => "timestamptz",
    };
    let (after_sort, after_id) = cursor_bound(&request.after, *sort_type, "after")?;
    let (before_sort, before_id) = cursor_bound(&request.before, *sort_type, "before")?;
    let order = match request.direction {
        Direction::Forward => "ASC",
        Direction::Backward => "DESC",
    };
    let mut bounds = String::new();
    let mut next = params.len();
    for (given, comparison) in [(after_id.is_some(), ">"), (before_id.is_some(), "<")] {
        if given {
            bounds.push_str(&format!(
                " AND ({sort_column}, {id_column}) {comparison} (${}::{cast}, ${}::uuid)",
                next + 1,
                next + 2
            ));
            next += 2;
        }
    }
    let sql = format!(
        "SELECT to_jsonb(t) FROM {table} t WHERE ({filter}){bounds} \
         ORDER BY {sort_column} {order}, {id_column} {order} LIMIT {limit}",
        filter = renumber(filter, params.len(), 0),
        limit = request.fetch_limit(),
    );
    let mut query = sqlx::query_scalar::<_, serde_json::Value>(&sql);
    for param in params {
        query = bind_param(query, param);
    }
    if after_id.is_some() {
        query = bind_param(query, &after_sort).bind(after_id);
    }
    if before_id.is_some() {
        query = bind_param(query, &before_sort).bind(before_id);
    }
    let values = query.fetch_all(&state.pool).await?;
    let rows = values
        .into_iter()
        .map(|value| {
            let key = CursorKey {
                sort: json_text(&value[*sort_column]),
                id: json_text(&value[*id_column]),
            };
            let row = serde_json::from_value(value).map_err(|error| {
                ApiError::internal(anyhow::Error::new(error).context("read-model row"))
            })?;
            Ok((key, row))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;

    if !context.look_ahead().field("totalCount").exists() {
        return Ok((rows, 0));
    }
    let count_sql = format!(
        "SELECT to_jsonb(count(*)) FROM {table} t WHERE ({filter})",
        filter = renumber(filter, params.len(), 0),
    );
    let mut count = sqlx::query_scalar::<_, serde_json::Value>(&count_sql);
    for param in params {
        count = bind_param(count, param);
    }
    let total = count.fetch_one(&state.pool).await?.as_i64().unwrap_or(0);
    Ok((rows, total))
}

// ---- rows to views ----

fn id_of(uuid: Uuid) -> ID {
    ID(uuid.to_string())
}

fn presence_state(text: &str) -> PresenceState {
    match text {
        "available" => PresenceState::Available,
        "paused" => PresenceState::Paused,
        "offered" => PresenceState::Offered,
        "on_call" => PresenceState::OnCall,
        "wrap_up" => PresenceState::WrapUp,
        _ => PresenceState::Offline,
    }
}

fn presence_keyword(state: PresenceState) -> &'static str {
    match state {
        PresenceState::Offline => "offline",
        PresenceState::Available => "available",
        PresenceState::Paused => "paused",
        PresenceState::Offered => "offered",
        PresenceState::OnCall => "on_call",
        PresenceState::WrapUp => "wrap_up",
    }
}

fn worker_view(row: WorkerRow) -> WorkerView {
    let state = presence_state(&row.state);
    WorkerView {
        id: id_of(row.worker_id),
        version: row.version,
        name: row.name,
        email: row.email,
        role: Role::parse(&row.role)
            .map(RoleValue::from)
            .unwrap_or(RoleValue::Agent),
        endpoint: row.endpoint,
        active: row.active,
        presence: WorkerPresence {
            state,
            reason: row.pause_reason,
            call_id: row.call_id.map(id_of),
            wrap_up_until: row.wrap_up_until,
            since: Some(row.state_since),
        },
        idle_since: row.idle_since,
        shown_to_self: false,
    }
}

fn customer_view(row: CustomerRow, phones: Vec<String>) -> CustomerView {
    CustomerView {
        id: id_of(row.customer_id),
        version: row.version,
        erased: row.erased,
        name: row.name,
        phones,
        email: row.email,
        notes: row.notes,
        avatar_url: row.avatar_url,
    }
}

/// The phone numbers of `customers`, each list sorted.
async fn phones_of(
    state: &AppState,
    customers: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<String>>, ApiError> {
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT customer_id, number FROM customer_phones WHERE customer_id = ANY($1) \
         ORDER BY customer_id, number",
    )
    .bind(customers)
    .fetch_all(&state.pool)
    .await?;
    let mut phones: std::collections::HashMap<Uuid, Vec<String>> = Default::default();
    for (customer, number) in rows {
        phones.entry(customer).or_default().push(number);
    }
    Ok(phones)
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

fn priority_value(text: &str) -> PriorityValue {
    match text {
        "low" => PriorityValue::Low,
        "high" => PriorityValue::High,
        "urgent" => PriorityValue::Urgent,
        _ => PriorityValue::Normal,
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

fn status_keyword(value: RequestStatusValue) -> &'static str {
    match value {
        RequestStatusValue::Open => "open",
        RequestStatusValue::Pending => "pending",
        RequestStatusValue::Solved => "solved",
        RequestStatusValue::Closed => "closed",
    }
}

fn request_view(row: RequestRow) -> RequestView {
    RequestView {
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

fn search_pattern(search: Option<String>) -> Result<Option<String>, ApiError> {
    match search.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) if text.chars().count() > 200 => Err(ApiError::validation(
            "search",
            "must be at most 200 characters",
        )),
        Some(text) => Ok(Some(like_pattern(text))),
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
        let (sort_column, sort_type) = match sort_by {
            WorkerSort::Name => ("name", SortType::Text),
            WorkerSort::StateSince => ("state_since", SortType::Time),
        };
        let spec = ListSpec {
            table: "workers",
            id_column: "worker_id",
            sort_column,
            sort_type,
            filter: "(?1::text IS NULL OR state = ?1) AND (?2::bool IS NULL OR active = ?2) \
                     AND (?3::text IS NULL OR name ILIKE ?3 OR email ILIKE ?3)",
        };
        let params = [
            Param::Text(state_filter.map(|s| presence_keyword(s).to_owned())),
            Param::Bool(active),
            Param::Text(search_pattern(search)?),
        ];
        let (rows, total) = fetch_page::<WorkerRow>(context, &spec, &request, &params).await?;
        let rows = rows
            .into_iter()
            .map(|(key, row)| (key, worker_view(row)))
            .collect();
        Ok(page(&request, rows, total))
    }

    /// Live customers (any worker); `search` matches name or email.
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
        let sort_column = match sort_by {
            CustomerSort::RegisteredAt => "registered_at",
            CustomerSort::UpdatedAt => "updated_at",
        };
        let spec = ListSpec {
            table: "customers",
            id_column: "customer_id",
            sort_column,
            sort_type: SortType::Time,
            filter: "NOT erased AND (?1::text IS NULL OR name ILIKE ?1 OR email ILIKE ?1)",
        };
        let params = [Param::Text(search_pattern(search)?)];
        let app = state(context)?;
        let (rows, total) = fetch_page::<CustomerRow>(context, &spec, &request, &params).await?;
        let ids: Vec<Uuid> = rows.iter().map(|(_, row)| row.customer_id).collect();
        let mut phones = phones_of(app, &ids).await?;
        let rows = rows
            .into_iter()
            .map(|(key, row)| {
                let numbers = phones.remove(&row.customer_id).unwrap_or_default();
                (key, customer_view(row, numbers))
            })
            .collect();
        Ok(page(&request, rows, total))
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
        Ok(Some(customer_view(row, phones)))
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
        // Only the filters given are in the SQL, so each combination has its own statement
        // (and plan): a caller number, an outcome, an agent or a customer is an equality on
        // the first column of `calls_caller_number`, `calls_outcome`, `calls_agent` or
        // `calls_customer`, each ordered by `queued_at` next, so a page is an index range scan.
        let mut conditions: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        let mut add = |condition: &str, param: Param| {
            params.push(param);
            conditions.push(condition.replace('?', &format!("?{}", params.len())));
        };
        if let Some(customer) = uuid_arg(customer_id.as_ref(), "customerId")? {
            add("customer_id = ?::uuid", Param::Uuid(Some(customer)));
        }
        if let Some(agent) = agent {
            add("agent_id = ?::uuid", Param::Uuid(Some(agent)));
        }
        if let Some(state_filter) = state_filter {
            add(
                "status = ?::text",
                Param::Text(Some(call_keyword(state_filter).to_owned())),
            );
        }
        if let Some(number) = caller_number {
            add("caller_number = ?::text", Param::Text(Some(number)));
        }
        if let Some(outcome) = outcome {
            match outcome_keywords(outcome) {
                [keyword] => add(
                    "outcome = ?::text",
                    Param::Text(Some((*keyword).to_owned())),
                ),
                keywords => add(
                    "outcome = ANY(?::text[])",
                    Param::TextList(keywords.iter().map(|k| (*k).to_owned()).collect()),
                ),
            }
        }
        if let Some(from) = queued_from {
            add("queued_at >= ?::timestamptz", Param::Time(Some(from)));
        }
        if let Some(until) = queued_until {
            add("queued_at < ?::timestamptz", Param::Time(Some(until)));
        }
        let filter = if conditions.is_empty() {
            "TRUE".to_owned()
        } else {
            conditions.join(" AND ")
        };
        let spec = ListSpec {
            table: "calls",
            id_column: "call_id",
            sort_column: "queued_at",
            sort_type: SortType::Time,
            filter: &filter,
        };
        let (rows, total) = fetch_page::<CallRow>(context, &spec, &request, &params).await?;
        let rows = rows
            .into_iter()
            .map(|(key, row)| (key, CallView::from_row(row)))
            .collect();
        Ok(page(&request, rows, total))
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
        let sort_column = match sort_by {
            RequestSort::OpenedAt => "opened_at",
            RequestSort::DueAt => "due_at",
            RequestSort::UpdatedAt => "updated_at",
        };
        let spec = ListSpec {
            table: "requests",
            id_column: "request_id",
            sort_column,
            sort_type: SortType::Time,
            filter:
                "(?1::uuid IS NULL OR customer_id = ?1) AND (?2::uuid IS NULL OR assignee = ?2) \
                     AND (?3::text IS NULL OR status = ?3) AND (?4::text IS NULL OR priority = ?4) \
                     AND (?5::timestamptz IS NULL OR opened_at >= ?5) \
                     AND (?6::timestamptz IS NULL OR opened_at < ?6) \
                     AND (?7::timestamptz IS NULL OR due_at >= ?7) \
                     AND (?8::timestamptz IS NULL OR due_at < ?8) \
                     AND (?9::text IS NULL OR message ILIKE ?9)",
        };
        let params = [
            Param::Uuid(uuid_arg(customer_id.as_ref(), "customerId")?),
            Param::Uuid(uuid_arg(assignee_id.as_ref(), "assigneeId")?),
            Param::Text(status.map(|s| status_keyword(s).to_owned())),
            Param::Text(priority.map(|p| priority_keyword(p).to_owned())),
            Param::Time(opened_from),
            Param::Time(opened_until),
            Param::Time(due_from),
            Param::Time(due_until),
            Param::Text(search_pattern(search)?),
        ];
        let (rows, total) = fetch_page::<RequestRow>(context, &spec, &request, &params).await?;
        let rows = rows
            .into_iter()
            .map(|(key, row)| (key, request_view(row)))
            .collect();
        Ok(page(&request, rows, total))
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
        let spec = ListSpec {
            table: "requests",
            id_column: "request_id",
            sort_column: "due_at",
            sort_type: SortType::Time,
            filter: "alert <> 'none' AND status IN ('open', 'pending')",
        };
        let (rows, total) = fetch_page::<RequestRow>(context, &spec, &request, &[]).await?;
        let rows = rows
            .into_iter()
            .map(|(key, row)| {
                let alert = if row.alert == "overdue" {
                    RequestAlertKind::Overdue
                } else {
                    RequestAlertKind::DueSoon
                };
                (
                    key,
                    RequestAlert {
                        alert,
                        request: request_view(row),
                    },
                )
            })
            .collect();
        Ok(page(&request, rows, total))
    }

    /// The calls waiting now, the active agents by state, and the queue's settings (any
    /// worker).
    async fn queue_status(&self, context: &Context<'_>) -> Result<QueueStatus, ApiError> {
        let me = require_worker(context)?;
        let app = state(context)?;
        let now = Utc::now();
        let waiting: Vec<WaitingCall> = queue::waiting(&app.pool, None)
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
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, count(*) FROM workers WHERE active GROUP BY state ORDER BY state",
        )
        .fetch_all(&app.pool)
        .await?;
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
                .find(|(text, _)| text == presence_keyword(state))
                .map_or(0, |(_, count)| *count),
        })
        .collect();
        let settings = &app.queue;
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

/// A read-model read that failed.
pub fn read_error(error: projections::readmodels::ReadError) -> ApiError {
    match error {
        projections::readmodels::ReadError::InvalidCursor => {
            ApiError::validation("after", "is not a valid cursor")
        }
        projections::readmodels::ReadError::Database(error) => error.into(),
        other => ApiError::internal(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_placeholders_are_renumbered_without_clashing() {
        let filter = "?1 = a AND ?10 = b AND ?2 = c";
        assert_eq!(renumber(filter, 10, 4), "$5 = a AND $14 = b AND $6 = c");
        assert_eq!(renumber(filter, 10, 0), "$1 = a AND $10 = b AND $2 = c");
    }

    #[test]
    fn a_cursor_must_hold_a_uuid_and_a_value_of_the_sort_type() {
        let good = CursorKey {
            sort: "2026-11-27T06:42:08.123456+00:00".into(),
            id: Uuid::nil().to_string(),
        };
        assert!(cursor_bound(&Some(good.clone()), SortType::Time, "after").is_ok());
        let bad_time = CursorKey {
            sort: "yesterday".into(),
            ..good.clone()
        };
        let error = cursor_bound(&Some(bad_time), SortType::Time, "after").expect_err("bad");
        assert_eq!(error.code(), "VALIDATION");
        let bad_id = CursorKey {
            id: "42".into(),
            ..good
        };
        assert!(cursor_bound(&Some(bad_id), SortType::Text, "before").is_err());
    }
}
