//! The HTTP surface: `/graphql` (queries and mutations on POST; on GET, GraphiQL, or the
//! `graphql-transport-ws` WebSocket for subscriptions), `/healthz`, `/readyz`, `/metrics`,
//! and the CSV exports (`/export/calls.csv`, `/export/requests.csv`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::body::Body;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{FutureExt as _, SinkExt as _, StreamExt as _};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::auth::sessions;
use crate::auth::tokens::AccessClaims;
pub use crate::transport::edge::CONTENT_SECURITY_POLICY;
use crate::transport::edge::{bearer, graphql_error};
use crate::transport::graphql::context::RequestContext;
use crate::transport::graphql::error::ApiError;
use crate::transport::graphql::events::SubscriptionSlots;
use crate::transport::graphql::{build_schema, ApiSchema};
use crate::transport::state::AppState;
use crate::transport::{HttpConfig, IntrospectionAccess};

/// Largest request body accepted anywhere (GraphQL documents and variables).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much a WebSocket read asks of the socket at once (see `graphql_get`).
const WEBSOCKET_READ_BUFFER_BYTES: usize = 4 * 1024;
/// Largest WebSocket message (and frame) accepted from a client.
pub const MAX_WEBSOCKET_MESSAGE_BYTES: usize = 64 * 1024;

/// WebSocket close codes (graphql-transport-ws uses 4400-4499 for its own).
pub mod close_code {
    /// A bad or expired token at `connection_init` or at re-authentication, credentials
    /// changed, or the access token expired without re-authentication.
    pub const FORBIDDEN: u16 = 4403;
    /// No `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// The worker already has as many connections open as allowed.
    pub const TOO_MANY_CONNECTIONS: u16 = 4429;
    /// The client answered no keepalive ping in two intervals.
    pub const KEEPALIVE_TIMEOUT: u16 = 1001;
}

#[derive(Clone)]
struct GraphqlState {
    app: AppState,
    schema: ApiSchema,
    sockets: Arc<SocketCounts>,
}

pub fn router(state: AppState) -> Router {
    let schema = build_schema(state.clone());
    let graphql = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .merge(crate::transport::graphiql::routes())
        .with_state(GraphqlState {
            app: state.clone(),
            schema,
            sockets: Arc::default(),
        });
    // The ping routes stream large manifests and enforce their own limits, so they are merged
    // after the global body limit and the body read timeout.
    let ingest = crate::transport::ping::routes().with_state(state.clone());
    let body_timeout = Duration::from_millis(state.http.body_read_timeout_ms);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::transport::metrics::metrics))
        .route(
            "/export/calls.csv",
            get(crate::transport::export::calls_csv),
        )
        .route(
            "/export/requests.csv",
            get(crate::transport::export::requests_csv),
        )
        .with_state(state.clone())
        .merge(graphql)
        .layer(axum::middleware::from_fn_with_state(
            body_timeout,
            read_body_in_time,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::map_response(too_large_as_json))
        .merge(ingest)
        .fallback(crate::webapp::serve)
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::transport::metrics::count_requests,
        ))
        .layer(axum::middleware::map_response(security_headers))
}

/// Serves `router` on `listener` until `shutdown` is cancelled, then lets the open requests
/// finish. HTTP/1.1 with upgrades (WebSocket); a client that does not send a request's headers
/// within `header_read_timeout_ms` (a silent new connection included) is disconnected.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    settings: &HttpConfig,
    shutdown: CancellationToken,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_millis(settings.header_read_timeout_ms));
    // Every connection's task holds a receiver; the sender sees them all gone once they ended.
    let (ended, connections) = tokio::sync::watch::channel(());
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait a moment rather than spin.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                    () = shutdown.cancelled() => break,
                }
            }
        };
        // Small frames (a subscription's next event, a response after its headers) go out at
        // once: with Nagle's algorithm a write waits for the peer's delayed ACK (40 ms).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY could not be set");
        }
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                let mut router = router.clone();
                async move {
                    use tower::Service as _;
                    router.call(request.map(Body::new)).await
                }
            },
        );
        let connection = builder
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .with_upgrades();
        let (connections, shutdown) = (connections.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = shutdown.cancelled() => {
                    // Finish the request in progress, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::trace!(%error, "connection ended with an error");
            }
            drop(connections);
        });
    }
    drop(listener);
    drop(connections);
    ended.closed().await;
}

