//! What every HTTP handler of the transport shares, below `http.rs`, `export.rs`, the GraphiQL
//! page and `/metrics`: the Content-Security-Policy, the GraphQL-shaped error answer and the
//! bearer token of an `Authorization` header.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The Content-Security-Policy of every response: nothing but this origin's own scripts,
/// styles and connections (GraphiQL's page needs no more), no framing, no plugins, no forms
/// posting elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// A GraphQL-shaped error answer: `{"errors": [{"message", "extensions": {"code"}}]}`.
pub fn graphql_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"message": message, "extensions": {"code": code}}]});
    (status, Json(body)).into_response()
}

/// The token of an `Authorization: Bearer …` value.
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|token| !token.is_empty() && token.len() <= 4096)
}
