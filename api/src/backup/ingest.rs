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
//! (nothing to attach a log to), 409 (the run already ended otherwise), 413 (too large), 429
//! (too many wrong tokens from the client address: `SAVECORP_INGEST_TOKEN_FAILURES_PER_ADDRESS`).
//!
//! Bodies are read line by line as they arrive ([`LineReader`]): never held whole.

use std::net::{IpAddr, SocketAddr};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;

use super::service::{self, BackupError, PingKind};
use crate::state::AppState;

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
    let identity = match service::authenticate(&state, token).await {
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
    };
    let body = body.into_data_stream();
    match service::report_backup_run(&state, identity, kind, rid, body).await {
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
        BackupError::InvalidBody { .. } => StatusCode::BAD_REQUEST,
        BackupError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        BackupError::RunNotFound | BackupError::CustomerNotFound => StatusCode::NOT_FOUND,
        BackupError::Run(_) | BackupError::Conflict { .. } => StatusCode::CONFLICT,
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
    error_response(status, error.code(), message, line)
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Over a size limit.
    TooLarge(String),
    /// Line `line` is not acceptable.
    Invalid { line: u64, message: String },
    /// The client stopped sending or the connection failed.
    Read(String),
}

impl From<BodyError> for BackupError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::TooLarge(message) => BackupError::TooLarge(message),
            BodyError::Invalid { line, message } => BackupError::InvalidBody {
                line: Some(line),
                message: format!("line {line}: {message}"),
            },
            BodyError::Read(message) => BackupError::InvalidBody {
                line: None,
                message: format!("the body could not be read: {message}"),
            },
        }
    }
}

/// Splits a byte stream into lines as it arrives, within a body and a line size limit.
pub struct LineReader<S> {
    stream: S,
    buffer: Vec<u8>,
    start: usize,
    line_number: u64,
    received: u64,
    max_body_bytes: u64,
    max_line_bytes: usize,
    ended: bool,
}

impl<S, E> LineReader<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    pub fn new(stream: S, max_body_bytes: u64, max_line_bytes: usize) -> Self {
        Self {
            stream,
            buffer: Vec::new(),
            start: 0,
            line_number: 0,
            received: 0,
            max_body_bytes,
            max_line_bytes,
            ended: false,
        }
    }

    /// The next line (without its `\n` or `\r\n`) and its 1-based number; `None` at the end.
    pub async fn next_line(&mut self) -> Result<Option<(u64, String)>, BodyError> {
        loop {
            if let Some(offset) = self.buffer[self.start..].iter().position(|b| *b == b'\n') {
                let end = self.start + offset;
                let line = self.take_line(end)?;
                self.start = end + 1;
                return Ok(Some(line));
            }
            if self.buffer.len() - self.start > self.max_line_bytes {
                return Err(BodyError::TooLarge(format!(
                    "line {} is longer than {} bytes",
                    self.line_number + 1,
                    self.max_line_bytes
                )));
            }
            if self.ended {
                if self.start < self.buffer.len() {
                    let end = self.buffer.len();
                    let line = self.take_line(end)?;
                    self.start = end;
                    return Ok(Some(line));
                }
                return Ok(None);
            }
            self.buffer.drain(..self.start);
            self.start = 0;
            match self.stream.next().await {
                None => self.ended = true,
                Some(Err(error)) => return Err(BodyError::Read(error.to_string())),
                Some(Ok(chunk)) => {
                    self.received += chunk.len() as u64;
                    if self.received > self.max_body_bytes {
                        return Err(BodyError::TooLarge(format!(
                            "the body is larger than {} bytes",
                            self.max_body_bytes
                        )));
                    }
                    self.buffer.extend_from_slice(&chunk);
                }
            }
        }
    }

    fn take_line(&mut self, end: usize) -> Result<(u64, String), BodyError> {
        self.line_number += 1;
        let mut bytes = &self.buffer[self.start..end];
        if let Some(stripped) = bytes.strip_suffix(b"\r") {
            bytes = stripped;
        }
        if bytes.len() > self.max_line_bytes {
            return Err(BodyError::TooLarge(format!(
                "line {} is longer than {} bytes",
                self.line_number, self.max_line_bytes
            )));
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok((self.line_number, text.to_owned())),
            Err(_) => Err(BodyError::Invalid {
                line: self.line_number,
                message: "not UTF-8 text".into(),
            }),
        }
    }
}

/// Reads a whole text body (failure message or log), keeping at most `max_bytes`.
pub async fn read_text<S, E>(mut stream: S, max_bytes: usize) -> Result<String, BodyError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut text = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| BodyError::Read(error.to_string()))?;
        if text.len() + chunk.len() > max_bytes {
            return Err(BodyError::TooLarge(format!(
                "the text is larger than {max_bytes} bytes"
            )));
        }
        text.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&str]) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> {
        let parts: Vec<Result<Bytes, std::convert::Infallible>> = parts
            .iter()
            .map(|part| Ok(Bytes::copy_from_slice(part.as_bytes())))
            .collect();
        futures::stream::iter(parts)
    }

    async fn lines(parts: &[&str], max_line: usize) -> Result<Vec<(u64, String)>, BodyError> {
        let mut reader = LineReader::new(chunks(parts), 1024, max_line);
        let mut lines = Vec::new();
        while let Some(line) = reader.next_line().await? {
            lines.push(line);
        }
        Ok(lines)
    }

    #[tokio::test]
    async fn lines_split_across_chunks_are_joined_and_numbered() {
        let lines = lines(&["ab", "c\r\nd", "e\n\nf"], 10).await.expect("reads");
        assert_eq!(
            lines,
            vec![
                (1, "abc".to_owned()),
                (2, "de".to_owned()),
                (3, String::new()),
                (4, "f".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_refused_without_waiting_for_its_end() {
        let error = lines(&["ok\n", "0123456789", "0123456789"], 10)
            .await
            .expect_err("too long");
        assert_eq!(
            error,
            BodyError::TooLarge("line 2 is longer than 10 bytes".into())
        );
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused() {
        let big = "x\n".repeat(600);
        let mut reader = LineReader::new(chunks(&[&big]), 1024, 10);
        let error = reader.next_line().await.expect_err("too large");
        assert!(matches!(error, BodyError::TooLarge(_)), "{error:?}");
    }

    #[tokio::test]
    async fn invalid_utf8_names_its_line() {
        let parts: Vec<Result<Bytes, std::convert::Infallible>> =
            vec![Ok(Bytes::from_static(b"ok\n\xff\xfe\n"))];
        let mut reader = LineReader::new(futures::stream::iter(parts), 1024, 10);
        assert!(reader.next_line().await.is_ok());
        assert_eq!(
            reader.next_line().await,
            Err(BodyError::Invalid {
                line: 2,
                message: "not UTF-8 text".into()
            })
        );
    }
}