/// Sets the security headers on every response (API, GraphiQL, exports, health, ping).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Reads the whole body (at most [`MAX_BODY_BYTES`], enforced by the limit layer around)
/// within `timeout`, else answers 408: a client that starts a body and goes silent does not
/// hold the request open.
async fn read_body_in_time(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, usize::MAX)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(error)) => {
            let too_large = std::error::Error::source(&error)
                .and_then(|source| source.downcast_ref::<http_body_util::LengthLimitError>())
                .is_some()
                || error
                    .into_inner()
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some();
            if too_large {
                BadRequest(async_graphql::ParseRequestError::PayloadTooLarge).into_response()
            } else {
                graphql_error(
                    StatusCode::BAD_REQUEST,
                    "BAD_REQUEST",
                    "the request body could not be read",
                )
            }
        }
        Err(_) => {
            let mut response = graphql_error(
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                "the request body was not received in time",
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// The body-size limit answers 413 in plain text; clients of `/graphql` get the same JSON error
/// shape as every other refused request.
async fn too_large_as_json(response: Response) -> Response {
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_none_or(|value| !value.starts_with("application/json"));
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && plain {
        return BadRequest(async_graphql::ParseRequestError::PayloadTooLarge).into_response();
    }
    response
}

/// The correlation id of a request: a valid `X-Correlation-Id` header, else a new one.
fn correlation_id(headers: &HeaderMap) -> Uuid {
    headers
        .get("x-correlation-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| Uuid::parse_str(text.trim()).ok())
        .unwrap_or_else(Uuid::now_v7)
}

/// A malformed HTTP request (not JSON, not a GraphQL request): 400 (413 when too large) with
/// a GraphQL-shaped error.
struct BadRequest(async_graphql::ParseRequestError);

impl From<async_graphql::ParseRequestError> for BadRequest {
    fn from(error: async_graphql::ParseRequestError) -> Self {
        Self(error)
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        let (status, message) = match self.0 {
            async_graphql::ParseRequestError::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "the request is too large")
            }
            _ => (
                StatusCode::BAD_REQUEST,
                "the request is not a GraphQL request",
            ),
        };
        let body = json!({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]});
        (status, Json(body)).into_response()
    }
}

/// A worker's access token, or a customer's ingest token (`sci_…`, for `reportBackupRun` and
/// that customer's backup reads); an invalid ingest token is anonymous.
async fn identify_caller(
    app: &AppState,
    token: Option<&str>,
) -> Result<crate::auth::Caller, ApiError> {
    match token {
        Some(token) if token.starts_with("sci_") => {
            match crate::backup::service::authenticate(&app.backup_state(), token).await {
                Ok(identity) => Ok(crate::auth::Caller::IngestToken {
                    token_id: identity.token_id,
                    customer_id: identity.customer_id,
                }),
                Err(crate::backup::service::BackupError::Unauthenticated) => {
                    Ok(crate::auth::Caller::Anonymous)
                }
                Err(crate::backup::service::BackupError::Unavailable) => Err(ApiError::Unavailable),
                Err(error) => Err(ApiError::internal(
                    anyhow::Error::new(error).context("ingest token check"),
                )),
            }
        }
        token => sessions::identify(&app.pool, &app.auth, token)
            .await
            .map_err(ApiError::from),
    }
}

/// Whether a POST's `Content-Type` is one a browser cannot send cross-site without a CORS
/// preflight: `application/json` or `application/graphql-response+json` (any parameters).
/// `text/plain`, form encodings and multipart are refused, so a web page elsewhere cannot make
/// a logged-in browser run a mutation (CSRF).
fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .is_some_and(|essence| {
            essence == "application/json" || essence == "application/graphql-response+json"
        })
}

