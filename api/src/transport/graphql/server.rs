//! About the server itself: `version`, `logHead`.

use async_graphql::{Context, Object};

use super::context::state;
use super::error::ApiError;

#[derive(Default)]
pub struct ServerQuery;

#[Object]
impl ServerQuery {
    /// The server's version (public).
    async fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    /// The global position of the newest event readers can see (0 on an empty log; public:
    /// it tells nothing but how far the log is).
    async fn log_head(&self, context: &Context<'_>) -> Result<i64, ApiError> {
        let head = state(context)?.reader.head().await?;
        Ok(head.position)
    }
}
