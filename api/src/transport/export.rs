//! CSV export of the call and request lists (PRODUCT §10), admin only (`Authorization:
//! Bearer`): `GET /export/calls.csv?from=&until=` and `GET /export/requests.csv?from=&until=`
//! (RFC 3339 instants; calls by `queued_at`, requests by `opened_at`; both optional).
//!
//! RFC 4180: CRLF line ends, every field quoted when it holds a comma, a quote, CR or LF.
//! Formula-injection safe: a free-text cell starting with `=`, `+`, `-`, `@`, tab or CR gets a
//! `'` in front, so a spreadsheet shows it as text. A phone-number column whose value is a valid
//! E.164 number (`+` and digits, as the domain stores it) is written as it is: it cannot be a
//! formula, and analysts join on it. Rows are read in pages (keyset on the sort key) and streamed.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row as _;
use uuid::Uuid;

use crate::auth::{sessions, Caller};
use crate::transport::state::AppState;
use domain::values::Role;

/// Rows read per query.
const PAGE: i64 = 500;

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
    /// `$1` from, `$2` until, `$3`/`$4` the cursor (sort key, id), `$5` the page size. The
    /// first two columns are the cursor (timestamptz, uuid), then one text column per header.
    sql: &'static str,
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
    sql: "SELECT c.queued_at, c.call_id, c.call_id::text, to_json(c.queued_at) #>> '{}', \
          c.caller_number, c.caller_name, c.customer_id::text, cu.name, c.status, c.outcome, \
          c.ended_by, c.agent_id::text, w.name, c.attempts::text, \
          to_json(c.connected_at) #>> '{}', to_json(c.ended_at) #>> '{}', c.wait_secs::text, \
          c.talk_secs::text \
          FROM calls c LEFT JOIN customers cu ON cu.customer_id = c.customer_id \
          LEFT JOIN workers w ON w.worker_id = c.agent_id \
          WHERE ($1::timestamptz IS NULL OR c.queued_at >= $1) \
            AND ($2::timestamptz IS NULL OR c.queued_at < $2) \
            AND ($3::timestamptz IS NULL OR (c.queued_at, c.call_id) > ($3, $4)) \
          ORDER BY c.queued_at, c.call_id LIMIT $5",
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
    sql: "SELECT r.opened_at, r.request_id, r.request_id::text, to_json(r.opened_at) #>> '{}', \
          r.customer_id::text, cu.name, r.call_id::text, r.priority, r.request_type, r.status, \
          r.assignee::text, w.name, to_json(r.due_at) #>> '{}', \
          to_json(r.solved_at) #>> '{}', to_json(r.closed_at) #>> '{}', r.message \
          FROM requests r LEFT JOIN customers cu ON cu.customer_id = r.customer_id \
          LEFT JOIN workers w ON w.worker_id = r.assignee \
          WHERE ($1::timestamptz IS NULL OR r.opened_at >= $1) \
            AND ($2::timestamptz IS NULL OR r.opened_at < $2) \
            AND ($3::timestamptz IS NULL OR (r.opened_at, r.request_id) > ($3, $4)) \
          ORDER BY r.opened_at, r.request_id LIMIT $5",
};

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
        .and_then(crate::transport::http::bearer);
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
    /// The last row sent (sort key, id); `None` before the first page.
    cursor: Option<(DateTime<Utc>, Uuid)>,
    done: bool,
}

impl Pager {
    /// The next page as CSV text (`None` after the last).
    async fn next_page(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        if self.done {
            return None;
        }
        let rows = sqlx::query(self.export.sql)
            .bind(self.from)
            .bind(self.until)
            .bind(self.cursor.map(|(at, _)| at))
            .bind(self.cursor.map(|(_, id)| id))
            .bind(PAGE)
            .fetch_all(&self.state.pool)
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(failure) => {
                tracing::error!(error = %failure, "CSV export failed mid-stream");
                self.done = true;
                return Some(Err(std::io::Error::other("export failed")));
            }
        };
        if (rows.len() as i64) < PAGE {
            self.done = true;
        }
        let mut out = String::new();
        for row in &rows {
            if let (Ok(at), Ok(id)) = (row.try_get(0), row.try_get(1)) {
                self.cursor = Some((at, id));
            }
            let cells: Vec<String> = self
                .export
                .header
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    let value = row
                        .try_get::<Option<String>, _>(index + 2)
                        .ok()
                        .flatten()
                        .unwrap_or_default();
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
    fn a_valid_e164_number_is_kept_and_any_other_caller_id_neutralised() {
        assert_eq!(phone_cell("+33612345678"), "+33612345678");
        assert_eq!(phone_cell("+1-555-0100"), "'+1-555-0100");
        assert_eq!(phone_cell("+1+1"), "'+1+1");
        assert_eq!(phone_cell("=1+1"), "'=1+1");
        assert_eq!(phone_cell("anonymous"), "anonymous");
        assert_eq!(phone_cell(""), "");
    }
}
