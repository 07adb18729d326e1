//! `/metrics` in the Prometheus text format: the counters kept in [`AppState`] (`counters.rs`: plain maps behind
//! a mutex: a handful of updates per request; the GraphQL mutation latency histogram, timed by
//! the [`MutationTimer`] extension; the ARI link of this server), plus gauges read from the
//! database (projector lag, calls waiting, workers by state, mail outbox, backup customers by
//! status), cached for `SAVECORP_METRICS_CACHE_MS` so scrapes cost at most one round of
//! queries per period however many come. With `SAVECORP_METRICS_TOKEN` set, a scrape must
//! present it as a bearer token (else 401).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::counters::MUTATION_BUCKETS;
use crate::transport::state::AppState;

/// The presence states of `workers.state`, always exported (0 when nobody is in one).
const WORKER_STATES: [&str; 6] = [
    "offline",
    "available",
    "paused",
    "offered",
    "on_call",
    "wrap_up",
];

/// The backup statuses exported (0 when no customer has one): the API's `backupStatus` names.
const BACKUP_STATUSES: [&str; 7] = [
    "new",
    "up",
    "grace",
    "down",
    "paused",
    "running",
    "unmonitored",
];

/// A label value, escaped as the text format wants.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Counts every request by method, route template and status.
pub async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    state
        .metrics
        .count_request(&method, &route, response.status().as_u16());
    response
}

