//! The GraphQL schema (PRODUCT §10, §11).

use async_graphql::{Context, EmptyMutation, EmptySubscription, ErrorExtensions, Object, Schema};

use crate::state::AppState;

pub type ApiSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Builds the schema with the shared state in its context.
pub fn build_schema(state: AppState) -> ApiSchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(state)
        .limit_depth(12)
        .limit_complexity(1_000)
        .finish()
}

pub struct Query;

#[Object]
impl Query {
    /// The server's version.
    async fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// The global position of the newest event readers can see (0 on an empty log).
    async fn log_head(&self, context: &Context<'_>) -> async_graphql::Result<i64> {
        let state = context.data::<AppState>()?;
        let head = state.reader.head().await.map_err(|error| {
            tracing::error!(%error, "reading the log head failed");
            async_graphql::Error::new("the database is unavailable")
                .extend_with(|_, extensions| extensions.set("code", "UNAVAILABLE"))
        })?;
        Ok(head.position)
    }
}