async fn graphql_post(
    State(state): State<GraphqlState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: Result<GraphQLRequest<BadRequest>, BadRequest>,
) -> Response {
    if !json_content_type(&headers) {
        return graphql_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "a GraphQL POST must have Content-Type: application/json",
        );
    }
    let request = match request {
        Ok(request) => request.into_inner(),
        Err(bad) => return bad.into_response(),
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer);
    let caller = match identify_caller(&state.app, token).await {
        Ok(caller) => caller,
        Err(error) => {
            let response =
                async_graphql::Response::from_errors(vec![
                    async_graphql::Error::from(error).into_server_error(Default::default())
                ]);
            return GraphQLResponse::from(response).into_response();
        }
    };
    let introspection = match state.app.http.introspection {
        IntrospectionAccess::Public => true,
        IntrospectionAccess::Authenticated => {
            matches!(caller, crate::auth::Caller::Worker { .. })
        }
        IntrospectionAccess::Off => false,
    };
    let request = if introspection {
        request
    } else {
        request
            .disable_introspection()
            .data(crate::transport::graphql::limits::IntrospectionDenied)
    };
    let context = RequestContext {
        caller,
        correlation_id: correlation_id(&headers),
        client_address: Some(
            state
                .app
                .auth
                .client_addresses
                .client_address(peer.ip(), &headers),
        ),
    };
    let response = state.schema.execute(request.data(context)).await;
    for error in &response.errors {
        let code = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.as_str()),
                _ => None,
            })
            .unwrap_or("UNKNOWN");
        state.app.metrics.count_graphql_error(code);
    }
    GraphQLResponse::from(response).into_response()
}

/// GraphiQL for a browser (when enabled); the subscription WebSocket for an upgrade request.
async fn graphql_get(
    State(state): State<GraphqlState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let wants_websocket = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    if !wants_websocket {
        return crate::transport::graphiql::page(&state.app.http);
    }
    let correlation = correlation_id(request.headers());
    let client = state
        .app
        .auth
        .client_addresses
        .client_address(peer.ip(), request.headers());
    let (mut parts, _body) = request.into_parts();
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &()).await {
        Ok(protocol) => protocol,
        Err(rejection) => return rejection.into_response(),
    };
    let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let Some(slot) = state.sockets.open(state.app.http.ws_max_connections) else {
        tracing::warn!(%correlation, "WebSocket refused: the server's connection cap is reached");
        return graphql_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "TOO_MANY_CONNECTIONS",
            "too many WebSocket connections on this server: try again later",
        );
    };
    upgrade
        // tungstenite zero-fills this much of its read buffer before every read attempt, and a
        // connection's read side is polled on every wake-up of its task (each message sent):
        // at the 128 KiB default that memset was ~15% of the server's CPU with 100
        // subscribers. Larger messages still arrive whole (the buffer grows to the frame).
        .read_buffer_size(WEBSOCKET_READ_BUFFER_BYTES)
        .max_message_size(MAX_WEBSOCKET_MESSAGE_BYTES)
        .max_frame_size(MAX_WEBSOCKET_MESSAGE_BYTES)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            serve_websocket(state, socket, protocol, correlation, client).await;
            drop(slot);
        })
}

/// Open WebSockets: on this server, and per worker.
#[derive(Debug, Default)]
struct SocketCounts {
    open: AtomicUsize,
    per_worker: Mutex<HashMap<Uuid, usize>>,
}

/// One open WebSocket, counted until dropped.
struct SocketSlot(Arc<SocketCounts>);

impl SocketCounts {
    fn open(self: &Arc<Self>, cap: usize) -> Option<SocketSlot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < cap).then_some(open + 1)
            })
            .ok()
            .map(|_| SocketSlot(self.clone()))
    }

    fn open_for(self: &Arc<Self>, worker: Uuid, cap: usize) -> Option<WorkerSlot> {
        let mut map = self
            .per_worker
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let open = map.entry(worker).or_default();
        if *open >= cap {
            return None;
        }
        *open += 1;
        Some(WorkerSlot {
            counts: self.clone(),
            worker,
        })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One open WebSocket of a worker, counted until dropped.
struct WorkerSlot {
    counts: Arc<SocketCounts>,
    worker: Uuid,
}

impl Drop for WorkerSlot {
    fn drop(&mut self) {
        let mut map = self
            .counts
            .per_worker
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(open) = map.get_mut(&self.worker) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                map.remove(&self.worker);
            }
        }
    }
}

/// What one connection knows about its caller, shared by its tasks.
#[derive(Default)]
struct ConnectionAuth {
    /// The worker's verified claims and the caller they proved (the newest token's claims
    /// after a re-authentication).
    worker: Mutex<Option<(AccessClaims, crate::auth::Caller)>>,
    /// Held while the connection counts against its worker's cap.
    slot: Mutex<Option<WorkerSlot>>,
    /// The close code and reason replacing async-graphql's 1002 when `connection_init` or a
    /// re-authentication is refused.
    refusal: Mutex<Option<(u16, String)>>,
    /// `connection_init` arrived.
    initialised: AtomicBool,
    /// Told when `worker` is set.
    authenticated: tokio::sync::Notify,
}

