//! `/metrics` in the Prometheus text format: counters kept in [`AppState`] (plain maps behind
//! a mutex: a handful of updates per request), plus gauges read from the database (projector
//! lag), cached for `SAVECORP_METRICS_CACHE_MS` so scrapes cost at most one query per period
//! however many come. With `SAVECORP_METRICS_TOKEN` set, a scrape must present it as a bearer
//! token (else 401).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
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
    /// The gauges read from the database, and when (one reader at a time: concurrent scrapes
    /// wait for it and share its text).
    database_gauges: tokio::sync::Mutex<Option<(std::time::Instant, String)>>,
    /// Database reads made for `/metrics` (to see the cache work).
    database_reads: std::sync::atomic::AtomicU64,
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
    out.push_str(&database_gauges(state).await);
    out
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
            .and_then(crate::http::bearer)
            .unwrap_or("");
        if !constant_time_eq(presented.as_bytes(), expected.as_bytes()) {
            let mut response = crate::http::graphql_error(
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
