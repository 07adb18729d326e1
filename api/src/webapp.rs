//! The web app (`web/`, built by `build.rs` and embedded in the binary): `/` and every client
//! route answer `index.html` (`no-cache`) to a page navigation (a GET accepting HTML), the
//! hashed files under `/assets/` are cached for good (`immutable`), anything else is a 404 —
//! a missing asset is never answered with the page. The security headers and the strict
//! Content-Security-Policy of [`crate::transport::http`] apply as to every response.

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

mod assets {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// The page served at `/` when the binary was built without the web app (no npm).
const NO_UI_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>SaveCorp</title></head><body><main><h1>SaveCorp</h1>\
<p>This server was built without its web app: Node.js 20+ and npm were not found (or \
<code>SAVECORP_SKIP_WEB=1</code> was set) when it was compiled.</p>\
<p>Install Node.js 20 or later with npm, then rebuild: <code>cargo run --bin savecorp -- serve</code> \
builds the app from <code>web/</code> and embeds it.</p>\
<p>The GraphQL API is at <a href=\"/graphql\">/graphql</a>.</p></main></body></html>";

/// Whether the binary embeds the web app.
pub fn embedded() -> bool {
    find("/index.html").is_some()
}

fn find(path: &str) -> Option<&'static [u8]> {
    assets::FILES
        .iter()
        .find(|(url, _)| *url == path)
        .map(|(_, bytes)| *bytes)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "map") => "application/json",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A navigation: a GET or HEAD whose `Accept` names HTML.
fn is_navigation(method: &Method, headers: &HeaderMap) -> bool {
    (method == Method::GET || method == Method::HEAD)
        && headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}

/// The router's fallback: an embedded file, the app's page, or 404.
pub async fn serve(request: Request) -> Response {
    let path = request.uri().path();
    let method = request.method();
    if method == Method::GET || method == Method::HEAD {
        if let Some(bytes) = find(path).filter(|_| path != "/index.html") {
            let cache = if path.starts_with("/assets/") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            return (
                [
                    (header::CONTENT_TYPE, content_type(path)),
                    (header::CACHE_CONTROL, cache),
                ],
                bytes,
            )
                .into_response();
        }
    }
    if path.starts_with("/assets/") || !is_navigation(method, request.headers()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let page = find("/index.html").unwrap_or(NO_UI_PAGE.as_bytes());
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page,
    )
        .into_response()
}