impl ConnectionAuth {
    fn worker(&self) -> Option<(AccessClaims, crate::auth::Caller)> {
        self.worker
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }

    fn set_worker(&self, claims: AccessClaims, caller: crate::auth::Caller) {
        *self
            .worker
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some((claims, caller));
        self.authenticated.notify_one();
    }

    fn refuse(&self, code: u16, reason: &str) -> async_graphql::Error {
        *self
            .refusal
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some((code, reason.to_owned()));
        async_graphql::Error::new(reason)
    }

    fn refusal(&self) -> Option<(u16, String)> {
        self.refusal
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone()
    }
}

/// Milliseconds since `base` (for an atomic "last heard from the client").
fn millis_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Serves one `graphql-transport-ws` connection. It authenticates at `connection_init` (a bad
/// or expired token: closed 4403; no `connection_init` in time: 4408; the worker's cap of
/// connections reached: 4429). From then on it closes with 4403 when the access token expires
/// unless the client re-authenticated (a `ping` message whose payload carries a fresh token of
/// the same session), or when that worker's credentials change (logout, password change,
/// deactivation, role change: [`crate::auth::watch`]) so they no longer prove the same caller.
/// The server pings every `ws_keepalive_ms` and closes (1001) a client silent for two
/// intervals.
async fn serve_websocket(
    state: GraphqlState,
    socket: WebSocket,
    protocol: GraphQLProtocol,
    correlation: Uuid,
    client: IpAddr,
) {
    let app = state.app.clone();
    let settings = app.http.clone();
    // Subscribed before `connection_init`: a change is only missed if it is notified between
    // the check of the token and the storing of its result (a moment; not closed here).
    let changes = app.credentials.subscribe();
    let auth: Arc<ConnectionAuth> = Arc::default();
    let (mut sink, stream) = socket.split();
    let base = Instant::now();
    let heard = Arc::new(AtomicU64::new(0));
    let stream = stream.inspect({
        let heard = heard.clone();
        move |_| heard.store(millis_since(base), Ordering::Relaxed)
    });
    let (to_client, mut outgoing) = futures::channel::mpsc::channel::<Message>(16);
    let mut connection = Data::default();
    connection.insert(SubscriptionSlots::new());
    let serve = GraphQLWebSocket::new_with_pair(to_client, stream, state.schema.clone(), protocol)
        .with_data(connection)
        .on_connection_init({
            let (app, auth, sockets) = (app.clone(), auth.clone(), state.sockets.clone());
            move |payload| async move {
                auth.initialised.store(true, Ordering::Release);
                authenticate_connection(&app, &sockets, payload, correlation, client, &auth).await
            }
        })
        .on_ping({
            let (app, auth) = (app.clone(), auth.clone());
            move |_data, payload| async move { reauthenticate(&app, payload, &auth).await }
        })
        .serve();
    let keepalive = Duration::from_millis(settings.ws_keepalive_ms);
    let ending = {
        let served = async {
            let forward = async {
                let mut pings =
                    tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
                loop {
                    let message = tokio::select! {
                        message = outgoing.next() => match message {
                            Some(message) => refused_or(&auth, message),
                            None => break,
                        },
                        _ = pings.tick() => Message::Ping(Default::default()),
                    };
                    // Every message already waiting goes into the same write: a subscriber of
                    // a busy log gets its events in one flush (one system call), not one each.
                    if sink.feed(message).await.is_err() {
                        break;
                    }
                    let mut ended = false;
                    while let Some(more) = outgoing.next().now_or_never() {
                        let Some(more) = more else {
                            ended = true;
                            break;
                        };
                        if sink.feed(refused_or(&auth, more)).await.is_err() {
                            ended = true;
                            break;
                        }
                    }
                    if sink.flush().await.is_err() || ended {
                        break;
                    }
                }
            };
            tokio::join!(serve, forward);
        };
        tokio::select! {
            () = served => None,
            () = credentials_lapse(&app, changes, &auth) => {
                Some((close_code::FORBIDDEN, "Forbidden: credentials changed"))
            }
            () = token_expiry(&auth) => Some((close_code::FORBIDDEN, "Forbidden: token expired")),
            () = init_deadline(&auth, Duration::from_millis(settings.ws_init_timeout_ms)) => {
                Some((close_code::INIT_TIMEOUT, "Connection initialisation timeout"))
            }
            () = silence(&heard, base, keepalive) => {
                Some((close_code::KEEPALIVE_TIMEOUT, "keepalive timeout"))
            }
        }
    };
    if let Some((code, reason)) = ending {
        tracing::info!(%correlation, code, reason, "WebSocket closed");
        let close = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Message::Close(Some(close))).await;
        let _ = sink.close().await;
    }
}

