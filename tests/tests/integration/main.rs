//! The one integration-test binary: real PostgreSQL, real server, real WebSocket.
//! One module per area; shared helpers live in the `tests` library crate.

mod event_log;
mod projections;
mod server;
