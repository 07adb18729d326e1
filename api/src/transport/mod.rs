//! The transport layer: how the outside reaches the server. HTTP routes and health
//! ([`http`]), GraphQL ([`graphql`]), the GraphiQL page ([`graphiql`]), CSV export
//! ([`export`]) and the `/metrics` rendering ([`metrics`]), with the context every handler
//! shares ([`state`]) and what every handler shares below them ([`edge`]). It calls the capabilities (auth, telephony, backup, mail, requests,
//! customers) and the platform; nothing below imports it.

mod config;
pub mod counters;
pub mod edge;
pub mod export;
pub mod graphiql;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod ping;
pub mod state;

pub use config::{HttpConfig, IntrospectionAccess};
