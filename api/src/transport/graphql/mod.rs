//! The GraphQL schema (PRODUCT §10, §11). One file per area contributes its part of the root
//! Query, Mutation and Subscription, merged here; `error.rs` is the error policy,
//! `context.rs` the caller checks, `connection.rs` the Relay paging of lists.
//!
//! Authorisation is checked by every resolver first (`context::require_worker` /
//! `require_admin`, plus ownership where it applies); the matrix test in
//! `tests/tests/integration/api_authorisation.rs` holds the expected answer of every operation
//! for every kind of caller.

pub mod audit;
pub mod auth;
pub mod backup;
pub mod calls;
pub mod common;
pub mod connection;
pub mod context;
pub mod customers;
pub mod error;
pub mod events;
pub mod kpis;
pub mod limits;
pub mod lists;
pub mod live;
pub mod requests;
pub mod server;
pub mod settings;
pub mod workers;

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextSubscribe,
    NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    MergedObject, MergedSubscription, Response, Schema, ServerError, ServerResult,
    ValidationResult, Variables,
};
use futures::stream::BoxStream;
use futures::StreamExt as _;

use crate::transport::state::AppState;

pub use limits::{MAX_DEPTH, MAX_NODES};
/// Most fields one document may select (async-graphql's complexity: one per field, fragments
/// counted where spread); page sizes are [`limits`]' node limit.
pub const MAX_COMPLEXITY: usize = 500;

#[derive(MergedObject, Default)]
pub struct Query(
    server::ServerQuery,
    auth::AuthQuery,
    workers::WorkerQuery,
    customers::CustomerQuery,
    requests::RequestQuery,
    calls::CallQuery,
    lists::ListQuery,
    kpis::KpiQuery,
    audit::AuditQuery,
    backup::BackupQuery,
    settings::SettingsQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutation,
    workers::WorkerMutation,
    customers::CustomerMutation,
    requests::RequestMutation,
    calls::CallMutation,
    audit::AuditMutation,
    backup::BackupMutation,
    settings::SettingsMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(events::EventSubscription, live::LiveSubscription);

pub type ApiSchema = Schema<Query, Mutation, Subscription>;

/// The schema without data, for its SDL.
pub fn schema_builder() -> async_graphql::SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    // Depth is checked by `limits` (which lets introspection through), not here.
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32)
    .limit_directives(16)
    .extension(ErrorCodes)
    .extension(crate::transport::metrics::MutationTimer)
}

/// Builds the schema with the shared state in its context.
pub fn build_schema(state: AppState) -> ApiSchema {
    schema_builder().data(state).finish()
}

/// The schema in SDL, as committed in the contract snapshot.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Checks the [`limits`] of each document once parsed, and gives async-graphql's own errors a
/// code: `GRAPHQL_PARSE_FAILED` for a document that does not parse, `QUERY_TOO_COMPLEX` for one
/// over [`MAX_COMPLEXITY`] fields, `GRAPHQL_VALIDATION_FAILED` for one that breaks the schema,
/// `BAD_USER_INPUT` for anything else without a code (variables of the wrong type, unknown
/// operation names).
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

fn with_code(mut error: ServerError, code: &'static str) -> ServerError {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|extensions| extensions.get("code").is_some());
    if !has_code {
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    error
}

fn code_response(mut response: Response) -> Response {
    response.errors = response
        .errors
        .into_iter()
        .map(|error| with_code(error, "BAD_USER_INPUT"))
        .collect();
    response
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        code_response(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(code_response).boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|error| with_code(error, "GRAPHQL_PARSE_FAILED"))?;
        let introspection_allowed = ctx.data_opt::<limits::IntrospectionDenied>().is_none();
        limits::check(&document, variables, introspection_allowed)?;
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|error| {
                    if error.message.starts_with("Query is too complex") {
                        with_code(error, "QUERY_TOO_COMPLEX")
                    } else {
                        with_code(error, "GRAPHQL_VALIDATION_FAILED")
                    }
                })
                .collect()
        })
    }
}