/// The message to send for `message` from the GraphQL layer: its protocol-error close (1002)
/// becomes the connection's own refusal when it refused the connection (4403 and the like).
fn refused_or(auth: &ConnectionAuth, message: Message) -> Message {
    match message {
        Message::Close(Some(frame)) if frame.code == 1002 => match auth.refusal() {
            Some((code, reason)) => Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })),
            None => Message::Close(Some(frame)),
        },
        message => message,
    }
}

/// Completes when `connection_init` has not arrived within `timeout`.
async fn init_deadline(auth: &ConnectionAuth, timeout: Duration) {
    tokio::time::sleep(timeout).await;
    if auth.initialised.load(Ordering::Acquire) {
        std::future::pending::<()>().await;
    }
}

/// Completes when nothing came from the client for two keepalive intervals (it answers the
/// server's pings with pongs, so a live client is never silent that long).
async fn silence(heard: &AtomicU64, base: Instant, keepalive: Duration) {
    let limit = u64::try_from(keepalive.as_millis().saturating_mul(2)).unwrap_or(u64::MAX);
    loop {
        tokio::time::sleep(keepalive).await;
        let quiet = millis_since(base).saturating_sub(heard.load(Ordering::Relaxed));
        if quiet > limit {
            return;
        }
    }
}

/// Completes when the connection's access token has expired (never for an anonymous
/// connection); a re-authentication in between moves the deadline.
async fn token_expiry(auth: &ConnectionAuth) {
    loop {
        let expiry = auth.worker().map(|(claims, _)| claims.exp);
        let Some(expiry) = expiry else {
            // Not (yet) a worker: wait until a connection_init authenticates it.
            auth.authenticated.notified().await;
            continue;
        };
        let now = chrono::Utc::now().timestamp_millis();
        let left = expiry.saturating_mul(1000).saturating_sub(now);
        if left <= 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(left.unsigned_abs())).await;
    }
}

/// Completes when the connection's worker no longer has the credentials it authenticated
/// with (never for an anonymous connection).
async fn credentials_lapse(
    app: &AppState,
    mut changes: tokio::sync::broadcast::Receiver<Uuid>,
    auth: &ConnectionAuth,
) {
    loop {
        let worker = match changes.recv().await {
            Ok(worker) => worker,
            // Missed some: check anyway.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Uuid::nil(),
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                return std::future::pending().await
            }
        };
        let Some((claims, caller)) = auth.worker() else {
            continue;
        };
        if !worker.is_nil() && worker != claims.sub {
            continue;
        }
        match sessions::standing(&app.pool, &claims).await {
            Ok(now) if now == caller => {}
            Ok(_) => return,
            // The database cannot tell now: keep the connection (the next change checks again).
            Err(_) => {}
        }
    }
}

/// The token of a `connection_init` or `ping` payload: `{"authorization": "Bearer …"}` or
/// `{"token": "…"}`.
fn payload_token(payload: &serde_json::Value) -> Option<String> {
    payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|value| value.as_str())
        .and_then(bearer)
        .or_else(|| payload.get("token").and_then(|value| value.as_str()))
        .map(str::to_owned)
}

