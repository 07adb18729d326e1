//! The HTTP surface: `/graphql` (queries and mutations on POST; on GET, GraphiQL, or the
//! `graphql-transport-ws` WebSocket for subscriptions), `/healthz`, `/readyz`, `/metrics`,
//! and the CSV exports (`/export/calls.csv`, `/export/requests.csv`).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{SinkExt as _, StreamExt as _};
use serde_json::json;
use uuid::Uuid;

use crate::auth::sessions;
use crate::auth::tokens::AccessClaims;
use crate::graphql::context::RequestContext;
use crate::graphql::events::SubscriptionSlots;
use crate::graphql::{build_schema, ApiSchema};
use crate::state::AppState;

/// Largest request body accepted anywhere (GraphQL documents and variables).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much a WebSocket read asks of the socket at once (see `graphql_get`).
const WEBSOCKET_READ_BUFFER_BYTES: usize = 4 * 1024;
/// Largest WebSocket message (and frame) accepted from a client.
pub const MAX_WEBSOCKET_MESSAGE_BYTES: usize = 64 * 1024;

#[derive(Clone)]
struct GraphqlState {
    app: AppState,
    schema: ApiSchema,
}

pub fn router(state: AppState) -> Router {
    let schema = build_schema(state.clone());
    let graphql = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .with_state(GraphqlState {
            app: state.clone(),
            schema,
        });
    // The ping routes stream large manifests and enforce their own limits, so they are merged
    // after the global body limit.
    let ingest = crate::backup::ingest::routes().with_state(state.clone());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/export/calls.csv", get(crate::export::calls_csv))
        .route("/export/requests.csv", get(crate::export::requests_csv))
        .with_state(state.clone())
        .merge(graphql)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::map_response(too_large_as_json))
        .merge(ingest)
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::metrics::count_requests,
        ))
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

/// The token of an `Authorization: Bearer …` value.
pub(crate) fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty() && token.len() <= 4096)
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
) -> Result<crate::auth::Caller, crate::graphql::error::ApiError> {
    match token {
        Some(token) if token.starts_with("sci_") => {
            match crate::backup::service::authenticate(app, token).await {
                Ok(identity) => Ok(crate::auth::Caller::IngestToken {
                    token_id: identity.token_id,
                    customer_id: identity.customer_id,
                }),
                Err(crate::backup::service::BackupError::Unauthenticated) => {
                    Ok(crate::auth::Caller::Anonymous)
                }
                Err(crate::backup::service::BackupError::Unavailable) => {
                    Err(crate::graphql::error::ApiError::Unavailable)
                }
                Err(error) => Err(crate::graphql::error::ApiError::internal(
                    anyhow::Error::new(error).context("ingest token check"),
                )),
            }
        }
        token => sessions::identify(&app.pool, &app.auth, token).await,
    }
}

async fn graphql_post(
    State(state): State<GraphqlState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: Result<GraphQLRequest<BadRequest>, BadRequest>,
) -> Response {
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

/// GraphiQL for a browser; the subscription WebSocket for an upgrade request.
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
        return graphiql().await.into_response();
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
    upgrade
        // tungstenite zero-fills this much of its read buffer before every read attempt, and a
        // connection's read side is polled on every wake-up of its task (each message sent):
        // at the 128 KiB default that memset was ~15% of the server's CPU with 100
        // subscribers. Larger messages still arrive whole (the buffer grows to the frame).
        .read_buffer_size(WEBSOCKET_READ_BUFFER_BYTES)
        .max_message_size(MAX_WEBSOCKET_MESSAGE_BYTES)
        .max_frame_size(MAX_WEBSOCKET_MESSAGE_BYTES)
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_websocket(state, socket, protocol, correlation, client))
}

