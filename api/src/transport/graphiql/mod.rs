//! The GraphQL explorer served at `GET /graphql` (when `SAVECORP_GRAPHIQL` is on): a small
//! self-written page (editor, variables, token, results, subscriptions over the WebSocket, a
//! schema browser from introspection) embedded in the binary, so it works offline and under
//! the strict Content-Security-Policy of [`crate::transport::edge::CONTENT_SECURITY_POLICY`]: no CDN, no
//! inline script or style.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::transport::HttpConfig;

const PAGE: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("explorer.js");
const STYLE: &str = include_str!("explorer.css");

/// The explorer's assets (`/graphiql/explorer.js`, `/graphiql/explorer.css`).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/graphiql/explorer.js", get(script))
        .route("/graphiql/explorer.css", get(style))
}

/// The explorer's page, or 404 when it is turned off.
pub fn page(settings: &HttpConfig) -> Response {
    if !settings.graphiql {
        return crate::transport::edge::graphql_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "GraphiQL is turned off on this server (SAVECORP_GRAPHIQL)",
        );
    }
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
        .into_response()
}
