//! `/metrics` in the Prometheus text format: counters kept in [`AppState`] (plain maps behind
//! a mutex: a handful of updates per request), plus gauges read when scraped (projector lag).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The counters of one server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (method, route template, status) → requests.
    http: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// GraphQL error code → errors answered.
    graphql_errors: Mutex<BTreeMap<String, u64>>,
    /// Subscription name → live subscriptions.
    subscriptions: Mutex<BTreeMap<&'static str, i64>>,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    if let Ok(mut map) = map.lock() {
        *map.entry(key).or_default() += 1;
    }
}

impl Metrics {
    pub fn count_request(&self, method: &str, route: &str, status: u16) {
        bump(&self.http, (method.to_owned(), route.to_owned(), status));
    }

    pub fn count_graphql_error(&self, code: &str) {
        bump(&self.graphql_errors, code.to_owned());
    }

    fn add_subscription(&self, name: &'static str, delta: i64) {
        if let Ok(mut map) = self.subscriptions.lock() {
            *map.entry(name).or_default() += delta;
        }
    }

    /// Counts a live subscription until the guard is dropped.
    pub fn subscription(self: &std::sync::Arc<Self>, name: &'static str) -> SubscriptionGuard {
        self.add_subscription(name, 1);
        SubscriptionGuard {
            metrics: self.clone(),
            name,
        }
    }
}

/// Held by a live subscription's stream.
pub struct SubscriptionGuard {
    metrics: std::sync::Arc<Metrics>,
    name: &'static str,
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.metrics.add_subscription(self.name, -1);
    }
}

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
    match projections::projector::status(&state.pool).await {
        Ok(statuses) => {
            out.push_str(
                "# HELP savecorp_projector_lag_events Readable events a projection has not applied.\n",
            );
            out.push_str("# TYPE savecorp_projector_lag_events gauge\n");
            for status in &statuses {
                let _ = writeln!(
                    out,
                    "savecorp_projector_lag_events{{projection=\"{}\"}} {}",
                    status.name, status.lag
                );
            }
            out.push_str(
                "# HELP savecorp_projector_checkpoint_position Global log position a projection has applied.\n",
            );
            out.push_str("# TYPE savecorp_projector_checkpoint_position gauge\n");
            for status in &statuses {
                let _ = writeln!(
                    out,
                    "savecorp_projector_checkpoint_position{{projection=\"{}\"}} {}",
                    status.name, status.checkpoint.position
                );
            }
        }
        Err(error) => tracing::warn!(%error, "metrics: projector status unavailable"),
    }
    out
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
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