/// Serves one `graphql-transport-ws` connection. It authenticates once, at `connection_init`;
/// from then on, a change to that worker's credentials (logout, password change,
/// deactivation, role change: [`crate::auth::watch`]) makes it check them again, and closes
/// the connection (code 4403) if they no longer prove the same caller.
async fn serve_websocket(
    state: GraphqlState,
    socket: WebSocket,
    protocol: GraphQLProtocol,
    correlation: Uuid,
    client: IpAddr,
) {
    let app = state.app.clone();
    // Subscribed before `connection_init`: a change is only missed if it is notified between
    // the check of the token and the storing of its result (a moment; not closed here).
    let changes = app.credentials.subscribe();
    let authenticated: Arc<OnceLock<(AccessClaims, crate::auth::Caller)>> = Arc::default();
    let (mut sink, stream) = socket.split();
    let (to_client, mut outgoing) = futures::channel::mpsc::channel::<Message>(16);
    let mut connection = Data::default();
    connection.insert(SubscriptionSlots::new());
    let serve = GraphQLWebSocket::new_with_pair(to_client, stream, state.schema.clone(), protocol)
        .with_data(connection)
        .on_connection_init({
            let (app, authenticated) = (app.clone(), authenticated.clone());
            move |payload| async move {
                authenticate_connection(&app, payload, correlation, client, &authenticated).await
            }
        })
        .serve();
    let revoked = {
        let served = async {
            let forward = async {
                while let Some(message) = outgoing.next().await {
                    if sink.send(message).await.is_err() {
                        break;
                    }
                }
            };
            tokio::join!(serve, forward);
        };
        tokio::select! {
            () = served => false,
            () = credentials_lapse(&app, changes, &authenticated) => true,
        }
    };
    if revoked {
        tracing::info!(%correlation, "WebSocket closed: its credentials changed");
        let close = CloseFrame {
            code: 4403,
            reason: "Forbidden: credentials changed".into(),
        };
        let _ = sink.send(Message::Close(Some(close))).await;
        let _ = sink.close().await;
    }
}

/// Completes when the connection's worker no longer has the credentials it authenticated
/// with (never for an anonymous connection).
async fn credentials_lapse(
    app: &AppState,
    mut changes: tokio::sync::broadcast::Receiver<Uuid>,
    authenticated: &OnceLock<(AccessClaims, crate::auth::Caller)>,
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
        let Some((claims, caller)) = authenticated.get() else {
            continue;
        };
        if !worker.is_nil() && worker != claims.sub {
            continue;
        }
        match sessions::standing(&app.pool, claims).await {
            Ok(now) if now == *caller => {}
            Ok(_) => return,
            // The database cannot tell now: keep the connection (the next change checks again).
            Err(_) => {}
        }
    }
}

/// `connection_init`: `{"authorization": "Bearer …"}` or `{"token": "…"}`; none is an anonymous
/// connection (subscriptions then answer `UNAUTHENTICATED`), an invalid one closes it. A
/// worker's verified claims and caller are kept in `authenticated`.
async fn authenticate_connection(
    app: &AppState,
    payload: serde_json::Value,
    correlation_id: Uuid,
    client: IpAddr,
    authenticated: &OnceLock<(AccessClaims, crate::auth::Caller)>,
) -> async_graphql::Result<Data> {
    let token = payload
        .get("authorization")
        .or_else(|| payload.get("Authorization"))
        .and_then(|value| value.as_str())
        .and_then(bearer)
        .or_else(|| payload.get("token").and_then(|value| value.as_str()))
        .map(str::to_owned);
    let caller = sessions::identify(&app.pool, &app.auth, token.as_deref())
        .await
        .map_err(async_graphql::Error::from)?;
    if token.is_some() && caller == crate::auth::Caller::Anonymous {
        return Err(async_graphql::Error::new("invalid or expired token"));
    }
    if let (crate::auth::Caller::Worker { .. }, Some(claims)) = (
        caller,
        token
            .as_deref()
            .and_then(|token| app.auth.keys.verify(token)),
    ) {
        let _ = authenticated.set((claims, caller));
    }
    let mut data = Data::default();
    data.insert(RequestContext {
        caller,
        correlation_id,
        client_address: Some(client),
    });
    Ok(data)
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql")
            .finish(),
    )
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
