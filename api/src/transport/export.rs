//! CSV export of the call and request lists (PRODUCT §10), admin only (`Authorization:
//! Bearer`): `GET /export/calls.csv?from=&until=` and `GET /export/requests.csv?from=&until=`
//! (RFC 3339 instants; calls by `queued_at`, requests by `opened_at`; both optional).
//!
//! RFC 4180: CRLF line ends, every field quoted when it holds a comma, a quote, CR or LF.
//! Formula-injection safe: a free-text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a
//! `'` in front, so a spreadsheet shows it as text. A phone-number column whose value is a valid
//! E.164 number (`+` and digits, as the domain stores it) is written as it is: it cannot be a
//! formula, and analysts join on it. Rows are read in pages through the read models' list
//! functions (`calls::list`, `requests::list`: the one keyset engine) and streamed.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use projections::readmodels::keyset::{Key, PageQuery};
use projections::readmodels::{calls, customers, requests, workers, ReadError};
use serde_json::json;
use uuid::Uuid;

use crate::auth::{sessions, Caller};
use crate::transport::state::AppState;
use domain::values::Role;

/// Rows read per query.
const PAGE: usize = 500;

/// One cell, neutralised and quoted as needed.
pub fn cell(value: &str) -> String {
    let neutral = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if neutral.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", neutral.replace('"', "\"\""))
    } else {
        neutral
    }
}

/// One phone-number cell: a valid E.164 number as it is, anything else (a caller id as
/// Asterisk gave it) neutralised like free text.
pub fn phone_cell(value: &str) -> String {
    match domain::values::PhoneNumber::parse_e164(value) {
        Ok(number) if number.as_str() == value => value.to_owned(),
        _ => cell(value),
    }
}

/// One CSV line (CRLF-terminated).
pub fn line<S: AsRef<str>>(cells: &[S]) -> String {
    let mut out = cells
        .iter()
        .map(|value| cell(value.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

struct Export {
    header: &'static [&'static str],
    /// The columns (by header name) that hold phone numbers.
    phone_columns: &'static [&'static str],
    kind: Kind,
}

/// Which read model an export pages through.
#[derive(Clone, Copy)]
enum Kind {
    Calls,
    Requests,
}

const CALLS: Export = Export {
    header: &[
        "call_id",
        "queued_at",
        "caller_number",
        "caller_name",
        "customer_id",
        "customer_name",
        "status",
        "outcome",
        "ended_by",
        "agent_id",
        "agent_name",
        "attempts",
        "connected_at",
        "ended_at",
        "wait_secs",
        "talk_secs",
    ],
    phone_columns: &["caller_number"],
    kind: Kind::Calls,
};

const REQUESTS: Export = Export {
    header: &[
        "request_id",
        "opened_at",
        "customer_id",
        "customer_name",
        "call_id",
        "priority",
        "type",
        "status",
        "assignee_id",
        "assignee_name",
        "due_at",
        "solved_at",
        "closed_at",
        "message",
    ],
    phone_columns: &[],
    kind: Kind::Requests,
};

/// An instant as PostgreSQL writes it in JSON (`2026-11-27T06:42:08.1234+00:00`: microseconds
/// without trailing zeros), as the exports always showed it.
fn instant_text(at: DateTime<Utc>) -> String {
    let mut text = at.format("%Y-%m-%dT%H:%M:%S").to_string();
    let micros = at.timestamp_subsec_micros();
    if micros > 0 {
        let fraction = format!("{micros:06}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push_str("+00:00");
    text
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

fn opt_instant(value: Option<DateTime<Utc>>) -> String {
    value.map(instant_text).unwrap_or_default()
}

/// One page of an export's rows (at most [`PAGE`] + 1, so the pager knows whether another
/// follows), each as its cells in header order, with its key.
async fn read_page(
    pool: &sqlx::PgPool,
    kind: Kind,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    after: Option<Key>,
) -> Result<Vec<(Key, Vec<String>)>, ReadError> {
    let page = PageQuery::after(PAGE, after);
    match kind {
        Kind::Calls => {
            let filter = calls::CallFilter {
                queued_from: from,
                queued_until: until,
                ..Default::default()
            };
            let rows = calls::list(pool, &filter, &page).await?.rows;
            let customers = customers::names(pool, &ids(&rows, |row| row.customer_id)).await?;
            let agents = workers::names(pool, &ids(&rows, |row| row.agent_id)).await?;
            Ok(rows
                .into_iter()
                .map(|(key, row)| {
                    let cells = vec![
                        row.call_id.to_string(),
                        instant_text(row.queued_at),
                        row.caller_number,
                        opt(row.caller_name),
                        opt(row.customer_id),
                        opt(row.customer_id.and_then(|id| customers.get(&id))),
                        row.status,
                        opt(row.outcome),
                        opt(row.ended_by),
                        opt(row.agent_id),
                        opt(row.agent_id.and_then(|id| agents.get(&id))),
                        row.attempts.to_string(),
                        opt_instant(row.connected_at),
                        opt_instant(row.ended_at),
                        opt(row.wait_secs),
                        opt(row.talk_secs),
                    ];
                    (key, cells)
                })
                .collect())
        }
        Kind::Requests => {
            let filter = requests::RequestFilter {
                opened_from: from,
                opened_until: until,
                ..Default::default()
            };
            let rows = requests::list(pool, &filter, requests::RequestSort::OpenedAt, &page)
                .await?
                .rows;
            let customers =
                customers::names(pool, &ids(&rows, |row| Some(row.customer_id))).await?;
            let assignees = workers::names(pool, &ids(&rows, |row| row.assignee)).await?;
            Ok(rows
                .into_iter()
                .map(|(key, row)| {
                    let cells = vec![
                        row.request_id.to_string(),
                        instant_text(row.opened_at),
                        row.customer_id.to_string(),
                        opt(customers.get(&row.customer_id)),
                        opt(row.call_id),
                        row.priority,
                        row.request_type,
                        row.status,
                        opt(row.assignee),
                        opt(row.assignee.and_then(|id| assignees.get(&id))),
                        instant_text(row.due_at),
                        opt_instant(row.solved_at),
                        opt_instant(row.closed_at),
                        row.message,
                    ];
                    (key, cells)
                })
                .collect())
        }
    }
}

/// The distinct ids `of` the rows name.
fn ids<R>(rows: &[(Key, R)], of: impl Fn(&R) -> Option<Uuid>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = rows.iter().filter_map(|(_, row)| of(row)).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

fn instant(query: &HashMap<String, String>, name: &str) -> Result<Option<DateTime<Utc>>, String> {
    match query
        .get(name)
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
    {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|at| Some(at.with_timezone(&Utc)))
            .map_err(|_| format!("{name}: must be an RFC 3339 instant")),
    }
}

/// The caller must be an admin: 401 without valid credentials, 403 for an agent.
async fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(crate::transport::edge::bearer);
    match sessions::identify(&state.pool, &state.auth, token).await {
        Ok(Caller::Worker {
            role: Role::Admin, ..
        }) => Ok(()),
        Ok(Caller::Worker { .. } | Caller::IngestToken { .. }) => {
            Err(error(StatusCode::FORBIDDEN, "FORBIDDEN", "not allowed"))
        }
        Ok(Caller::Anonymous) => Err(error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "authentication required",
        )),
        Err(_) => Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the service is temporarily unavailable",
        )),
    }
}