/// The text of `/metrics`.
pub async fn render(state: &AppState) -> String {
    let mut out = String::new();
    let metrics = &state.metrics;
    out.push_str("# HELP savecorp_http_requests_total HTTP requests answered.\n");
    out.push_str("# TYPE savecorp_http_requests_total counter\n");
    if let Ok(map) = metrics.http.lock() {
        for ((method, route, status), count) in map.iter() {
            let _ = writeln!(
                out,
                "savecorp_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
                label(method),
                label(route)
            );
        }
    }
    out.push_str("# HELP savecorp_graphql_errors_total GraphQL errors answered, by code.\n");
    out.push_str("# TYPE savecorp_graphql_errors_total counter\n");
    if let Ok(map) = metrics.graphql_errors.lock() {
        for (code, count) in map.iter() {
            let _ = writeln!(
                out,
                "savecorp_graphql_errors_total{{code=\"{}\"}} {count}",
                label(code)
            );
        }
    }
    out.push_str("# HELP savecorp_live_subscriptions Live GraphQL subscriptions, by name.\n");
    out.push_str("# TYPE savecorp_live_subscriptions gauge\n");
    if let Ok(map) = metrics.subscriptions.lock() {
        for (name, count) in map.iter() {
            let _ = writeln!(
                out,
                "savecorp_live_subscriptions{{subscription=\"{name}\"}} {count}"
            );
        }
    }
    out.push_str(
        "# HELP savecorp_graphql_mutation_duration_seconds Execution time of GraphQL mutation \
         operations (their commands and read-your-writes waits; parsing, validation and HTTP \
         excluded).\n",
    );
    out.push_str("# TYPE savecorp_graphql_mutation_duration_seconds histogram\n");
    if let Ok(histogram) = metrics.mutations.lock() {
        for (bound, count) in MUTATION_BUCKETS.iter().zip(histogram.buckets.iter()) {
            let _ = writeln!(
                out,
                "savecorp_graphql_mutation_duration_seconds_bucket{{le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "savecorp_graphql_mutation_duration_seconds_bucket{{le=\"+Inf\"}} {count}\n\
             savecorp_graphql_mutation_duration_seconds_sum {sum}\n\
             savecorp_graphql_mutation_duration_seconds_count {count}",
            count = histogram.count,
            sum = histogram.sum
        );
    }
    ari_link(state, &mut out);
    out.push_str(&database_gauges(state).await);
    out
}

/// This server's ARI events link: whether it leads telephony, whether its socket is up, and
/// its reconnections (live values, not cached).
fn ari_link(state: &AppState, out: &mut String) {
    use crate::telephony::AriLinkState;
    let link = state.ari_link.get();
    let leader = u8::from(link != AriLinkState::Standby);
    let connected = u8::from(link == AriLinkState::Connected);
    let _ = writeln!(
        out,
        "# HELP savecorp_telephony_leader 1 when this server holds the telephony leadership (it \
         alone connects to ARI).\n\
         # TYPE savecorp_telephony_leader gauge\n\
         savecorp_telephony_leader {leader}"
    );
    if leader == 1 {
        let _ = writeln!(
            out,
            "# HELP savecorp_ari_connected 1 when the leader's ARI events WebSocket is connected, \
             0 when it is down (exported by the leader only).\n\
             # TYPE savecorp_ari_connected gauge\n\
             savecorp_ari_connected {connected}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP savecorp_ari_reconnects_total Times this server's ARI events WebSocket connected \
         again after its first connection (after a drop, or in a new leadership term).\n\
         # TYPE savecorp_ari_reconnects_total counter\n\
         savecorp_ari_reconnects_total {}",
        state.ari_link.connections().saturating_sub(1)
    );
}

/// The call center and backup gauges read from the read models (and the mail outbox).
async fn operations_gauges(state: &AppState, text: &mut String) {
    let calls: Result<(i64, Option<chrono::DateTime<chrono::Utc>>), _> =
        sqlx::query_as("SELECT count(*), min(queued_at) FROM queue_calls")
            .fetch_one(&state.pool)
            .await;
    match calls {
        Ok((waiting, oldest)) => {
            let oldest_wait = oldest.map_or(0.0, |queued_at| {
                (chrono::Utc::now() - queued_at).num_milliseconds().max(0) as f64 / 1000.0
            });
            let _ = writeln!(
                text,
                "# HELP savecorp_calls_waiting Calls waiting in the queue right now (queued or \
                 ringing an agent).\n\
                 # TYPE savecorp_calls_waiting gauge\n\
                 savecorp_calls_waiting {waiting}\n\
                 # HELP savecorp_calls_oldest_wait_seconds How long the longest waiting call has \
                 waited (0 when none waits).\n\
                 # TYPE savecorp_calls_oldest_wait_seconds gauge\n\
                 savecorp_calls_oldest_wait_seconds {oldest_wait}"
            );
        }
        Err(error) => tracing::warn!(%error, "metrics: queue_calls unavailable"),
    }

    let workers: Result<Vec<(String, i64)>, _> =
        sqlx::query_as("SELECT state, count(*) FROM workers WHERE active GROUP BY state")
            .fetch_all(&state.pool)
            .await;
    match workers {
        Ok(rows) => {
            let mut by_state: BTreeMap<String, i64> = WORKER_STATES
                .iter()
                .map(|name| ((*name).to_owned(), 0))
                .collect();
            by_state.extend(rows);
            text.push_str(
                "# HELP savecorp_workers Active workers (agents, supervisors, admins) by presence \
                 state.\n# TYPE savecorp_workers gauge\n",
            );
            for (name, count) in &by_state {
                let _ = writeln!(
                    text,
                    "savecorp_workers{{state=\"{}\"}} {count}",
                    label(name)
                );
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: workers unavailable"),
    }

    let mail: Result<(i64, i64, i64), _> = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE sent_at IS NULL AND gave_up_at IS NULL), \
                count(*) FILTER (WHERE sent_at IS NULL AND gave_up_at IS NULL \
                                   AND last_error IS NOT NULL), \
                count(*) FILTER (WHERE gave_up_at IS NOT NULL) \
           FROM mail_outbox",
    )
    .fetch_one(&state.pool)
    .await;
    match mail {
        Ok((backlog, retrying, given_up)) => {
            let _ = writeln!(
                text,
                "# HELP savecorp_mail_outbox_backlog Mails not sent yet and not given up.\n\
                 # TYPE savecorp_mail_outbox_backlog gauge\n\
                 savecorp_mail_outbox_backlog {backlog}\n\
                 # HELP savecorp_mail_outbox_retrying Mails of the backlog whose last attempt \
                 failed (they have a last_error).\n\
                 # TYPE savecorp_mail_outbox_retrying gauge\n\
                 savecorp_mail_outbox_retrying {retrying}\n\
                 # HELP savecorp_mail_outbox_given_up Mails given up after their last attempt \
                 (never sent).\n\
                 # TYPE savecorp_mail_outbox_given_up gauge\n\
                 savecorp_mail_outbox_given_up {given_up}"
            );
        }
        Err(error) => tracing::warn!(%error, "metrics: mail_outbox unavailable"),
    }

    let backups: Result<Vec<serde_json::Value>, _> =
        sqlx::query_scalar("SELECT to_jsonb(t) FROM backup_status t")
            .fetch_all(&state.pool)
            .await;
    match backups {
        Ok(rows) => {
            let now = state.backup.now();
            let mut by_status: BTreeMap<&'static str, i64> =
                BACKUP_STATUSES.iter().map(|name| (*name, 0)).collect();
            for row in rows {
                use projections::readmodels::backups::{status_at, BackupStatusRow};
                let Ok(row) = serde_json::from_value::<BackupStatusRow>(row) else {
                    continue;
                };
                let status = if row.plan.is_none() {
                    "unmonitored"
                } else {
                    crate::backup::service::status_name(status_at(&row, now))
                };
                *by_status.entry(status).or_default() += 1;
            }
            text.push_str(
                "# HELP savecorp_backup_customers Customers with backup monitoring facts, by \
                 status at scrape time (grace and down computed with the clock).\n\
                 # TYPE savecorp_backup_customers gauge\n",
            );
            for (status, count) in &by_status {
                let _ = writeln!(
                    text,
                    "savecorp_backup_customers{{status=\"{status}\"}} {count}"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: backup_status unavailable"),
    }
}

/// Times the execution of every GraphQL mutation operation (over HTTP or a WebSocket) into
/// `savecorp_graphql_mutation_duration_seconds`: from the start of execution to the response,
/// so the commands run and the waits for read models; not parsing, validation nor HTTP.
pub struct MutationTimer;

impl async_graphql::extensions::ExtensionFactory for MutationTimer {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(MutationTimerExtension::default())
    }
}

/// One request's timer: the operations of its document (name, is a mutation), for `execute`
/// to know whether the selected one is a mutation.
#[derive(Default)]
struct MutationTimerExtension {
    operations: Mutex<Vec<(Option<String>, bool)>>,
}

#[async_graphql::async_trait::async_trait]
impl async_graphql::extensions::Extension for MutationTimerExtension {
    async fn parse_query(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        query: &str,
        variables: &async_graphql::Variables,
        next: async_graphql::extensions::NextParseQuery<'_>,
    ) -> async_graphql::ServerResult<async_graphql::parser::types::ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        if let Ok(mut operations) = self.operations.lock() {
            *operations = document
                .operations
                .iter()
                .map(|(name, operation)| {
                    (
                        name.map(|name| name.to_string()),
                        operation.node.ty == async_graphql::parser::types::OperationType::Mutation,
                    )
                })
                .collect();
        }
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: async_graphql::extensions::NextExecute<'_>,
    ) -> async_graphql::Response {
        // Without a name the document has a single operation (else it was refused before).
        let mutation = self.operations.lock().is_ok_and(|operations| {
            operations.iter().any(|(name, mutation)| {
                *mutation && (operation_name.is_none() || name.as_deref() == operation_name)
            })
        });
        if !mutation {
            return next.run(ctx, operation_name).await;
        }
        let started = std::time::Instant::now();
        let response = next.run(ctx, operation_name).await;
        if let Some(state) = ctx.data_opt::<AppState>() {
            state.metrics.observe_mutation(started.elapsed());
        }
        response
    }
}

/// The gauges read from the database, from the cache when younger than
/// `SAVECORP_METRICS_CACHE_MS`.
async fn database_gauges(state: &AppState) -> String {
    let max_age = std::time::Duration::from_millis(state.http.metrics_cache_ms);
    let mut cache = state.metrics.database_gauges.lock().await;
    if let Some((read_at, text)) = cache.as_ref() {
        if read_at.elapsed() < max_age {
            return text.clone();
        }
    }
    let mut text = String::new();
    state
        .metrics
        .database_reads
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match projections::projector::status(&state.pool).await {
        Ok(statuses) => {
            text.push_str(
                "# HELP savecorp_projector_lag_events Readable events a projection has not applied.\n",
            );
            text.push_str("# TYPE savecorp_projector_lag_events gauge\n");
            for status in &statuses {
                let _ = writeln!(
                    text,
                    "savecorp_projector_lag_events{{projection=\"{}\"}} {}",
                    status.name, status.lag
                );
            }
            text.push_str(
                "# HELP savecorp_projector_checkpoint_position Global log position a projection has applied.\n",
            );
            text.push_str("# TYPE savecorp_projector_checkpoint_position gauge\n");
            for status in &statuses {
                let _ = writeln!(
                    text,
                    "savecorp_projector_checkpoint_position{{projection=\"{}\"}} {}",
                    status.name, status.checkpoint.position
                );
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: projector status unavailable"),
    }
    operations_gauges(state, &mut text).await;
    let _ = writeln!(
        text,
        "# HELP savecorp_metrics_database_reads_total Database reads made for /metrics (cached).\n\
         # TYPE savecorp_metrics_database_reads_total counter\n\
         savecorp_metrics_database_reads_total {}",
        state
            .metrics
            .database_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    );
    *cache = Some((std::time::Instant::now(), text.clone()));
    text
}

/// `GET /metrics`: 401 without the configured bearer token (when one is set).
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = state
        .http
        .metrics_token
        .as_deref()
        .filter(|token| !token.is_empty())
    {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(crate::transport::edge::bearer)
            .unwrap_or("");
        if !constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
            let mut response = crate::transport::edge::graphql_error(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "/metrics needs the metrics bearer token",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"metrics\""),
            );
            return response;
        }
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&state).await,
    )
        .into_response()
}

/// Compares two secrets in time independent of where they differ (their hashes, so the length
/// does not leak either).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::Digest as _;
    let (a, b) = (sha2::Sha256::digest(a), sha2::Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |diff, (x, y)| diff | (x ^ y))
        == 0
}