/// `connection_init`: a token (see [`payload_token`]) or none, an anonymous connection
/// (subscriptions then answer `UNAUTHENTICATED`); an invalid or expired one closes it with
/// 4403, a worker over their connection cap with 4429. A worker's verified claims and caller
/// are kept in `auth`.
async fn authenticate_connection(
    app: &AppState,
    sockets: &Arc<SocketCounts>,
    payload: serde_json::Value,
    correlation_id: Uuid,
    client: IpAddr,
    auth: &ConnectionAuth,
) -> async_graphql::Result<Data> {
    let token = payload_token(&payload);
    let caller = sessions::identify(&app.pool, &app.auth, token.as_deref())
        .await
        .map_err(|error| async_graphql::Error::from(ApiError::from(error)))?;
    if token.is_some() && caller == crate::auth::Caller::Anonymous {
        return Err(auth.refuse(close_code::FORBIDDEN, "Forbidden: invalid or expired token"));
    }
    if let (crate::auth::Caller::Worker { id, .. }, Some(claims)) = (
        caller,
        token
            .as_deref()
            .and_then(|token| app.auth.keys.verify(token)),
    ) {
        let Some(slot) = sockets.open_for(id.0, app.http.ws_max_connections_per_worker) else {
            return Err(auth.refuse(
                close_code::TOO_MANY_CONNECTIONS,
                "Too many connections for this worker",
            ));
        };
        *auth
            .slot
            .lock()
            .unwrap_or_else(|poison| poison.into_inner()) = Some(slot);
        auth.set_worker(claims, caller);
    }
    let mut data = Data::default();
    data.insert(RequestContext {
        caller,
        correlation_id,
        client_address: Some(client),
    });
    Ok(data)
}

/// A `ping` from the client: answered with a `pong`. When its payload carries a token (as
/// `connection_init`'s), it re-authenticates the connection: a valid token of the same
/// caller (same worker, role and session, e.g. after a refresh) moves the connection's expiry
/// to the new token's; any other token closes it with 4403.
async fn reauthenticate(
    app: &AppState,
    payload: Option<serde_json::Value>,
    auth: &ConnectionAuth,
) -> async_graphql::Result<Option<serde_json::Value>> {
    let Some(token) = payload.as_ref().and_then(payload_token) else {
        return Ok(None);
    };
    let Some((_, current)) = auth.worker() else {
        return Err(auth.refuse(
            close_code::FORBIDDEN,
            "Forbidden: only a worker's connection re-authenticates",
        ));
    };
    let Some(claims) = app.auth.keys.verify(&token) else {
        return Err(auth.refuse(close_code::FORBIDDEN, "Forbidden: invalid or expired token"));
    };
    let caller = sessions::standing(&app.pool, &claims)
        .await
        .map_err(|error| async_graphql::Error::from(ApiError::from(error)))?;
    if caller != current {
        return Err(auth.refuse(
            close_code::FORBIDDEN,
            "Forbidden: the token proves another caller",
        ));
    }
    auth.set_worker(claims, caller);
    Ok(None)
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok"
}

/// Largest projector lag (events) still considered ready.
pub const READY_MAX_LAG: i64 = 1000;

/// Ready: the database answers within a second, every projection is less than
/// [`READY_MAX_LAG`] events behind, and (when ARI is configured and this server leads
/// telephony) the ARI events WebSocket is connected. The JSON body names each check; 503 when
/// one fails.
async fn readyz(State(state): State<AppState>) -> Response {
    let mut ready = true;
    let database = tokio::time::timeout(
        Duration::from_secs(1),
        sqlx::query("SELECT 1").execute(&state.pool),
    )
    .await;
    let database = match database {
        Ok(Ok(_)) => "ok",
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: database failed");
            "unavailable"
        }
        Err(_) => "timeout",
    };
    if database != "ok" {
        ready = false;
    }
    let projector = if database == "ok" {
        let status = tokio::time::timeout(
            Duration::from_secs(2),
            projections::projector::status(&state.pool),
        )
        .await;
        match status {
            Ok(Ok(statuses)) => {
                let lag = statuses.iter().map(|status| status.lag).max().unwrap_or(0);
                if lag < READY_MAX_LAG {
                    json!({"status": "ok", "maxLag": lag})
                } else {
                    ready = false;
                    json!({"status": "lagging", "maxLag": lag})
                }
            }
            Ok(Err(_)) | Err(_) => {
                ready = false;
                json!({"status": "unavailable"})
            }
        }
    } else {
        ready = false;
        json!({"status": "unavailable"})
    };
    let ari = match (&state.telephony, state.ari_link.get()) {
        (None, _) => "not_configured",
        (Some(_), crate::telephony::AriLinkState::Connected) => "ok",
        (Some(_), crate::telephony::AriLinkState::Standby) => "standby",
        (Some(_), crate::telephony::AriLinkState::Disconnected) => {
            ready = false;
            "disconnected"
        }
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "database": database,
        "projector": projector,
        "ari": ari,
    });
    (status, Json(body)).into_response()
}