struct Pager {
    state: AppState,
    export: &'static Export,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    /// The key of the last row sent; `None` before the first page.
    cursor: Option<Key>,
    done: bool,
}

impl Pager {
    /// The next page as CSV text (`None` after the last).
    async fn next_page(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.done {
            return None;
        }
        let rows = read_page(
            &self.state.pool,
            self.export.kind,
            self.from,
            self.until,
            self.cursor.clone(),
        )
        .await;
        let mut rows = match rows {
            Ok(rows) => rows,
            Err(failure) => {
                tracing::error!(error = %failure, "CSV export failed mid-stream");
                self.done = true;
                return Some(Err(std::io::Error::other("export failed")));
            }
        };
        if rows.len() <= PAGE {
            self.done = true;
        }
        rows.truncate(PAGE);
        let mut out = String::new();
        for (key, values) in rows {
            self.cursor = Some(key);
            let cells: Vec<String> = self
                .export
                .header
                .iter()
                .zip(values)
                .map(|(name, value)| {
                    if self.export.phone_columns.contains(name) {
                        phone_cell(&value)
                    } else {
                        cell(&value)
                    }
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        if out.is_empty() && self.done {
            return None;
        }
        Some(Ok(Bytes::from(out)))
    }
}

async fn export(
    state: AppState,
    headers: HeaderMap,
    query: HashMap<String, String>,
    export: &'static Export,
    filename: &str,
) -> Response {
    if let Err(response) = require_admin(&state, &headers).await {
        return response;
    }
    let (from, until) = match (instant(&query, "from"), instant(&query, "until")) {
        (Ok(from), Ok(until)) => (from, until),
        (Err(message), _) | (_, Err(message)) => {
            return error(StatusCode::BAD_REQUEST, "VALIDATION", &message)
        }
    };
    let pager = Pager {
        state,
        export,
        from,
        until,
        cursor: None,
        done: false,
    };
    let header_line = Bytes::from(line(export.header));
    let pages = futures::stream::unfold(pager, |mut pager| async move {
        pager.next_page().await.map(|page| (page, pager))
    });
    let body = futures::StreamExt::chain(
        futures::stream::once(async move { Ok::<_, std::io::Error>(header_line) }),
        pages,
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// `GET /export/calls.csv`.
pub async fn calls_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    export(state, headers, query, &CALLS, "calls.csv").await
}

/// `GET /export/requests.csv`.
pub async fn requests_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    export(state, headers, query, &REQUESTS, "requests.csv").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_special_characters_quoted() {
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+33"), "'+33");
        assert_eq!(cell("-2"), "'-2");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("\tx"), "'\tx");
        assert_eq!(cell("\rx"), "\"'\rx\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(cell("plain"), "plain");
        assert_eq!(line(&["a", "b"]), "a,b\r\n");
    }

    #[test]
    fn instants_are_written_as_postgresql_writes_them_in_json() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T06:42:08.123400Z")
            .expect("instant")
            .with_timezone(&Utc);
        assert_eq!(instant_text(at), "2026-11-27T06:42:08.1234+00:00");
        let whole = DateTime::parse_from_rfc3339("2026-11-27T06:42:08Z")
            .expect("instant")
            .with_timezone(&Utc);
        assert_eq!(instant_text(whole), "2026-11-27T06:42:08+00:00");
    }

    #[test]
    fn a_valid_e164_number_is_kept_and_any_other_caller_id_neutralised() {
        assert_eq!(phone_cell("+33612345678"), "+33612345678");
        assert_eq!(phone_cell("+1-555-0100"), "'+1-555-0100");
        assert_eq!(phone_cell("+1+1"), "'+1+1");
        assert_eq!(phone_cell("=1+1"), "'=1+1");
        assert_eq!(phone_cell("anonymous"), "anonymous");
        assert_eq!(phone_cell(""), "");
    }
}
