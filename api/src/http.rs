//! The HTTP surface: `/graphql` (GraphiQL on GET, queries on POST), `/healthz`, `/readyz`.

use std::time::Duration;

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::GraphQL;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::graphql::build_schema;
use crate::state::AppState;

/// Largest request body accepted anywhere (GraphQL documents and variables).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let schema = build_schema(state.clone());
    Router::new()
        .route("/graphql", get(graphiql).post_service(GraphQL::new(schema)))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .merge(crate::backup::ingest::routes())
        .with_state(state)
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

/// Ready: the database answers within a second.
async fn readyz(State(state): State<AppState>) -> Response {
    let database = tokio::time::timeout(
        Duration::from_secs(1),
        sqlx::query("SELECT 1").execute(&state.pool),
    )
    .await;
    match database {
        Ok(Ok(_)) => (StatusCode::OK, Json(json!({"database": "ok"}))).into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: database failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"database": "unavailable"})),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"database": "timeout"})),
        )
            .into_response(),
    }
}
