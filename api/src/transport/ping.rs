//! The healthchecks-style ping API (PRODUCT §6), so existing cron scripts report with curl:
//!
//! ```text
//! POST /ping/{token}                success (body: optional manifest or restic --json output)
//! POST /ping/{token}/start          the run started
//! POST /ping/{token}/fail           the run failed (body: optional message)
//! POST /ping/{token}/{exit_status}  0 = success, anything else = failed
//! POST /ping/{token}/log            log text for the run (body)
//! ```
//! `?rid=<client run id>` pairs a start with its end; without it an end pairs with the
//! customer's latest run still running. GET works too (no body). Answers: 200 with a JSON
//! summary; 400 (malformed body, with the line number), 401 (wrong or revoked token), 404
//! (nothing to attach a log to), 408 (the body stalled: nothing for the read timeout, or
//! slower than the minimum rate; the connection is closed), 409 (the run already ended
//! otherwise, or another ping of the customer is in progress), 413 (too large), 429 (too many
//! wrong tokens from the client address: `SAVECORP_INGEST_TOKEN_FAILURES_PER_ADDRESS`).
//!
//! A body is received before any database work and without a database connection or lock
//! ([`BodyReader`](crate::backup::body::BodyReader): size limit, read timeout, minimum rate): a success body is staged in a file
//! of the data folder ([`StagedBody`](crate::backup::body::StagedBody)), then read line by line ([`LineReader`](crate::backup::body::LineReader)) while one of
//! ingest's database permits is held; a failure message keeps only the body's last 10 KiB
//! ([`read_tail`](crate::backup::body::read_tail)). Never held whole in memory.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use serde::Deserialize;
use serde_json::json;

use crate::backup::service::{self, BackupError, PingKind};
use crate::transport::state::AppState;

/// The ping routes (merged outside the global body-size limit: manifests are large, and their
/// own limits apply while they stream).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ping/{token}", get(success).post(success))
        .route("/ping/{token}/{action}", get(action).post(action))
}

#[derive(Debug, Default, Deserialize)]
pub struct PingQuery {
    pub rid: Option<String>,
}

async fn success(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Query(query): Query<PingQuery>,
    body: Body,
) -> Response {
    let client = state
        .auth
        .client_addresses
        .client_address(peer.ip(), &headers);
    ping(state, client, &token, PingKind::Success, query.rid, body).await
}

async fn action(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((token, action)): Path<(String, String)>,
    Query(query): Query<PingQuery>,
    body: Body,
) -> Response {
    let kind = match action.as_str() {
        "start" => PingKind::Start,
        "fail" => PingKind::Fail { exit_status: None },
        "log" => PingKind::Log,
        number => match number.parse::<u8>() {
            Ok(0) => PingKind::Success,
            Ok(status) => PingKind::Fail {
                exit_status: Some(i32::from(status)),
            },
            Err(_) => {
                return error_response(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "unknown ping: use start, fail, log or an exit status 0-255".into(),
                    None,
                )
            }
        },
    };
    let client = state
        .auth
        .client_addresses
        .client_address(peer.ip(), &headers);
    ping(state, client, &token, kind, query.rid, body).await
}

/// The answer to a client address over its limit of wrong tokens.
fn rate_limited() -> Response {
    error_response(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        "too many wrong tokens from this address, try again later".into(),
        None,
    )
}

async fn ping(
    state: AppState,
    client: IpAddr,
    token: &str,
    kind: PingKind,
    rid: Option<String>,
    body: Body,
) -> Response {
    // An address over its limit of wrong tokens costs no lookup (auth::rate_limit).
    if state.auth.throttle.ingest_blocked(client) {
        return rate_limited();
    }
    let identity = {
        let _permit = state.backup.ingest_permit(&state.pool).await;
        match service::authenticate(&state.backup_state(), token).await {
            Ok(identity) => identity,
            Err(BackupError::Unauthenticated) => {
                let limit = state.auth.config.ingest_token_failures_per_address;
                return match state
                    .auth
                    .throttle
                    .ingest_failure(&state.pool, client, limit)
                    .await
                {
                    Ok(Ok(())) => backup_error_response(BackupError::Unauthenticated),
                    Ok(Err(_limited)) => {
                        tracing::info!(%client, "ping refused: too many wrong tokens");
                        rate_limited()
                    }
                    Err(error) => backup_error_response(error.into()),
                };
            }
            Err(error) => return backup_error_response(error),
        }
    };
    let body = body.into_data_stream();
    match service::report_backup_run(&state.backup_state(), identity, kind, rid, body).await {
        Ok(outcome) => (StatusCode::OK, Json(outcome)).into_response(),
        Err(error) => backup_error_response(error),
    }
}

fn error_response(status: StatusCode, code: &str, message: String, line: Option<u64>) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "line": line})),
    )
        .into_response()
}

/// The HTTP answer for a service error (internal causes logged here, once, never shown).
pub fn backup_error_response(error: BackupError) -> Response {
    let status = match &error {
        BackupError::Unauthenticated => StatusCode::UNAUTHORIZED,
        BackupError::InvalidBody { .. } | BackupError::DuplicatePath(_) => StatusCode::BAD_REQUEST,
        BackupError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        BackupError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
        BackupError::RunNotFound | BackupError::CustomerNotFound => StatusCode::NOT_FOUND,
        BackupError::Run(_) | BackupError::Conflict { .. } | BackupError::UploadInProgress => {
            StatusCode::CONFLICT
        }
        BackupError::Customer(_) => StatusCode::UNPROCESSABLE_ENTITY,
        BackupError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        BackupError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let message = match &error {
        BackupError::Internal(cause) => {
            tracing::error!(%cause, "ping failed");
            "internal error".to_owned()
        }
        other => other.to_string(),
    };
    let line = match &error {
        BackupError::InvalidBody { line, .. } => *line,
        _ => None,
    };
    let mut response = error_response(status, error.code(), message, line);
    if status == StatusCode::REQUEST_TIMEOUT {
        // The rest of the body may never come: the connection is not reused.
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}
